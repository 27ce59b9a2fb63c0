"""Deployment strategies on real services: blue-green and canary behind :mod:`labkit.splitter`, the latency
quantile Prometheus computes from a histogram, and a checker for Terraform files parsed with python-hcl2.

::

    from labkit import service, strategies
    with strategies.lab({"blue": "1.0.0", "green": "1.1.0"}, weights={"blue": 100}) as lab:
        lab["green"].url, lab.splitter.url             # two real versions and the proxy in front of them
        lab.splitter.switch("green")                   # the blue-green switch (and the rollback)

    strategies.histogram_quantile(0.95, [(0.01, 90.0), (0.1, 100.0), (math.inf, 100.0)])   # 0.055
    strategies.check_terraform("infra/")               # [] or a list of problems a person can act on

Why these helpers exist:

- :func:`lab` starts every version and the splitter in **one** ``with`` block and stops all of them at its end
  (also on an error or Ctrl-C), so a notebook cell cannot leave a process behind.
- :func:`histogram_quantile` is the algorithm of PromQL's ``histogram_quantile()`` (linear interpolation inside
  the bucket that holds the rank). Latency percentiles on a dashboard come from exactly this computation, so the
  course computes canary p95 the same way instead of inventing its own.
- :func:`check_terraform` encodes the course's rules for a multi-environment Terraform layout (required tags,
  one ``<env>.tfvars`` per environment, no environment name hard-coded in resources). Parsing is python-hcl2's,
  so a syntax error is reported with the line and column the real grammar rejected.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labkit import service, splitter

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "ENVIRONMENTS",
    "REQUIRED_TAGS",
    "SYLLABUS_MAIN_TF",
    "VERDICTS",
    "HclError",
    "Lab",
    "RolloutResult",
    "SwitchReport",
    "check_terraform",
    "histogram_quantile",
    "lab",
    "load_hcl",
    "plot_rollout",
    "plot_switch",
    "terraform_problems",
]

#: The environments of the course's pipeline (week 9's promotion path).
ENVIRONMENTS = ("dev", "staging", "prod")
#: Tags every resource must carry. The course's own choice, modelled on AWS's tagging best practices
#: (who owns it, which environment, a human-readable name); real teams enforce theirs with a policy tool.
REQUIRED_TAGS = ("Name", "Environment", "Owner")
#: What a canary analysis may answer.
VERDICTS = ("promote", "abort", "wait")

#: The Terraform snippet of the syllabus (weeks 9-10), exactly as printed there.
SYLLABUS_MAIN_TF = """\
# terraform/main.tf
resource "aws_instance" "app" {
  ami           = "ami-12345"
  instance_type = "t3.micro"

  tags = {
    Name = "app-${var.environment}"
    Environment = var.environment
  }
}
"""


# ----------------------------------------------------------------------------------------------- the lab


@dataclass
class Lab:
    """Running versions (by name) and the splitter in front of them; from :func:`lab`."""

    services: dict[str, service.Service]
    splitter: splitter.Splitter

    def __getitem__(self, name: str) -> service.Service:
        if name not in self.services:
            raise KeyError(f"no version named {name!r} in this lab; the names are {sorted(self.services)}")
        return self.services[name]

    @property
    def url(self) -> str:
        """The public URL: the splitter's. Clients never talk to a version directly."""
        return self.splitter.url


@contextlib.contextmanager
def lab(
    versions: Mapping[str, str],
    *,
    weights: Mapping[str, float] | None = None,
    mode: str = "smooth",
    faults: Mapping[str, Mapping[str, Any]] | None = None,
    seed: int = 0,
) -> Iterator[Lab]:
    """Start one :func:`labkit.service.run` per version and a :func:`labkit.splitter.run` in front of them.

    Args:
        versions: backend name → version, e.g. ``{"blue": "1.0.0", "green": "1.1.0"}``.
        weights: backend name → share (missing names get 0); default: all traffic to the first name.
        mode: the splitter's ``"smooth"`` (exact shares: 5 of every 100 for 5 %) or ``"random"``.
        faults: backend name → initial faults of that version, e.g. ``{"canary": {"error_rate": 0.3}}``
            (``unhealthy`` is fine: the lab waits until each version answers, not until it is healthy).
        seed: seed of the services' error RNG and of the splitter's random mode.

    Everything stops when the block ends, in reverse order (the splitter first), also on errors.
    """
    if not isinstance(versions, Mapping) or not versions:
        raise ValueError(f"versions must be a dict like {{'blue': '1.0.0', 'green': '1.1.0'}}; got {versions!r}")
    faults = dict(faults or {})
    unknown = sorted(set(faults) - set(versions))
    if unknown:
        raise ValueError(f"faults name unknown version(s) {unknown}; the names are {sorted(versions)}")
    for name, initial in faults.items():
        blocked = sorted({"hang", "crash"} & set(initial))
        if blocked:
            raise ValueError(
                f"faults {blocked} of {name!r} would stop the version from ever answering, so the lab could not "
                f"start; start it without them and call lab[{name!r}].set_faults(...) inside the block"
            )
    first = next(iter(versions))
    shares = dict(weights) if weights is not None else {first: 100}
    with contextlib.ExitStack() as stack:
        managers = {n: service.run(v, faults=faults.get(n), seed=seed, wait="up") for n, v in versions.items()}
        running = _start_all(stack, managers)
        sp = stack.enter_context(
            splitter.run({n: s.url for n, s in running.items()}, weights=shares, mode=mode, seed=seed)
        )
        yield Lab(running, sp)


