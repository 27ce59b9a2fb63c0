"""Import a folder of submitted notebooks into ``submitted/<student>/weekNN/<notebook>.ipynb``.

Accepted layouts of ``FOLDER``::

    FOLDER/<student>.ipynb                  (assignments with one notebook)
    FOLDER/<student>/<notebook>.ipynb       (the released notebook's file name)

A ``timestamp.txt`` beside the notebooks (``FOLDER/<student>/timestamp.txt``: what nbgrader's exchange writes when
a student submits) is kept: it is the submission time nbgrader compares with the due date (:mod:`autograder.late`).
Without one the submission is on time.

Every problem is one line for that submission and the rest continue. Nothing is lost: a rejected file is
copied to ``submitted/.rejected/weekNN/<its path in FOLDER>`` and listed with its reason in
``submitted/.rejected/weekNN/errors.json`` (dot folders are invisible to nbgrader's ``submitted/*``).
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook

from . import config as cfg
from .cells import check_notebook_bytes
from .course import Course
from .errors import AutograderError, log
from .ids import STUDENT_RE

ROSTER_COLUMNS = ("student_id", "first_name", "last_name", "email")
#: optional roster columns, for the LMS exports (autograder/export.py): the LMS's own ids and the section
OPTIONAL_ROSTER_COLUMNS = ("section", "sis_user_id", "sis_login_id", "lms_user_id")
REJECTED_DIR = ".rejected"
TIMESTAMP = "timestamp.txt"  #: nbgrader's name for the submission time (UTC, e.g. 2026-09-08 10:00:00.000000 UTC)


@dataclass
class CollectError:
    file: str  # path inside the collected folder
    reason: str  # one line, says what was expected, what was found, what to try
    student: str | None = None  # as named by the file or folder (may be unknown to the roster)
    kept: str | None = None  # where the file was kept, relative to the course root


@dataclass
class CollectReport:
    assignment: str
    collected: dict[str, list[str]] = field(default_factory=dict)  # student -> notebook files
    errors: list[CollectError] = field(default_factory=list)

    def error_for(self, student: str) -> CollectError | None:
        return next((e for e in self.errors if e.student == student), None)


def read_roster(path: str | Path) -> dict[str, dict[str, str]]:
    """``student_id,first_name,last_name,email`` CSV -> {student_id: row}; clear errors for bad files."""
    path = Path(path)
    if not path.is_file():
        raise AutograderError(f"roster {path} not found; expected a CSV with columns {','.join(ROSTER_COLUMNS)}")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = tuple(reader.fieldnames or ())
        missing = [c for c in ROSTER_COLUMNS if c not in header]
        if missing:
            raise AutograderError(
                f"roster {path} lacks columns {missing}; found {list(header)}, expected {list(ROSTER_COLUMNS)}"
            )
        roster: dict[str, dict[str, str]] = {}
        for n, row in enumerate(reader, start=2):
            sid = (row["student_id"] or "").strip()
            if not STUDENT_RE.match(sid):
                raise AutograderError(f"roster {path} line {n}: student_id {sid!r} is empty or not a plain id")
            if sid in roster:
                raise AutograderError(f"roster {path} line {n}: student_id {sid!r} appears twice")
            columns = ROSTER_COLUMNS + tuple(c for c in OPTIONAL_ROSTER_COLUMNS if c in header)
            roster[sid] = {c: (row[c] or "").strip() for c in columns}
    return roster


def register_students(course: Course, roster: dict[str, dict[str, str]]) -> None:
    """Put the roster into the gradebook (names and e-mails show in formgrader and the export)."""
    with Gradebook(course.db_url, cfg.COURSE_ID) as gb:
        for sid, row in roster.items():
            gb.update_or_create_student(
                sid,
                first_name=row["first_name"],
                last_name=row["last_name"],
                email=row["email"] or None,
                lms_user_id=row.get("lms_user_id") or None,
            )


def _keep(course: Course, assignment: str, folder: Path, path: Path) -> str:
    dest = course.root / cfg.SUBMITTED_DIR / REJECTED_DIR / assignment / path.relative_to(folder)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        shutil.copytree(path, dest, dirs_exist_ok=True)
    else:
        shutil.copy2(path, dest)
    return str(dest.relative_to(course.root))


def collect(  # noqa: C901 - one pass over the inbox, each rejection reason stated where it is found
    course: Course,
    assignment: str,
    folder: str | Path,
    roster: dict[str, dict[str, str]] | None = None,
    *,
    ignore: frozenset[str] = frozenset(),
) -> CollectReport:
    """Collect ``folder`` (see the module docstring); names in ``ignore`` (e.g. expected.json) are skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AutograderError(f"submission folder {folder} does not exist or is not a folder")
    expected = [p.name for p in course.released_notebooks(assignment)]
    report = CollectReport(assignment)
    if roster is not None:
        register_students(course, roster)

    def reject(path: Path, reason: str, student: str | None) -> None:
        err = CollectError(str(path.relative_to(folder)), reason, student, _keep(course, assignment, folder, path))
        report.errors.append(err)
        who = f"{student}: " if student else ""
        log.warning("collect %s: %s%s: %s", assignment, who, err.file, reason)

    # (student, incoming file, target notebook name)
    accepted: dict[str, list[tuple[Path, str]]] = {}
    stamps: dict[str, Path] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name == "__MACOSX" or entry.name in ignore:
            continue
        if entry.is_dir():
            student = entry.name
            files = sorted(p for p in entry.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts)
            notebooks = [p for p in files if p.suffix == ".ipynb"]
            if not notebooks:
                reject(entry, f"folder has no .ipynb file; expected {student}/{expected[0]}", student)
                continue
            items = []
            for p in notebooks:
                if p.name not in expected or p.parent != entry:
                    found = str(p.relative_to(entry))
                    reject(
                        p,
                        f"wrong file name {found!r}: expected {' or '.join(expected)} "
                        "(the released name; do not rename the notebook)",
                        student,
                    )
                else:
                    items.append((p, p.name))
        elif entry.suffix == ".ipynb":
            student = entry.stem
            if len(expected) != 1:
                reject(
                    entry,
                    f"{assignment} has {len(expected)} notebooks; submit a folder "
                    f"{student}/ with {', '.join(expected)}",
                    student,
                )
                continue
            items = [(entry, expected[0])]
        else:
            reject(entry, f"not a notebook (expected <student>.ipynb or <student>/{expected[0]})", entry.stem)
            continue

        if not STUDENT_RE.match(student):
            for p, _ in items:
                reject(p, f"{student!r} is not a usable student id (letters, digits, . _ -)", student)
            continue
        if roster is not None and student not in roster:
            for p, _ in items:
                reject(
                    p,
                    f"unknown student {student!r}: not in the roster; check the file name "
                    "or add the student to the roster",
                    student,
                )
            continue
        if student in accepted:
            for p, _ in items:
                reject(p, "duplicate submission: this student already has a file for this notebook", student)
            continue
        stamp = entry / TIMESTAMP if entry.is_dir() else None
        good = []
        for p, target in items:
            reason = check_notebook_bytes(p.read_bytes())
            if reason:
                reject(p, reason, student)
            else:
                good.append((p, target))
        if good:
            accepted[student] = good
            if stamp is not None and stamp.is_file():
                stamps[student] = stamp

    for student, items in accepted.items():
        dest = course.step_dir(cfg.SUBMITTED_DIR, student, assignment)
        if dest.exists():
            shutil.rmtree(dest)  # a re-collection replaces the student's previous submission
        dest.mkdir(parents=True)
        for path, target in items:
            shutil.copy2(path, dest / target)
        if student in stamps:
            shutil.copy2(stamps[student], dest / TIMESTAMP)
        report.collected[student] = [t for _, t in items]
        log.info("collect %s: %s -> %s", assignment, student, dest.relative_to(course.root))

    err_file = course.root / cfg.SUBMITTED_DIR / REJECTED_DIR / assignment / "errors.json"
    if report.errors or err_file.exists():
        err_file.parent.mkdir(parents=True, exist_ok=True)
        err_file.write_text(
            json.dumps([asdict(e) for e in report.errors], indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
    return report
