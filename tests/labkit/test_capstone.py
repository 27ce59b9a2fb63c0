"""labkit.capstone: the rubric gives the reference capstone full marks, an empty repository 0, and each criterion
fails — with a message that says what to fix — on a defect aimed at it and at nothing else.

The reference capstone is the week-24 notebook's own solution (its file-building functions, executed here), so the
rubric and the notebook cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from labkit import capstone, git, postgres
from labkit.capstone.context import Context

pytestmark = [pytest.mark.service, pytest.mark.postgres]

SOURCE = Path(__file__).resolve().parents[2] / "source" / "week24" / "week24_capstone.ipynb"
PARTS = (
    "w24_capstone_service",
    "w24_capstone_quality",
    "w24_capstone_pipeline",
    "w24_capstone_migrations",
    "w24_capstone_deploy",
    "w24_capstone_history",
)


def _reference() -> dict[str, Any]:
    """The notebook's reference solution: ``capstone_files()`` and ``make_history(repo, files)``."""
    namespace: dict[str, Any] = {}
    for cell in nbformat.read(SOURCE, as_version=4).cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if gid in PARTS or "def capstone_files" in cell.source:
            body = "\n".join(ln for ln in cell.source.splitlines() if "### BEGIN" not in ln and "### END" not in ln)
            exec(compile(body, gid or "capstone_files", "exec"), namespace)
    return namespace


REF = _reference()
FILES: dict[str, str] = REF["capstone_files"]()


@pytest.fixture(scope="module")
def pg() -> Iterator[Any]:
    with postgres.server(quiet=True) as server:
        yield server


def _edit(path: str, old: str, new: str) -> Callable[[dict[str, str]], None]:
    def apply(files: dict[str, str]) -> None:
        assert files[path].count(old) == 1, f"{old!r} must occur once in {path}"
        files[path] = files[path].replace(old, new)

    return apply


def test_the_reference_capstone_scores_full_marks_on_every_criterion(pg: Any) -> None:
    with git.scratch_repo() as repo:
        REF["make_history"](repo, FILES)
        report = capstone.run_rubric(repo, postgres=pg)
    assert [r.name for r in report.failed()] == [], str(report)
    assert report.score == report.max_score == sum(c.points for c in capstone.CRITERIA) == 26
    assert [r.name for r in report.results] == [c.name for c in capstone.CRITERIA]
    assert "<table>" in report._repr_html_() and report.as_frame()["earned"].sum() == 26
    dora = report["dora"].details
    assert dora["deployments"] == 8 and dora["change_fail_rate"] == 1 / 8  # the revert: one failed deployment
    report.require()  # nothing to raise


def test_an_empty_repository_scores_zero_and_every_message_says_what_to_add() -> None:
    with git.scratch_repo() as repo:
        report = capstone.run_rubric(repo)
    assert report.score == 0 and report.max_score == 26
    for result in report.results:
        assert not result.passed and len(result.message) > 20, result
    assert "tag every release" in report["dora"].message
    assert "features.json" in report["flag_coverage"].message
    assert "deploy.py" in report["rollback"].message
    with pytest.raises(AssertionError, match="14 criterion"):
        report.require()


#: criterion -> a defect aimed at it, and words its message must contain
STATIC_DEFECTS: dict[str, tuple[Callable[[dict[str, str]], None], str]] = {
    "flag_coverage": (_edit("app/main.py", 'flags.is_enabled("order_notes")', "True"), "guard order notes"),
    "ci_workflow": (_edit(".github/workflows/ci.yml", "  pull_request:\n", ""), "on pull_request"),
    "build_time": (_edit(".github/workflows/ci.yml", "    timeout-minutes: 5\n", ""), "['security']"),
    "test_coverage": (_edit("tests/test_app.py", '["status"] == "ok"', '["status"] == "up"'), "do not pass"),
    "kubernetes": (_edit("k8s/hpa.yaml", "minReplicas: 2", "minReplicas: 1"), "minReplicas < 2"),
    "security": (_edit("app/main.py", "ORDERS = []", "ORDERS = eval('[]')"), "bandit"),
    "migrations": (_edit("db/migrations.json", "ADD COLUMN note TEXT", "ADD COLUMN note TEXT NOT NULL"), "failed"),
}


