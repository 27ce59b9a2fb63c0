"""Hands-on git practice, Killercoda-style: students type real git commands, checks read the repository's state.

A :class:`Scenario` is a declared history (the steps of :mod:`labkit.git`), optionally with a bare ``origin``
that some refs are pushed to. Two ways in, both context managers that delete everything when the block ends:

* :func:`sandbox` gives a fresh copy to explore: ``lab.sh("git log --oneline")`` runs exactly that command in
  the repository's folder, as if typed in a terminal there, and prints ``$ command`` and what it printed;
* :func:`replay` gives a fresh copy with a student's list of commands already run, in order, stopping at the
  first one that fails (like a shell script with ``set -e``). Test cells inspect the resulting state::

      COMMANDS = ["git tag -a v1.0.0 -m 'Release 1.0.0'"]
      with gitpractice.replay(gitpractice.first_release(), COMMANDS) as lab:
          assert lab.rev("v1.0.0") == lab.rev("main")

Why replay instead of grading the student's own scratch repository: every grading run starts from the same
state, so a check cannot be passed by leftovers of earlier attempts, and a wrong command (``git reset --hard``
where ``git revert`` was asked) shows in the state it leaves behind. Replays are deterministic: commands run
as a fixed student identity with dates from the scenario's :class:`labkit.git.Clock` (one minute per
command), so the same commands give the same commit hashes every time.

Each scenario is built once per process and kept as an in-memory archive; every sandbox is a fresh
extraction of it (tens of milliseconds instead of a second for a 30-commit history).

The course's scenarios: :func:`first_release` (tag a release), :func:`regression` (``git bisect run`` over a
generated history of about 30 commits), :func:`bad_commit_on_trunk` (``git revert`` and push) and
:func:`hotfix_for_release` (cherry-pick a fix onto ``release/1.4`` and tag ``v1.4.1``).
"""

from __future__ import annotations

import io
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from labkit import git
from labkit.checks import CheckFailed
from labkit.git import DEFAULT_START, TEAM, Clock, Person, ScratchRepo, Step

__all__ = [
    "STUDENT",
    "COMMAND_TIMEOUT",
    "CommandResult",
    "Scenario",
    "Lab",
    "sandbox",
    "replay",
    "check_commands",
    "first_release",
    "regression",
    "Regression",
    "bad_commit_on_trunk",
    "hotfix_for_release",
]

#: who the student's commits are by (fixed, so that replays give the same hashes)
STUDENT = Person("Student", "student@example.com", 0)
#: seconds one command may run before it is stopped (with everything it started)
COMMAND_TIMEOUT = 60.0
_CACHE_SIZE = 16
_FIRST_BAD = re.compile(r"^([0-9a-f]{40}) is the first bad commit$", re.MULTILINE)


@dataclass(frozen=True)
class CommandResult:
    """One command as a terminal would show it: what was typed, its exit code and its output (stdout+stderr)."""

    command: str
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def transcript(self) -> str:
        text = f"$ {self.command}\n{self.output}"
        if not text.endswith("\n"):
            text += "\n"
        return text + ("" if self.ok else f"(exit {self.returncode})\n")


@dataclass(frozen=True)
class Scenario:
    """A starting state: a declared history, and which refs are pushed to a bare ``origin`` (if ``remote``).

    ``push`` holds ``git push origin`` arguments, e.g. ``("main", "release/1.4", "--tags")``.
    """

    name: str
    history: tuple[Step, ...]
    remote: bool = False
    push: tuple[str, ...] = ()
    start: datetime = DEFAULT_START

    def __post_init__(self) -> None:
        if self.push and not self.remote:
            raise ValueError(f"scenario {self.name!r} pushes {self.push} but has no origin: set remote=True")


