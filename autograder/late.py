"""Due dates and the late-submission penalty of the course, from ``course.toml`` at the course root.

nbgrader already knows when a submission is late: collect copies a submission's ``timestamp.txt`` (nbgrader's
exchange writes one, see :mod:`autograder.collect`) and nbgrader's ``Autograde`` stores it as the submission's
timestamp; ``SubmittedAssignment.total_seconds_late`` is that timestamp minus the assignment's due date (plus any
extension given in formgrader). What it lacks is the due dates (we put them into the gradebook, :func:`sync_due_dates`)
and a policy: its ``LateSubmissionPlugin`` offers only "none" or "zero". :class:`PercentPerDayLate` is the course's
policy as an nbgrader plugin (the ``SubMarks`` pattern of nbgrader's docs: a penalty computed from the seconds late),
so formgrader and ``export`` show the same number: a share of the student's score per started day late, capped::

    # course.toml
    [due]
    first = 2026-09-07T23:59:00Z      # week01; week N is due N-1 weeks later
    week05 = 2026-10-13T23:59:00Z     # an exception

    [late_penalty]
    percent_per_day = 10              # of the score earned, per started day (24 h) late
    max_percent = 50                  # never more than this
    grace_minutes = 15                # uploads this late are on time (clocks, slow networks)

No ``course.toml`` (or no ``[due]``): no due dates, nothing is late.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

from .errors import AutograderError
from .ids import ASSIGNMENT_RE, week_number

COURSE_FILE = "course.toml"
DAY = 86400.0


@dataclass(frozen=True)
class LatePolicy:
    percent_per_day: float = 0.0
    max_percent: float = 100.0
    grace_minutes: float = 0.0

    def days_late(self, seconds_late: float) -> int:
        """Started days late after the grace period (0 when on time)."""
        late = seconds_late - 60.0 * self.grace_minutes
        return math.ceil(late / DAY) if late > 0 else 0

    def percent(self, seconds_late: float) -> float:
        return min(self.max_percent, self.percent_per_day * self.days_late(seconds_late))

    def penalty(self, score: float, seconds_late: float) -> float:
        """Points taken off ``score`` (never more than the score itself)."""
        return round(min(score, score * self.percent(seconds_late) / 100.0), 2)

    def describe(self) -> str:
        if not self.percent_per_day:
            return "no late penalty"
        grace = f", {self.grace_minutes:g} min grace" if self.grace_minutes else ""
        return f"-{self.percent_per_day:g}% of the score per started day late, at most -{self.max_percent:g}%{grace}"


@dataclass(frozen=True)
class Schedule:
    """Due dates (UTC, naive as nbgrader stores them) and the late policy."""

    first_due: dt.datetime | None = None
    exceptions: dict[str, dt.datetime] = field(default_factory=dict)
    policy: LatePolicy = LatePolicy()

    def due(self, assignment: str) -> dt.datetime | None:
        if assignment in self.exceptions:
            return self.exceptions[assignment]
        if self.first_due is None or not ASSIGNMENT_RE.match(assignment):
            return None
        return self.first_due + dt.timedelta(weeks=week_number(assignment) - 1)


def _utc(value: Any, where: str) -> dt.datetime:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(23, 59))
    if not isinstance(value, dt.datetime):
        raise AutograderError(f"{where} must be a TOML date-time such as 2026-09-07T23:59:00Z, found {value!r}")
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def load_schedule(root: str | Path) -> Schedule:
    """The schedule of the course at ``root`` (an empty one without ``course.toml``); clear errors for bad files."""
    path = Path(root) / COURSE_FILE
    if not path.is_file():
        return Schedule()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise AutograderError(f"{path} is not valid TOML: {exc}") from None
    due = dict(data.get("due", {}))
    first = _utc(due.pop("first"), f"{path} [due] first") if "first" in due else None
    exceptions = {}
    for name, value in due.items():
        if not ASSIGNMENT_RE.match(name):
            raise AutograderError(f"{path} [due]: {name!r} is not 'first' or an assignment id such as week05")
        exceptions[name] = _utc(value, f"{path} [due] {name}")
    raw = data.get("late_penalty", {})
    unknown = sorted(set(raw) - {"percent_per_day", "max_percent", "grace_minutes"})
    if unknown:
        raise AutograderError(
            f"{path} [late_penalty]: unknown keys {unknown}; use percent_per_day, max_percent, grace_minutes"
        )
    try:
        policy = LatePolicy(**{k: float(v) for k, v in raw.items()})
    except (TypeError, ValueError):
        raise AutograderError(f"{path} [late_penalty]: every value must be a number, found {raw}") from None
    if policy.percent_per_day < 0 or not 0 <= policy.max_percent <= 100 or policy.grace_minutes < 0:
        raise AutograderError(f"{path} [late_penalty]: percentages must be in 0..100, grace_minutes >= 0")
    return Schedule(first, exceptions, policy)


def sync_due_dates(db_url: str, course_id: str, schedule: Schedule, assignments: list[str] | None = None) -> None:
    """Write the schedule's due dates into the gradebook's assignments (so nbgrader knows what is late)."""
    with Gradebook(db_url, course_id) as gb:
        names = assignments if assignments is not None else [a.name for a in gb.assignments]
        for name in names:
            due = schedule.due(name)
            try:
                current = gb.find_assignment(name).duedate
            except MissingEntry:
                continue  # not released yet: release adds it
            if current != due:
                gb.update_or_create_assignment(name, duedate=due)


class PercentPerDayLate(LateSubmissionPlugin):
    """nbgrader's late-penalty plugin with the course's :class:`LatePolicy` (set from ``course.toml``)."""

    percent_per_day = Float(0.0, help="share of the score taken off per started day late").tag(config=True)
    max_percent = Float(100.0, help="never take off more than this share of the score").tag(config=True)
    grace_minutes = Float(0.0, help="submissions at most this late are on time").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
        policy = LatePolicy(float(self.percent_per_day), float(self.max_percent), float(self.grace_minutes))
        penalty = policy.penalty(score, total_seconds_late)
        return penalty or None
