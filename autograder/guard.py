"""The in-kernel integrity guard: test cells run exactly as the instructor wrote them, whatever student code did.

Defence in depth, in four layers (the engine in :mod:`autograder.engine` uses all of them):

(a) **A guard inside the kernel.** This file is an IPython extension: the sandboxed kernel loads it as
    ``_ag_guard`` before any student code runs. At load it imports the modules the instructor's locked cells
    use and takes a snapshot: builtins, the functions and classes of critical modules (``labkit.*``, the
    instructor's imports, ``pandas.testing`` ...) including their code objects, ``sys`` hooks (trace,
    profile, excepthook, meta path ...), signal handlers and timers, and the IPython machinery (input/AST
    transformers, prefilters, events, custom exception handlers, the methods of the shell, kernel and session
    classes). Before every locked or graded cell the guard restores that snapshot, puts back every name an
    earlier instructor cell bound in the user namespace (``checks``, ``pd`` ...), and REPORTS each reset as
    tampering.
(b) **Bypassing the student's transformers.** The guard request rides on the ``execute_request`` of the test
    cell itself (a private ``user_expressions`` key) and runs in the kernel's message handler — before
    IPython transforms the cell. Input transformers, AST transformers, prefilters, pre-run events and trace
    functions the student installed are gone by the time the test cell is compiled. The guard answers with an
    HMAC of a per-cell nonce under a key only the guard read (from a file deleted at load). No valid answer
    means student code replaced the kernel's execution machinery: the engine scores that test cell 0 and
    reports it.
(c) **A static scan** (:func:`autograder.scan.scan_source`, grader side) of the cells a student can edit flags
    tampering primitives (``sys.settrace``, ``get_ipython().events``, ``ctypes``, monkeypatching imported
    modules, always-equal ``__eq__`` ...). Flags are reported to the instructor; they do not change scores.
(d) ``labkit.checks`` compares exact types, so an object that compares equal to anything fails a check.

Not defended: code that reads the guard's key from the kernel's memory and forges its answer, background
threads that re-patch modules while a test cell runs, in-place mutation of instructor data structures, a
bare ``assert x == y`` against an always-equal object. The kernel is the student's process: the guard makes
tampering loud and costly; the sandbox (not the guard) is what protects the course files.

This module uses the standard library only and imports nothing of the autograder: the worker copies this one
file into the sandbox.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import hmac
import json
import os
import signal
import sys
import threading
import types
from collections.abc import Iterable
from typing import Any

#: ``user_expressions`` key that carries the guard nonce on a test cell's execute_request
GUARD_KEY = "__autograder_guard__"
#: MIME type of the guard's answer (a display_data message the engine removes from the outputs)
GUARD_MIME = "application/vnd.autograder.guard+json"
#: environment variables read by the kernel-side guard at load
KEYFILE_ENV = "AUTOGRADER_GUARD_KEYFILE"
PRELOAD_ENV = "AUTOGRADER_GUARD_PRELOAD"
#: module name of this file inside the sandbox
EXTENSION_NAME = "_ag_guard"

#: modules (and their submodules) whose functions and classes are protected once loaded
CRITICAL_PREFIXES = ("labkit",)
#: further modules protected when they are loaded at snapshot time
CRITICAL_MODULES = (
    "labkit.checks",
    "pandas",
    "pandas.testing",
    "pandas._testing",
    "pandas._testing.asserters",
    "numpy",
    "numpy.testing",
    "math",
    "cmath",
    "operator",
    "functools",
    "unittest",
    "unittest.case",
)
#: always preloaded (tests use it even when the setup cell is missing)
ALWAYS_PRELOAD = ("labkit.checks",)


def proof(key: bytes, nonce: str) -> str:
    """The guard's answer to ``nonce``: HMAC-SHA256 under the per-kernel key."""
    return hmac.new(key, nonce.encode("ascii"), hashlib.sha256).hexdigest()


# ===================================================================== kernel side
_MISSING = object()
_VOLATILE_CLASS_ATTRS = frozenset({"__dict__", "__weakref__", "__doc__", "_abc_impl", "__annotations__"})
_IMMUTABLE_TYPE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE


def _describe(obj: Any) -> str:
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__name__
    module = getattr(obj, "__module__", None)
    text = f"{module}.{name}" if module and module != "builtins" else str(name)
    return text if len(text) <= 80 else text[:77] + "..."


def _library_roots() -> tuple[str, ...]:
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    labkit_file = getattr(sys.modules.get("labkit"), "__file__", None)
    if labkit_file:
        roots.add(os.path.dirname(os.path.realpath(labkit_file)))
    return tuple(sorted(roots))


