"""``autograder.samples.fill``: sample submissions built from the release plus source solutions."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder.errors import AutograderError
from autograder.samples import fill, solution_body, write_submission


def _sources(nb: nbformat.NotebookNode) -> dict[str, str]:
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells if "nbgrader" in c.metadata}


def test_solution_body_drops_only_marker_lines() -> None:
    src = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"
    assert solution_body(src) == "def f(x):\n    return x"


def test_fill_answers_every_solution_cell(released_fixture: Path) -> None:
    nb = fill("week90", root=released_fixture)
    cells = _sources(nb)
    assert cells["w90_fixture_double"] == "def double(x):\n    return 2 * x"
    assert "BEGIN SOLUTION" not in cells["w90_fixture_mean"]
    assert "sum(values) / len(values)" in cells["w90_fixture_mean"]
    released = _sources(
        nbformat.read(released_fixture / "notebooks/week90/week90_fixture.ipynb", as_version=4)
    )
    for gid in ("w90_setup", "w90_fixture_double_visible", "w90_fixture_double_hidden"):
        assert cells[gid] == released[gid]  # locked cells are the release's, not the source's
    assert "SECRET_EDGE_CASE" not in cells["w90_fixture_double_hidden"]


def test_fill_with_custom_and_blank_answers(released_fixture: Path, tmp_path: Path) -> None:
    nb = fill(
        "week90",
        {"w90_fixture_double": "def double(x):\n    return x", "w90_fixture_mean": None},
        root=released_fixture,
    )
    cells = _sources(nb)
    assert cells["w90_fixture_double"] == "def double(x):\n    return x"
    assert "raise NotImplementedError()" in cells["w90_fixture_mean"]
    path = write_submission(nb, tmp_path / "s" / "bob.ipynb")
    assert nbformat.read(path, as_version=4) == nb


def test_fill_rejects_unknown_grade_id(released_fixture: Path) -> None:
    with pytest.raises(AutograderError, match="w90_fixture_double"):
        fill("week90", {"w90_nope": "x = 1"}, root=released_fixture)


def test_fill_needs_a_release(tmp_path: Path) -> None:
    with pytest.raises(AutograderError, match="release week90"):
        fill("week90", root=tmp_path)
