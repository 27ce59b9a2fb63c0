"""The instrumented lab service: the request-duration histogram by method, route and status, served on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response


HOST = "127.0.0.1"
DURATION_METRIC = "http_request_duration_seconds"
#: the bucket bounds of the request-duration histogram (seconds); prometheus_client's defaults, trimmed
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0)
LOG_EVENT = "request_finished"

Middleware = Callable[["Request", Callable[["Request"], Awaitable["Response"]]], Awaitable["Response"]]


def get_logger() -> Any:
    """structlog's logger once structlog is configured (e.g. inside :func:`json_logs`), else a silent one.

    The lab service logs a line per request; unconfigured, structlog would print them all in colour into the
    notebook. So its lines go nowhere until you ask to see them.
    """
    import structlog

    if structlog.is_configured():
        return structlog.get_logger()
    return structlog.wrap_logger(structlog.ReturnLogger(), processors=[])


class TelemetryError(RuntimeError):
    """Something a student can fix went wrong (the message says what and how)."""


@dataclass(frozen=True)
class Sample:
    """One scraped value of a series: ``t`` in seconds, ``value`` as Prometheus stores it (a float)."""

    t: float
    value: float


# ----------------------------------------------------------------------------------------------- the service


def route_of(app: Any, scope: Mapping[str, Any]) -> str:
    """The route *template* a request matches (``/api/orders/{order_id}``), or ``"other"`` (404s).

    Labelling by template keeps the number of series bounded: the raw path would create one series per id.
    """
    from starlette.routing import Match

    for route in app.routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return str(route.path)
    return "other"


async def log_requests(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Reference request-logging middleware: one ``request_finished`` line per request (week 16, exercise 4).

    Binds ``request_id`` (the caller's ``X-Request-ID`` or a new one) with structlog's *contextvars*, so every
    line logged while this request is handled carries it; logs ``duration_ms``; level by status (5xx error,
    4xx warning, else info); echoes the id in the response header so a caller can quote it.
    """
    import structlog

    structlog.contextvars.clear_contextvars()
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    structlog.contextvars.bind_contextvars(
        request_id=request_id, method=request.method, route=route_of(request.app, request.scope)
    )
    started = time.perf_counter()
    response = await call_next(request)
    duration_ms = (time.perf_counter() - started) * 1000
    log = get_logger()
    if response.status_code >= 500:
        emit = log.error
    elif response.status_code >= 400:
        emit = log.warning
    else:
        emit = log.info
    emit(LOG_EVENT, status=response.status_code, duration_ms=round(duration_ms, 3))
    response.headers["X-Request-ID"] = request_id
    return response


@dataclass
class AppState:
    """What :func:`build_app` lets a notebook change while the service runs (``app.state.lab``)."""

    error_rate: float = 0.0  # share of /api/* requests answered with 500
    extra_latency_ms: float = 0.0  # added to every /api/* request
    pool_size: int = 4  # "database" connections: a semaphore, the saturation signal
    rng: random.Random = field(default_factory=lambda: random.Random(16))


