"""labkit.ci: workflow loading and schema validation, scratch projects, pytest runs with JUnit XML."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from labkit import ci

VALID = """\
name: CI
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    timeout-minutes: 10
    steps:
      - uses: actions/checkout@v4
      - run: python -m pytest -q
"""

BROKEN = """\
name: CI
on:
  push:
    branches: [main]
  pull-request:
jobs:
  test:
    timeout-minutes: ten
    steps:
      - uses: actions/checkout@v4
      - name: Install
        run: pip install -e .
        uses: actions/setup-python@v5
"""


def test_load_workflow_keeps_on_as_a_string_key_unlike_yaml_1_1():
    import yaml

    assert True in yaml.safe_load("on: push\n")  # the trap: PyYAML reads `on` as a boolean
    wf = ci.load_workflow("on: push\nenv:\n  DEBUG: yes\n  FLAG: true\n")
    assert wf["on"] == "push"
    assert wf["env"] == {"DEBUG": "yes", "FLAG": True}


def test_load_workflow_from_path_and_mapping(tmp_path):
    path = tmp_path / "ci.yml"
    path.write_text(VALID)
    from_file = ci.load_workflow(path)
    assert from_file["jobs"]["test"]["runs-on"] == "ubuntu-latest"
    copy = ci.load_workflow(from_file)
    copy["jobs"]["test"]["runs-on"] = "changed"
    assert from_file["jobs"]["test"]["runs-on"] == "ubuntu-latest"  # a deep copy


@pytest.mark.parametrize("bad,match", [
    ("on: [push\n", "not valid YAML"),
    ("- just\n- a list\n", "must be a YAML mapping"),
    ("", "must be a YAML mapping"),
])
def test_load_workflow_bad_input_says_what_was_found(bad, match):
    with pytest.raises(ci.WorkflowError, match=match):
        ci.load_workflow(bad)


def test_load_workflow_missing_file_and_wrong_type(tmp_path):
    with pytest.raises(ci.WorkflowError, match="does not exist"):
        ci.load_workflow(tmp_path / "nope.yml")
    with pytest.raises(TypeError, match="pathlib.Path"):
        ci.load_workflow(42)  # type: ignore[arg-type]


def test_schema_is_check_jsonschemas_bundled_github_workflow_schema():
    schema = ci.workflow_schema()
    assert schema["$id"] == "https://json.schemastore.org/github-workflow.json"
    schema["mutated"] = True
    assert "mutated" not in ci.workflow_schema()


def test_valid_workflow_has_no_problems():
    assert ci.validate_workflow(VALID) == []


def test_broken_workflow_problems_point_at_each_mistake():
    problems = ci.validate_workflow(BROKEN)
    assert "$.jobs.test: 'runs-on' is a required property" in problems
    assert "$.jobs.test['timeout-minutes']: 'ten' is not of type 'number'" in problems
    assert "$.on: Additional properties are not allowed ('pull-request' was unexpected)" in problems
    assert any(p.startswith("$.jobs.test.steps[1]: ") and "valid under each of" in p for p in problems)
    assert problems == sorted(problems)


def test_a_normal_job_is_not_judged_as_a_reusable_workflow_call():
    text = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n    - uses: x\n      with: 3\n"
    problems = ci.validate_workflow(text)
    assert problems == ["$.jobs.a.steps[0].with: 3 is not of type 'object'"]


def test_validation_agrees_with_the_check_jsonschema_cli(tmp_path):
    import subprocess

    for name, text in (("good.yml", VALID), ("bad.yml", BROKEN)):
        (tmp_path / name).write_text(text)
        cmd = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
               str(tmp_path / name)]
        cli = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert (cli.returncode == 0) == (ci.validate_workflow(tmp_path / name) == [])


def test_tool_env_puts_this_python_first_and_merges_extra(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    monkeypatch.setenv("FORCE_COLOR", "1")  # what a Jupyter kernel sets
    env = ci.tool_env({"GREETING": "hi", "N": 3})  # type: ignore[dict-item]
    assert "FORCE_COLOR" not in env and env["NO_COLOR"] == "1" and env["PY_COLORS"] == "0"
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert env["GREETING"] == "hi" and env["N"] == "3"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1" and "PYTHONPATH" not in env


def test_scratch_project_writes_changes_and_is_removed_even_on_error():
    with pytest.raises(RuntimeError), ci.scratch_project(changes={"tests/e2e/test_cli.py": None,
                                                                  "extra/a.txt": "hello"}) as project:
        root = project
        assert (project / "src/shop/pricing.py").is_file()
        assert not (project / "tests/e2e/test_cli.py").exists()
        assert (project / "extra/a.txt").read_text() == "hello"
        raise RuntimeError("student code failed")
    assert not root.exists()


def test_scratch_project_refuses_paths_outside_and_bad_types():
    with pytest.raises(ValueError, match="outside the project"), ci.scratch_project({"../evil.txt": "x"}):
        pass
    with pytest.raises(TypeError, match="mapping"), ci.scratch_project(["a.py"]):  # type: ignore[arg-type]
        pass


def test_run_pytest_on_the_sample_project_reports_every_layer():
    with ci.scratch_project() as project:
        run = ci.run_pytest(project)
        leftovers = [p for p in project.rglob("*") if p.name in ("__pycache__", ".pytest_cache")]
    assert run.returncode == 0, run.output
    assert list(run.tests.columns) == ["classname", "name", "seconds", "outcome"]
    assert run.tests["seconds"].dtype == "float64"
    layers = run.tests["classname"].str.split(".").str[1].value_counts().to_dict()
    assert layers == {"unit": 30, "integration": 4, "e2e": 3}
    assert set(run.tests["outcome"]) == {"passed"}
    assert leftovers == []
    assert "\x1b[" not in run.output  # no colour codes in captured output


def test_run_pytest_reports_failures_and_skips():
    broken = {
        "tests/unit/test_more.py": "import pytest\n\ndef test_bad():\n    assert 1 == 2\n\n"
                                   "@pytest.mark.skip(reason='later')\ndef test_later():\n    pass\n",
    }
    with ci.scratch_project(changes=broken) as project:
        run = ci.run_pytest(project, "tests/unit")
    assert run.returncode == 1
    outcome = dict(zip(run.tests["name"], run.tests["outcome"], strict=True))
    assert outcome["test_bad"] == "failed" and outcome["test_later"] == "skipped"
    assert "1 failed" in run.output


def test_run_pytest_with_no_tests_gives_an_empty_typed_table():
    with ci.scratch_project({"README.md": "empty\n"}) as project:
        run = ci.run_pytest(project)
    assert run.returncode == 5
    assert run.tests.empty and list(run.tests.columns) == ["classname", "name", "seconds", "outcome"]


def test_run_pytest_timeout_kills_the_run():
    slow = {"test_slow.py": "import time\n\ndef test_slow():\n    time.sleep(30)\n"}
    with ci.scratch_project(slow) as project, pytest.raises(TimeoutError, match="longer than"):
        ci.run_pytest(project, timeout=1.0)


def test_run_pytest_missing_project(tmp_path):
    with pytest.raises(FileNotFoundError, match="scratch_project"):
        ci.run_pytest(tmp_path / "missing")


def test_read_junit_parses_outcomes(tmp_path):
    report = tmp_path / "r.xml"
    report.write_text(
        '<?xml version="1.0"?><testsuites><testsuite name="pytest">'
        '<testcase classname="tests.unit.test_a" name="test_ok" time="0.010"/>'
        '<testcase classname="tests.unit.test_a" name="test_bad" time="0.5"><failure message="x"/></testcase>'
        '<testcase classname="tests.e2e.test_b" name="test_err" time="1"><error message="y"/></testcase>'
        '</testsuite></testsuites>'
    )
    frame = ci.read_junit(report)
    expected = pd.DataFrame({
        "classname": ["tests.unit.test_a", "tests.unit.test_a", "tests.e2e.test_b"],
        "name": ["test_ok", "test_bad", "test_err"],
        "seconds": [0.01, 0.5, 1.0],
        "outcome": ["passed", "failed", "error"],
    }).astype({"classname": "object", "name": "object", "outcome": "object"})
    pd.testing.assert_frame_equal(frame, expected)
    with pytest.raises(FileNotFoundError, match="--junitxml"):
        ci.read_junit(tmp_path / "none.xml")
