"""The four golden signals (latency, traffic, errors, saturation) and their dashboard."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

from .promql import histogram_quantile
from .scrape import parse
from .service import DURATION_METRIC

# ------------------------------------------------------------------------------------------ golden signals


def golden_signals(scrapes: Sequence[tuple[float, str]], *, q: float = 0.95) -> pd.DataFrame:
    """The four golden signals between consecutive scrapes ``(t, text)`` of the service, one row per interval.

    ``latency_p95_ms``: ``histogram_quantile(q, sum by (le) (increase of the buckets))`` of ``/api`` traffic;
    ``traffic_rps``: requests per second; ``error_ratio``: share of 5xx answers; ``saturation``: how busy the
    database pool was — ``rate(db_pool_busy_seconds_total) / db_pool_size`` (1.0 = every connection busy all
    the time; requests then queue). The same queries a Grafana panel would run, on two scrapes each (a window
    of one scrape interval). As the Prometheus docs require, each *series* is differenced first (a drop is a
    counter reset) and only then summed: summing first would hide a reset of one series behind the others.
    """
    import pandas as pd

    Key = tuple[str, tuple[tuple[str, str], ...]]

    def series(text: str) -> tuple[dict[Key, float], float]:
        values: dict[Key, float] = {}
        size = 0.0
        for family in parse(text):
            for s in family.samples:
                if s.name == "db_pool_size":
                    size = s.value
                else:
                    values[(s.name, tuple(sorted(s.labels.items())))] = s.value
        return values, size

    def increase(now: dict[Key, float], before: dict[Key, float], key: Key) -> float:
        value, previous = now[key], before.get(key, 0.0)  # a series new since the last scrape started at 0
        return value - previous if value >= previous else value

    rows = []
    parsed = [(t, series(text)) for t, text in scrapes]
    for (t0, (before, _)), (t1, (now, size)) in zip(parsed, parsed[1:], strict=False):
        dt = t1 - t0
        buckets: dict[float, float] = {}
        requests = errors = busy = 0.0
        for key in now:
            name, labels = key[0], dict(key[1])
            if name.startswith(DURATION_METRIC) and labels.get("route", "").startswith("/api"):
                if name == DURATION_METRIC + "_bucket":
                    le = float(labels["le"])
                    buckets[le] = buckets.get(le, 0.0) + increase(now, before, key)
                elif name == DURATION_METRIC + "_count":
                    requests += increase(now, before, key)
                    errors += increase(now, before, key) if labels["status"].startswith("5") else 0.0
            elif name == "db_pool_busy_seconds_total":
                busy += increase(now, before, key)
        rows.append(
            {
                "t": round(t1 - parsed[0][0], 3),
                "latency_p95_ms": histogram_quantile(q, buckets.items()) * 1000,
                "traffic_rps": requests / dt if dt > 0 else math.nan,
                "error_ratio": errors / requests if requests > 0 else math.nan,
                "saturation": busy / dt / size if size and dt > 0 else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=["t", "latency_p95_ms", "traffic_rps", "error_ratio", "saturation"])


def plot_golden_signals(frame: pd.DataFrame, *, events: Mapping[str, float] | None = None) -> Figure:
    """A 2×2 dashboard of :func:`golden_signals` (latency, traffic, errors, saturation); ``events`` marks
    moments (``{"error fault on": 2.0}``) with vertical lines on every panel."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 6), sharex=True)
    panels = [
        ("latency_p95_ms", "Latency — p95 (ms)", "tab:purple"),
        ("traffic_rps", "Traffic — requests/s", "tab:blue"),
        ("error_ratio", "Errors — share of 5xx", "tab:red"),
        ("saturation", "Saturation — DB pool busy", "tab:orange"),
    ]
    for ax, (column, title, color) in zip(axes.flat, panels, strict=True):
        ax.plot(frame["t"], frame[column], marker="o", markersize=3, color=color)
        ax.set_title(title)
        ax.set_ylim(bottom=0)
        for label, at in (events or {}).items():
            ax.axvline(at, color="grey", linestyle="--", linewidth=1)
            ax.text(at, ax.get_ylim()[1], " " + label, va="top", fontsize=8, color="grey")
    for ax in axes[1]:
        ax.set_xlabel("seconds since the first scrape")
    axes[1][1].set_ylim(0, 1.05)
    fig.suptitle("Golden signals of the orders service (Google SRE book, ch. 6)")
    fig.tight_layout()
    return fig
