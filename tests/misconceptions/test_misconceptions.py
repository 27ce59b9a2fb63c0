"""Every exercise's named misconceptions lose marks on their own exercise (CONVENTIONS.md, "What every week
must show"). One kernel per week: ``harness.run_week`` executes the week once, then swaps each case in.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from conftest import source_weeks
from harness import CaseResult, Misconception, apply_edits, run_week, solution_ids

HERE = Path(__file__).parent
#: weeks whose misconception suites are still to be written, with the issue that tracks them
#: (weeks 1-8 were done for issue 13)
PENDING: dict[str, str] = {}
MIN_CASES = 2


def _cases(week: str) -> list[Misconception]:
    return list(importlib.import_module(week).CASES)


WEEKS = sorted(p.stem for p in HERE.glob("week[0-9][0-9].py"))
PARAMS = [(w, i) for w in WEEKS for i in range(len(_cases(w)))]
_RESULTS: dict[str, list[CaseResult]] = {}


def _result(week: str, i: int) -> CaseResult:
    if week not in _RESULTS:
        _RESULTS[week] = run_week(week, _cases(week))
    return _RESULTS[week][i]


@pytest.mark.parametrize("week", [w for w in source_weeks() if w not in PENDING])
def test_every_exercise_has_misconceptions(week: str) -> None:
    assert week in WEEKS, f"tests/misconceptions/{week}.py is missing (CASES = [Misconception(...), ...])"
    cases = _cases(week)
    counts = {sid: sum(c.exercise == sid for c in cases) for sid in solution_ids(week)}
    few = {sid: n for sid, n in counts.items() if n < MIN_CASES}
    assert not few, f"{week}: exercises with fewer than {MIN_CASES} misconceptions: {few}"
    unknown = sorted({c.exercise for c in cases} - set(counts))
    assert not unknown, f"{week}: misconceptions name unknown exercises {unknown}"
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), f"{week}: misconception names must be unique"


def test_pending_weeks_are_real_weeks() -> None:
    assert set(PENDING) <= set(source_weeks())
    done = sorted(set(PENDING) & set(WEEKS))
    assert not done, f"{done} now have misconception suites: remove them from PENDING"


def test_apply_edits_refuses_ambiguous_or_empty_edits() -> None:
    with pytest.raises(ValueError, match="exactly once"):
        apply_edits("a = 1\na = 1\n", [("a = 1", "a = 2")], what="t")
    with pytest.raises(ValueError, match="exactly once"):
        apply_edits("a = 1\n", [("b", "c")], what="t")
    with pytest.raises(ValueError, match="at least one edit"):
        apply_edits("a = 1\n", [], what="t")
    with pytest.raises(ValueError, match="unchanged"):
        apply_edits("a = 1\n", [("1", "1")], what="t")
    assert apply_edits("x = a + b\n", [("a + b", "a - b")], what="t") == "x = a - b\n"


@pytest.mark.slow
@pytest.mark.parametrize(("week", "i"), PARAMS, ids=[f"{w}-{_cases(w)[i].exercise}-{i}" for w, i in PARAMS])
def test_misconception_loses_marks_on_its_own_exercise(week: str, i: int) -> None:
    result = _result(week, i)
    assert result.cells, f"{result.case.exercise} has no graded test cells"
    assert result.loses_marks, f"scores full marks: {result.describe()}"
    if result.case.passes_visible:
        assert result.passed("visible"), (
            f"marked subtle (passes_visible=True) but the visible check fails: {result.describe()}"
        )
    assert not result.elsewhere, (
        f"while this case was active, other exercises' checks failed (a message bug, not a catch): {result.elsewhere}"
    )
