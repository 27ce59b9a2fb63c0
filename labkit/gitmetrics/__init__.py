"""A repository's history as pandas frames, and the DORA software delivery metrics computed from it.

One layer per file: ``gitio`` (running git), ``commits``, ``tags`` (deployments), ``graph`` (lead times), ``dora``.

Every reader runs **one** streamed ``git`` subprocess per question and parses its output in bulk, with no
Python object made per commit beyond the strings a frame must hold:

* :func:`commits` reads ``git log`` with NUL-separated fields (``%x00`` can appear in no name, e-mail or
  subject, so no quoting rules are needed) straight into pandas' C parser while git is still writing;
  ``stats=True`` adds ``--numstat`` to the same call and sums it per commit as the lines arrive;
* :func:`lead_times` and the DORA functions read the commit graph once with ``git rev-list --timestamp
  --parents`` (answered from the commit-graph file that ``git gc`` writes, without inflating any commit),
  parse it with NumPy, and walk it once in memory for all release tags.

That is why this module does not use GitPython's ``Repo.iter_commits`` (one Python object and several
attribute look-ups per commit, parsed in Python) nor ``commit.stats`` (one ``git diff`` per commit): see the
gitmetrics section of ``BENCHMARKS.md`` for the measured ratios.

Any repository can be read, including one you did not make with :mod:`labkit.git`; git runs without a pager,
in the C locale, and with the few configuration keys that would change its output (signatures, rename
detection, output encoding, diff drivers) pinned on the command line.

Quick tour::

    from labkit import git, gitmetrics
    with git.scratch_repo(git.team_history(days=10)) as repo:
        log = gitmetrics.commits(repo.path, stats=True)  # one row per commit
        tags = gitmetrics.release_tags(repo.path)        # one row per deployment (release tag)
        lead = gitmetrics.lead_times(repo.path)          # one row per commit, with the tag that shipped it
        report = gitmetrics.dora(repo.path)              # the four keys + rework rate, with tiers
        print(report.as_frame())

Deployments are release tags (``v*`` by default): an annotated tag's tagger date is the deployment time; a
lightweight tag (or an annotated tag without a tagger date) falls back to the tagged commit's committer date.
"""

from __future__ import annotations

from .commits import COMMIT_COLUMNS, STATS_COLUMNS, commits
from .dora import (
    DEPLOYMENT_COLUMNS,
    THRESHOLDS_2023,
    TIER_NAMES,
    DoraReport,
    change_fail_rate,
    deployment_frequency,
    deployment_rework_rate,
    deployments,
    dora,
    failed_deployment_recovery_time,
    tier,
)
from .gitio import RepoLike
from .graph import lead_times
from .tags import release_tags

__all__ = [
    "RepoLike",
    "COMMIT_COLUMNS",
    "STATS_COLUMNS",
    "DEPLOYMENT_COLUMNS",
    "TIER_NAMES",
    "THRESHOLDS_2023",
    "commits",
    "release_tags",
    "lead_times",
    "deployments",
    "deployment_frequency",
    "change_fail_rate",
    "failed_deployment_recovery_time",
    "deployment_rework_rate",
    "tier",
    "DoraReport",
    "dora",
]
