"""The student and instructor flows in a real browser: JupyterLab and formgrader served from 127.0.0.1.

What a new student does: open week 1 in their workspace, Run All with an unanswered exercise and a wrong answer,
read the ✘ messages, press Validate. What a new instructor does: open formgrader on the course. Playwright drives
a system Chromium (``executable_path``: the browser builds Playwright downloads are not available offline); with
no browser on the machine every test here is skipped with that reason (``.ci/run`` installs Debian's
``chromium`` when it can).

Servers are bounded and always stopped: a free port on 127.0.0.1, a random token, no browser of their own,
kernels shut down through the API and the server's process group terminated (then killed) in ``finally``.

``UPDATE_SCREENSHOTS=1`` also writes the README's picture, ``docs/images/week01-jupyterlab.png``.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import REPO

WEEK = "week01"
NOTEBOOK = "week01_devops_culture_dora.ipynb"
SCREENSHOT = REPO / "docs" / "images" / "week01-jupyterlab.png"
#: Chromium as root in a container: no sandbox, no GPU, nothing that phones home
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: a wrong answer a student could write: every metric is "low", so the first visible tier check fails
WRONG_TIERS = """TIERS = ["elite", "high", "medium", "low"]


def dora_tier(metric: str, value) -> str:
    return "low"


def overall_tier(tiers: dict) -> str:
    return "low"
"""
SERVER_START_S = 60
RUN_ALL_S = 120
VALIDATE_S = 120

pytestmark = pytest.mark.timeout(300)


def find_chromium() -> str | None:
    """``$CHROMIUM``, else a Chromium or Chrome on ``PATH`` (Debian's package installs ``/usr/bin/chromium``)."""
    env = os.environ.get("CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium, or set CHROMIUM=/path/to/chrome)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed: bash dev.sh setup")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def jupyter_lab(root: Path, home: Path, *, student: bool) -> Iterator[tuple[str, str]]:
    """JupyterLab on ``root`` as ``bash dev.sh lab`` (student) or ``bash dev.sh instructor`` starts it."""
    port, token = _free_port(), secrets.token_hex(16)
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_", "NBGRADER_"))}
    env.pop("MPLBACKEND", None)  # inline plots, as in dev.sh
    env["JUPYTER_RUNTIME_DIR"] = str(home / "runtime")
    if student:
        env["JUPYTER_CONFIG_PATH"] = str(REPO / "jupyter-config" / "student")
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.workspaces_dir={home / 'lab-workspaces'}",
        f"--LabApp.user_settings_dir={home / 'lab-settings'}",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    # no "get notified about Jupyter news?" toast over the page (and no request for it)
    notification = home / "lab-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text('{"fetchNews": "false", "checkForUpdates": false}', encoding="utf-8")
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"token {token}"}
    with open(home / "server.log", "wb") as log:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + SERVER_START_S
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{(home / 'server.log').read_text()}")
                try:
                    if httpx.get(f"{url}/api/status", headers=headers, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    log_text = (home / "server.log").read_text()
                    pytest.fail(f"jupyter lab did not answer in {SERVER_START_S} s:\n{log_text}")
                time.sleep(0.3)
            yield url, token
        finally:
            try:  # kernels run in their own sessions: shut them down before the server
                for kernel in httpx.get(f"{url}/api/kernels", headers=headers, timeout=5).json():
                    httpx.delete(f"{url}/api/kernels/{kernel['id']}", headers=headers, timeout=15)
            except (httpx.HTTPError, ValueError):
                pass
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)


@contextmanager
def browser_page(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


@pytest.fixture(scope="module")
def student_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A student's workspace (``python -m autograder workspace``) with week 1 blank but one wrong answer."""
    from autograder.samples import fill, write_submission
    from autograder.workspace import sync_workspace

    ws = tmp_path_factory.mktemp("student") / "workspace"
    sync_workspace(REPO, ws)
    blank = {gid: None for gid in _solution_ids()}
    nb = fill(WEEK, {**blank, "w01_dora_tiers": WRONG_TIERS}, root=REPO)
    write_submission(nb, ws / WEEK / NOTEBOOK)
    return ws


def _solution_ids() -> list[str]:
    import nbformat

    nb = nbformat.read(REPO / "notebooks" / WEEK / NOTEBOOK, as_version=4)
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]


CURRENT = "window.jupyterapp.shell.currentWidget"
KERNEL_IDLE = f"""() => {{
  const w = {CURRENT};
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle' && !w.sessionContext.pendingInput;
}}"""
#: every code cell has an execution count and the kernel is idle: Run All went past every error
ALL_RAN = f"""() => {{
  const w = {CURRENT};
  const code = w.content.widgets.filter(c => c.model.type === 'code');
  return code.every(c => c.model.executionCount !== null) && w.sessionContext.session.kernel.status === 'idle';
}}"""
CELL_OUTPUTS = f"""() => {CURRENT}.content.widgets.map(c => ({{
  type: c.model.type,
  source: c.model.sharedModel.getSource(),
  outputs: c.model.type === 'code' ? c.model.outputs.toJSON() : [],
}}))"""


def _error_text(output: dict[str, Any]) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(output.get("traceback", [])))


