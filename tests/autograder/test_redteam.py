"""Red team: malicious and broken submissions against the sandboxed grading engine.

One batch (the red-team fixture course, ``tests/autograder/redteam/``) is graded once per module with two workers; every
case in ``tests/autograder/redteam/cases.py`` states the score it must get and what the tampering report must say. The
attacks marked ``fools_nbgrader`` are also run through plain nbgrader, which must be fooled — so each attack
is known to be real. Further down: resuming an interrupted run, and unit tests of the scan, the sandbox
command and the limits.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from redteam import cases as C  # tests/autograder/redteam/ (pytest puts this folder on sys.path)
from redteam.build_course import HIDDEN_MARKER

from autograder import guard, scan
from autograder import sandbox as sbx
from autograder.cli import main
from autograder.course import Course
from autograder.engine import EngineOptions, Journal, grade_parallel, locked_cell_changes
from autograder.feedback import feedback
from autograder.limits import Limits
from autograder.samples import fill, write_submission

HERE = Path(__file__).resolve().parent
REDTEAM = HERE / "redteam"
WEEK = "week91"
NB_NAME = "week91_redteam.ipynb"


def _submission(root: Path, case: C.Case) -> nbformat.NotebookNode:
    answers = {
        "w91_redteam_double": case.double.replace("__COURSE_ROOT__", str(root)),
        "w91_redteam_mean": case.mean.replace("__COURSE_ROOT__", str(root)),
    }
    nb = fill(WEEK, answers, root=root)
    if case.edit:
        case.edit(nb)
    return nb


def _write_bad_inputs(root: Path) -> None:
    sub = root / "submitted"
    good = nbformat.writes(fill(WEEK, root=root))
    (sub / "corrupt_json" / WEEK).mkdir(parents=True)
    (sub / "corrupt_json" / WEEK / NB_NAME).write_text(good[: len(good) // 2], encoding="utf-8")
    (sub / "old_nbformat" / WEEK).mkdir(parents=True)
    v3 = {"metadata": {}, "nbformat": 3, "nbformat_minor": 0, "worksheets": []}
    (sub / "old_nbformat" / WEEK / NB_NAME).write_text(json.dumps(v3), encoding="utf-8")
    write_submission(fill(WEEK, root=root), sub / "renamed" / WEEK / "week91_redteam (1).ipynb")
    (sub / "not_utf8" / WEEK).mkdir(parents=True)
    (sub / "not_utf8" / WEEK / NB_NAME).write_bytes(good.encode().replace(b"Week 91", b"Week \xe991", 1))
    huge = fill(WEEK, root=root)
    huge.cells.append(nbformat.v4.new_markdown_cell("x" * (2 * 1024 * 1024)))
    write_submission(huge, sub / "huge" / WEEK / NB_NAME)


#: every backend the suite can run here; ``bwrap`` is what a fresh install uses (the wheel's binary)
BACKENDS = ["bwrap", "user", "none"]

#: this module's own range of sandbox uids: other gradings of the suite (another xdist worker, another grader on
#: the machine) use the default range, so "no process of these uids survives" is about this batch alone
REDTEAM_BASE_UID = 64600


def runs_on(case: C.Case, sandbox: sbx.Sandbox) -> str | None:
    """None when ``case`` may be graded on ``sandbox`` at all, else why not (it would harm the machine)."""
    if case.needs_network_isolation and not sandbox.isolates_network:
        return f"sandbox {sandbox.backend} has no network isolation: no off-machine connection is tried"
    if case.needs_process_cap and sandbox.base_uid is None and os.geteuid() == 0:
        return f"sandbox {sandbox.backend} runs kernels as root: RLIMIT_NPROC cannot cap a fork bomb"
    return None


@pytest.fixture(scope="module", params=BACKENDS)
def redteam(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The red-team batch graded once per backend, two workers, exactly as ``grade --sandbox BACKEND`` does."""
    backend = request.param
    root = tmp_path_factory.mktemp(f"redteam-{backend}") / "course"
    try:
        sandbox = sbx.choose(backend, hidden=[root], slots=2, base_uid=REDTEAM_BASE_UID)
    except sbx.SandboxUnavailable as exc:
        pytest.skip(f"sandbox {backend} cannot run here: {exc}")
    shutil.copytree(REDTEAM / "course" / "source", root / "source")
    course = Course(root, timeout=C.CELL_TIMEOUT)
    course.release(WEEK)
    cases = [c for c in C.CASES if runs_on(c, sandbox) is None]
    for case in cases:
        write_submission(_submission(root, case), root / "submitted" / case.name / WEEK / NB_NAME)
    _write_bad_inputs(root)
    students = [c.name for c in cases] + [b[0] for b in C.BAD_INPUTS]
    options = EngineOptions(
        jobs=2, nproc=C.NPROC, progress=False, sandbox=backend, max_notebook_mb=1, base_uid=REDTEAM_BASE_UID
    )
    started = time.monotonic()
    results = grade_parallel(course, [(WEEK, s) for s in students], options)
    elapsed = time.monotonic() - started
    return SimpleNamespace(
        course=course,
        root=root,
        results={r.student: r for r in results},
        sandbox=sandbox,
        backend=backend,
        cases={c.name for c in cases},
        elapsed=elapsed,
    )


