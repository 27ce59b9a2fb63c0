"""Helpers for feature-flag exercises: how many users *should* a percentage rollout reach?

A rollout that sends each user to a bucket from 0 to 99 with a good hash behaves, across many users, like a
coin that lands "on" with probability ``percent / 100``. The number of users it reaches is then binomially
distributed, so a check of the share must allow for chance — but not for much more::

    from labkit import flags
    low, high = flags.binomial_interval(10_000, 0.20)  # 99.9 % of fair rollouts reach low..high users
    flags.check_share(enabled_count, 10_000, 0.20)     # raises ShareOutOfRange with an explanation otherwise

Nothing here touches the network, files or global state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["ShareOutOfRange", "ShareCheck", "binomial_interval", "check_share"]


class ShareOutOfRange(AssertionError):
    """The observed number of enabled users is too far from ``n * p`` to be chance."""


@dataclass(frozen=True)
class ShareCheck:
    """The outcome of :func:`check_share`: the count seen, the interval allowed and the shares."""

    count: int
    n: int
    p: float
    low: int
    high: int
    confidence: float

    @property
    def share(self) -> float:
        return self.count / self.n

    @property
    def ok(self) -> bool:
        return self.low <= self.count <= self.high


def _validate(n: int, p: float, confidence: float) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int (the number of users), found {n!r}")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"p must be a probability between 0 and 1 (20 % is 0.2), found {p!r}")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1 (e.g. 0.999), found {confidence!r}")


def binomial_interval(n: int, p: float, confidence: float = 0.999) -> tuple[int, int]:
    """The central ``confidence`` interval ``(low, high)`` of a Binomial(n, p) count, computed exactly.

    ``low`` is the largest k with P(X < k) <= alpha/2 and ``high`` the smallest k with P(X > k) <= alpha/2,
    where alpha = 1 - confidence; so a fair rollout falls outside with probability at most alpha.
    """
    _validate(n, p, confidence)
    p = float(p)
    if p == 0.0:
        return (0, 0)
    if p == 1.0:
        return (n, n)
    alpha = 1.0 - confidence
    log_p, log_q = math.log(p), math.log1p(-p)
    lg_n1 = math.lgamma(n + 1)
    pmf = [
        math.exp(lg_n1 - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p + (n - k) * log_q)
        for k in range(n + 1)
    ]
    low, below = 0, 0.0
    while low < n and below + pmf[low] <= alpha / 2:
        below += pmf[low]
        low += 1
    high, above = n, 0.0
    while high > 0 and above + pmf[high] <= alpha / 2:
        above += pmf[high]
        high -= 1
    return (low, high)


def check_share(count: int, n: int, p: float, confidence: float = 0.999, what: str = "the rollout") -> ShareCheck:
    """Check that ``count`` enabled users of ``n`` is a plausible outcome of enabling each one with ``p``."""
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= max(n, 0):
        raise ValueError(f"count must be an int between 0 and n={n!r}, found {count!r}")
    low, high = binomial_interval(n, p, confidence)
    result = ShareCheck(count=count, n=n, p=float(p), low=low, high=high, confidence=confidence)
    if not result.ok:
        raise ShareOutOfRange(
            f"{what}: expected between {low} and {high} of {n} users enabled at {p:.1%} "
            f"({confidence:.1%} of fair rollouts land there), but found {count} ({result.share:.2%}). "
            "Hint: check that the bucket is a number from 0 to 99 spread evenly over users "
            "(take the hash digest as an integer, then % 100) and that you compare bucket < percent."
        )
    return result
