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
"""

from __future__ import annotations

import copy
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from labkit import git as labgit

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

#: JSON pointers (RFC 6901) of the fields a Kubernetes API server or its controllers own. They always differ
#: between a manifest in git and the live object, so a drift check must ignore them.
SERVER_FIELDS: tuple[str, ...] = (
    "/metadata/uid",
    "/metadata/resourceVersion",
    "/metadata/generation",
    "/metadata/creationTimestamp",
    "/metadata/managedFields",
    "/status",
)

#: The Argo CD Application exactly as the syllabus prints it (spot what is missing: week 15, exercise 1).
SYLLABUS_APPLICATION = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: backend-app
spec:
  source:
    repoURL: https://github.com/company/app-config
    path: kubernetes/
    targetRevision: HEAD
  destination:
    server: https://kubernetes.default.svc
    namespace: production
  syncPolicy:
    automated: {prune: true, selfHeal: true}
"""


def deployment(
    name: str = "backend",
    image: str = "registry.example.com/backend:1.0.0",
    replicas: int = 2,
    labels: Mapping[str, str] | None = None,
) -> str:
    """The YAML of a small Deployment (no namespace: the Application's destination supplies it)."""
    extra = "".join(f"\n    {k}: {v}" for k, v in (labels or {}).items())
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app: {name}{extra}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
        - name: {name}
          image: {image}
          ports:
            - containerPort: 8080
"""


_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: backend
spec:
  selector:
    app: backend
  ports:
    - port: 80
      targetPort: 8080
"""

_CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: backend-config
data:
  LOG_LEVEL: info
  FEATURE_CHECKOUT_V2: "false"
