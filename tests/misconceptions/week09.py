"""Week 9 misconceptions: plausible wrong answers about digests, reproducible builds, promotion and pipelines."""

from harness import Misconception

CASES = [
    # -- Exercise 1: sha256_of
    Misconception(
        "hashes the file's name instead of its bytes",
        exercise="w09_cd_sha256_of",
        edits=[("digest.update(chunk)", "digest.update(str(path).encode())")],
        why="hashlib.sha256(str(path).encode()) is the first thing a search shows for 'sha256 in python'",
    ),
    Misconception(
        "returns the raw digest bytes instead of the hex text",
        exercise="w09_cd_sha256_of",
        edits=[("return digest.hexdigest()", "return digest.digest()")],
    ),
    Misconception(
        "reads the artefact as text (decodes bytes, rewrites CRLF)",
        exercise="w09_cd_sha256_of",
        edits=[
            (
                'with open(path, "rb") as handle:\n        for chunk in iter(lambda: handle.read(65536), b""):\n'
                "            digest.update(chunk)",
                "with open(path) as handle:\n        digest.update(handle.read().encode())",
            )
        ],
        passes_visible=True,
        why="text files hash the same either way, so the mistake only shows on binary artefacts",
    ),
    # -- Exercise 2: build_artifact
    Misconception(
        "keeps each file's own mtime (no --mtime)",
        exercise="w09_cd_build_artifact",
        edits=[('        f"--mtime=@{epoch}",\n', "")],
    ),
    Misconception(
        "relies on the directory order (no --sort=name)",
        exercise="w09_cd_build_artifact",
        edits=[('        "--sort=name",\n', "")],
        passes_visible=True,
        why="on one machine the order is stable, so two local builds agree; another file system disagrees",
    ),
    Misconception(
        "sets owner 0/0 but still stores the user names (no --numeric-owner)",
        exercise="w09_cd_build_artifact",
        edits=[('        "--numeric-owner",\n', "")],
        passes_visible=True,
    ),
    Misconception(
        "hard-codes the commit time instead of using epoch",
        exercise="w09_cd_build_artifact",
        edits=[('f"--mtime=@{epoch}"', '"--mtime=@1767603600"')],
        passes_visible=True,
    ),
    Misconception(
        "packs the folder by its path (members named tmp/.../src/VERSION)",
        exercise="w09_cd_build_artifact",
        edits=[('        "-C",\n        str(src),\n        ".",\n', "        str(src),\n")],
    ),
    # -- Exercise 3: promote
    Misconception(
        "gates prod only, staging deploys without approval",
        exercise="w09_cd_promote",
        edits=[("if env in delivery.GATED:", 'if env == "prod":')],
    ),
    Misconception(
        "checks the approval's environment but not which bits were approved",
        exercise="w09_cd_promote",
        edits=[("if approval.env != env or approval.sha256 != artifact.sha256:", "if approval.env != env:")],
        passes_visible=True,
    ),
    Misconception(
        "compares version strings instead of digests (a rebuilt 1.4.0 passes)",
        exercise="w09_cd_promote",
        edits=[
            (
                "        running = envs.running_digest(previous)\n        if running != artifact.sha256:",
                "        running = envs.version(previous)\n"
                '        if running is None or running["version"].split("+")[0] != artifact.version:',
            )
        ],
        passes_visible=True,
        why="'promote 1.4.0' sounds like a version is the thing promoted",
    ),
    Misconception(
        "trusts the recorded digest and never re-hashes the file",
        exercise="w09_cd_promote",
        edits=[("on_disk = delivery.sha256(artifact.path)", "on_disk = artifact.sha256")],
        passes_visible=True,
    ),
    Misconception(
        "deploys first and checks the rules afterwards",
        exercise="w09_cd_promote",
        edits=[
            ("    envs.deploy(env, artifact, approval=approval)\n    answer", "    answer"),
            (
                "    on_disk = delivery.sha256(artifact.path)\n",
                "    envs.deploy(env, artifact, approval=approval)\n    on_disk = delivery.sha256(artifact.path)\n",
            ),
        ],
        passes_visible=True,
        why="the refusal is raised, so it looks right, but the environment already changed",
    ),
    # -- Exercise 4: write_pipeline
    Misconception(
        "a job-level when: manual without allow_failure: false (does not block)",
        exercise="w09_cd_gitlab_pipeline",
        edits=[("  when: manual\n  allow_failure: false\n", "  when: manual\n")],
        passes_visible=True,
        why="GitLab's default allow_failure: true for manual jobs is easy to miss",
    ),
    Misconception(
        "prod can be deployed from any branch",
        exercise="w09_cd_gitlab_pipeline",
        edits=[("    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n      when: manual\n", "    - when: manual\n")],
        passes_visible=True,
    ),
    Misconception(
        "the staging job builds again before deploying",
        exercise="w09_cd_gitlab_pipeline",
        edits=[
            (
                "    - ./deploy.sh staging dist/orders.tar.gz\n",
                "    - ./build.sh dist/orders.tar.gz\n    - ./deploy.sh staging dist/orders.tar.gz\n",
            )
        ],
        passes_visible=True,
    ),
    Misconception(
        "deploy-staging without a script, as in the syllabus snippet",
        exercise="w09_cd_gitlab_pipeline",
        edits=[
            (
                "deploy-staging:\n  stage: deploy-staging\n  script:\n    - sha256sum -c dist/orders.tar.gz.sha256\n"
                "    - ./deploy.sh staging dist/orders.tar.gz\n",
                "deploy-staging:\n  stage: deploy-staging\n",
            )
        ],
    ),
    # -- Exercise 5: stage_minutes
    Misconception(
        "takes the last occurrence of a milestone (a redeploy moves it)",
        exercise="w09_cd_stage_minutes",
        edits=[('hits["at"].min() if len(hits)', 'hits["at"].max() if len(hits)')],
        passes_visible=True,
    ),
    Misconception(
        "orders releases by name instead of commit time",
        exercise="w09_cd_stage_minutes",
        edits=[('.groupby("release")["at"].min().sort_values()', '.groupby("release")["at"].min().sort_index()')],
        passes_visible=True,
        why="'1.10.0' sorts before '1.9.0' as text",
    ),
    Misconception(
        "uses Timedelta.seconds (drops whole days)",
        exercise="w09_cd_stage_minutes",
        edits=[("(end - start).total_seconds() / 60", "(end - start).seconds / 60")],
    ),
    Misconception(
        "measures lead time from the build instead of the commit",
        exercise="w09_cd_stage_minutes",
        edits=[("minutes(times[0], times[-1])", "minutes(times[1], times[-1])")],
    ),
]
