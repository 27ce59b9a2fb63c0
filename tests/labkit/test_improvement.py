"""labkit.improvement: durations with an explicit day length, SPACE scoring, the fake dependency, team repos."""

from __future__ import annotations

import socket

import pandas as pd
import pytest

from labkit import improvement


@pytest.mark.parametrize(
    ("text", "hours", "minutes"),
    [
        ("10m", 24, 10.0),
        ("4h", 24, 240.0),
        ("2d", 24, 2880.0),
        ("2.5d", 24, 3600.0),
        ("2.5d", 8, 1200.0),
        ("1.5h", 8, 90.0),
        (" 5 min ", 24, 5.0),
    ],
)
def test_to_minutes(text: str, hours: float, minutes: float) -> None:
    assert improvement.to_minutes(text, hours_per_day=hours) == minutes


@pytest.mark.parametrize("bad", ["", "10", "2 weeks", "-1h", "h"])
def test_to_minutes_rejects_what_it_cannot_read(bad: str) -> None:
    with pytest.raises(ValueError, match="cannot read the duration"):
        improvement.to_minutes(bad)


def test_to_minutes_types_and_day_length() -> None:
    with pytest.raises(TypeError):
        improvement.to_minutes(10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hours_per_day"):
        improvement.to_minutes("1d", hours_per_day=0)


def test_flow_efficiency_reproduces_the_syllabus() -> None:
    assert round(improvement.flow_efficiency(39, improvement.to_minutes("2.5d")), 1) == 1.1
    assert improvement.flow_efficiency(39, improvement.to_minutes("2.5d", hours_per_day=8)) == pytest.approx(3.25)
    with pytest.raises(ValueError):
        improvement.flow_efficiency(1, 0)


def test_space_survey_is_deterministic_and_in_range() -> None:
    a, b = improvement.space_survey(), improvement.space_survey()
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["team", "respondent", "item", "answer"]
    assert a["answer"].between(1, 5).all()
    assert set(a["item"]) == set(improvement.ITEMS)
    assert len(a) == 3 * 6 * len(improvement.ITEMS)


def test_space_scores_flips_reverse_coded_items() -> None:
    answers = pd.DataFrame({"team": ["t", "t"], "respondent": ["a", "a"], "item": ["S1", "S2"], "answer": [4, 1]})
    scores = improvement.space_scores(answers)
    assert scores.loc["t", "Satisfaction"] == 4.5  # S2 = 1 means "never exhausted": it scores 5
    assert list(scores.columns) == improvement.DIMENSIONS
    assert pd.isna(scores.loc["t", "Activity"])


def test_space_scores_of_the_survey_tell_the_story() -> None:
    scores = improvement.space_scores(improvement.space_survey())
    assert scores["Activity"].idxmax() == "search"
    assert scores["Satisfaction"].idxmin() == "search"
    assert scores.mean(axis=1).idxmax() == "payments"


def test_plot_space_returns_a_figure() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = improvement.plot_space(improvement.space_scores(improvement.space_survey()))
    assert len(fig.axes[0].patches) == 3 * 5
    plt.close(fig)


def test_tcp_dependency_listens_then_closes() -> None:
    with improvement.tcp_dependency() as url:
        assert url.startswith("tcp://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1])
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


@pytest.mark.parametrize(
    ("profile", "ci", "tags"),
    [("manual", False, 0), ("basic-ci", True, 1), ("trunk", True, 4), ("measured", True, 4), ("elite", True, 4)],
)
def test_team_repo_histories(profile: str, ci: bool, tags: int) -> None:
    with improvement.team_repo(profile) as repo:
        files = repo.git("ls-files").splitlines()
        assert (".github/workflows/ci.yml" in files) is ci
        assert len(repo.tags()) == tags
        assert ("flags.yaml" in files) is (profile == "elite")
        path = repo.path
    assert not path.exists()


def test_team_repo_rejects_unknown_profiles() -> None:
    with pytest.raises(ValueError, match="profile must be one of"), improvement.team_repo("devops-rockstars"):
        pass


def test_conventional_and_release_patterns() -> None:
    assert improvement.CONVENTIONAL_RE.match("feat(orders): add it")
    assert improvement.CONVENTIONAL_RE.match("fix!: breaking")
    assert not improvement.CONVENTIONAL_RE.match("Merge branch 'x'")
    assert not improvement.CONVENTIONAL_RE.match("update stuff")
    assert improvement.RELEASE_TAG_RE.match("v1.2.3")
    assert not improvement.RELEASE_TAG_RE.match("deploy-3")
