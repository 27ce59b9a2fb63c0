"""``hammer()``: a bounded concurrent client loop (requests and seconds) and its :class:`HammerResult`."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass
from .faults import VERSION_HEADER

# ----------------------------------------------------------------------------------------------- load helper


@dataclass
class HammerResult:
    """What :func:`hammer` saw. ``records`` holds one ``(start_s, latency_ms, status, version)`` per request
    (``start_s`` counted from ``started``, a ``time.perf_counter()`` value); ``status`` is the HTTP code or
    ``"timeout"`` / ``"connect_error"`` / ``"error"``."""

    ok: int
    failed: int
    by_status: Counter[str]
    by_version: Counter[str]
    duration_s: float
    latencies_ms: list[float] = field(repr=False)
    records: list[tuple[float, float, int | str, str]] = field(repr=False)
    started: float = field(default=0.0, repr=False)

    @property
    def total(self) -> int:
        return self.ok + self.failed

    @property
    def rps(self) -> float:
        """Requests per second over the whole run."""
        return self.total / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def error_rate(self) -> float:
        return self.failed / self.total if self.total else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile in ms (nearest rank; ``q`` in 0–100) over all answered requests."""
        if not self.latencies_ms:
            return math.nan
        data = sorted(self.latencies_ms)
        rank = max(1, math.ceil(q / 100 * len(data)))
        return data[min(rank, len(data)) - 1]

    @property
    def p50_ms(self) -> float:
        return self.percentile(50)

    @property
    def p95_ms(self) -> float:
        return self.percentile(95)

    @property
    def p99_ms(self) -> float:
        return self.percentile(99)

    def summary(self) -> str:
        versions = ", ".join(f"{v}: {c}" for v, c in sorted(self.by_version.items()))
        return (
            f"{self.total} requests in {self.duration_s:.2f} s ({self.rps:.0f}/s): "
            f"{self.ok} ok, {self.failed} failed; p50 {self.p50_ms:.1f} ms, p95 {self.p95_ms:.1f} ms, "
            f"p99 {self.p99_ms:.1f} ms; by version: {versions}"
        )


MAX_HAMMER_SECONDS = 300.0
MAX_HAMMER_REQUESTS = 1_000_000


def hammer(  # noqa: C901 - the bounded load loop's workers and scheduler share its state
    url: str,
    *,
    n: int | None = None,
    duration: float | None = None,
    concurrency: int = 4,
    timeout: float = 2.0,
    method: str = "GET",
    json_body: Any = None,
    actions: Sequence[tuple[float, Callable[[], Any]]] = (),
) -> HammerResult:
    """Send requests to ``url`` from ``concurrency`` threads until ``n`` are sent or ``duration`` s passed.

    At least one bound is required (both may be given: whichever comes first). A request counts as ok when it
    answers 2xx/3xx; failures are 4xx/5xx, timeouts and refused connections. ``actions`` are ``(at_seconds,
    callable)`` pairs run during the load (e.g. ``(0.5, lambda: splitter.switch("green"))``); an exception in
    an action is re-raised after the load stops. Safe inside Jupyter (threads, no event loop needed).
    """
    import httpx

    if n is None and duration is None:
        raise ValueError("hammer needs a bound: pass n=<number of requests> and/or duration=<seconds>.")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_HAMMER_REQUESTS):
        raise ValueError(f"n must be an int from 1 to {MAX_HAMMER_REQUESTS}; got {n!r}.")
    if duration is not None and not 0 < float(duration) <= MAX_HAMMER_SECONDS:
        raise ValueError(f"duration must be seconds in (0, {MAX_HAMMER_SECONDS:g}]; got {duration!r}.")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= 256:
        raise ValueError(f"concurrency must be an int from 1 to 256; got {concurrency!r}.")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"url must start with http:// or https://, e.g. svc.url + '/api/orders'; got {url!r}.")
    limit_s = float(duration) if duration is not None else MAX_HAMMER_SECONDS

    lock = threading.Lock()
    issued = 0
    records: list[tuple[float, float, int | str, str]] = []
    action_errors: list[BaseException] = []
    stop = threading.Event()
    t0 = time.perf_counter()

    def take() -> bool:
        nonlocal issued
        with lock:
            if stop.is_set() or (n is not None and issued >= n) or time.perf_counter() - t0 >= limit_s:
                return False
            issued += 1
            return True

    # certificate checks only matter for https; skipping the CA bundle for http saves ~40 ms per client
    verify = url.startswith("https://")

    def worker() -> None:
        with httpx.Client(timeout=timeout, verify=verify) as client:
            while take():
                start = time.perf_counter()
                status: int | str
                version = ""
                try:
                    resp = client.request(method, url, json=json_body)
                    status, version = resp.status_code, resp.headers.get(VERSION_HEADER, "")
                except httpx.TimeoutException:
                    status = "timeout"
                except httpx.ConnectError:
                    status = "connect_error"
                except httpx.HTTPError:
                    status = "error"
                end = time.perf_counter()
                with lock:
                    records.append((start - t0, (end - start) * 1000, status, version))

    def scheduler() -> None:
        for at, action in sorted(actions, key=lambda a: a[0]):
            if stop.wait(max(0.0, at - (time.perf_counter() - t0))):
                return
            try:
                action()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread after the load
                action_errors.append(exc)

    threads = [threading.Thread(target=worker, name=f"hammer-{i}", daemon=True) for i in range(concurrency)]
    sched = threading.Thread(target=scheduler, name="hammer-actions", daemon=True)
    sched.start()
    for t in threads:
        t.start()
    try:
        for t in threads:
            t.join()
    finally:
        stop.set()
        for t in threads:
            t.join(timeout + 1)
        sched.join(5)
    elapsed = time.perf_counter() - t0
    if action_errors:
        raise action_errors[0]
    records.sort(key=lambda r: r[0])
    by_status: Counter[str] = Counter(str(r[2]) for r in records)
    by_version: Counter[str] = Counter(r[3] for r in records if r[3])
    ok = sum(1 for r in records if isinstance(r[2], int) and r[2] < 400)
    latencies = [r[1] for r in records if isinstance(r[2], int)]
    return HammerResult(ok, len(records) - ok, by_status, by_version, elapsed, latencies, records, t0)
