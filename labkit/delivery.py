"""Continuous delivery for week 9: build one artefact, promote the same bits dev → staging → prod.

The idea this module serves is Humble & Farley's "only build your binaries once": the archive that passed the
tests in ``dev`` is the very file that runs in ``staging`` and ``prod``; what changes between environments is
configuration and a person's decision, never the bits. So everything here is keyed on the artefact's sha256
digest, not on its version string (two builds of "1.4.0" can differ).

* :func:`sha256` — the hex digest of a file, read in chunks.
* :func:`write_sample_source` — a small application tree (``VERSION``, ``app/…``) to build.
* :func:`reference_build` — a reproducible ``.tar.gz`` made with Python's ``tarfile`` (sorted names, one mtime,
  owner 0/0 without names, normalised modes, gzip header without time or name). The exercises use the real
  GNU ``tar``; this builder makes artefacts for the worked examples and tests independently of them.
* :class:`Artifact` — path + digest + the version read from inside the archive; :attr:`Artifact.label` is the
  SemVer build-metadata form ``1.4.0+sha256.<64 hex>`` that each environment's service reports on ``/version``.
* :class:`Environments` — a ``with`` block owning one real :func:`labkit.service.run` service per environment
  on 127.0.0.1. :meth:`Environments.deploy` is the dumb ``deploy.sh``: it re-hashes and unpacks the archive into
  the environment's folder and (re)starts the service labelled with the digest it actually unpacked. It does
  **not** decide whether a promotion is allowed — that gate is the student's code. Every deploy, approval and
  build is written to a promotion record (:meth:`Environments.history`) with times from a simulated
  :class:`labkit.git.Clock`, so lead times are reproducible.
* :func:`sample_record` — a realistic promotion record of several releases for the lead-time exercise.
* :func:`load_gitlab_ci`, :func:`validate_gitlab_ci` — a ``.gitlab-ci.yml`` checked against the GitLab CI
  schema that check-jsonschema ships (``check-jsonschema --builtin-schema vendor.gitlab-ci``), in-process.
* :func:`pipeline_problems` — the promotion rules the schema cannot express (every job has a ``script``, the
  build publishes artifacts, deploy jobs do not rebuild, staging and prod are *blocking* manual jobs, prod only
  from the default branch). Each problem says what was expected, what was found and what to write.

Nothing runs at import time::

    from labkit import delivery
    with delivery.Environments() as envs:
        artifact = delivery.Artifact.load(path)
        envs.deploy("dev", artifact)
        envs.version("dev")          # {"version": "1.4.0+sha256.…", "name": "orders-dev", …} over HTTP
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import io
import json
import re
import shutil
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from labkit import ci, service
from labkit.git import Clock

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "ENVIRONMENTS",
    "GATED",
    "DEFAULT_EPOCH",
    "PIPELINE_STAGES",
    "SYLLABUS_PIPELINE",
    "DeliveryError",
    "PromotionRefused",
    "Artifact",
    "Approval",
    "Environments",
    "sha256",
    "write_sample_source",
    "reference_build",
    "read_version",
    "sample_record",
    "load_gitlab_ci",
    "validate_gitlab_ci",
    "manual_gate",
    "pipeline_problems",
]

#: The environments in promotion order (the syllabus's dev → staging → prod).
ENVIRONMENTS: tuple[str, ...] = ("dev", "staging", "prod")
#: Environments that need a recorded approval before a deploy (the syllabus's ``when: manual`` jobs).
GATED: tuple[str, ...] = ("staging", "prod")
#: 2026-01-05 09:00:00 UTC, the commit time of the sample sources (``SOURCE_DATE_EPOCH``).
DEFAULT_EPOCH = 1767603600
#: The four stages of the syllabus's multi-environment pipeline, in order.
PIPELINE_STAGES: tuple[str, ...] = ("build", "deploy-dev", "deploy-staging", "deploy-prod")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_LABEL = re.compile(r"^(?P<version>[^+]+)\+sha256\.(?P<sha>[0-9a-f]{64})$")


class DeliveryError(RuntimeError):
    """Base class of the errors this module raises on purpose; the message is written for a student."""


class PromotionRefused(DeliveryError):
    """A promotion broke a rule (no approval, other bits than the previous environment runs, …)."""


# ---------------------------------------------------------------------------------------------- artefacts


def sha256(path: str | Path) -> str:
    """The sha256 of the file's bytes as 64 lowercase hex characters (what ``sha256sum`` prints)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file at {str(path)!r} to hash: build the artefact first")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


