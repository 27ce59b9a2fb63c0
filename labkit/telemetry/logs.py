"""Structured JSON logs with structlog: capture, request ids bound with contextvars, the reference middleware."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

from .service import TelemetryError

# ---------------------------------------------------------------------------------------------- structlog


class LogCapture:
    """The JSON lines structlog wrote inside :func:`json_logs` (thread-safe: the server logs from its thread)."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            return self._buffer.write(text)

    def flush(self) -> None:
        """structlog's WriteLogger flushes after every line; nothing to do for a memory buffer."""

    @property
    def text(self) -> str:
        with self._lock:
            return self._buffer.getvalue()

    def lines(self) -> list[str]:
        return [line for line in self.text.splitlines() if line.strip()]

    def records(self) -> list[dict[str, Any]]:
        """Every line parsed as JSON; a line that is not JSON raises, saying which line it is."""
        out = []
        for number, line in enumerate(self.lines(), 1):
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TelemetryError(
                    f"log line {number} is not JSON ({exc.msg}): {line[:200]!r}. Structured logs must be "
                    "one JSON object per line: is structlog.processors.JSONRenderer() the last processor?"
                ) from None
            out.append(value)
        return out

    def clear(self) -> None:
        with self._lock:
            self._buffer = io.StringIO()


@contextlib.contextmanager
def json_logs(level: int = logging.INFO) -> Iterator[LogCapture]:
    """Configure structlog to write JSON lines (``timestamp``, ``level``, ``event``, bound context) into a
    :class:`LogCapture`; put the previous structlog configuration back when the block ends.

    The processor chain is the one structlog's docs recommend for production JSON logs: merge the
    contextvars (the per-request ``request_id``), add the level, an ISO-8601 UTC timestamp, render JSON.
    """
    import structlog

    was_configured = structlog.is_configured()
    previous = structlog.get_config()
    capture = LogCapture()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.WriteLoggerFactory(file=capture),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    try:
        yield capture
    finally:
        if was_configured:
            structlog.configure(**previous)
        else:
            structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()
