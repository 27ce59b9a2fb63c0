"""labkit.secretscan: detect-secrets over text, folders and every commit of a history; Secret never prints."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from labkit import git, secretscan
from labkit.secretscan import Finding, Secret

AWS = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq9Kx2ExAmP"
STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
PASSWORD_LINE = 'DB_PASSWORD = "Tr0ub4dor-and-3-horses"\n'


def test_scan_text_finds_typed_hashed_secrets_and_never_the_value():
    found = secretscan.scan_text(f'AWS_SECRET_ACCESS_KEY = "{AWS}"\n', "app/settings.py")
    assert {f.type for f in found} == {"Base64 High Entropy String", "Secret Keyword"}
    assert {f.hashed_secret for f in found} == {"f64c934c6f0a8da5ecd1669332afa17b21d839e2"}  # sha1 of the key
    assert all(f.filename == "app/settings.py" and f.line_number == 1 and f.commit == "" for f in found)
    assert AWS not in repr(found)
    assert found[0].as_dict()["filename"] == "app/settings.py"


def test_scan_text_respects_the_allowlist_pragma_and_clean_code():
    assert secretscan.scan_text('password = "hunter2-is-long-enough"  # pragma: allowlist secret\n', "a.py") == []
    assert secretscan.scan_text('password = os.environ["DB_PASSWORD"]\n', "a.py") == []
    assert secretscan.scan_text("", "empty.txt") == []


def test_scan_text_rejects_paths_outside_the_scan():
    with pytest.raises(ValueError, match="relative path"):
        secretscan.scan_text("x", "../escape.py")
    with pytest.raises(ValueError, match="relative path"):
        secretscan.scan_text("x", "/etc/passwd")
    with pytest.raises(TypeError):
        secretscan.scan_text(b"bytes", "a.py")  # type: ignore[arg-type]


def test_scan_tree_and_scan_file(tmp_path: Path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "settings.py").write_text(PASSWORD_LINE)
    (tmp_path / "README.md").write_text("# nothing here\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(PASSWORD_LINE)  # never scanned
    found = secretscan.scan_tree(tmp_path)
    assert [(f.filename, f.type) for f in found] == [("app/settings.py", "Secret Keyword")]
    assert secretscan.scan_file(tmp_path / "app" / "settings.py")[0].filename == "settings.py"
    with pytest.raises(FileNotFoundError):
        secretscan.scan_tree(tmp_path / "missing")
    with pytest.raises(FileNotFoundError):
        secretscan.scan_file(tmp_path / "missing.py")


def test_scan_history_finds_a_removed_secret_and_every_branch():
    steps = [
        git.Commit("feat: settings", files={"app/settings.py": PASSWORD_LINE}),
        git.Commit("fix: env", files={"app/settings.py": 'import os\nDB_PASSWORD = os.environ["DB_PASSWORD"]\n'}),
        git.Branch("spike"),
        git.Commit("wip: stripe", files={"spike.py": f'KEY = "{STRIPE}"\n'}),
        git.Switch("main"),
        git.Commit("chore: rename", files={"notes.txt": "hello\n"}),
    ]
    with git.scratch_repo(steps) as repo:
        assert secretscan.scan_tree(repo.path) == []
        found = secretscan.scan_history(repo.path)
        subjects = [repo.git("log", "-1", "--format=%s", f.commit).strip() for f in found]
        only_head = secretscan.scan_history(repo.path, ["HEAD"])
    assert subjects[0] == "feat: settings" and found[0].filename == "app/settings.py"
    assert {f.filename for f in found} == {"app/settings.py", "spike.py"}
    assert set(subjects) == {"feat: settings", "wip: stripe"}
    assert {f.filename for f in only_head} == {"app/settings.py"}


def test_scan_history_reports_a_secret_again_only_when_a_commit_changes_the_file():
    steps = [
        git.Commit("feat: key", files={"k.py": f'AWS_SECRET_ACCESS_KEY = "{AWS}"\n'}),
        git.Commit("docs: unrelated", files={"README.md": "docs\n"}),
        git.Commit("feat: more", files={"k.py": f'AWS_SECRET_ACCESS_KEY = "{AWS}"\nX = 1\n'}),
        git.Commit("feat: moved", files={"k.py": None, "deploy/k.sh": f"export AWS_SECRET_ACCESS_KEY={AWS}\n"}),
    ]
    with git.scratch_repo(steps) as repo:
        found = secretscan.scan_history(repo.path)
        commits = repo.log("%H", "--reverse")
    keyword = [f for f in found if f.type == "Secret Keyword"]
    assert [(commits.index(f.commit), f.filename) for f in keyword] == [(1, "k.py"), (3, "k.py"), (4, "deploy/k.sh")]
    assert len({f.hashed_secret for f in found}) == 1


def test_scan_history_skips_binary_files_and_refuses_a_non_repository(tmp_path: Path):
    with git.scratch_repo() as repo:
        (repo.path / "blob.bin").write_bytes(b"\0\1\2" + PASSWORD_LINE.encode())
        repo.git("add", "blob.bin")
        repo.git("commit", "-q", "-m", "binary", who="alice")
        assert secretscan.scan_history(repo.path) == []
    with pytest.raises(secretscan.ScanError, match="not a git repository"):
        secretscan.scan_history(tmp_path)


def test_findings_sort_and_compare():
    a = Finding("a.py", 2, "Secret Keyword", "x")
    b = Finding("a.py", 1, "Secret Keyword", "x")
    assert sorted([a, b]) == [b, a]
    assert a == Finding("a.py", 2, "Secret Keyword", "x")


def test_secret_never_shows_its_value():
    s = Secret("ghp_example_value_1234567890")
    for text in (repr(s), str(s), f"{s}", f"{s!r}", f"{s:>40}", repr({"token": s}), repr([s])):
        assert "ghp_" not in text
        assert "********" in text
    assert s.reveal() == "ghp_example_value_1234567890"
    assert s == Secret("ghp_example_value_1234567890") and s != Secret("other") and s != "ghp_example_value_1234567890"
    assert len({s, Secret("ghp_example_value_1234567890")}) == 1
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(s)
    with pytest.raises(TypeError, match="holds a str"):
        Secret(1234)  # type: ignore[arg-type]
