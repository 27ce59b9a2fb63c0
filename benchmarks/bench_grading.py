"""Benchmark grading: the sandboxed parallel engine against ``nbgrader autograde`` run serially.

Run::

    python -m benchmarks.bench_grading                 # 60 week-1 submissions; about 45 minutes on 2 cores
    python -m benchmarks.bench_grading --n 12 --json out.json

Both graders get the SAME submissions of week 1, generated with ``autograder.samples.fill``: correct ones
(the source solution), wrong ones (the realistic wrong answers of ``samples/week01/bob.ipynb``) and looping
ones (``commits_per_day`` never returns). Each grader works on its own copy of one released course, in this
run:

* baseline — nbgrader's ``Autograde`` converter, one student after the other (``Course.autograde``), i.e.
  ``nbgrader autograde week01 --student S`` in a loop, without sandbox, guard or limits;
* engine — ``autograder.engine`` with one worker per core: sandbox, integrity guard, limits, journal.

The looping submissions are graded in a second call with a short per-cell timeout (``--loop-timeout``) so
the benchmark finishes; the others use ``--timeout``. The script checks that every submission gets identical
scores (total and per grade cell) from both, and reports wall seconds, seconds per submission, CPU seconds of
the whole process tree, peak resident memory of the process tree (sampled every 0.2 s) and the load average
around each run (the project machine is shared: compare CPU seconds when the load is high).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

from autograder.course import Course, copy_source
from autograder.engine import EngineOptions, grade_parallel
from autograder.samples import fill, solution_body, write_submission
from benchmarks.harness import machine_facts

REPO = Path(__file__).resolve().parents[1]
WEEK = "week01"
LOOP = '''def commits_per_day(text: str) -> pd.Series:
    """Commits per day: this attempt never returns."""
    while True:
        pass
'''


# ----------------------------------------------------------------------------- submissions
def wrong_answers() -> dict[str, str]:
    """The solution cells of ``samples/week01/bob.ipynb`` that differ from the source solution."""
    src = nbformat.read(next((REPO / "source" / WEEK).glob("*.ipynb")), as_version=4)
    solutions = {
        c.metadata["nbgrader"]["grade_id"]: solution_body(c.source).strip()
        for c in src.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    bob = nbformat.read(REPO / "samples" / WEEK / "bob.ipynb", as_version=4)
    out = {}
    for cell in bob.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.source.strip() != solutions.get(meta["grade_id"]):
            out[meta["grade_id"]] = cell.source
    if not out:
        raise SystemExit("samples/week01/bob.ipynb has no wrong answer to benchmark with")
    return out


def mix(n: int) -> list[tuple[str, str]]:
    """(student, kind) for n submissions: about 55 % correct, 30 % wrong, 15 % looping."""
    loops = max(1, round(n * 0.15))
    wrong = max(1, round(n * 0.30))
    kinds = ["loop"] * loops + ["wrong"] * wrong + ["correct"] * (n - loops - wrong)
    kinds.sort(key=lambda k: {"correct": 0, "wrong": 1, "loop": 2}[k])
    # interleave so both graders meet the kinds in the same mixed order
    order = sorted(range(n), key=lambda i: (i * 7919) % n)
    return [(f"s{i:03d}-{kinds[j]}", kinds[j]) for i, j in enumerate(order)]


def build(base: Path, n: int) -> tuple[Path, Path, list[tuple[str, str]]]:
    released = base / "released"
    copy_source(REPO, released, [WEEK])
    Course(released).release(WEEK)
    wrong = wrong_answers()
    students = mix(n)
    for student, kind in students:
        answers = {"loop": {"w01_dora_baseline": LOOP}, "wrong": wrong, "correct": None}[kind]
        nb = fill(WEEK, answers, root=released)
        write_submission(nb, released / "submitted" / student / WEEK / f"{nb_name(released)}")
    a, b = base / "nbgrader", base / "engine"
    shutil.copytree(released, a)
    shutil.copytree(released, b)
    return a, b, students


def nb_name(root: Path) -> str:
    return next((root / "notebooks" / WEEK).glob("*.ipynb")).name


# ----------------------------------------------------------------------------- measuring
class TreeMemory:
    """Peak resident memory and CPU time of this process and all its descendants (sampled from /proc).

    CPU time is the sum over every process seen of its last sampled user + system time: kernels killed inside
    a sandbox are never waited for by this process, so ``RUSAGE_CHILDREN`` would miss them.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak = 0
        self.ticks: dict[tuple[int, int], int] = {}  # (pid, start time) -> utime + stime
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        rss, ticks = tree_usage(os.getpid())
        self.peak = max(self.peak, rss)
        for key, value in ticks.items():
            self.ticks[key] = max(self.ticks.get(key, 0), value)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.ticks.values()) / os.sysconf("SC_CLK_TCK")


def proc_table() -> tuple[dict[int, list[int]], dict[int, tuple[int, int, int]]]:
    """One pass over ``/proc``: (children by parent pid, {pid: (resident bytes, start time, utime + stime)})."""
    children: dict[int, list[int]] = {}
    info: dict[int, tuple[int, int, int]] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        info[pid] = (int(fields[21]) * page, int(fields[19]), int(fields[11]) + int(fields[12]))
    return children, info


