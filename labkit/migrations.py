"""Backward-compatible database migrations with Alembic on a real PostgreSQL — and a check that proves it.

::

    from labkit import migrations, postgres
    V1 = migrations.Migration("0001", "create users",
                              upgrade=["CREATE TABLE users (id SERIAL PRIMARY KEY, email VARCHAR(255) NOT NULL)"],
                              downgrade=["DROP TABLE users"])
    with postgres.server() as pg, pg.database() as db:
        with migrations.project([V1, V2], db.url) as proj:   # a real Alembic project in a temp folder
            proj.upgrade("+1"); proj.current()                # "0001"
            print(proj.script("0002"))                         # the revision file Alembic runs
        report = migrations.rehearse([V1, V2, V3], db.url, apps={"v1": OLD_QUERIES, "v2": NEW_QUERIES})
        report.frame                                          # one row per (step, app, query): ok / error

Why Alembic and not hand-made ``psql -f`` scripts: Alembic records which revision a database is at (the
``alembic_version`` table), applies only the missing ones in order, runs each in its own transaction, and
knows how to go back (``downgrade``). The revision files here are ordinary Alembic scripts (``revision``,
``down_revision``, ``upgrade()``, ``downgrade()``) whose bodies call ``op.execute(sql)`` for each statement, so
you write plain PostgreSQL and still get Alembic's bookkeeping. Alembic is driven through its documented
Python API (``alembic.config.Config`` + ``alembic.command``), with no ``alembic.ini`` on disk.

The point of the week is the *check*: while a migration rolls out, the OLD version of the application is
still serving. :func:`rehearse` applies the migrations one at a time and, after every step, runs each
application version's real queries against the real schema. A rename or a drop done in one step shows up as
the old version's queries failing right after that step.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from alembic.config import Config
    from matplotlib.axes import Axes
    from sqlalchemy.engine import Engine

__all__ = [
    "Migration",
    "describe",
    "MigrationError",
    "Project",
    "Query",
    "Rehearsal",
    "project",
    "rehearse",
    "render",
    "roundtrip",
    "run_queries",
    "schema",
]

_REVISION = re.compile(r"[0-9A-Za-z_]{1,32}")
STATEMENT_TIMEOUT_MS = 5000  # a query or migration stuck behind a lock fails instead of hanging the notebook

_ENV_PY = '''\
"""Alembic environment written by labkit.migrations: one connection, one transaction per migration."""
from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
shared = config.attributes.get("connection")  # labkit passes its open connection (Alembic cookbook recipe)


def run(connection):
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


if shared is not None:
    run(shared)
else:  # e.g. `alembic upgrade head` run by hand in this folder
    engine = create_engine(
        config.get_main_option("sqlalchemy.url"),
        poolclass=pool.NullPool,
        connect_args={{"options": "-c statement_timeout={timeout}"}},  # a migration stuck on a lock fails
    )
    with engine.connect() as connection:
        run(connection)
    engine.dispose()
'''


class MigrationError(RuntimeError):
    """A migration could not be applied or undone; the message names the revision and PostgreSQL's words."""


@dataclass(frozen=True)
class Migration:
    """One revision: SQL statements to go forward and back.

    Attributes:
        revision: a short id such as ``"0002"`` (letters, digits, ``_``); the order of the list you pass to
            :func:`project` is the order of the history (each revision's ``down_revision`` is the one before).
        message: what it does, in a few words (it becomes the file name and the docstring).
        upgrade: SQL statements run in order, in one transaction.
        downgrade: SQL statements that undo ``upgrade``; ``[]`` is a valid no-op (nothing to undo);
            ``None`` marks the migration **irreversible**: its ``downgrade()`` raises.
    """

    revision: str
    message: str
    upgrade: Sequence[str]
    downgrade: Sequence[str] | None = ()

    def __post_init__(self) -> None:
        if not isinstance(self.revision, str) or not _REVISION.fullmatch(self.revision):
            raise ValueError(
                f"revision must be a short id of letters, digits or _ such as '0002'; got {self.revision!r}."
            )
        if not isinstance(self.message, str) or not self.message.strip():
            raise ValueError(f"migration {self.revision}: message must be a non-empty string.")
        for side in ("upgrade", "downgrade"):
            value = getattr(self, side)
            if value is None and side == "downgrade":
                continue
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise ValueError(
                    f"migration {self.revision}: {side} must be a list of SQL statements (strings), e.g. "
                    f"['ALTER TABLE users ADD COLUMN name VARCHAR(255)']; got {type(value).__name__}."
                )
            bad = [s for s in value if not isinstance(s, str) or not s.strip()]
            if bad:
                raise ValueError(f"migration {self.revision}: every {side} statement must be a non-empty string.")

    @property
    def reversible(self) -> bool:
        return self.downgrade is not None


