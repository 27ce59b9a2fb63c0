"""PromQL's math: rate() with counter resets and extrapolation, histogram_quantile() with bucket interpolation."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

from .service import Sample

# -------------------------------------------------------------------------------------------- PromQL's math


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float:
    """PromQL's ``histogram_quantile(q, ...)`` over classic cumulative buckets ``(le, count)``.

    The rules of ``bucketQuantile`` in Prometheus' ``promql/quantile.go`` (documented in "Query functions"):
    q < 0 → -Inf, q > 1 → +Inf, NaN q → NaN; buckets are sorted by ``le``; the highest must be +Inf (else
    NaN); fewer than 2 buckets or 0 observations → NaN; rank = q × total; the first bucket whose cumulative
    count ≥ rank holds the quantile; in the +Inf bucket → the upper bound of the second-highest bucket; in the
    lowest bucket the lower bound is 0 (if its upper bound is > 0, else that bound is returned); otherwise
    linear interpolation inside the bucket. Equal bounds are merged and decreasing counts raised to keep the
    counts monotonic, as Prometheus does.
    """
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    merged: dict[float, float] = {}
    for le, count in buckets:
        merged[float(le)] = merged.get(float(le), 0.0) + float(count)
    pairs = sorted(merged.items())
    if not pairs or not math.isinf(pairs[-1][0]) or len(pairs) < 2:
        return math.nan
    highest = -math.inf
    bounds: list[float] = []
    counts: list[float] = []
    for le, count in pairs:
        highest = max(highest, count)
        bounds.append(le)
        counts.append(highest)
    total = counts[-1]
    if total == 0:
        return math.nan
    rank = q * total
    b = next((i for i in range(len(counts) - 1) if counts[i] >= rank), len(counts) - 1)
    if b == len(counts) - 1:
        return bounds[-2]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    start, end, count = 0.0, bounds[b], counts[b]
    if b > 0:
        start = bounds[b - 1]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    return start + (end - start) * (rank / count)


def _as_samples(samples: Iterable[Sample | tuple[float, float]]) -> list[Sample]:
    out = [s if isinstance(s, Sample) else Sample(float(s[0]), float(s[1])) for s in samples]
    return sorted(out, key=lambda s: s.t)


def rate(samples: Iterable[Sample | tuple[float, float]], start: float, end: float) -> float:
    """PromQL's ``rate(counter[end - start])`` evaluated at ``end``: per-second increase with extrapolation.

    Follows ``extrapolatedRate`` in Prometheus' ``promql/functions.go`` (3.x): only samples with
    ``start < t <= end`` count (the range is left-open); fewer than 2 → NaN (Prometheus returns no result);
    increase = last − first, plus the value before every drop (a counter reset); then the increase is
    extrapolated to the range's edges — all the way when the first/last sample is within 1.1 × the average
    sample spacing of the edge, else by half a spacing — but never back past the point where the counter
    would have been 0; the result is divided by the range (``end - start``) seconds.
    """
    if not end > start:
        raise ValueError(f"the range must have end > start; got start={start!r}, end={end!r}.")
    points = [s for s in _as_samples(samples) if start < s.t <= end]
    if len(points) < 2:
        return math.nan
    increase = points[-1].value - points[0].value
    for prev, cur in zip(points, points[1:], strict=False):
        if cur.value < prev.value:
            increase += prev.value
    sampled = points[-1].t - points[0].t
    if sampled <= 0:
        return math.nan
    average = sampled / (len(points) - 1)
    threshold = average * 1.1
    to_start = points[0].t - start
    to_end = end - points[-1].t
    if to_start >= threshold:
        to_start = average / 2
    if increase > 0 and points[0].value >= 0:
        to_zero = sampled * (points[0].value / increase)
        to_start = min(to_start, to_zero)
    if to_end >= threshold:
        to_end = average / 2
    return increase * ((sampled + to_start + to_end) / sampled) / (end - start)


def nearest_rank(values: Sequence[float], q: float) -> float:
    """The exact q-quantile (0 < q <= 1) of raw values by the nearest-rank method; NaN for no values."""
    if not 0 < q <= 1:
        raise ValueError(f"q must be in (0, 1]; got {q!r}.")
    data = sorted(float(v) for v in values)
    if not data:
        return math.nan
    return data[max(1, math.ceil(q * len(data))) - 1]
