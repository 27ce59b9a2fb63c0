"""Feature flags in production: a live percentage flag, users that drive real traffic through it, A/B data.

Week 12 turns a flag into a release mechanism. A merged change is deployed dark; the flag decides who reaches the
new code path; a controller raises the percentage while it watches the new path's metrics, and sets it to 0 when
a guard-rail breaks. This module supplies the moving parts the students do *not* write, so that their code (the
guard-rails, the metrics window, the controller, the significance test) runs against real things::

    from labkit import experiments, service

    flag = experiments.RolloutFlag("new-checkout")               # 0 % until someone raises it
    with service.run("1.0.0") as old, service.run("1.1.0") as new, \\
            experiments.traffic(flag, old.url, new.url) as users:  # simulated users send real HTTP requests
        flag.set(25, reason="step to 25 %")                        # about a quarter of the users reach 1.1.0
        ...
        users.summary()                                            # who went where, what they saw
    flag.history                                                   # every change, with its reason: the audit log

* :func:`bucket` is the stable hash recipe of week 4 (SHA-256 of ``"<key>:<user id>"``, first 8 bytes, modulo
  100). The flag, the traffic and the simulated experiments all use it, so a student's own implementation can
  be compared with it.
* :class:`RolloutFlag` is a thread-safe percentage flag: ``is_on(user_id)`` is ``bucket(key, user) < percent``.
  Raising the percentage only adds users (monotonic), the same user always gets the same answer (sticky). Every
  change is recorded in :attr:`RolloutFlag.history`. :meth:`RolloutFlag.provider` serves it through the
  OpenFeature SDK (week 4), evaluated live.
* :func:`traffic` runs simulated users in background threads, bounded in time and count, each request routed to
  the old or the new service by the flag. It stops when the ``with`` block ends, also on error.
* :func:`serve_text` serves a fixed text (say, hand-written Prometheus metrics) on 127.0.0.1: an "exporter" whose
  numbers you chose, to test a scraper on cases a live service rarely shows (a 503, a counter reset).
* :func:`simulate_visits` makes a reproducible A/B experiment: users assigned by the hash, conversions drawn
  with a seeded RNG from the true rates you choose (so you know the right answer).

Nothing runs at import; no files are written; the only network traffic goes to the URLs you pass (127.0.0.1).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from openfeature.provider.in_memory_provider import InMemoryProvider

__all__ = [
    "BUCKETS",
    "FlagChange",
    "RolloutFlag",
    "Traffic",
    "TrafficRecord",
    "bucket",
    "serve_text",
    "simulate_visits",
    "traffic",
]

BUCKETS = 100
MAX_TRAFFIC_SECONDS = 120.0
MAX_TRAFFIC_REQUESTS = 500_000


def _check_percent(percent: Any, what: str = "percent") -> float:
    if isinstance(percent, bool) or not isinstance(percent, int | float) or not 0 <= percent <= 100:
        raise ValueError(f"{what} must be a number from 0 to 100 (25 means 25 %), found {percent!r}")
    return float(percent)


def bucket(key: str, user_id: str, buckets: int = BUCKETS) -> int:
    """The user's stable bucket for this flag or experiment: ``0 .. buckets-1``.

    SHA-256 of the UTF-8 text ``f"{key}:{user_id}"``, its first 8 bytes read as a big-endian unsigned integer,
    modulo ``buckets``. Why each part:

    * a cryptographic hash, not Python's ``hash()``: ``hash()`` of a string changes from process to process
      (PYTHONHASHSEED), so two servers — or one server after a restart — would disagree about a user;
    * the key in the hashed text: different flags pick different users (otherwise the same unlucky 5 % get every
      new feature first, and an experiment inside a rollout sees only one variant);
    * 8 bytes before the modulo: 2**64 values spread over 100 buckets leave a bias of about 1e-17; one byte
      (256 values) would make buckets 0..55 half as likely again as 56..99.
    """
    if not isinstance(key, str) or not key:
        raise ValueError(f"key must be a non-empty string such as 'new-checkout', found {key!r}")
    if not isinstance(user_id, str):
        raise ValueError(f"user_id must be a string such as 'user-42', found {user_id!r}")
    if isinstance(buckets, bool) or not isinstance(buckets, int) or buckets < 1:
        raise ValueError(f"buckets must be a positive int, found {buckets!r}")
    digest = hashlib.sha256(f"{key}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % buckets


# ------------------------------------------------------------------------------------------------ the flag


@dataclass(frozen=True)
class FlagChange:
    """One entry of a flag's audit log: when (``time.monotonic()``), the new percentage, and why."""

    at: float
    percent: float
    reason: str


