"""requirements.txt and environment.yml pin the same packages, every one with ==, and the venv matches."""

from __future__ import annotations

import re
from importlib import metadata

import yaml
from conftest import REPO

PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9,._-]+\])?==(?P<version>[A-Za-z0-9.+!-]+)$"
)


def _requirements() -> list[str]:
    lines = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [ln.split("#", 1)[0].strip() for ln in lines if ln.split("#", 1)[0].strip()]


def _conda_pip() -> list[str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    pip = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip) == 1, "environment.yml needs exactly one pip: section"
    return [str(x).strip() for x in pip[0]]


def test_every_requirement_is_pinned_with_double_equals() -> None:
    bad = [ln for ln in _requirements() if not PIN.match(ln)]
    assert not bad, f"requirements.txt lines not pinned as name==version: {bad}"
    names = [PIN.match(ln)["name"].lower() for ln in _requirements()]  # type: ignore[index]
    assert len(names) == len(set(names)), "a package is pinned twice in requirements.txt"


def test_environment_yml_pins_the_same() -> None:
    req, conda = _requirements(), _conda_pip()
    bad = [ln for ln in conda if not PIN.match(ln)]
    assert not bad, f"environment.yml pip lines not pinned with ==: {bad}"
    assert sorted(req) == sorted(conda), (
        f"only in requirements.txt: {sorted(set(req) - set(conda))}; "
        f"only in environment.yml: {sorted(set(conda) - set(req))}"
    )


def test_installed_versions_match_the_pins() -> None:
    wrong = []
    for line in _requirements():
        m = PIN.match(line)
        assert m
        try:
            installed = metadata.version(m["name"])
        except metadata.PackageNotFoundError:
            wrong.append(f"{m['name']} not installed (pinned {m['version']})")
            continue
        if installed != m["version"]:
            wrong.append(f"{m['name']} {installed} installed, pinned {m['version']}")
    assert not wrong, "; ".join(wrong) + " — run: bash dev.sh setup"
