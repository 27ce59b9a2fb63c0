"""Git hooks in scratch repositories: install a hook, attempt a commit that runs it, run pre-commit.

Repositories from :func:`labkit.git.scratch_repo` keep their hooks in ``.git/hooks`` and
:meth:`~labkit.git.ScratchRepo.commit` skips them (``--no-verify``) so that histories replay quickly.
To *prove* that a hook works, install it and attempt a commit that does run it::

    from labkit import git, hooks
    with git.scratch_repo() as repo:
        hooks.install_hook(repo, "commit-msg", HOOK_SOURCE)      # a Python script; shebang = this interpreter
        attempt = hooks.try_commit(repo, "added stuff", files={"app.py": "print('hi')\\n"})
        attempt.accepted, attempt.returncode, attempt.output    # False, 1, "commit-msg: ..."

:func:`pre_commit` runs the `pre-commit <https://pre-commit.com>`_ framework with its cache inside the scratch
repository's temporary home, so nothing is written to your real ``~/.cache``.

:func:`pull_request_history` declares a history of pull-request merges (``Reviewed-by:`` trailers) with a
chosen number of branch-protection violations, for exercises that check a history against protection rules.
"""

from __future__ import annotations

import random
import stat
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from .git import TEAM, Branch, Commit, Merge, ScratchRepo, Step, parse_duration

__all__ = [
    "CLIENT_HOOKS",
    "CommitAttempt",
    "hooks_dir",
    "install_hook",
    "try_commit",
    "pre_commit",
    "pull_request_history",
]

#: Client-side hooks git runs during commits, merges, rebases, checkouts and pushes (``githooks(5)``).
CLIENT_HOOKS: frozenset[str] = frozenset(
    {
        "applypatch-msg",
        "pre-applypatch",
        "post-applypatch",
        "pre-commit",
        "pre-merge-commit",
        "prepare-commit-msg",
        "commit-msg",
        "post-commit",
        "pre-rebase",
        "post-checkout",
        "post-merge",
        "pre-push",
        "post-rewrite",
        "pre-auto-gc",
        "reference-transaction",
        "push-to-checkout",
    }
)

_TIMEOUT = 180
#: Variables that force colours on (Jupyter kernels set some): hook output is shown as plain text instead.
_FORCE_COLOUR = ("FORCE_COLOR", "CLICOLOR_FORCE", "PY_COLORS", "PRE_COMMIT_COLOR")


def _plain(env: dict[str, str]) -> dict[str, str]:
    for key in _FORCE_COLOUR:
        env.pop(key, None)
    env.update(NO_COLOR="1", PRE_COMMIT_COLOR="never", PYTHONDONTWRITEBYTECODE="1")
    return env


def hooks_dir(repo: ScratchRepo) -> Path:
    """The folder git reads hooks from in ``repo`` (``core.hooksPath`` respected)."""
    out = repo.git("rev-parse", "--git-path", "hooks").strip()
    path = Path(out)
    return path if path.is_absolute() else repo.path / path


def install_hook(repo: ScratchRepo, name: str, source: str, *, python: str | None = None) -> Path:
    """Write ``source`` as the executable hook ``name`` of ``repo`` and return its path.

    Without a ``#!`` line, ``source`` is taken as a Python script: it is compiled first (a syntax error is
    reported here, with its line, instead of at commit time) and gets the shebang ``#!<python>`` — by default
    this kernel's own interpreter (``sys.executable``), so the hook can import what the notebook can.
    """
    if name not in CLIENT_HOOKS:
        close = sorted(h for h in CLIENT_HOOKS if h.replace("-", "") == name.replace("-", "").replace("_", ""))
        tip = f"did you mean {close[0]!r}?" if close else "check the spelling (see `git help hooks`)"
        raise ValueError(f"{name!r} is not a git hook name: expected one of {', '.join(sorted(CLIENT_HOOKS))}; {tip}")
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"the {name} hook's source must be a non-empty string of code, got {source!r}")
    text = source.lstrip("\n")
    if not text.startswith("#!"):
        try:
            compile(text, f"<{name} hook>", "exec")
        except SyntaxError as err:
            raise ValueError(
                f"the {name} hook is not valid Python: {err.msg} on line {err.lineno} "
                f"({(err.text or '').strip()!r}); fix the script and install it again"
            ) from None
        text = f"#!{python or sys.executable}\n{text}"
    if not text.endswith("\n"):
        text += "\n"
    folder = hooks_dir(repo)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_text(text)
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return target


