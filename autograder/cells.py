"""Reading nbgrader cells: their metadata, hidden test blocks, and which cells grading put back."""

from __future__ import annotations

import re
from typing import Any

from . import config as cfg

#: what :class:`autograder.preprocessors.RestoreMissingCells` logs for each cell it puts back
RESTORED_MARK = "Restored deleted cell"
_RESTORED_RE = re.compile(rf"{RESTORED_MARK} (\S+)|Missing grade cell (\S+) encountered")


def nbgrader_meta(cell: Any) -> dict[str, Any]:
    meta = cell.get("metadata", {}).get("nbgrader", {}) or {}
    return dict(meta)


def hidden_block_re() -> re.Pattern[str]:
    return re.compile(
        rf"^[ \t]*{re.escape(cfg.BEGIN_HIDDEN)}.*?^[ \t]*{re.escape(cfg.END_HIDDEN)}[^\n]*\n?", re.M | re.S
    )


def is_hidden_source(source: str) -> bool:
    return cfg.BEGIN_HIDDEN in source


def was_restored(cell: Any) -> bool:
    """True for a cell that :class:`~autograder.preprocessors.RestoreMissingCells` put back."""
    return bool(cell.get("metadata", {}).get("autograder", {}).get("restored"))


def restored_ids(nbgrader_log: str) -> list[str]:
    """Grade ids of the cells put back during an autograde run, from its log: ours and nbgrader's message."""
    return sorted({a or b for a, b in _RESTORED_RE.findall(nbgrader_log)})


def is_guarded(cell: Any) -> bool:
    """Cells the instructor wrote: locked cells and graded cells that are not answers."""
    if cell.get("cell_type") != "code" or not cell.get("source", "").strip():
        return False
    meta = nbgrader_meta(cell)
    return bool(meta.get("locked") or (meta.get("grade") and not meta.get("solution")))
