"""Quality in trunk-based development (week 5): reviewable pull requests, pre-commit, Definition of Done.

* :data:`TINY_PROJECT` is a small, fully tested and lint-clean Python project (``src/calc.py`` + tests) with
  its pytest, coverage and ruff settings; write it with :func:`labkit.ci.scratch_project` or commit it into a
  :func:`labkit.git.scratch_repo`. :data:`UNTESTED_CODE`, :data:`LINT_ERROR` and :data:`FAILING_TEST` are
  changes that break one criterion each.
* :func:`pull_request_steps` declares a repository with several pull-request branches of realistic sizes —
  real diffs to measure with ``git diff --numstat main...<branch>``.
* :class:`Review` and :class:`GateResult` are the typed results the exercises return; they check their own
  fields so that a mistake is reported where it is made.
* :func:`run` runs a tool (``python -m ruff``, ``python -m coverage`` ...) with a time limit, in
  :func:`labkit.ci.tool_env` (this interpreter's tools first on ``PATH``, no slow pytest plugin autoload).

Nothing runs at import time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .git import Branch, Commit, Step, Switch

__all__ = [
    "TINY_PROJECT",
    "UNTESTED_CODE",
    "LINT_ERROR",
    "FAILING_TEST",
    "VERDICTS",
    "REASONS",
    "CRITERIA",
    "Review",
    "GateResult",
    "python_lines",
    "pull_request_steps",
    "run",
    "python_tool",
]

_PYPROJECT = """\
[project]
name = "calc"
version = "0.1.0"
requires-python = ">=3.11"

[tool.pytest.ini_options]
pythonpath = ["src"]
testpaths = ["tests"]
addopts = "-p no:cacheprovider"

[tool.coverage.run]
source = ["src"]

[tool.ruff]
line-length = 100

[tool.ruff.lint]
select = ["E", "F"]
"""

_CALC = '''\
"""Small calculations with clear errors."""


def add(a: int, b: int) -> int:
    return a + b


def mean(values: list[float]) -> float:
    if not values:
        raise ValueError("mean() needs at least one value")
    return sum(values) / len(values)


def clamp(value: float, low: float, high: float) -> float:
    if low > high:
        raise ValueError(f"low ({low}) is above high ({high})")
    return max(low, min(high, value))
'''

_TESTS = """\
import pytest

from calc import add, clamp, mean


def test_add():
    assert add(2, 3) == 5


def test_mean():
    assert mean([1, 2]) == 1.5


def test_mean_of_nothing():
    with pytest.raises(ValueError):
        mean([])


def test_clamp():
    assert clamp(5, 0, 3) == 3
    assert clamp(-1, 0, 3) == 0


def test_clamp_rejects_an_empty_range():
    with pytest.raises(ValueError):
        clamp(1, 3, 0)
