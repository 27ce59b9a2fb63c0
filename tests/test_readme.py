"""The README tells the truth: set-up commands, CI entry point, and a syllabus table that matches source/."""

from __future__ import annotations

import re
from pathlib import Path

from autograder.ids import NOTEBOOK_RE

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\| (\d+) \| (.+?) \| `([^`]+)` \| (✅ available|🗓 planned) \|$")


def _rows() -> list[tuple[int, str, str, str]]:
    rows = []
    for line in (ROOT / "README.md").read_text().splitlines():
        m = ROW.match(line)
        if m:
            rows.append((int(m[1]), m[2], m[3], m[4]))
    return rows


def test_syllabus_table_lists_24_weeks_in_order_with_valid_notebook_names():
    rows = _rows()
    assert [r[0] for r in rows] == list(range(1, 25)), "README syllabus table must list weeks 1..24 once each"
    for week, _topic, notebook, _status in rows:
        m = NOTEBOOK_RE.match(notebook)
        assert m and int(m["nn"]) == week, f"week {week}: notebook name {notebook!r} breaks the id convention"


def test_status_matches_the_source_tree():
    for week, _topic, notebook, status in _rows():
        exists = (ROOT / "source" / f"week{week:02d}" / notebook).exists()
        released = (ROOT / "notebooks" / f"week{week:02d}" / notebook).exists()
        if status.startswith("✅"):
            assert exists and released, f"README says week {week} is available but {notebook} is not in source/ " \
                                        "and notebooks/"
        else:
            assert not exists, f"week {week} exists in source/: mark it ✅ available in README.md"


def test_every_source_notebook_is_in_the_table():
    listed = {r[2] for r in _rows()}
    for nb in (ROOT / "source").glob("week*/*.ipynb"):
        assert nb.name in listed, f"{nb.name} is missing from the README syllabus table"


def test_setup_commands_and_ci_agree():
    readme = (ROOT / "README.md").read_text()
    assert "bash dev.sh demo" in readme and "bash dev.sh test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash dev.sh test" in ci, ".ci/run must run the README's test command"
