"""Checks on the repository's history: the DORA figures (:mod:`labkit.gitmetrics`), branch lifetime, merges per day.

A branch's lifetime is measured at its merge into ``main``: from the oldest commit the merge brings in (its author
date: when the work started) to the merge commit (its committer date). Merges are the merge commits on ``main``'s
first-parent line — the integrations into trunk. Merge frequency is their number per day of the history (first
commit to the last commit on ``main``, at least one day).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from labkit.gitmetrics.gitio import run_git

from .context import Context, Outcome

__all__ = ["branch_lifetimes", "merges_per_day"]

MAX_BRANCH_HOURS = 24.0  # trunkbaseddevelopment.com: commit to trunk at least once every 24 hours
MIN_MERGES_PER_DAY = 1.0  # DORA: merge branches to trunk at least once a day (syllabus: > 1/day)
LEAD_TIME_MAX = pd.Timedelta(hours=1)  # syllabus week 24
CFR_MAX = 0.15
MTTR_MAX = pd.Timedelta(minutes=30)
DEPLOYS_PER_DAY_MIN = 1.0


def branch_lifetimes(repo: Any, rev: str = "main") -> pd.DataFrame:
    """One row per merge into ``rev``, oldest first: ``merge`` (sha), ``subject``, ``started``, ``merged``,
    ``lifetime`` (a Timedelta)."""
    path = Path(getattr(repo, "path", repo))
    out = run_git(path, ["log", "--first-parent", "--merges", "--format=%H%x00%P%x00%ct%x00%s", rev]).stdout
    rows = []
    for line in out.splitlines():
        sha, parents, committed, subject = line.split("\x00", 3)
        first, second = parents.split()[:2]
        times = run_git(path, ["log", "--format=%at", f"{first}..{second}"]).stdout.split()
        started = pd.Timestamp(int(min(times, key=int)), unit="s", tz="UTC") if times else pd.NaT
        merged = pd.Timestamp(int(committed), unit="s", tz="UTC")
        rows.append(
            {"merge": sha, "subject": subject, "started": started, "merged": merged, "lifetime": merged - started}
        )
    frame = pd.DataFrame(rows, columns=["merge", "subject", "started", "merged", "lifetime"])
    return frame.iloc[::-1].reset_index(drop=True)  # oldest first


def merges_per_day(repo: Any, rev: str = "main") -> float:
    """Merges into ``rev`` (first-parent merge commits) per day, from the first commit to ``rev``'s last one."""
    path = Path(getattr(repo, "path", repo))
    times = [int(t) for t in run_git(path, ["log", "--first-parent", "--format=%ct", rev]).stdout.split()]
    merges = len(run_git(path, ["log", "--first-parent", "--merges", "--format=%H", rev]).stdout.split())
    if not times:
        return 0.0
    days = max((max(times) - min(times)) / 86400, 1.0)
    return merges / days


def _needs_git(ctx: Context) -> Outcome | None:
    if not ctx.is_git:
        return Outcome(False, "not a git repository: the history is the evidence, commit your work")
    return None


def check_branch_lifetime(ctx: Context) -> Outcome:
    if (missing := _needs_git(ctx)) is not None:
        return missing
    frame = branch_lifetimes(ctx.root)
    if frame.empty:
        return Outcome(False, "no merge into main: work on short branches and merge them (git merge --no-ff)")
    longest = frame.loc[frame["lifetime"].idxmax()]
    hours = longest["lifetime"] / pd.Timedelta(hours=1)
    details = {"merges": len(frame), "longest_hours": float(hours)}
    if hours >= MAX_BRANCH_HOURS:
        return Outcome(
            False,
            f"the branch merged by {longest['subject']!r} lived {hours:.1f} h (limit 24 h): merge "
            "smaller slices, hide unfinished work behind a flag",
            details,
        )
    return Outcome(True, f"{len(frame)} merges, the longest branch lived {hours:.1f} h", details)


def check_merge_frequency(ctx: Context) -> Outcome:
    if (missing := _needs_git(ctx)) is not None:
        return missing
    rate = merges_per_day(ctx.root)
    if rate <= MIN_MERGES_PER_DAY:
        return Outcome(
            False,
            f"{rate:.2f} merges per day into main (target > 1): integrate more often, in smaller branches",
            {"per_day": rate},
        )
    return Outcome(True, f"{rate:.2f} merges per day into main", {"per_day": rate})


def check_dora(ctx: Context) -> Outcome:
    from labkit import gitmetrics

    if (missing := _needs_git(ctx)) is not None:
        return missing
    report = gitmetrics.dora(ctx.root)
    details = {
        "deployments": report.deployments,
        "deployment_frequency": report.deployment_frequency,
        "change_lead_time": report.change_lead_time,
        "change_fail_rate": report.change_fail_rate,
        "failed_deployment_recovery_time": report.failed_deployment_recovery_time,
    }
    if report.deployments < 2:
        return Outcome(
            False,
            f"{report.deployments} deployment(s): tag every release v<semver> (a tag is a "
            "deployment); DORA needs at least two",
            details,
        )
    problems = []
    if report.deployment_frequency < DEPLOYS_PER_DAY_MIN:
        problems.append(f"{report.deployment_frequency:.2f} deployments/day (target: daily, >= 1)")
    if not report.change_lead_time < LEAD_TIME_MAX:
        problems.append(f"lead time {report.change_lead_time} (target < 1 h): tag soon after each merge")
    if not report.change_fail_rate < CFR_MAX:
        problems.append(f"change failure rate {report.change_fail_rate:.0%} (target < 15 %)")
    mttr = report.failed_deployment_recovery_time
    if not pd.isna(mttr) and not mttr < MTTR_MAX:
        problems.append(f"time to restore {mttr} (target < 30 min): revert and re-deploy at once")
    if problems:
        return Outcome(False, "; ".join(problems), details)
    restore = "no failed deployment" if pd.isna(mttr) else f"restored in {mttr}"
    return Outcome(
        True,
        f"{report.deployments} deployments, {report.deployment_frequency:.1f}/day, lead time "
        f"{report.change_lead_time}, failure rate {report.change_fail_rate:.0%}, {restore}",
        details,
    )
