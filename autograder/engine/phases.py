"""nbgrader's own ``Autograde`` converter, split in two halves around the sandboxed execution.

``sanitize`` (before): ClearOutput, DeduplicateIds, OverwriteKernelspec, RestoreMissingCells, OverwriteCells,
CheckCellMetadata — the student, submission and timestamp go into the gradebook, locked cells and points come
back from it. ``score`` (after): nbgrader's autograde preprocessors without ``Execute`` on the executed
notebook (SaveAutoGrades writes the scores). Both run in the grader's process, the only gradebook writer.
"""

from __future__ import annotations

import os
from typing import Any

from nbgrader import utils
from nbgrader.converters import Autograde
from nbgrader.converters.base import BaseConverter
from nbgrader.preprocessors import Execute

from ..course import Course
from ..errors import nblog


class PhasedAutograde(Autograde):
    """nbgrader's Autograde as two halves: ``sanitize`` and ``score`` (execution happens elsewhere)."""

    phase = "sanitize"

    def init_destination(self, assignment_id: str, student_id: str) -> bool:
        if self.phase == "score":
            return True  # keep the sanitised + executed notebook
        return super().init_destination(assignment_id, student_id)

    def init_assignment(self, assignment_id: str, student_id: str) -> None:
        if self.phase == "score":  # done by the sanitize half; only keep the notebooks it wrote
            dest = self._format_dest(assignment_id, student_id)
            self.notebooks = [
                n
                for n in self.notebooks  # type: ignore[has-type]
                if os.path.exists(os.path.join(dest, os.path.basename(n)))
            ]
            return
        super().init_assignment(assignment_id, student_id)

    def convert_single_notebook(self, notebook_filename: str) -> None:
        if self.phase == "sanitize":
            self.log.info("Sanitizing %s", notebook_filename)
            self._sanitizing = True
            self._init_preprocessors()
            BaseConverter.convert_single_notebook(self, notebook_filename)
            return
        dest = self._format_dest(self.coursedir.assignment_id, self.coursedir.student_id)
        path = os.path.join(dest, os.path.basename(notebook_filename))
        self.log.info("Scoring %s", path)
        self._sanitizing = False
        self._init_preprocessors()
        try:
            with utils.setenv(NBGRADER_EXECUTION="autograde"):
                BaseConverter.convert_single_notebook(self, path)
        finally:
            self._sanitizing = True

    def set_permissions(self, assignment_id: str, student_id: str) -> None:
        if self.phase == "score":
            super().set_permissions(assignment_id, student_id)


#: nbgrader's autograde preprocessors without Execute: the ``score`` half
WITHOUT_EXECUTE = [
    p
    for p in Autograde.class_traits()["autograde_preprocessors"].default()
    if not (isinstance(p, type) and issubclass(p, Execute))
]


def run_phase(course: Course, assignment: str, student: str, phase: str) -> dict[str, Any]:
    """Run the ``sanitize`` or ``score`` half for one submission; nbgrader's run record (success, log)."""
    app = PhasedAutograde(
        coursedir=course.coursedir(assignment_id=assignment, student_id=student),
        config=course.config,
        log=nblog,
    )
    app.phase = phase
    app.force = True
    app.create_student = True
    if phase == "score":
        app.autograde_preprocessors = list(WITHOUT_EXECUTE)
    return course.run_app(app)
