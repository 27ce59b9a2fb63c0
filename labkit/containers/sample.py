"""The syllabus's Dockerfile, an illustrative multi-stage build with layer sizes, and a scratch sample app."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    pass


SYLLABUS_DOCKERFILE = """\
# Multi-stage build for a small image
FROM node:18-alpine AS builder
WORKDIR /app
COPY package*.json ./
RUN npm ci --only=production

FROM node:18-alpine AS runtime
WORKDIR /app
COPY --from=builder /app/node_modules ./node_modules
COPY . .
EXPOSE 3000
USER node
CMD ["npm", "start"]
"""


@dataclass(frozen=True)
class SampleBuild:
    """A Dockerfile and what each layer weighs, the way ``docker history`` would list it after a build.

    ``base_mb`` maps each external base image to its size; ``layer_mb`` maps the 1-based line of every
    instruction that adds a layer (``RUN``, ``COPY``, ``ADD``; ``WORKDIR`` with 0 MB, the folder it creates) to the
    megabytes it adds. The numbers are
    course-made and rounded (illustrative, in the range real Node.js builds show): nothing is built here.
    """

    dockerfile: str
    base_mb: dict[str, float] = field(default_factory=dict)
    layer_mb: dict[int, float] = field(default_factory=dict)


def _sample_build() -> SampleBuild:
    rows: list[tuple[str, float | None]] = [
        ("# syntax=docker/dockerfile:1", None),
        ("FROM node:24-bookworm AS build", None),
        ("WORKDIR /app", 0.0),
        ("COPY package.json package-lock.json ./", 0.4),
        ("RUN npm ci", 212.0),
        ("COPY tsconfig.json ./", 0.01),
        ("COPY src ./src", 0.6),
        ("RUN npm run build", 1.8),
        ("", None),
        ("FROM build AS test", None),
        ("COPY test ./test", 0.3),
        ("RUN npm test", 0.2),
        ("", None),
        ("FROM node:24-alpine AS runtime", None),
        ("ENV NODE_ENV=production", None),
        ("WORKDIR /app", 0.0),
        ("COPY package.json package-lock.json ./", 0.4),
        ("RUN npm ci --omit=dev && npm cache clean --force", 38.0),
        ("COPY --from=build /app/dist ./dist", 1.8),
        ("USER 1000", None),
        ("EXPOSE 3000", None),
        ('CMD ["node", "dist/server.js"]', None),
    ]
    text = "\n".join(line for line, _ in rows) + "\n"
    layers = {
        n: mb
        for n, (line, mb) in enumerate(rows, start=1)
        if mb is not None and line.split(" ", 1)[0] in ("RUN", "COPY", "ADD", "WORKDIR")
    }
    return SampleBuild(text, {"node:24-bookworm": 1100.0, "node:24-alpine": 160.0}, layers)


SAMPLE_BUILD = _sample_build()

_PACKAGE_JSON = """\
{
  "name": "shop-api",
  "version": "1.4.0",
  "private": true,
  "scripts": {"start": "node server.js", "test": "node --test"},
  "dependencies": {}
}
"""
_PACKAGE_LOCK = """\
{
  "name": "shop-api",
  "version": "1.4.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {"": {"name": "shop-api", "version": "1.4.0"}}
}
"""
_SERVER_JS = """\
// A tiny HTTP service: /health for the container's HEALTHCHECK, / for users.
const http = require("node:http");
const port = Number(process.env.PORT || 3000);
http.createServer((req, res) => {
  if (req.url === "/health") {
    res.writeHead(200, {"content-type": "application/json"});
    res.end('{"status":"ok"}');
    return;
  }
  res.writeHead(200, {"content-type": "text/plain"}); res.end("shop-api 1.4.0\\n");
}).listen(port, "0.0.0.0", () => console.log(`listening on ${port}`));
"""
_TEST_JS = """\
const test = require("node:test");
const assert = require("node:assert");
test("truth", () => assert.strictEqual(1 + 1, 2));
"""


@contextmanager
def scratch_app(dockerfile: str | None = SYLLABUS_DOCKERFILE) -> Iterator[Path]:
    """A temporary folder with the sample Node.js app, as a developer's working copy really looks.

    Besides ``package.json``, ``package-lock.json``, ``server.js`` and ``test/``, it has the things a careless
    ``COPY . .`` ships: a ``.git`` folder, a ``.env`` with a database password and a local ``node_modules``.
    ``dockerfile`` is written as ``Dockerfile`` (the syllabus' by default; ``None`` for none). There is no
    ``.dockerignore``. The folder is removed when the ``with`` block ends, also on errors.
    """
    tmp = Path(tempfile.mkdtemp(prefix="labkit-app-"))
    try:
        files = {
            "package.json": _PACKAGE_JSON,
            "package-lock.json": _PACKAGE_LOCK,
            "server.js": _SERVER_JS,
            "test/server.test.js": _TEST_JS,
            "README.md": "# shop-api\n\nRun `npm start`, open http://127.0.0.1:3000/.\n",
            ".env": "DATABASE_PASSWORD=hunter2-do-not-ship\n",
            ".git/HEAD": "ref: refs/heads/main\n",
            ".git/config": "[core]\n\trepositoryformatversion = 0\n",
            "node_modules/left-pad/package.json": '{"name": "left-pad", "version": "1.3.0"}\n',
            "node_modules/left-pad/index.js": "module.exports = (s, n) => String(s).padStart(n);\n",
        }
        if dockerfile is not None:
            files["Dockerfile"] = dockerfile
        for rel, text in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- Compose -------------------------------------------------------------------------------------------------
#: The syllabus' docker-compose.yml for development, as written there.
