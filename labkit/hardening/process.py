"""Serving a notebook's app in a forked uvicorn child on 127.0.0.1 that always stops with its with block."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import socket
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from labkit import _procs

if TYPE_CHECKING:
    import httpx

from .app import HOST, ServerError

# ------------------------------------------------------------------------------------ serving in a process


@dataclass
class Server:
    """A running app (from :func:`serve`): ``url``, ``get(path, **kwargs)``, ``client()``, ``output()``."""

    port: int
    _proc: Any = field(repr=False)
    _log: IO[bytes] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return int(self._proc.pid)

    @property
    def alive(self) -> bool:
        return bool(self._proc.is_alive())

    def output(self, max_bytes: int = 3000) -> str:
        """The last lines the server printed (tracebacks of your middleware land here)."""
        return _procs.tail_text(self._log, max_bytes).strip()

    def client(self, timeout: float = 5.0) -> httpx.Client:
        """An ``httpx.Client`` with ``base_url`` set to this server; use it in a ``with`` block."""
        import httpx

        return httpx.Client(base_url=self.url, timeout=timeout)

    def get(self, path: str = "/", *, headers: Mapping[str, str] | None = None, timeout: float = 5.0) -> httpx.Response:
        """One ``GET`` over a real connection. If the server died, the error says why (its last output)."""
        import httpx

        try:
            return httpx.get(self.url + path, headers=dict(headers or {}), timeout=timeout)
        except httpx.HTTPError as exc:
            raise ServerError(
                f"GET {path} failed: {type(exc).__name__}: {exc}.\n"
                f"Server alive: {self.alive}. Its last output:\n{self.output() or '(nothing)'}"
            ) from exc


def _child(app: Any, sock: socket.socket, log_fd: int, parent: int) -> None:
    """In the forked child: output to the log file, exit with the parent, serve ``app`` on ``sock``."""
    import uvicorn

    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - the process ends with it
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    # Our own session: "interrupt kernel" (SIGINT, possibly to the kernel's whole process group) reaches only the
    # notebook, whose ``with`` block then stops us properly.
    os.setsid()
    _procs.exit_when_parent_dies(parent)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        timeout_graceful_shutdown=2,
    )
    uvicorn.Server(config).run(sockets=[sock])


@contextlib.contextmanager
def serve(app: Any, *, port: int = 0) -> Iterator[Server]:
    """Serve the ASGI ``app`` in a forked uvicorn process on 127.0.0.1 until the ``with`` block ends.

    Linux/macOS only (``fork``). The port is 0 by default (the OS chooses); a busy fixed port raises
    :class:`labkit._procs.PortInUseError` at once.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        raise ServerError("hardening.serve needs the 'fork' start method (Linux or macOS).")
    sock = _procs.bind_local_socket(port, what="The app")
    chosen = int(sock.getsockname()[1])
    log: IO[bytes] = tempfile.TemporaryFile(prefix="labkit-hardening-")  # noqa: SIM115 - closed below
    proc = multiprocessing.get_context("fork").Process(
        target=_child, args=(app, sock, log.fileno(), os.getpid()), name="labkit-hardening", daemon=True
    )
    try:
        proc.start()
    except BaseException:
        sock.close()
        log.close()
        raise
    sock.close()  # the child has its copy; the port stays bound while it lives
    server = Server(chosen, proc, log)
    try:
        yield server
    finally:
        try:
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
            proc.close()
        finally:
            log.close()
