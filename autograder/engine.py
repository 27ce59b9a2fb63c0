"""The grading engine: parallel, sandboxed, resumable — and the same scores as ``nbgrader autograde``.

``python -m autograder grade weekNN`` uses it (``--engine nbgrader`` keeps nbgrader's serial autograde as the
reference). Per submission:

1. **check** (parent): the files are the released notebook names, UTF-8, valid nbformat-4 JSON, not huge —
   else a clear error for that submission only;
2. **sanitise** (parent): nbgrader's own ``Autograde`` converter with its sanitising preprocessors
   (ClearOutput, DeduplicateIds, OverwriteKernelspec, our RestoreMissingCells, OverwriteCells with
   add_missing_cells, CheckCellMetadata): student, submission and timestamp go into the gradebook, locked
   cells and points are restored from it, and every difference from the release is reported
   (:func:`locked_cell_changes`);
3. **execute** (a worker process, one per core): a fresh kernel in the sandbox (:mod:`autograder.sandbox`),
   run by nbgrader's ``Execute`` preprocessor, with the integrity guard (:mod:`autograder.integrity`) before
   every locked or graded cell, the kept output capped, a per-cell timeout (interrupt, then kill) and a total
   wall-clock cap; a dead or killed kernel scores 0 for the cells it could not run, with the reason;
4. **score** (parent, the single gradebook writer): nbgrader's autograde preprocessors minus ``Execute``
   (IgnorePattern, ClearMetadata, LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata) on the
   executed notebook; then one line in the journal ``<course>/.autograder/journal/weekNN.jsonl``.

Resumable: a submission whose bytes, source notebooks and grading settings match a journal line (and whose
grade is in the gradebook) is not graded again; ``--regrade`` grades everything.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import functools
import hashlib
import json
import logging
import multiprocessing
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from . import config as cfg
from . import integrity, procs
from . import sandbox as sbx
from .collect import check_notebook_bytes
from .course import AutograderError, CellResult, Course, GradeResult, _last_error, log, nbgrader_meta
from .grade import describe
from .preprocessors import RESTORED_MARK

ENGINE_VERSION = "1"
ENGINES = ("sandbox", "nbgrader")
ENGINE_ENV = "AUTOGRADER_ENGINE"
JOBS_ENV = "AUTOGRADER_JOBS"
REGRADE_ENV = "AUTOGRADER_REGRADE"
MAX_NOTEBOOK_MB_ENV = "AUTOGRADER_MAX_NOTEBOOK_MB"
DEFAULT_MAX_NOTEBOOK_MB = 20
JOURNAL_DIR = Path(".autograder") / "journal"
TRACEBACK_LIMIT = 64 * 1024  #: characters of an error traceback kept (errors are never dropped)

#: error names the engine writes into cells that could not run or whose result cannot be trusted
NOT_RUN_KILLED = "KernelKilled"
NOT_RUN_DIED = "KernelDied"
NOT_RUN_TIME = "TotalTimeLimitExceeded"
GUARD_MISSING = "IntegrityGuardMissing"


# ============================================================================ options and results
@dataclass
class EngineOptions:
    """How ``grade`` runs; every field can also come from the environment (``from_env``)."""

    engine: str = "sandbox"
    jobs: int | None = None  #: worker processes (default: all cores)
    sandbox: str | None = None  #: auto | container | bwrap | user | none
    regrade: bool = False  #: ignore the journal
    progress: bool | None = None  #: tqdm bar on stderr (default: when stderr is a terminal)
    total_timeout: int | None = None
    memory_mb: int | None = None
    nproc: int | None = None
    output_kb: int | None = None

    @classmethod
    def from_env(cls, **given: Any) -> EngineOptions:
        opts = cls(**{k: v for k, v in given.items() if v is not None})
        if "engine" not in given or given["engine"] is None:
            opts.engine = os.environ.get(ENGINE_ENV, "sandbox") or "sandbox"
        if not opts.regrade and os.environ.get(REGRADE_ENV, "").lower() in ("1", "true", "yes"):
            opts.regrade = True
        if opts.sandbox is None:
            opts.sandbox = os.environ.get(sbx.SANDBOX_ENV) or None
        if opts.jobs is None and os.environ.get(JOBS_ENV):
            opts.jobs = sbx._env_int(JOBS_ENV, 1)
        if opts.engine not in ENGINES:
            raise AutograderError(f"unknown engine {opts.engine!r}; choose one of {', '.join(ENGINES)}")
        if opts.jobs is not None and opts.jobs < 1:
            raise AutograderError(f"--jobs must be at least 1, found {opts.jobs}")
        return opts


@dataclass
class EngineResult(GradeResult):
    """A :class:`GradeResult` with what the engine saw: sandbox, tampering, limits, timings."""

    sandbox: str = ""
    tampering: list[str] = field(default_factory=list)  #: resets done by the guard, changed locked cells
    flags: list[str] = field(default_factory=list)  #: suspicious constructs in student cells (static scan)
    limits: list[str] = field(default_factory=list)  #: limits that were hit, with the cells they cost
    timings: dict[str, float] = field(default_factory=dict)  #: queue, execute, score (seconds)
    resumed: bool = False  #: unchanged since a finished run: kept, not graded again

    @property
    def notes(self) -> list[str]:
        notes = super().notes + self.limits
        if self.tampering:
            shown = "; ".join(self.tampering[:3]) + (
                f"; +{len(self.tampering) - 3} more" if len(self.tampering) > 3 else ""
            )
            notes.append(f"tampering reset: {shown}")
        if self.resumed:
            notes.append("unchanged since the last run: grade kept (--regrade to grade again)")
        return notes


# ============================================================================ input checks
def _released_names(course: Course, assignment: str) -> list[str]:
    return [p.name for p in course.released_notebooks(assignment)]


def check_submission(course: Course, assignment: str, student: str) -> str | None:
    """None when ``submitted/<student>/<assignment>`` can be graded, else the reason (one line)."""
    folder = course.step_dir(cfg.SUBMITTED_DIR, student, assignment)
    found = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
    if not found:
        return f"no submitted notebook in {folder.relative_to(course.root)}"
    expected = _released_names(course, assignment)
    limit_mb = sbx._env_int(MAX_NOTEBOOK_MB_ENV, DEFAULT_MAX_NOTEBOOK_MB)
    for path in found:
        if path.name not in expected:
            return (
                f"unexpected notebook {path.name!r}: expected {' or '.join(expected)} "
                "(the released name; do not rename the notebook)"
            )
        size = path.stat().st_size
        if size > limit_mb * 1024 * 1024:
            return (
                f"{path.name} is {size / 1024 / 1024:.1f} MB, larger than the {limit_mb} MB limit; clear its "
                f"outputs (Kernel > Restart Kernel and Clear All Outputs) and submit again "
                f"(instructors: {MAX_NOTEBOOK_MB_ENV})"
            )
        reason = check_notebook_bytes(path.read_bytes())
        if reason:
            return f"{path.name}: {reason}"
    return None


def submission_checksum(course: Course, assignment: str, student: str) -> str:
    digest = hashlib.sha256()
    folder = course.step_dir(cfg.SUBMITTED_DIR, student, assignment)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def settings_fingerprint(course: Course, assignment: str, limits: sbx.Limits) -> str:
    """What else decides a grade: the source and released notebooks, the engine version, the cell timeout."""
    digest = hashlib.sha256(f"engine {ENGINE_VERSION} timeout {limits.cell_timeout}".encode())
    for folder in (course.source_dir / assignment, course.release_dir / assignment):
        for path in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
            digest.update(path.name.encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


# ============================================================================ journal
class Journal:
    """Append-only JSON lines, one per finished submission; the last line for a student wins."""

    def __init__(self, course: Course, assignment: str) -> None:
        self.path = course.root / JOURNAL_DIR / f"{assignment}.jsonl"

    def entries(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        if not self.path.is_file():
            return out
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash: that submission is graded again
            if isinstance(entry, dict) and "student" in entry:
                out[entry["student"]] = entry
        return out

    def append(self, entry: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())


# ============================================================================ nbgrader, split in two
@functools.cache
def _phased_autograde_class() -> type:
    from nbgrader import utils
    from nbgrader.converters import Autograde
    from nbgrader.converters.base import BaseConverter
    from nbgrader.preprocessors import Execute

    class PhasedAutograde(Autograde):
        """nbgrader's Autograde as two halves: ``sanitize`` and ``score`` (execution happens elsewhere)."""

        phase = "sanitize"

        def init_destination(self, assignment_id: str, student_id: str) -> bool:
            if self.phase == "score":
                return True  # keep the sanitised + executed notebook
            return super().init_destination(assignment_id, student_id)

        def init_assignment(self, assignment_id: str, student_id: str) -> None:
            if self.phase == "score":  # done by the sanitize half; only keep the notebooks it wrote
                dest = self._format_dest(assignment_id, student_id)
                self.notebooks = [  # type: ignore[has-type]
                    n
                    for n in self.notebooks  # type: ignore[has-type]
                    if os.path.exists(os.path.join(dest, os.path.basename(n)))
                ]
                return
            super().init_assignment(assignment_id, student_id)

        def convert_single_notebook(self, notebook_filename: str) -> None:
            if self.phase == "sanitize":
                self.log.info("Sanitizing %s", notebook_filename)
                self._sanitizing = True
                self._init_preprocessors()
                BaseConverter.convert_single_notebook(self, notebook_filename)
                return
            dest = self._format_dest(self.coursedir.assignment_id, self.coursedir.student_id)
            path = os.path.join(dest, os.path.basename(notebook_filename))
            self.log.info("Scoring %s", path)
            self._sanitizing = False
            self._init_preprocessors()
            try:
                with utils.setenv(NBGRADER_EXECUTION="autograde"):
                    BaseConverter.convert_single_notebook(self, path)
            finally:
                self._sanitizing = True

        def set_permissions(self, assignment_id: str, student_id: str) -> None:
            if self.phase == "score":
                super().set_permissions(assignment_id, student_id)

    defaults = Autograde.class_traits()["autograde_preprocessors"].default()
    PhasedAutograde.without_execute = [  # type: ignore[attr-defined]
        p for p in defaults if not (isinstance(p, type) and issubclass(p, Execute))
    ]
    return PhasedAutograde


