"""Week 10 misconceptions: plausible wrong answers to the blue-green, canary and Terraform exercises."""

from harness import Misconception

CASES = [
    # Exercise 1 — versions_seen
    Misconception(
        "reads the splitter's backend name instead of the version",
        exercise="w10_bg_versions_seen",
        edits=[('.json()["version"]', '.headers["X-Splitter-Backend"]')],
        why="X-Splitter-Backend is the first header that looks right; it names the colour, not the release",
    ),
    Misconception(
        "sets each version's count to 1 instead of adding to it",
        exercise="w10_bg_versions_seen",
        edits=[("counts[version] = counts.get(version, 0) + 1", "counts[version] = 1")],
    ),
    # Exercise 2 — switch_under_load
    Misconception(
        "smoke-tests the target through the public URL, which still routes to the old colour",
        exercise="w10_bg_switch_under_load",
        edits=[('httpx.get(backends[to] + "/health"', 'httpx.get(sp.url + "/health"')],
        passes_visible=True,
        why="'test green' done through the load balancer tests blue; step 2 of blue-green must bypass the router",
    ),
    Misconception(
        "lets a refused connection escape instead of refusing the switch",
        exercise="w10_bg_switch_under_load",
        edits=[
            (
                '    try:\n        healthy = httpx.get(backends[to] + "/health", timeout=1.0).status_code == 200\n'
                "    except httpx.HTTPError:\n        healthy = False\n",
                '    healthy = httpx.get(backends[to] + "/health", timeout=1.0).status_code == 200\n',
            )
        ],
        passes_visible=True,
        why="only the 'answers but unhealthy' case is imagined; a crashed target does not answer at all",
    ),
    Misconception(
        "reports every answer as 'after', also those sent before the switch",
        exercise="w10_bg_switch_under_load",
        edits=[("if start >= done and version", "if version")],
    ),
    # Exercise 3 — window
    Misconception(
        "uses the second scrape's totals: forgets that counters count from the process start",
        exercise="w10_canary_window",
        edits=[
            ("requests = int(requests_1 - requests_0)", "requests = int(requests_1)"),
            ("errors = int(errors_1 - errors_0)", "errors = int(errors_1)"),
            ("(le, count - buckets_0.get(le, 0.0))", "(le, count)"),
        ],
        passes_visible=True,
        why="on a freshly started service the totals equal the window, so it looks right in a quick test",
    ),
    Misconception(
        "counts the requests of every path (health checks and scrapes too)",
        exercise="w10_canary_window",
        edits=[('                if sample.labels.get("path") != path:\n                    continue\n', "")],
    ),
    Misconception(
        "counts every non-200 answer as an error (201 Created and 422 too)",
        exercise="w10_canary_window",
        edits=[('sample.labels["status"].startswith("5")', 'sample.labels["status"] != "200"')],
        passes_visible=True,
    ),
    Misconception(
        "returns p95 in seconds, the unit of the histogram",
        exercise="w10_canary_window",
        edits=[
            ("strategies.histogram_quantile(0.95, increase) * 1000", "strategies.histogram_quantile(0.95, increase)")
        ],
    ),
    # Exercise 4 — canary_verdict
    Misconception(
        "decides on any sample, however small",
        exercise="w10_canary_verdict",
        edits=[
            (
                '    if stable["requests"] < min_requests or canary["requests"] < min_requests:\n'
                '        return "wait"\n',
                "",
            )
        ],
    ),
    Misconception(
        "requires a minimum sample from the canary only",
        exercise="w10_canary_verdict",
        edits=[('stable["requests"] < min_requests or canary["requests"]', 'canary["requests"]')],
        passes_visible=True,
        why="the canary is the small side, so the stable side's sample is assumed to be large",
    ),
    Misconception(
        "compares the canary's error rate with zero instead of with stable's",
        exercise="w10_canary_verdict",
        edits=[
            (
                'canary["error_rate"] > stable["error_rate"] + max_error_increase',
                'canary["error_rate"] > max_error_increase',
            )
        ],
        passes_visible=True,
        why="a fixed threshold feels simpler; it aborts good canaries when a shared dependency fails",
    ),
    Misconception(
        "looks at errors only and ignores latency",
        exercise="w10_canary_verdict",
        edits=[('    if canary["p95_ms"] > stable["p95_ms"] + max_p95_increase_ms:\n        return "abort"\n', "")],
        passes_visible=True,
    ),
    # Exercise 5 — canary_rollout
    Misconception(
        "aborts without routing the traffic back to stable",
        exercise="w10_canary_rollout",
        edits=[("                sp.set_weights(stable=100, canary=0)\n", "")],
    ),
    Misconception(
        "treats 'still waiting' as good enough to go on",
        exercise="w10_canary_rollout",
        edits=[('if verdict != "promote":', 'if verdict == "abort":')],
        passes_visible=True,
        why="no evidence of a problem is read as evidence of no problem",
    ),
    Misconception(
        "scrapes the start of the window once for the whole rollout",
        exercise="w10_canary_rollout",
        edits=[
            ("            start = scrape()\n", ""),
            ("        for weight in steps:\n", "        start = scrape()\n        for weight in steps:\n"),
        ],
        passes_visible=True,
        why="each step's verdict then mixes in the earlier steps' traffic",
    ),
    # Exercise 6 — write_terraform
    Misconception(
        "hard-codes the Environment tag",
        exercise="w10_iac_terraform",
        edits=[("    Environment = var.environment\n", '    Environment = "prod"\n')],
        passes_visible=True,
        why="the snippet is copied from the prod configuration and works there",
    ),
    Misconception(
        "copies dev.tfvars to every environment",
        exercise="w10_iac_terraform",
        edits=[('f\'environment   = "{env}"', 'f\'environment   = "dev"')],
        passes_visible=True,
    ),
    Misconception(
        "forgets the Owner tag",
        exercise="w10_iac_terraform",
        edits=[("    Owner       = var.owner\n", "")],
    ),
]
