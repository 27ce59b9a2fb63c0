"""What a check gets (the repository, a PostgreSQL server started at most once, cached runs) and what it returns."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    """A check's verdict: ``passed``, a ``message`` (what was measured, or what to fix) and measured ``details``."""

    passed: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)


class Context:
    """The repository under test and the expensive things several checks share, made once per rubric run.

    ``cached(key, make)`` runs ``make()`` once (the test run serves both ``test_coverage`` and ``build_time``);
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
