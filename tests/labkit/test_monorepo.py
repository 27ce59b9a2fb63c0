"""labkit.monorepo: the material of week 22 — a real monorepo, a generated organisation, a flagged source tree."""

from __future__ import annotations

import ast
import json

import pandas as pd
import pytest

from labkit import monorepo


def test_scratch_monorepo_is_a_real_repository_with_the_layout_and_is_removed() -> None:
    with monorepo.scratch_monorepo() as repo:
        path = repo.path
        assert repo.branch_name == "main"
        tracked = repo.git("ls-files").split()
        assert "services/order-service/package.json" in tracked
        assert ".github/workflows/ci.yml" in tracked
        assert len(repo.log()) == 2  # initial commit + the layout
    assert not path.exists()


def test_packages_reads_every_package_json_at_a_revision_not_the_working_tree() -> None:
    with monorepo.scratch_monorepo() as repo:
        found = monorepo.packages(repo.path, "main")
        assert list(found) == sorted(monorepo.LAYOUT)
        order = found["services/order-service"]
        assert order.name == "@company/order-service"
        assert order.dependencies == {"@company/auth-types": "^1.2.0", "@company/payment-sdk": "^2.1.0"}
        repo.branch("feat/x")
        pkg = monorepo.package_json("@company/search-service", "1.0.0", {"@company/utils": "^0.3.0"})
        repo.commit("feat: x", files={"services/search-service/package.json": pkg})
        repo.write("services/search-service/package.json", "not json, uncommitted")
        assert monorepo.packages(repo.path, "feat/x")["services/search-service"].version == "1.0.0"
        assert monorepo.packages(str(repo.path), "main")["services/search-service"].dependencies == {}


def test_packages_explains_an_unknown_revision_and_broken_json() -> None:
    with monorepo.scratch_monorepo() as repo:
        with pytest.raises(ValueError, match="branch or commit"):
            monorepo.packages(repo.path, "no-such-branch")
        repo.commit("break", files={"shared/utils/package.json": "{oops"})
        with pytest.raises(ValueError, match="not valid JSON"):
            monorepo.packages(repo.path)


def test_package_json_is_what_npm_writes() -> None:
    text = monorepo.package_json("@company/a", "1.0.0", {"@company/b": "^1.2.0"})
    assert text.endswith("}\n")
    assert json.loads(text) == {"name": "@company/a", "version": "1.0.0", "dependencies": {"@company/b": "^1.2.0"}}


def test_org_history_is_reproducible_and_well_formed() -> None:
    first, second = monorepo.org_history(), monorepo.org_history()
    pd.testing.assert_frame_equal(first.prs, second.prs)
    pd.testing.assert_frame_equal(first.builds, second.builds)
    assert not first.prs.equals(monorepo.org_history(seed=1).prs)
    prs = first.prs
    assert set(prs["team"]) == set(monorepo.TEAMS)
    assert list(prs.columns) == ["team", "branch", "opened", "first_review", "merged"]
    assert prs["branch"].is_unique
    assert (prs["first_review"] >= prs["opened"]).all()
    done = prs.dropna(subset=["merged"])
    assert (done["merged"] > done["first_review"]).all()
    assert prs["merged"].isna().sum() > 0, "some pull requests are still open at the end"
    assert set(first.builds["status"]) == {"success", "failure", "cancelled"}
    assert set(first.builds["branch"]) <= set(prs["branch"])
    assert first.prs["opened"].min() >= pd.Timestamp(first.start)
    assert (prs["opened"].dt.day_of_week < 5).all()


def test_org_history_teams_miss_different_targets() -> None:
    """The dashboard is only instructive if each team's problem is a different one."""
    h = monorepo.org_history()
    merged = h.prs.dropna(subset=["merged"])
    hour = pd.Timedelta(hours=1)
    lifetime = ((merged["merged"] - merged["opened"]) / hour).groupby(merged["team"]).mean()
    per_day = merged.groupby("team").size() / h.days
    review = ((h.prs["first_review"] - h.prs["opened"]) / hour).groupby(h.prs["team"]).mean()
    fin = h.builds[h.builds["status"] != "cancelled"]
    success = (fin["status"] == "success").groupby(fin["team"]).mean()
    assert lifetime["auth"] < 24 and per_day["auth"] > 1 and success["auth"] > 0.95 and review["auth"] < 2
    assert lifetime["payments"] > 24
    assert per_day["orders"] < 1
    assert review["platform"] > 2 and success["platform"] < 0.95


def test_flag_tree_has_real_checks_and_decoys_and_is_removed() -> None:
    with monorepo.flag_tree({"app/extra.py": "X = 1\n"}) as root:
        manifest = json.loads((root / "features.json").read_text())
        flags = {f["flag"] for f in manifest["features"]}
        calls = set()
        for path in root.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "is_enabled":
                    arg = node.args[0]
                    assert isinstance(arg, ast.Constant)
                    calls.add(arg.value)
        text = "".join(p.read_text() for p in root.rglob("*.py"))
        assert calls & flags == {"one_click_checkout", "passkey_login", "order_export"}
        assert 'is_enabled("fuzzy_search")' in text and 'is_enabled("split_shipments")' in text  # the decoys
        assert (root / "app/extra.py").read_text() == "X = 1\n"
    assert not root.exists()
