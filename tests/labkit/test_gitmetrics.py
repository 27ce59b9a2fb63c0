"""labkit.gitmetrics: history frames, release tags, lead times and DORA metrics on scratch repositories."""

from __future__ import annotations

import doctest
import importlib
import re
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labkit import git, gitmetrics
from labkit.git import Branch, Commit, Merge, Revert, Switch, Tag, Wait

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
        for bad in ("--output=/tmp/x", "", "HEAD\n--all"):
            with pytest.raises(ValueError, match="not a revision"):
                gitmetrics.commits(repo.path, bad)
            with pytest.raises(ValueError, match="not a revision"):
                gitmetrics.dora(repo.path, rev=bad)


def test_reads_a_scratch_repo_object_and_this_repository() -> None:
    with git.scratch_repo([Commit("feat: a")]) as repo:
        assert len(gitmetrics.commits(repo)) == 2  # type: ignore[arg-type]
    here = Path(__file__).resolve().parents[2]
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


def test_annotated_tag_without_tagger_date_falls_back_to_the_commit_date() -> None:
    # old git versions wrote tags with no tagger line; `git mktag` refuses them today, hash-object does not
    with git.scratch_repo([Commit("feat: a")]) as repo:
        head = repo.head
        body = f"object {head}\ntype commit\ntag v0.9.0\n\nan old tag without a tagger\n"
        tag_object = repo.git("hash-object", "-t", "tag", "-w", "--stdin", "--literally", input=body).strip()
        repo.git("update-ref", "refs/tags/v0.9.0", tag_object)
        tags = gitmetrics.release_tags(repo.path)
        committed = pd.Timestamp(int(repo.git("log", "-1", "--format=%ct")), unit="s", tz="UTC")
    assert tags["tag"].tolist() == ["v0.9.0"]
    assert tags.loc[0, "sha"] == head
    assert not tags.loc[0, "has_tagger_date"]
    assert tags.loc[0, "deployed_at"] == committed


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
    import pkgutil

    attempted = 0
    for info in pkgutil.iter_modules(gitmetrics.__path__):
        module = importlib.import_module(f"labkit.gitmetrics.{info.name}")
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, info.name
        attempted += result.attempted
    assert attempted > 0


# ---------------------------------------------------------------------------------------------------------
# deployments, failures, DORA
# ---------------------------------------------------------------------------------------------------------
def test_tag_placed_on_a_revert_commit_marks_the_previous_deployment_failed() -> None:
    steps = [
        C("feat: a"), Tag("v1.0.0", after="10m"),
        C("feat: risky", after="1h"), Tag("v1.1.0", after="10m"),
        Revert(after="25m"), Tag("v1.1.1", after="5m"),  # the tag sits on the revert commit itself
    ]
    with git.scratch_repo(steps) as repo:
        d = gitmetrics.deployments(repo.path)
        revert_sha = repo.head
    assert list(d.columns) == list(gitmetrics.DEPLOYMENT_COLUMNS)
    assert d.loc[2, "sha"] == revert_sha
    assert d["tag"].tolist() == ["v1.0.0", "v1.1.0", "v1.1.1"]
    assert d["remediation"].tolist() == [False, False, True]
    assert d["failed"].tolist() == [False, True, False]
    assert d["changes"].tolist() == [2, 1, 1]
    assert d.loc[1, "remediated_by"] == "v1.1.1"
    assert d.loc[1, "recovery_time"] == 30 * MIN
    assert d.loc[1, "recovered_at"] == d.loc[2, "deployed_at"]
    assert pd.isna(d.loc[0, "remediated_by"]) and pd.isna(d.loc[0, "recovery_time"])
    assert gitmetrics.change_fail_rate(d) == pytest.approx(1 / 3)
    assert gitmetrics.deployment_rework_rate(d) == pytest.approx(1 / 3)


@pytest.mark.parametrize("fix", [
    C("fix: hotfix for the login page"),
    C("Fix login (HOTFIX)"),
    Commit("fix: undo the cache\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.",
           files={"cache.txt": "off\n"}),
])
def test_hotfix_subjects_and_revert_bodies_remediate(fix: Commit) -> None:
    steps = [C("feat: a"), Tag("v1.0.0"), fix, Tag("v1.0.1", after="2h")]
    with git.scratch_repo(steps) as repo:
        d = gitmetrics.deployments(repo.path)
    assert d["remediation"].tolist() == [False, True]
    assert d["failed"].tolist() == [True, False]
    assert d.loc[0, "recovery_time"] == fix_after(fix) + 2 * H


