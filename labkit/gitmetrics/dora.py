"""The DORA metrics from deployments: frequency, change fail rate, recovery time, rework rate, tiers, report."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .gitio import UTC_NS, RepoLike, repo_path, run_git
from .graph import Released, lead_frame, release_graph
from .tags import release_tags

# ----------------------------------------------------------------------------------------------------------
# deployments, failures and remediation
# ----------------------------------------------------------------------------------------------------------
DEPLOYMENT_COLUMNS: tuple[str, ...] = (
    "tag",
    "sha",
    "deployed_at",
    "changes",
    "median_lead_time",
    "remediation",
    "failed",
    "remediated_by",
    "recovered_at",
    "recovery_time",
)
_REVERT_BODY = "This reverts commit"


def _remediating_rows(path: Path, rel: Released) -> np.ndarray:
    """Per graph row: does this commit remediate (revert or hotfix) in the deployment that first ships it?"""
    n = len(rel.shas)
    remediates = np.zeros(n, dtype=bool)
    if n == 0 or len(rel.tags) == 0:
        return remediates
    # one walk over every released commit; git's grep finds the candidates, the exact rule is applied below
    fmt = "--format=%x1e%H%x00%s%x00%b"
    args = [
        "log",
        "--no-color",
        fmt,
        "--regexp-ignore-case",
        "--fixed-strings",
        "--grep=Revert",
        f"--grep={_REVERT_BODY}",
        "--grep=hotfix",
        "--stdin",
        "--",
    ]
    out = run_git(path, args, input="\n".join(rel.tags["sha"].tolist()) + "\n").stdout
    owner = rel.owner
    records = [(record.split("\x00", 2) + ["", ""])[:3] for record in out.split("\x1e")[1:]]
    found = rel.rows([r[0] for r in records]).tolist()
    for (_, subject, body), row in zip(records, found, strict=True):
        if row < 0 or owner[row] < 0:
            continue
        merge = rel.second[row] >= 0 or row in rel.more
        low = subject.lower()
        if subject.startswith('Revert "') or _REVERT_BODY in body or not merge and "hotfix" in low:
            remediates[row] = True
        elif merge and "hotfix/" in low:
            # a merge of a hotfix/ branch counts when the branch it merges ships for the first time with it
            # (the later merge-back of an already released hotfix into develop remediates nothing)
            tip = rel.second[row]
            remediates[row] = tip < 0 or bool(owner[tip] == owner[row])
    return remediates


def _deployments_from(path: Path, rel: Released, lead: pd.DataFrame) -> pd.DataFrame:
    tags = rel.tags
    n = len(tags)
    owner = rel.owner
    shipped = owner >= 0
    changes = np.bincount(owner[shipped], minlength=n).astype(np.int64) if n else np.zeros(0, np.int64)
    remediating = _remediating_rows(path, rel)
    remediation = np.zeros(n, dtype=bool)
    if n:
        remediation[np.unique(owner[shipped & remediating])] = True
    median_lead = (
        lead.loc[shipped]
        .assign(owner=owner[shipped])
        .groupby("owner")["lead_time"]
        .median()
        .reindex(range(n))
        .to_numpy(dtype="timedelta64[ns]")
    )
    failed = np.zeros(n, dtype=bool)
    failed[:-1] = remediation[1:]
    next_tag = tags["tag"].shift(-1)
    next_time = tags["deployed_at"].shift(-1)
    frame = pd.DataFrame(
        {
            "tag": tags["tag"].astype("str"),
            "sha": tags["sha"].astype("str"),
            "deployed_at": tags["deployed_at"],
            "changes": changes,
            "median_lead_time": pd.Series(median_lead, dtype="timedelta64[ns]"),
            "remediation": remediation,
            "failed": failed,
            "remediated_by": next_tag.where(failed).astype("str"),
            "recovered_at": next_time.where(failed).astype(UTC_NS),
        }
    )
    frame["recovery_time"] = (frame["recovered_at"] - frame["deployed_at"]).astype("timedelta64[ns]")
    return frame


def deployments(repo: RepoLike, pattern: str | None = "v*", rev: str = "HEAD") -> pd.DataFrame:
    """One row per deployment (release tag, by ``deployed_at``), with what it shipped and whether it failed.

    Columns: ``tag``, ``sha``, ``deployed_at`` (as in :func:`release_tags`); ``changes`` (int64: commits this
    deployment shipped first, see :func:`lead_times`); ``median_lead_time``; ``remediation`` (bool);
    ``failed`` (bool); ``remediated_by`` (the next tag, for a failed deployment); ``recovered_at`` and
    ``recovery_time`` (the next deployment's time and the gap, for a failed deployment).

    The rule, precisely:

    * A commit **remediates** when it is a revert (subject starts with ``Revert "`` or the message
      contains ``This reverts commit``), a non-merge commit with ``hotfix`` anywhere in its subject (any
      case, e.g. ``fix: hotfix after v1.2.0``), or a merge of a ``hotfix/…`` branch whose merged commits
      ship for the first time in the same deployment (so every commit on a ``hotfix/`` branch counts, while
      the later merge-back of an already released hotfix into ``develop`` does not).
    * A deployment is a **remediation** when any commit it ships first remediates (a tag placed directly on a
      revert commit is one).
    * A deployment **failed** when the NEXT deployment (by ``deployed_at``) is a remediation; it recovered at
      that next deployment. The last deployment cannot be known to have failed yet.

    >>> from labkit import git
    >>> steps = [git.Commit("feat: a"), git.Tag("v1.0.0"), git.Revert(), git.Tag("v1.0.1", after="45m")]
    >>> with git.scratch_repo(steps) as repo:
    ...     d = deployments(repo.path)
    >>> d[["tag", "failed", "remediation"]].values.tolist()
    [['v1.0.0', True, False], ['v1.0.1', False, True]]
    >>> str(d.loc[0, "recovery_time"])
    '0 days 01:05:00'
    """
    path = repo_path(repo)
    rel = release_graph(path, pattern, rev)
    return _deployments_from(path, rel, lead_frame(rel))


def _as_deployments(source: Any, pattern: str | None, rev: str) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        missing = [
            c for c in ("tag", "deployed_at", "remediation", "failed", "recovery_time") if c not in source.columns
        ]
        if missing:
            raise ValueError(
                f"expected the frame returned by gitmetrics.deployments(repo), found one without {missing}: "
                "call deployments(repo) first, or pass the repository path itself"
            )
        return source
    return deployments(source, pattern, rev)


def _window(frame: pd.DataFrame, since: Any, until: Any) -> pd.DataFrame:
    start, end = _timestamp(since, "since"), _timestamp(until, "until")
    keep = pd.Series(True, index=frame.index)
    if start is not None:
        keep &= frame["deployed_at"] >= start
    if end is not None:
        keep &= frame["deployed_at"] < end
    return frame.loc[keep]


def _timestamp(value: Any, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} is not a date: use e.g. '2026-01-05' or a datetime") from None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def deployment_frequency(deploys: Any, period: str = "W") -> pd.Series:
    """Deployments per calendar period (UTC), zero-filled from the first deployment's period to the last's.

    ``deploys`` is a frame with a ``deployed_at`` column (:func:`release_tags`, :func:`deployments`), a
    sequence of timestamps, or a repository path (its ``v*`` tags). ``period`` is a pandas period alias:
    ``"D"``, ``"W"`` (weeks ending on Sunday), ``"M"``, ... The result is an int64 Series named
    ``deployments`` on a ``PeriodIndex`` named ``period``.

    >>> times = pd.to_datetime(["2026-01-05", "2026-01-06", "2026-01-21"], utc=True)
    >>> deployment_frequency(times).tolist()
    [2, 0, 1]
    """
    if isinstance(deploys, pd.DataFrame):
        if "deployed_at" not in deploys.columns:
            raise ValueError(
                "expected a frame with a 'deployed_at' column (from release_tags or "
                f"deployments), found columns {list(deploys.columns)}"
            )
        times = deploys["deployed_at"]
    elif isinstance(deploys, (str, os.PathLike)) or hasattr(deploys, "path"):
        times = release_tags(deploys)["deployed_at"]
    else:
        times = pd.Series(deploys)
    times = pd.to_datetime(pd.Series(times), utc=True)
    naive = times.dt.tz_convert("UTC").dt.tz_localize(None)
    try:
        periods = naive.dt.to_period(period)
        freq = pd.PeriodIndex([], freq=period).freq
    except (ValueError, TypeError) as err:
        raise ValueError(f"period={period!r} is not a pandas period alias: use 'D', 'W' or 'M' ({err})") from None
    if len(periods) == 0:
        empty = pd.PeriodIndex([], freq=freq, name="period")
        return pd.Series([], index=empty, dtype="int64", name="deployments")
    index = pd.period_range(periods.min(), periods.max(), freq=freq, name="period")
    counts = periods.value_counts().reindex(index, fill_value=0).astype("int64")
    counts.name = "deployments"
    return counts


def change_fail_rate(
    source: Any, pattern: str | None = "v*", rev: str = "HEAD", *, since: Any = None, until: Any = None
) -> float:
    """Share of deployments that failed (0.0–1.0; NaN without any). See :func:`deployments` for the rule.

    ``source`` is a repository path or the frame from :func:`deployments`; ``since``/``until`` keep the
    deployments with ``since <= deployed_at < until``.
    """
    frame = _window(_as_deployments(source, pattern, rev), since, until)
    return float(frame["failed"].mean()) if len(frame) else float("nan")


def failed_deployment_recovery_time(
    source: Any, pattern: str | None = "v*", rev: str = "HEAD", *, since: Any = None, until: Any = None
) -> pd.DataFrame:
    """One row per failed deployment: from it to the deployment that remediated it.

    Columns: ``tag``, ``deployed_at``, ``remediated_by``, ``recovered_at``, ``recovery_time``. The DORA value
    is the median: ``failed_deployment_recovery_time(repo)["recovery_time"].median()`` (as :func:`dora`).
    """
    frame = _window(_as_deployments(source, pattern, rev), since, until)
    cols = ["tag", "deployed_at", "remediated_by", "recovered_at", "recovery_time"]
    return frame.loc[frame["failed"], cols].reset_index(drop=True)


def deployment_rework_rate(
    source: Any, pattern: str | None = "v*", rev: str = "HEAD", *, since: Any = None, until: Any = None
) -> float:
    """DORA 2024's rework rate: the share of deployments that were unplanned, made to remediate a failure.

    Here: remediation deployments (see :func:`deployments`) / all deployments (NaN without deployments).
    """
    frame = _window(_as_deployments(source, pattern, rev), since, until)
    return float(frame["remediation"].mean()) if len(frame) else float("nan")


# ----------------------------------------------------------------------------------------------------------
# performance tiers (2023 State of DevOps report) and the report
# ----------------------------------------------------------------------------------------------------------
TIER_NAMES: tuple[str, ...] = ("elite", "high", "medium", "low")

THRESHOLDS_2023: dict[str, dict[str, Any]] = {
    # deployments per day: on demand (several a day) / daily–weekly / weekly–monthly / less often
    "deployment_frequency": {"elite": 1.0, "high": 1 / 7, "medium": 1 / 30},
    "change_lead_time": {"elite": pd.Timedelta(days=1), "high": pd.Timedelta(weeks=1), "medium": pd.Timedelta(days=30)},
    "change_fail_rate": {"elite": 0.05, "high": 0.10, "medium": 0.15},
    "failed_deployment_recovery_time": {
        "elite": pd.Timedelta(hours=1),
        "high": pd.Timedelta(days=1),
        "medium": pd.Timedelta(weeks=1),
    },
}
"""Tier bounds derived from the software delivery performance clusters of the Accelerate State of DevOps
Report 2023 (DORA / Google Cloud, chapter "How do you compare?"; the share of respondents in brackets):

=====================  ==================  =================  =================  =================
metric                 elite (18%)         high (31%)         medium (33%)       low (17%)
=====================  ==================  =================  =================  =================
deployment frequency   on demand           daily – weekly     weekly – monthly   weekly – monthly
change lead time       < one day           1 day – 1 week     1 week – 1 month   1 week – 1 month
change failure rate    5%                  10%                15%                64%
failed deployment      < one hour          < one day          1 day – 1 week     1 – 6 months
recovery time
=====================  ==================  =================  =================  =================

The clusters are survey answers, not cut-offs, and low overlaps medium on the throughput metrics, so the rule
used here is: elite when deploying at least once a day, with lead time under a day, failure rate at most 5%,
recovery under an hour; high at least weekly / under a week / at most 10% / under a day; medium at least every
30 days / within 30 days / at most 15% / within a week; low otherwise.
"""

_UNITS_HELP = {
    "deployment_frequency": "deployments per day as a float (e.g. 0.5 = every other day)",
    "change_lead_time": "a timedelta (e.g. pd.Timedelta(hours=20))",
    "change_fail_rate": "a fraction between 0 and 1 (e.g. 0.12 for 12%)",
    "failed_deployment_recovery_time": "a timedelta (e.g. pd.Timedelta(minutes=45))",
}


def tier(metric: str, value: Any) -> str:  # noqa: C901 - the DORA 2023 tier table, one branch per metric
    """The 2023 DORA performance tier ("elite", "high", "medium" or "low") of one metric's value.

    ``metric`` is one of ``deployment_frequency`` (deployments per day), ``change_lead_time`` (a timedelta),
    ``change_fail_rate`` (a fraction 0–1) or ``failed_deployment_recovery_time`` (a timedelta); bounds in
    :data:`THRESHOLDS_2023`. Deployment rework rate (DORA 2024) has no published tiers.

    >>> tier("change_lead_time", pd.Timedelta(hours=20)), tier("deployment_frequency", 0.5)
    ('elite', 'high')
    >>> tier("change_fail_rate", 0.12), tier("failed_deployment_recovery_time", pd.Timedelta(days=40))
    ('medium', 'low')
    """
    if metric == "deployment_rework_rate":
        raise ValueError(
            "deployment_rework_rate has no performance tiers in the 2023 report: compare it "
            "over time instead (tiers exist for: " + ", ".join(THRESHOLDS_2023) + ")"
        )
    if metric not in THRESHOLDS_2023:
        raise ValueError(f"unknown metric {metric!r}: expected one of {', '.join(THRESHOLDS_2023)}")
    bounds = THRESHOLDS_2023[metric]
    if metric in ("change_lead_time", "failed_deployment_recovery_time"):
        number = isinstance(value, (bool, int, float, np.integer, np.floating))
        if number and not isinstance(value, np.timedelta64) and not pd.isna(value):
            raise TypeError(f"{metric} expects {_UNITS_HELP[metric]}, found the number {value!r}")
        try:
            v = pd.Timedelta(value)
        except (TypeError, ValueError):
            raise TypeError(f"{metric} expects {_UNITS_HELP[metric]}, found {value!r}") from None
        if pd.isna(v):
            raise ValueError(f"{metric} has no value (NaT): nothing was measured, so there is no tier")
        if v < pd.Timedelta(0):
            raise ValueError(f"{metric} cannot be negative, found {v}")
        if metric == "change_lead_time":
            return (
                "elite"
                if v < bounds["elite"]
                else "high"
                if v <= bounds["high"]
                else "medium"
                if v <= bounds["medium"]
                else "low"
            )
        return (
            "elite"
            if v < bounds["elite"]
            else "high"
            if v < bounds["high"]
            else "medium"
            if v <= bounds["medium"]
            else "low"
        )
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{metric} expects {_UNITS_HELP[metric]}, found {type(value).__name__} {value!r}")
    x = float(value)
    if np.isnan(x):
        raise ValueError(f"{metric} has no value (NaN): nothing was measured, so there is no tier")
    if x < 0 or (metric == "change_fail_rate" and x > 1):
        raise ValueError(f"{metric} expects {_UNITS_HELP[metric]}, found {value!r}")
    if metric == "deployment_frequency":
        return (
            "elite"
            if x >= bounds["elite"]
            else "high"
            if x >= bounds["high"]
            else "medium"
            if x >= bounds["medium"]
            else "low"
        )
    return (
        "elite"
        if x <= bounds["elite"]
        else "high"
        if x <= bounds["high"]
        else "medium"
        if x <= bounds["medium"]
        else "low"
    )


@dataclass(frozen=True)
class DoraReport:
    """DORA's software delivery metrics for one repository and time window (see :func:`dora`)."""

    deployments: int
    window_days: float
    deployment_frequency: float  # deployments per day
    change_lead_time: pd.Timedelta  # median over the commits shipped in the window (NaT if none)
    change_fail_rate: float  # failed deployments / deployments (NaN if none)
    failed_deployment_recovery_time: pd.Timedelta  # median over failed deployments (NaT if none failed)
    deployment_rework_rate: float  # remediation deployments / deployments (NaN if none)
    tiers: dict[str, str | None]
    overall: str
    since: pd.Timestamp | None = None
    until: pd.Timestamp | None = None

    def as_frame(self) -> pd.DataFrame:
        """One row per metric: ``value`` (as computed), ``shown`` (for people) and ``tier``."""
        rows = []
        for metric in (
            "deployment_frequency",
            "change_lead_time",
            "change_fail_rate",
            "failed_deployment_recovery_time",
            "deployment_rework_rate",
        ):
            value = getattr(self, metric)
            rows.append(
                {"metric": metric, "value": value, "shown": _shown(metric, value), "tier": self.tiers.get(metric)}
            )
        rows.append({"metric": "overall", "value": None, "shown": self.overall, "tier": self.overall})
        return pd.DataFrame(rows).set_index("metric")


def _shown(metric: str, value: Any) -> str:
    if pd.isna(value):
        return "n/a"
    if metric == "deployment_frequency":
        return f"{value:.2f} per day ({value * 7:.1f} per week)"
    if metric in ("change_fail_rate", "deployment_rework_rate"):
        return f"{value:.0%}"
    return str(pd.Timedelta(value).round("s"))


def dora(
    repo: RepoLike, pattern: str | None = "v*", since: Any = None, until: Any = None, rev: str = "HEAD"
) -> DoraReport:
    """The DORA metrics of ``repo`` over ``since <= deployed_at < until`` (UTC; ``None`` = open-ended).

    * deployment frequency: deployments in the window per day of the window (the window is
      ``since``…``until`` where given, else first…last deployment, at least one day);
    * change lead time: median over commits whose first deployment falls in the window (:func:`lead_times`);
    * change fail rate, failed deployment recovery time (median) and deployment rework rate: see
      :func:`deployments` for the failure rule;
    * ``tiers`` per metric from :func:`tier` (``None`` when a metric has no value) and ``overall``: the
      weakest tier among them (a team is as fast as its slowest key).

    Git runs three times for all metrics together: ``git for-each-ref`` for the tags, ``git rev-list`` for
    the graph and ``git log --grep`` for the revert and hotfix candidates.

    >>> from labkit import git
    >>> with git.scratch_repo(git.team_history(days=10, seed=4)) as repo:
    ...     report = dora(repo.path)
    >>> report.deployments, report.tiers["change_lead_time"]
    (11, 'elite')
    """
    path = repo_path(repo)
    start, end = _timestamp(since, "since"), _timestamp(until, "until")
    rel = release_graph(path, pattern, rev)
    lead = lead_frame(rel)
    deploys = _window(_deployments_from(path, rel, lead), start, end)
    n = len(deploys)
    if n:
        lo = start if start is not None else deploys["deployed_at"].min()
        hi = end if end is not None else deploys["deployed_at"].max()
        days = max((hi - lo) / pd.Timedelta(days=1), 1.0)
    else:
        both = start is not None and end is not None
        days = max((end - start) / pd.Timedelta(days=1) if both else 1.0, 1.0)  # type: ignore[operator]
    in_window = lead["deployed_at"].notna()
    if start is not None:
        in_window &= lead["deployed_at"] >= start
    if end is not None:
        in_window &= lead["deployed_at"] < end
    lead_median = lead.loc[in_window, "lead_time"].median()
    failures = deploys.loc[deploys["failed"], "recovery_time"]
    values: dict[str, Any] = {
        "deployment_frequency": n / days,
        "change_lead_time": pd.Timedelta(lead_median) if not pd.isna(lead_median) else pd.NaT,
        "change_fail_rate": float(deploys["failed"].mean()) if n else float("nan"),
        "failed_deployment_recovery_time": pd.Timedelta(failures.median()) if len(failures) else pd.NaT,
        "deployment_rework_rate": float(deploys["remediation"].mean()) if n else float("nan"),
    }
    tiers: dict[str, str | None] = {m: (None if pd.isna(values[m]) else tier(m, values[m])) for m in THRESHOLDS_2023}
    overall = max((t for t in tiers.values() if t is not None), key=TIER_NAMES.index)
    return DoraReport(
        deployments=n, window_days=float(days), tiers=tiers, overall=overall, since=start, until=end, **values
    )
