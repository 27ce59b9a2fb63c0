"""Week 4's story must hold for more than the one seed the notebook uses: the source solutions find no
trunk-based-development violations in generated trunk histories and many in Git-Flow ones, and the rollout
solution stays fair for other flags."""

from __future__ import annotations

import nbformat
import pytest
from conftest import REPO

from autograder.cells import nbgrader_meta
from autograder.samples import solution_body
from labkit import flags, git

NOTEBOOK = REPO / "source" / "week04" / "week04_trunk_based_development.ipynb"


@pytest.fixture(scope="module")
def solved() -> dict:
    """The namespace after running the setup cell and every source solution cell."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    namespace: dict = {}
    setup = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == "w04_setup")
    exec(setup.source.replace("info = course.setup(4)", ""), namespace)
    for cell in nb.cells:
        if nbgrader_meta(cell).get("solution") and cell.cell_type == "code":  # not the reflection answers
            exec(solution_body(cell.source), namespace)
    return namespace


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_trunk_histories_follow_the_rules_and_gitflow_ones_do_not(solved, seed):
    lifetimes, daily, violations = solved["branch_lifetimes"], solved["daily_flow"], solved["tbd_violations"]
    with git.scratch_repo(git.team_history(style="trunk", seed=seed, days=8)) as repo:
        life = lifetimes(repo)
        assert len(life) > 5 and life["to_trunk"].all() and life["lifetime_h"].max() < 24
        assert violations(life, daily(repo)) == []
    with git.scratch_repo(git.team_history(style="gitflow", seed=seed, days=12)) as repo:
        life = lifetimes(repo)
        found = violations(life, daily(repo))
        rules = {rule for rule, _, _ in found}
        assert {"long-lived branch", "no trunk integration"} <= rules, found


@pytest.mark.parametrize("key", ["checkout-v2", "search-ranking", "ü-flag"])
def test_rollout_solution_is_fair_sticky_and_monotonic_for_other_flags(solved, key):
    in_rollout = solved["in_rollout"]
    users = [f"u{i}@example.com" for i in range(6000)]
    at = {p: {u for u in users if in_rollout(key, u, p)} for p in (5, 30, 75)}
    for percent, chosen in at.items():
        flags.check_share(len(chosen), len(users), percent / 100, confidence=0.9999,
                          what=f"{key}: {percent}%")
    assert at[5] <= at[30] <= at[75]
    assert [in_rollout(key, u, 30) for u in users[:50]] == [in_rollout(key, u, 30) for u in users[:50]]