@dataclass(frozen=True)
class CommitAttempt:
    """What happened when a commit was attempted with hooks enabled."""

    message: str
    accepted: bool
    returncode: int
    output: str  #: git's and the hooks' standard output and standard error, together
    sha: str | None  #: the new commit when accepted, else None

    def __str__(self) -> str:
        verdict = f"accepted as {self.sha[:7]}" if self.accepted and self.sha else f"REJECTED (exit {self.returncode})"
        first = self.message.splitlines()[0] if self.message else ""
        return f"commit {first!r}: {verdict}\n{self.output.rstrip()}".rstrip()


def _head(repo: ScratchRepo) -> str | None:
    proc = repo.run("rev-parse", "--verify", "-q", "HEAD", check=False)
    return proc.stdout.strip() or None


def try_commit(
    repo: ScratchRepo,
    message: str,
    files: Mapping[str, str | None] | None = None,
    *,
    author: str = "alice",
    after: str | int | float | timedelta = "1h",
    allow_empty: bool = False,
) -> CommitAttempt:
    """Write and stage ``files`` (``None`` deletes one), then ``git commit -m message`` WITH hooks.

    Only the given files are staged (never ``git add -A``), as a careful developer would. Without ``files`` a
    line is appended to ``CHANGELOG.md``. A rejected commit leaves the changes staged, exactly as git does.
    """
    if not isinstance(message, str):
        raise TypeError(f"the commit message must be a str, got {type(message).__name__}")
    repo.clock.advance(parse_duration(after))
    if files is None and not allow_empty:
        files = {"CHANGELOG.md": repo._changelog_line(message or "(empty)")}
    for path, content in (files or {}).items():
        if content is None:
            repo.git("rm", "-q", "--", path)
        else:
            repo.write(path, content)
            repo.git("add", "--", path)
    before = _head(repo)
    args = ["git", "commit", "-q", "-m", message]
    if allow_empty:
        args.append("--allow-empty")
    env = _plain(repo.env_for(author))  # no colour codes; hooks that run Python leave no __pycache__
    env["PRE_COMMIT_HOME"] = str(repo.home / "pre-commit-cache")  # a framework-installed hook caches here
    proc = subprocess.run(args, cwd=repo.path, env=env, text=True, capture_output=True, timeout=_TIMEOUT)
    after_head = _head(repo)
    accepted = proc.returncode == 0 and after_head != before
    return CommitAttempt(
        message=message,
        accepted=accepted,
        returncode=proc.returncode,
        output=(proc.stdout + proc.stderr),
        sha=after_head if accepted else None,
    )