def fix_after(step: Commit) -> pd.Timedelta:
    return pd.Timedelta(git.parse_duration(step.after))


def test_ordinary_fixes_and_features_do_not_remediate() -> None:
    steps = [C("feat: a"), Tag("v1.0.0"), C("fix: typo in hot path"), C("feat: revert button"), Tag("v1.1.0")]
    with git.scratch_repo(steps) as repo:
        d = gitmetrics.deployments(repo.path)
    assert not d["remediation"].any() and not d["failed"].any()
    assert gitmetrics.change_fail_rate(d) == 0.0


def test_hotfix_branch_merge_remediates_but_its_merge_back_into_develop_does_not() -> None:
    steps = [
        C("feat: base"), Branch("develop"), C("feat: on develop"), Switch("main"),
        Merge("develop", delete=False), Tag("v1.0.0"),
        Branch("hotfix/null-check"), C("fix: null check"),  # no 'hotfix' word in the commit itself
        Merge("hotfix/null-check", delete=False), Tag("v1.0.1", after="15m"),
        Switch("develop"), Merge("hotfix/null-check", into="develop"), C("feat: more"),
        Switch("main"), Merge("develop", delete=False), Tag("v1.1.0"),
    ]
    with git.scratch_repo(steps) as repo:
        d = gitmetrics.deployments(repo.path)
        log = gitmetrics.commits(repo.path)
    assert d["tag"].tolist() == ["v1.0.0", "v1.0.1", "v1.1.0"]
    assert d["remediation"].tolist() == [False, True, False]
    assert d["failed"].tolist() == [True, False, False]
    assert (log["subject"] == "Merge branch 'hotfix/null-check'").sum() == 2  # into main, then into develop


@pytest.mark.parametrize("style,seed", [("trunk", 3), ("trunk", 6), ("gitflow", 2)])
def test_failures_found_in_generated_histories_are_the_ones_the_generator_made(style: str, seed: int) -> None:
    # team_history follows every failed minor release with a remediating patch release (vX.Y.1)
    days = 12 if style == "trunk" else 40
    with git.scratch_repo(git.team_history(days=days, seed=seed, style=style, failure_rate=0.4)) as repo:
        d = gitmetrics.deployments(repo.path)
        report = gitmetrics.dora(repo.path)
    patch = d["tag"].str.rsplit(".", n=1).str[1] != "0"
    assert patch.any(), "the generator should have made at least one failure"
    assert d["remediation"].tolist() == patch.tolist()
    assert d["failed"].tolist() == patch.shift(-1, fill_value=False).tolist()
    assert report.change_fail_rate == pytest.approx(patch.sum() / len(d))
    assert report.deployment_rework_rate == pytest.approx(patch.sum() / len(d))
    assert report.deployments == len(d)


def test_deployment_frequency_is_zero_filled_and_counts_utc_days() -> None:
    # carol (UTC+8) tags at 23:30 UTC: 07:30 next day in Singapore, but the deployment counts on the UTC day
    start = pd.Timestamp("2026-01-05 22:00", tz="UTC").to_pydatetime()
    with git.scratch_repo([C("feat: a")], start=start) as repo:
        repo.tag("v1.0.0", tagger="carol", after="30m")
        repo.commit("feat: b", files={"b.txt": "b\n"}, after="3d")
        repo.tag("v1.1.0", tagger="bob", after="1h")
        tags = gitmetrics.release_tags(repo.path)
        from_path = gitmetrics.deployment_frequency(repo.path, "D")
    assert tags.loc[0, "deployed_at"] == pd.Timestamp("2026-01-05 23:30", tz="UTC")
    per_day = gitmetrics.deployment_frequency(tags, "D")
    assert str(per_day.dtype) == "int64" and per_day.name == "deployments"
    assert [str(p) for p in per_day.index] == ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08",
                                                 "2026-01-09"]
    assert per_day.tolist() == [1, 0, 0, 0, 1]
    pd.testing.assert_series_equal(from_path, per_day)
    weekly = gitmetrics.deployment_frequency(tags["deployed_at"].tolist())
    assert weekly.tolist() == [2] and weekly.index.freqstr.startswith("W")


def test_deployment_frequency_inputs_and_errors() -> None:
    empty = gitmetrics.deployment_frequency([])
    assert len(empty) == 0 and str(empty.dtype) == "int64"
    with pytest.raises(ValueError, match="deployed_at"):
        gitmetrics.deployment_frequency(pd.DataFrame({"when": []}))
    with pytest.raises(ValueError, match="period alias"):
        gitmetrics.deployment_frequency(["2026-01-05"], period="fortnight")


