"""labkit.pipeline_security: the real bandit over the course's unsafe app, OSV range evaluation, the audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaging.version import Version

from labkit import pipeline_security as ps


def _ids(report: dict) -> list[tuple[str, int, str, str, str]]:
    return sorted(
        (r["filename"], r["line_number"], r["test_id"], r["issue_severity"], r["issue_confidence"])
        for r in report["results"]
    )


def test_bandit_reports_the_known_findings_of_v1_with_relative_filenames():
    with ps.vulnerable_app("v1") as root:
        report = ps.run_bandit(root)
        assert (root / "shop" / "db.py").is_file()
    assert not root.exists(), "the temporary app folder must be removed when the block ends"
    assert _ids(report) == [
        ("shop/config.py", 5, "B506", "MEDIUM", "HIGH"),
        ("shop/db.py", 3, "B105", "LOW", "MEDIUM"),
        ("shop/db.py", 7, "B608", "MEDIUM", "LOW"),
        ("shop/tools.py", 6, "B324", "HIGH", "HIGH"),
        ("shop/tools.py", 10, "B311", "LOW", "HIGH"),
    ]
    assert report["errors"] == []


def test_v2_moves_old_findings_and_adds_two_new_ones():
    with ps.vulnerable_app("v2") as root:
        report = ps.run_bandit(root)
    ids = _ids(report)
    assert ("shop/tools.py", 12, "B324", "HIGH", "HIGH") in ids  # moved from line 6
    assert ("shop/tools.py", 20, "B602", "HIGH", "HIGH") in ids
    assert ("shop/config.py", 9, "B307", "MEDIUM", "HIGH") in ids
    assert len(ids) == 8


def test_run_bandit_passes_extra_args_and_reports_clean_code(tmp_path: Path):
    (tmp_path / "ok.py").write_text("print('hello')\n")
    assert ps.run_bandit(tmp_path)["results"] == []
    ps.write_vulnerable_app(tmp_path, "v1")
    high = ps.run_bandit(tmp_path, extra_args=["--severity-level", "high"])
    assert [r["test_id"] for r in high["results"]] == ["B324"]


def test_run_bandit_and_the_app_reject_bad_input(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="no folder"):
        ps.run_bandit(tmp_path / "missing")
    with pytest.raises(ValueError, match="v1"):
        ps.write_vulnerable_app(tmp_path, "v3")
    with pytest.raises(ps.SecurityToolError, match="bandit exited"):
        ps.run_bandit(tmp_path, extra_args=["--no-such-option"])


def test_advisories_are_valid_course_osv_records_and_fresh_copies():
    records = ps.advisories()
    assert all(r["id"].startswith("COURSE-") and "[course data" in r["summary"] for r in records)
    for record in records:
        for entry in record["affected"]:
            assert entry["package"]["ecosystem"] == "PyPI"
            for rng in entry["ranges"]:
                assert rng["type"] == "ECOSYSTEM"
                assert set().union(*rng["events"]) <= {"introduced", "fixed", "last_affected"}
                Version(next(iter(rng["events"][-1].values())))  # parses
    records[0]["id"] = "changed"
    assert ps.advisories()[0]["id"] == "COURSE-2026-0001"
    json.dumps(records)  # plain JSON data


@pytest.mark.parametrize(
    ("package", "version", "expected"),
    [
        ("tinyhttp", "1.1.9", False),
        ("tinyhttp", "1.2.0", True),  # introduced is inclusive
        ("tinyhttp", "1.9.2", True),
        ("tinyhttp", "1.9.3", False),  # fixed is exclusive
        ("tinyhttp", "1.10.0", False),  # 1.10 > 1.9 as versions, not as strings
        ("tinyhttp", "2.0.1", True),  # the second range
        ("tinyhttp", "2.0.2", False),
        ("TinyHTTP", "2.0.0", True),  # PEP 503 names
        ("tiny-http", "2.0.0", False),  # another project
        ("tinyhttp", "2.0.0rc1", False),  # a pre-release sorts before 2.0.0
    ],
)
def test_is_affected_on_two_ranges(package: str, version: str, expected: bool):
    assert ps.is_affected(package, version, ps.advisories()[0]) is expected


def test_is_affected_reads_zero_last_affected_pairs_and_versions():
    _, yaml_rec, json_rec, log_rec, cookie = ps.advisories()
    assert ps.is_affected("yamlish", "0.0.1", yaml_rec) and not ps.is_affected("yamlish", "5.10", yaml_rec)
    assert ps.is_affected("fastjsonx", "3.4.1", json_rec) and not ps.is_affected("fastjsonx", "3.4.2", json_rec)
    assert [ps.is_affected("py_logkit", v, log_rec) for v in ("0.5.6", "0.5.7", "0.6.0", "0.6.2")] == [
        True, False, True, False,
    ]  # fmt: skip
    only_versions = {"affected": [{"package": {"ecosystem": "PyPI", "name": "tinyhttp"}, "versions": ["1.10.9"]}]}
    assert ps.is_affected("tinyhttp", "1.10.9", only_versions)
    assert not ps.is_affected("tinyhttp", "1.10.3", {"affected": []})
    assert ps.is_affected("tinyhttp", "1.10.3", cookie)
    npm = {"affected": [{"package": {"ecosystem": "npm", "name": "tinyhttp"}, "versions": ["1.0.0"]}]}
    assert not ps.is_affected("tinyhttp", "1.0.0", npm)
    events = [{"fixed": "2.0"}, {"introduced": "1.0"}]  # OSV evaluation sorts events by version first
    unsorted = {
        "affected": [
            {"package": {"ecosystem": "PyPI", "name": "x"}, "ranges": [{"type": "ECOSYSTEM", "events": events}]}
        ]
    }
    assert ps.is_affected("x", "1.5", unsorted) and not ps.is_affected("x", "2.0", unsorted)


def test_is_affected_explains_a_bad_version():
    with pytest.raises(ValueError, match="PEP 440"):
        ps.is_affected("tinyhttp", "not a version", ps.advisories()[0])


def test_audit_lists_each_affected_pin_sorted():
    rows = ps.audit(
        {"yamlish": "5.3", "tinyhttp": "1.10.2", "requests": "2.32.3", "fastjsonx": "3.0.0"}, ps.advisories()
    )
    assert rows == [
        {"package": "fastjsonx", "version": "3.0.0", "id": "COURSE-2026-0003", "severity": "MEDIUM"},
        {"package": "tinyhttp", "version": "1.10.2", "id": "COURSE-2026-0005", "severity": "MEDIUM"},
        {"package": "yamlish", "version": "5.3", "id": "COURSE-2026-0002", "severity": "CRITICAL"},
    ]
    assert ps.audit({}, ps.advisories()) == []


def test_severity_order_is_by_rank_not_alphabet():
    assert sorted(["LOW", "HIGH", "MEDIUM", "CRITICAL"], key=ps.SEVERITY_ORDER.index) == [
        "LOW", "MEDIUM", "HIGH", "CRITICAL",
    ]  # fmt: skip
