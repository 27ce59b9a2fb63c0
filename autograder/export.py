"""Grades from the gradebook, as our CSV or as a file an LMS imports (Canvas, Moodle), late penalties applied.

Formats (``python -m autograder export --format ...``):

``csv`` (default, unchanged columns first)
    one row per (student, assignment): ``student_id, assignment, score, max_score, percent``, one column per grade
    id, then ``submitted_at, days_late, late_penalty, final_score``. ``score`` stays the autograded score;
    ``final_score`` is after the late penalty.
``canvas``
    Canvas's gradebook import: the columns of Canvas's own gradebook export, ``Student, ID, SIS User ID, SIS Login
    ID, Section`` and one column per assignment; the second row is ``Points Possible``, which Canvas reads for
    assignments it creates from the import. ``Student`` is "Last, First" as Canvas writes it; Canvas matches a row
    to a student by ``ID`` (Canvas's user id, the roster's ``lms_user_id``), else ``SIS User ID`` (``sis_user_id``,
    default the student id), else ``SIS Login ID`` (``sis_login_id``, default the e-mail). Scores are final (after
    the penalty); a missing submission is an empty cell, so Canvas's own missing-submission policy applies.
``moodle``
    Moodle's "Import grades from CSV": one row per student identified by ``Email address`` (also ``ID number`` =
    ``sis_user_id`` or the student id; choose the mapping on Moodle's import page), one column per assignment with
    the final score and a ``<assignment> feedback`` column that says the late penalty, which Moodle imports as the
    grade's feedback.

The late penalty is the course's policy (:mod:`autograder.late`, ``course.toml``) applied to nbgrader's own lateness:
the submission's ``timestamp.txt`` against the assignment's due date (including formgrader extensions).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from . import config as cfg
from .cells import nbgrader_meta
from .course import Course
from .errors import AutograderError
from .late import LatePolicy, load_schedule, sync_due_dates

FIXED_COLUMNS = ["student_id", "assignment", "score", "max_score", "percent"]
LATE_COLUMNS = ["submitted_at", "days_late", "late_penalty", "final_score"]
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_ROW = "Points Possible"
MOODLE_COLUMNS = ["First name", "Last name", "ID number", "Email address"]
FORMATS = ("csv", "canvas", "moodle")
DEFAULT_OUTPUT = {"csv": "grades.csv", "canvas": "canvas_grades.csv", "moodle": "moodle_grades.csv"}


@dataclass
class Mark:
    """One student's result on one assignment (``score`` None: nothing graded)."""

    student: str
    assignment: str
    max_score: float
    score: float | None = None
    submitted_at: dt.datetime | None = None
    seconds_late: float = 0.0
    days_late: int = 0
    penalty: float = 0.0
    cells: dict[str, float] = field(default_factory=dict)  #: grade id -> points

    @property
    def final(self) -> float | None:
        return None if self.score is None else round(self.score - self.penalty, 2)

    def late_note(self, policy: LatePolicy) -> str:
        if not self.days_late:
            return ""
        percent = policy.percent(self.seconds_late)
        return (
            f"late {self.days_late} day{'s' if self.days_late != 1 else ''}: -{percent:g}% "
            f"(-{self.penalty:g} of {self.score:g})"
        )


@dataclass
class Gradesheet:
    """Everything the exports and the report need from the gradebook, read once."""

    assignments: list[tuple[str, float]]  #: (name, max score), sorted
    layout: dict[str, list[tuple[str, str]]]  #: assignment -> [(notebook, grade id)] in source order
    students: list[dict[str, str]]  #: student_id, first_name, last_name, email (+ roster's optional columns)
    marks: dict[tuple[str, str], Mark]  #: (student, assignment) -> mark
    policy: LatePolicy
    due: dict[str, dt.datetime | None]
    cell_max: dict[tuple[str, str], float] = field(default_factory=dict)  #: (assignment, grade id) -> points

    def mark(self, student: str, assignment: str) -> Mark:
        return self.marks[(student, assignment)]


def _grade_ids(course: Course, assignment: str, notebook: str, names: list[str]) -> list[str]:
    """Grade ids of a notebook in source order (gradebook names as fallback, sorted)."""
    path = course.source_dir / assignment / f"{notebook}.ipynb"
    order: list[str] = []
    if path.is_file():
        nb = nbformat.read(path, as_version=4)
        order = [g for g in (nbgrader_meta(c).get("grade_id") for c in nb.cells) if g in names]
    return order + sorted(set(names) - set(order))


