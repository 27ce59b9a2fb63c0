"""Benchmark labkit.gitmetrics on a generated 50,000-commit repository against git itself and GitPython.

Run (takes a few minutes the first time, when the repository is generated and cached)::

    python -m benchmarks.bench_gitmetrics                  # 50,000 commits, 500 release tags
    python -m benchmarks.bench_gitmetrics --commits 5000   # quicker
    python -m benchmarks.bench_gitmetrics --json out.json  # also write the numbers

What is measured, each best-of-N wall time plus the peak Python heap of one more run (tracemalloc):

* metadata: ``git log --format=<the same format>`` to /dev/null (the raw floor; run alternately with
  :func:`commits` so that load from other jobs on a shared machine hits both alike), GitPython's
  ``Repo.iter_commits`` reading the same fields into a DataFrame, and :func:`labkit.gitmetrics.commits`;
* with stats: ``git log --numstat`` (same options) to /dev/null, :func:`commits` with ``stats=True``, and
  GitPython's ``commit.stats`` on a sample of commits (one ``git diff`` per commit: timed per commit and
  extrapolated, as running it on every commit would take many minutes);
* :func:`labkit.gitmetrics.lead_times` for every release tag.

The repository is written with ``git fast-import`` (a linear trunk with merged short-lived branches, six
authors in five time zones, small edits to a pool of files, reverts and hotfixes, annotated release tags)
and cached under ``$TMPDIR/labkit-bench/``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from labkit import gitmetrics
from labkit.gitmetrics import gitio

try:
    from benchmarks.harness import (
        Measurement,
        load_average,
        machine_facts,
        markdown_table,
        measure,
        measure_interleaved,
    )
except ModuleNotFoundError:  # run as a script: python benchmarks/bench_gitmetrics.py
    from harness import (  # type: ignore[no-redef]
        Measurement,
        load_average,
        machine_facts,
        markdown_table,
        measure,
        measure_interleaved,
    )

AUTHORS = [  # name, email, minutes east of UTC
    ("Alice Ahmed", "alice@example.com", 60),
    ("Bob Brown", "bob@example.com", -300),
    ("Carol Chen", "carol@example.com", 480),
    ("Dave Dubois", "dave@example.com", 0),
    ("Erin Esposito", "erin@example.com", 330),
    ("Femi Falade", "femi@example.com", 60),
]
MODULES = ["login", "checkout", "search", "payments", "invoices", "profile", "cart", "orders", "reports"]
GENERATOR_VERSION = 2  # bump when the generated history changes, to invalidate caches


@dataclass(frozen=True)
class RepoSpec:
    commits: int = 50_000
    tags: int = 500
    files: int = 3_000
    seed: int = 2026

    @property
    def key(self) -> str:
        return f"g{GENERATOR_VERSION}-c{self.commits}-t{self.tags}-f{self.files}-s{self.seed}"


# ----------------------------------------------------------------------------------------------------------
# repository generation with git fast-import
# ----------------------------------------------------------------------------------------------------------
def _zone(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    hh, mm = divmod(abs(minutes), 60)
    return f"{sign}{hh:02d}{mm:02d}"


def _data(text: str) -> str:
    raw = text.encode()
    return f"data {len(raw)}\n{text}\n"


def fast_import_stream(spec: RepoSpec) -> Iterator[str]:  # noqa: C901 - a generator of git fast-import commands, one branch per event kind
    """The ``git fast-import`` commands for the history in ``spec`` (deterministic for a seed)."""
    rng = random.Random(spec.seed)
    files: dict[str, list[str]] = {}
    paths = [f"src/{MODULES[i % len(MODULES)]}/file_{i:05d}.py" for i in range(spec.files)]
    now = 1_735_689_600  # 2025-01-01T00:00:00Z
    mark = 0
    made = 0
    main_tip = 0
    every = max(spec.commits // max(spec.tags, 1), 2)
    next_tag_at = every
    version = [1, 0, 0]
    last_subject = "chore: initial commit"
    tags_made = 0

    def edit(path: str) -> str:
        lines = files.get(path)
        if lines is None:
            lines = [f"VALUE_{j} = {rng.randint(0, 999)}" for j in range(rng.randint(5, 25))]
        else:
            lines = list(lines)
            for _ in range(rng.randint(1, 3)):
                j = rng.randrange(len(lines))
                lines[j] = f"VALUE_{j} = {rng.randint(0, 999)}"
            if rng.random() < 0.3:
                lines.append(f"EXTRA_{len(lines)} = {rng.randint(0, 999)}")
            if rng.random() < 0.1 and len(lines) > 3:
                del lines[rng.randrange(len(lines))]
        files[path] = lines
        return "\n".join(lines) + "\n"

    def commit(ref: str, subject: str, parent: int, merge: int = 0, touched: list[str] | None = None,
               body: str = "") -> tuple[int, list[str]]:
        nonlocal mark, now, made
        mark += 1
        made += 1
        now += rng.randint(60, 3600)
        name, email, tz = AUTHORS[rng.randrange(len(AUTHORS))]
        who = f"{name} <{email}> {now} {_zone(tz)}"
        out = [f"commit {ref}\nmark :{mark}\nauthor {who}\ncommitter {who}\n",
               _data(subject + (f"\n\n{body}" if body else ""))]
        if parent:
            out.append(f"from :{parent}\n")
        if merge:
            out.append(f"merge :{merge}\n")
        written = touched if touched is not None else rng.sample(paths, rng.randint(1, 3))
        for path in written:
            out.append(f"M 100644 inline {path}\n" + _data(edit(path) if touched is None else
                                                           "\n".join(files[path]) + "\n"))
        return mark, ["".join(out), *written]

    def tag(target: int, bump: str) -> str:
        nonlocal now, tags_made
        if bump == "patch":
            version[2] += 1
        else:
            version[1], version[2] = version[1] + 1, 0
        tags_made += 1
        now += 600
        name = "v{}.{}.{}".format(*version)
        return (f"tag {name}\nfrom :{target}\ntagger CI Bot <ci-bot@example.com> {now} +0000\n"
                + _data(f"Release {name}"))

    main_tip, out = commit("refs/heads/main", "chore: initial commit", 0)
    yield out[0]
    while made < spec.commits:
        module = rng.choice(MODULES)
        kind = rng.choices(["feat", "fix", "refactor", "test", "docs"], [4, 3, 1, 1, 1])[0]
        if rng.random() < 0.35 and spec.commits - made > 4:  # a short-lived branch and its merge commit
            topic_tip, touched_all = main_tip, []
            for _ in range(rng.randint(1, 3)):
                topic_tip, out = commit("refs/heads/topic", f"{kind}({module}): change {made}", topic_tip)
                touched_all += out[1:]
                yield out[0]
            main_tip, out = commit("refs/heads/main", f"Merge branch '{module}-{made}'", main_tip, topic_tip,
                                   touched=sorted(set(touched_all)))
            yield out[0]
        else:
            main_tip, out = commit("refs/heads/main", f"{kind}({module}): change {made}", main_tip)
            last_subject = f"{kind}({module}): change {made}"
            yield out[0]
        if made >= next_tag_at and tags_made < spec.tags:
            next_tag_at += every
            yield tag(main_tip, "minor")
            if rng.random() < 0.12 and tags_made < spec.tags:  # a failed release: revert or hotfix, patch tag
                if rng.random() < 0.5:
                    main_tip, out = commit("refs/heads/main", f'Revert "{last_subject}"', main_tip,
                                           body="This reverts an earlier commit.")
                else:
                    main_tip, out = commit("refs/heads/main", f"fix: hotfix after v{version[0]}.{version[1]}",
                                           main_tip)
                yield out[0]
                yield tag(main_tip, "patch")
    yield "reset refs/heads/topic\nfrom 0000000000000000000000000000000000000000\n"


def build_repo(spec: RepoSpec, root: Path | None = None, *, quiet: bool = False) -> Path:
    """The generated bare repository for ``spec``, cached under ``root`` (default: $TMPDIR/labkit-bench)."""
    root = root or Path(tempfile.gettempdir()) / "labkit-bench"
    path = root / f"gitmetrics-{spec.key}.git"
    if (path / "DONE").exists():
        _commit_graph(path)
        return path
    if path.exists():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True, env=env)
    start = time.perf_counter()
    proc = subprocess.Popen(["git", "-C", str(path), "fast-import", "--quiet", "--done"],
                            stdin=subprocess.PIPE, env=env)
    assert proc.stdin is not None
    try:
        buf: list[str] = []
        size = 0
        for chunk in fast_import_stream(spec):
            buf.append(chunk)
            size += len(chunk)
            if size > 1 << 20:
                proc.stdin.write("".join(buf).encode())
                buf, size = [], 0
        buf.append("done\n")
        proc.stdin.write("".join(buf).encode())
        proc.stdin.close()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if proc.wait() != 0:
        raise RuntimeError(f"git fast-import failed with exit code {proc.returncode}")
    _commit_graph(path)
    (path / "DONE").write_text(spec.key + "\n")
    if not quiet:
        print(f"generated {path} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return path


def _commit_graph(path: Path) -> None:
    """Write the commit-graph file, as ``git gc`` does by default (``gc.writeCommitGraph``) in real clones."""
    if not (path / "objects" / "info" / "commit-graph").exists():
        subprocess.run(["git", "-C", str(path), "commit-graph", "write", "--reachable"], check=True,
                       capture_output=True)


# ----------------------------------------------------------------------------------------------------------
# the candidates
# ----------------------------------------------------------------------------------------------------------
def raw_git_log(repo: Path, stats: bool = False) -> None:
    """``git log`` with commits()' exact arguments, output thrown away: the floor any reader pays."""
    fmt = gitio.LOG_FORMAT
    extra: tuple[str, ...] = ()
    if stats:
        fmt = "--format=%x01" + fmt.removeprefix("--format=")
        extra = gitio.NUMSTAT_ARGS
    argv = gitio.git_argv(repo, ["log", "--no-color", "--date=format:%z", fmt, *extra, "HEAD", "--"])
    subprocess.run(argv, env=gitio.git_env(), stdout=subprocess.DEVNULL, check=True)


