"""Load tests in CI with the real locust: a bounded headless run, its stats CSV, and repeated measurements.

::

    from labkit import loadtest, service
    with service.run(faults={"latency_ms": 5}) as svc:
        run = loadtest.run_locust(text=LOCUSTFILE, host=svc.url, users=4, spawn_rate=4, run_time_s=2)
    run.command               # the exact `locust -f ... --headless -u 4 -r 4 -t 2s --csv ...` it ran
    run.stats_csv             # Path to <prefix>_stats.csv, the file a CI gate reads
    loadtest.aggregated(run.stats_csv).p95_ms

Why a subprocess: locust runs on gevent, which monkey-patches the standard library; inside a Jupyter kernel that
would break the kernel. A subprocess is also what CI runs, so the command you see here is the command for your
pipeline. Every run is bounded: at most :data:`MAX_USERS` users, :data:`MAX_RUN_TIME_S` seconds, and a hard
``timeout`` after which the whole process group is killed.

Why a companion locustfile: locust rewrites ``<prefix>_stats.csv`` once per ``CSV_STATS_INTERVAL_SEC`` (1 s) and
does not write it a last time when ``--run-time`` ends, so the CSV misses the last partial second of the run
(locust issues #1806 and #2299). :func:`run_locust` adds a tiny second locustfile (``-f yours.py,final.py``)
that writes every 0.25 s and, when locust quits, waits one interval so the CSV holds the final numbers — the
same numbers locust prints in its summary.

:func:`interleaved_runs` measures several short runs of two (or more) versions in alternation (A B A B ...),
so that a slow moment of a shared machine hits both versions alike: one run is one sample for a statistical
test, never the whole answer.
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CSV_COLUMNS",
    "LoadTestError",
    "LocustRun",
    "RunSummary",
    "Stats",
    "aggregated",
    "interleaved_runs",
    "read_stats",
    "run_locust",
    "task_ratios",
    "write_stats_csv",
]

MAX_USERS = 50
MAX_RUN_TIME_S = 30
PERCENTILES = ("50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%")
#: The header of locust's ``<prefix>_stats.csv`` (locust 2.x), in order.
CSV_COLUMNS = (
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
    *PERCENTILES,
)

_FINAL_CSV_LOCUSTFILE = '''"""Added by labkit.loadtest: make <prefix>_stats.csv hold the final numbers of the run."""
import gevent
import locust.stats
from locust import events

locust.stats.CSV_STATS_INTERVAL_SEC = 0.25


@events.quitting.add_listener
def _write_final_csv(environment, **_kwargs):
    # users have stopped; give the CSV writer one more turn so the file matches the printed summary
    gevent.sleep(locust.stats.CSV_STATS_INTERVAL_SEC + 0.15)
'''


class LoadTestError(RuntimeError):
    """locust could not run the test (bad locustfile, bad options, timeout); the message says what to fix."""


# ---------------------------------------------------------------------------------------------- stats CSV


@dataclass(frozen=True)
class Stats:
    """One row of locust's stats CSV. Times are milliseconds; ``None`` where locust wrote ``N/A``."""

    method: str
    name: str
    requests: int
    failures: int
    median_ms: float | None
    average_ms: float | None
    max_ms: float | None
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None

    @property
    def error_rate(self) -> float:
        """failures / requests (0.0 for a row with no requests)."""
        return self.failures / self.requests if self.requests else 0.0


def _number(text: str | None) -> float | None:
    if text is None or text.strip() in ("", "N/A"):
        return None
    return float(text)


def read_stats(path: str | Path) -> list[Stats]:
    """Every row of a locust ``<prefix>_stats.csv`` (the last one is ``Aggregated``)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(
            f"no locust stats CSV at {p}. locust writes <prefix>_stats.csv when run with --csv <prefix>; "
            "did the run start at all? Look at run.stderr."
        )
    with p.open(newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("Name", "Request Count", "Failure Count", "95%") if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{p} is not a locust stats CSV: columns {missing} are missing.")
        rows = []
        for row in reader:
            rows.append(
                Stats(
                    method=row.get("Type") or "",
                    name=row["Name"],
                    requests=int(row["Request Count"]),
                    failures=int(row["Failure Count"]),
                    median_ms=_number(row.get("Median Response Time")),
                    average_ms=_number(row.get("Average Response Time")),
                    max_ms=_number(row.get("Max Response Time")),
                    rps=_number(row.get("Requests/s")) or 0.0,
                    p50_ms=_number(row.get("50%")),
                    p95_ms=_number(row.get("95%")),
                    p99_ms=_number(row.get("99%")),
                )
            )
    return rows


def aggregated(path: str | Path) -> Stats:
    """The ``Aggregated`` row (all requests of the run together)."""
    for row in read_stats(path):
        if row.name == "Aggregated":
            return row
    raise ValueError(f"{path} has no 'Aggregated' row; is it really a <prefix>_stats.csv written by locust?")


def write_stats_csv(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write a CSV in locust's stats format (for tests and what-if examples); missing columns become ``N/A``/0.

    Each row is a mapping with at least ``Name``, ``Request Count``, ``Failure Count`` and usually ``95%``.
    """
    p = Path(path)
    with p.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            out = []
            for col in CSV_COLUMNS:
                default: Any = 0 if col in ("Request Count", "Failure Count") else ("" if col == "Type" else "N/A")
                out.append(row.get(col, default))
            writer.writerow(out)
    return p