def _check_history(migrations: Sequence[Migration]) -> list[Migration]:
    items = list(migrations)
    if not items:
        raise ValueError("a migration history needs at least one Migration.")
    for m in items:
        if not isinstance(m, Migration):
            raise TypeError(
                f"expected labkit.migrations.Migration objects; got {type(m).__name__}: {m!r}. "
                "Build each step with Migration(revision, message, upgrade=[...], downgrade=[...])."
            )
    ids = [m.revision for m in items]
    dupes = sorted({r for r in ids if ids.count(r) > 1})
    if dupes:
        raise ValueError(f"revision ids must be unique; repeated: {dupes}.")
    return items


def render(migration: Migration, down_revision: str | None) -> str:
    """The text of the Alembic revision file for ``migration`` (what ``alembic revision`` would create)."""

    def body(statements: Sequence[str]) -> str:
        if not statements:
            return "    pass  # nothing to do\n"
        return "".join(f"    op.execute({s.strip()!r})\n" for s in statements)

    if migration.downgrade is None:
        down = f"    raise RuntimeError({f'revision {migration.revision} ({migration.message}) is irreversible'!r})\n"
    else:
        down = body(migration.downgrade)
    return (
        f'"""{migration.message}\n\nRevision ID: {migration.revision}\nRevises: {down_revision or ""}\n"""\n'
        "from alembic import op\n\n"
        f"revision = {migration.revision!r}\n"
        f"down_revision = {down_revision!r}\n"
        "branch_labels = None\n"
        "depends_on = None\n\n\n"
        f"def upgrade():\n{body(migration.upgrade)}\n\n"
        f"def downgrade():\n{down}"
    )


def _sqlalchemy_url(url: str) -> str:
    """``postgresql://…`` → ``postgresql+psycopg://…``: SQLAlchemy's default driver is psycopg2; we have psycopg 3."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"expected a postgresql:// URL (e.g. db.url from labkit.postgres); got {url!r}.")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "migration"


def _first_line(exc: BaseException) -> str:
    cause: BaseException = exc
    while getattr(cause, "orig", None) is not None:  # SQLAlchemy wraps the driver's error in .orig
        cause = cause.orig  # type: ignore[attr-defined]
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0] if text else ''}".strip()


@dataclass
class Project:
    """An Alembic project (``env.py`` + ``versions/``) in a temporary folder, bound to one database URL."""

    path: Path
    url: str
    migrations: list[Migration]
    config: Config = field(repr=False)
    engine: Engine = field(repr=False)

    @property
    def revisions(self) -> list[str]:
        """Revision ids from the first to the head."""
        return [m.revision for m in self.migrations]

    def script(self, revision: str) -> str:
        """The text of a revision file, as Alembic reads it."""
        for file in (self.path / "versions").glob(f"{revision}_*.py"):
            return file.read_text()
        raise KeyError(f"no revision {revision!r} in this project; known: {self.revisions}.")

    def current(self) -> str | None:
        """The revision the database is at (``alembic current``), ``None`` before the first upgrade."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def _run(self, verb: str, target: str) -> str | None:
        from alembic import command

        try:
            with self.engine.connect() as conn:  # one pooled connection: no new login per command
                self.config.attributes["connection"] = conn
                try:
                    getattr(command, verb)(self.config, target)
                finally:
                    self.config.attributes.pop("connection", None)
        except Exception as exc:  # report which step failed, in the student's terms
            now = self.current()
            raise MigrationError(
                f"alembic {verb} {target!r} failed ({_first_line(exc)}). The database is now at revision "
                f"{now!r}: each migration runs in its own transaction, so the failing one was rolled back and "
                f"the ones before it stay applied. Fix that migration's SQL and try again."
            ) from exc
        return self.current()

    def upgrade(self, target: str = "head") -> str | None:
        """``alembic upgrade <target>`` (``"head"``, a revision id, or ``"+1"``); returns the new revision."""
        return self._run("upgrade", target)

    def downgrade(self, target: str = "-1") -> str | None:
        """``alembic downgrade <target>`` (``"-1"``, a revision id or ``"base"``); returns the new revision."""
        return self._run("downgrade", target)

    def history(self) -> list[str]:
        """Revision ids as Alembic's script directory sees them, base first (``alembic history``)."""
        from alembic.script import ScriptDirectory

        scripts = ScriptDirectory.from_config(self.config)
        return [s.revision for s in reversed(list(scripts.walk_revisions()))]


