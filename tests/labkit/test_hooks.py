import os
import sys

import pytest
import yaml

from labkit import git, hooks

REJECT_ALL = """
import sys
message = open(sys.argv[1]).read()
print(f"commit-msg: rejected {message.splitlines()[0]!r}", file=sys.stderr)
sys.exit(1)
"""

ACCEPT_FEAT = """
import sys
first = open(sys.argv[1]).read().splitlines()[0]
if not first.startswith("feat"):
    sys.exit(f"commit-msg: {first!r} does not start with feat")
"""


def test_install_hook_adds_this_interpreter_as_shebang_and_makes_it_executable():
    with git.scratch_repo() as repo:
        path = hooks.install_hook(repo, "commit-msg", ACCEPT_FEAT)
        assert path == repo.path / ".git" / "hooks" / "commit-msg"
        text = path.read_text()
        assert text.splitlines()[0] == f"#!{sys.executable}"
        assert os.access(path, os.X_OK)


def test_install_hook_keeps_an_explicit_shebang():
    with git.scratch_repo() as repo:
        path = hooks.install_hook(repo, "pre-commit", "#!/bin/sh\nexit 0")
        assert path.read_text() == "#!/bin/sh\nexit 0\n"


@pytest.mark.parametrize(
    "name, match",
    [
        ("pre_commit", "did you mean 'pre-commit'"),
        ("precommit", "did you mean 'pre-commit'"),
        ("on-save", "check the spelling"),
    ],
)
def test_install_hook_rejects_unknown_names_with_a_tip(name, match):
    with git.scratch_repo() as repo, pytest.raises(ValueError, match=match):
        hooks.install_hook(repo, name, "print(1)")


def test_install_hook_reports_a_python_syntax_error_with_its_line():
    with git.scratch_repo() as repo, pytest.raises(ValueError, match="line 2"):
        hooks.install_hook(repo, "commit-msg", "import sys\ndef broken(:\n")
    with git.scratch_repo() as repo, pytest.raises(ValueError, match="non-empty"):
        hooks.install_hook(repo, "commit-msg", "   ")


def test_try_commit_runs_the_hook_and_reports_a_rejection():
    with git.scratch_repo() as repo:
        before = repo.head
        hooks.install_hook(repo, "commit-msg", REJECT_ALL)
        attempt = hooks.try_commit(repo, "added stuff", files={"a.txt": "a\n"})
        assert not attempt.accepted and attempt.returncode == 1 and attempt.sha is None
        assert "rejected 'added stuff'" in attempt.output
        assert repo.head == before
        assert "REJECTED" in str(attempt)
        # the change stays staged, as git leaves it
        assert repo.git("diff", "--cached", "--name-only").split() == ["a.txt"]


def test_try_commit_accepts_and_returns_the_new_sha():
    with git.scratch_repo() as repo:
        hooks.install_hook(repo, "commit-msg", ACCEPT_FEAT)
        attempt = hooks.try_commit(repo, "feat: add a", files={"a.txt": "a\n"}, author="bob")
        assert attempt.accepted and attempt.returncode == 0
        assert attempt.sha == repo.head
        assert repo.log("%an %s", "-1") == ["Bob Brown feat: add a"]
        rejected = hooks.try_commit(repo, "fix: b")  # default change: a CHANGELOG line
        assert not rejected.accepted and "does not start with feat" in rejected.output


def test_try_commit_stages_only_the_given_files_and_can_delete():
    with git.scratch_repo() as repo:
        repo.write("untracked.txt", "keep me out\n")
        attempt = hooks.try_commit(repo, "chore: remove readme", files={"README.md": None, "b.txt": "b\n"})
        assert attempt.accepted
        assert repo.git("show", "--name-status", "--format=", "HEAD").split() == [
            "D",
            "README.md",
            "A",
            "b.txt",
        ]
        assert "untracked.txt" in repo.git("status", "--porcelain")


