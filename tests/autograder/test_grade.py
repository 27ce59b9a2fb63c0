"""grade / feedback / export on one graded copy of the fixture course (graded once per module).

Submissions: alice (the solution), bob (a realistic wrong mean), carol (deleted the setup cell and a
visible test cell), erin (an endless loop in double: the per-cell timeout must fire), fay (no notebook).
"""

from __future__ import annotations

import csv
import html
import importlib.util
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.cli import main
from autograder.course import Course
from autograder.errors import AutograderError
from autograder.export import FIXED_COLUMNS, LATE_COLUMNS
from autograder.feedback import hidden_lines
from autograder.grade import grade
from autograder.results import GradeResult
from autograder.samples import fill, write_submission

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
TIMEOUT = 5  # seconds per cell: plenty for the fixture's cells, short for the endless loop


def _variants() -> dict[str, dict[str, str]]:
    spec = importlib.util.spec_from_file_location(
        "fixture_builder", HERE / "fixtures" / "build_fixture_course.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.VARIANTS


@pytest.fixture(scope="module")
def graded(
    released_fixture: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Course, dict[str, GradeResult]]:
    root = tmp_path_factory.mktemp("graded") / "course"
    shutil.copytree(released_fixture, root)
    course = Course(root, timeout=TIMEOUT)
    variants = _variants()
    sub = root / "submitted"
    write_submission(fill("week90", root=root), sub / "alice/week90/week90_fixture.ipynb")
    write_submission(
        fill("week90", variants["wrong_mean"], root=root), sub / "bob/week90/week90_fixture.ipynb"
    )
    nb = fill("week90", root=root)
    drop = {"w90_setup", "w90_fixture_double_visible"}
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in drop]
    write_submission(nb, sub / "carol/week90/week90_fixture.ipynb")
    write_submission(fill("week90", variants["loop"], root=root), sub / "erin/week90/week90_fixture.ipynb")
    (sub / "fay/week90").mkdir(parents=True)
    results = {r.student: r for r in grade(course, "week90", jobs=2)}  # the parallel path
    return course, results


def test_solution_scores_full_marks(graded: tuple[Course, dict[str, GradeResult]]) -> None:
    alice = graded[1]["alice"]
    assert alice.error is None and (alice.score, alice.max_score) == (5.0, 5.0)
    assert [c.status for c in alice.cells] == ["passed"] * 4


def test_wrong_answer_scores_partial_with_the_visible_message(graded) -> None:
    bob = graded[1]["bob"]
    assert (bob.score, bob.max_score) == (3.0, 5.0)
    visible = next(c for c in bob.cells if c.grade_id == "w90_fixture_mean_visible")
    assert visible.status == "failed" and visible.error_type == "CheckFailed"
    assert "mean([1, 2])" in visible.message and "1.5" in visible.message
    hidden = next(c for c in bob.cells if c.grade_id == "w90_fixture_mean_hidden")
    assert hidden.status == "failed" and hidden.message == ""  # hidden messages may quote hidden code


def test_deleted_cells_are_restored_and_graded(graded) -> None:
    carol = graded[1]["carol"]
    assert carol.error is None and carol.score == 5.0
    assert set(carol.restored) == {"w90_setup", "w90_fixture_double_visible"}
    assert any("restored deleted cells" in n for n in carol.notes)


