"""Process helpers shared by :mod:`labkit.postgres` and :mod:`labkit.service`: never leave a process behind.

Three layers make sure a server started by a notebook dies with the notebook, even when the kernel is killed
with SIGKILL and no ``finally`` block ever runs:

1. **Clean exit** — the context managers stop their processes (terminate → wait → kill) on normal exit, on
   error and on ``KeyboardInterrupt``.
2. **Watchdog** — a tiny stdlib-only process (this file run as a script) waits on a pidfd of the owner
   process; when the owner dies it stops the server with a chosen signal, escalates to SIGKILL, removes the
   server's temporary directories and its state record, then exits. Web-service children run the same watch
   in a thread (:func:`exit_when_parent_dies`).
3. **State records** — every server writes ``<temp>/labkit-state-<uid>/<kind>-<token>.json`` (owner pid and
   start time, server pid and start time, paths to remove). :func:`reap` stops servers whose owner is gone;
   it runs before every new start and from :func:`labkit.postgres.cleanup`.

Nothing here runs at import. This module imports only the standard library at top level, so it can run as a
script (``python labkit/_procs.py watch ...``) in a few milliseconds.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = [
    "PortInUseError",
    "StateRecord",
    "bind_local_socket",
    "exit_when_parent_dies",
    "free_port",
    "is_running",
    "process_start_time",
    "reap",
    "spawn_watchdog",
    "state_dir",
    "stop_popen",
    "tail_text",
]

HOST = "127.0.0.1"


class PortInUseError(OSError):
    """A fixed port was requested but another program already listens on it."""


# ------------------------------------------------------------------------------------------------- processes


def process_start_time(pid: int) -> float | None:
    """Start time of ``pid`` in clock ticks since boot (from /proc), or None when there is no such process.

    Used with the pid to recognise a process again: a pid can be reused, a (pid, start time) pair cannot.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    # the command name (field 2) may contain spaces and parentheses: split after the last ')'
    fields = data[data.rfind(b")") + 2 :].split()
    if fields and fields[0] == b"Z":
        return None  # a zombie has exited; only its exit status is left for the parent to collect
    try:
        return float(fields[19])
    except (IndexError, ValueError):
        return None


def is_running(pid: int | None, start_time: float | None = None) -> bool:
    """True when ``pid`` is a live (non-zombie) process, and, if given, it started at ``start_time``."""
    if not pid or pid <= 0:
        return False
    started = process_start_time(pid)
    if started is None:
        if not Path("/proc").is_dir():  # not Linux: fall back to a signal-0 probe
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
            return True
        return False
    return start_time is None or abs(started - start_time) < 1e-6


def _pidfd(pid: int) -> int | None:
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        return int(opener(pid))
    except OSError:
        return None


def wait_gone(pid: int, timeout: float, start_time: float | None = None) -> bool:
    """Wait up to ``timeout`` seconds for a process (not necessarily our child) to exit. True when gone."""
    deadline = time.monotonic() + timeout
    fd = _pidfd(pid)
    try:
        while is_running(pid, start_time):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if fd is not None:
                poller = select.poll()
                poller.register(fd, select.POLLIN)
                poller.poll(min(left, 0.2) * 1000)
            else:
                time.sleep(min(left, 0.02))
        return True
    finally:
        if fd is not None:
            os.close(fd)


def signal_process(pid: int, sig: int, start_time: float | None = None) -> bool:
    """Send ``sig`` to ``pid`` only if it is still the process that started at ``start_time``."""
    if not is_running(pid, start_time):
        return False
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


def stop_pid(pid: int, start_time: float | None = None, first: int = signal.SIGTERM, grace: float = 5.0) -> None:
    """Stop a process that may not be our child: ``first`` signal, wait ``grace`` s, then SIGKILL."""
    if (
        signal_process(pid, first, start_time)
        and not wait_gone(pid, grace, start_time)
        and signal_process(pid, signal.SIGKILL, start_time)
    ):
        wait_gone(pid, 5.0, start_time)


def stop_popen(proc: subprocess.Popen[Any], first: int = signal.SIGTERM, grace: float = 5.0) -> int | None:
    """Stop our child: ``first`` signal → wait ``grace`` s → SIGKILL → wait. Returns the exit code.

    Safe to call twice and on a process that already exited. ``KeyboardInterrupt`` during the wait still kills
    the child before it propagates.
    """
    if proc.poll() is not None:
        return proc.returncode
    try:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(first)
        try:
            return proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(5)
        raise
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    return proc.wait(5)


def tail_text(stream: IO[bytes] | int | None, max_bytes: int = 4000) -> str:
    """The last ``max_bytes`` of an (unlinked) temporary file a child writes to, without moving its offset."""
    if stream is None:
        return ""
    fd = stream if isinstance(stream, int) else stream.fileno()
    try:
        size = os.fstat(fd).st_size
        data = os.pread(fd, max_bytes, max(0, size - max_bytes))
    except OSError:
        return ""
    return data.decode("utf-8", "replace")


# ----------------------------------------------------------------------------------------------------- ports


