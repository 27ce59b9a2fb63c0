"""Week 5 (quality in trunk-based development): plausible wrong answers, minimal edits of the reference."""

from harness import Misconception

CASES = [
    # shortstat (the warm-up)
    Misconception(
        "matches only the plural words (files, insertions, deletions)",
        exercise="w05_quality_warmup",
        edits=[(r'r"(\d+) (file|insertion|deletion)"', r'r"(\d+) (files|insertions|deletions)"'),
               ('keys = {"file": "files", "insertion": "added", "deletion": "deleted"}',
                'keys = {"files": "files", "insertions": "added", "deletions": "deleted"}')],
        passes_visible=True,
        why="the pull requests one looks at first all change several files and many lines",
    ),
    Misconception(
        "keeps the numbers as strings",
        exercise="w05_quality_warmup",
        edits=[("counts[keys[word]] = int(number)", "counts[keys[word]] = number")],
    ),
    Misconception(
        "assumes the insertions always come first and reads the second number as the deletions",
        exercise="w05_quality_warmup",
        edits=[(r"""    for number, word in re.findall(r"(\d+) (file|insertion|deletion)", text):
        counts[keys[word]] = int(number)""",
                r"""    numbers = [int(n) for n in re.findall(r"(\d+) (?:file|insertion|deletion)", text)]
    for key, number in zip(["files", "added", "deleted"], numbers):
        counts[key] = number""")],
        passes_visible=True,
        why="'N files changed, N insertions(+), N deletions(-)' is the usual shape",
    ),
    # flag_problems / compat_problems
    Misconception(
        "compares results with == only, so an old path that now returns 3.0 for 3 looks unchanged",
        exercise="w05_quality_flag_compat",
        edits=[("""    if not all(same(new(*case, flags={}), old(*case)) for case in cases):
        problems.append("not off by default")
    if not all(same(new(*case, flags={flag: False}), old(*case)) for case in cases):""",
                """    if not all(new(*case, flags={}) == old(*case) for case in cases):
        problems.append("not off by default")
    if not all(new(*case, flags={flag: False}) == old(*case) for case in cases):""")],
        passes_visible=True,
    ),
    Misconception(
        "checks only the flag switched off, not the flag missing",
        exercise="w05_quality_flag_compat",
        edits=[("""    if not all(same(new(*case, flags={}), old(*case)) for case in cases):
        problems.append("not off by default")
""", "")],
        why="'off' and 'not configured' sound like the same thing",
    ),
    Misconception(
        "calls a flag useless as soon as one case is unchanged (any instead of all)",
        exercise="w05_quality_flag_compat",
        edits=[("    if all(same(new(*case, flags={flag: True}), old(*case)) for case in cases):",
                "    if any(same(new(*case, flags={flag: True}), old(*case)) for case in cases):")],
    ),
    Misconception(
        "counts only removed fields as breaking, not changed types",
        exercise="w05_quality_flag_compat",
        edits=[("""            elif new_props[name].get("type") != spec.get("type"):
                problems.append(f"{part}.{name}: type {spec.get('type')} -> {new_props[name].get('type')}")
""", "")],
        passes_visible=True,
    ),
    Misconception(
        "reports every required request field, also those old clients already send",
        exercise="w05_quality_flag_compat",
        edits=[('set(new_schema["request"]["required"]) - set(old_schema["request"]["required"])',
                'set(new_schema["request"]["required"])')],
    ),
    Misconception(
        "treats a request field that is no longer accepted as breaking too",
        exercise="w05_quality_flag_compat",
        edits=[("""                if part == "response":
                    problems.append(f"response.{name}: removed")""",
                """                problems.append(f"{part}.{name}: removed")""")],
        passes_visible=True,
        why="removing anything from an API feels breaking; old clients may still send it, and it is ignored",
    ),
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
