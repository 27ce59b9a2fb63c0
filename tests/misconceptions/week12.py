"""Week 12 misconceptions: plausible wrong answers to the guard-rail, assignment, metrics, rollout and A/B exercises.

Each case is a minimal edit of the reference solution; see harness.py for how they are run.
"""

from harness import Misconception

CASES = [
    # ---------------------------------------------------------------- Exercise 1: which guard-rails are breached?
    Misconception(
        "tests for the breach (value >= limit) instead of the rail, so a window without data passes",
        exercise="w12_monitor_breaches",
        edits=[("holds = value < limit", "holds = not value >= limit")],
        passes_visible=True,
        why="'breached if error_rate >= 1 %' reads naturally, but every comparison with nan is False",
    ),
    Misconception(
        "treats a value exactly at the limit as fine (<= and >=)",
        exercise="w12_monitor_breaches",
        edits=[
            ("holds = value < limit", "holds = value <= limit"),
            ("holds = value > limit", "holds = value >= limit"),
        ],
        passes_visible=True,
        why="'below 1 %' is read as 'at most 1 %'",
    ),
    Misconception(
        "checks the global GUARDRAILS instead of the guardrails argument",
        exercise="w12_monitor_breaches",
        edits=[("guardrails.items()", "GUARDRAILS.items()")],
        why="the default argument and the global have the same value in most examples",
    ),
    # ---------------------------------------------------------------- Exercise 2: sticky assignment
    Misconception(
        "uses Python's hash(), which is salted per process",
        exercise="w12_rollout_assign",
        edits=[
            (
                'digest = hashlib.sha256(f"{experiment}:{user_id}".encode("utf-8")).digest()\n'
                '    bucket = int.from_bytes(digest[:8], "big") % 100',
                'bucket = hash(f"{experiment}:{user_id}") % 100',
            )
        ],
        passes_visible=True,
        why="inside one kernel hash() is sticky and fair; only another process (another server) disagrees",
    ),
    Misconception(
        "draws a random bucket on every call (the syllabus' Math.random())",
        exercise="w12_rollout_assign",
        edits=[('bucket = int.from_bytes(digest[:8], "big") % 100', "bucket = random.randrange(100)")],
        why="the share of requests is right, so it looks like a working rollout",
    ),
    Misconception(
        "hashes the user id alone, so every experiment picks the same users",
        exercise="w12_rollout_assign",
        edits=[('f"{experiment}:{user_id}"', 'f"{user_id}"')],
        passes_visible=True,
        why="each experiment on its own is sticky and fair; only two experiments together show the correlation",
    ),
    Misconception(
        "takes one byte of the digest modulo 100 (modulo bias)",
        exercise="w12_rollout_assign",
        edits=[('int.from_bytes(digest[:8], "big") % 100', "digest[0] % 100")],
        why="a byte looks random enough; 256 is not a multiple of 100",
    ),
    # ---------------------------------------------------------------- Exercise 3: metrics from two scrapes
    Misconception(
        "matches the family name http_requests_total (the parser strips _total)",
        exercise="w12_monitor_window",
        edits=[('if sample.name == "http_requests_total":', 'if family.name == "http_requests_total":')],
        why="the exposition text says http_requests_total, the parsed family is called http_requests",
    ),
    Misconception(
        "counts only status 500 as an error (misses 502 and 503)",
        exercise="w12_monitor_window",
        edits=[("if status >= 500:", "if status == 500:")],
        passes_visible=True,
        why="the lab service's injected errors are all 500",
    ),
    Misconception(
        "counts 4xx answers as server errors",
        exercise="w12_monitor_window",
        edits=[("if status >= 500:", "if status >= 400:")],
        passes_visible=True,
        why="'not 2xx means error' - but a 422 is the client's mistake, not the new version's",
    ),
    Misconception(
        "ignores counter resets (a restart makes the window negative)",
        exercise="w12_monitor_window",
        edits=[('reset = after["requests"] < before["requests"]', "reset = False")],
        passes_visible=True,
        why="counters 'only go up' - until the process restarts",
    ),
    Misconception(
        "reports the bucket's upper bound instead of interpolating",
        exercise="w12_monitor_window",
        edits=[("lower + (le - lower) * (rank - below) / (cumulative - below)", "le")],
        why="'the p95 is in the 250 ms bucket' is read as 'the p95 is 250 ms'",
    ),
    # ---------------------------------------------------------------- Exercise 4: progressive rollout
    Misconception(
        "rolls back to the first step instead of switching the flag off",
        exercise="w12_rollout_progressive",
        edits=[("flag.set(0, reason=reason)", "flag.set(steps[0], reason=reason)")],
        why="'keep a few users on it to debug' - they keep hitting the broken version",
    ),
    Misconception(
        "sets the flag to 0 on a breach but carries on with the next steps",
        exercise="w12_rollout_progressive",
        edits=[
            (
                'return roll_back(percent, f"rollback at {percent} %: guard-rails breached: {details}")',
                'roll_back(percent, f"rollback at {percent} %: guard-rails breached: {details}")',
            )
        ],
        why="the rollback helper is called, but nothing stops the loop",
    ),
    Misconception(
        "judges a step on its first scrape with any requests at all",
        exercise="w12_rollout_progressive",
        edits=[('judged = w["requests"] >= min_requests', 'judged = w["requests"] > 0')],
        why="a few good requests look like a healthy step; at 5 % they prove nothing",
    ),
    # ---------------------------------------------------------------- Exercise 5: A/B significance
    Misconception(
        "uses a one-sided p-value",
        exercise="w12_ab_significance",
        edits=[("p_value = float(2 * stats.norm.sf(abs(z)))", "p_value = float(stats.norm.sf(abs(z)))")],
        why="'we only care whether B is better' - but B could be worse, and that must count too",
    ),
    Misconception(
        "uses the unpooled standard error",
        exercise="w12_ab_significance",
        edits=[
            (
                "se = math.sqrt(pooled * (1 - pooled) * (1 / visitors_a + 1 / visitors_b))",
                "se = math.sqrt(rate_a * (1 - rate_a) / visitors_a + rate_b * (1 - rate_b) / visitors_b)",
            )
        ],
        why="the unpooled error is right for a confidence interval, not for the test of 'no difference'",
    ),
    Misconception(
        "divides by a zero standard error when nobody (or everybody) converted",
        exercise="w12_ab_significance",
        edits=[("z = (rate_b - rate_a) / se if se > 0 else 0.0", "z = (rate_b - rate_a) / se")],
        passes_visible=True,
        why="real experiments always have some conversions - until a broken tracking pixel reports none",
    ),
    Misconception(
        "hard-codes the 95 % quantile in the sample size, ignoring alpha",
        exercise="w12_ab_significance",
        edits=[("stats.norm.ppf(1 - alpha / 2)", "stats.norm.ppf(0.975)")],
        passes_visible=True,
        why="the formula is copied with alpha = 0.05 already filled in",
    ),
    Misconception(
        "rounds the sample size down",
        exercise="w12_ab_significance",
        edits=[("return int(math.ceil(n))", "return int(n)")],
        why="int() looks like 'make it a whole number', but 3838.1 visitors are not enough",
    ),
]