@pytest.mark.parametrize("criterion", sorted(STATIC_DEFECTS))
def test_a_defect_in_the_files_fails_its_criterion_with_a_message(criterion: str, pg: Any) -> None:
    defect, words = STATIC_DEFECTS[criterion]
    files = dict(FILES)
    with capstone.workspace(files) as root:
        assert capstone.check(root, criterion, postgres=pg).passed, "the reference passes before the defect"
    defect(files)
    with capstone.workspace(files) as root:
        result = capstone.check(root, criterion, postgres=pg)
    assert not result.passed and words in result.message, result.message


LIVE_DEFECTS: dict[str, tuple[Callable[[dict[str, str]], None], str]] = {
    "health": (
        _edit(
            "app/main.py",
            'return JSONResponse({"status": "ready", "version": VERSION})',
            'return JSONResponse({"status": "starting"}, status_code=503)',
        ),
        "GET /ready answered HTTP 503",
    ),
    "observability": (_edit("app/main.py", "log.info(json.dumps(", "log.info(str("), "JSON log line"),
    "blue_green": (
        _edit("app/main.py", '(b"x-service-version", VERSION.encode())', '(b"x-other", b"1")'),
        "X-Service-Version",
    ),
    "rollback": (_edit("deploy.py", "    fleet.stop(new)\n", ""), "stop the new version"),
}


@pytest.mark.parametrize("criterion", sorted(LIVE_DEFECTS))
def test_a_defect_seen_only_in_a_live_run_fails_its_criterion(criterion: str) -> None:
    defect, words = LIVE_DEFECTS[criterion]
    files = dict(FILES)
    defect(files)
    with capstone.workspace(files) as root:
        result = capstone.check(root, criterion)
    assert not result.passed and words in result.message, result.message


def _history(files: dict[str, str], *, merge_after: str = "10m", merges: bool = True, days: int = 3) -> Any:
    def make(repo: git.ScratchRepo) -> None:
        for n in range(1, 9):
            if merges:
                repo.branch(f"change-{n}")
            repo.commit(f"feat: change {n}", files={"app/main.py": files["app/main.py"] + f"# {n}\n"}, after="20m")
            if merges:
                repo.merge(f"change-{n}", after=merge_after)
            repo.tag(f"v1.{n}.0", after="5m")
            if n % 3 == 0:
                repo.clock.advance(f"{24 * days // 3}h")

    return make


@pytest.mark.parametrize(
    ("criterion", "options", "words"),
    [
        ("branch_lifetime", {"merge_after": "30h"}, "limit 24 h"),
        ("merge_frequency", {"merges": False}, "merges per day"),
        ("dora", {"merge_after": "3h"}, "lead time"),
    ],
)
def test_a_history_defect_fails_its_criterion(criterion: str, options: dict[str, Any], words: str) -> None:
    with git.scratch_repo() as good:
        _history(FILES)(good)
        assert capstone.check(good, criterion).passed
    with git.scratch_repo() as repo:
        _history(FILES, **options)(repo)
        result = capstone.check(repo, criterion)
    assert not result.passed and words in result.message, result.message


def test_a_secret_committed_and_deleted_later_still_fails_security() -> None:
    key = "AKIA" + "ZXCVBNMASDFGHJKL"  # an AWS access key id shape, split so this file holds no secret
    with git.scratch_repo() as repo:
        repo.commit("feat: service", files={p: t for p, t in FILES.items() if p.startswith("app/")})
        repo.commit("chore: config", files={"config.env": f"AWS_ACCESS_KEY_ID={key}\n"})
        repo.commit("chore: remove config", files={"config.env": None})
        result = capstone.check(repo, "security")
    assert not result.passed and "config.env" in result.message and "history" in result.message


