"""The capstone's automated rubric: one check per success criterion, run on the student's own repository.

::

    from labkit import capstone
    report = capstone.run_rubric(repo.path)        # every criterion, from the files, the history and live runs
    report                                          # a table in Jupyter: criterion, points, passed, what to fix
    report.score, report.max_score                  # e.g. (24, 26)
    capstone.check(repo.path, "kubernetes")         # one criterion (a CriterionResult)

The criteria are the syllabus's week-24 success criteria that a program can verify (:data:`CRITERIA` lists them
with their points). Each check *measures* instead of trusting a claim: the DORA figures come from the repository's
own tags and commits (:mod:`labkit.gitmetrics`), the service is started as a real process on 127.0.0.1 and
asked for ``/health``, ``/ready`` and ``/metrics`` (:mod:`labkit.service.process`), test coverage comes from
coverage.py running the student's own tests in a subprocess, the blue-green switch is made under load behind
:mod:`labkit.splitter`, and the rollback is the student's ``deploy()`` facing a release whose health check fails
(:mod:`labkit.deploy`). What a program cannot judge — a runbook's quality, an ADR's reasoning — is graded by a
person (the notebook's manually graded cells).

The capstone repository's layout (the course's convention; :data:`LAYOUT` in words):

======================================  ========================================================================
``app/main.py``                          an ASGI app named ``app``: ``/health``, ``/ready``, ``/metrics``,
                                         ``/api/orders``; one JSON log line per request on stdout; every answer
                                         carries ``X-Service-Version`` (from the ``APP_VERSION`` variable)
``features.json``                        ``{"features": [{"feature": ..., "flag": ...}]}``: what must be flagged
``tests/``                               the pytest suite coverage.py measures (``--source=app``)
``.github/workflows/*.yml``              the CI workflow (GitHub's schema; push to main + pull requests)
``k8s/*.yaml``                           Deployment with probes and resources, Service, HPA (autoscaling/v2)
``db/migrations.json``, ``db/queries.json``  expand/contract migrations and the old and new app's queries
``deploy.py``                            ``deploy(new_version, current, fleet, **options) -> DeployResult``
======================================  ========================================================================

One layer per file: ``rubric`` (criteria, results, the report), ``files`` (checks on the files),
``history`` (checks on git history), ``live`` (checks that start processes), ``child`` (the student's app in a
child process: ``python -m labkit.capstone``).
"""

from __future__ import annotations

from .files import flag_coverage, load_migrations
from .history import branch_lifetimes, merges_per_day
from .live import log_records, serve_capstone
from .rubric import CRITERIA, Criterion, CriterionResult, RubricReport, check, run_rubric, workspace

__all__ = [
    "CRITERIA",
    "Criterion",
    "CriterionResult",
    "RubricReport",
    "branch_lifetimes",
    "check",
    "flag_coverage",
    "load_migrations",
    "merges_per_day",
    "run_rubric",
    "log_records",
    "serve_capstone",
    "workspace",
]
