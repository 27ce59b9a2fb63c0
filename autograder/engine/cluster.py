"""The cluster executor: the same sandboxed worker, run by Dask distributed on many machines.

``python -m autograder grade weekNN --cluster tcp://HOST:8786`` (a scheduler started with ``dask scheduler``,
dask-kubernetes or dask-jobqueue) or ``--cluster local:N`` (a :class:`distributed.LocalCluster` of N worker
processes on this machine). The grader does not change: it checks, sanitises and scores here, the only
gradebook writer; only the execute phase moves. What travels:

* to the worker, in the task: the sanitised notebooks as JSON, the submission's other files as bytes, the
  limits and the sandbox *name* — no path of this machine is read there, so no shared filesystem is needed;
* back, as the task's result: the executed notebooks as JSON, what the guard reset, which limits were hit.

On the worker, :class:`GradingPlugin` (a Dask ``WorkerPlugin``, installed on every worker, also those that join
later) picks the worker's own sandbox (bwrap or a container, as on this machine), takes a slot (a lock file, so
two worker processes on one machine never share a uid), makes the worker a subreaper and builds its matplotlib
cache. :func:`run_submission` then calls :func:`.worker.execute_submission` — isolation stays ours, Dask only
moves bytes and schedules.

Before anything is graded every worker is checked (:func:`environment_report`): the same Python, the same
versions of the course's pinned packages, the same autograder and labkit code, one thread per worker process
(the worker kills what a submission leaves behind, which only works one submission at a time), and a sandbox
that hides files. A worker that fails is named with what differs, and grading does not start.

Faults. A worker killed while it holds a submission: the grader hands the task to another worker. It counts the
deaths itself — each worker logs an event on the scheduler when it *starts* a submission, and the grader sets
the scheduler's ``allowed-failures`` to 0 so every death comes back at once as ``KilledWorker`` — so a death is
held against the submission that was running, never against those merely waiting on that worker. After
:data:`.pool.MAX_ATTEMPTS` runs that each ended with a dead worker the submission is graded 0 with that reason,
and the batch goes on. A lost scheduler
connection: every submission scored so far is in the gradebook and the journal (one fsynced line each, written
after its score), the executor stops with a clear error, and running the same command again resumes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from .. import guard
from .. import sandbox as sbx
from ..errors import AutograderError, log
from ..limits import CLUSTER_ADDRESS as ADDRESS
from ..limits import EngineOptions, check_address
from . import reaper
from .admission import ENGINE_VERSION
from .pool import MAX_ATTEMPTS, Key, crash_reason
from .worker import execute_submission, matplotlib_cache

#: task keys that name paths or objects of the grader's machine; the worker supplies its own
LOCAL_ONLY = ("sandbox", "mpl_cache", "guard_file", "tmp_base")
#: the event a worker logs on the scheduler when it starts a submission: how the grader counts real attempts
STARTED_TOPIC = "autograder-started"
#: how many grading slots (uids, lock files) one machine offers worker processes
MAX_SLOTS = 64
#: packages compared when no requirements.txt sits next to the autograder package
CORE_PACKAGES = ("nbgrader", "nbclient", "nbformat", "ipykernel", "jupyter_client", "pandas", "numpy", "matplotlib")


# ----------------------------------------------------------------------------- the environment check
def course_packages() -> list[str]:
    """Names of the course's pinned packages (requirements.txt of this checkout), else the core ones."""
    req = Path(__file__).resolve().parents[2] / "requirements.txt"
    names: list[str] = []
    if req.is_file():
        for line in req.read_text(encoding="utf-8").splitlines():
            spec = line.split("#", 1)[0].strip()
            if "==" in spec:
                names.append(re.split(r"[\[=]", spec, maxsplit=1)[0])
    return names or list(CORE_PACKAGES)


