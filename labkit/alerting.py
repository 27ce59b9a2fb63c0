"""Alerting as data: Prometheus alert rules, their ``for:`` clause, and SLO burn-rate alerts.

::

    from labkit import alerting
    rules = alerting.load_rules(alerting.SYLLABUS_RULES)      # [{'alert': 'HighErrorRate', 'for_s': 120.0, ...}]
    series = alerting.syllabus_series()                       # what the two expressions return every 15 s
    traffic = alerting.incident_traffic()                     # 5 days of requests/errors per minute
    alerting.WORKBOOK_RULES                                   # 14.4 (1h/5m), 6 (6h/30m), 1 (3d/6h)

Nothing here runs Prometheus: the rule files are real Prometheus YAML (``load_rules`` checks the fields
Prometheus requires), and the time series are synthetic — seeded, so every run and every student sees the same
incident. :func:`scrape` reads a real ``/metrics`` page (e.g. :mod:`labkit.service`'s) with the Prometheus
client's own parser, and :func:`histogram_quantile` is Prometheus's interpolation of a quantile inside a
histogram bucket, so the worked example can compute the syllabus's expressions from a live service.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = [
    "EVALUATION_INTERVAL_S",
    "SYLLABUS_RULES",
    "WORKBOOK_RULES",
    "AlertingError",
    "alert_timing",
    "histogram_quantile",
    "incident_traffic",
    "load_rules",
    "parse_duration",
    "plot_alert_states",
    "plot_burn_rates",
    "scrape",
    "syllabus_series",
]

#: The syllabus's rules, exactly as printed (``histogram_quantile`` over a raw histogram is one of its bugs).
SYLLABUS_RULES = """\
groups:
- name: backend-alerts
  rules:
  - alert: HighErrorRate
    expr: rate(http_requests_total{status=~"5.."}[5m]) > 0.1
    for: 2m
    annotations:
      summary: "High error rate detected"

  - alert: HighLatency
    expr: histogram_quantile(0.95, http_request_duration_seconds) > 0.5
    for: 5m
