"""Release tags (deployments): annotated, lightweight and tagger-less tags with their deployment times."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .commits import to_utc
from .gitio import UTC_NS, RepoLike, repo_path, run_git

# ----------------------------------------------------------------------------------------------------------
# release tags
# ----------------------------------------------------------------------------------------------------------
_TAG_FORMAT = "%00".join(
    [
        "%(refname:strip=2)",
        "%(objecttype)",
        "%(objectname)",
        "%(committerdate:unix)",
        "%(*objecttype)",
        "%(*objectname)",
        "%(taggerdate:unix)",
        "%(*committerdate:unix)",
    ]
)
_TAG_NAMES = ["tag", "type", "object", "commit_date", "peeled_type", "peeled", "tagger_date", "peeled_date"]


def _empty_tags() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tag": pd.Series(dtype="str"),
            "sha": pd.Series(dtype="str"),
            "deployed_at": pd.Series(dtype=UTC_NS),
            "has_tagger_date": pd.Series(dtype="bool"),
            "on_head": pd.Series(dtype="bool"),
        }
    )


def _tag_refs(pattern: str | None) -> str:
    if pattern is None or pattern == "":
        return "refs/tags"
    if pattern.startswith("refs/"):
        return pattern
    return f"refs/tags/{pattern}"


def release_tags(repo: RepoLike, pattern: str | None = "v*") -> pd.DataFrame:
    """Release tags (deployments) matching ``pattern`` (a ``git for-each-ref`` glob; ``None`` = every tag).

    Columns: ``tag`` (str), ``sha`` (the tagged commit, tags peeled), ``deployed_at`` (UTC: the tagger date
    of an annotated tag; for a lightweight tag, or an annotated tag without a tagger date, the commit's
    committer date), ``has_tagger_date`` (bool), ``on_head`` (bool: the commit is reachable from HEAD).
    Sorted by ``deployed_at`` then ``tag``. Tags of trees or blobs are not deployments and are left out.

    Uses one ``git for-each-ref`` call, plus one ``git for-each-ref --merged=HEAD`` for reachability.

    >>> from labkit import git
    >>> steps = [git.Commit("feat: a"), git.Tag("v1.0.0"),
    ...          git.Commit("feat: b"), git.Tag("v1.1.0", lightweight=True)]
    >>> with git.scratch_repo(steps) as repo:
    ...     tags = release_tags(repo.path)
    >>> tags[["tag", "has_tagger_date", "on_head"]].values.tolist()
    [['v1.0.0', True, True], ['v1.1.0', False, True]]
    """
    return read_release_tags(repo_path(repo), pattern, reachability=True)


def read_release_tags(path: Path, pattern: str | None, *, reachability: bool) -> pd.DataFrame:
    """:func:`release_tags`; without ``reachability`` ``on_head`` is left False and git runs only once."""
    refs = _tag_refs(pattern)
    out = run_git(path, ["for-each-ref", f"--format={_TAG_FORMAT}", refs]).stdout
    rows = [line.split("\x00") for line in out.splitlines() if line]
    if not rows:
        return _empty_tags()
    raw = pd.DataFrame(rows, columns=_TAG_NAMES)
    annotated = raw["type"] == "tag"
    sha = raw["object"].where(~annotated, raw["peeled"])
    kind = raw["type"].where(~annotated, raw["peeled_type"])
    commit_date = raw["commit_date"].where(~annotated, raw["peeled_date"])
    # a tag of a tag: peel it fully with one extra call for all of them
    nested = (kind == "tag").to_numpy()
    if nested.any():
        names = raw.loc[nested, "tag"].tolist()
        peel = run_git(
            path,
            ["log", "--no-walk=unsorted", "--format=%H%x00%ct", "--stdin"],
            input="".join(f"refs/tags/{n}^{{commit}}\n" for n in names),
            check=False,
        )
        pairs = [line.split("\x00") for line in peel.stdout.splitlines() if line]
        if peel.returncode == 0 and len(pairs) == len(names):
            idx = np.flatnonzero(nested)
            sha.iloc[idx] = [p[0] for p in pairs]
            commit_date.iloc[idx] = [p[1] for p in pairs]
            kind.iloc[idx] = "commit"
    keep = (kind == "commit").to_numpy()
    raw, sha, commit_date = raw.loc[keep], sha.loc[keep], commit_date.loc[keep]
    if len(raw) == 0:
        return _empty_tags()
    has_tagger = (raw["tagger_date"] != "").to_numpy()
    seconds = np.where(has_tagger, raw["tagger_date"].to_numpy(), commit_date.to_numpy()).astype(np.int64)
    on_head_names: set[str] = set()
    if reachability:
        args = ["for-each-ref", "--merged=HEAD", "--format=%(refname:strip=2)", refs]
        merged = run_git(path, args, check=False)
        on_head_names = set(merged.stdout.splitlines()) if merged.returncode == 0 else set()
    frame = pd.DataFrame(
        {
            "tag": pd.Series(raw["tag"].to_numpy(), dtype="str"),
            "sha": pd.Series(sha.to_numpy(), dtype="str"),
            "deployed_at": to_utc(seconds),
            "has_tagger_date": has_tagger,
            "on_head": np.array([t in on_head_names for t in raw["tag"]], dtype=bool),
        }
    )
    return frame.sort_values(["deployed_at", "tag"], kind="stable").reset_index(drop=True)
