"""Week 15 — named wrong answers (minimal edits of the reference solutions) that must lose marks."""

from harness import Misconception

CASES = [
    # Exercise 1 — review_application
    Misconception(
        "treats only HEAD as floating: a branch name or a short SHA counts as pinned",
        exercise="w15_argo_review_application",
        edits=[
            (
                'if not (re.fullmatch(r"[0-9a-f]{40}", revision) or re.fullmatch(r"v?\\d+\\.\\d+\\.\\d+", revision)):',
                'if revision == "HEAD":',
            )
        ],
        passes_visible=True,
        why="the syllabus example uses HEAD, so students check for that word instead of for a pin",
    ),
    Misconception(
        "reads automated: {} as 'no automated sync' (an empty dict is falsy)",
        exercise="w15_argo_review_application",
        edits=[
            (
                'if not isinstance(automated, dict) or automated.get("enabled") is False:',
                'if not automated or automated.get("enabled") is False:',
            )
        ],
        passes_visible=True,
        why="`if not automated` is the Python idiom, but Argo CD documents `automated: {}` as sync ON",
    ),
    Misconception(
        "ignores automated.enabled: false",
        exercise="w15_argo_review_application",
        edits=[(' or automated.get("enabled") is False:', ":")],
        passes_visible=True,
        why="the enabled flag is new in Argo CD 3.x and older examples never show it",
    ),
    Misconception(
        "returns the findings in the order the rules were checked, not sorted",
        exercise="w15_argo_review_application",
        edits=[("return sorted(findings)", "return findings")],
    ),
    # Exercise 2 — drift
    Misconception(
        "no RFC 6901 escaping: a label app.kubernetes.io/part-of becomes two path segments",
        exercise="w15_drift_report",
        edits=[('return str(name).replace("~", "~0").replace("/", "~1")', "return str(name)")],
        passes_visible=True,
        why="the simple labels of the examples never contain '/' or '~'",
    ),
    Misconception(
        "matches ignore rules as string prefixes: /spec/rep also ignores /spec/replicas",
        exercise="w15_drift_report",
        edits=[('path.startswith(p.rstrip("/") + "/")', "path.startswith(p)")],
        passes_visible=True,
        why="startswith looks right until two fields share a prefix",
    ),
    Misconception(
        "applies every ignoreDifferences rule to every kind of object",
        exercise="w15_drift_report",
        edits=[('            if rule.get("kind") != kind:\n                continue\n', "")],
        passes_visible=True,
        why="the rules look global in YAML; their kind/group/name are filters",
    ),
    Misconception(
        "compares only the fields git declares (server fields and hand-added labels never show up)",
        exercise="w15_drift_report",
        edits=[("for name in sorted(set(want) | set(have), key=str):", "for name in sorted(want, key=str):")],
        why="kubectl apply semantics: students assume fields git does not mention do not matter",
    ),
    Misconception(
        "compares values with == only, so 3 equals 3.0 and True equals 1",
        exercise="w15_drift_report",
        edits=[("if type(want) is not type(have) or want != have:", "if want != have:")],
        passes_visible=True,
        why="Python's == hides type drift that the Kubernetes API would reject or treat differently",
    ),
    # Exercise 3 — reconcile
    Misconception(
        "reads the manifests from the agent's working tree instead of the resolved commit",
        exercise="w15_reconcile_loop",
        edits=[('text = repo.git("show", f"{revision}:{path}")', "text = (repo.path / path).read_text()")],
        why="open(path) is what everybody writes first; the agent's clone is never checked out again",
    ),
    Misconception(
        "never fetches, so a teammate's push is never seen",
        exercise="w15_reconcile_loop",
        edits=[('    repo.git("fetch", "-q", "--tags", "origin")\n', "")],
        why="in a single clone you never need to fetch; the agent's clone is not where commits happen",
    ),
    Misconception(
        "prunes whenever automated sync is on, ignoring prune: false",
        exercise="w15_reconcile_loop",
        edits=[('prune = automated_on and automated.get("prune") is True', "prune = automated_on")],
        passes_visible=True,
        why="'sync means make the cluster equal to git' — but deleting is off by default for safety",
    ),
    Misconception(
        "self-heals every drift, even with selfHeal: false",
        exercise="w15_reconcile_loop",
        edits=[("if automated_on and work and (revision != last_synced or self_heal):", "if automated_on and work:")],
        passes_visible=True,
        why="students expect automated sync to be continuous; Argo CD syncs once per new commit without selfHeal",
    ),
    Misconception(
        "reports Synced although objects removed from git are still live (prune off)",
        exercise="w15_reconcile_loop",
        edits=[
            (
                'in_sync = not (diff["missing"] or diff["changed"] or diff["added"])',
                'in_sync = not (diff["missing"] or diff["changed"])',
            )
        ],
        passes_visible=True,
        why="an object waiting to be pruned feels like 'nothing to do', but Argo CD shows the app OutOfSync",
    ),
    # Exercise 4 — rollback
    Misconception(
        "reverts HEAD instead of the bad commit",
        exercise="w15_rollback_revert",
        edits=[
            (
                'repo.git("revert", "--no-edit", bad_sha, who="alice")',
                'repo.git("revert", "--no-edit", "HEAD", who="alice")',
            )
        ],
        passes_visible=True,
        why="`git revert HEAD` is the example everybody remembers; it is right only if nobody pushed since",
    ),
    Misconception(
        "rolls back with reset --hard and a force push (history rewritten)",
        exercise="w15_rollback_revert",
        edits=[
            (
                'repo.git("revert", "--no-edit", bad_sha, who="alice")',
                'repo.git("reset", "-q", "--hard", f"{bad_sha}^")',
            ),
            (
                'repo.git("push", "-q", "origin", "HEAD:main")',
                'repo.git("push", "-q", "--force", "origin", "HEAD:main")',
            ),
        ],
        why="reset is the 'undo' of a local branch; on a shared trunk it destroys teammates' work and the audit trail",
    ),
    Misconception(
        "reverts locally but never pushes",
        exercise="w15_rollback_revert",
        edits=[('    repo.git("push", "-q", "origin", "HEAD:main")\n', "")],
        why="a commit feels done; in GitOps nothing happens until the agent can fetch it",
    ),
    Misconception(
        "does not pull first: the teammate's bad commit is unknown to the local clone",
        exercise="w15_rollback_revert",
        edits=[('    repo.git("pull", "-q", "--rebase", "origin", "main")\n', "")],
        why="the bad commit was pushed by somebody else",
    ),
    # Exercise 5 — iac_findings
    Misconception(
        "checks the .tfvars files too, flagging the environment values where they belong",
        exercise="w15_iac_findings",
        edits=[('code = {name: parsed for name, parsed in tree.items() if name.endswith(".tf")}', "code = dict(tree)")],
        why="load_terraform returns both kinds of files and students loop over all of them",
    ),
    Misconception(
        "counts any provider version constraint as pinned, >= 5.0 included",
        exercise="w15_iac_findings",
        edits=[
            (
                'if not ("~>" in version or "<" in version or re.fullmatch(r"=?\\s*\\d+(\\.\\d+)*", version)):',
                "if not version:",
            )
        ],
        why="'there is a version' feels like 'it is pinned'; >= has no upper bound",
    ),
    Misconception(
        "looks for secrets only in attribute names, not in a secret variable's default",
        exercise="w15_iac_findings",
        edits=[
            (
                "secret = SECRET_NAME.search(path[-1]) or (\n"
                '                len(path) == 3 and path[0] == "variable" and path[2] == "default"'
                " and SECRET_NAME.search(path[1]))",
                "secret = SECRET_NAME.search(path[-1])",
            )
        ],
        passes_visible=True,
        why='variable "db_password" { default = "..." } hides the secret under the name \'default\'',
    ),
    Misconception(
        "asks every module for a version, local ./modules included",
        exercise="w15_iac_findings",
        edits=[('                if source.startswith(("./", "../")):\n                    continue\n', "")],
        why="the registry rule is applied without noticing that local modules ship in the same commit",
    ),
]