"""

#: A tiny project: 100 % covered by its tests, clean under ``ruff check``.
TINY_PROJECT: dict[str, str] = {
    "pyproject.toml": _PYPROJECT,
    "src/calc.py": _CALC,
    "tests/test_calc.py": _TESTS,
}

#: A new module without tests: coverage drops, everything else stays green.
UNTESTED_CODE: dict[str, str] = {
    "src/stats.py": '''\
"""Statistics nobody tested yet."""


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
''',
}

#: A lint error (ruff F401, an unused import) in otherwise working code.
LINT_ERROR: dict[str, str] = {"src/calc.py": "import os\n" + _CALC}

#: A test that fails.
FAILING_TEST: dict[str, str] = {
    "tests/test_broken.py": "from calc import add\n\n\ndef test_add_is_wrong():\n    assert add(2, 2) == 5\n",
}

VERDICTS: tuple[str, ...] = ("good", "ok", "bad")
#: Reason codes of a pull-request review, in the order a review lists them.
REASONS: tuple[str, ...] = ("too-big", "large", "many-concerns", "not-conventional", "no-tests")
#: Criteria of the Definition-of-Done gate, in the order the gate checks them.
CRITERIA: tuple[str, ...] = ("tests", "coverage", "static-analysis")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _str_tuple(name: str, value: object, allowed: Sequence[str] | None = None) -> None:
    if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
        raise TypeError(
            f"{name} must be a tuple of str, found {value!r} ({type(value).__name__}); wrap a list with tuple(...)"
        )
    if allowed is not None:
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise ValueError(f"{name} may only contain {list(allowed)}, found {unknown}")
        order = [allowed.index(v) for v in value]
        if order != sorted(order) or len(set(value)) != len(value):
            raise ValueError(f"{name} must list each item once, in the order {list(allowed)}; found {list(value)}")


@dataclass(frozen=True)
class Review:
    """The review of one pull request: a verdict, the numbers behind it and the reasons (codes of REASONS)."""

    verdict: str
    lines: int
    files: int
    concerns: tuple[str, ...]
    has_tests: bool
    reasons: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, found {self.verdict!r}")
        for name in ("lines", "files"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                raise TypeError(
                    f"{name} must be a non-negative int, found {value!r} "
                    f"({type(value).__name__}); convert numpy numbers with int(...)"
                )
        if not isinstance(self.has_tests, bool):
            raise TypeError(f"has_tests must be a bool, found {self.has_tests!r} ({type(self.has_tests).__name__})")
        _str_tuple("concerns", self.concerns)
        _str_tuple("reasons", self.reasons, REASONS)


@dataclass(frozen=True)
class GateResult:
    """The outcome of a Definition-of-Done gate: the failed criteria (codes of CRITERIA) and the numbers."""

    passed: bool
    failed: tuple[str, ...]
    coverage: float
    baseline: float
    findings: int

    def __post_init__(self) -> None:
        if not isinstance(self.passed, bool):
            raise TypeError(f"passed must be a bool, found {self.passed!r} ({type(self.passed).__name__})")
        _str_tuple("failed", self.failed, CRITERIA)
        if self.passed != (not self.failed):
            raise ValueError(
                f"passed={self.passed} contradicts failed={self.failed}: "
                "the gate passes exactly when no criterion failed"
            )
        for name in ("coverage", "baseline"):
            value = getattr(self, name)
            if not isinstance(value, float):
                raise TypeError(f"{name} must be a float percentage, found {value!r} ({type(value).__name__})")
        if not _is_int(self.findings) or self.findings < 0:
            raise TypeError(f"findings must be a non-negative int, found {self.findings!r}")


def python_lines(n: int, name: str = "step") -> str:
    """``n`` lines of plausible, lint-clean Python (small functions) — the body of a generated change."""
    if not _is_int(n) or n < 0:
        raise ValueError(f"n must be a non-negative int (a number of lines), found {n!r}")
    if not name.isidentifier():
        raise ValueError(f"name must be a Python identifier such as 'coupon', found {name!r}")
    out: list[str] = []
    i = 0
    while len(out) < n:
        if n - len(out) >= 4:
            i += 1
            out += [
                f"def {name}_{i}(value: int) -> int:",
                f'    """Step {i} of {name}."""',
                f"    result = value * {i} + {i % 7}",
                "    return result",
                "",
                "",
            ][: n - len(out)]
        else:
            out.append(f"# {name}: note {len(out) + 1}")
    body = out
    while body and body[-1] == "":  # never end with blank lines (ruff W391): a comment takes the last one
        body[-1] = f"# end of {name}"
    return "\n".join(body) + ("\n" if body else "")


def pull_request_steps() -> list[Step]:
    """A project on ``main`` and four open pull-request branches (not merged), then more work on ``main``.

    ============== ============================================ =====================================
    branch          commits                                      what a reviewer sees
    ============== ============================================ =====================================
    pr/coupons      feat(cart) + test(cart)                      ~100 lines, one concern, tests
    pr/repository   refactor(db) + test(db)                      ~330 lines, one concern, tests
    pr/search       feat(search): rewrite                        ~700 lines in one go
    pr/misc         feat(cart), fix(auth), "Fix stuff"           three concerns, no tests
    ============== ============================================ =====================================
    """
    project = {**TINY_PROJECT, "src/cart.py": "ITEMS: list[str] = []\n", "src/auth.py": "TOKEN_TTL = 3600\n"}
    steps: list[Step] = [Commit("chore: start the calc project", files=project, author="alice", after="1h")]

    def branch(name: str, commits: list[tuple[str, str, dict[str, str]]]) -> None:
        steps.append(Branch(name))
        for message, who, files in commits:
            steps.append(Commit(message, author=who, files=files, after="40m"))
        steps.append(Switch("main"))

    branch(
        "pr/coupons",
        [
            ("feat(cart): coupon codes", "bob", {"src/coupons.py": python_lines(62, "coupon")}),
            ("test(cart): cover coupon codes", "bob", {"tests/test_coupons.py": python_lines(38, "test_coupon")}),
        ],
    )
    branch(
        "pr/repository",
        [
            (
                "refactor(db): split the repository layer",
                "carol",
                {
                    "src/db/__init__.py": "",
                    "src/db/reader.py": python_lines(140, "read"),
                    "src/db/writer.py": python_lines(120, "write"),
                },
            ),
            ("test(db): cover reader and writer", "carol", {"tests/test_db.py": python_lines(70, "test_db")}),
        ],
    )
    branch(
        "pr/search",
        [
            (
                "feat(search): rewrite the search engine",
                "dave",
                {
                    "src/search/__init__.py": "",
                    "src/search/index.py": python_lines(310, "index"),
                    "src/search/query.py": python_lines(290, "query"),
                    "tests/test_search.py": python_lines(100, "test_q"),
                },
            ),
        ],
    )
    branch(
        "pr/misc",
        [
            (
                "feat(cart): gift wrapping",
                "erin",
                {"src/cart.py": "ITEMS: list[str] = []\n" + python_lines(30, "wrap")},
            ),
            ("fix(auth): token expiry off by one", "erin", {"src/auth.py": "TOKEN_TTL = 3599\n"}),
            ("Fix stuff", "erin", {"src/calc.py": _CALC + "\n\n" + python_lines(12, "stuff")}),
        ],
    )
    steps.append(
        Commit(
            "docs: usage in the readme",
            author="alice",
            files={"README.md": "# calc\n\nSmall calculations.\n"},
            after="30m",
        )
    )
    return steps


def python_tool(module: str, *args: str) -> list[str]:
    """``[sys.executable, "-m", module, *args]``: a tool of this very environment, whatever ``PATH`` says."""
    return [sys.executable, "-m", module, *args]


def run(
    cmd: Sequence[str],
    cwd: str | os.PathLike[str],
    *,
    timeout: float = 120.0,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` in ``cwd`` and return the completed process (never raises on a non-zero exit code).

    Runs in :func:`labkit.ci.tool_env` plus ``NO_COLOR=1`` (plain text to parse) plus ``env``. On timeout the
    whole process group is killed and a ``TimeoutError`` says which command hung.
    """
    from .ci import tool_env

    if isinstance(cmd, str) or not cmd or not all(isinstance(c, str) for c in cmd):
        raise TypeError(f"cmd must be a non-empty list of str such as ['python', '-m', 'ruff', 'check'], found {cmd!r}")
    folder = Path(cwd)
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot run {cmd[0]!r}: the folder {str(folder)!r} does not exist")
    proc = subprocess.Popen(
        list(cmd),
        cwd=folder,
        env=tool_env({"NO_COLOR": "1", **(env or {})}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):  # it just ended
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise TimeoutError(
            f"`{' '.join(cmd)}` ran longer than {timeout:g} s in {folder}: does it wait for input, or loop forever?"
        ) from None
    return subprocess.CompletedProcess(list(cmd), proc.returncode, out, err)