"""

#: The config repository's first commit: two files, three objects (a Deployment and a Service share a file).
MANIFESTS: dict[str, str] = {
    "k8s/backend.yaml": deployment() + "---\n" + _SERVICE,
    "k8s/config.yaml": _CONFIG,
    "README.md": "# app-config\n\nThe desired state of the backend in production. Argo CD watches `k8s/`.\n",
}


# -- manifests ----------------------------------------------------------------------------------------------
def parse_manifests(text: str, *, source: str = "the manifest") -> list[dict[str, Any]]:
    """The objects of a YAML file with one or more documents (``---``), as ``kubectl apply -f`` reads them.

    Empty documents are skipped. Every object must be a mapping with ``kind`` and ``metadata.name``.
    """
    import yaml

    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as err:
        raise ValueError(f"{source} is not valid YAML: {err}") from None
    objects = []
    for i, doc in enumerate(documents):
        if doc is None:
            continue
        if not isinstance(doc, dict) or not doc.get("kind") or not (doc.get("metadata") or {}).get("name"):
            raise ValueError(
                f"{source}, document {i + 1}: expected a Kubernetes object with kind and "
                f"metadata.name, found {str(doc)[:80]!r}"
            )
        objects.append(doc)
    return objects


def key(obj: Mapping[str, Any], namespace: str | None = None) -> str:
    """``Kind/namespace/name`` of an object; ``namespace`` is used when the object names none.

    >>> key({"kind": "Service", "metadata": {"name": "backend"}}, "production")
    'Service/production/backend'
    """
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace") or namespace
    if not obj.get("kind") or not meta.get("name"):
        raise ValueError(f"expected an object with kind and metadata.name, found {str(obj)[:80]!r}")
    if not ns:
        raise ValueError(
            f"{obj['kind']}/{meta['name']} has no metadata.namespace and no default namespace was "
            "given: pass the Application's destination namespace"
        )
    return f"{obj['kind']}/{ns}/{meta['name']}"


def api_group(obj: Mapping[str, Any]) -> str:
    """The API group of an object: ``"apps"`` for ``apps/v1``, ``""`` (the core group) for ``v1``."""
    api_version = str(obj.get("apiVersion", ""))
    return api_version.split("/")[0] if "/" in api_version else ""


def application(
    repo_url: str,
    *,
    path: str = "k8s",
    target_revision: str = "HEAD",
    namespace: str = "production",
    prune: bool = True,
    self_heal: bool = True,
    automated: bool = True,
    ignore_differences: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """An Argo CD ``Application`` (as a dict) that deploys ``path`` of ``repo_url`` into ``namespace``."""
    spec: dict[str, Any] = {
        "project": "default",
        "source": {"repoURL": repo_url, "path": path, "targetRevision": target_revision},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
    }
    if automated:
        spec["syncPolicy"] = {"automated": {"prune": prune, "selfHeal": self_heal}}
    if ignore_differences:
        spec["ignoreDifferences"] = [dict(rule) for rule in ignore_differences]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "backend-app", "namespace": "argocd"},
        "spec": spec,
    }


# -- JSON pointers (RFC 6901) -------------------------------------------------------------------------------
def _split_pointer(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"a JSON pointer starts with '/', e.g. '/spec/replicas'; found {pointer!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def _set_at(obj: Any, parts: Sequence[str], value: Any) -> None:
    node = obj
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            index = int(part)
            if last:
                node[index] = value
            else:
                node = node[index]
        else:
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})


def _remove_at(obj: Any, parts: Sequence[str]) -> None:
    node = obj
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        del node[int(parts[-1])]
    else:
        del node[parts[-1]]


# -- the simulated cluster ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClusterEvent:
    """One write to the cluster: who did it (``argocd``, ``kubectl``, ``hpa``...), what, to which object."""

    tick: int
    actor: str
    action: str  #: "apply", "edit", "delete"
    key: str
    detail: str = ""


_DELETE = object()


class Cluster:
    """The actual state: live objects keyed ``Kind/namespace/name``, with the fields a real API server adds.

    Reads always return deep copies, so comparing with git can never change the cluster by accident. Writes
    are logged in :attr:`events`. Times come from a counter, so runs are reproducible.
    """

    #: Deletes a field when passed as the value to :meth:`edit`.
    DELETE: Any = _DELETE

    def __init__(self, start: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) -> None:
        self._objects: dict[str, dict[str, Any]] = {}
        self._version = 1000
        self._uids = 0
        self._start = start
        self.events: list[ClusterEvent] = []

    # -- reading ------------------------------------------------------------------------------------------
    def objects(self) -> dict[str, dict[str, Any]]:
        """Every live object (deep copies), keyed ``Kind/namespace/name``, in key order."""
        return {k: copy.deepcopy(v) for k, v in sorted(self._objects.items())}

    def keys(self) -> list[str]:
        return sorted(self._objects)

    def get(self, object_key: str) -> dict[str, Any]:
        if object_key not in self._objects:
            raise KeyError(f"no live object {object_key!r}; the cluster has {self.keys()}")
        return copy.deepcopy(self._objects[object_key])

    def __contains__(self, object_key: object) -> bool:
        return object_key in self._objects

    def __len__(self) -> int:
        return len(self._objects)

    # -- writing ------------------------------------------------------------------------------------------
    def _tick(self) -> int:
        self._version += 1
        return self._version

    def _stamp(self, obj: dict[str, Any], *, spec_changed: bool) -> None:
        meta = obj["metadata"]
        meta["resourceVersion"] = str(self._tick())
        if spec_changed or "generation" not in meta:
            meta["generation"] = int(meta.get("generation", 0)) + 1
        if obj.get("kind") == "Deployment":
            replicas = (obj.get("spec") or {}).get("replicas", 1)
            obj["status"] = {
                "observedGeneration": meta["generation"],
                "replicas": replicas,
                "readyReplicas": replicas,
                "updatedReplicas": replicas,
            }

    def apply(self, obj: Mapping[str, Any], *, namespace: str | None = None, actor: str = "argocd") -> str:
        """Create or replace an object (``kubectl apply`` of a whole manifest); returns its key.

        The stored object gets ``metadata.namespace`` (from ``namespace`` when the manifest names none) and
        the server-owned fields; an existing object keeps its ``uid`` and ``creationTimestamp``.
        """
        new = copy.deepcopy(dict(obj))
        object_key = key(new, namespace)
        new.setdefault("metadata", {})["namespace"] = object_key.split("/")[1]
        for pointer in SERVER_FIELDS:  # a manifest cannot set what the server owns
            parts = _split_pointer(pointer)
            with suppress(KeyError, IndexError, TypeError):
                _remove_at(new, parts)
        old = self._objects.get(object_key)
        meta = new["metadata"]
        if old is None:
            self._uids += 1
            meta["uid"] = f"00000000-0000-4000-8000-{self._uids:012d}"
            meta["creationTimestamp"] = (self._start + timedelta(minutes=self._version - 1000)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            spec_changed = True
        else:
            meta["uid"] = old["metadata"]["uid"]
            meta["creationTimestamp"] = old["metadata"]["creationTimestamp"]
            meta["generation"] = old["metadata"].get("generation", 1)
            spec_changed = old.get("spec") != new.get("spec")
        self._stamp(new, spec_changed=spec_changed)
        self._objects[object_key] = new
        self.events.append(
            ClusterEvent(self._version, actor, "apply", object_key, "created" if old is None else "replaced")
        )
        return object_key

    def edit(self, object_key: str, pointer: str, value: Any, *, actor: str = "kubectl") -> None:
        """Change one field of a live object by hand — drift. ``value=Cluster.DELETE`` removes the field.

        ``pointer`` is a JSON pointer (RFC 6901): ``/spec/replicas``, ``/metadata/labels/debug``,
        ``/spec/template/spec/containers/0/image``; ``~1`` stands for ``/`` inside a name.
        """
        if object_key not in self._objects:
            raise KeyError(f"no live object {object_key!r} to edit; the cluster has {self.keys()}")
        parts = _split_pointer(pointer)
        if not parts or parts[0] in ("kind", "apiVersion") or pointer in SERVER_FIELDS:
            raise ValueError(
                f"{pointer!r} cannot be edited by hand: pick a field under /spec, /data or /metadata/labels"
            )
        obj = self._objects[object_key]
        before = copy.deepcopy(obj.get("spec"))
        try:
            if value is _DELETE:
                _remove_at(obj, parts)
            else:
                _set_at(obj, parts, copy.deepcopy(value))
        except (KeyError, IndexError, ValueError, TypeError):
            raise ValueError(f"{object_key} has no field {pointer!r} to change") from None
        self._stamp(obj, spec_changed=before != obj.get("spec"))
        shown = "deleted" if value is _DELETE else f"= {value!r}"
        self.events.append(ClusterEvent(self._version, actor, "edit", object_key, f"{pointer} {shown}"))

    def create(self, obj: Mapping[str, Any], *, namespace: str | None = None, actor: str = "kubectl") -> str:
        """An object created by hand (``kubectl create``): it exists live but not in git."""
        return self.apply(obj, namespace=namespace, actor=actor)

    def delete(self, object_key: str, *, actor: str = "argocd") -> None:
        if object_key not in self._objects:
            raise KeyError(f"no live object {object_key!r} to delete; the cluster has {self.keys()}")
        del self._objects[object_key]
        self.events.append(ClusterEvent(self._tick(), actor, "delete", object_key))


# -- the lab: a config repository, its remote, two clones, a teammate and a cluster -------------------------
@dataclass
class GitOpsLab:
    """Everything week 15 works on; open it with :func:`gitops_lab`.

    * ``repo`` — your clone of the config repository (you commit, revert and push here);
    * ``agent`` — the clone the GitOps agent (Argo CD) reads; it never commits;
    * ``teammate`` — Bob, who pushes manifests to ``origin/main`` (``lab.teammate.push_commit(...)``);
    * ``cluster`` — the live objects; ``app`` — the Argo CD Application watching ``origin``.
    """

    repo: labgit.ScratchRepo
    agent: labgit.ScratchRepo
    teammate: labgit.Teammate
    cluster: Cluster
    app: dict[str, Any]
    origin: Path

    def origin_head(self) -> str:
        """The sha ``origin/main`` points at now (read straight from the bare repository)."""
        return self.repo.git("ls-remote", str(self.origin), "refs/heads/main").split()[0]


@contextmanager
def gitops_lab(
    manifests: Mapping[str, str] | None = None,
    *,
    prune: bool = True,
    self_heal: bool = True,
    automated: bool = True,
    target_revision: str = "HEAD",
    namespace: str = "production",
    ignore_differences: Sequence[Mapping[str, Any]] = (),
) -> Iterator[GitOpsLab]:
    """A config repository with ``manifests`` (default :data:`MANIFESTS`) committed and pushed to ``origin``.

    The cluster starts empty: nothing is deployed until somebody reconciles. The Application's ``repoURL`` is
    the bare ``origin``'s path, ``path`` is ``k8s`` and the policy follows the keyword arguments. All of it is
    removed when the block ends.
    """
    files = dict(MANIFESTS if manifests is None else manifests)
    with labgit.scratch_repo() as repo:
        repo.commit("feat: backend 1.0.0 in production", files=files, author="alice", after="10m")
        root = repo.path.parent
        origin = root / "origin.git"
        repo.git("init", "-q", "--bare", "-b", "main", str(origin))
        repo.git("remote", "add", "origin", str(origin))
        repo.git("push", "-q", "-u", "origin", "main")
        agent_path = root / "argocd"
        repo.git("clone", "-q", str(origin), str(agent_path))
        agent = labgit.ScratchRepo(agent_path, repo.home, repo.clock, repo.team)
        # Bob's clone, configured like every labkit repository, in one git call (``clone -c`` writes the
        # settings into the new repository); ScratchRepo.teammate then finds it and reuses it.
        settings = [f"--config={k}={v}" for k, v in labgit.LOCAL_CONFIG.items()]
        repo.git("clone", "-q", *settings, str(origin), str(root / "teammate-bob"))
        lab = GitOpsLab(
            repo=repo,
            agent=agent,
            teammate=repo.teammate("bob"),
            cluster=Cluster(),
            app=application(
                str(origin),
                target_revision=target_revision,
                namespace=namespace,
                prune=prune,
                self_heal=self_heal,
                automated=automated,
                ignore_differences=ignore_differences,
            ),
            origin=origin,
        )
        yield lab


# -- Terraform (HCL2) ---------------------------------------------------------------------------------------
#: A small Terraform tree in the syllabus' spirit (an EKS cluster) with the classic IaC mistakes in it.
TERRAFORM_TREE: dict[str, str] = {
    "versions.tf": """\
terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}
""",
    "main.tf": """\
provider "aws" {
  region = var.region
}

resource "aws_iam_role" "cluster" {
  name               = "eks-${var.environment}"
  assume_role_policy = file("${path.module}/eks-assume-role.json")
}

resource "aws_eks_cluster" "main" {
  name     = var.cluster_name
  role_arn = aws_iam_role.cluster.arn
  version  = "1.24"

  vpc_config {
    subnet_ids = module.vpc.private_subnets
  }

  tags = {
    Environment = "production"
    Team        = "backend"
  }
}

output "cluster_endpoint" {
  value = aws_eks_cluster.main.endpoint
}
""",
    "database.tf": """\
resource "aws_db_instance" "orders" {
  identifier        = "orders-${var.environment}"
  engine            = "postgres"
  instance_class    = var.db_instance_class
  allocated_storage = 20
  username          = "orders"
  password          = "s3cr3t-Passw0rd"
}
""",
    "network.tf": """\
module "vpc" {
  source = "terraform-aws-modules/vpc/aws"

  name = "main-${var.environment}"
  cidr = "10.0.0.0/16"
}

module "dns" {
  source      = "./modules/dns"
  environment = var.environment
}
""",
    "variables.tf": """\
variable "environment" {
  type        = string
  description = "staging or production: one code base, one tfvars file per environment"
}

