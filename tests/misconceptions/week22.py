"""Week 22 — named wrong answers (minimal edits of the reference solutions) that must lose marks."""

from harness import Misconception

CASES = [
    # Exercise 1 — caret ranges
    Misconception(
        "treats ^0.x like ^1.x: any later minor of a 0.x package is accepted",
        exercise="w22_enterprise_caret",
        edits=[("if low.major > 0:", "if True:")],
        why="'caret = same major' is the rule people remember; node-semver fixes the left-most NON-ZERO field",
    ),
    Misconception(
        "handles ^0.2.3 but lets ^0.0.3 accept any 0.0.x patch",
        exercise="w22_enterprise_caret",
        edits=[("elif low.minor > 0:", "elif True:")],
        passes_visible=True,
        why="the 0.0.x case is rare in practice and easy to fold into the 0.x branch",
    ),
    Misconception(
        "compares versions as strings",
        exercise="w22_enterprise_caret",
        edits=[("return low <= semver.Version.parse(version) < high", "return str(low) <= version < str(high)")],
        passes_visible=True,
        why="single-digit versions sort the same as strings; 1.10.0 < 1.9.0 as text",
    ),
    Misconception(
        "includes the upper bound (^1.2.3 accepts 2.0.0)",
        exercise="w22_enterprise_caret",
        edits=[
            (
                "return low <= semver.Version.parse(version) < high",
                "return low <= semver.Version.parse(version) <= high",
            )
        ],
        why="'up to 2.0.0' read as inclusive",
    ),
    # Exercise 2 — affected services
    Misconception(
        "only direct dependents: a change in shared/types does not reach the services behind auth-types",
        exercise="w22_enterprise_affected",
        edits=[("todo.extend(dependents.get(d, ()))", "todo.extend(dependents.get(d, ()) if d in touched else ())")],
        why="one level of 'who imports this' is what a quick grep shows",
    ),
    Misconception(
        "diffs the two tips (base..head): changes main made meanwhile count as the pull request's",
        exercise="w22_enterprise_affected",
        edits=[('f"{base}...{head}"', 'f"{base}..{head}"')],
        passes_visible=True,
        why="two dots and three dots look alike; they only differ once main has moved on",
    ),
    Misconception(
        "reads the dependency graph at base, missing a dependency the pull request adds",
        exercise="w22_enterprise_affected",
        edits=[("pkgs = monorepo.packages(repo_dir, head)", "pkgs = monorepo.packages(repo_dir, base)")],
        passes_visible=True,
        why="the graph 'of the repository' feels like main's; the merge will bring the branch's package.json",
    ),
    Misconception(
        "returns the affected shared packages too",
        exercise="w22_enterprise_affected",
        edits=[("return sorted(d for d in affected if d in services)", "return sorted(affected)")],
        why="every affected package feels like something to build; CI deploys services",
    ),
    # Exercise 3 — dashboard
    Misconception(
        "counts open pull requests as merges",
        exercise="w22_enterprise_dashboard",
        edits=[('merges = merged.groupby("team").size() / days', 'merges = prs.groupby("team").size() / days')],
        passes_visible=True,
        why="one row per pull request looks like one merge per row",
    ),
    Misconception(
        "counts cancelled builds as failures",
        exercise="w22_enterprise_dashboard",
        edits=[('finished = builds[builds["status"] != "cancelled"]', "finished = builds")],
        passes_visible=True,
        why="anything that is not green looks red on a CI page",
    ),
    Misconception(
        "measures review time up to the merge",
        exercise="w22_enterprise_dashboard",
        edits=[('review = ((prs["first_review"] - prs["opened"])', 'review = ((prs["merged"] - prs["opened"])')],
        why="'time in review' is often read as 'time until approved and merged'",
    ),
    Misconception(
        "divides merges by the days that had a merge, not the observed days",
        exercise="w22_enterprise_dashboard",
        edits=[
            (
                'merges = merged.groupby("team").size() / days',
                'merges = merged.groupby("team").size()'
                ' / merged.groupby("team")["merged"].agg(lambda s: s.dt.normalize().nunique())',
            )
        ],
        why="an average over the rows you have leaves out the quiet days",
    ),
    # Exercise 4 — flag coverage
    Misconception(
        "finds flag checks with a regex, so comments and strings count",
        exercise="w22_enterprise_flag_coverage",
        edits=[
            (
                "        for node in ast.walk(tree):\n",
                "        import re\n"
                '        checked.update(re.findall(r"is_enabled\\([\'\\"](\\w+)", path.read_text(encoding="utf-8")))\n'
                "        for node in []:\n",
            )
        ],
        why="grep is the first tool that comes to mind for 'find the calls'",
    ),
    Misconception(
        "counts declared flags (every string constant such as the registry's keys) as checks",
        exercise="w22_enterprise_flag_coverage",
        edits=[
            (
                "if is_check and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):\n"
                "                checked.add(node.args[0].value)",
                "if isinstance(node, ast.Constant) and isinstance(node.value, str):\n"
                "                checked.add(node.value)",
            )
        ],
        why="'the flag exists' is mistaken for 'the feature is behind it'",
    ),
    Misconception(
        "divides by the flags found in the code instead of the features that must be guarded",
        exercise="w22_enterprise_flag_coverage",
        edits=[('"coverage": len(guarded) / len(features)', '"coverage": len(guarded) / len(checked)')],
        why="coverage of 'our flags' rather than of 'our new features'",
    ),
    Misconception(
        "scans only the top folder (app/*.py) and misses subpackages",
        exercise="w22_enterprise_flag_coverage",
        edits=[('root.rglob("*.py")', 'root.glob("app/*.py")')],
        passes_visible=True,
        why="the sample tree is flat; real ones are not",
    ),
]
