"""Find secrets in text, in a folder and in every commit of a git history — with Yelp's detect-secrets.

::

    from labkit import secretscan
    secretscan.scan_text('AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq9Kx2ExAmP"', "settings.py")
    secretscan.scan_tree(repo.path)        # the files as they are now (like `detect-secrets scan --all-files`)
    secretscan.scan_history(repo.path)     # every version of every file in every commit (git rev-list --all)

Why history: deleting a secret in a new commit does not remove it from the repository. Every earlier commit
still holds the file as it was, and anyone with a clone (or a fork, or a CI cache) can ``git show`` it. A
leaked secret must be **rotated** (revoked and replaced); rewriting history only limits further spread.
detect-secrets itself scans files (and diffs); :func:`scan_history` feeds it every blob that a commit added or
changed, so each :class:`Finding` also says in which commit that version of the file first appeared.

Scans use detect-secrets' default configuration: all its plugins (AWS keys, private keys, Stripe, GitHub and
Slack tokens, high-entropy strings, ``password = "..."`` keywords, …) and its default false-positive filters,
including the inline allowlist comment ``# pragma: allowlist secret``. A :class:`Finding` carries the SHA-1
hash of the secret (as a ``.secrets.baseline`` does), never the secret itself, so findings are safe to print.

:class:`Secret` is the other half of "secrets out of code": a value that refuses to print itself, so that a
settings object can be logged without leaking what it holds.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Finding",
    "Secret",
    "ScanError",
    "scan_file",
    "scan_history",
    "scan_text",
    "scan_tree",
]

MAX_BLOB_BYTES = 2_000_000  # larger blobs are skipped: generated files, data, binaries


class ScanError(RuntimeError):
    """A scan could not run (not a git repository, a git command failed); the message says what to do."""


@dataclass(frozen=True, order=True)
class Finding:
    """One potential secret. ``commit`` is set by :func:`scan_history`: the commit that added that version.

    Attributes:
        filename: path relative to the scanned folder or repository (``/`` separators).
        line_number: 1-based line of the secret in that version of the file.
        type: the detect-secrets plugin's name for it, e.g. ``"AWS Access Key"`` or ``"Secret Keyword"``.
        hashed_secret: SHA-1 of the secret: equal hashes mean the same secret, wherever it appears.
        commit: full hash of the commit (history scans), else ``""``.
    """

    filename: str
    line_number: int
    type: str
    hashed_secret: str
    commit: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Secret:
    """A value that never shows itself in ``repr``/``str``/f-strings/logs; ``.reveal()`` gives it back.

    ``Secret("s3cr3t")`` prints as ``Secret('********')``. Two secrets compare equal when their values do.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Secret holds a str; got {type(value).__name__}.")
        self._value = value

    def reveal(self) -> str:
        """The value itself: pass it to the one place that needs it (a connect() call), never to a log."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:  # pickling would write the value to disk in the clear
        raise TypeError("a Secret cannot be pickled; pass the setting's name, not its value.")


# -------------------------------------------------------------------------------------------- file scanning


def _scan_paths(root: Path, relative: Iterable[str]) -> list[Finding]:
    """Scan files under ``root`` with detect-secrets' default plugins and filters."""
    from detect_secrets.core.scan import scan_file
    from detect_secrets.settings import default_settings

    found: list[Finding] = []
    with default_settings():
        for rel in relative:
            for secret in scan_file(str(root / rel)):
                found.append(Finding(rel, int(secret.line_number), str(secret.type), str(secret.secret_hash)))
    return sorted(set(found))


def _check_relative(filename: str) -> str:
    rel = Path(filename)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise ValueError(f"filename must be a relative path like 'app/settings.py'; got {filename!r}.")
    return rel.as_posix()


