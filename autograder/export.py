"""Grades CSV from the gradebook: one row per (student, assignment), one column per grade id."""

from __future__ import annotations

import csv
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from . import config as cfg
from .cells import nbgrader_meta
from .course import Course

FIXED_COLUMNS = ["student_id", "assignment", "score", "max_score", "percent"]


def _grade_ids(course: Course, assignment: str, notebook: str, names: list[str]) -> list[str]:
    """Grade ids of a notebook in source order (gradebook names as fallback, sorted)."""
    path = course.source_dir / assignment / f"{notebook}.ipynb"
    order: list[str] = []
    if path.is_file():
        nb = nbformat.read(path, as_version=4)
        order = [g for g in (nbgrader_meta(c).get("grade_id") for c in nb.cells) if g in names]
    return order + sorted(set(names) - set(order))


def rows(course: Course) -> tuple[list[str], list[dict[str, str]]]:
    """(columns, rows) of the export; students and assignments sorted, missing submissions score 0."""
    out: list[dict[str, str]] = []
    with Gradebook(course.db_url, cfg.COURSE_ID) as gb:
        assignments = sorted(gb.assignments, key=lambda a: a.name)
        layout: list[tuple[str, list[tuple[str, str]]]] = []  # assignment -> [(notebook, grade id)]
        for a in assignments:
            cells = []
            for nb in sorted(a.notebooks, key=lambda n: n.name):
                ids = _grade_ids(course, a.name, nb.name, [g.name for g in nb.grade_cells])
                cells += [(nb.name, gid) for gid in ids]
            layout.append((a.name, cells))
        grade_columns = [gid for _, cells in layout for _, gid in cells]
        for student in sorted(gb.students, key=lambda s: s.id):
            for (name, cells), a in zip(layout, assignments, strict=True):
                per: dict[str, str] = {}
                try:
                    sub = gb.find_submission(name, student.id)
                except MissingEntry:
                    score, max_score = 0.0, float(a.max_score)
                else:
                    score, max_score = float(sub.score), float(sub.max_score)
                    for nb_name, gid in cells:
                        try:
                            per[gid] = f"{float(gb.find_grade(gid, nb_name, name, student.id).score):g}"
                        except MissingEntry:
                            per[gid] = ""
                row = {
                    "student_id": student.id,
                    "assignment": name,
                    "score": f"{score:g}",
                    "max_score": f"{max_score:g}",
                    "percent": f"{(100.0 * score / max_score) if max_score else 0.0:.1f}",
                }
                row.update({gid: per.get(gid, "") for gid in grade_columns})
                out.append(row)
    return FIXED_COLUMNS + grade_columns, out


def export(course: Course, output: str | Path) -> Path:
    columns, data = rows(course)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
    return output
