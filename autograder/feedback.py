"""Per-student HTML feedback that never shows hidden test code.

We do not use ``nbgrader generate_feedback``: its HTML keeps the tracebacks of hidden test cells, and a
traceback quotes the failing hidden line. Instead, from each autograded notebook we

* cut every ``### BEGIN HIDDEN TESTS`` … ``### END HIDDEN TESTS`` block out of the cell sources;
* replace the outputs of hidden-test cells by one line: ``hidden tests: passed`` or
  ``hidden tests: failed (AssertionError)``;
* scrub any other output line that quotes a hidden line (a helper defined in a hidden block);
* put a summary table on top (grade id, points, max, result, the visible test's message) and the total;

then render with nbconvert's ``HTMLExporter`` to ``feedback/<student>/weekNN/<notebook>.html``.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbformat import NotebookNode

from . import config as cfg
from .cells import hidden_block_re, is_hidden_source, nbgrader_meta
from .course import Course
from .errors import log
from .grade import submitted_students
from .results import GradeResult

MIN_SCRUB_LEN = 6  # hidden lines shorter than this (")", "else:") are too common to scrub on


def hidden_lines(source: str) -> list[str]:
    """The non-trivial lines inside the hidden blocks of ``source``."""
    out = []
    for block in hidden_block_re().findall(source):
        for line in block.splitlines()[1:-1]:
            text = line.strip()
            if len(text) >= MIN_SCRUB_LEN and not text.startswith("#"):
                out.append(text)
    return out


def secret_lines(sources: list[str]) -> list[str]:
    """Hidden-block lines of a notebook (cell ``sources``) that appear nowhere else in it.

    A hidden line that is also in a visible cell (``runs-on: ubuntu-latest``) is not a secret.
    """
    block = hidden_block_re()
    visible = "\n".join(block.sub("", s) for s in sources)
    return sorted({ln for s in sources for ln in hidden_lines(s) if ln not in visible})


def _status_text(cell_status: str, error_type: str | None) -> str:
    if cell_status == "passed":
        return "passed"
    if cell_status == "timeout":
        return "failed (timeout)"
    if cell_status == "not run":
        return "not run"
    return f"failed ({error_type})" if error_type else "failed"


def _md_escape(text: str) -> str:
    return html.escape(text).replace("|", "\\|")


def summary_markdown(result: GradeResult) -> str:
    rows = [
        f"# Feedback — {result.assignment}, {result.student}",
        "",
        f"**Total: {result.score:g} / {result.max_score:g}**",
        "",
        "| grade id | points | max | result | message |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for c in result.cells:
        kind = "hidden tests" if c.hidden else "tests"
        status = _status_text(c.status, c.error_type)
        message = "" if (c.hidden and c.status != "timeout") else c.message
        rows.append(f"| `{c.grade_id}` | {c.score:g} | {c.max_score:g} | {kind}: {status} | {_md_escape(message)} |")
    if result.restored:
        rows += [
            "",
            f"> Note: you deleted cells that are part of the grading ({', '.join(result.restored)}); "
            "they were put back from the release and graded.",
        ]
    return "\n".join(rows)


def redact(nb: NotebookNode, result: GradeResult) -> NotebookNode:
    """Remove hidden test code and hidden outputs from an autograded notebook (in place), add the summary."""
    by_id = {c.grade_id: c for c in result.cells}
    secret = secret_lines([cell.get("source", "") for cell in nb.cells])
    block = hidden_block_re()
    for cell in nb.cells:
        source = cell.get("source", "")
        if is_hidden_source(source):
            cell.source = block.sub("", source).rstrip("\n")
            if cell.cell_type == "code":
                gid = nbgrader_meta(cell).get("grade_id")
                res = by_id.get(gid) if gid else None
                if res is not None:
                    status = _status_text(res.status, res.error_type)
                else:
                    errs = [o.get("ename") for o in cell.outputs if o.get("output_type") == "error"]
                    status = f"failed ({errs[0]})" if errs else "passed"
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"hidden tests: {status}\n")]
        elif cell.cell_type == "code" and secret:
            cell.outputs = [_scrub(o, secret) for o in cell.outputs]
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(summary_markdown(result) + grading_notes(nb)))
    return nb


def grading_notes(nb: NotebookNode) -> str:
    """What the sandboxed engine recorded (limits hit, tampering reset), as Markdown; empty when nothing."""
    meta = nb.metadata.get("autograder", {}) or {}
    lines = [f"- {_md_escape(str(x))}" for x in meta.get("limits", [])]
    lines += [f"- tampering reset: {_md_escape(str(x))}" for x in meta.get("tampering", [])]
    if not lines:
        return ""
    return "\n\n**Grading notes**\n\n" + "\n".join(lines)


def _scrub(output: NotebookNode, secret: list[str]) -> NotebookNode:
    def clean(text: str) -> str:
        lines = text.split("\n")
        return "\n".join("[hidden]" if any(s in _plain(ln) for s in secret) else ln for ln in lines)

    if output.get("output_type") == "error":
        output.traceback = [clean(t) for t in output.get("traceback", [])]
        output.evalue = clean(str(output.get("evalue", "")))
    elif output.get("output_type") == "stream":
        output.text = clean(output.get("text", ""))
    else:
        data = output.get("data", {})
        for key in list(data):
            if isinstance(data[key], str) and key.startswith("text/"):
                data[key] = clean(data[key])
    return output


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _plain(text: str) -> str:
    return _ANSI.sub("", text)


def render(nb: NotebookNode, title: str) -> str:
    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


def feedback(course: Course, assignment: str, students: list[str] | None = None) -> dict[str, list[Path]]:
    """Write feedback HTML for every autograded student; returns {student: [html files]}."""
    written: dict[str, list[Path]] = {}
    todo = students if students is not None else _autograded_students(course, assignment)
    if not todo:
        log.warning("feedback %s: nobody is graded yet; run: python -m autograder grade %s", assignment, assignment)
    for student in todo:
        result = course.scores(assignment, student)
        if result.error:
            log.warning("feedback %s: %s: %s", assignment, student, result.error)
            continue
        folder = course.step_dir(cfg.AUTOGRADED_DIR, student, assignment)
        for nb_path in sorted(folder.glob("*.ipynb")):
            nb = redact(nbformat.read(nb_path, as_version=4), result)
            out = course.step_dir(cfg.FEEDBACK_DIR, student, assignment) / f"{nb_path.stem}.html"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(render(nb, f"{assignment} feedback — {student}"), encoding="utf-8")
            written.setdefault(student, []).append(out)
            log.info("feedback %s: %s -> %s", assignment, student, out.relative_to(course.root))
    return written


def _autograded_students(course: Course, assignment: str) -> list[str]:
    base = course.root / cfg.AUTOGRADED_DIR
    if not base.is_dir():
        return []
    graded = {p.name for p in base.iterdir() if (p / assignment).is_dir()}
    return [s for s in submitted_students(course, assignment) if s in graded] + sorted(
        graded - set(submitted_students(course, assignment))
    )
