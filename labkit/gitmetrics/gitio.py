"""Running git for the readers: one streamed subprocess per question, pinned config, NUL-separated tables."""

from __future__ import annotations

import csv
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar, Union

import numpy as np
import pandas as pd

from labkit.git import GitError

RepoLike = Union[str, "os.PathLike[str]"]
"""A path to a working tree or a bare repository (an object with a ``.path`` attribute, such as
:class:`labkit.git.ScratchRepo`, is accepted too)."""
# git's own format placeholders for the columns above; %ad/%cd print only the zone (--date=format:%z)
_LOG_FIELDS = ("%H", "%P", "%an", "%ae", "%at", "%ad", "%cn", "%ce", "%ct", "%cd", "%s")
LOG_NAMES = [
    "sha",
    "parents",
    "author",
    "author_email",
    "author_time",
    "author_tz",
    "committer",
    "committer_email",
    "committer_time",
    "committer_tz",
    "subject",
]
LOG_FORMAT = "--format=" + "%x00".join(_LOG_FIELDS)
LOG_DTYPES: dict[str, Any] = {n: str for n in LOG_NAMES} | {
    "author_time": np.int64,
    "author_tz": np.int64,
    "committer_time": np.int64,
    "committer_tz": np.int64,
}
NUMSTAT_ARGS = ("--numstat", "--no-renames", "--diff-merges=off", "--no-ext-diff", "--no-textconv")

# Configuration keys that would change what `git log` prints; pinned so any user's config reads the same.
PINNED_CONFIG = (
    "log.showSignature=false",
    "log.showRoot=true",
    "i18n.logOutputEncoding=UTF-8",
    "core.quotePath=true",
    "color.ui=false",
)
# Environment variables that point git at another repository than the one asked for.
_REPO_SELECTING_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_COMMON_DIR",
    "GIT_PAGER",
    "GIT_EXTERNAL_DIFF",
)

UTC_NS = "datetime64[ns, UTC]"


# ----------------------------------------------------------------------------------------------------------
# running git
# ----------------------------------------------------------------------------------------------------------
def repo_path(repo: Any) -> Path:
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
            f"repository path {str(path)!r} does not exist: check it (working directory: {os.getcwd()})"
        )
    return path


def check_rev(rev: str) -> str:
    if not isinstance(rev, str) or not rev or rev.startswith("-") or any(c in rev for c in "\n\x00"):
        raise ValueError(
            f"rev={rev!r} is not a revision: use e.g. 'HEAD', a branch, a tag or a commit sha "
            "(options such as '--all' are not accepted here; see all_refs=True)"
        )
    return rev


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPO_SELECTING_ENV}
    env.update(LC_ALL="C", LANG="C", GIT_PAGER="cat", PAGER="cat", GIT_TERMINAL_PROMPT="0")
    return env


def git_argv(path: Path, args: Sequence[str]) -> list[str]:
    argv = ["git", "--no-pager", "-C", str(path)]
    for kv in PINNED_CONFIG:
        argv += ["-c", kv]
    return argv + list(args)


def run_git(
    path: Path, args: Sequence[str], *, input: str | None = None, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        git_argv(path, args),
        env=git_env(),
        input=input,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
    )
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
    return run_git(path, ["rev-parse", "--verify", "-q", f"{rev}^{{commit}}"], check=False).returncode == 0


def _is_unborn(path: Path, rev: str) -> bool:
    """True when ``rev`` names HEAD (or the current branch) of a repository without any commit yet."""
    if run_git(path, ["rev-parse", "--git-dir"], check=False).returncode != 0:
        return False
    if _has_commit(path, rev):
        return False
    head = run_git(path, ["symbolic-ref", "-q", "HEAD"], check=False).stdout.strip()
    return rev in {"HEAD", "@", head, head.removeprefix("refs/heads/")}


def read_nul_table(stream: IO[bytes], names: Sequence[str], dtype: Mapping[str, Any] | type) -> pd.DataFrame:
    """Parse NUL-separated, LF-terminated rows with pandas' C parser; no quoting, no NA guessing."""
    try:
        return pd.read_csv(
            stream,
            sep="\x00",
            lineterminator="\n",
            header=None,
            names=list(names),
            dtype=dtype,
            quoting=csv.QUOTE_NONE,
            na_filter=False,
            engine="c",
            encoding="utf-8",
            encoding_errors="replace",
            skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame({n: pd.Series(dtype=object) for n in names})


T = TypeVar("T")


def stream_git(
    path: Path,
    args: Sequence[str],
    consume: Callable[[IO[bytes]], T],
    *,
    stdin_revs: Sequence[str] | None = None,
    allow_unborn: str | None = None,
) -> T | None:
    """Run one git command and hand its stdout to ``consume`` while git is still writing it (two cores work
    at once: git produces, Python parses).

    Returns ``None`` when it failed because ``allow_unborn`` is the unborn HEAD of an empty repository.
    """
    argv = git_argv(path, args)
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            argv,
            env=git_env(),
            stdout=subprocess.PIPE,
            stderr=err,
            stdin=subprocess.PIPE if stdin_revs is not None else subprocess.DEVNULL,
        )
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


def stream_lines(stream: IO[bytes], chunk: int = 1 << 20) -> Iterator[list[bytes]]:
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
        yield data[: cut - 1].split(b"\n")
    if rest:
        yield [rest]
