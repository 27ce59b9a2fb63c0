"""Kubernetes manifests without a cluster: offline schema validation, a scratch folder, HPA and probe helpers.

::

    from labkit import kube
    with kube.manifests_dir({"deployment.yaml": kube.SYLLABUS_DEPLOYMENT}) as k8s:
        findings = kube.validate_manifests(k8s)          # [] when every object is valid for Kubernetes 1.35
        print(kube.format_findings(findings))
        docs = kube.load_manifests(k8s)                  # list of dicts, one per YAML document, files sorted

Why offline: the course machine has no cluster, and a pre-commit hook or a CI job should not need one either.
`kubernetes-validate <https://github.com/willthames/kubernetes-validate>`_ ships the OpenAPI-derived JSON schemas of
every supported Kubernetes minor version inside its wheel, so :func:`validate_manifests` checks a manifest against
exactly the version we pin (:data:`KUBERNETES_VERSION`) with no network. ``strict=True`` (the default here) also
rejects fields the schema does not know — a typo such as ``replica:`` or ``livenessprobe:`` would otherwise be
silently ignored by a lenient client, and the Deployment would run with defaults you did not ask for.

A schema only sees one object at a time. Whether a Service's selector matches the Deployment's pod labels, or
whether the HPA names the right Deployment, are questions about *several* objects: the week's exercises answer
them on the dicts that :func:`load_manifests` returns.

The HPA helpers model the *world* the autoscaler lives in (how busy each Pod is for a given total demand, a load
curve, a plot); the autoscaler's own algorithm is the student's exercise. The probe helper polls a real HTTP
endpoint the way the kubelet does, bounded in attempts and time.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import random
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "APP_DEPLOYMENT",
    "APP_MANIFESTS",
    "APP_SERVICE",
    "KUBERNETES_VERSION",
    "SYLLABUS_DEPLOYMENT",
    "SYLLABUS_HPA",
    "SYLLABUS_PROBES",
    "Finding",
    "explain",
    "ProbeAttempt",
    "ProbeLog",
    "format_findings",
    "load_curve",
    "load_manifests",
    "manifests_dir",
    "object_name",
    "parse_manifests",
    "plot_hpa",
    "poll_until_ready",
    "utilization",
    "validate_manifests",
    "workspace",
]

#: The Kubernetes minor version every manifest of the course is validated against (a course choice: a version
#: inside the upstream support window when the week was written). kubernetes-validate ships its schema offline.
KUBERNETES_VERSION = "1.35"

#: ``k8s/deployment.yaml`` exactly as in the syllabus: schema-valid, but with ``:latest`` and no probes.
SYLLABUS_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 3
  selector:
    matchLabels:
      app: backend
  template:
    metadata:
      labels:
        app: backend
    spec:
      containers:
      - name: app
        image: myapp:latest
        ports: [containerPort: 3000]
        resources:
          requests: {memory: "128Mi", cpu: "100m"}
          limits: {memory: "256Mi", cpu: "200m"}
"""

#: The syllabus' probes, to be placed under the container (same indentation as ``ports:``).
SYLLABUS_PROBES = """\
livenessProbe:
  httpGet: {path: /health, port: 3000}
  initialDelaySeconds: 30
  periodSeconds: 10
readinessProbe:
  httpGet: {path: /ready, port: 3000}
  initialDelaySeconds: 5
  periodSeconds: 5
"""

#: The syllabus' HorizontalPodAutoscaler (``autoscaling/v2``).
SYLLABUS_HPA = """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: app-hpa
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: app}
  minReplicas: 2
  maxReplicas: 10
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
"""

