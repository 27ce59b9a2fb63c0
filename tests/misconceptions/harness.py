"""Mutation testing for exercises: named plausible wrong answers must lose marks on their own exercise.

A week's cases live in ``tests/misconceptions/weekNN.py`` as minimal edits of the reference solution::

    from harness import Misconception

    CASES = [
        Misconception(
            "counts branches that touch the day, not the most open at once",
            exercise="w04_tbd_daily_flow",          # the solution cell's grade id
            edits=[("max(open_now)", "len(touched)")],  # (old, new) on the solution body, each old exactly once
            passes_visible=True,                     # subtle: only the hidden tests catch it
        ),
    ]

How a week runs (one kernel per week, as CONVENTIONS.md asks): the source notebook is executed once from top
to bottom with the reference solutions. Right after an exercise's last test cell has run (and before any later
cell, such as one that stops a server the exercise needs), each of that exercise's cases is swapped in: the
edited solution is executed, followed by every cell from that solution cell to the exercise's last test cell
(worked examples in between included), and the result of each of the exercise's test cells
(``<exercise>_visible``, ``<exercise>_hidden``) is recorded. The reference solution and the non-test cells of
that span are then executed again, restoring the state later exercises rely on. A case "loses marks" when at
least one of its own exercise's graded cells fails.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat import NotebookNode

from autograder.samples import solution_body

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Misconception:
    """One named plausible wrong answer: a minimal edit of the reference solution of ``exercise``."""

    name: str
    exercise: str  #: grade id of the solution cell
    edits: Sequence[tuple[str, str]]  #: (old, new) text replacements; each ``old`` occurs exactly once
    passes_visible: bool = False  #: True where the mistake is subtle: the visible check must pass, hidden catch it
    why: str = ""  #: optional: the real-world reason students make this mistake


@dataclass
class CellResult:
    grade_id: str
    points: float
    passed: bool
    error: str = ""


@dataclass
class CaseResult:
    case: Misconception
    cells: list[CellResult] = field(default_factory=list)
    #: a graded cell of *another* exercise that failed while this case was active (should never happen)
    elsewhere: list[str] = field(default_factory=list)

    @property
    def max_points(self) -> float:
        return sum(c.points for c in self.cells)

    @property
    def points(self) -> float:
        return sum(c.points for c in self.cells if c.passed)

    @property
    def loses_marks(self) -> bool:
        return self.points < self.max_points

    def passed(self, kind: str) -> bool:
        """Whether every ``_visible`` (or ``_hidden``) cell of the exercise passed."""
        return all(c.passed for c in self.cells if c.grade_id.endswith(f"_{kind}"))

    def describe(self) -> str:
        cells = ", ".join(f"{c.grade_id}={'pass' if c.passed else 'FAIL'}" for c in self.cells)
        return f"{self.case.exercise} / {self.case.name!r}: {self.points:g}/{self.max_points:g} ({cells})"


def _meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def apply_edits(reference: str, edits: Sequence[tuple[str, str]], *, what: str) -> str:
    """The reference solution with each (old, new) applied; ``old`` must occur exactly once."""
    if not edits:
        raise ValueError(f"{what}: a misconception needs at least one edit of the reference solution")
    text = reference
    for old, new in edits:
        count = text.count(old)
        if count != 1:
            raise ValueError(
                f"{what}: the text to replace must occur exactly once in the reference solution, "
                f"found {count} times: {old!r}"
            )
        text = text.replace(old, new)
    if text == reference:
        raise ValueError(f"{what}: the edits leave the reference solution unchanged")
    return text


def source_notebook(week: str) -> Path:
    found = sorted((REPO / "source" / week).glob("*.ipynb"))
    if len(found) != 1:
        raise FileNotFoundError(f"expected one notebook in source/{week}, found {len(found)}")
    return found[0]


def solution_ids(week: str) -> list[str]:
    nb = nbformat.read(source_notebook(week), as_version=4)
    return [_meta(c)["grade_id"] for c in nb.cells if _meta(c).get("solution") and c.cell_type == "code"]


class WeekRunner:
    """One kernel holding a week executed with its reference solutions; cases are swapped in and out."""

    def __init__(self, week: str, *, timeout: int = 120) -> None:
        self.week = week
        self.path = source_notebook(week)
        self.nb = nbformat.read(self.path, as_version=4)
        self.timeout = timeout
        self.index = {_meta(c)["grade_id"]: i for i, c in enumerate(self.nb.cells) if _meta(c).get("grade_id")}
        self._client: NotebookClient | None = None

    @contextmanager
    def started(self) -> Iterator[WeekRunner]:
        """The kernel after the whole week has run (cases run here see the state after the last cell)."""
        with self._kernel():
            for i, cell in enumerate(self.nb.cells):
                if cell.cell_type == "code":
                    self._run_reference(i, cell)
            yield self

    def run(self, cases: Sequence[Misconception]) -> list[CaseResult]:
        """Execute the week once; run each case right after its exercise's last test cell."""
        due: dict[int, list[int]] = {}
        for position, case in enumerate(cases):
            due.setdefault(self._span(case.exercise)[1], []).append(position)
        results: list[CaseResult | None] = [None] * len(cases)
        with self._kernel():
            for i, cell in enumerate(self.nb.cells):
                if cell.cell_type == "code":
                    self._run_reference(i, cell)
                for position in due.get(i, []):
                    results[position] = self.run_case(cases[position])
        return [r for r in results if r is not None]

    def _run_reference(self, index: int, cell: NotebookNode) -> None:
        error = self._run(index, cell.source)
        if error:
            gid = _meta(cell).get("grade_id", "")
            raise RuntimeError(f"{self.week}: reference cell {index} {gid} raised: {error}")

    @contextmanager
    def _kernel(self) -> Iterator[None]:
        workdir = Path(tempfile.mkdtemp(prefix=f"misconceptions-{self.week}-"))
        try:
            self._client = NotebookClient(
                copy.deepcopy(self.nb),  # execute_cell stores each executed cell into the client's notebook
                timeout=self.timeout,
                kernel_name="python3",
                allow_errors=True,
                resources={"metadata": {"path": str(workdir)}},
            )
            with self._client.setup_kernel():
                yield
        finally:
            self._client = None
            shutil.rmtree(workdir, ignore_errors=True)

    def _run(self, index: int, source: str) -> str:
        """Execute ``source`` in the kernel as cell ``index``; return '' or 'ErrorType: message'."""
        assert self._client is not None, "use `with runner.started():`"
        cell = nbformat.v4.new_code_cell(source)
        self._client.execute_cell(cell, index, store_history=False)
        for out in cell.outputs:
            if out.get("output_type") == "error":
                return f"{out.get('ename')}: {str(out.get('evalue'))[:300]}"
        return ""

    def _span(self, exercise: str) -> tuple[int, int]:
        if exercise not in self.index or not _meta(self.nb.cells[self.index[exercise]]).get("solution"):
            raise KeyError(
                f"{self.week} has no solution cell {exercise!r}; its solution cells are {solution_ids(self.week)}"
            )
        start = self.index[exercise]
        tests = [self.index[g] for g in (f"{exercise}_visible", f"{exercise}_hidden") if g in self.index]
        if not tests:
            raise KeyError(f"{self.week}: exercise {exercise} has no {exercise}_visible/_hidden test cell")
        return start, max(tests)

    def run_case(self, case: Misconception) -> CaseResult:
        start, end = self._span(case.exercise)
        reference = solution_body(self.nb.cells[start].source)
        wrong = apply_edits(reference, case.edits, what=f"{self.week} {case.exercise} {case.name!r}")
        result = CaseResult(case)
        try:
            self._run(start, wrong)
            for i in range(start + 1, end + 1):
                cell = self.nb.cells[i]
                if cell.cell_type != "code":
                    continue
                meta = _meta(cell)
                error = self._run(i, cell.source)
                gid = meta.get("grade_id", "")
                if meta.get("grade"):
                    if gid.startswith(case.exercise + "_"):
                        result.cells.append(CellResult(gid, float(meta.get("points") or 0), not error, error))
                    elif error:
                        result.elsewhere.append(f"{gid}: {error}")
        finally:
            self._run(start, reference)
            for i in range(start + 1, end + 1):
                cell = self.nb.cells[i]
                if cell.cell_type == "code" and not _meta(cell).get("grade"):
                    self._run(i, cell.source)
        return result


def run_week(week: str, cases: Sequence[Misconception]) -> list[CaseResult]:
    return WeekRunner(week).run(cases)
