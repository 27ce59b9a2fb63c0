"""The grader-side static scan of student cells, and the module lists the in-kernel guard protects.

:func:`scan_source` flags tampering primitives in the cells a student can edit (``sys.settrace``,
``get_ipython().events``, ``ctypes``, monkeypatching imported modules, always-equal ``__eq__`` ...). Flags are
reported to the instructor; they never change a score. :func:`imported_modules` and :func:`bound_module_names`
read the instructor's locked cells: the guard preloads and protects those modules (see :mod:`autograder.guard`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    line: int
    what: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.what}"


_SUSPICIOUS_CALLS = {
    "sys.settrace": "installs a trace function (sys.settrace)",
    "sys.setprofile": "installs a profile function (sys.setprofile)",
    "threading.settrace": "installs a thread trace function",
    "threading.setprofile": "installs a thread profile function",
    "sys.addaudithook": "installs an audit hook",
    "sys._getframe": "inspects interpreter frames (sys._getframe)",
    "os._exit": "ends the kernel process (os._exit)",
    "os.kill": "sends signals to processes (os.kill)",
    "os.killpg": "sends signals to process groups (os.killpg)",
    "os.fork": "forks the kernel process (os.fork)",
    "os.setsid": "leaves the kernel's session (os.setsid)",
    "signal.signal": "changes signal handlers (signal.signal)",
    "signal.setitimer": "sets an interval timer (signal.setitimer)",
    "signal.alarm": "sets an alarm (signal.alarm)",
    "setattr": "sets attributes dynamically (setattr)",
    "exec": "executes dynamically built code (exec)",
    "eval": "evaluates dynamically built code (eval)",
    "compile": "compiles dynamically built code (compile)",
    "__import__": "imports dynamically (__import__)",
    "get_ipython": "reaches into the IPython kernel (get_ipython)",
    "gc.get_objects": "walks every live object (gc.get_objects)",
    "gc.get_referrers": "walks object references (gc.get_referrers)",
}
_SUSPICIOUS_IMPORTS = {
    "ctypes": "imports ctypes (raw memory access)",
    "gc": "imports gc (walks live objects)",
    "builtins": "imports builtins",
    "IPython": "imports IPython internals",
    "ipykernel": "imports ipykernel internals",
    "jupyter_client": "imports jupyter_client internals",
    "socket": "imports socket (network access)",
    "_thread": "imports _thread",
    "importlib": "imports importlib (import machinery)",
    "_ag_guard": "imports the grading guard",
}
_SUSPICIOUS_ATTRS = {
    "input_transformers_cleanup": "IPython input transformers",
    "input_transformers_post": "IPython input transformers",
    "input_transformer_manager": "IPython input transformers",
    "ast_transformers": "IPython AST transformers",
    "prefilter_manager": "IPython prefilters",
    "events": "IPython events",
    "set_custom_exc": "a custom exception handler",
    "showtraceback": "IPython's traceback display",
    "run_cell": "IPython's cell runner",
    "shell_handlers": "the kernel's message handlers",
    "modules": "sys.modules",
    "__builtins__": "the builtins namespace",
    "__code__": "a function's code object",
    "__globals__": "a function's globals",
    "__closure__": "a function's closure",
    "__class__": "an object's class",
    "f_lineno": "a frame's line number",
    "f_locals": "a frame's locals",
}


_MAGIC_CALLS = frozenset({"run_line_magic", "run_cell_magic", "system", "getoutput"})


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for attribute chains; a call at the root reads ``f()`` (``get_ipython().events``)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        parts.append(node.func.id + "()")
        return ".".join(reversed(parts))
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _always_true(func: ast.FunctionDef) -> bool:
    body = [s for s in func.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    return (
        len(body) == 1
        and isinstance(body[0], ast.Return)
        and isinstance(body[0].value, ast.Constant)
        and body[0].value.value is True
    )


class _Scanner(ast.NodeVisitor):
    def __init__(self, modules: set[str]) -> None:
        self.findings: list[Finding] = []
        self.modules = set(modules)  # names bound to imported modules in the notebook

    def add(self, node: ast.AST, what: str) -> None:
        self.findings.append(Finding(getattr(node, "lineno", 0), what))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            top = alias.name.split(".")[0]
            if top in _SUSPICIOUS_IMPORTS:
                self.add(node, _SUSPICIOUS_IMPORTS[top])
            self.modules.add(alias.asname or top)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        top = (node.module or "").split(".")[0]
        if top in _SUSPICIOUS_IMPORTS:
            self.add(node, _SUSPICIOUS_IMPORTS[top])
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if (
            isinstance(func, ast.Attribute) and func.attr in _MAGIC_CALLS and _dotted(func.value) == "get_ipython()"
        ):  # IPython's translation of %magic and !shell lines: not the student reaching into the kernel
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                self.visit(arg)
            return
        name = _dotted(func)
        if name in _SUSPICIOUS_CALLS:
            self.add(node, _SUSPICIOUS_CALLS[name])
        elif name and name.endswith(".register") and "events" in name:
            self.add(node, "registers an IPython event callback")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in _SUSPICIOUS_ATTRS:
            base = _dotted(node.value) or ""
            if (node.attr != "modules" or base == "sys") and (
                node.attr != "events" or "ipython" in base.lower() or base.endswith("shell") or base == "ip"
            ):
                self.add(
                    node,
                    f"touches {_SUSPICIOUS_ATTRS[node.attr]} ({base + '.' if base else ''}{node.attr})",
                )
        self.generic_visit(node)

    def _check_target(self, target: ast.AST, node: ast.AST) -> None:
        if isinstance(target, ast.Attribute):
            base = _dotted(target.value)
            if base and base.split(".")[0] in self.modules:
                self.add(
                    node,
                    f"monkeypatches {base}.{target.attr} (assigns to an attribute of an imported module)",
                )
        elif isinstance(target, ast.Subscript) and _dotted(target.value) in ("sys.modules", "__builtins__"):
            self.add(node, f"replaces an entry of {_dotted(target.value)}")
        elif isinstance(target, ast.Tuple | ast.List):
            for elt in target.elts:
                self._check_target(elt, node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._check_target(target, node)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._check_target(node.target, node)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._check_target(target, node)
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node.name in ("__eq__", "__ne__") and _always_true(node):
            self.add(node, f"defines {node.name} that always returns True (an always-equal object)")
        elif node.name in ("__eq__", "__instancecheck__", "__subclasscheck__"):
            self.add(node, f"defines {node.name} (objects that compare or type-check specially)")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]


def _python_source(source: str) -> str:
    """IPython syntax (``%magic``, ``!cmd``) -> plain Python, for parsing only."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - IPython missing or a transform error: parse the raw text
        return source


