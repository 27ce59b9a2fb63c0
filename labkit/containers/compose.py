"""A Compose file checked against the Compose Specification schema and by semantic rules."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    pass

from .policy import looks_secret

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
