"""Reproducible artefacts and their digests: build once, hash, unpack."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    pass


#: The environments in promotion order (the syllabus's dev → staging → prod).
ENVIRONMENTS: tuple[str, ...] = ("dev", "staging", "prod")
#: Environments that need a recorded approval before a deploy (the syllabus's ``when: manual`` jobs).
GATED: tuple[str, ...] = ("staging", "prod")
#: 2026-01-05 09:00:00 UTC, the commit time of the sample sources (``SOURCE_DATE_EPOCH``).
DEFAULT_EPOCH = 1767603600
#: The four stages of the syllabus's multi-environment pipeline, in order.
PIPELINE_STAGES: tuple[str, ...] = ("build", "deploy-dev", "deploy-staging", "deploy-prod")
_HEX64 = re.compile(r"[0-9a-f]{64}")
LABEL = re.compile(r"^(?P<version>[^+]+)\+sha256\.(?P<sha>[0-9a-f]{64})$")


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