def free_port(host: str = HOST) -> int:
    """A TCP port the OS says is free now. Another program may take it before you bind it: then retry."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use_message(port: int, what: str, host: str = HOST) -> str:
    owner = ""
    with contextlib.suppress(Exception):
        import psutil

        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
                owner = f" (by pid {conn.pid}, {psutil.Process(conn.pid).name()})"
                break
    return (
        f"{what} asked for port {port} on {host}, but that port is already in use{owner}. "
        "Pass port=0 (the default) to let the operating system choose a free port, "
        "or stop the program that listens there."
    )


def bind_local_socket(port: int = 0, what: str = "The service", host: str = HOST) -> socket.socket:
    """A listening TCP socket on ``host`` (port 0: the OS chooses); a busy fixed port → PortInUseError.

    The socket is inheritable so that a child process can serve on it: the port is known before the child
    starts and no other program can take it in between.
    """
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an int between 0 and 65535 (0 = any free port); got {port!r}.")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, port))
        sock.listen(256)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(errno.EADDRINUSE, port_in_use_message(port, what, host)) from None
        raise
    sock.set_inheritable(True)
    return sock


# ----------------------------------------------------------------------------------------------- state files


def state_dir() -> Path:
    """Per-user folder for state records (created on demand, private)."""
    path = Path(tempfile.gettempdir()) / f"labkit-state-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


@dataclass
class StateRecord:
    """What a later process needs to stop a server whose owner died."""

    kind: str
    owner_pid: int
    owner_start: float | None
    pid: int | None = None
    pid_start: float | None = None
    stop_signal: int = int(signal.SIGTERM)
    remove: list[str] = field(default_factory=list)
    note: str = ""
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def path(self) -> Path:
        return state_dir() / f"{self.kind}-{self.token}.json"

    def save(self) -> Path:
        path = self.path
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self)))
        os.replace(tmp, path)
        return path

    def delete(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    @classmethod
    def load(cls, path: Path) -> StateRecord | None:
        try:
            data = json.loads(path.read_text())
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None

    def owner_alive(self) -> bool:
        return is_running(self.owner_pid, self.owner_start)


def reap(kind: str | None = None) -> list[StateRecord]:
    """Stop every recorded server whose owner process is gone, remove its files; returns what was reaped."""
    reaped: list[StateRecord] = []
    try:
        paths = sorted(state_dir().glob("*.json"))
    except OSError:
        return reaped
    for path in paths:
        if kind is not None and not path.name.startswith(f"{kind}-"):
            continue
        rec = StateRecord.load(path)
        if rec is None:
            # a half-written or foreign file: drop it only when it is old
            with contextlib.suppress(OSError):
                if time.time() - path.stat().st_mtime > 60:
                    path.unlink()
            continue
        if rec.owner_alive():
            continue
        if rec.pid:
            stop_pid(rec.pid, rec.pid_start, first=rec.stop_signal, grace=10.0)
        for p in rec.remove:
            shutil.rmtree(p, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        reaped.append(rec)
    return reaped


# -------------------------------------------------------------------------------------------------- watchdog


def spawn_watchdog(record: StateRecord) -> subprocess.Popen[bytes]:
    """Start a watchdog for ``record``: when the owner dies it stops ``record.pid`` and removes the files.

    The watchdog exits by itself as soon as the watched server exits (normal shutdown).
    """
    if record.pid is None:
        raise ValueError("spawn_watchdog needs record.pid (the server process to watch over)")
    cmd = [sys.executable, "-I", "-S", os.path.abspath(__file__), "watch", str(record.path)]
    return subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C or a killpg aimed at the notebook must not take the watchdog along
        close_fds=True,
    )


def _watch(record_path: str) -> int:
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    rec = StateRecord.load(Path(record_path))
    if rec is None or rec.pid is None:
        return 2
    owner_fd, server_fd = _pidfd(rec.owner_pid), _pidfd(rec.pid)
    owner_died = False
    while True:
        if not is_running(rec.pid, rec.pid_start):
            break  # the server stopped (normally, or someone else stopped it): nothing left to do
        if not rec.owner_alive():
            owner_died = True
            break
        if owner_fd is not None and server_fd is not None:
            poller = select.poll()
            poller.register(owner_fd, select.POLLIN)
            poller.register(server_fd, select.POLLIN)
            poller.poll(1000)
        else:
            time.sleep(0.2)
    if owner_died:
        stop_pid(rec.pid, rec.pid_start, first=rec.stop_signal, grace=10.0)
        for p in rec.remove:
            shutil.rmtree(p, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(record_path)
    return 0


# ------------------------------------------------------------------------------------ children watch parents


def exit_when_parent_dies(parent_pid: int, on_death: Callable[[], None] | None = None) -> threading.Thread:
    """In a child process: a daemon thread that ends this process (``os._exit``) when ``parent_pid`` dies.

    If the parent is already gone (our parent pid changed) the process exits at once.
    """

    def run() -> None:
        fd = _pidfd(parent_pid)
        while os.getppid() == parent_pid and is_running(parent_pid):
            if fd is not None:
                poller = select.poll()
                poller.register(fd, select.POLLIN)
                poller.poll(1000)
            else:
                time.sleep(0.2)
        if on_death is not None:
            with contextlib.suppress(BaseException):
                on_death()
        os._exit(0)

    thread = threading.Thread(target=run, name="labkit-parent-watch", daemon=True)
    thread.start()
    return thread


def _main(argv: Sequence[str]) -> int:
    if len(argv) == 2 and argv[0] == "watch":
        return _watch(argv[1])
    print("usage: python _procs.py watch STATE_FILE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
