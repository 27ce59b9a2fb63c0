"""Week 20 misconceptions: the performance-testing and caching mistakes people really make, as minimal edits."""

from harness import Misconception

CASES = [
    # -- Exercise 1: perf_gate ---------------------------------------------------------------------------------
    Misconception(
        "gates on the first row of the CSV instead of Aggregated",
        exercise="w20_perf_gate",
        edits=[
            (
                'rows = [row for row in csv.DictReader(fh) if row["Name"] == "Aggregated"]',
                "rows = list(csv.DictReader(fh))",
            )
        ],
        passes_visible=True,
        why="with one endpoint the first row and Aggregated agree; with several, the first endpoint hides the rest",
    ),
    Misconception(
        "exactly at the limit passes (<= instead of <)",
        exercise="w20_perf_gate",
        edits=[("if p95 is not None and p95 >= max_p95_ms:", "if p95 is not None and p95 > max_p95_ms:")],
        passes_visible=True,
        why="'p95 under 500' read as 'not over 500'; k6's p(95)<500 is strict",
    ),
    Misconception(
        "a load test that sent nothing passes",
        exercise="w20_perf_gate",
        edits=[('    if requests == 0:\n        reasons.append("no requests: the load test sent nothing")\n', "")],
        passes_visible=True,
        why="no failures and no slow requests looks green; a wrong --host or a broken locustfile then passes CI",
    ),
    Misconception(
        "error rate as a percentage compared with a fraction",
        exercise="w20_perf_gate",
        edits=[
            (
                "error_rate = failures / requests if requests else 0.0",
                "error_rate = 100 * failures / requests if requests else 0.0",
            )
        ],
        why="locust's console prints failures as a percentage, the threshold is a fraction",
    ),
    # -- Exercise 2: write_locustfile --------------------------------------------------------------------------
    Misconception(
        "no wait_time: the users fire as fast as the service answers",
        exercise="w20_perf_locustfile",
        edits=[("    wait_time = constant_throughput(10)\n", "")],
        passes_visible=True,
        why="the run still works, but its size depends on the machine's speed and nothing bounds it",
    ),
    Misconception(
        "constant(10) read as 10 requests per second",
        exercise="w20_perf_locustfile",
        edits=[
            ("from locust import HttpUser, constant_throughput, task", "from locust import HttpUser, constant, task"),
            ("wait_time = constant_throughput(10)", "wait_time = constant(10)"),
        ],
        why="constant(10) waits 10 seconds between tasks; constant_throughput(10) runs 10 tasks per second",
    ),
    Misconception(
        "tasks without weights (reads and writes equally often)",
        exercise="w20_perf_locustfile",
        edits=[("    @task(3)\n", "    @task\n")],
        passes_visible=True,
        why="@task alone means weight 1: the mix is 50/50 instead of 3 reads per write",
    ),
    Misconception(
        "form data instead of a JSON body",
        exercise="w20_perf_locustfile",
        edits=[('json={"item": "book", "qty": 1}', 'data={"item": "book", "qty": 1}')],
        why="requests' data= sends a form; the API answers 422 and every POST fails",
    ),
    # -- Exercise 3: detect_regression -------------------------------------------------------------------------
    Misconception(
        "statistically significant is enough (no minimum slowdown)",
        exercise="w20_perf_regression",
        edits=[
            (
                '"regression": bool(p_value < alpha and slowdown >= min_slowdown),',
                '"regression": bool(p_value < alpha),',
            )
        ],
        passes_visible=True,
        why="with enough runs a 2 % slowdown is significant; blocking merges on it trains people to ignore the gate",
    ),
    Misconception(
        "compares means, so one noisy run decides the slowdown",
        exercise="w20_perf_regression",
        edits=[
            (
                "statistics.median(candidate_ms) / statistics.median(baseline_ms)",
                "statistics.mean(candidate_ms) / statistics.mean(baseline_ms)",
            )
        ],
        passes_visible=True,
        why="the mean is the first summary people reach for; latency runs have outliers",
    ),
    Misconception(
        "the last run decides",
        exercise="w20_perf_regression",
        edits=[
            (
                '"regression": bool(p_value < alpha and slowdown >= min_slowdown),',
                '"regression": bool(candidate_ms[-1] > baseline_ms[-1] * (1 + min_slowdown)),',
            )
        ],
        passes_visible=True,
        why="what a CI job comparing 'this run' with 'the last run' does",
    ),
    Misconception(
        "the arguments of mannwhitneyu swapped",
        exercise="w20_perf_regression",
        edits=[("stats.mannwhitneyu(candidate_ms, baseline_ms,", "stats.mannwhitneyu(baseline_ms, candidate_ms,")],
        why="alternative='greater' is about the FIRST sample: swapped, it asks whether the baseline is slower",
    ),
    Misconception(
        "a two-sided test for a one-sided question",
        exercise="w20_perf_regression",
        edits=[('alternative="greater"', 'alternative="two-sided"')],
        why="two-sided is SciPy's default; it doubles p and misses moderate slowdowns",
    ),
    # -- Exercise 4: get_user ----------------------------------------------------------------------------------
    Misconception(
        "Redis key without a TTL",
        exercise="w20_perf_cache_get",
        edits=[("r.set(key, json.dumps(user), ex=L2_TTL_S)", "r.set(key, json.dumps(user))")],
        passes_visible=True,
        why="the read works; the key never expires, so any missed invalidation is stale forever",
    ),
    Misconception(
        "an L2 hit does not refill L1",
        exercise="w20_perf_cache_get",
        edits=[("        user = json.loads(raw)\n", "        return json.loads(raw)\n")],
        passes_visible=True,
        why="returning early looks tidy; every read after L1 expires then pays the Redis round trip",
    ),
    Misconception(
        "returns Redis's JSON string instead of a dict",
        exercise="w20_perf_cache_get",
        edits=[("        user = json.loads(raw)\n", "        user = raw\n")],
        why="Redis stores strings; the value looks right when printed",
    ),
    Misconception(
        "forgets that the user may not exist",
        exercise="w20_perf_cache_get",
        edits=[("        if user is None:\n            return None\n", "")],
        passes_visible=True,
        why="json.dumps(None) is 'null': the miss is cached, and a user created later stays invisible",
    ),
    # -- Exercise 5: update_user -------------------------------------------------------------------------------
    Misconception(
        "deletes the cache before writing the database",
        exercise="w20_perf_cache_update",
        edits=[
            (
                "    user = db.update_user(user_id, fields)\n    key = user_key(user_id)\n    r.delete(key)\n"
                "    l1.pop(key, None)\n",
                "    key = user_key(user_id)\n    r.delete(key)\n    l1.pop(key, None)\n"
                "    user = db.update_user(user_id, fields)\n",
            )
        ],
        passes_visible=True,
        why="'clear the cache, then save' feels safe; a read in between puts the old row back",
    ),
    Misconception(
        "invalidates Redis but not the in-process L1",
        exercise="w20_perf_cache_update",
        edits=[("    l1.pop(key, None)\n", "")],
        why="Redis is 'the cache'; the dict in the process is forgotten",
    ),
    Misconception(
        "invalidates L1 but not Redis",
        exercise="w20_perf_cache_update",
        edits=[("    r.delete(key)\n", "")],
        why="testing on one instance, clearing memory looks like enough",
    ),
    Misconception(
        "write-through without a TTL",
        exercise="w20_perf_cache_update",
        edits=[("    r.delete(key)\n", "    r.set(key, json.dumps(user))\n")],
        passes_visible=True,
        why="SET without EX removes the key's TTL: the next missed invalidation is stale forever",
    ),
]
