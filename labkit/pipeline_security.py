"""Security checks in the pipeline: a small vulnerable app for bandit, an OSV advisory snapshot, a combined gate.

::

    from labkit import pipeline_security as ps
    with ps.vulnerable_app("v1") as root:       # a folder with the course's deliberately unsafe "shop" package
        report = ps.run_bandit(root)            # the real `bandit -f json -q -r .`, parsed
    ps.advisories()                             # hand-made OSV records (course data, offline)
    ps.audit({"tinyhttp": "1.10.0"}, ps.advisories())   # reference dependency check

Why it is built this way:

- **bandit runs for real** (``python -m bandit``, pinned in requirements.txt), so the exercises read the same JSON
  a CI job would read. Bandit exits 1 when it finds anything; that is a result, not a crash, so only exit codes
  above 1 (or unreadable output) raise :class:`SecurityToolError`.
- The **vulnerable app is stored as text** in this module and written to a temporary folder on demand: the
  unsafe code never sits in the lab kit as importable Python (ruff, mypy and the course's own bandit run would
  flag it), and every run starts from the same files. ``v2`` is ``v1`` plus a feature branch's edits: lines
  above old findings shift, and two new problems arrive — the case a line-number baseline gets wrong.
- The **advisories are course data**: invented packages (``tinyhttp``, ``yamlish`` ...) in the OSV schema
  (https://ossf.github.io/osv-schema/), ``ecosystem: PyPI``, with ``ECOSYSTEM`` ranges of ``introduced`` /
  ``fixed`` / ``last_affected`` events and a GitHub-style ``database_specific.severity``. Nothing here describes a
  real vulnerability; ids start with ``COURSE-``.
- :func:`is_affected` is the reference reading of the OSV evaluation rules with ``packaging.version``: a version
  is affected when any ``versions`` entry equals it or it falls in any range; ``introduced`` is inclusive,
  ``fixed`` exclusive, ``last_affected`` inclusive; ``"0"`` means "from the first version".
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

__all__ = [
    "SEVERITY_ORDER",
    "SecurityToolError",
    "advisories",
    "audit",
    "is_affected",
    "run_bandit",
    "vulnerable_app",
    "write_vulnerable_app",
]

#: Severities from least to most serious. Compare positions in this tuple, never the strings themselves
#: ("HIGH" < "LOW" < "MEDIUM" alphabetically). OSV/GitHub advisories add CRITICAL above bandit's HIGH.
SEVERITY_ORDER = ("UNDEFINED", "LOW", "MEDIUM", "HIGH", "CRITICAL")


class SecurityToolError(RuntimeError):
    """A scanner could not run or produced unreadable output; the message says what to try."""


# ------------------------------------------------------------------------------------------ the vulnerable app
_V1: dict[str, str] = {
    "shop/__init__.py": '"""A deliberately unsafe shop (course data for bandit). Do not deploy."""\n',
    "shop/db.py": (
        "import sqlite3\n\n"
        'DB_PASSWORD = "hunter2"\n\n\n'
        "def find_user(conn: sqlite3.Connection, name: str):\n"
        "    query = \"SELECT id, name FROM users WHERE name = '%s'\" % name\n"
        "    return conn.execute(query).fetchall()\n"
    ),
    "shop/tools.py": (
        "import hashlib\n"
        "import random\n\n\n"
        "def checksum(data: bytes) -> str:\n"
        "    return hashlib.md5(data).hexdigest()\n\n\n"
        "def coupon_code() -> str:\n"
        "    return str(random.randint(100000, 999999))\n"
    ),
    "shop/config.py": ("import yaml\n\n\ndef load(text: str):\n    return yaml.load(text, Loader=yaml.Loader)\n"),
}

_V2_CHANGES: dict[str, str] = {
    "shop/tools.py": (
        '"""Small helpers for the shop.\n\nThe checksum is only used to name cache files.\n"""\n\n'
        "import hashlib\n"
        "import random\n"
        "import subprocess\n\n\n"
        "def checksum(data: bytes) -> str:\n"
        "    return hashlib.md5(data).hexdigest()\n\n\n"
        "def coupon_code() -> str:\n"
        "    return str(random.randint(100000, 999999))\n\n\n"
        "def ping(host: str) -> int:\n"
        '    return subprocess.call("ping -c 1 " + host, shell=True)\n'
    ),
    "shop/config.py": (
        "import yaml\n\n\n"
        "def load(text: str):\n"
        "    return yaml.load(text, Loader=yaml.Loader)\n\n\n"
        "def calculate(expression: str):\n"
        "    return eval(expression)\n"
    ),
}

VERSIONS = ("v1", "v2")


def write_vulnerable_app(dest: str | Path, version: str = "v1") -> Path:
    """Write the unsafe ``shop`` package into ``dest`` (created if needed) and return ``dest``.

    ``v1`` is what is on main (the baseline); ``v2`` adds a module docstring above old findings in
    ``shop/tools.py`` (their line numbers move) plus a ``shell=True`` call and an ``eval``.
    """
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}; got {version!r}.")
    root = Path(dest)
    files = dict(_V1)
    if version == "v2":
        files.update(_V2_CHANGES)
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


@contextmanager
def vulnerable_app(version: str = "v1") -> Iterator[Path]:
    """A temporary folder holding the unsafe app; removed when the block ends."""
    root = Path(tempfile.mkdtemp(prefix="labkit-vulnapp-"))
    try:
        yield write_vulnerable_app(root, version)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_bandit(root: str | Path, *, extra_args: Sequence[str] = (), timeout: float = 60) -> dict[str, Any]:
    """Run ``bandit -f json -q -r .`` inside ``root`` and return its parsed JSON report.

    Filenames in the report are relative to ``root`` (``shop/db.py``: the leading ``./`` is dropped) so that
    reports of two checkouts of the same code can be compared. Exit code 1 means "issues found" and is fine.
    """
    folder = Path(root)
    if not folder.is_dir():
        raise FileNotFoundError(f"no folder {folder}: pass the folder that holds the code to scan.")
    cmd = [sys.executable, "-m", "bandit", "-f", "json", "-q", "-r", ".", *extra_args]
    res = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=timeout, check=False)
    if res.returncode not in (0, 1):
        raise SecurityToolError(f"bandit exited with {res.returncode}: {res.stderr.strip()[-500:]}")
    try:
        report: dict[str, Any] = json.loads(res.stdout)
    except json.JSONDecodeError as exc:
        raise SecurityToolError(f"bandit printed no JSON report ({exc}); stderr: {res.stderr.strip()[-500:]}") from exc
    for item in report.get("results", []):
        name = str(item.get("filename", ""))
        item["filename"] = name[2:] if name.startswith("./") else name
    return report


# ---------------------------------------------------------------------------------------- advisories (OSV)
def _record(
    osv_id: str,
    package: str,
    summary: str,
    severity: str,
    ranges: list[list[dict[str, str]]],
    *,
    versions: Sequence[str] = (),
) -> dict[str, Any]:
    affected: dict[str, Any] = {
        "package": {"ecosystem": "PyPI", "name": package},
        "ranges": [{"type": "ECOSYSTEM", "events": events} for events in ranges],
    }
    if versions:
        affected["versions"] = list(versions)
    return {
        "schema_version": "1.6.0",
        "id": osv_id,
        "modified": "2026-11-02T00:00:00Z",
        "summary": f"[course data, not a real advisory] {summary}",
        "affected": [affected],
        "database_specific": {"severity": severity},
    }


def advisories() -> list[dict[str, Any]]:
    """The course's OSV snapshot: a fresh list of dicts each call (safe to modify)."""
    return [
        _record("COURSE-2026-0001", "tinyhttp", "Header injection in redirects", "HIGH",
                [[{"introduced": "1.2.0"}, {"fixed": "1.9.3"}], [{"introduced": "2.0.0"}, {"fixed": "2.0.2"}]]),
        _record("COURSE-2026-0002", "yamlish", "Arbitrary object construction in load()", "CRITICAL",
                [[{"introduced": "0"}, {"fixed": "5.4"}]]),
        _record("COURSE-2026-0003", "fastjsonx", "Quadratic parsing of long keys", "MEDIUM",
                [[{"introduced": "3.0.0"}, {"last_affected": "3.4.1"}]]),
        _record("COURSE-2026-0004", "py-logkit", "Log lines can forge new records", "LOW",
                [[{"introduced": "0.5.0"}, {"fixed": "0.5.7"}, {"introduced": "0.6.0"}, {"fixed": "0.6.2"}]]),
        _record("COURSE-2026-0005", "tinyhttp", "Cookie parser reads past the buffer", "MEDIUM",
                [[{"introduced": "1.10.0"}, {"fixed": "1.10.4"}]], versions=["1.10.0", "1.10.1", "1.10.2", "1.10.3"]),
    ]  # fmt: skip


