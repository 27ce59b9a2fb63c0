"""Week 24 — named wrong answers (minimal edits of the reference capstone) that must lose marks.

Each part of the capstone is checked by ``labkit.capstone``'s rubric (visible) and by edge cases the rubric does
not cover (hidden): the subtle cases below pass the rubric's criterion and are caught only there.
"""

from harness import Misconception

CASES = [
    # Exercise 1 — the service
    Misconception(
        "answers /health with plain text",
        exercise="w24_capstone_service",
        edits=[('return JSONResponse({"status": "ok", "version": VERSION})', 'return Response("ok")')],
        why="`curl /health` prints ok either way; a probe and a dashboard want a JSON object",
    ),
    Misconception(
        "logs the dict with str(): single quotes are not JSON",
        exercise="w24_capstone_service",
        edits=[("log.info(json.dumps({", "log.info(str({")],
        why="the line looks like JSON to a person; json.loads rejects it and the log pipeline drops it",
    ),
    Misconception(
        "hard-codes the version instead of reading APP_VERSION",
        exercise="w24_capstone_service",
        edits=[('VERSION = os.environ.get("APP_VERSION", "0.0.0")', 'VERSION = "1.0.0"')],
        passes_visible=True,
        why="the first release is 1.0.0, so everything looks right until two versions run side by side",
    ),
    Misconception(
        "does not validate an order: a missing item is a 500",
        exercise="w24_capstone_service",
        edits=[
            (
                '        if not isinstance(item, dict) or not isinstance(item.get("item"), str):\n'
                "            return JSONResponse("
                "{\"error\": \"expected {'item': str, 'qty': int}\"}, status_code=422)\n",
                "",
            )
        ],
        passes_visible=True,
        why="the happy path works; a client's mistake then pages the on-call engineer as a server error",
    ),
    # Exercise 2 — flags and tests
    Misconception(
        "lists only the finished feature in the manifest",
        exercise="w24_capstone_quality",
        edits=[('  {"feature": "bulk orders", "flag": "bulk_orders"},\n', "")],
        passes_visible=True,
        why="coverage of the features you list is 100 %: the number is only honest when every feature is listed",
    ),
    Misconception(
        "uses the feature's name with a dash as its flag",
        exercise="w24_capstone_quality",
        edits=[('"flag": "bulk_orders"', '"flag": "bulk-orders"')],
        why="a flag looks like a slug; the code checks bulk_orders and the measurement finds no such check",
    ),
    Misconception(
        "tests that run the code but assert nothing about POST",
        exercise="w24_capstone_quality",
        edits=[
            (
                "    assert created.status_code == 201\n"
                '    assert created.headers["x-service-version"]\n'
                '    assert {"item": "book", "qty": 2}.items() <= created.json().items()\n'
                '    assert client.get("/api/orders").json()["orders"]\n',
                "",
            ),
            (
                '    assert client.post("/api/orders", json={"qty": 1}).status_code == 422',
                '    client.post("/api/orders", json={"qty": 1})',
            ),
            (
                '    assert [o["item"] for o in answer.json()] == ["a", "b"]\n'
                '    assert answer.json()[0]["note"] == "gift"\n',
                "",
            ),
        ],
        passes_visible=True,
        why="coverage counts lines that ran, not lines that were checked: the gate passes, the bug ships",
    ),
    Misconception(
        "expects a health body the service does not send",
        exercise="w24_capstone_quality",
        edits=[
            (
                'assert client.get("/health").json()["status"] == "ok"',
                'assert client.get("/health").json()["status"] == "healthy"',
            )
        ],
        why="a test written from memory of another service: the suite is red and coverage cannot be trusted",
    ),
    # Exercise 3 — workflow and manifests
    Misconception(
        "probes /health for readiness too",
        exercise="w24_capstone_pipeline",
        edits=[("              path: /ready\n", "              path: /health\n")],
        why="one endpoint seems enough; then a pod that cannot reach its database still gets traffic",
    ),
    Misconception(
        "uses the removed autoscaling/v2beta2 API",
        exercise="w24_capstone_pipeline",
        edits=[("apiVersion: autoscaling/v2\n", "apiVersion: autoscaling/v2beta2\n")],
        why="copied from an older tutorial; Kubernetes 1.26 removed it",
    ),
    Misconception(
        "no timeout-minutes on the test job",
        exercise="w24_capstone_pipeline",
        edits=[("    timeout-minutes: 10\n", "")],
        why="GitHub's default job timeout is 360 minutes: a hung test holds the trunk for six hours",
    ),
    Misconception(
        "the Service targets port 8080, the container listens on 8000",
        exercise="w24_capstone_pipeline",
        edits=[("      targetPort: 8000\n", "      targetPort: 8080\n")],
        passes_visible=True,
        why="every manifest is valid on its own; only the pair is wrong, and every request fails",
    ),
    Misconception(
        "keeps the default rolling update (maxUnavailable 25 %)",
        exercise="w24_capstone_pipeline",
        edits=[
            (
                "  strategy:\n    type: RollingUpdate\n"
                "    rollingUpdate:\n      maxUnavailable: 0\n      maxSurge: 1\n",
                "",
            )
        ],
        passes_visible=True,
        why="defaults feel safe; this one removes a pod before its replacement is ready",
    ),
    # Exercise 4 — migrations
    Misconception(
        "renames qty to quantity in the same deploy",
        exercise="w24_capstone_migrations",
        edits=[
            (
                '"upgrade": ["ALTER TABLE orders ADD COLUMN note TEXT"]',
                '"upgrade": ["ALTER TABLE orders ADD COLUMN note TEXT", '
                '"ALTER TABLE orders RENAME COLUMN qty TO quantity"]',
            )
        ],
        why="a tidy-up 'while we are at it': the old version, still serving, asks for qty",
    ),
    Misconception(
        "adds note as NOT NULL without a default",
        exercise="w24_capstone_migrations",
        edits=[('"ALTER TABLE orders ADD COLUMN note TEXT"]', '"ALTER TABLE orders ADD COLUMN note TEXT NOT NULL"]')],
        why="the new code always writes a note; the table's existing rows and the old code do not",
    ),
    Misconception(
        "a downgrade that does nothing",
        exercise="w24_capstone_migrations",
        edits=[('"downgrade": ["ALTER TABLE orders DROP COLUMN note"]', '"downgrade": []')],
        passes_visible=True,
        why="'we never roll back the schema' — until the next upgrade fails on a column that already exists",
    ),
    Misconception(
        "forgets to drop the table when undoing the first migration",
        exercise="w24_capstone_migrations",
        edits=[('"downgrade": ["DROP TABLE orders"]', '"downgrade": []')],
        passes_visible=True,
        why="the first migration feels permanent; a downgrade to base must still restore an empty database",
    ),
    # Exercise 5 — deploy with rollback
    Misconception(
        "promotes any release that answers, whatever the status",
        exercise="w24_capstone_deploy",
        edits=[("                if status == 200:", "                if status:")],
        why="'it answered' is mistaken for 'it is healthy': a 503 is an answer too",
    ),
    Misconception(
        "rolls back but leaves the broken release running",
        exercise="w24_capstone_deploy",
        edits=[("    fleet.stop(new)\n", "")],
        why="traffic went back to the old version, so the new process is forgotten — and keeps its resources",
    ),
    Misconception(
        "checks health once, without retrying",
        exercise="w24_capstone_deploy",
        edits=[("            time.sleep(delay)\n", "            break\n")],
        why="a process that has just started is not listening yet: one check rolls back every release",
    ),
    # Exercise 6 — the history
    Misconception(
        "a branch per part that lives 30 hours",
        exercise="w24_capstone_history",
        edits=[('repo.merge(f"change-{n}", after="15m")', 'repo.merge(f"change-{n}", after="30h")')],
        why="finishing a part before merging it feels safer; it is the long-lived branch TBD avoids",
    ),
    Misconception(
        "commits the parts straight to main without merging anything",
        exercise="w24_capstone_history",
        edits=[
            ('            repo.branch(f"change-{n}")\n', ""),
            ('            repo.merge(f"change-{n}", after="15m")\n', ""),
        ],
        why="committing to trunk is TBD too, but the rubric measures integrations: one merge in three days",
    ),
    Misconception(
        "keeps the merged branches",
        exercise="w24_capstone_history",
        edits=[('repo.merge(f"change-{n}", after="15m")', 'repo.merge(f"change-{n}", after="15m", delete=False)')],
        passes_visible=True,
        why="the branches are merged, so they seem harmless; a list of stale branches hides the live ones",
    ),
    Misconception(
        "tags deployments with lightweight tags",
        exercise="w24_capstone_history",
        edits=[('repo.tag(f"v1.{n}.0", after="5m")', 'repo.tag(f"v1.{n}.0", lightweight=True, after="5m")')],
        passes_visible=True,
        why="`git tag v1.2.0` is the shortest command; it records no tagger and no deployment time",
    ),
]
