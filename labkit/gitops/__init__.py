"""GitOps and Infrastructure as Code without a cluster: manifests in git, a simulated cluster, parsed Terraform.

Week 15 needs three things a laptop does not have: a Kubernetes cluster, an Argo CD and a cloud. This module
gives a faithful, small stand-in for each, so that the student's code — not a black box — does the GitOps work:

* :class:`Cluster` is the "actual state": a dict of live objects. Like a real API server it adds the fields
  the server owns (``metadata.uid``, ``resourceVersion``, ``generation``, ``creationTimestamp``, ``status``),
  and it lets a person drift it by hand (:meth:`Cluster.edit`, the ``kubectl edit`` of this lab).
* :func:`gitops_lab` opens a config repository (real git, from :mod:`labkit.git`) with Kubernetes manifests
  under ``k8s/``, a bare ``origin``, the student's clone, the clone an agent (Argo CD) reads from, a teammate
  who pushes, an empty cluster and an Argo CD ``Application`` pointing at all of it. Everything lives in a
  temporary folder that is removed when the ``with`` block ends.
* :func:`parse_manifests` and :func:`key` read YAML manifests the way ``kubectl`` does (several documents per
  file) and name objects ``Kind/namespace/name``.
* :func:`parse_terraform` / :func:`load_terraform` parse a Terraform tree with python-hcl2 (the real HCL2
  parser), and :func:`plan_before_apply` checks that a CI workflow applies only a saved plan.
* :func:`plot_timeline` draws a GitOps timeline: commits, hand edits and reconciles, and how many objects were
  in sync after each.

Nothing here touches the network; nothing runs at import::

    from labkit import gitops
    with gitops.gitops_lab() as lab:
        lab.teammate.push_commit("feat: backend v1.1", files={"k8s/backend.yaml": ...})
        lab.cluster.edit("Deployment/production/backend", "/spec/replicas", 5)

One layer per file: ``manifests``, ``cluster``, ``lab``, ``terraform``, ``plot``.
"""

from __future__ import annotations

from .cluster import Cluster, ClusterEvent
from .lab import GitOpsLab, gitops_lab
from .manifests import (
    MANIFESTS,
    SERVER_FIELDS,
    SYLLABUS_APPLICATION,
    api_group,
    application,
    deployment,
    key,
    parse_manifests,
)
from .plot import plot_timeline
from .terraform import (
    TERRAFORM_TREE,
    is_literal,
    load_terraform,
    parse_terraform,
    plan_before_apply,
    terraform_tree,
    unquote,
)

__all__ = [
    "SERVER_FIELDS",
    "SYLLABUS_APPLICATION",
    "MANIFESTS",
    "TERRAFORM_TREE",
    "ClusterEvent",
    "Cluster",
    "GitOpsLab",
    "gitops_lab",
    "parse_manifests",
    "key",
    "api_group",
    "application",
    "deployment",
    "parse_terraform",
    "load_terraform",
    "terraform_tree",
    "unquote",
    "is_literal",
    "plan_before_apply",
    "plot_timeline",
]