def pre_commit(repo: ScratchRepo, *args: str, timeout: float = _TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run ``pre-commit <args>`` (default ``run --all-files``) in ``repo``; never raises on a failing hook.

    The framework's cache (``PRE_COMMIT_HOME``) lives in the repository's temporary home and colours are off.
    Use local hooks only (``repo: local`` with ``language: system`` or ``pygrep``): they need no download.
    """
    env = _plain(repo.env_for(None))
    env["PRE_COMMIT_HOME"] = str(repo.home / "pre-commit-cache")
    cmd = [sys.executable, "-m", "pre_commit", *(args or ("run", "--all-files"))]
    try:
        return subprocess.run(cmd, cwd=repo.path, env=env, text=True, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as err:
        raise RuntimeError(
            f"`pre-commit {' '.join(args)}` ran longer than {timeout:.0f} s: does a hook wait for "
            "input or the network? Use local hooks that finish quickly"
        ) from err


# -- pull-request histories for branch-protection exercises --------------------------------------------------
_AREAS = ["api", "auth", "cart", "search", "billing", "ui", "db", "docs"]


def _trailer(who: str) -> str:
    person = TEAM[who]
    return f"Reviewed-by: {person.name} <{person.email}>"


def pull_request_history(
    *,
    prs: int = 10,
    seed: int = 1,
    authors: Sequence[str] = ("alice", "bob", "carol", "dave"),
    direct_commits: int = 2,
    unreviewed: int = 1,
    self_reviewed: int = 1,
) -> list[Step]:
    """Steps for a ``main`` made of ``prs`` pull-request merges (merge commits), reproducible from ``seed``.

    Every merge commit is authored by the pull request's author, and its message is
    ``Merge pull request #N from <branch>``, a blank line, the PR title, and ``Reviewed-by:`` trailers.
    Exactly ``unreviewed`` merges carry no review, exactly ``self_reviewed`` are reviewed only by their own
    author, and ``direct_commits`` commits land on ``main`` without a pull request. The remaining merges are
    approved by one or two other people.
    """
    for label, value in (
        ("prs", prs),
        ("direct_commits", direct_commits),
        ("unreviewed", unreviewed),
        ("self_reviewed", self_reviewed),
    ):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{label} must be a non-negative int, got {value!r}")
    if unreviewed + self_reviewed > prs:
        raise ValueError(f"unreviewed + self_reviewed ({unreviewed + self_reviewed}) cannot exceed prs ({prs})")
    people = list(authors)
    if len(people) < 3 or any(p not in TEAM for p in people):
        raise ValueError(f"authors must be at least three of {sorted(TEAM)}, got {people!r}")
    rng = random.Random(seed)
    kinds = ["unreviewed"] * unreviewed + ["self"] * self_reviewed + ["ok"] * (prs - unreviewed - self_reviewed)
    rng.shuffle(kinds)
    slots = sorted(rng.sample(range(prs + direct_commits), direct_commits)) if direct_commits else []
    steps: list[Step] = []
    pr = 0
    for slot in range(prs + direct_commits):
        if slot in slots:
            who = rng.choice(people)
            area = rng.choice(_AREAS)
            steps.append(
                Commit(
                    f"fix({area}): quick fix pushed straight to main",
                    author=who,
                    files={f"src/{area}/hotfix_{slot:03d}.py": f"HOTFIX = {slot}\n"},
                    after=f"{rng.randint(20, 120)}m",
                )
            )
            continue
        kind = kinds[pr]
        pr += 1
        who = rng.choice(people)
        area = rng.choice(_AREAS)
        verb = rng.choice(["feat", "feat", "fix", "refactor", "docs"])
        title = f"{verb}({area}): change number {pr}"
        branch = f"{who}/{area}-{pr:02d}"
        steps.append(Branch(branch))
        for k in range(rng.randint(1, 3)):
            steps.append(
                Commit(
                    f"{verb}({area}): step {k + 1} of change {pr}",
                    author=who,
                    files={f"src/{area}/change_{pr:03d}_{k}.py": f"VALUE = {pr * 10 + k}\n"},
                    after=f"{rng.randint(15, 90)}m",
                )
            )
        if kind == "unreviewed":
            reviewers: list[str] = []
        elif kind == "self":
            reviewers = [who]
        else:
            others = [p for p in people if p != who]
            reviewers = rng.sample(others, rng.choice([1, 1, 2]))
        trailers = "\n".join(_trailer(r) for r in reviewers)
        message = f"Merge pull request #{pr} from {branch}\n\n{title}" + (f"\n\n{trailers}" if trailers else "")
        steps.append(Merge(branch, author=who, message=message, after=f"{rng.randint(30, 240)}m"))
    return steps