"""

#: How often the worked examples evaluate rules (a common ``evaluation_interval``; Prometheus's default is 1m).
EVALUATION_INTERVAL_S = 15

#: The Site Reliability Workbook's recommended multiwindow, multi-burn-rate alerts for a 99.9 % SLO
#: (chapter "Alerting on SLOs", table "Recommended parameters for a 99.9% SLO alerting configuration").
WORKBOOK_RULES: list[dict[str, Any]] = [
    {"severity": "page", "long_min": 60, "short_min": 5, "factor": 14.4, "budget_consumed": 0.02},
    {"severity": "page", "long_min": 360, "short_min": 30, "factor": 6.0, "budget_consumed": 0.05},
    {"severity": "ticket", "long_min": 4320, "short_min": 360, "factor": 1.0, "budget_consumed": 0.10},
]

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?")


class AlertingError(ValueError):
    """A rule file or a series is not what Prometheus would accept; the message says what to fix."""


def parse_duration(text: str) -> float:
    """A Prometheus duration (``"2m"``, ``"1h30m"``, ``"500ms"``, ``"0s"``) in seconds.

    Units must come in Prometheus's order, largest first (y, w, d, h, m, s, ms), each at most once.
    """
    if not isinstance(text, str) or not text:
        raise AlertingError(f"a duration is a string like '2m' or '1h30m'; got {text!r}.")
    match = _DURATION.fullmatch(text)
    if match is None or not any(match.groups()):
        raise AlertingError(
            f"{text!r} is not a Prometheus duration: use a number and a unit (ms, s, m, h, d, w, y), "
            "largest unit first, e.g. '2m', '90s', '1h30m'."
        )
    units = ("y", "w", "d", "h", "m", "s", "ms")
    return float(sum(int(n) * _UNITS[u] for n, u in zip(match.groups(), units, strict=True) if n))


def load_rules(text: str) -> list[dict[str, Any]]:
    """Read a Prometheus rule file (YAML) into one dict per alerting rule.

    Each dict has ``group``, ``alert``, ``expr``, ``for_s`` (seconds; 0.0 when ``for:`` is absent),
    ``keep_firing_for_s``, ``labels`` and ``annotations``. Recording rules (``record:``) are skipped.
    """
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise AlertingError(f"the rule file is not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
        raise AlertingError("a rule file has a top-level 'groups:' list (groups: - name: ... rules: [...]).")
    out: list[dict[str, Any]] = []
    for g, group in enumerate(doc["groups"]):
        if not isinstance(group, dict) or not group.get("name") or not isinstance(group.get("rules"), list):
            raise AlertingError(f"groups[{g}] needs a 'name' and a 'rules' list; got {group!r}.")
        for r, rule in enumerate(group["rules"]):
            where = f"group {group['name']!r}, rules[{r}]"
            if not isinstance(rule, dict):
                raise AlertingError(f"{where} must be a mapping; got {rule!r}.")
            if "record" in rule:
                continue
            if not rule.get("alert") or not rule.get("expr"):
                raise AlertingError(f"{where} needs both 'alert:' (a name) and 'expr:' (a PromQL expression).")
            out.append(
                {
                    "group": str(group["name"]),
                    "alert": str(rule["alert"]),
                    "expr": str(rule["expr"]),
                    "for_s": parse_duration(str(rule.get("for", "0s"))),
                    "keep_firing_for_s": parse_duration(str(rule.get("keep_firing_for", "0s"))),
                    "labels": dict(rule.get("labels") or {}),
                    "annotations": dict(rule.get("annotations") or {}),
                }
            )
    return out


# ----------------------------------------------------------------------------------------- series to evaluate


def syllabus_series(*, minutes: int = 40, step_s: int = EVALUATION_INTERVAL_S, seed: int = 17) -> pd.DataFrame:
    """What the syllabus's two expressions return at every evaluation over ``minutes`` of a bad afternoon.

    Columns: ``t_s`` (seconds), ``error_rate`` (5xx responses per second, as ``rate(...[5m])`` returns) and
    ``p95_s`` (the 95th percentile latency in seconds). Scripted events: a 75-second burst of errors (shorter
    than ``for: 2m``), a 6-minute error incident, a 3-minute latency spike (shorter than ``for: 5m``) and an
    8-minute one; ``NaN`` rows are evaluations where the expression returned nothing (a failed scrape).
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    t = np.arange(0, minutes * 60, step_s, dtype=float)
    err = 0.02 + 0.01 * rng.random(len(t))
    p95 = 0.18 + 0.05 * rng.random(len(t))

    def during(a_min: float, b_min: float) -> Any:
        return (t >= a_min * 60) & (t < b_min * 60)

    err[during(4, 5.25)] = 0.35
    err[during(10, 16)] = 0.4 + 0.1 * rng.random(int(during(10, 16).sum()))
    p95[during(20, 23)] = 0.8
    p95[during(27, 35)] = 0.9 + 0.2 * rng.random(int(during(27, 35).sum()))
    err[during(13, 13.25)] = np.nan  # one failed scrape in the middle of the incident
    return pd.DataFrame({"t_s": t, "error_rate": err, "p95_s": p95})


