"""Continuous-integration helpers for weeks 6–8: workflow files, scratch projects and pytest runs.

* :func:`load_workflow` reads a GitHub Actions workflow the way GitHub does (YAML 1.2: ``on:`` stays the
  string ``"on"``, it does not become ``True`` as in PyYAML's YAML 1.1 default).
* :func:`validate_workflow` checks it against the real workflow JSON schema that ``check-jsonschema`` bundles
  (``check-jsonschema --builtin-schema vendor.github-workflows ci.yml`` does the same from a shell), offline.
* :func:`scratch_project` writes a small Python project (a shop with unit, integration and end-to-end tests by
  default, :data:`SAMPLE_PROJECT`) into a temporary folder that is removed when the ``with`` block ends.
* :func:`run_pytest` runs pytest in a project with ``--junitxml``: one DataFrame row per test case.
* :func:`tool_env` is the environment for CI steps: this interpreter's ``bin`` folder first on ``PATH``.

Nothing runs at import time::

    from labkit import ci
    with ci.scratch_project() as project:
        run = ci.run_pytest(project)
        print(run.tests.groupby("outcome").size())
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "WorkflowError",
    "load_workflow",
    "workflow_schema",
    "validate_workflow",
    "tool_env",
    "SAMPLE_PROJECT",
    "scratch_project",
    "PytestRun",
    "run_pytest",
    "read_junit",
]


class WorkflowError(ValueError):
    """A workflow file could not be read (YAML syntax, or not a mapping at the top)."""


# -- reading workflows ---------------------------------------------------------------------------------------
def _yaml12_loader() -> type:
    """A PyYAML SafeLoader whose booleans are YAML 1.2's (only true/false), as GitHub's parser reads them."""
    import re

    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    bool_re = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
    Loader.add_implicit_resolver("tag:yaml.org,2002:bool", bool_re, list("tTfF"))
    return Loader


def load_workflow(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """Parse a workflow: YAML text (a ``str``), a file (a ``Path``) or an already parsed mapping (copied).

    Raises :class:`WorkflowError` with the line and column when the YAML is broken.
    """
    import yaml

    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source))
    if isinstance(source, Path):
        if not source.is_file():
            raise WorkflowError(f"workflow file {str(source)!r} does not exist: check the path")
        text = source.read_text()
    elif isinstance(source, str):
        text = source
    else:
        raise TypeError(
            "load_workflow expects YAML text (str), a pathlib.Path or a dict, "
            f"found {type(source).__name__}; "
            "to read a file pass Path('ci.yml')"
        )
    try:
        data = yaml.load(text, Loader=_yaml12_loader())
    except yaml.YAMLError as err:
        raise WorkflowError(f"the workflow is not valid YAML: {err}. Check indentation and colons.") from None
    if not isinstance(data, dict):
        raise WorkflowError(
            f"a workflow must be a YAML mapping with keys like 'on' and 'jobs', found {type(data).__name__}: "
            f"{str(data)[:80]!r}"
        )
    return data


@functools.lru_cache(maxsize=1)
def _schema_text() -> str:
    files = resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "github-workflows.json"
    return files.read_text(encoding="utf-8")


def workflow_schema() -> dict[str, Any]:
    """The GitHub workflow JSON schema bundled with check-jsonschema (schemastore.org's; a fresh copy)."""
    return json.loads(_schema_text())


def json_path(path: Any) -> str:
    """A jsonschema error location as ``$.jobs.test[0]`` (what the course's schema messages show)."""
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.replace("_", "").isalnum():
            out += f".{part}"
        else:
            out += f"[{part!r}]"
    return out


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema.validators import validator_for

    schema = workflow_schema()
    cls = validator_for(schema)
    return cls(schema)


def validate_workflow(source: str | Path | Mapping[str, Any]) -> list[str]:
    """Problems the real workflow schema finds: ``"$.jobs.test: 'runs-on' is a required property"`` lines.

    An empty list means the workflow is valid. When a part matches none of the schema's alternatives (a job is
    either a normal job or a call to a reusable workflow), the problems are those of the closest alternative,
    as check-jsonschema's "best match" picks it.
    """
    return schema_problems(_validator(), load_workflow(source))


def schema_problems(validator: Any, data: Any) -> list[str]:
    """Every problem ``validator`` (a jsonschema validator) finds in ``data``, as sorted ``"$.path: message"``
    lines: for a ``oneOf``/``anyOf`` the alternative closest to matching (:func:`closest_errors`)."""
    problems: list[str] = []
    for error in validator.iter_errors(data):
        for leaf in closest_errors(error):
            line = f"{json_path(leaf.absolute_path)}: {leaf.message}"
            if line not in problems:
                problems.append(line)
    return sorted(problems)


def _rank(error: Any) -> int:
    """How vague a message is: a missing or unexpected key says most, a failed regular expression least."""
    return {"pattern": 2, "type": 1, "enum": 1}.get(error.validator, 0)


def closest_errors(error: Any) -> list[Any]:
    """The leaf errors of the alternative closest to matching, one per location (a wrong type last).

    The closest alternative is the one with the fewest problems at the error's own level (so a job that has
    ``runs-on`` and ``steps`` is judged as a normal job, not as a call to a reusable workflow).
    """
    if not error.context:
        return [error]
    branches: dict[Any, list[Any]] = {}
    for sub in error.context:
        key = sub.relative_schema_path[0] if sub.relative_schema_path else None
        branches.setdefault(key, []).append(sub)
    depth = len(error.absolute_path)

    def leaves_of(errors: list[Any]) -> list[Any]:
        by_path: dict[tuple[Any, ...], Any] = {}
        for sub in errors:
            for leaf in closest_errors(sub):
                key = tuple(leaf.absolute_path)
                if key not in by_path or _rank(leaf) < _rank(by_path[key]):
                    by_path[key] = leaf
        return list(by_path.values())

    def score(leaves: list[Any]) -> tuple[int, int, int]:
        own = [leaf for leaf in leaves if len(leaf.absolute_path) <= depth]
        return (len(own), sum(_rank(leaf) for leaf in own), -max(len(leaf.absolute_path) for leaf in leaves))

    candidates = [leaves_of(errors) for errors in branches.values()]
    return min(candidates, key=score)


# -- running things ------------------------------------------------------------------------------------------
def tool_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """``os.environ`` with this Python's ``bin`` folder first on ``PATH`` (``python``, ``pytest`` are ours).

    Also sets ``PYTHONDONTWRITEBYTECODE=1`` (no ``__pycache__`` left behind) and
    ``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1`` (the course environment has heavy pytest plugins — nbval imports
    Jupyter — that would add seconds to every pytest start; a project that needs one loads it with
    ``-p name``), turns colour codes off (``NO_COLOR=1``, ``PY_COLORS=0``), drops ``PYTHONPATH``, and merges
    ``extra`` (values as str).
    """
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    # output is captured into strings, not shown on a terminal: no colour codes (Jupyter sets FORCE_COLOR)
    for key in ("FORCE_COLOR", "CLICOLOR_FORCE"):
        env.pop(key, None)
    env["NO_COLOR"] = "1"
    env["PY_COLORS"] = "0"
    env.pop("PYTHONPATH", None)
    for key, value in (extra or {}).items():
        env[str(key)] = str(value)
    return env


# -- the sample project --------------------------------------------------------------------------------------
_PYPROJECT = """\
[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.11"

[tool.pytest.ini_options]
pythonpath = ["src"]
testpaths = ["tests"]
"""

_PRICING = '''\
"""Prices in cents, so that money never meets floating point."""

COUPONS = {"SAVE10": 10, "HALF": 50}
TAX_PERCENT = 20


def subtotal(lines: list[tuple[int, int]]) -> int:
    """Sum of quantity * unit price (cents) over order lines."""
    if any(qty <= 0 or price < 0 for qty, price in lines):
        raise ValueError("quantities must be positive and prices non-negative")
    return sum(qty * price for qty, price in lines)


def discount(amount: int, coupon: str | None) -> int:
    if coupon is None:
        return 0
    if coupon not in COUPONS:
        raise KeyError(f"unknown coupon {coupon!r}")
    return amount * COUPONS[coupon] // 100


def total(lines: list[tuple[int, int]], coupon: str | None = None) -> int:
    net = subtotal(lines)
    net -= discount(net, coupon)
    return net + net * TAX_PERCENT // 100
'''

_STORE = '''\
"""A tiny order store on SQLite (a real database file, so its tests are integration tests)."""

import sqlite3
from pathlib import Path

from shop.pricing import total


class OrderStore:
    def __init__(self, path: str | Path) -> None:
        self.db = sqlite3.connect(str(path))
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, customer TEXT, cents INTEGER)"
        )

    def place(self, customer: str, lines: list[tuple[int, int]], coupon: str | None = None) -> int:
        with self.db:
            cur = self.db.execute("INSERT INTO orders (customer, cents) VALUES (?, ?)",
                                  (customer, total(lines, coupon)))
        return int(cur.lastrowid)

    def revenue(self) -> int:
        return int(self.db.execute("SELECT COALESCE(SUM(cents), 0) FROM orders").fetchone()[0])

    def close(self) -> None:
        self.db.close()
'''

_MAIN = '''\
"""Command line: python -m shop 2x999 1x500 --coupon SAVE10  ->  prints the total in cents."""

import argparse

from shop.pricing import total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shop")
    parser.add_argument("lines", nargs="+", help="QTYxCENTS, e.g. 2x999")
    parser.add_argument("--coupon")
    args = parser.parse_args(argv)
    lines = [tuple(int(part) for part in line.split("x")) for line in args.lines]
    print(total(lines, args.coupon))
    return 0


raise SystemExit(main())
'''

_UNIT_TESTS = """\
import pytest

from shop.pricing import discount, subtotal, total


@pytest.mark.parametrize("qty", range(1, 21))
def test_subtotal_scales_with_quantity(qty):
    assert subtotal([(qty, 250)]) == qty * 250


@pytest.mark.parametrize("coupon,expected", [(None, 0), ("SAVE10", 100), ("HALF", 500)])
def test_discount(coupon, expected):
    assert discount(1000, coupon) == expected


@pytest.mark.parametrize("lines", [[(0, 100)], [(-1, 100)], [(1, -5)]])
def test_subtotal_rejects_bad_lines(lines):
    with pytest.raises(ValueError):
        subtotal(lines)


def test_unknown_coupon():
    with pytest.raises(KeyError):
        discount(100, "FREE")


@pytest.mark.parametrize("lines,coupon,expected", [
    ([(1, 1000)], None, 1200),
    ([(2, 999), (1, 500)], "SAVE10", 2698),
    ([(1, 1000)], "HALF", 600),
])
def test_total(lines, coupon, expected):
    assert total(lines, coupon) == expected
"""

_INTEGRATION_TESTS = """\
from shop.store import OrderStore


def test_place_and_revenue(tmp_path):
    store = OrderStore(tmp_path / "shop.db")
    store.place("ann", [(1, 1000)])
    store.place("ben", [(2, 500)], "HALF")
    assert store.revenue() == 1200 + 600
    store.close()


def test_orders_survive_a_reconnect(tmp_path):
    store = OrderStore(tmp_path / "shop.db")
    order_id = store.place("ann", [(3, 100)])
    store.close()
    again = OrderStore(tmp_path / "shop.db")
    assert again.revenue() == 360 and order_id == 1
    again.close()


def test_many_orders(tmp_path):
    store = OrderStore(tmp_path / "shop.db")
    for i in range(1, 11):
        store.place(f"c{i}", [(1, 100)])
    assert store.revenue() == 10 * 120
    store.close()


def test_empty_store(tmp_path):
    store = OrderStore(tmp_path / "shop.db")
    assert store.revenue() == 0
    store.close()
"""

_E2E_TESTS = """\
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def shop(*args):
    env = dict(os.environ, PYTHONPATH=str(SRC))
    return subprocess.run([sys.executable, "-m", "shop", *args], capture_output=True, text=True, env=env,
                          timeout=60)


def test_quote_without_coupon():
    out = shop("1x1000")
    assert out.returncode == 0 and out.stdout.strip() == "1200"


def test_quote_with_coupon():
    assert shop("2x999", "1x500", "--coupon", "SAVE10").stdout.strip() == "2698"


def test_unknown_coupon_fails():
    assert shop("1x1000", "--coupon", "FREE").returncode != 0
"""

#: The default scratch project: a shop package with 30 unit, 4 integration and 3 end-to-end tests.
SAMPLE_PROJECT: dict[str, str] = {
    "pyproject.toml": _PYPROJECT,
    "src/shop/__init__.py": '"""A tiny shop used to practise CI."""\n',
    "src/shop/pricing.py": _PRICING,
    "src/shop/store.py": _STORE,
    "src/shop/__main__.py": _MAIN,
    "tests/unit/test_pricing.py": _UNIT_TESTS,
    "tests/integration/test_store.py": _INTEGRATION_TESTS,
    "tests/e2e/test_cli.py": _E2E_TESTS,
}


def _write_files(root: Path, files: Mapping[str, str | None]) -> None:
    for rel, content in files.items():
        target = (root / rel).resolve()
        if root.resolve() not in target.parents:
            raise ValueError(f"file {rel!r} would be written outside the project; use a relative path like 'src/x.py'")
        if content is None:
            if target.exists():
                target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)


