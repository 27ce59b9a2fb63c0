"""Binder and the student JupyterLab, checked statically: postBuild, jupyter-config/student/, the README badge."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from pathlib import Path

from conftest import REPO

POSTBUILD = REPO / "postBuild"
STUDENT = REPO / "jupyter-config" / "student"
BADGE = re.compile(r"\(https://mybinder\.org/v2/gh/[\w.-]+/[\w.-]+/HEAD\?urlpath=lab/tree/(?P<path>[^)\s]+)\)")


def _postbuild_disables(kind: str) -> list[str]:
    pattern = {
        "server": r"^jupyter server extension disable --sys-prefix (\S+)$",
        "lab": r"^jupyter labextension disable --level=sys_prefix (\S+)$",
    }[kind]
    return re.findall(pattern, POSTBUILD.read_text(encoding="utf-8"), flags=re.M)


def _student_disables(kind: str) -> list[str]:
    if kind == "server":
        data = json.loads((STUDENT / "jupyter_server_config.json").read_text(encoding="utf-8"))
        return [k for k, on in data["ServerApp"]["jpserver_extensions"].items() if on is False]
    data = json.loads((STUDENT / "labconfig" / "page_config.json").read_text(encoding="utf-8"))
    return [k for k, off in data["disabledExtensions"].items() if off is True]


def test_postbuild_is_a_strict_executable_script_that_installs_the_kit_and_the_workspace() -> None:
    text = POSTBUILD.read_text(encoding="utf-8")
    assert os.access(POSTBUILD, os.X_OK), "Binder runs postBuild only when it is executable"
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    assert "pip install --no-deps -e ." in text
    assert text.rstrip().endswith("python -m autograder workspace")


def test_binder_and_dev_sh_lab_disable_the_same_instructor_extensions() -> None:
    for kind in ("server", "lab"):
        assert sorted(_postbuild_disables(kind)) == sorted(_student_disables(kind)), kind
    assert set(_student_disables("lab")) == {
        f"@jupyter/nbgrader:{p}" for p in ("formgrader", "create-assignment", "assignment-list", "course-list")
    }
    assert "validate" not in " ".join(_student_disables("server") + _student_disables("lab"))  # Validate stays


def test_the_disabled_names_exist_in_the_installed_nbgrader() -> None:
    """A renamed plugin in a new nbgrader would be silently left on: fail here instead."""
    for module in _student_disables("server"):
        assert importlib.util.find_spec(module) is not None, module
    static = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyter" / "nbgrader" / "static"
    bundle = "".join(p.read_text(encoding="utf-8", errors="replace") for p in static.glob("*.js"))
    for plugin in _student_disables("lab"):
        assert f'"{plugin}"' in bundle, f"{plugin} is not a plugin of the installed @jupyter/nbgrader"


def test_repo2docker_reads_the_root_config() -> None:
    # with a binder/ folder, repo2docker ignores environment.yml and postBuild at the root
    assert not (REPO / "binder").exists() and not (REPO / ".binder").exists()
    assert (REPO / "environment.yml").is_file()


def test_the_badge_opens_week01_in_the_workspace() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    (path,) = BADGE.findall(readme)
    assert path.startswith("workspace/week01/"), path
    released = REPO / "notebooks" / path.removeprefix("workspace/")
    assert released.is_file(), f"the badge opens {path}, but {released} is not in the release"


def test_dev_sh_lab_and_instructor_start_the_right_jupyter() -> None:
    dev = (REPO / "dev.sh").read_text(encoding="utf-8")
    lab = dev[dev.index("  lab)") : dev.index("  instructor)")]
    assert '"$PY" -m autograder workspace' in lab and "--ServerApp.root_dir=workspace" in lab
    assert "jupyter-config/student" in lab
    instructor = dev[dev.index("  instructor)") :].split(";;")[0]
    assert "mkdir -p .exchange" in instructor and "--ServerApp.root_dir=." in instructor
    assert 'if [ "$(id -u)" = 0 ]; then echo --allow-root; fi' in dev  # only as root
    assert "$(allow_root)" in lab and "$(allow_root)" in instructor