variable "region" {
  type    = string
  default = "eu-central-1"
}

variable "cluster_name" {
  type = string
}

variable "db_instance_class" {
  type    = string
  default = "db.t3.micro"
}
""",
    "envs/staging.tfvars": """\
environment       = "staging"
cluster_name      = "backend-staging"
db_instance_class = "db.t3.micro"
""",
    "envs/production.tfvars": """\
environment       = "production"
cluster_name      = "backend-production"
db_instance_class = "db.r6g.large"
""",
    "modules/dns/main.tf": """\
variable "environment" {
  type = string
}

resource "aws_route53_zone" "internal" {
  name = "${var.environment}.internal.example.com"
}
""",
    ".github/workflows/terraform.yml": """\
name: terraform
on:
  push:
    branches: [main]
jobs:
  apply:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: terraform init
      - run: terraform apply -auto-approve -var-file=envs/production.tfvars
""",
}


def _hcl_options() -> Any:
    from hcl2.utils import SerializationOptions

    # no comments, no block markers: plain dicts and lists; strings keep their quotes (a literal is '"x"',
    # an expression is '${var.x}'), which is exactly what a secrets check needs to tell them apart
    return SerializationOptions(with_comments=False, explicit_blocks=False)


def parse_terraform(files: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Parse ``.tf`` and ``.tfvars`` texts (name → HCL) with python-hcl2; other files are left out.

    Each value is hcl2's dict: blocks are lists of dicts, labels and literal strings keep their double quotes
    (``'"aws_eks_cluster"'``, ``'"1.24"'``), expressions read ``'${var.cluster_name}'``; numbers and booleans are
    Python numbers and booleans. A file that is not valid HCL raises ``ValueError`` naming the file.
    """
    import hcl2

    parsed: dict[str, dict[str, Any]] = {}
    for name in sorted(files):
        if not name.endswith((".tf", ".tfvars")):
            continue
        try:
            parsed[name] = hcl2.loads(files[name], serialization_options=_hcl_options())
        except Exception as err:  # noqa: BLE001 - lark raises many kinds; the student needs the file name
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ValueError(f"{name} is not valid HCL2: {first}") from None
    return parsed


