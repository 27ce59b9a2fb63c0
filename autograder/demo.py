"""The README's main job: the whole pipeline on the bundled samples, checked against their goldens.

``python -m autograder demo``: a fresh course in ``build/demo``; release every week in ``source/``; for every
``samples/weekNN/`` collect (roster ``samples/students.csv``), grade and write feedback; export
``build/demo/grades.csv``; print student x week scores and the errors by reason; exit 0 only when every
outcome matches ``samples/weekNN/expected.json``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .collect import collect, read_roster
from .course import Course, copy_source
from .errors import AutograderError, log
from .export import export
from .feedback import feedback
from .grade import default_jobs, grade_many
from .ids import ASSIGNMENT_RE
from .limits import EngineOptions
from .results import GradeResult
from .selfcheck import format_table

SAMPLES = "samples"
ROSTER = "students.csv"
EXPECTED = "expected.json"
MARKER = ".autograder-demo"
TOLERANCE = 1e-6


@dataclass
class Outcome:
    student: str
    assignment: str
    score: float | None = None
    max_score: float | None = None
    error: str | None = None
    notes: tuple[str, ...] = ()
    #: points lost per graded cell (grade id → points), automatic cells only: which checks a sample fails
    lost: dict[str, float] = field(default_factory=dict)

    def cell_text(self) -> str:
        if self.error:
            return "error"
        return f"{self.score:g}/{self.max_score:g}" + ("*" if self.notes else "")


def sample_weeks(repo: Path) -> list[Path]:
    base = repo / SAMPLES
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and ASSIGNMENT_RE.match(p.name))


def run_week(
    course: Course,
    folder: Path,
    roster: dict[str, dict[str, str]],
    *,
    jobs: int | None = None,
    options: EngineOptions | None = None,
) -> dict[str, Outcome]:
    """Collect, grade and give feedback on one ``samples/weekNN`` folder; outcomes by student."""
    return run_weeks(course, [folder], roster, jobs=jobs, options=options)[folder.name]


def run_weeks(
    course: Course,
    folders: list[Path],
    roster: dict[str, dict[str, str]],
    *,
    jobs: int | None = None,
    options: EngineOptions | None = None,
) -> dict[str, dict[str, Outcome]]:
    """Collect every ``samples/weekNN`` folder, grade all submissions in one pool, write feedback."""
    outcomes: dict[str, dict[str, Outcome]] = {}
    work: list[tuple[str, str]] = []
    for folder in folders:
        week = folder.name
        report = collect(course, week, folder, roster, ignore=frozenset({EXPECTED}))
        outcomes[week] = {}
        for err in report.errors:
            key = err.student or err.file
            if key not in outcomes[week]:  # a student's first problem is their outcome
                outcomes[week][key] = Outcome(key, week, error=err.reason)
        work += [(week, s) for s in sorted(report.collected)]
    log.info("grading %d submissions of %d weeks", len(work), len(folders))
    for r in grade_many(course, work, jobs=jobs or default_jobs(), options=options):
        outcomes[r.assignment][r.student] = Outcome(
            r.student, r.assignment, r.score, r.max_score, r.error, tuple(r.notes), lost_points(r)
        )
    for week, by_student in outcomes.items():
        graded = [s for w, s in work if w == week and not by_student[s].error]
        if graded:
            feedback(course, week, graded)
    return {week: dict(sorted(by_student.items())) for week, by_student in outcomes.items()}


def lost_points(result: GradeResult) -> dict[str, float]:
    """Points each automatically graded cell lost (``{"w01_dora_tiers_hidden": 2.0}``); pending manual answers
    (a runbook nobody has scored yet) are not losses."""
    return {
        c.grade_id: c.max_score - c.score
        for c in result.cells
        if c.max_score - c.score > TOLERANCE and not c.needs_manual_grading
    }


def load_expected(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / EXPECTED
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise AutograderError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise AutograderError(f"{path} must map student ids to {{'score', 'max_score'}} or {{'error'}}")
    return data


def compare(assignment: str, expected: dict[str, dict[str, Any]], outcomes: dict[str, Outcome]) -> list[str]:
    """Every way ``outcomes`` differ from ``expected`` (empty list when they match)."""
    problems = []
    for student in sorted(set(expected) | set(outcomes)):
        want, got = expected.get(student), outcomes.get(student)
        where = f"{assignment} {student}"
        if want is None:
            problems.append(f"{where}: no expectation in samples/{assignment}/{EXPECTED} (got {_got(got)})")
        elif got is None:
            problems.append(f"{where}: expected {want} but there is no submission for this student")
        elif "error" in want:
            if not got.error:
                problems.append(f"{where}: expected an error containing {want['error']!r}, got {_got(got)}")
            elif str(want["error"]) not in got.error:
                problems.append(f"{where}: expected an error containing {want['error']!r}, got {got.error!r}")
        else:
            if got.error:
                problems.append(f"{where}: expected score {want.get('score')}, got error {got.error!r}")
                continue
            for key, value in (("score", got.score), ("max_score", got.max_score)):
                if key in want and (value is None or abs(float(want[key]) - value) > TOLERANCE):
                    problems.append(f"{where}: expected {key} {want[key]}, got {value}")
            if "lost" in want:
                problems += _compare_lost(where, want["lost"], got.lost)
    return problems


def _compare_lost(where: str, want: dict[str, float], got: dict[str, float]) -> list[str]:
    """Which checks lost points, and how many: the golden says exactly where a sample's marks went."""
    out = []
    for gid in sorted(set(want) | set(got)):
        w, g = float(want.get(gid, 0.0)), got.get(gid, 0.0)
        if abs(w - g) > TOLERANCE:
            out.append(f"{where}: {gid} expected to lose {w:g} points, lost {g:g}")
    return out


