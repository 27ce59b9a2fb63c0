"""Before a submission runs (grader side): is it gradable, what did the student change, has it been graded.

Everything here reads files and notebooks in the grader's process; nothing runs student code.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from nbformat import NotebookNode

from .. import config as cfg
from ..cells import check_notebook_bytes, is_guarded, nbgrader_meta
from ..course import Course
from ..limits import DEFAULT_MAX_NOTEBOOK_MB, MAX_NOTEBOOK_MB_ENV, Limits
from ..scan import imported_modules

ENGINE_VERSION = "1"


def _released_names(course: Course, assignment: str) -> list[str]:
    return [p.name for p in course.released_notebooks(assignment)]


def check_submission(
    course: Course, assignment: str, student: str, max_notebook_mb: int = DEFAULT_MAX_NOTEBOOK_MB
) -> str | None:
    """None when ``submitted/<student>/<assignment>`` can be graded, else the reason (one line)."""
    folder = course.step_dir(cfg.SUBMITTED_DIR, student, assignment)
    found = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
    if not found:
        return f"no submitted notebook in {folder.relative_to(course.root)}"
    expected = _released_names(course, assignment)
    limit_mb = max_notebook_mb
    for path in found:
        if path.name not in expected:
            return (
                f"unexpected notebook {path.name!r}: expected {' or '.join(expected)} "
                "(the released name; do not rename the notebook)"
            )
        size = path.stat().st_size
        if size > limit_mb * 1024 * 1024:
            return (
                f"{path.name} is {size / 1024 / 1024:.1f} MB, larger than the {limit_mb} MB limit; clear its "
                f"outputs (Kernel > Restart Kernel and Clear All Outputs) and submit again "
                f"(instructors: {MAX_NOTEBOOK_MB_ENV})"
            )
        reason = check_notebook_bytes(path.read_bytes())
        if reason:
            return f"{path.name}: {reason}"
    return None


def submission_checksum(course: Course, assignment: str, student: str) -> str:
    digest = hashlib.sha256()
    folder = course.step_dir(cfg.SUBMITTED_DIR, student, assignment)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def settings_fingerprint(course: Course, assignment: str, limits: Limits) -> str:
    """What else decides a grade: the source and released notebooks, the engine version, the cell timeout."""
    digest = hashlib.sha256(f"engine {ENGINE_VERSION} timeout {limits.cell_timeout}".encode())
    for folder in (course.source_dir / assignment, course.release_dir / assignment):
        for path in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
            digest.update(path.name.encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def locked_cell_changes(submitted: NotebookNode, released: NotebookNode) -> list[str]:
    """How the student changed locked or graded cells of the release (nbgrader puts them back)."""
    out = []
    sub = {nbgrader_meta(c).get("grade_id"): c for c in submitted.cells if nbgrader_meta(c).get("grade_id")}
    for cell in released.cells:
        meta = nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if not gid or not (meta.get("locked") or meta.get("grade")) or meta.get("solution"):
            continue
        mine = sub.get(gid)
        if mine is None:
            out.append(f"deleted locked cell {gid} (put back)")
            continue
        mmeta = nbgrader_meta(mine)
        if mine.get("source", "") != cell.get("source", ""):
            out.append(f"edited locked cell {gid} (the instructor's version was run)")
        if meta.get("grade") and mmeta.get("points") != meta.get("points"):
            out.append(f"changed the points of {gid} from {meta.get('points')} to {mmeta.get('points')} (reset)")
        for key in ("grade", "locked", "solution"):
            if bool(mmeta.get(key)) != bool(meta.get(key)):
                out.append(f"changed the nbgrader metadata {key!r} of {gid} (reset)")
        if mine.get("cell_type") != cell.get("cell_type"):
            out.append(f"changed the type of {gid} to {mine.get('cell_type')} (reset)")
    return out


def preload_modules(nb: NotebookNode) -> list[str]:
    """Modules the instructor's cells import: the guard preloads and protects them before student code."""
    names = imported_modules(c.source for c in nb.cells if is_guarded(c))
    return [n for n in names if re.fullmatch(r"[A-Za-z_][\w.]*", n)]


def read_files(folder: Path) -> dict[str, bytes]:
    """The submission's extra files (not notebooks, not links: a link to the gradebook is not followed)."""
    files: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        rel = path.relative_to(folder)
        if path.suffix == ".ipynb" or ".ipynb_checkpoints" in rel.parts or path.is_symlink() or not path.is_file():
            continue
        files[rel.as_posix()] = path.read_bytes()
    return files
