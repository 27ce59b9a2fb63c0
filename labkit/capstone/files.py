"""Checks on the repository's files: flags, CI workflow, tests and coverage, Kubernetes, security, migrations."""

from __future__ import annotations

import ast
import json
import sys
import time
from pathlib import Path
from typing import Any

from .context import Context, Outcome

__all__ = ["flag_coverage", "load_migrations", "run_tests"]

FLAG_TARGET = 0.80  # course rule (syllabus): feature-flag coverage > 80 %
COVERAGE_TARGET = 80.0  # syllabus: test coverage > 80 %
BUILD_BUDGET_S = 600.0  # syllabus: build time < 10 minutes
PROBE_KINDS = ("livenessProbe", "readinessProbe")


# -- feature flags (the measurement of week 22) ----------------------------------------------------------------
def flag_coverage(root: str | Path) -> dict[str, Any]:
    """The manifest's features whose flag the code really checks: ``{"guarded", "unguarded", "coverage"}``.

    Reads ``root/features.json`` (``{"features": [{"feature": ..., "flag": ...}]}``) and parses every ``*.py``
    below ``root`` with :mod:`ast`; a feature is guarded when some call ``<x>.is_enabled("<its flag>")`` exists
    (a comment, a string or a registry entry guards nothing — week 22). ``coverage`` is guarded / features.
    """
    base = Path(root)
    manifest = base / "features.json"
    if not manifest.is_file():
        raise FileNotFoundError(
            "no features.json at the repository root: list the features that must be behind "
            'a flag, {"features": [{"feature": "bulk orders", "flag": "bulk_orders"}]}'
        )
    features = json.loads(manifest.read_text(encoding="utf-8")).get("features", [])
    if not features:
        raise ValueError("features.json lists no features: name the new features that must be behind a flag")
    checked: set[str] = set()
    for path in sorted(base.rglob("*.py")):
        if ".git" in path.parts or "tests" in path.relative_to(base).parts:
            continue  # a test that turns a flag on guards nothing in production
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "is_enabled"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                checked.add(node.args[0].value)
    guarded = sorted(f["feature"] for f in features if f["flag"] in checked)
    unguarded = sorted(f["feature"] for f in features if f["flag"] not in checked)
    return {"guarded": guarded, "unguarded": unguarded, "coverage": len(guarded) / len(features)}


def check_flag_coverage(ctx: Context) -> Outcome:
    try:
        got = flag_coverage(ctx.root)
    except KeyError as exc:
        return Outcome(False, f"every entry of features.json needs a 'feature' and a 'flag'; one has no {exc}")
    except (FileNotFoundError, ValueError, SyntaxError) as exc:
        return Outcome(False, str(exc))
    if got["coverage"] > FLAG_TARGET:
        return Outcome(True, f"flag coverage {got['coverage']:.0%}", got)
    return Outcome(
        False,
        f"flag coverage {got['coverage']:.0%} (target > 80 %): guard {', '.join(got['unguarded'])} "
        'with flags.is_enabled("<flag>") in app/ code',
        got,
    )


# -- CI workflow ---------------------------------------------------------------------------------------------
def _workflow_files(root: Path) -> list[Path]:
    folder = root / ".github" / "workflows"
    return sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]) if folder.is_dir() else []


def _steps_text(workflow: dict[str, Any]) -> str:
    runs = []
    for job in (workflow.get("jobs") or {}).values():
        for step in (job or {}).get("steps") or []:
            runs.append(str(step.get("run", "")) + " " + str(step.get("uses", "")))
    return "\n".join(runs)


def check_ci_workflow(ctx: Context) -> Outcome:
    from labkit import ci

    paths = _workflow_files(ctx.root)
    if not paths:
        return Outcome(False, "no workflow: add .github/workflows/ci.yml")
    problems: list[str] = []
    for path in paths:
        problems += [f"{path.name}: {p}" for p in ci.validate_workflow(path)]
    if problems:
        return Outcome(
            False, "the workflow is not valid for GitHub: " + "; ".join(problems[:3]), {"problems": problems}
        )
    workflow = ci.load_workflow(paths[0])
    on = workflow.get("on")
    events = {on} if isinstance(on, str) else set(on or [])
    push = on.get("push") if isinstance(on, dict) else None
    branches = (push or {}).get("branches", []) if isinstance(push, dict) else []
    steps = _steps_text(workflow)
    if "pull_request" not in events or "push" not in events:
        return Outcome(False, f"the workflow runs on {sorted(events)}: run it on push (to main) and on pull_request")
    if branches and "main" not in branches:
        return Outcome(False, f"push runs only for {branches}: the trunk is main, add it")
    if "pytest" not in steps:
        return Outcome(False, "no step runs the tests: add `run: python -m coverage run -m pytest` (or pytest)")
    if "fail-under" not in steps and "fail_under" not in steps:
        return Outcome(False, "the tests run, but coverage is not enforced: add `coverage report --fail-under=80`")
    if "bandit" not in steps and "detect-secrets" not in steps:
        return Outcome(False, "no security scan in CI: add a step that runs bandit (and detect-secrets)")
    return Outcome(True, f"{paths[0].name}: valid, push to main + pull_request, tests with coverage, security scan")