def test_failed_deployment_recovery_time_rows_and_median() -> None:
    steps = [
        C("feat: a"), Tag("v1.0.0"), Revert(after="1h"), Tag("v1.0.1", after="1h"),
        C("feat: b", after="5h"), Tag("v1.1.0"), C("fix: hotfix b", after="3h"), Tag("v1.1.1", after="1h"),
    ]
    with git.scratch_repo(steps) as repo:
        rec = gitmetrics.failed_deployment_recovery_time(repo.path)
        report = gitmetrics.dora(repo.path)
    assert rec.columns.tolist() == ["tag", "deployed_at", "remediated_by", "recovered_at", "recovery_time"]
    assert rec["tag"].tolist() == ["v1.0.0", "v1.1.0"]
    assert rec["remediated_by"].tolist() == ["v1.0.1", "v1.1.1"]
    assert rec["recovery_time"].tolist() == [2 * H, 4 * H]
    assert report.failed_deployment_recovery_time == 3 * H
    assert report.tiers["failed_deployment_recovery_time"] == "high"


def test_dora_report_values_tiers_window_and_frame() -> None:
    steps = [C("feat: a", after="2h"), Tag("v1.0.0", after="1h"), Wait("1d"),
             C("feat: b", after="1h"), Tag("v1.1.0", after="1h"),
             Revert(after="1h"), Tag("v1.1.1", after="1h")]
    with git.scratch_repo(steps) as repo:
        report = gitmetrics.dora(repo.path)
        d = gitmetrics.deployments(repo.path)
        later = gitmetrics.dora(repo.path, since=d.loc[1, "deployed_at"])
        earlier = gitmetrics.dora(repo.path, until=d.loc[1, "deployed_at"])
        naive = gitmetrics.dora(repo.path, since=str(d.loc[1, "deployed_at"].tz_localize(None)))
        with pytest.raises(ValueError, match="not a date"):
            gitmetrics.dora(repo.path, since="last tuesday-ish")
    assert report.deployments == 3
    assert report.change_fail_rate == pytest.approx(1 / 3)
    assert report.deployment_rework_rate == pytest.approx(1 / 3)
    span = (d["deployed_at"].iloc[-1] - d["deployed_at"].iloc[0]) / pd.Timedelta(days=1)
    assert report.deployment_frequency == pytest.approx(3 / max(span, 1.0))
    assert report.change_lead_time == 1 * H  # lead times 1h (revert), 1h (b), 1h (a), 3h (initial commit)
    assert report.failed_deployment_recovery_time == 2 * H
    assert report.tiers == {"deployment_frequency": "elite", "change_lead_time": "elite",
                            "change_fail_rate": "low", "failed_deployment_recovery_time": "high"}
    assert report.overall == "low"
    assert later.deployments == 2 and earlier.deployments == 1 and naive.deployments == 2
    assert later.since == d.loc[1, "deployed_at"] and later.until is None
    frame = report.as_frame()
    assert frame.index.tolist() == ["deployment_frequency", "change_lead_time", "change_fail_rate",
                                    "failed_deployment_recovery_time", "deployment_rework_rate", "overall"]
    assert frame.loc["change_fail_rate", "shown"] == "33%"
    assert frame.loc["overall", "tier"] == "low"
    with pytest.raises(AttributeError):
        report.deployments = 5  # type: ignore[misc]


@pytest.mark.parametrize("initial_commit", [True, False])
def test_dora_without_tags_or_without_history(initial_commit: bool) -> None:
    with git.scratch_repo(initial_commit=initial_commit) as repo:
        report = gitmetrics.dora(repo.path)
        d = gitmetrics.deployments(repo.path)
        freq = gitmetrics.deployment_frequency(repo.path)
    assert len(d) == 0 and list(d.columns) == list(gitmetrics.DEPLOYMENT_COLUMNS)
    assert len(freq) == 0
    assert report.deployments == 0 and report.deployment_frequency == 0.0
    assert np.isnan(report.change_fail_rate) and np.isnan(report.deployment_rework_rate)
    assert pd.isna(report.change_lead_time) and pd.isna(report.failed_deployment_recovery_time)
    assert report.tiers == {"deployment_frequency": "low", "change_lead_time": None, "change_fail_rate": None,
                            "failed_deployment_recovery_time": None}
    assert report.overall == "low"
    assert report.as_frame().loc["change_lead_time", "shown"] == "n/a"
    assert np.isnan(gitmetrics.change_fail_rate(d))


