"""The public objects: ``server()`` (a context manager), ``PostgresServer`` and its throwaway databases, ``cleanup``."""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labkit import _procs

if TYPE_CHECKING:  # psycopg is imported lazily: importing labkit.postgres stays cheap
    import psycopg

from .backend import DOCKER_IMAGE, ENV_BACKEND, HOST, SUPERUSER, DockerUnavailableError, choose_backend, log
from .embedded import Embedded, cache_dir, start_embedded

# -------------------------------------------------------------------------------------------- public objects


@dataclass
class Database:
    """One database on a running server (from :meth:`PostgresServer.database`)."""

    name: str
    url: str
    server: PostgresServer = field(repr=False)

    def connect(self, *, autocommit: bool = False, **kwargs: Any) -> psycopg.Connection[Any]:
        """A psycopg 3 connection to this database (use it in a ``with`` block)."""
        return self.server.connect(dbname=self.name, autocommit=autocommit, **kwargs)


@dataclass
class PostgresServer:
    """A running PostgreSQL server; get one from :func:`server`."""

    backend: str
    reason: str
    host: str
    port: int
    user: str
    password: str
    dbname: str
    version: str
    pid: int | None = None
    data_dir: Path | None = None
    _embedded: Embedded | None = field(default=None, repr=False)
    _container: Any = field(default=None, repr=False)
    _keep: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """``postgresql://user[:password]@host:port/dbname`` of the default database."""
        return self.url_for(self.dbname)

    def url_for(self, dbname: str) -> str:
        auth = self.user if not self.password else f"{self.user}:{self.password}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{dbname}"

    @property
    def summary(self) -> str:
        """The one-liner printed at start: which backend, where, and why."""
        where = f"{self.host}:{self.port}"
        return f"labkit.postgres: {self.backend} PostgreSQL {self.version} at {where} ({self.reason})"

    def connect(self, dbname: str | None = None, *, autocommit: bool = False, **kwargs: Any) -> psycopg.Connection[Any]:
        """A psycopg 3 connection (a context manager: commits on success, rolls back on error, closes)."""
        return psycopg_connect(self.url_for(dbname or self.dbname), autocommit=autocommit, **kwargs)

    def query(self, sql: str, params: Any = None, *, dbname: str | None = None) -> list[tuple[Any, ...]]:
        """Run one statement in autocommit mode and return its rows (``[]`` when it returns none)."""
        with self.connect(dbname, autocommit=True) as conn:
            cur = conn.execute(sql, params)
            return list(cur.fetchall()) if cur.description else []

    @contextlib.contextmanager
    def database(self, name: str | None = None, *, template: str = "template0") -> Iterator[Database]:
        """A NEW EMPTY database on this server, dropped (even with open connections) when the block ends.

        ``template`` may name a database you prepared (schema loaded once) to clone it for every test.
        """
        from psycopg import sql

        if name is None:
            name = f"labkit_{uuid.uuid4().hex[:12]}"
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(
                f"database name must be lowercase letters, digits and _ (max 63, not starting with a digit); "
                f"got {name!r}."
            )
        with self.connect(autocommit=True) as conn:
            version = int(conn.info.server_version)
            stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
            if version >= 150000:  # FILE_COPY: a plain file copy + checkpoint, much faster than WAL_LOG here
                stmt = sql.SQL("{} STRATEGY FILE_COPY").format(stmt)
            conn.execute(stmt)
        try:
            yield Database(name=name, url=self.url_for(name), server=self)
        finally:
            with self.connect(autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    fresh_database = database

    def log_tail(self, max_bytes: int = 4000) -> str:
        """The last lines the server wrote to its log (embedded backend; the container's logs for docker)."""
        if self._embedded is not None:
            return _procs.tail_text(self._embedded.log, max_bytes)
        if self._container is not None:
            out, err = self._container.get_logs()
            return (out + err).decode("utf-8", "replace")[-max_bytes:]
        return ""

    def stop(self) -> None:
        """Stop the server and remove its files (the ``with`` block does this for you). Safe to repeat."""
        atexit.unregister(self.stop)
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None
        if self._container is not None:
            container, self._container = self._container, None
            container.stop()

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _start_docker(image: str) -> PostgresServer:
    """Start PostgreSQL in a container with testcontainers (its Ryuk reaper removes it if Python dies)."""
    from testcontainers.community.postgres import PostgresContainer

    container = PostgresContainer(image, driver=None)
    container.start()
    try:
        host = container.get_container_host_ip()
        port = int(container.get_exposed_port(5432))
        with psycopg_connect(container.get_connection_url()) as conn:
            version = str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]  # type: ignore[index]
        return PostgresServer(
            "docker", "", host, port, container.username, container.password, container.dbname, version,
            _container=container,
        )  # fmt: skip
    except BaseException:
        container.stop()
        raise


