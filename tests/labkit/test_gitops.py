"""labkit.gitops: the simulated cluster, the GitOps lab (real git), manifests, Terraform parsing, the plot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest
import yaml

from labkit import ci, gitops

CONFIG = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"A": "1"}}


def test_parse_manifests_reads_several_documents_and_skips_empty_ones() -> None:
    objs = gitops.parse_manifests(gitops.MANIFESTS["k8s/backend.yaml"] + "---\n---\n")
    assert [o["kind"] for o in objs] == ["Deployment", "Service"]
    with pytest.raises(ValueError, match="kind and metadata.name"):
        gitops.parse_manifests("a: 1\n", source="x.yaml")
    with pytest.raises(ValueError, match="not valid YAML"):
        gitops.parse_manifests("a: [\n")


def test_key_uses_the_object_namespace_before_the_default() -> None:
    assert gitops.key(CONFIG, "production") == "ConfigMap/production/cfg"
    obj = {**CONFIG, "metadata": {"name": "cfg", "namespace": "staging"}}
    assert gitops.key(obj, "production") == "ConfigMap/staging/cfg"
    with pytest.raises(ValueError, match="no metadata.namespace"):
        gitops.key(CONFIG)
    assert gitops.api_group({"apiVersion": "apps/v1"}) == "apps"
    assert gitops.api_group({"apiVersion": "v1"}) == ""


def test_cluster_adds_server_fields_and_keeps_uid_on_replace() -> None:
    cluster = gitops.Cluster()
    k = cluster.apply(CONFIG, namespace="production")
    first = cluster.get(k)
    assert first["metadata"]["namespace"] == "production"
    assert {"uid", "resourceVersion", "generation", "creationTimestamp"} <= set(first["metadata"])
    assert "status" not in first  # only Deployments get a status here
    cluster.apply({**CONFIG, "data": {"A": "2"}}, namespace="production")
    second = cluster.get(k)
    assert second["metadata"]["uid"] == first["metadata"]["uid"]
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    assert second["data"] == {"A": "2"}
    assert CONFIG["metadata"] == {"name": "cfg"}, "apply must not change the caller's object"


def test_cluster_reads_are_copies_and_manifests_cannot_set_server_fields() -> None:
    cluster = gitops.Cluster()
    k = cluster.apply({**CONFIG, "status": {"x": 1}, "metadata": {"name": "cfg", "uid": "mine"}}, namespace="ns")
    live = cluster.objects()
    live[k]["data"]["A"] = "changed"
    assert cluster.get(k)["data"]["A"] == "1"
    assert cluster.get(k)["metadata"]["uid"] != "mine" and "status" not in cluster.get(k)


def test_deployment_status_follows_replicas_and_edits_are_logged() -> None:
    cluster = gitops.Cluster()
    k = cluster.apply(yaml.safe_load(gitops.deployment(replicas=3)), namespace="production")
    assert cluster.get(k)["status"]["replicas"] == 3
    gen = cluster.get(k)["metadata"]["generation"]
    cluster.edit(k, "/spec/replicas", 5)
    assert cluster.get(k)["spec"]["replicas"] == 5 and cluster.get(k)["status"]["replicas"] == 5
    assert cluster.get(k)["metadata"]["generation"] == gen + 1
    cluster.edit(k, "/metadata/labels/debug", "true", actor="kubectl")
    assert cluster.get(k)["metadata"]["generation"] == gen + 1, "a label is not a spec change"
    cluster.edit(k, "/metadata/labels/debug", gitops.Cluster.DELETE)
    assert "debug" not in cluster.get(k)["metadata"]["labels"]
    cluster.edit(k, "/metadata/labels/app.kubernetes.io~1part-of", "shop")
    assert cluster.get(k)["metadata"]["labels"]["app.kubernetes.io/part-of"] == "shop"
    cluster.edit(k, "/spec/template/spec/containers/0/image", "x:2")
    assert cluster.get(k)["spec"]["template"]["spec"]["containers"][0]["image"] == "x:2"
    assert [e.action for e in cluster.events] == ["apply", "edit", "edit", "edit", "edit", "edit"]
    assert cluster.events[1].detail == "/spec/replicas = 5"


def test_cluster_errors_speak_to_the_student() -> None:
    cluster = gitops.Cluster()
    with pytest.raises(KeyError, match="no live object"):
        cluster.edit("ConfigMap/ns/none", "/data/A", "1")
    k = cluster.apply(CONFIG, namespace="ns")
    with pytest.raises(ValueError, match="cannot be edited"):
        cluster.edit(k, "/status", {})
    with pytest.raises(ValueError, match="starts with '/'"):
        cluster.edit(k, "data/A", "1")
    with pytest.raises(ValueError, match="no field"):
        cluster.edit(k, "/data/A/deeper", "1")
    cluster.delete(k)
    assert len(cluster) == 0 and k not in cluster
    with pytest.raises(KeyError):
        cluster.delete(k)


def test_gitops_lab_has_a_remote_two_clones_and_a_teammate() -> None:
    with gitops.gitops_lab(prune=False) as lab:
        root = lab.repo.path.parent
        head = lab.origin_head()
        assert lab.agent.rev_parse("origin/HEAD") == head == lab.repo.head
        assert lab.app["spec"]["syncPolicy"]["automated"] == {"prune": False, "selfHeal": True}
        assert lab.app["spec"]["source"]["repoURL"] == str(lab.origin)
        files = lab.agent.git("ls-tree", "-r", "--name-only", head, "--", "k8s").split()
        assert files == ["k8s/backend.yaml", "k8s/config.yaml"]
        assert lab.teammate.repo.git("config", "--local", "commit.gpgsign").strip() == "false"
        sha = lab.teammate.push_commit("feat: more", files={"k8s/extra.yaml": yaml.safe_dump(CONFIG)})
        assert lab.origin_head() == sha
        assert lab.agent.rev_parse("origin/main") == head, "the agent sees the push only after a fetch"
        lab.agent.git("fetch", "-q", "origin")
        assert lab.agent.rev_parse("origin/HEAD") == sha
        assert len(lab.cluster) == 0
    assert not root.exists(), "the lab's folder is removed when the block ends"


def test_gitops_lab_cleans_up_on_error() -> None:
    with pytest.raises(RuntimeError), gitops.gitops_lab() as lab:
        root = lab.repo.path.parent
        raise RuntimeError("boom")
    assert not root.exists()


def test_application_helper_and_the_syllabus_manifest() -> None:
    app = gitops.application(
        "https://example.com/r.git",
        automated=False,
        ignore_differences=[{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}],
    )
    assert "syncPolicy" not in app["spec"] and app["spec"]["ignoreDifferences"][0]["kind"] == "Deployment"
    syllabus = yaml.safe_load(gitops.SYLLABUS_APPLICATION)
    assert syllabus["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert "project" not in syllabus["spec"]


def test_parse_terraform_keeps_quotes_on_literals_and_names_bad_files() -> None:
    tree = gitops.parse_terraform(gitops.TERRAFORM_TREE)
    assert ".github/workflows/terraform.yml" not in tree and "envs/production.tfvars" in tree
    db = tree["database.tf"]["resource"][0]['"aws_db_instance"']['"orders"']
    assert db["password"] == '"s3cr3t-Passw0rd"' and db["allocated_storage"] == 20
    assert gitops.is_literal(db["password"]) and not gitops.is_literal(db["instance_class"])
    assert not gitops.is_literal(db["identifier"]), "an interpolation is an expression, not a literal"
    assert gitops.unquote('"aws"') == "aws" and gitops.unquote("${var.x}") == "${var.x}"
    assert not gitops.is_literal(3) and gitops.is_literal('"a \\"quoted\\" word"')
    with pytest.raises(ValueError, match="broken.tf is not valid HCL2"):
        gitops.parse_terraform({"broken.tf": 'resource "x" {\n'})


def test_load_terraform_reads_the_same_tree_from_disk() -> None:
    with gitops.terraform_tree() as folder:
        assert gitops.load_terraform(folder) == gitops.parse_terraform(gitops.TERRAFORM_TREE)
        assert (folder / ".github/workflows/terraform.yml").exists()
    assert not folder.exists()
    with pytest.raises(FileNotFoundError):
        gitops.load_terraform(folder)


def test_plan_before_apply() -> None:
    bad = ci.load_workflow(gitops.TERRAFORM_TREE[".github/workflows/terraform.yml"])
    assert len(gitops.plan_before_apply(bad)) == 1 and "without a saved plan" in gitops.plan_before_apply(bad)[0]
    good = ci.load_workflow("""
on: [push]
jobs:
  tf:
    runs-on: ubuntu-latest
    steps:
      - run: |
          terraform init
          terraform plan -out=tfplan
      - run: terraform apply tfplan
""")
    assert gitops.plan_before_apply(good) == []
    other = ci.load_workflow("""
on: [push]
jobs:
  tf:
    runs-on: ubuntu-latest
    steps:
      - run: terraform plan -out=a.plan
      - run: terraform apply b.plan
""")
    assert "no earlier" in gitops.plan_before_apply(other)[0]


def test_plot_timeline_draws_and_validates() -> None:
    steps = [
        {"label": "commit", "actor": "git", "in_sync": 2, "out_of_sync": 1},
        {"label": "reconcile", "actor": "reconcile", "in_sync": 3, "out_of_sync": 0},
    ]
    ax = gitops.plot_timeline(steps)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["commit", "reconcile"]
    with pytest.raises(ValueError, match="empty"):
        gitops.plot_timeline([])
    with pytest.raises(ValueError, match="misses"):
        gitops.plot_timeline([{"label": "x"}])
