"""labkit.experiments: the stable bucket, a live percentage flag with an audit log, flag-routed traffic, A/B data."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from labkit import experiments, flags, service

USERS = [f"user-{i}" for i in range(5000)]


def test_bucket_is_the_week4_recipe_and_stays_in_range():
    digest = hashlib.sha256(b"new-checkout:user-42").digest()
    assert experiments.bucket("new-checkout", "user-42") == int.from_bytes(digest[:8], "big") % 100
    assert experiments.bucket("k", "ünïcode", buckets=10_000) == (
        int.from_bytes(hashlib.sha256("k:ünïcode".encode()).digest()[:8], "big") % 10_000
    )
    values = {experiments.bucket("new-checkout", u) for u in USERS}
    assert values == set(range(100))


@pytest.mark.parametrize(
    ("args", "match"),
    [(("", "u"), "key"), ((None, "u"), "key"), (("k", 7), "user_id"), (("k", "u", 0), "buckets")],
)
def test_bucket_refuses_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        experiments.bucket(*args)


def test_flag_is_sticky_monotonic_and_independent_per_key():
    flag = experiments.RolloutFlag("new-checkout")
    assert not any(flag.is_on(u) for u in USERS)
    reached = []
    for percent in (1, 5, 25, 100):
        flag.set(percent, reason=f"step to {percent}")
        on = {u for u in USERS if flag.is_on(u)}
        assert on == {u for u in USERS if flag.is_on(u)}  # sticky
        flags.check_share(len(on), len(USERS), percent / 100)
        reached.append(on)
    assert reached[0] <= reached[1] <= reached[2] <= reached[3] == set(USERS)
    other = experiments.RolloutFlag("dark-mode", 50)
    flag.set(50)
    both = sum(flag.is_on(u) and other.is_on(u) for u in USERS)
    flags.check_share(both, len(USERS), 0.25, what="users in both 50 % flags")


def test_flag_history_is_an_audit_log_and_a_copy():
    flag = experiments.RolloutFlag("new-checkout", 5)
    before = time.monotonic()
    change = flag.set(0, reason="rollback: error_rate")
    assert flag.percent == 0.0 and isinstance(flag.percent, float)
    assert [(c.percent, c.reason) for c in flag.history] == [(5.0, "created"), (0.0, "rollback: error_rate")]
    assert flag.history[-1] == change and change.at >= before
    flag.history.clear()
    assert len(flag.history) == 2
    assert "new-checkout" in repr(flag)


@pytest.mark.parametrize("bad", [-1, 101, "20", None, True, float("nan")])
def test_flag_refuses_bad_percentages(bad):
    with pytest.raises(ValueError, match="0 to 100"):
        experiments.RolloutFlag("k", bad)
    with pytest.raises(ValueError, match="0 to 100"):
        experiments.RolloutFlag("k").set(bad)


def test_flag_refuses_a_reason_that_is_not_text():
    with pytest.raises(ValueError, match="reason"):
        experiments.RolloutFlag("k").set(5, reason=None)  # type: ignore[arg-type]


def test_flag_served_through_openfeature_follows_live_changes():
    flag = experiments.RolloutFlag("new-checkout", 0)
    api.set_provider(flag.provider(), domain="test-experiments")
    client = api.get_client("test-experiments")
    user = next(u for u in USERS if experiments.bucket("new-checkout", u) == 3)
    ctx = EvaluationContext(targeting_key=user)
    assert client.get_boolean_value("new-checkout", True, ctx) is False
    flag.set(5)
    details = client.get_boolean_details("new-checkout", False, ctx)
    assert (details.value, details.variant, details.reason) == (True, "on", "SPLIT")
    anonymous = client.get_boolean_details("new-checkout", True)
    assert (anonymous.value, anonymous.reason) == (False, "DEFAULT")


@pytest.mark.service
def test_traffic_follows_the_flag_and_stops_with_the_block():
    flag = experiments.RolloutFlag("new-checkout")
    with service.run("1.0.0") as old, service.run("1.1.0") as new:
        switch: dict[str, float] = {}

        def to_100() -> None:
            switch["at"] = flag.set(100, reason="all in").at

        with experiments.traffic(flag, old.url, new.url, max_seconds=10, actions=[(0.4, to_100)]) as users:
            time.sleep(0.8)
        done = users.count()
        assert users.stopped and done > 20
        time.sleep(0.2)
        assert users.count() == done  # nothing after the block
        records = users.records
        assert all(not r.on for r in records if r.t < switch["at"] - users.started - 0.05)
        assert users.count(on=False, since=switch["at"] + 0.05) == 0
        assert users.count(on=True) > 0
        summary = users.summary()
        assert summary["old"]["statuses"] == {"200": summary["old"]["requests"]}
        assert summary["new"]["requests"] == users.count(on=True)
        served_new = httpx.get(new.url + "/metrics", timeout=5).text
        assert f'http_requests_total{{method="GET",path="/api/orders",status="200"}} {users.count(on=True)}.0' in (
            served_new
        )


@pytest.mark.service
def test_traffic_is_bounded_and_reraises_action_errors():
    flag = experiments.RolloutFlag("k", 50)
    with service.run("1.0.0") as svc:
        with experiments.traffic(flag, svc.url, svc.url, max_requests=30, max_seconds=10) as users:
            time.sleep(1.0)
        assert users.count() == 30

        def broken() -> None:
            raise RuntimeError("student bug in an action")

        with pytest.raises(RuntimeError, match="student bug"):
            with experiments.traffic(flag, svc.url, svc.url, max_seconds=5, actions=[(0.0, broken)]):
                time.sleep(0.2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"old_url": "127.0.0.1:1"}, "old_url"),
        ({"users": 0}, "users"),
        ({"concurrency": 0}, "concurrency"),
        ({"max_seconds": 0}, "max_seconds"),
        ({"max_requests": 0}, "max_requests"),
    ],
)
def test_traffic_refuses_bad_arguments(kwargs, match):
    args = {"old_url": "http://127.0.0.1:1", "new_url": "http://127.0.0.1:1", **kwargs}
    with pytest.raises(ValueError, match=match):
        with experiments.traffic(experiments.RolloutFlag("k"), **args):
            pass
    with pytest.raises(TypeError, match="RolloutFlag"):
        with experiments.traffic("k", "http://127.0.0.1:1", "http://127.0.0.1:1"):  # type: ignore[arg-type]
            pass


def test_simulate_visits_is_reproducible_and_split_by_the_hash():
    visits = experiments.simulate_visits("checkout-flow", 4000, {"A": 0.10, "B": 0.30}, seed=3)
    assert list(visits.columns) == ["user_id", "variant", "converted"]
    assert visits.equals(experiments.simulate_visits("checkout-flow", 4000, {"A": 0.10, "B": 0.30}, seed=3))
    expected = ["A" if experiments.bucket("checkout-flow", u) < 50 else "B" for u in visits["user_id"]]
    assert visits["variant"].tolist() == expected
    rates = visits.groupby("variant")["converted"].mean()
    assert 0.07 < rates["A"] < 0.13 and 0.26 < rates["B"] < 0.34
    assert visits["converted"].dtype == bool


@pytest.mark.parametrize(
    ("args", "match"), [((0, {"A": 0.1}), "n_users"), ((10, {}), "rates"), ((10, {"A": 1.5}), "rate of 'A'")]
)
def test_simulate_visits_refuses_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        experiments.simulate_visits("e", *args)


def test_serve_text_serves_the_text_on_any_path_and_stops():
    with experiments.serve_text("a_total 1.0\n") as url:
        assert url.startswith("http://127.0.0.1:")
        resp = httpx.get(url + "/metrics", timeout=5)
        assert (resp.status_code, resp.text) == (200, "a_total 1.0\n")
        assert resp.headers["content-type"].startswith("text/plain")
        assert httpx.get(url + "/anything", timeout=5).text == "a_total 1.0\n"
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/metrics", timeout=1)
    with pytest.raises(ValueError, match="text"):
        with experiments.serve_text(b"bytes"):  # type: ignore[arg-type]
            pass
