"""Autograde every collected student of a week; one failure never stops the batch."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TYPE_CHECKING

from . import config as cfg
from .course import AutograderError, Course, GradeResult, check_assignment, log

if TYPE_CHECKING:
    from .engine import EngineOptions


def submitted_students(course: Course, assignment: str) -> list[str]:
    base = course.root / cfg.SUBMITTED_DIR
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if not p.name.startswith(".") and (p / assignment).is_dir())


def describe(result: GradeResult) -> str:
    if result.error:
        return f"error: {result.error}"
    text = f"{result.score:g}/{result.max_score:g}"
    if result.notes:
        text += " (" + "; ".join(result.notes) + ")"
    return text


def _grade_one(course: Course, assignment: str, student: str) -> GradeResult:
    try:
        return course.autograde(assignment, student)
    except AutograderError as exc:
        return GradeResult(student=student, assignment=assignment, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - one student's crash must not stop the batch
        return GradeResult(student=student, assignment=assignment, error=f"{type(exc).__name__}: {exc}")


def _worker(root: str, timeout: int, assignment: str, student: str) -> GradeResult:
    """Runs in a fresh (spawned) process: nbgrader changes the working directory while it converts."""
    return _grade_one(Course(root, timeout=timeout), assignment, student)


def _report(course: Course, result: GradeResult, n: int, total: int) -> None:
    level = log.warning if (result.error or result.notes) else log.info
    level("grade %s [%d/%d] %s: %s", result.assignment, n, total, result.student, describe(result))
    for cell in result.cells:
        if cell.status == "timeout":
            log.warning("  %s ran longer than %d s and was stopped (scored 0)", cell.grade_id, course.timeout)


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
    from .engine import EngineOptions, grade_parallel

    if options is None:
        options = EngineOptions.from_env(engine=engine, jobs=jobs)
    jobs = options.jobs or jobs
    if options.engine == "sandbox":
        return list(grade_parallel(course, work, options))
    results: dict[tuple[str, str], GradeResult] = {}
    total = len(work)
    if jobs <= 1 or total <= 1:
        for n, (assignment, student) in enumerate(work, start=1):
            results[assignment, student] = _grade_one(course, assignment, student)
            _report(course, results[assignment, student], n, total)
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, total), mp_context=ctx) as pool:
            futures = {pool.submit(_worker, str(course.root), course.timeout, a, s): (a, s) for a, s in work}
            for n, future in enumerate(as_completed(futures), start=1):
                assignment, student = futures[future]
                try:
                    results[assignment, student] = future.result()
                except Exception as exc:  # noqa: BLE001 - a dead worker is one student's failure
                    results[assignment, student] = GradeResult(
                        student, assignment, error=f"{type(exc).__name__}: {exc}"
                    )
                _report(course, results[assignment, student], n, total)
        # two graders writing the gradebook at once can meet a lock: grade those again, alone
        for key in [k for k, r in results.items() if r.error and "database is locked" in r.error]:
            log.info("grade %s %s: gradebook was busy, grading again", *key)
            results[key] = _grade_one(course, *key)
            _report(course, results[key], total, total)
    return [results[key] for key in work]
