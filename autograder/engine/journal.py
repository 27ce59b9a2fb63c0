"""What survives a crash: the append-only journal of finished submissions, and the gradebook kept in memory.

The journal (``<course>/.autograder/journal/weekNN.jsonl``) makes ``grade`` resumable: a submission whose
bytes, source notebooks and settings match a journal line is not graded again. :class:`GradebookSnapshot` holds
the gradebook's bytes while untrusted kernels that could reach the file run (``--sandbox none``/``user``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import config as cfg
from ..course import Course

JOURNAL_DIR = Path(".autograder") / "journal"


class Journal:
    """Append-only JSON lines, one per finished submission; the last line for a student wins."""

    def __init__(self, course: Course, assignment: str) -> None:
        self.path = course.root / JOURNAL_DIR / f"{assignment}.jsonl"

    def entries(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        if not self.path.is_file():
            return out
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash: that submission is graded again
            if isinstance(entry, dict) and "student" in entry:
                out[entry["student"]] = entry
        return out

    def append(self, entry: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())


@dataclass
class GradebookSnapshot:
    """The gradebook's bytes, held in the grader's memory while untrusted kernels could reach the file."""

    path: Path
    data: bytes | None

    @classmethod
    def take(cls, course: Course) -> GradebookSnapshot:
        path = course.root / cfg.GRADEBOOK
        return cls(path, path.read_bytes() if path.is_file() else None)

    def restore(self) -> bool:
        """Put the gradebook back as it was; True when it (or a journal next to it) had been changed."""
        changed = False
        for suffix in ("-journal", "-wal", "-shm"):
            extra = self.path.with_name(self.path.name + suffix)
            if extra.exists() or extra.is_symlink():
                extra.unlink()
                changed = True
        current = self.path.read_bytes() if self.path.is_file() and not self.path.is_symlink() else None
        if current == self.data and not self.path.is_symlink():
            return changed
        if self.data is None:
            self.path.unlink(missing_ok=True)
        else:
            tmp = self.path.with_name(f".{self.path.name}.restore")
            tmp.write_bytes(self.data)
            os.replace(tmp, self.path)
        return True
