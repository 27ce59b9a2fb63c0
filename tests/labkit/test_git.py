"""labkit.git: isolation, determinism, declarative histories, generated team histories, teammates."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from labkit import git


def test_scratch_repo_is_isolated_and_removed(tmp_path, monkeypatch):
    # a hostile global config must not leak in (signing, another default branch, hooks, identity)
    hostile = tmp_path / "gitconfig"
    hostile.write_text("[commit]\n\tgpgsign = true\n[init]\n\tdefaultBranch = master\n"
                       "[user]\n\tname = Host User\n\temail = host@example.org\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(hostile))
    monkeypatch.setenv("HOME", str(tmp_path))
    with git.scratch_repo() as repo:
        path = repo.path
        assert repo.branch_name == "main"
        assert repo.log("%an <%ae>") == ["Alice Ahmed <alice@example.com>"]
        assert repo.git("config", "--get", "commit.gpgsign").strip() == "false"
        assert not str(path).startswith(str(Path.cwd()))
    assert not path.exists()


def test_scratch_repo_cleans_up_on_error():
    with pytest.raises(RuntimeError), git.scratch_repo() as repo:
        path = repo.path
        raise RuntimeError("student code failed")
    assert not path.exists()


def test_same_inputs_give_same_hashes_and_dates():
    steps = [git.Commit("feat: a", author="bob", after="2h"), git.Tag("v1.0.0")]
    with git.scratch_repo(steps) as r1, git.scratch_repo(steps) as r2:
        assert r1.head == r2.head
        assert r1.rev_parse("v1.0.0") == r2.rev_parse("v1.0.0")
        assert r1.git("cat-file", "-p", "v1.0.0") == r2.git("cat-file", "-p", "v1.0.0")
        # bob lives at UTC-5: his author date carries his zone; 09:00Z + 2h = 11:00Z = 06:00-05:00
        assert r1.log("%aI")[0] == "2026-01-05T06:00:00-05:00"


def test_declarative_history_with_branches_merges_tags_and_reverts():
    steps = [
        git.Commit("feat(api): add orders", author="alice", files={"api.py": "ORDERS = []\n"}),
        git.Branch("bob/fix-typo"),
        git.Commit("fix(api): typo", author="bob", files={"api.py": "ORDERS = []  # fixed\n"}),
        git.Merge("bob/fix-typo", author="carol"),
        git.Tag("v1.0.0"),
        git.Commit("feat: risky", author="dave", files={"risky.py": "RISK = 1\n"}),
        git.Tag("v1.1.0"),
        git.Revert("HEAD", author="erin"),
        git.Tag("v1.1.1", lightweight=True),
    ]
    with git.scratch_repo(steps) as repo:
        subjects = repo.log("%s")
        assert subjects[0] == 'Revert "feat: risky"'
        assert "Merge branch 'bob/fix-typo'" in subjects
        assert repo.branches() == ["main"]  # merged branch deleted
        assert repo.tags() == ["v1.0.0", "v1.1.0", "v1.1.1"]
        assert not (repo.path / "risky.py").exists()
        merge = repo.log("%P", "HEAD~2")  # the merge commit has two parents
        assert len(repo.log("%P", "v1.0.0")[0].split()) == 2
        assert merge
        assert repo.git("cat-file", "-t", "v1.1.1").strip() == "commit"  # lightweight
        assert repo.git("cat-file", "-t", "v1.1.0").strip() == "tag"  # annotated, with a tagger date


def test_failing_step_names_the_step():
    with git.scratch_repo() as repo, pytest.raises(git.GitError, match=r"step 0 .*Merge.*no-such-branch"):
        repo.apply([git.Merge("no-such-branch")])


def test_unknown_author_and_bad_duration_are_explained():
    with git.scratch_repo() as repo:
        with pytest.raises(ValueError, match="unknown author 'zed'"):
            repo.commit("feat: x", author="zed")
        with pytest.raises(ValueError, match="duration"):
            repo.commit("feat: x", after="soon")


def test_write_outside_repository_is_refused():
    with git.scratch_repo() as repo, pytest.raises(ValueError, match="outside"):
        repo.write("../escape.txt", "x")


@pytest.mark.parametrize("value,expected", [("90m", timedelta(minutes=90)), ("2h", timedelta(hours=2)),
                                            ("1.5d", timedelta(hours=36)), (30, timedelta(seconds=30)),
                                            (timedelta(days=1), timedelta(days=1))])
def test_parse_duration(value, expected):
    assert git.parse_duration(value) == expected


def test_clock_is_monotonic_and_needs_a_time_zone():
    clock = git.Clock()
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-5)
    with pytest.raises(ValueError, match="time zone"):
        git.Clock(datetime(2026, 1, 1))
    start = datetime(2026, 3, 1, tzinfo=UTC)
    assert git.Clock(start).git_date(-330) == f"@{int(start.timestamp())} -0530"


def test_trunk_history_is_reproducible_and_trunk_like():
    steps = git.team_history(days=5, seed=7)
    assert steps == git.team_history(days=5, seed=7)
    assert steps != git.team_history(days=5, seed=8)
    with git.scratch_repo(steps) as repo:
        authors = set(repo.log("%an"))
        assert len(authors) >= 3
        tags = repo.tags()
        assert len([t for t in tags if t.endswith(".0")]) == 5  # one release a day
        assert repo.branches() == ["main"]  # every short-lived branch merged and deleted
        merges = [p for p in repo.log("%P") if len(p.split()) == 2]
        assert merges


def test_trunk_history_has_failures_remediated_by_revert_or_hotfix():
    steps = git.team_history(days=20, seed=3, failure_rate=0.5)
    with git.scratch_repo(steps) as repo:
        subjects = repo.log("%s")
        remediations = [s for s in subjects if s.startswith('Revert "') or s.startswith("fix: hotfix")]
        patch_tags = [t for t in repo.tags() if not t.endswith(".0")]
        assert remediations and len(patch_tags) == len(remediations)


def test_gitflow_history_has_long_lived_branches_and_develop():
    with git.scratch_repo(git.team_history(days=12, seed=2, style="gitflow")) as repo:
        assert "develop" in repo.branches()
        assert any(b.startswith("feature/") for b in repo.branches())  # still open at the end
        assert repo.branch_name == "main"


def test_team_history_rejects_bad_arguments():
    with pytest.raises(ValueError, match="style"):
        git.team_history(style="yolo")
    with pytest.raises(ValueError, match="days"):
        git.team_history(days=0)


def test_teammate_pushes_to_trunk_and_student_rebases():
    with git.scratch_repo(remote=True) as repo:
        bob = repo.teammate("bob")
        bob.push_commit("feat: bob's change", files={"bob.txt": "hi\n"})
        repo.commit("feat: my change", files={"me.txt": "me\n"})
        rejected = repo.run("push", "origin", "main", check=False)
        assert rejected.returncode != 0  # trunk moved on
        repo.git("pull", "-q", "--rebase", "origin", "main", who="alice")
        repo.git("push", "-q", "origin", "main")
        assert repo.log("%s")[:2] == ["feat: my change", "feat: bob's change"]


def test_teammate_needs_a_remote():
    with git.scratch_repo() as repo, pytest.raises(ValueError, match="remote=True"):
        repo.teammate("bob")


def test_isolated_env_drops_git_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("GIT_DIR", "/somewhere/else")
    env = git.isolated_env(tmp_path)
    assert "GIT_DIR" not in env and env["GIT_CONFIG_GLOBAL"] == os.devnull
    out = subprocess.run(["git", "config", "--global", "--list"], env=env, capture_output=True, text=True)
    assert out.stdout == ""


def test_gitpython_view_of_the_same_repository():
    with git.scratch_repo([git.Commit("feat: x")]) as repo:
        gp = repo.gitpython()
        assert gp.head.commit.hexsha == repo.head
        assert gp.active_branch.name == "main"