def _library_function(obj: Any) -> bool:
    """A plain function or method defined in an installed library (not in the notebook or its folder)."""
    func = getattr(obj, "__func__", obj)
    if not isinstance(func, types.FunctionType) or func.__module__ in (None, "__main__"):
        return False
    path = os.path.realpath(func.__code__.co_filename)
    return any(path.startswith(root + os.sep) for root in _library_roots())


def _protectable(value: Any) -> bool:
    return isinstance(value, types.ModuleType | type) or callable(value)


def _is_critical(name: str, extra: Iterable[str]) -> bool:
    return name in extra or any(name == p or name.startswith(p + ".") for p in CRITICAL_PREFIXES)


def _class_entries(cls: type) -> dict[str, Any]:
    out = {}
    for key, value in vars(cls).items():
        if key in _VOLATILE_CLASS_ATTRS:
            continue
        if callable(value) or isinstance(value, classmethod | staticmethod | property):
            out[key] = value
    return out


def _mutable_class(cls: Any) -> bool:
    return isinstance(cls, type) and not (cls.__flags__ & _IMMUTABLE_TYPE)


class _Snapshot:
    """What the kernel looked like before any student code ran, and how to put it back."""

    def __init__(self, shell: Any, critical: Iterable[str]) -> None:
        self.shell = shell
        self.kernel = getattr(shell, "kernel", None)
        self.critical = set(critical)
        # IPython's builtin trap adds exit/quit/get_ipython while a cell runs: not ours to judge
        self.trap_names = set(getattr(getattr(shell, "builtin_trap", None), "auto_builtins", {}) or {})
        self.builtins = {k: v for k, v in vars(builtins).items() if k not in self.trap_names}
        self.modules: dict[str, tuple[types.ModuleType, dict[str, Any]]] = {}
        self.classes: dict[int, tuple[type, dict[str, Any]]] = {}
        self.functions: dict[int, tuple[types.FunctionType, Any, Any, Any]] = {}
        for name, module in list(sys.modules.items()):
            if isinstance(module, types.ModuleType) and _is_critical(name, self.critical):
                self._add_module(name, module)
        for obj in self._machinery_objects():
            for cls in type(obj).__mro__:
                self._add_class(cls)
        self.sys_hooks = {name: getattr(sys, name, None) for name in self._SYS_HOOKS}
        self.trace = (sys.gettrace(), sys.getprofile())
        self.thread_hooks = (
            getattr(threading, "_trace_hook", None),
            getattr(threading, "_profile_hook", None),
        )
        self.signals = {}
        for sig in signal.valid_signals():
            if sig in (signal.SIGINT, signal.SIGKILL, signal.SIGSTOP):
                continue  # ipykernel switches SIGINT around every request itself
            try:
                self.signals[sig] = signal.getsignal(sig)
            except (ValueError, OSError):
                continue
        self.shell_lists = {name: list(lst) for name, lst in self._shell_lists()}
        self.events = {k: list(v) for k, v in getattr(getattr(shell, "events", None), "callbacks", {}).items()}
        self.shell_attrs = {name: getattr(shell, name, _MISSING) for name in self._SHELL_ATTRS}
        self.instance_attrs = {
            id(obj): (obj, {k: v for k, v in vars(obj).items() if callable(v)})
            for obj in self._machinery_objects()
            if hasattr(obj, "__dict__")
        }
        self.compile_flags = getattr(getattr(shell, "compile", None), "flags", None)
        self.custom_exceptions = getattr(shell, "custom_exceptions", ())

    _SYS_HOOKS = (
        "excepthook",
        "displayhook",
        "breakpointhook",
        "unraisablehook",
        "stdout",
        "stderr",
        "stdin",
    )
    _SHELL_ATTRS = (
        "user_ns",
        "user_global_ns",
        "displayhook",
        "display_pub",
        "InteractiveTB",
        "SyntaxTB",
        "CustomTB",
        "compile",
        "input_transformer_manager",
        "prefilter_manager",
        "events",
        "builtin_trap",
        "display_trap",
        "kernel",
    )

    # ------------------------------------------------------------ collection
    def _machinery_objects(self) -> list[Any]:
        shell, kernel = self.shell, self.kernel
        objs: list[Any] = [shell]
        for name in (
            "displayhook",
            "display_pub",
            "InteractiveTB",
            "compile",
            "input_transformer_manager",
            "prefilter_manager",
            "events",
        ):
            obj = getattr(shell, name, None)
            if obj is not None:
                objs.append(obj)
        if kernel is not None:
            objs.append(kernel)
            session = getattr(kernel, "session", None)
            if session is not None:
                objs.append(session)
        return objs

    def _shell_lists(self) -> list[tuple[str, list[Any]]]:
        shell = self.shell
        found: list[tuple[str, list[Any]]] = []
        for name in ("input_transformers_cleanup", "input_transformers_post", "ast_transformers"):
            value = getattr(shell, name, None)
            if isinstance(value, list):
                found.append((name, value))
        manager = getattr(shell, "input_transformer_manager", None)
        for name in ("cleanup_transforms", "line_transforms", "token_transformers"):
            value = getattr(manager, name, None)
            if isinstance(value, list):
                found.append((f"input_transformer_manager.{name}", value))
        prefilter = getattr(shell, "prefilter_manager", None)
        for name in ("_transformers", "_checkers"):
            value = getattr(prefilter, name, None)
            if isinstance(value, list):
                found.append((f"prefilter_manager.{name}", value))
        return found

    def _add_module(self, name: str, module: types.ModuleType) -> None:
        entries = {k: v for k, v in vars(module).items() if _protectable(v)}
        self.modules[name] = (module, entries)
        for value in entries.values():
            if isinstance(value, types.FunctionType):
                self._add_function(value)
            elif isinstance(value, type) and (
                getattr(value, "__module__", "").startswith(module.__name__) or name in self.critical
            ):
                self._add_class(value)

    def _add_class(self, cls: type) -> None:
        if id(cls) in self.classes or not _mutable_class(cls) or cls is object:
            return
        entries = _class_entries(cls)
        self.classes[id(cls)] = (cls, entries)
        for value in entries.values():
            func = value.__func__ if isinstance(value, classmethod | staticmethod) else value
            if isinstance(func, types.FunctionType):
                self._add_function(func)

    def _add_function(self, func: types.FunctionType) -> None:
        if id(func) not in self.functions:
            self.functions[id(func)] = (func, func.__code__, func.__defaults__, func.__kwdefaults__)

    def adopt_new_modules(self) -> None:
        """Snapshot critical modules imported since the last look (best effort: they were imported later)."""
        if "matplotlib.pyplot" not in self.modules:
            _settle_matplotlib()  # pyplot imported by a cell: let IPython wrap it before the snapshot, not after
        for name, module in list(sys.modules.items()):
            if name not in self.modules and isinstance(module, types.ModuleType) and _is_critical(name, self.critical):
                self._add_module(name, module)

    # ------------------------------------------------------------- restoring
    def restore(self) -> list[str]:
        resets: list[str] = []
        # first what could run student code while we restore: timers, signal handlers, trace functions
        resets += self._restore_signals()
        resets += self._restore_trace()
        resets += self._restore_sys()
        resets += self._restore_shell()
        resets += self._restore_builtins()
        resets += self._restore_modules()
        resets += self._restore_classes()
        resets += self._restore_functions()
        return resets

    def _restore_trace(self) -> list[str]:
        out = []
        trace, profile = self.trace
        if sys.gettrace() is not trace:
            out.append(f"removed trace function {_describe(sys.gettrace())} (sys.settrace)")
            sys.settrace(trace)
        if sys.getprofile() is not profile:
            out.append(f"removed profile function {_describe(sys.getprofile())} (sys.setprofile)")
            sys.setprofile(profile)
        t_trace, t_profile = self.thread_hooks
        if getattr(threading, "_trace_hook", None) is not t_trace:
            out.append("removed thread trace function (threading.settrace)")
            threading.settrace(t_trace)
        if getattr(threading, "_profile_hook", None) is not t_profile:
            out.append("removed thread profile function (threading.setprofile)")
            threading.setprofile(t_profile)
        return out

    def _restore_builtins(self) -> list[str]:
        out = []
        current = vars(builtins)
        for key, value in self.builtins.items():
            if current.get(key, _MISSING) is not value:
                out.append(f"restored builtin {key!r} (was replaced by {_describe(current.get(key))})")
                setattr(builtins, key, value)
        for key in [k for k in current if k not in self.builtins]:
            if key.startswith("__") or key in self.trap_names or key in ("_", "display"):
                continue
            out.append(f"removed builtin {key!r} added by student code")
            delattr(builtins, key)
        return out

    def _restore_modules(self) -> list[str]:
        out = []
        for name, (module, entries) in self.modules.items():
            if sys.modules.get(name) is not module:
                out.append(f"restored sys.modules[{name!r}] (was {_describe(sys.modules.get(name))})")
                sys.modules[name] = module
            current = vars(module)
            for key, value in entries.items():
                if current.get(key, _MISSING) is not value:
                    out.append(f"restored {name}.{key} (was replaced by {_describe(current.get(key))})")
                    setattr(module, key, value)
        return out

    def _restore_classes(self) -> list[str]:
        out = []
        for cls, entries in self.classes.values():
            current = vars(cls)
            for key, value in entries.items():
                if current.get(key, _MISSING) is not value:
                    out.append(f"restored {_describe(cls)}.{key} (class attribute was replaced)")
                    with contextlib.suppress(TypeError, AttributeError):
                        setattr(cls, key, value)
            for key in [k for k, v in current.items() if k not in entries and k not in _VOLATILE_CLASS_ATTRS]:
                value = current[key]
                if callable(value) or isinstance(value, classmethod | staticmethod | property):
                    out.append(f"removed {_describe(cls)}.{key} added by student code")
                    with contextlib.suppress(TypeError, AttributeError):
                        delattr(cls, key)
        return out

    def _restore_functions(self) -> list[str]:
        out = []
        for func, code, defaults, kwdefaults in self.functions.values():
            if func.__code__ is not code:
                out.append(f"restored the code of {_describe(func)} (its __code__ was replaced)")
                func.__code__ = code
            if func.__defaults__ is not defaults:
                out.append(f"restored the default arguments of {_describe(func)}")
                func.__defaults__ = defaults
            if func.__kwdefaults__ is not kwdefaults:
                out.append(f"restored the keyword defaults of {_describe(func)}")
                func.__kwdefaults__ = kwdefaults
        return out

    def _restore_sys(self) -> list[str]:
        out = []
        for name, value in self.sys_hooks.items():
            if getattr(sys, name, None) is not value:
                out.append(f"restored sys.{name} (was {_describe(getattr(sys, name, None))})")
                setattr(sys, name, value)
        # sys.meta_path and gc.callbacks are left alone: libraries extend them on import (six, ...)
        return out

    def _restore_signals(self) -> list[str]:
        out = []
        for which, label in (
            (signal.ITIMER_REAL, "ITIMER_REAL"),
            (signal.ITIMER_VIRTUAL, "ITIMER_VIRTUAL"),
            (signal.ITIMER_PROF, "ITIMER_PROF"),
        ):
            if signal.getitimer(which) != (0.0, 0.0):
                signal.setitimer(which, 0)  # before the handlers: a default SIGALRM would end the kernel
                out.append(f"cancelled an interval timer ({label}) set by student code")
        for sig, handler in self.signals.items():
            try:
                now = signal.getsignal(sig)
                if now is not handler and now != handler:
                    out.append(f"restored the handler of {signal.Signals(sig).name}")
                    signal.signal(sig, handler)
            except (ValueError, OSError, TypeError):
                continue
        return out

    def _restore_shell(self) -> list[str]:  # noqa: C901 - one branch per IPython hook it restores, kept side by side
        out = []
        shell = self.shell
        for name, value in self.shell_attrs.items():
            if value is not _MISSING and getattr(shell, name, _MISSING) is not value:
                out.append(f"restored the shell's {name}")
                setattr(shell, name, value)
        for name, current in self._shell_lists():
            saved = self.shell_lists.get(name, [])
            if len(current) != len(saved) or any(a is not b for a, b in zip(current, saved, strict=False)):
                extra = [_describe(x) for x in current if not any(x is y for y in saved)]
                kind = "AST transformer" if "ast" in name else "input transformer" if "transform" in name else name
                out.append(f"removed {kind} {', '.join(extra) or '(list changed)'} ({name})")
                current[:] = saved
        events = getattr(getattr(shell, "events", None), "callbacks", None)
        if isinstance(events, dict):
            for event, callbacks in events.items():
                saved = self.events.get(event, [])
                # a library may register its own callback when imported (matplotlib.pyplot does)
                added = [cb for cb in callbacks if not any(cb is x for x in saved)]
                foreign = [cb for cb in added if not _library_function(cb)]
                lost = [x for x in saved if not any(cb is x for cb in callbacks)]
                if foreign or lost:
                    what = ", ".join(_describe(x) for x in foreign) or "(a callback was removed)"
                    out.append(f"removed {event} event callback {what}")
                    callbacks[:] = saved + [cb for cb in added if cb not in foreign]
        if getattr(shell, "custom_exceptions", ()) != self.custom_exceptions:
            out.append("removed a custom exception handler (set_custom_exc)")
            shell.custom_exceptions = self.custom_exceptions
        comp = getattr(shell, "compile", None)
        if comp is not None and self.compile_flags is not None and comp.flags != self.compile_flags:
            out.append("restored the compiler flags (a __future__ import changed them)")
            comp.flags = self.compile_flags
        for obj, methods in self.instance_attrs.values():
            attrs = vars(obj)
            for key, value in methods.items():
                if attrs.get(key, _MISSING) is not value:
                    out.append(f"restored {_describe(type(obj))}.{key} on the running instance")
                    setattr(obj, key, value)
            for key in [k for k, v in attrs.items() if k not in methods and callable(v)]:
                if hasattr(type(obj), key):  # an instance attribute shadowing a method
                    out.append(f"removed {key} set on the running {_describe(type(obj))} by student code")
                    with contextlib.suppress(AttributeError):
                        delattr(obj, key)
        return out