def _in_events(version: Version, events: Sequence[Mapping[str, str]]) -> bool:
    """Walk the events in version order, as the OSV spec's evaluation pseudo-code does."""

    def key(event: Mapping[str, str]) -> Version:
        value = next(iter(event.values()))
        return Version("0") if value == "0" else Version(value)

    affected = False
    for event in sorted(events, key=key):
        (kind, value), *_ = event.items()
        bound = Version("0") if value == "0" else Version(value)
        if kind == "introduced" and version >= bound:
            affected = True
        elif (kind == "fixed" and version >= bound) or (kind == "last_affected" and version > bound):
            affected = False
    return affected


def is_affected(package: str, version: str, advisory: Mapping[str, Any]) -> bool:
    """True when ``package==version`` (PyPI) is affected by the OSV ``advisory``; names are PEP 503 normalised."""
    try:
        parsed = Version(version)
    except InvalidVersion as exc:
        raise ValueError(f"{version!r} is not a PEP 440 version (e.g. '1.10.0').") from exc
    for entry in advisory.get("affected", []):
        pkg = entry.get("package", {})
        if pkg.get("ecosystem") != "PyPI" or canonicalize_name(pkg.get("name", "")) != canonicalize_name(package):
            continue
        if any(Version(v) == parsed for v in entry.get("versions", [])):
            return True
        for rng in entry.get("ranges", []):
            if rng.get("type") == "ECOSYSTEM" and _in_events(parsed, rng.get("events", [])):
                return True
    return False


def audit(pins: Mapping[str, str], records: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Reference dependency check: one row per (pinned package, advisory that affects it), sorted."""
    rows = [
        {"package": name, "version": version, "id": str(rec["id"]),
         "severity": str(rec.get("database_specific", {}).get("severity", "UNDEFINED"))}
        for name, version in pins.items()
        for rec in records
        if is_affected(name, version, rec)
    ]  # fmt: skip
    return sorted(rows, key=lambda r: (r["package"], r["id"]))
