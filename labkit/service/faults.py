"""The service's switchable faults and its errors (the constants every layer shares)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

HOST = "127.0.0.1"
VERSION_HEADER = "X-Service-Version"
BOOT_MODES = ("ok", "crash", "unhealthy")
WAIT_MODES = ("healthy", "up", "none")
CRASH_EXIT_CODE = 3
ENV_CONFIG = "LABKIT_CHILD_CONFIG"
ENV_FD = "LABKIT_CHILD_FD"
ENV_PARENT = "LABKIT_PARENT_PID"


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
                    raise ValueError(f"latency_ms must be a number of milliseconds from 0 to 60000; got {value!r}.")
                out[key] = float(value)
            elif key == "error_rate":
                if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                    raise ValueError(f"error_rate must be a share from 0.0 to 1.0 (0.1 = 10%); got {value!r}.")
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
