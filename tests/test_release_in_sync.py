"""``notebooks/`` is generated from ``source/``: regenerate in a temp dir and require identical files.

The committed release must also carry no solution and no hidden tests: no ``BEGIN SOLUTION``, no
``HIDDEN TESTS`` and none of the (non-trivial) lines of the source solutions.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from conftest import REPO, source_weeks

from autograder.config import BEGIN_SOLUTION, END_SOLUTION
from autograder.feedback import hidden_lines
from autograder.samples import solution_lines

FIX = "run `python -m autograder release --all` and commit notebooks/"
WEEKS = source_weeks()
MIN_LINE = 12  # shorter solution lines ("return x", "pass") are too generic to prove a leak


def _tree(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts
    }


def test_no_release_without_a_source() -> None:
    released = (
        sorted(p.name for p in (REPO / "notebooks").iterdir() if p.is_dir())
        if (REPO / "notebooks").is_dir()
        else []
    )
    stale = [w for w in released if w not in WEEKS]
    assert not stale, f"notebooks/{stale} have no source/ folder; delete them or restore the source ({FIX})"


@pytest.mark.parametrize("week", WEEKS)
def test_release_matches_source(week: str, releases) -> None:
    course = releases.release(week)
    fresh = _tree(course.release_dir / week)
    committed = _tree(REPO / "notebooks" / week)
    assert fresh, f"release of {week} produced nothing"
    missing = sorted(set(fresh) - set(committed))
    extra = sorted(set(committed) - set(fresh))
    changed = sorted(k for k in set(fresh) & set(committed) if fresh[k] != committed[k])
    assert not (missing or extra or changed), (
        f"notebooks/{week} is out of date with source/{week}: missing {missing}, extra {extra}, "
        f"changed {changed}; {FIX}"
    )


def _leaks(source: nbformat.NotebookNode, released: nbformat.NotebookNode) -> list[str]:
    """Solution or hidden-test lines of ``source`` that reappear as whole lines in ``released``."""
    shown = {ln.strip() for cell in released.cells for ln in cell.source.splitlines()}
    secret: list[str] = []
    outside: set[str] = set()  # lines the source also has outside solution/hidden regions are not leaks
    for cell in source.cells:
        inner = solution_lines(cell.source)
        hidden = hidden_lines(cell.source)
        secret += [ln.strip() for ln in inner] + hidden
        private = {ln.strip() for ln in inner} | set(hidden)
        outside |= {ln.strip() for ln in cell.source.splitlines()} - private
    return sorted(
        {
            t
            for t in secret
            if len(t) >= MIN_LINE and not t.startswith("#") and t not in outside and t in shown
        }
    )


@pytest.mark.parametrize("week", WEEKS)
def test_committed_release_has_no_solutions_or_hidden_tests(week: str) -> None:
    sources = sorted((REPO / "source" / week).glob("*.ipynb"))
    for src in sources:
        released = REPO / "notebooks" / week / src.name
        assert released.is_file(), f"notebooks/{week}/{src.name} is missing; {FIX}"
        nb = nbformat.read(released, as_version=4)
        text = "\n".join(c.source for c in nb.cells)
        for marker in (BEGIN_SOLUTION, END_SOLUTION, "BEGIN SOLUTION", "HIDDEN TESTS"):
            assert marker not in text, f"{released.relative_to(REPO)} contains {marker!r}; {FIX}"
        leaks = _leaks(nbformat.read(src, as_version=4), nb)
        assert not leaks, f"{released.relative_to(REPO)} contains solution/hidden lines: {leaks[:5]}"


def test_leak_check_finds_a_copied_solution_line() -> None:
    from autograder.authoring import hidden_tests, md, notebook, solution

    source = notebook(
        [
            md("Example:\n\n    total = sum(values)"),
            solution(
                "w01_x_sum",
                "def f(values):\n    ### BEGIN SOLUTION\n    total = sum(values)\n"
                "    return total * secret_factor\n    ### END SOLUTION",
            ),
            hidden_tests("w01_x_sum_hidden", 1, "Hidden tests.", "assert f([1, 2]) == 3 * secret_factor"),
        ]
    )
    clean = notebook([md("Example:\n\n    total = sum(values)"), md("return total")])
    assert _leaks(source, clean) == []  # the line is also in the source's example: not a leak
    leaky = notebook([md("return total * secret_factor"), md("assert f([1, 2]) == 3 * secret_factor")])
    assert _leaks(source, leaky) == ["assert f([1, 2]) == 3 * secret_factor", "return total * secret_factor"]
