"""labkit.mainline: the syllabus workflow, generated CI histories on main, the red/green timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from labkit import mainline


def test_syllabus_workflow_is_valid_yaml_with_the_two_jobs():
    yaml = pytest.importorskip("yaml")
    data = yaml.safe_load(mainline.SYLLABUS_WORKFLOW)
    # PyYAML (YAML 1.1) turns the key `on` into True: the reason labkit.ci.load_workflow exists
    assert True in data
    jobs = data["jobs"]
    assert list(jobs) == ["quick-feedback", "full-pipeline"]
    assert jobs["full-pipeline"]["needs"] == "quick-feedback"
    assert jobs["full-pipeline"]["if"] == "github.ref == 'refs/heads/main'"
    assert all("runs-on" in job for job in jobs.values())


def test_ci_history_is_reproducible_and_well_typed():
    a = mainline.ci_history(50, seed=3)
    b = mainline.ci_history(50, seed=3)
    c = mainline.ci_history(50, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert list(a.columns) == ["commit", "finished_at", "status"]
    assert len(a) == 50
    assert str(a["finished_at"].dt.tz) == "UTC"
    assert a["finished_at"].is_monotonic_increasing
    assert set(a["status"]) <= set(mainline.STATUSES)
    assert a["commit"].str.fullmatch(r"[0-9a-f]{7}").all()
    # whole seconds, so the numbers students compute are readable
    assert (a["finished_at"].dt.microsecond == 0).all()


def test_ci_history_runs_only_in_working_hours_and_has_red_streaks():
    runs = mainline.ci_history(300, seed=8)
    t = runs["finished_at"]
    assert (t.dt.day_of_week < 5).all()
    assert ((t.dt.hour >= 9) & (t.dt.hour < 18)).all()
    statuses = runs["status"].tolist()
    assert {"success", "failure", "cancelled"} <= set(statuses)
    decisive = [s for s in statuses if s != "cancelled"]
    # consecutive failures happen (p_stay_red > 0): main stays red for a while
    assert any(x == y == "failure" for x, y in zip(decisive, decisive[1:], strict=False))


def test_ci_history_extremes_and_bad_input():
    green = mainline.ci_history(40, seed=1, p_break=0.0, p_cancel=0.0)
    assert set(green["status"]) == {"success"}
    red = mainline.ci_history(40, seed=1, p_break=1.0, p_stay_red=1.0, p_cancel=0.0)
    assert set(red["status"]) == {"failure"}
    assert len(mainline.ci_history(0)) == 0
    with pytest.raises(ValueError, match="whole number"):
        mainline.ci_history(-1)
    with pytest.raises(ValueError, match="probability"):
        mainline.ci_history(5, p_break=1.5)
    with pytest.raises(ValueError, match="time zone"):
        mainline.ci_history(5, start=datetime(2026, 1, 1, 9))
    with pytest.raises(ValueError, match="positive"):
        mainline.ci_history(5, mean_gap_minutes=0)


def test_ci_history_starts_at_the_next_working_time():
    saturday_night = datetime(2026, 3, 7, 22, 0, tzinfo=UTC)
    runs = mainline.ci_history(3, seed=2, start=saturday_night)
    first = runs["finished_at"].iloc[0]
    assert first.weekday() == 0 and first >= pd.Timestamp(saturday_night + timedelta(hours=35))


def test_plot_timeline_draws_bands_and_points():
    runs = pd.DataFrame({
        "commit": ["a", "b", "c", "d"],
        "finished_at": pd.to_datetime(["2026-03-02 10:00", "2026-03-02 11:00", "2026-03-02 12:00",
                                       "2026-03-02 13:00"], utc=True),
        "status": ["success", "failure", "cancelled", "success"],
    })
    ax = mainline.plot_timeline(runs.iloc[::-1], now=pd.Timestamp("2026-03-02 15:00", tz="UTC"))
    try:
        # three decisive runs -> three bands (green, red, green); three colours of points
        assert len(ax.patches) == 3
        assert len(ax.collections) == 3
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == ["success (2)", "failure (1)", "cancelled (1)"]
    finally:
        plt.close(ax.figure)


def test_plot_timeline_rejects_bad_input():
    with pytest.raises(ValueError, match="columns"):
        mainline.plot_timeline(pd.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="empty"):
        mainline.plot_timeline(pd.DataFrame({"finished_at": [], "status": []}))
    runs = mainline.ci_history(5, seed=1)
    with pytest.raises(ValueError, match="before the last run"):
        mainline.plot_timeline(runs, now=runs["finished_at"].iloc[0])
