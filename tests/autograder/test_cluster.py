"""Grading on a real Dask cluster: one ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1.

The cluster is the same one the lab-machine recipe of ``docs/distributed-grading.md`` starts (subprocesses,
ports chosen by the OS, killed when the module ends — :func:`autograder.engine.cluster.dask_processes`). What it
proves:

* the red-team fixture graded on the cluster gets the scores and tampering reports the local engine must get
  (``tests/autograder/redteam/cases.py``, the expectations ``test_redteam.py`` holds the local pool to) — a
  representative subset of 15 of the 30 cases (the isolation, guard, limit and crash attacks), since the whole
  set takes minutes on a shared 2-core machine;
* a worker killed in the middle of a submission loses nothing: the submission runs again elsewhere and every
  submission is graded exactly once (one journal line, one gradebook score); a submission whose every worker is
  killed is graded as failed with that reason, and the batch goes on;
* workers without the course environment (another package version, several threads) are refused before any
  grading, each named with what differs;
* a lost scheduler leaves the journal consistent and the next ``grade`` resumes where the first one stopped.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from distributed import Client
from redteam import cases as C  # tests/autograder/redteam/ (pytest puts this folder on sys.path)

from autograder import sandbox as sbx
from autograder.course import Course
from autograder.engine import EngineOptions, Journal, grade_parallel
from autograder.engine.cluster import (
    DaskProcesses,
    check_address,
    dask_processes,
    environment_problems,
    student_of,
    task_key,
)
from autograder.errors import AutograderError
from autograder.samples import fill, write_submission

HERE = Path(__file__).resolve().parent
WEEK = "week91"
NB_NAME = "week91_redteam.ipynb"
#: the subset of the red team graded on the cluster: isolation, integrity guard, limits, crashes, edits
SUBSET = (
    "honest",
    "honest_libraries",
    "read_hidden",
    "write_gradebook",
    "read_other_student",
    "victim",
    "corrupt_other",
    "network",
    "infinite_loop",
    "fork_bomb",
    "memory_hog",
    "guard_bypass",
    "always_equal",
    "kernel_suicide",
    "edited_tests",
)
SLOW = "import time\ntime.sleep(5)\n\ndef double(x):\n    return 2 * x"
#: long enough for the killer to see it run on a loaded machine
SLOWER = SLOW.replace("sleep(5)", "sleep(10)")

pytestmark = pytest.mark.slow


def _bwrap_or_skip() -> None:
    try:
        sbx.choose("bwrap")
    except sbx.SandboxUnavailable as exc:
        pytest.skip(f"the cluster tests grade in bwrap, which cannot run here: {exc}")


def _course(root: Path, timeout: int = C.CELL_TIMEOUT) -> Course:
    shutil.copytree(HERE / "redteam" / "course" / "source", root / "source")
    course = Course(root, timeout=timeout)
    course.release(WEEK)
    return course


def _submit(course: Course, student: str, case: C.Case, double: str | None = None) -> None:
    root = str(course.root)
    answers = {
        "w91_redteam_double": (double or case.double).replace("__COURSE_ROOT__", root),
        "w91_redteam_mean": case.mean.replace("__COURSE_ROOT__", root),
    }
    nb = fill(WEEK, answers, root=course.root)
    if case.edit:
        case.edit(nb)
    write_submission(nb, course.root / "submitted" / student / WEEK / NB_NAME)


def _options(address: str, **kw: Any) -> EngineOptions:
    return EngineOptions(cluster=address, nproc=C.NPROC, progress=False, sandbox="bwrap", cluster_timeout=10, **kw)


def _journal_lines(course: Course) -> list[dict[str, Any]]:
    path = Journal(course, WEEK).path
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def cluster() -> Iterator[DaskProcesses]:
    _bwrap_or_skip()
    with dask_processes(2) as procs:
        yield procs


# ------------------------------------------------------------------ the red team on the cluster
@pytest.fixture(scope="module")
def redteam_on_cluster(cluster: DaskProcesses, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    # a longer cell timeout than test_redteam.py's 3 s: a shared machine's load must not time out honest cells
    course = _course(tmp_path_factory.mktemp("cluster-redteam") / "course", timeout=10)
    cases = [c for c in C.CASES if c.name in SUBSET]
    for case in cases:
        _submit(course, case.name, case)
    results = grade_parallel(course, [(WEEK, c.name) for c in cases], _options(cluster.address))
    return SimpleNamespace(course=course, results={r.student: r for r in results})


def test_the_subset_names_real_cases() -> None:
    assert set(SUBSET) <= {c.name for c in C.CASES}


@pytest.mark.parametrize("case", [c for c in C.CASES if c.name in SUBSET], ids=lambda c: c.name)
def test_redteam_case_scores_on_the_cluster_as_on_the_local_engine(
    redteam_on_cluster: SimpleNamespace, case: C.Case
) -> None:
    # the static scan runs in the instructor's grader for either executor; test_redteam checks its flags
    r = redteam_on_cluster.results[case.name]
    case.check(r, scan=False)
    assert {"queue", "execute", "score"} <= set(r.timings)


def test_the_instructors_course_folder_is_untouched(redteam_on_cluster: SimpleNamespace) -> None:
    root = redteam_on_cluster.course.root
    assert not (root / "PWNED").exists()
    from nbgrader.api import Gradebook

    with Gradebook(redteam_on_cluster.course.db_url) as gb:
        assert gb.find_assignment(WEEK).max_score == 5.0
        for honest in ("honest", "honest_libraries", "victim"):
            assert gb.find_submission(WEEK, honest).score == 5.0


# ------------------------------------------------------------------ a worker killed mid-batch
class Killer(threading.Thread):
    """Kills the worker process that runs a given submission — ``times[student]`` times, once it has run 1 s."""

    def __init__(self, address: str, times: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.address, self.times = address, dict(times)
        self.killed: list[str] = []
        self.error: BaseException | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            self._kill_loop()
        except BaseException as exc:  # noqa: BLE001 - reported by the test, not lost in a thread
            self.error = exc

    def _kill_loop(self) -> None:
        def _executing(dask_worker: Any) -> tuple[int, list[str]]:
            """Run on each worker (a local function: pickled by value): its pid and the keys it runs now."""
            import os

            return os.getpid(), [str(ts.key) for ts in dask_worker.state.executing]

        seen: dict[tuple[str, str], float] = {}
        with Client(self.address, timeout=10, set_as_default=False) as client:
            while not self.stop.is_set() and any(self.times.values()):
                # the scheduler says where each task is (cheap, never blocked by a starting worker) ...
                for worker, keys in client.processing().items():
                    for dask_key in keys:
                        student = student_of(str(dask_key)) or ""
                        if self.times.get(student, 0) <= 0:
                            continue
                        first = seen.setdefault((worker, str(dask_key)), time.monotonic())
                        if time.monotonic() - first < 1.0:
                            continue
                        # ... and that worker, asked alone, confirms it is running it and gives its pid
                        try:
                            pid, running = client.run(_executing, workers=[worker])[worker]
                        except Exception:  # noqa: BLE001 - that worker just went away: look again
                            continue
                        if str(dask_key) in running:
                            os.kill(pid, signal.SIGKILL)  # the worker process; its nanny starts a new one
                            self.times[student] -= 1
                            self.killed.append(student)
                self.stop.wait(0.2)


@pytest.fixture(scope="module")
def faulty_batch(cluster: DaskProcesses, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Five submissions; the worker running ``slow`` is killed once, every worker running ``doomed`` twice."""
    course = _course(tmp_path_factory.mktemp("cluster-faults") / "course", timeout=30)
    honest = next(c for c in C.CASES if c.name == "honest")
    students = ["a_honest", "b_honest", "slow", "doomed", "z_honest"]
    for student in students:
        _submit(course, student, honest, double=SLOWER if student in ("slow", "doomed") else None)
    killer = Killer(cluster.address, {"slow": 1, "doomed": 2})
    killer.start()
    try:
        results = grade_parallel(course, [(WEEK, s) for s in students], _options(cluster.address))
    finally:
        killer.stop.set()
        killer.join(timeout=30)
    assert killer.error is None, f"the killer thread failed: {killer.error!r}"
    return SimpleNamespace(course=course, results={r.student: r for r in results}, killed=killer.killed)


