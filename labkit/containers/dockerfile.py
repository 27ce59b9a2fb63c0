"""A Dockerfile parsed with dockerfile-parse into instructions and build stages."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    pass

from .hadolint import dockerfile_text


class DockerfileError(ValueError):
    """The Dockerfile has no ``FROM`` or a ``FROM`` without an image."""


@dataclass(frozen=True)
class Instruction:
    """One instruction: ``keyword`` in upper case, ``value`` the rest (continuation lines joined), 1-based lines."""

    keyword: str
    value: str
    line: int
    end_line: int

    @property
    def flags(self) -> dict[str, str]:
        """Leading ``--name=value`` options: ``COPY --from=build --chown=1000 a b`` → ``{'from': 'build', ...}``."""
        out: dict[str, str] = {}
        for token in self.value.split():
            if not token.startswith("--"):
                break
            name, _, val = token[2:].partition("=")
            out[name.lower()] = val
        return out

    @property
    def exec_form(self) -> list[str] | None:
        """The JSON array of ``CMD ["node", "server.js"]`` (after flags such as HEALTHCHECK's), else ``None``."""
        text = self.value
        if self.keyword == "HEALTHCHECK":
            text = re.sub(r"^(\s*--\S+\s+)*", "", text)
            if text.upper().startswith("CMD"):
                text = text[3:]
        text = text.strip()
        if not text.startswith("["):
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return None
        return [str(x) for x in data] if isinstance(data, list) else None


@dataclass(frozen=True)
class Stage:
    """A build stage: everything from one ``FROM`` to the next.

    ``base`` is the image (or earlier stage) after ``FROM``, ``name`` the ``AS`` name (``None`` when unnamed),
    ``line`` the ``FROM`` line, ``instructions`` the rest of the stage (the ``FROM`` itself is not included).
    """

    index: int
    base: str
    name: str | None
    line: int
    instructions: tuple[Instruction, ...]
    platform: str | None = None

    @property
    def ref(self) -> str:
        """How later stages refer to this one: its name, or its index as a string (``COPY --from=0``)."""
        return self.name if self.name is not None else str(self.index)

    def find(self, keyword: str) -> list[Instruction]:
        """This stage's instructions with that keyword (case-insensitive), in order."""
        return [i for i in self.instructions if i.keyword == keyword.upper()]


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile: its stages in order, the instructions before the first ``FROM`` (global ``ARG``\\ s)."""

    stages: tuple[Stage, ...]
    preamble: tuple[Instruction, ...] = ()
    text: str = ""

    @property
    def final(self) -> Stage:
        """The stage ``docker build`` produces without ``--target``: the last one."""
        return self.stages[-1]

    def stage(self, ref: str | int) -> Stage:
        """A stage by name (case-insensitive, as Docker compares them) or index."""
        for st in self.stages:
            if (isinstance(ref, int) and st.index == ref) or (isinstance(ref, str) and (st.ref.lower() == ref.lower())):
                return st
        raise KeyError(f"no stage {ref!r}; stages are {[s.ref for s in self.stages]}")

    def parent(self, stage: Stage) -> Stage | None:
        """The earlier stage that ``stage`` is built ``FROM`` (``FROM build AS test``), else ``None``."""
        for st in self.stages[: stage.index]:
            if st.name is not None and st.name.lower() == stage.base.lower():
                return st
        return None

    def instructions(self) -> Iterator[Instruction]:
        """Every instruction of the file in order, ``FROM`` lines excluded."""
        yield from self.preamble
        for st in self.stages:
            yield from st.instructions


def _parse_from(value: str, line: int) -> tuple[str, str | None, str | None]:
    tokens = value.split()
    platform = None
    while tokens and tokens[0].startswith("--"):
        flag = tokens.pop(0)
        if flag.lower().startswith("--platform="):
            platform = flag.split("=", 1)[1]
    if not tokens:
        raise DockerfileError(f"line {line}: FROM without an image; write e.g. `FROM node:24-alpine AS build`")
    name = tokens[2] if len(tokens) >= 3 and tokens[1].lower() == "as" else None
    return tokens[0], name, platform


def parse_dockerfile(source: str | Path) -> Dockerfile:
    """Parse a Dockerfile (text, a ``Path`` to it, or a folder holding ``Dockerfile``) into stages.

    Line numbers are 1-based, as editors and hadolint show them. Comments and blank lines are dropped. An
    instruction split over several lines with ``\\`` keeps the line where it starts (and ``end_line``).
    """
    from dockerfile_parse import DockerfileParser

    text = dockerfile_text(source)
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")), cache_content=True, env_replace=False)
    preamble: list[Instruction] = []
    stages: list[Stage] = []
    current: list[Instruction] = []
    head: tuple[str, str | None, str | None, int] | None = None

    def close() -> None:
        if head is not None:
            base, name, platform, line = head
            stages.append(Stage(len(stages), base, name, line, tuple(current), platform))

    for item in parser.structure:
        keyword = str(item["instruction"]).upper()
        if keyword == "COMMENT":
            continue
        ins = Instruction(keyword, str(item["value"]).strip(), int(item["startline"]) + 1, int(item["endline"]) + 1)
        if keyword == "FROM":
            close()
            base, name, platform = _parse_from(ins.value, ins.line)
            head = (base, name, platform, ins.line)
            current = []
        elif head is None:
            preamble.append(ins)
        else:
            current.append(ins)
    close()
    if not stages:
        raise DockerfileError("the Dockerfile has no FROM instruction: every build starts with `FROM <image>`")
    return Dockerfile(tuple(stages), tuple(preamble), text)


def as_dockerfile(source: Dockerfile | str | Path) -> Dockerfile:
    return source if isinstance(source, Dockerfile) else parse_dockerfile(source)


# -- the course's policy -------------------------------------------------------------------------------------