_APP_FILES: dict[str, str] = {
    "app/__init__.py": '"""The orders service, as packaged for deployment."""\n',
    "app/main.py": (
        '"""Entry point: python -m app.main (the course starts it with labkit.service)."""\n\n'
        "from pathlib import Path\n\n"
        'VERSION = (Path(__file__).resolve().parents[1] / "VERSION").read_text().strip()\n'
    ),
    "app/pricing.py": (
        "def total(lines: list[tuple[int, int]]) -> int:\n"
        '    """Sum of quantity * unit price in cents."""\n'
        "    return sum(qty * cents for qty, cents in lines)\n"
    ),
    "config/defaults.toml": (
        '# shared by every environment; dev, staging and prod differ only in env vars\nlog_level = "info"\n'
    ),
    "README.md": "# orders\n\nBuilt once, promoted dev -> staging -> prod.\n",
}


def write_sample_source(
    folder: str | Path, version: str = "1.4.0", *, changes: Mapping[str, str] | None = None
) -> Path:
    """Write the sample application (``VERSION`` + a few files) into ``folder``; returns the folder.

    ``changes`` adds or replaces files (relative path → text), e.g. a hot-fix. Files are written in a
    shuffled-looking order on purpose, so that a build which relies on the directory order shows it.
    """
    root = Path(folder)
    files = {"VERSION": f"{version}\n", **_APP_FILES, **dict(changes or {})}
    for rel in sorted(files, key=lambda r: hashlib.md5(r.encode()).hexdigest()):
        target = (root / rel).resolve()
        if root.resolve() not in target.parents:
            raise ValueError(f"file {rel!r} would be written outside {str(root)!r}; use a relative path")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(files[rel])
    return root


def reference_build(src: str | Path, out: str | Path, *, epoch: int = DEFAULT_EPOCH) -> Path:
    """Pack ``src`` into the gzip-compressed tar ``out`` reproducibly; returns ``out``.

    Same files and ``epoch`` → the same bytes, whatever the files' mtimes, owners, umask or directory order:
    names sorted and relative (``./VERSION``), every mtime = ``epoch``, uid/gid 0 with empty names, modes
    0644/0755, and a gzip header with mtime 0 and no file name (reproducible-builds.org, "Archive metadata").
    """
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise FileNotFoundError(f"no source folder at {str(src)!r}")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"epoch must be Unix seconds (an int >= 0), like SOURCE_DATE_EPOCH; got {epoch!r}")
    paths = sorted(p for p in src.rglob("*"))

    def info(path: Path) -> tarfile.TarInfo:
        rel = "./" + path.relative_to(src).as_posix()
        member = tarfile.TarInfo(rel)
        member.mtime = epoch
        member.uid = member.gid = 0
        member.uname = member.gname = ""
        if path.is_dir():
            member.type, member.mode = tarfile.DIRTYPE, 0o755
        else:
            member.size = path.stat().st_size
            member.mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
        return member

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        root = tarfile.TarInfo(".")
        root.type, root.mode, root.mtime = tarfile.DIRTYPE, 0o755, epoch
        tar.addfile(root)
        for path in paths:
            member = info(path)
            if path.is_dir():
                tar.addfile(member)
            else:
                with path.open("rb") as handle:
                    tar.addfile(member, handle)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(buffer.getvalue())
    return out


