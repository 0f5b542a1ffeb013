"""What a bundle says about the cluster it belongs to, kept small enough to travel with a triage row.

Bundles of one cluster are recognised from names only the cluster's nodes share: the Arakoon
node names (an Arakoon log is `var/log/arakoon/<cluster>/<node>.log`, and at start it prints
`cfg = { node_name = "<self>"; ...}` and one `other: <peer>` line per peer). Those names are
OVS machine ids, random per node, so two nodes that name a common Arakoon node are in one
cluster. vPool names never link bundles (`vpool1` is everywhere); the node's role and vPools
come from the `identity` section.

Arakoon master-election announcements are kept as clock anchors for `analyzer.batch.skew`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import polars as pl

from analyzer.collectors.protocol import BundleView, Collector
from analyzer.isotime import iso

_ARAKOON_LOG = re.compile(r"^var/log/arakoon/(?P<cluster>[^/]+)/(?P<node>[^/]+?)\.log(?:\.\d+)?(?:\.gz)?$")
_SELF = r'node_name = "([^"]+)"'
_PEER = r"^other: (\S+)\s*$"
#: The election announcement every node of a cluster logs at the same moment (`<node> is master`).
#: Not `<node> is master, lease expires in 10.0s`: lease renewals repeat every few seconds, and a
#: periodic message pairs with the wrong instance, giving a tight, confident and wrong offset.
ANCHOR_PATTERN = r"^\s*\S+ is master\s*$"
MAX_ANCHORS = 1000
_SCHEMA = {"kind": pl.String, "value": pl.String, "host": pl.String, "ts_local": pl.Datetime("us"),
           "utc_offset": pl.Int16, "source": pl.String, "line": pl.UInt32}


class ClusterEvidence(Collector):
    """Collector of Arakoon cluster and node names and clock anchors (see module doc)."""

    name = "cluster_evidence"

    def collect(self, sources: Sequence[str], events: pl.DataFrame) -> pl.DataFrame | None:
        facts: list[dict[str, Any]] = []
        for path in sources:
            if found := _ARAKOON_LOG.match(path):
                facts += [{"kind": kind, "value": found[group], "source": path} for kind, group in
                          (("arakoon_cluster", "cluster"), ("arakoon_node", "node"), ("arakoon_self", "node"))]
        frames = [pl.DataFrame(facts, schema=_SCHEMA)] if facts else []
        if events.height and "producer" in events.columns:
            live = events.filter(pl.col("parse_status") != "duplicate") if "parse_status" in events.columns \
                else events
            arakoon = live.filter(pl.col("producer") == "arakoon")
            names = arakoon.select(
                pl.lit("arakoon_node").alias("kind"),
                pl.coalesce(pl.col("message").str.extract(_SELF), pl.col("message").str.extract(_PEER)).alias("value"),
                "source",
            ).drop_nulls().unique()
            anchors = arakoon.filter(pl.col("message").str.contains(ANCHOR_PATTERN) & pl.col("ts_local").is_not_null())
            anchors = anchors.select(pl.lit("anchor").alias("kind"), pl.col("message").str.strip_chars().alias("value"),
                                     "host", "ts_local", "utc_offset", "source", "line")
            frames += [f for f in (names, anchors) if f.height]
        if not frames:
            return None
        return pl.concat(frames, how="diagonal_relaxed").cast(_SCHEMA)  # type: ignore[arg-type]

    def combine(self, parts: list[pl.DataFrame], view: BundleView) -> dict[str, Any]:
        facts = pl.concat(parts) if parts else pl.DataFrame(schema=_SCHEMA)

        def values(kind: str) -> list[str]:
            return sorted(facts.filter(pl.col("kind") == kind)["value"].unique().to_list())

        anchors = facts.filter(pl.col("kind") == "anchor")
        if anchors.height:
            anchors = view.to_utc(anchors.with_columns(pl.col("host").fill_null(pl.lit(view.node, pl.String))))
            anchors = anchors.filter(pl.col("ts").is_not_null()).sort("ts", "source", "line")
        return {
            "node": view.node,
            "arakoon_clusters": values("arakoon_cluster"),
            "arakoon_self": values("arakoon_self"),
            "arakoon_nodes": values("arakoon_node"),
            "anchors": [{"key": row["value"], "ts": iso(row["ts"]), "source": row["source"], "line": row["line"]}
                        for row in anchors.head(MAX_ANCHORS).iter_rows(named=True)],
            "anchors_omitted": max(anchors.height - MAX_ANCHORS, 0),
        }