def check_commands(commands: object) -> list[str]:
    """The commands as a list of strings, or a ``TypeError`` that says how to write them."""
    if isinstance(commands, str) or not isinstance(commands, Sequence):
        raise TypeError(
            f'the commands must be a list of strings, one command each, e.g. ["git status", "git log --oneline"]; '
            f"got {type(commands).__name__}: {commands!r:.80}"
        )
    out: list[str] = []
    for i, command in enumerate(commands):
        if not isinstance(command, str) or not command.strip():
            raise TypeError(f"command {i} must be a non-empty string, got {command!r:.80}")
        out.append(command.strip())
    return out


# -- building scenarios once, copying them many times ---------------------------------------------------------
_TEMPLATES: OrderedDict[str, tuple[bytes, datetime]] = OrderedDict()


def _template(scenario: Scenario) -> tuple[bytes, datetime]:
    """The scenario built once (per process) as a tar archive of its root folder, and its clock's time."""
    key = repr(scenario)
    if key in _TEMPLATES:
        _TEMPLATES.move_to_end(key)
        return _TEMPLATES[key]
    with _built(scenario) as repo:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            tar.add(repo.path.parent, arcname=".")
        built = (buffer.getvalue(), repo.clock.now)
    _TEMPLATES[key] = built
    while len(_TEMPLATES) > _CACHE_SIZE:
        _TEMPLATES.popitem(last=False)
    return built


@contextmanager
def _built(scenario: Scenario) -> Iterator[ScratchRepo]:
    """The scenario's repository: streamed into ``git fast-import`` when its steps allow, else step by step."""
    clock = Clock(scenario.start)
    stream = _fast_import_stream(scenario.history, clock)
    if stream is None:  # merges, reverts, unusual refs or paths: let labkit.git replay the steps
        with git.scratch_repo(scenario.history, remote=scenario.remote, start=scenario.start) as repo:
            for ref in scenario.push:
                repo.git("push", "-q", "origin", ref)
            yield repo
        return
    data, branch = stream
    root = Path(tempfile.mkdtemp(prefix="labkit-git-"))
    try:
        home, work = root / "home", root / "repo"
        home.mkdir()
        env = git.isolated_env(home)
        subprocess.run(["git", "init", "-q", "-b", "main", str(work)], env=env, check=True, timeout=60)
        with (work / ".git" / "config").open("a") as config:  # one write instead of a `git config` per key
            for name, value in git.LOCAL_CONFIG.items():
                section, _, key = name.rpartition(".")
                config.write(f"[{section}]\n\t{key} = {value}\n")
        repo = ScratchRepo(work, home, clock, TEAM)
        repo.git("fast-import", "--quiet", input=data)
        repo.git("symbolic-ref", "HEAD", f"refs/heads/{branch}")
        repo.git("reset", "-q", "--hard")
        if scenario.remote:
            repo.git("init", "-q", "--bare", "-b", "main", str(root / "origin.git"))
            repo.git("remote", "add", "origin", str(root / "origin.git"))
            repo.git("push", "-q", "-u", "origin", "main")
            for ref in scenario.push:
                repo.git("push", "-q", "origin", ref)
        yield repo
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _clean_message(message: str) -> str:
    """What ``git commit -m`` stores: trailing spaces and outer blank lines removed, blank runs collapsed."""
    lines = [line.rstrip() for line in message.split("\n")]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept) + "\n"