def _within_budget(minutes: Any) -> bool:
    """A job's ``timeout-minutes``: a number (not a bool, not an expression) of at most the build budget."""
    number = isinstance(minutes, (int, float)) and not isinstance(minutes, bool)
    return number and minutes * 60 <= BUILD_BUDGET_S


def check_build_time(ctx: Context) -> Outcome:
    from labkit import ci

    paths = _workflow_files(ctx.root)
    if not paths:
        return Outcome(False, "no workflow: add .github/workflows/ci.yml with timeout-minutes on every job")
    jobs = ci.load_workflow(paths[0]).get("jobs") or {}
    limits = {name: (job or {}).get("timeout-minutes") for name, job in jobs.items()}
    unbounded = sorted(n for n, minutes in limits.items() if not _within_budget(minutes))
    if not jobs or unbounded:
        return Outcome(
            False,
            f"jobs {unbounded or ['(none)']} have no timeout-minutes <= 10: GitHub's default is 360 "
            "minutes; set timeout-minutes: 10 so CI enforces the build budget",
        )
    run = run_tests(ctx)
    if run["seconds"] >= BUILD_BUDGET_S:
        return Outcome(False, f"the test run took {run['seconds']:.0f} s (budget 600 s): split slow tests out", run)
    return Outcome(
        True, f"tests ran in {run['seconds']:.1f} s; every job has timeout-minutes <= 10", {"seconds": run["seconds"]}
    )


# -- tests and coverage ----------------------------------------------------------------------------------------
def run_tests(ctx: Context) -> dict[str, Any]:
    """Run ``coverage run --source=app -m pytest tests`` in the repository (again only when app/ or tests/ change)."""

    def make() -> dict[str, Any]:
        from labkit import quality

        root = ctx.root
        if not (root / "tests").is_dir() or not (root / "app").is_dir():
            return {"ok": False, "seconds": 0.0, "percent": 0.0, "output": "no tests/ or no app/ folder"}
        data = root / ".coverage.capstone"
        env = {"COVERAGE_FILE": str(data)}
        started = time.monotonic()
        done = quality.run(
            [
                sys.executable,
                "-m",
                "coverage",
                "run",
                "--source=app",
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "tests",
            ],
            root,
            timeout=120,
            env=env,
        )
        seconds = time.monotonic() - started
        report = quality.run([sys.executable, "-m", "coverage", "json", "-q", "-o", "-"], root, timeout=60, env=env)
        data.unlink(missing_ok=True)
        try:
            percent = float(json.loads(report.stdout)["totals"]["percent_covered"])
        except (ValueError, KeyError):
            percent = 0.0
        return {
            "ok": done.returncode == 0,
            "seconds": seconds,
            "percent": percent,
            "output": (done.stdout + done.stderr)[-1500:],
        }

    return ctx.memo("tests", ("app/*", "tests/*"), make)


def check_test_coverage(ctx: Context) -> Outcome:
    run = run_tests(ctx)
    if not run["ok"]:
        return Outcome(False, "the tests do not pass (fix them first): " + run["output"].strip()[-300:], run)
    if run["percent"] <= COVERAGE_TARGET:
        return Outcome(
            False,
            f"coverage {run['percent']:.1f} % of app/ (target > 80 %): test the branches "
            "`coverage report -m` lists as missing",
            run,
        )
    return Outcome(True, f"tests pass, coverage {run['percent']:.1f} % of app/", run)


# -- Kubernetes ------------------------------------------------------------------------------------------------
def _probe_problems(deployment: dict[str, Any]) -> list[str]:
    name = deployment.get("metadata", {}).get("name", "?")
    containers = deployment.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
    problems = []
    for container in containers:
        for kind in PROBE_KINDS:
            if "httpGet" not in (container.get(kind) or {}):
                problems.append(f"Deployment {name}: container {container.get('name')} has no {kind} with httpGet")
        paths = [(container.get(k) or {}).get("httpGet", {}).get("path") for k in PROBE_KINDS]
        if all(paths) and paths[0] == paths[1]:
            problems.append(
                f"Deployment {name}: liveness and readiness probe the same path {paths[0]}: liveness "
                "is /health (restart me), readiness is /ready (send me traffic)"
            )
        if not (container.get("resources") or {}).get("requests", {}).get("cpu"):
            problems.append(
                f"Deployment {name}: container {container.get('name')} has no resources.requests.cpu "
                "(an HPA on CPU utilization needs it)"
            )
    return problems


