"""labkit.delivery: reproducible artefacts, real environments keyed on digests, GitLab pipeline rules."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from labkit import ci, delivery

REFERENCE_PIPELINE = """\
stages: [build, deploy-dev, deploy-staging, deploy-prod]
build:
  stage: build
  script: [./build.sh dist/orders.tar.gz]
  artifacts: {paths: [dist/]}
deploy-dev:
  stage: deploy-dev
  script: [./deploy.sh dev dist/orders.tar.gz]
  environment: dev
deploy-staging:
  stage: deploy-staging
  script: [./deploy.sh staging dist/orders.tar.gz]
  environment: {name: staging}
  when: manual
  allow_failure: false
deploy-prod:
  stage: deploy-prod
  script: [./deploy.sh prod dist/orders.tar.gz]
  environment: production
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
      when: manual
"""


def test_sha256_matches_hashlib_and_reads_binary(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000 + b"\r\n"
    (tmp_path / "blob").write_bytes(data)
    assert delivery.sha256(tmp_path / "blob") == hashlib.sha256(data).hexdigest()
    assert delivery.sha256(str(tmp_path / "blob")) == hashlib.sha256(data).hexdigest()
    with pytest.raises(FileNotFoundError, match="build the artefact"):
        delivery.sha256(tmp_path / "missing")


def test_reference_build_is_reproducible_across_mtimes_modes_and_folders(tmp_path: Path) -> None:
    delivery.write_sample_source(tmp_path / "a")
    delivery.write_sample_source(tmp_path / "b")
    os.utime(tmp_path / "b" / "VERSION", (1, 1))
    os.chmod(tmp_path / "b" / "README.md", 0o664)
    first = delivery.reference_build(tmp_path / "a", tmp_path / "a.tar.gz")
    second = delivery.reference_build(tmp_path / "b", tmp_path / "out" / "b.tar.gz")
    assert delivery.sha256(first) == delivery.sha256(second)
    other_epoch = delivery.reference_build(tmp_path / "a", tmp_path / "c.tar.gz", epoch=delivery.DEFAULT_EPOCH + 1)
    assert delivery.sha256(other_epoch) != delivery.sha256(first)
    with tarfile.open(first) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names[0] == "." and "./VERSION" in names and "./app/main.py" in names
    assert {m.mtime for m in members} == {delivery.DEFAULT_EPOCH}
    assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}
    with pytest.raises(ValueError, match="SOURCE_DATE_EPOCH"):
        delivery.reference_build(tmp_path / "a", tmp_path / "x.tar.gz", epoch=-1)


def test_gnu_tar_with_the_reproducible_flags_gives_one_digest(tmp_path: Path) -> None:
    """The recipe the notebook teaches really is reproducible with the tar on this machine."""

    def build(src: Path, out: Path) -> str:
        cmd = ["tar", "--sort=name", f"--mtime=@{delivery.DEFAULT_EPOCH}", "--owner=0", "--group=0",
               "--numeric-owner", "--mode=go=rX,u+rw,a-s", "-czf", str(out), "-C", str(src), "."]  # fmt: skip
        subprocess.run(cmd, check=True, timeout=60)
        return delivery.sha256(out)

    delivery.write_sample_source(tmp_path / "a")
    one = build(tmp_path / "a", tmp_path / "1.tar.gz")
    time.sleep(1.05)
    (tmp_path / "a" / "VERSION").touch()
    assert build(tmp_path / "a", tmp_path / "2.tar.gz") == one
    assert delivery.Artifact.load(tmp_path / "2.tar.gz").version == "1.4.0"


def test_artifact_label_and_read_version_errors(tmp_path: Path) -> None:
    delivery.write_sample_source(tmp_path / "src", "2.0.0")
    art = delivery.Artifact.load(delivery.reference_build(tmp_path / "src", tmp_path / "o.tar.gz"))
    assert art.version == "2.0.0" and art.label == f"2.0.0+sha256.{art.sha256}" and len(art.short) == 12
    with pytest.raises(ValueError, match="64 lowercase hex"):
        delivery.Artifact(path=art.path, sha256="abc", version="1")
    wrapped = tmp_path / "wrapped.tar.gz"
    with tarfile.open(wrapped, "w:gz") as tar:
        tar.add(tmp_path / "src", arcname="src")
    with pytest.raises(delivery.DeliveryError, match="no VERSION file at its top"):
        delivery.read_version(wrapped)
    (tmp_path / "junk.tar.gz").write_bytes(b"not a tar")
    with pytest.raises(delivery.DeliveryError, match="not a readable tar"):
        delivery.read_version(tmp_path / "junk.tar.gz")


def test_approval_is_validated() -> None:
    now = datetime(2026, 1, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="env must be one of"):
        delivery.Approval("qa", "a" * 64, "dana", now)
    with pytest.raises(ValueError, match="name the person"):
        delivery.Approval("prod", "a" * 64, " ", now)
    with pytest.raises(ValueError, match="time zone"):
        delivery.Approval("prod", "a" * 64, "dana", datetime(2026, 1, 5))


@pytest.mark.service
def test_environments_run_the_digest_they_unpacked_and_clean_up(tmp_path: Path) -> None:
    delivery.write_sample_source(tmp_path / "src")
    art = delivery.Artifact.load(delivery.reference_build(tmp_path / "src", tmp_path / "a.tar.gz"))
    with delivery.Environments() as envs:
        assert envs.version("dev") is None and envs.running_digest("prod") is None
        envs.record_build(art)
        first = envs.deploy("dev", art)
        answer = envs.version("dev")
        assert answer is not None and answer["version"] == art.label and answer["name"] == "orders-dev"
        assert envs.running_digest("dev") == art.sha256
        envs.clock.advance("2h")
        approval = delivery.Approval("staging", art.sha256, "dana", envs.clock.now)
        envs.deploy("staging", art, approval=approval)
        # a redeploy replaces the old process
        second = envs.deploy("dev", art)
        assert not first.alive and second.alive
        # the file changed after it was hashed: the service reports the bits it really got
        with art.path.open("ab") as handle:
            handle.write(b"\0")
        envs.deploy("dev", art)
        assert envs.running_digest("dev") == delivery.sha256(art.path) != art.sha256
        history = envs.history()
        assert list(history["event"]) == ["commit", "build", "deploy", "approve", "deploy", "deploy", "deploy"]
        assert history.loc[3, "by"] == "dana" and str(history["at"].dt.tz) == "UTC"
        with pytest.raises(ValueError, match="unknown environment"):
            envs.deploy("qa", art)
        url = envs.url("staging")
    assert url is not None
    with pytest.raises(httpx.TransportError):
        httpx.get(url + "/health", timeout=1)
    with pytest.raises(delivery.DeliveryError, match="inside the block"):
        envs.deploy("dev", art)


def test_sample_record_shape() -> None:
    record = delivery.sample_record()
    assert list(record.columns) == ["release", "sha256", "event", "env", "by", "at"]
    assert record["at"].is_monotonic_increasing and str(record["at"].dt.tz) == "UTC"
    assert set(record["event"]) == {"commit", "build", "approve", "deploy"}
    assert record["release"].nunique() == 7
    prod = record[(record.event == "deploy") & (record.env == "prod")]
    assert sorted(prod.release) == ["1.2.0", "1.2.1", "1.3.0", "1.3.1", "1.4.0"]
    # releases interleave: 1.3.1 is committed before 1.3.0 reaches prod
    t = {(r.release, r.event, r.env if isinstance(r.env, str) else ""): r.at for r in record.itertuples()}
    assert t[("1.3.1", "commit", "")] < t[("1.3.0", "deploy", "prod")]
    assert record["env"].isna().sum() == 2 * 7


def test_syllabus_pipeline_passes_the_schema_but_not_the_rules() -> None:
    assert delivery.validate_gitlab_ci(delivery.SYLLABUS_PIPELINE) == []
    problems = "\n".join(delivery.pipeline_problems(delivery.SYLLABUS_PIPELINE))
    assert "deploy-staging: has no script" in problems
    assert "stage 'build' has no job" in problems
    assert "deploy-prod: `when: manual` is not blocking" in problems


def test_reference_pipeline_follows_every_rule_and_the_cli_agrees(tmp_path: Path) -> None:
    assert delivery.validate_gitlab_ci(REFERENCE_PIPELINE) == []
    assert delivery.pipeline_problems(REFERENCE_PIPELINE) == []
    path = tmp_path / ".gitlab-ci.yml"
    path.write_text(REFERENCE_PIPELINE)
    out = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci",
                          str(path)], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert delivery.pipeline_problems(path) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "  when: manual\n  allow_failure: false\n",
            "  when: manual\n",
            "deploy-staging: `when: manual` is not blocking",
        ),
        ("      when: manual\n", "", "deploy-prod: prod needs a person's approval"),
        (
            "    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n      when: manual\n",
            "    - when: manual\n",
            "deploy-prod: prod must deploy only from the default branch",
        ),
        (
            "[./deploy.sh staging dist/orders.tar.gz]",
            "[./build.sh dist/orders.tar.gz, ./deploy.sh staging x]",
            "deploy-staging: runs the build command",
        ),
        ("  artifacts: {paths: [dist/]}\n", "", "build: publishes no artefact"),
        (
            "stages: [build, deploy-dev, deploy-staging, deploy-prod]",
            "stages: [build, deploy-staging, deploy-dev, deploy-prod]",
            "stages: expected",
        ),
        ("  environment: dev\n", "  environment: dev\n  when: manual\n", "deploy-dev: dev should deploy automatically"),
        ("  environment: dev\n", "  needs: []\n", "deploy-dev: `needs: []` leaves out 'build'"),
    ],
)
def test_each_rule_can_fail(old: str, new: str, expected: str) -> None:
    assert REFERENCE_PIPELINE.count(old) == 1
    problems = delivery.pipeline_problems(REFERENCE_PIPELINE.replace(old, new))
    assert any(p.startswith(expected) for p in problems), problems


def test_manual_gate_reads_job_level_and_rules() -> None:
    assert delivery.manual_gate({"when": "manual"}) == (True, False, "when: manual")
    assert delivery.manual_gate({"when": "manual", "allow_failure": False})[:2] == (True, True)
    assert delivery.manual_gate({"rules": [{"if": "$X", "when": "manual"}]})[:2] == (True, True)
    assert delivery.manual_gate({"rules": [{"when": "manual", "allow_failure": True}]})[:2] == (True, False)
    assert delivery.manual_gate({"rules": [{"if": "$X", "when": "manual"}, {"when": "on_success"}]})[0] is False
    assert delivery.manual_gate({"rules": [{"if": "$X", "when": "never"}, {"when": "manual"}]})[:2] == (True, True)
    assert delivery.manual_gate({"script": "x"}) == (False, False, "when: on_success")


def test_load_gitlab_ci_errors_and_reference_tag(tmp_path: Path) -> None:
    with pytest.raises(ci.WorkflowError, match="not valid YAML"):
        delivery.load_gitlab_ci("a: [b")
    with pytest.raises(ci.WorkflowError, match="write .gitlab-ci.yml"):
        delivery.load_gitlab_ci(tmp_path / "none.yml")
    with pytest.raises(ci.WorkflowError, match="mapping"):
        delivery.load_gitlab_ci("- a\n- b\n")
    data = delivery.load_gitlab_ci("job:\n  script: !reference [.setup, script]\n")
    assert data == {"job": {"script": [".setup", "script"]}}
    with pytest.raises(TypeError, match="pathlib.Path"):
        delivery.load_gitlab_ci(3)  # type: ignore[arg-type]
