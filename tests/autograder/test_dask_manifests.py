"""deploy/dask-workers.yaml: valid Kubernetes (offline, kubernetes-validate) and shaped as the engine needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labkit.kube import format_findings, load_manifests, validate_manifests

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "deploy" / "dask-workers.yaml"
GUIDE = REPO / "docs" / "distributed-grading.md"


def _objects() -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d for d in load_manifests(MANIFEST)}


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def test_manifest_is_valid_kubernetes_with_the_strict_schema() -> None:
    findings = validate_manifests(MANIFEST)
    assert findings == [], format_findings(findings)


def test_workers_reach_the_scheduler_service_and_grade_one_submission_at_a_time() -> None:
    objects = _objects()
    service = objects[("Service", "autograder-dask-scheduler")]
    ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
    assert ports["comm"] == 8786
    scheduler = objects[("Deployment", "autograder-dask-scheduler")]
    labels = scheduler["spec"]["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in service["spec"]["selector"].items())  # the Service finds the pod
    worker = _container(objects[("Deployment", "autograder-dask-worker")])
    command = worker["command"]
    namespace = service["metadata"]["namespace"]
    assert f"tcp://{service['metadata']['name']}.{namespace}:{ports['comm']}" in command
    assert command[command.index("--nthreads") + 1] == "1"  # the engine refuses workers with more threads
    assert worker["image"] == _container(scheduler)["image"]  # one course image for both


def test_workers_mount_nothing_and_hold_no_cluster_credentials() -> None:
    spec = _objects()[("Deployment", "autograder-dask-worker")]["spec"]["template"]["spec"]
    assert "volumes" not in spec and "volumeMounts" not in _container({"spec": {"template": {"spec": spec}}})
    assert spec["automountServiceAccountToken"] is False
    security = _container({"spec": {"template": {"spec": spec}}})["securityContext"]
    assert security["runAsNonRoot"] and security["allowPrivilegeEscalation"] is False


def test_guide_names_the_three_ways_and_the_manifest() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    for fragment in ("dask scheduler", "dask worker", "dask-kubernetes", "dask-jobqueue", "SLURMCluster"):
        assert fragment in text
    assert "deploy/dask-workers.yaml" in text
    assert "docs/distributed-grading.md" in (REPO / "README.md").read_text(encoding="utf-8")
