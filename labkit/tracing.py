"""Distributed tracing on real processes: a chain of small services traced with the OpenTelemetry SDK.

::

    from labkit import tracing
    with tracing.Recorder("client") as rec, tracing.chain() as shop:
        with rec.tracer.start_as_current_span("GET /checkout", kind=SpanKind.CLIENT):
            headers = {}
            propagate.inject(headers)                  # writes the W3C `traceparent` header
            httpx.get(shop.url + "/api/orders/123", headers=headers)
        spans = shop.collect(rec)                      # every process's spans, one list of dicts
    tracing.plot_waterfall(spans)

**What runs.** :func:`chain` starts one subprocess per service (Starlette on uvicorn, on 127.0.0.1, port 0) —
by default the syllabus's request ``GET /api/orders/123``: ``api-gateway`` (with an ``auth-check`` span) calls
``order-service`` (``db-query`` 80 ms, then ``cache-set`` 15 ms) and, in parallel, ``notification``. Each
process has its own ``TracerProvider`` whose ``service.name`` resource is the service's name.

**Propagation.** A service reads the incoming ``traceparent`` header with the global W3C propagator
(``opentelemetry.propagate.extract``) and makes its server span a child of the caller's span; every outgoing
call is wrapped in a CLIENT span whose context is written into the request headers
(``opentelemetry.propagate.inject``). ``chain(no_propagation=["api-gateway"])`` makes a service forget to
inject — the classic bug where every service starts a new trace.

**Export.** Each process exports its finished spans to the SDK's ``InMemorySpanExporter`` (through a
``SimpleSpanProcessor``, so a span is exported the moment it ends) and serves them as JSON on ``GET /spans``.
:meth:`Chain.collect` pulls them from every process — the role an OpenTelemetry Collector plays in production,
but pulled over HTTP instead of pushed with OTLP, so no extra dependency and nothing to configure. All
processes run on one machine and stamp spans with the same wall clock (``time.time_ns``), so start and end times
from different processes can be compared directly; across real machines clock skew makes that approximate.

A span as this module hands it to you is a plain ``dict``: ``name``, ``service``, ``kind`` (``"SERVER"``,
``"CLIENT"``, ``"INTERNAL"``), ``trace_id`` (32 hex digits), ``span_id`` (16), ``parent_id`` (16 or ``None``),
``start_ms``/``end_ms`` (milliseconds from the earliest span collected) and ``duration_ms``.

Naming is the course's choice: a server span is named after its route (``GET /orders/{order_id}``, as the
OpenTelemetry HTTP conventions ask), a client span after the method and the service it calls
(``GET order-service``) so that a waterfall reads without looking at attributes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labkit.service.faults import ENV_CONFIG
from labkit.service.process import serve_child, spawn_child, wait_until

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from opentelemetry.sdk.trace import ReadableSpan
    from starlette.applications import Starlette

__all__ = [
    "SYLLABUS_CHAIN",
    "SYLLABUS_TRACE",
    "Chain",
    "Recorder",
    "TracingError",
    "chain",
    "check_topology",
    "normalize",
    "plot_waterfall",
    "tree_order",
]

HOST = "127.0.0.1"

#: The syllabus's request as a topology: service -> route it serves + what it does there, in order.
#: Steps: ``{"work": ms}`` (time spent in the service's own span), ``{"span": name, "ms": ms}`` (a child span),
#: ``{"call": service, "path": path}`` (an HTTP call in a CLIENT span), ``{"parallel": [steps...]}``.
SYLLABUS_CHAIN: dict[str, dict[str, Any]] = {
    "api-gateway": {
        "route": "/api/orders/{order_id}",
        "steps": [
            {"work": 5},
            {"span": "auth-check", "ms": 5},
            {
                "parallel": [
                    {"call": "order-service", "path": "/orders/123"},
                    {"call": "notification", "path": "/notify"},
                ]
            },
            {"work": 5},
        ],
    },
    "order-service": {
        "route": "/orders/{order_id}",
        "steps": [{"work": 5}, {"span": "db-query", "ms": 80}, {"span": "cache-set", "ms": 15}],
    },
    "notification": {"route": "/notify", "steps": [{"work": 10}]},
}


def _syllabus_trace() -> list[dict[str, Any]]:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    rows = [  # name, service, kind, span id, parent id, start, end (ms)
        ("GET /api/orders/{order_id}", "api-gateway", "SERVER", "a1", None, 0.0, 135.0),
        ("auth-check", "api-gateway", "INTERNAL", "a2", "a1", 2.0, 7.0),
        ("GET order-service", "api-gateway", "CLIENT", "a3", "a1", 8.0, 112.0),
        ("GET notification", "api-gateway", "CLIENT", "a4", "a1", 8.0, 20.0),
        ("GET /orders/{order_id}", "order-service", "SERVER", "b1", "a3", 10.0, 110.0),
        ("GET /notify", "notification", "SERVER", "c1", "a4", 9.0, 19.0),
        ("db-query", "order-service", "INTERNAL", "b2", "b1", 12.0, 92.0),
        ("cache-set", "order-service", "INTERNAL", "b3", "b1", 93.0, 108.0),
    ]
    return [
        {"name": name, "service": svc, "kind": kind, "trace_id": trace_id, "span_id": sid.ljust(16, "0"),
         "parent_id": pid.ljust(16, "0") if pid else None, "start_ms": start, "end_ms": end,
         "duration_ms": end - start, "attributes": {}}
        for name, svc, kind, sid, pid, start, end in rows
    ]  # fmt: skip


#: The syllabus's waterfall as span dicts (exact, hand-made times in ms): api-gateway calls order-service
#: (db-query 80 ms, then cache-set 15 ms) and, in parallel, notification; the whole request takes 135 ms.
SYLLABUS_TRACE: list[dict[str, Any]] = _syllabus_trace()

_NAME = re.compile(r"[a-z][a-z0-9-]{0,40}")
MAX_STEP_MS = 5000


class TracingError(RuntimeError):
    """Something about a chain or its spans is wrong; the message says what and what to try."""


# ------------------------------------------------------------------------------------------------ topology


def _check_steps(owner: str, steps: Any, services: Mapping[str, Any], where: str) -> list[str]:
    """Validate a list of steps; return the services it calls."""
    if not isinstance(steps, list):
        raise TracingError(f"{where} must be a list of steps; got {type(steps).__name__}.")
    calls: list[str] = []
    for i, step in enumerate(steps):
        here = f"{where}[{i}]"
        if not isinstance(step, dict) or len(set(step) & {"work", "span", "call", "parallel"}) != 1:
            raise TracingError(
                f"{here} must be a dict with exactly one of 'work', 'span', 'call', 'parallel'; got {step!r}."
            )
        if "work" in step or "span" in step:
            ms = step.get("work", step.get("ms"))
            if isinstance(ms, bool) or not isinstance(ms, int | float) or not 0 <= ms <= MAX_STEP_MS:
                raise TracingError(f"{here} needs a duration in ms from 0 to {MAX_STEP_MS}; got {ms!r}.")
            if "span" in step and (not isinstance(step["span"], str) or not step["span"]):
                raise TracingError(f"{here}: 'span' must be a non-empty span name; got {step['span']!r}.")
        elif "call" in step:
            target = step["call"]
            if target not in services:
                raise TracingError(f"{here} calls {target!r}, which is not a service of the chain {list(services)}.")
            if target == owner:
                raise TracingError(f"{here}: service {owner!r} calls itself.")
            path = step.get("path", "/")
            if not isinstance(path, str) or not path.startswith("/"):
                raise TracingError(f"{here}: 'path' must start with '/'; got {path!r}.")
            calls.append(target)
        else:
            calls += _check_steps(owner, step["parallel"], services, here + ".parallel")
    return calls


def check_topology(topology: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Validate a chain's topology; return its services leaves-first (the order to start them in).

    Raises :class:`TracingError` for unknown services, bad steps and call cycles (a cycle would never answer).
    """
    if not isinstance(topology, Mapping) or not topology:
        raise TracingError("a topology is a non-empty dict: service name -> {'route': ..., 'steps': [...]}.")
    calls: dict[str, list[str]] = {}
    for name, spec in topology.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise TracingError(f"service names are lowercase words with '-', like 'order-service'; got {name!r}.")
        if not isinstance(spec, Mapping) or not str(spec.get("route", "")).startswith("/"):
            raise TracingError(f"service {name!r} needs a 'route' starting with '/'; got {spec!r}.")
        calls[name] = _check_steps(name, spec.get("steps", []), topology, f"{name}.steps")
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(node: str, path: tuple[str, ...]) -> None:
        if state.get(node) == "done":
            return
        if state.get(node) == "active":
            raise TracingError(f"the services call each other in a cycle: {' -> '.join((*path, node))}.")
        state[node] = "active"
        for callee in calls[node]:
            visit(callee, (*path, node))
        state[node] = "done"
        order.append(node)

    for name in topology:
        visit(name, ())
    return order


# -------------------------------------------------------------------------------------- spans as plain data


def _plain(value: Any) -> Any:
    """An attribute value as JSON can carry it (the SDK stores sequences as tuples)."""
    return value if isinstance(value, str | int | float | bool) else [_plain(v) for v in value]


def _span_record(span: ReadableSpan) -> dict[str, Any]:
    ctx = span.get_span_context()
    assert ctx is not None
    return {
        "name": span.name,
        "service": str(span.resource.attributes.get("service.name", "unknown")),
        "kind": span.kind.name,
        "trace_id": format(ctx.trace_id, "032x"),
        "span_id": format(ctx.span_id, "016x"),
        "parent_id": format(span.parent.span_id, "016x") if span.parent is not None else None,
        "start_ns": int(span.start_time or 0),
        "end_ns": int(span.end_time or 0),
        "attributes": {k: _plain(v) for k, v in (span.attributes or {}).items()},
    }


def normalize(raw: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Turn exported span records (nanosecond wall-clock times) into the dicts students work with.

    Times become ``start_ms``/``end_ms`` from the earliest start among ``raw`` (rounded to µs), sorted by start.
    """
    rows = [dict(r) for r in raw]
    if not rows:
        return []
    t0 = min(int(r["start_ns"]) for r in rows)
    out = []
    for r in rows:
        start = round((int(r.pop("start_ns")) - t0) / 1e6, 3)
        end = round((int(r.pop("end_ns")) - t0) / 1e6, 3)
        out.append({**r, "start_ms": start, "end_ms": end, "duration_ms": round(end - start, 3)})
    out.sort(key=lambda s: (s["start_ms"], -s["end_ms"]))
    return out


class Recorder:
    """A TracerProvider of your own (not the global one) that keeps its spans in memory.

    ``rec.tracer`` starts spans; ``rec.raw()`` returns the finished ones as records :func:`normalize` (and
    :meth:`Chain.collect`) understand; ``rec.clear()`` forgets them. Use it in a ``with`` block (shuts the
    provider down) or call :meth:`shutdown`.
    """

    def __init__(self, service_name: str = "client") -> None:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from opentelemetry.sdk.trace.sampling import ALWAYS_ON

        self.service_name = service_name
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider(resource=Resource.create({"service.name": service_name}), sampler=ALWAYS_ON)
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = self.provider.get_tracer("labkit.tracing")

    def raw(self) -> list[dict[str, Any]]:
        return [_span_record(s) for s in self.exporter.get_finished_spans()]

    def spans(self) -> list[dict[str, Any]]:
        """This recorder's finished spans, normalized (times from its own earliest span)."""
        return normalize(self.raw())

    def clear(self) -> None:
        self.exporter.clear()

    def shutdown(self) -> None:
        self.provider.shutdown()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


# ------------------------------------------------------------------------------------------- the service app


def build_app(name: str, spec: Mapping[str, Any], downstream: Mapping[str, str], *, inject: bool = True) -> Starlette:
    """The Starlette app of one service of a chain (the child process serves it; tests use it in-process).

    ``downstream`` maps the services it calls to their base URLs; ``inject=False`` leaves the ``traceparent``
    header out of outgoing calls (propagation missing).
    """
    import httpx
    from opentelemetry import propagate
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind, Status, StatusCode
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("labkit.tracing.service")
    route = str(spec["route"])
    steps = list(spec.get("steps", []))
    client = httpx.AsyncClient(timeout=10.0)

    async def run_step(step: Mapping[str, Any]) -> None:
        if "work" in step:
            await asyncio.sleep(float(step["work"]) / 1000)
        elif "span" in step:
            with tracer.start_as_current_span(str(step["span"])):
                await asyncio.sleep(float(step["ms"]) / 1000)
        elif "call" in step:
            target = str(step["call"])
            url = downstream[target] + str(step.get("path", "/"))
            with tracer.start_as_current_span(f"GET {target}", kind=SpanKind.CLIENT) as span:
                span.set_attribute("http.request.method", "GET")
                span.set_attribute("url.full", url)
                headers: dict[str, str] = {}
                if inject:
                    propagate.inject(headers)
                resp = await client.get(url, headers=headers)
                span.set_attribute("http.response.status_code", resp.status_code)
                if resp.status_code >= 500:
                    span.set_status(Status(StatusCode.ERROR))
        else:
            await asyncio.gather(*(run_step(s) for s in step["parallel"]))

    async def work(request: Request) -> Response:
        parent = propagate.extract(dict(request.headers))
        with tracer.start_as_current_span(f"GET {route}", context=parent, kind=SpanKind.SERVER) as span:
            span.set_attribute("http.request.method", "GET")
            span.set_attribute("http.route", route)
            span.set_attribute("url.path", request.url.path)
            for step in steps:
                await run_step(step)
            span.set_attribute("http.response.status_code", 200)
            trace_id = format(span.get_span_context().trace_id, "032x")
        return JSONResponse({"service": name, "trace_id": trace_id, "traceparent_in": request.headers.get(
            "traceparent")})  # fmt: skip

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "service": name})

    async def spans(request: Request) -> Response:
        if request.method == "DELETE":
            exporter.clear()
            return JSONResponse({"cleared": True})
        return JSONResponse([_span_record(s) for s in exporter.get_finished_spans()])

    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/spans", spans, methods=["GET", "DELETE"]),
            Route(route, work),
        ]
    )
    app.state.exporter = exporter
    return app


def _child_main() -> None:
    cfg = json.loads(os.environ[ENV_CONFIG])
    app = build_app(cfg["name"], cfg["spec"], cfg["downstream"], inject=cfg["inject"])
    serve_child(app)


# ------------------------------------------------------------------------------------------ parent-side API


@dataclass
class Chain:
    """A running chain of services (from :func:`chain`)."""

    topology: dict[str, dict[str, Any]]
    urls: dict[str, str]
    _children: dict[str, Any] = field(repr=False)

    @property
    def entry(self) -> str:
        """The first service of the topology: where requests come in."""
        return next(iter(self.topology))

    @property
    def url(self) -> str:
        """Base URL of the entry service, e.g. ``http://127.0.0.1:41234``."""
        return self.urls[self.entry]

    def pids(self) -> dict[str, int]:
        return {name: int(child.proc.pid) for name, child in self._children.items()}

    def raw(self) -> list[dict[str, Any]]:
        """Every finished span of every service, as exported (nanosecond times)."""
        import httpx

        out: list[dict[str, Any]] = []
        with httpx.Client(timeout=5.0) as client:
            for name, url in self.urls.items():
                try:
                    resp = client.get(url + "/spans")
                    resp.raise_for_status()
                except httpx.HTTPError as exc:
                    raise TracingError(f"could not read the spans of {name!r} at {url}/spans: {exc}") from None
                out += resp.json()
        return out

    def collect(self, *recorders: Recorder, clear: bool = True) -> list[dict[str, Any]]:
        """All spans of the chain plus those of ``recorders``, normalized on one time axis; then clear them.

        A service ends its server span before it sends the answer, so once your request has returned, every
        span of it has been exported.
        """
        raw = self.raw()
        for rec in recorders:
            raw += rec.raw()
        if clear:
            self.clear()
            for rec in recorders:
                rec.clear()
        return normalize(raw)

    def warm_up(self) -> None:
        """Send one request through the chain and forget its spans: the first request of a fresh process pays
        for lazy imports and new connections, which would make the first trace you look at misleading."""
        import httpx

        path = re.sub(r"\{[^}]*\}", "0", str(self.topology[self.entry]["route"]))
        httpx.get(self.url + path, timeout=10.0).raise_for_status()
        self.clear()

    def clear(self) -> None:
        """Forget every finished span in every service."""
        import httpx

        with httpx.Client(timeout=5.0) as client:
            for url in self.urls.values():
                client.delete(url + "/spans")


@contextlib.contextmanager
def chain(
    topology: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    no_propagation: Sequence[str] = (),
    timeout: float = 20.0,
) -> Iterator[Chain]:
    """Start every service of ``topology`` (default :data:`SYLLABUS_CHAIN`) as a process; stop them all after.

    Services start in parallel, leaves first (so each knows the URLs it calls). ``no_propagation`` names
    services whose outgoing calls carry no ``traceparent`` header.
    """
    topo = {k: dict(v) for k, v in (topology or SYLLABUS_CHAIN).items()}
    order = check_topology(topo)
    unknown = sorted(set(no_propagation) - set(topo))
    if unknown:
        raise TracingError(f"no_propagation names {unknown}, which are not services of the chain {list(topo)}.")
    children: dict[str, Any] = {}
    try:
        for name in order:
            downstream = {n: children[n].url for n in topo if n in children}
            config = {"name": name, "spec": topo[name], "downstream": downstream, "inject": name not in
                      no_propagation}  # fmt: skip
            children[name] = spawn_child("labkit.tracing", config, port=0, what=f"tracing service {name!r}")
        for child in children.values():
            wait_until(child, "/health", "healthy", timeout)
        running = Chain(topo, {n: children[n].url for n in topo}, children)
        running.warm_up()
        yield running
    finally:
        for child in children.values():
            child.stop()


