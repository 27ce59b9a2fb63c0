"""Week 1 (DevOps culture and DORA): plausible wrong answers, each a minimal edit of the reference solution."""

from harness import Misconception

CASES = [
    # commits_and_deployments (the warm-up)
    Misconception(
        "counts every tag as a deployment, not only the v* release tags",
        exercise="w01_dora_warmup",
        edits=[('repo.git("tag", "--list", "v*")', 'repo.git("tag", "--list")')],
        passes_visible=True,
        why="in most small histories every tag is a release tag",
    ),
    Misconception(
        "counts lines with split('\\n'), so an empty output counts as one commit",
        exercise="w01_dora_warmup",
        edits=[('len(log.splitlines())', 'len(log.strip().split("\\n"))')],
        passes_visible=True,
        why="`wc -l` of an empty output is 0, but splitting an empty string gives one empty item",
    ),
    Misconception(
        "ignores the time window and counts every commit",
        exercise="w01_dora_warmup",
        edits=[('repo.git("log", "--oneline", f"--since={since}", f"--until={until}")',
                'repo.git("log", "--oneline")')],
    ),
    # parse_log
    Misconception(
        "parses author_time without utc=True, keeping the authors' offsets",
        exercise="w01_dora_parse_log",
        edits=[('pd.to_datetime(frame["author_time"], utc=True, format="ISO8601")',
                'pd.to_datetime(frame["author_time"], format="ISO8601")')],
    ),
    Misconception(
        "counts the parents as spaces + 1, so the first commit gets one parent",
        exercise="w01_dora_parse_log",
        edits=[("len(parents.split())", 'parents.count(" ") + 1')],
    ),
    Misconception(
        "splits the text on newlines without dropping empty lines",
        exercise="w01_dora_parse_log",
        edits=[('for line in text.splitlines() if line.strip()]', 'for line in text.split("\\n")]')],
    ),
    # change_lead_times
    Misconception(
        "gives every commit to every tag that contains it, not only to the earliest",
        exercise="w01_dora_lead_times",
        edits=[('repo.git("log", "--format=%H %ct", sha, "--not", *earlier, "--")',
                'repo.git("log", "--format=%H %ct", sha, "--")')],
    ),
    Misconception(
        "measures from the author date (%at) instead of the committer date",
        exercise="w01_dora_lead_times",
        edits=[('"--format=%H %ct"', '"--format=%H %at"')],
        passes_visible=True,
    ),
    # weekly_dashboard
    Misconception(
        "takes the week of the local wall-clock time instead of the UTC time",
        exercise="w01_dora_weekly",
        edits=[('return times.dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("W")',
                'return times.dt.tz_localize(None).dt.to_period("W")')],
        passes_visible=True,
    ),
    Misconception(
        "lists only the weeks that had deployments (no empty weeks in between)",
        exercise="w01_dora_weekly",
        edits=[('index = pd.period_range(deploy_weeks.min(), deploy_weeks.max(), freq="W", name="week")',
                'index = pd.PeriodIndex(sorted(set(deploy_weeks)), freq="W", name="week")')],
        passes_visible=True,
    ),
    Misconception(
        "reports the mean lead time instead of the median",
        exercise="w01_dora_weekly",
        edits=[("hours.groupby(week(shipped[\"deployed_at\"])).median()",
                "hours.groupby(week(shipped[\"deployed_at\"])).mean()")],
        passes_visible=True,
    ),
    # deployment_outcomes / change_fail_rate / median_recovery_time
    Misconception(
        "marks the remediation deployment itself as the failed one",
        exercise="w01_dora_failures",
        edits=[('out["failed"] = out["remediation"].shift(-1, fill_value=False).astype(bool)',
                'out["failed"] = out["remediation"].astype(bool)')],
    ),
    Misconception(
        "counts only reverts as remediations, not hotfixes",
        exercise="w01_dora_failures",
        edits=[("""remediates = subject.str.startswith('Revert "') | (
        subject.str.contains("hotfix", case=False, regex=False) & ~shipped["is_merge"].astype(bool))""",
                """remediates = subject.str.startswith('Revert "')""")],
        passes_visible=True,
    ),
    Misconception(
        "looks for 'hotfix' case-sensitively",
        exercise="w01_dora_failures",
        edits=[('subject.str.contains("hotfix", case=False, regex=False)',
                'subject.str.contains("hotfix", regex=False)')],
        passes_visible=True,
    ),
    Misconception(
        "returns a change fail rate of 0.0 when there were no deployments",
        exercise="w01_dora_failures",
        edits=[('float(outcomes["failed"].mean()) if len(outcomes) else float("nan")',
                'float(outcomes["failed"].mean()) if len(outcomes) else 0.0')],
        passes_visible=True,
    ),
    # dora_tier / overall_tier
    Misconception(
        "counts a lead time of exactly one day as elite (<= instead of <)",
        exercise="w01_dora_tiers",
        edits=[('return "elite" if value < day else "high" if value <= week',
                'return "elite" if value <= day else "high" if value <= week')],
        passes_visible=True,
    ),
    Misconception(
        "a change fail rate of exactly 5 % is not elite (< instead of <=)",
        exercise="w01_dora_tiers",
        edits=[('"elite" if value <= 0.05', '"elite" if value < 0.05')],
        passes_visible=True,
    ),
    Misconception(
        "takes the best tier overall instead of the weakest",
        exercise="w01_dora_tiers",
        edits=[("return max(known, key=TIERS.index)", "return min(known, key=TIERS.index)")],
    ),
    # commits_per_day
    Misconception(
        "counts only the days with commits (no zero days)",
        exercise="w01_dora_baseline",
        edits=[('.groupby(level=0).sum().reindex(index, fill_value=0).astype("int64")',
                '.groupby(level=0).sum().astype("int64")')],
    ),
    Misconception(
        "assumes the lines are newest first and takes the range from the last line to the first",
        exercise="w01_dora_baseline",
        edits=[('index = pd.period_range(days.min(), days.max(), freq="D", name="day")',
                'index = pd.period_range(days[-1], days[0], freq="D", name="day")')],
        passes_visible=True,
        why="git log prints newest first, so it works on every real log",
    ),
    Misconception(
        "does not handle an empty history",
        exercise="w01_dora_baseline",
        edits=[('    if len(days) == 0:\n        index = pd.PeriodIndex([], freq="D", name="day")\n    else:\n'
                '        index = pd.period_range(days.min(), days.max(), freq="D", name="day")',
                '    index = pd.period_range(days.min(), days.max(), freq="D", name="day")')],
        passes_visible=True,
    ),
]