def code_fingerprint() -> str:
    """sha256 of the autograder and labkit sources: the grading code (guard, sandbox, worker) must be identical."""
    digest = hashlib.sha256()
    for package in ("autograder", "labkit"):
        for folder in importlib.import_module(package).__path__:  # the code this process runs, not a search
            for path in sorted(Path(folder).rglob("*.py")):
                digest.update(path.relative_to(folder).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def environment_report(packages: Sequence[str], sandbox: str | None, dask_worker: Any = None) -> dict[str, Any]:
    """What this process would grade with: Python, package versions, code, sandbox, threads (plain data).

    ``client.run`` passes ``dask_worker`` (the Dask worker it runs in); the grader's own report has none.
    """
    versions: dict[str, str] = {}
    for name in packages:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "missing"
    report: dict[str, Any] = {
        "python": ".".join(map(str, sys.version_info[:3])),
        "packages": versions,
        "engine": ENGINE_VERSION,
        "code": code_fingerprint(),
        "host": os.uname().nodename,
    }
    try:
        chosen = sbx.choose(sandbox, slots=1)
        report["sandbox"] = chosen.backend
        report["isolates_files"] = chosen.isolates_files
    except (sbx.SandboxUnavailable, RuntimeError, ValueError) as exc:
        report["sandbox"] = None
        report["sandbox_error"] = str(exc).splitlines()[0]
    if dask_worker is not None:
        report["nthreads"] = int(dask_worker.state.nthreads)
    return report


def environment_problems(expected: dict[str, Any], found: dict[str, Any], sandbox: str | None) -> list[str]:
    """What a worker's report lacks compared with the grader's (empty: the worker may grade)."""
    problems: list[str] = []
    if found.get("python") != expected["python"]:
        problems.append(f"Python {found.get('python')} (the grader runs {expected['python']})")
    for name, version in expected["packages"].items():
        theirs = found.get("packages", {}).get(name, "missing")
        if theirs != version:
            problems.append(f"{name} {theirs} (pinned {version})")
    if found.get("engine") != expected["engine"] or found.get("code") != expected["code"]:
        problems.append(
            f"other autograder/labkit code (engine {found.get('engine')}, code {found.get('code')}; "
            f"the grader has {expected['engine']}, {expected['code']})"
        )
    if found.get("sandbox") is None:
        problems.append(f"no sandbox: {found.get('sandbox_error', 'unknown reason')}")
    elif not found.get("isolates_files") and (sandbox or "auto") not in ("user", "none"):
        problems.append(f"sandbox {found.get('sandbox')} does not hide files")
    if found.get("nthreads", 1) != 1:
        problems.append(
            f"{found.get('nthreads')} threads per worker process (start workers with --nthreads 1; "
            "use --nworkers N for N submissions at a time)"
        )
    return problems


def refusal(problems: dict[str, list[str]], total: int) -> str:
    """The message when some workers lack the course environment: who, what differs, what to do."""
    lines = [f"grading did not start: {len(problems)} of {total} Dask workers lack the course environment:"]
    for worker, found in sorted(problems.items()):
        lines.append(f"  - {worker}: " + "; ".join(found[:6]) + (" ..." if len(found) > 6 else ""))
    lines.append(
        "What to do: install the pinned requirements on those machines (bash dev.sh setup, or the worker image "
        "of docs/distributed-grading.md), check the sandbox with `python -m autograder selfcheck week01`, and "
        "start workers with `dask worker tcp://SCHEDULER:8786 --nthreads 1`."
    )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the worker side
@dataclass
class WorkerState:
    """What one Dask worker process grades with (made by :class:`GradingPlugin`, one submission at a time)."""

    sandbox: sbx.Sandbox | None
    slot: int
    scratch: Path
    mpl_cache: Path
    lock: IO[bytes] | None
    refused: str | None = None


_STATE: dict[str, WorkerState] = {}


def take_slot(limit: int = MAX_SLOTS) -> tuple[int, IO[bytes]]:
    """A slot no other worker process on this machine holds: an exclusive lock, freed when the process dies."""
    folder = Path(tempfile.gettempdir()) / f"autograder-slots-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    for slot in range(limit):
        handle = (folder / f"slot-{slot}.lock").open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        return slot, handle
    raise AutograderError(f"more than {limit} grading worker processes on one machine; start fewer")


class GradingPlugin:
    """Dask ``WorkerPlugin``: prepare a worker to grade (sandbox, slot, subreaper, matplotlib cache).

    Dask installs it on every worker, including those that join or restart later; a worker whose environment
    differs from the grader's keeps the reason and refuses every task (:func:`run_submission`).
    """

    name = "autograder-grading"

    def __init__(self, options: EngineOptions, hidden: Sequence[str], expected: dict[str, Any]) -> None:
        self.sandbox_name = options.sandbox
        self.image = options.image
        self.base_uid = options.base_uid
        self.forward_env = options.forwarded_environment()
        self.hidden = list(hidden)
        self.expected = expected

    def setup(self, worker: Any) -> None:
        reaper.become_subreaper()
        scratch = Path(tempfile.mkdtemp(prefix="autograder-worker-"))
        scratch.chmod(0o711)
        found = environment_report(list(self.expected["packages"]), self.sandbox_name)
        problems = environment_problems(self.expected, found, self.sandbox_name)
        state = WorkerState(None, 0, scratch, scratch, None, "; ".join(problems) or None)
        if not problems:
            state.slot, state.lock = take_slot()
            state.sandbox = sbx.choose(
                self.sandbox_name,
                hidden=self.hidden,
                slots=MAX_SLOTS,
                image=self.image,
                base_uid=self.base_uid,
                forward_env=self.forward_env,
            )
            state.mpl_cache = matplotlib_cache(state.sandbox.python, scratch)
        _STATE[str(worker.address)] = state

    def teardown(self, worker: Any) -> None:
        state = _STATE.pop(str(worker.address), None)
        if state is not None:
            if state.lock is not None:
                state.lock.close()
            shutil.rmtree(state.scratch, ignore_errors=True)


class WorkerRefused(RuntimeError):
    """Raised on a worker that lacks the course environment (it joined after the check)."""


def run_submission(task: dict[str, Any]) -> dict[str, Any]:
    """The Dask task: fill in this worker's sandbox, slot and folders, then the pool's own worker code."""
    from distributed import get_worker

    worker = get_worker()
    state = _STATE.get(str(worker.address))
    if state is None or state.refused or state.sandbox is None:
        why = state.refused if state else "the autograder plugin is not installed on it"
        raise WorkerRefused(f"worker {worker.address} lacks the course environment: {why}")
    local = {
        "sandbox": state.sandbox,
        "slot": state.slot,
        "tmp_base": str(state.scratch),
        "mpl_cache": str(state.mpl_cache),
        "guard_file": guard.__file__,
    }
    worker.log_event(STARTED_TOPIC, {"assignment": task["assignment"], "student": task["student"]})
    out = execute_submission({**task, **local})
    out["worker"] = str(worker.address)
    return out


# ----------------------------------------------------------------------------- the grader side
class ClusterExecutor:
    """Connects to (or starts) a Dask cluster, checks its workers, runs tasks there, hands outcomes back."""

    def __init__(self, address: str, options: EngineOptions, hidden: Sequence[str] = ()) -> None:
        self.address = check_address(address)
        self.options = options
        self.hidden = list(hidden)
        self.timeout = options.cluster_timeout
        self.client: Any = None
        self.local: Any = None
        self.futures: dict[Any, tuple[Key, dict[str, Any]]] = {}
        self.waiting: list[tuple[Key, dict[str, Any]]] = []
        self.deaths: dict[Key, int] = {}
        self.running: Any = None  #: distributed.as_completed of the tasks on the cluster

    # ------------------------------------------------------------- life cycle
    def __enter__(self) -> ClusterExecutor:
        from distributed import as_completed

        try:
            self._connect()
            self._check_workers()
            self.running = as_completed(loop=self.client.loop)  # type: ignore[no-untyped-call]
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._close()

    def _connect(self) -> None:
        import dask
        from distributed import Client, LocalCluster

        match = ADDRESS.match(self.address)
        if match and match["n"]:
            with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                self.local = LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=int(match["n"]),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    scheduler_port=0,
                    dashboard_address="127.0.0.1:0",
                    silence_logs=40,
                )
            target: Any = self.local
        else:
            target = self.address
        try:
            self.client = Client(target, timeout=self.timeout, set_as_default=False)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as exc:
            raise AutograderError(
                f"cannot reach the Dask scheduler at {self.address} within {self.timeout} s ({exc}); is "
                "`dask scheduler` running there, and is its port open from this machine?"
            ) from None
        try:
            self.client.wait_for_workers(1, timeout=self.timeout)
        except TimeoutError:
            raise AutograderError(
                f"the Dask scheduler at {self.address} has no worker after {self.timeout} s; start some with "
                f"`dask worker {self.address} --nthreads 1`"
            ) from None
        # Every worker death is reported to us at once (KilledWorker), and we count it only against the
        # submission that was running; Dask's own count also blames the tasks that merely waited there.
        self.client.run_on_scheduler(_report_every_death)
        self._announce_dashboard()

    def _announce_dashboard(self) -> None:
        """Print the dashboard's address — or, once, that it needs bokeh where the scheduler runs."""
        services = self.client.scheduler_info().get("services", {})
        bokeh = False
        with contextlib.suppress(Exception):  # the scheduler could not say: assume no bokeh
            bokeh = bool(self.client.run_on_scheduler(_has_bokeh))
        if "dashboard" in services and bokeh:
            log.info("grade: Dask dashboard at %s", self.client.dashboard_link)
        else:
            log.info(
                "grade: no Dask dashboard: it needs bokeh where the scheduler runs, and bokeh is not installed "
                "there (pip install bokeh; the progress bar and the log below say the same)"
            )

    def _check_workers(self) -> None:
        expected = environment_report(course_packages(), self.options.sandbox)
        reports: dict[str, dict[str, Any]] = self.client.run(
            environment_report, list(expected["packages"]), self.options.sandbox
        )
        problems = {
            worker: found
            for worker, report in reports.items()
            if (found := environment_problems(expected, report, self.options.sandbox))
        }
        if problems:
            raise AutograderError(refusal(problems, len(reports)))
        self.client.register_plugin(_as_worker_plugin(GradingPlugin(self.options, self.hidden, expected)))
        hosts = sorted({str(r.get("host")) for r in reports.values()})
        log.info(
            "grade: Dask cluster %s: %d workers on %d machines (%s), environment checked; a submission is given "
            "up after %d worker deaths while it ran",
            self.address,
            len(reports),
            len(hosts),
            ", ".join(hosts),
            MAX_ATTEMPTS,
        )

    def _close(self) -> None:
        for thing in (self.client, self.local):
            if thing is not None:
                with contextlib.suppress(Exception):  # closing a half-dead connection may fail; nothing to keep
                    thing.close()
        self.client = self.local = None
        self.futures.clear()
        self.waiting.clear()

    # ------------------------------------------------------------- tasks
    def submit(self, key: Key, task: dict[str, Any]) -> None:
        """Queue a task here; it goes to the scheduler as soon as a worker thread is free (see :meth:`completed`)."""
        payload = {k: v for k, v in task.items() if k not in LOCAL_ONLY}
        payload["submitted_at"] = time.time()  # the queue phase starts now, not when a worker is free
        self.waiting.append((key, payload))
        self._top_up(self.running)  # the workers start while the grader prepares the next submissions

    def completed(self) -> Iterator[tuple[Key, dict[str, Any], str | None]]:
        """Outcomes as they finish; never more tasks on the cluster than it has worker threads.

        Dask counts a worker's death against every task assigned to it, running or waiting. Handing out
        only as many tasks as there are threads keeps that count on the submission that was running, so
        ``allowed-failures`` bounds the retries of *that* submission and spares the innocent ones.
        """
        running = self.running
        self._top_up(running)
        while self.futures:
            try:
                future = next(running)
            except StopIteration:
                break
            key, payload = self.futures.pop(future)
            result = self._outcome(key, payload, future)
            self._top_up(running)
            if result is not None:
                yield result

    def _top_up(self, running: Any) -> None:
        try:
            capacity = max(1, sum(self.client.nthreads().values()))
            while self.waiting and len(self.futures) < capacity:
                key, payload = self.waiting.pop(0)
                token = secrets.token_hex(6)  # a new key per attempt: a retried key would return the old failure
                # the dashboard (and `client.processing()`) shows which submission runs where
                future = self.client.submit(run_submission, payload, key=task_key(key, token), pure=False)
                self.futures[future] = (key, payload)
                running.add(future)
        except Exception as exc:
            if self.client is None or self.client.status not in ("running", "connecting"):
                raise AutograderError(self._lost(exc)) from None
            raise

    def _outcome(self, key: Key, payload: dict[str, Any], future: Any) -> tuple[Key, dict[str, Any], str | None] | None:
        """The submission's outcome, its failure, or None when it was handed out again after a worker died."""
        from distributed import KilledWorker

        try:
            return key, future.result(), None
        except KilledWorker:
            self.deaths[key] = self.deaths.get(key, 0) + 1
            ran = self._runs_started(key)
            # bounded twice: deaths while it ran, and every death (a worker that dies before it can say it started)
            if ran >= MAX_ATTEMPTS or self.deaths[key] >= 3 * MAX_ATTEMPTS:
                return key, {}, crash_reason(max(ran, 1))
            log.warning(
                "grade: a worker died while it held %s %s (run %d of at most %d): handed to another worker",
                key[0],
                key[1],
                ran,
                MAX_ATTEMPTS,
            )
            self.waiting.insert(0, (key, payload))
            return None
        except WorkerRefused as exc:
            return key, {}, str(exc)
        except Exception as exc:  # noqa: BLE001 - a lost scheduler, or one submission's own failure
            if self.client is None or self.client.status not in ("running", "connecting"):
                raise AutograderError(self._lost(exc, 1)) from None
            if future.status == "cancelled":
                raise AutograderError(self._lost(exc, 1)) from None
            return key, {}, f"the cluster could not run this submission: {type(exc).__name__}: {exc}"

    def _runs_started(self, key: Key) -> int:
        """How many times a worker started this submission (the events workers log on the scheduler)."""
        events = self.client.get_events(STARTED_TOPIC)
        return sum(1 for _, msg in events if (msg.get("assignment"), msg.get("student")) == key)

    def _lost(self, exc: BaseException, also: int = 0) -> str:
        left = len(self.futures) + len(self.waiting) + also
        return (
            f"lost the connection to the Dask scheduler at {self.address} ({type(exc).__name__}); {left} "
            "submissions were not graded. Everything scored so far is in the gradebook and the journal: run the "
            "same grade command again (with a scheduler) to go on where it stopped."
        )


