"""labkit.splitter: weighted routing, instant blue→green switch, failures when switching to a bad version."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from labkit import _procs, service, splitter

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def blue() -> Iterator[service.Service]:
    with service.run(version="1.0.0") as s:
        yield s


@pytest.fixture(scope="module")
def green() -> Iterator[service.Service]:
    with service.run(version="2.0.0") as s:
        yield s


def _versions(result: service.HammerResult) -> list[str]:
    return [r[3] for r in result.records]


def test_weights_split_traffic_statistically(blue: service.Service, green: service.Service) -> None:
    backends = {"blue": blue.url, "green": green.url}
    with splitter.run(backends, weights={"blue": 90, "green": 10}, seed=3) as sp:
        result = service.hammer(sp.url + "/api/orders", n=400, concurrency=4)
        state = sp.state()
    assert result.failed == 0 and result.total == 400
    canary = result.by_version["2.0.0"]
    assert 15 <= canary <= 70  # 40 expected; the bounds are > 4 standard deviations wide
    assert result.by_version["1.0.0"] + canary == 400
    assert state["counts"] == {
        "blue": {"requests": result.by_version["1.0.0"], "errors": 0},
        "green": {"requests": canary, "errors": 0},
    }
    assert state["weights"] == {"blue": 90.0, "green": 10.0} and state["mode"] == "random"


def test_same_seed_gives_the_same_routing(blue: service.Service, green: service.Service) -> None:
    runs = []
    for _ in range(2):
        with splitter.run(
            {"blue": blue.url, "green": green.url}, weights={"blue": 1, "green": 1}, seed=42
        ) as sp:
            runs.append(_versions(service.hammer(sp.url + "/health", n=40, concurrency=1)))
    assert runs[0] == runs[1]
    assert set(runs[0]) == {"1.0.0", "2.0.0"}


def test_smooth_mode_gives_exact_shares(blue: service.Service, green: service.Service) -> None:
    with splitter.run(
        {"blue": blue.url, "green": green.url}, weights={"blue": 3, "green": 1}, mode="smooth"
    ) as sp:
        result = service.hammer(sp.url + "/health", n=40, concurrency=1)
    assert result.by_version == {"1.0.0": 30, "2.0.0": 10}
    versions = _versions(result)
    assert all(versions[i : i + 4].count("2.0.0") == 1 for i in range(0, 40, 4))  # spread, not bunched


def test_blue_green_switch_under_load_loses_no_request(blue: service.Service, green: service.Service) -> None:
    switched_at: list[float] = []
    with splitter.run({"blue": blue.url, "green": green.url}, weights={"blue": 100, "green": 0}) as sp:

        def switch() -> None:
            sp.switch("green")
            switched_at.append(time.perf_counter())

        # 2.5 s: enough requests after the switch even on a busy machine
        result = service.hammer(sp.url + "/api/orders", duration=2.5, concurrency=4, actions=[(0.5, switch)])
        assert sp.state()["weights"] == {"blue": 0.0, "green": 100.0}
    assert result.failed == 0 and result.ok > 20
    assert result.by_version["1.0.0"] > 0 and result.by_version["2.0.0"] > 0
    cut = switched_at[0] - result.started
    after = [r[3] for r in result.records if r[0] > cut]
    before = [r[3] for r in result.records if r[0] + r[1] / 1000 < cut - 0.05]
    assert after and set(after) == {"2.0.0"}  # every request sent after the switch reached green
    assert before and set(before) == {"1.0.0"}


def test_switching_to_a_faulty_version_shows_failures(blue: service.Service) -> None:
    with service.run(version="2.1.0-bad", faults={"error_rate": 1.0}) as bad:
        with splitter.run({"blue": blue.url, "green": bad.url}, weights={"blue": 100, "green": 0}) as sp:
            result = service.hammer(
                sp.url + "/api/orders",
                duration=2.0,
                concurrency=2,
                actions=[(0.4, lambda: sp.switch("green"))],
            )
            state = sp.state()
    assert result.failed > 0 and result.ok > 0
    failed_versions = {r[3] for r in result.records if r[2] != 200}
    assert failed_versions == {"2.1.0-bad"}
    assert state["counts"]["green"]["errors"] == state["counts"]["green"]["requests"] > 0


def test_unreachable_and_slow_backends_give_502_and_504(blue: service.Service) -> None:
    closed = _procs.free_port()
    with service.run(version="3.0.0") as slow:
        backends = {"gone": f"http://127.0.0.1:{closed}", "slow": slow.url}
        with splitter.run(backends, weights={"gone": 1, "slow": 0}, upstream_timeout=0.3) as sp:
            gone = httpx.get(sp.url + "/health", timeout=5)
            assert gone.status_code == 502
            assert gone.headers[splitter.BACKEND_HEADER] == "gone"
            assert "backend 'gone' is unreachable" in gone.json()["error"]
            slow.set_faults(hang=True)
            sp.switch("slow")
            late = httpx.get(sp.url + "/health", timeout=5)
            assert late.status_code == 504 and "gave no answer in 0.3 s" in late.json()["error"]
            slow.set_faults(hang=False)
            assert sp.state()["counts"] == {
                "gone": {"requests": 1, "errors": 1},
                "slow": {"requests": 1, "errors": 1},
            }


def test_requests_are_forwarded_with_method_body_and_query(blue: service.Service) -> None:
    with splitter.run({"blue": blue.url}) as sp:
        created = httpx.post(sp.url + "/api/orders?source=splitter", json={"item": "pen", "qty": 3})
        assert created.status_code == 201
        assert created.json()["item"] == "pen" and created.json()["qty"] == 3
        assert created.headers[splitter.BACKEND_HEADER] == "blue"
        assert created.headers[service.VERSION_HEADER] == "1.0.0"
        assert httpx.get(sp.url + "/no/such/page").status_code == 404


def test_backends_can_be_replaced_while_running(blue: service.Service, green: service.Service) -> None:
    with splitter.run({"live": blue.url}) as sp:
        assert httpx.get(sp.url + "/health").json()["version"] == "1.0.0"
        sp.set_backends({"live": green.url})
        assert httpx.get(sp.url + "/health").json()["version"] == "2.0.0"
        sp.set_backends({"live": blue.url, "canary": green.url}, weights={"live": 0, "canary": 1})
        assert httpx.get(sp.url + "/health").json()["version"] == "2.0.0"


def test_bad_weights_and_names_are_refused(blue: service.Service, green: service.Service) -> None:
    with splitter.run({"blue": blue.url, "green": green.url}) as sp:
        assert sp.state()["weights"] == {"blue": 1.0, "green": 1.0}  # default: equal shares
        with pytest.raises(ValueError, match=r"unknown backend\(s\) \['purple'\]"):
            sp.set_weights(purple=1)
        with pytest.raises(ValueError, match="at least one weight must be > 0"):
            sp.set_weights(blue=0, green=0)
        with pytest.raises(ValueError, match="must be a number >= 0"):
            sp.set_weights(blue=-5)
        with pytest.raises(ValueError, match="unknown backend 'purple'"):
            sp.switch("purple")
        raw = httpx.post(sp.url + "/splitter/state", json={"colour": "red"})
        assert raw.status_code == 422 and "weights" in raw.json()["error"]
        assert sp.state()["weights"] == {"blue": 1.0, "green": 1.0}  # nothing changed


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backends": {}}, "backends must be a non-empty dict"),
        ({"backends": {"blue": "127.0.0.1:80"}}, "must be a base URL like"),
        ({"backends": {"blue": "http://x"}, "weights": {"blue": 0}}, "at least one weight"),
        ({"backends": {"blue": "http://x"}, "mode": "fastest"}, "mode must be one of"),
    ],
)
def test_bad_run_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message), splitter.run(**kwargs):  # type: ignore[arg-type]
        pass


def test_splitter_fixed_port_in_use(blue: service.Service) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(splitter.PortInUseError, match=rf"port {port}"):
            with splitter.run({"blue": blue.url}, port=port):
                pass


def test_start_keeps_a_splitter_until_stop(blue: service.Service) -> None:
    with splitter.start({"blue": blue.url}) as sp:
        assert httpx.get(sp.url + "/health").headers[splitter.BACKEND_HEADER] == "blue"
    assert not sp.alive and not _procs.is_running(sp.pid)
