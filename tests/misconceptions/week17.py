"""Week 17 (tracing and alerting): plausible wrong answers, each a minimal edit of the reference solution."""

from harness import Misconception

CASES = [
    # Exercise 1 — parse a traceparent header
    Misconception(
        "reads sampled as flags == '01' instead of testing bit 0",
        exercise="w17_tracing_parse_traceparent",
        edits=[("int(flags, 16) & 1 == 1", 'flags == "01"')],
        why="every example in blog posts ends in -01; the SDK sends 03 (sampled + random, Trace Context Level 2)",
    ),
    Misconception(
        "accepts uppercase hex digits",
        exercise="w17_tracing_parse_traceparent",
        edits=[("header.strip())", "header.strip(), re.IGNORECASE)")],
        passes_visible=True,
        why="hex is hex to a person; the spec requires lowercase so that ids compare as strings",
    ),
    Misconception(
        "accepts all-zero trace and parent ids",
        exercise="w17_tracing_parse_traceparent",
        edits=[('trace_id == "0" * 32 or parent_id == "0" * 16', "False")],
        passes_visible=True,
        why="the format regex matches zeros; the rule that they are invalid is only in the spec's prose",
    ),
    Misconception(
        "returns the trace id as an int",
        exercise="w17_tracing_parse_traceparent",
        edits=[('"trace_id": trace_id,', '"trace_id": int(trace_id, 16),')],
        why="the SDK's SpanContext holds an int, so converting looks natural",
    ),
    # Exercise 2 — propagate the context over HTTP
    Misconception(
        "injects the headers but does not send them",
        exercise="w17_tracing_traced_get",
        edits=[("httpx.get(url, headers=headers, timeout=5)", "httpx.get(url, timeout=5)")],
        why="the span exists locally, so the trace looks fine until you look at the other services",
    ),
    Misconception(
        "injects before starting the span (no current span yet)",
        exercise="w17_tracing_traced_get",
        edits=[
            (
                '    with tracer.start_as_current_span("checkout", kind=SpanKind.CLIENT) as span:\n'
                "        headers = {}\n"
                "        propagate.inject(headers)\n",
                "    headers = {}\n"
                "    propagate.inject(headers)\n"
                '    with tracer.start_as_current_span("checkout", kind=SpanKind.CLIENT) as span:\n',
            )
        ],
        why="preparing the headers first reads naturally; but inject writes the CURRENT span, and there is none yet",
    ),
    Misconception(
        "starts the span without making it current",
        exercise="w17_tracing_traced_get",
        edits=[
            (
                'with tracer.start_as_current_span("checkout", kind=SpanKind.CLIENT) as span:',
                'with tracer.start_span("checkout", kind=SpanKind.CLIENT) as span:',
            )
        ],
        why="start_span and start_as_current_span look interchangeable; only one sets the context inject reads",
    ),
    Misconception(
        "leaves the span kind at the default INTERNAL",
        exercise="w17_tracing_traced_get",
        edits=[('start_as_current_span("checkout", kind=SpanKind.CLIENT)', 'start_as_current_span("checkout")')],
        passes_visible=True,
        why="the trace is still joined; only backends that draw calls and service maps from CLIENT spans notice",
    ),
    Misconception(
        "forgets the status code attribute",
        exercise="w17_tracing_traced_get",
        edits=[('        span.set_attribute("http.response.status_code", response.status_code)\n', "")],
        passes_visible=True,
        why="the response is returned anyway, so nothing seems missing until you filter traces by status",
    ),
    # Exercise 3 — self time, critical path, bottleneck
    Misconception(
        "subtracts the sum of child durations (parallel children counted twice)",
        exercise="w17_tracing_critical_path",
        edits=[
            (
                'lo, hi = max(kid["start_ms"], cursor), min(kid["end_ms"], s["end_ms"])',
                'lo, hi = kid["start_ms"], kid["end_ms"]',
            )
        ],
        why="self time = duration - children reads like a subtraction of durations",
    ),
    Misconception(
        "does not clip children to their parent",
        exercise="w17_tracing_critical_path",
        edits=[('min(kid["end_ms"], s["end_ms"])', 'kid["end_ms"]')],
        passes_visible=True,
        why="in a synchronous call a child always ends inside its parent; fire-and-forget work does not",
    ),
    Misconception(
        "follows the longest child instead of the one that finished last",
        exercise="w17_tracing_critical_path",
        edits=[('key=lambda k: k["end_ms"], reverse=True', 'key=lambda k: k["end_ms"] - k["start_ms"], reverse=True')],
        why="'the slowest child is the critical one' sounds right and is right without parallelism",
    ),
    Misconception(
        "puts every child on the critical path (ignores parallel children)",
        exercise="w17_tracing_critical_path",
        edits=[('if kid["end_ms"] <= cursor:', "if True:")],
        why="walking the whole tree is what the waterfall shows, so every span seems to matter",
    ),
    Misconception(
        "takes the span with the largest duration as the bottleneck",
        exercise="w17_tracing_critical_path",
        edits=[
            (
                "return max(critical_path(spans), key=lambda name: own[name])",
                'return max(spans, key=lambda s: s["end_ms"] - s["start_ms"])["name"]',
            )
        ],  # fmt: skip
        why="the longest bar in the waterfall catches the eye; it is always the root",
    ),
    Misconception(
        "takes the largest self time among all spans, on the critical path or not",
        exercise="w17_tracing_critical_path",
        edits=[("max(critical_path(spans), key=lambda name: own[name])", "max(own, key=lambda name: own[name])")],
        passes_visible=True,
        why="in the syllabus's trace the two agree; a slow parallel call that finishes early is not the bottleneck",
    ),
    # Exercise 4 — alert states
    Misconception(
        "fires only when the time since pending is strictly greater than for:",
        exercise="w17_alerting_alert_states",
        edits=[("t - active_since >= for_s", "t - active_since > for_s")],
        why="'for 2 minutes' reads as 'more than 2 minutes'; Prometheus compares with >=",
    ),
    Misconception(
        "keeps the pending clock running through a blip",
        exercise="w17_alerting_alert_states",
        edits=[
            (
                '        else:\n            state = "inactive"',
                '        elif state != "pending":\n            state = "inactive"',
            )
        ],
        why="for: sounds like a total duration, not an unbroken one",
    ),
    Misconception(
        "goes from firing straight back to inactive (no resolved)",
        exercise="w17_alerting_alert_states",
        edits=[('state = "resolved"', 'state = "inactive"')],
        why="Prometheus's rule page shows only inactive, pending and firing; the resolution is what Alertmanager sees",
    ),
    Misconception(
        "never fires in the evaluation that made the alert pending, even with for: 0",
        exercise="w17_alerting_alert_states",
        edits=[
            (
                'if state == "pending" and t - active_since >= for_s:',
                'elif state == "pending" and t - active_since >= for_s:',
            )
        ],
        passes_visible=True,
        why="pending then firing looks like two steps; Prometheus does both in one evaluation",
    ),
    # Exercise 5 — burn rates and multiwindow alerts
    Misconception(
        "divides the error ratio by the SLO instead of the error budget",
        exercise="w17_alerting_burn_rate",
        edits=[("return ratio / (1 - slo)", "return ratio / slo")],
        why="'relative to the SLO' is how burn rate is often described in words",
    ),
    Misconception(
        "averages per-minute error ratios instead of dividing the sums",
        exercise="w17_alerting_burn_rate",
        edits=[
            (
                "    err = np.cumsum(np.asarray(errors, dtype=float))\n"
                "    req = np.cumsum(np.asarray(requests, dtype=float))\n",
                "    per_minute = np.divide(np.asarray(errors, dtype=float), np.asarray(requests, dtype=float),\n"
                "                           out=np.zeros(len(errors)), where=np.asarray(requests) > 0)\n"
                "    err = np.cumsum(per_minute)\n"
                "    req = np.cumsum(np.asarray(requests) > 0).astype(float)\n",
            )
        ],
        passes_visible=True,
        why="a mean of ratios is the obvious way to 'average the error rate'; it overweights quiet minutes",
    ),
    Misconception(
        "alerts on the long window only",
        exercise="w17_alerting_burn_rate",
        edits=[("return (long_burn > factor) & (short_burn > factor)", "return long_burn > factor")],
        why="the long window detects just as fast; the cost, a reset an hour late, shows only after the incident",
    ),
    Misconception(
        "fires when either window is over the factor",
        exercise="w17_alerting_burn_rate",
        edits=[("(long_burn > factor) & (short_burn > factor)", "(long_burn > factor) | (short_burn > factor)")],
        why="'two windows' read as two chances to catch the incident",
    ),
]
