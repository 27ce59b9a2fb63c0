"""GitLab CI files: the syllabus's pipeline, schema validation, the course's promotion rules."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labkit import ci

if TYPE_CHECKING:  # pragma: no cover
    pass

from .artefacts import PIPELINE_STAGES

# ------------------------------------------------------------------------------------------ GitLab CI files

#: The syllabus's multi-environment pipeline exactly as printed (it has problems the exercises fix).
SYLLABUS_PIPELINE = """\
stages:
  - build
  - deploy-dev
  - deploy-staging
  - deploy-prod

deploy-dev:
  stage: deploy-dev
  script: deploy.sh dev

deploy-staging:
  stage: deploy-staging
  when: manual  # needs a person's approval

deploy-prod:
  stage: deploy-prod
  when: manual
  only: [main]
"""

#: Top-level keys of .gitlab-ci.yml that are not jobs (GitLab CI/CD YAML syntax reference, "Global keywords").
GLOBAL_KEYWORDS = frozenset(
    {"default", "include", "stages", "variables", "workflow", "image", "services", "cache", "before_script",
     "after_script", "spec"}
)  # fmt: skip


def _gitlab_loader() -> type:
    """A SafeLoader that also reads GitLab's ``!reference [job, key]`` tag (as a plain list)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def reference(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        return loader.construct_sequence(node)

    Loader.add_constructor("!reference", reference)
    return Loader


