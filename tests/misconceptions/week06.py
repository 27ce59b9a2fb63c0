"""Week 6 (CI basics): plausible wrong answers, each a minimal edit of the reference solution."""

from harness import Misconception

CACHE_STEP = """\
      - name: Restore the pip cache
        uses: actions/cache@v4
        with:
          path: ~/.cache/pip
          key: pip-${{ hashFiles('pyproject.toml') }}
"""

CASES = [
    # FIXED_WORKFLOW
    Misconception(
        "keeps the underscore typo runs_on",
        exercise="w06_ci_workflow",
        edits=[("    runs-on: ubuntu-latest", "    runs_on: ubuntu-latest")],
    ),
    Misconception(
        "fixes the step that had both uses and run by deleting the cache step",
        exercise="w06_ci_workflow",
        edits=[(CACHE_STEP, "")],
        passes_visible=True,
        why="the schema no longer complains, so the workflow looks fixed",
    ),
    Misconception(
        "splits the step but leaves actions/cache without its with: path and key",
        exercise="w06_ci_workflow",
        edits=[("        with:\n          path: ~/.cache/pip\n"
                "          key: pip-${{ hashFiles('pyproject.toml') }}\n", "")],
        passes_visible=True,
        why="the schema does not require inputs, only the action does at run time",
    ),
    # run_job
    Misconception(
        "plain subprocess.run(timeout=...) without a process group: a grandchild survives the timeout",
        exercise="w06_ci_run_job",
        edits=[(
            """        proc = subprocess.Popen(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                                cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
        try:
            output, _ = proc.communicate(timeout=timeout)
            returncode = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
            returncode = None""",
            """        try:
            proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                                  cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, timeout=timeout)
            output, returncode = proc.stdout, proc.returncode
        except subprocess.TimeoutExpired:
            output, returncode = "", None""")],
        passes_visible=True,
        why="subprocess.run kills only its direct child; the step's own children keep running",
    ),
    Misconception(
        "runs steps with plain bash -c, without -e and -o pipefail",
        exercise="w06_ci_run_job",
        edits=[('["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]]',
                '["bash", "-c", step["run"]]')],
        passes_visible=True,
        why="one-line steps fail the same way; only multi-line scripts and pipes differ",
    ),
    Misconception(
        "lets workflow env override job env (merge order reversed)",
        exercise="w06_ci_run_job",
        edits=[('{**(wf.get("env") or {}), **(spec.get("env") or {})}',
                '{**(spec.get("env") or {}), **(wf.get("env") or {})}')],
        passes_visible=True,
    ),
    # layer_of / pyramid
    Misconception(
        "finds the layer by substring, so test_unit_prices in integration counts as unit",
        exercise="w06_ci_pyramid",
        edits=[('    for part in classname.split("."):\n        if part in LAYERS:\n            return part',
                '    for layer in LAYERS:\n        if layer in classname:\n            return layer')],
        passes_visible=True,
    ),
    Misconception(
        "reports the mean time per layer instead of the total",
        exercise="w06_ci_pyramid",
        edits=[('tests["seconds"].groupby(layers).sum()', 'tests["seconds"].groupby(layers).mean()')],
    ),
    Misconception(
        "counts only the tests that passed",
        exercise="w06_ci_pyramid",
        edits=[('    layers = tests["classname"].map(layer_of)',
                '    tests = tests[tests["outcome"] == "passed"]\n    layers = tests["classname"].map(layer_of)')],
        passes_visible=True,
    ),
    # critical_path
    Misconception(
        "a job starts after the sum of its needs, not the latest one",
        exercise="w06_ci_critical_path",
        edits=[("start = finish[latest] if latest is not None else 0.0",
                "start = sum(finish[need] for need in graph[name])")],
    ),
    Misconception(
        "ends the path at the last job in topological order, not the one that finishes last",
        exercise="w06_ci_critical_path",
        edits=[("last = max(finish, key=lambda name: finish[name])", "last = order[-1]")],
        passes_visible=True,
    ),
    Misconception(
        "assumes every job has a duration (KeyError instead of a ValueError that names the job)",
        exercise="w06_ci_critical_path",
        edits=[('        if name not in minutes:\n'
                '            raise ValueError(f"no duration for job {name!r}: add it to `minutes`")\n', "")],
        passes_visible=True,
    ),
]
