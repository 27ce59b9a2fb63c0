"""What a check gets (the repository, a PostgreSQL server started at most once, cached runs) and what it returns."""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")

#: Results of earlier runs by (what, digest of its input files). A criterion is measured again only when one of
#: the files it reads changed: re-running the whole rubric after fixing one part costs only that part.
_MEMO: OrderedDict[str, Any] = OrderedDict()
MEMO_SIZE = 128
_SKIP = (".git", "__pycache__", ".pytest_cache")


def digest(root: Path, patterns: Sequence[str]) -> str:
    """A SHA-256 over the paths and bytes of the files under ``root`` that match any of the glob ``patterns``."""
    sha = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if any(part in _SKIP for part in path.relative_to(root).parts) or rel.startswith(".coverage"):
            continue
        if any(fnmatch.fnmatchcase(rel, pattern) for pattern in patterns):
            sha.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()


@dataclass(frozen=True)
class Outcome:
    """A check's verdict: ``passed``, a ``message`` (what was measured, or what to fix) and measured ``details``."""

    passed: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)


class Context:
    """The repository under test and the expensive things several checks share, made once per rubric run.

    ``cached(key, make)`` runs ``make()`` once per run (the service process serves several live checks);
    ``memo(what, patterns, make)`` keeps a value across runs while its input files are unchanged;
    ``postgres()`` starts a throwaway server on first use; everything stops when the ``with`` block ends.
    """

    def __init__(self, root: Path, *, pg: Any = None) -> None:
        self.root = root
        self._pg = pg
        self._cache: dict[str, Any] = {}
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Context:
        self._stack.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stack.__exit__(exc_type, exc, tb)

    @property
    def is_git(self) -> bool:
        return (self.root / ".git").exists()

    def cached(self, key: str, make: Callable[[], T]) -> T:
        if key not in self._cache:
            self._cache[key] = make()
        value: T = self._cache[key]
        return value

    def memo(
        self, what: str, patterns: Sequence[str], make: Callable[[], T], *, keep: Callable[[T], bool] | None = None
    ) -> T:
        """``make()``'s value, reused across rubric runs while the files matching ``patterns`` are unchanged.

        ``keep`` decides whether a fresh value is remembered (the rubric keeps only passed criteria, so a failure
        caused by a slow machine is measured again on the next run).
        """
        key = f"{what}:{digest(self.root, patterns)}"
        if key in _MEMO:
            _MEMO.move_to_end(key)
            value: T = _MEMO[key]
            return value
        fresh = make()
        if keep is None or keep(fresh):
            _MEMO[key] = fresh
            while len(_MEMO) > MEMO_SIZE:
                _MEMO.popitem(last=False)
        return fresh

    def postgres(self) -> Any:
        """The :class:`labkit.postgres.PostgresServer` given to the rubric, else one started now (and stopped at the
        end of the run); make a throwaway database with ``ctx.postgres().database()``."""
        if self._pg is None:
            from labkit import postgres

            self._pg = self._stack.enter_context(postgres.server(quiet=True))
        return self._pg

    def enter(self, manager: contextlib.AbstractContextManager[T]) -> T:
        """Keep ``manager`` open until the rubric run ends (e.g. a throwaway database)."""
        return self._stack.enter_context(manager)
