"""One call that prepares a week's notebook: ``labkit.course.setup(1)``.

It checks the tools the week needs, sets friendly display options, makes the release's unanswered stubs
(``raise NotImplementedError()``) show a short ✘ message in Jupyter instead of a traceback
(:func:`labkit.friendly.install`) and prints a one-line banner. It has no other side effects (no files, no
processes, no network).
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["WeekInfo", "setup", "course_repo_root"]


@dataclass(frozen=True)
class WeekInfo:
    week: int
    python: str
    git: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def assignment(self) -> str:
        return f"week{self.week:02d}"


def _git_version() -> str | None:
    exe = shutil.which("git")
    if exe is None:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10)
    return out.stdout.strip().removeprefix("git version ") or None


def course_repo_root(start: str | Path | None = None) -> Path | None:
    """The course repository's root (a folder with ``.git`` and ``source/``) above ``start``, or None (Binder)."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists() and (folder / "source").is_dir():
            return folder
    return None


def setup(week: int, *, needs_git: bool = True, quiet: bool = False, friendly_errors: bool = True) -> WeekInfo:
    """Prepare week ``week``: check tools, set pandas/matplotlib display options, print a banner.

    ``friendly_errors`` registers the ✘ message for unanswered exercises on the running IPython shell (nothing
    happens outside IPython or under nbgrader's autograder).
    """
    if not isinstance(week, int) or not 1 <= week <= 24:
        raise ValueError(f"week must be an int from 1 to 24, got {week!r}")
    notes: list[str] = []
    git = _git_version()
    if needs_git and git is None:
        raise RuntimeError("this week needs git, but `git` is not on PATH: install git and restart the kernel")
    try:
        import pandas as pd

        pd.set_option("display.max_columns", 30)
        pd.set_option("display.width", 160)
        pd.set_option("display.max_colwidth", 60)
    except ImportError:  # pragma: no cover - pandas is a course requirement
        notes.append("pandas is missing: run `pip install -r requirements.txt`")
    try:
        import matplotlib

        matplotlib.rcParams.update({"figure.figsize": (9, 4), "axes.grid": True, "figure.dpi": 100})
    except ImportError:  # pragma: no cover
        notes.append("matplotlib is missing: run `pip install -r requirements.txt`")
    if friendly_errors:
        from . import friendly

        friendly.install()
    info = WeekInfo(week=week, python=platform.python_version(), git=git, notes=notes)
    if not quiet:
        tools = f"Python {info.python}" + (f", git {git}" if git else "")
        print(f"Week {week:02d} ready — {tools}." + ("".join(f"\n  ! {n}" for n in notes)), file=sys.stdout)
    return info
