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
            """        proc = subprocess.Popen([*shells[shell], step["run"]],
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
            proc = subprocess.run([*shells[shell], step["run"]],
                                  cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, timeout=timeout)
            output, returncode = proc.stdout, proc.returncode
        except subprocess.TimeoutExpired:
            output, returncode = "", None""")],
        passes_visible=True,
        why="subprocess.run kills only its direct child; the step's own children keep running",
    ),
    Misconception(
        "runs steps without a shell: as plain bash -c, without -e",
        exercise="w06_ci_run_job",
        edits=[('None: ["bash", "-e", "-c"]', 'None: ["bash", "-c"]')],
        passes_visible=True,
        why="one-line steps fail the same way; only multi-line scripts differ",
    ),
    Misconception(
        "believes the default shell is bash --noprofile --norc -eo pipefail (pipefail without shell: bash)",
        exercise="w06_ci_run_job",
        edits=[('None: ["bash", "-e", "-c"]', 'None: ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]')],
        passes_visible=True,
        why="the most quoted line of GitHub's shell table is the one for an explicit `shell: bash`",
    ),
    Misconception(
        "ignores the step's shell: key and runs every step with the default shell",
        exercise="w06_ci_run_job",
        edits=[('[*shells[shell], step["run"]]', '[*shells[None], step["run"]]')],
        passes_visible=True,
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
    # coverage_table
    Misconception(
        "computes the TOTAL percent as the mean of the file percents",
        exercise="w06_ci_coverage",
        edits=[('        "percent": pd.Series([percent(n, m) for n, m in rows.values()], dtype="float64").to_numpy(),',
                '        "percent": pd.Series([percent(n, m) for n, m in list(rows.values())[:-1]]\n'
                '                             + [sum(percent(n, m) for n, m in list(rows.values())[:-1])\n'
                '                                / max(len(rows) - 1, 1)], dtype="float64").to_numpy(),')],
        why="averaging percentages is the first thing that comes to mind; a 2-line file then weighs as much as "
            "a 200-line one",
    ),
    Misconception(
        "counts a file without statements as 0 % covered",
        exercise="w06_ci_coverage",
        edits=[("return 100.0 * (n - m) / n if n else 100.0", "return 100.0 * (n - m) / n if n else 0.0")],
        passes_visible=True,
        why="nothing ran, so nothing is covered; coverage.py counts it as fully covered (nothing to miss)",
    ),
    Misconception(
        "reports the share of missing lines as the percent",
        exercise="w06_ci_coverage",
        edits=[("return 100.0 * (n - m) / n if n else 100.0", "return 100.0 * m / n if n else 100.0")],
    ),
    # restore_or_install
    Misconception(
        "saves the cache even when the install failed (a half-installed folder is restored next time)",
        exercise="w06_ci_cache",
        edits=[("        install(lockfile, path)\n        shutil.copytree(path, saved)",
                "        try:\n            install(lockfile, path)\n        finally:\n"
                "            shutil.copytree(path, saved)")],
        passes_visible=True,
        why="'always save the cache' feels like the safe choice",
    ),
    Misconception(
        "restores on top of what path already holds, so stale packages stay",
        exercise="w06_ci_cache",
        edits=[("        shutil.rmtree(path, ignore_errors=True)\n        shutil.copytree(saved, path)",
                "        shutil.copytree(saved, path, dirs_exist_ok=True)")],
        passes_visible=True,
    ),
    Misconception(
        "keys the cache on the lockfile's name instead of its content",
        exercise="w06_ci_cache",
        edits=[("hashlib.sha256(Path(lockfile).read_bytes())", "hashlib.sha256(Path(lockfile).name.encode())")],
        why="the key 'names' the lockfile, as hashFiles('requirements.lock') seems to",
    ),
    Misconception(
        "skips the install on a hit but never restores the saved folder",
        exercise="w06_ci_cache",
        edits=[("        shutil.rmtree(path, ignore_errors=True)\n        shutil.copytree(saved, path)\n",
                "        pass\n")],
    ),
]