def incident_traffic(*, days: int = 5, seed: int = 17) -> pd.DataFrame:
    """Requests and errors per minute for ``days`` days of a service with a 99.9 % SLO, and two incidents.

    Columns: ``minute`` (0, 1, ...), ``requests``, ``errors`` (ints) and ``incident`` (``""`` outside them).
    Traffic follows a daily cycle (about 600 to 1400 requests a minute); errors are drawn from a binomial
    distribution with a background error ratio of 0.02 %. The incidents:

    - ``"fast burn"``: 1 h at a 10 % error ratio (a burn rate of 100), starting at day 3 + 1 h;
    - ``"slow burn"``: 10 h at a 0.4 % error ratio (a burn rate of 4), starting at day 3 + 18 h.
    """
    import numpy as np
    import pandas as pd

    if days < 4:
        raise AlertingError(f"days must be at least 4 (the 3-day window needs history); got {days!r}.")
    rng = np.random.default_rng(seed)
    minute = np.arange(days * 1440)
    requests = rng.poisson(1000 + 400 * np.sin(2 * np.pi * (minute - 360) / 1440)).astype(np.int64)
    ratio = np.full(len(minute), 0.0002)
    incident = np.full(len(minute), "", dtype=object)
    for label, start, length, share in (("fast burn", 3 * 1440 + 60, 60, 0.10),
                                        ("slow burn", 3 * 1440 + 18 * 60, 600, 0.004)):  # fmt: skip
        ratio[start : start + length] = share
        incident[start : start + length] = label
    errors = rng.binomial(requests, ratio).astype(np.int64)
    return pd.DataFrame({"minute": minute, "requests": requests, "errors": errors, "incident": incident})


def alert_timing(firing: Sequence[bool], start: int, end: int) -> dict[str, float]:
    """Detection and reset time of an alert for one incident in a per-minute series.

    ``start``/``end`` are the incident's first and one-past-last minute. ``detect_min`` = minutes from ``start``
    to the first firing minute at or after it (``nan`` if it never fires); ``reset_min`` = minutes from ``end``
    until the alert stops firing (``0.0`` if it is not firing at ``end``; ``nan`` if still firing at the end of
    the series).
    """
    values = [bool(v) for v in firing]
    detect = next((i - start for i in range(start, len(values)) if values[i]), math.nan)
    if math.isnan(detect):
        return {"detect_min": math.nan, "reset_min": math.nan}
    reset = next((i - end for i in range(end, len(values)) if not values[i]), math.nan)
    return {"detect_min": float(detect), "reset_min": float(reset)}


# ------------------------------------------------------------------------------------ a real /metrics page


def scrape(url: str, *, timeout: float = 5.0) -> list[tuple[str, dict[str, str], float]]:
    """``GET`` a Prometheus ``/metrics`` page and parse it with ``prometheus_client.parser``.

    Returns one ``(sample name, labels, value)`` per sample, e.g.
    ``("http_requests_total", {"method": "GET", "path": "/api/orders", "status": "500"}, 12.0)``.
    """
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    resp = httpx.get(url, timeout=timeout)
    resp.raise_for_status()
    return [
        (s.name, dict(s.labels), float(s.value))
        for family in text_string_to_metric_families(resp.text)
        for s in family.samples
    ]


def histogram_quantile(q: float, buckets: Mapping[float, float]) -> float:
    """Prometheus's ``histogram_quantile``: the ``q``-quantile from cumulative bucket counts ``{le: count}``.

    As Prometheus does: find the bucket where the rank ``q * total`` falls and interpolate linearly inside it
    (the lowest bucket from 0); a quantile in the ``+Inf`` bucket returns the upper bound of the last finite
    bucket. Returns ``nan`` for an empty histogram.
    """
    if not 0 <= q <= 1:
        raise AlertingError(f"q must be between 0 and 1 (0.95 for p95); got {q!r}.")
    bounds = sorted(buckets)
    if not bounds or bounds[-1] != math.inf:
        raise AlertingError("a histogram needs a +Inf bucket (le='+Inf'): it holds the total count.")
    total = float(buckets[math.inf])
    if total == 0:
        return math.nan
    rank = q * total
    lower, below = 0.0, 0.0
    for le in bounds:
        count = float(buckets[le])
        if count >= rank:
            if le == math.inf:
                return bounds[-2] if len(bounds) > 1 else math.nan
            if count == below:
                return le
            return lower + (le - lower) * (rank - below) / (count - below)
        lower, below = le, count
    return math.nan  # pragma: no cover - the +Inf bucket always holds the rank


# ------------------------------------------------------------------------------------------------- plotting

_STATE_COLOURS = {"inactive": "#dddddd", "pending": "#f5b700", "firing": "#d1342f", "resolved": "#2e8b57"}


