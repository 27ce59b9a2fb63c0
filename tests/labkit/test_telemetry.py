"""labkit.telemetry: PromQL's rate() and histogram_quantile() against Prometheus' own test data and docs, the
instrumented service over real HTTP, structlog capture and restore, the golden-signals frame."""

from __future__ import annotations

import io
import json
import math
import time

import httpx
import pytest
import structlog

from labkit import telemetry

MIN = 60.0


def load(start: float, step: float, count: int, interval: float = 300.0, t0: float = 0.0) -> list[tuple[float, float]]:
    """Prometheus' promqltest notation ``start+stepxcount`` (count + 1 samples) every ``interval`` seconds."""
    return [(t0 + interval * i, start + step * i) for i in range(count + 1)]


def then(first: list[tuple[float, float]], second: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Concatenate two load expressions the way ``0+10x4 0+10x5`` does (the second continues the timeline)."""
    step = first[1][0] - first[0][0]
    offset = first[-1][0] + step
    return first + [(t + offset, v) for t, v in second]


# ------------------------------------------------------------------------- rate(): promql/promqltest/testdata


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (load(0, 10, 10), 100),  # http_requests_total{path="/foo"} 0+10x10
        (then(load(0, 18, 5), load(0, 18, 5)), 160),  # {path="/bar"} 0+18x5 0+18x5 (a reset)
        (load(10, 10, 10), 100),  # {path="/dings"} 10+10x10
        (load(1, 10, 10), 100),  # {path="/bumms"} 1+10x10
    ],
)
def test_increase_50m_matches_prometheus(series: list[tuple[float, float]], expected: float) -> None:
    # eval instant at 50m increase(http_requests_total[50m]); increase = rate × range
    assert telemetry.rate(series, 0, 50 * MIN) * 50 * MIN == pytest.approx(expected)


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (load(0, 10, 10), 100),
        (then(load(0, 18, 5), load(0, 18, 5)), 162),
        (load(10, 10, 10), 105),  # extrapolated by half an interval: the zero point is further away
        (load(1, 10, 10), 101),  # extrapolation stops at the counter's zero point (30 s before the first sample)
    ],
)
def test_increase_100m_extrapolates_like_prometheus(series: list[tuple[float, float]], expected: float) -> None:
    # eval instant at 50m increase(http_requests_total[100m])
    assert telemetry.rate(series, -50 * MIN, 50 * MIN) * 100 * MIN == pytest.approx(expected)


def test_reset_is_a_restart_from_zero() -> None:
    # load 5m http_requests_total{path="/foo"} 0 1 2 3 2 3 4 ; eval instant at 30m increase(...[30m]) → 7
    series = [(300.0 * i, v) for i, v in enumerate([0, 1, 2, 3, 2, 3, 4])]
    assert telemetry.rate(series, 0, 30 * MIN) * 30 * MIN == pytest.approx(7)


def test_rate_with_reset_in_the_middle_and_at_the_end() -> None:
    # testcounter_reset_middle_total 0+27x4 0+27x5 → rate[50m] at 50m = 0.08
    assert telemetry.rate(then(load(0, 27, 4), load(0, 27, 5)), 0, 50 * MIN) == pytest.approx(0.08)
    # testcounter_reset_end_total 0+10x9 0 10: [5m] has one sample → no result; [6m] → 0
    series = [*load(0, 10, 9), (3000.0, 0.0), (3300.0, 10.0)]
    assert math.isnan(telemetry.rate(series, 45 * MIN, 50 * MIN))
    assert telemetry.rate(series, 44 * MIN, 50 * MIN) == pytest.approx(0)
    # calculate_rate_window_total 0+80x10 → 0.2666…
    assert telemetry.rate(load(0, 80, 10), 0, 50 * MIN) == pytest.approx(0.26666666666666666)


@pytest.mark.parametrize(("start", "expected"), [(0, 0.5), (60, 0.55), (120, 0.6), (180, 0.6), (300, 0.6)])
def test_zero_cutoff_of_left_extrapolation(start: float, expected: float) -> None:
    # load 4m testcounter_zero_cutoff_total{start="Nm"} N*60+240x10 ; eval instant at 10m rate(...[20m])
    series = load(start, 240, 10, interval=240)
    assert telemetry.rate(series, -10 * MIN, 10 * MIN) == pytest.approx(expected)


def test_rate_range_is_left_open_and_validated() -> None:
    series = [(0.0, 0.0), (10.0, 10.0), (20.0, 20.0)]
    # the sample at t=0 is outside (0, 20]: two samples left, still a rate of 1/s
    assert telemetry.rate(series, 0, 20) == pytest.approx(1.0)
    assert math.isnan(telemetry.rate(series, 10, 20))  # only one sample inside (10, 20]
    with pytest.raises(ValueError, match="end > start"):
        telemetry.rate(series, 20, 20)


# ------------------------------------------------------------------------------------ histogram_quantile()


def test_quantile_docs_examples() -> None:
    # prometheus.io/docs/practices/histograms: all requests ~220 ms → 0.295; +100 ms → 0.4425
    assert telemetry.histogram_quantile(0.95, [(0.1, 0), (0.2, 0), (0.3, 100), (0.45, 100), (math.inf, 100)]) == (
        pytest.approx(0.295)
    )
    assert telemetry.histogram_quantile(0.95, [(0.1, 0), (0.2, 0), (0.3, 0), (0.45, 100), (math.inf, 100)]) == (
        pytest.approx(0.4425)
    )


def test_quantile_special_rules() -> None:
    q = telemetry.histogram_quantile
    assert q(0.95, [(0.1, 10), (0.5, 90), (math.inf, 100)]) == 0.5  # +Inf bucket → second-highest bound
    assert q(0.5, [(0.1, 80), (0.5, 100), (math.inf, 100)]) == pytest.approx(0.0625)  # lowest bucket from 0
    assert q(0.5, [(-1.0, 60), (0.5, 100), (math.inf, 100)]) == -1.0  # lowest bound <= 0 is returned as is
    assert q(0.9, [(0.05, 40), (0.1, 60), (0.2, 100), (math.inf, 100)]) == pytest.approx(0.175)
    assert math.isnan(q(0.5, [(0.1, 0), (math.inf, 0)]))  # no observations
    assert math.isnan(q(0.5, [(0.1, 3), (1.0, 5)]))  # no +Inf bucket
    assert math.isnan(q(0.5, [(math.inf, 5)]))  # fewer than two buckets
    assert q(-0.1, [(0.1, 1), (math.inf, 1)]) == -math.inf
    assert q(1.5, [(0.1, 1), (math.inf, 1)]) == math.inf
    assert math.isnan(q(math.nan, [(0.1, 1), (math.inf, 1)]))


def test_quantile_sorts_merges_and_forces_monotonic_buckets() -> None:
    unsorted = [(math.inf, 100), (0.3, 100), (0.1, 0), (0.2, 0)]
    assert telemetry.histogram_quantile(0.95, unsorted) == pytest.approx(0.295)
    # two series with the same bounds are summed (sum by (le))
    assert telemetry.histogram_quantile(0.5, [(0.1, 40), (0.1, 40), (math.inf, 100)]) == pytest.approx(0.0625)
    # a bucket count lower than the one before is raised to it (Prometheus' ensureMonotonic)
    assert telemetry.histogram_quantile(0.5, [(0.1, 50), (0.2, 40), (math.inf, 100)]) == pytest.approx(0.1)


def test_nearest_rank() -> None:
    assert telemetry.nearest_rank([5.0, 1.0, 3.0, 2.0, 4.0], 0.95) == 5.0
    assert telemetry.nearest_rank(list(range(1, 101)), 0.95) == 95.0
    assert math.isnan(telemetry.nearest_rank([], 0.5))
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        telemetry.nearest_rank([1.0], 0)


# ------------------------------------------------------------------------------- the service, over real HTTP


@pytest.mark.service
def test_service_histogram_labels_and_buckets_over_http() -> None:
    app = telemetry.build_app(middleware=None)
    with telemetry.serve(app) as url, httpx.Client(base_url=url, timeout=5) as client:
        assert url.startswith("http://127.0.0.1:")
        assert client.get("/api/orders/1").status_code == 200
        assert client.get("/api/orders/999").status_code == 404
        assert client.get("/api/orders/abc").status_code == 404
        assert client.post("/api/orders", json={"item": "pen"}).status_code == 201
        assert client.post("/api/orders", content=b"not json").status_code == 422
        assert client.get("/nowhere").status_code == 404
        text = telemetry.scrape(url)
        assert telemetry.scrape(url + "/metrics").startswith("# HELP")
    counts = {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for f in telemetry.parse(text)
        if f.name == telemetry.DURATION_METRIC
        for s in f.samples
        if s.name.endswith("_count")
    }
    assert counts == {
        ("GET", "/api/orders/{order_id}", "200"): 1.0,
        ("GET", "/api/orders/{order_id}", "404"): 2.0,
        ("POST", "/api/orders", "201"): 1.0,
        ("POST", "/api/orders", "422"): 1.0,
        ("GET", "other", "404"): 1.0,
    }
    buckets = telemetry.histogram_buckets(text, route="/api/orders/{order_id}")
    assert [le for le, _ in buckets] == [*telemetry.BUCKETS, math.inf]
    assert buckets[-1] == (math.inf, 3.0)
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:], strict=False))  # cumulative
    assert telemetry.histogram_buckets(text, route="/nope") == []


@pytest.mark.service
def test_faults_and_saturation_metrics() -> None:
    app = telemetry.build_app(middleware=None, error_rate=1.0, pool_size=2)
    with telemetry.serve(app) as url, httpx.Client(base_url=url, timeout=5) as client:
        t0 = time.perf_counter()
        first = telemetry.scrape(url)
        assert client.get("/api/orders").status_code == 500
        app.state.lab.error_rate = 0.0
        app.state.lab.extra_latency_ms = 30
        started = time.perf_counter()
        assert client.get("/api/orders").status_code == 200
        assert time.perf_counter() - started >= 0.03
        second = telemetry.scrape(url)
        t1 = time.perf_counter()
    frame = telemetry.golden_signals([(t0, first), (t1, second)])
    assert list(frame.columns) == ["t", "latency_p95_ms", "traffic_rps", "error_ratio", "saturation"]
    row = frame.iloc[0]
    assert row["error_ratio"] == pytest.approx(0.5)
    assert row["traffic_rps"] > 0
    assert 0 < row["saturation"] <= 1
    assert row["latency_p95_ms"] > 25
    with pytest.raises(ValueError, match="error_rate"):
        telemetry.build_app(error_rate=2)
    with pytest.raises(ValueError, match="pool_size"):
        telemetry.build_app(pool_size=0)


@pytest.mark.service
def test_scrape_reports_a_non_200_answer() -> None:
    from starlette.applications import Starlette

    with telemetry.serve(Starlette()) as url, pytest.raises(telemetry.TelemetryError, match="HTTP 404"):
        telemetry.scrape(url)


def test_serve_stops_the_server() -> None:
    with telemetry.serve(telemetry.build_app()) as url:
        assert httpx.get(url + "/health", timeout=5).json() == {"status": "ok"}
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/health", timeout=1)


# ------------------------------------------------------------------------------------------------ structlog


@pytest.mark.service
def test_reference_middleware_logs_one_json_line_per_request_with_its_id() -> None:
    app = telemetry.build_app()
    with telemetry.json_logs() as logs, telemetry.serve(app) as url, httpx.Client(base_url=url, timeout=5) as c:
        answer = c.get("/api/orders/2", headers={"X-Request-ID": "abc"})
        c.get("/api/orders/999")
        app.state.lab.error_rate = 1.0
        c.get("/api/orders")
    records = logs.records()
    finished = [r for r in records if r["event"] == "request_finished"]
    assert [(r["route"], r["status"], r["level"]) for r in finished] == [
        ("/api/orders/{order_id}", 200, "info"),
        ("/api/orders/{order_id}", 404, "warning"),
        ("/api/orders", 500, "error"),
    ]
    assert finished[0]["request_id"] == "abc" == answer.headers["x-request-id"]
    assert len({r["request_id"] for r in finished}) == 3
    read = next(r for r in records if r["event"] == "order_read")
    assert read["request_id"] == "abc"  # the handler's line carries the id bound in the middleware
    assert all(isinstance(r["duration_ms"], float) and r["timestamp"].endswith("Z") for r in finished)


def test_json_logs_restores_structlog_and_reports_bad_lines(capsys: pytest.CaptureFixture[str]) -> None:
    structlog.reset_defaults()
    assert not structlog.is_configured()
    with telemetry.json_logs() as logs:
        structlog.contextvars.bind_contextvars(request_id="r1")
        structlog.get_logger().info("hello", n=1)
        logs.write("not json\n")
    assert not structlog.is_configured()  # back to structlog's defaults
    assert structlog.contextvars.get_contextvars() == {}
    assert json.loads(logs.lines()[0])["request_id"] == "r1"
    with pytest.raises(telemetry.TelemetryError, match="log line 2 is not JSON"):
        logs.records()
    logs.clear()
    assert logs.records() == []
    # a configuration made before the block comes back after it
    stream = io.StringIO()
    structlog.configure(logger_factory=structlog.WriteLoggerFactory(file=stream))
    try:
        with telemetry.json_logs():
            pass
        assert structlog.get_config()["logger_factory"].__class__ is structlog.WriteLoggerFactory
    finally:
        structlog.reset_defaults()
    # the lab service is silent when structlog is not configured
    telemetry.get_logger().info("nobody sees this")
    assert capsys.readouterr().out == ""


def test_plot_golden_signals() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    frame = pd.DataFrame(
        {"t": [0.2, 0.4], "latency_p95_ms": [40.0, 80.0], "traffic_rps": [90.0, 60.0], "error_ratio": [0.0, 0.3],
         "saturation": [0.5, 0.8]}
    )  # fmt: skip
    fig = telemetry.plot_golden_signals(frame, events={"fault": 0.3})
    assert [ax.get_title() for ax in fig.axes][:2] == ["Latency — p95 (ms)", "Traffic — requests/s"]
    matplotlib.pyplot.close(fig)


def test_golden_signals_take_the_increase_per_series_before_summing() -> None:
    def text(ok: float, failed: float, busy: float) -> str:
        lines = [
            "# TYPE http_request_duration_seconds histogram",
            *(
                f'http_request_duration_seconds_{kind}{{{le}method="GET",route="/api/orders",status="{status}"}} {n}'
                for status, n in (("200", ok), ("500", failed))
                for kind, le in (("bucket", 'le="0.1",'), ("bucket", 'le="+Inf",'), ("count", ""))
            ),
            "# TYPE db_pool_busy_seconds counter",
            f"db_pool_busy_seconds_total {busy}",
            "# TYPE db_pool_size gauge",
            "db_pool_size 4.0",
        ]
        return "\n".join(lines) + "\n"

    # the 500 series restarted (10 → 2) while the 200 series grew by 6: the sum went from 110 to 108
    frame = telemetry.golden_signals([(0.0, text(100, 10, 1.0)), (2.0, text(106, 2, 5.0))])
    row = frame.iloc[0]
    assert row["traffic_rps"] == pytest.approx((6 + 2) / 2)
    assert row["error_ratio"] == pytest.approx(2 / 8)
    assert row["saturation"] == pytest.approx(4.0 / 2 / 4)
    assert row["latency_p95_ms"] == pytest.approx(95.0)