pytestmark = pytest.mark.slow


# ------------------------------------------------------------------ every case: score + report
@pytest.mark.parametrize("case", C.CASES, ids=[c.name for c in C.CASES])
def test_case_scores_as_expected_and_reports_tampering(redteam: SimpleNamespace, case: C.Case) -> None:
    why = runs_on(case, redteam.sandbox)
    if why:
        pytest.skip(why)
    if case.needs_file_isolation and not redteam.sandbox.isolates_files:
        pytest.skip(f"sandbox {redteam.backend} does not hide the course folder, /proc and /tmp (graded anyway)")
    r = redteam.results[case.name]
    case.check(r)
    assert r.sandbox == redteam.sandbox.backend


def test_batch_runs_in_parallel_and_says_which_sandbox(redteam: SimpleNamespace) -> None:
    results = redteam.results.values()
    assert {r.sandbox for r in results} == {redteam.sandbox.backend}
    graded = [r for r in results if not r.error and not r.resumed]
    assert len(graded) == len(redteam.cases)
    # two workers: the summed execute time exceeds the batch's wall time (no timing assertion on speed); without
    # a sandbox that hides the course folder, scoring waits for every kernel, so the wall time holds it too
    if redteam.sandbox.isolates_files:
        assert sum(r.timings["execute"] for r in graded) > redteam.elapsed * 0.9
    assert all({"queue", "execute", "score"} <= set(r.timings) for r in graded)


@pytest.mark.parametrize("student,what,fragment", C.BAD_INPUTS, ids=[b[0] for b in C.BAD_INPUTS])
def test_bad_input_is_an_error_for_that_submission_only(
    redteam: SimpleNamespace, student: str, what: str, fragment: str
) -> None:
    r = redteam.results[student]
    assert r.error and fragment in r.error, f"{what}: {r.error!r}"
    assert "\n" not in r.error and r.score is None
    assert redteam.results["honest"].score == 5.0


def test_no_submission_changes_another_students_score(redteam: SimpleNamespace) -> None:
    """On every backend, ``--sandbox none`` included: the gradebook a kernel could reach is put back first."""
    from nbgrader.api import Gradebook

    with Gradebook(redteam.course.db_url) as gb:
        assert gb.find_assignment(WEEK).max_score == 5.0
        for honest in ("honest", "honest_libraries", "victim"):
            assert gb.find_submission(WEEK, honest).score == 5.0
    for honest in ("honest", "honest_libraries", "victim"):
        assert (redteam.results[honest].score, redteam.results[honest].max_score) == (5.0, 5.0)
    if not redteam.sandbox.isolates_files:  # the attacks really ran: they reached the files and wrote them
        assert redteam.results["write_gradebook"].score == 5.0
        victim = redteam.root / "submitted" / "victim" / WEEK / NB_NAME
        assert victim.read_text().startswith("{ corrupted")