def _fast_import_stream(history: Sequence[Step], clock: Clock) -> tuple[str, str] | None:  # noqa: C901 - one branch per step type
    """The history as a ``git fast-import`` stream giving exactly the commits of ``labkit.git.scratch_repo``
    (same trees, messages, identities and dates, so the same hashes), and the branch checked out at the end.
    None when a step needs real git (merges, reverts, refs such as ``HEAD~1``, paths that need quoting).
    """
    out: list[str] = []
    tips: dict[str, int] = {}  # branch -> mark of its last commit
    tagged: dict[str, int] = {}  # tag -> mark
    trees: dict[int, dict[str, str]] = {}  # mark -> the files of that commit
    marks = iter(range(1, 1 << 30))
    current = "main"

    def ident(person: Person) -> str:
        return f"{person.name} <{person.email}> {clock.git_date(person.utc_offset).lstrip('@')}"

    def blob(text: str) -> str:
        return f"data {len(text.encode())}\n{text}\n"

    def commit(message: str, who: str, files: dict[str, str | None]) -> None:
        person, mark = TEAM[who], next(marks)
        out.append(f"commit refs/heads/{current}\nmark :{mark}\n")
        out.append(f"author {ident(person)}\ncommitter {ident(person)}\n" + blob(_clean_message(message)))
        tree = dict(trees[tips[current]]) if current in tips else {}
        if current in tips:
            out.append(f"from :{tips[current]}\n")
        for path, content in files.items():
            if content is None:
                out.append(f"D {path}\n")
                tree.pop(path, None)
            else:
                out.append(f"M 100644 inline {path}\n" + blob(content))
                tree[path] = content
        out.append("\n")
        tips[current], trees[mark] = mark, tree

    def resolve(ref: str) -> int | None:
        return tips.get(current) if ref == "HEAD" else tips.get(ref, tagged.get(ref))

    commit("chore: initial commit", "alice", {"README.md": "# Scratch project\n"})
    for step in history:
        if isinstance(step, git.Commit):
            files = dict(step.files) if step.files is not None else None
            if step.author not in TEAM or any(re.search(r'[\s"\\]', p) for p in files or {}):
                return None
            clock.advance(step.after)
            if files is None:
                old = trees[tips[current]].get("CHANGELOG.md", "# Changelog\n")
                files = {"CHANGELOG.md": old + f"- {step.message.splitlines()[0]}\n"}
            commit(step.message, step.author, files)
        elif isinstance(step, git.Branch):
            start = resolve(step.start)
            if start is None or step.name in tips:
                return None
            tips[step.name], current = start, step.name
            out.append(f"reset refs/heads/{step.name}\nfrom :{start}\n\n")
        elif isinstance(step, git.Switch):
            if step.name not in tips:
                return None
            current = step.name
        elif isinstance(step, git.Tag):
            target = resolve(step.ref)
            if target is None:
                return None
            clock.advance(step.after)
            if step.lightweight:
                out.append(f"reset refs/tags/{step.name}\nfrom :{target}\n\n")
            else:
                message = _clean_message(step.message or f"Release {step.name}")
                out.append(f"tag {step.name}\nfrom :{target}\ntagger {ident(TEAM['ci-bot'])}\n" + blob(message))
            tagged[step.name] = target
        elif isinstance(step, git.Wait):
            clock.advance(step.after)
        else:
            return None
    return "".join(out), current


def _environment(repo: ScratchRepo) -> dict[str, str]:
    """The isolated git environment, the student's identity at the clock's time, and this Python first on PATH."""
    env = repo.env_for(None)
    date = repo.clock.git_date(STUDENT.utc_offset)
    env.update(
        GIT_AUTHOR_NAME=STUDENT.name,
        GIT_AUTHOR_EMAIL=STUDENT.email,
        GIT_AUTHOR_DATE=date,
        GIT_COMMITTER_NAME=STUDENT.name,
        GIT_COMMITTER_EMAIL=STUDENT.email,
        GIT_COMMITTER_DATE=date,
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)]),
    )
    return env


