"""Checks that start processes: the student's service (health, readiness, metrics, logs), a blue-green switch
behind :mod:`labkit.splitter` under load, and the student's ``deploy()`` facing a release that fails its health check.

Every process is started inside the rubric run's ``with`` block and stopped when it ends; every wait is bounded
(a start gets :data:`START_TIMEOUT` seconds, the load :data:`LOAD_SECONDS`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from labkit.service.process import Child, spawn_child, wait_until

from .context import Context, Outcome

__all__ = ["APP", "log_records", "serve_capstone"]

APP = "app.main:app"  # the course's convention: app/main.py defines the ASGI app `app`
START_TIMEOUT = 10.0
LOAD_SECONDS = 1.2
SWITCH_AT = 0.5
VERSION_HEADER = "X-Service-Version"


@contextlib.contextmanager
def serve_capstone(
    root: str | Path, version: str = "1.0.0", *, app: str = APP, timeout: float = START_TIMEOUT, wait: bool = True
) -> Iterator[Child]:
    """Run the repository's ASGI app (``app/main.py:app``) in a child process on 127.0.0.1 (port chosen by the OS).

    ``APP_VERSION`` is set to ``version`` in the child. Waits until ``/health`` answers at all (any status; with
    ``wait=False`` not at all: start two versions, then wait for both, and they boot side by side); the
    child's output (your logs) is ``child.stderr_tail()``. Stopped (SIGTERM, then SIGKILL) when the block ends.
    """
    base = Path(root)
    if not (base / "app" / "main.py").is_file():
        raise FileNotFoundError(f"no app/main.py in {base}: the service's ASGI app `app` lives there")
    child = spawn_child(
        "labkit.capstone",
        {"root": str(base.resolve()), "app": app, "version": version},
        port=0,
        what=f"your service (version {version})",
    )
    try:
        if wait:
            wait_until(child, "/health", "up", timeout)
        yield child
    finally:
        child.stop()


def _service(ctx: Context) -> Child:
    """The service started once per rubric run (shared by the health, observability and blue-green checks)."""
    return ctx.cached("service", lambda: ctx.enter(serve_capstone(ctx.root, "1.0.0")))


def _json_answer(client: Any, url: str, path: str) -> tuple[int, Any]:
    response = client.get(url + path)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None


def check_health(ctx: Context) -> Outcome:
    import httpx

    child = _service(ctx)
    with httpx.Client(timeout=2.0) as client:
        answers = {path: _json_answer(client, child.url, path) for path in ("/health", "/ready")}
    for path, (status, body) in answers.items():
        if status != 200 or not isinstance(body, dict):
            return Outcome(
                False,
                f"GET {path} answered HTTP {status} with {'JSON' if body is not None else 'no JSON'}"
                f': it must answer 200 and a JSON object such as {{"status": "ok"}}',
            )
    return Outcome(True, "/health and /ready answer 200 with JSON", {p: a[1] for p, a in answers.items()})


def _request_records(output: str) -> list[dict[str, Any]]:
    records = []
    for line in output.splitlines():
        with contextlib.suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict):
                records.append(value)
    return records


def log_records(child: Child, want: Any = None, *, at_least: int = 1, timeout: float = 3.0) -> list[dict[str, Any]]:
    """The JSON objects the service has logged so far that ``want(record)`` accepts (all when ``want`` is None).

    A service often writes a request's log line *after* the response has gone out (a middleware logs once the
    handler returned), so a check that reads the log right after a request may race it: this waits, bounded by
    ``timeout`` seconds, until ``at_least`` matching records are there, then returns what it found (maybe fewer).
    """
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in _request_records(child.stderr_tail(200_000)) if want is None or want(r)]
        if len(found) >= at_least or time.monotonic() >= deadline:
            return found
        time.sleep(0.05)


def check_observability(ctx: Context) -> Outcome:
    import httpx

    from labkit.telemetry.scrape import parse

    child = _service(ctx)
    with httpx.Client(timeout=2.0) as client:
        marker = f"/api/orders?probe={uuid.uuid4().hex[:8]}"
        for _ in range(3):
            client.get(child.url + marker)
        metrics = client.get(child.url + "/metrics")
    if metrics.status_code != 200:
        return Outcome(
            False,
            f"GET /metrics answered HTTP {metrics.status_code}: expose prometheus_client's generate_latest() there",
        )
    try:
        families = {f.name: f for f in parse(metrics.text)}
    except ValueError as exc:
        return Outcome(False, f"/metrics is not in the Prometheus text format ({exc})")
    requests = families.get("http_requests")
    counted = [
        s
        for s in (requests.samples if requests else [])
        if s.labels.get("path") == "/api/orders" and {"method", "status"} <= set(s.labels)
    ]
    if requests is None or requests.type != "counter" or not counted:
        return Outcome(
            False,
            "no counter http_requests_total{method, path, status} counting GET /api/orders in "
            "/metrics: count every request in a middleware",
        )
    logged = log_records(
        child, lambda r: str(r.get("path", "")).startswith("/api/orders") and "status" in r, at_least=3
    )
    if len(logged) < 3:
        return Outcome(
            False,
            f"{len(logged)} JSON log line(s) with path and status for 3 requests to /api/orders: "
            "log one JSON object per request on stdout, e.g. "
            '{"event": "request", "method": "GET", "path": "/api/orders", "status": 200}',
        )
    return Outcome(
        True, f"/metrics has http_requests_total; {len(logged)} JSON request logs", {"log_sample": logged[-1]}
    )


def check_blue_green(ctx: Context) -> Outcome:
    import httpx

    from labkit import service, splitter

    green = ctx.enter(serve_capstone(ctx.root, "1.1.0", wait=False))  # boots while blue does
    blue = _service(ctx)
    for child in (blue, green):
        wait_until(child, "/ready", "healthy", START_TIMEOUT)
    began: list[float] = []

    def switch(sp: Any) -> None:
        began.append(time.perf_counter())
        sp.switch("green")

    with splitter.run({"blue": blue.url, "green": green.url}, weights={"blue": 100, "green": 0}, mode="smooth") as sp:
        result = service.hammer(
            sp.url + "/api/orders", duration=LOAD_SECONDS, concurrency=2, actions=[(SWITCH_AT, lambda: switch(sp))]
        )
        # the switch has returned: from now on every request must reach green (asked after the load, so a slow
        # machine that switched late still gets its answer)
        with httpx.Client(timeout=2.0) as client:
            after = {client.get(sp.url + "/api/orders").headers.get(VERSION_HEADER, "") for _ in range(5)}
    before = {r[3] for r in result.records if began and result.started + r[0] < began[0]}
    details = {"total": result.total, "failed": result.failed, "before": sorted(before), "after": sorted(after)}
    if result.failed:
        return Outcome(
            False,
            f"{result.failed} of {result.total} requests failed during the switch "
            f"({dict(result.by_status)}): /api/orders must answer 2xx under load",
            details,
        )
    if before != {"1.0.0"} or after != {"1.1.0"}:
        return Outcome(
            False,
            f"versions answering before/after the switch: {sorted(before)} / {sorted(after)}: "
            f"every answer must carry {VERSION_HEADER}: <APP_VERSION>",
            details,
        )
    return Outcome(True, f"{result.total} requests during the switch, 0 failed; 1.0.0 before it, 1.1.0 after", details)


def _load_deploy(root: Path) -> Any:
    path = root / "deploy.py"
    if not path.is_file():
        raise FileNotFoundError("no deploy.py: write deploy(new_version, current, fleet, **options) there")
    spec = importlib.util.spec_from_file_location(f"capstone_deploy_{uuid.uuid4().hex[:8]}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "deploy", None)):
        raise AttributeError("deploy.py has no function deploy(new_version, current, fleet, **options)")
    return module.deploy


def check_rollback(ctx: Context) -> Outcome:
    from labkit import deploy

    try:
        student_deploy = _load_deploy(ctx.root)
    except (FileNotFoundError, ImportError, AttributeError, SyntaxError) as exc:
        return Outcome(False, str(exc))
    with deploy.Fleet() as fleet:
        old = fleet.start("1.0.0")
        bad = student_deploy("1.1.0", old, fleet, boot="unhealthy")
        if not isinstance(bad, deploy.DeployResult):
            return Outcome(False, f"deploy() returned {type(bad).__name__}: return a labkit.deploy.DeployResult")
        if bad.outcome != deploy.ROLLED_BACK or fleet.versions() != ["1.0.0"] or bad.version != "1.0.0":
            return Outcome(
                False,
                f"a release whose /health answers 503 ended {bad.outcome!r} with {fleet.versions()} "
                "running: stop the new version and keep the old one serving",
            )
        good = student_deploy("1.1.0", bad.serving, fleet)
        if not isinstance(good, deploy.DeployResult) or not good.promoted or fleet.versions() != ["1.1.0"]:
            return Outcome(
                False,
                f"a healthy release was not promoted ({fleet.versions()} running): promote it and stop the old version",
            )
    return Outcome(
        True, f"unhealthy release rolled back ({bad.reason}); healthy release promoted", {"reason": bad.reason}
    )
