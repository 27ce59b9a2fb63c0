"""Static analysis is part of our Definition of Done (week 5 teaches it): ruff must be clean."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean_on_our_python_code():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.fail("ruff is not installed: pip install -r requirements.txt")
    out = subprocess.run([ruff, "check", "--output-format", "concise", "labkit", "autograder", "tests", "benchmarks"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, "ruff found problems (run `ruff check --fix` and fix the rest):\n" + out.stdout


def test_the_packages_are_ruff_formatted():
    """labkit and autograder are read by students: one layout, so a diff shows a change, never a reformat."""
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    out = subprocess.run([ruff, "format", "--check", "labkit", "autograder"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, "run `ruff format labkit autograder`:\n" + out.stdout


def test_mypy_is_clean_on_the_typed_packages():
    mypy = Path(sys.executable).with_name("mypy")
    if not mypy.exists():
        pytest.fail("mypy is not installed: pip install -r requirements.txt")
    out = subprocess.run([str(mypy), "--no-error-summary", "labkit", "autograder"], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, "mypy found type errors:\n" + out.stdout + out.stderr
