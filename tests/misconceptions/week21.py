"""Week 21 — named wrong answers (minimal edits of the reference solutions) that must lose marks."""

from harness import Misconception

CASES = [
    # Exercise 1 — vpa_recommendation
    Misconception(
        "sizes the target from the mean usage",
        exercise="w21_resilience_vpa",
        edits=[('"target": sized(90)', '"target": max(min_m, math.ceil(float(np.mean(usage_m)) * (1 + margin)))')],
        why="'average usage' is what most dashboards show first",
    ),
    Misconception(
        "forgets the safety margin",
        exercise="w21_resilience_vpa",
        edits=[("* (1 + margin)", "")],
        why="the percentile already feels safe",
    ),
    Misconception(
        "no 25m floor: an idle container gets a 5m request",
        exercise="w21_resilience_vpa",
        edits=[
            (
                "return max(min_m, math.ceil(float(np.percentile(usage_m, q)) * (1 + margin)))",
                "return math.ceil(float(np.percentile(usage_m, q)) * (1 + margin))",
            )
        ],
        passes_visible=True,
        why="the floor only matters for containers that are almost idle — exactly the ones nobody tests",
    ),
    Misconception(
        "hard-codes the 15 % margin instead of using the argument",
        exercise="w21_resilience_vpa",
        edits=[("(1 + margin)", "1.15")],
        passes_visible=True,
        why="the default is the only value the visible check uses",
    ),
    # Exercise 2 — simulate_hpa_v2
    Misconception(
        "adds up the per-metric proposals instead of taking the largest",
        exercise="w21_resilience_simulate_hpa_v2",
        edits=[('max(max(proposals), spec["minReplicas"])', 'max(sum(proposals), spec["minReplicas"])')],
        why="'CPU needs some Pods and memory needs some Pods' sounds additive",
    ),
    Misconception(
        "looks at the first metric (CPU) only",
        exercise="w21_resilience_simulate_hpa_v2",
        edits=[('for metric in spec["metrics"]:', 'for metric in spec["metrics"][:1]:')],
        why="most HPA examples have one CPU metric",
    ),
    Misconception(
        "ignores selectPolicy: always the most generous policy",
        exercise="w21_resilience_simulate_hpa_v2",
        edits=[('min(limits) if up.get("selectPolicy", "Max") == "Min" else max(limits)', "max(limits)")],
        passes_visible=True,
        why="Max is the default, so code written against the default never meets Min",
    ),
    Misconception(
        "measures every policy from the current replicas, not from the start of its period",
        exercise="w21_resilience_simulate_hpa_v2",
        edits=[('base = serving[max(0, i - policy["periodSeconds"] // step_s + 1)]', "base = replicas")],
        passes_visible=True,
        why="'4 Pods per 60 s' read as '4 Pods per decision'",
    ),
    Misconception(
        "rounds the Percent limit down",
        exercise="w21_resilience_simulate_hpa_v2",
        edits=[
            (
                'math.ceil(base * (1 + policy["value"] / 100))',
                'int(base * (1 + policy["value"] / 100))',
            )
        ],
        passes_visible=True,
        why="int() is the usual way to get a whole number of Pods; 100 % never shows the difference",
    ),
    # Exercise 3 — make_breaker / orders_or_fallback
    Misconception(
        "does not raise on 500: httpx returns the error response and the breaker counts a success",
        exercise="w21_resilience_breaker",
        edits=[("        response.raise_for_status()\n", "")],
        why="requests and httpx only raise on connection problems unless asked to raise on status",
    ),
    Misconception(
        "reset_timeout in milliseconds, as in opossum's resetTimeout",
        exercise="w21_resilience_breaker",
        edits=[("reset_timeout=1.0", "reset_timeout=1000")],
        why="the syllabus' opossum example uses resetTimeout: 30000 (ms)",
    ),
    Misconception(
        "swallows the error inside the protected function, so the breaker never sees a failure",
        exercise="w21_resilience_breaker",
        edits=[("response.raise_for_status()\n", "if response.is_error:\n            return FALLBACK\n")],
        why="'handle errors where they happen' — but then the breaker cannot count them",
    ),
    Misconception(
        "catches only HTTP status errors: a timeout escapes to the caller",
        exercise="w21_resilience_breaker",
        edits=[("httpx.HTTPError)", "httpx.HTTPStatusError)")],
        passes_visible=True,
        why="a failing service is imagined as one that answers 500, not one that does not answer",
    ),
    # Exercise 4 — monthly_cost
    Misconception(
        "MiB divided by 1000 instead of 1024",
        exercise="w21_resilience_monthly_cost",
        edits=[("memory_mib / 1024", "memory_mib / 1000")],
        why="GB and GiB are used interchangeably in everyday speech",
    ),
    Misconception(
        "prices the trace itself, not a month",
        exercise="w21_resilience_monthly_cost",
        edits=[("replica_hours * hours_per_month / trace_hours", "replica_hours")],
        why="replica-hours feel like the answer already",
    ),
    Misconception(
        "hard-codes 730 hours instead of using hours_per_month",
        exercise="w21_resilience_monthly_cost",
        edits=[("hours_per_month / trace_hours", "730 / trace_hours")],
        passes_visible=True,
        why="730 is the number everyone remembers",
    ),
]