def _run_phase(course: Course, assignment: str, student: str, phase: str) -> dict:
    from .course import nblog

    cls = _phased_autograde_class()
    app = cls(
        coursedir=course.coursedir(assignment_id=assignment, student_id=student),
        config=course.config,
        log=nblog,
    )
    app.phase = phase
    app.force = True
    app.create_student = True
    if phase == "score":
        app.autograde_preprocessors = list(getattr(cls, "without_execute"))  # noqa: B009
    return course._run(app)


# ============================================================================ parent-side analysis
def is_guarded(cell: NotebookNode) -> bool:
    """Cells the instructor wrote: locked cells and graded cells that are not answers."""
    if cell.get("cell_type") != "code" or not cell.get("source", "").strip():
        return False
    meta = nbgrader_meta(cell)
    return bool(meta.get("locked") or (meta.get("grade") and not meta.get("solution")))


def locked_cell_changes(submitted: NotebookNode, released: NotebookNode) -> list[str]:
    """How the student changed locked or graded cells of the release (nbgrader puts them back)."""
    out = []
    sub = {nbgrader_meta(c).get("grade_id"): c for c in submitted.cells if nbgrader_meta(c).get("grade_id")}
    for cell in released.cells:
        meta = nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if not gid or not (meta.get("locked") or meta.get("grade")) or meta.get("solution"):
            continue
        mine = sub.get(gid)
        if mine is None:
            out.append(f"deleted locked cell {gid} (put back)")
            continue
        mmeta = nbgrader_meta(mine)
        if mine.get("source", "") != cell.get("source", ""):
            out.append(f"edited locked cell {gid} (the instructor's version was run)")
        if meta.get("grade") and mmeta.get("points") != meta.get("points"):
            out.append(f"changed the points of {gid} from {meta.get('points')} to {mmeta.get('points')} (reset)")
        for key in ("grade", "locked", "solution"):
            if bool(mmeta.get(key)) != bool(meta.get(key)):
                out.append(f"changed the nbgrader metadata {key!r} of {gid} (reset)")
        if mine.get("cell_type") != cell.get("cell_type"):
            out.append(f"changed the type of {gid} to {mine.get('cell_type')} (reset)")
    return out


