"""The repository's own pre-commit hooks (.pre-commit-config.yaml) run offline and mean what they say.

Each test copies the config into a scratch git repository (isolated from the host's git config), adds the files
under test and runs the real ``pre-commit`` with the hooks' tools from this environment — no hook repository is
cloned, so a machine without GitHub access gets the same checks as CI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import REPO

from labkit.git import LOCAL_CONFIG

BIN = Path(sys.executable).parent
CONFIG = REPO / ".pre-commit-config.yaml"


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        PRE_COMMIT_HOME=str(home / "pre-commit-cache"),
        HOME=str(home),
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        NO_COLOR="1",
    )
    return env


@pytest.fixture
def scratch(tmp_path: Path):
    repo = tmp_path / "repo"
    repo.mkdir()
    env = _env(tmp_path)

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, timeout=60)

    git("init", "-q", "-b", "main")
    for key, value in LOCAL_CONFIG.items():
        git("config", key, str(value))
    shutil.copy(CONFIG, repo / ".pre-commit-config.yaml")

    def run(*args: str, add: bool = True) -> subprocess.CompletedProcess[str]:
        if add:
            git("add", "-A")
        return subprocess.run(
            [str(BIN / "pre-commit"), "run", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=300
        )

    return repo, run


def test_the_config_clones_nothing() -> None:
    import yaml

    config = yaml.safe_load(CONFIG.read_text())
    assert [r["repo"] for r in config["repos"]] == ["local"], "every hook is local: pre-commit must work offline"
    for hook in config["repos"][0]["hooks"]:
        tool = hook["entry"].split()[0]
        assert (BIN / tool).exists() or tool == "python", f"hook {hook['id']}: {tool} is not in the pinned venv"


def test_every_source_notebook_already_passes_nbstripout(scratch) -> None:
    repo, run = scratch
    for nb in sorted((REPO / "source").glob("week*/*.ipynb")):
        dest = repo / "source" / nb.parent.name / nb.name
        dest.parent.mkdir(parents=True)
        shutil.copy(nb, dest)
    before = {p: p.read_bytes() for p in repo.glob("source/*/*.ipynb")}
    assert before, "no source notebooks copied"
    out = run("nbstripout", "--all-files")
    assert out.returncode == 0, out.stdout + out.stderr
    assert {p: p.read_bytes() for p in before} == before, "nbstripout changed a committed notebook"


def test_nbstripout_strips_outputs_but_keeps_nbgrader_metadata_and_ids(scratch) -> None:
    repo, run = scratch
    src = next(iter(sorted((REPO / "source").glob("week01/*.ipynb"))))
    nb = nbformat.read(src, as_version=4)
    graded = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade"))
    graded.execution_count = 7
    graded.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
    path = repo / "source" / "week01" / src.name
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)

    out = run("nbstripout", "--all-files")
    assert out.returncode == 1, "a notebook with outputs must fail the hook (it was just rewritten)"
    stripped = json.loads(path.read_text())
    cell = next(c for c in stripped["cells"] if c.get("id") == graded.id)
    assert cell["outputs"] == [] and cell["execution_count"] is None
    assert cell["metadata"]["nbgrader"] == graded.metadata["nbgrader"], "nbgrader metadata must survive"
    assert run("nbstripout", "--all-files").returncode == 0, "a second run finds nothing left to strip"


@pytest.mark.parametrize(
    ("message", "ok"),
    [
        ("feat(week03): a forge that rejects unreviewed pushes\n", True),
        ("fix(autograder): say which command to run first\n\nBody text.\n", True),
        ("docs: README screenshot\n", True),
        ("fixed stuff\n", False),
        ("feat(api)!: drop the v1 endpoint\n", True),
        ("Update README.md\n", False),
        ("feat(week03) missing colon\n", False),
        ("wip: not a type this repository uses\n", False),
    ],
)
def test_commit_msg_hook_enforces_conventional_commits(scratch, message: str, ok: bool) -> None:
    repo, run = scratch
    msg = repo.parent / "COMMIT_EDITMSG"
    msg.write_text(message)
    out = run("conventional-commit", "--hook-stage", "commit-msg", "--commit-msg-filename", str(msg), add=False)
    assert (out.returncode == 0) is ok, out.stdout + out.stderr


def test_ruff_hook_catches_an_unused_import(scratch) -> None:
    repo, run = scratch
    shutil.copy(REPO / "pyproject.toml", repo / "pyproject.toml")
    (repo / "good.py").write_text('"""A module."""\n\nVALUE = 1\n')
    assert run("ruff", "--all-files").returncode == 0
    (repo / "bad.py").write_text("import os\n")
    out = run("ruff", "--all-files")
    assert out.returncode == 1 and "F401" in out.stdout, out.stdout


def _hook_args(hook_id: str) -> list[str]:
    import yaml

    hooks = yaml.safe_load(CONFIG.read_text())["repos"][0]["hooks"]
    return next(h for h in hooks if h["id"] == hook_id)["entry"].split()[1:]


#: A scope is one noun of the codebase (Conventional Commits 1.0.0, rule 4): ``week06``, ``labkit``, ``autograder``.
SCOPE = re.compile(r"^[a-z0-9][a-z0-9._/-]*$")
#: landed before this check existed; history on main is never rewritten
LANDED_WITH_A_LIST_SCOPE = ("88b0a30",)


def test_our_own_history_follows_conventional_commits(tmp_path: Path) -> None:
    """Our history is an example students read: every commit on it passes the same commit-msg hook, in-process."""
    from conventional_pre_commit import hook

    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    log = subprocess.run(
        ["git", "log", "-n", "500", "--format=%H%x00%B%x01"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    if log.returncode != 0:
        pytest.skip(f"git log failed: {log.stderr.strip()}")
    args = ["--no-color", *_hook_args("conventional-commit")]
    msg = tmp_path / "msg"
    bad = []
    for entry in (e.strip("\n") for e in log.stdout.split("\x01") if e.strip()):
        sha, body = entry.split("\x00", 1)
        msg.write_text(body + "\n")
        subject = body.splitlines()[0]
        scope = re.match(r"^\w+\(([^)]*)\)", subject)
        one_noun = scope is None or SCOPE.match(scope.group(1)) or sha.startswith(LANDED_WITH_A_LIST_SCOPE)
        if hook.main([*args, str(msg)]) != 0 or not one_noun:
            bad.append((sha[:8], subject))
    assert not bad, f"commits that are not Conventional Commits (a scope is one noun, e.g. week06): {bad[:10]}"