def golden(expected: dict[str, dict[str, Any]], outcomes: dict[str, Outcome]) -> dict[str, dict[str, Any]]:
    """The expected.json that matches ``outcomes`` (keeps an old error substring when it still matches)."""
    out: dict[str, dict[str, Any]] = {}
    for student, got in sorted(outcomes.items()):
        if got.error:
            old = expected.get(student, {}).get("error")
            out[student] = {"error": old if old and old in got.error else got.error}
        else:
            out[student] = {"score": got.score, "max_score": got.max_score, "lost": dict(sorted(got.lost.items()))}
    return out


def _got(o: Outcome | None) -> str:
    if o is None:
        return "nothing"
    return f"error {o.error!r}" if o.error else f"{o.score:g}/{o.max_score:g}"


def fresh_course_dir(path: Path) -> None:
    """Empty ``path`` for a new demo, refusing to delete a folder the demo did not create."""
    if path.exists():
        if any(path.iterdir()) and not (path / MARKER).exists():
            raise AutograderError(
                f"{path} exists and was not created by the demo (no {MARKER}); choose another --course-dir"
            )
        shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / MARKER).write_text("created by python -m autograder demo; deleted and rebuilt on every run\n")


@dataclass
class DemoReport:
    outcomes: dict[str, dict[str, Outcome]]  # week -> student -> outcome
    problems: list[str]
    grades_csv: Path | None

    def table(self, roster: list[str]) -> str:
        weeks = sorted(self.outcomes)
        students = list(roster) + sorted({s for w in weeks for s in self.outcomes[w]} - set(roster))
        rows = [("student", *weeks)]
        for s in students:
            rows.append((s, *(self.outcomes[w][s].cell_text() if s in self.outcomes[w] else "-" for w in weeks)))
        return format_table(rows)

    def errors_by_reason(self) -> list[str]:
        lines = []
        for week in sorted(self.outcomes):
            for student, o in self.outcomes[week].items():
                if o.error:
                    lines.append(f"{week} {student}: {o.error}")
                for note in o.notes:
                    lines.append(f"{week} {student}: note: {note}")
        return lines


def demo(
    repo: str | Path,
    course_dir: str | Path,
    *,
    timeout: int | None = None,
    jobs: int | None = None,
    options: EngineOptions | None = None,
) -> DemoReport:
    repo, course_dir = Path(repo).resolve(), Path(course_dir).resolve()
    weeks_with_source = (
        sorted(p.name for p in (repo / "source").iterdir() if p.is_dir() and ASSIGNMENT_RE.match(p.name))
        if (repo / "source").is_dir()
        else []
    )
    if not weeks_with_source:
        raise AutograderError(f"no source/weekNN folders in {repo}; run the demo from the repository root")
    roster = read_roster(repo / SAMPLES / ROSTER)
    fresh_course_dir(course_dir)
    copy_source(repo, course_dir, weeks_with_source)
    course = Course(course_dir, timeout=timeout)
    log.info("demo: releasing %d weeks into %s", len(weeks_with_source), course_dir)
    for week in weeks_with_source:
        course.release(week)
    problems: list[str] = []
    folders = []
    for folder in sample_weeks(repo):
        if folder.name in weeks_with_source:
            folders.append(folder)
        else:
            problems.append(f"samples/{folder.name} has no source/{folder.name} to grade against")
    outcomes = run_weeks(course, folders, roster, jobs=jobs, options=options)
    for folder in folders:
        problems += compare(folder.name, load_expected(folder), outcomes[folder.name])
    csv_path = export(course, course_dir / "grades.csv")
    return DemoReport(outcomes, problems, csv_path)