def _preload_modules(nb: NotebookNode) -> list[str]:
    names = integrity.imported_modules(c.source for c in nb.cells if is_guarded(c))
    return [n for n in names if re.fullmatch(r"[A-Za-z_][\w.]*", n)]


# ============================================================================ worker side
_SLOT = 0


def _init_worker(slots: Any, parent: int) -> None:
    global _SLOT
    _SLOT = slots.get()
    logging.getLogger("traitlets").setLevel(logging.CRITICAL)
    procs.die_with_parent(parent)
    procs.become_subreaper()


def _client_class() -> type:
    from nbclient.client import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbgrader.preprocessors import Execute

    class SandboxClient(Execute):
        """nbgrader's Execute preprocessor with the guard, an output cap, and kill-on-unresponsive."""

        def setup(self, limits: sbx.Limits, key: bytes, deadline: float) -> None:
            self.limits = limits
            self.guard_key = key
            self.deadline = deadline
            self.guard_answers: dict[int, list[str]] = {}
            self.cell_bytes = 0
            self.truncated: set[int] = set()
            self.nonce: str | None = None
            self.tampering: list[str] = []
            self.limit_notes: list[str] = []
            self.stopped: tuple[str, str] | None = None  # (error name, reason) once the kernel is gone

        # -------------------------------------------------------- outputs
        def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
            content = msg.get("content", {})
            data = content.get("data") or {}
            if msg.get("msg_type") == "display_data" and integrity.GUARD_MIME in data:
                self.guard_answers.setdefault(cell_index, []).append(str(data[integrity.GUARD_MIME]))
                return None
            if msg.get("msg_type") == "error":
                tb = content.get("traceback") or []
                if sum(len(t) for t in tb) > TRACEBACK_LIMIT:
                    content["traceback"] = [*tb[:3], "... (traceback shortened) ...", *tb[-3:]]
                return super().output(outs, msg, display_id, cell_index)
            size = _content_size(content)
            cap = self.limits.output_kb * 1024
            if self.cell_bytes + size > cap:
                if cell_index not in self.truncated:
                    self.truncated.add(cell_index)
                    note = nbformat.v4.new_output(
                        "stream",
                        name="stderr",
                        text=f"\n[autograder: output beyond {self.limits.output_kb} KiB was dropped]\n",
                    )
                    outs.append(note)
                return None
            self.cell_bytes += size
            return super().output(outs, msg, display_id, cell_index)

        # -------------------------------------------------------- the run
        async def run(self, nb: NotebookNode, resources: dict, km: Any, env: dict[str, str], logf: Any) -> None:
            NotebookClient.__init__(self, nb, km)
            self.reset_execution_trackers()
            self._check_assign_resources(resources)
            try:
                async with self.async_setup_kernel(env=env, stdout=logf, stderr=logf):
                    assert self.kc is not None
                    plain_execute = self.kc.execute

                    def execute(code: str, **kw: Any) -> str:
                        if self.nonce:
                            kw["user_expressions"] = {integrity.GUARD_KEY: self.nonce}
                        return plain_execute(code, **kw)

                    self.kc.execute = execute  # type: ignore[method-assign]
                    info = await self.async_wait_for_reply(await _maybe(self.kc.kernel_info()))
                    if info is not None and "language_info" in info["content"]:
                        self.nb.metadata["language_info"] = info["content"]["language_info"]
                    for index, cell in enumerate(self.nb.cells):
                        await self._one_cell(cell, index)
                    self.set_widgets_metadata()
            finally:
                await self._kill()

        async def _kill(self) -> None:
            try:
                if self.km is not None and self.km.has_kernel:
                    await _maybe(self.km.shutdown_kernel(now=True))
            except Exception:  # noqa: BLE001 - already dead is fine
                pass
            try:
                if self.kc is not None:
                    self.kc.stop_channels()
            except Exception:  # noqa: BLE001
                pass

        async def _one_cell(self, cell: NotebookNode, index: int) -> None:
            if cell.get("cell_type") != "code" or not cell.get("source", "").strip():
                return
            gid = nbgrader_meta(cell).get("grade_id") or f"cell {index}"
            if self.stopped:
                _mark(cell, *self.stopped)
                return
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                self.stopped = (
                    NOT_RUN_TIME,
                    f"not run: the submission used up its {self.limits.total_timeout} s",
                )
                self.limit_notes.append(
                    f"total time limit of {self.limits.total_timeout} s reached before {gid}; "
                    "later cells not run "
                    "(scored 0)"
                )
                await self._kill()
                _mark(cell, *self.stopped)
                return
            guarded = is_guarded(cell)
            self.nonce = secrets.token_hex(12) if guarded else None
            self.cell_bytes = 0
            hard = self.limits.cell_timeout + 2 * self.limits.interrupt_grace + 10
            try:
                await asyncio.wait_for(
                    self.async_execute_cell(cell, index, store_history=True), timeout=min(hard, remaining)
                )
            except DeadKernelError:
                code = await self._exit_code()
                reason = f"the kernel died while running {gid}{code} (os._exit, a crash, or a memory cap)"
                _mark(cell, NOT_RUN_DIED, reason)
                self.stopped = (NOT_RUN_DIED, f"not run: {reason}")
                self.limit_notes.append(f"{reason}; later cells not run (scored 0)")
            except CellTimeoutError:
                reason = (
                    f"{gid} ran longer than {self.limits.cell_timeout} s and did not stop when interrupted: "
                    "the kernel was killed"
                )
                cell.outputs.append(
                    nbformat.v4.new_output(
                        "error",
                        ename="CellTimeoutError",
                        evalue="",
                        traceback=["CellTimeoutError: No reply from kernel before timeout"],
                    )
                )
                _mark(cell, NOT_RUN_KILLED, reason)
                self.stopped = (NOT_RUN_KILLED, f"not run: {reason}")
                self.limit_notes.append(f"{reason}; later cells not run (scored 0)")
                await self._kill()
            except TimeoutError:
                if remaining < hard:
                    reason = (
                        f"the submission used up its {self.limits.total_timeout} s during {gid}: the kernel was killed"
                    )
                    name = NOT_RUN_TIME
                else:
                    reason = f"{gid} did not finish within {hard} s: the kernel was killed"
                    name = NOT_RUN_KILLED
                _mark(cell, name, reason)
                self.stopped = (name, f"not run: {reason}")
                self.limit_notes.append(f"{reason}; later cells not run (scored 0)")
                await self._kill()
            if index in self.truncated:
                self.limit_notes.append(f"output of {gid} cut at {self.limits.output_kb} KiB")
            if guarded and not (self.stopped and not self.guard_answers.get(index)):
                self._check_guard(cell, index, gid)
            self.nonce = None

        def _check_guard(self, cell: NotebookNode, index: int, gid: str) -> None:
            expected = integrity.proof(self.guard_key, self.nonce or "")
            answers = self.guard_answers.pop(index, [])
            good = None
            for raw in answers:
                try:
                    answer = json.loads(raw)
                except (TypeError, ValueError):
                    continue
                if isinstance(answer, dict) and answer.get("nonce") == self.nonce and answer.get("proof") == expected:
                    good = answer
            if good is not None and "error" not in good:
                for reset in good.get("resets", []):
                    self.tampering.append(f"before {gid}: {reset}")
                return
            why = good.get("error") if good else ("a forged answer" if answers else "no answer")
            self.tampering.append(
                f"before {gid}: the integrity guard did not run ({why}): student code changed how the kernel "
                "executes cells"
            )
            if nbgrader_meta(cell).get("grade"):
                cell.outputs.append(
                    nbformat.v4.new_output(
                        "error",
                        ename=GUARD_MISSING,
                        evalue="this test cannot be trusted: the notebook changed how the kernel runs cells",
                        traceback=[
                            f"{GUARD_MISSING}: this test could not be trusted: the notebook changed how the "
                            "kernel runs cells"
                        ],
                    )
                )

        async def _exit_code(self) -> str:
            try:
                proc = getattr(getattr(self.km, "provisioner", None), "process", None)
                if proc is not None:
                    code = proc.poll()
                    if code is not None:
                        return f" (exit status {code})"
            except Exception:  # noqa: BLE001
                pass
            return ""

    return SandboxClient


