"""Everything that runs in a grading worker process: one submission, one fresh kernel in the sandbox.

:func:`execute_submission` is the task a pool worker (or, later, a remote worker) runs: it gets plain data (the
sanitised notebooks as JSON, the extra files as bytes, the sandbox and the limits) and returns plain data (the
executed notebooks, what the guard reset, which limits were hit). It never touches the course folder or the
gradebook. :class:`SandboxClient` is nbgrader's ``Execute`` preprocessor with the integrity guard before every
locked or graded cell, a cap on kept output and kill-on-unresponsive; :class:`SandboxKernelManager` starts the
kernel through the sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from nbclient.client import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute

from .. import config as cfg
from .. import guard
from .. import sandbox as sbx
from ..cells import is_guarded, nbgrader_meta
from ..limits import Limits
from . import reaper

TRACEBACK_LIMIT = 64 * 1024  #: characters of an error traceback kept (errors are never dropped)
#: error names the engine writes into cells that could not run or whose result cannot be trusted
NOT_RUN_KILLED = "KernelKilled"
NOT_RUN_DIED = "KernelDied"
NOT_RUN_TIME = "TotalTimeLimitExceeded"
GUARD_MISSING = "IntegrityGuardMissing"

_SLOT = 0


def init_worker(slots: Any, parent: int) -> None:
    """Pool initializer: take a slot (its uid), die with the grader, adopt orphans."""
    global _SLOT
    _SLOT = slots.get()
    logging.getLogger("traitlets").setLevel(logging.CRITICAL)
    reaper.die_with_parent(parent)
    reaper.become_subreaper()


class SandboxClient(Execute):
    """nbgrader's Execute preprocessor with the guard, an output cap, and kill-on-unresponsive."""

    def setup(self, limits: Limits, key: bytes, deadline: float) -> None:
        self.limits = limits
        self.guard_key = key
        self.deadline = deadline
        self.guard_answers: dict[int, list[str]] = {}
        self.cell_bytes = 0
        self.truncated: set[int] = set()
        self.nonce: str | None = None
        self.tampering: list[str] = []
        self.limit_notes: list[str] = []
        self.stopped: tuple[str, str] | None = None  # (error name, reason) once the kernel is gone

    # -------------------------------------------------------- outputs
    def output(self, outs: list[Any], msg: dict[str, Any], display_id: str | None, cell_index: int) -> Any:
        content = msg.get("content", {})
        data = content.get("data") or {}
        if msg.get("msg_type") == "display_data" and guard.GUARD_MIME in data:
            self.guard_answers.setdefault(cell_index, []).append(str(data[guard.GUARD_MIME]))
            return None
        if msg.get("msg_type") == "error":
            tb = content.get("traceback") or []
            if sum(len(t) for t in tb) > TRACEBACK_LIMIT:
                content["traceback"] = [*tb[:3], "... (traceback shortened) ...", *tb[-3:]]
            return super().output(outs, msg, display_id, cell_index)
        size = _content_size(content)
        cap = self.limits.output_kb * 1024
        if self.cell_bytes + size > cap:
            if cell_index not in self.truncated:
                self.truncated.add(cell_index)
                note = nbformat.v4.new_output(
                    "stream",
                    name="stderr",
                    text=f"\n[autograder: output beyond {self.limits.output_kb} KiB was dropped]\n",
                )
                outs.append(note)
            return None
        self.cell_bytes += size
        return super().output(outs, msg, display_id, cell_index)

    # -------------------------------------------------------- the run
    async def run(self, nb: NotebookNode, resources: dict[str, Any], km: Any, env: dict[str, str], logf: Any) -> None:
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        try:
            async with self.async_setup_kernel(env=env, stdout=logf, stderr=logf):
                assert self.kc is not None
                plain_execute = self.kc.execute

                def execute(code: str, **kw: Any) -> str:
                    if self.nonce:
                        kw["user_expressions"] = {guard.GUARD_KEY: self.nonce}
                    return plain_execute(code, **kw)

                self.kc.execute = execute
                info = await self.async_wait_for_reply(await _maybe(self.kc.kernel_info()))
                if info is not None and "language_info" in info["content"]:
                    self.nb.metadata["language_info"] = info["content"]["language_info"]
                for index, cell in enumerate(self.nb.cells):
                    await self._one_cell(cell, index)
                self.set_widgets_metadata()
        finally:
            await self._kill()

    async def _kill(self) -> None:
        try:
            if self.km is not None and self.km.has_kernel:
                await _maybe(self.km.shutdown_kernel(now=True))
        except Exception:  # noqa: BLE001 - already dead is fine
            pass
        try:
            if self.kc is not None:
                self.kc.stop_channels()
        except Exception:  # noqa: BLE001
            pass

    async def _one_cell(self, cell: NotebookNode, index: int) -> None:
        if cell.get("cell_type") != "code" or not cell.get("source", "").strip():
            return
        gid = nbgrader_meta(cell).get("grade_id") or f"cell {index}"
        if self.stopped:
            _mark(cell, *self.stopped)
            return
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            self.stopped = (
                NOT_RUN_TIME,
                f"not run: the submission used up its {self.limits.total_timeout} s",
            )
            self.limit_notes.append(
                f"total time limit of {self.limits.total_timeout} s reached before {gid}; "
                "later cells not run "
                "(scored 0)"
            )
            await self._kill()
            _mark(cell, *self.stopped)
            return
        guarded = is_guarded(cell)
        self.nonce = secrets.token_hex(12) if guarded else None
        self.cell_bytes = 0
        hard = self.limits.cell_timeout + 2 * self.limits.interrupt_grace + 10
        try:
            await asyncio.wait_for(
                self.async_execute_cell(cell, index, store_history=True), timeout=min(hard, remaining)
            )
        except DeadKernelError:
            code = await self._exit_code()
            reason = f"the kernel died while running {gid}{code} (os._exit, a crash, or a memory cap)"
            _mark(cell, NOT_RUN_DIED, reason)
            self.stopped = (NOT_RUN_DIED, f"not run: {reason}")
            self.limit_notes.append(f"{reason}; later cells not run (scored 0)")
        except CellTimeoutError:
            reason = (
                f"{gid} ran longer than {self.limits.cell_timeout} s and did not stop when interrupted: "
                "the kernel was killed"
            )
            cell.outputs.append(
                nbformat.v4.new_output(
                    "error",
                    ename="CellTimeoutError",
                    evalue="",
                    traceback=["CellTimeoutError: No reply from kernel before timeout"],
                )
            )
            _mark(cell, NOT_RUN_KILLED, reason)
            self.stopped = (NOT_RUN_KILLED, f"not run: {reason}")
            self.limit_notes.append(f"{reason}; later cells not run (scored 0)")
            await self._kill()
        except TimeoutError:
            if remaining < hard:
                reason = f"the submission used up its {self.limits.total_timeout} s during {gid}: the kernel was killed"
                name = NOT_RUN_TIME
            else:
                reason = f"{gid} did not finish within {hard} s: the kernel was killed"
                name = NOT_RUN_KILLED
            _mark(cell, name, reason)
            self.stopped = (name, f"not run: {reason}")
            self.limit_notes.append(f"{reason}; later cells not run (scored 0)")
            await self._kill()
        if index in self.truncated:
            self.limit_notes.append(f"output of {gid} cut at {self.limits.output_kb} KiB")
        if guarded and not (self.stopped and not self.guard_answers.get(index)):
            self._check_guard(cell, index, gid)
        self.nonce = None

    def _check_guard(self, cell: NotebookNode, index: int, gid: str) -> None:
        expected = guard.proof(self.guard_key, self.nonce or "")
        answers = self.guard_answers.pop(index, [])
        good = None
        for raw in answers:
            try:
                answer = json.loads(raw)
            except (TypeError, ValueError):
                continue
            if isinstance(answer, dict) and answer.get("nonce") == self.nonce and answer.get("proof") == expected:
                good = answer
        if good is not None and "error" not in good:
            for reset in good.get("resets", []):
                self.tampering.append(f"before {gid}: {reset}")
            return
        why = good.get("error") if good else ("a forged answer" if answers else "no answer")
        self.tampering.append(
            f"before {gid}: the integrity guard did not run ({why}): student code changed how the kernel executes cells"
        )
        if nbgrader_meta(cell).get("grade"):
            cell.outputs.append(
                nbformat.v4.new_output(
                    "error",
                    ename=GUARD_MISSING,
                    evalue="this test cannot be trusted: the notebook changed how the kernel runs cells",
                    traceback=[
                        f"{GUARD_MISSING}: this test could not be trusted: the notebook changed how the "
                        "kernel runs cells"
                    ],
                )
            )

    async def _exit_code(self) -> str:
        try:
            proc = getattr(getattr(self.km, "provisioner", None), "process", None)
            if proc is not None:
                code = proc.poll()
                if code is not None:
                    return f" (exit status {code})"
        except Exception:  # noqa: BLE001
            pass
        return ""


