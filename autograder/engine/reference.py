"""The reference: plain ``nbgrader autograde`` per student (no sandbox, no guard), serial or in a pool.

``grade --engine nbgrader`` uses it; the tests use it to prove that the sandboxed engine gives the same scores,
and that the red team's attacks are real (they fool this path).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed

from ..course import Course
from ..errors import AutograderError, log
from ..results import GradeResult, describe


def grade_one(course: Course, assignment: str, student: str) -> GradeResult:
    try:
        return course.autograde(assignment, student)
    except AutograderError as exc:
        return GradeResult(student=student, assignment=assignment, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - one student's crash must not stop the batch
        return GradeResult(student=student, assignment=assignment, error=f"{type(exc).__name__}: {exc}")


def _worker(root: str, timeout: int, assignment: str, student: str) -> GradeResult:
    """Runs in a fresh (spawned) process: nbgrader changes the working directory while it converts."""
    return grade_one(Course(root, timeout=timeout), assignment, student)


def report(course: Course, result: GradeResult, n: int, total: int) -> None:
    level = log.warning if (result.error or result.notes) else log.info
    level("grade %s [%d/%d] %s: %s", result.assignment, n, total, result.student, describe(result))
    for cell in result.cells:
        if cell.status == "timeout":
            log.warning("  %s ran longer than %d s and was stopped (scored 0)", cell.grade_id, course.timeout)


def grade_serial_reference(course: Course, work: list[tuple[str, str]], jobs: int) -> list[GradeResult]:
    """Autograde (assignment, student) pairs with plain nbgrader, ``jobs`` at a time (results in input order)."""
    log.warning(
        "--engine nbgrader: plain nbgrader autograde runs every submission unisolated, with your permissions "
        "(the serial reference, for trusted code only)"
    )
    results: dict[tuple[str, str], GradeResult] = {}
    total = len(work)
    if jobs <= 1 or total <= 1:
        for n, (assignment, student) in enumerate(work, start=1):
            results[assignment, student] = grade_one(course, assignment, student)
            report(course, results[assignment, student], n, total)
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
                report(course, results[assignment, student], n, total)
        # two graders writing the gradebook at once can meet a lock: grade those again, alone
        for key in [k for k, r in results.items() if r.error and "database is locked" in r.error]:
            log.info("grade %s %s: gradebook was busy, grading again", *key)
            results[key] = grade_one(course, *key)
            report(course, results[key], total, total)
    return [results[key] for key in work]
