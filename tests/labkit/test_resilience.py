"""labkit.resilience: deterministic data with the shape the exercises rely on, a listener, a real /metrics count."""

from __future__ import annotations

import httpx
import numpy as np
import pybreaker
import pytest

from labkit import kube, resilience, service


def test_usage_samples_are_deterministic_and_skewed() -> None:
    first = resilience.usage_samples()
    assert first == resilience.usage_samples()
    assert first != resilience.usage_samples(seed=22)
    assert len(first) == 2016 and all(isinstance(v, int) and v >= 1 for v in first)
    mean, p50, p90, top = float(np.mean(first)), *np.percentile(first, [50, 90]), max(first)
    # the exercise's point: mean < p90 < max, clearly apart
    assert p50 < p90 and mean < p90 < top / 2


def test_usage_samples_rejects_empty() -> None:
    with pytest.raises(ValueError, match="n must be >= 1"):
        resilience.usage_samples(0)


def test_traffic_day_memory_decides_at_night_and_cpu_at_lunch() -> None:
    day = resilience.traffic_day()
    assert len(day) == 5760 and day == resilience.traffic_day()
    night, lunch = day[3 * 240], day[12 * 240 + 20]
    cpu_night = kube.utilization(night["cpu"], 2, 500)
    memory_night = kube.utilization(night["memory"], 2, 1024)
    assert cpu_night < 70 < 80 * 3 < memory_night  # memory needs > 3x the Pods CPU needs
    assert lunch["cpu"] > 6000  # beyond what 9 Pods at 70 % can absorb


def test_traffic_day_step_must_divide_a_day() -> None:
    assert len(resilience.traffic_day(step_s=60)) == 1440
    with pytest.raises(ValueError, match="divide a day"):
        resilience.traffic_day(step_s=7)


def test_transition_log_records_a_full_cycle() -> None:
    log = resilience.TransitionLog()
    breaker = pybreaker.CircuitBreaker(fail_max=1, reset_timeout=0.05, listeners=[log])

    def boom() -> None:
        raise RuntimeError("down")

    with pytest.raises(pybreaker.CircuitBreakerError):
        breaker.call(boom)
    with pytest.raises(pybreaker.CircuitBreakerError):
        breaker.call(boom)  # rejected while open: not a failure the listener sees
    assert log.transitions == [("closed", "open")]
    assert log.failures == 1
    import time

    time.sleep(0.1)
    assert breaker.call(lambda: 42) == 42
    assert log.transitions == [("closed", "open"), ("open", "half-open"), ("half-open", "closed")]
    assert log.successes == 1


def test_served_counts_only_the_path_on_the_real_service() -> None:
    with service.run(faults={"error_rate": 1.0}) as svc, httpx.Client(base_url=svc.url, timeout=2) as client:
        assert resilience.served(svc.url) == 0
        for _ in range(3):
            assert client.get("/api/orders").status_code == 500
        health_before = resilience.served(svc.url, "/health")  # run() itself polled /health until it answered
        client.get("/health")
        assert resilience.served(svc.url) == 3
        assert resilience.served(svc.url, "/health") == health_before + 1


def test_served_explains_a_stopped_service() -> None:
    with service.run() as svc:
        url = svc.url
    with pytest.raises(RuntimeError, match="is the service running"):
        resilience.served(url, timeout=0.5)


def test_plot_replicas_checks_lengths() -> None:
    import matplotlib

    matplotlib.use("Agg")
    day = resilience.traffic_day(step_s=600)
    ax = resilience.plot_replicas(day, [2] * len(day), step_s=600, fixed=4)
    assert ax.get_ylabel() == "replicas"
    with pytest.raises(ValueError, match="one per step"):
        resilience.plot_replicas(day, [2], step_s=600)
