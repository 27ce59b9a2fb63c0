"""How long each week's notebook takes to execute top to bottom (target: < 60 s each on 2 cores).

    python -m benchmarks.bench_notebooks [weekNN ...] [--repeat N]

Each source notebook (solutions included, as nbval runs it) is executed with nbclient in a fresh kernel, in a
temporary copy of its folder. The baseline is the floor of any notebook: a fresh kernel running one empty cell.
Reported: best and median wall time, the ratio to that floor, the slowest cell, and the kernel's peak resident
memory (sampled every 50 ms over the kernel's process tree, so git, PostgreSQL and service children count).
Nothing here is asserted; the numbers go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from benchmarks.harness import load_average, machine_facts

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Run:
    wall: float
    slowest_cell: tuple[float, str]
    peak_rss: int


class _PeakSampler(threading.Thread):
    """Samples the resident memory of a process and all its children until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while True:
            total = 0
            try:
                for proc in [root, *root.children(recursive=True)]:
                    try:
                        total += proc.memory_info().rss
                    except psutil.NoSuchProcess:
                        continue
            except psutil.NoSuchProcess:
                return
            self.peak = max(self.peak, total)
            if self._stop_event.wait(0.05):
                return

    def stop(self) -> int:
        self._stop_event.set()
        self.join(timeout=2)
        return self.peak


def execute(nb: nbformat.NotebookNode, workdir: Path) -> Run:
    """Execute ``nb`` in ``workdir`` with a fresh kernel; time each cell."""
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(workdir)}})
    cell_times: list[tuple[float, str]] = []
    start = time.perf_counter()
    with client.setup_kernel():
        pid = client.km.provisioner.process.pid if client.km.provisioner else None  # type: ignore[union-attr]
        sampler = _PeakSampler(pid) if pid else None
        if sampler:
            sampler.start()
        try:
            for index, cell in enumerate(nb.cells):
                t0 = time.perf_counter()
                client.execute_cell(cell, index)
                if cell.cell_type == "code":
                    label = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index}"
                    cell_times.append((time.perf_counter() - t0, label))
        finally:
            peak = sampler.stop() if sampler else 0
    wall = time.perf_counter() - start
    return Run(wall=wall, slowest_cell=max(cell_times, default=(0.0, "-")), peak_rss=peak)


def bench_notebook(path: Path, repeat: int) -> list[Run]:
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-nb-") as tmp:
            work = Path(tmp) / path.parent.name
            shutil.copytree(path.parent, work)
            nb = nbformat.read(work / path.name, as_version=4)
            runs.append(execute(nb, work))
    return runs


def floor(repeat: int) -> list[Run]:
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-nb-") as tmp:
            runs.append(execute(new_notebook(cells=[new_code_cell("pass")]), Path(tmp)))
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weeks", nargs="*", help="weekNN (default: every source/weekNN)")
    parser.add_argument("--repeat", type=int, default=2, help="executions per notebook (best is reported)")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")

    weeks = args.weeks or sorted(p.name for p in (ROOT / "source").glob("week*") if p.is_dir())
    notebooks = [nb for w in weeks for nb in sorted((ROOT / "source" / w).glob("week*.ipynb"))]
    facts = machine_facts()
    print(f"machine: {facts['cpu']} x{facts['cores']}, {facts['memory']}, Python {facts['python']}; "
          f"load average before: {load_average()}")

    base = floor(max(args.repeat, 3))
    base_best = min(r.wall for r in base)
    rows = [
        "| notebook | wall best (s) | wall median (s) | × floor | slowest cell (s) | peak kernel RSS (MiB) "
        "| < 60 s |",
        "| --- | ---: | ---: | ---: | --- | ---: | :---: |",
        f"| floor: fresh kernel, one empty cell | {base_best:.2f} | {statistics.median(r.wall for r in base):.2f} "
        f"| 1.00 | – | {max(r.peak_rss for r in base) / 2**20:.0f} | – |",
    ]
    for path in notebooks:
        runs = bench_notebook(path, args.repeat)
        best = min(runs, key=lambda r: r.wall)
        slow_t, slow_id = best.slowest_cell
        rows.append(
            f"| `{path.name}` | {best.wall:.1f} | {statistics.median(r.wall for r in runs):.1f} "
            f"| {best.wall / base_best:.1f} | {slow_id} ({slow_t:.1f}) | {max(r.peak_rss for r in runs) / 2**20:.0f} "
            f"| {'yes' if best.wall < 60 else '**no**'} |"
        )
        print(rows[-1], flush=True)
    print(f"\nload average after: {load_average()}\n")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
