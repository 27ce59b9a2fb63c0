"""labkit.hardening: the served app is a real process that stops, the audit flags what the week teaches, forced
preemption exposes a missing lock, and the NetworkPolicy vocabulary follows the Kubernetes docs."""

from __future__ import annotations

import threading

import matplotlib
import pytest

from labkit import hardening
from labkit.hardening import Pod

matplotlib.use("Agg")

GOOD = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
HSTS = {"Strict-Transport-Security": "max-age=31536000; includeSubDomains"}


# ------------------------------------------------------------------------------------------------ parsing


def test_parse_csp_lowercases_names_keeps_sources_and_ignores_repeats():
    csp = hardening.parse_csp("Default-Src 'self' https://cdn.example;  img-src * ; default-src 'none';;")
    assert csp == {"default-src": ["'self'", "https://cdn.example"], "img-src": ["*"]}


def test_parse_hsts_reads_seconds_and_flags():
    assert hardening.parse_hsts("max-age=31536000; includeSubDomains; preload") == {
        "max-age": 31536000,
        "includesubdomains": True,
        "preload": True,
    }
    assert hardening.parse_hsts('max-age="600"') == {"max-age": 600}
    assert hardening.parse_hsts("max-age=1y") == {"max-age": "1y"}


# ------------------------------------------------------------------------------------------------- audit


def test_good_headers_pass_over_http_and_https():
    assert hardening.header_problems(GOOD, https=False) == []
    assert hardening.header_problems({**GOOD, **HSTS}, https=True) == []


@pytest.mark.parametrize(
    ("change", "https", "words"),
    [
        ({"Content-Security-Policy": "default-src self; frame-ancestors 'none'"}, False, "without quotes"),
        ({"Content-Security-Policy": "default-src 'self' 'unsafe-inline'"}, False, "'unsafe-inline' scripts"),
        ({"Content-Security-Policy": "img-src 'self'; frame-ancestors 'none'"}, False, "no default-src"),
        ({"X-Content-Type-Options": "nosniff; always"}, False, "exactly 'nosniff'"),
        ({"X-Frame-Options": "ALLOW-FROM https://a.example"}, False, "ALLOW-FROM is obsolete"),
        ({"Referrer-Policy": "unsafe-url"}, False, "full URLs"),
        (HSTS, False, "MUST NOT"),
        ({}, True, "missing on an HTTPS response"),
        ({"Strict-Transport-Security": "max-age=86400"}, True, "under one year"),
        ({"Strict-Transport-Security": "includeSubDomains"}, True, "no integer max-age"),
    ],
)
def test_each_weakness_is_named(change, https, words):
    problems = hardening.header_problems({**GOOD, **change}, https=https)
    assert any(words in p for p in problems), problems


def test_style_unsafe_inline_is_not_a_script_problem_and_header_names_are_case_insensitive():
    headers = {k.lower(): v for k, v in GOOD.items()}
    headers["content-security-policy"] = "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
    assert hardening.header_problems(headers, https=False) == []


def test_every_missing_header_is_reported():
    assert len(hardening.header_problems({}, https=True)) == 5


# ----------------------------------------------------------------------------------------- clock + threads


def test_manual_clock_moves_only_forward():
    clock = hardening.ManualClock(start=10.0)
    assert clock() == 10.0
    assert clock.advance(2.5) == 12.5
    assert clock() == 12.5
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(-1)


def test_concurrent_calls_makes_exactly_n_calls_and_returns_exceptions():
    calls = []
    lock = threading.Lock()

    def fn():
        with lock:
            calls.append(1)
            if len(calls) == 3:
                raise RuntimeError("third")
        return "ok"

    out = hardening.concurrent_calls(fn, 50, threads=5)
    assert len(out) == 50 == len(calls)
    assert sum(isinstance(r, RuntimeError) for r in out) == 1
    with pytest.raises(ValueError):
        hardening.concurrent_calls(fn, -1)


class _Counter:
    def __init__(self, limit: int, locked: bool) -> None:
        self.limit, self.locked, self.used = limit, locked, 0
        self.lock = threading.Lock()

    def take(self) -> bool:
        if self.locked:
            with self.lock:
                return self._take()
        return self._take()

    def _take(self) -> bool:
        used = self.used
        if used < self.limit:
            self.used = used + 1
            return True
        return False


def test_preempt_exposes_a_missing_lock_and_keeps_a_locked_one_exact():
    unlocked = _Counter(10, locked=False)
    out = hardening.concurrent_calls(unlocked.take, 200, threads=8, preempt=unlocked.take)
    assert sum(out) > 10  # the race shows every time
    locked = _Counter(10, locked=True)
    out = hardening.concurrent_calls(locked.take, 200, threads=8, preempt=locked.take)
    assert sum(out) == 10
    with pytest.raises(TypeError, match="preempt"):
        hardening.concurrent_calls(locked.take, 1, preempt=len)