def test_pre_commit_runs_local_hooks_offline_with_a_private_cache():
    config = {
        "repos": [
            {
                "repo": "local",
                "hooks": [
                    {
                        "id": "no-breakpoints",
                        "name": "no breakpoint()",
                        "language": "pygrep",
                        "entry": r"breakpoint\(\)",
                        "types": ["python"],
                    },
                    {
                        "id": "always-true",
                        "name": "a system command",
                        "language": "system",
                        "entry": f"{sys.executable} -c pass",
                        "pass_filenames": False,
                    },
                ],
            }
        ]
    }
    with git.scratch_repo() as repo:
        repo.commit(
            "chore: add config", files={".pre-commit-config.yaml": yaml.safe_dump(config), "ok.py": "x = 1\n"}
        )
        ok = hooks.pre_commit(repo)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert "Passed" in ok.stdout
        repo.commit("chore: debug", files={"bad.py": "breakpoint()\n"})
        bad = hooks.pre_commit(repo)
        assert bad.returncode == 1 and "bad.py:1:breakpoint()" in bad.stdout
        assert (repo.home / "pre-commit-cache").exists()
        assert hooks.pre_commit(repo, "validate-config", ".pre-commit-config.yaml").returncode == 0


def _violations(repo: git.ScratchRepo) -> dict[str, int]:
    counts = {"direct": 0, "unreviewed": 0, "self": 0, "ok": 0}
    lines = repo.git(
        "log",
        "--first-parent",
        "--format=%P%x1f%ae%x1f%(trailers:key=Reviewed-by,valueonly,separator=%x1e)%x1d",
        "main",
    ).split("\x1d")
    for line in filter(str.strip, lines):
        parents, author, reviewers = line.strip("\n").split("\x1f")
        if len(parents.split()) < 2:
            counts["direct"] += 1
            continue
        emails = [r.split("<")[1].rstrip(">") for r in reviewers.split("\x1e") if r]
        counts["unreviewed" if not emails else "self" if set(emails) == {author} else "ok"] += 1
    return counts


@pytest.mark.parametrize("seed", [1, 2])
def test_pull_request_history_has_exactly_the_declared_violations(seed):
    steps = hooks.pull_request_history(prs=8, seed=seed, direct_commits=3, unreviewed=2, self_reviewed=1)
    assert steps == hooks.pull_request_history(
        prs=8, seed=seed, direct_commits=3, unreviewed=2, self_reviewed=1
    )
    with git.scratch_repo(steps) as repo:
        # +1 direct commit: the scratch repository's root commit
        assert _violations(repo) == {"direct": 4, "unreviewed": 2, "self": 1, "ok": 5}
        assert repo.branches() == ["main"]
        assert repo.log("%s", "--merges", "-1")[0].startswith("Merge pull request #8 from ")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"prs": -1}, "non-negative"),
        ({"prs": 1, "unreviewed": 2}, "exceed"),
        ({"authors": ("alice", "bob")}, "at least three"),
    ],
)
def test_pull_request_history_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        hooks.pull_request_history(**kwargs)


def test_hook_output_is_plain_text_even_when_the_kernel_forces_colours(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("CLICOLOR_FORCE", "1")
    show_env = (
        "import os, sys\n"
        "print(os.environ.get('FORCE_COLOR'), os.environ.get('NO_COLOR'), file=sys.stderr)\n"
        "sys.exit(1)\n"
    )
    with git.scratch_repo() as repo:
        hooks.install_hook(repo, "pre-commit", show_env)
        attempt = hooks.try_commit(repo, "fix: x")
        assert not attempt.accepted and "None 1" in attempt.output


def test_a_framework_installed_hook_blocks_a_real_commit():
    config = {
        "repos": [
            {
                "repo": "local",
                "hooks": [
                    {
                        "id": "no-breakpoints",
                        "name": "no breakpoint()",
                        "language": "pygrep",
                        "entry": r"breakpoint\(\)",
                        "types": ["python"],
                    }
                ],
            }
        ]
    }
    with git.scratch_repo(
        [git.Commit("chore: config", files={".pre-commit-config.yaml": yaml.safe_dump(config)})]
    ) as repo:
        refused = hooks.pre_commit(repo, "install")
        assert refused.returncode != 0 and "core.hooksPath" in refused.stdout + refused.stderr
        repo.git("config", "--unset", "core.hooksPath")
        assert hooks.pre_commit(repo, "install").returncode == 0
        blocked = hooks.try_commit(repo, "feat: debug", files={"app.py": "breakpoint()\n"})
        assert not blocked.accepted and "app.py:1:breakpoint()" in blocked.output
        assert "\x1b[" not in blocked.output
        repo.git("reset", "-q", "--hard")
        assert hooks.try_commit(repo, "feat: app", files={"app.py": "X = 1\n"}).accepted
        assert (repo.home / "pre-commit-cache").is_dir()
