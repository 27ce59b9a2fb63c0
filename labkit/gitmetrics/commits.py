"""``git log`` (optionally with ``--numstat``) into a pandas frame, parsed by pandas' C reader while git writes."""

from __future__ import annotations

import io
from typing import IO, Any

import numpy as np
import pandas as pd

from .gitio import (
    LOG_DTYPES,
    LOG_FORMAT,
    LOG_NAMES,
    NUMSTAT_ARGS,
    UTC_NS,
    RepoLike,
    check_rev,
    read_nul_table,
    repo_path,
    stream_git,
    stream_lines,
)

COMMIT_COLUMNS: tuple[str, ...] = (*LOG_NAMES, "is_merge")  # git log's fields, then one derived column
STATS_COLUMNS: tuple[str, ...] = ("files", "insertions", "deletions")


# ----------------------------------------------------------------------------------------------------------
# commits
# ----------------------------------------------------------------------------------------------------------
def _tz_minutes(values: np.ndarray) -> np.ndarray:
    """``+0530`` parsed as the integer 530 → 330 minutes east of UTC (and ``-0500`` → -300)."""
    v = values.astype(np.int64)
    a = np.abs(v)
    return np.sign(v) * ((a // 100) * 60 + a % 100)


def to_utc(seconds: Any) -> pd.Series:
    """Unix seconds (int64) → a ``datetime64[ns, UTC]`` Series, without a detour through Python objects."""
    ns = np.asarray(seconds, dtype=np.int64) * np.int64(1_000_000_000)
    return pd.Series(ns.view("datetime64[ns]"), copy=False).dt.tz_localize("UTC")


def _empty_commits(stats: bool) -> pd.DataFrame:
    cols: dict[str, pd.Series] = {
        "sha": pd.Series(dtype="str"),
        "parents": pd.Series(dtype=object),
        "author": pd.Series(dtype="str"),
        "author_email": pd.Series(dtype="str"),
        "author_time": pd.Series(dtype=UTC_NS),
        "author_tz": pd.Series(dtype="int64"),
        "committer": pd.Series(dtype="str"),
        "committer_email": pd.Series(dtype="str"),
        "committer_time": pd.Series(dtype=UTC_NS),
        "committer_tz": pd.Series(dtype="int64"),
        "subject": pd.Series(dtype="str"),
        "is_merge": pd.Series(dtype="bool"),
    }
    if stats:
        cols.update({c: pd.Series(dtype="int64") for c in STATS_COLUMNS})
    return pd.DataFrame(cols)


def _finish_commits(raw: pd.DataFrame) -> pd.DataFrame:
    """Typed columns from the raw text table (one row per commit, columns in ``LOG_NAMES`` order)."""
    raw = raw.reset_index(drop=True)
    parents_text = raw["parents"].tolist()
    parents = np.empty(len(parents_text), dtype=object)
    parents[:] = list(map(tuple, map(str.split, parents_text)))
    text = {
        c: raw[c] if raw[c].dtype == "str" else raw[c].astype("str")
        for c in ("sha", "author", "author_email", "committer", "committer_email", "subject")
    }
    return pd.DataFrame(
        {
            "sha": text["sha"],
            "parents": parents,
            "author": text["author"],
            "author_email": text["author_email"],
            "author_time": to_utc(raw["author_time"].to_numpy(dtype=np.int64)),
            "author_tz": _tz_minutes(raw["author_tz"].to_numpy(dtype=np.int64)),
            "committer": text["committer"],
            "committer_email": text["committer_email"],
            "committer_time": to_utc(raw["committer_time"].to_numpy(dtype=np.int64)),
            "committer_tz": _tz_minutes(raw["committer_tz"].to_numpy(dtype=np.int64)),
            "subject": text["subject"],
            "is_merge": np.fromiter((" " in p for p in parents_text), dtype=bool, count=len(parents_text)),
        },
        copy=False,
    )


_HEADER = b"\x01"  # starts each commit's header line in --numstat output (numstat lines: a digit or -)


def _consume_numstat(stream: IO[bytes]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Split ``git log --numstat`` output into the header table (parsed by pandas' C parser) and per-commit
    sums of the numstat lines (``added<TAB>deleted<TAB>path``, ``-<TAB>-<TAB>path`` for a binary file)."""
    headers: list[bytes] = []
    files: list[int] = []
    ins: list[int] = []
    dels: list[int] = []
    f = i = d = -1  # totals of the current commit (-1: no commit yet)
    for batch in stream_lines(stream):
        for line in batch:
            if not line:
                continue
            if line[:1] == _HEADER:
                if f >= 0:
                    files.append(f)
                    ins.append(i)
                    dels.append(d)
                f = i = d = 0
                headers.append(line[1:])
            else:
                a, b, _ = line.split(b"\t", 2)
                f += 1
                if a != b"-":
                    i += int(a)
                    d += int(b)
    if f >= 0:
        files.append(f)
        ins.append(i)
        dels.append(d)
    raw = read_nul_table(io.BytesIO(b"\n".join(headers)), LOG_NAMES, LOG_DTYPES) if headers else None
    return (raw if raw is not None else pd.DataFrame()), _ints(files), _ints(ins), _ints(dels)


def commits(repo: RepoLike, rev: str = "HEAD", *, stats: bool = False, all_refs: bool = False) -> pd.DataFrame:
    """Every commit reachable from ``rev`` as one row, newest first, read by ONE streamed ``git log``.

    Columns: ``sha`` (str), ``parents`` (tuple of str), ``author``, ``author_email``, ``author_time``
    (``datetime64[ns, UTC]``), ``author_tz`` (int64, minutes east of UTC), ``committer``, ``committer_email``,
    ``committer_time`` (UTC), ``committer_tz`` (int64), ``subject`` (str), ``is_merge`` (bool).

    With ``stats=True`` also ``files``, ``insertions``, ``deletions`` (int64) from ``git log --numstat`` in
    the same subprocess: a binary file counts as one file with 0 lines; renames are not detected (a rename is
    a deleted file plus an added one, as GitPython's ``commit.stats`` counts them); a merge commit shows 0
    (its changes are counted on the commits it merges). ``all_refs=True`` adds every branch, tag and remote
    ref (``git log --all``). Names are the ones recorded in the commit (``.mailmap`` is not applied).

    An empty repository (no commit yet) gives an empty frame with the same columns and dtypes.

    >>> from labkit import git
    >>> with git.scratch_repo([git.Commit("feat: login", author="bob")]) as repo:
    ...     log = commits(repo.path)
    >>> log[["author", "author_tz", "subject"]].values.tolist()
    [['Bob Brown', -300, 'feat: login'], ['Alice Ahmed', 60, 'chore: initial commit']]
    """
    path = repo_path(repo)
    check_rev(rev)
    args = ["log", "--no-color", "--date=format:%z"]
    if stats:
        args += ["--format=%x01" + LOG_FORMAT.removeprefix("--format="), *NUMSTAT_ARGS]
    else:
        args.append(LOG_FORMAT)
    if all_refs:
        args.append("--all")
    args += [rev, "--"]
    unborn = None if all_refs else rev
    if not stats:
        raw = stream_git(path, args, lambda out: read_nul_table(out, LOG_NAMES, LOG_DTYPES), allow_unborn=unborn)
        if raw is None or len(raw) == 0:
            return _empty_commits(stats)
        return _finish_commits(raw)
    parsed = stream_git(path, args, _consume_numstat, allow_unborn=unborn)
    if parsed is None or len(parsed[0]) == 0:
        return _empty_commits(stats)
    heads, files, ins, dels = parsed
    frame = _finish_commits(heads)
    frame["files"] = files
    frame["insertions"] = ins
    frame["deletions"] = dels
    return frame


def _ints(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)
