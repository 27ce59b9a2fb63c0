"""The student workspace: a copy of notebooks/ that takes course updates without ever touching the student's work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.errors import AutograderError
from autograder.workspace import MANIFEST, sync_workspace


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def course(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    _write(root / "notebooks" / "week01" / "week01_topic.ipynb", '{"v": 1}')
    _write(root / "notebooks" / "week01" / "data" / "deploys.csv", "a,b\n")
    _write(root / "notebooks" / "week01" / ".ipynb_checkpoints" / "week01_topic-checkpoint.ipynb", "{}")
    _write(root / "notebooks" / "README.md", "not a week")
    return root


def test_first_run_copies_every_released_week_file(course: Path) -> None:
    report = sync_workspace(course)
    ws = course / "workspace"
    assert report.workspace == ws
    assert sorted(report.added) == ["week01/data/deploys.csv", "week01/week01_topic.ipynb"]
    assert (ws / "week01" / "week01_topic.ipynb").read_text() == '{"v": 1}'
    assert not (ws / "week01" / ".ipynb_checkpoints").exists()  # Jupyter's autosaves are not course files
    assert not (ws / "README.md").exists()
    files = json.loads((ws / MANIFEST).read_text())["files"]
    assert set(files) == {"week01/data/deploys.csv", "week01/week01_topic.ipynb"}


def test_second_run_without_changes_does_nothing(course: Path) -> None:
    sync_workspace(course)
    report = sync_workspace(course)
    assert report.lines() == [] and report.unchanged == 2


def test_update_replaces_untouched_files_and_keeps_the_students_answers(course: Path) -> None:
    sync_workspace(course)
    ws = course / "workspace"
    release = course / "notebooks"
    # the student answers week 1 and deletes the data file by mistake
    (ws / "week01" / "week01_topic.ipynb").write_text('{"v": 1, "answer": 42}')
    (ws / "week01" / "data" / "deploys.csv").unlink()
    # the course fixes week 1 and releases week 2
    (release / "week01" / "week01_topic.ipynb").write_text('{"v": 2}')
    (release / "week01" / "data" / "deploys.csv").write_text("a,b\n1,2\n")
    _write(release / "week02" / "week02_next.ipynb", '{"w": 2}')

    report = sync_workspace(course)

    assert (ws / "week01" / "week01_topic.ipynb").read_text() == '{"v": 1, "answer": 42}'  # the answer is untouched
    assert (ws / "week01" / "week01_topic.course-update.ipynb").read_text() == '{"v": 2}'
    assert (ws / "week01" / "data" / "deploys.csv").read_text() == "a,b\n1,2\n"
    assert (ws / "week02" / "week02_next.ipynb").read_text() == '{"w": 2}'
    assert report.lines() == [
        "added week02/week02_next.ipynb",
        "restored week01/data/deploys.csv (it was deleted)",
        "kept your week01/week01_topic.ipynb; the course's new version is in week01/week01_topic.course-update.ipynb",
    ]
    # the student's copy stays "changed" on the next run too: never overwritten later
    (release / "week01" / "week01_topic.ipynb").write_text('{"v": 3}')
    again = sync_workspace(course)
    assert again.kept == ["week01/week01_topic.ipynb"]
    assert (ws / "week01" / "week01_topic.ipynb").read_text() == '{"v": 1, "answer": 42}'


def test_an_untouched_file_follows_the_release(course: Path) -> None:
    sync_workspace(course)
    (course / "notebooks" / "week01" / "week01_topic.ipynb").write_text('{"v": 2}')
    report = sync_workspace(course)
    assert report.updated == ["week01/week01_topic.ipynb"] and report.kept == []
    assert (course / "workspace" / "week01" / "week01_topic.ipynb").read_text() == '{"v": 2}'


def test_a_file_that_was_there_before_the_workspace_knew_it_is_kept(course: Path) -> None:
    _write(course / "workspace" / "week01" / "week01_topic.ipynb", '{"mine": true}')
    report = sync_workspace(course)
    assert report.kept == ["week01/week01_topic.ipynb"]
    assert (course / "workspace" / "week01" / "week01_topic.ipynb").read_text() == '{"mine": true}'


def test_bad_input_says_what_to_do(course: Path, tmp_path: Path) -> None:
    with pytest.raises(AutograderError, match="outside .*notebooks"):
        sync_workspace(course, course / "notebooks" / "mine")
    with pytest.raises(AutograderError, match="run: python -m autograder release --all"):
        sync_workspace(tmp_path / "empty")
    sync_workspace(course)
    (course / "workspace" / MANIFEST).write_text("{broken")
    with pytest.raises(AutograderError, match="delete it and run the command again"):
        sync_workspace(course)


def test_cli_verb_with_a_relative_dir(course: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["workspace", "--course-dir", str(course), "--dir", "lab"]) == 0
    assert (course / "lab" / "week01" / "week01_topic.ipynb").exists()
    err = capsys.readouterr().err
    assert "added week01/week01_topic.ipynb" in err and "2 added" in err


def test_the_repository_ignores_the_default_workspace(repo_root: Path) -> None:
    lines = (repo_root / ".gitignore").read_text().splitlines()
    assert "/workspace/" in lines
