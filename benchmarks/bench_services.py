"""Benchmark the lab kit's services: PostgreSQL start, fresh databases, web-service start and throughput.

Run::

    python -m benchmarks.bench_services            # about a minute on an idle 2-core machine
    python -m benchmarks.bench_services --json out.json

Each row is the best (and median) of N runs with its ratio to the baseline of its group, measured in the same
run (CONTRIBUTING.md: ratios, never timed assertions in tests):

* PostgreSQL — baseline: ``initdb`` + start + first query without any cache (what a plain script does; also
  labkit's very first start on a machine). Rows: labkit's cached-template start to first query on RAM-backed
  /dev/shm and on the disk temp dir; testcontainers' start to first query when a Docker engine answers
  (else printed as skipped with the reason).
* Fresh database — baseline: ``CREATE DATABASE … TEMPLATE template0`` with PostgreSQL's default WAL_LOG
  strategy; row: labkit's ``pg.database()`` (FILE_COPY) create + drop.
* Service start — baseline: starting a bare Python interpreter (``python -c pass``), the floor of any
  subprocess; row: ``service.run()`` to the first 200 from ``/health``.
* Throughput — baseline: ``hammer()`` straight at the service's ``/api/orders`` (4 client threads); rows:
  the same through the splitter, and the splitter's own ``/splitter/health`` (proxy cost without upstream).
  The client runs on the same 2 cores as the servers, so these are "a bounded local client" numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from benchmarks.harness import Measurement, machine_facts, markdown_table, measure
from labkit import postgres, service, splitter


def _first_query(backend: str = "embedded") -> None:
    with postgres.server(backend=backend, quiet=True) as pg:
        pg.query("SELECT 1")


def _cold_initdb_start() -> None:
    postgres.cleanup(rebuild_template=True)
    _first_query()


def bench_postgres(repeat: int) -> tuple[list[Measurement], list[str]]:
    notes: list[str] = []
    _first_query()  # warm the page cache and the template
    cold = measure("postgres: initdb + start + first query (no cache)", _cold_initdb_start, repeat=2,
                   warmup=0, memory=False, note="baseline; labkit's first start on a machine")  # fmt: skip
    root = postgres.data_root()
    warm = measure("postgres: labkit start + first query + stop", _first_query, repeat=repeat, memory=False,
                   note=f"cached template, data in {root}")  # fmt: skip
    rows = [cold, warm]
    with tempfile.TemporaryDirectory(prefix="labkit-bench-disk-") as disk:
        os.chmod(disk, 0o755)  # the unprivileged server user (when root) must be able to enter it
        old = os.environ.get(postgres.ENV_DIR)
        os.environ[postgres.ENV_DIR] = disk
        try:
            _first_query()
            rows.append(measure("postgres: labkit start + first query + stop, on disk", _first_query,
                                repeat=repeat, memory=False, note=f"{postgres.ENV_DIR}={disk}"))  # fmt: skip
        finally:
            if old is None:
                os.environ.pop(postgres.ENV_DIR, None)
            else:
                os.environ[postgres.ENV_DIR] = old
    # (the on-disk template went away with the temporary folder)
    ok, why = postgres.docker_status()
    if ok:
        docker = measure("postgres: testcontainers start + first query + stop",
                         lambda: _first_query("docker"), repeat=3, memory=False, note=why)  # fmt: skip
        rows.append(docker)
    else:
        notes.append(f"testcontainers comparison skipped: {why}")
    return rows, notes


def bench_databases(repeat: int) -> list[Measurement]:
    with postgres.server(backend="embedded", quiet=True) as pg, pg.connect(autocommit=True) as conn:
        counter = iter(range(10**6))

        def wal_log() -> None:
            name = f"bench_wal_{next(counter)}"
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0")  # PostgreSQL's default strategy
            conn.execute(f"DROP DATABASE {name}")

        def fresh() -> None:
            with pg.database():
                pass

        base = measure("database: CREATE (default WAL_LOG) + DROP", wal_log, repeat=repeat, memory=False,
                       note="baseline")  # fmt: skip
        ours = measure("database: labkit pg.database() create + drop", fresh, repeat=repeat, memory=False,
                       note="FILE_COPY from template0")  # fmt: skip
    return [base, ours]


def bench_service_start(repeat: int) -> list[Measurement]:
    def bare_python() -> None:
        subprocess.run([sys.executable, "-c", "pass"], check=True)

    def start() -> None:
        with service.run():
            pass

    base = measure(
        "service: bare `python -c pass`", bare_python, repeat=repeat, memory=False, note="baseline"
    )
    ours = measure("service: run() to first healthy /health, then stop", start, repeat=repeat, memory=False)
    return [base, ours]


def _rps(
    name: str, fn: Callable[[], service.HammerResult], note: str
) -> tuple[Measurement, service.HammerResult]:
    fn()  # warm-up: connections, JIT-less caches, page cache
    best: service.HammerResult | None = None
    for _ in range(2):
        result = fn()
        if best is None or result.rps > best.rps:
            best = result
    assert best is not None
    per_request = best.duration_s / best.total
    text = f"{note}; {best.rps:.0f} req/s, p50 {best.p50_ms:.1f} ms, p99 {best.p99_ms:.1f} ms"
    text += f", {best.failed} failed"
    return Measurement(name, per_request, per_request, 2, None, text), best


def bench_throughput(n: int) -> tuple[list[Measurement], dict[str, Any]]:
    def load(url: str) -> Callable[[], service.HammerResult]:
        return lambda: service.hammer(url, n=n, concurrency=4)

    with service.run(version="1.0.0") as blue, service.run(version="2.0.0") as green:
        backends = {"blue": blue.url, "green": green.url}
        with splitter.run(backends, weights={"blue": 90, "green": 10}) as sp:
            direct, d = _rps("throughput: direct (s per request)", load(blue.url + "/api/orders"), "baseline")
            split, s = _rps("throughput: through splitter 90/10", load(sp.url + "/api/orders"), "")
            own, o = _rps(
                "throughput: splitter's own /splitter/health", load(sp.url + "/splitter/health"), ""
            )
    extra = {
        "direct_rps": d.rps,
        "splitter_rps": s.rps,
        "splitter_health_rps": o.rps,
        "splitter_over_direct": s.rps / d.rps,
    }
    return [direct, split, own], extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (best is kept)")
    parser.add_argument("--requests", type=int, default=1000, help="requests per throughput run")
    parser.add_argument("--json", help="also write all numbers to this JSON file")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    facts = machine_facts()
    facts["load average at start"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print("machine:", ", ".join(f"{k}={v}" for k, v in facts.items()))
    groups: dict[str, list[Measurement]] = {}
    groups["postgres"], notes = bench_postgres(args.repeat)
    groups["databases"] = bench_databases(args.repeat * 2)
    groups["service_start"] = bench_service_start(args.repeat)
    groups["throughput"], extra = bench_throughput(args.requests)
    for name, rows in groups.items():
        print(f"\n### {name}\n")
        print(markdown_table(rows, baseline=rows[0]))
    for note in notes:
        print(f"\n{note}")
    print(f"\nsplitter / direct requests per second: {extra['splitter_over_direct']:.2f}")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"total benchmark time: {time.perf_counter() - started:.1f} s")
    if args.json:
        with open(args.json, "w") as fh:
            groups_json = {k: [asdict(m) for m in v] for k, v in groups.items()}
            json.dump({"machine": facts, "notes": notes, "extra": extra, "groups": groups_json}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
