"""Build sample submissions from the release: what a student who answered (some) exercises would hand in.

Notebook authors write ``samples/weekNN/<student>.ipynb`` with it::

    from autograder.samples import fill, write_submission
    nb = fill("week03", {"w03_lead_time_median": "def median_lead_time(h):\\n    return 0"})
    write_submission(nb, "samples/week03/bob.ipynb")

``fill`` starts from the RELEASED notebook (``notebooks/weekNN/``), so locked cells carry the release's
checksums exactly as a real student's file would.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from . import config as cfg
from .authoring import write
from .cells import nbgrader_meta
from .errors import AutograderError
from .ids import check_assignment


def solution_body(source: str) -> str:
    """The source solution cell with the ``### BEGIN/END SOLUTION`` marker lines removed."""
    lines = [ln for ln in source.split("\n") if cfg.BEGIN_SOLUTION not in ln and cfg.END_SOLUTION not in ln]
    return "\n".join(lines)


def solution_lines(source: str) -> list[str]:
    """Only the lines between the solution markers (what the release must never contain)."""
    out: list[str] = []
    inside = False
    for line in source.split("\n"):
        if cfg.BEGIN_SOLUTION in line:
            inside = True
        elif cfg.END_SOLUTION in line:
            inside = False
        elif inside:
            out.append(line)
    return out


def _one(folder: Path, what: str) -> Path:
    found = sorted(folder.glob("*.ipynb"))
    if len(found) != 1:
        raise AutograderError(f"expected exactly one notebook in {folder} ({what}), found {len(found)}")
    return found[0]


def fill(
    assignment: str,
    answers: Mapping[str, str | None] | None = None,
    *,
    root: str | Path = ".",
) -> NotebookNode:
    """The released notebook of ``assignment`` with every solution cell answered.

    Each solution cell gets the source solution (markers removed) unless its grade id is in ``answers``:
    a string replaces the whole cell body, ``None`` keeps the release's blank stub.
    """
    root = Path(root)
    check_assignment(assignment)
    released = nbformat.read(
        _one(root / cfg.RELEASE_DIR / assignment, f"release; run python -m autograder release {assignment}"),
        as_version=4,
    )
    source = nbformat.read(_one(root / cfg.SOURCE_DIR / assignment, "source"), as_version=4)
    solutions = {nbgrader_meta(c)["grade_id"]: c.source for c in source.cells if nbgrader_meta(c).get("solution")}
    answers = dict(answers or {})
    unknown = sorted(set(answers) - set(solutions))
    if unknown:
        raise AutograderError(
            f"{assignment} has no solution cell {unknown}; its solution cells are {sorted(solutions)}"
        )
    for cell in released.cells:
        meta = nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if not meta.get("solution") or gid not in solutions:
            continue
        if gid in answers:
            answer = answers[gid]
            if answer is not None:
                cell.source = answer
        else:
            cell.source = solution_body(solutions[gid])
    return released


def write_submission(nb: NotebookNode, path: str | Path) -> Path:
    """Write ``nb`` as a student would save it: valid nbformat 4, no outputs."""
    return write(nb, path)
