"""Per-student HTML feedback that never shows hidden test code.

We do not use ``nbgrader generate_feedback``: its HTML keeps the tracebacks of hidden test cells, and a
traceback quotes the failing hidden line. Instead, from each autograded notebook we

* cut every ``### BEGIN HIDDEN TESTS`` … ``### END HIDDEN TESTS`` block out of the cell sources;
* replace the outputs of hidden-test cells by one line: ``hidden tests: passed`` or
  ``hidden tests: failed (AssertionError)``;
* scrub any other output line that quotes a hidden line (a helper defined in a hidden block);
* put a summary table on top (grade id, points, max, result, the visible test's message) and the total;
* shorten tracebacks to what a student can act on: the frames of their own cells (``Cell In[12], line 3``, the
  ``In [12]`` prompt of the page) in full, each run of library frames as one line with the path relative to the
  package (``labkit/checks.py:95, in equal``); absolute paths of the grader (course folder, virtualenv, temporary
  sandbox folders) are made relative in every text output;

then render with nbconvert's ``HTMLExporter`` to ``feedback/<student>/weekNN/<notebook>.html``: one self-contained
file. The plots are the graded notebook's ``image/png`` outputs (grading uses matplotlib-inline, see
:data:`autograder.config.GRADING_MPLBACKEND`), embedded as ``data:`` URIs. The page loads nothing from the network:
our template drops the lab template's require.js, MathJax, mermaid and widget scripts (CDN URLs), so it opens the
same offline, behind a school proxy or years later; a formula stays readable as its TeX source.
"""

from __future__ import annotations

import html
import re
import site
import sys
import sysconfig
import tempfile
from collections.abc import Iterable
from pathlib import Path

import nbformat
from jinja2 import DictLoader
from nbconvert import HTMLExporter
from nbformat import NotebookNode

from . import config as cfg
from .cells import hidden_block_re, is_hidden_source, nbgrader_meta
from .course import Course
from .errors import log
from .grade import submitted_students
from .progress import progress
from .results import MANUAL, GradeResult

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
    if cell_status == MANUAL:
        return "needs manual grading"
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


#: The lab template minus every block that loads a script from a CDN (``base.html.j2`` keeps CSS inlined).
OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


def offline_exporter() -> HTMLExporter:
    """nbconvert's lab ``HTMLExporter`` with :data:`OFFLINE_TEMPLATE`: one file, nothing fetched when opened."""
    return HTMLExporter(
        template_name="lab",
        template_file="offline.html.j2",
        extra_loaders=[DictLoader({"offline.html.j2": OFFLINE_TEMPLATE})],
        embed_images=True,  # markdown images too, not only outputs
    )


def render(nb: NotebookNode, title: str) -> str:
    body, _ = offline_exporter().from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


# ------------------------------------------------------------------ tracebacks and paths
def grader_prefixes(course_root: Path) -> list[tuple[str, str]]:
    """(absolute prefix, what replaces it) for the grader's own folders, longest first.

    Library folders (site-packages, the repository holding ``labkit``) become nothing, so a path reads like an
    import (``labkit/checks.py``, ``pandas/core/frame.py``); the course folder becomes nothing too; a temporary
    folder (a sandbox's or a scratch repository's) becomes ``<tmp>/`` with its random name dropped.
    """
    import labkit  # the course's helper package: its repository folder is a grader path too

    libs = {*site.getsitepackages(), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    libs.add(str(Path(labkit.__file__).resolve().parent.parent))
    libs.add(str(Path(sys.prefix)))
    pairs = [(str(Path(p)), "") for p in libs] + [(str(course_root), "")]
    return sorted(((p.rstrip("/") + "/", r) for p, r in pairs if p not in ("", "/")), key=lambda x: -len(x[0]))


def relative_paths(text: str, prefixes: Iterable[tuple[str, str]]) -> str:
    """``text`` with every grader prefix made relative and temporary folders shown as ``<tmp>/``."""
    for prefix, replacement in prefixes:
        text = text.replace(prefix, replacement)
    tmp = re.escape(tempfile.gettempdir().rstrip("/"))
    return re.sub(rf"(?<![\w.]){tmp}/[^/\s'\"]+/", "<tmp>/", text)


_LIBRARY_FRAME = re.compile(r"File (?P<where>/.+)")  # first line of an IPython frame outside the notebook


def short_traceback(frames: list[str], prefixes: list[tuple[str, str]]) -> list[str]:
    """IPython's traceback entries with library frames reduced to one location line each (no source shown).

    The student's own frames (``Cell In[N], line L``) keep their code context: that is where the fix goes. A
    library frame (``File /path/labkit/checks.py:95, in equal(...)``) keeps only where it is, relative to its
    package; several in a row become one line, the innermost location with ``(+2 more library frames)``.
    """
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if not run:
            return
        inner = run[-1]
        more = f"  (+{len(run) - 1} more library frames)" if len(run) > 1 else ""
        out.append(f"File {inner}{more}")
        run.clear()

    for entry in frames:
        match = _LIBRARY_FRAME.match(_plain(entry).split("\n", 1)[0].strip())
        if match:
            run.append(relative_paths(match.group("where"), prefixes))
            continue
        flush()
        out.append(relative_paths(entry, prefixes))
    flush()
    return out


def relative_outputs(nb: NotebookNode, course_root: Path) -> NotebookNode:
    """Shorten tracebacks and make grader paths relative in every code cell's text outputs (in place)."""
    prefixes = grader_prefixes(course_root)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            kind = output.get("output_type")
            if kind == "error":
                output.traceback = short_traceback(list(output.get("traceback", [])), prefixes)
                output.evalue = relative_paths(str(output.get("evalue", "")), prefixes)
            elif kind == "stream":
                output.text = relative_paths(output.get("text", ""), prefixes)
            else:
                data = output.get("data", {})
                for key in list(data):
                    if key.startswith("text/") and isinstance(data[key], str):
                        data[key] = relative_paths(data[key], prefixes)
    return nb


def feedback(course: Course, assignment: str, students: list[str] | None = None) -> dict[str, list[Path]]:
    """Write feedback HTML for every autograded student; returns {student: [html files]}."""
    written: dict[str, list[Path]] = {}
    todo = students if students is not None else _autograded_students(course, assignment)
    if not todo:
        log.warning("feedback %s: nobody is graded yet; run: python -m autograder grade %s", assignment, assignment)
    for student in progress(todo, f"feedback {assignment}", "student"):
        result = course.scores(assignment, student)
        if result.error:
            log.warning("feedback %s: %s: %s", assignment, student, result.error)
            continue
        folder = course.step_dir(cfg.AUTOGRADED_DIR, student, assignment)
        for nb_path in sorted(folder.glob("*.ipynb")):
            nb = redact(nbformat.read(nb_path, as_version=4), result)
            relative_outputs(nb, course.root)
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
