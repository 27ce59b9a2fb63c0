"""The trunk's CI: a quick-feedback workflow and generated histories of CI runs on ``main``.

* :data:`SYLLABUS_WORKFLOW` is the course's "quick feedback vs full pipeline" workflow (valid for GitHub;
  read it with :func:`labkit.ci.load_workflow`).
* :func:`ci_history` generates a reproducible table of CI runs on ``main`` (commit, finish time, status).
* :func:`plot_timeline` draws when ``main`` was green and when it was red.

Nothing here touches the network or the file system; nothing runs at import::

    from labkit import ci, mainline
    wf = ci.load_workflow(mainline.SYLLABUS_WORKFLOW)
    runs = mainline.ci_history(runs=40, seed=8)
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "SYLLABUS_WORKFLOW",
    "STATUSES",
    "ci_history",
    "plot_timeline",
]

#: The workflow from the syllabus, plus the ``runs-on`` every GitHub job needs (the schema requires it).
SYLLABUS_WORKFLOW = """\
name: ci
on:
  push:
    branches: [main]
  pull_request:

jobs:
  quick-feedback:          # 2-3 minutes
    runs-on: ubuntu-latest
    steps:
      - run: npm run lint
      - run: npm run test:unit

  full-pipeline:           # 8-10 minutes
    needs: quick-feedback
    if: github.ref == 'refs/heads/main'
    runs-on: ubuntu-latest
    steps:
      - run: npm run test:integration
      - run: npm run test:e2e
      - run: npm run build
"""

#: The statuses :func:`ci_history` produces (GitHub's ``conclusion`` values).
STATUSES = ("success", "failure", "cancelled")

DEFAULT_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning
_WORKDAY_START = 9
_WORKDAY_END = 18


def _next_work_time(t: datetime) -> datetime:
    """``t`` if it falls in working hours (Mon-Fri 09:00-18:00 UTC), else the next 09:00 on a weekday."""
    if t.weekday() < 5 and _WORKDAY_START <= t.hour < _WORKDAY_END:
        return t
    day = t.date() if t.hour < _WORKDAY_START else t.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    minute = t.minute  # keep some variety in the minutes
    return datetime(day.year, day.month, day.day, _WORKDAY_START, minute, tzinfo=UTC)


def ci_history(
    runs: int = 60,
    *,
    seed: int = 8,
    start: datetime = DEFAULT_START,
    mean_gap_minutes: float = 50.0,
    p_break: float = 0.15,
    p_stay_red: float = 0.45,
    p_cancel: float = 0.04,
) -> Any:
    """A reproducible history of CI runs on ``main``: one row per run, oldest first.

    Columns: ``commit`` (7-hex short hash, str), ``finished_at`` (UTC ``Timestamp``), ``status`` (one of
    :data:`STATUSES`). Runs happen in working hours (Mon-Fri 09:00-18:00 UTC), so a main left red in the
    evening stays red overnight. A green main breaks with probability ``p_break``; a red one stays red with
    probability ``p_stay_red``; a few runs are ``cancelled`` (a newer push superseded them), which says
    nothing about main.
    """
    import pandas as pd

    if not isinstance(runs, int) or isinstance(runs, bool) or runs < 0:
        raise ValueError(f"runs must be a whole number >= 0, found {runs!r}")
    if start.tzinfo is None:
        raise ValueError("start must carry a time zone, e.g. datetime(2026, 3, 2, 9, tzinfo=UTC)")
    for name, p in (("p_break", p_break), ("p_stay_red", p_stay_red), ("p_cancel", p_cancel)):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{name} is a probability between 0 and 1, found {p!r}")
    if mean_gap_minutes <= 0:
        raise ValueError(f"mean_gap_minutes must be positive, found {mean_gap_minutes!r}")
    rng = random.Random(seed)
    t = _next_work_time(start.astimezone(UTC))
    red = False
    rows: list[dict[str, Any]] = []
    for _ in range(runs):
        gap = timedelta(seconds=round(60 * max(3.0, rng.expovariate(1.0 / mean_gap_minutes))))
        t = _next_work_time(t + gap)
        commit = f"{rng.getrandbits(28):07x}"
        if rng.random() < p_cancel:
            status = "cancelled"
        else:
            red = rng.random() < (p_stay_red if red else p_break)
            status = "failure" if red else "success"
        rows.append({"commit": commit, "finished_at": t, "status": status})
    frame = pd.DataFrame(rows, columns=["commit", "finished_at", "status"])
    frame["finished_at"] = pd.to_datetime(frame["finished_at"], utc=True)
    return frame


def plot_timeline(runs: Any, now: Any = None, ax: Any = None, title: str = "main: green or red?") -> Any:
    """Draw main's state over time: a band that turns red at a failing run and green at a passing one.

    ``runs`` has the columns of :func:`ci_history`; cancelled runs are drawn as grey ticks and change nothing.
    ``now`` (default: the last run) ends the last band. Returns the matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    missing = [c for c in ("finished_at", "status") if c not in getattr(runs, "columns", [])]
    if missing:
        raise ValueError(
            f"runs needs the columns 'finished_at' and 'status' (missing {missing}); "
            "use mainline.ci_history() for an example"
        )
    if len(runs) == 0:
        raise ValueError("runs is empty: there is nothing to draw")
    data = runs.sort_values("finished_at", kind="stable")
    times = pd.to_datetime(data["finished_at"], utc=True)
    end = times.iloc[-1] if now is None else pd.Timestamp(now).tz_convert("UTC")
    if end < times.iloc[-1]:
        raise ValueError(f"now ({end}) is before the last run ({times.iloc[-1]}): pass a later time or None")
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 2.6))
    decisive = [(t, s) for t, s in zip(times, data["status"], strict=True) if s in ("success", "failure")]
    for i, (t, status) in enumerate(decisive):
        t_next = decisive[i + 1][0] if i + 1 < len(decisive) else end
        color = "tab:red" if status == "failure" else "tab:green"
        ax.axvspan(t, t_next, ymin=0.25, ymax=0.75, color=color, alpha=0.35, linewidth=0)
    colors = {"success": "tab:green", "failure": "tab:red", "cancelled": "grey"}
    for status, color in colors.items():
        picked = times[(data["status"] == status).to_numpy()]
        if len(picked):
            label = f"{status} ({len(picked)})"
            ax.scatter(picked, [0.5] * len(picked), color=color, s=18, zorder=3, label=label)
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    ax.figure.autofmt_xdate()
    return ax
