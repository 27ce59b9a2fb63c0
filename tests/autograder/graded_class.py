"""A small graded class for the feedback, report and export tests: built once per process (per xdist worker).

Not a conftest.py (a second ``conftest`` module would shadow ``tests/conftest.py`` for ``from conftest import``):
each test module imports :func:`graded_class`, and the class, built on first use, is shared through ``_BUILT``.

Two weeks of the fixture course (week90 and a copy named week91), a course.toml with due dates and a late policy,
a roster of six, submissions collected from inbox folders with nbgrader's ``timestamp.txt``:

========  ==========================================  =====================================
student   week90                                      week91
========  ==========================================  =====================================
alice     solution + a plot in her answer, on time    solution, on time
bob       wrong mean (visible check fails), on time   solution, 30 h late (2 days: -20%)
carol     dave's long mean, variables renamed         missing
dave      a long hand-written mean                    solution, on time
erin      an independent mean (statistics.fmean)      solution, on time
fay       missing                                     missing
========  ==========================================  =====================================
"""

from __future__ import annotations

import csv
import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TIMEOUT = 10

PLOT_DOUBLE = """import matplotlib.pyplot as plt

def double(x):
    return 2 * x

plt.plot([0, 1, 2], [double(v) for v in [0, 1, 2]])
plt.title("double")
plt.show()"""

DAVE_MEAN = """def mean(values):
    total = 0.0
    count = 0
    for value in values:
        if value is None:
            continue
        total = total + value
        count = count + 1
    if count == 0:
        raise ValueError("mean of an empty list")
    average = total / count
    return average"""

#: dave's answer with every name changed and a comment added: winnowing on normalised tokens still sees it
CAROL_MEAN = """def mean(values):
    # add up, then divide
    acc = 0.0
    n = 0
    for item in values:
        if item is None:
            continue
        acc = acc + item
        n = n + 1
    if n == 0:
        raise ValueError("no values to average")
    result = acc / n
    return result"""

ERIN_MEAN = """import statistics


def mean(values):
    \"\"\"The arithmetic mean as a float (statistics.fmean never floors).\"\"\"
    numbers = [float(v) for v in values]
    if not numbers:
        return float("nan")
    return statistics.fmean(numbers)"""

ON_TIME_90 = "2026-09-07 20:00:00.000000 UTC"
ON_TIME_91 = "2026-09-14 12:00:00.000000 UTC"
LATE_91 = "2026-09-16 05:59:00.000000 UTC"  # due 2026-09-14 23:59 UTC: 30 hours late

COURSE_TOML = """\
[due]
week90 = 2026-09-07T23:59:00Z
week91 = 2026-09-14T23:59:00Z

[late_penalty]
percent_per_day = 10
max_percent = 50
grace_minutes = 15
"""

ROSTER = [
    # student_id, first, last, email, section, sis_user_id, lms_user_id
    ("alice", "Alice", "Anders", "alice@example.org", "Group A", "S001", "101"),
    ("bob", "Bob", "Brown", "bob@example.org", "Group A", "S002", "102"),
    ("carol", "Carol", "Chen", "carol@example.org", "Group B", "S003", ""),
    ("dave", "Dave", "Diaz", "dave@example.org", "Group B", "S004", ""),
    ("erin", "Erin", "Evans", "erin@example.org", "Group B", "S005", ""),
    ("fay", "Fay", "Fox", "fay@example.org", "Group A", "S006", ""),
]


@dataclass
class GradedClass:
    root: Path
    roster: Path


def _variants() -> dict[str, dict[str, str]]:
    spec = importlib.util.spec_from_file_location("fixture_builder_cls", HERE / "fixtures" / "build_fixture_course.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.VARIANTS


def _copy_week(root: Path, new: str) -> None:
    """source/week90 as source/<new>: same exercises, ids renumbered (w90_ -> w91_)."""
    nn = new.removeprefix("week")
    src = root / "source" / "week90" / "week90_fixture.ipynb"
    dest = root / "source" / new / f"{new}_fixture.ipynb"
    dest.parent.mkdir(parents=True)
    dest.write_text(src.read_text().replace("w90_", f"w{nn}_").replace("Week 90", f"Week {nn}"))


def _write_roster(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["student_id", "first_name", "last_name", "email", "section", "sis_user_id", "lms_user_id"])
        w.writerows(ROSTER)


_BUILT: dict[str, GradedClass] = {}


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> GradedClass:
    """The graded class (read it, do not change it: write outputs into your own tmp_path)."""
    if "class" not in _BUILT:
        _BUILT["class"] = _build(tmp_path_factory)
    return _BUILT["class"]


def _build(tmp_path_factory: pytest.TempPathFactory) -> GradedClass:
    from autograder.cli import main
    from autograder.collect import collect, read_roster
    from autograder.course import Course
    from autograder.grade import grade_many
    from autograder.samples import fill, write_submission

    base = tmp_path_factory.mktemp("graded-class")
    root = base / "course"
    shutil.copytree(HERE / "fixtures" / "course" / "source", root / "source")
    _copy_week(root, "week91")
    (root / "course.toml").write_text(COURSE_TOML)
    assert main(["release", "week90", "week91", "--course-dir", str(root)]) == 0
    roster_path = base / "students.csv"
    _write_roster(roster_path)
    roster = read_roster(roster_path)
    course = Course(root, timeout=TIMEOUT)
    wrong_mean = _variants()["wrong_mean"]

    answers90 = {
        "alice": ({"w90_fixture_double": PLOT_DOUBLE}, ON_TIME_90),
        "bob": (wrong_mean, ON_TIME_90),
        "carol": ({"w90_fixture_mean": CAROL_MEAN}, ON_TIME_90),
        "dave": ({"w90_fixture_mean": DAVE_MEAN}, ON_TIME_90),
        "erin": ({"w90_fixture_mean": ERIN_MEAN}, None),  # no timestamp.txt: on time
    }
    answers91 = {s: ({}, LATE_91 if s == "bob" else ON_TIME_91) for s in ("alice", "bob", "dave", "erin")}
    for week, answers in (("week90", answers90), ("week91", answers91)):
        inbox = base / f"inbox-{week}"
        for student, (answer, stamp) in answers.items():
            write_submission(fill(week, answer, root=root), inbox / student / f"{week}_fixture.ipynb")
            if stamp:
                (inbox / student / "timestamp.txt").write_text(stamp + "\n")
        report = collect(course, week, inbox, roster)
        assert not report.errors, report.errors
    work = [(w, s) for w, answers in (("week90", answers90), ("week91", answers91)) for s in answers]
    results = grade_many(course, work, jobs=2)
    assert all(r.error is None for r in results), [r.error for r in results]
    return GradedClass(root, roster_path)