async def _maybe(value: Any) -> Any:
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        return await value
    return value


def _content_size(content: dict) -> int:
    total = len(content.get("text", "") or "")
    for value in (content.get("data") or {}).values():
        total += len(value) if isinstance(value, str) else len(json.dumps(value))
    return total


def _mark(cell: NotebookNode, ename: str, reason: str) -> None:
    cell.outputs.append(nbformat.v4.new_output("error", ename=ename, evalue=reason, traceback=[f"{ename}: {reason}"]))


def _kernel_manager(
    sandbox: sbx.Sandbox, paths: dict[str, Path], slot: int, limits: sbx.Limits, env: dict[str, str]
) -> Any:
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class SandboxKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            return sandbox.command(
                super().format_kernel_cmd(extra_arguments), paths=paths, slot=slot, limits=limits, env=env
            )

        def write_connection_file(self, **kwargs: Any) -> None:
            super().write_connection_file(**kwargs)
            sandbox.chown(Path(self.connection_file), slot)

    km = SandboxKernelManager(
        kernel_name="python3",
        transport="ipc",
        ip=str(paths["run"] / "k"),
        connection_file=str(paths["run"] / "kernel.json"),
    )
    km._kernel_spec = KernelSpec(
        argv=[
            sandbox.python,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            f"--IPKernelApp.extensions={integrity.EXTENSION_NAME}",
        ],
        display_name="Python 3 (sandbox)",
        language="python",
        interrupt_mode="message",
        env={},
        metadata={},
    )
    return km