def test_killed_worker_loses_nothing_and_every_submission_is_graded_once(faulty_batch: SimpleNamespace) -> None:
    assert faulty_batch.killed.count("slow") == 1, faulty_batch.killed
    for student in ("a_honest", "b_honest", "slow", "z_honest"):
        r = faulty_batch.results[student]
        assert r.error is None and (r.score, r.max_score) == (5.0, 5.0), (student, r.error)
    lines = _journal_lines(faulty_batch.course)
    assert sorted(line["student"] for line in lines) == ["a_honest", "b_honest", "slow", "z_honest"]
    from nbgrader.api import Gradebook

    with Gradebook(faulty_batch.course.db_url) as gb:
        assert len(gb.find_assignment(WEEK).submissions) == 5  # sanitised once each, doomed included


def test_a_submission_that_kills_every_worker_is_graded_failed_and_the_batch_goes_on(
    faulty_batch: SimpleNamespace,
) -> None:
    assert faulty_batch.killed.count("doomed") == 2, faulty_batch.killed
    r = faulty_batch.results["doomed"]
    assert r.error and "died 2 times" in r.error and r.score is None, r.error
    assert all(faulty_batch.results[s].score == 5.0 for s in ("a_honest", "b_honest", "z_honest"))


# ------------------------------------------------------------------ workers without the course environment
def test_workers_without_the_course_environment_are_refused_before_grading(tmp_path: Path) -> None:
    _bwrap_or_skip()
    course = _course(tmp_path / "course")
    _submit(course, "honest", next(c for c in C.CASES if c.name == "honest"))
    fake = tmp_path / "old-site"
    (fake / "nbclient-0.0.1.dist-info").mkdir(parents=True)  # a lab machine with an older nbclient
    (fake / "nbclient-0.0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: nbclient\nVersion: 0.0.1\n"
    )
    with dask_processes(0) as procs:
        procs.add_worker(env={"PYTHONPATH": str(fake)}, name="old-nbclient")
        procs.add_worker("--nthreads", "2", name="two-threads")
        with Client(procs.address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        with pytest.raises(AutograderError) as err:
            grade_parallel(course, [(WEEK, "honest")], _options(procs.address))
    message = str(err.value)
    assert "2 of 2 Dask workers lack the course environment" in message
    assert "nbclient 0.0.1 (pinned 0.11.0)" in message
    assert "2 threads per worker process" in message and "--nthreads 1" in message
    assert _journal_lines(course) == []
    assert not (course.root / "autograded").exists()  # nothing was graded


def test_environment_problems_name_each_difference() -> None:
    expected = {"python": "3.11.9", "packages": {"nbgrader": "0.9.6"}, "engine": "7", "code": "abc"}
    same = {**expected, "sandbox": "bwrap", "isolates_files": True, "nthreads": 1}
    assert environment_problems(expected, same, None) == []
    other = {**same, "python": "3.12.1", "packages": {}, "code": "def", "sandbox": None, "sandbox_error": "no bwrap"}
    problems = "\n".join(environment_problems(expected, other, None))
    for fragment in ("Python 3.12.1", "nbgrader missing (pinned 0.9.6)", "other autograder/labkit code", "no bwrap"):
        assert fragment in problems
    weak = {**same, "sandbox": "none", "isolates_files": False}
    assert environment_problems(expected, weak, None) == ["sandbox none does not hide files"]
    assert environment_problems(expected, weak, "none") == []  # asked for by name


def test_task_keys_name_the_student() -> None:
    assert student_of(task_key(("week03", "alice-b"), "0123456789ab")) == "alice-b"
    assert student_of("finalize-0123") is None


@pytest.mark.parametrize("address", ["tcp://10.0.0.5:8786", "tls://sched:8786", "local:4"])
def test_cluster_addresses_accepted(address: str) -> None:
    assert check_address(address) == address


@pytest.mark.parametrize("address", ["10.0.0.5:8786", "local:0", "local:", "http://x"])
def test_cluster_addresses_refused_with_what_to_use(address: str) -> None:
    with pytest.raises(AutograderError, match="tcp://HOST:8786"):
        check_address(address)


# ------------------------------------------------------------------ a lost scheduler, then resume
def test_lost_scheduler_keeps_the_journal_consistent_and_grade_resumes(cluster: DaskProcesses, tmp_path: Path) -> None:
    course = _course(tmp_path / "course", timeout=30)
    honest = next(c for c in C.CASES if c.name == "honest")
    students = ["p1", "p2", "p3", "p4"]
    for student in students:
        _submit(course, student, honest, double=SLOW if student != "p1" else None)
    with dask_processes(1) as doomed:

        def kill_after_first_line() -> None:
            deadline = time.monotonic() + 120
            while not _journal_lines(course) and time.monotonic() < deadline:
                time.sleep(0.2)
            doomed.kill_scheduler()

        watcher = threading.Thread(target=kill_after_first_line, daemon=True)
        watcher.start()
        with pytest.raises(AutograderError, match="lost the connection to the Dask scheduler"):
            grade_parallel(course, [(WEEK, s) for s in students], _options(doomed.address))
        watcher.join(timeout=30)
    first = _journal_lines(course)
    assert 1 <= len(first) < len(students)
    assert len({line["student"] for line in first}) == len(first)  # no line twice, every line whole JSON
    for line in first:
        assert course.scores(WEEK, line["student"]).score == line["score"] == 5.0
    results = grade_parallel(course, [(WEEK, s) for s in students], _options(cluster.address))
    assert all(r.error is None and r.score == 5.0 for r in results), [r.error for r in results]
    assert {r.student for r in results if r.resumed} == {line["student"] for line in first}
    assert sorted(line["student"] for line in _journal_lines(course)) == students  # each graded exactly once


# ------------------------------------------------------------------ the command line and the progress bar
def test_grade_refuses_a_bad_cluster_address_before_grading(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from autograder.cli import main

    course = _course(tmp_path / "course")
    _submit(course, "honest", next(c for c in C.CASES if c.name == "honest"))
    code = main(["grade", WEEK, "--course-dir", str(course.root), "--cluster", "grading-head:8786"])
    assert code == 2
    assert "is not a Dask scheduler address: use tcp://HOST:8786" in capsys.readouterr().err
    assert _journal_lines(course) == [] and not (course.root / "autograded").exists()


def test_progress_bar_shows_the_mean_time_of_each_phase() -> None:
    from autograder.engine.pool import phase_summary

    sums = {"execute": 16.0, "score": 1.0, "queue": 0.6}
    assert phase_summary(sums, 2) == "queue 0.3 s · execute 8.0 s · score 0.5 s"


# ------------------------------------------------------------------ the same fault in the local pool
def _pool_worker_running_a_kernel() -> int | None:
    """The pid of this process's pool worker that has a kernel below it (None while there is none)."""
    from autograder.engine.reaper import descendants

    for pid in descendants():
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"multiprocessing" in cmd and any(
            b"ipykernel_launcher" in Path(f"/proc/{kid}/cmdline").read_bytes()
            for kid in descendants(pid)
            if Path(f"/proc/{kid}/cmdline").exists()
        ):
            return pid
    return None


def test_local_pool_worker_killed_mid_submission_is_retried_in_a_fresh_pool(tmp_path: Path) -> None:
    _bwrap_or_skip()
    course = _course(tmp_path / "course", timeout=30)
    honest = next(c for c in C.CASES if c.name == "honest")
    for student in ("first", "second"):
        _submit(course, student, honest, double=SLOWER)
    killed: list[int] = []

    def kill_once() -> None:
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            pid = _pool_worker_running_a_kernel()
            if pid is not None:
                time.sleep(1.0)
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.2)

    killer = threading.Thread(target=kill_once, daemon=True)
    killer.start()
    options = EngineOptions(jobs=1, nproc=C.NPROC, progress=False, sandbox="bwrap")
    results = grade_parallel(course, [(WEEK, s) for s in ("first", "second")], options)
    killer.join(timeout=30)
    assert len(killed) == 1
    assert [(r.student, r.error, r.score) for r in results] == [("first", None, 5.0), ("second", None, 5.0)]
    assert sorted(line["student"] for line in _journal_lines(course)) == ["first", "second"]