def scan_text(text: str, filename: str = "snippet.txt") -> list[Finding]:
    """Scan ``text`` as if it were the file ``filename`` (the name matters: some filters look at it)."""
    if not isinstance(text, str):
        raise TypeError(f"scan_text needs a str; got {type(text).__name__}.")
    rel = _check_relative(filename)
    with tempfile.TemporaryDirectory(prefix="labkit-scan-") as tmp:
        target = Path(tmp, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return _scan_paths(Path(tmp), [rel])


def scan_file(path: str | os.PathLike[str]) -> list[Finding]:
    """Scan one file on disk; ``filename`` in the findings is its name."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no file {file}")
    return _scan_paths(file.parent, [file.name])


def _walk(root: Path) -> Iterator[str]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(files):
            yield Path(folder, name).relative_to(root).as_posix()


def scan_tree(root: str | os.PathLike[str]) -> list[Finding]:
    """Scan every file under ``root`` as it is now (skipping ``.git``), like ``detect-secrets scan --all-files``."""
    base = Path(root)
    if not base.is_dir():
        raise FileNotFoundError(f"no folder {base}")
    return _scan_paths(base, list(_walk(base)))


# ----------------------------------------------------------------------------------------- history scanning


def _git(repo: Path, *args: str, input: bytes | None = None) -> bytes:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C"}
    res = subprocess.run(
        ["git", "-C", str(repo), *args], input=input, capture_output=True, env=env, timeout=120, check=False
    )
    if res.returncode != 0:
        raise ScanError(f"git {' '.join(args)} failed in {repo}: {res.stderr.decode(errors='replace').strip()}")
    return res.stdout


def _changed_blobs(repo: Path, commit: str) -> list[tuple[str, str]]:
    """(blob sha, path) of every file that ``commit`` added or modified (against its first parent)."""
    out = _git(repo, "diff-tree", "-r", "--root", "--no-commit-id", "-z", "--diff-filter=AMCRT", "-m",
               "--first-parent", commit)  # fmt: skip
    fields = out.decode("utf-8", "surrogateescape").split("\0")
    blobs: list[tuple[str, str]] = []
    i = 0
    while i < len(fields) - 1:
        meta = fields[i]
        if not meta.startswith(":"):
            i += 1
            continue
        parts = meta[1:].split()
        status = parts[4] if len(parts) > 4 else ""
        mode, sha = parts[1], parts[3]
        if status.startswith(("R", "C")):
            path = fields[i + 2]
            i += 3
        else:
            path = fields[i + 1]
            i += 2
        if mode.startswith("100"):  # regular files only (no symlinks 120000, no submodules 160000)
            blobs.append((sha, path))
    return blobs


def _read_blobs(repo: Path, shas: Sequence[str]) -> dict[str, bytes]:
    """Contents of many blobs with one ``git cat-file --batch``."""
    if not shas:
        return {}
    out = _git(repo, "cat-file", "--batch", input="".join(f"{s}\n" for s in shas).encode())
    blobs: dict[str, bytes] = {}
    pos = 0
    for sha in shas:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        size = int(header[2])
        blobs[sha] = out[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1
    return blobs


def scan_history(repo: str | os.PathLike[str], revisions: Sequence[str] = ("--all",)) -> list[Finding]:
    """Scan every version of every file that any commit reachable from ``revisions`` added or changed.

    Each finding names the commit where that version of the file appeared (oldest commits first). The same
    secret kept in later commits is not reported again until a commit changes the file; compare
    ``hashed_secret`` to follow one secret across files and commits. ``revisions`` go to ``git rev-list``:
    the default ``--all`` covers every branch and tag, not only the checked-out one.
    """
    path = Path(repo)
    if not (path / ".git").exists() and not (path / "HEAD").exists():
        raise ScanError(f"{path} is not a git repository (no .git folder): pass the repository's folder.")
    commits = _git(path, "rev-list", "--reverse", "--topo-order", *revisions).decode().split()
    todo: list[tuple[str, str, str]] = []  # (commit, blob, path)
    for commit in commits:
        todo += [(commit, sha, p) for sha, p in _changed_blobs(path, commit)]
    sizes: dict[str, int] = {}
    if todo:
        unique = list(dict.fromkeys(sha for _, sha, _ in todo))
        check = _git(path, "cat-file", "--batch-check=%(objectname) %(objectsize)", input="\n".join(unique).encode())
        for line in check.decode().splitlines():
            sha, size = line.split()
            sizes[sha] = int(size)
    wanted = list(dict.fromkeys(sha for _, sha, _ in todo if sizes.get(sha, 0) <= MAX_BLOB_BYTES))
    contents = _read_blobs(path, wanted)
    found: list[Finding] = []
    seen: dict[tuple[str, str], list[Finding]] = {}
    with tempfile.TemporaryDirectory(prefix="labkit-history-") as tmp:
        for n, (commit, sha, rel) in enumerate(todo):
            data = contents.get(sha)
            if data is None or b"\0" in data[:8000]:  # too large or binary
                continue
            key = (sha, rel)
            if key not in seen:
                folder = Path(tmp, str(n))
                target = folder / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                seen[key] = _scan_paths(folder, [rel])
            found += [Finding(f.filename, f.line_number, f.type, f.hashed_secret, commit) for f in seen[key]]
    order = {c: i for i, c in enumerate(commits)}
    return sorted(set(found), key=lambda f: (order[f.commit], f.filename, f.line_number, f.type))
