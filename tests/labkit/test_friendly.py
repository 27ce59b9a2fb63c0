"""labkit.friendly: a failed check and an unanswered stub show a short ✘ message in a real kernel, still as errors."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

from labkit import checks, friendly

ANSI = re.compile(r"\x1b\[[0-9;]*m")

CELLS = [
    "from labkit import checks, course\ncourse.setup(1, quiet=True, needs_git=False)",
    # an answer cell as the release leaves it: the function's body is the stub
    "def lead_time(hours):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
    # its visible test
    "checks.equal(lead_time([1.0]), 1.0, what='lead_time([1.0])')",
    # an answer cell whose stub runs at the top level
    "# YOUR CODE HERE\nraise NotImplementedError()",
    # a failed check with a hint
    "checks.equal(3, 3.0, what='deploys', hint='count deployments as an int')",
    # a NotImplementedError from library code (not the notebook's namespace) keeps its frames
    "import types\nlib = types.ModuleType('lib')\n"
    "exec('def g():\\n    raise NotImplementedError(\"abstract\")', lib.__dict__)\nlib.g()",
    # the student's own abstract method is not the release's stub: a real error, with its frames
    "class Base:\n    def run(self):\n        raise NotImplementedError('subclasses implement run')\n\nBase().run()",
    "print('the last cell ran')",
]


def _run(env: dict[str, str] | None = None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    client = NotebookClient(nb, timeout=60, allow_errors=True, kernel_name="python3")
    with pytest.MonkeyPatch.context() as mp:  # the kernel inherits this process's environment
        for key, value in (env or {}).items():
            mp.setenv(key, value)
        client.execute()
    return nb


def _error(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert len(errors) == 1, f"expected one error output in {cell.source!r}, got {cell.outputs!r}"
    return errors[0]


def _text(err: nbformat.NotebookNode) -> str:
    return ANSI.sub("", "\n".join(err.traceback))


def _details(cell: nbformat.NotebookNode) -> list[str]:
    return [o.data["text/html"] for o in cell.outputs if o.output_type == "display_data" and "text/html" in o.data]


@pytest.fixture(scope="module")
def executed() -> nbformat.NotebookNode:
    return _run()


def test_unanswered_function_names_the_function_and_what_to_do(executed: nbformat.NotebookNode) -> None:
    cell = executed.cells[2]
    err = _error(cell)
    assert err.ename == "NotImplementedError"  # still an error: nbgrader scores the cell 0, nbval sees it
    text = _text(err)
    assert text.startswith("✘ This exercise is not answered yet: `lead_time` still raises NotImplementedError.")
    assert "the cell that defines `lead_time` (replace `raise NotImplementedError()`)" in text
    assert "File " not in text and "Traceback" not in text and len(err.traceback) == 3
    (details,) = _details(cell)
    assert "<details" in details and "Traceback (most recent call last)" in details and "lead_time" in details
    # the collapsed traceback comes after the ✘ message
    kinds = [o.output_type for o in cell.outputs]
    assert kinds.index("error") < kinds.index("display_data")


def test_unanswered_top_level_stub_says_this_cell(executed: nbformat.NotebookNode) -> None:
    text = _text(_error(executed.cells[3]))
    assert text.startswith("✘ This exercise is not answered yet.")
    assert "in this cell" in text


def test_failed_check_shows_the_message_alone(executed: nbformat.NotebookNode) -> None:
    cell = executed.cells[4]
    err = _error(cell)
    assert err.ename == "CheckFailed"
    assert _text(err).splitlines() == [
        "✘ deploys has type int (3), expected type float (3.0).",
        "  Hint: count deployments as an int",
    ]
    (details,) = _details(cell)
    assert "labkit/checks.py" in details  # the frames are one click away, not gone


def test_library_not_implemented_keeps_the_full_traceback(executed: nbformat.NotebookNode) -> None:
    text = _text(_error(executed.cells[5]))
    assert "not answered" not in text
    assert "abstract" in text and "g()" in text


def test_a_students_own_not_implemented_error_is_not_called_unanswered(executed: nbformat.NotebookNode) -> None:
    text = _text(_error(executed.cells[6]))
    assert "not answered" not in text
    assert "subclasses implement run" in text and "Base().run()" in text


def test_run_all_goes_past_every_error(executed: nbformat.NotebookNode) -> None:
    last = executed.cells[-1]
    assert [o.get("text") for o in last.outputs] == ["the last cell ran\n"]


def test_under_the_autograder_nothing_is_registered_and_the_check_is_still_short() -> None:
    nb = _run({"NBGRADER_EXECUTION": "autograde"})
    err = _error(nb.cells[2])
    assert "Traceback" in _text(err) or "File " in _text(err) or "lead_time" in _text(err)
    assert "not answered" not in _text(err)  # no handler under grading: the integrity guard would flag it
    check = nb.cells[4]
    assert _text(_error(check)).startswith("✘ deploys has type int")
    assert _details(check) == []  # no extra outputs in graded notebooks


def test_lines_and_html_are_plain_functions() -> None:
    assert friendly.check_failed_lines("a\nb") == [f"\x1b[31m{friendly.CROSS} a\x1b[0m", "  b"]
    assert friendly.check_failed_lines("") == [f"\x1b[31m{friendly.CROSS} a visible check failed\x1b[0m"]
    try:
        checks.true(False, "x < 1 & y > 2")
    except checks.CheckFailed as exc:
        html = friendly.full_traceback_html(exc)
    assert "x &lt; 1 &amp; y &gt; 2" in html and html.startswith("<details")


def test_install_outside_ipython_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert friendly.install(shell=object()) is None
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")

    class Shell:
        def set_custom_exc(self, *_: object) -> None:
            raise AssertionError("must not be called under grading")

    assert friendly.install(shell=Shell()) is None