@contextmanager
def scratch_project(
    files: Mapping[str, str] | None = None,
    *,
    changes: Mapping[str, str | None] | None = None,
) -> Iterator[Path]:
    """A temporary project folder (removed afterwards, also on error): ``files`` or :data:`SAMPLE_PROJECT`.

    ``changes`` edits the files before you get the folder (``None`` deletes one), e.g. to break a test::

        bug = {"tests/unit/test_bug.py": "def test_bug():\\n    assert 1 == 2\\n"}
        with ci.scratch_project(changes=bug) as project:
            ...
    """
    if files is not None and not isinstance(files, Mapping):
        raise TypeError(f"files must be a mapping of relative path -> text, found {type(files).__name__}")
    root = Path(tempfile.mkdtemp(prefix="labkit-ci-"))
    try:
        project = root / "project"
        project.mkdir()
        _write_files(project, SAMPLE_PROJECT if files is None else files)
        if changes:
            _write_files(project, changes)
        yield project
    finally:
        shutil.rmtree(root, ignore_errors=True)


# -- pytest runs ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PytestRun:
    """One pytest run: exit code, wall-clock seconds, combined output and one row per test case."""

    returncode: int
    seconds: float
    output: str
    tests: pd.DataFrame


_JUNIT_COLUMNS = ["classname", "name", "seconds", "outcome"]


