"""Week 4 (trunk-based development): plausible wrong answers, each a minimal edit of the reference solution."""

from harness import Misconception

CASES = [
    # commit_in_small_steps (the warm-up)
    Misconception(
        "puts the flag store and the cart that uses it in one commit (four files)",
        exercise="w04_tbd_small_commits",
        edits=[('    repo.git("commit", "-q", "-m", "feat(flags): a flag store, every flag off by default")\n', "")],
        why="'one feature, one commit' sounds right",
    ),
    Misconception(
        "commits each module apart from its test, one file per commit",
        exercise="w04_tbd_small_commits",
        edits=[('repo.git("add", "src/flags.py", "tests/test_flags.py")\n'
                '    repo.git("commit", "-q", "-m", "feat(flags): a flag store, every flag off by default")',
                'repo.git("add", "src/flags.py")\n'
                '    repo.git("commit", "-q", "-m", "feat(flags): a flag store, every flag off by default")\n'
                '    repo.git("add", "tests/test_flags.py")\n'
                '    repo.git("commit", "-q", "-m", "test(flags): every flag is off by default")')],
        passes_visible=True,
        why="one file per commit looks like the smallest commit possible",
    ),
    Misconception(
        "commits the cart before the flag store it imports",
        exercise="w04_tbd_small_commits",
        edits=[('    repo.git("add", "src/flags.py", "tests/test_flags.py")\n'
                '    repo.git("commit", "-q", "-m", "feat(flags): a flag store, every flag off by default")\n'
                '    repo.git("add", "src/cart.py", "tests/test_cart.py")\n'
                '    repo.git("commit", "-q", "-m", "feat(cart): round totals behind the new-checkout flag")\n',
                '    repo.git("add", "src/cart.py", "tests/test_cart.py")\n'
                '    repo.git("commit", "-q", "-m", "feat(cart): round totals behind the new-checkout flag")\n'
                '    repo.git("add", "src/flags.py", "tests/test_flags.py")\n'
                '    repo.git("commit", "-q", "-m", "feat(flags): a flag store, every flag off by default")\n')],
        passes_visible=True,
        why="the final tree is the same whatever the order",
    ),
    Misconception(
        "uses git commit -a, which stages every tracked change and leaves the new files out",
        exercise="w04_tbd_small_commits",
        edits=[('repo.git("add", "src/flags.py", "tests/test_flags.py")\n'
                '    repo.git("commit", "-q", "-m", "feat(flags)',
                'repo.git("commit", "-q", "-a", "-m", "feat(flags)')],
    ),
    Misconception(
        "writes subjects that are not Conventional Commits",
        exercise="w04_tbd_small_commits",
        edits=[('"docs: how the new checkout is switched on"', '"Update README"')],
        passes_visible=True,
    ),
    # branch_lifetimes
    Misconception(
        "marks every merge as an integration into trunk, Git-Flow merges into develop included",
        exercise="w04_tbd_lifetimes",
        edits=[('"to_trunk": sha in trunk,', '"to_trunk": True,')],
        passes_visible=True,
        why="in a trunk-only history every merge does land on main, so the column looks right",
    ),
    Misconception(
        "counts every commit reachable from the branch tip, trunk history included (tip instead of p1..p2)",
        exercise="w04_tbd_lifetimes",
        edits=[('f"{first_parent}..{second_parent}"', "second_parent")],
    ),
    Misconception(
        "keeps times naive (no UTC time zone) on the timestamps",
        exercise="w04_tbd_lifetimes",
        edits=[('first = pd.Timestamp(min(times), unit="s", tz="UTC")', 'first = pd.Timestamp(min(times), unit="s")'),
               ('merged = pd.Timestamp(int(merged_ct), unit="s", tz="UTC")',
                'merged = pd.Timestamp(int(merged_ct), unit="s")')],
    ),
    # daily_flow
    Misconception(
        "counts branches that touch the day, not the most open at one moment",
        exercise="w04_tbd_daily",
        edits=[("max(sum(a <= m < b for a, b in intervals) for m in moments)",
                "sum(a < end and b > start for a, b in intervals)")],
        passes_visible=True,
        why="'open branches per day' reads like 'branches seen that day'",
    ),
    Misconception(
        "counts every commit reachable from main as a trunk integration (no --first-parent)",
        exercise="w04_tbd_daily",
        edits=[('on_trunk = times("--first-parent", "main")', 'on_trunk = times("main")')],
    ),
    # tbd_violations
    Misconception(
        "flags a branch that lived exactly the limit (>= instead of >)",
        exercise="w04_tbd_rules",
        edits=[("if hours > max_hours:", "if hours >= max_hours:")],
        passes_visible=True,
    ),
    Misconception(
        "hard-codes the open-branch limit of 3 and ignores max_open",
        exercise="w04_tbd_rules",
        edits=[("if opened > max_open:", "if opened > 3:")],
        passes_visible=True,
    ),
    # env_flag / provider_from_env
    Misconception(
        "does not strip spaces from the variable's value",
        exercise="w04_tbd_env_flags",
        edits=[("word = environ[name].strip().lower()", "word = environ[name].lower()")],
    ),
    Misconception(
        "the error names the variable but not the value found",
        exercise="w04_tbd_env_flags",
        edits=[('raise ValueError(f"{name}={environ[name]!r} is not', 'raise ValueError(f"{name} is not')],
        passes_visible=True,
    ),
    Misconception(
        "turns the bare prefix FEATURE_ into a flag with an empty key",
        exercise="w04_tbd_env_flags",
        edits=[("if name.startswith(prefix) and len(name) > len(prefix):", "if name.startswith(prefix):")],
        passes_visible=True,
    ),
    # bucket / in_rollout
    Misconception(
        "buckets with Python's hash(), which changes between processes",
        exercise="w04_tbd_rollout",
        edits=[('digest = hashlib.sha256(f"{flag_key}:{user_id}".encode("utf-8")).digest()\n'
                '    return int.from_bytes(digest[:8], "big") % 100',
                'return hash(f"{flag_key}:{user_id}") % 100')],
        passes_visible=True,
        why="hash() is sticky inside one kernel, so every in-notebook check passes",
    ),
    Misconception(
        "hashes only the user id, so every flag enables the same users",
        exercise="w04_tbd_rollout",
        edits=[('f"{flag_key}:{user_id}".encode("utf-8")', 'str(user_id).encode("utf-8")')],
        passes_visible=True,
    ),
    Misconception(
        "accepts True as a percentage (bool is an int)",
        exercise="w04_tbd_rollout",
        edits=[("if isinstance(percent, bool) or not isinstance", "if not isinstance")],
        passes_visible=True,
    ),
    Misconception(
        "lists only the merges reachable from the checked-out branch (no --all)",
        exercise="w04_tbd_lifetimes",
        edits=[('repo.git("log", "--all", "--merges", "--format=%H %P%x09%ct%x09%s")',
                'repo.git("log", "--merges", "--format=%H %P%x09%ct%x09%s")')],
        passes_visible=True,
    ),
]
