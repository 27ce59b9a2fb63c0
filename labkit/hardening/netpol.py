"""NetworkPolicy reasoning: pods, selectors, which flows default deny and the policies allow."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from matplotlib.axes import Axes


# ------------------------------------------------------------------------------------------ NetworkPolicy


@dataclass(frozen=True)
class Pod:
    """A pod as a NetworkPolicy sees it: its name, its namespace and its labels."""

    name: str
    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Kubernetes label-selector semantics: every ``matchLabels`` pair AND every ``matchExpressions`` entry.

    An empty selector ``{}`` matches everything (that is how ``podSelector: {}`` selects all pods of a
    namespace). ``None`` (the field is absent) matches nothing here: callers decide what an absent selector
    means, because in a NetworkPolicy peer that depends on the *other* selector.
    Operators: ``In``, ``NotIn``, ``Exists``, ``DoesNotExist`` (Labels and Selectors, Kubernetes docs).
    """
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != str(value):
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], [str(v) for v in expr.get("values") or []]
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise ValueError(f"unknown matchExpressions operator {op!r}; use In, NotIn, Exists or DoesNotExist")
    return True


def parse_policies(text: str) -> list[dict[str, Any]]:
    """The NetworkPolicy documents of a YAML text (``---`` separated), as dicts; other kinds are refused."""
    docs = [d for d in yaml.safe_load_all(text) if d]
    for doc in docs:
        if doc.get("kind") != "NetworkPolicy":
            raise ValueError(f"expected kind: NetworkPolicy, found kind: {doc.get('kind')!r} in {doc.get('metadata')}")
        doc.setdefault("metadata", {}).setdefault("namespace", "default")
    return docs


#: The syllabus' policy, exactly as written there (note the flow sequence ``[protocol: TCP, port: 3000]``).
SYLLABUS_NETWORK_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: backend-netpol
  namespace: shop
spec:
  podSelector:
    matchLabels: {app: backend}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - podSelector:
        matchLabels: {app: frontend}
    ports: [protocol: TCP, port: 3000]
  egress:
  - to:
    - podSelector:
        matchLabels: {app: database}
"""

#: "test-network-policy" from the Kubernetes documentation's NetworkPolicy page (ipBlock peers kept as written).
DOCS_NETWORK_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: test-network-policy
  namespace: default
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
    - Ingress
    - Egress
  ingress:
    - from:
        - ipBlock:
            cidr: 172.17.0.0/16
            except:
              - 172.17.1.0/24
        - namespaceSelector:
            matchLabels:
              project: myproject
        - podSelector:
            matchLabels:
              role: frontend
      ports:
        - protocol: TCP
          port: 6379
  egress:
    - to:
        - ipBlock:
            cidr: 10.0.0.0/24
      ports:
        - protocol: TCP
          port: 5978
"""

#: "default-deny-ingress" from the Kubernetes documentation: selects every pod, allows no ingress.
DOCS_DEFAULT_DENY_INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
spec:
  podSelector: {}
  policyTypes:
  - Ingress
"""


def flow_matrix(pods: Sequence[Pod], decide: Callable[[Pod, Pod], bool]) -> list[list[bool]]:
    """``matrix[i][j]`` = ``decide(pods[i], pods[j])``: may ``pods[i]`` open a connection to ``pods[j]``?"""
    return [[bool(decide(src, dst)) for dst in pods] for src in pods]


def plot_flow_matrix(pods: Sequence[Pod], matrix: Sequence[Sequence[bool]], *, title: str = "") -> Axes:
    """A heatmap of a :func:`flow_matrix`: rows are sources, columns destinations; green allowed, red denied."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    n = len(pods)
    if len(matrix) != n or any(len(row) != n for row in matrix):
        raise ValueError(f"matrix must be {n} x {n}, one row and one column per pod")
    fig, ax = plt.subplots(figsize=(1.1 * n + 2.5, 0.8 * n + 1.8))
    ax.imshow(
        [[1 if v else 0 for v in row] for row in matrix], cmap=ListedColormap(["#d9534f", "#5cb85c"]), vmin=0, vmax=1
    )
    names = [str(p) for p in pods]
    ax.set_xticks(range(n), names, rotation=35, ha="right")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("destination pod")
    ax.set_ylabel("source pod")
    for i in range(n):
        for j in range(n):
            ax.text(j, i, "allow" if matrix[i][j] else "deny", ha="center", va="center", color="white", fontsize=8)
    ax.set_title(title or "Which pod may connect to which")
    ax.grid(False)
    fig.tight_layout()
    return ax