def task_key(key: Key, token: str) -> str:
    """The Dask key of a submission's task, ``grade-week03-alice-<token>``: the dashboard names the student."""
    return f"grade-{key[0]}-{key[1]}-{token}"


def student_of(dask_key: str) -> str | None:
    """The student of a task key made by :func:`task_key` (None for any other key)."""
    m = re.fullmatch(r"grade-week\d\d-(?P<student>.+)-[0-9a-f]{12}", dask_key)
    return m["student"] if m else None


def _report_every_death(dask_scheduler: Any) -> None:
    """Run on the scheduler: a task on a worker that dies fails at once (``KilledWorker``); the grader retries."""
    dask_scheduler.allowed_failures = 0


def _has_bokeh() -> bool:
    """Run on the scheduler: can it serve the dashboard?"""
    return importlib.util.find_spec("bokeh") is not None


def _as_worker_plugin(plugin: GradingPlugin) -> Any:
    """Our plugin as a ``distributed.WorkerPlugin`` (subclassed here, so importing this module needs no Dask)."""
    from distributed import WorkerPlugin

    class _Plugin(WorkerPlugin):
        name = plugin.name

        def setup(self, worker: Any) -> None:
            plugin.setup(worker)

        def teardown(self, worker: Any) -> None:
            plugin.teardown(worker)

    return _Plugin()


