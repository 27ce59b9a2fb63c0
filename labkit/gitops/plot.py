"""A timeline of commits, hand edits and reconciles with the objects in sync after each step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_ACTOR_COLORS = {"git": "tab:blue", "kubectl": "tab:red", "hpa": "tab:orange", "reconcile": "tab:green"}


def plot_timeline(
    steps: Sequence[Mapping[str, Any]],
    ax: Any = None,
    title: str = "GitOps: every change goes through git, every drift is healed",
) -> Any:
    """Draw a GitOps timeline: one column per step, bars of objects in sync / out of sync after it.

    Each step is a mapping with ``label`` (str), ``actor`` (``"git"``, ``"kubectl"``, ``"hpa"`` or
    ``"reconcile"``), ``in_sync`` (int) and ``out_of_sync`` (int). Returns the matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt

    if not steps:
        raise ValueError("steps is empty: record at least one step (label, actor, in_sync, out_of_sync)")
    for i, step in enumerate(steps):
        missing = [k for k in ("label", "actor", "in_sync", "out_of_sync") if k not in step]
        if missing:
            raise ValueError(f"step {i} misses {missing}: each step needs label, actor, in_sync and out_of_sync")
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 4))
    xs = list(range(len(steps)))
    ins = [int(s["in_sync"]) for s in steps]
    outs = [int(s["out_of_sync"]) for s in steps]
    ax.bar(xs, ins, color="tab:green", alpha=0.6, label="objects in sync")
    ax.bar(xs, outs, bottom=ins, color="tab:red", alpha=0.6, label="objects drifted / out of sync")
    top = max(i + o for i, o in zip(ins, outs, strict=True)) + 1
    for x, step in zip(xs, steps, strict=True):
        color = _ACTOR_COLORS.get(str(step["actor"]), "grey")
        ax.scatter([x], [top], marker="v" if step["actor"] == "reconcile" else "o", color=color, s=60, zorder=3)
    for actor, color in _ACTOR_COLORS.items():
        if any(s["actor"] == actor for s in steps):
            ax.scatter(
                [],
                [],
                color=color,
                marker="v" if actor == "reconcile" else "o",
                label={
                    "git": "commit pushed",
                    "kubectl": "hand edit (drift)",
                    "hpa": "controller change",
                    "reconcile": "reconcile",
                }[actor],
            )
    ax.set_xticks(xs)
    ax.set_xticklabels([str(s["label"]) for s in steps], rotation=35, ha="right", fontsize="small")
    ax.set_ylim(0, top + 1)
    ax.set_ylabel("objects")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    ax.figure.tight_layout()
    return ax