def test_metric_functions_accept_a_repo_or_the_deployments_frame() -> None:
    steps = [C("feat: a"), Tag("v1.0.0"), Revert(), Tag("v1.0.1")]
    with git.scratch_repo(steps) as repo:
        d = gitmetrics.deployments(repo.path)
        assert gitmetrics.change_fail_rate(repo.path) == gitmetrics.change_fail_rate(d) == 0.5
        assert gitmetrics.deployment_rework_rate(repo.path) == gitmetrics.deployment_rework_rate(d) == 0.5
        pd.testing.assert_frame_equal(gitmetrics.failed_deployment_recovery_time(repo.path),
                                      gitmetrics.failed_deployment_recovery_time(d))
    with pytest.raises(ValueError, match="deployments\\(repo\\)"):
        gitmetrics.change_fail_rate(pd.DataFrame({"tag": ["v1"]}))


@pytest.mark.parametrize("metric,value,expected", [
    ("deployment_frequency", 3.0, "elite"), ("deployment_frequency", 1.0, "elite"),
    ("deployment_frequency", 0.5, "high"), ("deployment_frequency", 1 / 7, "high"),
    ("deployment_frequency", 0.1, "medium"), ("deployment_frequency", 1 / 30, "medium"),
    ("deployment_frequency", 0.01, "low"), ("deployment_frequency", 0, "low"),
    ("change_lead_time", pd.Timedelta(hours=23), "elite"), ("change_lead_time", timedelta(days=1), "high"),
    ("change_lead_time", pd.Timedelta(days=7), "high"),
    ("change_lead_time", pd.Timedelta(days=8), "medium"),
    ("change_lead_time", pd.Timedelta(days=30), "medium"),
    ("change_lead_time", pd.Timedelta(days=31), "low"),
    ("change_fail_rate", 0.0, "elite"), ("change_fail_rate", 0.05, "elite"),
    ("change_fail_rate", 0.08, "high"),
    ("change_fail_rate", 0.15, "medium"), ("change_fail_rate", 0.16, "low"), ("change_fail_rate", 1, "low"),
    ("failed_deployment_recovery_time", pd.Timedelta(minutes=59), "elite"),
    ("failed_deployment_recovery_time", pd.Timedelta(hours=1), "high"),
    ("failed_deployment_recovery_time", np.timedelta64(2, "D"), "medium"),
    ("failed_deployment_recovery_time", pd.Timedelta(days=7), "medium"),
    ("failed_deployment_recovery_time", pd.Timedelta(days=8), "low"),
])
def test_tier_bounds(metric: str, value: object, expected: str) -> None:
    got = gitmetrics.tier(metric, value)
    assert got == expected and type(got) is str


def test_tier_rejects_unknown_metrics_wrong_units_and_missing_values() -> None:
    with pytest.raises(ValueError, match="unknown metric.*change_lead_time"):
        gitmetrics.tier("mttr", 1.0)
    with pytest.raises(ValueError, match="no performance tiers"):
        gitmetrics.tier("deployment_rework_rate", 0.1)
    with pytest.raises(TypeError, match="timedelta"):
        gitmetrics.tier("change_lead_time", 3600)
    with pytest.raises(ValueError, match="fraction"):
        gitmetrics.tier("change_fail_rate", 12)
    with pytest.raises(TypeError, match="deployments per day"):
        gitmetrics.tier("deployment_frequency", "daily")
    with pytest.raises(ValueError, match="no value"):
        gitmetrics.tier("change_fail_rate", float("nan"))
    with pytest.raises(ValueError, match="no value"):
        gitmetrics.tier("failed_deployment_recovery_time", pd.NaT)
    with pytest.raises(ValueError, match="negative"):
        gitmetrics.tier("change_lead_time", pd.Timedelta(hours=-1))


# ---------------------------------------------------------------------------------------------------------
# internals that carry the speed: the NumPy rev-list parser must agree with the plain one
# ---------------------------------------------------------------------------------------------------------
def test_rev_list_parsers_agree_and_handle_octopus_merges() -> None:
    steps = [Branch("a"), C("feat: a"), Switch("main"), Branch("b"), C("feat: b"), Switch("main"),
             Branch("c"), C("feat: c"), Switch("main"), C("feat: main")]
    with git.scratch_repo(steps) as repo:
        repo.clock.advance("1h")
        repo.git("merge", "-q", "--no-ff", "-m", "Merge branches a, b and c", "a", "b", "c", who="dave")
        repo.tag("v1.0.0")
        out = repo.git("rev-list", "--timestamp", "--parents", "HEAD").encode()
        lead = gitmetrics.lead_times(repo.path)
        log = gitmetrics.commits(repo.path)
    fast = gitmetrics.graph._rev_list_numpy(out)
    slow = gitmetrics.graph._rev_list_python(out)
    assert fast.shas.tolist() == slow.shas.tolist() and len(fast.shas) == 6
    assert fast.committed.tolist() == slow.committed.tolist()
    assert [p.tolist() for p in fast.parents] == [p.tolist() for p in slow.parents]
    assert len(fast.parents) == 4  # the octopus merge has four parents
    assert (lead["tag"] == "v1.0.0").all() and set(lead["sha"]) == set(log["sha"])
    assert log["is_merge"].iloc[0] and len(log["parents"].iloc[0]) == 4
    assert fast.rows([log["sha"].iloc[0], "0" * 40]).tolist() == [0, -1]


