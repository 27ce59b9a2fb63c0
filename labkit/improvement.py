"""Week 23 — continuous improvement: value streams, SPACE surveys, chaos experiments, maturity evidence.

The week's exercises are the student's to write; this module holds what the worked examples need so that they
run even in the blank notebook: duration parsing with an explicit working-day length, the reference SPACE
scoring and its plot, a fake dependency to take down, and scratch repositories whose history is the evidence
for a maturity assessment.

::

    from labkit import improvement
    improvement.to_minutes("2d", hours_per_day=8)        # 960.0 — a "day" is what your team means by one
    improvement.flow_efficiency(39, 2.5 * 24 * 60)       # 1.0833... (%) — the syllabus's 1.1 %
    frame = improvement.space_survey()                   # long-format Likert answers of three teams
    with improvement.team_repo("elite") as repo: ...     # a labkit.git scratch repo with CI, tests, tags, flags
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from labkit import git

__all__ = [
    "CONVENTIONAL_RE",
    "DIMENSIONS",
    "ITEMS",
    "LIKERT_MAX",
    "LIKERT_MIN",
    "PROFILES",
    "RELEASE_TAG_RE",
    "flow_efficiency",
    "plot_space",
    "space_scores",
    "space_survey",
    "tcp_dependency",
    "team_repo",
    "to_minutes",
]

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d)\s*$")


def to_minutes(duration: str, hours_per_day: float = 24.0) -> float:
    """``"10m"``, ``"4h"`` or ``"2.5d"`` → minutes, as a ``float``.

    A value-stream map is drawn in "days", and a day is an assumption: a calendar day (24 h, the default — how
    the syllabus's 2.5 days → 1.1 % is computed) or a working day (8 h). The assumption changes flow efficiency
    threefold, so it is a parameter, never hidden.
    """
    if isinstance(duration, bool) or not isinstance(duration, str):
        raise TypeError(f"a duration is a string like '10m', '4h' or '2d'; got {duration!r}.")
    if not hours_per_day > 0:
        raise ValueError(
            f"hours_per_day must be > 0 (24 for calendar days, 8 for working days); got {hours_per_day!r}."
        )
    match = _DURATION_RE.match(duration)
    if not match:
        raise ValueError(
            f"cannot read the duration {duration!r}: write a number and m, h or d, e.g. '20m', '4h', '2d'."
        )
    value, unit = float(match.group(1)), match.group(2)
    if unit in ("m", "min"):
        return value
    if unit == "h":
        return value * 60.0
    return value * hours_per_day * 60.0


def flow_efficiency(processing_minutes: float, lead_time_minutes: float) -> float:
    """Processing time as a percentage of lead time (time worked on / time elapsed), as a ``float``."""
    if not lead_time_minutes > 0:
        raise ValueError(f"lead time must be > 0 minutes; got {lead_time_minutes!r}.")
    return 100.0 * float(processing_minutes) / float(lead_time_minutes)


# --------------------------------------------------------------------------------------------------- SPACE

DIMENSIONS = ["Satisfaction", "Performance", "Activity", "Communication", "Efficiency"]
LIKERT_MIN, LIKERT_MAX = 1, 5

#: The survey's items: id → (dimension, statement, reverse-coded). A reverse-coded item is worded so that
#: agreeing is BAD; its answer must be flipped (min + max − answer) before it is averaged with the others.
ITEMS: dict[str, tuple[str, str, bool]] = {
    "S1": ("Satisfaction", "I would recommend my team as a place to work.", False),
    "S2": ("Satisfaction", "I often feel exhausted at the end of a work day.", True),
    "P1": ("Performance", "What we ship does what our users need.", False),
    "P2": ("Performance", "Changes we ship often have to be fixed or rolled back.", True),
    "A1": ("Activity", "I get a steady amount of work done and reviewed each week.", False),
    "A2": ("Activity", "I can complete the tasks I planned for the week.", False),
    "C1": ("Communication", "I get useful code review within a day.", False),
    "C2": ("Communication", "I often do not know who to ask for help.", True),
    "E1": ("Efficiency", "I can focus for long stretches without interruptions.", False),
    "E2": ("Efficiency", "I spend a lot of my time waiting (for builds, reviews, environments).", True),
}

# The "true" level of each team on each dimension (1–5) that the generated answers are drawn around.
_TEAM_PROFILES = {
    "payments": {"Satisfaction": 4.2, "Performance": 4.0, "Activity": 3.6, "Communication": 4.3, "Efficiency": 3.9},
    "search": {"Satisfaction": 2.4, "Performance": 3.4, "Activity": 4.6, "Communication": 2.6, "Efficiency": 2.2},
    "mobile": {"Satisfaction": 3.5, "Performance": 2.6, "Activity": 3.0, "Communication": 3.8, "Efficiency": 3.2},
}


def space_survey(respondents: int = 6, seed: int = 23) -> pd.DataFrame:
    """Deterministic survey answers in long format: columns ``team``, ``respondent``, ``item``, ``answer``.

    ``answer`` is the raw Likert answer (an ``int`` from 1 "strongly disagree" to 5 "strongly agree") as the
    respondent ticked it — reverse-coded items are *not* flipped yet.
    """
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for team, levels in _TEAM_PROFILES.items():
        for r in range(respondents):
            for item, (dimension, _statement, reverse) in ITEMS.items():
                level = levels[dimension] + rng.normal(0, 0.7)
                agree = LIKERT_MIN + LIKERT_MAX - level if reverse else level
                answer = int(np.clip(round(agree), LIKERT_MIN, LIKERT_MAX))
                rows.append({"team": team, "respondent": f"{team}-{r + 1}", "item": item, "answer": answer})
    return pd.DataFrame(rows)


def space_scores(answers: pd.DataFrame) -> pd.DataFrame:
    """Reference scoring: flip reverse-coded items, then the mean per team and dimension (teams as rows,
    :data:`DIMENSIONS` as columns, floats). The worked examples use it so they run in the blank notebook."""
    frame = answers.copy()
    reverse = frame["item"].map(lambda i: ITEMS[i][2])
    frame["score"] = frame["answer"].where(~reverse, LIKERT_MIN + LIKERT_MAX - frame["answer"]).astype(float)
    frame["dimension"] = frame["item"].map(lambda i: ITEMS[i][0])
    table = frame.pivot_table(index="team", columns="dimension", values="score", aggfunc="mean")
    return table.reindex(columns=DIMENSIONS).sort_index()


def plot_space(scores: pd.DataFrame, title: str = "SPACE scores per team (1 = worst, 5 = best)") -> Any:
    """A grouped bar chart: one group per dimension, one bar per team. Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.6))
    width = 0.8 / max(len(scores.index), 1)
    x = np.arange(len(scores.columns))
    for k, team in enumerate(scores.index):
        ax.bar(x + k * width, scores.loc[team].to_numpy(dtype=float), width, label=str(team))
    ax.set_xticks(x + width * (len(scores.index) - 1) / 2, [str(c) for c in scores.columns])
    ax.set_ylim(LIKERT_MIN, LIKERT_MAX)
    ax.axhline(3, color="grey", linewidth=0.8, linestyle="--")
    ax.set_ylabel("mean score")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------------- chaos


