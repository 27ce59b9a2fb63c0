"""A local forge: a bare ``origin`` on disk whose server-side hook makes branch protection real.

Hooks on a developer's machine are a courtesy (``--no-verify`` skips them); a forge such as GitHub enforces
protection on the *server*, when a push arrives. This module does the same on disk, with git's own mechanism:
the bare repository ``origin.git`` gets an executable ``pre-receive`` hook (a Python script run by git, with
this interpreter) that reads the rules from ``forge-protection.json`` and refuses a push to the protected
branch when

* a new commit's first line is not a Conventional Commit of an allowed type (``conventional``);
* a new commit has no ``Reviewed-by:`` trailer naming someone other than its author (``reviewed_by``);
* a merge commit arrives while a linear history is required (``linear_history``);
* the push would rewrite the branch (``git push --force``; ``allow_force_push``) or delete it
  (``allow_deletion``).

Git shows the hook's words to the pusher prefixed with ``remote:``, exactly as a real forge's messages are
shown. Every decision is also appended to ``forge-log.jsonl`` in the origin (:meth:`Forge.pushes`), so that a
check can tell *why* the remote is where it is.

A student types real commands; :meth:`Forge.sh` runs exactly the command line given (``bash -c``) in the
student's clone, with the isolated configuration of :mod:`labkit.git`, and returns what git printed::

    from labkit import forge
    with forge.local_forge() as f:                       # origin.git + your clone of it (on main)
        f.write("cart.py", "ITEMS = []\\n")
        print(f.sh("git add cart.py && git commit -q -m 'added a cart'"))
        print(f.sh("git push origin main"))              # remote: protection: ... rejected
        f.teammate("bob").push_commit("feat: ...\\n\\nReviewed-by: Carol Chen <carol@example.com>")
        f.origin_git("log", "--format=%s", "main")        # inspect the server's state

Everything (origin, clones, home directory) lives in one temporary directory removed when the block ends.
Commands run with a deterministic clock (one minute per command), so the same commands give the same hashes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .git import DEFAULT_START, ScratchRepo, Step, Teammate, scratch_repo

__all__ = [
    "ALLOWED_TYPES",
    "PRE_RECEIVE",
    "Forge",
    "Protection",
    "ShellResult",
    "install_protection",
    "local_forge",
]

#: The allowed Conventional Commit types (commitlint's ``config-conventional`` list).
ALLOWED_TYPES: tuple[str, ...] = (
    "build",
    "chore",
    "ci",
    "docs",
    "feat",
    "fix",
    "perf",
    "refactor",
    "revert",
    "style",
    "test",
)

PROTECTION_FILE = "forge-protection.json"
LOG_FILE = "forge-log.jsonl"
_ZERO = "0" * 40


@dataclass(frozen=True)
class Protection:
    """The rules the origin enforces on ``branch`` (the other branches are free, as on a forge)."""

    branch: str = "main"
    conventional: bool = True  #: every new non-merge commit's first line is ``type(scope)!: description``
    reviewed_by: bool = True  #: every new non-merge commit names a reviewer other than its author
    linear_history: bool = False  #: no merge commits (GitHub's ``required_linear_history``)
    allow_force_push: bool = False  #: GitHub's ``allow_force_pushes``
    allow_deletion: bool = False  #: GitHub's ``allow_deletions``
    types: tuple[str, ...] = ALLOWED_TYPES

    def __post_init__(self) -> None:
        if not self.branch or self.branch.startswith(("refs/", "-")) or " " in self.branch:
            raise ValueError(f"protect a branch by its short name, such as 'main'; got {self.branch!r}")
        if not self.types or not all(isinstance(t, str) and t.isalpha() and t.islower() for t in self.types):
            raise ValueError(f"types must be lower-case words such as ('feat', 'fix'); got {self.types!r}")


#: The server-side hook, run by git with this interpreter (``-IS``: isolated, no site: it needs only the standard
#: library and starts faster).
#: Standard library only; the rules come from ``forge-protection.json`` beside the bare repository's refs.
PRE_RECEIVE = r'''
import json
import re
import subprocess
import sys

ZERO = "0" * 40
rules = json.load(open("forge-protection.json", encoding="utf-8"))
protected = "refs/heads/" + rules["branch"]
header = re.compile(r"(?P<type>[a-z]+)(?:\([\w.-]+\))?!?: \S.*")


def git(*args):
    return subprocess.run(["git", *args], capture_output=True, text=True).stdout


def problems(old, new):
    """The reasons to refuse updating the protected branch from old to new (empty: accept)."""
    if new == ZERO:
        return [] if rules["allow_deletion"] else [f"{rules['branch']} is protected: it cannot be deleted"]
    if old != ZERO and subprocess.run(["git", "merge-base", "--is-ancestor", old, new]).returncode != 0:
        if not rules["allow_force_push"]:
            lost = len(git("rev-list", old, "--not", new).split())
            return [f"force-push to {rules['branch']} refused: it would remove {lost} commit(s) that others "
                    f"already have. Fetch, integrate them (rebase or merge) and push without --force"]
    span = [new, "--not", old] if old != ZERO else [new, "--not", "--all"]
    found = []
    fmt = "%H%x1f%P%x1f%ae%x1f%s%x1f%(trailers:key=Reviewed-by,valueonly,separator=%x1f)%x1e"
    for record in filter(str.strip, git("log", "--reverse", f"--format={fmt}", *span).split("\x1e")):
        sha, parents, author, subject, *reviewers = record.strip("\n").split("\x1f")
        short = f"{sha[:7]} {subject!r}"
        if len(parents.split()) > 1:
            if rules["linear_history"]:
                found.append(f"{short} is a merge commit, but {rules['branch']} requires a linear history: "
                             f"rebase your commits onto origin/{rules['branch']} instead of merging")
            continue
        m = header.fullmatch(subject)
        if rules["conventional"] and (m is None or m["type"] not in rules["types"]):
            found.append(f"{short} is not a Conventional Commit: the first line must look like "
                         f"'type(scope): description' with a type from {', '.join(rules['types'])}")
        emails = {e.lower() for r in reviewers for e in re.findall(r"<([^<>\s]+@[^<>\s]+)>", r)}
        emails.discard(author.lower())
        if rules["reviewed_by"] and not emails:
            found.append(f"{short} has no review: add a trailer 'Reviewed-by: Name <email>' naming someone "
                         f"other than its author ({author}) as the LAST paragraph of the message")
    return found


decisions, refused = [], False
for line in sys.stdin:
    old, new, ref = line.split()
    reasons = problems(old, new) if ref == protected else []
    refused = refused or bool(reasons)
    decisions.append({"ref": ref, "old": old, "new": new, "accepted": not reasons, "reasons": reasons})
    for reason in reasons:
        print(f"protection: {reason}", file=sys.stderr)
if refused:
    print(f"protection: push to {rules['branch']} rejected; nothing was changed on the server", file=sys.stderr)
    for d in decisions:
        d["accepted"] = False
with open("forge-log.jsonl", "a", encoding="utf-8") as log:
    for d in decisions:
        log.write(json.dumps(d) + "\n")
sys.exit(1 if refused else 0)
'''


@dataclass(frozen=True)
class ShellResult:
    """One command run by :meth:`Forge.sh`: what was typed, its exit code and everything it printed."""

    command: str
    returncode: int
    output: str  #: standard output and standard error, interleaved as a terminal shows them

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def __str__(self) -> str:
        tail = "" if self.ok else f"\n[exit {self.returncode}]"
        return f"$ {self.command}\n{self.output.rstrip()}{tail}".rstrip()


_CONTROL = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _plain_text(output: str) -> str:
    """What a terminal would finally show: no escape codes, progress lines (``\\r``) reduced to their last state,
    and no padding at line ends (git pads ``remote:`` lines)."""
    shown = []
    for line in _CONTROL.sub("", output).split("\n"):
        states = [part for part in line.split("\r") if part.strip()]
        shown.append(states[-1].rstrip() if states else "")
    return "\n".join(shown)


@dataclass
class Forge:
    """Your clone (``repo``, on ``main``) of a protected bare ``origin``; teammates clone the same origin."""

    repo: ScratchRepo
    origin: Path
    protection: Protection
    you: str = "alice"
    transcript: list[ShellResult] = field(default_factory=list)

    @property
    def path(self) -> Path:
        """The working tree of your clone (where :meth:`sh` runs)."""
        return self.repo.path

    def sh(self, command: str, *, timeout: float = 60) -> ShellResult:
        """Run ``command`` exactly as written (``bash -c``) in your clone, as ``you``; never raises on failure.

        Git ignores the host's configuration, opens no editor (``GIT_EDITOR=true`` keeps a message as it is)
        and dates every commit by the forge's clock, which moves one minute per command.
        """
        if not isinstance(command, str) or not command.strip():
            raise ValueError(f"sh() takes one command line as a str, e.g. 'git status'; got {command!r}")
        self.repo.clock.advance("1m")
        env = self.repo.env_for(self.you)
        for key in ("FORCE_COLOR", "CLICOLOR_FORCE", "PY_COLORS"):
            env.pop(key, None)
        env.update(NO_COLOR="1", PYTHONDONTWRITEBYTECODE="1")
        proc = subprocess.Popen(
            ["bash", "-c", command],
            cwd=self.path,
            env=env,
            text=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the command and everything it started
            output, _ = proc.communicate()
            output += f"\n[stopped after {timeout:g} s: does the command wait for input or an editor?]"
        except BaseException:  # KeyboardInterrupt included: never leave the command running
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        result = ShellResult(command, proc.returncode if proc.returncode is not None else -9, _plain_text(output))
        self.transcript.append(result)
        return result

    def run_all(self, commands: Sequence[str]) -> list[ShellResult]:
        """Run each command in turn with :meth:`sh` (all of them, as a terminal session would)."""
        if isinstance(commands, str) or not all(isinstance(c, str) for c in commands):
            raise TypeError("run_all() takes a list of command lines (strings), e.g. ['git fetch', 'git status']")
        return [self.sh(c) for c in commands]

    def write(self, path: str, content: str) -> Path:
        """Write a file in your working tree (what an editor would do); stage it yourself with ``git add``."""
        return self.repo.write(path, content)

    def read(self, path: str) -> str:
        return self.repo.read(path)

    def teammate(self, who: str = "bob") -> Teammate:
        """A colleague with a clone of the same origin; their pushes pass through the same protection."""
        if who == self.you:
            raise ValueError(f"{who!r} is you; pick another member of the team, such as 'bob'")
        return self.repo.teammate(who)

    def origin_git(self, *args: str) -> str:
        """Run a read-only git command in the bare origin (``log``, ``rev-parse``, ``for-each-ref``, ...)."""
        proc = subprocess.run(
            ["git", *args], cwd=self.origin, env=self.repo.env_for(None), text=True, capture_output=True, timeout=60
        )
        if proc.returncode != 0:
            raise RuntimeError(f"`git {' '.join(args)}` failed in the origin: {proc.stderr.strip()}")
        return proc.stdout

    def origin_sha(self, ref: str) -> str | None:
        """The commit ``ref`` names on the server (``main``, ``alice/search``), or None when it does not exist."""
        proc = subprocess.run(
            ["git", "rev-parse", "--verify", "-q", f"{ref}^{{commit}}"],
            cwd=self.origin,
            env=self.repo.env_for(None),
            text=True,
            capture_output=True,
            timeout=60,
        )
        return proc.stdout.strip() or None

    def pushes(self) -> list[dict[str, Any]]:
        """Every ref update the origin was asked for, oldest first: ref, old, new, accepted, reasons."""
        log = self.origin / LOG_FILE
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def install_protection(origin: Path, protection: Protection, *, python: str | None = None) -> Path:
    """Write the rules and the executable ``pre-receive`` hook into the bare repository ``origin``."""
    if not (origin / "HEAD").exists() or not (origin / "objects").is_dir():
        raise ValueError(f"{origin} is not a bare git repository (no HEAD and objects/ in it)")
    (origin / PROTECTION_FILE).write_text(json.dumps(asdict(protection), indent=1) + "\n")
    hook = origin / "hooks" / "pre-receive"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(f"#!{python or sys.executable} -IS\n{PRE_RECEIVE.lstrip()}")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return hook


@contextmanager
def local_forge(
    history: Sequence[Step] | None = None,
    *,
    protection: Protection | None = None,
    you: str = "alice",
    start: datetime = DEFAULT_START,
) -> Iterator[Forge]:
    """A protected bare origin and your clone of it, removed (with every teammate's clone) when the block ends.

    ``history`` (steps of :mod:`labkit.git`) is replayed on ``main`` before protection is switched on, and
    every branch it leaves is pushed, so the origin starts as a copy of that history. You are back on ``main``.
    """
    rules = protection if protection is not None else Protection()
    with scratch_repo(history, start=start) as repo:
        repo.person(you)  # an unknown name fails here, with the list of known ones
        if repo.branch_name != "main":
            repo.switch("main")
        origin = repo.path.parent / "origin.git"  # where ScratchRepo.teammate() expects the shared remote
        # a bare clone copies every branch in one local (hard-linked) step: much cheaper than pushing them
        repo.git("clone", "-q", "--bare", "--local", str(repo.path), str(origin))
        repo.git("remote", "add", "origin", str(origin))
        repo.git("fetch", "-q", "origin")
        for branch in repo.branches():
            repo.git("branch", "-q", "--set-upstream-to", f"origin/{branch}", branch)
        install_protection(origin, rules)
        yield Forge(repo, origin, rules, you)
