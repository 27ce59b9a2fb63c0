"""Week 11 misconceptions: plausible wrong answers that must lose marks on their own exercise."""

from harness import Misconception

CASES = [
    # Exercise 1 — the syllabus's V2 as an Alembic migration
    Misconception(
        "adds name as NOT NULL without a default",
        exercise="w11_migrations_add_name",
        edits=[('upgrade=["ALTER TABLE users ADD COLUMN name VARCHAR(255)"]',
                'upgrade=["ALTER TABLE users ADD COLUMN name VARCHAR(255) NOT NULL"]')],
        why="'every user has a name' feels right, but the table already has rows and the old version inserts none",
    ),
    Misconception(
        "leaves the downgrade empty",
        exercise="w11_migrations_add_name",
        edits=[('downgrade=["ALTER TABLE users DROP COLUMN name"]', "downgrade=[]")],
        passes_visible=True,
        why="downgrades are never run in the happy path, so nobody notices they do nothing",
    ),
    Misconception(
        "downgrade drops the whole table",
        exercise="w11_migrations_add_name",
        edits=[('downgrade=["ALTER TABLE users DROP COLUMN name"]', 'downgrade=["DROP TABLE users"]')],
        passes_visible=True,
        why="copying V1's downgrade: the schema goes back further than one step and the users are lost",
    ),
    # Exercise 2 — expand, migrate, contract
    Misconception(
        "renames the column in the expand step",
        exercise="w11_migrations_expand_contract",
        edits=[('upgrade=["ALTER TABLE users ADD COLUMN full_name VARCHAR(255)"]',
                'upgrade=["ALTER TABLE users RENAME COLUMN name TO full_name"]')],
        why="a rename is one statement and looks harmless; the old version breaks at once",
    ),
    Misconception(
        "migrate step copies nothing",
        exercise="w11_migrations_expand_contract",
        edits=[('upgrade=["UPDATE users SET full_name = name WHERE full_name IS NULL"]', 'upgrade=["SELECT 1"]')],
        why="relying on the contract step to copy: meanwhile the new version shows empty names",
    ),
    Misconception(
        "contract drops the column without copying the rows written since the backfill",
        exercise="w11_migrations_expand_contract",
        edits=[('            "UPDATE users SET full_name = name WHERE full_name IS NULL",\n', "")],
        passes_visible=True,
        why="the backfill ran once, so the data 'is migrated' — but the old version kept writing name only",
    ),
    Misconception(
        "contract downgrade re-adds the column but not its data",
        exercise="w11_migrations_expand_contract",
        edits=[('            "UPDATE users SET name = full_name",\n', "")],
        passes_visible=True,
        why="a downgrade that restores the schema passes a schema roundtrip, yet the old version sees NULL names",
    ),
    # Exercise 3 — a leak report over the whole history
    Misconception(
        "scans only today's files",
        exercise="w11_secrets_leak_report",
        edits=[("for finding in secretscan.scan_history(path):", "for finding in secretscan.scan_tree(path):")],
        why="'the password was removed in the last commit, so the repository is clean'",
    ),
    Misconception(
        "scans only the checked-out branch",
        exercise="w11_secrets_leak_report",
        edits=[("secretscan.scan_history(path):", 'secretscan.scan_history(path, ["HEAD"]):')],
        passes_visible=True,
        why="git log shows the current branch by default; an unmerged spike branch is pushed all the same",
    ),
    Misconception(
        "one entry per finding instead of per secret",
        exercise="w11_secrets_leak_report",
        edits=[("report.setdefault(finding.hashed_secret, {",
                "report.setdefault((finding.hashed_secret, finding.filename, finding.type), {")],
        passes_visible=True,
        why="detect-secrets reports one secret under two plugin types and once per file",
    ),
    Misconception(
        "still present means the file still exists",
        exercise="w11_secrets_leak_report",
        edits=[('entry["in_working_tree"] = entry["hashed_secret"] in now',
                'entry["in_working_tree"] = any((Path(path) / name).exists() for name in entry["files"])')],
        why="the fix edited the file, so the file is there but the secret is gone",
    ),
    # Exercise 4 — settings the 12-factor way
    Misconception(
        "keeps secrets as plain strings",
        exercise="w11_secrets_load_settings",
        edits=[("settings[name] = Secret(value) if is_secret else value", "settings[name] = value")],
        why="a str is simpler — until the settings dict is logged at start-up",
    ),
    Misconception(
        "stops at the first missing setting",
        exercise="w11_secrets_load_settings",
        edits=[("                missing.append(name)\n                continue",
                '                raise ValueError(f"missing required setting {name}")')],
        passes_visible=True,
        why="fail fast, but one setting per restart: the operator fixes them one deploy at a time",
    ),
    Misconception(
        "keeps the trailing newline of a mounted secret file",
        exercise="w11_secrets_load_settings",
        edits=[('return mounted.read_text().rstrip("\\r\\n")', "return mounted.read_text()")],
        passes_visible=True,
        why="`echo token > file` adds a newline; the password then silently fails to authenticate",
    ),
    Misconception(
        "leaves PORT a string",
        exercise="w11_secrets_load_settings",
        edits=[('        settings["PORT"] = int(settings["PORT"])\n', '        settings["PORT"] = settings["PORT"]\n')],
        why="every environment variable is a string; the type has to be converted at the edge",
    ),
    # Exercise 5 — /health that checks the database
    Misconception(
        "answers 200 and puts the verdict only in the body",
        exercise="w11_health_endpoint",
        edits=[("return JSONResponse(body, status_code=200 if ok else 503)", "return JSONResponse(body)")],
        why="the JSON says database: false, but load balancers and probes read only the status code",
    ),
    Misconception(
        "checks the database once, at start-up",
        exercise="w11_health_endpoint",
        edits=[
            ("    async def health(request):\n        try:",
             "    try:\n        psycopg.connect(database_url, connect_timeout=2).close()\n        ok = True\n"
             "    except Exception:\n        ok = False\n\n    async def health(request):\n        try:"),
            ("            await asyncio.wait_for(check_database(), timeout)  # cancels the attempt when time is up\n"
             "            ok = True\n        except Exception:  # refused, timed out, any database error: not healthy\n"
             "            ok = False",
             "            pass\n        except Exception:\n            pass"),
        ],
        why="a cached verdict is cheap, and wrong as soon as the database goes away",
    ),
    Misconception(
        "no timeout on the database check",
        exercise="w11_health_endpoint",
        edits=[("await asyncio.wait_for(check_database(), timeout)", "await check_database()")],
        passes_visible=True,
        why="a stopped database refuses at once; a hung one never answers, and neither does /health",
    ),
    Misconception(
        "shows the database URL in the answer",
        exercise="w11_health_endpoint",
        edits=[('"checks": {"database": ok},', '"checks": {"database": ok},\n            "database": database_url,')],
        passes_visible=True,
        why="handy for debugging — and it publishes the database password to anyone who can reach /health",
    ),
]