def load_terraform(folder: str | Path) -> dict[str, dict[str, Any]]:
    """Parse every ``.tf`` and ``.tfvars`` file under ``folder`` (keys are paths relative to it, with ``/``)."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder: pass the root of a Terraform tree")
    files = {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in (".tf", ".tfvars")
    }
    return parse_terraform(files)


@contextmanager
def terraform_tree(files: Mapping[str, str] | None = None) -> Iterator[Path]:
    """Write a Terraform tree (default :data:`TERRAFORM_TREE`) into a temporary folder; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="labkit-tf-") as tmp:
        root = Path(tmp)
        for name, text in (TERRAFORM_TREE if files is None else files).items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        yield root


_LITERAL = re.compile(r'^"(?:[^"\\$]|\\.|\$(?!\{))*"$')


def is_literal(value: Any) -> bool:
    """True for a quoted string literal from hcl2 (``'"abc"'``), False for expressions such as
    ``'${var.x}'`` or ``'"app-${var.env}"'`` (an interpolation is computed, not written down) and non-strings."""
    return isinstance(value, str) and bool(_LITERAL.match(value))


def unquote(value: Any) -> Any:
    """``'"aws"'`` → ``'aws'``; anything that is not a quoted string comes back unchanged."""
    if isinstance(value, str) and len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return value[1:-1]
    return value