def test_timeout_fires_scores_zero_and_the_batch_continues(graded) -> None:
    erin = graded[1]["erin"]
    statuses = {c.grade_id: c.status for c in erin.cells}
    assert statuses["w90_fixture_double_visible"] == "timeout"
    assert statuses["w90_fixture_mean_visible"] == "passed"  # later cells still ran
    assert erin.score == 2.0
    nb = nbformat.read(graded[0].root / "autograded/erin/week90/week90_fixture.ipynb", as_version=4)
    enames = [
        o.get("ename") for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert "CellTimeoutError" in enames


def test_missing_notebook_is_an_error_not_a_crash(graded) -> None:
    fay = graded[1]["fay"]
    assert fay.error and "no submitted notebook" in fay.error


def test_grade_without_submissions_says_what_to_do(course: Course) -> None:
    with pytest.raises(AutograderError, match="collect week90"):
        grade(course, "week90")
    with pytest.raises(AutograderError, match="at least 1"):
        grade(course, "week90", jobs=0)


def test_grade_cli_single_student_exit_code(graded, capsys: pytest.CaptureFixture[str]) -> None:
    course = graded[0]
    assert main(["grade", "week90", "--student", "fay", "--course-dir", str(course.root)]) == 1
    err = capsys.readouterr().err
    assert "fay" in err and "Traceback" not in err


# ------------------------------------------------------------------ feedback
def _hidden_source_strings(course: Course) -> list[str]:
    nb = nbformat.read(course.source_dir / "week90" / "week90_fixture.ipynb", as_version=4)
    strings = [line for cell in nb.cells for line in hidden_lines(cell.source)]
    assert strings, "the fixture must have hidden tests"
    return strings


def test_feedback_never_shows_hidden_test_code(graded) -> None:
    course = graded[0]
    assert main(["feedback", "week90", "--course-dir", str(course.root)]) == 0
    pages = sorted((course.root / "feedback").glob("*/week90/week90_fixture.html"))
    assert [p.parts[-3] for p in pages] == ["alice", "bob", "carol", "erin"]
    secrets = _hidden_source_strings(course) + ["SECRET_EDGE_CASE", "SECRET_MEAN_CASE", "HIDDEN TESTS"]
    for page in pages:
        text = _page_text(page)
        for secret in secrets:
            assert secret not in text, f"{page} shows hidden test code {secret!r}"
        assert "# Hidden tests: negative numbers." in text  # the visible comment stays
        # the search does see code: visible test lines are found the same way
        assert 'checks.equal(double(2), 4, what="double(2)", hint="multiply by two")' in text


def _page_text(page: Path) -> str:
    """The HTML as a reader sees it: tags (syntax-highlighting spans) removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def _summary(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    return re.sub(r"<[^>]+>", " ", text[text.find("Feedback") :])


def test_feedback_summary_table_and_hidden_status(graded) -> None:
    course = graded[0]
    main(["feedback", "week90", "--student", "bob", "--student", "erin", "--course-dir", str(course.root)])
    bob = _summary(course.root / "feedback/bob/week90/week90_fixture.html")
    assert "Total: 3 / 5" in bob
    assert "hidden tests: failed (CheckFailed)" in bob
    assert "mean([1, 2]) has type int (1), expected type float (1.5)" in bob  # the visible message
    assert "hidden tests: passed" in bob
    erin = _summary(course.root / "feedback/erin/week90/week90_fixture.html")
    assert "failed (timeout)" in erin and "Total: 2 / 5" in erin


# ------------------------------------------------------------------ export
def test_export_columns_and_rows(graded, tmp_path: Path) -> None:
    course = graded[0]
    out = tmp_path / "grades.csv"
    assert main(["export", "--output", str(out), "--course-dir", str(course.root)]) == 0
    with out.open(newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        columns = reader.fieldnames
    assert columns == FIXED_COLUMNS + [
        "w90_fixture_double_visible",
        "w90_fixture_double_hidden",
        "w90_fixture_mean_visible",
        "w90_fixture_mean_hidden",
    ] + LATE_COLUMNS  # appended: the columns before them are what they always were
    by_student = {r["student_id"]: r for r in rows}
    assert [r["student_id"] for r in rows] == sorted(by_student)
    assert by_student["alice"]["score"] == "5" and by_student["alice"]["percent"] == "100.0"
    assert by_student["bob"]["w90_fixture_mean_visible"] == "0" and by_student["bob"]["percent"] == "60.0"
    assert by_student["erin"]["w90_fixture_double_visible"] == "0"
    assert all(r["assignment"] == "week90" and r["max_score"] == "5" for r in rows)
    # stable: a second export is byte-identical
    again = tmp_path / "again.csv"
    main(["export", "--output", str(again), "--course-dir", str(course.root)])
    assert again.read_bytes() == out.read_bytes()


def test_export_without_gradebook_is_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--course-dir", str(tmp_path)]) == 2
    assert "release and grade first" in capsys.readouterr().err