def read_version(path: str | Path) -> str:
    """The text of the ``VERSION`` file inside the archive (``VERSION`` or ``./VERSION``), stripped."""
    path = Path(path)
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar.getmembers():
                if member.isfile() and member.name.removeprefix("./") == "VERSION":
                    handle = tar.extractfile(member)
                    assert handle is not None
                    return handle.read().decode().strip()
            names = [m.name for m in tar.getmembers()][:8]
    except tarfile.TarError as err:
        raise DeliveryError(f"{str(path)!r} is not a readable tar archive ({err}); rebuild it") from None
    raise DeliveryError(
        f"the archive {path.name} has no VERSION file at its top (members: {names}); pack the folder's "
        "contents with `-C <src> .`, not the folder by its path"
    )


@dataclass(frozen=True)
class Artifact:
    """A built archive: where it is, its sha256 (at build time) and the version written inside it."""

    path: Path
    sha256: str
    version: str

    def __post_init__(self) -> None:
        if not isinstance(self.path, Path):
            raise TypeError(f"path must be a pathlib.Path, found {type(self.path).__name__}")
        if not isinstance(self.sha256, str) or not _HEX64.fullmatch(self.sha256):
            raise ValueError(f"sha256 must be 64 lowercase hex characters, found {self.sha256!r}")

    @classmethod
    def load(cls, path: str | Path) -> Artifact:
        """Hash the file and read its ``VERSION``: the artefact as it is on disk now."""
        path = Path(path)
        return cls(path=path, sha256=sha256(path), version=read_version(path))

    @property
    def label(self) -> str:
        """``<version>+sha256.<digest>``: SemVer build metadata naming the exact bits (what ``/version`` says)."""
        return f"{self.version}+sha256.{self.sha256}"

    @property
    def short(self) -> str:
        return self.sha256[:12]


