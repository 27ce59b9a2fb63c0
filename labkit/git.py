"""Throwaway git repositories for exercises, isolated from the host's git configuration.

Every repository made here:

* lives in a temporary directory that is removed when the ``with`` block ends (also on error or interrupt);
* ignores the user's and the system's git config (``GIT_CONFIG_GLOBAL=/dev/null``, ``GIT_CONFIG_NOSYSTEM=1``),
  uses ``main`` as the default branch, never signs, and commits as bot identities;
* takes every author and committer date from a :class:`Clock`, so the same inputs give the same commit hashes.

A history can be written step by step (``repo.commit(...)``, ``repo.merge(...)``) or declared as a list of
steps and replayed::

    from labkit import git
    steps = [git.Commit("feat: add login", author="alice"),
             git.Branch("fix/typo"), git.Commit("fix: typo", author="bob"), git.Merge("fix/typo"),
             git.Tag("v1.0.0")]
    with git.scratch_repo(steps) as repo:
        print(repo.log("%h %an %s"))

:func:`team_history` generates a realistic multi-author history (trunk-based or Git-Flow) from a seed, and
:meth:`ScratchRepo.teammate` simulates a colleague who pushes to the shared trunk.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = [
    "LOCAL_CONFIG",
    "GitError",
    "Person",
    "TEAM",
    "Clock",
    "ScratchRepo",
    "Teammate",
    "Commit",
    "Branch",
    "Switch",
    "Merge",
    "Tag",
    "Revert",
    "Wait",
    "Step",
    "scratch_repo",
    "team_history",
    "isolated_env",
    "parse_duration",
]

DEFAULT_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday morning


class GitError(RuntimeError):
    """A git command failed; the message carries the command and git's own words."""


@dataclass(frozen=True)
class Person:
    """A bot identity with a home time zone (``utc_offset`` in minutes east of UTC)."""

    name: str
    email: str
    utc_offset: int = 0


TEAM: dict[str, Person] = {
    "alice": Person("Alice Ahmed", "alice@example.com", 60),  # Berlin, winter
    "bob": Person("Bob Brown", "bob@example.com", -300),  # New York, winter
    "carol": Person("Carol Chen", "carol@example.com", 480),  # Singapore
    "dave": Person("Dave Dubois", "dave@example.com", 0),  # London
    "erin": Person("Erin Esposito", "erin@example.com", 330),  # India
    "ci-bot": Person("CI Bot", "ci-bot@example.com", 0),
}

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """``"90m"``, ``"2h"``, ``"3d"``, ``"1w"``, seconds as a number, or a ``timedelta``."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    m = _DURATION_RE.match(str(value))
    if not m:
        raise ValueError(f"duration {value!r} not understood: use e.g. '30m', '2h', '3d', '1w' or a timedelta")
    return timedelta(seconds=float(m[1]) * _UNITS[m[2]])


class Clock:
    """A shared, monotonic clock for repositories and teammates; never reads the real time."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock's start must carry a time zone, e.g. datetime(..., tzinfo=timezone.utc)")
        self.now = start

    def advance(self, delta: str | int | float | timedelta) -> datetime:
        step = parse_duration(delta)
        if step < timedelta(0):
            raise ValueError("the clock only moves forward")
        self.now = self.now + step
        return self.now

    def git_date(self, utc_offset_minutes: int = 0) -> str:
        """The current time in git's internal format, ``@<unix seconds> +hhmm`` (stable, locale-free)."""
        sign = "+" if utc_offset_minutes >= 0 else "-"
        hh, mm = divmod(abs(utc_offset_minutes), 60)
        return f"@{int(self.now.timestamp())} {sign}{hh:02d}{mm:02d}"


