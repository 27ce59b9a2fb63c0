"""Week 3 (conventions and hooks): plausible wrong answers, each a minimal edit of the reference solution."""

from harness import Misconception

CASES = [
    # validate_commit_message
    Misconception(
        "accepts upper-case types such as Feat",
        exercise="w03_hooks_validate",
        edits=[("        if kind not in ALLOWED_TYPES:", "        if kind.lower() not in ALLOWED_TYPES:")],
        passes_visible=True,
    ),
    Misconception(
        "recognises only 'BREAKING CHANGE', not its synonym 'BREAKING-CHANGE'",
        exercise="w03_hooks_validate",
        edits=[('if any(token in ("BREAKING CHANGE", "BREAKING-CHANGE") for token, _ in footers):',
                'if any(token == "BREAKING CHANGE" for token, _ in footers):')],
        passes_visible=True,
    ),
    Misconception(
        "keeps the # comment lines git strips from the message",
        exercise="w03_hooks_validate",
        edits=[('lines = [line.rstrip() for line in message.splitlines() if not line.startswith("#")]',
                "lines = [line.rstrip() for line in message.splitlines()]")],
        passes_visible=True,
    ),
    # COMMIT_MSG_HOOK
    Misconception(
        "prints the problem but exits 0, so the commit still goes through",
        exercise="w03_hooks_commit_msg",
        edits=[('print("  expected e.g. \'feat(cart): add a cart\' or \'fix!: drop the v1 API\'", file=sys.stderr)\n'
                "sys.exit(1)",
                'print("  expected e.g. \'feat(cart): add a cart\' or \'fix!: drop the v1 API\'", file=sys.stderr)\n'
                "sys.exit(0)")],
    ),
    Misconception(
        "rejects the messages git writes itself (Merge ..., fixup! ...)",
        exercise="w03_hooks_commit_msg",
        edits=[("if first.startswith(WRITTEN_BY_GIT):\n    sys.exit(0)\n", "")],
        passes_visible=True,
    ),
    Misconception(
        "lets upper-case types through",
        exercise="w03_hooks_commit_msg",
        edits=[('elif m["type"] not in ALLOWED:', 'elif m["type"].lower() not in ALLOWED:')],
        passes_visible=True,
    ),
    # PRE_COMMIT_HOOK
    Misconception(
        "compiles the working-tree file instead of the staged content",
        exercise="w03_hooks_pre_commit",
        edits=[('compile(git("show", f":{path}"), path, "exec")', 'compile(Path(path).read_text(), path, "exec")')],
        passes_visible=True,
        why="in a plain `git commit -a` both are the same",
    ),
    Misconception(
        "lists staged files without --diff-filter, so a deleted file breaks `git show`",
        exercise="w03_hooks_pre_commit",
        edits=[('"--name-only", "--diff-filter=ACMR", "-z"', '"--name-only", "-z"')],
        passes_visible=True,
    ),
    # pre_commit_config
    Misconception(
        "greps every file type for breakpoint(), README.md included",
        exercise="w03_hooks_framework",
        edits=[('"entry": r"breakpoint\\(\\)", "types": ["python"]},', '"entry": r"breakpoint\\(\\)"},')],
    ),
    Misconception(
        "lets pre-commit pass the changed file names to pytest",
        exercise="w03_hooks_framework",
        edits=[('         "pass_filenames": False, "types": ["python"]},', '         "types": ["python"]},')],
        passes_visible=True,
        why="pytest then runs only the staged files, and finds no test in calc.py (exit 5)",
    ),
    # protection_violations
    Misconception(
        "counts the author's own Reviewed-by as an approval",
        exercise="w03_hooks_protection",
        edits=[("        emails.discard(author.lower())\n", "")],
        passes_visible=True,
    ),
    Misconception(
        "treats squash-merged pull requests '(#N)' as direct commits",
        exercise="w03_hooks_protection",
        edits=[('if not merge and re.search(r"\\(#\\d+\\)$", subject) is None:', "if not merge:")],
        passes_visible=True,
    ),
    Misconception(
        "rejects a first line of exactly 72 characters (>= instead of >)",
        exercise="w03_hooks_validate",
        edits=[("    if len(header) > 72:", "    if len(header) >= 72:")],
        passes_visible=True,
    ),
    Misconception(
        "recognises only 'Token: value' footers, not 'Token #value' (Closes #12)",
        exercise="w03_hooks_validate",
        edits=[('(?:: | (?=#))(?P<value>.*)', ': (?P<value>.*)')],
        passes_visible=True,
    ),
]

