"""Week 8 (CI and trunk-based development): plausible wrong answers, each a minimal edit of the reference."""

from harness import Misconception

CASES = [
    # FLAG_WORKFLOW
    Misconception(
        "leaves strategy.fail-fast at its default (true): a failure in one flag state cancels the other",
        exercise="w08_ci_flag_matrix",
        edits=[("      fail-fast: false\n", "")],
        passes_visible=True,
        why="with the bug behind the flag the 'on' run fails last, so nothing looks cancelled",
    ),
    Misconception(
        "builds the matrix but never passes its value to the tests (no env)",
        exercise="w08_ci_flag_matrix",
        edits=[("    env:\n      FEATURE_NEW_CHECKOUT: ${{ matrix.new_checkout }}\n", "")],
        why="a matrix looks like it runs the suite twice, and it does — twice with the flag off",
    ),
    Misconception(
        "a matrix over the flag's on state only (the off path is what production runs)",
        exercise="w08_ci_flag_matrix",
        edits=[('new_checkout: ["off", "on"]', 'new_checkout: ["on"]')],
    ),
    Misconception(
        "reads a misspelled matrix key, so the variable is empty in every run",
        exercise="w08_ci_flag_matrix",
        edits=[("${{ matrix.new_checkout }}", "${{ matrix.flag }}")],
    ),
    # jobs_for_event
    Misconception(
        "ignores that && binds tighter than || (splits on && first)",
        exercise="w08_ci_jobs_for_event",
        edits=[('any(all(holds(part) for part in alternative.split("&&")) for alternative in text.split("||"))',
                'all(any(holds(part) for part in alternative.split("||")) for alternative in text.split("&&"))')],
        passes_visible=True,
        why="read left to right, `a || b && c` looks like `(a || b) && c`",
    ),
    Misconception(
        "runs a job whose needs were skipped, as long as its own if: holds",
        exercise="w08_ci_jobs_for_event",
        edits=[("decided[name] = needed_ok and (condition is None", "decided[name] = (condition is None")],
        passes_visible=True,
    ),
    Misconception(
        "compares the full ref refs/heads/main with the branch names of on.push.branches",
        exercise="w08_ci_jobs_for_event",
        edits=[('return ref.startswith("refs/heads/") and ref.removeprefix("refs/heads/") in spec["branches"]',
                'return ref in spec["branches"]')],
    ),
    # feedback_minutes
    Misconception(
        "adds up the durations of every job that runs, as if nothing ran in parallel",
        exercise="w08_ci_feedback_minutes",
        edits=[("return max((finished_at(name) for name in jobs_for_event(workflow, event, ref)), default=0.0)",
                "return float(sum(durations[name] for name in jobs_for_event(workflow, event, ref)))")],
        passes_visible=True,
        why="the syllabus pipeline is a chain, where the sum and the longest path agree",
    ),
    Misconception(
        "a job starts after the sum of its needs, not when the last one finishes",
        exercise="w08_ci_feedback_minutes",
        edits=[("start = max((finished_at(other) for other in needs), default=0.0)",
                "start = sum(finished_at(other) for other in needs)")],
        passes_visible=True,
    ),
    Misconception(
        "takes the longest path over every job of the workflow, also those the event does not run",
        exercise="w08_ci_feedback_minutes",
        edits=[("for name in jobs_for_event(workflow, event, ref)), default=0.0)", "for name in jobs), default=0.0)")],
    ),
    # main_health
    Misconception(
        "walks the runs in the order given instead of sorting by finished_at",
        exercise="w08_main_health",
        edits=[('decisive = runs[runs["status"] != "cancelled"].sort_values("finished_at", kind="stable")',
                'decisive = runs[runs["status"] != "cancelled"]')],
        passes_visible=True,
    ),
    Misconception(
        "counts cancelled runs as decisive",
        exercise="w08_main_health",
        edits=[('decisive = runs[runs["status"] != "cancelled"].sort_values',
                'decisive = runs.sort_values')],
    ),
    Misconception(
        "forgets the red period that is still open at the end of the history",
        exercise="w08_main_health",
        edits=[("still_red = (now - red_since).total_seconds() / 3600 if red_since is not None else 0.0",
                "still_red = 0.0")],
        passes_visible=True,
    ),
    # backoff_delays
    Misconception(
        "stops one wait early when the total would exactly reach the budget (>= instead of >)",
        exercise="w08_deploy_backoff_delays",
        edits=[("if total + wait > budget:", "if total + wait >= budget:")],
        passes_visible=True,
    ),
    Misconception(
        "ignores the cap",
        exercise="w08_deploy_backoff_delays",
        edits=[("wait = float(min(delay, cap)) if cap is not None else delay", "wait = delay")],
    ),
    Misconception(
        "returns ints for int arguments",
        exercise="w08_deploy_backoff_delays",
        edits=[("delay = float(first)", "delay = first")],
        passes_visible=True,
    ),
    # deploy
    Misconception(
        "gives up after the first failed health check (no retries)",
        exercise="w08_deploy_rollback",
        edits=[("delay = next(delays, None)", "delay = None")],
    ),
    Misconception(
        "rolls back to the old version without checking that it is still alive",
        exercise="w08_deploy_rollback",
        edits=[("serving = current if current.alive else fleet.start(current.version)", "serving = current")],
        passes_visible=True,
    ),
    Misconception(
        "turns a needs: string into a list with list(), splitting it into letters",
        exercise="w08_ci_feedback_minutes",
        edits=[("needs = [needs] if isinstance(needs, str) else list(needs)", "needs = list(needs)")],
    ),
]
