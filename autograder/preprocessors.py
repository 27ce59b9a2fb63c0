"""Our additions to nbgrader's pipelines: put back locked cells a student deleted; tag the release's tests.

:class:`TagBlankErrors` (release): every test cell and answer cell of the released notebook carries the
``raises-exception`` tag, because in the blank a test calls student code that raises ``NotImplementedError``
and an answer cell that is not a function definition raises it itself. A worked example that uses a student's
answer carries the same tag in ``source/`` (CONTRIBUTING.md). nbval (``--nbval-lax``)
then accepts that error and goes on with the next cell, exactly as a student running the notebook does; the
error still counts under grading (nbgrader scores a cell by its outputs, tags play no part).

:class:`RestoreMissingCells` (autograde):

nbgrader's ``OverwriteCells.add_missing_cells`` restores deleted *graded* cells only. A deleted locked cell
that is not graded (the ``wNN_setup`` cell that imports labkit) would stay deleted and every later test would
fail with a ``NameError`` the student cannot understand. This preprocessor runs just before
``OverwriteCells`` and re-inserts every missing locked or graded cell (not solution cells — the student's
answer is theirs) at its place in the source notebook; ``OverwriteCells`` then restores its exact source
from the gradebook. The ids it restored are logged (``Restored deleted cell ...``) for ``grade``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from .cells import RESTORED_MARK

BLANK_ERROR_TAG = "raises-exception"


class TagBlankErrors(NbGraderPreprocessor):
    """Add the ``raises-exception`` tag to the release's test cells and answer cells (both raise in the blank)."""

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and (meta.get("grade") or meta.get("solution")):
            tags = list(cell.metadata.get("tags", []))
            if BLANK_ERROR_TAG not in tags:
                cell.metadata["tags"] = [*tags, BLANK_ERROR_TAG]
        return cell, resources


def _grade_id(cell: NotebookNode) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


class RestoreMissingCells(NbGraderPreprocessor):
    """Re-insert locked/graded cells that are missing from a submission (before ``OverwriteCells``)."""

    source_directory = Unicode("", help="Absolute path of the course's source directory.").tag(config=True)

    def _source_order(self, assignment: str, notebook: str) -> list[str]:
        path = Path(self.source_directory) / assignment / f"{notebook}.ipynb"
        if not path.is_file():
            return []
        nb = nbformat.read(path, as_version=4)
        return [gid for gid in (_grade_id(c) for c in nb.cells) if gid]

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        info = resources["nbgrader"]
        notebook_id, assignment_id = info["notebook"], info["assignment"]
        with Gradebook(info["db_url"]) as gb:
            try:
                source_nb = gb.find_notebook(notebook_id, assignment_id)
            except MissingEntry:
                return nb, resources
            max_scores = {c.name: c.max_score for c in source_nb.grade_cells}
            cells: dict[str, Any] = {
                c.name: dict(name=c.name, cell_type=c.cell_type, locked=c.locked, source=c.source, checksum=c.checksum)
                for c in source_nb.source_cells
            }
        order = [gid for gid in self._source_order(assignment_id, notebook_id) if gid in cells]
        order += [gid for gid in cells if gid not in order]

        present = {gid for gid in (_grade_id(c) for c in nb.cells) if gid}
        for pos, gid in enumerate(order):
            if gid in present:
                continue
            src = cells[gid]
            graded = gid in max_scores
            if not (src["locked"] or graded):
                continue  # a deleted solution cell stays deleted: its tests fail and score 0
            meta = {
                "grade": graded,
                "grade_id": gid,
                "locked": bool(src["locked"]),
                "schema_version": 3,
                "solution": False,
                "checksum": src["checksum"],
            }
            if graded:
                meta["points"] = max_scores[gid]
            if src["cell_type"] == "code":
                cell = nbformat.v4.new_code_cell(src["source"], metadata={"nbgrader": meta})
            else:
                cell = nbformat.v4.new_markdown_cell(src["source"], metadata={"nbgrader": meta})
            # insert after the nearest earlier nbgrader cell that is present, else at the top
            index = 0
            for earlier in reversed(order[:pos]):
                if earlier in present:
                    index = 1 + next(i for i, c in enumerate(nb.cells) if _grade_id(c) == earlier)
                    break
            cell.metadata["autograder"] = {"restored": True}
            nb.cells.insert(index, cell)
            present.add(gid)
            self.log.warning("%s %s (%s)", RESTORED_MARK, gid, "graded" if graded else "locked")
        return nb, resources

    def preprocess_cell(  # pragma: no cover
        self, cell: NotebookNode, resources: ResourcesDict, index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        return cell, resources