def load_gitlab_ci(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """Parse a ``.gitlab-ci.yml``: YAML text (``str``), a file (``Path``) or a parsed mapping (copied).

    GitLab reads YAML with Ruby's Psych (YAML 1.1), so PyYAML's safe loader reads it the same way here.
    Raises :class:`labkit.ci.WorkflowError` with the line and column when the YAML is broken.
    """
    import yaml

    if isinstance(source, Mapping):
        return json.loads(json.dumps(dict(source)))
    if isinstance(source, Path):
        if not source.is_file():
            raise ci.WorkflowError(f"no pipeline file at {str(source)!r}: write .gitlab-ci.yml first")
        text = source.read_text()
    elif isinstance(source, str):
        text = source
    else:
        raise TypeError(
            f"load_gitlab_ci expects YAML text (str), a pathlib.Path or a dict, found {type(source).__name__}"
        )
    try:
        data = yaml.load(text, Loader=_gitlab_loader())
    except yaml.YAMLError as err:
        raise ci.WorkflowError(f"the pipeline is not valid YAML: {err}. Check indentation and colons.") from None
    if not isinstance(data, dict):
        raise ci.WorkflowError(
            f"a .gitlab-ci.yml must be a YAML mapping of stages and jobs, found {type(data).__name__}"
        )
    return data


@functools.lru_cache(maxsize=1)
def _gitlab_validator() -> Any:
    from importlib import resources

    from jsonschema.validators import validator_for

    text = (resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "gitlab-ci.json").read_text(
        encoding="utf-8"
    )
    schema = json.loads(text)
    return validator_for(schema)(schema)


def validate_gitlab_ci(source: str | Path | Mapping[str, Any]) -> list[str]:
    """Problems GitLab's CI JSON schema finds (``"$.deploy-prod.when: 'later' is not one of …"``); [] = valid.

    The same schema as ``check-jsonschema --builtin-schema vendor.gitlab-ci``, reported like
    :func:`labkit.ci.validate_workflow` (the closest alternative of a ``oneOf``). The schema is lenient: a job
    without ``script`` passes it although GitLab rejects it — :func:`pipeline_problems` checks that.
    """
    return ci.schema_problems(_gitlab_validator(), load_gitlab_ci(source))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _script_lines(job: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    for key in ("before_script", "script"):
        for line in _as_list(job.get(key)):
            lines.extend(str(part).strip() for part in _as_list(line))
    return [line for line in lines if line]


def _needs_names(job: Mapping[str, Any]) -> list[str] | None:
    if "needs" not in job:
        return None
    names = []
    for need in _as_list(job["needs"]):
        names.append(str(need.get("job")) if isinstance(need, Mapping) else str(need))
    return names


_DEFAULT_BRANCH_IF = re.compile(
    r"\$CI_COMMIT_(?:BRANCH|REF_NAME)\s*==\s*(?:\$CI_DEFAULT_BRANCH|[\"']main[\"'])"
    r"|(?:\$CI_DEFAULT_BRANCH|[\"']main[\"'])\s*==\s*\$CI_COMMIT_(?:BRANCH|REF_NAME)"
)


def _active_rules(job: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [r for r in _as_list(job.get("rules")) if isinstance(r, Mapping) and r.get("when") != "never"]


def manual_gate(job: Mapping[str, Any]) -> tuple[bool, bool, str]:
    """``(manual, blocking, how)`` for one job's mapping: is a person's click needed, do later stages wait?

    ``how`` says in words what decided it (``"when: manual"``, ``"rules: when: manual"``, ``"when: on_success"``).
    A job with ``rules`` is manual only when every rule that creates it says ``when: manual``.
    """
    job_allow = job.get("allow_failure")
    if "rules" in job:
        rules = _active_rules(job)
        if not rules:
            return False, False, "its rules never create the job"
        whens = [r.get("when", job.get("when", "on_success")) for r in rules]
        if any(w != "manual" for w in whens):
            return False, False, "a rule starts it automatically (every rule that creates it needs when: manual)"
        # GitLab: when: manual inside rules defaults to allow_failure: false (blocking)
        allows = [r.get("allow_failure", job_allow if job_allow is not None else False) for r in rules]
        blocking = not any(a is True for a in allows)
        return True, blocking, "rules: when: manual"
    if job.get("when") != "manual":
        return False, False, f"when: {job.get('when', 'on_success')}"
    # GitLab: a job-level when: manual defaults to allow_failure: true, which does not block later stages
    return True, job_allow is False, "when: manual"


def _default_branch_only(job: Mapping[str, Any]) -> bool:
    if "rules" in job:
        rules = _active_rules(job)
        return bool(rules) and all(_DEFAULT_BRANCH_IF.search(str(r.get("if", ""))) for r in rules)
    only = job.get("only")
    refs = only.get("refs") if isinstance(only, Mapping) else only
    return bool(_as_list(refs)) and set(map(str, _as_list(refs))) == {"main"}


def pipeline_problems(source: str | Path | Mapping[str, Any]) -> list[str]:  # noqa: C901 - one branch per promotion rule, each with its own message
    """The course's promotion rules for a four-stage ``.gitlab-ci.yml``; [] when it follows them all.

    GitLab's own rules: a job needs ``script`` (or ``trigger``/``run``); a job's ``stage`` must be listed in
    ``stages`` (default ``test``); ``when: manual`` at job level is *not* blocking unless ``allow_failure:
    false`` (inside ``rules`` it is blocking by default). The course's rules (from "build once, promote the
    same bits"): the stages are build, deploy-dev, deploy-staging, deploy-prod in this order; a build job
    publishes ``artifacts: paths``; deploy jobs do not repeat a build command and, if they list ``needs`` or
    ``dependencies``, include the build job (else they get no artefact); dev deploys automatically; staging
    and prod are blocking manual jobs; prod runs only for the default branch; every deploy job names its
    ``environment``.
    """
    data = load_gitlab_ci(source)
    problems: list[str] = []
    stages = _as_list(data.get("stages"))
    if stages != list(PIPELINE_STAGES):
        problems.append(f"stages: expected {list(PIPELINE_STAGES)} in this order, found {stages}")
    jobs = {name: job for name, job in data.items()
            if name not in GLOBAL_KEYWORDS and not str(name).startswith(".") and isinstance(job, Mapping)}  # fmt: skip
    by_stage: dict[str, list[str]] = {}
    for name, job in jobs.items():
        stage = str(job.get("stage", "test"))
        by_stage.setdefault(stage, []).append(name)
        if stage not in stages:
            problems.append(f"{name}: its stage {stage!r} is not in stages {stages}; add `stage:` with one of them")
        if not any(key in job for key in ("script", "trigger", "run")):
            problems.append(f"{name}: has no script; GitLab rejects a job without `script:` (the schema allows it)")
    for stage in PIPELINE_STAGES:
        if not by_stage.get(stage):
            problems.append(f"stage {stage!r} has no job; add one with `stage: {stage}`")
    build_jobs = by_stage.get("build", [])
    build_lines = {line for name in build_jobs for line in _script_lines(jobs[name])}
    if build_jobs and not any(_as_list((jobs[n].get("artifacts") or {}).get("paths")) for n in build_jobs):
        problems.append(
            f"{build_jobs[0]}: publishes no artefact; add `artifacts: {{paths: [dist/]}}` so later jobs deploy "
            "the file it built"
        )
    for stage, env, manual in (("deploy-dev", "dev", False), ("deploy-staging", "staging", True),
                               ("deploy-prod", "prod", True)):  # fmt: skip
        for name in by_stage.get(stage, []):
            job = jobs[name]
            rebuilt = sorted(set(_script_lines(job)) & build_lines)
            if rebuilt:
                problems.append(f"{name}: runs the build command {rebuilt[0]!r} again; deploy the artefact the "
                                "build job published instead (build once)")  # fmt: skip
            for key in ("needs", "dependencies"):
                listed = _needs_names(job) if key == "needs" else (
                    [str(d) for d in _as_list(job["dependencies"])] if "dependencies" in job else None)  # fmt: skip
                if listed is not None and build_jobs and not set(listed) & set(build_jobs):
                    problems.append(f"{name}: `{key}: {listed}` leaves out {build_jobs[0]!r}, so the job gets "
                                    "no artefact; list the build job")  # fmt: skip
            is_manual, blocking, how = manual_gate(job)
            if not manual and is_manual:
                problems.append(f"{name}: dev should deploy automatically after the build, found {how}")
            if manual and not is_manual:
                problems.append(f"{name}: {env} needs a person's approval: add `when: manual` ({how})")
            if manual and is_manual and not blocking:
                problems.append(
                    f"{name}: `{how}` is not blocking (allow_failure defaults to true for a job-level manual "
                    "job), so later stages run without this approval; add `allow_failure: false`"
                )
            if stage == "deploy-prod" and not _default_branch_only(job):
                problems.append(f"{name}: prod must deploy only from the default branch; add `rules: - if: "
                                "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH` (with when: manual)")  # fmt: skip
            environment = job.get("environment")
            env_name = environment.get("name") if isinstance(environment, Mapping) else environment
            if not env_name:
                problems.append(f"{name}: add `environment: {env}` so GitLab records what runs where")
    return problems
