"""labkit.gitmetrics: history frames, release tags, lead times and DORA metrics on scratch repositories."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pandas as pd
import pytest

from labkit import git, gitmetrics
from labkit.git import Branch, Commit, Merge, Switch, Tag

H = pd.Timedelta(hours=1)
MIN = pd.Timedelta(minutes=1)

COMMIT_DTYPES = {
    "sha": "str", "parents": "object", "author": "str", "author_email": "str",
    "author_time": "datetime64[ns, UTC]", "author_tz": "int64", "committer": "str", "committer_email": "str",
    "committer_time": "datetime64[ns, UTC]", "committer_tz": "int64", "subject": "str", "is_merge": "bool",
}
STATS_DTYPES = {**COMMIT_DTYPES, "files": "int64", "insertions": "int64", "deletions": "int64"}


def C(message: str, author: str = "alice", after: str = "1h") -> Commit:
    """A commit touching its own file, so that parallel branches merge without conflicts."""
    name = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")
    return Commit(message, author=author, files={f"src/{name}.txt": message + "\n"}, after=after)


def dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {c: str(t) for c, t in frame.dtypes.items()}


# ---------------------------------------------------------------------------------------------------------
# commits
# ---------------------------------------------------------------------------------------------------------
def test_commits_columns_dtypes_and_order() -> None:
    steps = [Commit("feat: login", author="bob"), Commit("fix: typo", author="erin")]
    with git.scratch_repo(steps) as repo:
        log = gitmetrics.commits(repo.path)
        expected_shas = repo.log("%H")
        subjects = repo.log("%s")
    assert dtypes(log) == COMMIT_DTYPES
    assert log["sha"].tolist() == expected_shas
    assert log["subject"].tolist() == subjects == ["fix: typo", "feat: login", "chore: initial commit"]
    assert log["author"].tolist() == ["Erin Esposito", "Bob Brown", "Alice Ahmed"]
    assert log["author_email"].iloc[1] == "bob@example.com"
    assert log["parents"].iloc[0] == (log["sha"].iloc[1],)
    assert log["parents"].iloc[2] == ()
    assert not log["is_merge"].any()


def test_commits_time_zones_are_minutes_east_and_times_are_utc() -> None:
    # erin is UTC+05:30, bob UTC-05:00: same instant, different zones
    steps = [Commit("feat: a", author="erin", after="1h"), Commit("feat: b", author="bob", after="1h")]
    with git.scratch_repo(steps) as repo:
        log = gitmetrics.commits(repo.path)
        start = repo.clock.now
    assert log["author_tz"].tolist() == [-300, 330, 60]
    assert log["committer_tz"].tolist() == [-300, 330, 60]
    assert log["author_time"].iloc[0] == pd.Timestamp(start)
    assert log["author_time"].iloc[1] == pd.Timestamp(start) - H
    assert str(log["author_time"].dt.tz) == "UTC"


def test_commits_merges_are_flagged_with_both_parents() -> None:
    steps = [Branch("feature/x"), C("feat: x"), Switch("main"), C("docs: y"), Merge("feature/x")]
    with git.scratch_repo(steps) as repo:
        log = gitmetrics.commits(repo.path)
        merge_parents = repo.git("log", "-1", "--format=%P").split()
    assert log["is_merge"].tolist()[0] is True
    assert log["is_merge"].sum() == 1
    assert log["parents"].iloc[0] == tuple(merge_parents)
    assert len(log) == 4


def test_commits_stats_count_files_lines_and_binary_files() -> None:
    steps = [
        Commit("feat: two files", files={"a.txt": "1\n2\n3\n", "b.txt": "x\n"}),
        Commit("refactor: edit", files={"a.txt": "1\nTWO\n3\n4\n"}),
        Commit("chore: drop b", files={"b.txt": None}),
    ]
    with git.scratch_repo(steps) as repo:
        repo.clock.advance("1h")
        (repo.path / "logo.bin").write_bytes(bytes(range(256)) * 4)
        repo.git("add", "logo.bin")
        repo.git("commit", "-q", "-m", "feat: binary logo", who="alice")
        log = gitmetrics.commits(repo.path, stats=True)
    assert dtypes(log) == STATS_DTYPES
    by_subject = log.set_index("subject")[["files", "insertions", "deletions"]]
    assert by_subject.loc["feat: binary logo"].tolist() == [1, 0, 0]
    assert by_subject.loc["chore: drop b"].tolist() == [1, 0, 1]
    assert by_subject.loc["refactor: edit"].tolist() == [1, 2, 1]
    assert by_subject.loc["feat: two files"].tolist() == [2, 4, 0]
    assert by_subject.loc["chore: initial commit"].tolist() == [1, 1, 0]


def test_commits_stats_match_git_numstat_on_a_team_history() -> None:
    with git.scratch_repo(git.team_history(days=4, seed=3)) as repo:
        log = gitmetrics.commits(repo.path, stats=True)
        plain = gitmetrics.commits(repo.path)
        totals = repo.git("log", "--numstat", "--format=", "--no-renames")
    lines = [ln.split("\t") for ln in totals.splitlines() if ln]
    assert int(log["insertions"].sum()) == sum(int(a) for a, _, _ in lines) > 0
    assert int(log["files"].sum()) == len(lines)
    assert (log.loc[log["is_merge"], "files"] == 0).all()
    pd.testing.assert_frame_equal(log[list(COMMIT_DTYPES)], plain)


def test_commits_subjects_with_quotes_separators_and_na_words_survive() -> None:
    odd = ['Revert "feat: quoted"', "NA", "with\x1funit\x1eseparators", "tab\there", "null", "  spaced  "]
    with git.scratch_repo([Commit(s) for s in odd]) as repo:
        log = gitmetrics.commits(repo.path)
        expected = repo.git("log", "--format=%s").split("\n")[:-1]  # (str.splitlines would split at \x1e)
    assert log["subject"].tolist() == expected
    assert log["subject"].iloc[3] == "with\x1funit\x1eseparators" and log["subject"].iloc[2] == "tab\there"
    assert log["subject"].iloc[-2] == odd[0]
    assert not log["subject"].isna().any()


def test_empty_repository_gives_empty_frames_with_dtypes() -> None:
    with git.scratch_repo(initial_commit=False) as repo:
        plain = gitmetrics.commits(repo.path)
        stats = gitmetrics.commits(repo.path, stats=True)
        tags = gitmetrics.release_tags(repo.path)
        lead = gitmetrics.lead_times(repo.path)
    assert len(plain) == len(stats) == len(tags) == len(lead) == 0
    assert dtypes(plain) == COMMIT_DTYPES
    assert dtypes(stats) == STATS_DTYPES
    assert list(tags.columns) == ["tag", "sha", "deployed_at", "has_tagger_date", "on_head"]
    assert list(lead.columns) == ["sha", "committed_at", "tag", "deployed_at", "lead_time"]
    assert str(lead["lead_time"].dtype) == "timedelta64[ns]"


def test_commits_rev_and_all_refs() -> None:
    steps = [Branch("feature/x"), Commit("feat: x"), Switch("main"), Commit("docs: y")]
    with git.scratch_repo(steps) as repo:
        head_only = gitmetrics.commits(repo.path)
        branch = gitmetrics.commits(repo.path, "feature/x")
        everything = gitmetrics.commits(repo.path, all_refs=True)
    assert set(head_only["subject"]) == {"docs: y", "chore: initial commit"}
    assert set(branch["subject"]) == {"feat: x", "chore: initial commit"}
    assert len(everything) == 3


def test_bad_inputs_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        gitmetrics.commits(tmp_path / "nope")
    with pytest.raises(git.GitError, match="not a git repository"):
        gitmetrics.commits(tmp_path)
    with pytest.raises(TypeError, match="repository path"):
        gitmetrics.commits(42)  # type: ignore[arg-type]
    with git.scratch_repo() as repo:
        with pytest.raises(git.GitError, match="revision"):
            gitmetrics.commits(repo.path, "no-such-branch")
        with pytest.raises(git.GitError, match="revision"):
            gitmetrics.lead_times(repo.path, rev="no-such-branch")


def test_reads_a_scratch_repo_object_and_this_repository() -> None:
    with git.scratch_repo([Commit("feat: a")]) as repo:
        assert len(gitmetrics.commits(repo)) == 2  # type: ignore[arg-type]
    here = Path(__file__).resolve().parents[1]
    if (here / ".git").exists():
        ours = gitmetrics.commits(here)
        assert len(ours) >= 1 and ours["sha"].str.len().eq(40).all()


# ---------------------------------------------------------------------------------------------------------
# release tags
# ---------------------------------------------------------------------------------------------------------
def test_release_tags_annotated_lightweight_sorting_and_reachability() -> None:
    steps = [
        Commit("feat: a", after="1h"), Tag("v1.0.0", after="30m"),
        Commit("feat: b", after="1h"), Tag("v1.1.0", lightweight=True, after="2h"),
        Branch("maint"), Commit("fix: on maint", after="1h"), Tag("v1.1.1", after="10m"), Switch("main"),
        Tag("other-tag", after="1m"),
    ]
    with git.scratch_repo(steps) as repo:
        tags = gitmetrics.release_tags(repo.path)
        all_tags = gitmetrics.release_tags(repo.path, pattern=None)
        b_sha = repo.rev_parse("main")
        b_time = pd.Timestamp(int(repo.git("log", "-1", "--format=%ct", "main")), unit="s", tz="UTC")
        tagged = repo.git("for-each-ref", "--format=%(taggerdate:unix)", "refs/tags/v1.0.0")
        v100_tag_time = pd.Timestamp(int(tagged), unit="s", tz="UTC")
    assert tags["tag"].tolist() == ["v1.0.0", "v1.1.0", "v1.1.1"]
    assert dtypes(tags) == {"tag": "str", "sha": "str", "deployed_at": "datetime64[ns, UTC]",
                            "has_tagger_date": "bool", "on_head": "bool"}
    assert tags["has_tagger_date"].tolist() == [True, False, True]
    assert tags["on_head"].tolist() == [True, True, False]
    v110 = tags.set_index("tag").loc["v1.1.0"]
    assert v110["sha"] == b_sha and v110["deployed_at"] == b_time  # lightweight: the commit's date
    assert tags.set_index("tag").loc["v1.0.0", "deployed_at"] == v100_tag_time
    assert set(all_tags["tag"]) == {"v1.0.0", "v1.1.0", "v1.1.1", "other-tag"}
    assert tags["deployed_at"].is_monotonic_increasing


def test_release_tags_peel_annotated_tags_to_commits_and_tags_of_tags() -> None:
    with git.scratch_repo([Commit("feat: a"), Tag("v1.0.0")]) as repo:
        repo.git("tag", "-a", "v1.0.0-signed", "-m", "again", "v1.0.0", who="ci-bot")
        blob = repo.git("hash-object", "-w", "--stdin", input="not a commit\n").strip()
        repo.git("tag", "v0-blob", blob)
        tags = gitmetrics.release_tags(repo.path)
        head = repo.head
    assert tags["tag"].tolist() == ["v1.0.0", "v1.0.0-signed"]
    assert (tags["sha"] == head).all()


def test_release_tags_without_tags() -> None:
    with git.scratch_repo([Commit("feat: a")]) as repo:
        assert len(gitmetrics.release_tags(repo.path)) == 0


# ---------------------------------------------------------------------------------------------------------
# lead times
# ---------------------------------------------------------------------------------------------------------
def test_lead_times_assign_each_commit_to_its_first_release() -> None:
    steps = [
        Commit("feat: a", after="1h"), Commit("feat: b", after="2h"), Tag("v1.0.0", after="30m"),
        Commit("feat: c", after="1h"), Tag("v1.1.0", after="3h"),
        Commit("feat: unreleased", after="1h"),
    ]
    with git.scratch_repo(steps) as repo:
        lead = gitmetrics.lead_times(repo.path)
    assert list(lead.columns) == ["sha", "committed_at", "tag", "deployed_at", "lead_time"]
    assert str(lead["lead_time"].dtype) == "timedelta64[ns]"
    assert lead["sha"].is_unique and len(lead) == 5
    rows = lead.assign(tag=lead["tag"].astype(object).where(lead["tag"].notna(), None))
    assert rows["tag"].tolist() == [None, "v1.1.0", "v1.0.0", "v1.0.0", "v1.0.0"]
    assert rows["lead_time"].iloc[1:].tolist() == [3 * H, 30 * MIN, 2 * H + 30 * MIN, 3 * H + 30 * MIN]
    assert pd.isna(rows["lead_time"].iloc[0]) and pd.isna(rows["deployed_at"].iloc[0])


def test_lead_times_with_merges_and_overlapping_maintenance_branch() -> None:
    # v1.0.0 on main; maint/1.0 gets a fix tagged v1.0.1 (not reachable from HEAD); the fix is later
    # merged into main and shipped again by v1.1.0: it belongs to v1.0.1, the earliest tag containing it.
    steps = [
        Commit("feat: a"), Tag("v1.0.0"),
        Branch("maint/1.0"), C("fix: security"), Tag("v1.0.1", after="20m"),
        Switch("main"), Branch("feature/b"), C("feat: b"), Switch("main"), Merge("feature/b"),
        Merge("maint/1.0", delete=False), Tag("v1.1.0", after="1h"),
    ]
    with git.scratch_repo(steps) as repo:
        lead = gitmetrics.lead_times(repo.path)
        log = gitmetrics.commits(repo.path)
    by_subject = dict(zip(log["sha"], log["subject"], strict=True))
    tag_of = {by_subject[s]: t for s, t in zip(lead["sha"], lead["tag"], strict=True)}
    assert tag_of["fix: security"] == "v1.0.1"
    assert tag_of["feat: a"] == "v1.0.0" and tag_of["chore: initial commit"] == "v1.0.0"
    assert tag_of["feat: b"] == "v1.1.0"
    assert tag_of["Merge branch 'feature/b'"] == "v1.1.0"
    assert tag_of["Merge branch 'maint/1.0'"] == "v1.1.0"
    assert len(lead) == len(log) == 6
    assert (lead["lead_time"] >= pd.Timedelta(0)).all()


def test_lead_times_include_tags_not_reachable_from_head() -> None:
    steps = [Commit("feat: a"), Branch("release/2"), Commit("feat: only on release"), Tag("v2.0.0"),
             Switch("main"), Commit("feat: main only")]
    with git.scratch_repo(steps) as repo:
        lead = gitmetrics.lead_times(repo.path)
        log = gitmetrics.commits(repo.path, all_refs=True)
    assert set(lead["sha"]) == set(log["sha"])
    subjects = dict(zip(log["sha"], log["subject"], strict=True))
    released = {subjects[s] for s, t in zip(lead["sha"], lead["tag"], strict=True) if t == "v2.0.0"}
    assert released == {"feat: only on release", "feat: a", "chore: initial commit"}
    assert lead["tag"].isna().sum() == 1


def test_lead_times_without_tags_are_all_unreleased() -> None:
    with git.scratch_repo([Commit("feat: a"), Commit("feat: b")]) as repo:
        lead = gitmetrics.lead_times(repo.path)
    assert len(lead) == 3
    assert lead["tag"].isna().all() and lead["lead_time"].isna().all()


def test_lead_times_tag_on_an_already_released_commit_ships_nothing() -> None:
    with git.scratch_repo([Commit("feat: a"), Tag("v1.0.0"), Tag("v1.0.0-again", after="1h")]) as repo:
        lead = gitmetrics.lead_times(repo.path)
    assert set(lead["tag"]) == {"v1.0.0"}


def test_doctests_pass() -> None:
    result = doctest.testmod(gitmetrics, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