@contextmanager
def tcp_dependency() -> Iterator[str]:
    """A listening TCP socket on 127.0.0.1 standing in for a dependency (a cache, a queue): yields its
    ``tcp://127.0.0.1:<port>`` URL for ``service.run(dependencies=...)``; closed when the block ends."""
    server = socket.create_server(("127.0.0.1", 0), backlog=64)
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()


# ------------------------------------------------------------------------------------------ maturity

CONVENTIONAL_RE = re.compile(r"^(feat|fix|docs|style|refactor|perf|test|build|ci|chore|revert)(\([\w./-]+\))?!?: \S")
RELEASE_TAG_RE = re.compile(r"^v\d+\.\d+\.\d+$")

_CI = """name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: python -m pytest -q
"""
_TEST = "def test_total():\n    assert sum([1, 2]) == 3\n"
_FLAGS = "flags:\n  new-checkout:\n    enabled: false\n    rollout: 10\n"

#: Team profiles for :func:`team_repo` — what each repository's history contains.
PROFILES = ("manual", "basic-ci", "trunk", "measured", "elite")


def _history(profile: str) -> list[git.Step]:
    steps: list[git.Step] = []
    if profile == "manual":
        steps += [
            git.Commit("added stuff", files={"app.py": "print('v1')\n"}, after="2d"),
            git.Branch("big-rewrite"),
            git.Commit("wip", files={"app.py": "print('v2?')\n"}, after="3d"),
            git.Commit("more wip", after="4d"),
            git.Switch("main"),
            git.Commit("hotfix on prod", files={"app.py": "print('v1.1')\n"}, after="1d"),
        ]
        return steps
    conventional = profile != "basic-ci"
    steps.append(
        git.Commit(
            "ci: run the tests on every push" if conventional else "add CI",
            files={".github/workflows/ci.yml": _CI, "tests/test_app.py": _TEST},
            after="1h",
        )
    )
    if profile == "basic-ci":
        steps += [
            git.Branch("feature/reports"),
            git.Commit("reports page", after="2d"),
            git.Commit("fix reports", after="3d"),
            git.Switch("main"),
            git.Commit("update readme", after="1d"),
            git.Tag("v1.0.0", after="1h"),
        ]
        return steps
    gap = {"trunk": "12d", "measured": "2d", "elite": "4h"}[profile]
    for k in range(1, 5):
        steps += [
            git.Commit(f"feat(orders): step {k} of the new order flow", after=gap),
            git.Commit(f"test(orders): cover step {k}", files={f"tests/test_step{k}.py": _TEST}, after="30m"),
            git.Tag(f"v1.{k}.0", after="10m"),
        ]
    if profile == "trunk":
        steps.append(git.Commit("update stuff", after="1h"))  # one stray message keeps the share below 100 %
    if profile == "elite":
        steps.append(git.Commit("feat(flags): new checkout behind a flag", files={"flags.yaml": _FLAGS}, after="1h"))
    return steps


@contextmanager
def team_repo(profile: str) -> Iterator[git.ScratchRepo]:
    """A :func:`labkit.git.scratch_repo` whose real history is the evidence of a team's practices.

    ``profile`` is one of :data:`PROFILES`: ``manual`` (no CI, no tests, a long-lived branch, free-form
    messages), ``basic-ci`` (a workflow and a test, one tag, a feature branch), ``trunk`` (Conventional Commits,
    release tags every ~12 days), ``measured`` (releases every ~2 days), ``elite`` (releases every few hours and
    a feature-flag file). The repository is removed when the block ends.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}; got {profile!r}.")
    with git.scratch_repo(_history(profile)) as repo:
        yield repo