def execute_submission(task: dict) -> dict:
    """Worker: run every notebook of one submission in a fresh sandboxed kernel; results as plain data."""
    started = time.time()
    slot = _SLOT
    sandbox: sbx.Sandbox = task["sandbox"]
    limits: sbx.Limits = task["limits"]
    workdir = Path(tempfile.mkdtemp(prefix="ag-", dir=task["tmp_base"]))
    out: dict[str, Any] = {
        "student": task["student"],
        "notebooks": [],
        "slot": slot,
        "queue": max(0.0, started - task["submitted_at"]),
    }
    try:
        paths = sandbox.prepare(workdir, slot)
        shutil.copy(task["guard_file"], paths["guard"] / f"{integrity.EXTENSION_NAME}.py")
        (paths["guard"] / f"{integrity.EXTENSION_NAME}.py").chmod(0o644)
        _write_files(task["files"], paths["home"], sandbox, slot)
        (paths["home"] / ".config").mkdir(exist_ok=True)
        sandbox.chown(paths["home"] / ".config", slot)
        _copy_tree(Path(task["mpl_cache"]), paths["home"] / ".config" / "matplotlib", sandbox, slot)
        config = cfg.build_config(task["root"], timeout=limits.cell_timeout)
        deadline = time.monotonic() + limits.total_timeout
        client_cls = _client_class()
        for item in task["notebooks"]:
            nb = nbformat.reads(item["json"], as_version=4)
            key = secrets.token_hex(32).encode()
            keyfile = paths["run"] / "guard.key"
            keyfile.write_bytes(key)
            sandbox.chown(keyfile, slot)
            env = sandbox.environment(
                paths,
                {
                    integrity.KEYFILE_ENV: str(keyfile),
                    integrity.PRELOAD_ENV: ",".join(item["preload"]),
                },
            )
            km = _kernel_manager(sandbox, paths, slot, limits, env)
            client = client_cls(config=config)
            client.iopub_timeout = limits.interrupt_grace
            client.setup(limits, key, deadline)
            with open(workdir / "kernel.log", "ab") as logf:
                try:
                    asyncio.run(client.run(nb, {"metadata": {"path": str(paths["home"])}}, km, env, logf))
                    error = None
                except Exception as exc:  # noqa: BLE001 - reported for this submission only
                    error = f"{type(exc).__name__}: {exc}".strip()
                    last = [ln for ln in _tail(workdir / "kernel.log").splitlines() if ln.strip()]
                    if last:
                        error += f" (kernel said: {last[-1].strip()[:200]})"
            keyfile.unlink(missing_ok=True)
            out["notebooks"].append(
                {
                    "name": item["name"],
                    "json": nbformat.writes(nb),
                    "error": error,
                    "tampering": client.tampering,
                    "limits": client.limit_notes,
                    "kernel_log": _tail(workdir / "kernel.log"),
                }
            )
            sandbox.sweep(slot)
            procs.kill_descendants()
    except Exception as exc:  # noqa: BLE001 - one submission's problem must not stop the batch
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        sandbox.sweep(slot)
        out["orphans"] = procs.kill_descendants()
        shutil.rmtree(workdir, ignore_errors=True)
        out["execute"] = time.time() - started
    return out


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        data = path.read_bytes()[-limit:]
    except OSError:
        return ""
    return data.decode("utf-8", errors="replace")


