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