def isolated_env(home: str | os.PathLike[str]) -> dict[str, str]:
    """An environment in which git ignores the host's configuration, hooks, pager and editor."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    keep.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(Path(home) / ".config"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_PAGER": "cat",
            "GIT_EDITOR": "true",
            "LC_ALL": "C",
            "TZ": "UTC",
        }
    )
    return keep


#: the settings every scratch repository gets (isolated from the host: no signing, main, a bot identity)
LOCAL_CONFIG = {
    "user.name": "Lab Bot",
    "user.email": "lab-bot@example.com",
    "commit.gpgsign": "false",
    "tag.gpgsign": "false",
    "core.autocrlf": "false",
    "core.hooksPath": ".git/hooks",
    "init.defaultBranch": "main",
    "merge.ff": "true",
    "pull.rebase": "true",
    "gc.auto": "0",
    "advice.detachedHead": "false",
}


def _run_git(
    cwd: Path, env: Mapping[str, str], args: Sequence[str], input: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=dict(env),
        input=input,
        text=True,
        capture_output=True,
        timeout=60,
    )
    if check and proc.returncode != 0:
        words = (proc.stderr or proc.stdout).strip()
        raise GitError(f"`git {' '.join(args)}` failed (exit {proc.returncode}) in {cwd}:\n{words}")
    return proc


class ScratchRepo:
    """A git working tree in a temporary directory, driven by a :class:`Clock` and bot identities."""

    def __init__(self, path: Path, home: Path, clock: Clock, team: Mapping[str, Person]) -> None:
        self.path = path
        self.home = home
        self.clock = clock
        self.team = dict(team)
        self._env = isolated_env(home)

    # -- plumbing -------------------------------------------------------------------------------------------
    def person(self, who: str | Person) -> Person:
        if isinstance(who, Person):
            return who
        try:
            return self.team[who]
        except KeyError:
            raise ValueError(f"unknown author {who!r}; known: {', '.join(sorted(self.team))}") from None

    def env_for(self, who: str | Person | None = None, committer: str | Person | None = None) -> dict[str, str]:
        """The environment for one git command acting as ``who`` at the clock's current time."""
        env = dict(self._env)
        if who is not None:
            author = self.person(who)
            comm = self.person(committer) if committer is not None else author
            env.update(
                GIT_AUTHOR_NAME=author.name,
                GIT_AUTHOR_EMAIL=author.email,
                GIT_AUTHOR_DATE=self.clock.git_date(author.utc_offset),
                GIT_COMMITTER_NAME=comm.name,
                GIT_COMMITTER_EMAIL=comm.email,
                GIT_COMMITTER_DATE=self.clock.git_date(comm.utc_offset),
            )
        return env

    def git(self, *args: str, who: str | Person | None = None, input: str | None = None, check: bool = True) -> str:
        """Run ``git <args>`` in this repository (isolated config) and return its standard output."""
        return _run_git(self.path, self.env_for(who), args, input=input, check=check).stdout

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run any git command and get the whole ``CompletedProcess`` (exit code, stdout, stderr)."""
        return _run_git(self.path, self.env_for(None), args, check=check)

    # -- reading --------------------------------------------------------------------------------------------
    @property
    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    @property
    def branch_name(self) -> str:
        return self.git("rev-parse", "--abbrev-ref", "HEAD").strip()

    def rev_parse(self, ref: str) -> str:
        return self.git("rev-parse", "--verify", f"{ref}^{{commit}}").strip()

    def branches(self) -> list[str]:
        return self.git("for-each-ref", "--format=%(refname:short)", "refs/heads").split()

    def tags(self) -> list[str]:
        return self.git("tag", "--list").split()

    def log(self, fmt: str = "%h %s", *rev: str) -> list[str]:
        """``git log --format=fmt`` as a list of lines (newest first)."""
        out = self.git("log", f"--format={fmt}", *(rev or ("HEAD",)))
        return out.splitlines()

    def read(self, path: str) -> str:
        return (self.path / path).read_text()

    def gitpython(self) -> Any:
        """The same repository as a GitPython ``git.Repo`` (for refs, objects and diffs)."""
        import git as gitpython

        return gitpython.Repo(self.path)

    # -- writing --------------------------------------------------------------------------------------------
    def write(self, path: str, content: str) -> Path:
        target = (self.path / path).resolve()
        if self.path.resolve() not in target.parents:
            raise ValueError(f"{path!r} is outside the repository")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        return target

    def commit(
        self,
        message: str,
        *,
        files: Mapping[str, str | None] | None = None,
        author: str | Person = "alice",
        after: str | int | float | timedelta = "1h",
        allow_empty: bool = False,
    ) -> str:
        """Write ``files`` (``None`` deletes a file), stage everything and commit as ``author``; returns the sha.

        Without ``files`` a small change is made to ``CHANGELOG.md`` so that every commit has content.
        """
        self.clock.advance(after)
        if files is None and not allow_empty:
            files = {"CHANGELOG.md": self._changelog_line(message)}
        for path, content in (files or {}).items():
            if content is None:
                self.git("rm", "-q", "--", path)
            else:
                self.write(path, content)
        self.git("add", "-A")
        args = ["commit", "-q", "--no-verify", "-m", message]
        if allow_empty:
            args.append("--allow-empty")
        self.git(*args, who=author)
        return self.head

    def _changelog_line(self, message: str) -> str:
        p = self.path / "CHANGELOG.md"
        old = p.read_text() if p.exists() else "# Changelog\n"
        return old + f"- {message.splitlines()[0]}\n"

    def branch(self, name: str, start: str = "HEAD", switch: bool = True) -> None:
        """Create branch ``name`` at ``start`` (and switch to it)."""
        if switch:
            self.git("switch", "-q", "-c", name, start)
        else:
            self.git("branch", name, start)

    def switch(self, name: str) -> None:
        self.git("switch", "-q", name)

    def merge(
        self,
        branch: str,
        *,
        into: str = "main",
        message: str | None = None,
        author: str | Person = "alice",
        after: str | int | float | timedelta = "30m",
        ff: bool = False,
        delete: bool = True,
    ) -> str:
        """Merge ``branch`` into ``into`` (a merge commit unless ``ff``), delete it, and return the new head."""
        self.clock.advance(after)
        self.switch(into)
        msg = message or f"Merge branch '{branch}'"
        self.git("merge", "-q", "--no-verify", "--ff" if ff else "--no-ff", "-m", msg, branch, who=author)
        if delete:
            self.git("branch", "-q", "-D", branch)
        return self.head

    def tag(
        self,
        name: str,
        *,
        ref: str = "HEAD",
        message: str | None = None,
        lightweight: bool = False,
        tagger: str | Person = "ci-bot",
        after: str | int | float | timedelta = "10m",
    ) -> None:
        """Tag ``ref``: annotated (with a tagger date: the deployment time) unless ``lightweight``."""
        self.clock.advance(after)
        if lightweight:
            self.git("tag", name, ref)
        else:
            self.git("tag", "-a", name, "-m", message or f"Release {name}", ref, who=tagger)

    def revert(
        self, ref: str = "HEAD", *, author: str | Person = "alice", after: str | int | float | timedelta = "20m"
    ) -> str:
        """``git revert`` a commit (the subject becomes ``Revert "<subject>"``); returns the new head."""
        self.clock.advance(after)
        self.git("revert", "--no-edit", ref, who=author)  # git < 2.40 has no revert --no-verify
        return self.head

    def teammate(self, who: str = "bob") -> Teammate:
        """A colleague with a clone of ``origin`` who commits and pushes to trunk (needs ``remote=True``)."""
        if not (self.path.parent / "origin.git").exists():
            raise ValueError("this repository has no shared remote: open it with scratch_repo(..., remote=True)")
        clone = self.path.parent / f"teammate-{who}"
        if not clone.exists():
            _run_git(self.path.parent, self._env, ["clone", "-q", str(self.path.parent / "origin.git"), clone.name])
            for key, value in LOCAL_CONFIG.items():
                _run_git(clone, self._env, ["config", key, value])
        return Teammate(ScratchRepo(clone, self.home, self.clock, self.team), who)

    # -- declarative histories ------------------------------------------------------------------------------
    def apply(self, steps: Sequence[Step]) -> None:
        """Replay a declared history (see :class:`Commit`, :class:`Branch`, :class:`Merge`, ...)."""
        for i, step in enumerate(steps):
            try:
                step.apply(self)
            except GitError as err:
                raise GitError(f"step {i} ({step!r}) failed: {err}") from None


@dataclass
class Teammate:
    """A simulated colleague: commits in its own clone and pushes to ``origin/main``."""

    repo: ScratchRepo
    who: str

    def push_commit(
        self,
        message: str,
        *,
        files: Mapping[str, str | None] | None = None,
        after: str | int | float | timedelta = "15m",
    ) -> str:
        self.repo.git("pull", "-q", "--rebase", "origin", "main", who=self.who)
        sha = self.repo.commit(message, files=files, author=self.who, after=after)
        self.repo.git("push", "-q", "origin", "HEAD:main")
        return sha


# -- declarative steps --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Commit:
    message: str
    author: str = "alice"
    files: Mapping[str, str | None] | None = None
    after: str | int | float | timedelta = "1h"

    def apply(self, repo: ScratchRepo) -> None:
        repo.commit(self.message, files=self.files, author=self.author, after=self.after)


@dataclass(frozen=True)
class Branch:
    name: str
    start: str = "HEAD"

    def apply(self, repo: ScratchRepo) -> None:
        repo.branch(self.name, self.start)


@dataclass(frozen=True)
class Switch:
    name: str

    def apply(self, repo: ScratchRepo) -> None:
        repo.switch(self.name)


@dataclass(frozen=True)
class Merge:
    branch: str
    into: str = "main"
    author: str = "alice"
    message: str | None = None
    after: str | int | float | timedelta = "30m"
    delete: bool = True

    def apply(self, repo: ScratchRepo) -> None:
        repo.merge(
            self.branch, into=self.into, author=self.author, message=self.message, after=self.after, delete=self.delete
        )


@dataclass(frozen=True)
class Tag:
    name: str
    ref: str = "HEAD"
    message: str | None = None
    lightweight: bool = False
    after: str | int | float | timedelta = "10m"

    def apply(self, repo: ScratchRepo) -> None:
        repo.tag(self.name, ref=self.ref, message=self.message, lightweight=self.lightweight, after=self.after)


@dataclass(frozen=True)
class Revert:
    ref: str = "HEAD"
    author: str = "alice"
    after: str | int | float | timedelta = "20m"

    def apply(self, repo: ScratchRepo) -> None:
        repo.revert(self.ref, author=self.author, after=self.after)


@dataclass(frozen=True)
class Wait:
    after: str | int | float | timedelta

    def apply(self, repo: ScratchRepo) -> None:
        repo.clock.advance(self.after)


Step = Commit | Branch | Switch | Merge | Tag | Revert | Wait


@contextmanager
def scratch_repo(
    history: Sequence[Step] | None = None,
    *,
    start: datetime = DEFAULT_START,
    team: Mapping[str, Person] | None = None,
    remote: bool = False,
    initial_commit: bool = True,
) -> Iterator[ScratchRepo]:
    """A throwaway repository on branch ``main``; removed (with its remote and clones) when the block ends.

    ``history`` is replayed after an initial commit (``chore: initial commit`` by alice at ``start``).
    With ``remote=True`` a bare ``origin`` is set up and ``main`` pushed, so :meth:`ScratchRepo.teammate` works.
    """
    root = Path(tempfile.mkdtemp(prefix="labkit-git-"))
    try:
        home = root / "home"
        home.mkdir()
        work = root / "repo"
        env = isolated_env(home)
        _run_git(root, env, ["init", "-q", "-b", "main", str(work)])
        for key, value in LOCAL_CONFIG.items():
            _run_git(work, env, ["config", key, value])
        repo = ScratchRepo(work, home, Clock(start), team or TEAM)
        if initial_commit:
            repo.commit("chore: initial commit", files={"README.md": "# Scratch project\n"}, after=0)
        if remote:
            _run_git(root, env, ["init", "-q", "--bare", "-b", "main", str(root / "origin.git")])
            repo.git("remote", "add", "origin", str(root / "origin.git"))
            if initial_commit:
                repo.git("push", "-q", "-u", "origin", "main")
        if history:
            repo.apply(history)
        yield repo
    finally:
        shutil.rmtree(root, ignore_errors=True)


# -- generated team histories -------------------------------------------------------------------------------
_FEATURES = [
    "login",
    "checkout",
    "search",
    "payments",
    "invoices",
    "profile",
    "cart",
    "orders",
    "reports",
    "export",
    "webhooks",
    "audit-log",
    "rate-limit",
    "dark-mode",
    "onboarding",
    "billing",
    "sso",
    "notifications",
]


@dataclass
class _Release:
    major: int = 1
    minor: int = 0
    patch: int = 0
    history: list[str] = field(default_factory=list)

    def bump(self, kind: str) -> str:
        if kind == "minor":
            self.minor, self.patch = self.minor + 1, 0
        else:
            self.patch += 1
        name = f"v{self.major}.{self.minor}.{self.patch}"
        self.history.append(name)
        return name


def team_history(  # noqa: C901 - the simulated team's day, one branch per event
    *,
    days: int = 20,
    seed: int = 1,
    authors: Sequence[str] = ("alice", "bob", "carol", "dave"),
    style: str = "trunk",
    changes_per_day: int = 4,
    release_every_days: int = 1,
    failure_rate: float = 0.15,
) -> list[Step]:
    """A reproducible multi-author history of ``days`` working days.

    ``style="trunk"``: short-lived branches (hours) merged to ``main`` several times a day, direct small commits,
    a release tag every ``release_every_days``; with probability ``failure_rate`` a release fails and is followed
    by a revert or a ``fix:`` hotfix and a patch release tag.

    ``style="gitflow"``: long-lived feature branches (days) off ``develop``, merged in big batches, releases every
    one or two weeks, hotfixes on ``main`` later merged back into ``develop``.
    """
    if style not in {"trunk", "gitflow"}:
        raise ValueError("style must be 'trunk' or 'gitflow'")
    if days < 1:
        raise ValueError("days must be at least 1")
    rng = random.Random(seed)
    steps: list[Step] = []
    release = _Release(history=[])
    counter = 0

    def change(author: str, kind: str | None = None) -> Commit:
        nonlocal counter
        counter += 1
        kind = kind or rng.choices(["feat", "fix", "refactor", "test", "docs"], [4, 3, 1, 1, 1])[0]
        feature = rng.choice(_FEATURES)
        path = f"src/{feature}/change_{counter:04d}.py"
        return Commit(
            f"{kind}({feature}): change {counter}",
            author=author,
            files={path: f"# change {counter} by {author}\nVALUE = {counter}\n"},
            after=f"{rng.randint(20, 90)}m",
        )

    if style == "trunk":
        for day in range(days):
            if day:
                steps.append(Wait("14h") if day % 5 else Wait("62h"))  # nights, and weekends after Fridays
            for n in range(changes_per_day):
                author = rng.choice(list(authors))
                if rng.random() < 0.6:
                    name = f"{author}/change-{day:02d}-{n}"
                    steps.append(Branch(name))
                    for _ in range(rng.randint(1, 2)):
                        steps.append(change(author))
                    steps.append(Merge(name, author=rng.choice(list(authors)), after=f"{rng.randint(30, 180)}m"))
                else:
                    steps.append(change(author))
            if (day + 1) % release_every_days == 0:
                steps.append(Tag(release.bump("minor"), after="20m"))
                if rng.random() < failure_rate:
                    fixer = rng.choice(list(authors))
                    if rng.random() < 0.5:
                        steps.append(
                            Revert(
                                "HEAD^2" if isinstance(steps[-2], Merge) else "HEAD",
                                author=fixer,
                                after=f"{rng.randint(15, 120)}m",
                            )
                        )
                    else:
                        steps.append(
                            Commit(
                                f"fix: hotfix after {release.history[-1]}",
                                author=fixer,
                                files={f"src/hotfix_{release.history[-1]}.py": "HOTFIX = True\n"},
                                after=f"{rng.randint(15, 120)}m",
                            )
                        )
                    steps.append(Tag(release.bump("patch"), after="15m"))
        return steps

    # Git-Flow: develop, long-lived feature branches, release every ~2 weeks, hotfixes on main
    steps.append(Branch("develop"))
    open_features: list[tuple[str, str, int]] = []
    for day in range(days):
        if day:
            steps.append(Wait("14h") if day % 5 else Wait("62h"))
        if len(open_features) < 3 and rng.random() < 0.5:
            author = rng.choice(list(authors))
            name = f"feature/{rng.choice(_FEATURES)}-{day:02d}"
            steps += [Switch("develop"), Branch(name)]
            open_features.append((name, author, day + rng.randint(4, 9)))
        for name, author, _ in open_features:
            steps += [Switch(name), change(author, kind="feat")]
        done = [f for f in open_features if f[2] <= day]
        for name, author, _ in done:
            steps.append(Merge(name, into="develop", author=author, after="2h"))
            open_features.remove((name, author, _))
        if (day + 1) % 10 == 0:
            steps += [
                Switch("main"),
                Merge("develop", into="main", author="dave", delete=False, after="3h"),
                Tag(release.bump("minor"), after="30m"),
            ]
            if rng.random() < failure_rate * 2:
                steps += [
                    Branch("hotfix/urgent"),
                    Commit(
                        f"fix: hotfix after {release.history[-1]}",
                        author="dave",
                        files={f"src/hotfix_{release.history[-1]}.py": "HOTFIX = True\n"},
                        after="5h",
                    ),
                    Merge("hotfix/urgent", into="main", author="dave", delete=False, after="1h"),
                    Tag(release.bump("patch"), after="30m"),
                    Merge("hotfix/urgent", into="develop", author="dave", after="10m"),
                ]
            steps.append(Switch("develop"))
    steps.append(Switch("main"))
    return steps