def plot_alert_states(
    t_s: Sequence[float],
    values: Sequence[float],
    states: Sequence[str],
    *,
    threshold: float,
    title: str,
    unit: str = "",
    ax: Axes | None = None,
) -> Axes:
    """The expression's value over time with the threshold, and a strip coloured by the alert's state."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    if not len(t_s) == len(values) == len(states):
        raise AlertingError(f"t_s, values and states need the same length; got {len(t_s)}, {len(values)}, "
                            f"{len(states)}.")  # fmt: skip
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3))
    minutes = [t / 60 for t in t_s]
    ax.plot(minutes, values, color="black", lw=1.2, label="expression value")
    ax.axhline(threshold, color="#d1342f", ls="--", lw=1, label=f"threshold {threshold:g}{unit}")
    step = (minutes[1] - minutes[0]) if len(minutes) > 1 else 0.25
    top = max([v for v in values if not math.isnan(v)] + [threshold]) * 1.15
    for m, state in zip(minutes, states, strict=True):
        ax.axvspan(m, m + step, ymin=0, ymax=0.06, color=_STATE_COLOURS.get(state, "white"), lw=0)
    ax.set_ylim(0, top)
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in _STATE_COLOURS.values()]
    first = ax.legend(loc="upper left", fontsize=8)
    ax.add_artist(first)
    ax.legend(handles, list(_STATE_COLOURS), loc="upper right", fontsize=8, title="state (bottom strip)")
    ax.set_xlabel("minutes")
    ax.set_title(title)
    return ax


def plot_burn_rates(
    minutes: Sequence[float],
    burn: Mapping[str, Sequence[float]],
    *,
    factors: Mapping[str, float],
    firing: Mapping[str, Sequence[bool]],
    incidents: Sequence[tuple[str, int, int]] = (),
    title: str = "Burn rate of the error budget",
) -> Axes:
    """Burn rate per window (log scale) with each rule's factor, and below it when each alert fires.

    ``burn`` maps a window label (``"1h"``) to its burn rate per minute; ``factors`` maps the same labels to
    the threshold drawn for them; ``firing`` maps an alert label to a per-minute bool; ``incidents`` are
    ``(label, start, end)`` minute ranges shaded in the background.
    """
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 5.5), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1.2]})  # fmt: skip
    hours = [m / 60 for m in minutes]
    floor = 0.05  # a minute without errors has a burn rate of 0: drawn at the floor of the log scale
    for i, (label, values) in enumerate(burn.items()):
        colour = plt.get_cmap("tab10")(i % 10)
        short = i == 0 and len(burn) > 1  # the shortest window is the noisiest: draw it lightly
        top.plot(hours, [max(float(v), floor) for v in values], lw=0.6 if short else 1.3, alpha=0.45 if short else 1,
                 color=colour, label=f"burn rate over {label}")  # fmt: skip
        if label in factors:
            top.axhline(factors[label], color=colour, ls=":", lw=1.2)
    top.set_yscale("log")
    top.set_ylim(floor, None)
    top.set_ylabel("burn rate (1 = budget lasts the SLO period)")
    top.set_title(title)
    top.legend(fontsize=8, ncol=3, loc="upper left")
    for label, start, end in incidents:
        for ax in (top, bottom):
            ax.axvspan(start / 60, end / 60, color="#f5b700", alpha=0.25, lw=0)
        top.text(start / 60, top.get_ylim()[1], label, fontsize=8, va="top")
    names = list(firing)
    for y, name in enumerate(names):
        on = [bool(v) for v in firing[name]]
        xs = [h for h, f in zip(hours, on, strict=True) if f]
        bottom.scatter(xs, [y] * len(xs), marker="|", s=60, color="#d1342f")
    bottom.set_yticks(range(len(names)), names, fontsize=8)
    bottom.set_ylim(-0.6, len(names) - 0.4)
    bottom.set_xlabel("hours")
    bottom.set_title("when each alert fires", fontsize=9)
    fig.tight_layout()
    return top
