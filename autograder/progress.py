"""tqdm progress bars for the long commands (release --all, grade, feedback, report), shown only on a terminal.

Not on a terminal (a log file, CI, tests) nothing is drawn: the log lines alone, unchanged. While a bar is drawn,
the autograder's log lines go through ``tqdm.write`` (``logging_redirect_tqdm``) so they print above the bar instead
of breaking it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from .errors import log

T = TypeVar("T")


@contextlib.contextmanager
def bar(total: int, desc: str, unit: str, *, initial: int = 0, show: bool | None = None) -> Iterator[Any]:
    """A bar the caller advances (``.update(1)``, ``.set_postfix_str``); ``show=None`` means "on a terminal"."""
    show = sys.stderr.isatty() if show is None else show
    with (
        logging_redirect_tqdm(loggers=[log]),
        tqdm(
            total=total, initial=initial, desc=desc, unit=unit, file=sys.stderr, disable=not show, dynamic_ncols=True
        ) as b,
    ):
        yield b


def progress(items: Sequence[T], desc: str, unit: str) -> Iterator[T]:
    """Iterate ``items`` with a bar ``desc: 3/24 week``; the log is redirected above the bar until the end."""
    if not sys.stderr.isatty():
        yield from items
        return
    with bar(len(items), desc, unit) as b:
        for item in items:
            yield item
            b.update(1)
