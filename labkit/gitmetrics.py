"""A repository's history as pandas frames, and the DORA software delivery metrics computed from it.

Every reader runs **one** streamed ``git`` subprocess per question and parses its output in bulk, with no
Python object made per commit beyond the strings a frame must hold:

* :func:`commits` reads ``git log`` with NUL-separated fields (``%x00`` can appear in no name, e-mail or
  subject, so no quoting rules are needed) straight into pandas' C parser while git is still writing;
  ``stats=True`` adds ``--numstat`` to the same call and sums it per commit as the lines arrive;
* :func:`lead_times` and the DORA functions read the commit graph once with ``git rev-list --timestamp
  --parents`` (answered from the commit-graph file that ``git gc`` writes, without inflating any commit),
  parse it with NumPy, and walk it once in memory for all release tags.

That is why this module does not use GitPython's ``Repo.iter_commits`` (one Python object and several
attribute look-ups per commit, parsed in Python) nor ``commit.stats`` (one ``git diff`` per commit): see the
gitmetrics section of ``BENCHMARKS.md`` for the measured ratios.

Any repository can be read, including one you did not make with :mod:`labkit.git`; git runs without a pager,
in the C locale, and with the few configuration keys that would change its output (signatures, rename
detection, output encoding, diff drivers) pinned on the command line.

Quick tour::

    from labkit import git, gitmetrics
    with git.scratch_repo(git.team_history(days=10)) as repo:
        log = gitmetrics.commits(repo.path, stats=True)  # one row per commit
        tags = gitmetrics.release_tags(repo.path)        # one row per deployment (release tag)
        lead = gitmetrics.lead_times(repo.path)          # one row per commit, with the tag that shipped it
        report = gitmetrics.dora(repo.path)              # the four keys + rework rate, with tiers
        print(report.as_frame())

Deployments are release tags (``v*`` by default): an annotated tag's tagger date is the deployment time; a
lightweight tag (or an annotated tag without a tagger date) falls back to the tagged commit's committer date.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar, Union

import numpy as np
import pandas as pd

from labkit.git import GitError

__all__ = [
    "RepoLike",
    "COMMIT_COLUMNS",
    "STATS_COLUMNS",
    "DEPLOYMENT_COLUMNS",
    "TIER_NAMES",
    "THRESHOLDS_2023",
    "commits",
    "release_tags",
    "lead_times",
    "deployments",
    "deployment_frequency",
    "change_fail_rate",
    "failed_deployment_recovery_time",
    "deployment_rework_rate",
    "tier",
    "DoraReport",
    "dora",
]

RepoLike = Union[str, "os.PathLike[str]"]
"""A path to a working tree or a bare repository (an object with a ``.path`` attribute, such as
:class:`labkit.git.ScratchRepo`, is accepted too)."""

COMMIT_COLUMNS: tuple[str, ...] = (
    "sha", "parents", "author", "author_email", "author_time", "author_tz",
    "committer", "committer_email", "committer_time", "committer_tz", "subject", "is_merge",
)
STATS_COLUMNS: tuple[str, ...] = ("files", "insertions", "deletions")

# git's own format placeholders for the columns above; %ad/%cd print only the zone (--date=format:%z)
_LOG_FIELDS = ("%H", "%P", "%an", "%ae", "%at", "%ad", "%cn", "%ce", "%ct", "%cd", "%s")
_LOG_NAMES = ["sha", "parents", "author", "author_email", "author_time", "author_tz",
              "committer", "committer_email", "committer_time", "committer_tz", "subject"]
_LOG_FORMAT = "--format=" + "%x00".join(_LOG_FIELDS)
_LOG_DTYPES: dict[str, Any] = {n: str for n in _LOG_NAMES} | {
    "author_time": np.int64, "author_tz": np.int64, "committer_time": np.int64, "committer_tz": np.int64}
_NUMSTAT_ARGS = ("--numstat", "--no-renames", "--diff-merges=off", "--no-ext-diff", "--no-textconv")

# Configuration keys that would change what `git log` prints; pinned so any user's config reads the same.
_PINNED_CONFIG = (
    "log.showSignature=false",
    "log.showRoot=true",
    "i18n.logOutputEncoding=UTF-8",
    "core.quotePath=true",
    "color.ui=false",
)
# Environment variables that point git at another repository than the one asked for.
_REPO_SELECTING_ENV = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE", "GIT_COMMON_DIR", "GIT_PAGER", "GIT_EXTERNAL_DIFF",
)

_UTC_NS = "datetime64[ns, UTC]"


# ----------------------------------------------------------------------------------------------------------
# running git
# ----------------------------------------------------------------------------------------------------------
def _repo_path(repo: Any) -> Path:
    if isinstance(repo, (str, os.PathLike)):
        path = Path(os.fspath(repo))
    elif hasattr(repo, "path"):  # labkit.git.ScratchRepo and friends
        path = Path(os.fspath(repo.path))
    else:
        raise TypeError(
            f"expected a repository path (str or os.PathLike), found {type(repo).__name__}: "
            "pass e.g. repo.path for a labkit.git.ScratchRepo, or '.' for the current repository"
        )
    if not path.exists():
        raise FileNotFoundError(
            f"repository path {str(path)!r} does not exist: check it (working directory: {os.getcwd()})")
    return path


def _check_rev(rev: str) -> str:
    if not isinstance(rev, str) or not rev or rev.startswith("-") or any(c in rev for c in "\n\x00"):
        raise ValueError(f"rev={rev!r} is not a revision: use e.g. 'HEAD', a branch, a tag or a commit sha "
                         "(options such as '--all' are not accepted here; see all_refs=True)")
    return rev


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPO_SELECTING_ENV}
    env.update(LC_ALL="C", LANG="C", GIT_PAGER="cat", PAGER="cat", GIT_TERMINAL_PROMPT="0")
    return env


def _git_argv(path: Path, args: Sequence[str]) -> list[str]:
    argv = ["git", "--no-pager", "-C", str(path)]
    for kv in _PINNED_CONFIG:
        argv += ["-c", kv]
    return argv + list(args)


def _git(path: Path, args: Sequence[str], *, input: str | None = None, check: bool = True,
         timeout: float = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(_git_argv(path, args), env=_git_env(), input=input, capture_output=True,
                          text=True, encoding="utf-8", errors="replace", timeout=timeout)
    if check and proc.returncode != 0:
        raise _git_error(path, args, proc.returncode, proc.stderr)
    return proc


def _git_error(path: Path, args: Sequence[str], code: int, stderr: str) -> GitError:
    words = stderr.strip()
    hint = ""
    if "not a git repository" in words:
        hint = "\nExpected a git working tree or a bare repository: check the path, or `git init` it first."
    elif "unknown revision" in words or "bad revision" in words or "ambiguous argument" in words:
        hint = "\nThe revision does not exist in this repository: try 'HEAD', a branch name or a tag."
    elif "dubious ownership" in words:
        hint = "\nGit refuses a repository owned by another user: see `git config --global safe.directory`."
    shown = " ".join(args)
    return GitError(f"`git {shown}` failed (exit {code}) in {path}:\n{words}{hint}")


def _has_commit(path: Path, rev: str) -> bool:
    return _git(path, ["rev-parse", "--verify", "-q", f"{rev}^{{commit}}"], check=False).returncode == 0


def _is_unborn(path: Path, rev: str) -> bool:
    """True when ``rev`` names HEAD (or the current branch) of a repository without any commit yet."""
    if _git(path, ["rev-parse", "--git-dir"], check=False).returncode != 0:
        return False
    if _has_commit(path, rev):
        return False
    head = _git(path, ["symbolic-ref", "-q", "HEAD"], check=False).stdout.strip()
    return rev in {"HEAD", "@", head, head.removeprefix("refs/heads/")}


def _read_nul_table(stream: IO[bytes], names: Sequence[str], dtype: Mapping[str, Any] | type) -> pd.DataFrame:
    """Parse NUL-separated, LF-terminated rows with pandas' C parser; no quoting, no NA guessing."""
    try:
        return pd.read_csv(
            stream, sep="\x00", lineterminator="\n", header=None, names=list(names), dtype=dtype,  # type: ignore[arg-type]
            quoting=csv.QUOTE_NONE, na_filter=False, engine="c", encoding="utf-8", encoding_errors="replace",
            skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame({n: pd.Series(dtype=object) for n in names})


T = TypeVar("T")


def _stream_git(path: Path, args: Sequence[str], consume: Callable[[IO[bytes]], T], *,
                stdin_revs: Sequence[str] | None = None, allow_unborn: str | None = None) -> T | None:
    """Run one git command and hand its stdout to ``consume`` while git is still writing it (two cores work
    at once: git produces, Python parses).

    Returns ``None`` when it failed because ``allow_unborn`` is the unborn HEAD of an empty repository.
    """
    argv = _git_argv(path, args)
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, env=_git_env(), stdout=subprocess.PIPE, stderr=err,
                                stdin=subprocess.PIPE if stdin_revs is not None else subprocess.DEVNULL)
        try:
            if stdin_revs is not None:
                assert proc.stdin is not None
                proc.stdin.write(("\n".join(stdin_revs) + "\n").encode())
                proc.stdin.close()
            assert proc.stdout is not None
            _widen_pipe(proc.stdout)
            result = consume(proc.stdout)
            code = proc.wait(timeout=600)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
        if code != 0:
            if allow_unborn is not None and _is_unborn(path, allow_unborn):
                return None
            err.seek(0)
            raise _git_error(path, args, code, err.read().decode("utf-8", "replace"))
    return result