class RolloutFlag:
    """A percentage-rollout flag that can be changed while traffic flows through it (thread-safe).

    ``is_on(user)`` is ``bucket(key, user) < percent``. Every :meth:`set` is recorded in :attr:`history` with a
    reason, the way a flag service keeps an audit log: after an automatic rollback the log says who turned the
    feature off, when, and why.
    """

    def __init__(self, key: str, percent: float = 0.0) -> None:
        bucket(key, "")  # validates the key with the same message
        self.key = key
        self._lock = threading.Lock()
        self._percent = _check_percent(percent)
        self._history: list[FlagChange] = [FlagChange(time.monotonic(), self._percent, "created")]

    @property
    def percent(self) -> float:
        """The share of users (0-100) the flag is on for right now."""
        with self._lock:
            return self._percent

    @property
    def history(self) -> list[FlagChange]:
        """Every change so far, oldest first (a copy: changing it changes nothing)."""
        with self._lock:
            return list(self._history)

    def set(self, percent: float, reason: str = "") -> FlagChange:
        """Change the percentage now (``0`` switches the feature off for everybody) and log why."""
        value = _check_percent(percent)
        if not isinstance(reason, str):
            raise ValueError(f"reason must be a string saying why the flag changed, found {reason!r}")
        change = FlagChange(time.monotonic(), value, reason)
        with self._lock:
            self._percent = value
            self._history.append(change)
        return change

    def is_on(self, user_id: str) -> bool:
        """Whether this user gets the feature at the current percentage."""
        return bucket(self.key, user_id) < self.percent

    def provider(self) -> InMemoryProvider:
        """An OpenFeature provider serving this flag as a boolean (variants ``on``/``off``), evaluated live.

        The evaluation context's ``targeting_key`` is the user id; without one the default variant ``off`` is
        served (reason ``DEFAULT``): a feature being rolled out is off for anonymous callers.
        """
        from openfeature.flag_evaluation import FlagResolutionDetails, Reason
        from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider

        def evaluate(flag: Any, context: Any) -> Any:
            user = getattr(context, "targeting_key", None)
            if not user:
                return FlagResolutionDetails(value=False, variant="off", reason=Reason.DEFAULT)
            variant = "on" if self.is_on(user) else "off"
            return FlagResolutionDetails(value=variant == "on", variant=variant, reason=Reason.SPLIT)

        flag = InMemoryFlag("off", {"on": True, "off": False}, context_evaluator=evaluate)
        return InMemoryProvider({self.key: flag})

    def __repr__(self) -> str:
        return f"RolloutFlag({self.key!r}, percent={self.percent:g})"


# ------------------------------------------------------------------------------------------------- traffic


@dataclass(frozen=True)
class TrafficRecord:
    """One request a simulated user made: when (seconds since the traffic started), who, which path, answer."""

    t: float
    user: str
    on: bool  #: the flag was on for this user: the request went to the new service
    status: int | str  #: HTTP status, or "timeout" / "connect_error" / "error"
    latency_ms: float


@dataclass
class Traffic:
    """The running traffic of :func:`traffic`; read it while it runs or after the block."""

    started: float  #: ``time.monotonic()`` when the first user started
    _records: list[TrafficRecord] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def records(self) -> list[TrafficRecord]:
        """Every request so far, in the order they finished (a copy)."""
        with self._lock:
            return list(self._records)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        """Stop sending requests (the ``with`` block does this too)."""
        self._stop.set()

    def count(self, *, on: bool | None = None, since: float | None = None) -> int:
        """Requests so far, optionally only those to the new (``on=True``) or old path, or those that started
        after ``since`` (a ``time.monotonic()`` value, e.g. a :class:`FlagChange`'s ``at``)."""
        offset = None if since is None else since - self.started
        return sum(
            1
            for r in self.records
            if (on is None or r.on is on) and (offset is None or r.t - r.latency_ms / 1000 >= offset)
        )

    def summary(self) -> dict[str, Any]:
        """Requests, users and answers per path: ``{"old": {...}, "new": {...}}``."""
        out: dict[str, Any] = {}
        records = self.records
        for name, on in (("old", False), ("new", True)):
            mine = [r for r in records if r.on is on]
            out[name] = {
                "requests": len(mine),
                "users": len({r.user for r in mine}),
                "statuses": dict(sorted(Counter(str(r.status) for r in mine).items())),
            }
        return out


