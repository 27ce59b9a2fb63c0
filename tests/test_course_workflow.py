"""The course's own GitHub Actions workflow: schema-valid, fail-fast quick job, then the README's test command."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from conftest import REPO

from labkit import ci

WORKFLOW = REPO / ".github" / "workflows" / "course.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return ci.load_workflow(WORKFLOW)


def test_the_workflow_is_valid_against_githubs_schema() -> None:
    assert ci.validate_workflow(WORKFLOW) == []


def test_quick_job_gives_feedback_within_five_minutes_and_gates_the_full_suite(workflow: dict) -> None:
    quick, full = workflow["jobs"]["quick"], workflow["jobs"]["full"]
    assert quick["timeout-minutes"] <= 5, "the quick job is the fast feedback loop of week 6: at most 5 minutes"
    assert full.get("needs") == "quick", "the full suite runs only after the quick job passed (fail fast)"
    assert workflow["permissions"] == {"contents": "read"}, "least privilege: the workflow only reads the repository"


def _runs(job: dict) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def test_the_full_job_runs_exactly_the_readme_test_command(workflow: dict) -> None:
    runs = _runs(workflow["jobs"]["full"])
    assert "bash dev.sh test" in runs, "the full job must be what a new user runs: `bash dev.sh test`"
    readme = (REPO / "README.md").read_text()
    assert "bash dev.sh test" in readme
    assert "bash dev.sh test" in (REPO / ".ci" / "run").read_text(), ".ci/run and the workflow prove the same thing"


def test_the_quick_job_selects_tests_that_exist_and_skips_the_slow_ones(workflow: dict) -> None:
    pytest_step = next(r for r in _runs(workflow["jobs"]["quick"]) if "-m pytest" in r)
    argv = shlex.split(pytest_step)
    marker = argv[argv.index("-m", argv.index("pytest")) + 1] if argv.count("-m") > 1 else ""
    assert "not slow" in marker, "notebook execution and grading belong in the full job"
    paths = [a for a in argv if a.startswith("tests")]
    assert paths, "the quick job names its test files"
    missing = [p for p in paths if not (REPO / p).exists()]
    assert not missing, f"the quick job names tests that do not exist: {missing}"
    assert any(Path(p).name == "test_course_workflow.py" for p in paths), "the quick job checks this workflow too"


def test_pre_commit_runs_in_the_quick_job(workflow: dict) -> None:
    assert any("pre-commit run --all-files" in r for r in _runs(workflow["jobs"]["quick"]))
