"""labkit.migrations: real Alembic projects on a real PostgreSQL; rehearsals catch breaking steps; roundtrips."""

from __future__ import annotations

import pytest

from labkit import migrations, postgres
from labkit.migrations import Migration, MigrationError, Query

pytestmark = pytest.mark.postgres

V1 = Migration(
    "0001",
    "create users",
    upgrade=["CREATE TABLE users (id SERIAL PRIMARY KEY, email VARCHAR(255) NOT NULL UNIQUE, name VARCHAR(255))"],
    downgrade=["DROP TABLE users"],
)
EXPAND = Migration(
    "0002",
    "expand",
    ["ALTER TABLE users ADD COLUMN full_name VARCHAR(255)"],
    ["ALTER TABLE users DROP COLUMN full_name"],
)
BACKFILL = Migration("0003", "backfill", ["UPDATE users SET full_name = name WHERE full_name IS NULL"], [])
CONTRACT = Migration(
    "0004",
    "contract",
    ["UPDATE users SET full_name = name WHERE full_name IS NULL", "ALTER TABLE users DROP COLUMN name"],
    ["ALTER TABLE users ADD COLUMN name VARCHAR(255)", "UPDATE users SET name = full_name"],
)
RENAME = Migration(
    "0002",
    "rename",
    ["ALTER TABLE users RENAME COLUMN name TO full_name"],
    ["ALTER TABLE users RENAME COLUMN full_name TO name"],
)
OLD = [
    Query("sign up", "INSERT INTO users (email, name) VALUES (%(e)s, 'Old')", {"e": "old{step}@example.org"}),
    Query("list", "SELECT id, email, name FROM users"),
]
NEW = [
    Query("sign up", "INSERT INTO users (email, full_name) VALUES (%(e)s, 'New')", {"e": "new{step}@example.org"}),
    Query("list", "SELECT id, email, full_name FROM users"),
]
SEED = ["INSERT INTO users (email, name) VALUES ('ada@example.org', 'Ada')"]


@pytest.fixture(scope="module")
def pg():
    with postgres.server(quiet=True) as server:
        yield server


