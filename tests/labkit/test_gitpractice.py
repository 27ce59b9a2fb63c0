"""labkit.gitpractice: replays start fresh and are deterministic; the course's scenarios tell right from wrong."""

from __future__ import annotations

import pytest

from labkit import git, gitpractice

BISECT = [
    "git bisect start",
    "git bisect bad main",
    "git bisect good v1.4.0",
    "git bisect run python test_price.py",
    "git bisect reset",
]
REVERT = ["git revert --no-edit HEAD~3", "git push origin main"]
HOTFIX = [
    "git switch release/1.4",
    "git cherry-pick -x main~1",
    "git tag -a v1.4.1 -m 'Release 1.4.1'",
    "git push origin release/1.4 v1.4.1",
]


def test_commands_must_be_a_list_of_strings() -> None:
    with pytest.raises(TypeError, match="list of strings"):
        gitpractice.check_commands("git status")
    with pytest.raises(TypeError, match="command 1 must be a non-empty string"):
        gitpractice.check_commands(["git status", "  "])
    assert gitpractice.check_commands(("git status ",)) == ["git status"]


def test_a_scenario_without_origin_cannot_push() -> None:
    with pytest.raises(ValueError, match="remote=True"):
        gitpractice.Scenario("x", (), push=("main",))


def test_sandbox_is_a_fresh_copy_each_time_and_is_removed() -> None:
    scenario = gitpractice.first_release()
    with gitpractice.sandbox(scenario) as lab:
        path = lab.path
        lab.sh("git tag v9.9.9", echo=False)
        assert lab.rev("v9.9.9") == lab.rev("main")
    assert not path.parent.exists()
    with gitpractice.sandbox(scenario) as lab:
        assert lab.rev("v9.9.9") is None, "a tag from an earlier sandbox leaked into a fresh one"


def test_sandbox_is_removed_on_error() -> None:
    with pytest.raises(RuntimeError), gitpractice.sandbox(gitpractice.first_release()) as lab:
        path = lab.path
        raise RuntimeError("student code failed")
    assert not path.parent.exists()


def _refs(repo_git) -> list[str]:
    """Branches and tags with their objects (remote-tracking refs left out: the slow build has no origin)."""
    lines = repo_git("for-each-ref", "--format=%(refname) %(objectname) %(*objectname)").splitlines()
    return [line for line in lines if not line.startswith("refs/remotes/")]


@pytest.mark.parametrize(
    "scenario",
    [
        gitpractice.first_release(),
        gitpractice.regression(seed=3, commits=12).scenario,
        gitpractice.hotfix_for_release(),
        gitpractice.Scenario(
            "changelog",
            (
                git.Commit("feat: a  \n\n\n body  \n"),
                git.Branch("x"),
                git.Commit("fix: b", author="erin"),
                git.Tag("v0.1.0", lightweight=True),
                git.Switch("main"),
                git.Wait("2h"),
                git.Commit("docs: c"),
                git.Branch("y", start="v0.1.0"),
                git.Commit("chore: d", files={"README.md": None}),
            ),
        ),
    ],
    ids=lambda s: s.name,
)
def test_fast_import_builds_exactly_the_repository_labkit_git_builds(scenario) -> None:
    """The fast path (one git fast-import) must give the commits, tags and branch that step-by-step git gives."""
    with gitpractice.sandbox(scenario) as lab, git.scratch_repo(scenario.history, start=scenario.start) as slow:
        assert _refs(lab.git) == _refs(slow.git)
        assert lab.repo.branch_name == slow.branch_name
        assert lab.git("status", "--porcelain") == ""
        assert lab.repo.clock.now == slow.clock.now


def test_steps_fast_import_cannot_express_fall_back_to_real_git() -> None:
    steps = (git.Branch("x"), git.Commit("feat: on x"), git.Merge("x"), git.Revert("HEAD^2"))
    scenario = gitpractice.Scenario("merge", steps)
    with gitpractice.sandbox(scenario) as lab, git.scratch_repo(steps) as slow:
        assert _refs(lab.git) == _refs(slow.git)
        assert lab.git("log", "-1", "--format=%s").startswith('Revert "feat: on x"')


def test_a_cached_copy_has_the_hashes_of_a_fresh_build() -> None:
    scenario = gitpractice.first_release()
    with gitpractice.sandbox(scenario) as first, gitpractice.sandbox(scenario) as second:
        assert first.path != second.path
        assert first.git("log", "--format=%H").split() == second.git("log", "--format=%H").split()


