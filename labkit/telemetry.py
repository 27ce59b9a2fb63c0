"""Metrics and structured logs for week 16: an instrumented service, a scraper, PromQL's math, structlog.

::

    from labkit import telemetry
    app = telemetry.build_app()                      # Starlette "orders" service, its own Prometheus registry
    with telemetry.json_logs() as logs, telemetry.serve(app) as url:
        httpx.get(url + "/api/orders/1")
        text = telemetry.scrape(url)                 # a real HTTP GET of /metrics
    telemetry.histogram_buckets(text, "http_request_duration_seconds", route="/api/orders/{order_id}")
    telemetry.histogram_quantile(0.95, buckets)      # what PromQL's histogram_quantile() returns
    telemetry.rate(samples, start, end)              # what PromQL's rate() returns (with extrapolation)
    logs.records()                                   # the JSON lines structlog wrote, parsed

Why each piece looks the way it does:

* **The metric** is the one the syllabus defines — ``http_request_duration_seconds``, a histogram labelled by
  ``method``, ``route`` and ``status`` — plus two gauges for saturation (``http_requests_in_flight`` and
  ``db_pool_in_use`` out of ``db_pool_size``). ``route`` is the route *template* (``/api/orders/{order_id}``),
  never the raw path: one series per order id would be a cardinality explosion (prometheus.io, "Metric and
  label naming"). Each app has its own ``CollectorRegistry`` so two runs never share counters.
* **The server** (:func:`serve`) is uvicorn in a thread of this Python process, listening on a real socket on
  127.0.0.1 (port chosen by the OS). Scrapes and requests are real HTTP; the student's middleware and the
  structlog configuration live in the same process, so they are simply passed in.
* **The math** (:func:`rate`, :func:`histogram_quantile`) follows Prometheus' own implementation
  (``promql/functions.go`` ``extrapolatedRate`` and ``promql/quantile.go`` ``bucketQuantile``) so notebooks
  can compare a student's answer with what Prometheus would print.
* **The logs** (:func:`json_logs`) configure structlog to write one JSON object per line into a buffer and
  put the previous configuration back afterwards, so a notebook cell cannot leave logging broken.

Nothing runs at import; every server stops when its ``with`` block ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import math
import random
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure
    from prometheus_client.metrics_core import Metric
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = [
    "BUCKETS",
    "DURATION_METRIC",
    "LogCapture",
    "Sample",
    "TelemetryError",
    "build_app",
    "get_logger",
    "golden_signals",
    "histogram_buckets",
    "histogram_quantile",
    "json_logs",
    "log_requests",
    "nearest_rank",
    "parse",
    "plot_golden_signals",
    "rate",
    "route_of",
    "scrape",
    "serve",
]

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


# ---------------------------------------------------------------------------------------- parsing the scrape


def parse(text: str) -> list[Metric]:
    """The metric families in an exposition text, parsed by prometheus_client's own parser."""
    from prometheus_client.parser import text_string_to_metric_families

    return list(text_string_to_metric_families(text))


def histogram_buckets(text: str, metric: str = DURATION_METRIC, **labels: str) -> list[tuple[float, float]]:
    """Cumulative ``(le, count)`` pairs of a histogram, summed over the series matching ``labels``.

    This is ``sum by (le) (metric_bucket{labels})`` in PromQL: adding cumulative buckets of several series
    gives the cumulative buckets of their union. Sorted by ``le``; the last pair is ``(inf, total)``.
    """
    totals: dict[float, float] = {}
    for family in parse(text):
        if family.name != metric:
            continue
        for s in family.samples:
            if s.name == metric + "_bucket" and all(s.labels.get(k) == v for k, v in labels.items()):
                le = float(s.labels["le"])
                totals[le] = totals.get(le, 0.0) + float(s.value)
    return sorted(totals.items())


