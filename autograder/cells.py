"""Reading notebooks and nbgrader cells: valid files, cell metadata, hidden test blocks, restored cells."""

from __future__ import annotations

import json
import re
from typing import Any

import nbformat

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


def check_notebook_bytes(data: bytes) -> str | None:
    """None when ``data`` is a valid nbformat-4 notebook, else the reason in one line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return (
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save the notebook from Jupyter, which writes UTF-8"
        )
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return (
            f"corrupt JSON at line {exc.lineno} column {exc.colno} ({exc.msg}); "
            "the file was probably truncated or edited by hand — re-download it from Jupyter"
        )
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        return "JSON but not a Jupyter notebook (no 'cells'); submit the .ipynb file itself"
    major = raw.get("nbformat")
    if major != 4:
        return (
            f"nbformat {major} notebook, expected nbformat 4; open it in a current Jupyter and save, "
            "or run: jupyter nbconvert --to notebook --nbformat 4"
        )
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 - nbformat raises several types for structural problems
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"not a valid nbformat 4 notebook ({first}); open it in Jupyter and save it again"
    return None
