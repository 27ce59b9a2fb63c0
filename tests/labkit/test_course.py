import pytest

from labkit import course


def test_setup_returns_week_info_and_prints_banner(capsys):
    info = course.setup(3)
    assert info.assignment == "week03"
    assert info.git is not None
    assert "Week 03 ready" in capsys.readouterr().out


@pytest.mark.parametrize("bad", [0, 25, "1", 1.0])
def test_setup_rejects_bad_week(bad):
    with pytest.raises(ValueError, match="week must be an int"):
        course.setup(bad)


def test_setup_without_git_on_path_says_how_to_fix(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RuntimeError, match="install git"):
        course.setup(1)
    assert course.setup(1, needs_git=False, quiet=True).git is None


def test_course_repo_root_found_from_a_subfolder(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "source" / "week01").mkdir(parents=True)
    assert course.course_repo_root(tmp_path / "source" / "week01") == tmp_path.resolve()


def test_course_repo_root_is_none_outside_a_checkout(tmp_path):
    assert course.course_repo_root(tmp_path) is None
