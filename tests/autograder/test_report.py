"""``python -m autograder report`` on the graded class of graded_class.py: each section against what we know."""

from __future__ import annotations

import html
import re
from pathlib import Path

import graded_class as shared
import pytest

from autograder.cli import main
from autograder.course import Course
from autograder.report import common_hashes, exercise_of, similar_pairs

pytestmark = pytest.mark.slow
graded_class = shared.graded_class  # the fixture (graded_class.py)

REMOTE = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE)


@pytest.fixture(scope="module")
def page(graded_class, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["report", "--output", str(out), "--course-dir", str(graded_class.root)]) == 0
    return out.read_text(encoding="utf-8")


def _rows(page: str, section: str, nth: int = 0) -> list[list[str]]:
    """The body rows (cell texts) of the ``nth`` table after ``<h2 id=section>``."""
    start = page.index(f"<h2 id={section}>")
    end = page.find("<h2 ", start + 1)
    tables = re.findall(r"<tbody>(.*?)</tbody>", page[start : end if end > 0 else None], re.DOTALL)
    rows = re.findall(r"<tr>(.*?)</tr>", tables[nth], re.DOTALL)
    cell = re.compile(r"<td[^>]*>(.*?)</td>", re.DOTALL)
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cell.findall(r)] for r in rows]


def test_one_self_contained_file_with_embedded_plots(page: str) -> None:
    assert not REMOTE.search(page) and "<link" not in page and "<script" not in page
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,[A-Za-z0-9+/=]{500,}"', page)
    assert images == ["score distribution per week", "exercises of week90", "exercises of week91", "progress"]
    for section in ("weeks", "exercises", "hardest", "progress", "late", "similar"):
        assert f"<h2 id={section}>" in page


def test_weeks_table_counts_submitted_missing_late(page: str) -> None:
    rows = {r[0]: r for r in _rows(page, "weeks")}
    assert rows["week90"] == ["week90", "2026-09-07 23:59 UTC", "5", "1", "0", "92%", "100%"]
    # week91: 4 submitted, bob's 5 points cost 1 for lateness: (100 + 80 + 100 + 100) / 4 = 95
    assert rows["week91"] == ["week91", "2026-09-14 23:59 UTC", "4", "2", "1", "95%", "100%"]


def test_hardest_checks_lowest_pass_rate_with_the_common_message(page: str) -> None:
    rows = _rows(page, "hardest")
    assert [r[1] for r in rows] == ["w90_fixture_mean_hidden (hidden)", "w90_fixture_mean_visible"]
    hidden, visible = rows
    assert hidden[2:4] == ["80%", "4/5"] and hidden[4] == "CheckFailed (×1)"  # no hidden message quoted
    assert visible[4].startswith("CheckFailed: mean([1, 2]) has type int (1), expected type float (1.5)")


def test_late_and_missing_submissions(page: str) -> None:
    assert "-10% of the score per started day late, at most -50%, 15 min grace" in page
    assert _rows(page, "late", 0) == [["week91", "bob", "2026-09-16 05:59 UTC", "30.0 h", "2", "-1", "4 / 5"]]
    assert _rows(page, "late", 1) == [["week90", "fay"], ["week91", "carol"], ["week91", "fay"]]


def test_near_copy_is_flagged_and_independent_answers_are_not(page: str) -> None:
    rows = _rows(page, "similar")
    assert [(r[0], r[1], r[2]) for r in rows] == [("week90", "w90_fixture_mean", "carol & dave")]
    assert rows[0][3] == "100%"  # renamed variables and an added comment do not hide the copy
    assert "acc = acc + item" in rows[0][4] and "total = total + value" in rows[0][4]  # both answers shown


def test_similarity_threshold_and_common_code(graded_class) -> None:
    course = Course(graded_class.root)
    pairs = similar_pairs(course, ["week90", "week91"], threshold=0.5)
    flagged = {(p.exercise, p.first, p.second) for p in pairs}
    assert ("w90_fixture_mean", "carol", "dave") in flagged
    assert not any("erin" in (p.first, p.second) for p in pairs)  # statistics.fmean: an independent answer
    # four students wrote the one-line reference mean in week91: common code, like the stub, is not a copy
    assert not any(p.assignment == "week91" for p in pairs)
    assert common_hashes([{1, 2}, {1, 3}, {1, 4}, {5}]) == {1}  # in 3 of 4 answers
    assert common_hashes([{1, 2}, {1, 3}]) == set()  # a pair always stays comparable


def test_exercise_of_test_cells() -> None:
    assert exercise_of("w03_lead_time_median_hidden") == "w03_lead_time_median"
    assert exercise_of("w03_lead_time_median_visible") == "w03_lead_time_median"
    assert exercise_of("w03_reflection_1") == "w03_reflection_1"


def test_report_cli_rejects_a_bad_threshold(graded_class, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["report", "--similarity", "0", "--output", str(tmp_path / "r.html"), "--course-dir", str(graded_class.root)]
    assert main(argv) == 2
    assert "--similarity must be in (0, 1]" in capsys.readouterr().err


def test_progress_is_plain_iteration_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from autograder.errors import log
    from autograder.progress import progress

    handlers = list(log.handlers)
    assert list(progress(["week01", "week02"], "release", "week")) == ["week01", "week02"]
    assert log.handlers == handlers and capsys.readouterr().err == ""  # no bar drawn into a captured stream


def test_one_bar_for_every_command_drawn_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    """grade and the iterating commands share autograder.progress.bar: shown on request, silent otherwise."""
    from autograder.progress import bar

    with bar(3, "grade week01", "nb", initial=1, show=True) as b:
        b.update(2)
        b.set_postfix_str("execute 8.0 s")
    drawn = capsys.readouterr().err
    assert "grade week01" in drawn and "3/3" in drawn and "execute 8.0 s" in drawn
    with bar(3, "grade week01", "nb", show=False) as b:
        b.update(3)
    assert capsys.readouterr().err == ""
