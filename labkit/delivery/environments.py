"""Environments keyed on digests: one real labkit service per environment, deploys recorded."""

from __future__ import annotations

import contextlib
import re
import shutil
import tarfile
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from labkit import service
from labkit.git import Clock

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

from .artefacts import ENVIRONMENTS, LABEL, Approval, Artifact, DeliveryError, sha256

# ------------------------------------------------------------------------------------------- environments


def _safe_extract(archive: Path, dest: Path) -> None:
    with tarfile.open(archive, "r:*") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:  # pragma: no cover - Python < 3.11.4
            for member in tar.getmembers():
                if member.name.startswith("/") or ".." in Path(member.name).parts:
                    raise DeliveryError(f"unsafe path {member.name!r} in the archive")
            tar.extractall(dest)


class Environments:
    """One real service per environment, started and stopped by this ``with`` block, plus the record.

    ``deploy(env, artifact)`` is what a deploy script does — copy, unpack, restart — and nothing more: it does
    not check approvals or the promotion order. It re-hashes the file it unpacks and labels the service with
    *that* digest, so ``/version`` tells the truth even when someone passes an :class:`Artifact` whose file
    has changed since it was hashed. A redeploy stops the old process before starting the new one (a short
    outage, as a plain deploy script has; week 10's blue-green deploys avoid it).
    """

    def __init__(self, names: Sequence[str] = ENVIRONMENTS, *, clock: Clock | None = None) -> None:
        self.order: tuple[str, ...] = tuple(names)
        unknown = [n for n in self.order if not re.fullmatch(r"[a-z][a-z0-9-]*", str(n))]
        if not self.order or unknown or len(set(self.order)) != len(self.order):
            raise ValueError(f"environment names must be distinct lowercase words like 'dev'; got {names!r}")
        self.clock = clock or Clock()
        self._records: list[dict[str, Any]] = []
        self._services: dict[str, service.Service] = {}
        self._stacks: dict[str, contextlib.ExitStack] = {}
        self._root: Path | None = None

    def __enter__(self) -> Environments:
        self._root = Path(tempfile.mkdtemp(prefix="labkit-envs-"))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for env in list(self._stacks):
            self._stop(env)
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    # -- helpers
    def _check_env(self, env: str) -> None:
        if env not in self.order:
            raise ValueError(f"unknown environment {env!r}; the environments are {list(self.order)}")

    def _stop(self, env: str) -> None:
        stack = self._stacks.pop(env, None)
        self._services.pop(env, None)
        if stack is not None:
            stack.close()

    def log(
        self,
        event: str,
        *,
        release: str,
        sha256: str,
        env: str | None = None,
        by: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Append one event to the promotion record (``at`` defaults to the clock's now)."""
        self._records.append({"release": release, "sha256": sha256, "event": event, "env": env, "by": by,
                              "at": at or self.clock.now})  # fmt: skip

    def record_build(self, artifact: Artifact, *, commit_at: datetime | None = None) -> None:
        """Record the commit (``commit_at``, default: the clock's now) and the build (now) of ``artifact``."""
        self.log("commit", release=artifact.version, sha256=artifact.sha256, at=commit_at or self.clock.now)
        self.log("build", release=artifact.version, sha256=artifact.sha256)

    # -- the deploy script
    def deploy(self, env: str, artifact: Artifact, *, approval: Approval | None = None) -> service.Service:
        """Unpack ``artifact`` into ``env``'s folder and (re)start its service; record the approval and deploy."""
        if self._root is None:
            raise DeliveryError("deploy inside the block: `with delivery.Environments() as envs: envs.deploy(...)`")
        self._check_env(env)
        if not isinstance(artifact, Artifact):
            raise TypeError(f"deploy expects a delivery.Artifact, found {type(artifact).__name__}")
        digest = sha256(artifact.path)  # the bits actually shipped, not what someone wrote down earlier
        folder = self._root / env
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        _safe_extract(artifact.path, folder)
        version_file = folder / "VERSION"
        if not version_file.is_file():
            raise DeliveryError(f"the artefact {artifact.path.name} has no VERSION file at its top")
        version = version_file.read_text().strip()
        self._stop(env)
        stack = contextlib.ExitStack()
        try:
            svc = stack.enter_context(service.run(f"{version}+sha256.{digest}", name=f"orders-{env}"))
        except BaseException:
            stack.close()
            raise
        self._stacks[env], self._services[env] = stack, svc
        if approval is not None:
            self.log("approve", release=version, sha256=approval.sha256, env=approval.env, by=approval.by,
                     at=approval.at)  # fmt: skip
        self.log("deploy", release=version, sha256=digest, env=env)
        return svc

    # -- what runs where (over HTTP)
    def url(self, env: str) -> str | None:
        """Base URL of the service in ``env``, or None when nothing was deployed there."""
        self._check_env(env)
        svc = self._services.get(env)
        return svc.url if svc is not None else None

    def version(self, env: str) -> dict[str, Any] | None:
        """``GET /version`` of the service in ``env`` (a dict), or None when nothing was deployed there."""
        import httpx

        url = self.url(env)
        if url is None:
            return None
        return dict(httpx.get(url + "/version", timeout=5).json())

    def running_digest(self, env: str) -> str | None:
        """The sha256 the service in ``env`` reports on ``/version`` (parsed from its label), or None."""
        answer = self.version(env)
        if answer is None:
            return None
        match = LABEL.match(str(answer.get("version", "")))
        return match["sha"] if match else None

    def history(self) -> pd.DataFrame:
        """The promotion record: one row per event (release, sha256, event, env, by, at as UTC Timestamps)."""
        return record_frame(self._records)


def record_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["release", "sha256", "event", "env", "by", "at"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame
