"""labkit.tracing: real processes traced with the OpenTelemetry SDK; one trace when the context propagates."""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest
from opentelemetry import propagate
from opentelemetry.trace import SpanKind

from labkit import tracing

SMALL = {
    "front": {"route": "/go", "steps": [{"span": "think", "ms": 1}, {"call": "back", "path": "/work/1"}]},
    "back": {"route": "/work/{id}", "steps": [{"work": 1}]},
}


def test_check_topology_orders_leaves_first_and_explains_mistakes():
    assert tracing.check_topology(tracing.SYLLABUS_CHAIN) == ["order-service", "notification", "api-gateway"]
    with pytest.raises(tracing.TracingError, match="not a service of the chain"):
        tracing.check_topology({"a": {"route": "/", "steps": [{"call": "b"}]}})
    with pytest.raises(tracing.TracingError, match="cycle"):
        tracing.check_topology({"a": {"route": "/", "steps": [{"call": "b"}]}, "b": {"route": "/", "steps": [
            {"call": "a"}]}})  # fmt: skip
    with pytest.raises(tracing.TracingError, match="exactly one of"):
        tracing.check_topology({"a": {"route": "/", "steps": [{"work": 1, "span": "x", "ms": 1}]}})
    with pytest.raises(tracing.TracingError, match="duration in ms"):
        tracing.check_topology({"a": {"route": "/", "steps": [{"work": -1}]}})
    with pytest.raises(tracing.TracingError, match="route"):
        tracing.check_topology({"a": {"steps": []}})


def test_build_app_in_process_extracts_the_callers_context():
    app = tracing.build_app("back", SMALL["back"], {})

    async def exchange(headers: dict[str, str]) -> tuple[dict, list, dict, list]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://back") as client:
            body = (await client.get("/work/7", headers=headers)).json()
            spans = (await client.get("/spans")).json()
            cleared = (await client.delete("/spans")).json()
            after = (await client.get("/spans")).json()
        return body, spans, cleared, after

    with tracing.Recorder("caller") as rec:
        with rec.tracer.start_as_current_span("call", kind=SpanKind.CLIENT) as span:
            headers: dict[str, str] = {}
            propagate.inject(headers)
        body, spans, cleared, after = asyncio.run(exchange(headers))
    assert cleared == {"cleared": True} and after == []
    ctx = span.get_span_context()
    assert body["trace_id"] == f"{ctx.trace_id:032x}"
    assert len(spans) == 1
    server = spans[0]
    assert server["name"] == "GET /work/{id}" and server["kind"] == "SERVER" and server["service"] == "back"
    assert server["parent_id"] == f"{ctx.span_id:016x}"
    assert server["attributes"]["url.path"] == "/work/7"


def test_normalize_puts_spans_on_one_axis_in_ms():
    raw = [
        {"name": "b", "span_id": "2", "parent_id": "1", "start_ns": 3_000_000, "end_ns": 5_500_000},
        {"name": "a", "span_id": "1", "parent_id": None, "start_ns": 1_000_000, "end_ns": 9_000_000},
    ]
    out = tracing.normalize(raw)
    assert [s["name"] for s in out] == ["a", "b"]
    assert out[1]["start_ms"] == 2.0 and out[1]["end_ms"] == 4.5 and out[1]["duration_ms"] == 2.5
    assert tracing.normalize([]) == []


def test_tree_order_and_waterfall_of_the_syllabus_trace():
    import matplotlib

    matplotlib.use("Agg")
    order = [(s["name"], depth) for s, depth in tracing.tree_order(tracing.SYLLABUS_TRACE)]
    assert order[0] == ("GET /api/orders/{order_id}", 0)
    assert ("db-query", 3) in order and ("GET /notify", 2) in order
    ax = tracing.plot_waterfall(tracing.SYLLABUS_TRACE, highlight=["db-query"])
    assert len(ax.patches) == len(tracing.SYLLABUS_TRACE)
    with pytest.raises(tracing.TracingError, match="no spans"):
        tracing.plot_waterfall([])


@pytest.mark.service
def test_chain_gives_one_trace_and_stops_every_process():
    with tracing.Recorder("client") as rec, tracing.chain(SMALL) as shop:
        pids = shop.pids()
        with rec.tracer.start_as_current_span("checkout", kind=SpanKind.CLIENT):
            headers: dict[str, str] = {}
            propagate.inject(headers)
            assert httpx.get(shop.url + "/go", headers=headers, timeout=5).status_code == 200
        spans = shop.collect(rec)
        assert shop.raw() == []  # collect cleared them
    assert {s["trace_id"] for s in spans} == {spans[0]["trace_id"]}
    names = {s["name"]: s for s in spans}
    assert set(names) == {"checkout", "GET /go", "think", "GET back", "GET /work/{id}"}
    assert names["GET /go"]["parent_id"] == names["checkout"]["span_id"]
    assert names["GET /work/{id}"]["parent_id"] == names["GET back"]["span_id"]
    assert names["GET back"]["kind"] == "CLIENT" and names["GET back"]["attributes"]["http.response.status_code"] == 200
    for pid in pids.values():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.service
def test_chain_without_propagation_splits_the_trace():
    with tracing.chain(SMALL, no_propagation=["front"]) as shop:
        httpx.get(shop.url + "/go", timeout=5).raise_for_status()
        spans = shop.collect()
    assert len({s["trace_id"] for s in spans}) == 2
    with (
        pytest.raises(tracing.TracingError, match="not services of the chain"),
        tracing.chain(SMALL, no_propagation=["nobody"]),
    ):
        pass  # pragma: no cover