def _start_all(
    stack: contextlib.ExitStack, managers: Mapping[str, contextlib.AbstractContextManager[service.Service]]
) -> dict[str, service.Service]:
    """Enter the services' context managers in parallel threads (each start waits ~0.2-0.7 s for /health,
    mostly the child's imports) and register every one that started on ``stack``, even if another failed."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(managers), thread_name_prefix="lab-start") as pool:
        futures = {name: pool.submit(cm.__enter__) for name, cm in managers.items()}
    running: dict[str, service.Service] = {}
    errors: list[BaseException] = []
    for name, future in futures.items():
        exc = future.exception()
        if exc is None:
            running[name] = future.result()
            stack.push(managers[name].__exit__)
        else:
            errors.append(exc)
    if errors:
        raise errors[0]
    return running


# --------------------------------------------------------------------------------------------- reports


@dataclass
class SwitchReport:
    """What clients saw while traffic was switched from one version to another.

    Attributes:
        total: requests sent during the switch.
        failed: requests that failed (5xx, timeouts, refused connections).
        before: versions (sorted, distinct) that answered requests started before the switch began.
        after: versions (sorted, distinct) that answered requests started after the switch completed.
    """

    total: int
    failed: int
    before: list[str]
    after: list[str]


@dataclass
class RolloutResult:
    """The outcome of a canary rollout: ``"promoted"`` or ``"aborted"``, and one row per analysed step.

    Each step is a dict ``{"weight": int, "stable": window, "canary": window, "verdict": str}`` where a window
    is ``{"requests": int, "errors": int, "error_rate": float, "p95_ms": float}``.
    """

    outcome: str
    steps: list[dict[str, Any]] = field(default_factory=list)


# ------------------------------------------------------------------------------------- latency quantiles


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float:
    """The ``q``-quantile (0–1) of a Prometheus histogram, computed as PromQL's ``histogram_quantile()`` does.

    ``buckets`` are ``(upper_bound, cumulative_count)`` pairs — the ``le`` label and value of the
    ``*_bucket`` series — and must include the ``+Inf`` bucket (``math.inf``). The answer is in the unit of
    the bounds (seconds for ``http_request_duration_seconds``). Rules, from the Prometheus documentation:

    - the rank is ``q * total``; the answer lies in the first bucket whose cumulative count reaches it, found
      by **linear interpolation** between that bucket's lower and upper bound (a histogram does not know where
      inside a bucket an observation fell, so it assumes they are spread evenly);
    - the lowest bucket's lower bound is 0 (when its upper bound is positive);
    - if the rank falls into the ``+Inf`` bucket, the upper bound of the highest finite bucket is returned;
    - no observations (or no ``+Inf`` bucket) → ``nan``.
    """
    if not isinstance(q, int | float) or isinstance(q, bool) or math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    try:
        pairs = sorted((float(le), float(count)) for le, count in buckets)
    except (TypeError, ValueError):
        raise ValueError(
            f"buckets must be (upper_bound, cumulative_count) pairs such as (0.1, 42.0); got {buckets!r}"
        ) from None
    if len(pairs) < 2 or not math.isinf(pairs[-1][0]):
        return math.nan
    # cumulative counts never fall; a scrape taken mid-update can break that, Prometheus forces it back
    for i in range(1, len(pairs)):
        if pairs[i][1] < pairs[i - 1][1]:
            pairs[i] = (pairs[i][0], pairs[i - 1][1])
    total = pairs[-1][1]
    if total <= 0:
        return math.nan
    rank = q * total
    b = next(i for i, (_, count) in enumerate(pairs) if count >= rank or i == len(pairs) - 1)
    if b == len(pairs) - 1:
        return pairs[-2][0]
    if b == 0 and pairs[0][0] <= 0:
        return pairs[0][0]
    start, end, count = 0.0, pairs[b][0], pairs[b][1]
    if b > 0:
        start = pairs[b - 1][0]
        count -= pairs[b - 1][1]
        rank -= pairs[b - 1][1]
    return start + (end - start) * (rank / count)


# ---------------------------------------------------------------------------------------------- plots


def plot_switch(result: service.HammerResult, switched_at: float, *, ax: Axes | None = None) -> Axes:
    """Every request of a :func:`labkit.service.hammer` run: when it started, how long it took, who answered.

    ``switched_at`` is the second (counted like ``records``) at which the switch completed; failed requests
    are drawn as red crosses, so "zero failed" is something you can see.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.2))
    versions = sorted({v for *_, v in result.records if v})
    for version in versions:
        pts = [(s, ms) for s, ms, status, v in result.records if v == version and isinstance(status, int)
               and status < 400]  # fmt: skip
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=8, label=f"answered by {version}")
    bad = [(s, ms) for s, ms, status, _ in result.records if not (isinstance(status, int) and status < 400)]
    if bad:
        ax.scatter([p[0] for p in bad], [p[1] for p in bad], s=30, c="red", marker="x",
                   label=f"failed ({len(bad)})")  # fmt: skip
    ax.axvline(switched_at, color="black", linestyle="--", label="switch done")
    ax.set_xlabel("seconds since the load started")
    ax.set_ylabel("latency (ms)")
    ax.legend(loc="upper right", fontsize="small")
    return ax


