"""Desired state as manifests: the syllabus's Argo CD Application, sample manifests, object keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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