def read_junit(path: str | Path) -> pd.DataFrame:
    """JUnit XML (pytest ``--junitxml``) → DataFrame: classname, name, seconds (float), outcome.

    ``outcome`` is ``passed``, ``failed``, ``error`` or ``skipped``.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no JUnit XML report at {str(path)!r}: did pytest run with --junitxml={path}?")
    rows = []
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome = "passed"
        for tag in ("failure", "error", "skipped"):
            if case.find(tag) is not None:
                outcome = {"failure": "failed"}.get(tag, tag)
                break
        rows.append(
            {
                "classname": case.get("classname", ""),
                "name": case.get("name", ""),
                "seconds": float(case.get("time", "0") or 0),
                "outcome": outcome,
            }
        )
    frame = pd.DataFrame(rows, columns=_JUNIT_COLUMNS)
    return frame.astype({"classname": "object", "name": "object", "seconds": "float64", "outcome": "object"})


def run_pytest(
    project: str | Path,
    *args: str,
    timeout: float = 120.0,
    env: Mapping[str, str] | None = None,
) -> PytestRun:
    """Run ``python -m pytest -q -p no:cacheprovider --junitxml=... <args>`` in ``project``.

    Returns a :class:`PytestRun` even when tests fail (look at ``returncode`` and ``tests.outcome``). Raises
    ``TimeoutError`` if pytest runs longer than ``timeout`` seconds (the process group is killed).
    """
    project = Path(project)
    if not project.is_dir():
        raise FileNotFoundError(f"project folder {str(project)!r} does not exist; use `with ci.scratch_project() as p`")
    with tempfile.TemporaryDirectory(prefix="labkit-junit-") as tmp:
        report = Path(tmp) / "report.xml"
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *args]
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            cwd=project,
            env=tool_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise TimeoutError(f"pytest ran longer than {timeout} s in {project}; look for a hanging test") from None
        seconds = time.perf_counter() - started
        if proc.returncode in (4, 5) or not report.exists():
            # 4: usage error, 5: no tests collected — still a result, with an empty table
            import pandas as pd

            tests = pd.DataFrame(
                {c: pd.Series(dtype="float64" if c == "seconds" else "object") for c in _JUNIT_COLUMNS}
            )
            if report.exists():
                tests = read_junit(report)
        else:
            tests = read_junit(report)
    return PytestRun(returncode=proc.returncode, seconds=seconds, output=output, tests=tests)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    import signal

    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
