"""The grader's side of the engine: admit, sanitise, hand out to a pool of workers, score — one writer.

:class:`Grader` owns the batch. Per submission it checks the files (:mod:`.admission`), runs nbgrader's sanitize
half (:mod:`.phases`), sends the task to a spawned worker process (:mod:`.worker`), and scores the executed
notebook with nbgrader's score half, appending a line to the journal (:mod:`.journal`). It is the only process
that writes the gradebook. Where the kernels run is an executor: :class:`.pool.LocalPool` (this machine's cores,
the default) or :class:`.cluster.ClusterExecutor` (a Dask cluster, ``--cluster``); both run the same
:func:`.worker.execute_submission` and retry a submission whose worker crashed, a bounded number of times.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat

from .. import config as cfg
from .. import guard
from .. import sandbox as sbx
from ..cells import is_guarded, nbgrader_meta, restored_ids
from ..course import Course, run_error
from ..errors import AutograderError, log
from ..ids import check_student
from ..limits import EngineOptions
from ..progress import bar as progress_bar
from ..results import EngineResult, GradeResult, describe
from ..scan import bound_module_names, scan_source
from .admission import (
    ENGINE_VERSION,
    check_submission,
    locked_cell_changes,
    preload_modules,
    read_files,
    settings_fingerprint,
    submission_checksum,
)
from .cluster import ClusterExecutor
from .journal import GradebookSnapshot, Journal
from .phases import run_phase
from .pool import Executor, LocalPool, phase_summary
from .worker import matplotlib_cache

Key = tuple[str, str]  # (assignment, student)


@dataclass
class _Pending:
    key: Key
    task: dict[str, Any]
    flags: list[str]
    changes: list[str]
    restored: list[str]
    sanitize_s: float


class Grader:
    """Grade (assignment, student) pairs: check, sanitise and score here, execute in a pool of workers."""

    def __init__(self, course: Course, options: EngineOptions) -> None:
        self.course = course
        self.options = options
        self.jobs = options.jobs or os.cpu_count() or 1
        self.limits = options.limits(course.timeout)
        try:
            self.sandbox = sbx.choose(
                options.sandbox,
                hidden=[course.root],
                slots=self.jobs,
                image=options.image,
                base_uid=options.base_uid,
                forward_env=options.forwarded_environment(),
            )
        except (RuntimeError, ValueError) as exc:
            raise AutograderError(str(exc)) from None
        self._journals: dict[str, Journal] = {}
        self._phase_sums: dict[str, float] = {}
        self._phase_count = 0
        self._fingerprints: dict[str, str] = {}

    def journal(self, assignment: str) -> Journal:
        if assignment not in self._journals:
            self._journals[assignment] = Journal(self.course, assignment)
        return self._journals[assignment]

    def fingerprint(self, assignment: str) -> str:
        if assignment not in self._fingerprints:
            self._fingerprints[assignment] = settings_fingerprint(self.course, assignment, self.limits)
        return self._fingerprints[assignment]

    # ------------------------------------------------------------------ entry
    def run(self, work: Sequence[Key]) -> list[EngineResult]:
        started = time.time()
        weeks = sorted({a for a, _ in work})
        label = ", ".join(weeks)
        log.info(
            "grade %s: %d submissions, %d workers, sandbox %s",
            label,
            len(work),
            self.jobs,
            self.sandbox.describe(),
        )
        log.info("grade %s: limits %s", label, self.limits.describe())
        for note in self.sandbox.notes:
            log.info("grade %s: sandbox not used: %s", label, note)
        for warning in self.sandbox.warnings():
            log.warning("grade %s: %s", label, warning)
        results: dict[Key, EngineResult] = {}
        todo: list[Key] = []
        done = {a: ({} if self.options.regrade else self.journal(a).entries()) for a in weeks}
        for key in work:
            early = self._early_result(key, done[key[0]].get(key[1]))
            if early is not None:
                results[key] = early
            else:
                todo.append(key)
        counter = {"n": 0}
        for key in work:
            if key in results:
                counter["n"] += 1
                self._log_result(results[key], counter, len(work))
        if todo:
            self._grade(todo, results, counter, len(work))
        ordered = [results[k] for k in work]
        failed = sum(1 for r in ordered if r.error)
        tampered = sum(1 for r in ordered if r.tampering)
        resumed = sum(1 for r in ordered if r.resumed)
        elapsed = time.time() - started
        log.info(
            "grade %s: %d graded, %d failed, %d kept from an earlier run, %d with tampering; sandbox %s; "
            "%.1f s (%.2f s per submission graded)",
            label,
            len(ordered) - failed - resumed,
            failed,
            resumed,
            tampered,
            self.sandbox.backend,
            elapsed,
            elapsed / max(1, len(todo)),
        )
        return ordered

    def _early_result(self, key: Key, entry: dict[str, Any] | None) -> EngineResult | None:
        course = self.course
        assignment, student = key
        base: dict[str, Any] = dict(student=student, assignment=assignment, sandbox=self.sandbox.backend)
        try:
            check_student(student)
        except AutograderError as exc:
            return EngineResult(**base, error=str(exc))
        reason = check_submission(course, assignment, student, self.options.max_notebook_mb)
        if reason:
            return EngineResult(**base, error=reason)
        if entry is None:
            return None
        if entry.get("checksum") != submission_checksum(course, assignment, student) or entry.get(
            "fingerprint"
        ) != self.fingerprint(assignment):
            return None
        kept = course.scores(assignment, student)
        if kept.error or kept.score is None or abs(kept.score - float(entry.get("score", -1))) > 1e-9:
            return None
        result = EngineResult(**base, resumed=True)
        _copy_grade(kept, result)
        result.tampering = list(entry.get("tampering", []))
        result.limits = list(entry.get("limits", []))
        return result

    # ------------------------------------------------------------------ the batch
    def _grade(self, todo: list[Key], results: dict[Key, EngineResult], counter: dict[str, Any], total: int) -> None:
        run_base = Path(tempfile.mkdtemp(prefix="autograder-", dir=self.options.tmp_dir))
        run_base.chmod(0o711)
        weeks = ", ".join(sorted({a for a, _ in todo}))
        try:
            mpl_cache = matplotlib_cache(self.sandbox.python, run_base)
            with (
                progress_bar(total, f"grade {weeks}", "nb", initial=counter["n"], show=self.options.progress) as bar,
                self._executor() as executor,
            ):
                self._run_batch(executor, todo, results, counter, total, run_base, mpl_cache, bar)
        finally:
            shutil.rmtree(run_base, ignore_errors=True)

    def _run_batch(  # noqa: C901 - the batch's life cycle (prepare, execute, deferred scoring) reads best in one place
        self,
        executor: Executor,
        todo: list[Key],
        results: dict[Key, EngineResult],
        counter: dict[str, Any],
        total: int,
        run_base: Path,
        mpl_cache: Path,
        bar: Any,
    ) -> None:
        """Prepare each submission here, let ``executor`` run it (pool or cluster), score here: one writer."""
        pending: dict[Key, _Pending] = {}
        # Without a sandbox that hides the course folder a kernel can reach the gradebook. Then every
        # submission is sanitised first, the gradebook is kept in memory, the kernels run, and only when every
        # one of them is gone is the gradebook put back and everything scored: no submission can change
        # another's score (or the points of the assignment), whatever it wrote.
        defer = not self.sandbox.isolates_files
        executed: dict[Key, dict[str, Any]] = {}
        snapshot: GradebookSnapshot | None = None
        if defer:
            for key in todo:
                item = self._prepare(key, run_base, mpl_cache, results)
                if item is None:
                    self._finish(results[key], counter, total, bar)
                else:
                    pending[key] = item
            snapshot = GradebookSnapshot.take(self.course)
            log.info(
                "grade: sandbox %s does not hide the course folder: scoring waits until every kernel has "
                "stopped, against the gradebook as it was before any submission ran",
                self.sandbox.backend,
            )
        try:
            for key in todo:
                if defer:
                    if key in pending:
                        executor.submit(key, pending[key].task)
                    continue
                item = self._prepare(key, run_base, mpl_cache, results)
                if item is None:
                    self._finish(results[key], counter, total, bar)
                    continue
                pending[key] = item
                executor.submit(key, item.task)
            for key, outcome, failure in executor.completed():
                if failure is not None:
                    pending.pop(key, None)
                    results[key] = EngineResult(
                        student=key[1], assignment=key[0], sandbox=self.sandbox.backend, error=failure
                    )
                    self._finish(results[key], counter, total, bar)
                elif defer:
                    executed[key] = outcome
                else:
                    results[key] = self._score(pending.pop(key), outcome)
                    self._finish(results[key], counter, total, bar)
        finally:
            if snapshot is not None and snapshot.restore():
                log.warning(
                    "grade: the gradebook changed while submissions ran (a submission wrote to it): "
                    "restored to its state before the batch"
                )
        for key in todo:
            if key in executed:
                results[key] = self._score(pending.pop(key), executed.pop(key))
                self._finish(results[key], counter, total, bar)

    def _finish(self, result: EngineResult, counter: dict[str, Any], total: int, bar: Any) -> None:
        counter["n"] += 1
        for phase, seconds in result.timings.items():
            self._phase_sums[phase] = self._phase_sums.get(phase, 0.0) + seconds
        if result.timings:
            self._phase_count += 1
            bar.set_postfix_str(phase_summary(self._phase_sums, self._phase_count), refresh=False)
        bar.update(1)
        self._log_result(result, counter, total)

    def _executor(self) -> contextlib.AbstractContextManager[Executor]:
        """Where the kernels run: this machine's pool (default) or a Dask cluster (``--cluster``)."""
        if self.options.cluster:
            return ClusterExecutor(self.options.cluster, self.options, hidden=[str(self.course.root)])
        return LocalPool(self.jobs, self.sandbox)

    # ------------------------------------------------------------------ phase A
    def _prepare(self, key: Key, run_base: Path, mpl_cache: Path, results: dict[Key, EngineResult]) -> _Pending | None:
        course = self.course
        assignment, student = key
        t0 = time.time()
        folder = course.step_dir(cfg.SUBMITTED_DIR, student, assignment)
        released = {p.name: p for p in course.released_notebooks(assignment)}
        changes: list[str] = []
        for path in sorted(folder.glob("*.ipynb")):
            with contextlib.suppress(Exception):  # the sanitize step reports unreadable notebooks
                changes += locked_cell_changes(
                    nbformat.read(path, as_version=4), nbformat.read(released[path.name], as_version=4)
                )
        run = run_phase(course, assignment, student, "sanitize")
        restored = restored_ids(run.get("log", ""))
        if not run["success"]:
            results[key] = EngineResult(
                student=student,
                assignment=assignment,
                sandbox=self.sandbox.backend,
                error=f"grading failed: {run_error(run)}",
            )
            return None
        dest = course.step_dir(cfg.AUTOGRADED_DIR, student, assignment)
        notebooks = []
        flags: list[str] = []
        for path in sorted(dest.glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            modules = bound_module_names(c.source for c in nb.cells if is_guarded(c))
            for index, cell in enumerate(nb.cells):
                if cell.get("cell_type") == "code" and not is_guarded(cell):
                    gid = nbgrader_meta(cell).get("grade_id") or f"cell {index}"
                    flags += [f"{gid} {f}" for f in scan_source(cell.source, modules)]
            notebooks.append({"name": path.name, "json": nbformat.writes(nb), "preload": preload_modules(nb)})
        task = {
            "student": student,
            "assignment": assignment,
            "root": str(course.root),
            "notebooks": notebooks,
            "files": read_files(dest),
            "mpl_cache": str(mpl_cache),
            "guard_file": guard.__file__,
            "tmp_base": str(run_base),
            "sandbox": self.sandbox,
            "limits": self.limits,
            "submitted_at": time.time(),
        }
        return _Pending(key, task, flags, changes, restored, time.time() - t0)

    # ------------------------------------------------------------------ phase B
    def _score(self, item: _Pending, outcome: dict[str, Any]) -> EngineResult:
        course = self.course
        assignment, student = item.key
        t0 = time.time()
        result = EngineResult(
            student=student,
            assignment=assignment,
            sandbox=self.sandbox.backend,
            restored=list(item.restored),
            flags=item.flags,
            tampering=list(item.changes),
        )
        result.timings = {
            "queue": round(outcome.get("queue", 0.0), 3),
            "execute": round(outcome.get("execute", 0.0), 3),
        }
        if outcome.get("error"):
            result.error = f"execution failed: {outcome['error']}"
            return result
        dest = course.step_dir(cfg.AUTOGRADED_DIR, student, assignment)
        for nbout in outcome["notebooks"]:
            if nbout.get("error"):
                log.debug("kernel log of %s %s:\n%s", assignment, student, nbout.get("kernel_log", ""))
                result.error = f"execution of {nbout['name']} failed: {nbout['error']}"
                return result
            nb = nbformat.reads(nbout["json"], as_version=4)
            result.tampering += nbout["tampering"]
            result.limits += nbout["limits"]
            nb.metadata["autograder"] = {
                "engine": f"sandbox {ENGINE_VERSION}",
                "sandbox": self.sandbox.describe(),
                "tampering": list(item.changes) + nbout["tampering"],
                "limits": nbout["limits"],
                "flags": item.flags,
                "graded_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            nbformat.write(nb, dest / nbout["name"])
        run = run_phase(course, assignment, student, "score")
        if not run["success"]:
            result.error = f"scoring failed: {run_error(run)}"
            return result
        scored = GradeResult(student=student, assignment=assignment, restored=list(item.restored))
        course.read_scores(scored)
        _copy_grade(scored, result)
        result.timings["score"] = round(time.time() - t0 + item.sanitize_s, 3)
        self.journal(assignment).append(
            {
                "student": student,
                "assignment": assignment,
                "checksum": submission_checksum(course, assignment, student),
                "fingerprint": self.fingerprint(assignment),
                "score": result.score,
                "max_score": result.max_score,
                "tampering": result.tampering,
                "limits": result.limits,
                "sandbox": self.sandbox.backend,
                "sandbox_detail": self.sandbox.detail,
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
        return result

    # ------------------------------------------------------------------ helpers
    def _log_result(self, result: EngineResult, counter: dict[str, Any], total: int) -> None:
        level = log.warning if (result.error or result.tampering or result.limits) else log.info
        timing = ""
        if result.timings:
            timing = " [" + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items()) + "]"
        level(
            "grade %s [%d/%d] %s: %s%s",
            result.assignment,
            counter["n"],
            total,
            result.student,
            describe(result),
            timing,
        )
        for line in result.tampering:
            log.warning("  tampering: %s", line)
        for line in result.flags:
            log.info("  suspicious: %s", line)


def _copy_grade(src: GradeResult, dest: GradeResult) -> None:
    dest.notebook = src.notebook
    dest.score = src.score
    dest.max_score = src.max_score
    dest.cells = list(src.cells)
    dest.restored = sorted(set(dest.restored) | set(src.restored))
    dest.error = src.error


def grade_parallel(course: Course, work: Iterable[Key], options: EngineOptions | None = None) -> list[EngineResult]:
    """Grade (assignment, student) pairs with the sandboxed engine; results in input order."""
    options = options or EngineOptions.from_env()
    return Grader(course, options).run(list(work))
