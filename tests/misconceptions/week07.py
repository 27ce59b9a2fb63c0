"""Week 7 (advanced CI): plausible wrong answers, each a minimal edit of the reference solution."""

from harness import Misconception

CASES = [
    # count_orders (warm-up)
    Misconception(
        "pastes the name into the SQL with an f-string",
        exercise="w07_db_count",
        edits=[('conn.execute("SELECT count(*) FROM orders WHERE customer = %s", (customer,))',
                'conn.execute(f"SELECT count(*) FROM orders WHERE customer = \'{customer}\'")')],
        passes_visible=True,
        why="it works for every name without a quote, which is every name in a quick test",
    ),
    Misconception(
        "returns the row fetchone() gives (a tuple), not the count",
        exercise="w07_db_count",
        edits=[("return int(row[0])", "return row")],
    ),
    Misconception(
        "matches names case-insensitively (ILIKE) although the spec says exact",
        exercise="w07_db_count",
        edits=[("WHERE customer = %s", "WHERE customer ILIKE %s")],
        passes_visible=True,
    ),
    # OrderRepository
    Misconception(
        "builds the INSERT with an f-string instead of parameters",
        exercise="w07_db_repository",
        edits=[('"INSERT INTO orders (customer, amount_cents, status) VALUES (%s, %s, %s) RETURNING id",\n'
                "            (customer, amount_cents, status),",
                "f\"INSERT INTO orders (customer, amount_cents, status) VALUES ('{customer}', {amount_cents}, "
                "'{status}') RETURNING id\",")],
        passes_visible=True,
        why="plain names like 'ann' work; O'Brien and injection attempts do not",
    ),
    Misconception(
        "never commits, so other connections do not see the new orders",
        exercise="w07_db_repository",
        edits=[("        self.conn.commit()\n        return int(row[0])", "        return int(row[0])")],
        passes_visible=True,
    ),
    Misconception(
        "accepts True as an amount (bool is an int)",
        exercise="w07_db_repository",
        edits=[("if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents < 0:",
                "if not isinstance(amount_cents, int) or amount_cents < 0:")],
        passes_visible=True,
    ),
    # ORDER_TESTS (the student's own tests)
    Misconception(
        "never asks for an order that does not exist",
        exercise="w07_db_tests",
        edits=[("    assert repo.get(42) is None\n", "")],
        passes_visible=True,
        why="the happy path is tested; the None for a missing id is not",
    ),
    Misconception(
        "compares the listed customers sorted, so the id order is never checked",
        exercise="w07_db_tests",
        edits=[('assert [o["customer"] for o in repo.list()] == ["a", "b", "c", "d"]',
                'assert sorted(o["customer"] for o in repo.list()) == ["a", "b", "c", "d"]')],
        passes_visible=True,
    ),
    Misconception(
        "checks only the customer of a fetched order, not the whole row",
        exercise="w07_db_tests",
        edits=[('assert repo.get(2) == {"id": 2, "customer": "ben", "amount_cents": 990, "status": "paid"}',
                'assert repo.get(2)["customer"] == "ben"'),
               ('assert repo.get(1) == {"id": 1, "customer": "ann", "amount_cents": 1250, "status": "new"}',
                'assert repo.get(1)["customer"] == "ann"')],
        passes_visible=True,
    ),
    # run_parallel / amdahl / parallel_fraction
    Misconception(
        "runs the jobs one after the other",
        exercise="w07_parallel_amdahl",
        edits=[("    with ThreadPoolExecutor(max_workers=workers) as pool:\n"
                "        futures = {name: pool.submit(job) for name, job in jobs.items()}\n"
                "        return {name: future.result() for name, future in futures.items()}",
                "    return {name: job() for name, job in jobs.items()}")],
    ),
    Misconception(
        "ignores the worker limit (ThreadPoolExecutor's default size)",
        exercise="w07_parallel_amdahl",
        edits=[("with ThreadPoolExecutor(max_workers=workers) as pool:", "with ThreadPoolExecutor() as pool:")],
        passes_visible=True,
    ),
    Misconception(
        "accepts a speed-up outside 1..workers and returns a fraction outside 0..1",
        exercise="w07_parallel_amdahl",
        edits=[("    if not 1 <= speedup <= workers:\n"
                '        raise ValueError(f"a speed-up on {workers} workers lies between 1 and {workers}, '
                'got {speedup!r}")\n', "")],
        passes_visible=True,
    ),
    # changed_paths / services_to_build
    Misconception(
        "diffs with two dots, so changes made on main since the branch started count too",
        exercise="w07_monorepo",
        edits=[('f"{base}...{head}"', 'f"{base}..{head}"')],
        passes_visible=True,
    ),
    Misconception(
        "lets git detect renames, so the service a file moved out of is missed",
        exercise="w07_monorepo",
        edits=[('"diff", "--name-only", "--no-renames", "-z",', '"diff", "--name-only", "-z",')],
        passes_visible=True,
    ),
    Misconception(
        "reads git's line output without -z, where unusual names come quoted",
        exercise="w07_monorepo",
        edits=[('"diff", "--name-only", "--no-renames", "-z",', '"diff", "--name-only", "--no-renames",'),
               ('proc.stdout.split("\\0")', "proc.stdout.splitlines()")],
        passes_visible=True,
    ),
    Misconception(
        "skips only the docs/ folder, so a service's README.md triggers its build",
        exercise="w07_monorepo",
        edits=[('if path.endswith(".md") or top == "docs":', 'if top == "docs":')],
        passes_visible=True,
    ),
    Misconception(
        "looks for shared/ before skipping Markdown, so shared/README.md builds everything",
        exercise="w07_monorepo",
        edits=[('        if path.endswith(".md") or top == "docs":\n            continue\n'
                '        if top == "shared" or top not in services:\n            return sorted(services)\n',
                '        if top == "shared":\n            return sorted(services)\n'
                '        if path.endswith(".md") or top == "docs":\n            continue\n'
                '        if top not in services:\n            return sorted(services)\n')],
        passes_visible=True,
    ),
]