def plan_before_apply(workflow: Mapping[str, Any]) -> list[str]:
    """Problems with "plan before apply" in a CI workflow (a dict from :func:`labkit.ci.load_workflow`).

    The rule (HashiCorp's recommended workflow: write, plan, apply): in every job, each ``terraform apply``
    applies a saved plan file that an earlier step of the same job wrote with ``terraform plan -out=FILE``.
    ``apply -auto-approve`` without a plan file applies whatever the code means at that moment, unreviewed.
    Returns one sentence per problem (``[]`` when the workflow follows the rule).
    """
    problems: list[str] = []
    jobs = workflow.get("jobs") or {}
    for job_name, job in jobs.items():
        saved: set[str] = set()
        for i, step in enumerate((job or {}).get("steps") or []):
            run = str((step or {}).get("run") or "")
            for line in run.splitlines():
                words = line.split()
                if len(words) < 2 or words[0] != "terraform":
                    continue
                if words[1] == "plan":
                    for w in words[2:]:
                        if w.startswith("-out="):
                            saved.add(w.removeprefix("-out="))
                elif words[1] == "apply":
                    plan_files = [w for w in words[2:] if not w.startswith("-")]
                    if not plan_files:
                        problems.append(
                            f"job {job_name!r}, step {i + 1}: `{line.strip()}` applies without a "
                            "saved plan: run `terraform plan -out=tfplan` first and "
                            "`terraform apply tfplan`"
                        )
                    elif plan_files[-1] not in saved:
                        problems.append(
                            f"job {job_name!r}, step {i + 1}: `{line.strip()}` applies "
                            f"{plan_files[-1]!r}, which no earlier `terraform plan -out=` wrote"
                        )
    return problems


# -- the picture --------------------------------------------------------------------------------------------
_ACTOR_COLORS = {"git": "tab:blue", "kubectl": "tab:red", "hpa": "tab:orange", "reconcile": "tab:green"}


def plot_timeline(
    steps: Sequence[Mapping[str, Any]],
    ax: Any = None,
    title: str = "GitOps: every change goes through git, every drift is healed",
) -> Any:
    """Draw a GitOps timeline: one column per step, bars of objects in sync / out of sync after it.

    Each step is a mapping with ``label`` (str), ``actor`` (``"git"``, ``"kubectl"``, ``"hpa"`` or
    ``"reconcile"``), ``in_sync`` (int) and ``out_of_sync`` (int). Returns the matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt

    if not steps:
        raise ValueError("steps is empty: record at least one step (label, actor, in_sync, out_of_sync)")
    for i, step in enumerate(steps):
        missing = [k for k in ("label", "actor", "in_sync", "out_of_sync") if k not in step]
        if missing:
            raise ValueError(f"step {i} misses {missing}: each step needs label, actor, in_sync and out_of_sync")
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 4))
    xs = list(range(len(steps)))
    ins = [int(s["in_sync"]) for s in steps]
    outs = [int(s["out_of_sync"]) for s in steps]
    ax.bar(xs, ins, color="tab:green", alpha=0.6, label="objects in sync")
    ax.bar(xs, outs, bottom=ins, color="tab:red", alpha=0.6, label="objects drifted / out of sync")
    top = max(i + o for i, o in zip(ins, outs, strict=True)) + 1
    for x, step in zip(xs, steps, strict=True):
        color = _ACTOR_COLORS.get(str(step["actor"]), "grey")
        ax.scatter([x], [top], marker="v" if step["actor"] == "reconcile" else "o", color=color, s=60, zorder=3)
    for actor, color in _ACTOR_COLORS.items():
        if any(s["actor"] == actor for s in steps):
            ax.scatter(
                [],
                [],
                color=color,
                marker="v" if actor == "reconcile" else "o",
                label={
                    "git": "commit pushed",
                    "kubectl": "hand edit (drift)",
                    "hpa": "controller change",
                    "reconcile": "reconcile",
                }[actor],
            )
    ax.set_xticks(xs)
    ax.set_xticklabels([str(s["label"]) for s in steps], rotation=35, ha="right", fontsize="small")
    ax.set_ylim(0, top + 1)
    ax.set_ylabel("objects")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    ax.figure.tight_layout()
    return ax
