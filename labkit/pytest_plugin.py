"""pytest fixtures for integration tests against a real PostgreSQL and real local web services.

Use them with ``pytest -p labkit.pytest_plugin`` or ``pytest_plugins = ["labkit.pytest_plugin"]`` in a root
``conftest.py``, or import the fixtures you need into a test module::

    from labkit.pytest_plugin import postgres_server, postgres_db  # noqa: F401

    def test_insert(postgres_db):
        with postgres_db.connect() as conn:
            conn.execute("CREATE TABLE t (x int)")

* ``postgres_server`` — one server for the whole session (a :class:`labkit.postgres.PostgresServer`);
* ``postgres_db`` — a NEW EMPTY database per test on that server, dropped afterwards (a
  :class:`labkit.postgres.Database`), so tests never see each other's tables.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from labkit import postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.PostgresServer]:
    """A PostgreSQL server shared by the session (embedded unless a Docker engine answers)."""
    with postgres.server(quiet=True) as pg:
        yield pg


@pytest.fixture
def postgres_db(postgres_server: postgres.PostgresServer) -> Iterator[postgres.Database]:
    """A fresh empty database for one test, dropped when the test ends."""
    with postgres_server.database() as db:
        yield db