def _widen_pipe(stream: IO[bytes], size: int = 1 << 20) -> None:
    """Let git run up to 1 MiB ahead of the parser (Linux; elsewhere, or when refused, nothing changes)."""
    try:
        import fcntl

        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (ImportError, OSError, ValueError):
        pass


def _lines(stream: IO[bytes], chunk: int = 1 << 20) -> Iterator[list[bytes]]:
    """The stream's LF-terminated lines, a batch at a time (each batch ends at a line boundary)."""
    rest = b""
    while True:
        data = stream.read(chunk)
        if not data:
            break
        data = rest + data
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            rest = data
            continue
        rest = data[cut:]
        yield data[:cut - 1].split(b"\n")
    if rest:
        yield [rest]


# ----------------------------------------------------------------------------------------------------------
# commits
# ----------------------------------------------------------------------------------------------------------
def _tz_minutes(values: np.ndarray) -> np.ndarray:
    """``+0530`` parsed as the integer 530 → 330 minutes east of UTC (and ``-0500`` → -300)."""
    v = values.astype(np.int64)
    a = np.abs(v)
    return np.sign(v) * ((a // 100) * 60 + a % 100)


def _utc(seconds: Any) -> pd.Series:
    """Unix seconds (int64) → a ``datetime64[ns, UTC]`` Series, without a detour through Python objects."""
    ns = np.asarray(seconds, dtype=np.int64) * np.int64(1_000_000_000)
    return pd.Series(ns.view("datetime64[ns]"), copy=False).dt.tz_localize("UTC")


def _empty_commits(stats: bool) -> pd.DataFrame:
    cols: dict[str, pd.Series] = {
        "sha": pd.Series(dtype="str"),
        "parents": pd.Series(dtype=object),
        "author": pd.Series(dtype="str"),
        "author_email": pd.Series(dtype="str"),
        "author_time": pd.Series(dtype=_UTC_NS),
        "author_tz": pd.Series(dtype="int64"),
        "committer": pd.Series(dtype="str"),
        "committer_email": pd.Series(dtype="str"),
        "committer_time": pd.Series(dtype=_UTC_NS),
        "committer_tz": pd.Series(dtype="int64"),
        "subject": pd.Series(dtype="str"),
        "is_merge": pd.Series(dtype="bool"),
    }
    if stats:
        cols.update({c: pd.Series(dtype="int64") for c in STATS_COLUMNS})
    return pd.DataFrame(cols)


def _finish_commits(raw: pd.DataFrame) -> pd.DataFrame:
    """Typed columns from the raw text table (one row per commit, columns in ``_LOG_NAMES`` order)."""
    raw = raw.reset_index(drop=True)
    parents_text = raw["parents"].tolist()
    parents = np.empty(len(parents_text), dtype=object)
    parents[:] = list(map(tuple, map(str.split, parents_text)))
    text = {c: raw[c] if raw[c].dtype == "str" else raw[c].astype("str")
            for c in ("sha", "author", "author_email", "committer", "committer_email", "subject")}
    return pd.DataFrame({
        "sha": text["sha"],
        "parents": parents,
        "author": text["author"],
        "author_email": text["author_email"],
        "author_time": _utc(raw["author_time"].to_numpy(dtype=np.int64)),
        "author_tz": _tz_minutes(raw["author_tz"].to_numpy(dtype=np.int64)),
        "committer": text["committer"],
        "committer_email": text["committer_email"],
        "committer_time": _utc(raw["committer_time"].to_numpy(dtype=np.int64)),
        "committer_tz": _tz_minutes(raw["committer_tz"].to_numpy(dtype=np.int64)),
        "subject": text["subject"],
        "is_merge": np.fromiter((" " in p for p in parents_text), dtype=bool, count=len(parents_text)),
    }, copy=False)


_HEADER = b"\x01"  # starts each commit's header line in --numstat output (numstat lines: a digit or -)


def _consume_numstat(stream: IO[bytes]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Split ``git log --numstat`` output into the header table (parsed by pandas' C parser) and per-commit
    sums of the numstat lines (``added<TAB>deleted<TAB>path``, ``-<TAB>-<TAB>path`` for a binary file)."""
    headers: list[bytes] = []
    files: list[int] = []
    ins: list[int] = []
    dels: list[int] = []
    f = i = d = -1  # totals of the current commit (-1: no commit yet)
    for batch in _lines(stream):
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
    raw = _read_nul_table(io.BytesIO(b"\n".join(headers)), _LOG_NAMES, _LOG_DTYPES) if headers else None
    as_array = (lambda v: np.asarray(v, dtype=np.int64))  # noqa: E731
    return (raw if raw is not None else pd.DataFrame()), as_array(files), as_array(ins), as_array(dels)


def commits(repo: RepoLike, rev: str = "HEAD", *, stats: bool = False,
            all_refs: bool = False) -> pd.DataFrame:
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
    path = _repo_path(repo)
    _check_rev(rev)
    args = ["log", "--no-color", "--date=format:%z"]
    if stats:
        args += ["--format=%x01" + _LOG_FORMAT.removeprefix("--format="), *_NUMSTAT_ARGS]
    else:
        args.append(_LOG_FORMAT)
    if all_refs:
        args.append("--all")
    args += [rev, "--"]
    unborn = None if all_refs else rev
    if not stats:
        raw = _stream_git(path, args, lambda out: _read_nul_table(out, _LOG_NAMES, _LOG_DTYPES),
                          allow_unborn=unborn)
        if raw is None or len(raw) == 0:
            return _empty_commits(stats)
        return _finish_commits(raw)
    parsed = _stream_git(path, args, _consume_numstat, allow_unborn=unborn)
    if parsed is None or len(parsed[0]) == 0:
        return _empty_commits(stats)
    heads, files, ins, dels = parsed
    frame = _finish_commits(heads)
    frame["files"] = files
    frame["insertions"] = ins
    frame["deletions"] = dels
    return frame


# ----------------------------------------------------------------------------------------------------------
# release tags
# ----------------------------------------------------------------------------------------------------------
_TAG_FORMAT = "%00".join([
    "%(refname:strip=2)", "%(objecttype)", "%(objectname)", "%(committerdate:unix)",
    "%(*objecttype)", "%(*objectname)", "%(taggerdate:unix)", "%(*committerdate:unix)",
])
_TAG_NAMES = ["tag", "type", "object", "commit_date", "peeled_type", "peeled", "tagger_date", "peeled_date"]


def _empty_tags() -> pd.DataFrame:
    return pd.DataFrame({
        "tag": pd.Series(dtype="str"),
        "sha": pd.Series(dtype="str"),
        "deployed_at": pd.Series(dtype=_UTC_NS),
        "has_tagger_date": pd.Series(dtype="bool"),
        "on_head": pd.Series(dtype="bool"),
    })


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
    return _release_tags(_repo_path(repo), pattern, reachability=True)


def _release_tags(path: Path, pattern: str | None, *, reachability: bool) -> pd.DataFrame:
    """:func:`release_tags`; without ``reachability`` ``on_head`` is left False and git runs only once."""
    refs = _tag_refs(pattern)
    out = _git(path, ["for-each-ref", f"--format={_TAG_FORMAT}", refs]).stdout
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
        peel = _git(path, ["log", "--no-walk=unsorted", "--format=%H%x00%ct", "--stdin"],
                    input="".join(f"refs/tags/{n}^{{commit}}\n" for n in names), check=False)
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
        merged = _git(path, args, check=False)
        on_head_names = set(merged.stdout.splitlines()) if merged.returncode == 0 else set()
    frame = pd.DataFrame({
        "tag": pd.Series(raw["tag"].to_numpy(), dtype="str"),
        "sha": pd.Series(sha.to_numpy(), dtype="str"),
        "deployed_at": _utc(seconds),
        "has_tagger_date": has_tagger,
        "on_head": np.array([t in on_head_names for t in raw["tag"]], dtype=bool),
    })
    return frame.sort_values(["deployed_at", "tag"], kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------------------------------------
# lead times: one walk of the commit graph for all tags
# ----------------------------------------------------------------------------------------------------------
@dataclass
class _Released:
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
    first_name = data[int(first_space[0]) + 1:int(ends[0])].split(b" ")[0]
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
    parents = [np.array([row_of.get(r[2 + j], -1) if len(r) > 2 + j else -1 for r in rows], dtype=np.int64)
               for j in range(width)]
    shas = np.array([r[1].encode() for r in rows])
    return _Graph(shas, np.array([int(r[0]) for r in rows], dtype=np.int64), parents)


def _release_graph(path: Path, pattern: str | None, rev: str) -> _Released:
    _check_rev(rev)
    tags = _release_tags(path, pattern, reachability=False)  # on_head is not needed here
    graph = _Graph(np.zeros(0, "S40"), np.zeros(0, np.int64), [])
    # rev-list answers from the commit-graph file when the repository has one (git gc writes it): it need not
    # inflate a single commit object, unlike `git log --format=...`
    args = ["rev-list", "--timestamp", "--parents", "--stdin", "--"]
    read = _stream_git(path, args, _consume_rev_list, stdin_revs=[rev, *tags["sha"]], allow_unborn=rev)
    if read is None and len(tags):  # HEAD of a repository whose current branch has no commit yet
        read = _stream_git(path, args, _consume_rev_list, stdin_revs=tags["sha"].tolist())
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
    return _Released(tags=tags, shas=shas, first=first, second=second, more=more,
                     committed=graph.committed, owner=np.asarray(owner, dtype=np.int64), graph=graph)


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
    path = _repo_path(repo)
    rel = _release_graph(path, pattern, rev)
    return _lead_frame(rel)


def _lead_frame(rel: _Released) -> pd.DataFrame:
    owner = rel.owner
    released = owner >= 0
    tag_names = rel.tags["tag"].to_numpy(dtype=object)
    tag_times = rel.tags["deployed_at"].to_numpy(dtype="datetime64[ns]")
    committed = _utc(rel.committed)
    tag_col = np.full(len(owner), np.nan, dtype=object)
    deployed = np.full(len(owner), np.datetime64("NaT"), dtype="datetime64[ns]")
    if released.any():
        tag_col[released] = tag_names[owner[released]]
        deployed[released] = tag_times[owner[released]]
    deployed_s = pd.Series(deployed).dt.tz_localize("UTC").astype(_UTC_NS)
    frame = pd.DataFrame({
        "sha": pd.Series(rel.shas, dtype="str"),
        "committed_at": committed,
        "tag": pd.Series(tag_col, dtype="str"),
        "deployed_at": deployed_s,
    })
    frame["lead_time"] = (frame["deployed_at"] - frame["committed_at"]).astype("timedelta64[ns]")
    return frame


# ----------------------------------------------------------------------------------------------------------
# deployments, failures and remediation
# ----------------------------------------------------------------------------------------------------------
DEPLOYMENT_COLUMNS: tuple[str, ...] = (
    "tag", "sha", "deployed_at", "changes", "median_lead_time", "remediation", "failed",
    "remediated_by", "recovered_at", "recovery_time",
)
_REVERT_BODY = "This reverts commit"


def _remediating_rows(path: Path, rel: _Released) -> np.ndarray:
    """Per graph row: does this commit remediate (revert or hotfix) in the deployment that first ships it?"""
    n = len(rel.shas)
    remediates = np.zeros(n, dtype=bool)
    if n == 0 or len(rel.tags) == 0:
        return remediates
    # one walk over every released commit; git's grep finds the candidates, the exact rule is applied below
    fmt = "--format=%x1e%H%x00%s%x00%b"
    args = ["log", "--no-color", fmt, "--regexp-ignore-case", "--fixed-strings",
            "--grep=Revert", f"--grep={_REVERT_BODY}", "--grep=hotfix", "--stdin", "--"]
    out = _git(path, args, input="\n".join(rel.tags["sha"].tolist()) + "\n").stdout
    owner = rel.owner
    records = [(record.split("\x00", 2) + ["", ""])[:3] for record in out.split("\x1e")[1:]]
    found = rel.rows([r[0] for r in records]).tolist()
    for (_, subject, body), row in zip(records, found, strict=True):
        if row < 0 or owner[row] < 0:
            continue
        merge = rel.second[row] >= 0 or row in rel.more
        low = subject.lower()
        if subject.startswith('Revert "') or _REVERT_BODY in body:
            remediates[row] = True
        elif not merge and "hotfix" in low:
            remediates[row] = True
        elif merge and "hotfix/" in low:
            # a merge of a hotfix/ branch counts when the branch it merges ships for the first time with it
            # (the later merge-back of an already released hotfix into develop remediates nothing)
            tip = rel.second[row]
            remediates[row] = tip < 0 or bool(owner[tip] == owner[row])
    return remediates


def _deployments_from(path: Path, rel: _Released, lead: pd.DataFrame) -> pd.DataFrame:
    tags = rel.tags
    n = len(tags)
    owner = rel.owner
    shipped = owner >= 0
    changes = np.bincount(owner[shipped], minlength=n).astype(np.int64) if n else np.zeros(0, np.int64)
    remediating = _remediating_rows(path, rel)
    remediation = np.zeros(n, dtype=bool)
    if n:
        remediation[np.unique(owner[shipped & remediating])] = True
    median_lead = (
        lead.loc[shipped].assign(owner=owner[shipped]).groupby("owner")["lead_time"].median()
        .reindex(range(n)).to_numpy(dtype="timedelta64[ns]")
    )
    failed = np.zeros(n, dtype=bool)
    failed[:-1] = remediation[1:]
    next_tag = tags["tag"].shift(-1)
    next_time = tags["deployed_at"].shift(-1)
    frame = pd.DataFrame({
        "tag": tags["tag"].astype("str"),
        "sha": tags["sha"].astype("str"),
        "deployed_at": tags["deployed_at"],
        "changes": changes,
        "median_lead_time": pd.Series(median_lead, dtype="timedelta64[ns]"),
        "remediation": remediation,
        "failed": failed,
        "remediated_by": next_tag.where(failed).astype("str"),
        "recovered_at": next_time.where(failed).astype(_UTC_NS),
    })
    frame["recovery_time"] = (frame["recovered_at"] - frame["deployed_at"]).astype("timedelta64[ns]")
    return frame


def deployments(repo: RepoLike, pattern: str | None = "v*", rev: str = "HEAD") -> pd.DataFrame:
    """One row per deployment (release tag, by ``deployed_at``), with what it shipped and whether it failed.

    Columns: ``tag``, ``sha``, ``deployed_at`` (as in :func:`release_tags`); ``changes`` (int64: commits this
    deployment shipped first, see :func:`lead_times`); ``median_lead_time``; ``remediation`` (bool);
    ``failed`` (bool); ``remediated_by`` (the next tag, for a failed deployment); ``recovered_at`` and
    ``recovery_time`` (the next deployment's time and the gap, for a failed deployment).

    The rule, precisely:

    * A commit **remediates** when it is a revert (subject starts with ``Revert "`` or the message
      contains ``This reverts commit``), a non-merge commit with ``hotfix`` anywhere in its subject (any
      case, e.g. ``fix: hotfix after v1.2.0``), or a merge of a ``hotfix/…`` branch whose merged commits
      ship for the first time in the same deployment (so every commit on a ``hotfix/`` branch counts, while
      the later merge-back of an already released hotfix into ``develop`` does not).
    * A deployment is a **remediation** when any commit it ships first remediates (a tag placed directly on a
      revert commit is one).
    * A deployment **failed** when the NEXT deployment (by ``deployed_at``) is a remediation; it recovered at
      that next deployment. The last deployment cannot be known to have failed yet.

    >>> from labkit import git
    >>> steps = [git.Commit("feat: a"), git.Tag("v1.0.0"), git.Revert(), git.Tag("v1.0.1", after="45m")]
    >>> with git.scratch_repo(steps) as repo:
    ...     d = deployments(repo.path)
    >>> d[["tag", "failed", "remediation"]].values.tolist()
    [['v1.0.0', True, False], ['v1.0.1', False, True]]
    >>> str(d.loc[0, "recovery_time"])
    '0 days 01:05:00'
    """
    path = _repo_path(repo)
    rel = _release_graph(path, pattern, rev)
    return _deployments_from(path, rel, _lead_frame(rel))


def _as_deployments(source: Any, pattern: str | None, rev: str) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        missing = [c for c in ("tag", "deployed_at", "remediation", "failed", "recovery_time")
                   if c not in source.columns]
        if missing:
            raise ValueError(
                f"expected the frame returned by gitmetrics.deployments(repo), found one without {missing}: "
                "call deployments(repo) first, or pass the repository path itself"
            )
        return source
    return deployments(source, pattern, rev)


def _window(frame: pd.DataFrame, since: Any, until: Any) -> pd.DataFrame:
    start, end = _timestamp(since, "since"), _timestamp(until, "until")
    keep = pd.Series(True, index=frame.index)
    if start is not None:
        keep &= frame["deployed_at"] >= start
    if end is not None:
        keep &= frame["deployed_at"] < end
    return frame.loc[keep]


def _timestamp(value: Any, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} is not a date: use e.g. '2026-01-05' or a datetime") from None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def deployment_frequency(deploys: Any, period: str = "W") -> pd.Series:
    """Deployments per calendar period (UTC), zero-filled from the first deployment's period to the last's.

    ``deploys`` is a frame with a ``deployed_at`` column (:func:`release_tags`, :func:`deployments`), a
    sequence of timestamps, or a repository path (its ``v*`` tags). ``period`` is a pandas period alias:
    ``"D"``, ``"W"`` (weeks ending on Sunday), ``"M"``, ... The result is an int64 Series named
    ``deployments`` on a ``PeriodIndex`` named ``period``.

    >>> times = pd.to_datetime(["2026-01-05", "2026-01-06", "2026-01-21"], utc=True)
    >>> deployment_frequency(times).tolist()
    [2, 0, 1]
    """
    if isinstance(deploys, pd.DataFrame):
        if "deployed_at" not in deploys.columns:
            raise ValueError("expected a frame with a 'deployed_at' column (from release_tags or "
                             f"deployments), found columns {list(deploys.columns)}")
        times = deploys["deployed_at"]
    elif isinstance(deploys, (str, os.PathLike)) or hasattr(deploys, "path"):
        times = release_tags(deploys)["deployed_at"]
    else:
        times = pd.Series(deploys)
    times = pd.to_datetime(pd.Series(times), utc=True)
    naive = times.dt.tz_convert("UTC").dt.tz_localize(None)
    try:
        periods = naive.dt.to_period(period)
        freq = pd.PeriodIndex([], freq=period).freq
    except (ValueError, TypeError) as err:
        raise ValueError(f"period={period!r} is not a pandas period alias: use 'D', 'W' or 'M' ({err})") \
            from None
    if len(periods) == 0:
        empty = pd.PeriodIndex([], freq=freq, name="period")
        return pd.Series([], index=empty, dtype="int64", name="deployments")
    index = pd.period_range(periods.min(), periods.max(), freq=freq, name="period")
    counts = periods.value_counts().reindex(index, fill_value=0).astype("int64")
    counts.name = "deployments"
    return counts


def change_fail_rate(source: Any, pattern: str | None = "v*", rev: str = "HEAD", *,
                     since: Any = None, until: Any = None) -> float:
    """Share of deployments that failed (0.0–1.0; NaN without any). See :func:`deployments` for the rule.

    ``source`` is a repository path or the frame from :func:`deployments`; ``since``/``until`` keep the
    deployments with ``since <= deployed_at < until``.
    """
    frame = _window(_as_deployments(source, pattern, rev), since, until)
    return float(frame["failed"].mean()) if len(frame) else float("nan")


def failed_deployment_recovery_time(source: Any, pattern: str | None = "v*", rev: str = "HEAD", *,
                                    since: Any = None, until: Any = None) -> pd.DataFrame:
    """One row per failed deployment: from it to the deployment that remediated it.

    Columns: ``tag``, ``deployed_at``, ``remediated_by``, ``recovered_at``, ``recovery_time``. The DORA value
    is the median: ``failed_deployment_recovery_time(repo)["recovery_time"].median()`` (as :func:`dora`).
    """
    frame = _window(_as_deployments(source, pattern, rev), since, until)
    cols = ["tag", "deployed_at", "remediated_by", "recovered_at", "recovery_time"]
    return frame.loc[frame["failed"], cols].reset_index(drop=True)


def deployment_rework_rate(source: Any, pattern: str | None = "v*", rev: str = "HEAD", *,
                           since: Any = None, until: Any = None) -> float:
    """DORA 2024's rework rate: the share of deployments that were unplanned, made to remediate a failure.

    Here: remediation deployments (see :func:`deployments`) / all deployments (NaN without deployments).
    """
    frame = _window(_as_deployments(source, pattern, rev), since, until)
    return float(frame["remediation"].mean()) if len(frame) else float("nan")


# ----------------------------------------------------------------------------------------------------------
# performance tiers (2023 State of DevOps report) and the report
# ----------------------------------------------------------------------------------------------------------
TIER_NAMES: tuple[str, ...] = ("elite", "high", "medium", "low")

THRESHOLDS_2023: dict[str, dict[str, Any]] = {
    # deployments per day: on demand (several a day) / daily–weekly / weekly–monthly / less often
    "deployment_frequency": {"elite": 1.0, "high": 1 / 7, "medium": 1 / 30},
    "change_lead_time": {"elite": pd.Timedelta(days=1), "high": pd.Timedelta(weeks=1),
                         "medium": pd.Timedelta(days=30)},
    "change_fail_rate": {"elite": 0.05, "high": 0.10, "medium": 0.15},
    "failed_deployment_recovery_time": {"elite": pd.Timedelta(hours=1), "high": pd.Timedelta(days=1),
                                        "medium": pd.Timedelta(weeks=1)},
}
"""Tier bounds derived from the software delivery performance clusters of the Accelerate State of DevOps
Report 2023 (DORA / Google Cloud, chapter "How do you compare?"; the share of respondents in brackets):

=====================  ==================  =================  =================  =================
metric                 elite (18%)         high (31%)         medium (33%)       low (17%)
=====================  ==================  =================  =================  =================
deployment frequency   on demand           daily – weekly     weekly – monthly   weekly – monthly
change lead time       < one day           1 day – 1 week     1 week – 1 month   1 week – 1 month
change failure rate    5%                  10%                15%                64%
failed deployment      < one hour          < one day          1 day – 1 week     1 – 6 months
recovery time
=====================  ==================  =================  =================  =================

The clusters are survey answers, not cut-offs, and low overlaps medium on the throughput metrics, so the rule
used here is: elite when deploying at least once a day, with lead time under a day, failure rate at most 5%,
recovery under an hour; high at least weekly / under a week / at most 10% / under a day; medium at least every
30 days / within 30 days / at most 15% / within a week; low otherwise.
"""

_UNITS_HELP = {
    "deployment_frequency": "deployments per day as a float (e.g. 0.5 = every other day)",
    "change_lead_time": "a timedelta (e.g. pd.Timedelta(hours=20))",
    "change_fail_rate": "a fraction between 0 and 1 (e.g. 0.12 for 12%)",
    "failed_deployment_recovery_time": "a timedelta (e.g. pd.Timedelta(minutes=45))",
}


def tier(metric: str, value: Any) -> str:
    """The 2023 DORA performance tier ("elite", "high", "medium" or "low") of one metric's value.

    ``metric`` is one of ``deployment_frequency`` (deployments per day), ``change_lead_time`` (a timedelta),
    ``change_fail_rate`` (a fraction 0–1) or ``failed_deployment_recovery_time`` (a timedelta); bounds in
    :data:`THRESHOLDS_2023`. Deployment rework rate (DORA 2024) has no published tiers.

    >>> tier("change_lead_time", pd.Timedelta(hours=20)), tier("deployment_frequency", 0.5)
    ('elite', 'high')
    >>> tier("change_fail_rate", 0.12), tier("failed_deployment_recovery_time", pd.Timedelta(days=40))
    ('medium', 'low')
    """
    if metric == "deployment_rework_rate":
        raise ValueError("deployment_rework_rate has no performance tiers in the 2023 report: compare it "
                         "over time instead (tiers exist for: " + ", ".join(THRESHOLDS_2023) + ")")
    if metric not in THRESHOLDS_2023:
        raise ValueError(f"unknown metric {metric!r}: expected one of {', '.join(THRESHOLDS_2023)}")
    bounds = THRESHOLDS_2023[metric]
    if metric in ("change_lead_time", "failed_deployment_recovery_time"):
        number = isinstance(value, (bool, int, float, np.integer, np.floating))
        if number and not isinstance(value, np.timedelta64) and not pd.isna(value):
            raise TypeError(f"{metric} expects {_UNITS_HELP[metric]}, found the number {value!r}")
        try:
            v = pd.Timedelta(value)
        except (TypeError, ValueError):
            raise TypeError(f"{metric} expects {_UNITS_HELP[metric]}, found {value!r}") from None
        if pd.isna(v):
            raise ValueError(f"{metric} has no value (NaT): nothing was measured, so there is no tier")
        if v < pd.Timedelta(0):
            raise ValueError(f"{metric} cannot be negative, found {v}")
        if metric == "change_lead_time":
            return "elite" if v < bounds["elite"] else "high" if v <= bounds["high"] else \
                "medium" if v <= bounds["medium"] else "low"
        return "elite" if v < bounds["elite"] else "high" if v < bounds["high"] else \
            "medium" if v <= bounds["medium"] else "low"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{metric} expects {_UNITS_HELP[metric]}, found {type(value).__name__} {value!r}")
    x = float(value)
    if np.isnan(x):
        raise ValueError(f"{metric} has no value (NaN): nothing was measured, so there is no tier")
    if x < 0 or (metric == "change_fail_rate" and x > 1):
        raise ValueError(f"{metric} expects {_UNITS_HELP[metric]}, found {value!r}")
    if metric == "deployment_frequency":
        return "elite" if x >= bounds["elite"] else "high" if x >= bounds["high"] else \
            "medium" if x >= bounds["medium"] else "low"
    return "elite" if x <= bounds["elite"] else "high" if x <= bounds["high"] else \
        "medium" if x <= bounds["medium"] else "low"


@dataclass(frozen=True)
class DoraReport:
    """DORA's software delivery metrics for one repository and time window (see :func:`dora`)."""

    deployments: int
    window_days: float
    deployment_frequency: float  # deployments per day
    change_lead_time: pd.Timedelta  # median over the commits shipped in the window (NaT if none)
    change_fail_rate: float  # failed deployments / deployments (NaN if none)
    failed_deployment_recovery_time: pd.Timedelta  # median over failed deployments (NaT if none failed)
    deployment_rework_rate: float  # remediation deployments / deployments (NaN if none)
    tiers: dict[str, str | None]
    overall: str
    since: pd.Timestamp | None = None
    until: pd.Timestamp | None = None

    def as_frame(self) -> pd.DataFrame:
        """One row per metric: ``value`` (as computed), ``shown`` (for people) and ``tier``."""
        rows = []
        for metric in ("deployment_frequency", "change_lead_time", "change_fail_rate",
                       "failed_deployment_recovery_time", "deployment_rework_rate"):
            value = getattr(self, metric)
            rows.append({"metric": metric, "value": value, "shown": _shown(metric, value),
                         "tier": self.tiers.get(metric)})
        rows.append({"metric": "overall", "value": None, "shown": self.overall, "tier": self.overall})
        return pd.DataFrame(rows).set_index("metric")


def _shown(metric: str, value: Any) -> str:
    if pd.isna(value):
        return "n/a"
    if metric == "deployment_frequency":
        return f"{value:.2f} per day ({value * 7:.1f} per week)"
    if metric in ("change_fail_rate", "deployment_rework_rate"):
        return f"{value:.0%}"
    return str(pd.Timedelta(value).round("s"))


def dora(repo: RepoLike, pattern: str | None = "v*", since: Any = None, until: Any = None,
         rev: str = "HEAD") -> DoraReport:
    """The DORA metrics of ``repo`` over ``since <= deployed_at < until`` (UTC; ``None`` = open-ended).

    * deployment frequency: deployments in the window per day of the window (the window is
      ``since``…``until`` where given, else first…last deployment, at least one day);
    * change lead time: median over commits whose first deployment falls in the window (:func:`lead_times`);
    * change fail rate, failed deployment recovery time (median) and deployment rework rate: see
      :func:`deployments` for the failure rule;
    * ``tiers`` per metric from :func:`tier` (``None`` when a metric has no value) and ``overall``: the
      weakest tier among them (a team is as fast as its slowest key).

    Git runs three times for all metrics together: ``git for-each-ref`` for the tags, ``git rev-list`` for
    the graph and ``git log --grep`` for the revert and hotfix candidates.

    >>> from labkit import git
    >>> with git.scratch_repo(git.team_history(days=10, seed=4)) as repo:
    ...     report = dora(repo.path)
    >>> report.deployments, report.tiers["change_lead_time"]
    (11, 'elite')
    """
    path = _repo_path(repo)
    start, end = _timestamp(since, "since"), _timestamp(until, "until")
    rel = _release_graph(path, pattern, rev)
    lead = _lead_frame(rel)
    deploys = _window(_deployments_from(path, rel, lead), start, end)
    n = len(deploys)
    if n:
        lo = start if start is not None else deploys["deployed_at"].min()
        hi = end if end is not None else deploys["deployed_at"].max()
        days = max((hi - lo) / pd.Timedelta(days=1), 1.0)
    else:
        both = start is not None and end is not None
        days = max((end - start) / pd.Timedelta(days=1) if both else 1.0, 1.0)  # type: ignore[operator]
    in_window = lead["deployed_at"].notna()
    if start is not None:
        in_window &= lead["deployed_at"] >= start
    if end is not None:
        in_window &= lead["deployed_at"] < end
    lead_median = lead.loc[in_window, "lead_time"].median()
    failures = deploys.loc[deploys["failed"], "recovery_time"]
    values: dict[str, Any] = {
        "deployment_frequency": n / days,
        "change_lead_time": pd.Timedelta(lead_median) if not pd.isna(lead_median) else pd.NaT,
        "change_fail_rate": float(deploys["failed"].mean()) if n else float("nan"),
        "failed_deployment_recovery_time": pd.Timedelta(failures.median()) if len(failures) else pd.NaT,
        "deployment_rework_rate": float(deploys["remediation"].mean()) if n else float("nan"),
    }
    tiers: dict[str, str | None] = {
        m: (None if pd.isna(values[m]) else tier(m, values[m])) for m in THRESHOLDS_2023
    }
    overall = max((t for t in tiers.values() if t is not None), key=TIER_NAMES.index)
    return DoraReport(deployments=n, window_days=float(days), tiers=tiers, overall=overall,
                      since=start, until=end, **values)
