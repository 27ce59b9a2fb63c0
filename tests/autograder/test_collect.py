"""``python -m autograder collect``: every bad file gets one clear line, is kept, and the rest continue."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from autograder.cells import check_notebook_bytes
from autograder.cli import main
from autograder.collect import collect, read_roster
from autograder.course import Course
from autograder.errors import AutograderError
from autograder.samples import fill, write_submission

ROSTER = "student_id,first_name,last_name,email\n" + "".join(
    f"{s},{s.title()},Test,{s}@example.org\n" for s in ("alice", "bob", "dave", "gina", "hank", "ivan", "jo")
)


@pytest.fixture
def inbox(course: Course, tmp_path: Path) -> Path:
    box = tmp_path / "inbox"
    root = course.root
    write_submission(fill("week90", root=root), box / "alice.ipynb")
    write_submission(fill("week90", root=root), box / "bob" / "week90_fixture.ipynb")
    (box / "dave.ipynb").write_text('{"cells": [', encoding="utf-8")  # truncated download
    v3 = {"metadata": {}, "nbformat": 3, "nbformat_minor": 0, "worksheets": []}
    (box / "gina.ipynb").write_text(json.dumps(v3), encoding="utf-8")
    good = nbformat.writes(fill("week90", root=root)).encode("utf-8")
    (box / "hank.ipynb").write_bytes(good.replace(b"Week 90", b"Week \xff90", 1))  # latin-1 junk
    write_submission(fill("week90", root=root), box / "ivan" / "week90_fixture (1).ipynb")  # renamed
    write_submission(fill("week90", root=root), box / "zed.ipynb")  # not in the roster
    (box / "jo.ipynb").write_text('{"some": "json"}', encoding="utf-8")
    (box / ".DS_Store").write_bytes(b"\0")
    return box


@pytest.fixture
def roster_csv(tmp_path: Path) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return path


def test_collect_sorts_good_from_bad(course: Course, inbox: Path, roster_csv: Path) -> None:
    report = collect(course, "week90", inbox, read_roster(roster_csv))
    assert sorted(report.collected) == ["alice", "bob"]
    for student in ("alice", "bob"):
        dest = course.root / "submitted" / student / "week90" / "week90_fixture.ipynb"
        assert nbformat.read(dest, as_version=4).cells  # readable, under the released name
    reasons = {e.student: e.reason for e in report.errors}
    assert "corrupt JSON" in reasons["dave"]
    assert "nbformat 3" in reasons["gina"] and "nbformat 4" in reasons["gina"]
    assert "not UTF-8" in reasons["hank"]
    assert "wrong file name" in reasons["ivan"] and "week90_fixture.ipynb" in reasons["ivan"]
    assert "unknown student 'zed'" in reasons["zed"]
    assert "not a Jupyter notebook" in reasons["jo"]
    assert all("\n" not in r for r in reasons.values())
    # nothing is lost: every rejected file is kept byte for byte, reasons on disk
    rejected = course.root / "submitted" / ".rejected" / "week90"
    for err in report.errors:
        kept = course.root / err.kept
        assert kept.read_bytes() == (inbox / err.file).read_bytes()
        assert kept.is_relative_to(rejected)
    logged = json.loads((rejected / "errors.json").read_text())
    assert {e["student"] for e in logged} == set(reasons)
    # rejected students never appear as nbgrader submissions
    assert sorted(p.name for p in (course.root / "submitted").iterdir() if not p.name.startswith(".")) == [
        "alice",
        "bob",
    ]


def test_collect_without_roster_accepts_any_student(course: Course, inbox: Path) -> None:
    report = collect(course, "week90", inbox)
    assert "zed" in report.collected


def test_recollect_replaces_previous_submission(course: Course, inbox: Path) -> None:
    collect(course, "week90", inbox)
    stale = course.root / "submitted" / "alice" / "week90" / "old_extra.txt"
    stale.write_text("old")
    collect(course, "week90", inbox)
    assert not stale.exists()


def test_cli_collect_reports_and_exits_1(
    course: Course, inbox: Path, roster_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["collect", "week90", str(inbox), "--roster", str(roster_csv), "--course-dir", str(course.root)]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "2 submissions collected, 6 rejected" in err
    assert "dave: dave.ipynb: corrupt JSON" in err
    assert "Traceback" not in err


def test_collect_needs_a_release_and_a_folder(tmp_path: Path, course: Course) -> None:
    with pytest.raises(AutograderError, match="not released"):
        collect(Course(tmp_path), "week90", tmp_path)
    with pytest.raises(AutograderError, match="does not exist"):
        collect(course, "week90", tmp_path / "missing")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("student_id,name\nalice,A\n", "lacks columns"),
        ("student_id,first_name,last_name,email\nalice,A,B,c\nalice,A,B,c\n", "appears twice"),
        ("student_id,first_name,last_name,email\n,A,B,c\n", "empty or not a plain id"),
    ],
)
def test_bad_roster_is_explained(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "r.csv"
    path.write_text(text)
    with pytest.raises(AutograderError, match=message):
        read_roster(path)


def test_check_notebook_bytes_accepts_a_real_notebook(released_fixture: Path) -> None:
    data = (released_fixture / "notebooks" / "week90" / "week90_fixture.ipynb").read_bytes()
    assert check_notebook_bytes(data) is None
    assert "nbformat None" in (check_notebook_bytes(b'{"cells": []}') or "")
