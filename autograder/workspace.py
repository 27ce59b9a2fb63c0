"""A student's own copy of the release (``python -m autograder workspace``), updated without touching answers.

Students must not work in ``notebooks/``: it is the tracked release, so saving a notebook (Validate saves it)
modifies the repository and the next ``git pull`` of course updates conflicts with their answers. The workspace
(default ``workspace/`` at the course root, ignored by git) is a copy of ``notebooks/weekNN/...``; running the
command again merges course updates in:

* a week or file that is new in the release is added;
* a file the student has not changed since it was copied is replaced by the new release;
* a file the student deleted is restored (it was the course's, and the student lost nothing);
* a file the student changed is **left alone** — and the new release is written next to it as
  ``<name>.course-update.ipynb`` so the student can compare and copy what they need.

Why left alone rather than merged cell by cell: the student's copy is theirs; a merge that rewrites their file
can lose work in cells we fail to classify (scratch cells they added, a test they moved), and nothing is gained
for grading — nbgrader puts the instructor's locked and test cells back from the gradebook when it grades, so a
stale test cell in the student's copy never changes a score. nbgitpuller, the tool JupyterHubs use for the same
job, shares the rule "the student's changes win" but applies it line by line (``git merge -Xours``), which on a
notebook's JSON can mix the two versions; a whole file kept plus the new version beside it cannot
(``docs/jupyterhub.md``). To take the course's version instead, delete your file and run the command again.

"Changed" is decided by content: the manifest ``.course-release.json`` in the workspace records the SHA-256 of
each file as it was last copied from the release.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from . import config as cfg
from .errors import AutograderError
from .ids import ASSIGNMENT_RE

__all__ = ["MANIFEST", "UPDATE_SUFFIX", "WorkspaceReport", "sync_workspace"]

MANIFEST = ".course-release.json"
UPDATE_SUFFIX = ".course-update"
_SKIP = {".ipynb_checkpoints", "__pycache__"}


@dataclass
class WorkspaceReport:
    """What one sync did, as paths relative to the workspace."""

    workspace: Path
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # changed by the student: left alone
    offered: list[str] = field(default_factory=list)  # the new release written next to a kept file
    unchanged: int = 0

    def lines(self) -> list[str]:
        out = [f"added {p}" for p in self.added]
        out += [f"updated {p} (you had not changed it)" for p in self.updated]
        out += [f"restored {p} (it was deleted)" for p in self.restored]
        for kept, offered in zip(self.kept, self.offered, strict=True):
            out.append(f"kept your {kept}; the course's new version is in {offered}")
        return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _release_files(release_dir: Path) -> list[str]:
    """Every file of every released week, as ``weekNN/...`` paths (checkpoints and caches skipped)."""
    files = []
    for week in sorted(p for p in release_dir.iterdir() if p.is_dir() and ASSIGNMENT_RE.match(p.name)):
        for path in sorted(week.rglob("*")):
            rel = path.relative_to(release_dir)
            if path.is_file() and not _SKIP.intersection(rel.parts):
                files.append(rel.as_posix())
    return files


def _update_name(rel: str) -> str:
    path = Path(rel)
    return path.with_name(f"{path.stem}{UPDATE_SUFFIX}{path.suffix}").as_posix()


def _read_manifest(workspace: Path) -> dict[str, str]:
    path = workspace / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise AutograderError(
            f"{path} is not valid JSON ({exc}); delete it and run the command again (files you changed are kept)"
        ) from exc
    return {str(k): str(v) for k, v in data.get("files", {}).items()}


def sync_workspace(course_root: str | Path, workspace: str | Path | None = None) -> WorkspaceReport:
    """Create or update the student workspace from the course's ``notebooks/`` (see the module docstring)."""
    root = Path(course_root).resolve()
    release_dir = root / cfg.RELEASE_DIR
    if not release_dir.is_dir():
        raise AutograderError(f"no released notebooks in {release_dir}; run: python -m autograder release --all")
    ws = Path(workspace) if workspace is not None else root / "workspace"
    ws = (ws if ws.is_absolute() else root / ws).resolve()
    if ws == release_dir or release_dir in ws.parents:
        raise AutograderError(f"the workspace must be outside {release_dir} (the tracked release); pick another --dir")
    ws.mkdir(parents=True, exist_ok=True)
    recorded = _read_manifest(ws)
    report = WorkspaceReport(workspace=ws)
    manifest: dict[str, str] = {}
    for rel in _release_files(release_dir):
        src, dest = release_dir / rel, ws / rel
        new = _sha256(src)
        if not dest.exists():
            (report.restored if rel in recorded else report.added).append(rel)
        elif _sha256(dest) == new:
            report.unchanged += 1
            manifest[rel] = new
            continue
        elif rel in recorded and _sha256(dest) == recorded[rel]:
            report.updated.append(rel)
        else:
            # the student's own version (or a file that was there before the workspace knew it): keep it
            offer = _update_name(rel)
            shutil.copyfile(src, ws / offer)
            report.kept.append(rel)
            report.offered.append(offer)
            manifest[rel] = recorded.get(rel, "")
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        manifest[rel] = new
    (ws / MANIFEST).write_text(
        json.dumps({"source": str(release_dir), "files": manifest}, indent=1, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    return report
