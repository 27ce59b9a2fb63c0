"""A course directory and the nbgrader steps on it (release, autograde), with results as plain data.

We drive nbgrader's converters (``GenerateAssignment``, ``Autograde``) directly with the course
``Config`` from :mod:`autograder.config` rather than through ``NbGraderAPI``: the API also probes the
exchange directory (``/srv/nbgrader/exchange``), which this course does not use.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde, GenerateAssignment
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import capture_log
from sqlalchemy.exc import SAWarning

from . import config as cfg
from .cells import is_hidden_source, nbgrader_meta, restored_ids, was_restored
from .errors import NBGRADER_LOG, AutograderError, nblog
from .ids import ASSIGNMENT_RE, NOTEBOOK_RE, check_assignment, check_student
from .late import load_schedule, sync_due_dates
from .limits import cell_timeout
from .results import MANUAL, CellResult, GradeResult

__all__ = ["Course", "copy_source", "run_error"]


def _tools_on_path() -> None:
    """nbgrader runs ``alembic`` (and Jupyter tools) by name: make this interpreter's ``bin/`` reachable."""
    bindir = str(Path(sys.executable).parent)
    if shutil.which("alembic") is None and (Path(bindir) / "alembic").exists():
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


class Course:
    """The course rooted at ``root`` (``source/``, ``notebooks/``, ``submitted/`` ... ``gradebook.db``)."""

    def __init__(self, root: str | Path = ".", *, timeout: int | None = None) -> None:
        self.root = Path(root).resolve()
        self.timeout = cell_timeout(timeout)
        self.config = cfg.build_config(self.root, timeout=self.timeout)
        self.db_url = cfg.gradebook_url(self.root)
        _tools_on_path()

    # ----------------------------------------------------------------- paths
    @property
    def source_dir(self) -> Path:
        return self.root / cfg.SOURCE_DIR

    @property
    def release_dir(self) -> Path:
        return self.root / cfg.RELEASE_DIR

    def step_dir(self, step: str, student: str, assignment: str) -> Path:
        return self.root / step / student / assignment

    def source_assignments(self) -> list[str]:
        if not self.source_dir.is_dir():
            return []
        return sorted(p.name for p in self.source_dir.iterdir() if p.is_dir() and ASSIGNMENT_RE.match(p.name))

    def source_notebooks(self, assignment: str) -> list[Path]:
        folder = self.source_dir / check_assignment(assignment)
        if not folder.is_dir():
            known = ", ".join(self.source_assignments()) or "none"
            raise AutograderError(f"no folder {folder} for {assignment}; assignments in source/: {known}")
        found = sorted(folder.glob("*.ipynb"))
        if not found:
            raise AutograderError(
                f"{folder} has no .ipynb notebook; add source/{assignment}/{assignment}_<topic>.ipynb"
            )
        return found

    def released_notebooks(self, assignment: str) -> list[Path]:
        folder = self.release_dir / check_assignment(assignment)
        found = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
        if not found:
            raise AutograderError(
                f"{assignment} is not released (no notebooks in {folder}); "
                f"run: python -m autograder release {assignment}"
            )
        return found

    def require_in_gradebook(self, assignment: str) -> None:
        """Fail with the command to run when ``assignment`` is not in the gradebook (e.g. on a fresh clone).

        ``gradebook.db`` is not tracked by git: a fresh clone has the released notebooks but no gradebook, and
        nbgrader would fail every student with "No assignment with ID 'week01' exists in the database". The
        gradebook learns a week's test cells and points when the week is released.
        """
        check_assignment(assignment)
        db = self.root / cfg.GRADEBOOK
        fix = f"run: python -m autograder release {assignment} (it records the week's tests and points)"
        if not db.exists():
            raise AutograderError(f"{assignment} is not in the gradebook: there is no {db} yet; {fix}")
        with Gradebook(self.db_url, cfg.COURSE_ID) as gb:
            try:
                gb.find_assignment(assignment)
            except MissingEntry:
                raise AutograderError(f"{assignment} is not in the gradebook {db}; {fix}") from None

    # --------------------------------------------------------------- nbgrader
    def coursedir(self, **attrs: str) -> CourseDirectory:
        return CourseDirectory(config=self.config, **attrs)

    @contextmanager
    def _captured(self) -> Iterator[None]:
        handler = logging.FileHandler(self.root / NBGRADER_LOG, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s [%(levelname)s] %(message)s"))
        nblog.addHandler(handler)
        try:
            yield
        finally:
            nblog.removeHandler(handler)
            handler.close()

    def run_app(self, app: Any) -> dict[str, Any]:
        """Run an nbgrader app with its log captured (``{'success', 'log', 'error'}``), warnings quietened."""
        with self._captured(), warnings.catch_warnings():
            # nbgrader 0.9.6 trips SQLAlchemy 2 autoflush warnings on every new submission; harmless
            warnings.filterwarnings("ignore", category=SAWarning)
            result = capture_log(app)
        if not result["success"]:
            nblog.debug(result.get("error", ""))
        return result

    def release(self, assignment: str) -> list[Path]:
        """``nbgrader generate_assignment --force``: ``source/weekNN`` -> ``notebooks/weekNN``, gradebook."""
        sources = self.source_notebooks(assignment)
        for nb_path in sources:
            if not NOTEBOOK_RE.match(nb_path.name):
                raise AutograderError(
                    f"{nb_path.name} is not named {assignment}_<snake_topic>.ipynb (see autograder/ids.py)"
                )
        app = GenerateAssignment(coursedir=self.coursedir(assignment_id=assignment), config=self.config, log=nblog)
        app.force = True
        app.create_assignment = True
        result = self.run_app(app)
        if not result["success"]:
            raise AutograderError(f"release of {assignment} failed: {run_error(result)} (details in {NBGRADER_LOG})")
        released = self.released_notebooks(assignment)
        for path in released:
            _normalise(path)
        sync_due_dates(self.db_url, cfg.COURSE_ID, load_schedule(self.root), [assignment])  # course.toml
        return released

    def autograde(self, assignment: str, student: str) -> GradeResult:
        """Autograde one student's submission; never raises for a bad submission (see ``.error``)."""
        check_assignment(assignment)
        check_student(student)
        result = GradeResult(student=student, assignment=assignment)
        submitted = self.step_dir(cfg.SUBMITTED_DIR, student, assignment)
        if not list(submitted.glob("*.ipynb")):
            result.error = f"no submitted notebook in {submitted.relative_to(self.root)}"
            return result
        os.environ.setdefault("MPLBACKEND", "Agg")
        app = Autograde(
            coursedir=self.coursedir(assignment_id=assignment, student_id=student),
            config=self.config,
            log=nblog,
        )
        app.force = True
        app.create_student = True
        run = self.run_app(app)
        result.restored = restored_ids(run.get("log", ""))
        if not run["success"]:
            result.error = f"grading failed: {run_error(run)}"
            return result
        self.read_scores(result)
        return result

    def read_scores(self, result: GradeResult) -> None:
        """Fill ``result`` with the gradebook's scores and the graded notebook's cell results."""
        assignment, student = result.assignment, result.student
        graded = sorted(self.step_dir(cfg.AUTOGRADED_DIR, student, assignment).glob("*.ipynb"))
        with Gradebook(self.db_url, cfg.COURSE_ID) as gb:
            submission = gb.find_submission(assignment, student)
            result.score = float(submission.score)
            result.max_score = float(submission.max_score)
            for nb_path in graded:
                notebook_id = nb_path.stem
                result.notebook = nb_path.name
                grades = gb.find_submission_notebook(notebook_id, assignment, student).grades
                scores = {g.name: (float(g.score), float(g.max_score)) for g in grades}
                ungraded = {g.name for g in grades if g.cell.cell_type == "markdown" and g.manual_score is None}
                nb = nbformat.read(nb_path, as_version=4)
                for cell in nb.cells:
                    gid = nbgrader_meta(cell).get("grade_id")
                    if gid and was_restored(cell) and gid not in result.restored:
                        result.restored.append(gid)
                    if not gid or gid not in scores:
                        continue
                    score, max_score = scores.pop(gid)
                    if gid in ungraded:  # a manually graded answer (formgrader) nobody has scored yet
                        result.cells.append(CellResult(gid, score, max_score, hidden=False, status=MANUAL))
                    else:
                        result.cells.append(_cell_result(cell, gid, score, max_score))
                for gid, (score, max_score) in scores.items():  # graded cells absent from the notebook
                    result.cells.append(CellResult(gid, score, max_score, hidden=False, status="not run"))

    def scores(self, assignment: str, student: str) -> GradeResult:
        """Scores already in the gradebook and ``autograded/`` (no grading)."""
        result = GradeResult(student=student, assignment=assignment)
        try:
            self.read_scores(result)
        except MissingEntry:
            result.error = f"{student} has no graded submission for {assignment}"
        return result


def _cell_result(cell: Any, gid: str, score: float, max_score: float) -> CellResult:
    hidden = is_hidden_source(cell.get("source", ""))
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if not errors:
        status = "passed" if score >= max_score else "failed"
        return CellResult(gid, score, max_score, hidden, status)
    names = [o.get("ename", "") for o in errors]
    if "CellTimeoutError" in names:
        msg = "the cell ran longer than the per-cell time limit and was stopped (an endless loop?)"
        return CellResult(gid, score, max_score, hidden, "timeout", "CellTimeoutError", msg)
    err = errors[0]
    # a hidden test's message may quote the hidden test itself: keep only the error type
    message = "" if hidden else " ".join(str(err.get("evalue", "")).split())
    if len(message) > 300:
        message = message[:297] + "..."
    return CellResult(gid, score, max_score, hidden, "failed", err.get("ename"), message)


def run_error(run: dict[str, Any]) -> str:
    """The most useful single line of a failed nbgrader run."""
    tb = [ln for ln in run.get("error", "").strip().splitlines() if ln.strip()]
    logged = [ln for ln in run.get("log", "").splitlines() if ln.startswith("[ERROR]")]
    for line in logged:
        if "There was an error processing" in line or line.startswith("[ERROR] Please see"):
            continue
        if "Traceback" in line:
            continue
        return line.removeprefix("[ERROR] ").strip()
    return tb[-1] if tb else "unknown error"


def _normalise(path: Path) -> None:
    """Rewrite a released notebook in nbformat's canonical form (stable bytes, mode 0644)."""
    nb = nbformat.read(path, as_version=4)
    nbformat.write(nb, path)
    path.chmod(0o644)


def copy_source(src_root: Path, dest_root: Path, assignments: list[str]) -> None:
    """Copy ``source/<assignment>`` folders into another course root (for temp courses)."""
    for a in assignments:
        shutil.copytree(
            Path(src_root) / cfg.SOURCE_DIR / a,
            Path(dest_root) / cfg.SOURCE_DIR / a,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
        )
