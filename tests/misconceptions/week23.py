"""Week 23 — named wrong answers (minimal edits of the reference solutions) that must lose marks."""

from harness import Misconception

CASES = [
    # Exercise 1 — value_stream
    Misconception(
        "divides processing time by the waiting time instead of the lead time",
        exercise="w23_improvement_value_stream",
        edits=[
            (
                '"flow_efficiency_pct": 100.0 * processing / lead',
                '"flow_efficiency_pct": 100.0 * processing / sum(wait)',
            )
        ],
        why="'time worked vs time waited' sounds like the same ratio; with 1 % efficiency the difference hides",
    ),
    Misconception(
        "calls the step with the longest work the bottleneck",
        exercise="w23_improvement_value_stream",
        edits=[("steps[wait.index(max(wait))]", "steps[work.index(max(work))]")],
        why="the slowest-looking step (six hours of coding) draws the eye; the two-day queue does not",
    ),
    Misconception(
        "ignores the working-day assumption for waits (every day is 24 h)",
        exercise="w23_improvement_value_stream",
        edits=[('improvement.to_minutes(s["wait"], hours_per_day)', 'improvement.to_minutes(s["wait"])')],
        passes_visible=True,
        why="the default works for the syllabus example; the assumption is forgotten where it matters",
    ),
    Misconception(
        "returns a fraction instead of a percentage",
        exercise="w23_improvement_value_stream",
        edits=[('"flow_efficiency_pct": 100.0 * processing / lead', '"flow_efficiency_pct": processing / lead')],
    ),
    # Exercise 2 — space_scores
    Misconception(
        "averages reverse-coded items as ticked",
        exercise="w23_improvement_space",
        edits=[('frame["answer"].where(~reverse, 1 + 5 - frame["answer"])', 'frame["answer"]')],
        why="the reverse flag is a column nobody reads; the answers look like ordinary 1-5 numbers",
    ),
    Misconception(
        "flips reverse-coded items as 5 - answer (off by one)",
        exercise="w23_improvement_space",
        edits=[("1 + 5 - frame", "5 - frame")],
        why="'subtract from the maximum' is the first formula that comes to mind; it maps 5 to 0",
    ),
    Misconception(
        "treats Activity counts as productivity (overall = Activity)",
        exercise="w23_improvement_space",
        edits=[("table[improvement.DIMENSIONS].mean(axis=1)", 'table["Activity"]')],
        why="commits and tickets are the numbers a tool hands you; SPACE warns never to use them in isolation",
    ),
    # Exercise 3 — chaos_experiment
    Misconception(
        "never rolls the fault back",
        exercise="w23_improvement_chaos",
        edits=[("        svc.clear_faults()\n", "        pass\n")],
        why="the experiment 'worked' (the hypothesis was refuted) and the cleanup is forgotten",
    ),
    Misconception(
        "steady state is only the success rate (slow 200s count as steady)",
        exercise="w23_improvement_chaos",
        edits=[
            (
                "return result.ok / result.total >= min_success and result.p95_ms < max_p95_ms",
                "return result.ok / result.total >= min_success",
            )
        ],
        why="availability is the metric everyone knows; a latency fault answers 200 OK",
    ),
    Misconception(
        "injects the fault even when the baseline is not steady",
        exercise="w23_improvement_chaos",
        edits=[
            (
                '    if not baseline:\n        return {"baseline_steady": False, "during_steady": None, '
                '"recovered": None, "verdict": "aborted"}\n',
                "",
            )
        ],
        passes_visible=True,
        why="the steady state is assumed rather than measured; on a sick system the experiment teaches nothing",
    ),
    # Exercise 4 — assess_maturity
    Misconception(
        "counts git's merge commits in the Conventional Commits share",
        exercise="w23_improvement_maturity",
        edits=[('"log", "--no-merges", "--format=%s"', '"log", "--format=%s"')],
        passes_visible=True,
        why="git log shows every commit by default; 'Merge branch' messages are written by git, not the team",
    ),
    Misconception(
        "counts every tag as a release",
        exercise="w23_improvement_maturity",
        edits=[(" if improvement.RELEASE_TAG_RE.match(line.split()[0])]", "]")],
        passes_visible=True,
        why="git tag lists deploy markers and experiments alongside releases",
    ),
    Misconception(
        "scores each level on its own (not cumulative)",
        exercise="w23_improvement_maturity",
        edits=[
            ("        level = 2\n        if not unmerged", "        level = 2\n    if True:\n        if not unmerged")
        ],
        passes_visible=True,
        why="a checklist per level invites ticking the highest box that matches, whatever is missing below",
    ),
    Misconception(
        "takes the mean release gap instead of the median",
        exercise="w23_improvement_maturity",
        edits=[("statistics.median(gaps)", "statistics.mean(gaps)")],
        passes_visible=True,
        why="'average' means mean in everyday language; one slow release then hides a daily cadence",
    ),
]
