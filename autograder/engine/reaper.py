"""Grading workers leave no process behind — however the grader ends (even ``kill -9``).

Three small mechanisms, all Linux (``prctl``), all standard library:

- :func:`die_with_parent`: a pool worker asks the kernel for ``SIGKILL`` when the grader dies
  (``PR_SET_PDEATHSIG``) and, because that signal is tied to the thread that forked the worker, also watches the
  grader's pid with a pidfd in a thread. The worker's own children die with it: bwrap with
  ``--die-with-parent`` (and its pid namespace with it), the ``user``/``none`` kernels through the launcher's
  own ``PR_SET_PDEATHSIG``.
- :func:`become_subreaper`: a worker is the ``PR_SET_CHILD_SUBREAPER`` of everything it starts, so a process that
  double-forks or calls ``setsid`` to look like a daemon is re-parented to the worker, not to init.
- :func:`kill_descendants`: after each submission the worker kills every process below it (the daemons above)
  and reaps them.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import threading
import time

__all__ = ["become_subreaper", "descendants", "die_with_parent", "kill_descendants"]

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent: int) -> None:
    """End this process with SIGKILL as soon as ``parent`` is gone (also if it already is)."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the prctl: nothing would signal us
        os.kill(os.getpid(), signal.SIGKILL)

    def watch() -> None:
        fd = None
        with contextlib.suppress(OSError, AttributeError):
            fd = os.pidfd_open(parent)
        while os.getppid() == parent:
            if fd is not None:
                poller = select.poll()
                poller.register(fd, select.POLLIN)
                poller.poll(1000)
            else:
                time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="autograder-parent-watch", daemon=True).start()


def become_subreaper() -> bool:
    """Orphans of this process's descendants come back to it (True when the kernel agreed)."""
    return _prctl(PR_SET_CHILD_SUBREAPER, 1)


def _parents(*, zombies: bool = True) -> dict[int, int]:
    """pid -> parent pid of every process (zombies — dead, waiting to be reaped — only when asked)."""
    out: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm)": state ppid ...
        if len(fields) > 1 and (zombies or fields[0] != "Z"):
            out[int(entry)] = int(fields[1])
    return out


def descendants(pid: int | None = None) -> list[int]:
    """Every live process below ``pid`` (default: this process), children first."""
    root = os.getpid() if pid is None else pid
    parents = _parents(zombies=False)
    found: list[int] = []
    frontier = [root]
    while frontier:
        nxt = [child for child, parent in parents.items() if parent in frontier and child not in found]
        found += nxt
        frontier = nxt
    return found


def kill_descendants(rounds: int = 20) -> int:
    """SIGKILL every process below this one and reap our direct children; returns how many were killed."""
    killed = 0
    me = os.getpid()
    for _ in range(rounds):
        pids = descendants(me)
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        time.sleep(0.02)
        for pid, parent in _parents().items():
            if parent == me:
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, os.WNOHANG)
    return killed
