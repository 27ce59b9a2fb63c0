"""``python -m autograder selfcheck``: source solution = full marks, released blank = 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.selfcheck import selfcheck

pytestmark = pytest.mark.slow


def test_selfcheck_passes_on_the_fixture(released_fixture: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["selfcheck", "week90", "--course-dir", str(released_fixture), "--timeout", "30"]) == 0
    captured = capsys.readouterr()
    assert "w90_fixture_double_visible" in captured.out and "TOTAL" in captured.out
    assert "OK" in captured.err


def test_selfcheck_catches_a_test_that_passes_on_the_blank(course_root: Path) -> None:
    path = course_root / "source/week90/week90_fixture.ipynb"
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "w90_fixture_mean_visible":
            cell["source"] = ["checks.equal(1.5, 1.5, what='a constant')"]  # never calls mean()
    path.write_text(json.dumps(nb))
    result = selfcheck("week90", course_root, timeout=30)
    assert not result.ok
    assert any("w90_fixture_mean_visible" in p and "blank" in p for p in result.problems)


def test_selfcheck_catches_a_wrong_source_solution(course_root: Path) -> None:
    path = course_root / "source/week90/week90_fixture.ipynb"
    path.write_text(path.read_text().replace("return 2 * x", "return 3 * x"))
    result = selfcheck("week90", course_root, timeout=30)
    assert not result.ok
    assert any("not full marks" in p and "w90_fixture_double_visible" in p for p in result.problems)
    assert result.solution.score == 2.0 and result.solution.max_score == 5.0


def test_selfcheck_leaves_manually_graded_answers_to_a_person(course_root: Path) -> None:
    """A scored manual answer (the capstone's runbook) scores 0 until an instructor grades it: it must not count as
    a lost point of the source, nor as a point the blank earned; the table and ``manual`` name it."""
    path = course_root / "source/week90/week90_fixture.ipynb"
    nb = json.loads(path.read_text())
    meta = {
        "grade": True,
        "solution": True,
        "locked": False,
        "points": 3,
        "grade_id": "w90_runbook_manual",
        "schema_version": 3,
    }
    nb["cells"].append({"cell_type": "markdown", "metadata": {"nbgrader": meta}, "source": ["*Your answer:*"]})
    path.write_text(json.dumps(nb))
    result = selfcheck("week90", course_root, timeout=30)
    assert result.ok, result.problems
    assert result.manual == ["w90_runbook_manual (3 points)"]
    s = result.solution
    assert (s.max_score, s.auto_max_score, s.auto_score) == (8.0, 5.0, 5.0)
    assert [c.status for c in s.cells if c.grade_id == "w90_runbook_manual"] == ["manual"]
    assert "3 points need manual grading" in "; ".join(s.notes)
    assert "w90_runbook_manual" in result.table() and "manual" in result.table()