def gradesheet(course: Course, roster: dict[str, dict[str, str]] | None = None) -> Gradesheet:
    """Read the gradebook (due dates synced from ``course.toml`` first); ``roster`` adds LMS ids and sections."""
    if not (course.root / cfg.GRADEBOOK).exists():
        raise AutograderError(f"no {cfg.GRADEBOOK} in {course.root}; release and grade first")
    schedule = load_schedule(course.root)
    sync_due_dates(course.db_url, cfg.COURSE_ID, schedule)
    policy = schedule.policy
    with Gradebook(course.db_url, cfg.COURSE_ID) as gb:
        found = sorted(gb.assignments, key=lambda a: a.name)
        assignments = [(a.name, float(a.max_score)) for a in found]
        layout = {
            a.name: [
                (nb.name, gid)
                for nb in sorted(a.notebooks, key=lambda n: n.name)
                for gid in _grade_ids(course, a.name, nb.name, [g.name for g in nb.grade_cells])
            ]
            for a in found
        }
        cell_max = {(a.name, g.name): float(g.max_score) for a in found for nb in a.notebooks for g in nb.grade_cells}
        students = []
        for s in sorted(gb.students, key=lambda s: s.id):
            row = {"student_id": s.id, "first_name": s.first_name or "", "last_name": s.last_name or ""}
            row.update(email=s.email or "", lms_user_id=s.lms_user_id or "")
            row.update({k: v for k, v in (roster or {}).get(s.id, {}).items() if v})
            students.append(row)
        marks: dict[tuple[str, str], Mark] = {}
        for s in students:
            for name, max_score in assignments:
                mark = Mark(s["student_id"], name, max_score)
                marks[(mark.student, name)] = mark
                try:
                    sub = gb.find_submission(name, mark.student)
                except MissingEntry:
                    continue
                mark.score, mark.max_score = float(sub.score), float(sub.max_score)
                mark.submitted_at = sub.timestamp
                mark.seconds_late = float(sub.total_seconds_late)
                mark.days_late = policy.days_late(mark.seconds_late)
                mark.penalty = policy.penalty(mark.score, mark.seconds_late)
                for nb_name, gid in layout[name]:
                    with contextlib.suppress(MissingEntry):
                        mark.cells[gid] = float(gb.find_grade(gid, nb_name, name, mark.student).score)
    due = {a: schedule.due(a) for a, _ in assignments}
    return Gradesheet(assignments, layout, students, marks, policy, due, cell_max)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def rows(course: Course) -> tuple[list[str], list[dict[str, str]]]:
    """(columns, rows) of the csv export; students and assignments sorted, missing submissions score 0."""
    return csv_rows(gradesheet(course))


def csv_rows(sheet: Gradesheet) -> tuple[list[str], list[dict[str, str]]]:
    grade_columns = [gid for name, _ in sheet.assignments for _, gid in sheet.layout[name]]
    out = []
    for s in sheet.students:
        for name, _ in sheet.assignments:
            m = sheet.mark(s["student_id"], name)
            score = m.score or 0.0
            row = {
                "student_id": m.student,
                "assignment": name,
                "score": f"{score:g}",
                "max_score": f"{m.max_score:g}",
                "percent": f"{(100.0 * score / m.max_score) if m.max_score else 0.0:.1f}",
            }
            graded = m.score is not None
            row.update({gid: (_num(m.cells.get(gid)) if graded else "") for gid in grade_columns})
            row.update(
                submitted_at=m.submitted_at.strftime("%Y-%m-%d %H:%M:%S UTC") if m.submitted_at else "",
                days_late=str(m.days_late),
                late_penalty=f"{m.penalty:g}",
                final_score=f"{(m.final or 0.0):g}",
            )
            out.append(row)
    return FIXED_COLUMNS + grade_columns + LATE_COLUMNS, out


def canvas_rows(sheet: Gradesheet) -> tuple[list[str], list[dict[str, str]]]:
    names = [name for name, _ in sheet.assignments]
    points = {"Student": CANVAS_POINTS_ROW} | {name: f"{max_score:g}" for name, max_score in sheet.assignments}
    out = [points]
    for s in sorted(sheet.students, key=lambda s: (s["last_name"].lower(), s["first_name"].lower(), s["student_id"])):
        row = {
            "Student": ", ".join(x for x in (s["last_name"], s["first_name"]) if x) or s["student_id"],
            "ID": s.get("lms_user_id", ""),
            "SIS User ID": s.get("sis_user_id") or s["student_id"],
            "SIS Login ID": s.get("sis_login_id") or s["email"] or s["student_id"],
            "Section": s.get("section", ""),
        }
        row.update({name: _num(sheet.mark(s["student_id"], name).final) for name in names})
        out.append(row)
    return CANVAS_COLUMNS + names, out


def moodle_rows(sheet: Gradesheet) -> tuple[list[str], list[dict[str, str]]]:
    columns = list(MOODLE_COLUMNS)
    for name, _ in sheet.assignments:
        columns += [name, f"{name} feedback"]
    out = []
    for s in sheet.students:
        row = {
            "First name": s["first_name"],
            "Last name": s["last_name"],
            "ID number": s.get("sis_user_id") or s["student_id"],
            "Email address": s["email"],
        }
        for name, _ in sheet.assignments:
            m = sheet.mark(s["student_id"], name)
            row[name] = _num(m.final)
            row[f"{name} feedback"] = m.late_note(sheet.policy) if m.score is not None else "not submitted"
        out.append(row)
    return columns, out


def write(sheet: Gradesheet, output: str | Path, fmt: str = "csv") -> Path:
    """Write ``sheet`` in format ``fmt`` (one of :data:`FORMATS`) to ``output``; returns its path."""
    if fmt not in FORMATS:
        raise AutograderError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    columns, data = {"csv": csv_rows, "canvas": canvas_rows, "moodle": moodle_rows}[fmt](sheet)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n", restval="")
        writer.writeheader()
        writer.writerows(data)
    return output


def export(
    course: Course, output: str | Path, fmt: str = "csv", roster: dict[str, dict[str, str]] | None = None
) -> Path:
    """The gradebook of ``course`` as format ``fmt`` in ``output`` (``roster`` adds LMS ids and sections)."""
    if fmt not in FORMATS:
        raise AutograderError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return write(gradesheet(course, roster), output, fmt)


def late_lines(sheet: Gradesheet) -> list[str]:
    """One line per late submission (for the terminal): who, which week, how late, what it cost."""
    return [
        f"{m.student} {m.assignment}: {m.late_note(sheet.policy)}"
        for m in sorted(sheet.marks.values(), key=lambda m: (m.assignment, m.student))
        if m.days_late and m.score is not None
    ]