def test_migration_validates_its_fields():
    with pytest.raises(ValueError, match="revision must be a short id"):
        Migration("00-1", "x", ["SELECT 1"])
    with pytest.raises(ValueError, match="list of SQL statements"):
        Migration("0001", "x", "SELECT 1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="message"):
        Migration("0001", " ", ["SELECT 1"])
    assert not Migration("0001", "x", ["SELECT 1"], None).reversible
    assert Migration("0001", "x", ["SELECT 1"], []).reversible


def test_render_writes_an_alembic_revision_file():
    text = migrations.render(EXPAND, "0001")
    assert "revision = '0002'" in text and "down_revision = '0001'" in text
    assert "op.execute('ALTER TABLE users ADD COLUMN full_name VARCHAR(255)')" in text
    compile(text, "0002.py", "exec")
    irreversible = migrations.render(Migration("0009", "drop it", ["DROP TABLE t"], None), None)
    assert "raise RuntimeError" in irreversible and "down_revision = None" in irreversible
    assert "pass  # nothing to do" in migrations.render(BACKFILL, "0002")


def test_project_upgrades_and_downgrades_step_by_step(pg):
    with pg.database() as db, migrations.project([V1, EXPAND], db.url) as proj:
        assert proj.history() == ["0001", "0002"]
        assert proj.current() is None
        assert proj.upgrade("+1") == "0001"
        assert set(migrations.schema(db.url)["users"]) == {"id", "email", "name"}
        assert proj.upgrade() == "0002"
        assert migrations.schema(db.url)["users"]["full_name"] == "character varying(255) NULL"
        assert pg.query("SELECT version_num FROM alembic_version", dbname=db.name) == [("0002",)]
        assert proj.downgrade("-1") == "0001"
        assert proj.downgrade("base") is None
        assert migrations.schema(db.url) == {}
        assert "ADD COLUMN full_name" in proj.script("0002")
        with pytest.raises(KeyError, match="known"):
            proj.script("9999")


def test_a_failing_migration_is_rolled_back_and_explained(pg):
    broken = Migration("0002", "broken", ["ALTER TABLE nope ADD COLUMN a int"], [])
    with pg.database() as db, migrations.project([V1, broken], db.url) as proj:
        with pytest.raises(MigrationError, match=r"UndefinedTable.*now at revision '0001'"):
            proj.upgrade()
        assert proj.current() == "0001"


def test_irreversible_migration_refuses_to_downgrade(pg):
    gone = Migration("0002", "drop name", ["ALTER TABLE users DROP COLUMN name"], None)
    with pg.database() as db, migrations.project([V1, gone], db.url) as proj:
        proj.upgrade()
        with pytest.raises(MigrationError, match="irreversible"):
            proj.downgrade("-1")


def test_rehearse_catches_a_rename_in_one_step(pg):
    with pg.database() as db:
        report = migrations.rehearse([V1, RENAME], db.url, {"old": OLD, "new": NEW}, seed=SEED)
    assert report.failed_migration == ""
    assert report.ok("old", "0001") and not report.ok("new", "0001")
    assert report.first_failure("old") == "0002"
    assert report.first_failure("new") == "0001"
    assert "UndefinedColumn" in report.errors("old", "0002")["sign up"]
    frame = report.frame
    assert list(frame.columns) == ["step", "revision", "app", "query", "ok", "error"]
    assert len(frame) == 2 * 2 * 2


def test_rehearse_expand_migrate_contract_keeps_the_old_version_working(pg):
    with pg.database() as db:
        report = migrations.rehearse(
            [V1, EXPAND, BACKFILL, CONTRACT], db.url, {"old": OLD, "new": NEW}, seed=SEED, live={"0004": ["new"]}
        )
        rows = dict(pg.query("SELECT email, full_name FROM users", dbname=db.name))
    assert report.first_failure("old") is None
    assert [report.ok("new", r) for r in ("0001", "0002", "0003", "0004")] == [False, True, True, True]
    assert not any(r["app"] == "old" and r["revision"] == "0004" for r in report.records)  # retired
    assert rows["ada@example.org"] == "Ada"
    assert rows["old3@example.org"] == "Old"  # written by the old version after the backfill, caught up
    with pytest.raises(KeyError, match="no results"):
        report.ok("old", "0004")


def test_rehearse_reports_a_migration_that_cannot_apply(pg):
    not_null = Migration("0002", "not null", ["ALTER TABLE users ADD COLUMN full_name VARCHAR(255) NOT NULL"], [])
    with pg.database() as db:
        report = migrations.rehearse([V1, not_null], db.url, {"old": OLD}, seed=SEED)
    assert report.failed_migration == "0002"
    assert "NotNullViolation" in report.failure
    assert report.revisions == ["0001", "0002"]
    assert {r["revision"] for r in report.records} == {"0001"}


def test_rehearse_checks_its_arguments(pg):
    with pg.database() as db:
        with pytest.raises(ValueError, match="not in the history"):
            migrations.rehearse([V1], db.url, {"old": OLD}, seed={"0009": SEED})
        with pytest.raises(ValueError, match="at least one application"):
            migrations.rehearse([V1], db.url, {})
        with pytest.raises(ValueError, match="unique"):
            migrations.rehearse([V1, V1], db.url, {"old": OLD})
        with pytest.raises(TypeError, match="Migration objects"):
            migrations.rehearse(["CREATE TABLE t ()"], db.url, {"old": OLD})  # type: ignore[list-item]


def test_run_queries_commits_or_rolls_back(pg):
    with pg.database() as db, migrations.project([V1], db.url) as proj:
        proj.upgrade()
        assert migrations.run_queries(db.url, OLD[:1], step=1, commit=False) == {"sign up": None}
        assert pg.query("SELECT count(*) FROM users", dbname=db.name) == [(0,)]
        assert migrations.run_queries(db.url, OLD[:1], step=1) == {"sign up": None}
        again = migrations.run_queries(db.url, [*OLD[:1], OLD[1]], step=1)
        assert "UniqueViolation" in (again["sign up"] or "") and again["list"] is None  # one failure, next runs
        assert pg.query("SELECT email FROM users", dbname=db.name) == [("old1@example.org",)]


def test_roundtrip_finds_a_downgrade_that_does_not_restore_the_schema(pg):
    sloppy = Migration(
        "0004", "contract", ["ALTER TABLE users DROP COLUMN name"], ["ALTER TABLE users ADD COLUMN name TEXT"]
    )
    with pg.database() as db:
        good = migrations.roundtrip([V1, EXPAND, BACKFILL, CONTRACT], db.url)
    assert good == [("0004", None), ("0003", None), ("0002", None), ("0001", None)]
    with pg.database() as db:
        bad = migrations.roundtrip([V1, EXPAND, BACKFILL, sloppy], db.url)
    assert bad == [("0004", "users.name: expected character varying(255) NULL, found text NULL")]
    with pg.database() as db:
        drop = Migration("0002", "drop", ["ALTER TABLE users DROP COLUMN name"], None)
        stop = migrations.roundtrip([V1, drop], db.url)
    assert stop == [("0002", "irreversible")]


def test_plot_draws_one_cell_per_app_and_step(pg):
    import matplotlib

    matplotlib.use("Agg")
    with pg.database() as db:
        report = migrations.rehearse([V1, RENAME], db.url, {"old": OLD, "new": NEW}, live={"0002": ["new"]})
    ax = report.plot()
    assert len(ax.patches) == 4
    assert [t.get_text() for t in ax.texts].count("not serving") == 1