# ------------------------------------------------------------------------------------------- running locust


@dataclass
class LocustRun:
    """What one headless locust run left behind."""

    command: list[str]
    returncode: int
    duration_s: float
    csv_prefix: Path
    stdout: str = field(repr=False)
    stderr: str = field(repr=False)

    @property
    def stats_csv(self) -> Path:
        return Path(f"{self.csv_prefix}_stats.csv")

    @property
    def failures_csv(self) -> Path:
        return Path(f"{self.csv_prefix}_failures.csv")

    @property
    def shell(self) -> str:
        """The command as you would type it in a CI step."""
        return shlex.join(["locust", *self.command[3:]])

    def stats(self) -> list[Stats]:
        return read_stats(self.stats_csv)

    def aggregated(self) -> Stats:
        return aggregated(self.stats_csv)

    def summary(self) -> str:
        agg = self.aggregated()
        p95 = "n/a" if agg.p95_ms is None else f"{agg.p95_ms:g} ms"
        return (
            f"locust exit code {self.returncode} after {self.duration_s:.1f} s: {agg.requests} requests, "
            f"{agg.failures} failed ({agg.error_rate:.1%}), p95 {p95}"
        )


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an int from {low} to {high}; got {value!r}.")
    return value


def run_locust(
    locustfile: str | Path | None = None,
    *,
    text: str | None = None,
    host: str,
    users: int = 4,
    spawn_rate: int = 4,
    run_time_s: int = 2,
    csv_prefix: str | Path | None = None,
    workdir: str | Path | None = None,
    timeout: float = 30.0,
    extra_args: Sequence[str] = (),
) -> LocustRun:
    """Run ``locust --headless -u USERS -r SPAWN_RATE -t RUN_TIMEs --csv PREFIX`` against ``host``; wait for it.

    Give either ``locustfile`` (a path) or ``text`` (the file's content, written to ``workdir/locustfile.py``).
    ``workdir`` defaults to a new temporary folder, where the CSV files land (``<workdir>/stats_*.csv``)
    unless ``csv_prefix`` says otherwise. locust's own exit code is kept in ``returncode``: 0 = no failed
    request, 1 = some requests failed (the gate decides what that means). Any other code — a locustfile that
    does not import, an unknown option — raises :class:`LoadTestError` with locust's message.
    """
    _check_int("users", users, 1, MAX_USERS)
    _check_int("spawn_rate", spawn_rate, 1, 1000)
    _check_int("run_time_s", run_time_s, 1, MAX_RUN_TIME_S)
    if not isinstance(host, str) or not host.startswith(("http://127.0.0.1", "http://localhost")):
        raise ValueError(
            f"host must be a service on this machine, e.g. svc.url ('http://127.0.0.1:PORT'); got {host!r}."
        )
    if (locustfile is None) == (text is None):
        raise ValueError("pass exactly one of locustfile=<path> or text=<the locustfile's Python source>.")
    if not 0 < timeout <= 120:
        raise ValueError(f"timeout must be seconds in (0, 120]; got {timeout!r}.")
    folder = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="labkit-locust-"))
    folder.mkdir(parents=True, exist_ok=True)
    if text is not None:
        if not isinstance(text, str) or "locust" not in text:
            raise ValueError("text must be the Python source of a locustfile (it imports from locust).")
        path = folder / "locustfile.py"
        path.write_text(text)
    else:
        path = Path(str(locustfile)).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"no locustfile at {path}")
    final = folder / "_labkit_final_csv.py"
    final.write_text(_FINAL_CSV_LOCUSTFILE)
    prefix = Path(csv_prefix) if csv_prefix is not None else folder / "stats"
    command = [
        sys.executable, "-m", "locust",
        "-f", f"{path},{final}",
        "--headless", "-u", str(users), "-r", str(spawn_rate), "-t", f"{run_time_s}s",
        "--csv", str(prefix), "--host", host,
        "--only-summary", "--stop-timeout", "1", "--loglevel", "WARNING",
        *extra_args,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}  # no stray settings from the host
    env["PYTHONUNBUFFERED"] = "1"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        command,
        cwd=folder,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group: a timeout kills locust and anything it started
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException as exc:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        if isinstance(exc, subprocess.TimeoutExpired):
            raise LoadTestError(
                f"locust did not finish within {timeout:g} s (run time {run_time_s} s) and was killed.\n"
                f"Last lines of its output:\n{_tail(err or out)}\n"
                "Does a task loop forever without a request, or block in on_start? Keep tasks short."
            ) from None
        raise
    elapsed = time.perf_counter() - t0
    wrote_csv = Path(f"{prefix}_stats.csv").is_file()
    if proc.returncode not in (0, 1) or not wrote_csv:
        # locust also exits 1 when the locustfile does not import: no CSV then tells the two apart
        what = "" if wrote_csv else " and wrote no stats CSV"
        raise LoadTestError(
            f"locust exited with code {proc.returncode}{what}: it could not run this test.\n"
            f"Last lines of its output:\n{_tail(err or out)}\n"
            "Read the first error above: a syntax error, an import error or no HttpUser class in the locustfile "
            "are the usual causes."
        )
    return LocustRun(command, proc.returncode, elapsed, prefix, out, err)


