"""Criteria, their results and the report: :func:`run_rubric` runs every check on one repository."""

from __future__ import annotations

import contextlib
import html
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import files, history, live
from .context import Context, Outcome

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CRITERIA", "Criterion", "CriterionResult", "RubricReport", "check", "run_rubric", "workspace"]


@dataclass(frozen=True)
class Criterion:
    """One success criterion: its id, what it asks, its points and the function that measures it.

    ``run`` gets a :class:`~labkit.capstone.context.Context` (the repository and shared, cached runs) and returns
    an :class:`~labkit.capstone.context.Outcome`: passed or not, and a message that says what to fix.
    """

    name: str
    title: str
    points: int
    run: Callable[[Context], Outcome] = field(repr=False)
    source: str = ""
    #: the files the result depends on (glob patterns relative to the repository); while they are unchanged a
    #: repeated run reuses the result. ``None``: the whole repository and its history, measured every time.
    inputs: tuple[str, ...] | None = None


#: The rubric, in the order of the syllabus's success criteria. Points are the course's choice.
CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "dora",
        "DORA: daily deploys, lead time < 1 h, change failure rate < 15 %, MTTR < 30 min",
        2,
        history.check_dora,
        "syllabus week 24; DORA software delivery metrics",
    ),
    Criterion(
        "branch_lifetime",
        "every merged branch lived < 24 h",
        1,
        history.check_branch_lifetime,
        "trunkbaseddevelopment.com",
    ),
    Criterion(
        "merge_frequency",
        "more than one merge to main per day",
        1,
        history.check_merge_frequency,
        "DORA capability: trunk-based development",
    ),
    Criterion(
        "flag_coverage",
        "feature-flag coverage > 80 %, measured from the code",
        2,
        files.check_flag_coverage,
        "course rule (syllabus)",
        inputs=("features.json", "*.py"),
    ),
    Criterion(
        "ci_workflow",
        "a schema-valid CI workflow: push to main + pull requests, tests, security scan",
        2,
        files.check_ci_workflow,
        "GitHub Actions workflow syntax",
        inputs=(".github/*",),
    ),
    Criterion(
        "build_time",
        "build time < 10 min: measured test run, and every CI job's timeout-minutes <= 10",
        1,
        files.check_build_time,
        "syllabus week 24",
        inputs=(".github/*", "app/*", "tests/*"),
    ),
    Criterion(
        "test_coverage",
        "test coverage > 80 % (coverage.py on your tests, all passing)",
        2,
        files.check_test_coverage,
        "coverage.py",
        inputs=("app/*", "tests/*"),
    ),
    Criterion(
        "health",
        "/health (liveness) and /ready (readiness) answer 200 with JSON on a live process",
        2,
        live.check_health,
        "Kubernetes probes",
        inputs=("app/*",),
    ),
    Criterion(
        "observability",
        "/metrics in Prometheus format and one JSON log line per request",
        2,
        live.check_observability,
        "Prometheus exposition format",
        inputs=("app/*",),
    ),
    Criterion(
        "kubernetes",
        "valid manifests: Deployment with probes and requests, Service, HPA",
        3,
        files.check_kubernetes,
        "Kubernetes API reference",
        inputs=("k8s/*",),
    ),
    Criterion(
        "security",
        "no secret in any commit, no medium/high bandit finding in app/",
        2,
        files.check_security,
        "detect-secrets, bandit",
    ),
    Criterion(
        "migrations",
        "migrations are backward compatible: the old and new app work after every step",
        2,
        files.check_migrations,
        "expand/contract",
        inputs=("db/*",),
    ),
    Criterion(
        "blue_green",
        "a blue-green switch under load with no failed request",
        2,
        live.check_blue_green,
        "syllabus: zero-downtime deployments",
        inputs=("app/*",),
    ),
    Criterion(
        "rollback",
        "your deploy() rolls back a release whose health check fails",
        2,
        live.check_rollback,
        "syllabus: automated rollback",
        inputs=("deploy.py",),
    ),
)

_BY_NAME = {c.name: c for c in CRITERIA}


@dataclass(frozen=True)
class CriterionResult:
    """The outcome of one criterion: ``earned`` is ``points`` when it passed, else 0 (no partial credit)."""

    name: str
    title: str
    points: int
    passed: bool
    message: str
    seconds: float
    details: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def earned(self) -> int:
        return self.points if self.passed else 0


