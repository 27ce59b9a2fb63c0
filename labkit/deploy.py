"""Deploy experiments with real services: a :class:`Fleet` that owns every version it starts, and a typed
:class:`DeployResult` for "promoted or rolled back, and why".

::

    from labkit import deploy
    with deploy.Fleet() as fleet:                  # every service started here stops when the block ends
        old = fleet.start("1.0.0")                 # labkit.service.run(...), waits until /health is 200
        new = fleet.start("1.1.0", boot="crash", wait="none")   # a broken release, not waited for
        new.alive, fleet.versions()                # (False, ['1.0.0'])
        fleet.stop(new)

A fleet is a thin layer over :class:`contextlib.ExitStack` and :func:`labkit.service.run`: it adds the list of
services it started, so a test can ask which versions are still running after a deploy (nothing may leak).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from labkit import service

__all__ = ["OUTCOMES", "PROMOTED", "ROLLED_BACK", "DeployResult", "Fleet"]

PROMOTED = "promoted"
ROLLED_BACK = "rolled_back"
OUTCOMES = (PROMOTED, ROLLED_BACK)


class Fleet:
    """Start service versions that all stop when the ``with`` block ends (also on error and Ctrl-C)."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._started: list[service.Service] = []
        self._open = False

    def __enter__(self) -> Fleet:
        self._stack.__enter__()
        self._open = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._open = False
        self._stack.__exit__(exc_type, exc, tb)

    def start(self, version: str, **options: Any) -> service.Service:
        """Start ``version`` with :func:`labkit.service.run` (``options`` go to it unchanged).

        By default it waits until ``/health`` answers 200; pass ``wait="none"`` to get the service at once
        and check its health yourself. Start-up faults: ``boot="crash"``, ``boot="unhealthy"``,
        ``boot_delay=0.5``, ``faults={"hang": True}``.
        """
        if not self._open:
            raise RuntimeError("start services inside the block: `with deploy.Fleet() as fleet: fleet.start(...)`")
        svc = self._stack.enter_context(service.run(version, **options))
        self._started.append(svc)
        return svc

    def stop(self, svc: service.Service) -> int | None:
        """Stop one service now (safe twice, and on one that already exited); returns its exit code."""
        if not isinstance(svc, service.Service):
            raise TypeError(f"fleet.stop expects a service from fleet.start(...), found {type(svc).__name__}")
        return svc.stop()

    @property
    def started(self) -> list[service.Service]:
        """Every service this fleet started, oldest first (running or not)."""
        return list(self._started)

    def running(self) -> list[service.Service]:
        """The services of this fleet whose process is still alive, oldest first."""
        return [s for s in self._started if s.alive]

    def versions(self) -> list[str]:
        """The versions still running, oldest first, e.g. ``['1.0.0']`` after a rollback."""
        return [s.version for s in self.running()]


@dataclass(frozen=True)
class DeployResult:
    """What a deploy decided.

    Attributes:
        outcome: ``"promoted"`` (the new version serves) or ``"rolled_back"`` (the old version serves).
        serving: the service that serves traffic after the deploy (alive and healthy).
        reason: why, in words, e.g. ``"healthy"``, ``"/health answered HTTP 503"``, ``"exited with code 3"``.
        attempts: health checks sent to the new version (an ``int``).
        elapsed: seconds from the start of the deploy to the decision (a ``float``).
    """

    outcome: str
    serving: service.Service
    reason: str
    attempts: int
    elapsed: float

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be {PROMOTED!r} or {ROLLED_BACK!r}, found {self.outcome!r}")
        if not isinstance(self.serving, service.Service):
            raise TypeError(
                f"serving must be the labkit.service.Service now serving traffic, found {type(self.serving).__name__}"
            )
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValueError(f"reason must be a non-empty str saying why, found {self.reason!r}")
        if not isinstance(self.attempts, int) or isinstance(self.attempts, bool) or self.attempts < 0:
            raise TypeError(f"attempts must be an int >= 0 (health checks sent), found {self.attempts!r}")
        if not isinstance(self.elapsed, float) or not math.isfinite(self.elapsed) or self.elapsed < 0:
            raise TypeError(
                f"elapsed must be a float >= 0 (seconds), found {self.elapsed!r} of type "
                f"{type(self.elapsed).__name__}; use time.monotonic() - start"
            )

    @property
    def promoted(self) -> bool:
        return self.outcome == PROMOTED

    @property
    def version(self) -> str:
        """The version serving after the deploy."""
        return self.serving.version