# ------------------------------------------------------------------------------------------------ plotting


def tree_order(spans: Sequence[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], int]]:
    """Spans in waterfall order (depth first, children by start time) with their depth.

    A span whose parent is not among ``spans`` is a root (depth 0) — so a broken trace shows several roots.
    """
    ids = {s["span_id"] for s in spans}
    children: dict[str | None, list[Mapping[str, Any]]] = {}
    for s in spans:
        parent = s.get("parent_id") if s.get("parent_id") in ids else None
        children.setdefault(parent, []).append(s)
    for kids in children.values():
        kids.sort(key=lambda s: (s["start_ms"], -s["end_ms"]))
    out: list[tuple[Mapping[str, Any], int]] = []

    def walk(node: Mapping[str, Any], depth: int) -> None:
        out.append((node, depth))
        for kid in children.get(node["span_id"], []):
            walk(kid, depth + 1)

    for root in children.get(None, []):
        walk(root, 0)
    return out


def plot_waterfall(
    spans: Sequence[Mapping[str, Any]],
    *,
    highlight: Iterable[str] = (),
    title: str = "Trace waterfall",
    ax: Axes | None = None,
) -> Axes:
    """Draw a trace as Jaeger does: one bar per span, children under their parent, colour = service.

    ``highlight`` names spans (by ``name`` or ``span_id``) to outline in black, e.g. the critical path. Spans
    of different traces get the trace id's first 6 digits in their label.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    rows = tree_order(spans)
    if not rows:
        raise TracingError("no spans to draw: did the request reach the chain, and did you collect after it?")
    marked = set(highlight)
    services = list(dict.fromkeys(s["service"] for s, _ in rows))
    colours = {name: plt.get_cmap("tab10")(i % 10) for i, name in enumerate(services)}
    traces = {s["trace_id"] for s, _ in rows}
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 0.42 * len(rows) + 1.2))
    for y, (s, depth) in enumerate(rows):
        hot = s["name"] in marked or s["span_id"] in marked
        ax.barh(y, s["duration_ms"], left=s["start_ms"], color=colours[s["service"]],
                edgecolor="black" if hot else "none", linewidth=2 if hot else 0, height=0.7)  # fmt: skip
        label = s["name"] + (f"  [trace {s['trace_id'][:6]}]" if len(traces) > 1 else "")
        ax.text(-0.62 + 0.035 * depth, y, label, ha="left", va="center", transform=ax.get_yaxis_transform(),
                fontsize=9, fontweight="bold" if hot else "normal")  # fmt: skip
        ax.text(s["end_ms"], y, f" {s['duration_ms']:.0f} ms", va="center", fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(min(0.0, min(s["start_ms"] for s, _ in rows)), max(s["end_ms"] for s, _ in rows) * 1.12 + 1)
    ax.set_xlabel("milliseconds since the first span started")
    ax.set_title(title)
    handles = [Rectangle((0, 0), 1, 1, color=colours[n]) for n in services]
    ax.legend(handles, services, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="service")
    ax.figure.subplots_adjust(left=0.32, right=0.82)
    return ax


if __name__ == "__main__":
    _child_main()
