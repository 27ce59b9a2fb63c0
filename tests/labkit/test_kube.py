"""labkit.kube: offline validation finds real schema errors, scratch folders clean up, the HPA world is exact."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit import kube, service


def test_the_reference_manifests_are_valid_and_the_syllabus_ones_too():
    assert kube.validate_manifests(kube.parse_manifests(kube.SYLLABUS_DEPLOYMENT)) == []
    assert kube.validate_manifests(kube.parse_manifests(kube.SYLLABUS_HPA)) == []
    with kube.manifests_dir(kube.APP_MANIFESTS) as k8s:
        assert kube.validate_manifests(k8s) == []
        names = [kube.object_name(d) for d in kube.load_manifests(k8s)]
    # files are read in sorted order: deployment.yaml, hpa.yaml, service.yaml
    assert names == ["Deployment/app", "HorizontalPodAutoscaler/app-hpa", "Service/app"]


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ("replicas: 3", "replica: 3", "spec", "'replica' was unexpected"),
        (
            "[containerPort: 3000]",
            '[containerPort: "3000"]',
            "spec.template.spec.containers[0].ports[0].containerPort",
            "not of type 'integer'",
        ),
        ("  selector:\n    matchLabels:\n      app: backend\n", "", "spec", "'selector' is a required property"),
    ],
)
def test_schema_errors_name_the_field_and_give_a_hint(old, new, field, words):
    text = kube.SYLLABUS_DEPLOYMENT.replace(old, new)
    assert text != kube.SYLLABUS_DEPLOYMENT
    [finding] = kube.validate_manifests(kube.parse_manifests(text))
    assert finding.obj == "Deployment/app"
    assert finding.field == field
    assert words in finding.message
    assert finding.hint
    assert "Deployment/app" in str(finding)


def test_strict_is_what_catches_a_misspelled_field():
    docs = kube.parse_manifests(kube.SYLLABUS_DEPLOYMENT.replace("replicas: 3", "replica: 3"))
    assert kube.validate_manifests(docs, strict=False) == []
    assert len(kube.validate_manifests(docs, strict=True)) == 1


def test_removed_api_versions_are_findings_not_silent_warnings():
    old = kube.SYLLABUS_DEPLOYMENT.replace("apps/v1", "extensions/v1beta1")
    [finding] = kube.validate_manifests(kube.parse_manifests(old))
    assert finding.field == "apiVersion" and "extensions/v1beta1" in finding.message
    hpa = kube.SYLLABUS_HPA.replace("autoscaling/v2", "autoscaling/v2beta2")
    assert len(kube.validate_manifests(kube.parse_manifests(hpa))) == 1
    # the same HPA is fine for a Kubernetes version that still served v2beta2
    assert kube.validate_manifests(kube.parse_manifests(hpa), version="1.25") == []


def test_objects_without_kind_and_bad_yaml_are_reported_for_people():
    [finding] = kube.validate_manifests([{"metadata": {"name": "x"}}])
    assert finding.obj == "?/x" and "apiVersion and kind" in finding.message
    with pytest.raises(ValueError, match="not valid YAML"):
        kube.parse_manifests("a: [1, 2\nb: 3\n")
    with pytest.raises(ValueError, match="expected a mapping"):
        kube.parse_manifests("- name: app\n")
    assert kube.parse_manifests("---\n---\nkind: Service\n") == [{"kind": "Service"}]


def test_format_findings_says_valid_or_numbers_the_findings():
    assert kube.format_findings([]).startswith("\u2714")
    findings = [kube.Finding("a.yaml", "Deployment/app", "spec", "bad"), kube.Finding("b.yaml", "Service/s", "", "x")]
    text = kube.format_findings(findings)
    assert text.splitlines()[0].startswith("1. a.yaml: Deployment/app at spec: bad")
    assert text.splitlines()[1] == "2. b.yaml: Service/s: x"


def test_manifests_dir_cleans_up_even_on_error_and_refuses_paths():
    with pytest.raises(RuntimeError), kube.manifests_dir({"deployment.yaml": "kind: Deployment\n"}) as k8s:
        root = k8s.parent
        assert (k8s / "deployment.yaml").read_text() == "kind: Deployment\n"
        raise RuntimeError("student bug")
    assert not root.exists()
    with pytest.raises(ValueError, match="plain"), kube.manifests_dir({"../evil.yaml": ""}):
        pass
    with pytest.raises(FileNotFoundError, match="no manifest"):
        kube.load_manifests(Path(root) / "missing")


def test_workspace_lives_beyond_the_call():
    k8s = kube.workspace({"service.yaml": kube.APP_SERVICE})
    assert kube.load_manifests(k8s) == kube.parse_manifests(kube.APP_SERVICE)


def test_utilization_is_the_controllers_integer_percent_capped_at_the_limit():
    assert kube.utilization(140, 2, 100) == 70
    assert kube.utilization(140, 10, 100, 200) == 14  # no float noise: 14, not 14.000000000000002
    assert kube.utilization(700, 6, 100, 200) == 116  # rounded down, like the controller
    assert kube.utilization(700, 2, 100, 200) == 200  # throttled at the limit
    assert kube.utilization(700, 2, 100) == 350
    assert isinstance(kube.utilization(10.5, 3, 100.0), int)
    for bad in [(100, 0, 100), (100, 2, 0), (-1, 2, 100)]:
        with pytest.raises(ValueError):
            kube.utilization(*bad)


def test_load_curve_is_deterministic_and_has_the_shape_the_week_describes():
    curve = kube.load_curve()
    assert curve == kube.load_curve() and curve != kube.load_curve(seed=1)
    assert len(curve) == 160 and all(isinstance(v, int) for v in curve)
    per_minute = [curve[i * 4] for i in range(40)]
    assert per_minute[0] < 150 < 1500 < per_minute[12]  # quiet, then the spike
    assert per_minute[17] < 200 < 500 < per_minute[20]  # the one-minute dip, then the plateau
    with pytest.raises(ValueError):
        kube.load_curve(0)


def test_plot_hpa_draws_both_panels_and_checks_lengths():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = kube.plot_hpa([100, 200], [2, 2])
    assert ax.get_ylabel() == "replicas" and len(ax.figure.axes) == 3
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="one per step"):
        kube.plot_hpa([100], [2, 2])


@pytest.mark.service
def test_poll_until_ready_waits_for_a_slow_boot_and_is_bounded():
    with service.run(boot_delay=0.4, wait="none") as svc:
        log = kube.poll_until_ready(svc.url + "/ready", period_s=0.05, timeout_s=0.1, deadline_s=5.0)
        assert log.ready and log.attempts[-1].ok and log.failures >= 1
        assert log.ready_after_s is not None and log.ready_after_s >= 0.3
    # nothing listens any more: every attempt fails, and the attempt bound holds
    log = kube.poll_until_ready(svc.url + "/ready", period_s=0.01, timeout_s=0.1, max_attempts=3)
    assert not log.ready and [a.outcome for a in log.attempts] == ["refused"] * 3
    with pytest.raises(ValueError):
        kube.poll_until_ready(svc.url, period_s=0)


def test_probe_attempt_success_is_the_kubelets_200_to_399():
    assert kube.ProbeAttempt(0.0, "200").ok and kube.ProbeAttempt(0.0, "302").ok
    assert not kube.ProbeAttempt(0.0, "404").ok and not kube.ProbeAttempt(0.0, "refused").ok


def test_explain_reads_the_api_documentation_of_the_pinned_version_offline():
    probe = kube.explain("io.k8s.api.core.v1.Probe")
    assert "Defaults to 3" in probe["failureThreshold"] and "Default to 10 seconds" in probe["periodSeconds"]
    assert "defaults to Limits" in kube.explain("io.k8s.api.core.v1.ResourceRequirements")["requests"]
    assert "autoscaling" not in kube.explain("io.k8s.api.core.v1.Probe", version="1.25")["periodSeconds"]
    with pytest.raises(KeyError, match="did you mean"):
        kube.explain("io.k8s.api.core.v2.Probe")
    with pytest.raises(ValueError, match="no schema"):
        kube.explain("io.k8s.api.core.v1.Probe", version="1.2")