def _shell(command: str, cwd: Path, env: dict[str, str], timeout: float) -> CommandResult:
    """Run one command line in a shell of its own process group; on timeout or interrupt the group is killed."""
    shell = shutil.which("bash") or "/bin/sh"
    proc = subprocess.Popen(
        [shell, "-c", command],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return CommandResult(command, -9, (out or "") + f"\nstopped after {timeout:g} s: does it wait for input?")
    finally:
        if proc.poll() is None:  # interrupted (KeyboardInterrupt): leave no process behind
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return CommandResult(command, proc.returncode, out or "")


@dataclass
class Lab:
    """A fresh copy of a scenario: run commands in it and read its state (the working repo and ``origin``)."""

    repo: ScratchRepo
    results: list[CommandResult] = field(default_factory=list)
    timeout: float = COMMAND_TIMEOUT
    #: (sha, subject) of every commit of the scenario as built, newest first (before any command ran)
    history: list[tuple[str, str]] = field(default_factory=list)
    #: every ref of the working repo as built (``refs/heads/main``, ``refs/tags/v1.4.0``, ...) -> its commit
    start_refs: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.repo.path

    @property
    def origin_path(self) -> Path:
        return self.repo.path.parent / "origin.git"

    # -- acting -----------------------------------------------------------------------------------------------
    def sh(self, command: str, *, echo: bool = True) -> CommandResult:
        """Run exactly ``command`` in the repository's folder (a shell command line); print it like a terminal."""
        (command,) = check_commands([command])
        self.repo.clock.advance("1m")
        result = _shell(command, self.path, _environment(self.repo), self.timeout)
        self.results.append(result)
        if echo:
            print(result.transcript(), end="")
        return result

    def run_all(self, commands: object, *, echo: bool = True) -> CommandResult | None:
        """Run the commands in order, stopping at the first that fails; returns that one, or None."""
        for command in check_commands(commands):
            result = self.sh(command, echo=echo)
            if not result.ok:
                if echo:
                    print("stopped: the commands after this one were not run")
                return result
        return None

    @property
    def failed(self) -> CommandResult | None:
        """The first command that exited non-zero, or None."""
        return next((r for r in self.results if not r.ok), None)

    def check_commands_ran(self) -> None:
        """Raise :class:`labkit.checks.CheckFailed` naming the first command that failed, with git's words."""
        bad = self.failed
        if bad is None:
            return
        number = self.results.index(bad) + 1
        tail = "\n".join(bad.output.strip().splitlines()[-6:])
        raise CheckFailed(
            f"command {number}, `{bad.command}`, failed (exit {bad.returncode}); the commands after it were not run. "
            f"It printed:\n{tail}\nHint: run them one by one in a gitpractice.sandbox(...) and read git's words."
        )

    # -- reading ----------------------------------------------------------------------------------------------
    def git(self, *args: str) -> str:
        """``git <args>`` in the working repository (its standard output)."""
        return self.repo.git(*args)

    def origin_git(self, *args: str) -> str:
        """``git <args>`` in the bare ``origin`` (what the team sees after a push)."""
        if not self.origin_path.exists():
            raise ValueError("this scenario has no origin (Scenario(remote=True))")
        proc = subprocess.run(
            ["git", "--git-dir", str(self.origin_path), *args],
            env=self.repo.env_for(None),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if proc.returncode:
            raise git.GitError(f"`git {' '.join(args)}` failed in origin: {proc.stderr.strip()}")
        return proc.stdout

    def rev(self, ref: str, *, where: str = "local") -> str | None:
        """The commit ``ref`` names (tags peeled), in the working repo or in ``where="origin"``; None if absent."""
        args = ("rev-parse", "-q", "--verify", f"{ref}^{{commit}}")
        try:
            out = self.origin_git(*args) if where == "origin" else self.repo.git(*args)
        except git.GitError:
            return None
        return out.strip() or None

    def is_ancestor(self, older: str, newer: str, *, where: str = "local") -> bool:
        """Whether ``older`` is in the history of ``newer`` (so ``newer`` only moved forward from it)."""
        args = ["merge-base", "--is-ancestor", older, newer]
        if where == "origin":
            cmd = ["git", "--git-dir", str(self.origin_path), *args]
            return (
                subprocess.run(
                    cmd, env=self.repo.env_for(None), capture_output=True, timeout=60, check=False
                ).returncode
                == 0
            )
        return self.repo.run(*args, check=False).returncode == 0

    def initially(self, ref: str) -> str | None:
        """The commit ``ref`` (a branch, tag or ``origin/<branch>``) named before any command ran, or None."""
        for prefix in ("refs/heads/", "refs/tags/", "refs/remotes/", ""):
            if prefix + ref in self.start_refs:
                return self.start_refs[prefix + ref]
        return None

    def describe(self, sha: str | None) -> str:
        """``'1a2b3c4 fix: subject'`` for a commit, ``'nothing'`` for None: readable values for check messages."""
        if not sha:
            return "nothing"
        subject = self.repo.run("log", "-1", "--format=%h %s", sha, check=False).stdout.strip()
        if not subject and self.origin_path.exists():
            subject = self.origin_git("log", "-1", "--format=%h %s", sha).strip()
        return subject or sha[:7]

    def commit(self, subject: str) -> str:
        """The sha of the scenario's commit whose subject is exactly ``subject`` (as built, before any command)."""
        found = [sha for sha, s in self.history if s == subject]
        if len(found) != 1:
            raise ValueError(f"the scenario has {len(found)} commits with subject {subject!r}, expected one")
        return found[0]

    def tag_type(self, name: str, *, where: str = "local") -> str | None:
        """``"tag"`` for an annotated tag, ``"commit"`` for a lightweight one, None when there is no such tag."""
        args = ("cat-file", "-t", f"refs/tags/{name}")
        try:
            return (self.origin_git(*args) if where == "origin" else self.repo.git(*args)).strip()
        except git.GitError:
            return None

    @property
    def bisecting(self) -> bool:
        """Whether a ``git bisect`` session is still in progress (``git bisect reset`` ends it)."""
        return (self.path / ".git" / "BISECT_START").exists()

    def first_bad(self) -> str | None:
        """The commit the last finished bisect named (``<sha> is the first bad commit``), or None."""
        found = [m for r in self.results for m in _FIRST_BAD.findall(r.output)]
        return found[-1] if found else None

    def test_at(self, ref: str, command: str, *, where: str = "local") -> CommandResult:
        """Run ``command`` in a clean export of ``ref``'s files (the repo's working tree is left alone)."""
        args = ["archive", "--format=tar", ref]
        base = ["git", "--git-dir", str(self.origin_path)] if where == "origin" else ["git"]
        cwd = None if where == "origin" else self.path
        archive = subprocess.run(
            [*base, *args], cwd=cwd, env=self.repo.env_for(None), capture_output=True, timeout=60, check=False
        )
        if archive.returncode:
            raise ValueError(f"cannot export {ref!r} ({where}): {archive.stderr.decode(errors='replace').strip()}")
        folder = Path(tempfile.mkdtemp(prefix="labkit-export-"))
        try:
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(folder, filter="data")
            return _shell(command, folder, _environment(self.repo), self.timeout)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def sandbox(scenario: Scenario, *, timeout: float = COMMAND_TIMEOUT) -> Iterator[Lab]:
    """A fresh copy of ``scenario`` in a temporary folder, removed when the block ends (also on error)."""
    if not isinstance(scenario, Scenario):
        raise TypeError(f"sandbox() needs a gitpractice.Scenario, got {type(scenario).__name__}")
    archive, now = _template(scenario)
    root = Path(tempfile.mkdtemp(prefix=f"labkit-{scenario.name}-"))
    try:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(root, filter="tar")
        repo = ScratchRepo(root / "repo", root / "home", Clock(now), TEAM)
        if scenario.remote:
            repo.git("remote", "set-url", "origin", str(root / "origin.git"))
        lines = repo.git("log", "--all", "--format=%H %s").splitlines()
        history = [(sha, subject) for sha, _, subject in (line.partition(" ") for line in lines)]
        refs = repo.git("for-each-ref", "--format=%(refname) %(objectname) %(*objectname)").splitlines()
        start = {name: peeled or sha for name, sha, peeled in (f"{line}  ".split(" ")[:3] for line in refs)}
        yield Lab(repo, timeout=timeout, history=history, start_refs=start)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def replay(
    scenario: Scenario, commands: object, *, echo: bool = True, timeout: float = COMMAND_TIMEOUT
) -> Iterator[Lab]:
    """A fresh copy of ``scenario`` after running ``commands`` (stopping at the first failure); then removed."""
    todo = check_commands(commands)
    with sandbox(scenario, timeout=timeout) as lab:
        lab.run_all(todo, echo=echo)
        yield lab


# -- the course's scenarios ---------------------------------------------------------------------------------
PRICE_PY = '''"""Order totals, in integer cents."""


def total_cents(prices_cents, vat_percent):
    """The order total in cents, VAT included; each line is rounded to the cent."""
    return sum(round(p * (100 + vat_percent) / 100) for p in prices_cents)


def format_cents(cents):
    """12345 -> '123.45 EUR'."""
    return f"{cents // 100}.{cents % 100:02d} EUR"
'''

#: the regression: VAT on the sum, truncated (597 instead of 598 for 1.99 + 2.99 at 20 %)
PRICE_PY_BROKEN = PRICE_PY.replace(
    "    return sum(round(p * (100 + vat_percent) / 100) for p in prices_cents)",
    "    return int(sum(prices_cents) * (100 + vat_percent) / 100)  # one multiplication instead of n",
)

TEST_PRICE_PY = """import unittest

from shop.price import format_cents, total_cents


class TestPrice(unittest.TestCase):
    def test_each_line_is_rounded_to_the_cent(self):
        self.assertEqual(total_cents([199, 299], 20), 598)

    def test_format(self):
        self.assertEqual(format_cents(59800), "598.00 EUR")


if __name__ == "__main__":
    unittest.main()
"""

SEARCH_PY = '''def matches(query, name):
    """Case-insensitive substring search."""
    return query.lower() in name.lower()
'''

TEST_SEARCH_PY = """import unittest

from shop.search import matches


class TestSearch(unittest.TestCase):
    def test_case_insensitive(self):
        self.assertTrue(matches("Shoe", "red shoes"))


if __name__ == "__main__":
    unittest.main()
"""

_BASE_FILES: dict[str, str | None] = {
    "shop/__init__.py": "",
    "shop/price.py": PRICE_PY,
    "shop/search.py": SEARCH_PY,
    "test_price.py": TEST_PRICE_PY,
    "test_search.py": TEST_SEARCH_PY,
}


def first_release() -> Scenario:
    """Three commits on ``main``, no tag yet: the warm-up tags the first release."""
    return Scenario(
        "first-release",
        (
            git.Commit("feat(price): order totals with VAT", files=_BASE_FILES, author="alice"),
            git.Commit(
                "fix(price): format cents with two digits", author="bob", files={"shop/price.py": PRICE_PY + "\n"}
            ),
            git.Commit(
                "docs: how to run the tests",
                author="carol",
                files={"README.md": "# Shop\n\nRun `python -m unittest`.\n"},
            ),
        ),
    )


@dataclass(frozen=True)
class Regression:
    """A bisect scenario and what a correct bisect must find."""

    scenario: Scenario
    culprit: str  #: subject of the commit that broke ``test_price.py``
    decoy: str  #: subject of an earlier commit that broke ``test_search.py`` (someone else's ticket)


_CHANGES = [
    ("feat(search)", "shop/search_{n}.py"),
    ("docs", "docs/page_{n}.md"),
    ("refactor(cart)", "shop/cart_{n}.py"),
    ("test(cart)", "tests_extra/cart_{n}.txt"),
    ("chore(deps)", "requirements-{n}.txt"),
    ("feat(cart)", "shop/cart_feature_{n}.py"),
    ("fix(search)", "shop/search_fix_{n}.py"),
]


def regression(seed: int = 1, commits: int = 30) -> Regression:
    """``v1.4.0`` (tests pass), then ``commits`` commits on ``main``: one breaks ``test_price.py`` (the culprit)
    and an earlier one breaks ``test_search.py`` (a decoy: bisecting the whole suite finds it instead).
    """
    if commits < 10:
        raise ValueError("a regression history needs at least 10 commits after v1.4.0")
    rng = random.Random(seed)
    culprit_at = rng.randint(commits // 3, 2 * commits // 3)
    decoy_at = rng.randint(2, culprit_at - 3)
    culprit = "perf(price): one VAT multiplication per order"
    decoy = "refactor(search): compare names as typed"
    steps: list[Step] = [git.Commit("feat(price): order totals with VAT", files=_BASE_FILES), git.Tag("v1.4.0")]
    authors = ["alice", "bob", "carol", "dave", "erin"]
    for n in range(1, commits + 1):
        who = rng.choice(authors)
        after = f"{rng.randint(20, 240)}m"
        if n == culprit_at:
            steps.append(git.Commit(culprit, author=who, after=after, files={"shop/price.py": PRICE_PY_BROKEN}))
        elif n == decoy_at:
            broken = SEARCH_PY.replace("query.lower() in name.lower()", "query in name")
            steps.append(git.Commit(decoy, author=who, after=after, files={"shop/search.py": broken}))
        else:
            kind, path = rng.choice(_CHANGES)
            steps.append(
                git.Commit(
                    f"{kind}: change {n}", author=who, after=after, files={path.format(n=n): f"# change {n} by {who}\n"}
                )
            )
    return Regression(Scenario(f"regression-{seed}-{commits}", tuple(steps)), culprit, decoy)


SHIPPING = '''

def shipping_cents(total):
    """Free shipping from 50.00 EUR, else 4.90 EUR."""
    return 0 if total >= 5000 else 490
'''


def bad_commit_on_trunk() -> Scenario:
    """A shared ``main`` (pushed to ``origin``) where the fourth commit from the top broke ``test_price.py``."""
    return Scenario(
        "bad-commit-on-trunk",
        (
            git.Commit("feat(price): order totals with VAT", files=_BASE_FILES, author="alice"),
            git.Tag("v1.4.0"),
            git.Commit("feat(cart): remember the last cart", author="bob", files={"shop/cart.py": "LAST = None\n"}),
            git.Commit(
                "perf(price): one VAT multiplication per order",
                author="carol",
                files={"shop/price.py": PRICE_PY_BROKEN, "bench/bench_price.py": "# timing total_cents\n"},
            ),
            git.Commit("docs: explain VAT rounding", author="dave", files={"docs/rounding.md": "# Rounding\n"}),
            git.Commit(
                "feat(price): free shipping from 50 EUR",
                author="erin",
                files={"shop/price.py": PRICE_PY_BROKEN + SHIPPING},
            ),
            git.Commit("test(cart): cover an empty cart", author="bob", files={"test_cart.py": "# empty cart\n"}),
        ),
        remote=True,
        push=("main", "--tags"),
    )


#: the hotfix: round half a cent up (integer arithmetic) instead of Python's round-half-to-even
PRICE_PY_FIXED = PRICE_PY.replace(
    "    return sum(round(p * (100 + vat_percent) / 100) for p in prices_cents)",
    "    return sum((p * (100 + vat_percent) + 50) // 100 for p in prices_cents)  # half a cent rounds up",
)
TEST_PRICE_PY_FIXED = TEST_PRICE_PY.replace(
    "    def test_format(self):",
    "    def test_half_a_cent_rounds_up(self):\n        self.assertEqual(total_cents([15], 10), 17)\n\n"
    "    def test_format(self):",
)


def hotfix_for_release() -> Scenario:
    """``release/1.4`` cut at ``v1.4.0``; ``main`` moved on with features and the fix a 1.4 customer needs."""
    return Scenario(
        "hotfix-for-release",
        (
            git.Commit("feat(price): order totals with VAT", files=_BASE_FILES, author="alice"),
            git.Tag("v1.4.0", message="Release 1.4.0"),
            git.Branch("release/1.4"),
            git.Switch("main"),
            git.Commit("feat(search): fuzzy matching", author="carol", files={"shop/fuzzy.py": "THRESHOLD = 0.8\n"}),
            git.Commit(
                "fix(price): round half a cent up, not to even",
                author="bob",
                files={"shop/price.py": PRICE_PY_FIXED, "test_price.py": TEST_PRICE_PY_FIXED},
            ),
            git.Commit("feat(cart): saved carts", author="dave", files={"shop/saved.py": "SAVED = {}\n"}),
        ),
        remote=True,
        push=("main", "release/1.4", "--tags"),
    )