def test_branch_lifetimes_and_merges_per_day_read_the_merges_into_main() -> None:
    with git.scratch_repo() as repo:
        repo.branch("a")
        repo.commit("feat: a", after="1h")
        repo.commit("feat: a2", after="2h")
        repo.merge("a", after="30m")
        repo.clock.advance("1d")
        repo.branch("b")
        repo.commit("feat: b", after="10m")
        repo.merge("b", after="20m")
        frame = capstone.branch_lifetimes(repo)
        assert frame["subject"].tolist() == ["Merge branch 'a'", "Merge branch 'b'"]
        assert [t.total_seconds() / 60 for t in frame["lifetime"]] == [150.0, 20.0]  # first commit -> merge
        assert capstone.merges_per_day(repo) == pytest.approx(2 / (28.0 / 24))  # 2 merges in 28 h of history


def test_flag_coverage_counts_calls_not_comments_and_ignores_tests() -> None:
    files = {
        "features.json": json.dumps({"features": [{"feature": "a", "flag": "fa"}, {"feature": "b", "flag": "fb"}]}),
        "app/x.py": '# flags.is_enabled("fb")\nif flags.is_enabled("fa"):\n    pass\n',
        "tests/test_x.py": 'flags.is_enabled("fb")\n',
    }
    with capstone.workspace(files) as root:
        assert capstone.flag_coverage(root) == {"guarded": ["a"], "unguarded": ["b"], "coverage": 0.5}


def test_memo_reuses_a_result_until_an_input_file_changes(tmp_path: Path) -> None:
    calls: list[int] = []
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("x = 1\n")
    with Context(tmp_path) as ctx:
        for _ in range(2):
            ctx.memo("probe-test", ("app/*",), lambda: calls.append(1) or len(calls))
        (tmp_path / "README.md").write_text("not an input\n")
        ctx.memo("probe-test", ("app/*",), lambda: calls.append(1) or len(calls))
        assert len(calls) == 1
        (tmp_path / "app" / "main.py").write_text("x = 2\n")
        assert ctx.memo("probe-test", ("app/*",), lambda: calls.append(1) or len(calls)) == 2


def test_bad_input_gets_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown criteria"):
        capstone.run_rubric(tmp_path, only=["speed"])
    with pytest.raises(FileNotFoundError, match="repo.path"):
        capstone.run_rubric(tmp_path / "missing")
    with pytest.raises(ValueError, match="inside the repository"), capstone.workspace({"../x": ""}):
        pass


def test_a_malformed_manifest_fails_flag_coverage_with_what_to_fix() -> None:
    with capstone.workspace({"features.json": '{"features": [{"feature": "a"}]}'}) as root:
        result = capstone.check(root, "flag_coverage")
    assert not result.passed and "needs a 'feature' and a 'flag'" in result.message


def test_log_records_waits_for_a_line_logged_after_the_reply() -> None:
    """A middleware logs once the response went out: reading the log at once can miss the line; log_records waits."""
    from labkit.capstone import log_records

    class LateLogger:
        calls = 0

        def stderr_tail(self, n: int) -> str:
            self.calls += 1
            late = '{"method": "POST", "status": 201}\n' if self.calls >= 4 else ""
            return 'boot\n{"method": "GET", "status": 200}\n' + late

    child = LateLogger()
    post = log_records(child, lambda r: r.get("method") == "POST", timeout=5)  # type: ignore[arg-type]
    assert post == [{"method": "POST", "status": 201}] and child.calls == 4
    assert log_records(LateLogger(), lambda r: r.get("method") == "PUT", timeout=0.2) == []  # type: ignore[arg-type]
    assert len(log_records(LateLogger(), timeout=0)) == 1  # no filter: every JSON object, non-JSON lines skipped
