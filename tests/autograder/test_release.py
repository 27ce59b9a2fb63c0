"""``python -m autograder release``: deterministic student release without solutions or hidden tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.cli import main
from autograder.course import Course
from autograder.errors import AutograderError
from autograder.samples import solution_lines

FIXTURE_COURSE = Path(__file__).resolve().parent / "fixtures" / "course"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_release_is_deterministic(released_fixture: Path, tmp_path: Path) -> None:
    other = tmp_path / "again"
    shutil.copytree(FIXTURE_COURSE / "source", other / "source")
    assert main(["release", "week90", "--course-dir", str(other)]) == 0
    first = _files(released_fixture / "notebooks")
    assert first and _files(other / "notebooks") == first
    # releasing again over an existing release (force) gives the same bytes too
    assert main(["release", "--all", "--course-dir", str(other)]) == 0
    assert _files(other / "notebooks") == first


def test_release_has_no_solution_and_no_hidden_tests(released_fixture: Path) -> None:
    released = (released_fixture / "notebooks" / "week90" / "week90_fixture.ipynb").read_text()
    assert "BEGIN SOLUTION" not in released and "HIDDEN TESTS" not in released
    assert "SECRET_EDGE_CASE" not in released
    source = nbformat.read(FIXTURE_COURSE / "source" / "week90" / "week90_fixture.ipynb", as_version=4)
    for cell in source.cells:
        for line in solution_lines(cell.source):
            if len(line.strip()) > 8:
                assert line.strip() not in released
    nb = nbformat.read(released_fixture / "notebooks" / "week90" / "week90_fixture.ipynb", as_version=4)
    stubs = [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(stubs) == 2 and all("raise NotImplementedError()" in s for s in stubs)


def test_release_unknown_week_is_a_clear_error(course: Course, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["release", "week07", "--course-dir", str(course.root)]) == 2
    err = capsys.readouterr().err
    assert "week07" in err and "week90" in err and "Traceback" not in err
    with pytest.raises(AutograderError, match="weekNN"):
        course.release("lesson1")


def test_release_without_arguments_says_what_to_pass(
    course: Course, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["release", "--course-dir", str(course.root)]) == 2
    assert "--all" in capsys.readouterr().err


def test_release_rejects_badly_named_notebook(course: Course) -> None:
    src = course.source_dir / "week90" / "week90_fixture.ipynb"
    src.rename(src.with_name("Week90 Fixture.ipynb"))
    with pytest.raises(AutograderError, match="snake_topic"):
        course.release("week90")