def plot_rollout(result: RolloutResult, *, title: str | None = None) -> Any:
    """Traffic share, error rate and p95 per version over the steps of a canary rollout (three panels)."""
    import matplotlib.pyplot as plt

    if not isinstance(result, RolloutResult) or not result.steps:
        raise ValueError("plot_rollout needs a RolloutResult with at least one step (from your canary_rollout)")
    labels = [f"{s['weight']} %\n{s['verdict']}" for s in result.steps]
    x = list(range(len(result.steps)))
    fig, (share, errors, p95) = plt.subplots(1, 3, figsize=(11, 3.4))
    share.bar(x, [100 - s["weight"] for s in result.steps], label="stable")
    share.bar(x, [s["weight"] for s in result.steps], bottom=[100 - s["weight"] for s in result.steps],
              label="canary")  # fmt: skip
    share.set_ylabel("traffic share (%)")
    for side in ("stable", "canary"):
        errors.plot(x, [100 * s[side]["error_rate"] for s in result.steps], marker="o", label=side)
        p95.plot(x, [s[side]["p95_ms"] for s in result.steps], marker="o", label=side)
    errors.set_ylabel("error rate (%)")
    worst = max(100 * s[side]["error_rate"] for s in result.steps for side in ("stable", "canary"))
    errors.set_ylim(0, max(5.0, 1.2 * worst))  # an all-zero line sits on the axis, not in a ±0.04 % band
    p95.set_ylabel("p95 latency (ms)")
    p95.set_ylim(bottom=0)
    for ax in (share, errors, p95):
        ax.set_xticks(x, labels)
        ax.legend(fontsize="small")
    fig.suptitle(title or f"canary rollout: {result.outcome}")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------------- Terraform


class HclError(ValueError):
    """A file is not valid HCL; the message names the file, the line and the column."""


def load_hcl(text: str, *, what: str = "main.tf") -> dict[str, Any]:
    """Parse HCL with python-hcl2 into plain Python values (strings without their quotes, no block markers).

    References and expressions stay strings in Terraform's interpolation form: ``Environment = var.env``
    becomes ``"${var.env}"``, ``Name = "app-${var.env}"`` stays ``"app-${var.env}"``.
    """
    import hcl2

    if not isinstance(text, str):
        raise TypeError(f"{what}: expected the HCL text as a str, found {type(text).__name__}")
    options = hcl2.SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)
    try:
        return dict(hcl2.loads(text, serialization_options=options))
    except Exception as exc:  # noqa: BLE001 - lark raises many kinds; all mean "not valid HCL" to a student
        line, column = getattr(exc, "line", None), getattr(exc, "column", None)
        where = f" at line {line}, column {column}" if line is not None else ""
        first = str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else type(exc).__name__
        raise HclError(
            f"{what} is not valid HCL{where}: {first}. Check for a missing closing brace or quote, "
            "and that every attribute is written `name = value`."
        ) from None