@contextlib.contextmanager
def traffic(  # noqa: C901 - the bounded traffic loop: its users, scheduler and stop rules share one state
    flag: RolloutFlag,
    old_url: str,
    new_url: str,
    *,
    path: str = "/api/orders",
    users: int = 2000,
    concurrency: int = 4,
    max_seconds: float = 30.0,
    max_requests: int = 100_000,
    timeout: float = 2.0,
    seed: int = 0,
    actions: Sequence[tuple[float, Callable[[], Any]]] = (),
) -> Iterator[Traffic]:
    """Simulated users send real requests while the block runs; the flag routes each one to old or new.

    Each of ``concurrency`` threads repeatedly picks one of ``users`` users (``"user-0"`` ...) with a seeded RNG,
    asks ``flag.is_on(user)`` *at that moment*, and sends ``GET <new_url or old_url><path>``. The traffic stops
    when the block ends, after ``max_seconds`` or after ``max_requests`` requests, whichever comes first, so a
    forgotten loop cannot run for ever. ``actions`` are ``(at_seconds, callable)`` pairs run during the traffic
    (e.g. ``(1.0, lambda: new.set_faults(error_rate=0.3))`` — a bug that shows up under load); an exception in
    an action is re-raised when the block ends.
    """
    import httpx

    if not isinstance(flag, RolloutFlag):
        raise TypeError(f"flag must be a labkit.experiments.RolloutFlag, found {type(flag).__name__}")
    for name, url in (("old_url", old_url), ("new_url", new_url)):
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"{name} must be a base URL such as svc.url ('http://127.0.0.1:…'), found {url!r}")
    if isinstance(users, bool) or not isinstance(users, int) or users < 1:
        raise ValueError(f"users must be a positive int, found {users!r}")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= 64:
        raise ValueError(f"concurrency must be an int from 1 to 64, found {concurrency!r}")
    if not 0 < float(max_seconds) <= MAX_TRAFFIC_SECONDS:
        raise ValueError(f"max_seconds must be in (0, {MAX_TRAFFIC_SECONDS:g}], found {max_seconds!r}")
    if (
        isinstance(max_requests, bool)
        or not isinstance(max_requests, int)
        or not 1 <= max_requests <= MAX_TRAFFIC_REQUESTS
    ):
        raise ValueError(f"max_requests must be an int from 1 to {MAX_TRAFFIC_REQUESTS}, found {max_requests!r}")

    state = Traffic(started=time.monotonic())
    issued = 0
    issue_lock = threading.Lock()
    action_errors: list[BaseException] = []
    deadline = state.started + float(max_seconds)

    def take() -> bool:
        nonlocal issued
        with issue_lock:
            if state._stop.is_set() or issued >= max_requests or time.monotonic() >= deadline:
                return False
            issued += 1
            return True

    def worker(index: int) -> None:
        rng = random.Random(f"{seed}:{index}")
        with httpx.Client(timeout=timeout) as client:
            while take():
                user = f"user-{rng.randrange(users)}"
                on = flag.is_on(user)
                start = time.monotonic()
                status: int | str
                try:
                    status = client.get((new_url if on else old_url) + path).status_code
                except httpx.TimeoutException:
                    status = "timeout"
                except httpx.ConnectError:
                    status = "connect_error"
                except httpx.HTTPError:
                    status = "error"
                end = time.monotonic()
                record = TrafficRecord(end - state.started, user, on, status, (end - start) * 1000)
                with state._lock:
                    state._records.append(record)

    def scheduler() -> None:
        for at, action in sorted(actions, key=lambda a: a[0]):
            if state._stop.wait(max(0.0, state.started + at - time.monotonic())):
                return
            try:
                action()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread when the block ends
                action_errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,), name=f"users-{i}", daemon=True) for i in range(concurrency)]
    sched = threading.Thread(target=scheduler, name="traffic-actions", daemon=True)
    for t in (*threads, sched):
        t.start()
    try:
        yield state
    finally:
        state._stop.set()
        for t in threads:
            t.join(timeout + 1)
        sched.join(5)
    if action_errors:
        raise action_errors[0]


@contextlib.contextmanager
def serve_text(text: str, *, content_type: str = "text/plain; version=0.0.4; charset=utf-8") -> Iterator[str]:
    """Serve ``text`` to every ``GET`` on a local HTTP server; yields its base URL; stops when the block ends.

    Any path answers (``/metrics`` included) with status 200. Use it to test a scraper against an exposition
    you wrote by hand, e.g. ``with serve_text(METRICS) as url: scrape(url)``.
    """
    import http.server

    if not isinstance(text, str):
        raise ValueError(f"text must be a str (the body to serve), found {type(text).__name__}")
    body = text.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --------------------------------------------------------------------------------------------- experiments


def simulate_visits(
    experiment: str,
    n_users: int,
    rates: Mapping[str, float],
    *,
    seed: int = 0,
) -> pd.DataFrame:
    """A reproducible A/B experiment: ``n_users`` users split evenly over the variants of ``rates`` by the stable
    hash, each converting with its variant's true rate.

    Returns a DataFrame with columns ``user_id`` (``"user-0"`` ...), ``variant`` and ``converted`` (bool). The
    split uses ``bucket(experiment, user_id) * len(rates) // 100``, so with two variants buckets 0-49 get the
    first one. Knowing the true rates lets you check what a significance test concludes.
    """
    import pandas as pd

    if isinstance(n_users, bool) or not isinstance(n_users, int) or n_users < 1:
        raise ValueError(f"n_users must be a positive int, found {n_users!r}")
    if not isinstance(rates, Mapping) or not rates:
        raise ValueError(
            f"rates must map variant names to conversion rates, e.g. {{'A': 0.10, 'B': 0.11}}; found {rates!r}"
        )
    for name, rate in rates.items():
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1 or math.isnan(rate):
            raise ValueError(f"the conversion rate of {name!r} must be from 0 to 1 (10 % is 0.10), found {rate!r}")
    names = list(rates)
    rng = random.Random(seed)
    rows = []
    for i in range(n_users):
        user = f"user-{i}"
        variant = names[bucket(experiment, user) * len(names) // BUCKETS]
        rows.append((user, variant, rng.random() < float(rates[variant])))
    frame = pd.DataFrame(rows, columns=["user_id", "variant", "converted"])
    return frame.astype({"user_id": str, "variant": str, "converted": bool})