def task_ratios(locustfile: str | Path | None = None, *, text: str | None = None) -> dict[str, dict[str, float]]:
    """How often each task of each User class runs: ``locust -f FILE --show-task-ratio-json`` (nothing is sent).

    Returns ``{"OrdersUser": {"list_orders": 0.75, "create_order": 0.25}}``: the share of each task within its
    class, as locust computes it from the ``@task(weight)`` decorators.
    """
    import json

    if (locustfile is None) == (text is None):
        raise ValueError("pass exactly one of locustfile=<path> or text=<the locustfile's Python source>.")
    with tempfile.TemporaryDirectory(prefix="labkit-locust-") as tmp:
        path = Path(tmp, "locustfile.py")
        if text is not None:
            path.write_text(text)
        else:
            path = Path(str(locustfile)).resolve()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "locust", "-f", str(path), "--show-task-ratio-json", "-u", "1"],
                capture_output=True, text=True, timeout=30, cwd=tmp, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise LoadTestError("locust --show-task-ratio-json did not answer within 30 s.") from None
    start = proc.stdout.find("{")
    if proc.returncode != 0 or start < 0:
        raise LoadTestError(
            f"locust could not read the locustfile (exit code {proc.returncode}).\n{_tail(proc.stderr or proc.stdout)}"
        )
    data = json.loads(proc.stdout[start:])
    return {
        cls: {name: float(t["ratio"]) for name, t in info.get("tasks", {}).items()}
        for cls, info in data.get("per_class", {}).items()
    }


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:]) or "(nothing)"


# ------------------------------------------------------------------------------- repeated, interleaved runs


@dataclass(frozen=True)
class RunSummary:
    """One short measurement run of one version."""

    version: str
    run: int
    requests: int
    failed: int
    p50_ms: float
    p95_ms: float
    latencies_ms: tuple[float, ...] = field(repr=False)


def interleaved_runs(
    targets: Mapping[str, str], *, runs: int = 5, n: int = 40, concurrency: int = 2, timeout: float = 2.0
) -> list[RunSummary]:
    """Measure ``runs`` short runs (``n`` requests each) of every target URL, alternating A B A B ...

    ``targets`` maps a version name to the URL to load (e.g. ``{"1.0.0": v1.url + "/api/orders", ...}``).
    Bounded: at most ``runs * len(targets) * n`` requests, each run also capped at 10 s.
    """
    from labkit import service

    _check_int("runs", runs, 1, 30)
    _check_int("n", n, 1, 2000)
    if not targets:
        raise ValueError("targets must name at least one version → URL.")
    out: list[RunSummary] = []
    for i in range(runs):
        for version, url in targets.items():
            res = service.hammer(url, n=n, duration=10.0, concurrency=concurrency, timeout=timeout)
            lat = tuple(res.latencies_ms)
            out.append(
                RunSummary(
                    version,
                    i,
                    res.total,
                    res.failed,
                    _nearest_rank(lat, 50),
                    _nearest_rank(lat, 95),
                    lat,
                )
            )
    return out


def _nearest_rank(values: Sequence[float], q: float) -> float:
    if not values:
        return math.nan
    data = sorted(values)
    return data[min(len(data), max(1, math.ceil(q / 100 * len(data)))) - 1]
