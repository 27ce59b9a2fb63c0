"""A small shared benchmark harness: best-of-N wall time, peak Python memory, machine facts, a Markdown table.

Benchmarks report ratios against a baseline measured in the same run (CONTRIBUTING.md); nothing here asserts
a timing. Use it from any ``benchmarks/bench_*.py``::

    from benchmarks.harness import Measurement, measure, machine_facts, markdown_table
    m = measure("sum", lambda: sum(range(10**6)), repeat=5)
    print(markdown_table([m], baseline=m))
"""

from __future__ import annotations

import gc
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Measurement:
    """Best and median wall time of ``repeat`` runs (seconds), the best CPU time (this process and the child
    processes it waited for, e.g. git: robust when other jobs share the machine), and the peak Python heap of
    one extra run."""

    name: str
    best: float
    median: float
    runs: int
    peak_bytes: int | None
    note: str = ""
    cpu: float = float("nan")

    def ratio(self, baseline: Measurement) -> float:
        return self.best / baseline.best if baseline.best > 0 else float("nan")

    def cpu_ratio(self, baseline: Measurement) -> float:
        return self.cpu / baseline.cpu if baseline.cpu > 0 else float("nan")


def measure(name: str, fn: Callable[[], Any], *, repeat: int = 5, warmup: int = 1, memory: bool = True,
            note: str = "") -> Measurement:
    """Time ``fn`` ``repeat`` times (after ``warmup`` untimed runs) and keep the best; then, when ``memory``,
    run it once more under :mod:`tracemalloc` (untimed: tracing slows Python down) for the peak heap.

    The peak covers allocations made by Python and by NumPy/pandas buffers (NumPy reports its allocations to
    tracemalloc); memory used by a ``git`` child process is not included.
    """
    for _ in range(warmup):
        fn()
    times, cpus = [], []
    for _ in range(repeat):
        gc.collect()
        before = _cpu()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        cpus.append(_cpu() - before)
    peak: int | None = None
    if memory:
        gc.collect()
        tracemalloc.start()
        try:
            fn()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    times.sort()
    return Measurement(name, times[0], times[len(times) // 2], repeat, peak, note, cpu=min(cpus))


def measure_interleaved(candidates: dict[str, Callable[[], Any]], *, repeat: int = 9, warmup: int = 1,
                        memory: bool | Sequence[str] = True) -> list[Measurement]:
    """Like :func:`measure` for several candidates, run round-robin (A, B, A, B, ...), so that on a shared
    machine a burst of load from other jobs hits every candidate alike; the best of ``repeat`` each.

    ``memory`` is True/False for all, or the names of the candidates to trace.
    """
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    walls: dict[str, list[float]] = {name: [] for name in candidates}
    cpus: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeat):
        for name, fn in candidates.items():
            gc.collect()
            before = _cpu()
            start = time.perf_counter()
            fn()
            walls[name].append(time.perf_counter() - start)
            cpus[name].append(_cpu() - before)
    out = []
    for name, fn in candidates.items():
        peak = None
        if memory is True or (not isinstance(memory, bool) and name in memory):
            gc.collect()
            tracemalloc.start()
            try:
                fn()
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
        w = sorted(walls[name])
        out.append(Measurement(name, w[0], w[len(w) // 2], repeat, peak, cpu=min(cpus[name])))
    return out


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other jobs on a shared machine stretch wall times."""
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine_facts() -> dict[str, str]:
    """CPU model and count, memory, OS, Python, git and key library versions."""
    facts = {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": _memory(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
    }
    try:
        facts["git"] = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        facts["git"] = "not found"
    for module in ("pandas", "numpy", "git"):
        try:
            mod = __import__(module)
            facts["GitPython" if module == "git" else module] = getattr(mod, "__version__", "?")
        except ImportError:
            pass
    return facts


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        return f"{kb / 1024**2:.0f} GiB"
    except (OSError, ValueError, IndexError):
        return "unknown"


def _mib(n: int | None) -> str:
    return "–" if n is None else f"{n / 1024**2:.1f}"


def markdown_table(rows: Sequence[Measurement], baseline: Measurement | None = None) -> str:
    """A Markdown table: name, best and median wall seconds, best CPU seconds, the wall and CPU ratios to
    ``baseline`` (best / best), peak Python MiB and a note."""
    lines = ["| measurement | wall best (s) | wall median (s) | CPU best (s) | wall × base | CPU × base "
             "| peak Python MiB | note |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for m in rows:
        ratio = f"{m.ratio(baseline):.2f}" if baseline is not None else "–"
        cpu_ratio = f"{m.cpu_ratio(baseline):.2f}" if baseline is not None and m.cpu == m.cpu else "–"
        cpu = f"{m.cpu:.2f}" if m.cpu == m.cpu else "–"
        lines.append(f"| {m.name} | {m.best:.3f} | {m.median:.3f} | {cpu} | {ratio} | {cpu_ratio} "
                     f"| {_mib(m.peak_bytes)} | {m.note} |")
    return "\n".join(lines)
