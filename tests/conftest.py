"""Shared pytest fixtures: repository root, a released copy of the tiny fixture course, golden-file flag."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

#: fixture courses' notebooks are graded by the tests, not run by nbval (some loop for ever on purpose)
collect_ignore_glob = ["autograder/fixtures/*.ipynb", "autograder/redteam/*.ipynb"]

REPO = Path(__file__).resolve().parents[1]
FIXTURE_COURSE = REPO / "tests" / "autograder" / "fixtures" / "course"
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


def source_notebooks() -> list[Path]:
    """Every ``source/week*/*.ipynb`` of the course (collected at import time for parametrization)."""
    return sorted((REPO / "source").glob("week*/*.ipynb"))


def source_weeks() -> list[str]:
    return sorted({p.parent.name for p in source_notebooks()})


class Releases:
    """One temporary course holding every ``source/`` week, each released on first use (then cached)."""

    def __init__(self, root: Path) -> None:
        from autograder.course import Course, copy_source

        copy_source(REPO, root, source_weeks())
        self.course = Course(root)
        self._done: dict[str, Exception | None] = {}

    def release(self, week: str):
        """Release ``week`` (once); re-raise its release error for every test that needs it."""
        if week not in self._done:
            try:
                self.course.release(week)
                self._done[week] = None
            except Exception as exc:  # noqa: BLE001 - reported to each test that uses the week
                self._done[week] = exc
        error = self._done[week]
        if error is not None:
            raise error
        return self.course


@pytest.fixture(scope="session")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Releases:
    """Shared by the session: never modify ``source/`` or ``notebooks/`` in it; grade under your own ids."""
    return Releases(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="session")
def selfchecks(releases: Releases):
    """``selfchecks(week)`` -> the (cached) :class:`autograder.selfcheck.SelfCheck` of that week."""
    from autograder.selfcheck import check_released

    cache: dict = {}

    def get(week: str):
        if week not in cache:
            cache[week] = check_released(releases.release(week), week)
        return cache[week]

    return get