def test_rev_list_numpy_parser_falls_back_on_unexpected_layouts() -> None:
    old = b"999999999 " + b"a" * 40 + b"\n" + b"1000000000 " + b"b" * 40 + b" " + b"a" * 40 + b"\n"
    fast = gitmetrics.graph._rev_list_numpy(old)  # 9- and 10-digit timestamps (before and after September 2001)
    assert fast.committed.tolist() == [999999999, 1000000000] and fast.parents[0].tolist() == [-1, 0]
    with pytest.raises(ValueError):
        gitmetrics.graph._rev_list_numpy(b"12 short-name\n")
    graph = gitmetrics.graph._consume_rev_list(_Stream(b"12 short-name\n"))
    assert graph.shas.tolist() == [b"short-name"] and graph.committed.tolist() == [12]


class _Stream:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self) -> bytes:
        return self.data


# ---------------------------------------------------------------------------------------------------------
# the benchmark's generated repository (no timings here: benchmarks/ measures them)
# ---------------------------------------------------------------------------------------------------------
def test_benchmark_repository_generator_and_gitpython_agree_with_commits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))
    from benchmarks import bench_gitmetrics as bench

    spec = bench.RepoSpec(commits=400, tags=8, files=50, seed=5)
    repo = bench.build_repo(spec, tmp_path, quiet=True)
    assert bench.build_repo(spec, tmp_path, quiet=True) == repo  # cached
    assert (repo / "objects" / "info" / "commit-graph").exists()
    log = gitmetrics.commits(repo, stats=True)
    tags = gitmetrics.release_tags(repo)
    lead = gitmetrics.lead_times(repo)
    assert len(log) == 400 and len(tags) == 8
    assert log["is_merge"].sum() > 20 and log["author_tz"].nunique() == 5
    assert (log.loc[~log["is_merge"], "files"] >= 1).all() and log["insertions"].sum() > 400
    assert tags["has_tagger_date"].all() and tags["on_head"].all()
    assert lead["tag"].notna().sum() == (lead["committed_at"] <= tags["deployed_at"].max()).sum()
    theirs = bench.gitpython_frame(repo)
    pd.testing.assert_frame_equal(theirs, log[list(gitmetrics.COMMIT_COLUMNS)], check_dtype=False)
    bench.raw_git_log(repo)
    bench.raw_git_log(repo, stats=True)


@pytest.mark.parametrize("call,expected", [
    (lambda p: gitmetrics.commits(p), 1),
    (lambda p: gitmetrics.commits(p, stats=True), 1),
    (lambda p: gitmetrics.release_tags(p), 2),
    (lambda p: gitmetrics.lead_times(p), 2),
    (lambda p: gitmetrics.deployments(p), 3),
    (lambda p: gitmetrics.dora(p), 3),
])
def test_git_runs_a_fixed_number_of_times_whatever_the_number_of_tags(
        call: object, expected: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    steps: list[git.Step] = []
    for i in range(12):
        steps += [C(f"feat: change {i}"), Tag(f"v1.{i}.0")]
    with git.scratch_repo(steps) as repo:
        calls: list[list[str]] = []
        real = subprocess.Popen

        class Counting(real):  # type: ignore[misc,valid-type]
            def __init__(self, args: list[str], *a: object, **k: object) -> None:
                calls.append(list(args))
                super().__init__(args, *a, **k)

        monkeypatch.setattr(subprocess, "Popen", Counting)
        result = call(repo.path)  # type: ignore[operator]
        monkeypatch.undo()
    assert result is not None
    skip = 4 + 2 * len(gitmetrics.gitio.PINNED_CONFIG)  # git --no-pager -C <path> -c k=v ...
    assert len(calls) == expected, [c[skip:skip + 2] for c in calls]
