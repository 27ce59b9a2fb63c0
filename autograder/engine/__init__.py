"""The grading engine: parallel, sandboxed, resumable — and the same scores as ``nbgrader autograde``.

``python -m autograder grade weekNN`` uses it (``--engine nbgrader`` keeps nbgrader's serial autograde as the
reference). Per submission:

1. **check** (parent): the files are the released notebook names, UTF-8, valid nbformat-4 JSON, not huge —
   else a clear error for that submission only;
2. **sanitise** (parent): nbgrader's own ``Autograde`` converter with its sanitising preprocessors
   (:mod:`.phases`: ClearOutput, DeduplicateIds, OverwriteKernelspec, our RestoreMissingCells, OverwriteCells with
   add_missing_cells, CheckCellMetadata): student, submission and timestamp go into the gradebook, locked
   cells and points are restored from it, and every difference from the release is reported
   (:func:`locked_cell_changes`);
3. **execute** (a worker process, one per core, or a Dask worker on another machine with ``--cluster``): a
   fresh kernel in the sandbox (:mod:`autograder.sandbox`), run by nbgrader's ``Execute`` preprocessor, with
   the integrity guard (:mod:`autograder.integrity`) before every locked or graded cell, the kept output
   capped, a per-cell timeout (interrupt, then kill) and a total wall-clock cap; a dead or killed kernel
   scores 0 for the cells it could not run, with the reason;
4. **score** (parent, the single gradebook writer): nbgrader's autograde preprocessors minus ``Execute``
   (IgnorePattern, ClearMetadata, LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata) on the
   executed notebook; then one line in the journal ``<course>/.autograder/journal/weekNN.jsonl``.

Resumable: a submission whose bytes, source notebooks and grading settings match a journal line (and whose
grade is in the gradebook) is not graded again; ``--regrade`` grades everything.


Where each piece runs::

    engine/admission.py  grader   is the submission gradable? what changed? (reads files only)
    engine/phases.py     grader   nbgrader's Autograde, split into sanitize and score
    engine/journal.py    grader   resumable journal; the gradebook kept in memory while kernels run
    engine/grader.py     grader   the batch: prepare, hand to an executor, score; single gradebook writer
    engine/pool.py       grader   executor: a pool of worker processes on this machine (the default)
    engine/cluster.py    both     executor: a Dask cluster (``--cluster``); the worker plugin and task
    engine/worker.py     worker   one submission in a fresh sandboxed kernel (plain data in and out)
    engine/reaper.py     worker   die with the grader; no orphan, no daemon
    engine/reference.py  grader   plain ``nbgrader autograde``, serial per student: the reference
    ../sandbox.py        worker   how the kernel command is wrapped (bwrap, container, user, none)
    ../guard.py          kernel   the in-kernel integrity guard (standard library only)
"""

from __future__ import annotations

from ..limits import EngineOptions
from ..results import EngineResult
from .admission import check_submission, locked_cell_changes, settings_fingerprint, submission_checksum
from .grader import Grader, grade_parallel
from .journal import GradebookSnapshot, Journal

__all__ = [
    "EngineOptions",
    "EngineResult",
    "GradebookSnapshot",
    "Grader",
    "Journal",
    "check_submission",
    "grade_parallel",
    "locked_cell_changes",
    "settings_fingerprint",
    "submission_checksum",
]
