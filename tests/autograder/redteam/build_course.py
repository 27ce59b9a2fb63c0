"""Rebuild the red-team fixture course: ``.venv/bin/python tests/autograder/redteam/build_course.py``.

Writes ``tests/autograder/redteam/course/source/week91/week91_redteam.ipynb``: a setup cell and two exercises
whose tests use the three styles graders meet in the wild — ``checks.equal`` (type-strict), ``checks.close`` and a bare
``assert`` with a builtin (``abs``) — 3 + 2 points. ``tests/autograder/redteam/cases.py`` attacks it.
"""

from __future__ import annotations

from pathlib import Path

from autograder.authoring import hidden_tests, md, notebook, setup, solution, visible_tests, write

HERE = Path(__file__).resolve().parent
COURSE = HERE / "course"
ASSIGNMENT = "week91"
NOTEBOOK = "week91_redteam.ipynb"
#: a string only the hidden tests contain: an attack that reads the source notebook finds it
HIDDEN_MARKER = "REDTEAM_HIDDEN_MARKER"


def build() -> Path:
    cells = [
        md("""
        # Week 91 — red-team fixture

        Two small exercises the red-team tests attack.
        """),
        setup("w91_setup", "from labkit import checks"),
        md("## Exercise 1 — double (3 points)\n\nWrite `double(x)` returning `2 * x`."),
        solution(
            "w91_redteam_double",
            """
        def double(x):
            ### BEGIN SOLUTION
            return 2 * x
            ### END SOLUTION
        """,
        ),
        visible_tests(
            "w91_redteam_double_visible",
            2,
            """
        checks.equal(double(2), 4, what="double(2)", hint="multiply by two")
        """,
        ),
        hidden_tests(
            "w91_redteam_double_hidden",
            1,
            "Hidden tests: negative numbers.",
            f"checks.equal(double(-21), -42, what='double(-21) {HIDDEN_MARKER}')",
        ),
        md("## Exercise 2 — mean (2 points)\n\nWrite `mean(values)` returning the mean as a float."),
        solution(
            "w91_redteam_mean",
            """
        ### BEGIN SOLUTION
        def mean(values):
            return sum(values) / len(values)
        ### END SOLUTION
        """,
        ),
        visible_tests(
            "w91_redteam_mean_visible",
            1,
            """
        checks.close(mean([1, 2]), 1.5, what="mean([1, 2])", hint="divide with / not //")
        """,
        ),
        hidden_tests(
            "w91_redteam_mean_hidden",
            1,
            "Hidden tests: sums that do not divide evenly.",
            'assert abs(mean([1, 2, 4]) - 7 / 3) < 1e-9, "mean([1, 2, 4]) should be 7/3"',
        ),
        md("## Key points\n\n- Tests run as the instructor wrote them."),
    ]
    return write(notebook(cells), COURSE / "source" / ASSIGNMENT / NOTEBOOK)


if __name__ == "__main__":
    print(build())