def test_course_folder_untouched_by_writers(redteam: SimpleNamespace) -> None:
    if not redteam.sandbox.isolates_files:
        pytest.skip(f"sandbox {redteam.backend}: the course folder is visible without bwrap or a container")
    assert not (redteam.root / "PWNED").exists()
    victim = redteam.root / "submitted" / "victim" / WEEK / NB_NAME
    nbformat.validate(nbformat.read(victim, as_version=4))  # corrupt_other could not overwrite it


def test_fork_bomb_is_bounded_by_the_process_cap(redteam: SimpleNamespace) -> None:
    if "fork_bomb" not in redteam.cases or redteam.sandbox.base_uid is None:
        pytest.skip(f"sandbox {redteam.backend}: no dedicated uid, so no exact RLIMIT_NPROC to check against")
    nb = nbformat.read(redteam.root / "autograded" / "fork_bomb" / WEEK / NB_NAME, as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    count = int(re.search(r"processes visible after the fork bomb: (\d+)", text).group(1))
    assert 10 < count <= C.NPROC


def test_no_sandbox_process_survives_the_batch(redteam: SimpleNamespace) -> None:
    daemons = [p for p in _cmdlines() if C.DAEMON_MARKER in p[1]]
    assert not daemons, f"the daemon case left processes behind: {daemons}"
    if redteam.sandbox.base_uid is None:
        return
    left = {uid: sbx.processes_of(uid) for uid in range(redteam.sandbox.base_uid, redteam.sandbox.base_uid + 4)}
    assert not any(left.values()), left


def _cmdlines() -> list[tuple[int, str]]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                raw = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            out.append((int(entry), raw.replace(b"\0", b" ").decode(errors="replace")))
    return out


def test_output_flood_is_capped_in_the_graded_notebook(redteam: SimpleNamespace) -> None:
    path = redteam.root / "autograded" / "output_flood" / WEEK / NB_NAME
    assert path.stat().st_size < 3 * 1024 * 1024
    assert "output beyond 1024 KiB was dropped" in path.read_text(encoding="utf-8")


def test_graded_notebook_records_sandbox_and_tampering(redteam: SimpleNamespace) -> None:
    nb = nbformat.read(redteam.root / "autograded" / "checks_monkeypatch" / WEEK / NB_NAME, as_version=4)
    meta = nb.metadata["autograder"]
    assert meta["sandbox"].startswith(redteam.sandbox.backend)
    assert any("labkit.checks.equal" in t for t in meta["tampering"])
    guard_outputs = [o for c in nb.cells for o in c.get("outputs", []) if guard.GUARD_MIME in o.get("data", {})]
    assert guard_outputs == []  # the guard's answers never reach the notebook


def test_feedback_gives_reasons_and_never_hidden_code(redteam: SimpleNamespace) -> None:
    students = ["kernel_suicide", "checks_monkeypatch", "unstoppable_loop", "guard_bypass"]
    written = feedback(redteam.course, WEEK, students)
    assert sorted(written) == sorted(students)
    pages = {s: html.unescape(re.sub(r"<[^>]+>", "", written[s][0].read_text(encoding="utf-8"))) for s in students}
    for text in pages.values():
        assert HIDDEN_MARKER not in text and "BEGIN HIDDEN TESTS" not in text
    assert "KernelDied" in pages["kernel_suicide"] and "kernel died" in pages["kernel_suicide"]
    assert "did not stop when interrupted" in pages["unstoppable_loop"]
    assert "labkit.checks.equal" in pages["checks_monkeypatch"]  # the tampering note
    assert "IntegrityGuardMissing" in pages["guard_bypass"]


def test_rerun_resumes_from_the_journal_and_logs_the_report(
    redteam: SimpleNamespace, capsys: pytest.CaptureFixture[str]
) -> None:
    root = redteam.root
    code = main(
        [
            "grade",
            WEEK,
            "--course-dir",
            str(root),
            "--timeout",
            str(C.CELL_TIMEOUT),
            "--jobs",
            "2",
            "--student",
            "checks_monkeypatch",
            "--student",
            "honest",
            "--sandbox",
            redteam.backend,
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert "2 kept from an earlier run" in err
    assert "tampering: before w91_redteam_double_visible: restored labkit.checks.equal" in err
    journal = Journal(redteam.course, WEEK).entries()
    assert {s for s in journal} == redteam.cases


def test_engine_nbgrader_is_the_serial_reference(redteam: SimpleNamespace, capsys: pytest.CaptureFixture[str]) -> None:
    root = redteam.root
    args = ["grade", WEEK, "--course-dir", str(root), "--timeout", str(C.CELL_TIMEOUT), "--student", "honest"]
    args += ["--sandbox", redteam.backend]
    assert main([*args, "--engine", "nbgrader"]) == 0
    err = capsys.readouterr().err
    assert "honest: 5/5" in err and "sandbox" not in err
    assert "AUTOGRADER_ENGINE" not in os.environ  # the CLI flag does not leak into later calls
    assert main([*args, "--regrade"]) == 0
    err = capsys.readouterr().err
    assert f"sandbox {redteam.backend}" in err
    assert "0 kept from an earlier run" in err and "honest: 5/5" in err


def test_the_attacks_are_real_plain_nbgrader_is_fooled(tmp_path: Path) -> None:
    """The same submissions through ``nbgrader autograde`` (serial, no sandbox, no guard) get full marks."""
    root = tmp_path / "course"
    shutil.copytree(REDTEAM / "course" / "source", root / "source")
    course = Course(root, timeout=C.CELL_TIMEOUT)
    course.release(WEEK)
    write_submission(fill(WEEK, root=root), root / "submitted" / "honest" / WEEK / NB_NAME)  # read_other's target
    fooled = [c for c in C.CASES if c.fools_nbgrader]
    assert len(fooled) >= 10
    for case in fooled:
        write_submission(_submission(root, case), root / "submitted" / case.name / WEEK / NB_NAME)
    for case in fooled:
        r = course.autograde(WEEK, case.name)
        assert r.score == 5.0 > case.expected, f"{case.name} did not fool nbgrader: {r.score} {r.error}"


# ------------------------------------------------------------------ resume after an interruption
def test_interrupted_run_resumes_without_grading_twice(
    course: Course, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("fixture_builder", HERE / "fixtures" / "build_fixture_course.py")
    assert spec and spec.loader
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    variants = builder.VARIANTS
    root = course.root
    sub = root / "submitted"
    students = ["alice", "bob", "carol", "dave"]
    for s in students:
        answers = variants["loop"] if s in ("carol", "dave") else None
        write_submission(fill("week90", answers, root=root), sub / s / "week90" / "week90_fixture.ipynb")
    journal = Journal(course, "week90")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    cmd = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        "week90",
        "--course-dir",
        str(root),
        "--jobs",
        "1",
        "--timeout",
        "2",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(journal.entries()) < 1 and proc.poll() is None:
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    done_first = set(journal.entries())
    assert 1 <= len(done_first) < len(students)
    lines_before = journal.path.read_text().count("\n")

    results = grade_parallel(
        course.__class__(root, timeout=2),
        [("week90", s) for s in students],
        EngineOptions(jobs=2, progress=True),
    )
    by = {r.student: r for r in results}
    assert re.search(r"grade week90: 100%.*4/4", capsys.readouterr().err)  # the tqdm progress bar
    assert {s for s, r in by.items() if r.resumed} == done_first
    assert all(r.error is None for r in results)
    assert (by["alice"].score, by["bob"].score, by["carol"].score, by["dave"].score) == (5.0, 5.0, 2.0, 2.0)
    lines = journal.path.read_text().splitlines()
    assert len(lines) == lines_before + len(students) - len(done_first)  # each graded exactly once
    assert sorted(json.loads(line)["student"] for line in lines) == students

    # a changed submission is graded again; an unchanged one is not
    write_submission(
        fill("week90", variants["wrong_mean"], root=root), sub / "alice" / "week90" / "week90_fixture.ipynb"
    )
    again = {
        r.student: r
        for r in grade_parallel(
            Course(root, timeout=2),
            [("week90", "alice"), ("week90", "bob")],
            EngineOptions(jobs=1, progress=False),
        )
    }
    assert not again["alice"].resumed and again["alice"].score == 3.0
    assert again["bob"].resumed and again["bob"].score == 5.0


# ------------------------------------------------------------------ units (no kernels)
def test_static_scan_flags_tampering_primitives_and_not_honest_code() -> None:
    flagged = {
        "import sys\nsys.settrace(lambda *a: None)": "sys.settrace",
        "get_ipython().ast_transformers.append(x)": "AST transformers",
        "get_ipython().events.register('pre_run_cell', f)": "registers an IPython event",
        "checks.equal = lambda *a, **k: None": "monkeypatches checks.equal",
        "import ctypes": "ctypes",
        "class A:\n    def __eq__(self, o):\n        return True": "always-equal",
        "import os\nos._exit(0)": "os._exit",
        "import sys\nsys.modules['labkit.checks'] = None": "sys.modules",
    }
    for source, fragment in flagged.items():
        found = " | ".join(str(f) for f in scan.scan_source(source, {"checks"}))
        assert fragment in found, (source, found)
    honest = "import pandas as pd\nfrom labkit import git\ndef mean(v):\n    return sum(v) / len(v)\n"
    honest += "%time mean([1])\n!ls"
    assert scan.scan_source(honest, {"checks"}) == []
    assert scan.scan_source("def broken(:\n", set()) == []  # a syntax error is the student's problem


def test_imported_modules_of_instructor_cells() -> None:
    names = scan.imported_modules(["import pandas as pd\nfrom labkit import checks, git", "%matplotlib inline"])
    assert names[:4] == ["pandas", "labkit", "labkit.checks", "labkit.git"]
    assert scan.bound_module_names(["import pandas as pd\nfrom labkit import checks"]) == {
        "pd",
        "checks",
    }


def test_guard_proof_depends_on_key_and_nonce() -> None:
    assert guard.proof(b"k1", "n") == guard.proof(b"k1", "n")
    assert guard.proof(b"k1", "n") != guard.proof(b"k2", "n")
    assert guard.proof(b"k1", "n") != guard.proof(b"k1", "m")


def test_locked_cell_changes_name_every_difference(released_fixture: Path) -> None:
    released = nbformat.read(released_fixture / "notebooks" / "week90" / "week90_fixture.ipynb", as_version=4)
    nb = nbformat.read(released_fixture / "notebooks" / "week90" / "week90_fixture.ipynb", as_version=4)
    assert locked_cell_changes(nb, released) == []
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid == "w90_fixture_double_visible":
            cell.source = "pass"
        if gid == "w90_fixture_mean_visible":
            cell.metadata["nbgrader"]["points"] = 50
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "w90_setup"]
    changes = "\n".join(locked_cell_changes(nb, released))
    assert "deleted locked cell w90_setup" in changes
    assert "edited locked cell w90_fixture_double_visible" in changes
    assert "changed the points of w90_fixture_mean_visible from 1 to 50" in changes


def _launcher_config(argv: list[str]) -> dict:
    return next(json.loads(a) for a in argv if a.startswith('{"rlimits"'))


def _sandbox(backend: str, hidden: str, expose: tuple[str, ...]) -> sbx.Sandbox:
    return sbx.Sandbox(
        backend=backend,
        detail="test",
        python="/venv/bin/python",
        expose=expose,
        hidden=(hidden,),
        base_uid=64100,
        root=True,
        bwrap="/usr/bin/bwrap",
    )


def test_bwrap_command_hides_the_course_and_the_network(tmp_path: Path) -> None:
    work = tmp_path / "ag-1"
    paths = {n: work / n for n in ("run", "home", "tmp", "guard", "etc")}
    limits = Limits(cell_timeout=5)
    sb = _sandbox("bwrap", "/srv/course", ("/opt/python", "/srv/venv", "/srv/course/labkit"))
    argv = sb.command(
        ["python", "-m", "ipykernel_launcher"],
        paths=paths,
        slot=1,
        limits=limits,
        env={"HOME": str(paths["home"])},
    )
    text = " ".join(argv)
    for flag in ("--unshare-net", "--unshare-pid", "--die-with-parent", "--clearenv"):
        assert flag in argv
    assert "--bind /srv/course /srv/course" not in text and "--ro-bind /srv/course /srv/course" not in text
    assert f"--bind {work} {work}" in text and "--ro-bind /srv/course/labkit /srv/course/labkit" in text
    launcher = _launcher_config(argv)
    assert launcher["uid"] == 64101 and launcher["nproc"] == limits.nproc
    assert launcher["rlimits"]["RLIMIT_AS"] == limits.memory_mb * 1024 * 1024
    # a course root inside a folder that is bound as a whole is covered by an empty tmpfs
    inside = _sandbox("bwrap", "/srv/venv/course", ("/opt/python", "/srv/venv"))
    argv = inside.command(["python"], paths=paths, slot=0, limits=limits, env={})
    assert "--tmpfs /srv/venv/course" in " ".join(argv)


def test_user_and_none_backends_warn_and_limit(tmp_path: Path) -> None:
    paths = {n: tmp_path / n for n in ("run", "home", "tmp", "guard", "etc")}
    limits = Limits(cell_timeout=5, memory_mb=512)
    user = _sandbox("user", "/srv/course", ())
    argv = user.command(["python"], paths=paths, slot=2, limits=limits, env={})
    assert argv[:3] == ["/venv/bin/python", "-I", "-c"] and _launcher_config(argv)["uid"] == 64102
    assert "chmod o-rwx" in user.warnings()[0]
    none = sbx.Sandbox(
        backend="none", detail="t", python="/venv/bin/python", expose=(), hidden=(), base_uid=None, root=False
    )
    assert "NO SANDBOX" in none.warnings()[0]
    config = _launcher_config(none.command(["python"], paths=paths, slot=0, limits=limits, env={}))
    assert config["rlimits"]["RLIMIT_AS"] == 512 * 1024 * 1024 and "uid" not in config


def test_limits_from_env_and_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOGRADER_MEMORY_MB", "1024")
    limits = Limits.from_env(7, nproc=64)
    assert (limits.cell_timeout, limits.memory_mb, limits.nproc, limits.total_timeout) == (7, 1024, 64, 300)
    monkeypatch.setenv("AUTOGRADER_MEMORY_MB", "lots")
    with pytest.raises(ValueError, match="AUTOGRADER_MEMORY_MB must be a whole number"):
        Limits.from_env(7)
    with pytest.raises(ValueError, match="unknown sandbox"):
        sbx.choose("chroot")


def test_journal_ignores_a_line_cut_by_a_crash(tmp_path: Path) -> None:
    course = SimpleNamespace(root=tmp_path)
    journal = Journal(course, "week90")  # type: ignore[arg-type]
    journal.append({"student": "a", "score": 1})
    with journal.path.open("a") as f:
        f.write('{"student": "b", "sco')
    assert set(journal.entries()) == {"a"}


def test_user_backend_needs_an_interpreter_other_users_can_reach(tmp_path: Path) -> None:
    private = tmp_path / "private"
    (private / "venv").mkdir(parents=True)
    (private / "venv").chmod(0o755)
    private.chmod(0o700)
    tmp_path.chmod(0o755)
    try:
        assert not sbx.world_reachable(str(private / "venv"))
        private.chmod(0o711)
        assert sbx.world_reachable(str(private / "venv")) == all(
            p.stat().st_mode & 0o001 for p in (private / "venv").parents
        )
    finally:
        private.chmod(0o755)
