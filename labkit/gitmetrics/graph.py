"""Change lead times: one ``git rev-list`` of the commit graph, parsed with NumPy, walked once for all tags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from .commits import to_utc
from .gitio import UTC_NS, RepoLike, check_rev, repo_path, stream_git
from .tags import read_release_tags


# ----------------------------------------------------------------------------------------------------------
# lead times: one walk of the commit graph for all tags
# ----------------------------------------------------------------------------------------------------------
@dataclass
class Released:
    """The commit graph read once, with each commit's first release (index into ``tags``, -1 if none)."""

    tags: pd.DataFrame
    shas: list[str]  # newest first, as git rev-list lists them
    first: list[int]  # per row: the first parent's row, or -1 (a root commit, or past a shallow boundary)
    second: list[int]  # per row: the second parent's row (merges), or -1
    more: dict[int, list[int]]  # rows of octopus merges: their third and later parents
    committed: np.ndarray  # per row: committer time, unix seconds
    owner: np.ndarray  # per row: index of the releasing tag in ``tags`` or -1
    graph: _Graph

    def rows(self, shas: Sequence[str]) -> np.ndarray:
        """The rows of ``shas`` (-1 for a commit not in the graph)."""
        return self.graph.rows(shas)


@dataclass
class _Graph:
    """``git rev-list --timestamp --parents`` output as arrays (row order: git's, newest first)."""

    shas: np.ndarray  # fixed-width bytes (S40, or S64 in a SHA-256 repository)
    committed: np.ndarray  # int64 unix seconds
    parents: list[np.ndarray]  # parents[j][row]: the row of the row's j-th parent, or -1

    def rows(self, wanted: Sequence[str]) -> np.ndarray:
        """The rows of the commits named in ``wanted`` (-1 where a commit is not in the graph)."""
        if len(self.shas) == 0 or len(wanted) == 0:
            return np.full(len(wanted), -1, dtype=np.int64)
        order = np.argsort(self.shas, kind="stable")
        ordered = self.shas[order]
        names = np.array([w.encode() for w in wanted], dtype=self.shas.dtype)
        pos = np.minimum(np.searchsorted(ordered, names), len(ordered) - 1)
        return np.where(ordered[pos] == names, order[pos], -1).astype(np.int64)


def _consume_rev_list(stream: IO[bytes]) -> _Graph:
    """Parse ``<committer time> <sha> <parent sha>...`` lines with NumPy (no Python object per commit)."""
    data = stream.read()
    if not data:
        return _Graph(np.zeros(0, "S40"), np.zeros(0, np.int64), [])
    try:
        return _rev_list_numpy(data)
    except ValueError:  # an unexpected layout: take the slow, simple road
        return _rev_list_python(data)


def _rev_list_numpy(data: bytes) -> _Graph:
    buf = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    if len(ends) == 0 or ends[-1] != len(buf) - 1:
        raise ValueError("output does not end with a newline")
    starts = np.concatenate(([0], ends[:-1] + 1))
    spaces = np.flatnonzero(buf == 32)
    if len(spaces) == 0:
        raise ValueError("no spaces")
    first_space = spaces[np.minimum(np.searchsorted(spaces, starts), len(spaces) - 1)]
    if (first_space <= starts).any() or (first_space >= ends).any():
        raise ValueError("a line without a timestamp and a name")
    first_name = data[int(first_space[0]) + 1 : int(ends[0])].split(b" ")[0]
    width = len(first_name)
    if width not in (40, 64):
        raise ValueError(f"unexpected object name width {width}")
    sha_at = first_space + 1
    tail = ends - (sha_at + width)  # 0, or (width + 1) per parent
    if (tail < 0).any() or (tail % (width + 1)).any():
        raise ValueError("unexpected line layout")
    n_parents = tail // (width + 1)
    # timestamps: digits between the line start and the first space (widths grouped, usually one)
    digits = first_space - starts
    committed = np.zeros(len(starts), dtype=np.int64)
    for w in np.unique(digits).tolist():
        rows = np.flatnonzero(digits == w)
        block = buf[starts[rows, None] + np.arange(w)].astype(np.int64) - 48
        if (block < 0).any() or (block > 9).any():
            raise ValueError("timestamp is not a number")
        committed[rows] = block @ (10 ** np.arange(w - 1, -1, -1, dtype=np.int64))
    offsets = np.arange(width)
    kind = f"S{width}"
    shas = np.ascontiguousarray(buf[sha_at[:, None] + offsets]).view(kind).ravel()
    order = np.argsort(shas, kind="stable")
    ordered = shas[order]
    parents: list[np.ndarray] = []
    for j in range(int(n_parents.max(initial=0))):
        has = np.flatnonzero(n_parents > j)
        at = sha_at[has] + width + 1 + j * (width + 1)
        wanted = np.ascontiguousarray(buf[at[:, None] + offsets]).view(kind).ravel()
        pos = np.minimum(np.searchsorted(ordered, wanted), len(ordered) - 1)
        found = ordered[pos] == wanted
        col = np.full(len(starts), -1, dtype=np.int64)
        col[has[found]] = order[pos[found]]  # parents outside the graph (a shallow clone) stay -1
        parents.append(col)
    return _Graph(shas, committed, parents)