def scan_source(source: str, modules: Iterable[str] = ()) -> list[Finding]:
    """Tampering primitives in one cell of student code (empty when the cell does not parse)."""
    try:
        tree = ast.parse(_python_source(source))
    except (SyntaxError, ValueError):
        return []
    scanner = _Scanner(set(modules))
    scanner.visit(tree)
    seen: set[tuple[int, str]] = set()
    out = []
    for f in scanner.findings:
        if (f.line, f.what) not in seen:
            seen.add((f.line, f.what))
            out.append(f)
    return out


def _import_nodes(sources: Iterable[str]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in ``sources`` that parses (cells that do not parse are skipped)."""
    for source in sources:
        try:
            tree = ast.parse(_python_source(source))
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                yield node


def imported_modules(sources: Iterable[str]) -> list[str]:
    """Absolute module names imported by ``sources`` (the instructor's locked cells), in order."""
    names: list[str] = []
    for node in _import_nodes(sources):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif node.module and not node.level:
            names.append(node.module)
            names += [f"{node.module}.{a.name}" for a in node.names if a.name != "*"]
    return list(dict.fromkeys(names))


def bound_module_names(sources: Iterable[str]) -> set[str]:
    """Names that ``sources`` bind to imported modules (``pd``, ``checks`` ...), for the static scan."""
    bound: set[str] = set()
    for node in _import_nodes(sources):
        if isinstance(node, ast.Import):
            bound |= {a.asname or a.name.split(".")[0] for a in node.names}
        else:
            bound |= {a.asname or a.name for a in node.names}
    return bound