def tree_usage(root: int) -> tuple[int, dict[tuple[int, int], int]]:
    """(resident bytes, {(pid, start): cpu ticks}) of ``root`` and its descendants."""
    children, info = proc_table()
    total, ticks, todo = 0, {}, [root]
    while todo:
        pid = todo.pop()
        if pid in info:
            rss, start, cpu = info[pid]
            total += rss
            ticks[(pid, start)] = cpu
        todo += children.get(pid, [])
    return total, ticks


@dataclass
class Run:
    name: str
    submissions: int
    wall: float
    cpu: float
    peak_rss: int
    load_before: float
    load_after: float
    scores: dict[str, dict[str, float]]
    errors: dict[str, str]

    @property
    def per_submission(self) -> float:
        return self.wall / self.submissions


def grade_nbgrader(root: Path, batches: list[tuple[int, list[str]]]) -> Run:
    return _measure("nbgrader autograde, serial (baseline)", root, batches, engine=False, jobs=1)


def grade_engine(root: Path, batches: list[tuple[int, list[str]]], jobs: int) -> Run:
    return _measure(f"autograder engine, {jobs} workers, sandboxed", root, batches, engine=True, jobs=jobs)


def _measure(name: str, root: Path, batches: list[tuple[int, list[str]]], *, engine: bool, jobs: int) -> Run:
    scores: dict[str, dict[str, float]] = {}
    errors: dict[str, str] = {}
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    with TreeMemory() as mem:
        mem.sample()
        cpu0 = mem.cpu_seconds
        for timeout, students in batches:
            course = Course(root, timeout=timeout)
            if engine:
                results = grade_parallel(course, [(WEEK, s) for s in students],
                                         EngineOptions(jobs=jobs, progress=False, regrade=True))  # fmt: skip
            else:
                results = [course.autograde(WEEK, s) for s in students]
            for r in results:
                if r.error:
                    errors[r.student] = r.error
                cells = {c.grade_id: c.score for c in r.cells}
                scores[r.student] = {"total": r.score if r.score is not None else -1.0, **cells}
        mem.sample()
    wall = time.perf_counter() - start
    count = sum(len(s) for _, s in batches)
    cpu = mem.cpu_seconds - cpu0
    return Run(name, count, wall, cpu, mem.peak, load_before, os.getloadavg()[0], scores, errors)


def table(runs: list[Run], baseline: Run) -> str:
    lines = [
        "| grader | submissions | wall (s) | s / submission | × faster than baseline | sampled CPU (s) | "
        "peak RSS of the process tree (MiB) | load avg before → after |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in runs:
        lines.append(
            f"| {r.name} | {r.submissions} | {r.wall:.1f} | {r.per_submission:.2f} | "
            f"{baseline.wall / r.wall:.2f} | {r.cpu:.1f} | {r.peak_rss / 1024**2:.0f} | "
            f"{r.load_before:.1f} → {r.load_after:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=60, help="submissions (default 60)")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="engine workers (default: cores)"
    )
    parser.add_argument("--timeout", type=int, default=60, help="per-cell timeout (default 60 s)")
    parser.add_argument("--loop-timeout", type=int, default=10, help="per-cell timeout for looping ones")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--engine-first", action="store_true", help="run the engine before the baseline")
    args = parser.parse_args()
    os.environ.setdefault("MPLBACKEND", "Agg")

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        a, b, students = build(Path(tmp), args.n)
        normal = [s for s, k in students if k != "loop"]
        loops = [s for s, k in students if k == "loop"]
        batches = [(args.timeout, normal), (args.loop_timeout, loops)]
        wrong = sum(k == "wrong" for _, k in students)
        correct = len(normal) - wrong
        print(f"{args.n} submissions of {WEEK}: {correct} correct, {wrong} wrong, {len(loops)} looping")
        order = ["engine", "nbgrader"] if args.engine_first else ["nbgrader", "engine"]
        runs: dict[str, Run] = {}
        for which in order:
            if which == "nbgrader":
                runs[which] = grade_nbgrader(a, batches)
            else:
                runs[which] = grade_engine(b, batches, args.jobs)
            print(f"{runs[which].name}: {runs[which].wall:.1f} s", flush=True)

    base, eng = runs["nbgrader"], runs["engine"]
    differ = sorted(s for s in base.scores if base.scores[s] != eng.scores.get(s))
    print()
    print(table([base, eng], base))
    print()
    print(f"identical scores (total and every grade cell): {not differ} ({len(base.scores)} submissions)")
    for s in differ:
        print(f"  DIFFERENT {s}: nbgrader {base.scores[s]} engine {eng.scores.get(s)}")
    for run in (base, eng):
        for s, e in run.errors.items():
            print(f"  error ({run.name}) {s}: {e}")
    print("machine:", ", ".join(f"{k} {v}" for k, v in machine_facts().items()))
    if args.json:
        payload = {
            "runs": {k: {**asdict(v), "per_submission": v.per_submission} for k, v in runs.items()},
            "speedup": base.wall / eng.wall,
            "cpu_ratio": eng.cpu / base.cpu if base.cpu else None,
            "identical": not differ,
            "different": differ,
            "machine": machine_facts(),
        }
        Path(args.json).write_text(json.dumps(payload, indent=1))


if __name__ == "__main__":
    main()
