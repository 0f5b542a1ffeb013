"""Estimate how far each node's clock is from a reference node's, from events that happen at once.

Method ("shared Arakoon events"): when an Arakoon master is elected, every node of the cluster
logs the same text (`<node> is master`) within milliseconds. For each node, every such anchor is
paired with the reference node's nearest anchor of the same text (within `TOLERANCE`); the
node's offset is the median of the pair differences, and how sure we are follows from how many
pairs agree and how tightly (median absolute deviation):

- high: 3 or more pairs within 1 s of the median;
- medium: 2 pairs within 1 s;
- low: a single pair, or pairs that disagree by more than 1 s;
- none: no anchor shared with the reference node (offset unknown, nothing is shifted).

The reference is the node sharing the most anchors with the others (ties: the first host name).
A positive offset means the node's clock is ahead: its logs say later than the reference's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from analyzer.isotime import iso

METHOD = "shared Arakoon events (master elections seen on several nodes)"
TOLERANCE = timedelta(minutes=5)
AGREE_SECONDS = 1.0


@dataclass(frozen=True)
class Skew:
    """One node's clock against the reference node's."""

    host: str
    offset_seconds: float | None
    pairs: int
    spread_seconds: float | None
    confidence: str
    method: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def anchor_frame(anchors: dict[str, list[dict[str, Any]]]) -> pl.DataFrame:
    """host, key, ts (UTC) from each node's `cluster_evidence.anchors`."""
    rows = [{"host": host, "key": a["key"], "ts": a["ts"]} for host, items in anchors.items() for a in items]
    frame = pl.DataFrame(rows, schema={"host": pl.String, "key": pl.String, "ts": pl.String})
    return frame.with_columns(pl.col("ts").str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us"))


def estimate(anchors: dict[str, list[dict[str, Any]]]) -> tuple[str | None, list[Skew]]:
    """The reference host and every host's skew against it (the reference's own is 0, high)."""
    hosts = sorted(anchors)
    if not hosts:
        return None, []
    frame = anchor_frame(anchors)
    pairs = {(a, b): _pair_offsets(frame, a, b) for a in hosts for b in hosts if a != b}
    shared = {h: sum(pairs[(h, o)].height for o in hosts if o != h) for h in hosts}
    reference = min(hosts, key=lambda h: (-shared[h], h))
    skews = [Skew(reference, 0.0, 0, 0.0, "high", "reference clock")]
    for host in hosts:
        if host != reference:
            skews.append(_summarize(host, pairs[(reference, host)]["diff"]))
    return reference, sorted(skews, key=lambda s: s.host)


def _pair_offsets(frame: pl.DataFrame, reference: str, host: str) -> pl.DataFrame:
    """For each anchor of `host`, its time minus the reference's nearest same-text anchor's, in seconds."""
    ref = frame.filter(pl.col("host") == reference).select("key", pl.col("ts").alias("ref_ts")).sort("ref_ts")
    mine = frame.filter(pl.col("host") == host).select("key", "ts").sort("ts")
    if ref.height == 0 or mine.height == 0:
        return pl.DataFrame(schema={"diff": pl.Float64})
    joined = mine.join_asof(ref, left_on="ts", right_on="ref_ts", by="key", strategy="nearest",
                            tolerance=TOLERANCE, check_sortedness=False)
    return joined.filter(pl.col("ref_ts").is_not_null()).select(
        ((pl.col("ts") - pl.col("ref_ts")).dt.total_microseconds() / 1e6).alias("diff"))


def _summarize(host: str, diffs: pl.Series) -> Skew:
    if diffs.len() == 0:
        return Skew(host, None, 0, None, "none", "no anchor shared with the reference node")
    median = float(diffs.median())  # type: ignore[arg-type]
    spread = float((diffs - median).abs().median())  # type: ignore[arg-type]
    agree = spread <= AGREE_SECONDS
    confidence = "high" if agree and diffs.len() >= 3 else "medium" if agree and diffs.len() == 2 else "low"
    return Skew(host, round(median, 6), diffs.len(), round(spread, 6), confidence, METHOD)


def shift(iso_time: str | None, seconds: float) -> str | None:
    """An output time (`...Z`) moved by `-seconds`: a node's time on the reference clock."""
    if iso_time is None or not seconds:
        return iso_time
    return iso(datetime.fromisoformat(iso_time.replace("Z", "+00:00")) - timedelta(seconds=seconds))
