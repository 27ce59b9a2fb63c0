"""A fresh clone has the release in git but no gradebook.db: grade says which command to run, nothing else breaks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder import config as cfg
from autograder.cli import main
from autograder.course import Course
from autograder.errors import AutograderError


@pytest.fixture
def fresh_clone(released_fixture: Path, tmp_path: Path) -> Path:
    """The fixture course as git would give it: source/ and notebooks/, none of the ignored files."""
    root = tmp_path / "clone"
    for tracked in (cfg.SOURCE_DIR, cfg.RELEASE_DIR):
        shutil.copytree(released_fixture / tracked, root / tracked)
    sub = root / cfg.SUBMITTED_DIR / "alice" / "week90"
    sub.mkdir(parents=True)
    shutil.copy(next((root / cfg.RELEASE_DIR / "week90").glob("*.ipynb")), sub)
    return root


def test_grade_names_the_release_command_and_creates_no_gradebook(
    fresh_clone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["grade", "week90", "--course-dir", str(fresh_clone)]) == 2
    err = capsys.readouterr().err
    assert "week90 is not in the gradebook" in err
    assert "run: python -m autograder release week90" in err
    assert not (fresh_clone / cfg.GRADEBOOK).exists()  # the check itself writes nothing


def test_a_gradebook_without_the_week_gets_the_same_advice(fresh_clone: Path) -> None:
    course = Course(fresh_clone)
    course.release("week90")
    course.require_in_gradebook("week90")  # released: nothing to say
    with Gradebook(course.db_url, cfg.COURSE_ID) as gb:
        gb.remove_assignment("week90")
    with pytest.raises(
        AutograderError,
        match=r"not in the gradebook .*gradebook\.db; run: python -m autograder "
        r"release week90",
    ):
        course.require_in_gradebook("week90")


def test_the_course_config_uses_a_course_local_exchange(tmp_path: Path) -> None:
    config = cfg.build_config(tmp_path)
    assert config.Exchange.root == str(tmp_path.resolve() / ".exchange")
