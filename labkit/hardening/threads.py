"""Load from threads: a manual clock, concurrent calls with forced thread switches, a counting limiter."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx
    from matplotlib.axes import Axes

from .app import ServerError

# ---------------------------------------------------------------------------------------- load from threads


class ManualClock:
    """A clock you move by hand: ``clock()`` returns the time, ``clock.advance(2.5)`` moves it (thread-safe).

    Inject it into a rate limiter and a test becomes deterministic: no sleeps, no flaky timing.
    ``yield_every_call=True`` makes every reading give up the CPU for a moment, which makes a missing lock in
    the code that reads it show up reliably (other threads run in between the read and the write).
    """

    def __init__(self, start: float = 1000.0, *, yield_every_call: bool = False) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self.yield_every_call = yield_every_call

    def __call__(self) -> float:
        with self._lock:
            now = self._now
        if self.yield_every_call:
            time.sleep(0.0002)
        return now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError(f"a clock does not go back; advance({seconds}) asked it to")
        with self._lock:
            self._now += seconds
            return self._now


def _preempting_tracer(filename: str) -> Callable[..., Any]:
    """A ``sys.settrace`` function that gives up the CPU before every line of code from ``filename``."""

    def local(frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            time.sleep(0)  # releases the GIL: another thread runs between any two lines of the traced code
        return local

    def global_(frame: Any, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename == filename else None

    return global_


def concurrent_calls(
    fn: Callable[[], Any], n: int, *, threads: int = 8, timeout: float = 20.0, preempt: Callable[..., Any] | None = None
) -> list[Any]:
    """Call ``fn()`` ``n`` times from ``threads`` threads that start together; the results (or exceptions).

    Bounded: at most ``n`` calls, and the threads are given ``timeout`` seconds in total.

    ``preempt`` (a function or method): force a thread switch before every line of the file it was written in
    (a notebook cell is one such "file"). CPython only switches threads every few milliseconds, so a
    read-modify-write without a lock almost never breaks in a quick test — and then breaks in production
    under load. Forcing a switch at every line makes the race show up every time, while code that holds a
    lock stays correct (the other threads wait for the lock).
    """
    if n < 0 or threads < 1:
        raise ValueError(f"n must be >= 0 and threads >= 1; got n={n}, threads={threads}")
    results: list[Any] = []
    lock = threading.Lock()
    left = [n]
    start = threading.Barrier(threads)

    tracer = None
    if preempt is not None:
        code = getattr(getattr(preempt, "__func__", preempt), "__code__", None)
        if code is None:
            raise TypeError(f"preempt must be a Python function or method; got {preempt!r}")
        tracer = _preempting_tracer(code.co_filename)

    def worker() -> None:
        if tracer is not None:
            sys.settrace(tracer)
        with contextlib.suppress(threading.BrokenBarrierError):
            start.wait(timeout=5)
        while True:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            try:
                value: Any = fn()
            except Exception as exc:  # noqa: BLE001 - reported to the caller as a result
                value = exc
            with lock:
                results.append(value)

    pool = [threading.Thread(target=worker, name=f"hardening-{i}", daemon=True) for i in range(threads)]
    for t in pool:
        t.start()
    deadline = time.monotonic() + timeout
    for t in pool:
        t.join(max(0.0, deadline - time.monotonic()))
    return list(results)


@dataclass(frozen=True)
class Answer:
    """One HTTP answer from :func:`concurrent_get`: the status, the headers (lower-case names) and when."""

    status: int
    headers: dict[str, str]
    at: float


def concurrent_get(
    url: str, n: int, *, threads: int = 4, headers: Mapping[str, str] | None = None, timeout: float = 20.0
) -> list[Answer]:
    """``n`` GETs of ``url`` from ``threads`` threads at once (one connection each), as :class:`Answer` objects."""
    import httpx

    local = threading.local()
    t0 = time.monotonic()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def one() -> Answer:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(timeout=5.0, headers=dict(headers or {}))
            with lock:
                clients.append(client)
        resp = client.get(url)
        return Answer(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, time.monotonic() - t0)

    try:
        out = concurrent_calls(one, n, threads=threads, timeout=timeout)
    finally:
        for client in clients:
            client.close()
    errors = [r for r in out if isinstance(r, Exception)]
    if errors:
        raise ServerError(f"{len(errors)} of {n} requests to {url} failed; the first: {errors[0]!r}")
    return sorted(out, key=lambda a: a.at)


class CountingLimiter:
    """A stand-in rate limiter: ``limit`` requests per key, then "wait ``retry_after`` seconds" forever.

    It has the interface of this week's limiter — ``allow(key) -> (allowed, retry_after_seconds)`` — so the
    middleware exercise can be checked without depending on your token bucket.
    """

    def __init__(self, limit: int, retry_after: float = 30.0) -> None:
        self.limit = limit
        self.retry_after = retry_after
        self.seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> tuple[bool, float]:
        with self._lock:
            self.seen[key] = self.seen.get(key, 0) + 1
            if self.seen[key] <= self.limit:
                return True, 0.0
            return False, float(self.retry_after)


def plot_rate_limit(times: Sequence[float], allowed: Sequence[bool], *, bin_s: float = 1.0, title: str = "") -> Axes:
    """Stacked bars per ``bin_s`` seconds: requests allowed (green) and rejected with 429 (red)."""
    import matplotlib.pyplot as plt

    if len(times) != len(allowed):
        raise ValueError(f"{len(times)} times but {len(allowed)} decisions: one decision per request")
    bins = int(max(times, default=0) // bin_s) + 1
    ok = [0] * bins
    no = [0] * bins
    for t, a in zip(times, allowed, strict=True):
        (ok if a else no)[int(t // bin_s)] += 1
    xs = [i * bin_s for i in range(bins)]
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.bar(xs, ok, width=bin_s * 0.9, align="edge", color="tab:green", label="allowed (200)")
    ax.bar(xs, no, width=bin_s * 0.9, align="edge", bottom=ok, color="tab:red", label="rejected (429)")
    ax.set_xlabel("seconds")
    ax.set_ylabel("requests")
    ax.set_title(title or "Rate limiter: requests per second")
    ax.legend(loc="upper right")
    fig.tight_layout()
    return ax
