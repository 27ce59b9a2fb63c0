"""Every course notebook in ``source/`` against the authoring contract (CONTRIBUTING.md).

Static checks are fast; the ``slow`` ones release the week into a temporary course (once per session) and
grade the source solution (must be full marks, and — nbval-style — no cell of it may raise) and the released
blank (must be 0). Nothing is skipped: a new ``source/weekNN/*.ipynb`` is picked up automatically.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from conftest import REPO, source_notebooks

from autograder.config import BEGIN_HIDDEN, BEGIN_SOLUTION, END_HIDDEN, END_SOLUTION
from autograder.ids import ASSIGNMENT_RE, check_grade_id, check_notebook_name

NOTEBOOKS = source_notebooks()
IDS = [str(p.relative_to(REPO / "source")) for p in NOTEBOOKS]


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


#: Ids of manually graded answers (markdown cells an instructor reads and scores in formgrader).
MANUAL_SUFFIXES = ("_manual",) + tuple(f"_reflection_{k}" for k in range(1, 10))


def _is_manual_answer(cell) -> bool:
    """A markdown cell that is both solution and grade: nbgrader's "manually graded answer" (formgrader)."""
    meta = _meta(cell)
    return cell.cell_type == "markdown" and bool(meta.get("solution")) and bool(meta.get("grade"))


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "no source/weekNN/*.ipynb found"


@pytest.fixture(params=NOTEBOOKS, ids=IDS)
def nb_path(request: pytest.FixtureRequest) -> Path:
    return request.param


@pytest.fixture
def nb(nb_path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(nb_path, as_version=4)
    nbformat.validate(nb)
    return nb


def test_ids_follow_the_conventions(nb_path: Path, nb: nbformat.NotebookNode) -> None:
    assignment = nb_path.parent.name
    assert ASSIGNMENT_RE.match(assignment), f"folder {assignment!r} is not weekNN"
    check_notebook_name(assignment, nb_path.name)
    ids = [_meta(c)["grade_id"] for c in nb.cells if _meta(c).get("grade_id")]
    for gid in ids:
        check_grade_id(assignment, gid)
    dupes = sorted({g for g in ids if ids.count(g) > 1})
    assert not dupes, f"grade ids used twice: {dupes}"


def test_first_code_cell_is_the_locked_setup_cell(nb_path: Path, nb: nbformat.NotebookNode) -> None:
    first = next(c for c in nb.cells if c.cell_type == "code")
    nn = nb_path.parent.name.removeprefix("week")
    meta = _meta(first)
    assert meta.get("grade_id") == f"w{nn}_setup", "the first code cell must be the setup cell w{nn}_setup"
    assert meta.get("locked") is True and not meta.get("grade") and not meta.get("solution")


def test_no_outputs_or_execution_counts(nb: nbformat.NotebookNode) -> None:
    dirty = [
        n
        for n, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count is not None)
    ]
    assert not dirty, f"cells {dirty} carry outputs or execution counts; clear them before committing"


def test_solution_and_test_cells_carry_nbgrader_metadata(nb: nbformat.NotebookNode) -> None:
    graded = 0
    for n, cell in enumerate(nb.cells):
        meta, src = _meta(cell), cell.source
        where = f"cell {n} ({meta.get('grade_id', 'no grade id')})"
        if BEGIN_SOLUTION in src or END_SOLUTION in src:
            assert meta.get("solution") is True, f"{where} has solution markers but no solution metadata"
            assert src.count(BEGIN_SOLUTION) == src.count(END_SOLUTION) >= 1, f"{where}: unbalanced markers"
        manual = _is_manual_answer(cell)
        if meta.get("solution") and not manual:
            assert BEGIN_SOLUTION in src, f"{where} is a solution cell without ### BEGIN SOLUTION"
        if BEGIN_HIDDEN in src or END_HIDDEN in src:
            assert meta.get("grade") and meta.get("locked"), (
                f"{where} has hidden tests but is not a locked grade cell"
            )
            assert meta["grade_id"].endswith("_hidden"), f"{where}: hidden test cells end in _hidden"
            first = src.lstrip().splitlines()[0]
            assert first.startswith("#") and BEGIN_HIDDEN not in first, (
                f"{where} needs a visible comment first"
            )
        if meta:
            assert meta.get("schema_version") == 3, f"{where}: nbgrader schema_version must be 3"
            assert meta.get("grade_id"), f"{where}: nbgrader cell without grade_id"
        if manual:
            assert meta["grade_id"].endswith(MANUAL_SUFFIXES), (
                f"{where}: a manually graded answer's id ends in one of {MANUAL_SUFFIXES} (e.g. w01_reflection_1)"
            )
            assert meta.get("locked") is False and (meta.get("points") is not None and meta["points"] >= 0), (
                f"{where}: a manually graded answer is unlocked and has points (0 for a reflection)"
            )
            continue
        if meta.get("grade") and cell.cell_type == "markdown":
            raise AssertionError(f"{where}: a graded markdown cell must also be a solution (a manual answer)")
        if meta.get("grade"):
            graded += 1
            assert meta.get("locked") is True, f"{where}: graded cells are locked"
            assert (meta.get("points") or 0) > 0, f"{where}: graded cell without points"
            assert meta["grade_id"].endswith(("_visible", "_hidden")), (
                f"{where}: test ids end _visible/_hidden"
            )
    assert graded, "the notebook has no graded cells"


@pytest.mark.slow
def test_source_executes_without_errors(nb_path: Path, selfchecks) -> None:
    result = selfchecks(nb_path.parent.name)
    assert result.solution.error is None, result.solution.error
    assert not result.execution_errors, "cells of the source raise:\n" + "\n".join(result.execution_errors)


@pytest.mark.slow
def test_source_solution_scores_full_marks(nb_path: Path, selfchecks) -> None:
    result = selfchecks(nb_path.parent.name)
    s = result.solution  # manually graded answers (the capstone's runbook) wait for a person: not autograded
    assert s.error is None and s.auto_score == s.auto_max_score, "\n".join(result.problems) + "\n" + result.table()


@pytest.mark.slow
def test_released_blank_scores_zero(nb_path: Path, selfchecks) -> None:
    result = selfchecks(nb_path.parent.name)
    b = result.blank
    assert b.error is None and b.auto_score == 0, "\n".join(result.problems) + "\n" + result.table()


def test_released_test_and_answer_cells_let_nbval_go_on(nb_path: Path) -> None:
    """In the blank, tests and answer stubs raise NotImplementedError: the release tags them for nbval."""
    released = REPO / "notebooks" / nb_path.parent.name / nb_path.name
    nb = nbformat.read(released, as_version=4)
    untagged = [
        _meta(c)["grade_id"]
        for c in nb.cells
        if c.cell_type == "code"
        and (_meta(c).get("grade") or _meta(c).get("solution"))
        and "raises-exception" not in c.metadata.get("tags", [])
    ]
    assert not untagged, f"released cells without the raises-exception tag: {untagged}; run the release again"