def check_kubernetes(ctx: Context) -> Outcome:
    from labkit import kube

    folder = ctx.root / "k8s"
    if not folder.is_dir() or not any(folder.glob("*.y*ml")):
        return Outcome(False, "no k8s/ folder with *.yaml manifests: add a Deployment, a Service and an HPA")
    try:
        docs = kube.load_manifests(folder)
    except ValueError as exc:
        return Outcome(False, f"the manifests do not parse: {exc}")
    findings = kube.validate_manifests(folder)
    if findings:
        return Outcome(False, "invalid for Kubernetes: " + "; ".join(str(f) for f in findings[:3]))
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        by_kind.setdefault(doc.get("kind", ""), []).append(doc)
    missing = [k for k in ("Deployment", "Service", "HorizontalPodAutoscaler") if k not in by_kind]
    if missing:
        return Outcome(False, f"missing {', '.join(missing)}: the capstone needs a Deployment, a Service and an HPA")
    problems = [p for d in by_kind["Deployment"] for p in _probe_problems(d)]
    names = {d["metadata"]["name"] for d in by_kind["Deployment"]}
    for hpa in by_kind["HorizontalPodAutoscaler"]:
        spec = hpa.get("spec", {})
        target = spec.get("scaleTargetRef", {})
        if target.get("kind") != "Deployment" or target.get("name") not in names:
            problems.append(
                f"the HPA scales {target.get('kind')}/{target.get('name')}, not one of your Deployments {sorted(names)}"
            )
        if int(spec.get("minReplicas", 1)) < 2:
            problems.append("HPA minReplicas < 2: one replica cannot be updated without downtime")
    if problems:
        return Outcome(False, "; ".join(problems[:3]), {"problems": problems})
    return Outcome(True, f"{len(docs)} objects valid; probes, CPU requests and an HPA on {sorted(names)}")


# -- security --------------------------------------------------------------------------------------------------
def check_security(ctx: Context) -> Outcome:
    from labkit import pipeline_security, secretscan

    found = secretscan.scan_history(ctx.root) if ctx.is_git else secretscan.scan_tree(ctx.root)
    if found:
        where = ", ".join(sorted({f"{f.filename} ({f.type})" for f in found}))
        return Outcome(
            False,
            f"secrets found in {where}: rotate them, read them from the environment, and remove "
            "them from the history (a later commit does not delete them)",
        )
    if not (ctx.root / "app").is_dir():
        return Outcome(False, "no app/ folder to scan: the service lives in app/")
    report = pipeline_security.run_bandit(ctx.root / "app")
    issues = [r for r in report.get("results", []) if r.get("issue_severity") in ("MEDIUM", "HIGH")]
    if issues:
        first = issues[0]
        return Outcome(
            False,
            f"bandit: {len(issues)} medium/high issue(s), first {first.get('test_id')} in "
            f"{first.get('filename')}:{first.get('line_number')}: {first.get('issue_text')}",
        )
    return Outcome(True, "no secret in the history, no medium/high bandit finding in app/")


# -- migrations ------------------------------------------------------------------------------------------------
def load_migrations(root: str | Path) -> tuple[list[Any], dict[str, list[Any]]]:
    """``db/migrations.json`` as :class:`labkit.migrations.Migration` objects and ``db/queries.json`` as queries.

    ``migrations.json``: ``[{"revision", "message", "upgrade": [sql], "downgrade": [sql]}]``; ``queries.json``:
    ``{"old": [{"name", "sql", "params"}], "new": [...]}`` — the queries of the app version serving before the
    migrations (it keeps serving during every step) and of the one deployed after the last step.
    """
    from labkit import migrations

    base = Path(root) / "db"
    steps = json.loads((base / "migrations.json").read_text(encoding="utf-8"))
    apps = json.loads((base / "queries.json").read_text(encoding="utf-8"))
    items = [migrations.Migration(s["revision"], s["message"], s["upgrade"], s.get("downgrade", [])) for s in steps]
    queries = {
        str(app): [migrations.Query(q["name"], q["sql"], q.get("params", {})) for q in qs] for app, qs in apps.items()
    }
    return items, queries


def check_migrations(ctx: Context) -> Outcome:
    from labkit import migrations

    if not (ctx.root / "db" / "migrations.json").is_file() or not (ctx.root / "db" / "queries.json").is_file():
        return Outcome(
            False,
            "no db/migrations.json and db/queries.json: write the expand/contract migrations and "
            "the queries of the old and the new app",
        )
    try:
        items, apps = load_migrations(ctx.root)
    except (ValueError, KeyError, TypeError) as exc:
        return Outcome(False, f"db/*.json do not describe migrations and queries: {exc}")
    if set(apps) != {"old", "new"}:
        return Outcome(False, f'db/queries.json must have "old" and "new" apps, found {sorted(apps)}')
    if not all(m.reversible for m in items):
        return Outcome(False, "a migration has no downgrade: every step must be reversible to roll back")
    # the old version serves during every step; the new one is deployed after the last (expand/contract)
    live = {m.revision: ["old"] for m in items[:-1]}
    with ctx.postgres().database() as db:
        report = migrations.rehearse(items, db.url, apps, live=live)
    if report.failed_migration:
        return Outcome(False, f"migration {report.failed_migration} failed: {report.failure}")
    frame = report.frame
    bad = frame[~frame["ok"]]
    if len(bad):
        row = bad.iloc[0]
        return Outcome(
            False,
            f"after migration {row['revision']} the {row['app']} app's query {row['query']!r} "
            f"fails ({row['error'][:160]}): expand first (add, copy), contract only when no "
            "running version uses the old column",
        )
    return Outcome(True, f"{len(items)} migrations; the old and the new app ran every query after every step")