#: The week's reference application: the syllabus Deployment made production-shaped — a pinned image, a named
#: port, a startup probe covering a slow boot, liveness and readiness probes on the right endpoints.
APP_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 3
  selector:
    matchLabels:
      app: backend
  template:
    metadata:
      labels:
        app: backend
    spec:
      containers:
      - name: app
        image: myapp:1.4.2
        ports:
        - name: http
          containerPort: 3000
        resources:
          requests: {memory: "128Mi", cpu: "100m"}
          limits: {memory: "256Mi", cpu: "200m"}
        startupProbe:
          httpGet: {path: /health, port: http}
          periodSeconds: 5
          failureThreshold: 24
        livenessProbe:
          httpGet: {path: /health, port: http}
          periodSeconds: 10
        readinessProbe:
          httpGet: {path: /ready, port: http}
          periodSeconds: 5
"""

#: A Service in front of :data:`APP_DEPLOYMENT`: port 80 inside the cluster, forwarded to the named port.
APP_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: app
spec:
  selector:
    app: backend
  ports:
  - name: http
    port: 80
    targetPort: http
"""

#: The manifests of the reference application, as a ``k8s/`` folder would hold them.
APP_MANIFESTS = {"deployment.yaml": APP_DEPLOYMENT, "service.yaml": APP_SERVICE, "hpa.yaml": SYLLABUS_HPA}

_YAML_SUFFIXES = (".yaml", ".yml")


# ------------------------------------------------------------------------------------------------ loading


def parse_manifests(text: str, *, source: str = "<text>") -> list[dict[str, Any]]:
    """Every non-empty YAML document of ``text`` as a dict (``---`` separates documents, as kubectl reads them).

    ``yaml.safe_load_all`` is used on purpose: manifests are data, and the safe loader never builds Python
    objects from tags. A document that is not a mapping (a list, a bare string) is an error, not skipped.
    """
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as err:
        raise ValueError(
            f"{source} is not valid YAML: {err}. Check the indentation (spaces only, no tabs) near that line."
        ) from None
    for index, doc in enumerate(documents):
        if not isinstance(doc, dict):
            raise ValueError(
                f"{source}: YAML document {index + 1} is a {type(doc).__name__}, expected a mapping with "
                "apiVersion, kind and metadata. Did a '- ' at the start of a line turn it into a list?"
            )
    return documents


def _manifest_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix in _YAML_SUFFIXES)
    if path.is_file():
        return [path]
    raise FileNotFoundError(f"no manifest at {path}: expected a .yaml file or a folder of them (like k8s/)")


def load_manifests(path: str | Path) -> list[dict[str, Any]]:
    """The objects in a manifest file, or in every ``*.yaml``/``*.yml`` file of a folder (sorted by name)."""
    docs: list[dict[str, Any]] = []
    for file in _manifest_files(Path(path)):
        docs.extend(parse_manifests(file.read_text(encoding="utf-8"), source=file.name))
    return docs


def object_name(doc: Mapping[str, Any]) -> str:
    """``Kind/name`` of a manifest object, e.g. ``Deployment/app`` (``?`` for what is missing)."""
    kind = doc.get("kind") if isinstance(doc.get("kind"), str) else "?"
    metadata = doc.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    return f"{kind}/{name if isinstance(name, str) else '?'}"


# ------------------------------------------------------------------------------------------------ validation


@dataclass(frozen=True)
class Finding:
    """One problem found in a manifest: where (file, object, field path), what, and what to try."""

    file: str
    obj: str  #: ``Kind/name``
    field: str  #: dotted path to the field, e.g. ``spec.template.spec.containers[0].ports[0].containerPort``
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}: {self.obj}" + (f" at {self.field}" if self.field else "")
        return f"{where}: {self.message}" + (f"\n    try: {self.hint}" if self.hint else "")


