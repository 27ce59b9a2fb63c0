"""Autograde every collected student of a week; one failure never stops the batch."""

from __future__ import annotations

import os
from collections.abc import Iterable

from . import config as cfg
from .course import Course
from .engine import grade_parallel
from .engine.reference import grade_serial_reference
from .errors import AutograderError
from .ids import check_assignment
from .limits import EngineOptions
from .results import GradeResult


def submitted_students(course: Course, assignment: str) -> list[str]:
    base = course.root / cfg.SUBMITTED_DIR
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if not p.name.startswith(".") and (p / assignment).is_dir())


def default_jobs() -> int:
    """Parallel graders: one per core, at most 4 (each runs a kernel; the gradebook is one sqlite file)."""
    return max(1, min(4, os.cpu_count() or 1))


def grade(
    course: Course,
    assignment: str,
    students: Iterable[str] | None = None,
    *,
    jobs: int = 1,
    engine: str | None = None,
    options: EngineOptions | None = None,
) -> list[GradeResult]:
    """Autograde ``students`` (default: everyone in ``submitted/*/<assignment>``), ``jobs`` at a time.

    ``options`` (:class:`autograder.engine.EngineOptions`) say how; without them ``engine`` picks
    ``"sandbox"`` (default, :mod:`autograder.engine`) or ``"nbgrader"`` (plain serial autograde in each worker,
    the reference), and the rest comes from the environment.
    """
    check_assignment(assignment)
    if jobs < 1:
        raise AutograderError(f"--jobs must be at least 1, found {jobs}")
    course.released_notebooks(assignment)  # a clear error when the week was never released
    course.require_in_gradebook(assignment)  # released in git, but not in this clone's gradebook.db
    todo = sorted(students) if students is not None else submitted_students(course, assignment)
    if not todo:
        raise AutograderError(
            f"no submissions for {assignment} in {course.root / cfg.SUBMITTED_DIR}; "
            f"run: python -m autograder collect {assignment} FOLDER"
        )
    return grade_many(course, [(assignment, s) for s in todo], jobs=jobs, engine=engine, options=options)


def grade_many(
    course: Course,
    work: list[tuple[str, str]],
    *,
    jobs: int = 1,
    engine: str | None = None,
    options: EngineOptions | None = None,
) -> list[GradeResult]:
    """Autograde (assignment, student) pairs, ``jobs`` at a time, in one pool (results in input order)."""
    if options is None:
        options = EngineOptions.from_env(engine=engine, jobs=jobs)
    jobs = options.jobs or jobs
    if options.engine == "sandbox":
        return list(grade_parallel(course, work, options))
    return grade_serial_reference(course, work, jobs)