def gitpython_frame(repo: Path) -> pd.DataFrame:
    """The same columns as commits(), read the GitPython way (``Repo.iter_commits``)."""
    import git as gitpython

    r = gitpython.Repo(repo)
    try:
        rows = []
        for c in r.iter_commits("HEAD"):
            a, m = c.author, c.committer
            rows.append((c.hexsha, tuple(p.hexsha for p in c.parents), a.name, a.email, c.authored_date,
                         -c.author_tz_offset // 60, m.name, m.email, c.committed_date,
                         -c.committer_tz_offset // 60, c.summary, len(c.parents) > 1))
    finally:
        r.close()
    frame = pd.DataFrame(rows, columns=list(gitmetrics.COMMIT_COLUMNS))
    for col in ("author_time", "committer_time"):
        frame[col] = pd.to_datetime(frame[col], unit="s", utc=True)
    return frame


def gitpython_stats_per_commit(repo: Path, sample: int) -> tuple[float, int]:
    """Seconds per commit for GitPython's ``commit.stats`` over the newest ``sample`` non-merge commits."""
    import git as gitpython

    r = gitpython.Repo(repo)
    try:
        chosen = [c for c in r.iter_commits("HEAD", max_count=sample * 2) if len(c.parents) == 1][:sample]
        start = time.perf_counter()
        for c in chosen:
            s = c.stats.total
            assert s["files"] >= 0
        return (time.perf_counter() - start) / len(chosen), len(chosen)
    finally:
        r.close()


# ----------------------------------------------------------------------------------------------------------
# the run
# ----------------------------------------------------------------------------------------------------------
def run(spec: RepoSpec, repeat: int, sample: int, memory: bool = True) -> dict[str, Any]:
    repo = build_repo(spec)
    frame = gitmetrics.commits(repo, stats=True)
    tags = gitmetrics.release_tags(repo)
    facts = {"commits": len(frame), "merges": int(frame["is_merge"].sum()), "release_tags": len(tags),
             "authors": int(frame["author"].nunique()), "time_zones": int(frame["author_tz"].nunique()),
             "numstat_lines": int(frame["files"].sum())}
    slow = max(2, repeat // 2)
    load_before = load_average()

    floor_name, ours_name = "git log --format=… > /dev/null (floor)", "gitmetrics.commits()"
    floor, ours = measure_interleaved({floor_name: lambda: raw_git_log(repo),
                                       ours_name: lambda: gitmetrics.commits(repo)},
                                      repeat=repeat, memory=[ours_name] if memory else False)
    gp = measure("GitPython iter_commits → DataFrame", lambda: gitpython_frame(repo), repeat=slow,
                 warmup=0, memory=memory)
    stats_floor_name = "git log --numstat … > /dev/null (floor)"
    ours_stats_name = "gitmetrics.commits(stats=True)"
    stats_floor, ours_stats = measure_interleaved(
        {stats_floor_name: lambda: raw_git_log(repo, stats=True),
         ours_stats_name: lambda: gitmetrics.commits(repo, stats=True)},
        repeat=slow, warmup=0, memory=[ours_stats_name] if memory else False)
    per_commit, sampled = gitpython_stats_per_commit(repo, sample)
    gp_stats = Measurement("GitPython commit.stats (extrapolated)", per_commit * len(frame),
                           per_commit * len(frame), 1, None,
                           note=f"{per_commit * 1e3:.2f} ms/commit over {sampled} commits × {len(frame)}")
    lead = measure("gitmetrics.lead_times() (all tags)", lambda: gitmetrics.lead_times(repo), repeat=repeat,
                   memory=memory, note=f"{len(tags)} tags")
    report = measure("gitmetrics.dora()", lambda: gitmetrics.dora(repo), repeat=slow, memory=False)

    ours_rate = ours_stats.best / len(frame)
    machine = machine_facts()
    machine["load average before / after"] = f"{load_before} / {load_average()}"
    results = {
        "repo": facts,
        "machine": machine,
        "metadata": [asdict(m) for m in (floor, ours, gp)],
        "stats": [asdict(m) for m in (stats_floor, ours_stats, gp_stats)],
        "lead_times": asdict(lead),
        "dora": asdict(report),
        "ratios": {
            "commits_vs_floor": ours.ratio(floor),
            "commits_vs_floor_cpu": ours.cpu_ratio(floor),
            "gitpython_vs_commits": gp.ratio(ours),
            "gitpython_vs_commits_cpu": gp.cpu_ratio(ours),
            "stats_vs_floor": ours_stats.ratio(stats_floor),
            "stats_vs_floor_cpu": ours_stats.cpu_ratio(stats_floor),
            "gitpython_stats_vs_stats_per_commit": per_commit / ours_rate,
            "lead_times_seconds": lead.best,
            "lead_times_cpu_seconds": lead.cpu,
        },
        "tables": {
            "metadata": markdown_table([floor, ours, gp], baseline=floor),
            "stats": markdown_table([stats_floor, ours_stats, gp_stats], baseline=stats_floor),
            "lead": markdown_table([lead, report]),
        },
    }
    return results


def report_text(res: dict[str, Any]) -> str:
    r = res["ratios"]
    facts = res["repo"]
    machine = res["machine"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    lines = [
        f"Repository: {facts['commits']:,} commits ({facts['merges']:,} merges), {facts['release_tags']} "
        f"annotated release tags, {facts['authors']} authors in {facts['time_zones']} time zones, "
        f"{facts['numstat_lines']:,} numstat lines.",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()),
        "",
        "Metadata frame (one row per commit):",
        "",
        res["tables"]["metadata"],
        "",
        "With --numstat (files, insertions, deletions):",
        "",
        res["tables"]["stats"],
        "",
        "Lead times for every release tag, and the whole DORA report:",
        "",
        res["tables"]["lead"],
        "",
        f"- commits() / git log floor: {r['commits_vs_floor']:.2f}× wall, "
        f"{r['commits_vs_floor_cpu']:.2f}× CPU (target ≤ 1.5×: {verdict(r['commits_vs_floor'] <= 1.5)})",
        f"- GitPython iter_commits / commits(): {r['gitpython_vs_commits']:.1f}× slower wall, "
        f"{r['gitpython_vs_commits_cpu']:.1f}× CPU (target ≥ 5×: {verdict(r['gitpython_vs_commits'] >= 5)})",
        f"- commits(stats=True) / git log --numstat floor: {r['stats_vs_floor']:.2f}× wall, "
        f"{r['stats_vs_floor_cpu']:.2f}× CPU (target ≤ 1.2×: {verdict(r['stats_vs_floor'] <= 1.2)})",
        f"- GitPython commit.stats / commits(stats=True), per commit (sampled): "
        f"{r['gitpython_stats_vs_stats_per_commit']:.0f}× slower "
        f"(target ≥ 10×: {verdict(r['gitpython_stats_vs_stats_per_commit'] >= 10)})",
        f"- lead_times() for all tags: {r['lead_times_seconds']:.3f} s wall, "
        f"{r['lead_times_cpu_seconds']:.2f} s CPU (target < 0.5 s: {verdict(r['lead_times_seconds'] < 0.5)})",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commits", type=int, default=50_000)
    parser.add_argument("--tags", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=9,
                        help="best of N for the fast measurements (half as many for the slow ones)")
    parser.add_argument("--sample", type=int, default=1_000, help="commits for GitPython's commit.stats")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    spec = RepoSpec(commits=args.commits, tags=args.tags)
    res = run(spec, args.repeat, args.sample, memory=not args.no_memory)
    print(report_text(res))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