@contextlib.contextmanager
def project(migrations: Sequence[Migration], url: str) -> Iterator[Project]:
    """Write an Alembic project for ``migrations`` into a temp folder (removed at the end) bound to ``url``.

    Nothing is applied yet: call ``proj.upgrade(...)``. The database at ``url`` keeps whatever was applied.
    """
    import sqlalchemy as sa
    from alembic.config import Config

    items = _check_history(migrations)
    root = Path(tempfile.mkdtemp(prefix="labkit-alembic-"))
    engine = sa.create_engine(
        _sqlalchemy_url(url),
        pool_size=1,
        max_overflow=0,
        connect_args={"options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"},
    )
    try:
        (root / "versions").mkdir()
        (root / "env.py").write_text(_ENV_PY.format(timeout=STATEMENT_TIMEOUT_MS))
        down: str | None = None
        for m in items:
            (root / "versions" / f"{m.revision}_{_slug(m.message)}.py").write_text(render(m, down))
            down = m.revision
        config = Config()
        config.set_main_option("script_location", str(root))
        config.set_main_option("sqlalchemy.url", _sqlalchemy_url(url).replace("%", "%%"))
        yield Project(root, url, items, config, engine)
    finally:
        engine.dispose()
        shutil.rmtree(root, ignore_errors=True)


# --------------------------------------------------------------------------------------- schema and queries


_SCHEMA_SQL = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v') AND a.attnum > 0 AND NOT a.attisdropped
  AND c.relname <> 'alembic_version'