# -------------------------------------------------------------------------------------------- PromQL's math


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float:
    """PromQL's ``histogram_quantile(q, ...)`` over classic cumulative buckets ``(le, count)``.

    The rules of ``bucketQuantile`` in Prometheus' ``promql/quantile.go`` (documented in "Query functions"):
    q < 0 → -Inf, q > 1 → +Inf, NaN q → NaN; buckets are sorted by ``le``; the highest must be +Inf (else
    NaN); fewer than 2 buckets or 0 observations → NaN; rank = q × total; the first bucket whose cumulative
    count ≥ rank holds the quantile; in the +Inf bucket → the upper bound of the second-highest bucket; in the
    lowest bucket the lower bound is 0 (if its upper bound is > 0, else that bound is returned); otherwise
    linear interpolation inside the bucket. Equal bounds are merged and decreasing counts raised to keep the
    counts monotonic, as Prometheus does.
    """
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    merged: dict[float, float] = {}
    for le, count in buckets:
        merged[float(le)] = merged.get(float(le), 0.0) + float(count)
    pairs = sorted(merged.items())
    if not pairs or not math.isinf(pairs[-1][0]) or len(pairs) < 2:
        return math.nan
    highest = -math.inf
    bounds: list[float] = []
    counts: list[float] = []
    for le, count in pairs:
        highest = max(highest, count)
        bounds.append(le)
        counts.append(highest)
    total = counts[-1]
    if total == 0:
        return math.nan
    rank = q * total
    b = next((i for i in range(len(counts) - 1) if counts[i] >= rank), len(counts) - 1)
    if b == len(counts) - 1:
        return bounds[-2]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    start, end, count = 0.0, bounds[b], counts[b]
    if b > 0:
        start = bounds[b - 1]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    return start + (end - start) * (rank / count)


def _as_samples(samples: Iterable[Sample | tuple[float, float]]) -> list[Sample]:
    out = [s if isinstance(s, Sample) else Sample(float(s[0]), float(s[1])) for s in samples]
    return sorted(out, key=lambda s: s.t)


def rate(samples: Iterable[Sample | tuple[float, float]], start: float, end: float) -> float:
    """PromQL's ``rate(counter[end - start])`` evaluated at ``end``: per-second increase with extrapolation.

    Follows ``extrapolatedRate`` in Prometheus' ``promql/functions.go`` (3.x): only samples with
    ``start < t <= end`` count (the range is left-open); fewer than 2 → NaN (Prometheus returns no result);
    increase = last − first, plus the value before every drop (a counter reset); then the increase is
    extrapolated to the range's edges — all the way when the first/last sample is within 1.1 × the average
    sample spacing of the edge, else by half a spacing — but never back past the point where the counter
    would have been 0; the result is divided by the range (``end - start``) seconds.
    """
    if not end > start:
        raise ValueError(f"the range must have end > start; got start={start!r}, end={end!r}.")
    points = [s for s in _as_samples(samples) if start < s.t <= end]
    if len(points) < 2:
        return math.nan
    increase = points[-1].value - points[0].value
    for prev, cur in zip(points, points[1:], strict=False):
        if cur.value < prev.value:
            increase += prev.value
    sampled = points[-1].t - points[0].t
    if sampled <= 0:
        return math.nan
    average = sampled / (len(points) - 1)
    threshold = average * 1.1
    to_start = points[0].t - start
    to_end = end - points[-1].t
    if to_start >= threshold:
        to_start = average / 2
    if increase > 0 and points[0].value >= 0:
        to_zero = sampled * (points[0].value / increase)
        to_start = min(to_start, to_zero)
    if to_end >= threshold:
        to_end = average / 2
    return increase * ((sampled + to_start + to_end) / sampled) / (end - start)


def nearest_rank(values: Sequence[float], q: float) -> float:
    """The exact q-quantile (0 < q <= 1) of raw values by the nearest-rank method; NaN for no values."""
    if not 0 < q <= 1:
        raise ValueError(f"q must be in (0, 1]; got {q!r}.")
    data = sorted(float(v) for v in values)
    if not data:
        return math.nan
    return data[max(1, math.ceil(q * len(data))) - 1]


# ---------------------------------------------------------------------------------------------- structlog


class LogCapture:
    """The JSON lines structlog wrote inside :func:`json_logs` (thread-safe: the server logs from its thread)."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            return self._buffer.write(text)

    def flush(self) -> None:
        """structlog's WriteLogger flushes after every line; nothing to do for a memory buffer."""

    @property
    def text(self) -> str:
        with self._lock:
            return self._buffer.getvalue()

    def lines(self) -> list[str]:
        return [line for line in self.text.splitlines() if line.strip()]

    def records(self) -> list[dict[str, Any]]:
        """Every line parsed as JSON; a line that is not JSON raises, saying which line it is."""
        out = []
        for number, line in enumerate(self.lines(), 1):
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TelemetryError(
                    f"log line {number} is not JSON ({exc.msg}): {line[:200]!r}. Structured logs must be "
                    "one JSON object per line: is structlog.processors.JSONRenderer() the last processor?"
                ) from None
            out.append(value)
        return out

    def clear(self) -> None:
        with self._lock:
            self._buffer = io.StringIO()


