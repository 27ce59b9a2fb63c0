"""``python -m autograder <command>``: release, selfcheck, collect, grade, feedback, export, report, workspace, demo."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .course import Course
from .errors import AutograderError, log, nblog
from .grade import default_jobs
from .ids import check_assignment
from .limits import EngineOptions
from .progress import progress

EPILOG = """\
typical term:
  python -m autograder release --all              regenerate notebooks/ from source/ (commit both)
  python -m autograder selfcheck week03           source solution = full marks, released blank = 0
  python -m autograder collect week03 inbox/      import inbox/<student>.ipynb into submitted/
  python -m autograder grade week03               autograde every collected student
  python -m autograder feedback week03            feedback/<student>/week03/<notebook>.html
  python -m autograder export --output grades.csv one row per (student, assignment)
  python -m autograder export --format canvas     canvas_grades.csv for Canvas's gradebook import (or moodle)
  python -m autograder report                     report.html: distributions, hardest checks, progress, copies
  python -m autograder demo                       all of the above on samples/ in build/demo
  python -m autograder workspace                  a student's copy of notebooks/ in workspace/ (bash dev.sh lab)
"""


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.levelno >= logging.ERROR:
            return f"error: {msg}"
        if record.levelno >= logging.WARNING:
            return f"warning: {msg}"
        return msg


class _StderrHandler(logging.StreamHandler[Any]):
    """Writes to whatever ``sys.stderr`` is at the time (it may be swapped, e.g. by pytest's capsys)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def setup_logging(verbose: bool = False) -> None:
    handler = _StderrHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False
    # nbgrader's own log: always in <root>/.nbgrader.log, on the terminal only with --verbose
    for h in list(nblog.handlers):
        if getattr(h, "_autograder_console", False):
            nblog.removeHandler(h)
    if verbose:
        console = _StderrHandler(sys.stderr)
        console.setFormatter(logging.Formatter("  nbgrader [%(levelname)s] %(message)s"))
        console.setLevel(logging.INFO)
        console._autograder_console = True  # type: ignore[attr-defined]
        nblog.addHandler(console)


def _course(args: argparse.Namespace) -> Course:
    root = Path(args.course_dir)
    if not root.is_dir():
        raise AutograderError(f"course directory {root} does not exist; pass --course-dir DIR")
    return Course(root, timeout=args.timeout)


def _assignments(args: argparse.Namespace, course: Course) -> list[str]:
    if args.all:
        found = course.source_assignments()
        if not found:
            raise AutograderError(f"no source/weekNN folders in {course.root}")
        return found
    if not args.assignments:
        raise AutograderError("name the weeks to release (e.g. week01 week02) or pass --all")
    return [check_assignment(a) for a in args.assignments]


# ------------------------------------------------------------------ commands
def cmd_release(args: argparse.Namespace) -> int:
    course = _course(args)
    weeks = _assignments(args, course)
    for assignment in progress(weeks, "release", "week"):
        released = course.release(assignment)
        for path in released:
            log.info("released %s", path.relative_to(course.root))
    return 0


def cmd_selfcheck(args: argparse.Namespace) -> int:
    from .selfcheck import selfcheck

    course = _course(args)
    failed = []
    for assignment in _assignments(args, course):
        log.info("selfcheck %s: releasing into a temporary course and grading solution and blank ...", assignment)
        result = selfcheck(assignment, course.root, timeout=args.timeout)
        print(f"\n{assignment}\n{result.table()}\n")
        if result.manual:
            log.info("%s: needs manual grading (not autograded): %s", assignment, ", ".join(result.manual))
        if result.ok:
            log.info("%s OK: source solution full marks, released blank 0", assignment)
        else:
            failed.append(assignment)
            for problem in result.problems:
                log.error("%s: %s", assignment, problem)
    return 1 if failed else 0


def cmd_collect(args: argparse.Namespace) -> int:
    from .collect import collect, read_roster

    course = _course(args)
    roster = read_roster(args.roster) if args.roster else None
    report = collect(course, check_assignment(args.assignment), Path(args.folder), roster)
    log.info(
        "collect %s: %d submissions collected, %d rejected%s",
        args.assignment,
        len(report.collected),
        len(report.errors),
        f" (kept in submitted/.rejected/{args.assignment}/, reasons in errors.json)" if report.errors else "",
    )
    return 1 if report.errors else 0


def _engine_options(args: argparse.Namespace) -> EngineOptions:
    """--engine/--sandbox/--regrade/--jobs as one settings object, passed down (nothing goes through os.environ)."""
    return EngineOptions.from_env(
        engine=args.engine,
        sandbox=args.sandbox,
        regrade=args.regrade,
        jobs=args.jobs,
        cluster=getattr(args, "cluster", None),
    )


def cmd_grade(args: argparse.Namespace) -> int:
    from .grade import grade

    course = _course(args)
    results = grade(
        course, check_assignment(args.assignment), args.student or None, jobs=args.jobs, options=_engine_options(args)
    )
    failed = [r.student for r in results if r.error]
    log.info(
        "grade %s: %d graded, %d failed%s",
        args.assignment,
        len(results) - len(failed),
        len(failed),
        f" ({', '.join(failed)})" if failed else "",
    )
    return 1 if failed else 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from .feedback import feedback

    course = _course(args)
    written = feedback(course, check_assignment(args.assignment), args.student or None)
    log.info(
        "feedback %s: %d students, files in feedback/<student>/%s/",
        args.assignment,
        len(written),
        args.assignment,
    )
    return 0 if written else 1


def cmd_export(args: argparse.Namespace) -> int:
    from .collect import read_roster
    from .export import DEFAULT_OUTPUT, gradesheet, late_lines, write

    course = _course(args)
    sheet = gradesheet(course, read_roster(args.roster) if args.roster else None)
    output = Path(args.output or DEFAULT_OUTPUT[args.format])
    if not output.is_absolute():
        output = course.root / output
    path = write(sheet, output, args.format)
    late = late_lines(sheet)
    log.info("export: %s late submission%s (%s)", len(late), "" if len(late) == 1 else "s", sheet.policy.describe())
    for line in late:
        log.info("  %s", line)
    log.info("export: wrote %s (%s)", path, args.format)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import report

    course = _course(args)
    if not 0 < args.similarity <= 1:
        raise AutograderError(f"--similarity must be in (0, 1], found {args.similarity}")
    output = Path(args.output)
    if not output.is_absolute():
        output = course.root / output
    path = report(course, output, args.similarity)
    log.info("report: wrote %s (one self-contained file; open it in a browser)", path)
    return 0


def cmd_workspace(args: argparse.Namespace) -> int:
    from .workspace import sync_workspace

    root = Path(args.course_dir)
    report = sync_workspace(root, args.dir)
    for line in report.lines():
        log.info("  %s", line)
    log.info(
        "workspace %s: %d added, %d updated, %d restored, %d of yours kept, %d unchanged",
        report.workspace,
        len(report.added),
        len(report.updated),
        len(report.restored),
        len(report.kept),
        report.unchanged,
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .collect import read_roster
    from .demo import demo

    repo = Path(args.repo)
    report = demo(repo, Path(args.course_dir), timeout=args.timeout, jobs=args.jobs, options=_engine_options(args))
    roster = list(read_roster(repo / "samples" / "students.csv"))
    print("\nScores (student x week; * = see notes)\n")
    print(report.table(roster))
    lines = report.errors_by_reason()
    if lines:
        print("\nErrors and notes\n")
        print("\n".join(f"  {line}" for line in lines))
    print(f"\ngrades: {report.grades_csv}\nfeedback: {Path(args.course_dir) / 'feedback'}/<student>/<week>/")
    if report.problems:
        print("\nMISMATCHES with samples/*/expected.json\n")
        print("\n".join(f"  {p}" for p in report.problems))
        log.error("demo: %d outcomes differ from samples/*/expected.json", len(report.problems))
        return 1
    log.info("demo: every outcome matches samples/*/expected.json")
    return 0


# ------------------------------------------------------------------ parser
def _common(course_dir: str = ".") -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--course-dir",
        default=course_dir,
        metavar="DIR",
        help=f"course root holding source/, notebooks/, submitted/ ... (default: {course_dir})",
    )
    common.add_argument(
        "--timeout",
        type=int,
        default=None,
        metavar="SECONDS",
        help="per-cell time limit while grading (default: $AUTOGRADER_CELL_TIMEOUT or 60)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="also show nbgrader's own log")
    return common


def _engine_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        choices=["sandbox", "nbgrader"],
        default=None,
        help="sandbox: parallel, sandboxed, integrity-guarded, resumable (default, autograder/engine.py); "
        "nbgrader: plain nbgrader autograde per student (the reference)",
    )
    p.add_argument(
        "--sandbox",
        choices=["auto", "container", "bwrap", "user", "none"],
        default=None,
        help="where student code runs (default: auto = a container or bwrap, else grading stops and says "
        "why; 'none' runs submissions unisolated and must be asked for; see autograder/sandbox.py)",
    )
    p.add_argument("--regrade", action="store_true", help="grade again even submissions the journal marks as done")


def build_parser() -> argparse.ArgumentParser:
    common = _common()

    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Instructor tooling around nbgrader for the DevOps & TBD course.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)

    p = sub.add_parser(
        "release",
        parents=[common],
        help="generate notebooks/weekNN from source/weekNN",
        description="nbgrader generate_assignment --force: source/weekNN -> notebooks/weekNN "
        "(deterministic; commit the result).",
    )
    p.add_argument("assignments", nargs="*", metavar="weekNN")
    p.add_argument("--all", action="store_true", help="every source/weekNN folder")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser(
        "selfcheck",
        parents=[common],
        help="source solution = full marks, released blank = 0",
        description="Release into a temporary course, grade the source solution (must be full "
        "marks, no cell may raise) and the released blank (must be 0).",
    )
    p.add_argument("assignments", nargs="*", metavar="weekNN")
    p.add_argument("--all", action="store_true", help="every source/weekNN folder")
    p.set_defaults(func=cmd_selfcheck)

    p = sub.add_parser(
        "collect",
        parents=[common],
        help="import FOLDER/<student>.ipynb into submitted/",
        description="Import FOLDER/<student>.ipynb or FOLDER/<student>/<notebook>.ipynb into "
        "submitted/<student>/weekNN/. Bad files (corrupt JSON, not UTF-8, wrong "
        "nbformat, renamed, unknown student) are reported one line each and kept in "
        "submitted/.rejected/weekNN/. Exit 1 when any file was rejected.",
    )
    p.add_argument("assignment", metavar="weekNN")
    p.add_argument("folder", metavar="FOLDER")
    p.add_argument("--roster", metavar="CSV", help="student_id,first_name,last_name,email; others are rejected")
    p.set_defaults(func=cmd_collect)

    p = sub.add_parser(
        "grade",
        parents=[common],
        help="autograde collected submissions",
        description="Autograde each student in submitted/*/weekNN (or --student) in a sandbox, in "
        "parallel, with nbgrader's own sanitising and scoring; resumes an interrupted run "
        "(--engine nbgrader: plain nbgrader autograde). One failure never stops the batch. "
        "Exit 1 when any student failed.",
    )
    p.add_argument("assignment", metavar="weekNN")
    p.add_argument("--student", action="append", metavar="S", help="only this student (repeatable)")
    p.add_argument(
        "--jobs",
        type=int,
        default=default_jobs(),
        metavar="N",
        help=f"students graded in parallel (default: {default_jobs()}, one per core up to 4)",
    )
    p.add_argument(
        "--cluster",
        default=None,
        metavar="ADDRESS",
        help="run the kernels on a Dask cluster: tcp://HOST:8786 (a `dask scheduler`) or local:N (N worker "
        "processes here); grading, scoring and the gradebook stay on this machine "
        "(docs/distributed-grading.md; default: $AUTOGRADER_CLUSTER, else this machine's pool)",
    )
    _engine_arguments(p)
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser(
        "feedback",
        parents=[common],
        help="HTML feedback without hidden test code",
        description="feedback/<student>/weekNN/<notebook>.html for every graded student: a "
        "summary table, the notebook, hidden tests reduced to passed/failed.",
    )
    p.add_argument("assignment", metavar="weekNN")
    p.add_argument("--student", action="append", metavar="S", help="only this student (repeatable)")
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser(
        "export",
        parents=[common],
        help="grades CSV from the gradebook (ours, Canvas or Moodle)",
        description="csv: one row per (student, assignment): student_id, assignment, score, max_score, percent, "
        "one column per grade id, then submitted_at, days_late, late_penalty, final_score. canvas: Canvas's "
        "gradebook import (Student, ID, SIS User ID, SIS Login ID, Section, one column per week, a Points "
        "Possible row). moodle: Moodle's CSV grade import (names, ID number, Email address, one column per week "
        "and its feedback). Late penalties from course.toml are applied (see autograder/late.py).",
    )
    p.add_argument("--format", choices=["csv", "canvas", "moodle"], default="csv", help="default: csv")
    p.add_argument(
        "--output",
        default=None,
        metavar="CSV",
        help="relative paths are inside the course dir (default: grades.csv, canvas_grades.csv, moodle_grades.csv)",
    )
    p.add_argument(
        "--roster",
        metavar="CSV",
        help="student_id,first_name,last_name,email[,section,sis_user_id,sis_login_id,lms_user_id]: "
        "the LMS's ids and sections",
    )
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "report",
        parents=[common],
        help="instructor report: distributions, hardest checks, progress, late/missing, similar answers",
        description="One self-contained HTML page from the gradebook and the submitted notebooks: score "
        "distributions per week and per exercise, the checks with the lowest pass rate and their most common "
        "failure message, each student's progress over the weeks, late and missing submissions, and pairs of "
        "students with suspiciously similar answer cells (copydetect's winnowing per exercise, the stub ignored).",
    )
    p.add_argument(
        "--output",
        default="report.html",
        metavar="HTML",
        help="relative paths are inside the course dir (default: report.html)",
    )
    p.add_argument(
        "--similarity",
        type=float,
        default=0.5,
        metavar="SHARE",
        help="flag a pair when this share of either answer is found in the other (default: 0.5)",
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "workspace",
        parents=[common],
        help="a student's own copy of notebooks/ (updates merge in, answers untouched)",
        description="Copy the release notebooks/weekNN/... into a student workspace outside the tracked tree "
        "(default: workspace/ in the course dir, ignored by git). Run it again after `git pull`: new weeks and "
        "files are added, files you have not changed are updated, files you changed are kept and the course's "
        "new version is written next to them as <name>.course-update.ipynb.",
    )
    p.add_argument(
        "--dir",
        default="workspace",
        metavar="DIR",
        help="the workspace; relative paths are inside the course dir (default: workspace)",
    )
    p.set_defaults(func=cmd_workspace)

    p = sub.add_parser(
        "demo",
        parents=[_common("build/demo")],
        help="whole pipeline on samples/ (the README's main job)",
        description="Fresh course in --course-dir (default build/demo): release every week, "
        "collect samples/weekNN with samples/students.csv, grade, feedback, export "
        "grades.csv, print a summary. Exit 0 only if every outcome matches "
        "samples/*/expected.json.",
    )
    p.add_argument("--repo", default=".", metavar="DIR", help="repository with source/ and samples/ (default: .)")
    p.add_argument(
        "--jobs",
        type=int,
        default=default_jobs(),
        metavar="N",
        help=f"students graded in parallel (default: {default_jobs()})",
    )
    _engine_arguments(p)
    p.set_defaults(func=cmd_demo)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        return int(args.func(args) or 0)
    except AutograderError as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130
