import ast
import json
import subprocess
import sys

import pytest

from labkit import ci, git, quality


@pytest.mark.parametrize("n", [0, 1, 3, 4, 5, 6, 7, 9, 13, 62, 100])
def test_python_lines_gives_exactly_n_lines_of_valid_python(n):
    text = quality.python_lines(n, "coupon")
    assert text.count("\n") == n
    ast.parse(text)
    assert not text.endswith("\n\n")


@pytest.mark.parametrize("args, word", [((-1,), "non-negative"), ((True,), "non-negative"),
                                         ((3, "no spaces"), "identifier")])
def test_python_lines_rejects_bad_arguments(args, word):
    with pytest.raises(ValueError, match=word):
        quality.python_lines(*args)


def test_generated_code_and_tiny_project_are_lint_clean_and_the_lint_error_is_not():
    files = {**quality.TINY_PROJECT, "src/generated.py": quality.python_lines(40, "gen")}
    with ci.scratch_project(files) as project:
        clean = quality.run(quality.python_tool("ruff", "check", "--output-format", "json", "."), project)
        assert clean.returncode == 0, clean.stdout
    with ci.scratch_project(quality.TINY_PROJECT, changes=quality.LINT_ERROR) as project:
        dirty = quality.run(quality.python_tool("ruff", "check", "--output-format", "json", "."), project)
        assert [f["code"] for f in json.loads(dirty.stdout)] == ["F401"]


@pytest.mark.slow
def test_tiny_project_is_fully_covered_and_the_changes_break_one_criterion_each(tmp_path):
    def run_tests(changes):
        with ci.scratch_project(quality.TINY_PROJECT, changes=changes) as project:
            env = {"COVERAGE_FILE": str(tmp_path / ".coverage")}
            report = tmp_path / "c.json"
            cmd = quality.python_tool("coverage", "run", "-m", "pytest", "-q")
            tests = quality.run(cmd, project, env=env)
            quality.run(quality.python_tool("coverage", "json", "-o", str(report)), project, env=env)
            return tests.returncode, json.loads(report.read_text())["totals"]["percent_covered"]

    assert run_tests({}) == (0, 100.0)
    assert run_tests(quality.UNTESTED_CODE) == (0, 62.5)
    assert run_tests(quality.FAILING_TEST)[0] == 1


def test_pull_request_steps_give_branches_of_the_documented_sizes():
    with git.scratch_repo(quality.pull_request_steps()) as repo:
        assert set(repo.branches()) == {"main", "pr/coupons", "pr/repository", "pr/search", "pr/misc"}

        def lines(branch):
            out = repo.git("diff", "--numstat", f"main...{branch}").split()
            return sum(int(x) for x in out[0::3]) + sum(int(x) for x in out[1::3])

        assert lines("pr/coupons") == 100 and lines("pr/repository") == 330 and lines("pr/search") == 700
        assert lines("pr/misc") < 50
        # main moved on after the branches started: two dots would count the README change
        assert "README.md" in repo.git("diff", "--numstat", "main..pr/coupons")
        assert repo.git("log", "--format=%s", "main..pr/misc").splitlines()[0] == "Fix stuff"


def test_review_validates_its_fields_with_hints():
    ok = quality.Review(verdict="ok", lines=300, files=2, concerns=("db",), has_tests=True,
                        reasons=("large",))
    assert ok.reasons == ("large",)
    with pytest.raises(ValueError, match="verdict must be one of"):
        quality.Review(verdict="fine", lines=1, files=1, concerns=(), has_tests=True, reasons=())
    with pytest.raises(TypeError, match="tuple"):
        quality.Review(verdict="good", lines=1, files=1, concerns=["a"], has_tests=True, reasons=())
    with pytest.raises(TypeError, match="int"):
        quality.Review(verdict="good", lines=1.0, files=1, concerns=(), has_tests=True, reasons=())
    with pytest.raises(TypeError, match="bool"):
        quality.Review(verdict="good", lines=1, files=1, concerns=(), has_tests=1, reasons=())
    with pytest.raises(ValueError, match="may only contain"):
        quality.Review(verdict="bad", lines=1, files=1, concerns=(), has_tests=True, reasons=("huge",))
    with pytest.raises(ValueError, match="in the order"):
        quality.Review(verdict="bad", lines=1, files=1, concerns=(), has_tests=False,
                       reasons=("no-tests", "too-big"))


def test_gate_result_checks_consistency():
    assert quality.GateResult(passed=True, failed=(), coverage=90.0, baseline=80.0, findings=0).passed
    with pytest.raises(ValueError, match="contradicts"):
        quality.GateResult(passed=True, failed=("tests",), coverage=90.0, baseline=80.0, findings=0)
    with pytest.raises(TypeError, match="float"):
        quality.GateResult(passed=True, failed=(), coverage=90, baseline=80.0, findings=0)
    with pytest.raises(ValueError, match="in the order"):
        quality.GateResult(passed=False, failed=("coverage", "tests"), coverage=1.0, baseline=2.0, findings=0)


def test_run_returns_failures_and_times_out_with_a_clear_message(tmp_path):
    done = quality.run([sys.executable, "-c", "import sys; print('out'); sys.exit(3)"], tmp_path)
    assert isinstance(done, subprocess.CompletedProcess) and done.returncode == 3 and done.stdout == "out\n"
    with pytest.raises(TimeoutError, match="longer than 0.5 s"):
        quality.run([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, timeout=0.5)
    with pytest.raises(TypeError, match="list of str"):
        quality.run("ruff check", tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        quality.run([sys.executable, "-V"], tmp_path / "missing")
    assert quality.python_tool("ruff", "check") == [sys.executable, "-m", "ruff", "check"]
