"""No orphans when the grader itself dies: after ``kill -9`` of ``python -m autograder grade`` its pool workers,
multiprocessing's resource tracker, the sandboxes and the kernels in them all end (issue: secure by default)."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.engine import reaper
from autograder.samples import fill, write_submission

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent


def _variants() -> dict:
    spec = importlib.util.spec_from_file_location("fixture_builder", HERE / "fixtures" / "build_fixture_course.py")
    assert spec and spec.loader
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    return builder.VARIANTS


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return None if fields[0] == "Z" else fields[19]


def test_kill_9_of_the_grader_leaves_no_process_behind(course_root: Path) -> None:
    loop = _variants()["loop"]
    for student in ("alice", "bob", "carol"):
        nb = fill("week90", loop, root=course_root)
        write_submission(nb, course_root / "submitted" / student / "week90" / "week90_fixture.ipynb")
    cmd = [sys.executable, "-m", "autograder", "grade", "week90", "--course-dir", str(course_root)]
    cmd += ["--jobs", "2", "--timeout", "60"]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    grader = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        seen: dict[int, str | None] = {}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and grader.poll() is None:
            below = reaper.descendants(grader.pid)
            seen.update({pid: _start_time(pid) for pid in below if pid not in seen})
            kernels = [p for p in below if b"ipykernel" in Path(f"/proc/{p}/cmdline").read_bytes()]
            if len(kernels) >= 2:  # both workers are inside a submission's endless loop
                break
            time.sleep(0.2)
        assert grader.poll() is None, "the grader ended before both kernels started"
        assert len(seen) >= 5, f"expected workers, tracker, sandboxes and kernels below the grader: {seen}"
        grader.send_signal(signal.SIGKILL)
        grader.wait(timeout=10)
        deadline = time.monotonic() + 20
        alive = seen
        while time.monotonic() < deadline:
            alive = {pid: t for pid, t in seen.items() if t is not None and _start_time(pid) == t}
            if not alive:
                break
            time.sleep(0.2)
        names = {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:120] for pid in alive if Path(f"/proc/{pid}").exists()}
        assert not alive, f"still running 20 s after kill -9 of the grader: {names}"
    finally:
        if grader.poll() is None:
            grader.kill()
