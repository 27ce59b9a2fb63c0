"""labkit.forge: the origin's pre-receive hook enforces each protection rule, and sh() runs real commands."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from labkit import forge, git
from labkit.forge import Forge, Protection, local_forge

CAROL = "Reviewed-by: Carol Chen <carol@example.com>"


def _commit(f: Forge, message: str, path: str = "cart.py", content: str = "ITEMS = []\n") -> None:
    f.write(path, content)
    msg = message.replace("'", "'\\''")
    result = f.sh(f"git add {path} && git commit -q -m '{msg}'")
    assert result.ok, result


def _rejected(f: Forge, push: str = "git push origin main") -> str:
    before = f.origin_sha("main")
    result = f.sh(push)
    assert not result.ok, f"the push should have been rejected:\n{result}"
    assert f.origin_sha("main") == before, "a rejected push must leave the origin's main where it was"
    return result.output


def test_a_conventional_reviewed_commit_is_accepted() -> None:
    with local_forge() as f:
        _commit(f, f"feat(cart): add a cart\n\n{CAROL}")
        result = f.sh("git push origin main")
        assert result.ok, result
        assert f.origin_sha("main") == f.repo.head
        assert f.pushes()[-1]["accepted"] is True and f.pushes()[-1]["reasons"] == []


def test_a_non_conventional_message_is_rejected_with_the_reason_shown_as_remote() -> None:
    with local_forge() as f:
        _commit(f, f"added a cart\n\n{CAROL}")
        out = _rejected(f)
        assert "remote: protection:" in out and "'added a cart' is not a Conventional Commit" in out
        assert "has no review" not in out  # only the broken rule is named
        assert "pre-receive hook declined" in out
        assert f.pushes()[-1]["accepted"] is False


@pytest.mark.parametrize("subject", ["Feat: add a cart", "feature: add a cart", "feat:add a cart", "feat(): x"])
def test_wrong_types_and_shapes_are_not_conventional(subject: str) -> None:
    with local_forge() as f:
        _commit(f, f"{subject}\n\n{CAROL}")
        assert "is not a Conventional Commit" in _rejected(f)


def test_a_missing_review_trailer_is_rejected() -> None:
    with local_forge() as f:
        _commit(f, "feat(cart): add a cart")
        out = _rejected(f)
        assert "has no review" in out and "Reviewed-by: Name <email>" in out
        assert "not a Conventional Commit" not in out


def test_a_self_review_does_not_count() -> None:
    with local_forge() as f:
        _commit(f, "feat(cart): add a cart\n\nReviewed-by: Alice Ahmed <ALICE@example.com>")
        assert "other than its author (alice@example.com)" in _rejected(f)


@pytest.mark.parametrize("message", [
    f"feat(cart): add a cart {CAROL}",  # in the subject line
    f"feat(cart): add a cart\n\n{CAROL}\n\nA paragraph after the trailer.",  # not the last paragraph
    "feat(cart): add a cart\n\nReviewed-by: Carol Chen",  # no <email>
])
def test_a_review_must_be_a_real_trailer_with_an_email(message: str) -> None:
    with local_forge() as f:
        _commit(f, message)
        assert "has no review" in _rejected(f)


def test_every_new_commit_is_checked_not_only_the_last() -> None:
    with local_forge() as f:
        _commit(f, "wip")
        _commit(f, f"feat(cart): add a cart\n\n{CAROL}", content="ITEMS = [1]\n")
        out = _rejected(f)
        assert "'wip'" in out and "'feat(cart): add a cart'" not in out


def test_a_force_push_to_main_is_rejected_but_allowed_on_other_branches() -> None:
    with local_forge() as f:
        f.teammate("bob").push_commit(f"docs: readme\n\n{CAROL}", files={"README.md": "# Shop\n"})
        _commit(f, f"feat(cart): add a cart\n\n{CAROL}")
        assert "fetch first" in _rejected(f)  # git itself refuses a non-fast-forward push
        out = _rejected(f, "git push --force origin main")
        assert "force-push to main refused" in out and "1 commit(s)" in out
        assert f.sh("git push -q origin HEAD:alice/cart").ok
        assert f.sh("git commit -q --amend -m 'feat(cart): a cart'").ok
        assert f.sh("git push -q --force origin HEAD:alice/cart").ok, "feature branches are not protected"
        assert f.origin_sha("alice/cart") == f.repo.head


def test_deleting_the_protected_branch_is_rejected_unless_allowed() -> None:
    release = [git.Branch("release/1.x"), git.Commit("fix: backport", files={"fix.py": "X = 1\n"})]
    for allowed in (False, True):
        with local_forge(release, protection=Protection(branch="release/1.x", allow_deletion=allowed)) as f:
            result = f.sh("git push origin --delete release/1.x")
            assert result.ok is allowed, result
            assert ("release/1.x is protected: it cannot be deleted" in result.output) is not allowed
            assert (f.origin_sha("release/1.x") is None) is allowed
            assert f.sh("git switch -q main && git commit -q --amend -m 'rewritten'").ok
            assert f.sh("git push -q --force origin main").ok, "only the protected branch is protected"


def test_merge_commits_are_rejected_only_when_linear_history_is_required() -> None:
    for linear in (True, False):
        with local_forge(protection=Protection(linear_history=linear)) as f:
            f.teammate("bob").push_commit(f"docs: readme\n\n{CAROL}", files={"README.md": "# Shop\n"})
            _commit(f, f"feat(cart): add a cart\n\n{CAROL}")
            assert f.sh("git fetch -q origin && git merge -q --no-ff --no-edit origin/main").ok
            if linear:
                out = _rejected(f)
                assert "is a merge commit" in out and "requires a linear history" in out
            else:
                result = f.sh("git push origin main")
                assert result.ok, result
                assert f.origin_git("log", "-1", "--format=%P", "main").count(" ") == 1


def test_rules_can_be_switched_off() -> None:
    with local_forge(protection=Protection(conventional=False, reviewed_by=False)) as f:
        _commit(f, "added a cart")
        assert f.sh("git push -q origin main").ok


def test_a_teammates_push_passes_through_the_same_protection() -> None:
    with local_forge() as f:
        bob = f.teammate("bob")
        with pytest.raises(git.GitError, match="not a Conventional Commit"):
            bob.push_commit("stuff")
        bob.repo.git("reset", "-q", "--hard", "origin/main")
        sha = bob.push_commit(f"docs: readme\n\n{CAROL}", files={"README.md": "# Shop\n"})
        assert f.origin_sha("main") == sha


def test_a_concurrent_push_gives_a_real_merge_conflict() -> None:
    with local_forge([git.Commit("feat: features", files={"features.txt": "search\n"})]) as f:
        f.teammate("bob").push_commit(f"feat: wishlist\n\n{CAROL}", files={"features.txt": "search\nwishlist\n"})
        _commit(f, f"feat: dark mode\n\n{CAROL}", path="features.txt", content="search\ndark-mode\n")
        rebase = f.sh("git pull --rebase origin main")
        assert not rebase.ok and "CONFLICT (content)" in rebase.output
        assert "<<<<<<<" in f.read("features.txt")
        f.write("features.txt", "search\nwishlist\ndark-mode\n")
        assert f.sh("git add features.txt && git rebase --continue").ok
        assert f.sh("git push -q origin main").ok
        assert f.origin_git("show", "main:features.txt") == "search\nwishlist\ndark-mode\n"


def test_sh_runs_exactly_what_is_written_and_never_raises() -> None:
    with local_forge() as f:
        result = f.sh("echo one; git rev-parse --abbrev-ref HEAD; exit 3")
        assert (result.returncode, result.output) == (3, "one\nmain\n")
        assert not result.ok and str(result).endswith("[exit 3]") and str(result).startswith("$ echo one")
        assert f.transcript == [result]
        assert f.sh("git config user.email").output.strip() == "lab-bot@example.com"
        assert f.sh("echo $GIT_AUTHOR_NAME").output.strip() == "Alice Ahmed"
        assert [r.ok for r in f.run_all(["true", "false"])] == [True, False]
        with pytest.raises(TypeError, match="list of command lines"):
            f.run_all("git status")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="one command line"):
            f.sh("  ")


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie, killed but not yet reaped by init, does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_sh_stops_a_command_that_hangs_and_everything_it_started() -> None:
    with local_forge() as f:
        result = f.sh("sleep 30 & echo $! > child.pid; wait", timeout=0.5)
        assert not result.ok and "stopped after 0.5 s" in result.output
        pid = int(f.read("child.pid"))
        for _ in range(50):  # SIGKILL is asynchronous: give the kernel a moment (bounded)
            if not _alive(pid):
                break
            time.sleep(0.05)
        assert not _alive(pid), "the command's child survived"


def test_the_same_commands_give_the_same_hashes_and_everything_is_removed() -> None:
    heads = []
    for _ in range(2):
        with local_forge() as f:
            _commit(f, f"feat(cart): add a cart\n\n{CAROL}")
            f.sh("git push -q origin main")
            heads.append(f.origin_sha("main"))
            root = f.origin.parent
        assert not root.exists()
    assert heads[0] == heads[1] and heads[0] is not None


def test_history_branches_are_pushed_and_you_are_back_on_main() -> None:
    steps = [git.Branch("alice/search"), git.Commit("feat: search", files={"search.py": "X = 1\n"})]
    with local_forge(steps) as f:
        assert f.repo.branch_name == "main"
        assert f.origin_sha("alice/search") == f.repo.rev_parse("alice/search")
        assert f.sh("git rev-parse --abbrev-ref alice/search@{upstream}").output.strip() == "origin/alice/search"
        assert f.origin_sha("no-such-branch") is None


def test_the_hook_is_a_real_executable_run_by_git() -> None:
    with local_forge() as f:
        hook = f.origin / "hooks" / "pre-receive"
        assert os.access(hook, os.X_OK) and hook.read_text().startswith("#!")
        proc = subprocess.run([str(hook)], cwd=f.origin, input=f"{'0' * 40} {'1' * 40} refs/heads/other\n",
                              text=True, capture_output=True, timeout=30)
        assert proc.returncode == 0, proc.stderr


def test_bad_input_gets_a_clear_error() -> None:
    with pytest.raises(ValueError, match="short name"):
        Protection(branch="refs/heads/main")
    with pytest.raises(ValueError, match="lower-case words"):
        Protection(types=("Feat",))
    with pytest.raises(ValueError, match="unknown author"), local_forge(you="zoe"):
        pass
    with local_forge() as f, pytest.raises(ValueError, match="is you"):
        f.teammate("alice")
    with local_forge() as f, pytest.raises(ValueError, match="not a bare git repository"):
        forge.install_protection(f.path, Protection())