def test_replay_stops_at_the_first_failing_command_and_prints_a_transcript(capsys) -> None:
    with gitpractice.replay(gitpractice.first_release(), ["git tag v1", "git frobnicate", "git tag v2"]) as lab:
        assert lab.failed is not None and lab.failed.command == "git frobnicate"
        assert [r.command for r in lab.results] == ["git tag v1", "git frobnicate"]
        assert lab.rev("v2") is None
    out = capsys.readouterr().out
    assert "$ git frobnicate" in out and "(exit 1)" in out and "were not run" in out


def test_student_commits_are_deterministic() -> None:
    commands = ["git commit --allow-empty -m 'chore: mine'"]
    shas = []
    for _ in range(2):
        with gitpractice.replay(gitpractice.first_release(), commands, echo=False) as lab:
            shas.append(lab.rev("HEAD"))
            assert lab.git("log", "-1", "--format=%an <%ae>").strip() == "Student <student@example.com>"
    assert shas[0] == shas[1]


def test_a_command_that_hangs_is_stopped() -> None:
    with gitpractice.sandbox(gitpractice.first_release(), timeout=0.5) as lab:
        result = lab.sh("sleep 30", echo=False)
    assert result.returncode == -9 and "stopped after" in result.output


def test_bisect_run_finds_the_culprit_and_the_whole_suite_finds_the_decoy() -> None:
    regression = gitpractice.regression(seed=1)
    with gitpractice.replay(regression.scenario, BISECT, echo=False) as lab:
        assert lab.failed is None
        assert lab.first_bad() == lab.commit(regression.culprit)
        assert not lab.bisecting and lab.repo.branch_name == "main"
    suite = ["git bisect start main v1.4.0", "git bisect run python -m unittest"]
    with gitpractice.replay(regression.scenario, suite, echo=False) as lab:
        assert lab.first_bad() == lab.commit(regression.decoy)
        assert lab.bisecting, "without git bisect reset the session is still open"
    with gitpractice.replay(regression.scenario, ["git bisect start v1.4.0 main"], echo=False) as lab:
        assert lab.failed is not None and "mistook good and bad" in lab.failed.output


def test_regression_histories_differ_by_seed_and_have_about_30_commits() -> None:
    one, two = gitpractice.regression(seed=1), gitpractice.regression(seed=2)
    assert one.scenario.history != two.scenario.history
    commits = [s for s in one.scenario.history if isinstance(s, git.Commit)]
    assert len(commits) == 31  # the v1.4.0 release and 30 after it
    with pytest.raises(ValueError, match="at least 10"):
        gitpractice.regression(commits=5)


def test_revert_keeps_history_and_undoes_only_the_bad_change() -> None:
    scenario = gitpractice.bad_commit_on_trunk()
    with gitpractice.sandbox(scenario) as before:
        old_tip = before.rev("main", where="origin")
        assert before.test_at("main", "python -m unittest -q test_price", where="origin").returncode == 1
    with gitpractice.replay(scenario, REVERT, echo=False) as lab:
        assert old_tip is not None and lab.is_ancestor(old_tip, "main", where="origin")
        assert lab.test_at("main", "python -m unittest -q test_price", where="origin").ok
        price = lab.origin_git("show", "main:shop/price.py")
        assert "shipping_cents" in price, "the later commit's change must survive the revert"
        assert "bench/bench_price.py" not in lab.origin_git("ls-tree", "-r", "--name-only", "main")
    with gitpractice.replay(scenario, ["git reset --hard HEAD~4", "git push --force origin main"], echo=False) as lab:
        assert not lab.is_ancestor(old_tip, "main", where="origin")


def test_hotfix_cherry_pick_and_tag() -> None:
    scenario = gitpractice.hotfix_for_release()
    with gitpractice.replay(scenario, HOTFIX, echo=False) as lab:
        assert lab.failed is None
        assert lab.tag_type("v1.4.1", where="origin") == "tag"
        assert lab.rev("v1.4.1", where="origin") == lab.rev("release/1.4", where="origin")
        fix = lab.commit("fix(price): round half a cent up, not to even")
        assert f"(cherry picked from commit {fix})" in lab.git("log", "-1", "--format=%B", "release/1.4")
        assert lab.test_at("v1.4.1", "python -m unittest -q test_price", where="origin").ok
    with gitpractice.replay(scenario, ["git tag v1.4.1", "git push origin v1.4.1"], echo=False) as lab:
        assert lab.tag_type("v1.4.1", where="origin") == "commit"
        assert lab.tag_type("v1.4.2") is None
    with gitpractice.replay(scenario, ["git cherry-pick -x main~1"], echo=False) as lab:
        assert lab.failed is not None, "the fix is already on main: cherry-picking it there is empty"
