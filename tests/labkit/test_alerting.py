"""labkit.alerting: rule files as Prometheus reads them, histogram_quantile, the synthetic series and timing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labkit import alerting, service


def test_parse_duration_follows_prometheus():
    assert alerting.parse_duration("2m") == 120.0
    assert alerting.parse_duration("1h30m") == 5400.0
    assert alerting.parse_duration("500ms") == 0.5
    assert alerting.parse_duration("0s") == 0.0
    assert alerting.parse_duration("3d") == 259200.0
    for bad in ("", "2", "2 m", "30m1h", "1.5h", "m"):
        with pytest.raises(alerting.AlertingError):
            alerting.parse_duration(bad)


def test_load_rules_reads_the_syllabus_file():
    rules = alerting.load_rules(alerting.SYLLABUS_RULES)
    assert [r["alert"] for r in rules] == ["HighErrorRate", "HighLatency"]
    assert [r["for_s"] for r in rules] == [120.0, 300.0]
    assert rules[0]["annotations"] == {"summary": "High error rate detected"}
    assert rules[1]["group"] == "backend-alerts" and rules[1]["keep_firing_for_s"] == 0.0
    with pytest.raises(alerting.AlertingError, match="groups"):
        alerting.load_rules("rules: []")
    with pytest.raises(alerting.AlertingError, match="expr"):
        alerting.load_rules("groups:\n- name: g\n  rules:\n  - alert: A\n")
    assert alerting.load_rules("groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n") == []


def test_histogram_quantile_interpolates_like_prometheus():
    buckets = {0.1: 50.0, 0.5: 90.0, 1.0: 100.0, math.inf: 100.0}
    assert alerting.histogram_quantile(0.5, buckets) == pytest.approx(0.1)
    assert alerting.histogram_quantile(0.7, buckets) == pytest.approx(0.1 + 0.4 * 20 / 40)
    assert alerting.histogram_quantile(0.25, buckets) == pytest.approx(0.05)  # lowest bucket from 0
    assert alerting.histogram_quantile(0.99, {0.1: 50.0, math.inf: 100.0}) == 0.1  # +Inf: last finite bound
    assert math.isnan(alerting.histogram_quantile(0.9, {0.1: 0.0, math.inf: 0.0}))
    with pytest.raises(alerting.AlertingError, match="Inf"):
        alerting.histogram_quantile(0.9, {0.1: 1.0})


def test_synthetic_series_are_seeded_and_shaped():
    a, b = alerting.syllabus_series(), alerting.syllabus_series()
    assert a.equals(b) and list(a.columns) == ["t_s", "error_rate", "p95_s"]
    assert len(a) == 40 * 60 // alerting.EVALUATION_INTERVAL_S
    assert a["error_rate"].isna().sum() == 1
    traffic = alerting.incident_traffic()
    assert len(traffic) == 5 * 1440 and traffic["errors"].dtype == np.int64
    assert set(traffic["incident"]) == {"", "fast burn", "slow burn"}
    fast = traffic[traffic["incident"] == "fast burn"]
    assert 0.09 < fast["errors"].sum() / fast["requests"].sum() < 0.11
    with pytest.raises(alerting.AlertingError, match="at least 4"):
        alerting.incident_traffic(days=2)


def test_alert_timing():
    firing = [False, False, True, True, True, False, False]
    assert alerting.alert_timing(firing, 1, 3) == {"detect_min": 1.0, "reset_min": 2.0}
    assert alerting.alert_timing(firing, 3, 5) == {"detect_min": 0.0, "reset_min": 0.0}
    never = alerting.alert_timing([False] * 5, 1, 3)
    assert math.isnan(never["detect_min"]) and math.isnan(never["reset_min"])
    assert math.isnan(alerting.alert_timing([False, True, True], 1, 2)["reset_min"])


def test_plots_draw():
    import matplotlib

    matplotlib.use("Agg")
    s = alerting.syllabus_series(minutes=2)
    ax = alerting.plot_alert_states(s["t_s"], s["error_rate"], ["inactive"] * len(s), threshold=0.1, title="t")
    assert ax.get_title() == "t"
    with pytest.raises(alerting.AlertingError, match="same length"):
        alerting.plot_alert_states([0], [1.0, 2.0], ["inactive"], threshold=1, title="t")
    top = alerting.plot_burn_rates([0, 1, 2], {"1h": [0.0, 20.0, 1.0]}, factors={"1h": 14.4},
                                   firing={"page": [False, True, False]}, incidents=[("x", 1, 2)])  # fmt: skip
    assert top.get_yscale() == "log"


@pytest.mark.service
def test_scrape_reads_a_real_metrics_page():
    with service.run("1.0.0") as svc:
        svc.get("/api/orders")
        samples = alerting.scrape(svc.url + "/metrics")
    names = {s[0] for s in samples}
    assert {"http_requests_total", "http_request_duration_seconds_bucket", "app_info"} <= names
    ok = [s for s in samples if s[0] == "http_requests_total" and s[1].get("path") == "/api/orders"]
    assert ok and ok[0][1]["status"] == "200" and ok[0][2] >= 1.0
