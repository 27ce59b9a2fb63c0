"""Week 2 (semantic versioning): plausible wrong answers, each a minimal edit of the reference solution."""

from harness import Misconception

CASES = [
    # parse_version
    Misconception(
        "anchors with re.match(... + '$'), which also accepts a trailing newline",
        exercise="w02_semver_parse",
        edits=[("re.fullmatch(pattern, text)", 're.match(pattern + "$", text)')],
        passes_visible=True,
        why="`$` matches just before a final newline",
    ),
    Misconception(
        "accepts leading zeros in numeric pre-release identifiers (1.2.3-01)",
        exercise="w02_semver_parse",
        edits=[('pre_id = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"', 'pre_id = r"[0-9A-Za-z-]+"')],
        passes_visible=True,
        why="the rule against leading zeros is easy to remember for MAJOR.MINOR.PATCH only",
    ),
    Misconception(
        "keeps numeric pre-release identifiers as strings",
        exercise="w02_semver_parse",
        edits=[('tuple(int(p) if p.isdigit() else p for p in m["pre"].split("."))', 'tuple(m["pre"].split("."))')],
    ),
    # compare_versions
    Misconception(
        "compares pre-release identifiers as strings, so beta.11 < beta.2",
        exercise="w02_semver_compare",
        edits=[('return [(0, p, "") if isinstance(p, int) else (1, 0, p) for p in pre]',
                "return [str(p) for p in pre]")],
    ),
    Misconception(
        "compares alphanumeric identifiers case-insensitively",
        exercise="w02_semver_compare",
        edits=[('else (1, 0, p) for p in pre]', 'else (1, 0, p.lower()) for p in pre]')],
        passes_visible=True,
        why="RC and rc look like the same release candidate; semver compares in ASCII order",
    ),
    # release_type / bump
    Misconception(
        "keeps PATCH when bumping MINOR",
        exercise="w02_semver_bump",
        edits=[('return f"{major}.{minor + 1}.0"', 'return f"{major}.{minor + 1}.{patch}"')],
    ),
    Misconception(
        "matches the commit type case-sensitively (Feat: is not a feature)",
        exercise="w02_semver_bump",
        edits=[('.get(m["type"].lower())', '.get(m["type"])')],
        passes_visible=True,
    ),
    Misconception(
        "treats 'BREAKING CHANGE' anywhere in the message as a breaking footer",
        exercise="w02_semver_bump",
        edits=[('re.search(r"^BREAKING[ -]CHANGE: ", "\\n".join(lines[1:]), re.MULTILINE)',
                '"BREAKING CHANGE" in message')],
        passes_visible=True,
    ),
    # last_release / messages_since / next_version
    Misconception(
        "picks the highest tag alphabetically, so v1.9.0 beats v1.10.0",
        exercise="w02_semver_next",
        edits=[("if best is None or compare_versions(tag[1:], best[1:]) > 0:", "if best is None or tag > best:")],
        passes_visible=True,
    ),
    Misconception(
        "forgets that a breaking change in 0.y.z bumps MINOR",
        exercise="w02_semver_next",
        edits=[('    if kind == "major" and parse_version(base)[0] == 0:\n'
                '        kind = "minor"  # 0.y.z: a breaking change bumps MINOR\n', "")],
        passes_visible=True,
    ),
    Misconception(
        "considers every tag, also those on branches not merged into HEAD",
        exercise="w02_semver_next",
        edits=[('repo.git("tag", "--merged", "HEAD", "--list", "v*")', 'repo.git("tag", "--list", "v*")')],
        passes_visible=True,
    ),
    # release_notes
    Misconception(
        "lists the entries newest first",
        exercise="w02_semver_notes",
        edits=[("for message in messages_since(repo, last_release(repo)):",
                "for message in reversed(messages_since(repo, last_release(repo))):")],
        passes_visible=True,
        why="git log prints newest first, and the visible example has one entry per section",
    ),
    Misconception(
        "describes a footer breaking change by the header, not the footer text",
        exercise="w02_semver_notes",
        edits=[('text = footer["text"].strip() if footer else m["description"]', 'text = m["description"]')],
        passes_visible=True,
    ),
    Misconception(
        "does not end the notes with a newline",
        exercise="w02_semver_notes",
        edits=[('return "\\n".join(out) + "\\n"', 'return "\\n".join(out)')],
    ),
    Misconception(
        "matches digits with \\d, which also accepts digits of other scripts (Arabic-Indic, Devanagari)",
        exercise="w02_semver_parse",
        edits=[('num = r"0|[1-9][0-9]*"', 'num = r"0|[1-9]\\d*"')],
        passes_visible=True,
        why="in Python 3, \\d matches every Unicode decimal digit, and int() accepts them too",
    ),
    # warm-up: tag the first release (git on the command line)
    Misconception(
        "creates a lightweight tag (git tag v1.0.0) for a release",
        exercise="w02_semver_tag",
        edits=[("'git tag -a v1.0.0 -m \"Release 1.0.0\"'", "'git tag v1.0.0'")],
        passes_visible=True,
        why="both kinds show up in git tag; only the annotated one records who released what, when",
    ),
    Misconception(
        "names the tag after the version, without the v",
        exercise="w02_semver_tag",
        edits=[("git tag -a v1.0.0", "git tag -a 1.0.0")],
    ),
    Misconception(
        "tags the commit before HEAD",
        exercise="w02_semver_tag",
        edits=[('-m \"Release 1.0.0\"', '-m \"Release 1.0.0\" HEAD~1')],
    ),
    # git bisect run
    Misconception(
        "bisects with the whole test suite, which also fails for an older, unrelated bug",
        exercise="w02_semver_bisect",
        edits=[('"git bisect run python test_price.py"', '"git bisect run python -m unittest"')],
        passes_visible=True,
        why="'run the tests' feels safer than one test; bisect then answers a different question",
    ),
    Misconception(
        "forgets git bisect reset",
        exercise="w02_semver_bisect",
        edits=[('    "git bisect reset",\n', "")],
    ),
    Misconception(
        "marks good and bad the wrong way round",
        exercise="w02_semver_bisect",
        edits=[('"git bisect bad main"', '"git bisect bad v1.4.0"'),
               ('"git bisect good v1.4.0"', '"git bisect good main"')],
    ),
    # git revert on trunk
    Misconception(
        "resets main to before the bad commit and force-pushes",
        exercise="w02_semver_revert",
        edits=[('"git revert --no-edit HEAD~3", "git push origin main"',
                '"git reset --hard HEAD~4", "git push --force origin main"')],
        why="locally, reset looks like the cleanest undo",
    ),
    Misconception(
        "reverts the newest commit instead of the bad one",
        exercise="w02_semver_revert",
        edits=[('"git revert --no-edit HEAD~3"', '"git revert --no-edit HEAD"')],
    ),
    Misconception(
        "restores the file from before the bad commit instead of reverting it",
        exercise="w02_semver_revert",
        edits=[('"git revert --no-edit HEAD~3"',
                "\"git checkout HEAD~4 -- shop/price.py\", \"git commit -m 'fix(price): restore per-line rounding'\"")],
        passes_visible=True,
        why="the test goes green, but the later free-shipping change to the same file is lost and the benchmark stays",
    ),
    Misconception(
        "reverts but forgets to push",
        exercise="w02_semver_revert",
        edits=[(', "git push origin main"', "")],
    ),
    # hotfix: cherry-pick to release/1.4, tag v1.4.1
    Misconception(
        "cherry-picks onto main instead of the release branch",
        exercise="w02_semver_hotfix",
        edits=[('    "git switch release/1.4",\n', "")],
    ),
    Misconception(
        "tags the hotfix as a MINOR release, v1.5.0",
        exercise="w02_semver_hotfix",
        edits=[("git tag -a v1.4.1 -m \"Release 1.4.1\"", "git tag -a v1.5.0 -m \"Release 1.5.0\""),
               ("git push origin release/1.4 v1.4.1", "git push origin release/1.4 v1.5.0")],
    ),
    Misconception(
        "merges main into the release branch, shipping unreleased features in a PATCH release",
        exercise="w02_semver_hotfix",
        edits=[('"git cherry-pick -x main~1"', '"git merge --no-edit main"')],
        passes_visible=True,
    ),
    Misconception(
        "tags the release with a lightweight tag",
        exercise="w02_semver_hotfix",
        edits=[("'git tag -a v1.4.1 -m \"Release 1.4.1\"'", "'git tag v1.4.1'")],
        passes_visible=True,
    ),
    Misconception(
        "cherry-picks without -x, so the backport does not say where it came from",
        exercise="w02_semver_hotfix",
        edits=[('"git cherry-pick -x main~1"', '"git cherry-pick main~1"')],
        passes_visible=True,
    ),
]
