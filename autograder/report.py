"""The instructor's picture of the class: one self-contained HTML page (``python -m autograder report``).

Sections, each answering a question an instructor asks on Monday morning:

* **Weeks** — how did each week go? Submitted, missing, late; the score distribution (a box per week).
* **Exercises** — which exercise of a week needs another explanation? Per exercise: how many students got full,
  partial or no marks (one stacked bar each).
* **Hardest checks** — which test cells fail most, and with which message? The lowest pass rates first, with the
  most common failure message (a visible check's message; for hidden tests only the error type, since a hidden
  message can quote the hidden test).
* **Progress** — who is falling behind? A student x week heat map of the final percentage (late penalty applied),
  missing weeks marked.
* **Late and missing** — from nbgrader's timestamps and the due dates of ``course.toml`` (:mod:`autograder.late`).
* **Similar answers** — pairs of students whose answer cells to the same exercise are suspiciously alike:
  copydetect's winnowing (Schleimer, Wilkerson and Aiken's MOSS algorithm) on tokens normalised by copydetect (names
  become ``V``/``F``, so renaming variables does not hide a copy), with the released stub as boilerplate (every
  student starts from it) and, as MOSS does, code that most of the class wrote the same way. A flag is a reason to
  look at the two answers, shown side by side, not a verdict; answers shorter than copydetect's noise threshold
  (25 normalised characters) are never compared.

Data: the gradebook (scores, timestamps, through :func:`autograder.export.gradesheet`), the autograded notebooks
(cell results and messages) and the submitted notebooks (answer cells). Plots are matplotlib figures drawn with the
object-oriented API (no pyplot state, no display) and embedded as base64 PNG; the CSS is inline; nothing is loaded
from the network, so the file can be mailed or opened years later.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import itertools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from . import config as cfg
from .cells import nbgrader_meta
from .course import Course
from .export import Gradesheet, gradesheet
from .progress import progress

NOISE = 25  #: copydetect's noise threshold k: k-grams of normalised characters shorter than this are not compared
WINDOW = 1  #: copydetect's default winnowing window (guarantee threshold 25 = noise threshold)
SIMILARITY = 0.5  #: flag a pair when this share of either answer's fingerprinted tokens is in the other


# ------------------------------------------------------------------ data
@dataclass
class CheckStats:
    assignment: str
    grade_id: str
    hidden: bool
    passed: int = 0
    failed: int = 0
    messages: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        total = self.passed + self.failed
        return self.passed / total if total else 1.0


@dataclass
class Pair:
    assignment: str
    exercise: str
    first: str
    second: str
    similarity: float  #: the larger of the two shares
    overlap: int  #: normalised tokens in common
    code: tuple[str, str]


def exercise_of(grade_id: str) -> str:
    """``w03_lead_time_median_hidden`` -> ``w03_lead_time_median`` (a test cell belongs to its exercise)."""
    return re.sub(r"_(visible|hidden)$", "", grade_id)


def check_stats(course: Course, sheet: Gradesheet) -> list[CheckStats]:
    """Pass counts and failure messages of every graded test cell, from the autograded notebooks."""
    stats: dict[tuple[str, str], CheckStats] = {}
    graded = [
        (s["student_id"], a)
        for a, _ in sheet.assignments
        for s in sheet.students
        if sheet.mark(s["student_id"], a).score is not None
    ]
    for student, assignment in progress(graded, "report: reading results", "submission"):
        result = course.scores(assignment, student)
        for c in result.cells:
            st = stats.setdefault((assignment, c.grade_id), CheckStats(assignment, c.grade_id, c.hidden))
            if c.status == "passed":
                st.passed += 1
                continue
            st.failed += 1
            if c.status == "timeout":
                st.messages["timed out (the per-cell time limit)"] += 1
            elif c.hidden or not c.message:
                st.messages[c.error_type or c.status] += 1
            else:
                st.messages[f"{c.error_type}: {c.message}" if c.error_type else c.message] += 1
    return sorted(stats.values(), key=lambda s: (s.rate, s.assignment, s.grade_id))


def answer_cells(path: Path) -> dict[str, str]:
    """Solution cells of a notebook: grade id -> source."""
    nb = nbformat.read(path, as_version=4)
    return {
        str(nbgrader_meta(c)["grade_id"]): str(c.source)
        for c in nb.cells
        if nbgrader_meta(c).get("solution") and nbgrader_meta(c).get("grade_id") and c.cell_type == "code"
    }


def similar_pairs(course: Course, assignments: Iterable[str], threshold: float = SIMILARITY) -> list[Pair]:
    """Pairs of students with alike answers, per exercise (copydetect's winnowing; the released stub ignored)."""
    from copydetect import CodeFingerprint, compare_files  # imports pyplot: only when the report is made

    def fingerprint(code: str, boilerplate: Any = None) -> Any:
        return CodeFingerprint(
            "answer.py", NOISE, WINDOW, boilerplate=boilerplate, fp=io.StringIO(code), language="python"
        )

    pairs: list[Pair] = []
    for assignment in assignments:
        stubs: dict[str, str] = {}
        for released in course.release_dir.joinpath(assignment).glob("*.ipynb"):
            stubs.update(answer_cells(released))
        answers: dict[str, dict[str, str]] = {}  # exercise -> student -> code
        for path in sorted((course.root / cfg.SUBMITTED_DIR).glob(f"*/{assignment}/*.ipynb")):
            for gid, code in answer_cells(path).items():
                if gid in stubs and code.strip() != stubs[gid].strip():
                    answers.setdefault(gid, {})[path.parts[-3]] = code
        for gid, by_student in sorted(answers.items()):
            stub = set(fingerprint(stubs.get(gid, "")).hashes)
            first = {s: fingerprint(code, list(stub)) for s, code in by_student.items()}
            boiler = sorted(stub | common_hashes([p.hashes for p in first.values()]))
            prints = {s: fingerprint(code, boiler) for s, code in by_student.items()}
            for a, b in itertools.combinations(sorted(prints), 2):
                overlap, (sim_a, sim_b), _ = compare_files(prints[a], prints[b])
                similarity = float(max(sim_a, sim_b))
                if overlap and similarity >= threshold:
                    both = (by_student[a], by_student[b])
                    pairs.append(Pair(assignment, gid, a, b, similarity, int(overlap), both))
    return sorted(pairs, key=lambda p: (-p.similarity, p.assignment, p.exercise, p.first, p.second))


def common_hashes(prints: list[set[int]]) -> set[int]:
    """Fingerprints in more than half of the answers (and in at least 3): common code, ignored like the stub.

    MOSS does the same (its ``-m`` option): when most of the class writes ``return sum(values) / len(values)``,
    that line is the natural answer, not evidence that two students copied each other.
    """
    counts = Counter(h for p in prints for h in p)
    limit = max(2, len(prints) // 2)
    return {h for h, n in counts.items() if n > limit}


# ------------------------------------------------------------------ figures
def png(fig: Figure) -> str:
    """The figure as an ``<img>`` with a base64 ``data:`` URI (the page stays one file)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(str(fig.get_label()))}" src="data:image/png;base64,{data}">'


def percent(sheet: Gradesheet, student: str, assignment: str) -> float | None:
    m = sheet.mark(student, assignment)
    if m.final is None or not m.max_score:
        return None
    return 100.0 * m.final / m.max_score


def weeks_figure(sheet: Gradesheet) -> Figure:
    names = [a for a, _ in sheet.assignments]
    data = [
        [p for s in sheet.students if (p := percent(sheet, s["student_id"], a)) is not None] or [float("nan")]
        for a in names
    ]
    fig = Figure(figsize=(max(5.0, 0.45 * len(names) + 2), 3.2), label="score distribution per week")
    ax = fig.subplots()
    ax.boxplot(data, showmeans=True)
    ax.set_xticks(range(1, len(names) + 1), names, rotation=45 if len(names) > 8 else 0)
    ax.set_ylabel("final score (%)")
    ax.set_ylim(-5, 105)
    ax.set_title("Score distribution per week (submitted only; triangle = mean)")
    return fig


def exercises_figure(assignment: str, stats: list[CheckStats], sheet: Gradesheet) -> Figure:
    """Full / partial / zero marks per exercise of one week (exercise = its test cells' points summed)."""
    exercises = sorted({exercise_of(s.grade_id) for s in stats if s.assignment == assignment})
    buckets = {e: [0, 0, 0] for e in exercises}
    maximum: dict[str, float] = {}
    for (a, gid), points in sheet.cell_max.items():
        if a == assignment:
            maximum[exercise_of(gid)] = maximum.get(exercise_of(gid), 0.0) + points
    for student in sheet.students:
        mark = sheet.mark(student["student_id"], assignment)
        if mark.score is None:
            continue
        got: dict[str, float] = {}
        for gid, pts in mark.cells.items():
            got[exercise_of(gid)] = got.get(exercise_of(gid), 0.0) + pts
        for e in exercises:
            buckets[e][_bucket(got.get(e, 0.0), maximum.get(e, 0.0))] += 1
    fig = Figure(figsize=(6.4, 0.45 * len(exercises) + 1.2), label=f"exercises of {assignment}")
    ax = fig.subplots()
    left = [0] * len(exercises)
    for i, (name, colour) in enumerate((("full marks", "#2e7d32"), ("partial", "#f9a825"), ("zero", "#c62828"))):
        counts = [buckets[e][i] for e in exercises]
        ax.barh(exercises, counts, left=left, color=colour, label=name)
        left = [x + c for x, c in zip(left, counts, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("students")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    ax.set_title(f"{assignment}: marks per exercise")
    return fig


def _bucket(points: float, maximum: float) -> int:
    if maximum and points >= maximum:
        return 0
    return 1 if points > 0 else 2


def progress_figure(sheet: Gradesheet) -> Figure:
    names = [a for a, _ in sheet.assignments]
    students = [s["student_id"] for s in sheet.students]
    grid = [[percent(sheet, s, a) for a in names] for s in students]
    fig = Figure(figsize=(max(5.0, 0.4 * len(names) + 2.5), 0.32 * len(students) + 1.5), label="progress")
    ax = fig.subplots()
    cmap = ListedColormap(["#c62828", "#ef6c00", "#f9a825", "#9ccc65", "#2e7d32"]).with_extremes(bad="#d0d0d0")
    values = [[float("nan") if v is None else v for v in row] for row in grid]
    image = ax.imshow(values, cmap=cmap, vmin=0, vmax=100, aspect="auto")
    for y, row in enumerate(grid):
        for x, v in enumerate(row):
            ax.text(x, y, "—" if v is None else f"{v:.0f}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(names)), names, rotation=45 if len(names) > 8 else 0)
    ax.set_yticks(range(len(students)), students)
    fig.colorbar(image, ax=ax, label="final score (%)")
    ax.set_title("Progress: final score per student and week (grey — = missing)")
    return fig


# ------------------------------------------------------------------ html
CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222; line-height: 1.4; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f7f7f7; padding: 0.5rem; overflow-x: auto; font-size: 0.8rem; margin: 0; }
img { max-width: 100%; } .muted { color: #666; } .pair { display: grid; grid-template-columns: 1fr 1fr; gap: 0.5rem; }
"""


def _table(header: list[str], rows: Iterable[list[str]], numeric: frozenset[int] = frozenset()) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td{' class=num' if i in numeric else ''}>{c}</td>" for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _e(text: object) -> str:
    return html.escape(str(text))


def weeks_section(sheet: Gradesheet) -> str:
    rows = []
    for name, max_score in sheet.assignments:
        marks = [sheet.mark(s["student_id"], name) for s in sheet.students]
        done = [m for m in marks if m.score is not None]
        finals = sorted(100.0 * (m.final or 0.0) / max_score for m in done) if max_score else []
        median = f"{finals[len(finals) // 2]:.0f}%" if finals else "—"
        mean = f"{sum(finals) / len(finals):.0f}%" if finals else "—"
        due = sheet.due.get(name)
        rows.append(
            [
                _e(name),
                _e(due.strftime("%Y-%m-%d %H:%M UTC") if due else "—"),
                str(len(done)),
                str(len(marks) - len(done)),
                str(sum(1 for m in done if m.days_late)),
                mean,
                median,
            ]
        )
    table = _table(["week", "due", "submitted", "missing", "late", "mean", "median"], rows, frozenset({2, 3, 4, 5, 6}))
    return f"<h2 id=weeks>Weeks</h2>{table}{png(weeks_figure(sheet))}"


def hardest_section(stats: list[CheckStats], limit: int = 15) -> str:
    rows = []
    for st in [s for s in stats if s.failed][:limit]:
        message, count = st.messages.most_common(1)[0]
        rows.append(
            [
                _e(st.assignment),
                f"<code>{_e(st.grade_id)}</code>" + (" <span class=muted>(hidden)</span>" if st.hidden else ""),
                f"{100 * st.rate:.0f}%",
                f"{st.passed}/{st.passed + st.failed}",
                f"{_e(message)} <span class=muted>(×{count})</span>",
            ]
        )
    if not rows:
        return "<h2 id=hardest>Hardest checks</h2><p>Every graded check passed for every student.</p>"
    header = ["week", "check", "pass rate", "passed", "most common failure"]
    return f"<h2 id=hardest>Hardest checks</h2>{_table(header, rows, frozenset({2, 3}))}"


def late_missing_section(sheet: Gradesheet) -> str:
    late, missing = [], []
    for m in sorted(sheet.marks.values(), key=lambda m: (m.assignment, m.student)):
        if m.score is None:
            missing.append([_e(m.assignment), _e(m.student)])
        elif m.days_late:
            stamp = m.submitted_at.strftime("%Y-%m-%d %H:%M UTC") if m.submitted_at else "?"
            hours = f"{m.seconds_late / 3600:.1f} h"
            rows = [_e(m.assignment), _e(m.student), _e(stamp), hours, str(m.days_late), f"-{m.penalty:g}"]
            late.append(rows + [f"{m.final:g} / {m.max_score:g}"])
    out = f"<h2 id=late>Late and missing</h2><p class=muted>Policy: {_e(sheet.policy.describe())}.</p>"
    header = ["week", "student", "submitted", "late by", "days", "penalty", "final"]
    out += _table(header, late, frozenset({3, 4, 5, 6})) if late else "<p>No late submissions.</p>"
    out += "<h3>Missing</h3>" + (_table(["week", "student"], missing) if missing else "<p>Nothing missing.</p>")
    return out


def similar_section(pairs: list[Pair], threshold: float) -> str:
    out = (
        "<h2 id=similar>Similar answers</h2><p class=muted>copydetect's winnowing (the MOSS algorithm) per exercise, "
        f"names normalised, the released stub ignored; pairs with at least {100 * threshold:.0f}% of one answer found "
        "in the other. A reason to read both answers, not a verdict.</p>"
    )
    if not pairs:
        return out + "<p>No pair above the threshold.</p>"
    rows = []
    for p in pairs:
        both = "".join(f"<pre>{_e(c)}</pre>" for c in p.code)
        rows.append(
            [
                _e(p.assignment),
                f"<code>{_e(p.exercise)}</code>",
                f"{_e(p.first)} &amp; {_e(p.second)}",
                f"{100 * p.similarity:.0f}%",
                f"<details><summary>both answers</summary><div class=pair>{both}</div></details>",
            ]
        )
    return out + _table(["week", "exercise", "students", "similarity", "answers"], rows, frozenset({3}))


def build(course: Course, threshold: float = SIMILARITY) -> str:
    """The report page for the course at ``course.root``."""
    sheet = gradesheet(course)
    stats = check_stats(course, sheet)
    names = [a for a, _ in sheet.assignments]
    pairs = similar_pairs(course, progress(names, "report: comparing answers", "week"), threshold)
    exercises = "".join(png(exercises_figure(a, stats, sheet)) for a in names if any(s.assignment == a for s in stats))
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        f"<title>Instructor report — {_e(cfg.COURSE_ID)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Instructor report — {_e(cfg.COURSE_ID)}</h1>",
        f"<p class=muted>{len(sheet.students)} students, {len(names)} assignments, generated {when}. "
        "Scores are final (late penalty applied) unless said otherwise.</p>",
        weeks_section(sheet),
        f"<h2 id=exercises>Exercises</h2>{exercises or '<p>Nothing graded yet.</p>'}",
        hardest_section(stats),
        f"<h2 id=progress>Progress</h2>{png(progress_figure(sheet))}" if sheet.students and names else "",
        late_missing_section(sheet),
        similar_section(pairs, threshold),
        "</body></html>",
    ]
    return "\n".join(parts)


def report(course: Course, output: str | Path, threshold: float = SIMILARITY) -> Path:
    """Write the report of ``course`` to ``output`` (one HTML file); returns its path."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(build(course, threshold), encoding="utf-8")
    return output
