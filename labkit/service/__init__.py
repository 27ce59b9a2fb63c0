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

One layer per file: ``faults`` (faults, errors), ``app`` (the Starlette app), ``process`` (the child process),
``api`` (``run``, ``Service``), ``load`` (``hammer``), ``inprocess`` (``serve_app``); ``python -m labkit.service``
is the child.
"""

from __future__ import annotations

from labkit._procs import PortInUseError

from .api import Service, run, start
from .app import build_app
from .faults import (
    BOOT_MODES,
    CRASH_EXIT_CODE,
    HOST,
    VERSION_HEADER,
    WAIT_MODES,
    Faults,
    ServiceError,
    ServiceStartError,
)
from .inprocess import serve_app
from .load import MAX_HAMMER_REQUESTS, MAX_HAMMER_SECONDS, HammerResult, hammer

__all__ = [
    "MAX_HAMMER_REQUESTS",
    "MAX_HAMMER_SECONDS",
    "CRASH_EXIT_CODE",
    "WAIT_MODES",
    "VERSION_HEADER",
    "HOST",
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
