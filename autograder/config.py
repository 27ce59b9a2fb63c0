"""The one nbgrader configuration of the course, as a traitlets ``Config`` built for a course root.

Both ``python -m autograder ...`` and plain ``nbgrader ...`` commands (through the repository's
``nbgrader_config.py``, which calls :func:`build_config`) use exactly these settings, so formgrader,
the CLI and the tests never disagree about where files live or how long a cell may run.

Layout (nbgrader's ``{step}/{student}/{assignment}`` with the course's names)::

    <root>/source/weekNN/...            edited by hand (solutions + hidden tests)
    <root>/notebooks/weekNN/...         generated student release
    <root>/submitted/<student>/weekNN/  collected submissions
    <root>/autograded/<student>/weekNN/ graded copies
    <root>/feedback/<student>/weekNN/   HTML feedback
    <root>/gradebook.db                 sqlite gradebook
    <root>/.exchange/                   nbgrader's exchange, course-local (formgrader, Assignment List)

The exchange is course-local because nbgrader's default (``/usr/local/share/nbgrader/exchange``) does not exist
on a laptop or Binder, and then formgrader and the Assignment List show "The exchange directory does not exist".
This course does not move files through the exchange (``python -m autograder collect`` imports submissions from a
folder); ``bash dev.sh instructor`` creates the folder so nbgrader's pages work, and a hub that does use the
exchange sets ``c.Exchange.root`` to its shared folder in its own ``nbgrader_config.py``.
"""

from __future__ import annotations

from pathlib import Path

from traitlets.config import Config

from .late import load_schedule
from .limits import cell_timeout

COURSE_ID = "devops-tbd"
SOURCE_DIR = "source"
RELEASE_DIR = "notebooks"
SUBMITTED_DIR = "submitted"
AUTOGRADED_DIR = "autograded"
FEEDBACK_DIR = "feedback"
GRADEBOOK = "gradebook.db"
EXCHANGE_DIR = ".exchange"

#: matplotlib backend of the grading kernels. matplotlib-inline renders with Agg (no display needed, like plain
#: ``Agg``) but also sends each figure as an ``image/png`` ``display_data`` output, so the graded notebook and the
#: student's feedback keep the plots; with plain ``Agg`` ``plt.show()`` draws nothing anywhere.
GRADING_MPLBACKEND = "module://matplotlib_inline.backend_inline"

#: What the release puts where a solution was.
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"


def gradebook_url(root: str | Path) -> str:
    return f"sqlite:///{Path(root).resolve() / GRADEBOOK}"


def build_config(root: str | Path = ".", *, timeout: int | None = None) -> Config:
    """Return the nbgrader ``Config`` for the course rooted at ``root`` (made absolute)."""
    root = Path(root).resolve()
    c = Config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.source_directory = SOURCE_DIR
    c.CourseDirectory.release_directory = RELEASE_DIR
    c.CourseDirectory.submitted_directory = SUBMITTED_DIR
    c.CourseDirectory.autograded_directory = AUTOGRADED_DIR
    c.CourseDirectory.feedback_directory = FEEDBACK_DIR
    c.CourseDirectory.db_url = gradebook_url(root)
    c.Exchange.root = str(root / EXCHANGE_DIR)

    # nbgrader 0.9.x: the per-cell timeout of the Execute preprocessor used by autograde.
    # A cell that runs longer is interrupted, records a CellTimeoutError and the notebook goes on.
    c.ExecutePreprocessor.timeout = cell_timeout(timeout)
    c.ExecutePreprocessor.interrupt_on_timeout = True
    # quiet kernels: ipykernel 7 warns on stderr about local TCP on every start
    c.Execute.extra_arguments = ["--IPKernelApp.log_level=ERROR"]

    # A student who deletes a graded or locked cell gets it back (and it is scored), not a crash.
    # Our RestoreMissingCells runs first and also restores deleted locked cells that are not graded
    # (the setup cell), which nbgrader alone would leave out.
    c.OverwriteCells.add_missing_cells = True
    c.RestoreMissingCells.source_directory = str(root / SOURCE_DIR)
    c.Autograde.sanitize_preprocessors = [
        "nbgrader.preprocessors.ClearOutput",
        "nbgrader.preprocessors.DeduplicateIds",
        "nbgrader.preprocessors.OverwriteKernelspec",
        "autograder.preprocessors.RestoreMissingCells",
        "nbgrader.preprocessors.OverwriteCells",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]

    # the release tags every test cell `raises-exception` (nbval and a student's run go on past a blank)
    c.GenerateAssignment.preprocessors = [
        "nbgrader.preprocessors.IncludeHeaderFooter",
        "nbgrader.preprocessors.InstantiateTests",
        "nbgrader.preprocessors.LockCells",
        "nbgrader.preprocessors.ClearSolutions",
        "nbgrader.preprocessors.ClearOutput",
        "nbgrader.preprocessors.CheckCellMetadata",
        "nbgrader.preprocessors.ComputeChecksums",
        "nbgrader.preprocessors.SaveCells",
        "nbgrader.preprocessors.ClearHiddenTests",
        "nbgrader.preprocessors.ClearMarkScheme",
        "autograder.preprocessors.TagBlankErrors",
        "nbgrader.preprocessors.ComputeChecksums",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]
    # late submissions: nbgrader's AssignLatePenalties with the course's policy from course.toml (autograder/late.py)
    policy = load_schedule(root).policy
    c.AssignLatePenalties.plugin_class = "autograder.late.PercentPerDayLate"
    c.PercentPerDayLate.percent_per_day = policy.percent_per_day
    c.PercentPerDayLate.max_percent = policy.max_percent
    c.PercentPerDayLate.grace_minutes = policy.grace_minutes

    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
    c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
    c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
    c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"
    return c
