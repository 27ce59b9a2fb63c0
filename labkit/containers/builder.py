"""Detect an image builder (docker, podman, buildah with a running engine) and build for real where one exists."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    pass


@dataclass(frozen=True)
class Builder:
    """The image builder found on this machine: ``name`` (``None`` when none), ``engine`` (can it build now?)."""

    name: str | None
    path: str | None
    engine: bool
    detail: str


_PROBES: dict[str, list[str]] = {
    "podman": ["info", "--format", "{{.Version.Version}}"],
    "buildah": ["version"],
    "docker": ["version", "--format", "{{.Server.Version}}"],
}


def detect_builder(timeout: float = 5.0, names: Sequence[str] = ("podman", "buildah", "docker")) -> Builder:
    """Find a builder that can build right now: its CLI on ``PATH`` *and* its engine answering.

    Each probe is bounded by ``timeout`` seconds. A docker CLI without a running daemon (this course machine) is
    reported with ``engine=False`` and the reason, so a notebook can say honestly that nothing is built.
    """
    first_found: Builder | None = None
    for name in names:
        path = shutil.which(name)
        if path is None:
            continue
        try:
            out = subprocess.run(
                [path, *_PROBES.get(name, ["version"])], capture_output=True, text=True, timeout=timeout, check=False
            )
            ok = out.returncode == 0 and bool(out.stdout.strip())
            detail = out.stdout.strip() if ok else (out.stderr.strip() or out.stdout.strip())
        except subprocess.TimeoutExpired:
            ok, detail = False, f"no answer within {timeout:g} s"
        except OSError as err:
            ok, detail = False, str(err)
        found = Builder(name, path, ok, detail.splitlines()[0][:300] if detail else "")
        if ok:
            return found
        first_found = first_found or found
    if first_found is not None:
        return first_found
    return Builder(None, None, False, "no podman, buildah or docker on PATH")


def build_image(
    context: str | Path, tag: str, builder: Builder, *, dockerfile: str = "Dockerfile", timeout: float = 600.0
) -> subprocess.CompletedProcess[str]:
    """Build ``context`` into ``tag`` with ``builder`` (from :func:`detect_builder`); output captured, bounded.

    Raises ``RuntimeError`` when the builder has no engine: say so rather than pretend.
    """
    if not builder.engine or builder.path is None:
        raise RuntimeError(f"cannot build: {builder.name or 'no builder'} has no working engine ({builder.detail})")
    sub = ["bud"] if builder.name == "buildah" else ["build"]
    argv = [builder.path, *sub, "-t", tag, "-f", str(Path(context) / dockerfile), str(context)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
