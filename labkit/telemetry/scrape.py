"""Reading a scrape of /metrics with prometheus_client's own parser: families, samples, histogram buckets."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

from .service import DURATION_METRIC

# ---------------------------------------------------------------------------------------- parsing the scrape


def parse(text: str) -> list[Metric]:
    """The metric families in an exposition text, parsed by prometheus_client's own parser."""
    from prometheus_client.parser import text_string_to_metric_families

    return list(text_string_to_metric_families(text))


def histogram_buckets(text: str, metric: str = DURATION_METRIC, **labels: str) -> list[tuple[float, float]]:
    """Cumulative ``(le, count)`` pairs of a histogram, summed over the series matching ``labels``.

    This is ``sum by (le) (metric_bucket{labels})`` in PromQL: adding cumulative buckets of several series
    gives the cumulative buckets of their union. Sorted by ``le``; the last pair is ``(inf, total)``.
    """
    totals: dict[float, float] = {}
    for family in parse(text):
        if family.name != metric:
            continue
        for s in family.samples:
            if s.name == metric + "_bucket" and all(s.labels.get(k) == v for k, v in labels.items()):
                le = float(s.labels["le"])
                totals[le] = totals.get(le, 0.0) + float(s.value)
    return sorted(totals.items())