def test_student_runs_all_sees_short_messages_and_validate_reports_the_failure(
    chromium: str, student_workspace: Path, tmp_path: Path
) -> None:
    server = jupyter_lab(student_workspace, tmp_path / "home", student=True)
    with server as (url, token), browser_page(chromium) as page:
        page.goto(f"{url}/lab/tree/{WEEK}/{NOTEBOOK}?token={token}")
        page.wait_for_function(KERNEL_IDLE, timeout=SERVER_START_S * 1000)

        # the student Jupyter has Validate but none of the instructor or exchange panels (jupyter-config/student/)
        plugins = page.evaluate(
            """() => ['validate-assignment', 'formgrader', 'create-assignment', 'assignment-list', 'course-list']
                 .map(p => window.jupyterapp.hasPlugin('@jupyter/nbgrader:' + p))"""
        )
        assert plugins == [True, False, False, False, False]
        for path in ("/formgrader", "/assignments"):
            assert httpx.get(f"{url}{path}", params={"token": token}, timeout=10).status_code == 404, path

        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function(ALL_RAN, timeout=RUN_ALL_S * 1000, polling=500)
        cells = page.evaluate(CELL_OUTPUTS)

        # JupyterLab 4 honours the release's `raises-exception` tag: the last code cell ran
        code = [c for c in cells if c["type"] == "code"]
        assert code[-1]["outputs"] or code[-1]["source"].strip()
        errors = [(c["source"], o) for c in code for o in c["outputs"] if o["output_type"] == "error"]
        assert errors, "a blank week 1 must show its unanswered exercises"
        for source, out in errors:  # every error is a short ✘ message, none a stack of frames
            text = _error_text(out)
            assert text.startswith("✘ "), f"not a ✘ message for {source[:60]!r}:\n{text}"
            assert "Traceback" not in text and len(text.splitlines()) <= 4, text
        first = _error_text(errors[0][1])
        # the week's first exercise (its warm-up), whatever it is called, says it is not answered yet
        assert re.match(r"✘ This exercise is not answered yet: `\w+` still raises NotImplementedError", first), first
        tiers = next(o for s, o in errors if s.startswith('checks.equal(dora_tier("deployment_frequency", 3.0)'))
        assert tiers["ename"] == "CheckFailed"
        assert _error_text(tiers).startswith("✘ dora_tier for 3 deployments a day is 'low', expected 'elite'.")

        # what the student sees there: the message in red, the full traceback collapsed under it
        page.evaluate("window.jupyterapp.commands.execute('application:toggle-left-area')")
        cell = page.locator(".jp-Notebook .jp-Cell").filter(has_text="dora_tier for 3 deployments a day is")
        cell.first.wait_for()
        stderr = cell.first.locator('[data-mime-type="application/vnd.jupyter.stderr"]')
        stderr.evaluate("el => el.scrollIntoView({block: 'center'})")
        page.wait_for_timeout(500)  # let the windowed notebook render the cells around it
        assert stderr.inner_text().startswith("✘ dora_tier for 3 deployments a day")
        details = cell.first.locator("details.labkit-traceback")
        assert details.count() == 1 and details.get_attribute("open") is None
        shot = tmp_path / "week01-jupyterlab.png"
        page.screenshot(path=str(shot))
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, SCREENSHOT)

        # Validate (nbgrader's toolbar button) saves, runs the notebook and reports the failure
        page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate", exact=True).click()
        dialog = page.locator(".jp-Dialog").filter(has_text="Validation Results")
        dialog.wait_for(timeout=VALIDATE_S * 1000)
        body = dialog.inner_text()
        assert "The following cell failed:" in body
        assert "not answered yet" in body and "Traceback" not in body


@pytest.fixture(scope="module")
def instructor_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh course with week 1 released (its gradebook knows week01) and the course-local exchange."""
    from autograder import config as cfg
    from autograder.course import Course, copy_source

    root = tmp_path_factory.mktemp("instructor") / "course"
    copy_source(REPO, root, [WEEK])
    shutil.copyfile(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    Course(root).release(WEEK)
    (root / cfg.EXCHANGE_DIR).mkdir()  # what `bash dev.sh instructor` does
    return root


def test_instructor_formgrader_lists_week01_without_errors(
    chromium: str, instructor_course: Path, tmp_path: Path
) -> None:
    with jupyter_lab(instructor_course, tmp_path / "home", student=False) as (url, token):
        headers = {"Authorization": f"token {token}"}
        api = httpx.get(f"{url}/formgrader/api/assignments", headers=headers, timeout=30).json()
        assert [a["name"] for a in api] == [WEEK]
        listing = httpx.get(f"{url}/assignments", params={"course_id": "devops-tbd"}, headers=headers, timeout=30)
        assert listing.json()["success"] is True, listing.text  # the course-local exchange exists
        with browser_page(chromium) as page:
            page.goto(f"{url}/formgrader?token={token}")
            row = page.locator("#main-table").get_by_text(WEEK, exact=True)
            row.first.wait_for()
            # the week's link opens source/week01 (started elsewhere, it was /tree/../source/week01: a 404)
            href = row.first.get_attribute("href") or ""
            assert ".." not in href and href.endswith("source/week01"), href
            opened = httpx.get(f"{url}{href}" if href.startswith("/") else f"{url}/{href}", headers=headers, timeout=30)
            assert opened.status_code == 200, href
            text = page.inner_text("body")
            assert "exchange directory does not exist" not in text.lower()
            assert "error" not in text.lower(), text
            assert "not a subdirectory" not in (tmp_path / "home" / "server.log").read_text()


def test_readme_shows_the_screenshot() -> None:
    hint = "run: UPDATE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/test_browser.py -n 0"
    assert SCREENSHOT.is_file() and SCREENSHOT.stat().st_size > 10_000, hint
    assert "docs/images/week01-jupyterlab.png" in (REPO / "README.md").read_text(encoding="utf-8")
