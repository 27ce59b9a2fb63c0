"""labkit.service: a real local web service with health, readiness, metrics and switchable faults."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from labkit import _procs, postgres, service
from labkit.pytest_plugin import postgres_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.service

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def svc() -> Iterator[service.Service]:
    """One healthy service shared by the read-mostly tests of this module (faults reset after each use)."""
    with service.run(version="1.4.2", seed=7) as s:
        yield s


@pytest.fixture
def clean(svc: service.Service) -> Iterator[service.Service]:
    svc.clear_faults()
    yield svc
    svc.clear_faults()


# ------------------------------------------------------------------------------------------------ endpoints


def test_health_version_and_version_header(clean: service.Service) -> None:
    svc = clean
    assert svc.url == f"http://127.0.0.1:{svc.port}"
    resp = httpx.get(svc.url + "/health")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "version": "1.4.2"}
    assert resp.headers[service.VERSION_HEADER] == "1.4.2"
    info = httpx.get(svc.url + "/version").json()
    assert info["version"] == "1.4.2" and info["pid"] == svc.pid and info["name"] == "orders"


def test_orders_endpoint_creates_lists_and_validates(clean: service.Service) -> None:
    url = clean.url + "/api/orders"
    before = httpx.get(url).json()["count"]
    created = httpx.post(url, json={"item": "book", "qty": 2})
    assert created.status_code == 201
    assert created.json() == {"id": before + 1, "item": "book", "qty": 2, "version": "1.4.2"}
    listing = httpx.get(url).json()
    assert listing["count"] == before + 1 and listing["orders"][-1]["item"] == "book"
    bad = httpx.post(url, json={"item": "", "qty": 0})
    assert bad.status_code == 422 and "non-empty string" in bad.json()["error"]
    not_json = httpx.post(url, content=b"item=book")
    assert not_json.status_code == 422 and "must be JSON" in not_json.json()["error"]


def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    out: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                out[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def test_metrics_count_requests_by_status_in_prometheus_format(clean: service.Service) -> None:
    svc = clean
    before = _samples(httpx.get(svc.url + "/metrics").text, "http_requests_total")
    key_ok = (("method", "GET"), ("path", "/api/orders"), ("status", "200"))
    key_missing = (("method", "GET"), ("path", "other"), ("status", "404"))
    for _ in range(5):
        assert httpx.get(svc.url + "/api/orders").status_code == 200
    assert httpx.get(svc.url + "/no/such/page").status_code == 404
    text = httpx.get(svc.url + "/metrics").text
    after = _samples(text, "http_requests_total")
    assert after[key_ok] - before.get(key_ok, 0) == 5
    assert after[key_missing] - before.get(key_missing, 0) == 1
    hist = _samples(text, "http_request_duration_seconds_count")
    assert hist[(("path", "/api/orders"),)] >= 5
    assert _samples(text, "app_info") == {(("name", "orders"), ("version", "1.4.2")): 1.0}


# ------------------------------------------------------------------------------------------------ readiness


def test_readiness_follows_a_real_postgres_and_the_fault_switch(
    postgres_server: postgres.PostgresServer,  # noqa: F811
) -> None:
    with postgres.server(backend="embedded", quiet=True) as doomed:
        deps = {"database": postgres_server.url, "cache": doomed.url}
        with service.run(version="2.0.0", dependencies=deps) as svc:
            ready = httpx.get(svc.url + "/ready", timeout=10)
            body = ready.json()
            assert ready.status_code == 200
            assert body["status"] == "ok" and body["checks"] == {"database": True, "cache": True}
            assert body["version"] == "2.0.0" and body["uptime"] >= 0

            svc.set_faults(dependency_down=["database"])
            down = httpx.get(svc.url + "/ready", timeout=10)
            assert down.status_code == 503
            assert down.json()["checks"] == {"database": False, "cache": True}
            assert down.json()["errors"] == {"database": "dependency_down fault is on"}
            assert httpx.get(svc.url + "/health").status_code == 200  # liveness is not readiness

            svc.set_faults(dependency_down=False)
            assert httpx.get(svc.url + "/ready", timeout=10).status_code == 200

            doomed.stop()  # the real thing: the database goes away
            gone = httpx.get(svc.url + "/ready", timeout=10)
            assert gone.status_code == 503
            assert gone.json()["checks"] == {"database": True, "cache": False}
            assert "OperationalError" in gone.json()["errors"]["cache"]


def test_readiness_checks_http_and_tcp_dependencies(clean: service.Service) -> None:
    closed = _procs.free_port()
    deps = {"orders": clean.url + "/health", "queue": f"tcp://127.0.0.1:{closed}"}
    with service.run(version="3.0.0", dependencies=deps) as svc:
        body = httpx.get(svc.url + "/ready", timeout=10).json()
    assert body["checks"] == {"orders": True, "queue": False}
    assert "ConnectionRefusedError" in body["errors"]["queue"]


# ---------------------------------------------------------------------------------------------------- faults


def test_error_rate_is_random_but_reproducible_with_a_seed() -> None:
    statuses = []
    for _ in range(2):
        with service.run(version="1.0.0", faults={"error_rate": 0.3}, seed=11) as svc:
            result = service.hammer(svc.url + "/api/orders", n=200, concurrency=1)
            statuses.append([r[2] for r in result.records])
            assert result.ok + result.failed == 200
            assert 25 <= result.failed <= 95  # ~60 expected; bounds are > 4 standard deviations wide
            assert set(result.by_status) == {"200", "500"}
    assert statuses[0] == statuses[1]


def test_latency_fault_makes_short_client_timeouts_fire(clean: service.Service) -> None:
    svc = clean
    svc.set_faults(latency_ms=1500)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(svc.url + "/api/orders", timeout=0.3)
    assert httpx.get(svc.url + "/health", timeout=1.2).status_code == 200  # latency hits /api/* only
    assert svc.faults()["latency_ms"] == 1500.0


def test_hang_fault_stops_answers_until_cleared(clean: service.Service) -> None:
    svc = clean
    svc.set_faults(hang=True)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(svc.url + "/health", timeout=0.3)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(svc.url + "/api/orders", timeout=0.3)
    assert svc.faults()["hang"] is True  # the admin endpoint still answers
    svc.set_faults(hang=False)
    assert httpx.get(svc.url + "/health", timeout=2).status_code == 200


def test_a_service_started_hanging_never_answers() -> None:
    with pytest.raises(
        service.ServiceStartError, match=r"(?s)did not answer on .*/health within 0.5 s.*Timeout"
    ), service.run(faults={"hang": True}, wait="up", timeout=0.5):
        pass
    with service.run(faults={"hang": True}, wait="none") as svc:
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(svc.url + "/health", timeout=0.5)
        svc.set_faults(hang=False)
        assert httpx.get(svc.url + "/health", timeout=2).status_code == 200


def test_unhealthy_fault_fails_liveness(clean: service.Service) -> None:
    clean.set_faults(unhealthy=True)
    resp = httpx.get(clean.url + "/health")
    assert resp.status_code == 503 and resp.json() == {"status": "fail", "version": "1.4.2"}


def test_crash_fault_ends_the_process() -> None:
    with service.run(version="9.9.9") as svc:
        assert svc.alive
        assert svc.crash() == service.CRASH_EXIT_CODE
        assert not svc.alive and svc.returncode == 3
        assert "crashing on purpose" in svc.output()
        with pytest.raises(httpx.ConnectError):
            httpx.get(svc.url + "/health", timeout=1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"error_rate": 1.5}, "error_rate must be a share from 0.0 to 1.0"),
        ({"latency_ms": -1}, "latency_ms must be a number of milliseconds"),
        ({"hang": "yes"}, "hang must be True or False"),
        ({"explode": True}, r"unknown fault\(s\) \['explode'\]"),
        ({"dependency_down": 3}, "dependency_down must be True/False or a list"),
    ],
)
def test_bad_faults_are_refused_with_a_clear_message(
    clean: service.Service, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        clean.set_faults(**changes)
    raw = httpx.post(clean.url + "/admin/faults", json=changes)  # the service itself refuses it too
    assert raw.status_code == 422
    assert raw.json()["faults"]["error_rate"] == 0.0


# ---------------------------------------------------------------------------------------------- start-up


def test_boot_crash_is_a_start_error_with_the_output() -> None:
    with pytest.raises(service.ServiceStartError, match=r"(?s)exited with code 3.*crashing on boot"):
        with service.run(version="2.0.0-bad", boot="crash"):
            pass


def test_boot_unhealthy_fails_the_healthy_wait_but_can_be_inspected() -> None:
    with pytest.raises(
        service.ServiceStartError, match=r"(?s)answers but is not healthy.*HTTP 503.*wait='up'"
    ), service.run(version="2.0.0-bad", boot="unhealthy", timeout=3):  # 3 s: it must get to answer
        pass
    with service.run(version="2.0.0-bad", boot="unhealthy", wait="up") as svc:
        assert httpx.get(svc.url + "/health").status_code == 503
        svc.set_faults(unhealthy=False)  # "hotfix"
        assert httpx.get(svc.url + "/health").status_code == 200


def test_slow_boot_times_out_with_a_clear_error_and_leaves_no_process() -> None:
    pids: list[int] = []
    real_spawn = service.process.spawn_child

    def spying_spawn(*args: object, **kwargs: object) -> service.process.Child:
        child = real_spawn(*args, **kwargs)  # type: ignore[arg-type]
        pids.append(child.proc.pid)
        return child

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(service.api, "spawn_child", spying_spawn)
        with pytest.raises(
            service.ServiceStartError, match=r"did not answer on http://127\.0\.0\.1:\d+/health"
        ), service.run(boot_delay=30, timeout=0.5):
            pass
    assert pids and not _procs.is_running(pids[0])


def test_fixed_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(service.PortInUseError, match=rf"(?s)port {port} .*already in use.*port=0"):
            with service.run(port=port):
                pass


def test_a_free_fixed_port_is_used() -> None:
    port = _procs.free_port()
    with service.run(port=port) as svc:
        assert svc.port == port
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"boot": "explode"}, "boot must be one of"),
        ({"wait": "forever"}, "wait must be one of"),
        ({"version": ""}, "version must be a non-empty string"),
        ({"dependencies": {"db": "mysql://x"}}, "must be a URL starting with postgresql://"),
        ({"port": 70000}, "port must be an int between 0 and 65535"),
    ],
)
def test_bad_run_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message), service.run(**kwargs):  # type: ignore[arg-type]
        pass


# ------------------------------------------------------------------------------------------- no orphans


def test_interrupt_inside_the_block_stops_the_service() -> None:
    pid = None
    with pytest.raises(KeyboardInterrupt), service.run() as svc:
        pid = svc.pid
        raise KeyboardInterrupt
    assert pid is not None and not _procs.is_running(pid)


def test_service_exits_when_its_parent_is_killed() -> None:
    code = textwrap.dedent(
        """
        import time
        from labkit import service
        with service.run() as svc:
            print(svc.pid, svc.url, flush=True)
            time.sleep(120)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert parent.stdout is not None
        pid_text, url = parent.stdout.readline().split()
        assert httpx.get(url + "/health").status_code == 200
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)
    assert _procs.wait_gone(int(pid_text), 10), "the service outlived its killed parent"


