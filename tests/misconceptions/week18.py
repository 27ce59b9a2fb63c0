"""Week 18 misconceptions: plausible wrong answers that must lose marks on their own exercise."""

from harness import Misconception

CASES = [
    # Exercise 1 — triage secrets with a baseline
    Misconception(
        "scans today's files instead of the history",
        exercise="w18_security_triage_secrets",
        edits=[("secretscan.scan_history(repo_path)", "secretscan.scan_tree(repo_path)")],
        why="the key was deleted in commit 2, so today's files look clean; every clone still has it",
    ),
    Misconception(
        "every baseline entry excuses its finding, audited or not",
        exercise="w18_security_triage_secrets",
        edits=[('if entry.get("is_secret") is False', "")],
        passes_visible=True,
        why="'it is in the baseline' is read as 'it is fine'; is_secret: true means a confirmed, live secret",
    ),
    Misconception(
        "allow-lists by hash in every file",
        exercise="w18_security_triage_secrets",
        edits=[("found = {(f.filename, f.hashed_secret) for f in secretscan.scan_history(repo_path)}\n"
                "    return sorted(found - false_positives)",
                "excused = {h for _, h in false_positives}\n"
                "    found = {(f.filename, f.hashed_secret) for f in secretscan.scan_history(repo_path)}\n"
                "    return sorted(x for x in found if x[1] not in excused)")],
        passes_visible=True,
        why="a fixture password copied into production code is still excused by the test file's verdict",
    ),
    # Exercise 2 — bandit gate
    Misconception(
        "compares severities as strings",
        exercise="w18_security_sast_gate",
        edits=[("serious = rank(r[\"issue_severity\"]) >= rank(min_severity)",
                "serious = r[\"issue_severity\"] >= min_severity")],
        why="'HIGH' < 'MEDIUM' alphabetically: the worst findings slip through",
    ),
    Misconception(
        "matches the baseline by line number",
        exercise="w18_security_sast_gate",
        edits=[('known = {(r["filename"], r["test_id"], r["issue_text"]) for r in baseline["results"]}',
                'known = {(r["filename"], r["test_id"], r["line_number"]) for r in baseline["results"]}'),
               ('(r["filename"], r["test_id"], r["issue_text"]) not in known',
                '(r["filename"], r["test_id"], r["line_number"]) not in known')],
        why="a docstring added above old code moves every old finding, which then counts as new",
    ),
    Misconception(
        "gates on severity only",
        exercise="w18_security_sast_gate",
        edits=[('likely = rank(r["issue_confidence"]) >= rank(min_confidence)', "likely = True")],
        passes_visible=True,
        why="confidence looks like noise; B608 at LOW confidence then blocks a merge on a guess",
    ),
    # Exercise 3 — OSV ranges
    Misconception(
        "compares versions as strings",
        exercise="w18_security_osv_affected",
        edits=[('if start == "0" or v >= Version(start):', 'if start == "0" or version >= start:'),
               ('elif "fixed" in event and v >= Version(event["fixed"]):',
                'elif "fixed" in event and version >= event["fixed"]:')],
        why="'1.10.0' < '1.9.3' as strings, so the fixed 1.10 line reads as vulnerable",
    ),
    Misconception(
        "treats fixed as the last affected version",
        exercise="w18_security_osv_affected",
        edits=[('elif "fixed" in event and v >= Version(event["fixed"]):',
                'elif "fixed" in event and v > Version(event["fixed"]):')],
        why="'fixed: 1.9.3' is read as 'affected up to 1.9.3'; it is the first version with the fix",
    ),
    Misconception(
        "reads only the first range",
        exercise="w18_security_osv_affected",
        edits=[('for rng in entry.get("ranges", []):', 'for rng in entry.get("ranges", [])[:1]:')],
        passes_visible=True,
        why="most records have one range; a fix backported to a second release line is missed",
    ),
    Misconception(
        "ignores last_affected",
        exercise="w18_security_osv_affected",
        edits=[('elif "last_affected" in event and v > Version(event["last_affected"]):',
                'elif "last_affected" in event and v >= Version(event["last_affected"]):')],
        passes_visible=True,
        why="last_affected is treated like fixed, so the last vulnerable release is reported as safe",
    ),
    # Exercise 4 — combined gate
    Misconception(
        "ranks severities alphabetically in the gate",
        exercise="w18_security_gate",
        edits=[('row["blocks"] = not known or ps.SEVERITY_ORDER.index(row["severity"]) >= threshold',
                'row["blocks"] = row["severity"] >= block_at')],
        why="'MEDIUM' >= 'HIGH' as strings: the gate blocks MEDIUM and lets CRITICAL through",
    ),
    Misconception(
        "fails open on an unknown severity",
        exercise="w18_security_gate",
        edits=[('row["blocks"] = not known or ps.SEVERITY_ORDER.index(row["severity"]) >= threshold',
                'row["blocks"] = known and ps.SEVERITY_ORDER.index(row["severity"]) >= threshold')],
        passes_visible=True,
        why="GitHub says MODERATE where bandit says MEDIUM; a gate that skips what it does not know passes it",
    ),
    Misconception(
        "blocks only at exactly the threshold",
        exercise="w18_security_gate",
        edits=[('row["blocks"] = not known or ps.SEVERITY_ORDER.index(row["severity"]) >= threshold',
                'row["blocks"] = not known or row["severity"] == block_at')],
        why="'block HIGH' is read literally; a CRITICAL advisory then does not block",
    ),
]