# ----------------------------------------------------------------------------- a real cluster on one machine
@dataclass
class DaskProcesses:
    """A running ``dask scheduler`` and its ``dask worker`` processes (see :func:`dask_processes`)."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]
    folder: Path
    env: dict[str, str]

    def add_worker(self, *extra: str, env: dict[str, str] | None = None, name: str | None = None) -> None:
        """Start one more ``dask worker`` (``extra``: its flags, e.g. ``--nthreads 2``; ``env``: added variables)."""
        name = name or f"w{len(self.workers)}"
        argv = [sys.executable, "-m", "dask", "worker", self.address, "--host", "127.0.0.1", "--no-dashboard"]
        argv += ["--dashboard-address", "127.0.0.1:0"]  # even without a dashboard its HTTP server binds a port
        argv += ["--name", name, "--death-timeout", "60", "--memory-limit", "0"]
        argv += list(extra) if "--nthreads" in extra else ["--nthreads", "1", *extra]
        self.workers.append(_spawn(argv, {**self.env, **(env or {})}, self.folder / f"{name}.log"))

    def kill_scheduler(self) -> None:
        """SIGKILL the scheduler (a lost connection, as when its machine goes down)."""
        _kill_group(self.scheduler)


def _die_with_us() -> None:  # pragma: no cover - runs in the child between fork and exec
    import ctypes
    import signal as sig

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, sig.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def _spawn(argv: list[str], env: dict[str, str], logfile: Path) -> subprocess.Popen[bytes]:
    with logfile.open("ab") as out:
        return subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_us
        )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    import signal as sig

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


@contextlib.contextmanager
def dask_processes(
    workers: int = 2, *, scheduler_env: dict[str, str] | None = None, timeout: float = 60
) -> Iterator[DaskProcesses]:
    """A real ``dask scheduler`` and ``workers`` × ``dask worker --nthreads 1`` on 127.0.0.1, ports from the OS.

    What the lab-machine recipe of ``docs/distributed-grading.md`` starts, on one machine: for tests and the
    benchmark. Each process is its own session (killed as a group) and dies with this one (``PR_SET_PDEATHSIG``);
    all of them are killed on exit, however the block ends. ``scheduler_env`` adds variables to the scheduler's
    environment (``DASK_DISTRIBUTED__SCHEDULER__...`` settings, say).
    """
    folder = Path(tempfile.mkdtemp(prefix="autograder-dask-"))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    sched_file = folder / "scheduler.json"
    argv = [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
    argv += ["--dashboard-address", "127.0.0.1:0"]  # its HTTP server binds a port even without bokeh: not 8787
    argv += ["--scheduler-file", str(sched_file)]
    scheduler = _spawn(argv, {**env, **(scheduler_env or {})}, folder / "scheduler.log")
    procs = DaskProcesses("", scheduler, [], folder, env)
    try:
        deadline = time.monotonic() + timeout
        while not sched_file.is_file() or not sched_file.read_text(encoding="utf-8").strip():
            if scheduler.poll() is not None or time.monotonic() > deadline:
                log_text = (folder / "scheduler.log").read_text(encoding="utf-8", errors="replace")
                raise AutograderError(f"dask scheduler did not start:\n{log_text[-2000:]}")
            time.sleep(0.1)
        procs.address = str(json.loads(sched_file.read_text(encoding="utf-8"))["address"])
        for _ in range(workers):
            procs.add_worker()
        if workers:
            from distributed import Client

            with Client(procs.address, timeout=timeout, set_as_default=False) as client:  # type: ignore[no-untyped-call]
                client.wait_for_workers(workers, timeout=timeout)
        yield procs
    finally:
        for proc in [*procs.workers, procs.scheduler]:
            _kill_group(proc)
        shutil.rmtree(folder, ignore_errors=True)