def _read_files(folder: Path) -> dict[str, bytes]:
    """The submission's extra files (not notebooks, not links: a link to the gradebook is not followed)."""
    files: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        rel = path.relative_to(folder)
        if path.suffix == ".ipynb" or ".ipynb_checkpoints" in rel.parts or path.is_symlink() or not path.is_file():
            continue
        files[rel.as_posix()] = path.read_bytes()
    return files


def _write_files(files: dict[str, bytes], dest: Path, sandbox: sbx.Sandbox, slot: int) -> None:
    """Write the submission's extra files into its sandbox home, owned by the slot's uid."""
    dest.mkdir(parents=True, exist_ok=True)
    sandbox.chown(dest, slot)
    for rel, data in files.items():
        target = dest / rel
        for parent in reversed(target.relative_to(dest).parents):
            folder = dest / parent
            if not folder.exists():
                folder.mkdir()
                sandbox.chown(folder, slot)
        target.write_bytes(data)
        sandbox.chown(target, slot)


def _copy_tree(src: Path, dest: Path, sandbox: sbx.Sandbox, slot: int) -> None:
    """Copy a folder of trusted files (the matplotlib cache) into a sandbox, owned by the slot's uid."""
    if not src.is_dir():
        return
    _write_files(
        {p.relative_to(src).as_posix(): p.read_bytes() for p in src.rglob("*") if p.is_file()}, dest, sandbox, slot
    )


# ============================================================================ the parent
Key = tuple[str, str]  # (assignment, student)


@dataclass
class _Pending:
    key: Key
    task: dict
    flags: list[str]
    changes: list[str]
    restored: list[str]
    sanitize_s: float


@dataclass
class GradebookSnapshot:
    """The gradebook's bytes, held in the grader's memory while untrusted kernels could reach the file."""

    path: Path
    data: bytes | None

    @classmethod
    def take(cls, course: Course) -> GradebookSnapshot:
        path = course.root / cfg.GRADEBOOK
        return cls(path, path.read_bytes() if path.is_file() else None)

    def restore(self) -> bool:
        """Put the gradebook back as it was; True when it (or a journal next to it) had been changed."""
        changed = False
        for suffix in ("-journal", "-wal", "-shm"):
            extra = self.path.with_name(self.path.name + suffix)
            if extra.exists() or extra.is_symlink():
                extra.unlink()
                changed = True
        current = self.path.read_bytes() if self.path.is_file() and not self.path.is_symlink() else None
        if current == self.data and not self.path.is_symlink():
            return changed
        if self.data is None:
            self.path.unlink(missing_ok=True)
        else:
            tmp = self.path.with_name(f".{self.path.name}.restore")
            tmp.write_bytes(self.data)
            os.replace(tmp, self.path)
        return True


