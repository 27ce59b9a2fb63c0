"""labkit.postgres: a real PostgreSQL without Docker, clear failures, per-test databases, no orphans."""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import socketserver
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from labkit import _procs, postgres
from labkit.pytest_plugin import postgres_db, postgres_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]


def _gone(pid: int, timeout: float = 20.0) -> bool:
    return _procs.wait_gone(pid, timeout)


@pytest.fixture
def no_docker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Make sure no Docker engine is found, whatever the machine has."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    monkeypatch.delenv(postgres.ENV_BACKEND, raising=False)


# ------------------------------------------------------------------------------------------------ the basics


def test_embedded_server_answers_queries_then_leaves_nothing(
    no_docker: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with postgres.server() as pg:
        assert pg.backend == "embedded"
        assert pg.url.startswith("postgresql://postgres@127.0.0.1:")
        assert pg.url.endswith(f":{pg.port}/postgres")
        with pg.connect() as conn:
            conn.execute("CREATE TABLE t (x int)")
            conn.execute("INSERT INTO t VALUES (1), (2), (3)")
        assert pg.query("SELECT sum(x) FROM t") == [(6,)]
        with psycopg.connect(pg.url) as conn:  # the URL alone is enough for any client
            assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
        pid, data_dir = pg.pid, pg.data_dir
        assert pid is not None and data_dir is not None
        assert _procs.is_running(pid)
        records = list(_procs.state_dir().glob("postgres-*.json"))
        assert any(json.loads(p.read_text())["pid"] == pid for p in records)
    out = capsys.readouterr().out
    assert "labkit.postgres: embedded PostgreSQL" in out
    assert "no Docker engine" in out and "no-docker.sock" in out
    assert _gone(pid, 5)
    assert not data_dir.exists() and not data_dir.parent.exists()
    assert not any(
        json.loads(p.read_text()).get("pid") == pid for p in _procs.state_dir().glob("postgres-*.json")
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="only meaningful when the tests run as root")
def test_as_root_the_server_runs_as_an_unprivileged_user() -> None:
    with postgres.server(backend="embedded", quiet=True) as pg:
        assert pg.pid is not None
        status = Path(f"/proc/{pg.pid}/status").read_text()
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        assert int(uid_line.split()[1]) != 0
        assert pg.query("SELECT 1") == [(1,)]


def test_interrupt_inside_the_block_stops_the_server() -> None:
    pid = None
    with pytest.raises(KeyboardInterrupt), postgres.server(backend="embedded", quiet=True) as pg:
        pid = pg.pid
        raise KeyboardInterrupt
    assert pid is not None and _gone(pid, 5)


# ------------------------------------------------------------------------------------------ fresh databases


def test_fresh_databases_are_empty_isolated_and_dropped(postgres_server: postgres.PostgresServer) -> None:  # noqa: F811
    pg = postgres_server
    with pg.database() as a, pg.fresh_database() as b:
        assert a.name != b.name
        assert a.url.endswith(f"/{a.name}")
        with a.connect() as conn:
            conn.execute("CREATE TABLE orders (id int)")
        with b.connect() as conn:
            tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        assert tables == (0,)
        with a.connect() as held_open:  # an open connection does not block the drop
            held_open.execute("SELECT 1")
            names = {row[0] for row in pg.query("SELECT datname FROM pg_database")}
            assert {a.name, b.name} <= names
    names = {row[0] for row in pg.query("SELECT datname FROM pg_database")}
    assert a.name not in names and b.name not in names


def test_database_can_clone_a_prepared_template(postgres_server: postgres.PostgresServer) -> None:  # noqa: F811
    pg = postgres_server
    with pg.database("shop_template") as tpl:
        with tpl.connect() as conn:
            conn.execute("CREATE TABLE products (sku text PRIMARY KEY)")
            conn.execute("INSERT INTO products VALUES ('a'), ('b')")
        with pg.database(template=tpl.name) as db, db.connect() as conn:
            assert conn.execute("SELECT count(*) FROM products").fetchone() == (2,)


def test_fixture_gives_each_test_its_own_database(postgres_db: postgres.Database) -> None:  # noqa: F811
    with postgres_db.connect() as conn:
        conn.execute("CREATE TABLE once_only (x int)")  # would fail if another test had made it here
        assert conn.execute("SELECT current_database()").fetchone() == (postgres_db.name,)


@pytest.mark.parametrize("bad", ["Has-Dash", "1abc", "x" * 64, "drop table"])
def test_bad_database_names_are_refused(postgres_server: postgres.PostgresServer, bad: str) -> None:  # noqa: F811
    with pytest.raises(ValueError, match="lowercase letters, digits and _"), postgres_server.database(bad):
        pass


# -------------------------------------------------------------------------------------------- backend choice


def test_backend_can_be_forced_by_argument_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(postgres.ENV_BACKEND, "embedded")
    assert postgres.choose_backend() == ("embedded", "LABKIT_POSTGRES_BACKEND asked for 'embedded'")
    monkeypatch.setenv(postgres.ENV_BACKEND, "bogus")
    with pytest.raises(
        ValueError, match=r"LABKIT_POSTGRES_BACKEND must be one of 'auto', 'embedded', 'docker'"
    ):
        postgres.choose_backend()
    with pytest.raises(ValueError, match="argument backend must be one of"):
        postgres.choose_backend("sqlite")


def test_docker_absent_is_reported_and_forced_docker_fails_clearly(no_docker: None) -> None:
    ok, why = postgres.docker_status()
    assert ok is False and "socket file does not exist" in why
    assert postgres.choose_backend("auto")[0] == "embedded"
    with pytest.raises(postgres.DockerUnavailableError, match=r"(?s)does not exist.*backend='embedded'"):
        postgres.choose_backend("docker")
    with pytest.raises(postgres.DockerUnavailableError), postgres.server(backend="docker"):
        pass


def test_docker_host_on_a_closed_port_is_broken_not_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    port = _procs.free_port()  # nothing listens there once the probe socket is closed
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{port}")
    ok, why = postgres.docker_status(timeout=1.0)
    assert ok is False
    assert f"Docker at tcp://127.0.0.1:{port} is not usable" in why
    backend, reason = postgres.choose_backend()
    assert backend == "embedded" and str(port) in reason


@pytest.fixture
def garbage_socket(tmp_path: Path) -> Iterator[str]:
    """A Unix socket that answers every connection with bytes that are not HTTP."""
    path = tmp_path / "garbage.sock"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(8)
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"\x00\x01 this is not an HTTP answer \xff\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"unix://{path}"
    stop.set()
    thread.join(2)
    srv.close()


def test_docker_socket_answering_garbage_is_not_usable(
    monkeypatch: pytest.MonkeyPatch, garbage_socket: str
) -> None:
    monkeypatch.setenv("DOCKER_HOST", garbage_socket)
    ok, why = postgres.docker_status(timeout=1.0)
    assert ok is False and "is not usable" in why and garbage_socket in why
    with pytest.raises(postgres.DockerUnavailableError, match="is not usable"):
        postgres.choose_backend("docker")


@pytest.fixture
def fake_docker_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """An HTTP server that answers Docker's ping but fails every real API call (like a half-broken engine)."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _reply(self, code: int, body: str, ctype: str = "application/json") -> None:
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            seen.append(f"{self.command} {self.path}")
            if self.path.endswith("/_ping"):
                self._reply(200, "OK", "text/plain")
            elif self.path.endswith("/version"):
                self._reply(200, json.dumps({"ApiVersion": "1.44", "Version": "25.0.0"}))
            else:
                self._reply(500, json.dumps({"message": "fake engine: this call is not implemented"}))

        do_POST = do_DELETE = do_GET

    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{srv.server_address[1]}")
    monkeypatch.delenv(postgres.ENV_BACKEND, raising=False)
    yield seen
    srv.shutdown()
    srv.server_close()


def test_a_docker_engine_that_answers_is_chosen_and_a_failing_one_falls_back(
    fake_docker_engine: list[str],
) -> None:
    ok, why = postgres.docker_status()
    assert ok is True and "answered" in why
    assert postgres.choose_backend()[0] == "docker"
    with postgres.server(quiet=True) as pg:  # auto: testcontainers fails on the fake engine → embedded
        assert pg.backend == "embedded"
        assert "testcontainers failed" in pg.reason and "fell back" in pg.reason
        assert pg.query("SELECT 1") == [(1,)]
    assert any("/_ping" in s for s in fake_docker_engine)
    with pytest.raises(postgres.DockerUnavailableError, match="testcontainers could not start PostgreSQL"):
        with postgres.server(backend="docker", quiet=True):
            pass


# ------------------------------------------------------------------------------------------- failure paths


def test_bad_setting_fails_with_the_postgres_log_and_a_hint() -> None:
    with pytest.raises(postgres.PostgresStartError) as info:
        with postgres.server(backend="embedded", quiet=True, settings={"shared_buffers": "lots"}):
            pass
    msg = str(info.value)
    assert "exited with code" in msg
    assert 'invalid value for parameter "shared_buffers"' in msg
    assert "settings=" in msg


def test_damaged_data_directory_fails_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    real_copy = postgres.embedded._copy_cluster

    def copy_then_damage(template: Path, dest: Path) -> None:
        real_copy(template, dest)
        (dest / "global" / "pg_control").write_bytes(b"garbage")

    monkeypatch.setattr(postgres.embedded, "_copy_cluster", copy_then_damage)
    with pytest.raises(
        postgres.PostgresStartError, match=r"(?s)damaged or incomplete.*rebuild_template=True"
    ), postgres.server(backend="embedded", quiet=True):
        pass


def test_fixed_port_already_in_use_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(postgres.PortInUseError, match=rf"(?s)port {port} .*already in use.*port=0"):
            with postgres.server(backend="embedded", quiet=True, port=port):
                pass


def test_a_port_taken_in_the_race_is_retried_with_another(monkeypatch: pytest.MonkeyPatch) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    taken = busy.getsockname()[1]
    offered: list[int] = []
    real_free_port = _procs.free_port

    def racy_free_port(host: str = "127.0.0.1") -> int:
        port = taken if not offered else real_free_port(host)  # first answer: a port someone just took
        offered.append(port)
        return port

    monkeypatch.setattr(_procs, "free_port", racy_free_port)
    try:
        with postgres.server(backend="embedded", quiet=True) as pg:
            assert pg.port != taken
            assert pg.query("SELECT 1") == [(1,)]
    finally:
        busy.close()
    assert offered[0] == taken and len(offered) == 2


# ------------------------------------------------------------------------------------------ concurrency


def test_servers_from_several_threads_get_their_own_ports_and_dirs() -> None:
    results: list[tuple[int, Path | None, int]] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            with postgres.server(backend="embedded", quiet=True) as pg:
                pg.query("CREATE TABLE mine (x int)")  # would collide if two threads shared a server
                results.append((pg.port, pg.data_dir, pg.query("SELECT count(*) FROM mine")[0][0]))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(results) == 3
    assert len({r[0] for r in results}) == 3 and len({r[1] for r in results}) == 3


CHILD = textwrap.dedent(
    """
    import sys, time
    from labkit import postgres
    with postgres.server(backend="embedded", quiet=True, watchdog=sys.argv[1] == "1") as pg:
        pg.query("SELECT 1")
        print(pg.pid, pg.port, pg.data_dir, flush=True)
        if sys.argv[2] == "wait":
            time.sleep(120)
    """
)


def _child(watchdog: bool, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, "1" if watchdog else "0", mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def test_servers_from_several_processes_at_once() -> None:
    children = [_child(True, "exit") for _ in range(3)]
    outs = [c.communicate(timeout=60) for c in children]
    assert [c.returncode for c in children] == [0, 0, 0], [o[1][-1500:] for o in outs]
    lines = [o[0].split() for o in outs]
    assert len({line[1] for line in lines}) == 3  # three distinct ports
    assert all(_gone(int(line[0]), 5) for line in lines)


@pytest.mark.parametrize("reaper", ["watchdog", "cleanup", "next_start"])
def test_owner_killed_with_sigkill_leaves_no_server(reaper: str) -> None:
    child = _child(reaper == "watchdog", "wait")
    try:
        assert child.stdout is not None
        line = child.stdout.readline().split()
        assert len(line) == 3, child.stderr.read() if child.stderr else ""
        pid, data_dir = int(line[0]), Path(line[2])
        assert _procs.is_running(pid)
        child.send_signal(signal.SIGKILL)  # no finally, no atexit: like a killed Jupyter kernel
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        child.communicate()
    if reaper == "cleanup":
        reaped = postgres.cleanup()
        assert any(f"pid {pid}," in line for line in reaped)
    elif reaper == "next_start":
        with postgres.server(backend="embedded", quiet=True) as pg:
            assert pg.pid != pid
    assert _gone(pid, 20), f"postmaster {pid} still runs after its owner was killed ({reaper})"
    deadline = time.monotonic() + 10
    while data_dir.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not data_dir.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another user")
def test_a_data_folder_the_server_user_cannot_enter_is_explained(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    monkeypatch.setenv(postgres.ENV_DIR, str(private))
    with pytest.raises(
        postgres.PostgresStartError, match=r"(?s)cannot enter .*chmod o\+x.*Permission denied"
    ), postgres.server(backend="embedded", quiet=True):
        pass


def test_a_missing_data_folder_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(postgres.ENV_DIR, str(tmp_path / "nope"))
    with pytest.raises(postgres.PostgresStartError, match="LABKIT_POSTGRES_DIR=.*is not an existing folder"):
        with postgres.server(backend="embedded", quiet=True):
            pass


def test_start_keeps_a_server_across_cells_until_stop() -> None:
    pg = postgres.start(backend="embedded", quiet=True)
    try:
        assert pg.query("SELECT 2") == [(2,)]
        pid = pg.pid
    finally:
        pg.stop()
    pg.stop()  # a second stop is harmless
    assert pid is not None and _gone(pid, 5)
    with postgres.start(backend="embedded", quiet=True) as again:
        assert again.query("SELECT 3") == [(3,)]
    assert again.pid is not None and _gone(again.pid, 5)


def test_a_started_server_stops_when_python_exits_normally() -> None:
    code = (
        "from labkit import postgres\n"
        "pg = postgres.start(backend='embedded', quiet=True, watchdog=False)\n"
        "print(pg.pid)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr[-1500:]
    pid = int(out.stdout.split()[0])
    assert _gone(pid, 1)  # stopped by atexit before the interpreter ended, not later by a reaper
    records = [json.loads(p.read_text()) for p in _procs.state_dir().glob("postgres-*.json")]
    assert not any(r.get("pid") == pid for r in records)
