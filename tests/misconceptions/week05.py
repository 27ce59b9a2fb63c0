"""Week 5 (quality in trunk-based development): plausible wrong answers, minimal edits of the reference."""

from harness import Misconception

CASES = [
    # diff_numstat
    Misconception(
        "diffs with two dots, so main's own new commits count as the pull request's changes",
        exercise="w05_quality_numstat",
        edits=[('f"{base}...{head}"', 'f"{base}..{head}"')],
        passes_visible=True,
        why="while main has not moved, two and three dots give the same diff",
    ),
    Misconception(
        "converts the numstat columns with int(), which fails on binary files ('-')",
        exercise="w05_quality_numstat",
        edits=[('"added": 0 if added == "-" else int(added)', '"added": int(added)')],
        passes_visible=True,
    ),
    # review_pr
    Misconception(
        "judges merge commits (main merged into the branch) as the pull request's commits",
        exercise="w05_quality_review",
        edits=[('repo.git("log", "--no-merges", "--format=%s", f"{base}..{head}")',
                'repo.git("log", "--format=%s", f"{base}..{head}")')],
        passes_visible=True,
    ),
    Misconception(
        "lets exactly 500 lines pass as merely large (> instead of >=)",
        exercise="w05_quality_review",
        edits=[("if lines >= 500:", "if lines > 500:")],
        passes_visible=True,
    ),
    Misconception(
        "asks for tests even when the pull request changes no code",
        exercise="w05_quality_review",
        edits=[("if code_changed and not has_tests:", "if not has_tests:")],
        passes_visible=True,
    ),
    # precommit_config / install_pipeline
    Misconception(
        "runs the tests hook only when Python files are staged (no always_run)",
        exercise="w05_quality_precommit",
        edits=[('"pass_filenames": False, "always_run": True}', '"pass_filenames": False}')],
        passes_visible=True,
    ),
    Misconception(
        "runs `pre-commit install` without unsetting core.hooksPath",
        exercise="w05_quality_precommit",
        edits=[('    repo.git("config", "--unset", "core.hooksPath")\n', "")],
        why="pre-commit refuses to install while core.hooksPath is set",
    ),
    # measure_coverage / definition_of_done
    Misconception(
        "leaves coverage's .coverage data file inside the project",
        exercise="w05_quality_dod",
        edits=[('env = {"COVERAGE_FILE": str(Path(tmp) / ".coverage")}', "env = {}")],
    ),
    Misconception(
        "checks coverage only when the tests pass",
        exercise="w05_quality_dod",
        edits=[('        failed.append("tests")\n    if coverage < baseline:',
                '        failed.append("tests")\n    elif coverage < baseline:')],
        passes_visible=True,
    ),
    Misconception(
        "leaves out --no-renames, so a moved file appears as one '{old => new}' path",
        exercise="w05_quality_numstat",
        edits=[('"diff", "--numstat", "--no-renames", f"{base}...{head}"', '"diff", "--numstat", f"{base}...{head}"')],
        passes_visible=True,
    ),
]