class Grader:
    """Grade (assignment, student) pairs: check, sanitise and score here, execute in a pool of workers."""

    def __init__(self, course: Course, options: EngineOptions) -> None:
        self.course = course
        self.options = options
        self.jobs = options.jobs or os.cpu_count() or 1
        self.limits = sbx.Limits.from_env(
            course.timeout,
            total_timeout=options.total_timeout,
            memory_mb=options.memory_mb,
            nproc=options.nproc,
            output_kb=options.output_kb,
        )
        try:
            self.sandbox = sbx.choose(options.sandbox, hidden=[course.root], slots=self.jobs)
        except (RuntimeError, ValueError) as exc:
            raise AutograderError(str(exc)) from None
        self._journals: dict[str, Journal] = {}
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

    def _early_result(self, key: Key, entry: dict | None) -> EngineResult | None:
        course = self.course
        assignment, student = key
        base: dict[str, Any] = dict(student=student, assignment=assignment, sandbox=self.sandbox.backend)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", student):
            return EngineResult(**base, error=f"student id {student!r} is not valid (letters, digits, . _ -)")
        reason = check_submission(course, assignment, student)
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
    def _grade(self, todo: list[Key], results: dict[Key, EngineResult], counter: dict, total: int) -> None:
        from tqdm import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm

        progress = self.options.progress if self.options.progress is not None else sys.stderr.isatty()
        run_base = Path(tempfile.mkdtemp(prefix="autograder-", dir=os.environ.get("AUTOGRADER_TMP")))
        run_base.chmod(0o711)
        weeks = ", ".join(sorted({a for a, _ in todo}))
        try:
            mpl_cache = self._matplotlib_cache(run_base)
            with (
                logging_redirect_tqdm(loggers=[log]),
                tqdm(
                    total=total,
                    initial=counter["n"],
                    desc=f"grade {weeks}",
                    unit="nb",
                    file=sys.stderr,
                    disable=not progress,
                    dynamic_ncols=True,
                ) as bar,
            ):
                self._pool_loop(todo, results, counter, total, run_base, mpl_cache, bar)
        finally:
            shutil.rmtree(run_base, ignore_errors=True)

    def _pool_loop(
        self,
        todo: list[Key],
        results: dict[Key, EngineResult],
        counter: dict,
        total: int,
        run_base: Path,
        mpl_cache: Path,
        bar: Any,
    ) -> None:
        pending: dict[Key, _Pending] = {}
        ctx = multiprocessing.get_context("spawn")
        waiting = list(todo)
        crashes: dict[Key, int] = {}
        # Without a sandbox that hides the course folder a kernel can reach the gradebook. Then every
        # submission is sanitised first, the gradebook is kept in memory, the kernels run, and only when every
        # one of them is gone is the gradebook put back and everything scored: no submission can change
        # another's score (or the points of the assignment), whatever it wrote.
        defer = not self.sandbox.isolates_files
        executed: dict[Key, dict] = {}
        snapshot: GradebookSnapshot | None = None
        if defer:
            for key in todo:
                item = self._prepare(key, run_base, mpl_cache, results)
                if item is None:
                    self._finish(results[key], counter, total, bar)
                else:
                    pending[key] = item
            waiting = [k for k in todo if k in pending]
            snapshot = GradebookSnapshot.take(self.course)
            log.info(
                "grade: sandbox %s does not hide the course folder: scoring waits until every kernel has "
                "stopped, against the gradebook as it was before any submission ran",
                self.sandbox.backend,
            )
        while waiting:
            slots = ctx.Queue()
            for i in range(self.jobs):
                slots.put(i)
            pool = cf.ProcessPoolExecutor(
                max_workers=min(self.jobs, len(waiting)),
                mp_context=ctx,
                initializer=_init_worker,
                initargs=(slots, os.getpid()),
            )
            futures: dict[cf.Future, Key] = {}
            broken = False
            try:
                for key in waiting:
                    item = pending.get(key) or self._prepare(key, run_base, mpl_cache, results)
                    if item is None:
                        self._finish(results[key], counter, total, bar)
                        continue
                    pending[key] = item
                    item.task["submitted_at"] = time.time()
                    futures[pool.submit(execute_submission, item.task)] = key
                waiting = []
                for fut in cf.as_completed(futures):
                    key = futures[fut]
                    try:
                        outcome = fut.result()
                    except cf.process.BrokenProcessPool:
                        broken = True
                        crashes[key] = crashes.get(key, 0) + 1
                        if crashes[key] >= 2:
                            pending.pop(key, None)
                            results[key] = EngineResult(
                                student=key[1],
                                assignment=key[0],
                                sandbox=self.sandbox.backend,
                                error="the grading worker crashed twice on this submission",
                            )
                            self._finish(results[key], counter, total, bar)
                        else:
                            waiting.append(key)
                        continue
                    if defer:
                        executed[key] = outcome
                        continue
                    results[key] = self._score(pending.pop(key), outcome)
                    self._finish(results[key], counter, total, bar)
            except KeyboardInterrupt:
                _terminate_workers(pool)
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            finally:
                if broken:
                    _terminate_workers(pool)
                pool.shutdown(wait=not broken, cancel_futures=True)
                if broken:
                    for i in range(self.jobs):
                        self.sandbox.sweep(i)
            if waiting:
                log.warning("grade: a worker crashed; grading %d submissions again in a fresh pool", len(waiting))
        if snapshot is not None:
            changed = snapshot.restore()
            if changed:
                log.warning(
                    "grade: the gradebook changed while submissions ran (a submission wrote to it): "
                    "restored to its state before the batch"
                )
            for key in todo:
                if key in executed:
                    results[key] = self._score(pending.pop(key), executed.pop(key))
                    self._finish(results[key], counter, total, bar)

    def _finish(self, result: EngineResult, counter: dict, total: int, bar: Any) -> None:
        counter["n"] += 1
        bar.update(1)
        self._log_result(result, counter, total)

    # ------------------------------------------------------------------ phase A
    def _prepare(self, key: Key, run_base: Path, mpl_cache: Path, results: dict[Key, EngineResult]) -> _Pending | None:
        course = self.course
        assignment, student = key
        t0 = time.time()
        folder = course.step_dir(cfg.SUBMITTED_DIR, student, assignment)
        released = {p.name: p for p in course.released_notebooks(assignment)}
        changes: list[str] = []
        for path in sorted(folder.glob("*.ipynb")):
            try:
                changes += locked_cell_changes(
                    nbformat.read(path, as_version=4), nbformat.read(released[path.name], as_version=4)
                )
            except Exception:  # noqa: BLE001 - the sanitize step reports unreadable notebooks
                pass
        os.environ.setdefault("MPLBACKEND", "Agg")
        run = _run_phase(course, assignment, student, "sanitize")
        found = re.findall(rf"{RESTORED_MARK} (\S+)|Missing grade cell (\S+) encountered", run.get("log", ""))
        restored = sorted({a or b for a, b in found})
        if not run["success"]:
            results[key] = EngineResult(
                student=student,
                assignment=assignment,
                sandbox=self.sandbox.backend,
                error=f"grading failed: {_last_error(run)}",
            )
            return None
        dest = course.step_dir(cfg.AUTOGRADED_DIR, student, assignment)
        notebooks = []
        flags: list[str] = []
        for path in sorted(dest.glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            modules = integrity.bound_module_names(c.source for c in nb.cells if is_guarded(c))
            for index, cell in enumerate(nb.cells):
                if cell.get("cell_type") == "code" and not is_guarded(cell):
                    gid = nbgrader_meta(cell).get("grade_id") or f"cell {index}"
                    flags += [f"{gid} {f}" for f in integrity.scan_source(cell.source, modules)]
            notebooks.append({"name": path.name, "json": nbformat.writes(nb), "preload": _preload_modules(nb)})
        task = {
            "student": student,
            "assignment": assignment,
            "root": str(course.root),
            "notebooks": notebooks,
            "files": _read_files(dest),
            "mpl_cache": str(mpl_cache),
            "guard_file": integrity.__file__,
            "tmp_base": str(run_base),
            "sandbox": self.sandbox,
            "limits": self.limits,
            "submitted_at": time.time(),
        }
        return _Pending(key, task, flags, changes, restored, time.time() - t0)

    # ------------------------------------------------------------------ phase B
    def _score(self, item: _Pending, outcome: dict) -> EngineResult:
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
        run = _run_phase(course, assignment, student, "score")
        if not run["success"]:
            result.error = f"scoring failed: {_last_error(run)}"
            return result
        scored = GradeResult(student=student, assignment=assignment, restored=list(item.restored))
        course._read_scores(scored)
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
    def _log_result(self, result: EngineResult, counter: dict, total: int) -> None:
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

    def _matplotlib_cache(self, run_base: Path) -> Path:
        """matplotlib's font cache, built once per machine and user, so every sandbox starts warm."""
        cache = Path(tempfile.gettempdir()) / f"autograder-mplcache-{os.getuid()}"
        if any(cache.glob("fontlist-*.json")):
            return cache
        build = Path(tempfile.mkdtemp(prefix="mplcache-", dir=run_base))
        env = {**os.environ, "MPLCONFIGDIR": str(build), "MPLBACKEND": "Agg"}
        try:
            subprocess.run(
                [self.sandbox.python, "-c", "import matplotlib.font_manager"],
                env=env,
                capture_output=True,
                timeout=120,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return build
        try:
            build.rename(cache)  # atomic: a concurrent grader either wins or finds it built
        except OSError:
            pass
        return cache if cache.is_dir() else build


def _copy_grade(src: GradeResult, dest: GradeResult) -> None:
    dest.notebook = src.notebook
    dest.score = src.score
    dest.max_score = src.max_score
    dest.cells = list(src.cells)
    dest.restored = sorted(set(dest.restored) | set(src.restored))
    dest.error = src.error


def _terminate_workers(pool: cf.ProcessPoolExecutor) -> None:
    for proc in list(getattr(pool, "_processes", {}).values()):
        try:
            proc.kill()
        except Exception:  # noqa: BLE001
            pass


def grade_parallel(course: Course, work: Iterable[Key], options: EngineOptions | None = None) -> list[EngineResult]:
    """Grade (assignment, student) pairs with the sandboxed engine; results in input order."""
    options = options or EngineOptions.from_env()
    return Grader(course, options).run(list(work))


__all__ = [
    "CellResult",
    "EngineOptions",
    "EngineResult",
    "Grader",
    "Journal",
    "check_submission",
    "grade_parallel",
    "locked_cell_changes",
]