@dataclass(frozen=True)
class Approval:
    """A person's recorded decision: ``by`` approves the artefact ``sha256`` for environment ``env``."""

    env: str
    sha256: str
    by: str
    at: datetime

    def __post_init__(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise ValueError(f"env must be one of {ENVIRONMENTS}, found {self.env!r}")
        if not isinstance(self.sha256, str) or not _HEX64.fullmatch(self.sha256):
            raise ValueError(f"sha256 must be the artefact's 64-hex digest, found {self.sha256!r}")
        if not isinstance(self.by, str) or not self.by.strip():
            raise ValueError("by must name the person who approved, e.g. by='dana'")
        if not isinstance(self.at, datetime) or self.at.tzinfo is None:
            raise ValueError(f"at must be a datetime with a time zone (use envs.clock.now), found {self.at!r}")


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
        match = _LABEL.match(str(answer.get("version", "")))
        return match["sha"] if match else None

    def history(self) -> pd.DataFrame:
        """The promotion record: one row per event (release, sha256, event, env, by, at as UTC Timestamps)."""
        return _record_frame(self._records)


def _record_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["release", "sha256", "event", "env", "by", "at"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame


# ------------------------------------------------------------------------------------------ sample record

#: (version, build min, to-dev min, staging wait h, staging deploy min, prod wait h, prod deploy min);
#: None = that step never happened (rejected, or still waiting).
_RELEASES: list[tuple[str, float, float, float | None, float | None, float | None, float | None]] = [
    ("1.2.0", 9, 3, 2.5, 4, 22.0, 5),
    ("1.2.1", 8, 3, 0.75, 4, 1.5, 6),
    ("1.3.0", 11, 4, 18.0, 5, 70.0, 5),
    ("1.3.1", 10, 3, 5.0, 4, 46.0, 6),
    ("1.4.0", 12, 3, 1.0, 4, 26.0, 5),
    ("1.4.1", 9, 4, None, None, None, None),  # staging approval refused: a bug found in dev
    ("1.5.0", 10, 3, 3.0, 5, None, None),  # in staging, waiting for the weekly change board
]


def sample_record() -> pd.DataFrame:
    """A promotion record of seven releases of the orders service over two weeks (deterministic).

    Columns: ``release`` (version), ``sha256``, ``event`` (``commit``, ``build``, ``approve``, ``deploy``),
    ``env`` (None for commit and build), ``by`` (the approver, else None), ``at`` (UTC Timestamps). Rows are in
    the order a log would print them: by time, several releases interleaved.
    """
    rows: list[dict[str, Any]] = []
    start = datetime(2026, 2, 2, 9, 30, tzinfo=UTC)
    approvers = ["dana", "omar", "li"]
    for i, (version, build, dev, wait_s, dep_s, wait_p, dep_p) in enumerate(_RELEASES):
        digest = hashlib.sha256(f"orders {version}".encode()).hexdigest()
        t = start + timedelta(days=2 * i, hours=i % 3)

        def add(
            event: str,
            at: datetime,
            env: str | None = None,
            by: str | None = None,
            *,
            v: str = version,
            sha: str = digest,
        ) -> None:
            rows.append({"release": v, "sha256": sha, "event": event, "env": env, "by": by, "at": at})

        add("commit", t)
        t += timedelta(minutes=build)
        add("build", t)
        t += timedelta(minutes=dev)
        add("deploy", t, "dev")
        for env, wait, deploy_min in (("staging", wait_s, dep_s), ("prod", wait_p, dep_p)):
            if wait is None or deploy_min is None:
                break
            t += timedelta(hours=wait)
            add("approve", t, env, approvers[(i + len(env)) % len(approvers)])
            t += timedelta(minutes=deploy_min)
            add("deploy", t, env)
    rows.sort(key=lambda r: r["at"])
    return _record_frame(rows)


# ------------------------------------------------------------------------------------------ GitLab CI files

#: The syllabus's multi-environment pipeline exactly as printed (it has problems the exercises fix).
SYLLABUS_PIPELINE = """\
stages:
  - build
  - deploy-dev
  - deploy-staging
  - deploy-prod

deploy-dev:
  stage: deploy-dev
  script: deploy.sh dev

deploy-staging:
  stage: deploy-staging
  when: manual  # needs a person's approval

deploy-prod:
  stage: deploy-prod
  when: manual
  only: [main]
"""

#: Top-level keys of .gitlab-ci.yml that are not jobs (GitLab CI/CD YAML syntax reference, "Global keywords").
GLOBAL_KEYWORDS = frozenset(
    {"default", "include", "stages", "variables", "workflow", "image", "services", "cache", "before_script",
     "after_script", "spec"}
)  # fmt: skip


def _gitlab_loader() -> type:
    """A SafeLoader that also reads GitLab's ``!reference [job, key]`` tag (as a plain list)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def reference(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        return loader.construct_sequence(node)

    Loader.add_constructor("!reference", reference)
    return Loader


def load_gitlab_ci(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """Parse a ``.gitlab-ci.yml``: YAML text (``str``), a file (``Path``) or a parsed mapping (copied).

    GitLab reads YAML with Ruby's Psych (YAML 1.1), so PyYAML's safe loader reads it the same way here.
    Raises :class:`labkit.ci.WorkflowError` with the line and column when the YAML is broken.
    """
    import yaml

    if isinstance(source, Mapping):
        return json.loads(json.dumps(dict(source)))
    if isinstance(source, Path):
        if not source.is_file():
            raise ci.WorkflowError(f"no pipeline file at {str(source)!r}: write .gitlab-ci.yml first")
        text = source.read_text()
    elif isinstance(source, str):
        text = source
    else:
        raise TypeError(
            f"load_gitlab_ci expects YAML text (str), a pathlib.Path or a dict, found {type(source).__name__}"
        )
    try:
        data = yaml.load(text, Loader=_gitlab_loader())
    except yaml.YAMLError as err:
        raise ci.WorkflowError(f"the pipeline is not valid YAML: {err}. Check indentation and colons.") from None
    if not isinstance(data, dict):
        raise ci.WorkflowError(
            f"a .gitlab-ci.yml must be a YAML mapping of stages and jobs, found {type(data).__name__}"
        )
    return data


@functools.lru_cache(maxsize=1)
def _gitlab_validator() -> Any:
    from importlib import resources

    from jsonschema.validators import validator_for

    text = (resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "gitlab-ci.json").read_text(
        encoding="utf-8"
    )
    schema = json.loads(text)
    return validator_for(schema)(schema)


def validate_gitlab_ci(source: str | Path | Mapping[str, Any]) -> list[str]:
    """Problems GitLab's CI JSON schema finds (``"$.deploy-prod.when: 'later' is not one of …"``); [] = valid.

    The same schema as ``check-jsonschema --builtin-schema vendor.gitlab-ci``, reported like
    :func:`labkit.ci.validate_workflow` (the closest alternative of a ``oneOf``). The schema is lenient: a job
    without ``script`` passes it although GitLab rejects it — :func:`pipeline_problems` checks that.
    """
    return ci.schema_problems(_gitlab_validator(), load_gitlab_ci(source))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _script_lines(job: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    for key in ("before_script", "script"):
        for line in _as_list(job.get(key)):
            lines.extend(str(part).strip() for part in _as_list(line))
    return [line for line in lines if line]


def _needs_names(job: Mapping[str, Any]) -> list[str] | None:
    if "needs" not in job:
        return None
    names = []
    for need in _as_list(job["needs"]):
        names.append(str(need.get("job")) if isinstance(need, Mapping) else str(need))
    return names


_DEFAULT_BRANCH_IF = re.compile(
    r"\$CI_COMMIT_(?:BRANCH|REF_NAME)\s*==\s*(?:\$CI_DEFAULT_BRANCH|[\"']main[\"'])"
    r"|(?:\$CI_DEFAULT_BRANCH|[\"']main[\"'])\s*==\s*\$CI_COMMIT_(?:BRANCH|REF_NAME)"
)


def _active_rules(job: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [r for r in _as_list(job.get("rules")) if isinstance(r, Mapping) and r.get("when") != "never"]


def manual_gate(job: Mapping[str, Any]) -> tuple[bool, bool, str]:
    """``(manual, blocking, how)`` for one job's mapping: is a person's click needed, do later stages wait?

    ``how`` says in words what decided it (``"when: manual"``, ``"rules: when: manual"``, ``"when: on_success"``).
    A job with ``rules`` is manual only when every rule that creates it says ``when: manual``.
    """
    job_allow = job.get("allow_failure")
    if "rules" in job:
        rules = _active_rules(job)
        if not rules:
            return False, False, "its rules never create the job"
        whens = [r.get("when", job.get("when", "on_success")) for r in rules]
        if any(w != "manual" for w in whens):
            return False, False, "a rule starts it automatically (every rule that creates it needs when: manual)"
        # GitLab: when: manual inside rules defaults to allow_failure: false (blocking)
        allows = [r.get("allow_failure", job_allow if job_allow is not None else False) for r in rules]
        blocking = not any(a is True for a in allows)
        return True, blocking, "rules: when: manual"
    if job.get("when") != "manual":
        return False, False, f"when: {job.get('when', 'on_success')}"
    # GitLab: a job-level when: manual defaults to allow_failure: true, which does not block later stages
    return True, job_allow is False, "when: manual"


def _default_branch_only(job: Mapping[str, Any]) -> bool:
    if "rules" in job:
        rules = _active_rules(job)
        return bool(rules) and all(_DEFAULT_BRANCH_IF.search(str(r.get("if", ""))) for r in rules)
    only = job.get("only")
    refs = only.get("refs") if isinstance(only, Mapping) else only
    return bool(_as_list(refs)) and set(map(str, _as_list(refs))) == {"main"}


def pipeline_problems(source: str | Path | Mapping[str, Any]) -> list[str]:  # noqa: C901 - one branch per promotion rule, each with its own message
    """The course's promotion rules for a four-stage ``.gitlab-ci.yml``; [] when it follows them all.

    GitLab's own rules: a job needs ``script`` (or ``trigger``/``run``); a job's ``stage`` must be listed in
    ``stages`` (default ``test``); ``when: manual`` at job level is *not* blocking unless ``allow_failure:
    false`` (inside ``rules`` it is blocking by default). The course's rules (from "build once, promote the
    same bits"): the stages are build, deploy-dev, deploy-staging, deploy-prod in this order; a build job
    publishes ``artifacts: paths``; deploy jobs do not repeat a build command and, if they list ``needs`` or
    ``dependencies``, include the build job (else they get no artefact); dev deploys automatically; staging
    and prod are blocking manual jobs; prod runs only for the default branch; every deploy job names its
    ``environment``.
    """
    data = load_gitlab_ci(source)
    problems: list[str] = []
    stages = _as_list(data.get("stages"))
    if stages != list(PIPELINE_STAGES):
        problems.append(f"stages: expected {list(PIPELINE_STAGES)} in this order, found {stages}")
    jobs = {name: job for name, job in data.items()
            if name not in GLOBAL_KEYWORDS and not str(name).startswith(".") and isinstance(job, Mapping)}  # fmt: skip
    by_stage: dict[str, list[str]] = {}
    for name, job in jobs.items():
        stage = str(job.get("stage", "test"))
        by_stage.setdefault(stage, []).append(name)
        if stage not in stages:
            problems.append(f"{name}: its stage {stage!r} is not in stages {stages}; add `stage:` with one of them")
        if not any(key in job for key in ("script", "trigger", "run")):
            problems.append(f"{name}: has no script; GitLab rejects a job without `script:` (the schema allows it)")
    for stage in PIPELINE_STAGES:
        if not by_stage.get(stage):
            problems.append(f"stage {stage!r} has no job; add one with `stage: {stage}`")
    build_jobs = by_stage.get("build", [])
    build_lines = {line for name in build_jobs for line in _script_lines(jobs[name])}
    if build_jobs and not any(_as_list((jobs[n].get("artifacts") or {}).get("paths")) for n in build_jobs):
        problems.append(
            f"{build_jobs[0]}: publishes no artefact; add `artifacts: {{paths: [dist/]}}` so later jobs deploy "
            "the file it built"
        )
    for stage, env, manual in (("deploy-dev", "dev", False), ("deploy-staging", "staging", True),
                               ("deploy-prod", "prod", True)):  # fmt: skip
        for name in by_stage.get(stage, []):
            job = jobs[name]
            rebuilt = sorted(set(_script_lines(job)) & build_lines)
            if rebuilt:
                problems.append(f"{name}: runs the build command {rebuilt[0]!r} again; deploy the artefact the "
                                "build job published instead (build once)")  # fmt: skip
            for key in ("needs", "dependencies"):
                listed = _needs_names(job) if key == "needs" else (
                    [str(d) for d in _as_list(job["dependencies"])] if "dependencies" in job else None)  # fmt: skip
                if listed is not None and build_jobs and not set(listed) & set(build_jobs):
                    problems.append(f"{name}: `{key}: {listed}` leaves out {build_jobs[0]!r}, so the job gets "
                                    "no artefact; list the build job")  # fmt: skip
            is_manual, blocking, how = manual_gate(job)
            if not manual and is_manual:
                problems.append(f"{name}: dev should deploy automatically after the build, found {how}")
            if manual and not is_manual:
                problems.append(f"{name}: {env} needs a person's approval: add `when: manual` ({how})")
            if manual and is_manual and not blocking:
                problems.append(
                    f"{name}: `{how}` is not blocking (allow_failure defaults to true for a job-level manual "
                    "job), so later stages run without this approval; add `allow_failure: false`"
                )
            if stage == "deploy-prod" and not _default_branch_only(job):
                problems.append(f"{name}: prod must deploy only from the default branch; add `rules: - if: "
                                "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH` (with when: manual)")  # fmt: skip
            environment = job.get("environment")
            env_name = environment.get("name") if isinstance(environment, Mapping) else environment
            if not env_name:
                problems.append(f"{name}: add `environment: {env}` so GitLab records what runs where")
    return problems
