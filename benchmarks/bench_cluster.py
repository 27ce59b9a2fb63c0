"""Benchmark the cluster executor: the same week-1 submissions, bare, in the local pool, and on a Dask cluster.

Run::

    python -m benchmarks.bench_cluster              # 20 week-1 submissions; about 15 minutes on 2 busy cores
    python -m benchmarks.bench_cluster --n 24 --json out.json

The submissions are those of ``benchmarks/bench_grading.py`` (correct ones and the realistic wrong answers of
``samples/week01/bob.ipynb``; no looping ones: their cost is the timeout, not the engine). Four runs, one after the
other, each on its own copy of one released course, in this process:

* bare — each submitted notebook executed with plain ``nbclient`` (``NotebookClient.execute``), one after the
  other: no sanitising, sandbox, guard, limits, scoring or gradebook — the floor;
* pool, 1 worker — the engine, serial: against *bare* this is the engine's own overhead per submission;
* pool, 2 workers — the default executor on this 2-core machine;
* cluster, 2 workers — ``grade --cluster`` against a real ``dask scheduler`` and two ``dask worker --nthreads 1``
  processes on 127.0.0.1 (started before the clock starts; their start-up is reported apart).

Reported: wall seconds, seconds per submission, sampled CPU seconds and peak resident memory of the whole process
tree — broken down by role (grader, pool or Dask workers, kernels, scheduler) to explain the peak — the mean
per-phase times (queue, execute, score) and the load average around each run. The ratios come from this one run;
the machine is shared, so the load is printed with them. Scores must be identical across the three graders.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder.course import Course
from autograder.engine import EngineOptions, grade_parallel
from autograder.engine.cluster import dask_processes
from benchmarks.bench_grading import WEEK, build, proc_table
from benchmarks.harness import machine_facts

ROLES = ("grader", "workers", "kernels", "scheduler")


def role_of(cmdline: str) -> str:
    """Which part of the grading a process is, from its command line."""
    if "ipykernel_launcher" in cmdline or "bwrap" in cmdline:
        return "kernels"
    if "dask scheduler" in cmdline or "dask_scheduler" in cmdline:
        return "scheduler"
    if "multiprocessing" in cmdline or "dask worker" in cmdline or "distributed" in cmdline:
        return "workers"
    return "grader"


class RoleMemory:
    """Peak resident memory of this process tree, in all and per role, and its CPU seconds (from /proc)."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.peak = 0
        self.peak_by_role: dict[str, int] = dict.fromkeys(ROLES, 0)
        self.at_peak: dict[str, int] = dict.fromkeys(ROLES, 0)
        self.ticks: dict[tuple[int, int], int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RoleMemory:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        children, info = proc_table()  # pid -> rss, start, ticks
        by_role = dict.fromkeys(ROLES, 0)
        todo = [os.getpid()]
        while todo:
            pid = todo.pop()
            todo += children.get(pid, [])
            if pid not in info:
                continue
            rss, start, ticks = info[pid]
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            by_role[role_of(cmd) if pid != os.getpid() else "grader"] += rss
            self.ticks[(pid, start)] = max(self.ticks.get((pid, start), 0), ticks)
        total = sum(by_role.values())
        for role, rss in by_role.items():
            self.peak_by_role[role] = max(self.peak_by_role[role], rss)
        if total > self.peak:
            self.peak, self.at_peak = total, by_role

    @property
    def cpu_seconds(self) -> float:
        return sum(self.ticks.values()) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    name: str
    submissions: int
    wall: float
    cpu: float
    peak_rss: int
    at_peak: dict[str, int]
    load_before: float
    load_after: float
    scores: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def per_submission(self) -> float:
        return self.wall / self.submissions


def _finish(name: str, n: int, started: float, mem: RoleMemory, cpu0: float, load: float) -> Run:
    return Run(name, n, time.perf_counter() - started, mem.cpu_seconds - cpu0, mem.peak, mem.at_peak, load,
               os.getloadavg()[0])  # fmt: skip


def run_bare(root: Path, students: list[str]) -> Run:
    """Each submission's notebook through plain nbclient, one after the other, in a scratch folder."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with RoleMemory() as mem:
        cpu0 = mem.cpu_seconds
        for student in students:
            path = next((root / "submitted" / student / WEEK).glob("*.ipynb"))
            nb = nbformat.read(path, as_version=4)
            with tempfile.TemporaryDirectory(prefix="bare-") as cwd:
                NotebookClient(
                    nb,
                    timeout=60,
                    kernel_name="python3",
                    resources={"metadata": {"path": cwd}},
                    extra_arguments=["--IPKernelApp.log_level=ERROR"],  # as quiet as the engine's kernels
                ).execute()
    return _finish("bare nbclient, serial (floor)", len(students), started, mem, cpu0, load)


def run_engine(name: str, root: Path, students: list[str], options: EngineOptions) -> Run:
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with RoleMemory() as mem:
        cpu0 = mem.cpu_seconds
        results = grade_parallel(Course(root), [(WEEK, s) for s in students], options)
    run = _finish(name, len(students), started, mem, cpu0, load)
    for r in results:
        run.scores[r.student] = r.score if r.score is not None else -1.0
        if r.error:
            run.errors[r.student] = r.error
        for phase, seconds in r.timings.items():
            run.phases[phase] = run.phases.get(phase, 0.0) + seconds / len(results)
    return run


def table(runs: list[Run]) -> str:
    lines = [
        "| run | submissions | wall (s) | s / submission | CPU (s) | peak RSS (MiB): all = grader + workers + "
        "kernels + scheduler | queue / execute / score (s, mean) | load before → after |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for r in runs:
        mib = {k: v / 1024**2 for k, v in r.at_peak.items()}
        phases = " / ".join(f"{r.phases[p]:.2f}" for p in ("queue", "execute", "score")) if r.phases else "—"
        lines.append(
            f"| {r.name} | {r.submissions} | {r.wall:.1f} | {r.per_submission:.2f} | {r.cpu:.1f} | "
            f"{r.peak_rss / 1024**2:.0f} = {mib['grader']:.0f} + {mib['workers']:.0f} + {mib['kernels']:.0f} + "
            f"{mib['scheduler']:.0f} | {phases} | {r.load_before:.1f} → {r.load_after:.1f} |"
        )
    return "\n".join(lines)


def projection(cluster: Run, workers: int, students: int = 600, sizes: tuple[int, ...] = (1, 2, 8, 20, 50)) -> str:
    """Paper projection from the measured costs: N workers execute, one grader sanitises and scores."""
    execute = cluster.phases.get("execute", 0.0)
    grader = cluster.phases.get("score", 0.0)  # sanitise + score, in the single gradebook writer
    measured = cluster.wall / cluster.submissions * workers  # worker-seconds per submission, all overheads in
    lines = [
        f"Per submission, measured: execute {execute:.2f} s on a worker, sanitise + score {grader:.2f} s in the "
        f"grader, {measured:.2f} worker-seconds all in ({workers} workers x wall / submissions).",
        "",
        "| workers | execute-bound (min) | grader-bound (min) | projected (min) |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for n in sizes:
        exec_min = students * measured / n / 60
        grader_min = students * grader / 60
        lines.append(f"| {n} | {exec_min:.1f} | {grader_min:.1f} | {max(exec_min, grader_min):.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20, help="submissions (default 20)")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    os.environ.setdefault("MPLBACKEND", "Agg")
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        base = Path(tmp)
        # bench_grading's mix has ~15 % looping submissions: make enough to keep args.n without them
        src, _, made = build(base / "all", args.n + round(args.n * 0.2) + 1)
        students = [s for s, kind in made if kind != "loop"][: args.n]
        copies = {}
        for name in ("bare", "pool1", "pool2", "cluster"):
            copies[name] = base / name
            shutil.copytree(src, copies[name])
        print(f"{len(students)} submissions of {WEEK}", flush=True)
        runs = [run_bare(copies["bare"], students)]
        print(f"{runs[-1].name}: {runs[-1].wall:.1f} s", flush=True)
        common = dict(progress=False, regrade=True)
        runs.append(
            run_engine("engine, local pool, 1 worker", copies["pool1"], students, EngineOptions(jobs=1, **common))
        )
        print(f"{runs[-1].name}: {runs[-1].wall:.1f} s", flush=True)
        runs.append(
            run_engine("engine, local pool, 2 workers", copies["pool2"], students, EngineOptions(jobs=2, **common))
        )
        print(f"{runs[-1].name}: {runs[-1].wall:.1f} s", flush=True)
        t0 = time.perf_counter()
        with dask_processes(2) as procs:
            startup = time.perf_counter() - t0
            options = EngineOptions(cluster=procs.address, **common)  # type: ignore[arg-type]
            runs.append(run_engine("engine, Dask cluster, 2 workers", copies["cluster"], students, options))
        print(f"{runs[-1].name}: {runs[-1].wall:.1f} s (cluster start-up {startup:.1f} s, not counted)", flush=True)
    bare, pool1, pool2, cluster = runs
    differ = sorted(s for s in pool2.scores if {pool1.scores.get(s), cluster.scores.get(s)} != {pool2.scores[s]})
    print()
    print(table(runs))
    print()
    print(f"cluster / local pool (2 workers each), per submission: {cluster.wall / pool2.wall:.3f}x wall, "
          f"{cluster.cpu / pool2.cpu:.3f}x CPU")  # fmt: skip
    print(f"engine (1 worker) / bare nbclient, per submission: {pool1.wall / bare.wall:.3f}x wall, "
          f"{pool1.cpu / bare.cpu:.3f}x CPU")  # fmt: skip
    print(f"throughput per worker: pool {pool2.submissions / pool2.wall / 2 * 60:.2f}, "
          f"cluster {cluster.submissions / cluster.wall / 2 * 60:.2f} submissions per minute")  # fmt: skip
    print(f"identical scores in the three engine runs: {not differ} ({len(pool2.scores)} submissions) {differ}")
    for run in runs:
        for s, e in run.errors.items():
            print(f"  error ({run.name}) {s}: {e}")
    print()
    print(projection(cluster, 2))
    print("machine:", ", ".join(f"{k} {v}" for k, v in machine_facts().items()))
    if args.json:
        payload = {"runs": [asdict(r) for r in runs], "startup": startup, "identical": not differ}
        Path(args.json).write_text(json.dumps(payload, indent=1))


if __name__ == "__main__":
    main()
