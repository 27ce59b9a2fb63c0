"""Running an app in a child process on 127.0.0.1: the parent binds the port, the child serves and dies with it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from labkit import _procs

if TYPE_CHECKING:
    pass
from .app import build_app
from .faults import CRASH_EXIT_CODE, ENV_CONFIG, ENV_FD, ENV_PARENT, HOST, ServiceStartError

# ------------------------------------------------------------------------------------- child process runner


@dataclass
class Child:
    """A web server child process serving on a socket the parent bound."""

    proc: subprocess.Popen[bytes]
    port: int
    stderr: IO[bytes]
    what: str

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stderr_tail(self, max_bytes: int = 3000) -> str:
        return _procs.tail_text(self.stderr, max_bytes).strip()

    def stop(self) -> int | None:
        try:
            return _procs.stop_popen(self.proc, first=signal.SIGTERM, grace=5.0)
        finally:
            self.stderr.close()


def spawn_child(module: str, config: Mapping[str, Any], *, port: int, what: str) -> Child:
    sock = _procs.bind_local_socket(port, what=what)
    chosen = int(sock.getsockname()[1])
    stderr: IO[bytes] = tempfile.TemporaryFile(prefix="labkit-svc-")  # noqa: SIM115 - closed by Child.stop
    env = dict(os.environ)
    # the child must import this same labkit, even when the parent found it through the working directory
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p)
    env.update(
        {
            ENV_CONFIG: json.dumps(dict(config)),
            ENV_FD: str(sock.fileno()),
            ENV_PARENT: str(os.getpid()),
            "PYTHONUNBUFFERED": "1",
        }
    )
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", module],
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=subprocess.STDOUT,
            env=env,
            pass_fds=(sock.fileno(),),
            start_new_session=True,  # a Ctrl-C in the terminal reaches the parent only; it stops the child
        )
    except BaseException:
        stderr.close()
        raise
    finally:
        sock.close()  # the child has its own copy; the port stays bound as long as the child lives
    return Child(proc, chosen, stderr, what)


def wait_until(child: Child, path: str, mode: str, timeout: float, *, expect_exit: bool = False) -> None:
    """Wait until ``GET path`` answers (``mode="up"``) or answers 200 (``"healthy"``); else a clear error."""
    import httpx

    if mode == "none":
        return
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    with httpx.Client(timeout=0.5) as client:
        while True:
            code = child.proc.poll()
            if code is not None:
                raise ServiceStartError(
                    f"{child.what} exited with code {code} before {path} answered.\n"
                    f"Last lines of its output:\n{child.stderr_tail() or '(nothing)'}"
                )
            try:
                resp = client.get(child.url + path)
                if mode == "up" or resp.status_code == 200:
                    return
                last = f"HTTP {resp.status_code}: {resp.text[:200]}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() > deadline:
                state = "answers but is not healthy" if last.startswith("HTTP") else "did not answer"
                raise ServiceStartError(
                    f"{child.what} {state} on {child.url}{path} within {timeout:g} s (last: {last}).\n"
                    f"Last lines of its output:\n{child.stderr_tail() or '(nothing)'}\n"
                    "If this version is broken on purpose, pass wait='up' or wait='none' and check it."
                )
            time.sleep(0.01)


def serve_child(app: Any) -> None:
    """In the child: serve ``app`` on the inherited socket until SIGTERM; exit if the parent dies."""
    import uvicorn

    parent = int(os.environ[ENV_PARENT])
    _procs.exit_when_parent_dies(parent)
    sock = socket.socket(fileno=int(os.environ[ENV_FD]))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2)
    uvicorn.Server(config).run(sockets=[sock])


def child_main() -> None:
    cfg = json.loads(os.environ[ENV_CONFIG])
    if cfg.get("boot_delay"):
        time.sleep(float(cfg["boot_delay"]))
    if cfg.get("boot") == "crash":
        sys.stderr.write(f"labkit.service {cfg['version']}: crashing on boot on purpose (boot='crash')\n")
        sys.exit(CRASH_EXIT_CODE)
    import prometheus_client

    prometheus_client.disable_created_metrics()  # no *_created series: easier to read in class
    app = build_app(
        cfg["version"],
        name=cfg["name"],
        dependencies=cfg["dependencies"],
        faults=cfg["faults"],
        boot=cfg["boot"],
        seed=cfg["seed"],
    )
    serve_child(app)
