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

One layer per file: ``service``, ``scrape``, ``promql``, ``logs``, ``signals``.
"""

from __future__ import annotations

from .logs import LogCapture, json_logs
from .promql import histogram_quantile, nearest_rank, rate
from .scrape import histogram_buckets, parse
from .service import (
    BUCKETS,
    DURATION_METRIC,
    Sample,
    TelemetryError,
    build_app,
    get_logger,
    log_requests,
    route_of,
    scrape,
    serve,
)
from .signals import golden_signals, plot_golden_signals

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
