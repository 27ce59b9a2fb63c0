"""Shared pytest fixtures: repository root, a released copy of the tiny fixture course, golden-file flag."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]
FIXTURE_COURSE = REPO / "tests" / "fixtures" / "course"
FIXTURE_ASSIGNMENT = "week90"
#: per-cell timeout for fixture grading: generous for slow CI, the timeout test sets its own short one
FIXTURE_TIMEOUT = 30


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite samples/weekNN/expected.json from the actual grading results instead of comparing",
    )


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(scope="session")
def released_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course root with the fixture's source released once per session (do not modify: copy it)."""
    from autograder.course import Course

    root = tmp_path_factory.mktemp("fixture-course")
    shutil.copytree(FIXTURE_COURSE / "source", root / "source")
    Course(root, timeout=FIXTURE_TIMEOUT).release(FIXTURE_ASSIGNMENT)
    return root


@pytest.fixture
def course_root(released_fixture: Path, tmp_path: Path) -> Path:
    """A private copy of the released fixture course (with its gradebook) for one test."""
    root = tmp_path / "course"
    shutil.copytree(released_fixture, root)
    return root


@pytest.fixture
def course(course_root: Path):
    from autograder.course import Course

    return Course(course_root, timeout=FIXTURE_TIMEOUT)
