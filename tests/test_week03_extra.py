"""Week 3's reference solutions, loaded from the source notebook: the commit-msg hook and the validator agree.

A student reads both as one specification, so the reference hook must accept exactly the first lines the
reference validator accepts (for messages whose only problems are in the first two lines).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import REPO

from autograder.samples import solution_body

SOURCE = REPO / "source" / "week03" / "week03_conventions_and_hooks.ipynb"

MESSAGES = [
    "feat: add search", "feat(api): add search", "fix!: drop v1", "fix(db)!: rename", "Feat: add search",
    "feature: add search", "feat:add search", "feat: ", "feat(): x", "feat(a b): x", "docs(readme): typo",
    "chore: " + "y" * 65, "chore: " + "y" * 66, "fix: a\nsecond line", "fix: a\n\nbody\n\nRefs: #1", "",
    "# only a comment", "WIP", "test(api-v2): cover 404s", "perf: faster\n# comment", "revert: undo x",
    "Fix: upper", "fix :space before colon", "ci(gh.actions): cache pip",
]


@pytest.fixture(scope="module")
def week03() -> dict:
    nb = nbformat.read(SOURCE, as_version=4)
    namespace: dict = {}
    for cell in nb.cells:
        is_solution = cell.get("metadata", {}).get("nbgrader", {}).get("solution")
        if is_solution and cell.cell_type == "code":  # reflection answers are markdown
            exec(compile(solution_body(cell.source), str(SOURCE), "exec"), namespace)
        elif cell.cell_type == "code" and cell.source.startswith("ALLOWED_TYPES ="):
            exec(compile(cell.source.splitlines()[0], str(SOURCE), "exec"), namespace)
        elif cell.cell_type == "code" and cell.source.startswith("WARMUP = ["):
            exec(compile(cell.source, str(SOURCE), "exec"), namespace)  # the warm-up's messages
    return namespace


@pytest.mark.parametrize("message", MESSAGES)
def test_commit_msg_hook_agrees_with_the_validator(week03: dict, message: str, tmp_path: Path) -> None:
    hook = tmp_path / "commit-msg"
    hook.write_text(week03["COMMIT_MSG_HOOK"])
    msg = tmp_path / "COMMIT_EDITMSG"
    msg.write_text(message)
    run = subprocess.run([sys.executable, str(hook), str(msg)], capture_output=True, text=True, timeout=30)
    valid = week03["validate_commit_message"](message)["valid"]
    assert (run.returncode == 0) == valid, (message, run.stderr, week03["validate_commit_message"](message))
    if not valid:
        first = next((ln for ln in message.splitlines() if not ln.startswith("#")), "")
        assert repr(first.rstrip()) in run.stderr  # the hook quotes the line


def test_validator_result_shape_is_stable(week03: dict) -> None:
    for message in MESSAGES:
        got = week03["validate_commit_message"](message)
        assert list(got) == ["valid", "type", "scope", "breaking", "description", "body", "footers", "errors"]
        assert got["valid"] is (not got["errors"])
        assert all(isinstance(f, tuple) and len(f) == 2 for f in got["footers"])


def test_warm_up_answers_agree_with_the_validator(week03: dict) -> None:
    """The warm-up's reference answers are what exercise 2's reference validator says about each first line."""
    answers = week03["IS_CONVENTIONAL"]
    assert sorted(answers) == sorted(week03["WARMUP"])
    for message, conventional in answers.items():
        assert week03["validate_commit_message"](message)["valid"] is conventional, message
