"""Build nbgrader cells with the right metadata — for authors writing ``source/`` notebooks from a script.

The notebook in ``source/`` stays the single source of truth; these helpers only save typing::

    from autograder.authoring import md, code, setup, solution, visible_tests, hidden_tests, notebook, write
    nb = notebook([md("# Week 1"), setup("w01_setup", "from labkit import checks"), ...])
    write(nb, "source/week01/week01_devops_culture_dora.ipynb")
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

SCHEMA_VERSION = 3


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
    }
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def _src(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(_src(text))


def code(text: str) -> nbformat.NotebookNode:
    """An ordinary (unlocked, ungraded) code cell: a worked example students may change."""
    return new_code_cell(_src(text))


def setup(grade_id: str, text: str) -> nbformat.NotebookNode:
    """The locked first code cell: restored from the gradebook at grading time."""
    return new_code_cell(_src(text), metadata=_meta(grade_id, grade=False, solution=False, locked=True))


def solution(grade_id: str, text: str) -> nbformat.NotebookNode:
    """A solution cell; put the answer between ``### BEGIN SOLUTION`` and ``### END SOLUTION``."""
    body = _src(text)
    if "### BEGIN SOLUTION" not in body:
        raise ValueError(f"solution cell {grade_id} has no ### BEGIN SOLUTION marker")
    return new_code_cell(body, metadata=_meta(grade_id, grade=False, solution=True, locked=False))


def visible_tests(grade_id: str, points: float, text: str) -> nbformat.NotebookNode:
    meta = _meta(grade_id, grade=True, solution=False, locked=True, points=points)
    return new_code_cell(_src(text), metadata=meta)


def hidden_tests(grade_id: str, points: float, comment: str, text: str) -> nbformat.NotebookNode:
    """A locked test cell whose body (all of ``text``) is hidden from students; ``comment`` stays visible."""
    body = f"# {comment.strip()}\n### BEGIN HIDDEN TESTS\n{_src(text)}\n### END HIDDEN TESTS"
    meta = _meta(grade_id, grade=True, solution=False, locked=True, points=points)
    return new_code_cell(body, metadata=meta)


def notebook(cells: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nb


def write(nb: nbformat.NotebookNode, path: str | Path) -> Path:
    """Validate and write without outputs or execution counts."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(nb)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
