"""``python -m autograder <command>``: release, selfcheck, collect, grade, feedback, export, demo."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from .course import AutograderError, Course, check_assignment, log, nblog

EPILOG = """\
typical term:
  python -m autograder release --all              regenerate notebooks/ from source/ (commit both)
  python -m autograder selfcheck week03           source solution = full marks, released blank = 0
  python -m autograder collect week03 inbox/      import inbox/<student>.ipynb into submitted/
  python -m autograder grade week03               autograde every collected student
  python -m autograder feedback week03            feedback/<student>/week03/<notebook>.html
  python -m autograder export --output grades.csv one row per (student, assignment)
  python -m autograder demo                       all of the above on samples/ in build/demo
"""


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.levelno >= logging.ERROR:
            return f"error: {msg}"
        if record.levelno >= logging.WARNING:
            return f"warning: {msg}"
        return msg


def setup_logging(verbose: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False
    # nbgrader's own log: always in <root>/.nbgrader.log, on the terminal only with --verbose
    for h in list(nblog.handlers):
        if getattr(h, "_autograder_console", False):
            nblog.removeHandler(h)
    if verbose:
        console = logging.StreamHandler(sys.stderr)
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
    for assignment in _assignments(args, course):
        released = course.release(assignment)
        for path in released:
            log.info("released %s", path.relative_to(course.root))
    return 0


def cmd_selfcheck(args: argparse.Namespace) -> int:
    from .selfcheck import selfcheck

    course = _course(args)
    failed = []
    for assignment in _assignments(args, course):
        log.info(
            "selfcheck %s: releasing into a temporary course and grading solution and blank ...", assignment
        )
        result = selfcheck(assignment, course.root, timeout=args.timeout)
        print(f"\n{assignment}\n{result.table()}\n")
        if result.ok:
            log.info("%s OK: source solution full marks, released blank 0", assignment)
        else:
            failed.append(assignment)
            for problem in result.problems:
                log.error("%s: %s", assignment, problem)
    return 1 if failed else 0


# ------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--course-dir",
        default=".",
        metavar="DIR",
        help="course root holding source/, notebooks/, submitted/ ... (default: .)",
    )
    common.add_argument(
        "--timeout",
        type=int,
        default=None,
        metavar="SECONDS",
        help="per-cell time limit while grading (default: $AUTOGRADER_CELL_TIMEOUT or 60)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="also show nbgrader's own log")

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
