"""The course's nbgrader configuration: one source of truth for the CLI and plain ``nbgrader`` commands."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from traitlets.config.loader import PyFileConfigLoader

from autograder import config as cfg
from autograder.cli import main
from autograder.course import Course


def test_build_config_layout_and_grading_options(tmp_path: Path) -> None:
    c = cfg.build_config(tmp_path, timeout=42)
    cd = c.CourseDirectory
    assert cd.root == str(tmp_path.resolve())
    assert (cd.source_directory, cd.release_directory) == ("source", "notebooks")
    assert (cd.submitted_directory, cd.autograded_directory, cd.feedback_directory) == (
        "submitted",
        "autograded",
        "feedback",
    )
    assert cd.db_url == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}"
    assert cd.course_id == "devops-tbd"
    assert c.ExecutePreprocessor.timeout == 42
    assert c.OverwriteCells.add_missing_cells is True
    assert c.ClearSolutions.code_stub == {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    assert "autograder.preprocessors.RestoreMissingCells" in c.Autograde.sanitize_preprocessors


def test_timeout_default_env_and_bad_value(monkeypatch: pytest.MonkeyPatch) -> None:
    from autograder import limits

    monkeypatch.delenv(limits.TIMEOUT_ENV, raising=False)
    assert limits.cell_timeout() == 60
    monkeypatch.setenv(limits.TIMEOUT_ENV, "7")
    assert limits.cell_timeout() == 7
    assert limits.cell_timeout(3) == 3
    monkeypatch.setenv(limits.TIMEOUT_ENV, "soon")
    with pytest.raises(ValueError, match="whole number of seconds"):
        limits.cell_timeout()
    with pytest.raises(ValueError, match="positive"):
        limits.cell_timeout(0)


def test_nbgrader_config_file_agrees_with_build_config(repo_root: Path) -> None:
    loaded = PyFileConfigLoader("nbgrader_config.py", path=str(repo_root)).load_config()
    assert loaded == cfg.build_config(repo_root)


def test_execute_preprocessor_sees_the_timeout(tmp_path: Path) -> None:
    from nbgrader.preprocessors import Execute

    assert Execute(config=cfg.build_config(tmp_path, timeout=9)).timeout == 9


@pytest.mark.slow
def test_plain_nbgrader_command_releases_the_same_bytes(
    released_fixture: Path, tmp_path: Path, repo_root: Path
) -> None:
    """``nbgrader generate_assignment`` (reading nbgrader_config.py) == ``python -m autograder release``."""
    root = tmp_path / "plain"
    shutil.copytree(released_fixture / "source", root / "source")
    shutil.copy(repo_root / "nbgrader_config.py", root / "nbgrader_config.py")
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PYTHONPATH": str(repo_root), "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        [str(bindir / "nbgrader"), "generate_assignment", "week90", "--force"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    ours = released_fixture / "notebooks" / "week90" / "week90_fixture.ipynb"
    theirs = root / "notebooks" / "week90" / "week90_fixture.ipynb"
    assert theirs.read_bytes() == ours.read_bytes()


def test_cli_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("release", "selfcheck", "collect", "grade", "feedback", "export", "demo"):
        assert command in out


def test_missing_course_dir_is_a_friendly_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["release", "--all", "--course-dir", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err


def test_course_rejects_bad_timeout(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Course(tmp_path, timeout=-1)
