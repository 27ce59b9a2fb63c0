"""The leaf of the autograder: its error type and its two loggers (imported by every other module).

``log`` is the instructor-facing log (``grade week03: 12 graded ...``); ``nblog`` is nbgrader's own chatty log,
shown with ``--verbose`` and always appended to ``<course>/.nbgrader.log``.
"""

from __future__ import annotations

import logging

log = logging.getLogger("autograder")
nblog = logging.getLogger("autograder.nbgrader")
nblog.propagate = False
nblog.setLevel(logging.INFO)

NBGRADER_LOG = ".nbgrader.log"


class AutograderError(Exception):
    """Expected bad input or state: the message says what was expected, what was found and what to try."""
