"""Week 2's reference solutions, loaded from the source notebook, against the ``semver`` library at scale.

The notebook's hidden tests sample a few hundred versions; here the source solution is held to thousands, so
that a regression in the reference (which the grading tests treat as ground truth) cannot slip through.
"""

from __future__ import annotations

import random
from functools import cmp_to_key

import nbformat
import pytest
import semver
from conftest import REPO

from autograder.samples import solution_body

SOURCE = REPO / "source" / "week02" / "week02_semantic_versioning.ipynb"


@pytest.fixture(scope="module")
def week02() -> dict:
    nb = nbformat.read(SOURCE, as_version=4)
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            exec(compile(solution_body(cell.source), str(SOURCE), "exec"), namespace)
    return namespace


def _random_text(rng: random.Random) -> str:
    pieces = ["0", "1", "9", "10", "01", "00", "alpha", "beta", "rc", "RC", "x-y", "-", "0a", "a0", "", "1a"]
    numbers = ["0", "1", "2", "10", "01", "", "x"]
    text = ".".join(rng.choice(numbers) for _ in range(rng.choice([2, 3, 3, 3, 4])))
    if rng.random() < 0.6:
        text += "-" + ".".join(rng.choice(pieces) for _ in range(rng.randint(1, 4)))
    if rng.random() < 0.3:
        text += "+" + ".".join(rng.choice(pieces) for _ in range(rng.randint(1, 2)))
    return text


def test_parse_agrees_with_semver_on_validity_and_parts(week02: dict) -> None:
    rng = random.Random(20)
    parse = week02["parse_version"]
    for _ in range(5000):
        text = _random_text(rng)
        if semver.Version.is_valid(text):
            v = semver.Version.parse(text)
            major, minor, patch, pre, build = parse(text)
            assert (major, minor, patch) == (v.major, v.minor, v.patch)
            assert ".".join(map(str, pre)) == (v.prerelease or "") and ".".join(build) == (v.build or "")
            assert all(isinstance(p, int) == str(p).isdigit() for p in pre)
        else:
            with pytest.raises(ValueError, match="not a semantic version"):
                parse(text)


def test_compare_agrees_with_semver_and_sorts_like_it(week02: dict) -> None:
    rng = random.Random(21)
    compare = week02["compare_versions"]
    valid = sorted({t for t in (_random_text(rng) for _ in range(6000)) if semver.Version.is_valid(t)})
    assert len(valid) > 300
    for _ in range(5000):
        a, b = rng.choice(valid), rng.choice(valid)
        assert compare(a, b) == semver.Version.parse(a).compare(b), (a, b)
    ours = sorted(valid, key=cmp_to_key(compare))
    theirs = sorted(valid, key=semver.Version.parse)
    assert [semver.Version.parse(v) for v in ours] == [semver.Version.parse(v) for v in theirs]


@pytest.mark.parametrize("kind", ["major", "minor", "patch"])
def test_bump_matches_semver(week02: dict, kind: str) -> None:
    rng = random.Random(22)
    for _ in range(300):
        version = f"{rng.randint(0, 30)}.{rng.randint(0, 30)}.{rng.randint(0, 30)}"
        assert week02["bump"](version, kind) == str(semver.Version.parse(version).next_version(kind))