def _dotted(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _hint(validator: str, message: str) -> str:
    if validator == "additionalProperties":
        return "field names are case-sensitive camelCase (replicas, containerPort, livenessProbe); check the spelling"
    if validator == "required":
        return "add the missing field (kubectl explain <kind>.<field> lists what each object needs)"
    if validator == "type" and "'integer'" in message:
        return 'write the number without quotes: containerPort: 3000, not "3000"'
    if validator == "type":
        return "check the YAML shape: a list needs '- ' items, a mapping needs 'key: value' lines"
    if validator == "enum":
        return "use one of the allowed values listed above"
    return ""


def validate_manifests(
    source: str | Path | Sequence[Mapping[str, Any]],
    *,
    version: str = KUBERNETES_VERSION,
    strict: bool = True,
) -> list[Finding]:
    """Validate every object against the Kubernetes ``version`` schema with kubernetes-validate, offline.

    ``source`` is a file, a folder of ``*.yaml`` files, or already-parsed documents. Returns one :class:`Finding`
    per invalid object (kubernetes-validate stops at the first error of an object, as ``kubectl apply`` does:
    fix it and run again) and ``[]`` when everything is valid. An unknown ``apiVersion``/``kind`` pair is a
    finding too: it usually means an API that was removed (``extensions/v1beta1`` Deployments went in 1.16).
    """
    import kubernetes_validate

    if isinstance(source, (str, Path)):
        items: list[tuple[str, Mapping[str, Any]]] = []
        for path in _manifest_files(Path(source)):
            text = path.read_text(encoding="utf-8")
            items.extend((path.name, doc) for doc in parse_manifests(text, source=path.name))
    else:
        items = [("<docs>", doc) for doc in source]
    findings: list[Finding] = []
    for file, doc in items:
        obj = object_name(doc)
        missing = [key for key in ("apiVersion", "kind") if not isinstance(doc.get(key), str)]
        if missing:
            findings.append(
                Finding(
                    file, obj, "", f"missing {' and '.join(missing)}", "every object starts with apiVersion: and kind:"
                )
            )
            continue
        try:
            kubernetes_validate.validate(dict(doc), version, strict)
        except kubernetes_validate.ValidationError as err:
            findings.append(Finding(file, obj, _dotted(err.path), err.message, _hint(str(err.validator), err.message)))
        except kubernetes_validate.SchemaNotFoundError:
            findings.append(
                Finding(
                    file,
                    obj,
                    "apiVersion",
                    f"Kubernetes {version} has no {doc['kind']} in apiVersion {doc['apiVersion']}",
                    "removed beta APIs are a classic: Deployment is apps/v1, HorizontalPodAutoscaler is "
                    "autoscaling/v2, Service is v1 (kubectl api-resources lists them)",
                )
            )
    return findings


def format_findings(findings: Sequence[Finding]) -> str:
    """A report for people: ``✔ valid`` or one numbered line per finding."""
    if not findings:
        return f"\u2714 every object is valid for Kubernetes {KUBERNETES_VERSION} (strict schema)"
    return "\n".join(f"{i}. {finding}" for i, finding in enumerate(findings, 1))


@functools.lru_cache(maxsize=4)
def _definitions(version: str) -> dict[str, Any]:
    """The parsed ``_definitions.json`` of one Kubernetes version (1.5 MB: parsed once per process)."""
    folder = resources.files("kubernetes_validate") / "kubernetes-json-schema" / f"v{version}.0-local"
    try:
        text = (folder / "_definitions.json").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(
            f"kubernetes-validate has no schema for Kubernetes {version}; try {KUBERNETES_VERSION}"
        ) from None
    schema = json.loads(text)
    found: dict[str, Any] = schema.get("definitions") or schema.get("$defs") or {}
    return found


def explain(definition: str, *, version: str = KUBERNETES_VERSION) -> dict[str, str]:
    """Field → description of an API type, read from the schema kubernetes-validate ships (offline ``kubectl explain``).

    ``definition`` is the OpenAPI name, e.g. ``"io.k8s.api.core.v1.Probe"`` or
    ``"io.k8s.api.autoscaling.v2.HPAScalingRules"``. The descriptions are the API's own documentation, generated
    from the Go types of that Kubernetes version — the primary source for defaults such as ``periodSeconds``.
    """
    definitions = _definitions(version)
    if definition not in definitions:
        close = sorted(name for name in definitions if name.rsplit(".", 1)[-1] == definition.rsplit(".", 1)[-1])
        raise KeyError(
            f"no API type {definition!r} in Kubernetes {version}" + (f"; did you mean {close}?" if close else "")
        )
    properties = definitions[definition].get("properties", {})
    return {name: " ".join(str(prop.get("description", "")).split()) for name, prop in properties.items()}


# ------------------------------------------------------------------------------------------------ scratch folders


@contextlib.contextmanager
def manifests_dir(files: Mapping[str, str] | None = None) -> Iterator[Path]:
    """A temporary ``k8s/`` folder holding ``files`` (name → YAML text); removed when the block ends."""
    root = Path(tempfile.mkdtemp(prefix="labkit-k8s-"))
    try:
        k8s = root / "k8s"
        k8s.mkdir()
        for name, text in (files or {}).items():
            if "/" in name or "\\" in name or not name.endswith(_YAML_SUFFIXES):
                raise ValueError(f"file names must be plain *.yaml names like 'deployment.yaml', got {name!r}")
            (k8s / name).write_text(text, encoding="utf-8")
        yield k8s
    finally:
        shutil.rmtree(root, ignore_errors=True)


def workspace(files: Mapping[str, str] | None = None) -> Path:
    """Like :func:`manifests_dir` but for a whole notebook: the folder lives until Python exits."""
    manager = manifests_dir(files)
    k8s = manager.__enter__()
    atexit.register(manager.__exit__, None, None, None)
    return k8s


# ------------------------------------------------------------------------------------------------ HPA world


def utilization(demand_m: float, replicas: int, request_m: float, limit_m: float | None = None) -> int:
    """Average CPU utilization in percent of the request when ``demand_m`` millicores are spread over the Pods.

    This is what the HPA's Resource metric measures, computed the way its controller does: total usage × 100 ÷
    total requests, as an **integer percent rounded down** (``int32((metricsTotal * 100) / requestsTotal)`` in
    the controller's source) — which also keeps float noise out of the ratio. A Pod cannot use more than its
    CPU limit (it is throttled), so with ``limit_m`` the usage is capped there: an overloaded Deployment never
    shows more than limit ÷ request × 100 % (200 % for 200m/100m).
    """
    if replicas < 1:
        raise ValueError(f"replicas must be >= 1 (an HPA does not act on a Deployment scaled to 0), got {replicas}")
    if request_m <= 0:
        raise ValueError(f"request_m must be > 0: without a CPU request, utilization is undefined (got {request_m})")
    if demand_m < 0:
        raise ValueError(f"demand_m must be >= 0 millicores, got {demand_m}")
    used = demand_m if limit_m is None else min(demand_m, replicas * limit_m)
    return int((used * 100) // (replicas * request_m))


def load_curve(minutes: int = 40, *, step_s: int = 15, seed: int = 14) -> list[int]:
    """Total CPU demand in millicores, one value per ``step_s`` seconds: quiet, a ramp, a spike, a drop, a blip.

    Shaped to exercise every HPA rule: a slow ramp (proportional scale-up), a spike past ``maxReplicas``, a fast
    drop (the scale-down stabilization window holds the replicas), and a short dip inside the window that must
    not cause a scale-down. Deterministic for a given ``seed`` (small noise only).
    """
    if minutes < 1 or step_s < 1:
        raise ValueError("minutes and step_s must be >= 1")
    rng = random.Random(seed)
    out: list[int] = []
    for i in range(minutes * 60 // step_s):
        t = i * step_s / 60  # minutes
        if t < 4:
            base = 120.0
        elif t < 10:
            base = 120 + (t - 4) / 6 * 680  # ramp to 800m
        elif t < 15:
            base = 1600.0  # spike: more than maxReplicas can absorb at the target
        elif t < 17:
            base = 600.0
        elif t < 18:
            base = 150.0  # a one-minute dip inside the stabilization window
        elif t < 24:
            base = 600.0
        else:
            base = 180.0
        out.append(max(0, round(base * (1 + rng.uniform(-0.03, 0.03)))))
    return out


def plot_hpa(
    demand_m: Sequence[float],
    replicas: Sequence[int],
    *,
    step_s: int = 15,
    request_m: float = 100,
    limit_m: float | None = 200,
    target: float = 70,
    title: str = "HPA over a load curve",
) -> Axes:
    """Replicas (steps) over time on top, the load as utilization (and the target) below."""
    import matplotlib.pyplot as plt

    if len(demand_m) != len(replicas):
        raise ValueError(f"demand_m has {len(demand_m)} points but replicas has {len(replicas)}: one per step")
    minutes = [i * step_s / 60 for i in range(len(demand_m))]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5), sharex=True, height_ratios=[3, 2])
    top.step(minutes, list(replicas), where="post", color="tab:blue", label="replicas")
    top.set_ylabel("replicas")
    top.set_title(title)
    demand_ax = top.twinx()
    demand_ax.plot(minutes, list(demand_m), color="tab:gray", alpha=0.5, label="demand (millicores)")
    demand_ax.set_ylabel("demand (m)")
    demand_ax.grid(False)
    top.legend(loc="upper left")
    demand_ax.legend(loc="upper right")
    used = [utilization(d, r, request_m, limit_m) for d, r in zip(demand_m, replicas, strict=True)]
    bottom.plot(minutes, used, color="tab:orange", label="CPU utilization (% of request)")
    bottom.axhline(target, color="tab:red", linestyle="--", label=f"target {target:g} %")
    bottom.set_ylabel("%")
    bottom.set_xlabel("minutes")
    bottom.legend(loc="upper right")
    fig.tight_layout()
    return top


# ------------------------------------------------------------------------------------------------ probes


@dataclass(frozen=True)
class ProbeAttempt:
    at_s: float  #: seconds since polling started
    outcome: str  #: HTTP status code as text ("200", "503") or "refused" / "timeout" / "error"

    @property
    def ok(self) -> bool:
        """The kubelet's rule for httpGet probes: any status from 200 to 399 is a success."""
        return self.outcome.isdigit() and 200 <= int(self.outcome) < 400


@dataclass
class ProbeLog:
    """What :func:`poll_until_ready` saw: every attempt, and when (if ever) the endpoint succeeded."""

    attempts: list[ProbeAttempt] = field(default_factory=list)
    ready_after_s: float | None = None

    @property
    def ready(self) -> bool:
        return self.ready_after_s is not None

    @property
    def failures(self) -> int:
        return sum(not a.ok for a in self.attempts)


def poll_until_ready(
    url: str,
    *,
    period_s: float = 0.1,
    timeout_s: float = 0.5,
    max_attempts: int = 50,
    deadline_s: float = 10.0,
) -> ProbeLog:
    """Poll ``url`` like a kubelet probe until it answers 2xx/3xx, ``max_attempts`` or ``deadline_s`` run out.

    Each attempt has its own ``timeout_s`` (the probe's ``timeoutSeconds``) and attempts start ``period_s``
    apart (``periodSeconds``), both scaled down from Kubernetes' seconds so that a notebook cell stays short.
    A refused connection is a failure, not an error: a booting process is simply not listening yet.
    """
    import httpx

    if period_s <= 0 or timeout_s <= 0 or max_attempts < 1 or deadline_s <= 0:
        raise ValueError("period_s, timeout_s and deadline_s must be > 0 and max_attempts >= 1")
    log = ProbeLog()
    started = time.monotonic()
    with httpx.Client(timeout=timeout_s) as client:
        for attempt in range(max_attempts):
            at = time.monotonic() - started
            if at > deadline_s:
                break
            try:
                outcome = str(client.get(url).status_code)
            except httpx.ConnectError:
                outcome = "refused"
            except httpx.TimeoutException:
                outcome = "timeout"
            except httpx.HTTPError:
                outcome = "error"
            log.attempts.append(ProbeAttempt(round(at, 3), outcome))
            if log.attempts[-1].ok:
                log.ready_after_s = round(at, 3)
                break
            next_at = (attempt + 1) * period_s
            pause = next_at - (time.monotonic() - started)
            if pause > 0:
                time.sleep(min(pause, max(0.0, deadline_s - (time.monotonic() - started))))
    return log
