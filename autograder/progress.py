"""A tqdm progress bar for the long commands (release --all, feedback, report), shown only on a terminal.

Not on a terminal (a log file, CI, tests) the items are simply iterated: the log lines alone, unchanged. While the bar
is drawn, the autograder's log lines go through ``tqdm.write`` (``logging_redirect_tqdm``) so they print above the
bar instead of breaking it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import TypeVar

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from .errors import log

T = TypeVar("T")


def progress(items: Sequence[T], desc: str, unit: str) -> Iterator[T]:
    """Iterate ``items`` with a bar ``desc: 3/24 week``; the log is redirected above the bar until the end."""
    if not sys.stderr.isatty():
        yield from items
        return
    with logging_redirect_tqdm(loggers=[log]), tqdm(items, desc=desc, unit=unit, disable=None, leave=False) as bar:
        yield from bar
