"""Week 13 misconceptions: the container mistakes people really make, as minimal edits of the reference answers."""

from harness import Misconception

CASES = [
    # -- Exercise 1: pin_level ---------------------------------------------------------------------------------
    Misconception(
        "a registry port is read as a tag",
        exercise="w13_containers_pin_level",
        edits=[('last = name.rsplit("/", 1)[-1]', "last = name")],
        passes_visible=True,
        why="splitting the whole reference on ':' works for node:24 but not for localhost:5000/shop-api",
    ),
    Misconception(
        "latest counts as a pinned tag",
        exercise="w13_containers_pin_level",
        edits=[('if tag and tag != "latest":', "if tag:")],
        why="':latest' looks like a version, but it moves with every release",
    ),
    Misconception(
        "a digest only counts behind a tag",
        exercise="w13_containers_pin_level",
        edits=[("    if digest:\n", '    if digest and ":" in name.rsplit("/", 1)[-1]:\n')],
        passes_visible=True,
        why="most examples write name:tag@sha256:..., so people forget the tag is optional",
    ),
    # -- Exercise 2: image_mb ----------------------------------------------------------------------------------
    Misconception(
        "every stage's layers ship in the final image",
        exercise="w13_containers_image_mb",
        edits=[("for instruction in stage.instructions:", "for instruction in dockerfile.instructions():")],
        why="the most common picture of multi-stage builds: one image that grows with every line of the file",
    ),
    Misconception(
        "a stage FROM another stage only gets that stage's base image",
        exercise="w13_containers_image_mb",
        edits=[
            (
                "size = image_mb(dockerfile, base_mb, layer_mb, parent.ref)",
                "size = float(base_mb[parent.base])",
            )
        ],
        passes_visible=True,
        why="FROM build looks like 'the same base as build', not 'everything build has'",
    ),
    Misconception(
        "scratch is looked up like any other image",
        exercise="w13_containers_image_mb",
        edits=[('    elif stage.base == "scratch":\n        size = 0.0\n', "")],
        passes_visible=True,
        why="scratch is a reserved name for the empty image, not an image in a registry",
    ),
    # -- Exercise 3: rule_non_root -----------------------------------------------------------------------------
    Misconception(
        "a USER anywhere in the file counts",
        exercise="w13_containers_non_root",
        edits=[
            (
                'users = [instruction for stage in chain for instruction in stage.find("USER")]',
                'users = [instruction for instruction in dockerfile.instructions() if instruction.keyword == "USER"]',
            )
        ],
        why="grep -q USER Dockerfile is the check people write first; a builder stage's USER does not carry over",
    ),
    Misconception(
        "USER 0:0 compared as a whole",
        exercise="w13_containers_non_root",
        edits=[('user = last.value.split(":")[0].strip()', "user = last.value.strip()")],
        passes_visible=True,
        why="the :group part is forgotten, so 0:0 is not seen as root and uid:gid is not seen as numeric",
    ),
    Misconception(
        "the first USER decides",
        exercise="w13_containers_non_root",
        edits=[("last = users[-1]", "last = users[0]")],
        why="the usual pattern switches to root to install packages and back to a user later: the last USER wins",
    ),
    Misconception(
        "the user of a parent stage is forgotten",
        exercise="w13_containers_non_root",
        edits=[
            (
                "    while dockerfile.parent(chain[0]) is not None:\n"
                "        chain.insert(0, dockerfile.parent(chain[0]))\n",
                "",
            )
        ],
        passes_visible=True,
        why="FROM base AS runtime inherits base's USER, but only the final stage's text is read",
    ),
    # -- Exercise 4: depends_on_problems ------------------------------------------------------------------------
    Misconception(
        "the health check is looked for on the waiting service",
        exercise="w13_containers_depends_on",
        edits=[('check = services[other].get("healthcheck") or {}', 'check = service.get("healthcheck") or {}')],
        why="the condition is written under app, so people look for the health check under app too",
    ),
    Misconception(
        "the short form waits for healthy",
        exercise="w13_containers_depends_on",
        edits=[('if (options or {}).get("condition") == "service_healthy":', "if True:")],
        why="depends_on: [db] is read as 'wait until db is ready'; it only waits until db has started",
    ),
    Misconception(
        "disable: true still counts as a health check",
        exercise="w13_containers_depends_on",
        edits=[(' and check.get("disable") is not True', "")],
        passes_visible=True,
        why="a healthcheck: block that is there looks like a health check, even when it switches it off",
    ),
    Misconception(
        "every dependency is assumed to exist",
        exercise="w13_containers_depends_on",
        edits=[
            (
                "            if other not in services:\n"
                '                problems.append((name, other, "unknown service"))\n'
                "                continue\n",
                "",
            )
        ],
        passes_visible=True,
        why="a renamed service leaves a dangling depends_on that only docker compose up reports",
    ),
    # -- Exercise 5: write_build -------------------------------------------------------------------------------
    Misconception(
        "hadolint silenced with an ignore pragma",
        exercise="w13_containers_write_build",
        edits=[
            (
                'HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["wget", "-q", "--spider", '
                '"http://127.0.0.1:3000/health"]',
                "# hadolint ignore=DL3025\n"
                "HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD wget -q --spider http://127.0.0.1:3000/health",
            )
        ],
        passes_visible=True,
        why="the quickest way to a green linter is to switch the rule off instead of writing the exec form",
    ),
    Misconception(
        ".env left in the build context",
        exercise="w13_containers_write_build",
        edits=[('".git\\n.env*\\nnode_modules\\n"', '".git\\nnode_modules\\n"')],
        why="people remember .git and node_modules (big) and forget .env (small, and secret)",
    ),
    Misconception(
        ".dockerignore ignores everything",
        exercise="w13_containers_write_build",
        edits=[('".git\\n.env*\\nnode_modules\\n"', '"*\\n"')],
        passes_visible=True,
        why="'*' with no '!' exceptions is an allow-list with nothing allowed: every COPY from the context fails",
    ),
    Misconception(
        "a named user",
        exercise="w13_containers_write_build",
        edits=[("USER 1000\n", "USER node\n")],
        why="the syllabus writes USER node; hadolint's DL3066 and Kubernetes' runAsNonRoot want the numeric UID",
    ),
    Misconception(
        "npm start kept as the command",
        exercise="w13_containers_write_build",
        edits=[('CMD ["node", "server.js"]', 'CMD ["npm", "start"]')],
        why="the syllabus' CMD; npm does not forward SIGTERM to node, so stops take the full kill timeout",
    ),
]