def _blocks(doc: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    out = doc.get(kind, [])
    return [b for b in out if isinstance(b, dict)] if isinstance(out, list) else []


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string inside ``value`` with a dotted path to it (``tags.Environment``)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _strings(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _strings(inner, f"{path}[{i}]")


_VAR_REF = re.compile(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)")


def terraform_problems(  # noqa: C901 - one branch per course rule, each with its own message
    tf_files: Mapping[str, str],
    tfvars: Mapping[str, str | None],
    *,
    environments: Sequence[str] = ENVIRONMENTS,
    required_tags: Sequence[str] = REQUIRED_TAGS,
) -> list[str]:
    """The course's rules for one Terraform configuration deployed to several environments.

    ``tf_files`` maps file names to the text of the ``*.tf`` files (parsed together, as Terraform does);
    ``tfvars`` maps each environment to the text of its ``<env>.tfvars`` (``None`` when the file is missing).
    Returns sorted problems (empty list = all good):

    1. every ``resource`` has a ``tags`` map with every tag of ``required_tags`` (written as a map literal: a
       reference such as ``local.common_tags`` cannot be checked without evaluating Terraform);
    2. no resource, ``locals``, ``output`` or ``module`` hard-codes an environment name (``"prod"``,
       ``"app-dev"``, ``var.environment == "prod"``): the same code must serve every environment, only the
       variables change (``variable`` blocks may list the allowed names, e.g. in a validation);
    3. a variable ``environment`` is declared, and every ``var.X`` used is declared;
    4. every environment has its tfvars file, it sets ``environment`` to its own name, sets every variable
       that has no default, and sets no undeclared variable.

    Raises :class:`HclError` when a file is not valid HCL.
    """
    problems: list[str] = []
    docs = {name: load_hcl(text, what=name) for name, text in tf_files.items()}
    declared: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for name, doc in docs.items():
        for block in _blocks(doc, "variable"):
            for var_name, body in block.items():
                declared[var_name] = body if isinstance(body, dict) else {}
        for kind in ("resource", "data", "locals", "output", "module"):
            for block in _blocks(doc, kind):
                for _path, text in _strings(block, ""):
                    used.update(_VAR_REF.findall(text))
        for block in _blocks(doc, "resource"):
            for rtype, by_name in block.items():
                for rname, body in (by_name or {}).items():
                    address = f"{rtype}.{rname}"
                    tags = body.get("tags") if isinstance(body, dict) else None
                    if isinstance(tags, str):  # tags = local.common or merge(...): not checkable without evaluating
                        problems.append(
                            f"{address} ({name}): tags = {tags!r} is an expression; write a map literal "
                            f"{{ ... }} with {', '.join(required_tags)} so that the tags can be checked"
                        )
                    elif not isinstance(tags, dict):
                        problems.append(f"{address} ({name}): no tags map; required tags: {', '.join(required_tags)}")
                    else:
                        for tag in required_tags:
                            if tag not in tags:
                                problems.append(f"{address} ({name}): tags lack the required tag {tag!r}")
        for kind in ("resource", "locals", "output", "module"):
            for block in _blocks(doc, kind):
                for path, text in _strings(block, ""):
                    for env in environments:
                        if re.search(rf"(?<![\w.]){re.escape(env)}(?![\w])", text):
                            problems.append(
                                f"{kind} {path} ({name}) hard-codes the environment name {env!r} in {text!r}: "
                                "use var.environment so the same code serves every environment"
                            )
    if "environment" not in declared:
        problems.append(
            'no variable "environment" is declared: add variable "environment" { type = string } '
            "and set it in each <env>.tfvars"
        )
    for var_name in sorted(used - set(declared)):
        problems.append(f'var.{var_name} is used but no variable "{var_name}" block declares it')
    for env in environments:
        env_text = tfvars.get(env)
        if env_text is None:
            problems.append(f"{env}.tfvars is missing: each environment needs its own values")
            continue
        values = load_hcl(env_text, what=f"{env}.tfvars")
        if "environment" in declared and values.get("environment") != env:
            problems.append(f"{env}.tfvars sets environment = {values.get('environment')!r}, expected {env!r}")
        for var_name, body in sorted(declared.items()):
            if "default" not in body and var_name not in values:
                problems.append(f"{env}.tfvars does not set {var_name!r}, which has no default")
        for var_name in sorted(set(values) - set(declared)):
            problems.append(f"{env}.tfvars sets {var_name!r}, which no variable block declares (a typo?)")
    return sorted(set(problems))


def check_terraform(
    folder: str | Path,
    *,
    environments: Sequence[str] = ENVIRONMENTS,
    required_tags: Sequence[str] = REQUIRED_TAGS,
) -> list[str]:
    """:func:`terraform_problems` for a folder holding ``*.tf`` files and one ``<env>.tfvars`` per environment."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder; write main.tf and the <env>.tfvars files into one")
    tf_files = {p.name: p.read_text(encoding="utf-8") for p in sorted(root.glob("*.tf"))}
    if not tf_files:
        raise FileNotFoundError(f"no *.tf file in {root}: write at least main.tf")
    tfvars: dict[str, str | None] = {}
    for env in environments:
        path = root / f"{env}.tfvars"
        tfvars[env] = path.read_text(encoding="utf-8") if path.is_file() else None
    return terraform_problems(tf_files, tfvars, environments=environments, required_tags=required_tags)
