"""The syllabus's best-practice checklist as a graded policy: one rule per function, findings with a fix."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

from .dockerfile import Dockerfile, Instruction, Stage, as_dockerfile
from .hadolint import LintFinding


@dataclass(frozen=True)
class Finding:
    """One broken rule: which rule, where (1-based line; 0 = the build as a whole), what is wrong, how to fix it."""

    rule: str
    line: int
    message: str
    fix: str


Rule = Callable[..., list[Finding]]

#: The syllabus' checklist, item by item, and the course rule that grades it (CP002 is exercise 3's rule).
CHECKLIST: dict[str, str] = {
    "CP001": "Multi-stage builds",
    "CP002": "Non-root user",
    "CP003": "Health checks included",
    "CP004": "Secrets not in the image (ENV/ARG)",
    "CP005": "Base image pinned (tag and digest) — the course's addition",
    "CP006": "Small image (Alpine/slim/distroless base)",
    "CP007": "Secrets not in the image (build context: .dockerignore)",
}

#: Names that look like secrets (case-insensitive): PASSWORD, DB_PASSWD, API_KEY, GITHUB_TOKEN, AWS_SECRET_...
SECRET_NAME = re.compile(
    r"(^|_)(PASS(WORD|WD)?|PWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|AUTH)(_|$)",
    re.IGNORECASE,
)


def looks_secret(name: str) -> bool:
    """Does a variable name look like it holds a secret? ``*_FILE`` names hold a path to one, which is fine."""
    return bool(SECRET_NAME.search(name)) and not name.upper().endswith("_FILE")


_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_SMALL_BASE = re.compile(r"(alpine|slim|distroless|busybox|chainguard|ubi-?micro|minimal)", re.IGNORECASE)
#: A syntactically valid, obviously made-up digest for exercises (no registry is reachable here to look one up).
PLACEHOLDER_DIGEST = "sha256:" + "0" * 64


def rule_multi_stage(dockerfile: Dockerfile | str | Path, context: Path | None = None) -> list[Finding]:
    """CP001 — build in one stage, ship from another, so compilers, dev dependencies and sources stay behind."""
    df = as_dockerfile(dockerfile)
    if len(df.stages) >= 2:
        return []
    return [
        Finding(
            "CP001",
            df.final.line,
            "single-stage build: everything used to build the app (compilers, dev dependencies, sources) ships",
            "add a builder stage (`FROM ... AS build`) and `COPY --from=build` only the artefacts into the final one",
        )
    ]


def _stage_chain(df: Dockerfile, stage: Stage) -> list[Stage]:
    """``stage`` and the earlier stages it is built FROM, oldest first (their settings are inherited)."""
    chain = [stage]
    parent = df.parent(stage)
    while parent is not None:
        chain.insert(0, parent)
        parent = df.parent(parent)
    return chain


def rule_healthcheck(dockerfile: Dockerfile | str | Path, context: Path | None = None) -> list[Finding]:
    """CP003 — the final image says how to tell it is healthy (``HEALTHCHECK``; ``HEALTHCHECK NONE`` switches off)."""
    df = as_dockerfile(dockerfile)
    checks = [i for st in _stage_chain(df, df.final) for i in st.find("HEALTHCHECK")]
    if checks and checks[-1].value.strip().upper() != "NONE":
        return []
    line = checks[-1].line if checks else df.final.line
    return [
        Finding(
            "CP003",
            line,
            "the final stage has no HEALTHCHECK: Docker and Compose cannot tell a hung app from a healthy one",
            'add e.g. `HEALTHCHECK --interval=10s --timeout=3s CMD ["wget", "-q", "--spider", '
            '"http://127.0.0.1:3000/health"]` (Kubernetes uses probes instead, week 14)',
        )
    ]


def _assigned_names(ins: Instruction) -> list[str]:
    """Variable names an ENV or ARG sets: ``ENV A=1 B="x y"``, legacy ``ENV A 1``, ``ARG TOKEN``, ``ARG A=1 B``."""
    try:
        tokens = shlex.split(ins.value)
    except ValueError:
        tokens = ins.value.split()
    if not tokens:
        return []
    if ins.keyword == "ENV" and "=" not in tokens[0]:
        return [tokens[0]]  # legacy form: ENV NAME the rest is the value
    return [t.split("=", 1)[0] for t in tokens]


def rule_no_secrets(dockerfile: Dockerfile | str | Path, context: Path | None = None) -> list[Finding]:
    """CP004 — no secret in ``ENV`` or ``ARG``: both stay readable in the image (``docker history``, ``inspect``)."""
    df = as_dockerfile(dockerfile)
    out = []
    for ins in df.instructions():
        if ins.keyword not in ("ENV", "ARG"):
            continue
        for name in _assigned_names(ins):
            if looks_secret(name):
                out.append(
                    Finding(
                        "CP004",
                        ins.line,
                        f"{ins.keyword} {name} looks like a secret: it is stored in the image metadata or history",
                        "pass secrets at run time (Compose/Kubernetes secrets, a secrets manager) and at build time "
                        f"with `RUN --mount=type=secret,id={name.lower()}` (BuildKit)",
                    )
                )
    return out


def _split_reference(ref: str) -> tuple[str, str | None, str | None]:
    """(name, tag, digest) of an image reference; a ``host:port/`` prefix is not a tag."""
    name, _, digest = ref.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = None
    if ":" in last:
        name, _, tag = name.rpartition(":")
    return name, tag, digest or None


def rule_pinned_base(dockerfile: Dockerfile | str | Path, context: Path | None = None) -> list[Finding]:
    """CP005 — every external base image is pinned by a digest, ideally behind its release tag (course's rule).

    A tag can be moved to another image at any time; a digest cannot. Tag + digest keeps both the readable
    version and the exact bytes (Docker then uses the digest). ``scratch`` and earlier stages are exempt.
    """
    df = as_dockerfile(dockerfile)
    out = []
    for st in df.stages:
        if st.base.lower() == "scratch" or df.parent(st) is not None or "$" in st.base:
            continue
        _, tag, digest = _split_reference(st.base)
        if digest is not None and _DIGEST.search(st.base):
            continue  # the exact bytes; with a tag in front (node:24-alpine@sha256:...) people can read it too
        if tag in (None, "latest"):
            msg = f"FROM {st.base} floats: it means ':latest', a different image tomorrow"
        else:
            msg = f"FROM {st.base} is pinned by tag only: tags can be moved to other images"
        out.append(
            Finding(
                "CP005",
                st.line,
                msg,
                "pin a release tag and its digest: `FROM node:24-alpine@sha256:<digest>` "
                "(`docker buildx imagetools inspect node:24-alpine` prints it; Dependabot/Renovate keep it fresh)",
            )
        )
    return out


def rule_small_base(dockerfile: Dockerfile | str | Path, context: Path | None = None) -> list[Finding]:
    """CP006 — the final image starts from a small base (alpine, slim, distroless, scratch): course's rule of thumb."""
    df = as_dockerfile(dockerfile)
    chain = _stage_chain(df, df.final)
    base = chain[0].base
    if base.lower() == "scratch" or _SMALL_BASE.search(base):
        return []
    return [
        Finding(
            "CP006",
            chain[0].line,
            f"the final image starts from {base}, a general-purpose base with a shell, compilers and package caches",
            "ship from a small base: `node:24-alpine`, `python:3.13-slim`, a distroless image, or `scratch` "
            "for static binaries",
        )
    ]


#: paths that must never reach the build context (and so never a `COPY . .`), with why
SENSITIVE_PATHS: dict[str, str] = {
    ".git": "the whole history, including anything ever committed by mistake",
    ".env": "local secrets",
    "node_modules": "a local install that overwrites the one built in the image",
}


def context_files(context: str | Path) -> list[str]:
    """The files ``docker build`` would send from ``context`` after applying its ``.dockerignore``, sorted.

    Uses docker-py's implementation of the ``.dockerignore`` rules (Go ``filepath.Match`` patterns, ``**``,
    ``!`` exceptions, later lines win). Paths are relative, with ``/``.
    """
    from docker.utils.build import exclude_paths

    root = Path(context)
    if not root.is_dir():
        raise NotADirectoryError(f"the build context {str(root)!r} is not a folder")
    ignore = root / ".dockerignore"
    patterns: list[str] = []
    if ignore.is_file():
        patterns = [
            line.strip()
            for line in ignore.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.strip().startswith("#")
        ]
    kept = exclude_paths(str(root), patterns)
    return sorted(p.replace(os.sep, "/") for p in kept if (root / p).is_file())


def rule_dockerignore(dockerfile: Dockerfile | str | Path, context: Path | None = None) -> list[Finding]:
    """CP007 — the build context (given as ``context``) sends no ``.git``, ``.env`` or local ``node_modules``.

    Skipped when ``context`` is ``None`` (a Dockerfile alone says nothing about the folder it is built in).
    """
    if context is None:
        return []
    sent = context_files(context)
    leaks = [p for p in SENSITIVE_PATHS if any(f == p or f.startswith(p + "/") or f.startswith(p + ".") for f in sent)]
    if not leaks:
        return []
    has_file = (Path(context) / ".dockerignore").is_file()
    why = "; ".join(f"{p}: {SENSITIVE_PATHS[p]}" for p in leaks)
    return [
        Finding(
            "CP007",
            0,
            f"the build context sends {', '.join(leaks)} ({why})"
            + ("" if has_file else " — there is no .dockerignore"),
            "list them in .dockerignore (one pattern per line: `.git`, `.env*`, `node_modules`)",
        )
    ]


#: The course policy, one function per checklist rule (CP002, non-root, is the rule students write).
RULES: tuple[Rule, ...] = (
    rule_multi_stage,
    rule_healthcheck,
    rule_no_secrets,
    rule_pinned_base,
    rule_small_base,
    rule_dockerignore,
)


def policy(
    dockerfile: Dockerfile | str | Path,
    context: str | Path | None = None,
    *,
    extra_rules: Iterable[Rule] = (),
) -> list[Finding]:
    """Every finding of :data:`RULES` (and ``extra_rules``, called as ``rule(dockerfile)``), by line then rule.

    ``context`` is the build folder; pass it to include the ``.dockerignore`` rule (CP007).
    """
    df = as_dockerfile(dockerfile)
    folder = Path(context) if context is not None else None
    out: list[Finding] = []
    for rule in RULES:
        out.extend(rule(df, folder))
    for rule in extra_rules:
        found = rule(df)
        if not isinstance(found, list) or not all(isinstance(f, Finding) for f in found):
            raise TypeError(
                f"rule {getattr(rule, '__name__', rule)!r} must return a list of containers.Finding, "
                f"found {type(found).__name__}"
            )
        out.extend(found)
    return sorted(out, key=lambda f: (f.line, f.rule))


def findings_frame(findings: Sequence[Finding] | Sequence[LintFinding]) -> pd.DataFrame:
    """A table of findings (policy or hadolint) for display: one row each, columns in a readable order."""
    import dataclasses

    import pandas as pd

    rows = [dataclasses.asdict(f) for f in findings]
    columns = ["line", "rule", "message", "fix"]
    if findings and isinstance(findings[0], LintFinding):
        columns = ["line", "code", "level", "message"]
    return pd.DataFrame(rows, columns=columns)


# -- sample files --------------------------------------------------------------------------------------------
#: The syllabus' "optimal" Dockerfile, as written there (a Node.js app on port 3000).
