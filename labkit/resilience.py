"""Week 21 — elasticity and resilience: usage data for VPA-style sizing, a day of traffic for the HPA, a
pybreaker listener that records state changes, and a server-side request count of the lab's real service.

::

    from labkit import resilience
    cpu = resilience.usage_samples()                      # a week of CPU usage of one container (millicores)
    day = resilience.traffic_day()                        # 24 h, one {"cpu": m, "memory": MiB} per 15 s
    log = resilience.TransitionLog()                      # pybreaker listener; log.transitions: [("closed", "open")]
    with service.run(faults={"error_rate": 1.0}) as svc:
        resilience.served(svc.url)                        # requests /api/orders really answered (from /metrics)

Why a listener and a server-side count: a circuit breaker is only useful if it *stops calls*; the
breaker's own counters say what it thinks, the service's ``http_requests_total`` says what really arrived.
The HPA simulation itself is the student's (week 14 built the basic algorithm); nothing here scales.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pybreaker
from prometheus_client.parser import text_string_to_metric_families

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes

STEP_S = 15  # the HPA controller's default sync period (--horizontal-pod-autoscaler-sync-period)


def usage_samples(n: int = 2016, *, seed: int = 21) -> list[int]:
    """CPU usage of one container in millicores, one sample every 5 minutes (2016 = one week).

    Shaped like a real web container: a daily cycle (quiet nights ~60m, busy afternoons ~300m), noise, and
    rare short bursts (about 2 % of samples, up to ~900m) — so the mean, the median, the p90 and the maximum
    are all clearly different, which is the point of sizing from a percentile.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1 sample, got {n}")
    rng = random.Random(seed)
    out: list[int] = []
    for i in range(n):
        hour = (i * 5 / 60) % 24
        daily = 180 - 120 * math.cos((hour - 3) / 24 * 2 * math.pi)  # 60m at 03:00, 300m at 15:00
        value = daily * rng.uniform(0.8, 1.25)
        if rng.random() < 0.02:
            value += rng.uniform(300, 600)
        out.append(max(1, round(value)))
    return out


def traffic_day(*, step_s: int = STEP_S, seed: int = 21) -> list[dict[str, int]]:
    """24 hours of total demand on a Deployment, one ``{"cpu": millicores, "memory": MiB}`` per ``step_s``.

    CPU follows users (night ~0.4 vCPU, a morning ramp, a flat ~3 vCPU day, a lunch spike to ~7 vCPU for 20
    minutes). Memory follows users more slowly and adds a 02:00-04:00 batch job that needs ~6 GiB while CPU is
    quiet — so at night memory, not CPU, decides the replica count (the HPA takes the max over metrics).
    """
    if step_s < 1 or 86400 % step_s:
        raise ValueError(f"step_s must divide a day (86400 s) evenly, got {step_s}")
    rng = random.Random(seed)
    out: list[dict[str, int]] = []
    for i in range(86400 // step_s):
        hour = i * step_s / 3600
        if hour < 7:
            cpu = 400.0
        elif hour < 9:
            cpu = 400 + (hour - 7) / 2 * 2600
        elif hour < 19:
            cpu = 3000.0
        elif hour < 22:
            cpu = 3000 - (hour - 19) / 3 * 2400
        else:
            cpu = 600.0
        if 12 <= hour < 12 + 20 / 60:
            cpu = 7000.0  # the lunch-time spike
        memory = 1024 + cpu * 0.6
        if 2 <= hour < 4:
            memory += 5000.0  # the nightly batch job
        noise = 1 + rng.uniform(-0.03, 0.03)
        out.append({"cpu": max(0, round(cpu * noise)), "memory": max(0, round(memory * noise))})
    return out


@dataclass
class TransitionLog(pybreaker.CircuitBreakerListener):
    """A pybreaker listener that records every state change as ``(old, new)`` state names.

    pybreaker calls ``state_change(cb, old_state, new_state)`` on each transition; the names are
    ``"closed"``, ``"open"`` and ``"half-open"``. ``failures`` and ``successes`` count the calls the breaker
    let through and saw fail or succeed — calls rejected while open are in neither.
    """

    transitions: list[tuple[str, str]] = field(default_factory=list)
    failures: int = 0
    successes: int = 0

    def state_change(self, cb: Any, old_state: Any, new_state: Any) -> None:
        self.transitions.append(
            (getattr(old_state, "name", str(old_state)), getattr(new_state, "name", str(new_state)))
        )

    def failure(self, cb: Any, exc: BaseException) -> None:
        self.failures += 1

    def success(self, cb: Any) -> None:
        self.successes += 1


def served(url: str, path: str = "/api/orders", *, timeout: float = 2.0) -> int:
    """How many requests to ``path`` the service at ``url`` really answered (any status), from its /metrics.

    Reads ``http_requests_total{method, path, status}`` with prometheus_client's own parser and sums every
    series of that path. This is the service's view — a request the breaker rejected never shows up here.
    """
    try:
        text = httpx.get(url.rstrip("/") + "/metrics", timeout=timeout).text
    except httpx.HTTPError as exc:
        raise RuntimeError(
            f"could not scrape {url}/metrics ({exc}); is the service running (inside its with block)?"
        ) from exc
    total = 0.0
    for family in text_string_to_metric_families(text):
        if family.name != "http_requests":  # the parser drops the counter's _total suffix from the family name
            continue
        for sample in family.samples:
            if sample.name == "http_requests_total" and sample.labels.get("path") == path:
                total += sample.value
    return int(total)


def plot_replicas(
    trace: Sequence[dict[str, int]],
    replicas: Sequence[int],
    *,
    step_s: int = STEP_S,
    fixed: int | None = None,
    title: str = "HPA v2 over a day",
) -> Axes:
    """Replicas (steps, left axis) against the CPU and memory demand (right axis) over the hours of the trace."""
    import matplotlib.pyplot as plt

    if len(trace) != len(replicas):
        raise ValueError(f"trace has {len(trace)} points but replicas has {len(replicas)}: one per step")
    hours = [i * step_s / 3600 for i in range(len(trace))]
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.step(hours, list(replicas), where="post", color="tab:blue", label="replicas (HPA)")
    if fixed is not None:
        ax.axhline(fixed, color="tab:red", linestyle="--", label=f"fixed peak provisioning ({fixed})")
    ax.set_xlabel("hour of the day")
    ax.set_ylabel("replicas")
    ax.set_title(title)
    demand = ax.twinx()
    demand.plot(hours, [p["cpu"] / 1000 for p in trace], color="tab:orange", alpha=0.6, label="CPU demand (vCPU)")
    demand.plot(hours, [p["memory"] / 1024 for p in trace], color="tab:green", alpha=0.6, label="memory demand (GiB)")
    demand.set_ylabel("demand")
    demand.grid(False)
    ax.legend(loc="upper left")
    demand.legend(loc="upper right")
    fig.tight_layout()
    return ax
