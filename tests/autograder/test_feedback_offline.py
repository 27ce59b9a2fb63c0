"""Feedback pages keep the student's plots, show tracebacks relative to the notebook, and load nothing remotely."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import graded_class as shared
import nbformat
import pytest

from autograder.cli import main
from autograder.feedback import grader_prefixes, relative_paths, short_traceback

pytestmark = pytest.mark.slow
graded_class = shared.graded_class  # the fixture (graded_class.py)

REMOTE = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE)


@pytest.fixture(scope="module")
def pages(graded_class) -> dict[str, str]:
    root = graded_class.root
    assert main(["feedback", "week90", "--course-dir", str(root)]) == 0
    return {p.parts[-3]: p.read_text(encoding="utf-8") for p in sorted((root / "feedback").glob("*/week90/*.html"))}


def test_graded_notebook_keeps_the_plot_and_feedback_embeds_it(graded_class, pages: dict[str, str]) -> None:
    nb = nbformat.read(graded_class.root / "autograded/alice/week90/week90_fixture.ipynb", as_version=4)
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 1, "grading must keep plt.show()'s figure as an image/png output"
    # IPython wraps pyplot.draw_if_interactive when the inline backend loads: that is not the student tampering
    assert nb.metadata["autograder"].get("tampering", []) == [], nb.metadata["autograder"]["tampering"]
    assert re.search(r'<img[^>]+src="data:image/png;base64,[A-Za-z0-9+/=]{200,}', pages["alice"])
    assert not re.search(r"<img[^>]+data:image/png", pages["bob"])  # bob drew nothing: the image is alice's plot


def test_feedback_loads_nothing_from_the_network(pages: dict[str, str]) -> None:
    for student, page in pages.items():
        assert not REMOTE.search(page), f"{student}'s feedback loads {REMOTE.search(page)}"
        assert "require.js" not in page and "mathjax" not in page.lower()
        assert "<style" in page  # the lab CSS is inlined, not linked


def test_feedback_has_no_grader_paths(graded_class, pages: dict[str, str]) -> None:
    labkit_repo = str(Path(__file__).resolve().parents[2])
    for student, page in pages.items():
        for path in (str(graded_class.root), labkit_repo, sys.prefix, tempfile.gettempdir() + "/"):
            assert path not in page, f"{student}'s feedback shows the grader path {path}"
    bob = re.sub(r"<[^>]+>", "", pages["bob"])
    # a failed labkit check renders as its message alone (CheckFailed._render_traceback_), also when graded:
    # the student reads what was expected and the hint, not labkit's frames
    assert "✘ mean([1, 2]) has type int (1), expected type float (1.5)." in bob
    assert "Hint: divide with / not //" in bob
    assert "labkit/checks.py" not in bob and "Traceback (most recent call last)" not in bob
    assert "_same_shape(actual, expected, what)" not in bob  # labkit's source lines are not shown


def test_library_frames_collapse_to_their_innermost_location(tmp_path: Path) -> None:
    site = "/opt/venv/lib/python3.11/site-packages"
    frames = [
        "\x1b[31m----\x1b[39m",
        "\x1b[31mValueError\x1b[39m  Traceback (most recent call last)",
        "\x1b[36mCell\x1b[39m In[3], line 2\n----> 2 df.merge(x)\n",
        f"File \x1b[32m{site}/pandas/core/frame.py:10\x1b[39m, in \x1b[36mmerge\x1b[39m(self)\n  10 internals()\n",
        f"File {site}/pandas/core/reshape/merge.py:99, in _validate(a)\n  99 raise ValueError('x')\n",
        "\x1b[31mValueError\x1b[39m: x",
    ]
    out = short_traceback(frames, [(site + "/", ""), *grader_prefixes(tmp_path)])
    assert out[:3] == frames[:3] and out[-1] == frames[-1]
    assert out[3] == "File pandas/core/reshape/merge.py:99, in _validate(a)  (+1 more library frames)"
    assert len(out) == 5 and "internals()" not in "".join(out)


def test_relative_paths_drops_course_and_temporary_folders(tmp_path: Path) -> None:
    prefixes = grader_prefixes(tmp_path)
    tmp = tempfile.gettempdir()
    text = f"wrote {tmp_path}/autograded/x.csv; repo at {tmp}/tmpa1b2c3/repo/.git"
    assert relative_paths(text, prefixes) == "wrote autograded/x.csv; repo at <tmp>/repo/.git"