async def _maybe(value: Any) -> Any:
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        return await value
    return value


def _content_size(content: dict[str, Any]) -> int:
    total = len(content.get("text", "") or "")
    for value in (content.get("data") or {}).values():
        total += len(value) if isinstance(value, str) else len(json.dumps(value))
    return total


def _mark(cell: NotebookNode, ename: str, reason: str) -> None:
    cell.outputs.append(nbformat.v4.new_output("error", ename=ename, evalue=reason, traceback=[f"{ename}: {reason}"]))


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command is wrapped in the sandbox (limits, uid drop, namespaces)."""

    def configure(
        self, sandbox: sbx.Sandbox, paths: dict[str, Path], slot: int, limits: Limits, env: dict[str, str]
    ) -> SandboxKernelManager:
        self.sandbox, self.paths, self.slot, self.limits, self.sandbox_env = sandbox, paths, slot, limits, env
        self.sandbox_spec = KernelSpec(
            argv=[
                sandbox.python,
                "-m",
                "ipykernel_launcher",
                "-f",
                "{connection_file}",
                f"--IPKernelApp.extensions={guard.EXTENSION_NAME}",
            ],
            display_name="Python 3 (sandbox)",
            language="python",
            interrupt_mode="message",
            env={},
            metadata={},
        )
        return self

    @property
    def kernel_spec(self) -> KernelSpec:
        return self.sandbox_spec

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return self.sandbox.command(
            super().format_kernel_cmd(extra_arguments),
            paths=self.paths,
            slot=self.slot,
            limits=self.limits,
            env=self.sandbox_env,
        )

    def write_connection_file(self, **kwargs: Any) -> None:
        super().write_connection_file(**kwargs)
        self.sandbox.chown(Path(self.connection_file), self.slot)


def kernel_manager(
    sandbox: sbx.Sandbox, paths: dict[str, Path], slot: int, limits: Limits, env: dict[str, str]
) -> SandboxKernelManager:
    km = SandboxKernelManager(
        kernel_name="python3",
        transport="ipc",
        ip=str(paths["run"] / "k"),
        connection_file=str(paths["run"] / "kernel.json"),
    )
    return km.configure(sandbox, paths, slot, limits, env)


def execute_submission(task: dict[str, Any]) -> dict[str, Any]:
    """Worker: run every notebook of one submission in a fresh sandboxed kernel; results as plain data."""
    started = time.time()
    slot = int(task.get("slot", _SLOT))  # a cluster worker passes its own slot; a pool worker took one at start
    sandbox: sbx.Sandbox = task["sandbox"]
    limits: Limits = task["limits"]
    workdir = Path(tempfile.mkdtemp(prefix="ag-", dir=task["tmp_base"]))
    out: dict[str, Any] = {
        "student": task["student"],
        "notebooks": [],
        "slot": slot,
        "queue": max(0.0, started - task["submitted_at"]),
    }
    try:
        paths = sandbox.prepare(workdir, slot)
        shutil.copy(task["guard_file"], paths["guard"] / f"{guard.EXTENSION_NAME}.py")
        (paths["guard"] / f"{guard.EXTENSION_NAME}.py").chmod(0o644)
        _write_files(task["files"], paths["home"], sandbox, slot)
        (paths["home"] / ".config").mkdir(exist_ok=True)
        sandbox.chown(paths["home"] / ".config", slot)
        _copy_tree(Path(task["mpl_cache"]), paths["home"] / ".config" / "matplotlib", sandbox, slot)
        config = cfg.build_config(task["root"], timeout=limits.cell_timeout)
        deadline = time.monotonic() + limits.total_timeout
        for item in task["notebooks"]:
            nb = nbformat.reads(item["json"], as_version=4)
            key = secrets.token_hex(32).encode()
            keyfile = paths["run"] / "guard.key"
            keyfile.write_bytes(key)
            sandbox.chown(keyfile, slot)
            env = sandbox.environment(
                paths,
                {
                    guard.KEYFILE_ENV: str(keyfile),
                    guard.PRELOAD_ENV: ",".join(item["preload"]),
                },
            )
            km = kernel_manager(sandbox, paths, slot, limits, env)
            client = SandboxClient(config=config)
            client.iopub_timeout = limits.interrupt_grace
            client.setup(limits, key, deadline)
            with open(workdir / "kernel.log", "ab") as logf:
                try:
                    asyncio.run(client.run(nb, {"metadata": {"path": str(paths["home"])}}, km, env, logf))
                    error = None
                except Exception as exc:  # noqa: BLE001 - reported for this submission only
                    error = f"{type(exc).__name__}: {exc}".strip()
                    last = [ln for ln in _tail(workdir / "kernel.log").splitlines() if ln.strip()]
                    if last:
                        error += f" (kernel said: {last[-1].strip()[:200]})"
            keyfile.unlink(missing_ok=True)
            out["notebooks"].append(
                {
                    "name": item["name"],
                    "json": nbformat.writes(nb),
                    "error": error,
                    "tampering": client.tampering,
                    "limits": client.limit_notes,
                    "kernel_log": _tail(workdir / "kernel.log"),
                }
            )
            sandbox.sweep(slot)
            reaper.kill_descendants()
    except Exception as exc:  # noqa: BLE001 - one submission's problem must not stop the batch
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        sandbox.sweep(slot)
        out["orphans"] = reaper.kill_descendants()
        shutil.rmtree(workdir, ignore_errors=True)
        out["execute"] = time.time() - started
    return out


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        data = path.read_bytes()[-limit:]
    except OSError:
        return ""
    return data.decode("utf-8", errors="replace")


def _write_files(files: dict[str, bytes], dest: Path, sandbox: sbx.Sandbox, slot: int) -> None:
    """Write the submission's extra files into its sandbox home, owned by the slot's uid."""
    dest.mkdir(parents=True, exist_ok=True)
    sandbox.chown(dest, slot)
    for rel, data in files.items():
        target = dest / rel
        for parent in reversed(target.relative_to(dest).parents):
            folder = dest / parent
            if not folder.exists():
                folder.mkdir()
                sandbox.chown(folder, slot)
        target.write_bytes(data)
        sandbox.chown(target, slot)


def _copy_tree(src: Path, dest: Path, sandbox: sbx.Sandbox, slot: int) -> None:
    """Copy a folder of trusted files (the matplotlib cache) into a sandbox, owned by the slot's uid."""
    if not src.is_dir():
        return
    _write_files(
        {p.relative_to(src).as_posix(): p.read_bytes() for p in src.rglob("*") if p.is_file()}, dest, sandbox, slot
    )


def matplotlib_cache(python: str, scratch: Path) -> Path:
    """matplotlib's font cache, built once per machine and user, so every sandbox starts warm.

    The grader builds it for its pool; a cluster worker builds its own (nothing is shared between machines).
    ``scratch`` holds the build when the shared place cannot be written.
    """
    cache = Path(tempfile.gettempdir()) / f"autograder-mplcache-{os.getuid()}"
    if any(cache.glob("fontlist-*.json")):
        return cache
    build = Path(tempfile.mkdtemp(prefix="mplcache-", dir=scratch))
    env = {**os.environ, "MPLCONFIGDIR": str(build), "MPLBACKEND": "Agg"}
    try:
        subprocess.run(
            [python, "-c", "import matplotlib.font_manager"],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return build
    with contextlib.suppress(OSError):
        build.rename(cache)  # atomic: a concurrent grader either wins or finds it built
    return cache if cache.is_dir() else build