def psycopg_connect(url: str, **kwargs: Any) -> psycopg.Connection[Any]:
    import psycopg

    kwargs.setdefault("connect_timeout", 10)
    return psycopg.connect(url, **kwargs)


@contextlib.contextmanager
def server(
    backend: str | None = None,
    *,
    port: int = 0,
    settings: Mapping[str, Any] | None = None,
    timeout: float = 30.0,
    quiet: bool = False,
    watchdog: bool = True,
    docker_image: str = DOCKER_IMAGE,
) -> Iterator[PostgresServer]:
    """Start a throwaway PostgreSQL server; stop it and delete its files when the block ends.

    Args:
        backend: ``"auto"`` (default, or ``LABKIT_POSTGRES_BACKEND``), ``"embedded"`` or ``"docker"``.
        port: embedded only — 0 lets the OS choose (recommended); a fixed busy port raises PortInUseError.
        settings: extra ``postgresql.conf`` settings for the embedded server, e.g. ``{"work_mem": "8MB"}``.
        timeout: seconds to wait for the server to accept connections.
        quiet: do not print the one-line summary (it is always logged at INFO).
        watchdog: embedded only — stop the server if this Python process dies (keep True).
        docker_image: the image testcontainers starts.
    """
    _procs.reap("postgres")
    chosen, why = choose_backend(backend)
    pg: PostgresServer | None = None
    try:
        if chosen == "docker":
            try:
                pg = _start_docker(docker_image)
                pg.reason = why
            except Exception as exc:
                if backend is not None or os.environ.get(ENV_BACKEND, "").strip():
                    raise DockerUnavailableError(
                        f"testcontainers could not start PostgreSQL ({type(exc).__name__}: {exc}). "
                        f"Use backend='embedded' (no Docker needed)."
                    ) from exc
                why = f"{why}, but testcontainers failed ({type(exc).__name__}: {str(exc)[:120]}); fell back"
                chosen = "embedded"
        if chosen == "embedded":
            running, version = start_embedded(
                port=port, settings=dict(settings or {}), timeout=timeout, watchdog=watchdog
            )
            pg = PostgresServer(
                "embedded", why, HOST, running.port, SUPERUSER, "", SUPERUSER, version,
                pid=running.proc.pid, data_dir=running.data_dir, _embedded=running,
            )  # fmt: skip
        assert pg is not None
        log.info(pg.summary)
        if not quiet:
            print(pg.summary)
        yield pg
    finally:
        if pg is not None:
            pg.stop()


def start(backend: str | None = None, **kwargs: Any) -> PostgresServer:
    """Like :func:`server` but without a ``with`` block: for a server that lives across notebook cells.

    Call ``pg.stop()`` when done; it is also stopped when Python exits, and by the watchdog if the kernel is
    killed. ``with postgres.start() as pg:`` works too.
    """
    manager = server(backend, **kwargs)
    pg = manager.__enter__()
    pg._keep = manager  # the open generator owns the clean-up; keep it alive as long as the server
    atexit.register(pg.stop)
    return pg


def cleanup(*, rebuild_template: bool = False) -> list[str]:
    """Stop every embedded server whose owner process has died and delete its files.

    Returns one line per reaped server. ``rebuild_template=True`` also deletes the cached initdb template
    (the next start re-creates it, taking about a second longer).
    """
    reaped = [f"{r.note} (pid {r.pid}, owner pid {r.owner_pid} is gone)" for r in _procs.reap("postgres")]
    if rebuild_template:
        for path in cache_dir().glob("postgres-*"):
            shutil.rmtree(path, ignore_errors=True)
    return reaped