def _rev_list_python(data: bytes) -> _Graph:
    rows = [line.split(" ") for line in data.decode("ascii").splitlines()]
    row_of = {r[1]: i for i, r in enumerate(rows)}
    width = max((len(r) - 2 for r in rows), default=0)
    parents = [
        np.array([row_of.get(r[2 + j], -1) if len(r) > 2 + j else -1 for r in rows], dtype=np.int64)
        for j in range(width)
    ]
    shas = np.array([r[1].encode() for r in rows])
    return _Graph(shas, np.array([int(r[0]) for r in rows], dtype=np.int64), parents)


def release_graph(path: Path, pattern: str | None, rev: str) -> Released:
    check_rev(rev)
    tags = read_release_tags(path, pattern, reachability=False)  # on_head is not needed here
    graph = _Graph(np.zeros(0, "S40"), np.zeros(0, np.int64), [])
    # rev-list answers from the commit-graph file when the repository has one (git gc writes it): it need not
    # inflate a single commit object, unlike `git log --format=...`
    args = ["rev-list", "--timestamp", "--parents", "--stdin", "--"]
    read = stream_git(path, args, _consume_rev_list, stdin_revs=[rev, *tags["sha"]], allow_unborn=rev)
    if read is None and len(tags):  # HEAD of a repository whose current branch has no commit yet
        read = stream_git(path, args, _consume_rev_list, stdin_revs=tags["sha"].tolist())
    if read is not None:
        graph = read
    shas: list[str] = graph.shas.astype(str).tolist()
    first = graph.parents[0].tolist() if graph.parents else [-1] * len(shas)
    second = graph.parents[1].tolist() if len(graph.parents) > 1 else [-1] * len(shas)
    more: dict[int, list[int]] = {}  # octopus merges: the third parent on
    for col in graph.parents[2:]:
        for row in np.flatnonzero(col >= 0).tolist():
            more.setdefault(row, []).append(int(col[row]))
    owner = [-1] * len(shas)
    for t, start in enumerate(graph.rows(tags["sha"].tolist()).tolist()):  # tags: by deployed_at
        if start < 0 or owner[start] != -1:
            continue  # already shipped by an earlier tag: this tag ships nothing new
        owner[start] = t
        stack = [start]
        while stack:
            c = stack.pop()
            # an assigned commit's ancestors are all assigned already: the walk stops there
            p = first[c]
            if p >= 0 and owner[p] == -1:
                owner[p] = t
                stack.append(p)
            p = second[c]
            if p >= 0 and owner[p] == -1:
                owner[p] = t
                stack.append(p)
            for p in more.get(c, ()):
                if owner[p] == -1:
                    owner[p] = t
                    stack.append(p)
    return Released(
        tags=tags,
        shas=shas,
        first=first,
        second=second,
        more=more,
        committed=graph.committed,
        owner=np.asarray(owner, dtype=np.int64),
        graph=graph,
    )


def lead_times(repo: RepoLike, pattern: str | None = "v*", rev: str = "HEAD") -> pd.DataFrame:
    """Change lead time of every commit: from its commit to the EARLIEST release tag that contains it.

    Columns: ``sha``, ``committed_at`` (committer date, UTC), ``tag`` (str; missing for commits not released
    yet), ``deployed_at`` (UTC or NaT), ``lead_time`` (timedelta64[ns] or NaT), newest commit first.

    The commits are those reachable from ``rev`` or from any matching tag (a tag on a maintenance branch
    that HEAD does not contain is still a deployment). The graph is read by one ``git rev-list <rev> <tags>``
    call and walked once in memory: tags are taken in ``deployed_at`` order and each claims its unclaimed
    ancestors, stopping at claimed commits (whose ancestors are all claimed already), so overlapping ranges on
    maintenance branches give each commit to the first deployment that shipped it.

    >>> from labkit import git
    >>> steps = [git.Commit("feat: a", after="2h"), git.Tag("v1.0.0", after="3h"), git.Commit("feat: b")]
    >>> with git.scratch_repo(steps) as repo:
    ...     lead = lead_times(repo.path)
    >>> [(t if isinstance(t, str) else None, str(d)) for t, d in zip(lead["tag"], lead["lead_time"])]
    [(None, 'NaT'), ('v1.0.0', '0 days 03:00:00'), ('v1.0.0', '0 days 05:00:00')]
    """
    path = repo_path(repo)
    rel = release_graph(path, pattern, rev)
    return lead_frame(rel)


def lead_frame(rel: Released) -> pd.DataFrame:
    owner = rel.owner
    released = owner >= 0
    tag_names = rel.tags["tag"].to_numpy(dtype=object)
    tag_times = rel.tags["deployed_at"].to_numpy(dtype="datetime64[ns]")
    committed = to_utc(rel.committed)
    tag_col = np.full(len(owner), np.nan, dtype=object)
    deployed = np.full(len(owner), np.datetime64("NaT"), dtype="datetime64[ns]")
    if released.any():
        tag_col[released] = tag_names[owner[released]]
        deployed[released] = tag_times[owner[released]]
    deployed_s = pd.Series(deployed).dt.tz_localize("UTC").astype(UTC_NS)
    frame = pd.DataFrame(
        {
            "sha": pd.Series(rel.shas, dtype="str"),
            "committed_at": committed,
            "tag": pd.Series(tag_col, dtype="str"),
            "deployed_at": deployed_s,
        }
    )
    frame["lead_time"] = (frame["deployed_at"] - frame["committed_at"]).astype("timedelta64[ns]")
    return frame
