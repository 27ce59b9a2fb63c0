"""A real small web service for the deploy, health-check, canary and load weeks — with switchable faults.

::

    from labkit import service
    with service.run(version="1.0.0", dependencies={"database": pg.url}) as svc:
        httpx.get(svc.url + "/health").json()     # {"status": "ok", "version": "1.0.0"}
        httpx.get(svc.url + "/ready").json()      # {"status": "ok", "checks": {"database": true}, ...}
        svc.set_faults(error_rate=0.2, latency_ms=50)   # flipped while it runs
        result = service.hammer(svc.url + "/api/orders", n=200, concurrency=4)
        result.ok, result.failed, result.p95_ms

The application is Starlette on uvicorn, run in a **subprocess** on 127.0.0.1. The parent binds the listening
socket (port 0 → the OS chooses; a busy fixed port fails at once with :class:`PortInUseError`) and hands it to
the child, so the port is known before the child starts and cannot be stolen in between.

Endpoints of the service:

==================  ======================================================================================
``GET /health``      liveness: 200 ``{"status": "ok", "version": ...}`` (503 with the ``unhealthy`` fault)
``GET /ready``       readiness: checks every dependency (PostgreSQL URL → connect + ``SELECT 1``; http(s)
                     URL → GET; ``tcp://host:port`` → connect) → 200 or 503 with ``{"status", "checks",
                     "errors", "uptime", "version"}``
``GET /version``     ``{"version", "name", "pid", "started"}``
``/api/orders``      the business endpoint: ``GET`` lists, ``POST {"item": str, "qty": int}`` creates
``GET /metrics``     Prometheus text format: ``http_requests_total{method,path,status}``,
                     ``http_request_duration_seconds`` histogram, ``app_info{version}``
``/admin/faults``    ``GET`` the current faults, ``POST`` a JSON object to change them (what
                     :meth:`Service.set_faults` does)
==================  ======================================================================================

Faults (:class:`Faults`), switchable while the service runs: ``latency_ms`` and ``error_rate`` (random 500s
from a seeded RNG) on ``/api/*``; ``hang`` (every non-admin request waits until the fault is cleared —
clients see timeouts); ``unhealthy`` (``/health`` → 503); ``dependency_down`` (readiness fails, for all or
some named dependencies); ``crash`` (the process exits with code 3). Start-up faults for the rollback week:
``boot="crash"`` (exits before serving), ``boot="unhealthy"`` (fails health from the start), ``boot_delay``
(seconds before it serves).

Every response carries ``X-Service-Version``. The child exits by itself if the Python process that started it
dies (even by SIGKILL); the ``with`` block always stops it (SIGTERM → wait → SIGKILL).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import dataclasses
import json
import math
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from labkit import _procs
from labkit._procs import PortInUseError

if TYPE_CHECKING:
    import httpx
    from starlette.applications import Starlette

__all__ = [
    "BOOT_MODES",
    "Faults",
    "HammerResult",
    "PortInUseError",
    "Service",
    "ServiceError",
    "ServiceStartError",
    "build_app",
    "hammer",
    "run",
    "serve_app",
    "start",
]

HOST = "127.0.0.1"
VERSION_HEADER = "X-Service-Version"
BOOT_MODES = ("ok", "crash", "unhealthy")
WAIT_MODES = ("healthy", "up", "none")
CRASH_EXIT_CODE = 3
_ENV_CONFIG = "LABKIT_CHILD_CONFIG"
_ENV_FD = "LABKIT_CHILD_FD"
_ENV_PARENT = "LABKIT_PARENT_PID"


class ServiceError(RuntimeError):
    """Base class of the errors this module raises on purpose."""


class ServiceStartError(ServiceError):
    """The service did not come up; the message says why and shows the last lines of its stderr."""


# ---------------------------------------------------------------------------------------------------- faults


@dataclass
class Faults:
    """What is wrong with the service right now. All off by default.

    Attributes:
        latency_ms: added delay before every ``/api/*`` answer.
        error_rate: share of ``/api/*`` requests answered with 500 (0.0–1.0), drawn from a seeded RNG.
        hang: every request except ``/admin/*`` waits until the fault is cleared (clients time out).
        unhealthy: ``/health`` answers 503.
        dependency_down: ``True`` (all) or a list of dependency names whose readiness check fails.
        crash: the process exits at once with code 3 (only meaningful in :meth:`Service.set_faults`).
        seed: re-seed the error RNG (same seed + same requests → same failures).
    """

    latency_ms: float = 0.0
    error_rate: float = 0.0
    hang: bool = False
    unhealthy: bool = False
    dependency_down: bool | list[str] = False
    crash: bool = False
    seed: int | None = None

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def check(cls, changes: Mapping[str, Any]) -> dict[str, Any]:  # noqa: C901 - one branch per fault field, each with its own message
        """Validate a partial update; returns it cleaned. Raises ValueError saying what is wrong."""
        if not isinstance(changes, Mapping):
            raise ValueError(f"faults must be a JSON object / dict; got {type(changes).__name__}.")
        unknown = sorted(set(changes) - set(cls.names()))
        if unknown:
            raise ValueError(f"unknown fault(s) {unknown}; known faults: {cls.names()}.")
        out: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "latency_ms":
                if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 60_000:
                    raise ValueError(
                        f"latency_ms must be a number of milliseconds from 0 to 60000; got {value!r}."
                    )
                out[key] = float(value)
            elif key == "error_rate":
                if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                    raise ValueError(
                        f"error_rate must be a share from 0.0 to 1.0 (0.1 = 10%); got {value!r}."
                    )
                out[key] = float(value)
            elif key in ("hang", "unhealthy", "crash"):
                if not isinstance(value, bool):
                    raise ValueError(f"{key} must be True or False; got {value!r}.")
                out[key] = value
            elif key == "dependency_down":
                if isinstance(value, bool):
                    out[key] = value
                elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
                    out[key] = list(value)
                else:
                    raise ValueError(f"dependency_down must be True/False or a list of names; got {value!r}.")
            elif key == "seed":
                if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                    raise ValueError(f"seed must be an int or None; got {value!r}.")
                out[key] = value
        return out


# ------------------------------------------------------------------------------------------ the application


def _check_dependency_url(name: str, url: str) -> None:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
        raise ValueError(f"dependency names must be identifiers like 'database'; got {name!r}.")
    if not isinstance(url, str) or not re.match(r"(postgres(ql)?|https?|tcp)://", url):
        raise ValueError(
            f"dependency {name!r} must be a URL starting with postgresql://, http://, https:// or tcp://; "
            f"got {url!r}."
        )


async def _probe(url: str, timeout: float) -> None:
    """Raise if the dependency at ``url`` does not answer within ``timeout`` seconds."""
    if url.startswith(("postgresql://", "postgres://")):

        def pg() -> None:
            import psycopg

            with psycopg.connect(url, connect_timeout=max(2, math.ceil(timeout))) as conn:
                conn.execute("SELECT 1")

        await asyncio.wait_for(asyncio.to_thread(pg), timeout)
    elif url.startswith(("http://", "https://")):
        import urllib.request

        def get() -> None:
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                if resp.status >= 400:
                    raise RuntimeError(f"HTTP {resp.status}")

        await asyncio.wait_for(asyncio.to_thread(get), timeout + 0.5)
    else:
        host, _, port = url[len("tcp://") :].partition(":")
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, int(port.rstrip("/"))), timeout
        )
        writer.close()


def build_app(  # noqa: C901 - the service's routes are closures over one shared state
    version: str = "1.0.0",
    *,
    name: str = "orders",
    dependencies: Mapping[str, str] | None = None,
    faults: Mapping[str, Any] | None = None,
    boot: str = "ok",
    seed: int = 0,
    check_timeout: float = 2.0,
) -> Starlette:
    """The Starlette application that :func:`run` serves (usable in-process with ``starlette.testclient``)."""
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        CollectorRegistry,
        Counter,
        Gauge,
        Histogram,
        generate_latest,
    )
    from starlette.applications import Starlette
    from starlette.background import BackgroundTask
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    deps = dict(dependencies or {})
    for dep_name, url in deps.items():
        _check_dependency_url(dep_name, url)
    current = Faults(**Faults.check(dict(faults or {})))
    if boot == "unhealthy":
        current.unhealthy = True
    rng = random.Random(seed if current.seed is None else current.seed)
    released = asyncio.Event()  # set = requests pass; cleared while the hang fault is on
    if not current.hang:
        released.set()
    started = time.time()
    started_mono = time.monotonic()
    orders: list[dict[str, Any]] = []

    registry = CollectorRegistry()
    requests_total = Counter(
        "http_requests_total", "HTTP requests by method, route and status", ["method", "path", "status"],
        registry=registry,
    )  # fmt: skip
    latency = Histogram(
        "http_request_duration_seconds", "Time to answer, by route", ["path"], registry=registry,
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    )  # fmt: skip
    Gauge("app_info", "Version of the running service", ["version", "name"], registry=registry).labels(
        version, name
    ).set(1)

    def set_faults(changes: Mapping[str, Any]) -> None:
        nonlocal rng
        clean = Faults.check(changes)
        for key, value in clean.items():
            setattr(current, key, value)
        if "seed" in clean and clean["seed"] is not None:
            rng = random.Random(clean["seed"])
        if current.hang:
            released.clear()
        else:
            released.set()

    def faults_json() -> dict[str, Any]:
        return dataclasses.asdict(current)

    async def health(request: Request) -> Response:
        if current.unhealthy:
            return JSONResponse({"status": "fail", "version": version}, status_code=503)
        return JSONResponse({"status": "ok", "version": version})

    async def ready(request: Request) -> Response:
        down = current.dependency_down

        async def one(dep: str, url: str) -> tuple[str, bool, str]:
            if down is True or (isinstance(down, list) and dep in down):
                return dep, False, "dependency_down fault is on"
            try:
                await _probe(url, check_timeout)
                return dep, True, ""
            except Exception as exc:  # noqa: BLE001 - the check's verdict is the point: report, never raise
                text = " ".join(str(exc).split())[:200] or type(exc).__name__
                return dep, False, f"{type(exc).__name__}: {text}"

        results = await asyncio.gather(*(one(d, u) for d, u in deps.items()))
        checks = {dep: ok for dep, ok, _ in results}
        errors = {dep: why for dep, ok, why in results if not ok}
        ok = all(checks.values())
        body = {
            "status": "ok" if ok else "fail",
            "checks": checks,
            "errors": errors,
            "uptime": round(time.monotonic() - started_mono, 3),
            "version": version,
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    async def version_endpoint(request: Request) -> Response:
        return JSONResponse({"version": version, "name": name, "pid": os.getpid(), "started": started})

    async def api_faults(request: Request) -> Response | None:
        if current.latency_ms:
            await asyncio.sleep(current.latency_ms / 1000)
        if current.error_rate and rng.random() < current.error_rate:
            return JSONResponse({"error": "injected fault: error_rate", "version": version}, status_code=500)
        return None

    async def orders_endpoint(request: Request) -> Response:
        failed = await api_faults(request)
        if failed is not None:
            return failed
        if request.method == "POST":
            try:
                payload = await request.json()
            except ValueError:
                return JSONResponse({"error": 'body must be JSON like {"item": "book", "qty": 1}'}, 422)
            item, qty = (
                (payload.get("item"), payload.get("qty", 1)) if isinstance(payload, dict) else (None, None)
            )
            if (
                not isinstance(item, str)
                or not item
                or not isinstance(qty, int)
                or isinstance(qty, bool)
                or qty < 1
            ):
                return JSONResponse(
                    {"error": 'expected {"item": non-empty string, "qty": integer >= 1}', "got": payload}, 422
                )
            order = {"id": len(orders) + 1, "item": item, "qty": qty, "version": version}
            orders.append(order)
            return JSONResponse(order, status_code=201)
        return JSONResponse({"orders": orders[-50:], "count": len(orders), "version": version})

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def admin_faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                changes = await request.json()
                set_faults(changes)
            except ValueError as exc:
                return JSONResponse({"error": str(exc), "faults": faults_json()}, status_code=422)
            if current.crash:
                sys.stderr.write(f"labkit.service {version}: crashing on purpose (fault 'crash')\n")
                sys.stderr.flush()
                task = BackgroundTask(os._exit, CRASH_EXIT_CODE)
                return JSONResponse(
                    {"faults": faults_json(), "crashing": True}, status_code=202, background=task
                )
        return JSONResponse({"faults": faults_json()})

    routes = [
        Route("/health", health),
        Route("/ready", ready),
        Route("/version", version_endpoint),
        Route("/api/orders", orders_endpoint, methods=["GET", "POST"]),
        Route("/metrics", metrics),
        Route("/admin/faults", admin_faults, methods=["GET", "POST"]),
    ]
    known = {r.path for r in routes}

    class Instrument:
        """Pure ASGI middleware: version header, hang fault, request metrics."""

        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await self.app(scope, receive, send)
                return
            path = scope["path"]
            if current.hang and not path.startswith("/admin/"):
                await released.wait()
            label = path if path in known else "other"
            status = 500
            t0 = time.perf_counter()

            async def send_wrapper(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message.setdefault("headers", [])
                    message["headers"] = [
                        *message["headers"],
                        (VERSION_HEADER.lower().encode(), version.encode()),
                    ]
                await send(message)

            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                requests_total.labels(scope["method"], label, str(status)).inc()
                latency.labels(label).observe(time.perf_counter() - t0)

    app = Starlette(routes=routes)
    app.add_middleware(Instrument)
    app.state.set_faults = set_faults
    app.state.faults = current
    return app


# ------------------------------------------------------------------------------------- child process runner


@dataclass
class _Child:
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


def _spawn(module: str, config: Mapping[str, Any], *, port: int, what: str) -> _Child:
    sock = _procs.bind_local_socket(port, what=what)
    chosen = int(sock.getsockname()[1])
    stderr: IO[bytes] = tempfile.TemporaryFile(prefix="labkit-svc-")  # noqa: SIM115 - closed by _Child.stop
    env = dict(os.environ)
    # the child must import this same labkit, even when the parent found it through the working directory
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p)
    env.update(
        {
            _ENV_CONFIG: json.dumps(dict(config)),
            _ENV_FD: str(sock.fileno()),
            _ENV_PARENT: str(os.getpid()),
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
    return _Child(proc, chosen, stderr, what)


def _wait_until(child: _Child, path: str, mode: str, timeout: float, *, expect_exit: bool = False) -> None:
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


def _child_serve(app: Any) -> None:
    """In the child: serve ``app`` on the inherited socket until SIGTERM; exit if the parent dies."""
    import uvicorn

    parent = int(os.environ[_ENV_PARENT])
    _procs.exit_when_parent_dies(parent)
    sock = socket.socket(fileno=int(os.environ[_ENV_FD]))
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2
    )
    uvicorn.Server(config).run(sockets=[sock])


def _child_main() -> None:
    cfg = json.loads(os.environ[_ENV_CONFIG])
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
    _child_serve(app)


# ------------------------------------------------------------------------------------------ parent-side API


@dataclass
class Service:
    """A running service (from :func:`run`)."""

    version: str
    name: str
    _child: _Child = field(repr=False)
    _keep: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234``."""
        return self._child.url

    @property
    def port(self) -> int:
        return self._child.port

    @property
    def pid(self) -> int:
        return self._child.proc.pid

    @property
    def alive(self) -> bool:
        """True while the process runs (False after a crash fault or a boot crash)."""
        return self._child.proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """Exit code once the process ended (3 after a crash fault), else None."""
        return self._child.proc.poll()

    def output(self, max_bytes: int = 3000) -> str:
        """The last lines the service wrote to stdout/stderr."""
        return self._child.stderr_tail(max_bytes)

    def get(self, path: str = "/health", *, timeout: float = 2.0) -> httpx.Response:
        """``GET`` a path of this service (raises httpx errors on timeouts and refused connections)."""
        import httpx

        return httpx.get(self.url + path, timeout=timeout)

    def faults(self) -> dict[str, Any]:
        """The faults now in force."""
        import httpx

        return dict(httpx.get(self.url + "/admin/faults", timeout=5).json()["faults"])

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        """Change faults while the service runs, e.g. ``set_faults(error_rate=0.3)``; returns all faults.

        ``crash=True`` makes the process exit (code 3); this call waits until it has.
        """
        import httpx

        Faults.check(changes)  # fail here, with the same message the service would give
        resp = httpx.post(self.url + "/admin/faults", json=changes, timeout=5)
        if resp.status_code == 422:
            raise ValueError(resp.json()["error"])
        resp.raise_for_status()
        if changes.get("crash"):
            try:
                self._child.proc.wait(5)
            except subprocess.TimeoutExpired:
                raise ServiceError(f"the service on {self.url} did not exit after the crash fault") from None
        return dict(resp.json()["faults"])

    def clear_faults(self) -> dict[str, Any]:
        """Switch every fault off."""
        return self.set_faults(
            latency_ms=0, error_rate=0.0, hang=False, unhealthy=False, dependency_down=False
        )

    def crash(self) -> int:
        """Make the process crash now; returns its exit code."""
        self.set_faults(crash=True)
        code = self.returncode
        assert code is not None
        return code

    def stop(self) -> int | None:
        """Stop the process (SIGTERM → wait → SIGKILL); the ``with`` block does this. Safe to repeat."""
        atexit.unregister(self.stop)
        return self._child.stop()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def run(
    version: str = "1.0.0",
    *,
    name: str = "orders",
    dependencies: Mapping[str, str] | None = None,
    faults: Mapping[str, Any] | None = None,
    boot: str = "ok",
    boot_delay: float = 0.0,
    seed: int = 0,
    port: int = 0,
    wait: str = "healthy",
    timeout: float = 10.0,
) -> Iterator[Service]:
    """Run the service in a subprocess on 127.0.0.1; stop it when the block ends (also on error and Ctrl-C).

    Args:
        version: reported by ``/health``, ``/version``, the ``X-Service-Version`` header and ``app_info``.
        dependencies: name → URL checked by ``/ready`` (``postgresql://…``, ``http(s)://…``, ``tcp://host:port``).
        faults: initial :class:`Faults`, e.g. ``{"latency_ms": 100}``.
        boot: ``"ok"``, ``"crash"`` (exits before serving) or ``"unhealthy"`` (``/health`` fails from start).
        boot_delay: seconds the process waits before serving (a slow start).
        seed: seed of the error-rate RNG.
        port: 0 lets the OS choose (recommended); a busy fixed port raises :class:`PortInUseError`.
        wait: ``"healthy"`` (default: ``/health`` answers 200), ``"up"`` (any HTTP answer) or ``"none"``.
        timeout: seconds to wait for ``wait``.
    """
    if not isinstance(version, str) or not version:
        raise ValueError(f"version must be a non-empty string like '1.0.0'; got {version!r}.")
    if boot not in BOOT_MODES:
        raise ValueError(f"boot must be one of {BOOT_MODES}; got {boot!r}.")
    if wait not in WAIT_MODES:
        raise ValueError(f"wait must be one of {WAIT_MODES}; got {wait!r}.")
    deps = dict(dependencies or {})
    for dep_name, url in deps.items():
        _check_dependency_url(dep_name, url)
    initial = Faults.check(dict(faults or {}))
    config = {
        "version": version,
        "name": name,
        "dependencies": deps,
        "faults": initial,
        "boot": boot,
        "boot_delay": float(boot_delay),
        "seed": int(seed),
    }
    child = _spawn("labkit.service", config, port=port, what=f"labkit.service.run(version={version!r})")
    try:
        _wait_until(child, "/health", wait, timeout)
        yield Service(version=version, name=name, _child=child)
    finally:
        child.stop()


def start(version: str = "1.0.0", **kwargs: Any) -> Service:
    """Like :func:`run` but without a ``with`` block: a service that lives across notebook cells.

    Call ``svc.stop()`` when done; it also stops when Python exits or the kernel dies.
    """
    manager = run(version, **kwargs)
    svc = manager.__enter__()
    svc._keep = manager
    atexit.register(svc.stop)
    return svc


# ----------------------------------------------------------------------------------------------- load helper


@dataclass
class HammerResult:
    """What :func:`hammer` saw. ``records`` holds one ``(start_s, latency_ms, status, version)`` per request
    (``start_s`` counted from ``started``, a ``time.perf_counter()`` value); ``status`` is the HTTP code or
    ``"timeout"`` / ``"connect_error"`` / ``"error"``."""

    ok: int
    failed: int
    by_status: Counter[str]
    by_version: Counter[str]
    duration_s: float
    latencies_ms: list[float] = field(repr=False)
    records: list[tuple[float, float, int | str, str]] = field(repr=False)
    started: float = field(default=0.0, repr=False)

    @property
    def total(self) -> int:
        return self.ok + self.failed

    @property
    def rps(self) -> float:
        """Requests per second over the whole run."""
        return self.total / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def error_rate(self) -> float:
        return self.failed / self.total if self.total else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile in ms (nearest rank; ``q`` in 0–100) over all answered requests."""
        if not self.latencies_ms:
            return math.nan
        data = sorted(self.latencies_ms)
        rank = max(1, math.ceil(q / 100 * len(data)))
        return data[min(rank, len(data)) - 1]

    @property
    def p50_ms(self) -> float:
        return self.percentile(50)

    @property
    def p95_ms(self) -> float:
        return self.percentile(95)

    @property
    def p99_ms(self) -> float:
        return self.percentile(99)

    def summary(self) -> str:
        versions = ", ".join(f"{v}: {c}" for v, c in sorted(self.by_version.items()))
        return (
            f"{self.total} requests in {self.duration_s:.2f} s ({self.rps:.0f}/s): "
            f"{self.ok} ok, {self.failed} failed; p50 {self.p50_ms:.1f} ms, p95 {self.p95_ms:.1f} ms, "
            f"p99 {self.p99_ms:.1f} ms; by version: {versions}"
        )


MAX_HAMMER_SECONDS = 300.0
MAX_HAMMER_REQUESTS = 1_000_000


def hammer(  # noqa: C901 - the bounded load loop's workers and scheduler share its state
    url: str,
    *,
    n: int | None = None,
    duration: float | None = None,
    concurrency: int = 4,
    timeout: float = 2.0,
    method: str = "GET",
    json_body: Any = None,
    actions: Sequence[tuple[float, Callable[[], Any]]] = (),
) -> HammerResult:
    """Send requests to ``url`` from ``concurrency`` threads until ``n`` are sent or ``duration`` s passed.

    At least one bound is required (both may be given: whichever comes first). A request counts as ok when it
    answers 2xx/3xx; failures are 4xx/5xx, timeouts and refused connections. ``actions`` are ``(at_seconds,
    callable)`` pairs run during the load (e.g. ``(0.5, lambda: splitter.switch("green"))``); an exception in
    an action is re-raised after the load stops. Safe inside Jupyter (threads, no event loop needed).
    """
    import httpx

    if n is None and duration is None:
        raise ValueError("hammer needs a bound: pass n=<number of requests> and/or duration=<seconds>.")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_HAMMER_REQUESTS):
        raise ValueError(f"n must be an int from 1 to {MAX_HAMMER_REQUESTS}; got {n!r}.")
    if duration is not None and not 0 < float(duration) <= MAX_HAMMER_SECONDS:
        raise ValueError(f"duration must be seconds in (0, {MAX_HAMMER_SECONDS:g}]; got {duration!r}.")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= 256:
        raise ValueError(f"concurrency must be an int from 1 to 256; got {concurrency!r}.")
    if not url.startswith(("http://", "https://")):
        raise ValueError(
            f"url must start with http:// or https://, e.g. svc.url + '/api/orders'; got {url!r}."
        )
    limit_s = float(duration) if duration is not None else MAX_HAMMER_SECONDS

    lock = threading.Lock()
    issued = 0
    records: list[tuple[float, float, int | str, str]] = []
    action_errors: list[BaseException] = []
    stop = threading.Event()
    t0 = time.perf_counter()

    def take() -> bool:
        nonlocal issued
        with lock:
            if stop.is_set() or (n is not None and issued >= n) or time.perf_counter() - t0 >= limit_s:
                return False
            issued += 1
            return True

    # certificate checks only matter for https; skipping the CA bundle for http saves ~40 ms per client
    verify = url.startswith("https://")

    def worker() -> None:
        with httpx.Client(timeout=timeout, verify=verify) as client:
            while take():
                start = time.perf_counter()
                status: int | str
                version = ""
                try:
                    resp = client.request(method, url, json=json_body)
                    status, version = resp.status_code, resp.headers.get(VERSION_HEADER, "")
                except httpx.TimeoutException:
                    status = "timeout"
                except httpx.ConnectError:
                    status = "connect_error"
                except httpx.HTTPError:
                    status = "error"
                end = time.perf_counter()
                with lock:
                    records.append((start - t0, (end - start) * 1000, status, version))

    def scheduler() -> None:
        for at, action in sorted(actions, key=lambda a: a[0]):
            if stop.wait(max(0.0, at - (time.perf_counter() - t0))):
                return
            try:
                action()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread after the load
                action_errors.append(exc)

    threads = [threading.Thread(target=worker, name=f"hammer-{i}", daemon=True) for i in range(concurrency)]
    sched = threading.Thread(target=scheduler, name="hammer-actions", daemon=True)
    sched.start()
    for t in threads:
        t.start()
    try:
        for t in threads:
            t.join()
    finally:
        stop.set()
        for t in threads:
            t.join(timeout + 1)
        sched.join(5)
    elapsed = time.perf_counter() - t0
    if action_errors:
        raise action_errors[0]
    records.sort(key=lambda r: r[0])
    by_status: Counter[str] = Counter(str(r[2]) for r in records)
    by_version: Counter[str] = Counter(r[3] for r in records if r[3])
    ok = sum(1 for r in records if isinstance(r[2], int) and r[2] < 400)
    latencies = [r[1] for r in records if isinstance(r[2], int)]
    return HammerResult(ok, len(records) - ok, by_status, by_version, elapsed, latencies, records, t0)


# ------------------------------------------------------------------------------- serve an app of your own


@contextlib.contextmanager
def serve_app(app: Any, *, port: int = 0, timeout: float = 10.0) -> Iterator[str]:
    """Serve an ASGI app you built (e.g. a Starlette app from a notebook) over real HTTP; yields its base URL.

    Unlike :func:`run`, the app runs in a background **thread** of this process (uvicorn on 127.0.0.1, port
    chosen by the OS), so it can be a function you just wrote in a notebook cell. The ``with`` block stops the
    server and waits for the thread; requests still running get up to 2 s to finish.
    """
    import uvicorn

    sock = _procs.bind_local_socket(port, what="labkit.service.serve_app()")
    url = f"http://{HOST}:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="labkit-serve-app", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive():
                raise ServiceStartError(f"the app did not start on {url}: uvicorn stopped (see the output above).")
            if time.monotonic() > deadline:
                raise ServiceStartError(f"the app did not start on {url} within {timeout:g} s.")
            time.sleep(0.005)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout + 5)
        sock.close()


if __name__ == "__main__":
    _child_main()