class _Bindings:
    """Names that instructor (locked) cells bound to modules, functions and classes in the user namespace."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {}

    def record(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        for key, value in after.items():
            if key.startswith("_i") or key in ("_", "__", "___", "_oh", "_ih", "Out", "In"):
                continue
            if before.get(key, _MISSING) is not value and _protectable(value):
                self.names[key] = value

    def restore(self, namespace: dict[str, Any]) -> list[str]:
        out = []
        for key, value in self.names.items():
            if namespace.get(key, _MISSING) is not value:
                found = namespace.get(key, _MISSING)
                what = "deleted" if found is _MISSING else f"rebound to {_describe(found)}"
                out.append(f"restored {key!r} (bound by an instructor cell, {what} by student code)")
                namespace[key] = value
        return out


_state: dict[str, Any] = {}


def _preload(names: Iterable[str]) -> list[str]:
    failed = []
    for name in names:
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - a module the notebook imports may be missing; the cell will say so
            failed.append(name)
    return failed


def _settle_matplotlib() -> None:
    """Load pyplot's backend now, before the snapshot, when pyplot was preloaded.

    With the inline backend (grading keeps plots for the feedback), loading the backend makes IPython wrap
    ``pyplot.draw_if_interactive`` (``activate_matplotlib``). Left to the student's first plot, that legitimate
    change would look like tampering to the guard, which would then undo it before the next locked cell.
    """
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return
    with contextlib.suppress(Exception):  # a broken backend is the notebook's problem; its cell will say so
        plt.switch_backend(sys.modules["matplotlib"].get_backend())


def load_ipython_extension(ip: Any) -> None:  # pragma: no cover - runs inside the sandboxed kernel
    """IPython entry point: read the key, preload, snapshot, wrap the kernel's execute_request handler."""
    if _state:
        return
    key = b""
    keyfile = os.environ.pop(KEYFILE_ENV, "")
    if keyfile:
        try:
            with open(keyfile, "rb") as f:
                key = f.read().strip()
        finally:
            with contextlib.suppress(OSError):
                os.unlink(keyfile)
    preload = [n for n in os.environ.pop(PRELOAD_ENV, "").split(",") if n]
    preload = list(dict.fromkeys([*ALWAYS_PRELOAD, *preload]))
    _preload(preload)
    _settle_matplotlib()
    critical = set(CRITICAL_MODULES) | set(preload)
    snapshot = _Snapshot(ip, critical)
    bindings = _Bindings()
    kernel = getattr(ip, "kernel", None)
    if kernel is None or not key:
        return
    original = kernel.shell_handlers["execute_request"]
    publish = ip.display_pub.publish
    _state.update(key=key, snapshot=snapshot, bindings=bindings)

    async def guarded_execute_request(stream: Any, ident: Any, parent: dict[str, Any]) -> Any:
        content = parent.get("content") if isinstance(parent, dict) else None
        expressions = content.get("user_expressions") if isinstance(content, dict) else None
        nonce = expressions.pop(GUARD_KEY, None) if isinstance(expressions, dict) else None
        if not isinstance(nonce, str):
            return await original(stream, ident, parent)
        report: dict[str, Any] = {"nonce": nonce, "proof": proof(key, nonce)}
        namespace: dict[str, Any] = snapshot.shell_attrs["user_ns"]  # type: ignore[assignment]
        try:
            resets = snapshot.restore()
            resets += bindings.restore(namespace)
            snapshot.adopt_new_modules()
            report["resets"] = resets
        except Exception as exc:  # noqa: BLE001 - reported: the engine treats a failed guard as tampering
            report["error"] = f"{type(exc).__name__}: {exc}"
        publish(data={GUARD_MIME: json.dumps(report)}, metadata={})
        before = dict(namespace)
        try:
            return await original(stream, ident, parent)
        finally:
            bindings.record(before, namespace)

    kernel.shell_handlers["execute_request"] = guarded_execute_request
