"""Short ✘ messages instead of tracebacks in Jupyter, for the two errors every student meets.

A failed visible check (:class:`labkit.checks.CheckFailed`) and an exercise that is not answered yet (the
release's stub ``raise NotImplementedError()``) are expected, not bugs: the student needs one sentence saying
what to do next, not 18 lines of frames inside ``labkit``. The exception still propagates, so the cell is still
an error for Run All's bookkeeping, nbgrader (which scores a cell by its error output) and nbval.

How it reaches the screen (IPython's public hooks only):

* ``CheckFailed._render_traceback_`` returns :func:`check_failed_lines`; IPython's ``showtraceback`` uses that
  instead of the frames (the hook otter-grader and ipyparallel use for the same reason);
* :func:`install` (called by ``labkit.course.setup(N)``) registers :func:`not_answered_handler` with
  ``shell.set_custom_exc((NotImplementedError,), ...)``. It gives the exception instance the same
  ``_render_traceback_`` and re-shows it with ``shell.showtraceback``; a ``NotImplementedError`` raised by a
  library rather than by notebook code keeps its full traceback.

The full traceback stays one click away: after the cell ends, a collapsed ``<details>`` output holds it.

Under nbgrader's autograder (``NBGRADER_EXECUTION=autograde``) nothing is registered: the grading kernel's
integrity guard treats any change to the shell's exception machinery as tampering, grading does not need the
pretty form, and the short message alone (no grader paths) is what feedback shows.
"""

from __future__ import annotations

import html
import linecache
import os
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

__all__ = [
    "CROSS",
    "check_failed_lines",
    "not_answered_lines",
    "full_traceback_html",
    "render",
    "install",
    "not_answered_handler",
    "grading",
]

CROSS = "\u2718"
_RED = "\x1b[31m"
_RESET = "\x1b[0m"


def grading() -> bool:
    """True inside nbgrader's autograder (nbgrader sets ``NBGRADER_EXECUTION``: documented in its FAQ)."""
    return os.environ.get("NBGRADER_EXECUTION") == "autograde"


def check_failed_lines(message: str) -> list[str]:
    """The structured traceback of a failed check: the message, marked with a red ✘, and nothing else."""
    lines = str(message).splitlines() or ["a visible check failed"]
    return [f"{_RED}{CROSS} {lines[0]}{_RESET}", *(f"  {ln}" for ln in lines[1:])]


def not_answered_lines(function: str | None) -> list[str]:
    """What to do when the stub ``raise NotImplementedError()`` ran (``function``: the stub's function, if any)."""
    if function:
        head = f"{CROSS} This exercise is not answered yet: `{function}` still raises NotImplementedError."
        todo = [
            f"  Write your solution in the cell that defines `{function}` (replace `raise NotImplementedError()`),",
            "  run that cell, then run this one again.",
        ]
    else:
        head = f"{CROSS} This exercise is not answered yet."
        todo = ["  Write your solution in this cell (replace `raise NotImplementedError()`), then run it again."]
    return [f"{_RED}{head}{_RESET}", *todo]


def full_traceback_html(exc: BaseException) -> str:
    """A collapsed ``<details>`` block with the usual Python traceback of ``exc`` (plain text, escaped)."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return (
        '<details class="labkit-traceback"><summary>full traceback (for debugging)</summary>'
        f"<pre>{html.escape(text)}</pre></details>"
    )


def _show_details_after_cell(exc: BaseException) -> None:
    """Display the full traceback once the failing cell has finished (so it comes after the ✘ message)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - Jupyter always has IPython
        return
    shell = get_ipython()
    if shell is None or grading():
        return

    def once(*_: Any) -> None:
        shell.events.unregister("post_run_cell", once)
        display({"text/html": full_traceback_html(exc), "text/plain": ""}, raw=True)

    shell.events.register("post_run_cell", once)


_SCHEDULED = "_labkit_traceback_scheduled"


def render(exc: BaseException, lines: list[str]) -> list[str]:
    """``_render_traceback_`` body: schedule the collapsed full traceback (once), return the short ``lines``.

    IPython asks an exception for its rendering twice per failed cell (the display and the execution result),
    so the exception remembers that its traceback is already on its way.
    """
    if not getattr(exc, _SCHEDULED, False):
        setattr(exc, _SCHEDULED, True)
        _show_details_after_cell(exc)
    return lines


def _innermost(tb: TracebackType | None) -> TracebackType | None:
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb


STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")


def _is_stub(tb: TracebackType) -> bool:
    """The raising line is the release's stub: ``raise NotImplementedError()`` right after ``# YOUR CODE HERE``."""
    filename, lineno = tb.tb_frame.f_code.co_filename, tb.tb_lineno
    here = linecache.getline(filename, lineno).strip()
    before = linecache.getline(filename, lineno - 1).strip() if lineno > 1 else ""
    return (before, here) == STUB


def not_answered_handler(
    shell: Any,
    etype: type[BaseException],
    value: BaseException,
    tb: TracebackType | None,
    tb_offset: int | None = None,
) -> list[str]:
    """IPython custom exception handler for ``NotImplementedError`` (see :func:`install`).

    Raised by the release's stub in notebook code (the frame's globals are the notebook's namespace and the line
    is the stub's), it means "not answered yet": show the ✘ message. Anything else — a library's abstract method,
    a student's own ``raise NotImplementedError("subclass me")`` — is a real error: the full traceback as usual.
    """
    last = _innermost(tb)
    if last is not None and last.tb_frame.f_globals is shell.user_ns and _is_stub(last):
        name = last.tb_frame.f_code.co_name
        lines = not_answered_lines(None if name.startswith("<") else name)
        value._render_traceback_ = lambda: render(value, lines)  # type: ignore[attr-defined]
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    return []


def install(shell: Any | None = None) -> Callable[..., list[str]] | None:
    """Register :func:`not_answered_handler` on the running IPython shell (no-op outside IPython or grading).

    Returns the handler registered, or None when nothing was done. Calling it twice is harmless.
    """
    if grading():
        return None
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover
            return None
        shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return None
    shell.set_custom_exc((NotImplementedError,), not_answered_handler)
    return not_answered_handler