@dataclass(frozen=True)
class RubricReport:
    """Every criterion's result. In Jupyter it shows as a table; :meth:`as_frame` gives the same as a DataFrame."""

    results: tuple[CriterionResult, ...]

    @property
    def score(self) -> int:
        return sum(r.earned for r in self.results)

    @property
    def max_score(self) -> int:
        return sum(r.points for r in self.results)

    def __getitem__(self, name: str) -> CriterionResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(f"no criterion {name!r} in this report; it has {[r.name for r in self.results]}")

    def failed(self) -> list[CriterionResult]:
        return [r for r in self.results if not r.passed]

    def require(self) -> None:
        """For a test cell: raise :class:`labkit.checks.CheckFailed` naming every failed criterion and what to fix."""
        from labkit.checks import CheckFailed

        failed = self.failed()
        if failed:
            lines = [f"{len(failed)} criterion(s) failed ({self.score}/{self.max_score} points):"]
            lines += [f"- {r.name} ({r.points} points): {r.message}" for r in failed]
            raise CheckFailed("\n".join(lines))

    def as_frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = [
            {
                "criterion": r.name,
                "points": r.points,
                "earned": r.earned,
                "passed": r.passed,
                "message": r.message,
                "seconds": round(r.seconds, 2),
            }
            for r in self.results
        ]
        return pd.DataFrame(rows).set_index("criterion")

    def __str__(self) -> str:
        lines = [f"capstone rubric: {self.score}/{self.max_score}"]
        for r in self.results:
            mark = "\u2714" if r.passed else "\u2718"
            lines.append(f"{mark} {r.name:<16} {r.earned}/{r.points}  {r.message}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{'&#10004;' if r.passed else '&#10008;'}</td><td><code>{r.name}</code></td>"
            f"<td>{html.escape(r.title)}</td><td>{r.earned}/{r.points}</td><td>{html.escape(r.message)}</td></tr>"
            for r in self.results
        )
        return (
            f"<p><b>Capstone rubric: {self.score}/{self.max_score}</b></p><table><tr><th></th><th>criterion"
            f"</th><th>asks</th><th>points</th><th>result / what to fix</th></tr>{rows}</table>"
        )


def _run_one(criterion: Criterion, ctx: Context) -> CriterionResult:
    started = time.monotonic()
    try:
        if criterion.inputs is None:
            outcome = criterion.run(ctx)
        else:
            outcome = ctx.memo(criterion.name, criterion.inputs, lambda: criterion.run(ctx), keep=lambda o: o.passed)
    except Exception as exc:  # noqa: BLE001 - a broken submission fails its criterion, it never stops the rubric
        outcome = Outcome(False, f"the check could not run: {type(exc).__name__}: {str(exc)[:400]}")
    return CriterionResult(
        criterion.name,
        criterion.title,
        criterion.points,
        outcome.passed,
        outcome.message,
        time.monotonic() - started,
        dict(outcome.details),
    )


def run_rubric(repo: Any, *, only: Sequence[str] | None = None, postgres: Any = None) -> RubricReport:
    """Run the criteria (all, or the names in ``only``, in rubric order) on the repository or folder ``repo``.

    ``repo`` is a path or a :class:`labkit.git.ScratchRepo`. Live checks start processes on 127.0.0.1 and stop
    them before returning; ``postgres`` is a running :class:`labkit.postgres.PostgresServer` to make throwaway
    databases in (default: one is started for the migrations check). A check that crashes fails, with the
    exception in its message.
    """
    names = list(only) if only is not None else [c.name for c in CRITERIA]
    unknown = [n for n in names if n not in _BY_NAME]
    if unknown:
        raise ValueError(f"unknown criteria {unknown}; the rubric has {list(_BY_NAME)}")
    root = Path(getattr(repo, "path", repo))
    if not root.is_dir():
        raise FileNotFoundError(f"no folder {root}: pass your capstone repository (repo.path) or its folder")
    with Context(root, pg=postgres) as ctx:
        return RubricReport(tuple(_run_one(c, ctx) for c in CRITERIA if c.name in names))


def check(repo: Any, name: str, **options: Any) -> CriterionResult:
    """One criterion's result (see :func:`run_rubric` for ``repo`` and ``options``)."""
    return run_rubric(repo, only=[name], **options)[name]


@contextlib.contextmanager
def workspace(files_: Mapping[str, str] | None = None) -> Iterator[Path]:
    """A temporary folder holding ``files_`` (path → text), removed when the block ends: check parts of a capstone
    before they are committed, e.g. ``with capstone.workspace(service_files()) as root: check(root, "health")``."""
    root = Path(tempfile.mkdtemp(prefix="labkit-capstone-"))
    try:
        for rel, text in (files_ or {}).items():
            if not isinstance(rel, str) or not isinstance(text, str):
                raise TypeError(
                    f"files must map a relative path (str) to its text (str); found {rel!r}: {type(text).__name__}"
                )
            target = (root / rel).resolve()
            if root.resolve() not in target.parents:
                raise ValueError(f"{rel!r} is not a relative path inside the repository (no '..', no leading /)")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)