def build_app(  # noqa: C901 - the instrumented routes are closures over one shared state
    *,
    middleware: Middleware | None = log_requests,
    seed: int = 16,
    error_rate: float = 0.0,
    pool_size: int = 4,
    orders: int = 20,
) -> Starlette:
    """The instrumented "orders" service (Starlette) with its own Prometheus registry.

    Routes: ``GET /api/orders`` (lists; ~20 ms "query"), ``GET /api/orders/{order_id}`` (one order, ~5 ms;
    404 for an unknown id; 1 in 20 is slow, ~120 ms — a latency tail), ``POST /api/orders``, ``GET /health``,
    ``GET /metrics``. Each ``/api`` handler holds one of ``pool_size`` "database connections" while it works.
    ``middleware``: a Starlette ``dispatch(request, call_next)`` function run for every request (the
    request-logging middleware; ``None`` for none). ``app.state.lab`` (:class:`AppState`) changes faults live.
    """
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
    from starlette.applications import Starlette
    from starlette.middleware import Middleware as StarletteMiddleware
    from starlette.middleware.base import BaseHTTPMiddleware
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    if not 0 <= error_rate <= 1:
        raise ValueError(f"error_rate must be a share from 0.0 to 1.0; got {error_rate!r}.")
    if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
        raise ValueError(f"pool_size must be an int >= 1; got {pool_size!r}.")
    state = AppState(error_rate=error_rate, pool_size=pool_size, rng=random.Random(seed))
    store: dict[int, dict[str, Any]] = {
        i: {"id": i, "item": f"book-{i}", "qty": 1 + i % 3} for i in range(1, orders + 1)
    }
    pool: asyncio.Semaphore | None = None  # created in the server's event loop, on first use

    registry = CollectorRegistry(auto_describe=True)
    duration = Histogram(
        DURATION_METRIC, "Duration of HTTP requests in seconds", ["method", "route", "status"],
        registry=registry, buckets=BUCKETS,
    )  # fmt: skip
    in_flight = Gauge("http_requests_in_flight", "Requests being handled right now", registry=registry)
    pool_in_use = Gauge("db_pool_in_use", "Database connections in use", registry=registry)
    pool_busy = Counter("db_pool_busy_seconds", "Connection-seconds the pool was in use", registry=registry)
    Gauge("db_pool_size", "Database connections available", registry=registry).set(pool_size)

    class _Log:
        """Looks the logger up at every call, so json_logs() blocks opened after build_app() still apply."""

        def __getattr__(self, level: str) -> Any:
            return getattr(get_logger(), level)

    log = _Log()

    async def work(seconds: float) -> JSONResponse | None:
        """Hold a pool connection for ``seconds`` (+ the latency fault); maybe fail (the error fault)."""
        nonlocal pool
        if pool is None:
            pool = asyncio.Semaphore(state.pool_size)
        async with pool:
            pool_in_use.inc()
            held = time.perf_counter()
            try:
                await asyncio.sleep(seconds + state.extra_latency_ms / 1000)
            finally:
                pool_in_use.dec()
                pool_busy.inc(time.perf_counter() - held)
        if state.error_rate and state.rng.random() < state.error_rate:
            log.error("database_error", error="injected fault: error_rate")
            return JSONResponse({"error": "database error (injected fault)"}, status_code=500)
        return None

    async def list_orders(request: Request) -> Response:
        if request.method == "POST":
            try:
                body = await request.json()
            except ValueError:
                body = None
            if not isinstance(body, dict) or not isinstance(body.get("item"), str):
                log.warning("invalid_order", body=str(body)[:100])
                return JSONResponse({"error": 'expected {"item": "book"}'}, status_code=422)
            failed = await work(0.008)
            if failed is not None:
                return failed
            new_id = max(store, default=0) + 1
            store[new_id] = {"id": new_id, "item": body["item"], "qty": int(body.get("qty", 1))}
            log.info("order_created", order_id=new_id)
            return JSONResponse(store[new_id], status_code=201)
        failed = await work(0.015 + state.rng.random() * 0.01)
        return failed or JSONResponse({"orders": list(store.values())[-50:], "count": len(store)})

    async def one_order(request: Request) -> Response:
        raw = request.path_params["order_id"]
        order_id = int(raw) if raw.isdigit() else -1
        slow = state.rng.random() < 0.05
        failed = await work((0.1 + state.rng.random() * 0.04) if slow else (0.002 + state.rng.random() * 0.006))
        if failed is not None:
            return failed
        if order_id not in store:
            log.warning("order_not_found", order_id=order_id)
            return JSONResponse({"error": f"no order {order_id}"}, status_code=404)
        log.info("order_read", order_id=order_id)
        return JSONResponse(store[order_id])

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route("/api/orders", list_orders, methods=["GET", "POST"]),
        Route("/api/orders/{order_id}", one_order),
        Route("/health", health),
        Route("/metrics", metrics),
    ]

    class Instrument:
        """Pure ASGI middleware, outermost: times every request and records it in the histogram."""

        def __init__(self, inner: ASGIApp) -> None:
            self.inner = inner

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await self.inner(scope, receive, send)
                return
            status = 500
            route = route_of(app, scope)
            started = time.perf_counter()

            async def send_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                await send(message)

            in_flight.inc()
            try:
                await self.inner(scope, receive, send_status)
            finally:
                in_flight.dec()
                if route != "/metrics":  # scrapes are not traffic of the service
                    duration.labels(scope["method"], route, str(status)).observe(time.perf_counter() - started)

    stack = [StarletteMiddleware(Instrument)]
    if middleware is not None:
        stack.append(StarletteMiddleware(BaseHTTPMiddleware, dispatch=middleware))
    app = Starlette(routes=routes, middleware=stack)
    app.state.lab = state
    app.state.registry = registry
    return app


@contextlib.contextmanager
def serve(app: Any, *, timeout: float = 10.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 (a port the OS picks) in a thread; yield its base URL.

    The server stops when the block ends (also on error and Ctrl-C); requests still running get 2 s.
    """
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit this: without it, Nagle's algorithm + delayed ACKs add ~40 ms per request
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((HOST, 0))
    sock.listen(128)
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    errors: list[BaseException] = []

    def target() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # noqa: BLE001 - reported in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target, name=f"telemetry-serve-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if errors or not thread.is_alive():
                raise TelemetryError(f"the server on port {port} did not start: {errors[0] if errors else '?'}")
            if time.monotonic() > deadline:
                raise TelemetryError(f"the server on port {port} did not start within {timeout:g} s.")
            time.sleep(0.01)
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()


def scrape(url: str, *, timeout: float = 2.0) -> str:
    """``GET {url}/metrics`` (``url`` may already end in ``/metrics``) and return the exposition text."""
    import httpx

    target = url if url.rstrip("/").endswith("/metrics") else url.rstrip("/") + "/metrics"
    resp = httpx.get(target, timeout=timeout)
    if resp.status_code != 200:
        raise TelemetryError(f"GET {target} answered HTTP {resp.status_code}, expected 200: {resp.text[:200]}")
    return resp.text