@contextlib.contextmanager
def json_logs(level: int = logging.INFO) -> Iterator[LogCapture]:
    """Configure structlog to write JSON lines (``timestamp``, ``level``, ``event``, bound context) into a
    :class:`LogCapture`; put the previous structlog configuration back when the block ends.

    The processor chain is the one structlog's docs recommend for production JSON logs: merge the
    contextvars (the per-request ``request_id``), add the level, an ISO-8601 UTC timestamp, render JSON.
    """
    import structlog

    was_configured = structlog.is_configured()
    previous = structlog.get_config()
    capture = LogCapture()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.WriteLoggerFactory(file=capture),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    try:
        yield capture
    finally:
        if was_configured:
            structlog.configure(**previous)
        else:
            structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()


# ------------------------------------------------------------------------------------------ golden signals


def golden_signals(scrapes: Sequence[tuple[float, str]], *, q: float = 0.95) -> pd.DataFrame:
    """The four golden signals between consecutive scrapes ``(t, text)`` of the service, one row per interval.

    ``latency_p95_ms``: ``histogram_quantile(q, sum by (le) (increase of the buckets))`` of ``/api`` traffic;
    ``traffic_rps``: requests per second; ``error_ratio``: share of 5xx answers; ``saturation``: how busy the
    database pool was — ``rate(db_pool_busy_seconds_total) / db_pool_size`` (1.0 = every connection busy all
    the time; requests then queue). The same queries a Grafana panel would run, on two scrapes each (a window
    of one scrape interval). As the Prometheus docs require, each *series* is differenced first (a drop is a
    counter reset) and only then summed: summing first would hide a reset of one series behind the others.
    """
    import pandas as pd

    Key = tuple[str, tuple[tuple[str, str], ...]]

    def series(text: str) -> tuple[dict[Key, float], float]:
        values: dict[Key, float] = {}
        size = 0.0
        for family in parse(text):
            for s in family.samples:
                if s.name == "db_pool_size":
                    size = s.value
                else:
                    values[(s.name, tuple(sorted(s.labels.items())))] = s.value
        return values, size

    def increase(now: dict[Key, float], before: dict[Key, float], key: Key) -> float:
        value, previous = now[key], before.get(key, 0.0)  # a series new since the last scrape started at 0
        return value - previous if value >= previous else value

    rows = []
    parsed = [(t, series(text)) for t, text in scrapes]
    for (t0, (before, _)), (t1, (now, size)) in zip(parsed, parsed[1:], strict=False):
        dt = t1 - t0
        buckets: dict[float, float] = {}
        requests = errors = busy = 0.0
        for key in now:
            name, labels = key[0], dict(key[1])
            if name.startswith(DURATION_METRIC) and labels.get("route", "").startswith("/api"):
                if name == DURATION_METRIC + "_bucket":
                    le = float(labels["le"])
                    buckets[le] = buckets.get(le, 0.0) + increase(now, before, key)
                elif name == DURATION_METRIC + "_count":
                    requests += increase(now, before, key)
                    errors += increase(now, before, key) if labels["status"].startswith("5") else 0.0
            elif name == "db_pool_busy_seconds_total":
                busy += increase(now, before, key)
        rows.append(
            {
                "t": round(t1 - parsed[0][0], 3),
                "latency_p95_ms": histogram_quantile(q, buckets.items()) * 1000,
                "traffic_rps": requests / dt if dt > 0 else math.nan,
                "error_ratio": errors / requests if requests > 0 else math.nan,
                "saturation": busy / dt / size if size and dt > 0 else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=["t", "latency_p95_ms", "traffic_rps", "error_ratio", "saturation"])


def plot_golden_signals(frame: pd.DataFrame, *, events: Mapping[str, float] | None = None) -> Figure:
    """A 2×2 dashboard of :func:`golden_signals` (latency, traffic, errors, saturation); ``events`` marks
    moments (``{"error fault on": 2.0}``) with vertical lines on every panel."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 6), sharex=True)
    panels = [
        ("latency_p95_ms", "Latency — p95 (ms)", "tab:purple"),
        ("traffic_rps", "Traffic — requests/s", "tab:blue"),
        ("error_ratio", "Errors — share of 5xx", "tab:red"),
        ("saturation", "Saturation — DB pool busy", "tab:orange"),
    ]
    for ax, (column, title, color) in zip(axes.flat, panels, strict=True):
        ax.plot(frame["t"], frame[column], marker="o", markersize=3, color=color)
        ax.set_title(title)
        ax.set_ylim(bottom=0)
        for label, at in (events or {}).items():
            ax.axvline(at, color="grey", linestyle="--", linewidth=1)
            ax.text(at, ax.get_ylim()[1], " " + label, va="top", fontsize=8, color="grey")
    for ax in axes[1]:
        ax.set_xlabel("seconds since the first scrape")
    axes[1][1].set_ylim(0, 1.05)
    fig.suptitle("Golden signals of the orders service (Google SRE book, ch. 6)")
    fig.tight_layout()
    return fig
