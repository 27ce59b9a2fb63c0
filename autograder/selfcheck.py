"""Check a week both ways: the source solution scores full marks, the released blank scores 0.

The solution run doubles as an nbval-style execution check: any cell of the source that raises is reported.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import config as cfg
from .course import Course, copy_source
from .results import GradeResult

SOLUTION = "selfcheck-solution"
BLANK = "selfcheck-blank"


@dataclass
class SelfCheck:
    assignment: str
    solution: GradeResult
    blank: GradeResult
    #: cells of the source solution that raised (``"<notebook>: cell <n> (<grade id>): Error: msg"``)
    execution_errors: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        out = []
        s, b = self.solution, self.blank
        if s.error:
            out.append(f"source solution could not be graded: {s.error}")
        elif s.auto_score != s.auto_max_score:
            lost = [
                f"{c.grade_id} ({c.error_type}: {c.message})"
                for c in s.cells
                if c.score < c.max_score and not c.needs_manual_grading
            ]
            out.append(
                f"source solution scores {s.auto_score:g}/{s.auto_max_score:g}, not full marks; failing: "
                + "; ".join(lost)
            )
        if not s.error and not s.max_score:
            out.append("the notebook has no graded cells (max score 0)")
        out += [f"source raised: {e}" for e in self.execution_errors]
        if b.error:
            out.append(f"released blank could not be graded: {b.error}")
        elif b.auto_score != 0:
            scoring = [c.grade_id for c in b.cells if c.score > 0 and not c.needs_manual_grading]
            out.append(
                f"released blank scores {b.auto_score:g}, not 0; these test cells pass without student code: "
                + ", ".join(scoring)
            )
        return out

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def manual(self) -> list[str]:
        """Answers with points that only a person can score (runbook, ADR): left out of full marks and of zero."""
        return [f"{c.grade_id} ({c.max_score:g} points)" for c in self.solution.cells if c.needs_manual_grading]

    def table(self) -> str:
        blank = {c.grade_id: c for c in self.blank.cells}
        rows = [("grade id", "max", "solution", "blank")]
        for c in self.solution.cells:
            b = blank.get(c.grade_id)
            if c.needs_manual_grading:
                rows.append((c.grade_id, f"{c.max_score:g}", "manual", "manual"))
                continue
            rows.append((c.grade_id, f"{c.max_score:g}", f"{c.score:g}", f"{b.score:g}" if b else "-"))
        if self.solution.score is not None:
            auto = " (auto)" if self.manual else ""
            rows.append(
                (
                    "TOTAL" + auto,
                    f"{self.solution.auto_max_score:g}",
                    f"{self.solution.auto_score:g}",
                    f"{self.blank.auto_score:g}" if self.blank.auto_score is not None else "-",
                )
            )
        return format_table(rows)


def format_table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in pairs]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _errors(course: Course, assignment: str, student: str) -> list[str]:
    out = []
    for path in sorted(course.step_dir(cfg.AUTOGRADED_DIR, student, assignment).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for n, cell in enumerate(nb.cells):
            for o in cell.get("outputs", []):
                if o.get("output_type") == "error":
                    gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "-")
                    first = (str(o.get("evalue", "")).splitlines() or [""])[0]
                    out.append(f"{path.name}: cell {n} ({gid}): {o.get('ename')}: {first}")
    return out


def check_released(course: Course, assignment: str) -> SelfCheck:
    """Grade the source solution and the released blank in ``course`` (already released)."""
    for student, folder in ((SOLUTION, course.source_dir), (BLANK, course.release_dir)):
        dest = course.step_dir(cfg.SUBMITTED_DIR, student, assignment)
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        for nb in sorted((folder / assignment).glob("*.ipynb")):
            shutil.copy2(nb, dest / nb.name)
    solution = course.autograde(assignment, SOLUTION)
    blank = course.autograde(assignment, BLANK)
    return SelfCheck(assignment, solution, blank, _errors(course, assignment, SOLUTION) if solution.ok else [])


def selfcheck(assignment: str, root: str | Path = ".", *, timeout: int | None = None) -> SelfCheck:
    """Release ``root/source/<assignment>`` into a temporary course and check it both ways."""
    with tempfile.TemporaryDirectory(prefix=f"selfcheck-{assignment}-") as tmp:
        copy_source(Path(root), Path(tmp), [assignment])
        course = Course(tmp, timeout=timeout)
        course.release(assignment)
        return check_released(course, assignment)
