"""``gitops_lab()``: real git repositories (origin, a teammate, the agent's clone) around a simulated cluster."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit import git as labgit

from .cluster import Cluster
from .manifests import MANIFESTS, application


@dataclass
class GitOpsLab:
    """Everything week 15 works on; open it with :func:`gitops_lab`.

    * ``repo`` — your clone of the config repository (you commit, revert and push here);
    * ``agent`` — the clone the GitOps agent (Argo CD) reads; it never commits;
    * ``teammate`` — Bob, who pushes manifests to ``origin/main`` (``lab.teammate.push_commit(...)``);
    * ``cluster`` — the live objects; ``app`` — the Argo CD Application watching ``origin``.
    """

    repo: labgit.ScratchRepo
    agent: labgit.ScratchRepo
    teammate: labgit.Teammate
    cluster: Cluster
    app: dict[str, Any]
    origin: Path

    def origin_head(self) -> str:
        """The sha ``origin/main`` points at now (read straight from the bare repository)."""
        return self.repo.git("ls-remote", str(self.origin), "refs/heads/main").split()[0]


@contextmanager
def gitops_lab(
    manifests: Mapping[str, str] | None = None,
    *,
    prune: bool = True,
    self_heal: bool = True,
    automated: bool = True,
    target_revision: str = "HEAD",
    namespace: str = "production",
    ignore_differences: Sequence[Mapping[str, Any]] = (),
) -> Iterator[GitOpsLab]:
    """A config repository with ``manifests`` (default :data:`MANIFESTS`) committed and pushed to ``origin``.

    The cluster starts empty: nothing is deployed until somebody reconciles. The Application's ``repoURL`` is
    the bare ``origin``'s path, ``path`` is ``k8s`` and the policy follows the keyword arguments. All of it is
    removed when the block ends.
    """
    files = dict(MANIFESTS if manifests is None else manifests)
    with labgit.scratch_repo() as repo:
        repo.commit("feat: backend 1.0.0 in production", files=files, author="alice", after="10m")
        root = repo.path.parent
        origin = root / "origin.git"
        repo.git("init", "-q", "--bare", "-b", "main", str(origin))
        repo.git("remote", "add", "origin", str(origin))
        repo.git("push", "-q", "-u", "origin", "main")
        agent_path = root / "argocd"
        repo.git("clone", "-q", str(origin), str(agent_path))
        agent = labgit.ScratchRepo(agent_path, repo.home, repo.clock, repo.team)
        # Bob's clone, configured like every labkit repository, in one git call (``clone -c`` writes the
        # settings into the new repository); ScratchRepo.teammate then finds it and reuses it.
        settings = [f"--config={k}={v}" for k, v in labgit.LOCAL_CONFIG.items()]
        repo.git("clone", "-q", *settings, str(origin), str(root / "teammate-bob"))
        lab = GitOpsLab(
            repo=repo,
            agent=agent,
            teammate=repo.teammate("bob"),
            cluster=Cluster(),
            app=application(
                str(origin),
                target_revision=target_revision,
                namespace=namespace,
                prune=prune,
                self_heal=self_heal,
                automated=automated,
                ignore_differences=ignore_differences,
            ),
            origin=origin,
        )
        yield lab


# -- Terraform (HCL2) ---------------------------------------------------------------------------------------
#: A small Terraform tree in the syllabus' spirit (an EKS cluster) with the classic IaC mistakes in it.
