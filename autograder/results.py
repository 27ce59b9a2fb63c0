"""What grading produces, as plain data: one :class:`GradeResult` per (student, assignment)."""

from __future__ import annotations

from dataclasses import dataclass, field

#: The status of a manually graded answer no person has scored yet (its score counts 0 until then).
MANUAL = "manual"


@dataclass
class CellResult:
    grade_id: str
    score: float
    max_score: float
    hidden: bool
    status: str  # "passed" | "failed" | "timeout" | "not run" | "manual" (a person has not graded it yet)
    error_type: str | None = None
    message: str = ""

    @property
    def needs_manual_grading(self) -> bool:
        """A manually graded answer (runbook, ADR) with points that no instructor has scored yet."""
        return self.status == MANUAL and self.max_score > 0


@dataclass
class GradeResult:
    student: str
    assignment: str
    notebook: str | None = None
    score: float | None = None
    max_score: float | None = None
    cells: list[CellResult] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def manual_cells(self) -> list[CellResult]:
        """Answers with points that wait for an instructor (formgrader); the autograder cannot score them."""
        return [c for c in self.cells if c.needs_manual_grading]

    @property
    def auto_score(self) -> float | None:
        """The score of the automatically graded cells only (``score`` counts pending manual answers as 0)."""
        return None if self.score is None else self.score - sum(c.score for c in self.manual_cells)

    @property
    def auto_max_score(self) -> float | None:
        return None if self.max_score is None else self.max_score - sum(c.max_score for c in self.manual_cells)

    @property
    def notes(self) -> list[str]:
        notes = []
        if self.restored:
            notes.append("restored deleted cells: " + ", ".join(self.restored))
        for c in self.cells:
            if c.status == "timeout":
                notes.append(f"{c.grade_id} timed out")
        if self.manual_cells:
            pending = sum(c.max_score for c in self.manual_cells)
            notes.append(f"{pending:g} points need manual grading ({', '.join(c.grade_id for c in self.manual_cells)})")
        return notes


def describe(result: GradeResult) -> str:
    """One line for the grade log: ``3/5 (notes)`` or ``error: ...``."""
    if result.error:
        return f"error: {result.error}"
    text = f"{result.score:g}/{result.max_score:g}"
    if result.notes:
        text += " (" + "; ".join(result.notes) + ")"
    return text


@dataclass
class EngineResult(GradeResult):
    """A :class:`GradeResult` with what the engine saw: sandbox, tampering, limits, timings."""

    sandbox: str = ""
    tampering: list[str] = field(default_factory=list)  #: resets done by the guard, changed locked cells
    flags: list[str] = field(default_factory=list)  #: suspicious constructs in student cells (static scan)
    limits: list[str] = field(default_factory=list)  #: limits that were hit, with the cells they cost
    timings: dict[str, float] = field(default_factory=dict)  #: queue, execute, score (seconds)
    resumed: bool = False  #: unchanged since a finished run: kept, not graded again

    @property
    def notes(self) -> list[str]:
        notes = super().notes + self.limits
        if self.tampering:
            shown = "; ".join(self.tampering[:3]) + (
                f"; +{len(self.tampering) - 3} more" if len(self.tampering) > 3 else ""
            )
            notes.append(f"tampering reset: {shown}")
        if self.resumed:
            notes.append("unchanged since the last run: grade kept (--regrade to grade again)")
        return notes
