"""The Starlette application: /health, /ready (dependency checks), /version, /api/orders, /metrics, faults."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import os
import random
import re
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette
from .faults import CRASH_EXIT_CODE, VERSION_HEADER, Faults

# ------------------------------------------------------------------------------------------ the application


def check_dependency_url(name: str, url: str) -> None:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
        raise ValueError(f"dependency names must be identifiers like 'database'; got {name!r}.")
    if not isinstance(url, str) or not re.match(r"(postgres(ql)?|https?|tcp)://", url):
        raise ValueError(
            f"dependency {name!r} must be a URL starting with postgresql://, http://, https:// or tcp://; got {url!r}."
        )


async def _probe(url: str, timeout: float) -> None:
    """Raise if the dependency at ``url`` does not answer within ``timeout`` seconds."""
    if url.startswith(("postgresql://", "postgres://")):

        def pg() -> None:
            import psycopg

            with psycopg.connect(url, connect_timeout=max(2, math.ceil(timeout))) as conn:
                conn.execute("SELECT 1")

        await asyncio.wait_for(asyncio.to_thread(pg), timeout)
    elif url.startswith(("http://", "https://")):
        import urllib.request

        def get() -> None:
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                if resp.status >= 400:
                    raise RuntimeError(f"HTTP {resp.status}")

        await asyncio.wait_for(asyncio.to_thread(get), timeout + 0.5)
    else:
        host, _, port = url[len("tcp://") :].partition(":")
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port.rstrip("/"))), timeout)
        writer.close()


def build_app(  # noqa: C901 - the service's routes are closures over one shared state
    version: str = "1.0.0",
    *,
    name: str = "orders",
    dependencies: Mapping[str, str] | None = None,
    faults: Mapping[str, Any] | None = None,
    boot: str = "ok",
    seed: int = 0,
    check_timeout: float = 2.0,
) -> Starlette:
    """The Starlette application that :func:`run` serves (usable in-process with ``starlette.testclient``)."""
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        CollectorRegistry,
        Counter,
        Gauge,
        Histogram,
        generate_latest,
    )
    from starlette.applications import Starlette
    from starlette.background import BackgroundTask
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    deps = dict(dependencies or {})
    for dep_name, url in deps.items():
        check_dependency_url(dep_name, url)
    current = Faults(**Faults.check(dict(faults or {})))
    if boot == "unhealthy":
        current.unhealthy = True
    rng = random.Random(seed if current.seed is None else current.seed)
    released = asyncio.Event()  # set = requests pass; cleared while the hang fault is on
    if not current.hang:
        released.set()
    started = time.time()
    started_mono = time.monotonic()
    orders: list[dict[str, Any]] = []

    registry = CollectorRegistry()
    requests_total = Counter(
        "http_requests_total", "HTTP requests by method, route and status", ["method", "path", "status"],
        registry=registry,
    )  # fmt: skip
    latency = Histogram(
        "http_request_duration_seconds", "Time to answer, by route", ["path"], registry=registry,
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    )  # fmt: skip
    Gauge("app_info", "Version of the running service", ["version", "name"], registry=registry).labels(
        version, name
    ).set(1)

    def set_faults(changes: Mapping[str, Any]) -> None:
        nonlocal rng
        clean = Faults.check(changes)
        for key, value in clean.items():
            setattr(current, key, value)
        if "seed" in clean and clean["seed"] is not None:
            rng = random.Random(clean["seed"])
        if current.hang:
            released.clear()
        else:
            released.set()

    def faults_json() -> dict[str, Any]:
        return dataclasses.asdict(current)

    async def health(request: Request) -> Response:
        if current.unhealthy:
            return JSONResponse({"status": "fail", "version": version}, status_code=503)
        return JSONResponse({"status": "ok", "version": version})

    async def ready(request: Request) -> Response:
        down = current.dependency_down

        async def one(dep: str, url: str) -> tuple[str, bool, str]:
            if down is True or (isinstance(down, list) and dep in down):
                return dep, False, "dependency_down fault is on"
            try:
                await _probe(url, check_timeout)
                return dep, True, ""
            except Exception as exc:  # noqa: BLE001 - the check's verdict is the point: report, never raise
                text = " ".join(str(exc).split())[:200] or type(exc).__name__
                return dep, False, f"{type(exc).__name__}: {text}"

        results = await asyncio.gather(*(one(d, u) for d, u in deps.items()))
        checks = {dep: ok for dep, ok, _ in results}
        errors = {dep: why for dep, ok, why in results if not ok}
        ok = all(checks.values())
        body = {
            "status": "ok" if ok else "fail",
            "checks": checks,
            "errors": errors,
            "uptime": round(time.monotonic() - started_mono, 3),
            "version": version,
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    async def version_endpoint(request: Request) -> Response:
        return JSONResponse({"version": version, "name": name, "pid": os.getpid(), "started": started})

    async def api_faults(request: Request) -> Response | None:
        if current.latency_ms:
            await asyncio.sleep(current.latency_ms / 1000)
        if current.error_rate and rng.random() < current.error_rate:
            return JSONResponse({"error": "injected fault: error_rate", "version": version}, status_code=500)
        return None

    async def orders_endpoint(request: Request) -> Response:
        failed = await api_faults(request)
        if failed is not None:
            return failed
        if request.method == "POST":
            try:
                payload = await request.json()
            except ValueError:
                return JSONResponse({"error": 'body must be JSON like {"item": "book", "qty": 1}'}, 422)
            item, qty = (payload.get("item"), payload.get("qty", 1)) if isinstance(payload, dict) else (None, None)
            if not isinstance(item, str) or not item or not isinstance(qty, int) or isinstance(qty, bool) or qty < 1:
                return JSONResponse(
                    {"error": 'expected {"item": non-empty string, "qty": integer >= 1}', "got": payload}, 422
                )
            order = {"id": len(orders) + 1, "item": item, "qty": qty, "version": version}
            orders.append(order)
            return JSONResponse(order, status_code=201)
        return JSONResponse({"orders": orders[-50:], "count": len(orders), "version": version})

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def admin_faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                changes = await request.json()
                set_faults(changes)
            except ValueError as exc:
                return JSONResponse({"error": str(exc), "faults": faults_json()}, status_code=422)
            if current.crash:
                sys.stderr.write(f"labkit.service {version}: crashing on purpose (fault 'crash')\n")
                sys.stderr.flush()
                task = BackgroundTask(os._exit, CRASH_EXIT_CODE)
                return JSONResponse({"faults": faults_json(), "crashing": True}, status_code=202, background=task)
        return JSONResponse({"faults": faults_json()})

    routes = [
        Route("/health", health),
        Route("/ready", ready),
        Route("/version", version_endpoint),
        Route("/api/orders", orders_endpoint, methods=["GET", "POST"]),
        Route("/metrics", metrics),
        Route("/admin/faults", admin_faults, methods=["GET", "POST"]),
    ]
    known = {r.path for r in routes}

    class Instrument:
        """Pure ASGI middleware: version header, hang fault, request metrics."""

        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await self.app(scope, receive, send)
                return
            path = scope["path"]
            if current.hang and not path.startswith("/admin/"):
                await released.wait()
            label = path if path in known else "other"
            status = 500
            t0 = time.perf_counter()

            async def send_wrapper(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message.setdefault("headers", [])
                    message["headers"] = [
                        *message["headers"],
                        (VERSION_HEADER.lower().encode(), version.encode()),
                    ]
                await send(message)

            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                requests_total.labels(scope["method"], label, str(status)).inc()
                latency.labels(label).observe(time.perf_counter() - t0)

    app = Starlette(routes=routes)
    app.add_middleware(Instrument)
    app.state.set_faults = set_faults
    app.state.faults = current
    return app
