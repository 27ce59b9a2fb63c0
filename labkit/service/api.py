"""The parent-side API: ``run()`` (a context manager) and :class:`Service` (URL, faults, crash, stop)."""

from __future__ import annotations

import atexit
import contextlib
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx
from .app import check_dependency_url
from .faults import BOOT_MODES, WAIT_MODES, Faults, ServiceError
from .process import Child, spawn_child, wait_until

# ------------------------------------------------------------------------------------------ parent-side API


@dataclass
class Service:
    """A running service (from :func:`run`)."""

    version: str
    name: str
    _child: Child = field(repr=False)
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
        return self.set_faults(latency_ms=0, error_rate=0.0, hang=False, unhealthy=False, dependency_down=False)

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
        check_dependency_url(dep_name, url)
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
    child = spawn_child("labkit.service", config, port=port, what=f"labkit.service.run(version={version!r})")
    try:
        wait_until(child, "/health", wait, timeout)
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
