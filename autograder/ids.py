"""The course's id conventions, one regular expression each (never rename an id after release)."""

from __future__ import annotations

import re

from .errors import AutograderError

ASSIGNMENT_RE = re.compile(r"^week(?P<nn>\d{2})$")
NOTEBOOK_RE = re.compile(r"^week(?P<nn>\d{2})_(?P<topic>[a-z0-9]+(?:_[a-z0-9]+)*)\.ipynb$")
GRADE_ID_RE = re.compile(r"^w(?P<nn>\d{2})_(?P<rest>[a-z0-9]+(?:_[a-z0-9]+)*)$")
STUDENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def week_number(assignment: str) -> int:
    """``'week07'`` → 7; a clear ``ValueError`` otherwise."""
    m = ASSIGNMENT_RE.match(assignment)
    if not m:
        raise ValueError(f"assignment id {assignment!r} is not of the form weekNN (e.g. week01)")
    return int(m["nn"])


def check_notebook_name(assignment: str, filename: str) -> None:
    m = NOTEBOOK_RE.match(filename)
    if not m:
        raise ValueError(f"notebook name {filename!r} is not of the form weekNN_<snake_topic>.ipynb")
    if f"week{m['nn']}" != assignment:
        raise ValueError(f"notebook {filename!r} does not belong to assignment {assignment!r}")


def check_grade_id(assignment: str, grade_id: str) -> None:
    m = GRADE_ID_RE.match(grade_id)
    if not m:
        raise ValueError(f"cell id {grade_id!r} is not of the form wNN_<topic>_<check>")
    if int(m["nn"]) != week_number(assignment):
        raise ValueError(f"cell id {grade_id!r} does not belong to assignment {assignment!r}")


def check_assignment(assignment: str) -> str:
    """``assignment`` when it is ``weekNN``; else an :class:`AutograderError` that shows the form."""
    if not ASSIGNMENT_RE.match(assignment):
        raise AutograderError(f"assignment {assignment!r} is not of the form weekNN (for example week01)")
    return assignment


def check_student(student: str) -> str:
    """``student`` when it is a valid student id (letters, digits, ``. _ -``, at most 64 characters)."""
    if not STUDENT_RE.match(student):
        raise AutograderError(
            f"student id {student!r} is not valid (letters, digits, . _ -; at most 64 characters, "
            "starting with a letter or digit)"
        )
    return student
