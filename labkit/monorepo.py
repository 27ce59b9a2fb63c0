"""Enterprise trunk-based development: a monorepo with internal packages, an organisation's history, flagged code.

Week 22 scales week 7's monorepo CI up to several teams on one trunk. This module only builds the *material*
the exercises work on — it never computes an answer for the student:

- :func:`scratch_monorepo` — a real git repository (a :mod:`labkit.git` scratch repo) laid out like the
  syllabus' monorepo: ``services/<name>/`` owned by teams, ``shared/<name>/`` internal packages, each with a
  ``package.json`` whose ``dependencies`` use npm caret ranges (``"@company/auth-types": "^1.2.0"``).
- :func:`packages` — the ``package.json`` files of the monorepo **at a revision** (read with ``git show``, so
  the graph is the one the pull request would merge, not whatever the working tree holds).
- :func:`org_history` — a generated, seeded two-week history of pull requests and CI builds for four teams,
  as pandas DataFrames (the input of a TBD dashboard).
- :func:`flag_tree` — a small Python source tree with feature-flag checks, decoys (comments, strings, a flag
  registry) and a manifest of the features that must be behind a flag.

Everything temporary is created inside ``with`` blocks and removed when the block ends.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from labkit import git

__all__ = [
    "LAYOUT",
    "OrgHistory",
    "Package",
    "TEAMS",
    "flag_tree",
    "org_history",
    "package_json",
    "packages",
    "scratch_monorepo",
]

#: directory -> (package name, version, dependencies with caret ranges). The shape of the syllabus' monorepo:
#: three teams' services, shared types and utilities, plus two SDK packages built on them.
LAYOUT: dict[str, tuple[str, str, dict[str, str]]] = {
    "shared/types": ("@company/types", "1.4.0", {}),
    "shared/utils": ("@company/utils", "0.3.1", {}),
    "shared/auth-types": ("@company/auth-types", "1.2.4", {"@company/types": "^1.3.0"}),
    "shared/payment-sdk": ("@company/payment-sdk", "2.1.0", {"@company/utils": "^0.3.0"}),
    "services/auth-service": ("@company/auth-service", "3.0.2", {"@company/auth-types": "^1.2.0"}),
    "services/payment-service": ("@company/payment-service", "1.8.0", {"@company/payment-sdk": "^2.1.0"}),
    "services/order-service": (
        "@company/order-service",
        "2.5.1",
        {"@company/auth-types": "^1.2.0", "@company/payment-sdk": "^2.1.0"},
    ),
    "services/search-service": ("@company/search-service", "0.9.0", {}),
}


def package_json(name: str, version: str, dependencies: Mapping[str, str]) -> str:
    """The text of a ``package.json`` (2-space indent, trailing newline: what ``npm init`` writes)."""
    return json.dumps({"name": name, "version": version, "dependencies": dict(dependencies)}, indent=2) + "\n"


def _initial_files() -> dict[str, str]:
    files: dict[str, str] = {}
    for directory, (name, version, deps) in LAYOUT.items():
        files[f"{directory}/package.json"] = package_json(name, version, deps)
        files[f"{directory}/index.js"] = f"// {name}\nmodule.exports = {{}};\n"
    files["docs/architecture.md"] = "# Architecture\n\nServices own their data; shared/ holds internal packages.\n"
    files[".github/workflows/ci.yml"] = "on: [push, pull_request]\njobs: {}\n"
    return files


@contextmanager
def scratch_monorepo() -> Iterator[git.ScratchRepo]:
    """A real git repository on ``main`` holding the :data:`LAYOUT` monorepo; removed when the block ends.

    The layout is one commit after the scratch repository's initial commit. Create branches and commits with
    the usual :class:`labkit.git.ScratchRepo` methods (``repo.branch``, ``repo.commit(files=...)``).
    """
    with git.scratch_repo(
        [git.Commit("feat: monorepo with services and shared packages", files=_initial_files())]
    ) as repo:
        yield repo


@dataclass(frozen=True)
class Package:
    """One ``package.json`` of the monorepo: where it lives, its npm name and its declared dependencies."""

    directory: str
    name: str
    version: str
    dependencies: dict[str, str] = field(default_factory=dict)


def packages(repo_dir: str | Path, rev: str = "HEAD") -> dict[str, Package]:
    """Every ``services/*/package.json`` and ``shared/*/package.json`` at ``rev``, keyed by directory.

    Read from git (``git ls-tree`` + ``git show rev:path``) rather than the working tree, so the dependency
    graph is the one of the revision you ask about. Raises ``ValueError`` with what to try when ``rev`` is
    unknown or a ``package.json`` is not valid JSON.
    """
    cwd = str(repo_dir)

    def run(*args: str) -> str:
        done = subprocess.run(["git", "-C", cwd, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ValueError(f"git {' '.join(args)} failed: {done.stderr.strip()} — is {rev!r} a branch or commit?")
        return done.stdout

    found: dict[str, Package] = {}
    for path in run("ls-tree", "-r", "--name-only", "-z", rev).split("\0"):
        parts = path.split("/")
        if len(parts) != 3 or parts[0] not in ("services", "shared") or parts[2] != "package.json":
            continue
        try:
            data = json.loads(run("show", f"{rev}:{path}"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} at {rev} is not valid JSON ({exc}); fix the file and commit again") from exc
        directory = f"{parts[0]}/{parts[1]}"
        found[directory] = Package(
            directory, str(data["name"]), str(data.get("version", "0.0.0")), dict(data.get("dependencies", {}))
        )
    return dict(sorted(found.items()))


# -- an organisation's pull requests and builds -----------------------------------------------------------
#: team -> (PRs per working day, mean branch lifetime h, mean review wait h, build failure share). Chosen so
#: that each team misses a different target (and "platform" meets them all).
TEAMS: dict[str, tuple[float, float, float, float]] = {
    "auth": (3.0, 6.0, 0.8, 0.02),
    "payments": (2.0, 30.0, 1.2, 0.03),
    "orders": (0.6, 10.0, 0.7, 0.02),
    "platform": (4.0, 3.0, 3.5, 0.15),
}


@dataclass(frozen=True)
class OrgHistory:
    """A generated history: ``prs`` (one row per pull request) and ``builds`` (one row per CI run).

    ``prs`` columns: ``team``, ``branch``, ``opened``, ``first_review`` and ``merged`` (timestamps; ``merged``
    is ``NaT`` for a pull request still open at the end). ``builds`` columns: ``team``, ``branch``,
    ``started``, ``status`` (``"success"``, ``"failure"`` or ``"cancelled"`` — superseded by a newer push).
    ``start`` and ``days`` give the observed window: ``days`` working days from ``start``, read at 18:00 on the last.
    """

    prs: pd.DataFrame
    builds: pd.DataFrame
    start: datetime
    days: int


def org_history(seed: int = 22, days: int = 10, start: datetime = datetime(2026, 3, 2, 9, 0)) -> OrgHistory:
    """Two weeks (``days`` working days) of pull requests and CI builds for :data:`TEAMS`, reproducible by ``seed``."""
    rng = random.Random(seed)
    prs: list[dict[str, object]] = []
    builds: list[dict[str, object]] = []
    workdays = [d for d in (start + timedelta(days=i) for i in range(days + 4 * (days // 5 + 1))) if d.weekday() < 5]
    end = workdays[days - 1] + timedelta(hours=9)  # the dashboard is read at 18:00 on the last working day
    for team, (per_day, lifetime, review, fail) in TEAMS.items():
        n = 0
        for day in workdays[:days]:
            count = int(per_day) + (rng.random() < per_day - int(per_day))
            for _ in range(count):
                n += 1
                opened = day + timedelta(hours=rng.uniform(0, 7))
                first_review = opened + timedelta(hours=rng.expovariate(1 / review))
                life = max(rng.expovariate(1 / lifetime), (first_review - opened).total_seconds() / 3600 + 0.2)
                merged = opened + timedelta(hours=life)
                branch = f"{team}/change-{n}"
                prs.append(
                    {
                        "team": team,
                        "branch": branch,
                        "opened": opened,
                        "first_review": first_review,
                        "merged": merged if merged <= end else pd.NaT,
                    }
                )
                for k in range(rng.randint(1, 3)):
                    roll = rng.random()
                    status = "cancelled" if roll < 0.15 else "failure" if roll < 0.15 + fail else "success"
                    builds.append(
                        {
                            "team": team,
                            "branch": branch,
                            "started": opened + timedelta(minutes=20 * k),
                            "status": status,
                        }
                    )
    pr_frame = pd.DataFrame(prs)
    for column in ("opened", "first_review", "merged"):
        pr_frame[column] = pd.to_datetime(pr_frame[column]).dt.floor("min")  # minutes read better than microseconds
    build_frame = pd.DataFrame(builds)
    build_frame["started"] = pd.to_datetime(build_frame["started"]).dt.floor("min")
    return OrgHistory(pr_frame, build_frame, start, days)


# -- a source tree with feature flags ------------------------------------------------------------------------
_FLAG_TREE: dict[str, str] = {
    "features.json": json.dumps(
        {
            "features": [
                {"feature": "one-click checkout", "flag": "one_click_checkout", "team": "payments"},
                {"feature": "fuzzy search", "flag": "fuzzy_search", "team": "platform"},
                {"feature": "passkeys", "flag": "passkey_login", "team": "auth"},
                {"feature": "split shipments", "flag": "split_shipments", "team": "orders"},
                {"feature": "order export", "flag": "order_export", "team": "orders"},
            ]
        },
        indent=2,
    )
    + "\n",
    "app/flags.py": (
        '"""The flag registry: every flag the product knows, and its default."""\n\n'
        "FLAGS = {\n"
        '    "one_click_checkout": False,\n'
        '    "fuzzy_search": False,\n'
        '    "passkey_login": False,\n'
        '    "split_shipments": False,\n'
        '    "order_export": False,\n'
        '    "legacy_cart": True,\n'
        "}\n\n\n"
        "def is_enabled(name: str) -> bool:\n"
        "    return FLAGS.get(name, False)\n"
    ),
    "app/checkout.py": (
        "from app import flags\n\n\n"
        "def checkout(cart):\n"
        '    if flags.is_enabled("one_click_checkout"):\n'
        '        return "one-click"\n'
        '    if flags.is_enabled("legacy_cart"):\n'
        '        return "legacy"\n'
        '    return "classic"\n'
    ),
    "app/search.py": (
        "from app import flags\n\n\n"
        "def search(query):\n"
        '    # TODO(platform): wrap in flags.is_enabled("fuzzy_search") before the release\n'
        "    return fuzzy(query)\n\n\n"
        "def fuzzy(query):\n"
        "    return [query]\n"
    ),
    "app/auth.py": (
        "from app import flags\n\n\n"
        "def login(user):\n"
        '    use_passkey = flags.is_enabled("passkey_login")\n'
        '    return "passkey" if use_passkey else "password"\n'
    ),
    "app/orders.py": (
        "from app import flags\n\n"
        "HELP = 'Set flags.is_enabled(\"split_shipments\") in the admin panel to try it.'\n\n\n"
        "def ship(order):\n"
        "    return [order]  # split shipments are live for everyone\n\n\n"
        "def export(orders):\n"
        '    if not flags.is_enabled("order_export"):\n'
        "        return None\n"
        '    return ",".join(orders)\n'
    ),
}


@contextmanager
def flag_tree(extra: Mapping[str, str] | None = None) -> Iterator[Path]:
    """A temporary copy of the flagged source tree (``features.json`` + ``app/*.py``); removed afterwards.

    ``extra`` adds or replaces files (path -> text), e.g. a new module or a different manifest.
    """
    root = Path(tempfile.mkdtemp(prefix="labkit-flags-"))
    try:
        for path, text in {**_FLAG_TREE, **(extra or {})}.items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)
