"""Week 01: the hidden tests catch the mistakes they promise to catch.

The generic notebook tests check that the source solution scores full marks and the blank 0. These run the
week's test cells in-process (no Jupyter, no nbgrader) against realistic wrong answers — a lead time measured
to the latest tag, weeks taken in local time, missing empty weeks, off-by-one tier boundaries — and require a
``CheckFailed`` (a failed check, not a crash such as a ``NameError``) from the cell that promises the edge
case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograder.samples import solution_body
from labkit.checks import CheckFailed

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "source" / "week01" / "week01_devops_culture_dora.ipynb"


def _cells() -> dict[str, str]:
    """Graded code cells by grade id (the reflection answers are markdown: nothing to execute)."""
    nb = nbformat.read(SOURCE, as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in nb.cells
        if "nbgrader" in c.metadata and c.cell_type == "code"
    }


CELLS = _cells()


@pytest.fixture
def ns(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The notebook's namespace after the setup cell and every source solution (the teams are not built)."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, Any] = {"__name__": "week01"}
    exec(compile(CELLS["w01_setup"], "w01_setup", "exec"), namespace)
    for gid, source in CELLS.items():
        if gid.endswith(("_visible", "_hidden")) or gid == "w01_setup":
            continue
        exec(compile(solution_body(source), gid, "exec"), namespace)
    return namespace


def _run(ns: dict[str, Any], gid: str) -> None:
    exec(compile(CELLS[gid], gid, "exec"), ns)


def _replace(ns: dict[str, Any], gid: str, old: str, new: str) -> None:
    """Redefine a solution with one realistic mistake (``old`` must occur in the solution)."""
    body = solution_body(CELLS[gid])
    assert old in body, f"{old!r} not in the solution of {gid}: update this test with the notebook"
    exec(compile(body.replace(old, new), gid, "exec"), ns)


def test_every_exercise_has_visible_and_hidden_tests() -> None:
    solutions = [g for g in CELLS if g != "w01_setup" and not g.endswith(("_visible", "_hidden"))]
    assert len(solutions) >= 4
    for gid in solutions:
        assert f"{gid}_visible" in CELLS and f"{gid}_hidden" in CELLS, gid
        assert "### BEGIN HIDDEN TESTS" in CELLS[f"{gid}_hidden"]


@pytest.mark.parametrize(
    "gid", ["w01_dora_parse_log_hidden", "w01_dora_baseline_hidden", "w01_dora_baseline_visible"]
)
def test_solution_passes_cells_without_team_data(ns: dict[str, Any], gid: str) -> None:
    _run(ns, gid)


def test_parse_log_that_drops_the_utc_offset_fails(ns: dict[str, Any]) -> None:
    _replace(
        ns,
        "w01_dora_parse_log",
        'pd.to_datetime(frame["author_time"], utc=True, format="ISO8601")',
        'pd.to_datetime(frame["author_time"].str[:19]).dt.tz_localize("UTC")',
    )
    with pytest.raises(CheckFailed, match="author_time"):
        _run(ns, "w01_dora_parse_log_hidden")


def test_lead_time_to_the_latest_tag_fails(ns: dict[str, Any]) -> None:
    # forget the earlier deployments: every tag claims all of its history, and the last one wins
    body = solution_body(CELLS["w01_dora_lead_times"]).replace('sha, "--not", *earlier, "--"', 'sha, "--"')
    old = 'frame = pd.DataFrame(rows, columns=["sha", "committed_at", "tag", "deployed_at"])'
    assert old in body
    latest = body.replace(old, old + '.drop_duplicates("sha", keep="last")')
    exec(compile(latest, "w01_dora_lead_times", "exec"), ns)
    with pytest.raises(CheckFailed, match="EARLIEST"):
        _run(ns, "w01_dora_lead_times_visible")
    with pytest.raises(CheckFailed):
        _run(ns, "w01_dora_lead_times_hidden")


def test_weeks_in_local_time_fail(ns: dict[str, Any]) -> None:
    _replace(
        ns, "w01_dora_weekly", 'times.dt.tz_convert("UTC").dt.tz_localize(None)', "times.dt.tz_localize(None)"
    )
    with pytest.raises(CheckFailed, match="UTC week"):
        _run(ns, "w01_dora_weekly_hidden")


def test_missing_empty_weeks_fail(ns: dict[str, Any]) -> None:
    _replace(
        ns,
        "w01_dora_weekly",
        'index = pd.period_range(deploy_weeks.min(), deploy_weeks.max(), freq="W", name="week")',
        'index = pd.PeriodIndex(sorted(deploy_weeks.unique()), freq="W", name="week")',
    )
    with pytest.raises(CheckFailed, match="weeks"):
        _run(ns, "w01_dora_weekly_hidden")


def test_failing_the_remediation_instead_of_the_deployment_before_fails(ns: dict[str, Any]) -> None:
    _replace(ns, "w01_dora_failures", 'out["remediation"].shift(-1, fill_value=False)', 'out["remediation"]')
    with pytest.raises(CheckFailed, match="failed"):
        _run(ns, "w01_dora_failures_visible")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"elite" if value < day', '"elite" if value <= day'),
        ('"elite" if value <= 0.05', '"elite" if value < 0.05'),
        ('"medium" if value <= week else "low"', '"medium" if value < week else "low"'),
        ('"medium" if value >= 1 / 30', '"medium" if value > 1 / 30'),
    ],
)
def test_tier_boundaries_off_by_one_fail(ns: dict[str, Any], old: str, new: str) -> None:
    _replace(ns, "w01_dora_tiers", old, new)
    _run(ns, "w01_dora_tiers_visible")  # clear values still pass: only the hidden boundaries notice
    with pytest.raises(CheckFailed, match="dora_tier"):
        _run(ns, "w01_dora_tiers_hidden")


def test_unsorted_days_fail(ns: dict[str, Any]) -> None:
    _replace(
        ns,
        "w01_dora_baseline",
        'index = pd.period_range(days.min(), days.max(), freq="D", name="day")',
        'index = pd.PeriodIndex(list(dict.fromkeys(days)), freq="D", name="day")',
    )
    with pytest.raises(CheckFailed):
        _run(ns, "w01_dora_baseline_visible")
    with pytest.raises(CheckFailed):
        _run(ns, "w01_dora_baseline_hidden")