ORDER BY c.relname, a.attnum
"""


def schema(url: str) -> dict[str, dict[str, str]]:
    """The tables of schema ``public``: ``{table: {column: "varchar(255) NOT NULL DEFAULT …"}}``.

    Two snapshots compare equal when the columns, their types, nullability and defaults are the same — what
    a downgrade must restore. (Alembic's own ``alembic_version`` table is left out.)
    """
    from labkit.postgres import psycopg_connect

    out: dict[str, dict[str, str]] = {}
    with psycopg_connect(url, autocommit=True) as conn:
        for table, column, kind, not_null, default in conn.execute(_SCHEMA_SQL):
            text = kind + (" NOT NULL" if not_null else " NULL") + (f" DEFAULT {default}" if default else "")
            out.setdefault(table, {})[column] = text
    return out


@dataclass(frozen=True)
class Query:
    """One query an application version runs, e.g. ``Query("sign up", "INSERT INTO users …", {...})``.

    ``params`` are psycopg named parameters (``%(email)s``). In a string value, ``{step}`` is replaced by the
    step number (1, 2, … in :func:`rehearse`), so a query repeated after every step writes a different row each
    time: ``Query("sign up", "INSERT INTO users (email) VALUES (%(email)s)", {"email": "u{step}@example.org"})``.
    """

    name: str
    sql: str
    params: Mapping[str, Any] = field(default_factory=dict)


def run_queries(url: str, queries: Sequence[Query], *, step: int = 0, commit: bool = True) -> dict[str, str | None]:
    """Run each query in its own transaction; returns ``{name: None if it worked else "ErrorType: message"}``.

    With ``commit=True`` (default) what the queries write stays, as real traffic would; ``commit=False`` rolls
    each one back (a dry run that leaves the data as it was). A failing query never stops the next one.
    """
    import psycopg

    from labkit.postgres import psycopg_connect

    results: dict[str, str | None] = {}
    with psycopg_connect(url) as conn:
        conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
        conn.commit()
        for q in queries:
            if not isinstance(q, Query):
                raise TypeError(f"expected migrations.Query objects; got {type(q).__name__}: {q!r}.")
            try:
                params = {k: v.replace("{step}", str(step)) if isinstance(v, str) else v for k, v in q.params.items()}
                cur = conn.execute(q.sql, params or None)
                if cur.description:
                    cur.fetchall()
                if commit:
                    conn.commit()
                else:
                    conn.rollback()
                results[q.name] = None
            except psycopg.Error as exc:
                conn.rollback()
                results[q.name] = _first_line(exc)
    return results


# ---------------------------------------------------------------------------------------------- rehearsal


@dataclass
class Rehearsal:
    """What :func:`rehearse` saw: one record per (step, app version, query)."""

    revisions: list[str]
    apps: list[str]
    records: list[dict[str, Any]] = field(repr=False)
    #: the migration that failed to apply ("" when all applied) and why
    failed_migration: str = ""
    failure: str = ""

    @property
    def frame(self) -> pd.DataFrame:
        """Columns ``step, revision, app, query, ok, error`` (step 1 = after the first migration)."""
        import pandas as pd

        return pd.DataFrame(self.records, columns=["step", "revision", "app", "query", "ok", "error"])

    def ok(self, app: str, revision: str) -> bool:
        """Did every query of ``app`` pass right after ``revision`` was applied?"""
        rows = [r for r in self.records if r["app"] == app and r["revision"] == revision]
        if not rows:
            raise KeyError(
                f"no results for app {app!r} after revision {revision!r}; apps: {self.apps}, "
                f"revisions applied: {sorted({r['revision'] for r in self.records})}."
            )
        return all(r["ok"] for r in rows)

    def first_failure(self, app: str) -> str | None:
        """The first revision after which some query of ``app`` failed (``None``: it always worked)."""
        for rev in self.revisions:
            if any(r["app"] == app and r["revision"] == rev and not r["ok"] for r in self.records):
                return rev
        return None

    def errors(self, app: str, revision: str) -> dict[str, str]:
        return {
            r["query"]: r["error"]
            for r in self.records
            if r["app"] == app and r["revision"] == revision and not r["ok"]
        }

    def plot(self, ax: Axes | None = None, *, title: str | None = None) -> Axes:
        """A timeline: one row per app version, one column per migration step, green = all queries pass."""
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch, Rectangle

        if ax is None:
            _, ax = plt.subplots(figsize=(1.6 + 1.5 * len(self.revisions), 0.9 + 0.6 * len(self.apps)))
        for y, app in enumerate(self.apps):
            for x, rev in enumerate(self.revisions):
                rows = [r for r in self.records if r["app"] == app and r["revision"] == rev]
                if not rows:
                    color, label = "#bdbdbd", "not serving"
                else:
                    passed = sum(r["ok"] for r in rows)
                    color = "#4caf50" if passed == len(rows) else "#e53935"
                    label = f"{passed}/{len(rows)}"
                ax.add_patch(Rectangle((x - 0.45, y - 0.4), 0.9, 0.8, color=color))
                ax.text(x, y, label, ha="center", va="center", color="white", fontsize=10, weight="bold")
        ax.set_xlim(-0.6, len(self.revisions) - 0.4)
        ax.set_ylim(-0.6, len(self.apps) - 0.4)
        ax.set_xticks(range(len(self.revisions)), [f"after {r}" for r in self.revisions])
        ax.set_yticks(range(len(self.apps)), self.apps)
        ax.invert_yaxis()
        ax.grid(False)
        ax.legend(
            handles=[Patch(color="#4caf50", label="all queries pass"), Patch(color="#e53935", label="a query fails")],
            loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
        )  # fmt: skip
        ax.set_title(title or "Application versions vs migration steps (queries passed / run)")
        return ax


def rehearse(
    migrations: Sequence[Migration],
    url: str,
    apps: Mapping[str, Sequence[Query]],
    *,
    seed: Mapping[str, Sequence[str]] | Sequence[str] = (),
    live: Mapping[str, Sequence[str]] | None = None,
    commit: bool = True,
) -> Rehearsal:
    """Apply ``migrations`` one at a time to the (empty) database at ``url``; after each, run every app's queries.

    Args:
        apps: app version name → its queries, e.g. ``{"v1 (old)": OLD, "v2 (new)": NEW}``.
        seed: SQL that puts "production" rows in place: a list runs right after the first migration; a mapping
            ``{revision: [sql, ...]}`` runs each list right after that revision (before the apps' queries).
        live: optional revision → the app names still serving after it (others are not run there), e.g. to
            say that the old version is retired before the contract step. Default: every app after every step.
        commit: keep what the apps' queries write (real traffic does) — see :func:`run_queries`.

    A migration that fails to apply stops the rehearsal: ``failed_migration`` and ``failure`` say which and why.
    """
    items = _check_history(migrations)
    if not apps:
        raise ValueError("apps must name at least one application version and its queries.")
    names = list(apps)
    seeds: dict[str, list[str]] = (
        {str(k): list(v) for k, v in seed.items()} if isinstance(seed, Mapping) else {items[0].revision: list(seed)}
    )
    unknown = sorted(set(seeds) - {m.revision for m in items})
    if unknown:
        raise ValueError(f"seed names revisions {unknown} that are not in the history {[m.revision for m in items]}.")
    report = Rehearsal([m.revision for m in items], names, [])
    with project(items, url) as proj:
        for step, m in enumerate(items, start=1):
            try:
                proj.upgrade(m.revision)
            except MigrationError as exc:
                report.failed_migration, report.failure = m.revision, str(exc)
                break
            if seeds.get(m.revision):
                from labkit.postgres import psycopg_connect

                with psycopg_connect(url) as conn:
                    for statement in seeds[m.revision]:
                        conn.execute(statement)
            serving = names if live is None or m.revision not in live else list(live[m.revision])
            for app in serving:
                if app not in apps:
                    raise ValueError(f"live[{m.revision!r}] names {app!r}, which is not in apps {names}.")
                for qname, error in run_queries(url, apps[app], step=step, commit=commit).items():
                    report.records.append(
                        {"step": step, "revision": m.revision, "app": app, "query": qname,
                         "ok": error is None, "error": error or ""}
                    )  # fmt: skip
    return report


def roundtrip(migrations: Sequence[Migration], url: str) -> list[tuple[str, str | None]]:
    """Check that every reversible migration's downgrade restores the schema it started from.

    Upgrades the empty database at ``url`` one step at a time (snapshotting :func:`schema` before each), then
    downgrades one step at a time from the head. Returns ``[(revision, None | "what differs"), ...]`` for the
    migrations it could undo, head first; it stops at the first irreversible one (``downgrade=None``), which is
    reported as ``(revision, "irreversible")``, and at the first downgrade that fails or leaves a different schema.
    """
    items = _check_history(migrations)
    out: list[tuple[str, str | None]] = []
    with project(items, url) as proj:
        before: dict[str, dict[str, dict[str, str]]] = {}
        for m in items:
            before[m.revision] = schema(url)
            proj.upgrade(m.revision)
        for m in reversed(items):
            if not m.reversible:
                out.append((m.revision, "irreversible"))
                break
            try:
                proj.downgrade("-1")
            except MigrationError as exc:
                out.append((m.revision, f"downgrade failed: {exc}"))
                break
            problem = _schema_diff(before[m.revision], schema(url))
            out.append((m.revision, problem))
            if problem:  # the next downgrades would start from a wrong schema: their diffs would mislead
                break
    return out


def _schema_diff(expected: Mapping[str, Mapping[str, str]], found: Mapping[str, Mapping[str, str]]) -> str | None:
    problems: list[str] = []
    for table in sorted(set(expected) | set(found)):
        if table not in found:
            problems.append(f"table {table} is missing")
            continue
        if table not in expected:
            problems.append(f"table {table} should not exist")
            continue
        for col in sorted(set(expected[table]) | set(found[table])):
            want, got = expected[table].get(col), found[table].get(col)
            if want != got:
                problems.append(f"{table}.{col}: expected {want or 'no such column'}, found {got or 'no such column'}")
    return "; ".join(problems) or None


def describe(migration: Migration) -> str:
    """A one-paragraph text of a migration (for printing in notebooks)."""
    down = "irreversible" if migration.downgrade is None else "; ".join(migration.downgrade) or "(nothing to undo)"
    return textwrap.dedent(
        f"""\
        {migration.revision} — {migration.message}
          upgrade:   {"; ".join(migration.upgrade)}
          downgrade: {down}"""
    )
