"""Autograde every collected student of a week; one failure never stops the batch."""

from __future__ import annotations

from collections.abc import Iterable

from . import config as cfg
from .course import AutograderError, Course, GradeResult, check_assignment, log


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


def grade(course: Course, assignment: str, students: Iterable[str] | None = None) -> list[GradeResult]:
    check_assignment(assignment)
    course.released_notebooks(assignment)  # a clear error when the week was never released
    todo = sorted(students) if students is not None else submitted_students(course, assignment)
    if not todo:
        raise AutograderError(
            f"no submissions for {assignment} in {course.root / cfg.SUBMITTED_DIR}; "
            f"run: python -m autograder collect {assignment} FOLDER"
        )
    results = []
    for n, student in enumerate(todo, start=1):
        try:
            result = course.autograde(assignment, student)
        except AutograderError as exc:
            result = GradeResult(student=student, assignment=assignment, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - one student's crash must not stop the batch
            result = GradeResult(student=student, assignment=assignment, error=f"{type(exc).__name__}: {exc}")
        results.append(result)
        level = log.warning if (result.error or result.notes) else log.info
        level("grade %s [%d/%d] %s: %s", assignment, n, len(todo), student, describe(result))
        for cell in result.cells:
            if cell.status == "timeout":
                log.warning(
                    "  %s ran longer than %d s and was stopped (scored 0)", cell.grade_id, course.timeout
                )
    return results
