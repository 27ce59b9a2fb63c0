"""The sample promotion record and lead time per stage."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

from .environments import record_frame

# ------------------------------------------------------------------------------------------ sample record

#: (version, build min, to-dev min, staging wait h, staging deploy min, prod wait h, prod deploy min);
#: None = that step never happened (rejected, or still waiting).
_RELEASES: list[tuple[str, float, float, float | None, float | None, float | None, float | None]] = [
    ("1.2.0", 9, 3, 2.5, 4, 22.0, 5),
    ("1.2.1", 8, 3, 0.75, 4, 1.5, 6),
    ("1.3.0", 11, 4, 18.0, 5, 70.0, 5),
    ("1.3.1", 10, 3, 5.0, 4, 46.0, 6),
    ("1.4.0", 12, 3, 1.0, 4, 26.0, 5),
    ("1.4.1", 9, 4, None, None, None, None),  # staging approval refused: a bug found in dev
    ("1.5.0", 10, 3, 3.0, 5, None, None),  # in staging, waiting for the weekly change board
]


def sample_record() -> pd.DataFrame:
    """A promotion record of seven releases of the orders service over two weeks (deterministic).

    Columns: ``release`` (version), ``sha256``, ``event`` (``commit``, ``build``, ``approve``, ``deploy``),
    ``env`` (None for commit and build), ``by`` (the approver, else None), ``at`` (UTC Timestamps). Rows are in
    the order a log would print them: by time, several releases interleaved.
    """
    rows: list[dict[str, Any]] = []
    start = datetime(2026, 2, 2, 9, 30, tzinfo=UTC)
    approvers = ["dana", "omar", "li"]
    for i, (version, build, dev, wait_s, dep_s, wait_p, dep_p) in enumerate(_RELEASES):
        digest = hashlib.sha256(f"orders {version}".encode()).hexdigest()
        t = start + timedelta(days=2 * i, hours=i % 3)

        def add(
            event: str,
            at: datetime,
            env: str | None = None,
            by: str | None = None,
            *,
            v: str = version,
            sha: str = digest,
        ) -> None:
            rows.append({"release": v, "sha256": sha, "event": event, "env": env, "by": by, "at": at})

        add("commit", t)
        t += timedelta(minutes=build)
        add("build", t)
        t += timedelta(minutes=dev)
        add("deploy", t, "dev")
        for env, wait, deploy_min in (("staging", wait_s, dep_s), ("prod", wait_p, dep_p)):
            if wait is None or deploy_min is None:
                break
            t += timedelta(hours=wait)
            add("approve", t, env, approvers[(i + len(env)) % len(approvers)])
            t += timedelta(minutes=deploy_min)
            add("deploy", t, env)
    rows.sort(key=lambda r: r["at"])
    return record_frame(rows)
