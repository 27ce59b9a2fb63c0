"""Executors: where the grader's tasks run. :class:`LocalPool` is this machine's cores (the default).

An executor takes prepared tasks (:meth:`Executor.submit`) and hands back, as they finish, each submission's
outcome or why it could not be executed (:meth:`Executor.completed`). It knows nothing about gradebooks,
journals or scores: the grader (:mod:`.grader`) prepares and scores, so swapping the pool for a cluster
(:mod:`.cluster`) changes where kernels run and nothing else.

Both executors retry a submission whose worker died under it, a bounded number of times (:data:`MAX_ATTEMPTS`
runs in all); a submission that kills every worker it lands on is reported as failed — graded 0 with that
reason — and the batch goes on.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Protocol

from .. import sandbox as sbx
from ..errors import log
from .worker import execute_submission, init_worker

Key = tuple[str, str]  # (assignment, student)
#: runs of one submission before it is given up as the one that kills its workers
MAX_ATTEMPTS = 2
#: the per-phase times shown in the progress bar, in the order a submission goes through them
PHASES = ("queue", "execute", "score")


class Executor(Protocol):
    """Runs :func:`.worker.execute_submission` tasks somewhere; results as plain data."""

    def submit(self, key: Key, task: dict[str, Any]) -> None: ...

    def completed(self) -> Iterator[tuple[Key, dict[str, Any], str | None]]:
        """(key, outcome, None) per executed submission, or (key, {}, reason) when it could not be executed."""
        ...

    def __enter__(self) -> Executor: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


def crash_reason(attempts: int) -> str:
    """The error of a submission whose every worker died (the same words for the pool and the cluster)."""
    return f"the grading worker died {attempts} times while running this submission (graded 0; the batch went on)"


def phase_summary(sums: dict[str, float], count: int) -> str:
    """``queue 0.1 s · execute 7.9 s · score 0.6 s``: mean seconds per submission, for the progress bar."""
    shown = [p for p in PHASES if p in sums] + sorted(p for p in sums if p not in PHASES)
    return " · ".join(f"{p} {sums[p] / max(1, count):.1f} s" for p in shown)


class LocalPool:
    """One spawned worker process per slot on this machine; a crashed pool is replaced, its tasks run again.

    A task starts as soon as it is submitted, so the workers execute while the grader prepares the next ones.
    """

    def __init__(self, jobs: int, sandbox: sbx.Sandbox) -> None:
        self.jobs = jobs
        self.sandbox = sandbox
        self.pool: cf.ProcessPoolExecutor | None = None
        self.futures: dict[cf.Future[Any], tuple[Key, dict[str, Any]]] = {}
        self.attempts: dict[Key, int] = {}

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop(kill=exc_type is not None)

    def _start(self) -> cf.ProcessPoolExecutor:
        ctx = multiprocessing.get_context("spawn")
        slots = ctx.Queue()
        for i in range(self.jobs):
            slots.put(i)
        return cf.ProcessPoolExecutor(
            max_workers=self.jobs, mp_context=ctx, initializer=init_worker, initargs=(slots, os.getpid())
        )

    def _stop(self, *, kill: bool) -> None:
        if self.pool is None:
            return
        if kill:
            _terminate_workers(self.pool)
        self.pool.shutdown(wait=not kill, cancel_futures=True)
        if kill:
            for i in range(self.jobs):
                self.sandbox.sweep(i)
        self.pool = None

    def submit(self, key: Key, task: dict[str, Any]) -> None:
        if self.pool is None:
            self.pool = self._start()
        task["submitted_at"] = time.time()
        self.futures[self.pool.submit(execute_submission, task)] = (key, task)

    def completed(self) -> Iterator[tuple[Key, dict[str, Any], str | None]]:
        while self.futures:
            again: list[tuple[Key, dict[str, Any]]] = []
            broken = False
            try:
                for fut in cf.as_completed(list(self.futures)):
                    key, task = self.futures.pop(fut)
                    try:
                        outcome = fut.result()
                    except cf.process.BrokenProcessPool:
                        broken = True
                        self.attempts[key] = self.attempts.get(key, 0) + 1
                        if self.attempts[key] >= MAX_ATTEMPTS:
                            yield key, {}, crash_reason(self.attempts[key])
                        else:
                            again.append((key, task))
                        continue
                    yield key, outcome, None
            except BaseException:
                self._stop(kill=True)
                raise
            if broken:
                self._stop(kill=True)
            if again:
                log.warning("grade: a worker crashed; grading %d submissions again in a fresh pool", len(again))
                for key, task in again:
                    self.submit(key, task)


def _terminate_workers(pool: cf.ProcessPoolExecutor) -> None:
    for proc in list(getattr(pool, "_processes", {}).values()):
        with contextlib.suppress(Exception):  # already gone
            proc.kill()