# -- the warm-up: which first lines are conventional -------------------------------------------------------
CASES += [
    Misconception(
        "thinks the type's case does not matter ('Fix: ...')",
        exercise="w03_hooks_warmup",
        edits=[('"Fix: handle an empty cart": False,', '"Fix: handle an empty cart": True,')],
        passes_visible=True,
    ),
    Misconception(
        "thinks '!' is not allowed in a first line",
        exercise="w03_hooks_warmup",
        edits=[('"fix(api)!: drop the v1 endpoints": True,', '"fix(api)!: drop the v1 endpoints": False,')],
        passes_visible=True,
    ),
    Misconception(
        "accepts any word as a type ('feature')",
        exercise="w03_hooks_warmup",
        edits=[('"feature(search): search by product name": False,',
                '"feature(search): search by product name": True,')],
        passes_visible=True,
    ),
]

# -- the forge (exercises 7-9): the commands a student runs against a protected origin ---------------------
_RESOLVE = '''    # both sides now sit between <<<<<<< and >>>>>>>: write what the file should say (Bob's line first)
    f.write("shop/features.py", \'\'\'"""The shop's feature switches: what customers can use today."""

ENABLED = [
    "search",
    "checkout",
    "wishlist",
    "dark-mode",
]
\'\'\')
'''
CASES += [
    Misconception(
        "adds a new, well-formed commit on top instead of amending the rejected one",
        exercise="w03_forge_amend",
        edits=[("git commit -q --amend -m", "git commit -q --allow-empty -m")],
        why="the server checks every new commit, so the bad one still blocks the push",
    ),
    Misconception(
        "stages everything before amending, so the untracked notes.txt rides along",
        exercise="w03_forge_amend",
        edits=[('f.sh("git commit -q --amend', 'f.sh("git add -A && git commit -q --amend')],
        passes_visible=True,
    ),
    Misconception(
        "force-pushes instead of integrating the teammate's commit",
        exercise="w03_forge_conflict",
        edits=[('    f.sh("git rebase origin/main")  # stops: CONFLICT (content) in shop/features.py\n', ""),
               (_RESOLVE, ""), ('    f.sh("git add shop/features.py")\n    f.sh("git rebase --continue")\n', ""),
               ('f.sh("git push origin main")', 'f.sh("git push --force origin main")')],
    ),
    Misconception(
        "resolves with `git checkout --ours`, which during a rebase is the teammate's side",
        exercise="w03_forge_conflict",
        edits=[(_RESOLVE, '    f.sh("git checkout --ours shop/features.py")\n')],
        passes_visible=True,
        why="in a merge --ours is your branch; a rebase replays your commits onto upstream, so the sides swap",
    ),
    Misconception(
        "forgets `git add` after resolving, so the rebase never continues",
        exercise="w03_forge_conflict",
        edits=[('    f.sh("git add shop/features.py")\n', "")],
    ),
    Misconception(
        "merges the trunk into the branch instead of rebasing",
        exercise="w03_forge_rebase",
        edits=[('f.sh("git rebase origin/main")', 'f.sh("git merge -q --no-edit origin/main")')],
    ),
    Misconception(
        "squashes the branch into one commit instead of replaying both",
        exercise="w03_forge_rebase",
        edits=[('f.sh("git rebase origin/main")',
                "f.sh(\"git reset -q --soft origin/main && git commit -q -m 'feat(search): an index, with a test'\")")],
        passes_visible=True,
    ),
]