def test_counting_limiter_per_key():
    lim = hardening.CountingLimiter(2, retry_after=7.5)
    assert [lim.allow("a") for _ in range(3)] == [(True, 0.0), (True, 0.0), (False, 7.5)]
    assert lim.allow("b") == (True, 0.0)


def test_plot_rate_limit_checks_lengths():
    ax = hardening.plot_rate_limit([0.1, 0.5, 1.2], [True, False, True], bin_s=1.0)
    assert ax.get_ylabel() == "requests"
    with pytest.raises(ValueError, match="one decision per request"):
        hardening.plot_rate_limit([0.1], [True, False])


# --------------------------------------------------------------------------------------------- the server


@pytest.mark.service
def test_serve_runs_the_app_in_a_process_with_trusted_proxy_headers_and_stops_it():
    from starlette.middleware.base import BaseHTTPMiddleware

    class Echo(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            response = await call_next(request)
            response.headers["X-Seen"] = f"{request.url.scheme} {request.client.host}"
            return response

    with hardening.serve(hardening.demo_app(Echo)) as srv:
        assert srv.port > 0 and srv.alive
        assert srv.get("/").status_code == 200
        assert srv.get("/api/orders").json()["orders"][0]["item"] == "book"
        assert srv.get("/nope").headers["x-seen"] == "http 127.0.0.1"
        tls = srv.get("/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"})
        assert tls.headers["x-seen"] == "https 203.0.113.7"
        boom = srv.get("/boom")
        assert boom.status_code == 500 and "x-seen" not in boom.headers  # built outside the middleware
        answers = hardening.concurrent_get(srv.url + "/", 12, threads=3)
        assert [a.status for a in answers] == [200] * 12
        with srv.client() as client:
            assert client.get("/").status_code == 200
        pid = srv.pid
    from labkit import _procs

    assert not _procs.is_running(pid)


@pytest.mark.service
def test_get_on_a_dead_server_says_so():
    with hardening.serve(hardening.demo_app()) as srv:
        srv._proc.kill()
        srv._proc.join(5)
        with pytest.raises(hardening.ServerError, match="Server alive: False"):
            srv.get("/", timeout=1.0)


# ------------------------------------------------------------------------------------------ NetworkPolicy


def test_selector_matches_follows_label_selector_semantics():
    labels = {"app": "api", "tier": "backend"}
    assert hardening.selector_matches({}, labels)
    assert not hardening.selector_matches(None, labels)
    assert hardening.selector_matches({"matchLabels": {"app": "api"}}, labels)
    assert not hardening.selector_matches({"matchLabels": {"app": "api", "env": "prod"}}, labels)
    expr = [
        {"key": "tier", "operator": "In", "values": ["backend", "db"]},
        {"key": "env", "operator": "DoesNotExist"},
        {"key": "app", "operator": "Exists"},
        {"key": "app", "operator": "NotIn", "values": ["web"]},
    ]
    assert hardening.selector_matches({"matchExpressions": expr}, labels)
    assert not hardening.selector_matches(
        {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["api"]}]}, labels
    )
    with pytest.raises(ValueError, match="unknown matchExpressions operator"):
        hardening.selector_matches({"matchExpressions": [{"key": "a", "operator": "Equals"}]}, labels)


def test_parse_policies_defaults_the_namespace_and_keeps_the_yaml_flow_sequence_quirk():
    (pol,) = hardening.parse_policies(hardening.DOCS_DEFAULT_DENY_INGRESS)
    assert pol["metadata"]["namespace"] == "default"
    (syl,) = hardening.parse_policies(hardening.SYLLABUS_NETWORK_POLICY)
    assert syl["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP"}, {"port": 3000}]
    with pytest.raises(ValueError, match="expected kind: NetworkPolicy"):
        hardening.parse_policies("kind: Service\nmetadata: {name: x}\n")


def test_the_policies_pass_the_kubernetes_schema():
    from labkit import kube

    docs = hardening.parse_policies(
        hardening.SYLLABUS_NETWORK_POLICY
        + "---\n"
        + hardening.DOCS_NETWORK_POLICY
        + "---\n"
        + hardening.DOCS_DEFAULT_DENY_INGRESS
    )
    assert kube.validate_manifests(docs) == []


def test_flow_matrix_and_its_plot():
    pods = [Pod("a", "ns", {"app": "a"}), Pod("b", "ns", {"app": "b"})]
    matrix = hardening.flow_matrix(pods, lambda s, d: s.name == "a")
    assert matrix == [[True, True], [False, False]]
    assert str(pods[0]) == "ns/a"
    ax = hardening.plot_flow_matrix(pods, matrix, title="t")
    assert ax.get_title() == "t"
    with pytest.raises(ValueError, match="2 x 2"):
        hardening.plot_flow_matrix(pods, [[True]])
