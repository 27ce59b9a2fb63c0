"""labkit.loadtest: a bounded headless locust run whose CSV holds the final numbers; the stats CSV reader."""

from __future__ import annotations

import pytest

from labkit import loadtest, service

LOCUSTFILE = """
from locust import HttpUser, constant_throughput, task


class Reader(HttpUser):
    wait_time = constant_throughput(10)

    @task(3)
    def list_orders(self):
        self.client.get("/api/orders")

    @task(1)
    def create_order(self):
        self.client.post("/api/orders", json={"item": "book", "qty": 1})
"""


@pytest.mark.service
def test_run_locust_writes_a_csv_that_matches_the_service_and_the_budget(tmp_path):
    with service.run(faults={"latency_ms": 2}) as svc:
        run = loadtest.run_locust(text=LOCUSTFILE, host=svc.url, users=2, spawn_rate=2, run_time_s=1, workdir=tmp_path)
        created = svc.get("/api/orders").json()["count"]
    assert run.returncode == 0
    assert run.stats_csv == tmp_path / "stats_stats.csv"
    assert run.shell.startswith("locust -f ") and "--headless -u 2 -r 2 -t 1s --csv" in run.shell
    rows = {(s.method, s.name): s for s in run.stats()}
    assert set(rows) == {("GET", "/api/orders"), ("POST", "/api/orders"), ("", "Aggregated")}
    agg = run.aggregated()
    assert agg.requests == rows["GET", "/api/orders"].requests + rows["POST", "/api/orders"].requests
    assert 0 < agg.requests <= 2 * 10 * 1 * 1.5  # constant_throughput(10) bounds the run
    # the final-CSV companion: the CSV counts every POST the service saw (up to one cut off at the end)
    assert abs(rows["POST", "/api/orders"].requests - created) <= 1
    assert agg.failures == 0 and agg.error_rate == 0.0 and agg.p95_ms is not None


@pytest.mark.service
def test_failed_requests_give_exit_code_one_and_a_bad_locustfile_raises(tmp_path):
    with service.run(faults={"error_rate": 1.0}) as svc:
        run = loadtest.run_locust(text=LOCUSTFILE, host=svc.url, users=1, spawn_rate=1, run_time_s=1, workdir=tmp_path)
        assert run.returncode == 1
        assert run.aggregated().error_rate == 1.0
        with pytest.raises(loadtest.LoadTestError, match="could not run"):
            loadtest.run_locust(text="import locust\nthis is not python", host=svc.url, run_time_s=1)


def test_run_locust_refuses_unbounded_or_remote_runs():
    with pytest.raises(ValueError, match="users"):
        loadtest.run_locust(text=LOCUSTFILE, host="http://127.0.0.1:1", users=1000)
    with pytest.raises(ValueError, match="run_time_s"):
        loadtest.run_locust(text=LOCUSTFILE, host="http://127.0.0.1:1", run_time_s=600)
    with pytest.raises(ValueError, match="this machine"):
        loadtest.run_locust(text=LOCUSTFILE, host="http://example.com")
    with pytest.raises(ValueError, match="exactly one"):
        loadtest.run_locust(host="http://127.0.0.1:1")


def test_task_ratios_come_from_locust_itself():
    assert loadtest.task_ratios(text=LOCUSTFILE) == {"Reader": {"list_orders": 0.75, "create_order": 0.25}}


def test_write_and_read_stats_csv_round_trip_with_na(tmp_path):
    path = loadtest.write_stats_csv(
        tmp_path / "s.csv",
        [
            {"Type": "GET", "Name": "/a", "Request Count": 10, "Failure Count": 1, "95%": 120},
            {"Name": "Aggregated", "Request Count": 0, "Failure Count": 0},
        ],
    )
    first, agg = loadtest.read_stats(path)
    assert (first.method, first.name, first.requests, first.failures, first.p95_ms) == ("GET", "/a", 10, 1, 120.0)
    assert first.error_rate == 0.1
    assert loadtest.aggregated(path) == agg
    assert (agg.requests, agg.p95_ms, agg.error_rate) == (0, None, 0.0)
    assert path.read_text().splitlines()[0].split(",") == list(loadtest.CSV_COLUMNS)


def test_reader_errors_say_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match="--csv"):
        loadtest.read_stats(tmp_path / "missing.csv")
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a locust stats CSV"):
        loadtest.read_stats(tmp_path / "other.csv")
    path = loadtest.write_stats_csv(tmp_path / "noagg.csv", [{"Name": "/a", "Request Count": 1}])
    with pytest.raises(ValueError, match="Aggregated"):
        loadtest.aggregated(path)


@pytest.mark.service
def test_interleaved_runs_alternate_versions_and_are_bounded():
    with service.run("1.0.0") as a, service.run("1.1.0", faults={"latency_ms": 20}) as b:
        runs = loadtest.interleaved_runs({"1.0.0": a.url + "/api/orders", "1.1.0": b.url + "/api/orders"}, runs=3, n=8)
    assert [r.version for r in runs] == ["1.0.0", "1.1.0"] * 3
    assert all(r.requests == 8 and r.failed == 0 and len(r.latencies_ms) == 8 for r in runs)
    slow = [r.p50_ms for r in runs if r.version == "1.1.0"]
    assert min(slow) >= 20
    with pytest.raises(ValueError, match="runs"):
        loadtest.interleaved_runs({"x": a.url}, runs=0)
