"""Week 16 — named wrong answers (minimal edits of the reference solutions) that must lose marks."""

from harness import Misconception

CASES = [
    # Exercise 1 — request_counts
    Misconception(
        "adds up every _bucket sample as if each were a request",
        exercise="w16_metrics_request_counts",
        edits=[('if sample.name == "http_request_duration_seconds_count":', 'if sample.name.endswith("_bucket"):')],
        why="the bucket lines are the most visible part of a histogram; their cumulative meaning is not",
    ),
    Misconception(
        "reads _sum (seconds spent) as the number of requests",
        exercise="w16_metrics_request_counts",
        edits=[('if sample.name == "http_request_duration_seconds_count":', 'if sample.name.endswith("_sum"):')],
        why="_sum and _count sit side by side and both grow with traffic",
    ),
    Misconception(
        "matches any family's _count, so another histogram with the same labels is counted as requests",
        exercise="w16_metrics_request_counts",
        edits=[
            ('if family.name != "http_request_duration_seconds":', "if False:"),
            ('if sample.name == "http_request_duration_seconds_count":', 'if sample.name.endswith("_count"):'),
        ],
        passes_visible=True,
        why="suffix matching works on a service with one histogram and silently double-counts on a real one",
    ),
    Misconception(
        "keeps the parser's float values",
        exercise="w16_metrics_request_counts",
        edits=[("counts.get(key, 0) + int(sample.value)", "counts.get(key, 0) + sample.value")],
        why="the text format only has floats; a count of requests is an int",
    ),
    # Exercise 2 — counter_rate
    Misconception(
        "ignores counter resets: adds the negative step after a restart",
        exercise="w16_metrics_counter_rate",
        edits=[("            increase += value\n", "            increase += value - previous\n")],
        why="last - first is what 'increase' means in everyday language",
    ),
    Misconception(
        "skips the first step after a restart (adds nothing instead of the new value)",
        exercise="w16_metrics_counter_rate",
        edits=[("            increase += value\n", "            pass\n")],
        passes_visible=True,
        why="'drop the negative delta' sounds like the fix; it loses the requests served since the restart",
    ),
    Misconception(
        "divides by the number of scrapes instead of seconds",
        exercise="w16_metrics_counter_rate",
        edits=[("return increase / (samples[-1][0] - samples[0][0])", "return increase / (len(samples) - 1)")],
        why="an average per scrape looks like a rate, but rate() is per second",
    ),
    Misconception(
        "returns 0.0 when there are too few samples",
        exercise="w16_metrics_counter_rate",
        edits=[("        return math.nan\n", "        return 0.0\n")],
        passes_visible=True,
        why="0 looks like a safe default; Prometheus returns no value — 'no data' is not 'no traffic'",
    ),
    # Exercise 3 — histogram_quantile
    Misconception(
        "returns the bucket's upper bound without interpolating",
        exercise="w16_metrics_histogram_quantile",
        edits=[("return lower + (le - lower) * (rank - below) / (count - below)", "return le")],
        why="'p95 is under le' is true; histogram_quantile still interpolates",
    ),
    Misconception(
        "returns +Inf when the quantile falls in the +Inf bucket",
        exercise="w16_metrics_histogram_quantile",
        edits=[("return buckets[i - 1][0]", "return le")],
        passes_visible=True,
        why="the +Inf bucket's bound is inf, and the special rule is easy to miss",
    ),
    Misconception(
        "starts the lowest bucket at its own upper bound, not at 0",
        exercise="w16_metrics_histogram_quantile",
        edits=[("lower, below = 0.0, 0.0  # the lowest bucket starts at 0", "lower, below = buckets[0][0], 0.0")],
        passes_visible=True,
        why="with no previous bucket there seems to be no lower bound to use",
    ),
    Misconception(
        "interpolates with cumulative counts (rank / count) instead of counts inside the bucket",
        exercise="w16_metrics_histogram_quantile",
        edits=[("(rank - below) / (count - below)", "rank / count")],
        why="it is right whenever the buckets below are empty — as in the docs' example; real buckets expose it",
    ),
    # Exercise 4 — log_requests
    Misconception(
        "binds the request id with logger.bind(): the handler's own lines do not carry it",
        exercise="w16_metrics_log_requests",
        edits=[
            ("structlog.contextvars.bind_contextvars(request_id=request_id)", "log = log.bind(request_id=request_id)")
        ],
        passes_visible=True,
        why="bind() is the first structlog API people meet, and the request_finished line looks right",
    ),
    Misconception(
        "logs duration_ms in seconds",
        exercise="w16_metrics_log_requests",
        edits=[("duration_ms = (time.perf_counter() - started) * 1000", "duration_ms = time.perf_counter() - started")],
        passes_visible=True,
        why="perf_counter() is in seconds and the field name alone does not convert it",
    ),
    Misconception(
        "logs every 4xx and 5xx at warning",
        exercise="w16_metrics_log_requests",
        edits=[
            ("    if status >= 500:\n        emit = log.error\n    elif status >= 400:\n", "    if status >= 400:\n")
        ],
        passes_visible=True,
        why="'the request failed' feels like one category; an on-call filter for level=error then misses outages",
    ),
    Misconception(
        "ignores an incoming X-Request-ID and always makes a new id",
        exercise="w16_metrics_log_requests",
        edits=[
            ('request_id = request.headers.get("x-request-id") or uuid.uuid4().hex', "request_id = uuid.uuid4().hex")
        ],
        passes_visible=True,
        why="a fresh id per request is the obvious part; propagation across services is the point of it",
    ),
    Misconception(
        "makes the request id once per process, not per request",
        exercise="w16_metrics_log_requests",
        edits=[
            (
                'request_id = request.headers.get("x-request-id") or uuid.uuid4().hex',
                'request_id = request.headers.get("x-request-id") or str(id(request.app))',
            )
        ],
        why="an id computed from something stable (the app, the process, a module-level uuid) repeats",
    ),
]
