"""``export --format canvas|moodle|csv`` on the graded class (graded_class.py), column by column, late penalty too."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import graded_class as shared
import pytest

from autograder.cli import main
from autograder.errors import AutograderError
from autograder.export import CANVAS_COLUMNS, LATE_COLUMNS, MOODLE_COLUMNS
from autograder.late import LatePolicy, PercentPerDayLate, load_schedule

pytestmark = pytest.mark.slow
graded_class = shared.graded_class  # the fixture (graded_class.py)


def _export(graded_class, tmp_path: Path, fmt: str, *extra: str) -> list[list[str]]:
    out = tmp_path / f"{fmt}.csv"
    argv = ["export", "--format", fmt, "--output", str(out), "--course-dir", str(graded_class.root), *extra]
    assert main(argv) == 0
    with out.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_canvas_import_columns_points_row_and_rows(graded_class, tmp_path: Path) -> None:
    table = _export(graded_class, tmp_path, "canvas", "--roster", str(graded_class.roster))
    header, points, *students = table
    assert header == CANVAS_COLUMNS + ["week90", "week91"]
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert points == ["Points Possible", "", "", "", "", "5", "5"]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in students}
    assert list(rows) == ["Anders, Alice", "Brown, Bob", "Chen, Carol", "Diaz, Dave", "Evans, Erin", "Fox, Fay"]
    alice = rows["Anders, Alice"]
    assert (alice["ID"], alice["SIS User ID"], alice["SIS Login ID"], alice["Section"]) == (
        "101",
        "S001",
        "alice@example.org",
        "Group A",
    )
    assert (alice["week90"], alice["week91"]) == ("5", "5")
    bob = rows["Brown, Bob"]
    assert bob["week90"] == "3"  # the wrong mean loses its 2 points
    assert bob["week91"] == "4"  # 5 points, 30 h late = 2 started days at 10 % each: -1
    assert rows["Chen, Carol"]["week91"] == "" and rows["Fox, Fay"]["week90"] == ""  # missing: left to Canvas


def test_canvas_without_roster_falls_back_to_gradebook_ids(graded_class, tmp_path: Path) -> None:
    header, _, *students = _export(graded_class, tmp_path, "canvas")
    carol = dict(zip(header, next(r for r in students if r[0] == "Chen, Carol"), strict=True))
    assert (carol["ID"], carol["SIS User ID"], carol["SIS Login ID"], carol["Section"]) == (
        "",
        "carol",
        "carol@example.org",
        "",
    )
    alice = dict(zip(header, next(r for r in students if r[0] == "Anders, Alice"), strict=True))
    assert alice["ID"] == "101"  # collect put the roster's lms_user_id into the gradebook


def test_moodle_columns_and_late_feedback(graded_class, tmp_path: Path) -> None:
    header, *students = _export(graded_class, tmp_path, "moodle", "--roster", str(graded_class.roster))
    assert header == MOODLE_COLUMNS + ["week90", "week90 feedback", "week91", "week91 feedback"]
    rows = {r[3]: dict(zip(header, r, strict=True)) for r in students}
    bob = rows["bob@example.org"]
    assert (bob["First name"], bob["Last name"], bob["ID number"]) == ("Bob", "Brown", "S002")
    assert (bob["week90"], bob["week90 feedback"]) == ("3", "")
    assert (bob["week91"], bob["week91 feedback"]) == ("4", "late 2 days: -20% (-1 of 5)")
    assert rows["carol@example.org"]["week91 feedback"] == "not submitted"


def test_csv_keeps_its_columns_and_adds_the_late_ones(graded_class, tmp_path: Path) -> None:
    header, *data = _export(graded_class, tmp_path, "csv")
    assert header[:5] == ["student_id", "assignment", "score", "max_score", "percent"]
    assert header[-4:] == LATE_COLUMNS
    rows = {(r[0], r[1]): dict(zip(header, r, strict=True)) for r in data}
    bob91 = rows[("bob", "week91")]
    assert (bob91["score"], bob91["percent"]) == ("5", "100.0")  # the autograded score, as before
    assert (bob91["submitted_at"], bob91["days_late"]) == ("2026-09-16 05:59:00 UTC", "2")
    assert (bob91["late_penalty"], bob91["final_score"]) == ("1", "4")
    erin90 = rows[("erin", "week90")]
    assert (erin90["submitted_at"], erin90["days_late"], erin90["late_penalty"]) == ("", "0", "0")
    assert rows[("fay", "week90")]["score"] == "0"  # missing scores 0, as before


def test_nbgrader_recorded_the_same_penalty(graded_class) -> None:
    """Grading ran nbgrader's AssignLatePenalties with our plugin: formgrader shows the export's number."""
    from nbgrader.api import Gradebook

    from autograder.config import COURSE_ID, gradebook_url

    with Gradebook(gradebook_url(graded_class.root), COURSE_ID) as gb:
        nb = gb.find_submission_notebook("week91_fixture", "week91", "bob")
        assert nb.late_submission_penalty == 1.0
        assert gb.find_submission_notebook("week90_fixture", "week90", "bob").late_submission_penalty is None


def test_late_policy_days_grace_and_cap() -> None:
    policy = LatePolicy(percent_per_day=10, max_percent=50, grace_minutes=15)
    assert policy.days_late(14 * 60) == 0  # inside the grace period
    assert policy.days_late(16 * 60) == 1
    assert policy.days_late(86400 + 15 * 60 + 1) == 2
    assert policy.penalty(8, 30 * 86400) == 4.0  # capped at 50 %
    plugin = PercentPerDayLate(percent_per_day=25)
    assert plugin.late_submission_penalty("s", 4.0, 3600) == 1.0
    assert plugin.late_submission_penalty("s", 4.0, 0) is None


def test_course_toml_schedule_and_errors(tmp_path: Path) -> None:
    (tmp_path / "course.toml").write_text("[due]\nfirst = 2026-09-07T23:59:00Z\nweek03 = 2026-09-30\n")
    schedule = load_schedule(tmp_path)
    assert schedule.due("week02") == dt.datetime(2026, 9, 14, 23, 59)
    assert schedule.due("week03") == dt.datetime(2026, 9, 30, 23, 59)  # a date alone: 23:59 that day
    (tmp_path / "course.toml").write_text("[late_penalty]\npercent_per_dya = 10\n")
    with pytest.raises(AutograderError, match="unknown keys"):
        load_schedule(tmp_path)
    (tmp_path / "course.toml").write_text("[due]\nfirst = 'next monday'\n")
    with pytest.raises(AutograderError, match="TOML date-time"):
        load_schedule(tmp_path)