# ----------------------------------------------------------------------------------------------- hammer


def test_hammer_counts_every_request(clean: service.Service) -> None:
    result = service.hammer(clean.url + "/api/orders", n=60, concurrency=3)
    assert result.total == 60 == len(result.records) == result.ok
    assert result.failed == 0 and result.error_rate == 0.0
    assert result.by_version == {"1.4.2": 60}
    assert 0 < result.p50_ms <= result.p95_ms <= result.p99_ms
    assert "60 requests" in result.summary() and "1.4.2: 60" in result.summary()


def test_hammer_counts_refused_connections_as_failures() -> None:
    result = service.hammer(f"http://127.0.0.1:{_procs.free_port()}/", n=5, concurrency=1, timeout=1)
    assert result.ok == 0 and result.failed == 5
    assert result.by_status == {"connect_error": 5}


def test_hammer_runs_actions_and_reraises_their_errors(clean: service.Service) -> None:
    seen: list[str] = []
    service.hammer(clean.url + "/health", duration=0.3, actions=[(0.1, lambda: seen.append("ran"))])
    assert seen == ["ran"]

    def broken() -> None:
        raise RuntimeError("switch failed")

    with pytest.raises(RuntimeError, match="switch failed"):
        service.hammer(clean.url + "/health", duration=0.3, actions=[(0.05, broken)])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "hammer needs a bound"),
        ({"n": 0}, "n must be an int"),
        ({"duration": 1000}, "duration must be seconds"),
        ({"n": 5, "concurrency": 0}, "concurrency must be an int"),
    ],
)
def test_hammer_refuses_unbounded_or_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        service.hammer("http://127.0.0.1:1/", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must start with http"):
        service.hammer("127.0.0.1:1", n=1)


def test_start_keeps_a_service_across_cells_until_stop() -> None:
    svc = service.start(version="5.0.0")
    try:
        assert httpx.get(svc.url + "/health").json()["version"] == "5.0.0"
    finally:
        svc.stop()
    svc.stop()
    assert not svc.alive and not _procs.is_running(svc.pid)
