"""What a bundle says about the cluster it belongs to, kept small enough to travel with a triage row.

Bundles of one cluster are recognised from names only the cluster's nodes share (the names and
the lines carrying them are data: `parsers/knowledge/cluster_names.yaml`):

- Arakoon node ids: OVS machine ids, random per node. An Arakoon log is
  `var/log/arakoon/<cluster>/<node>.log`, its start-up prints `cfg = { node_name = "<self>"; ...}`
  and `other: <peer>`, and its running lines name nodes too (`<node> is master`, catch-ups from
  the master, the node's own id in front of its Paxos lines).
- Celery task ids: random UUIDs; the beat of one node sends a task, the worker of another runs it.
- the framework's cluster id, where the support agent's VPN unit names it.
- host names and addresses: each node states some of its own (the host field of its lines, the
  address its Arakoon or DTL server binds to, the end of a RabbitMQ connection) and names its
  peers' (the DTL it connects to, the Arakoon node it reaches, `rabbit@<host>`).

Names every installation shares (`localhost`, `127.0.0.1`, `vpool1`, ...) are dropped here, so no
evidence ever carries them. Each kind keeps at most `MAX_NAMES` names, the lowest ones: two
nodes sampling their shares of one set of random ids that way keep the same ids, so the shared
ones survive the cap on both sides.

The same lines give clock events for `analyzer.batch.skew`: Arakoon master elections (seen by
every node at once), Celery sends and receives, and a DTL's connect, register, clear and the
volumedriver going on after it (causal pairs: the second can not precede the first).
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import Any

import polars as pl

from analyzer.collectors.protocol import Batch, BundleView, Collector
from analyzer.datafiles import load_mapping
from analyzer.errors import UserError
from analyzer.frames import Packed, unpack_all
from analyzer.isotime import iso
from analyzer.parsing.knowledge import examples_of, regex_groups, shipped_once
from analyzer.parsing.literals import literal_masks

_ARAKOON_LOG = re.compile(r"^var/log/arakoon/(?P<cluster>[^/]+)/(?P<node>[^/]+?)\.log(?:\.\d+)?(?:\.gz)?$")
#: What the named groups of an extractor of each kind are, and the fact each gives.
FACTS = {
    "arakoon_node": {"node": "arakoon_node", "self": "arakoon_self"},
    "task_id": {"task_id": "task_id"},
    "cluster_id": {"cluster_id": "cluster_id"},
    "address": {"own": "own_address", "peer": "peer_address"},
    "host": {"own": "own_host", "peer": "peer_host"},
}
CLOCK_EVENTS = ("election", "task_sent", "task_received", "dtl_connect", "dtl_accept", "dtl_clear", "dtl_cleared")
#: The section's list of each fact (`arakoon_nodes` also holds the node's own ids).
LISTS = {"arakoon_cluster": "arakoon_clusters", "arakoon_node": "arakoon_nodes", "arakoon_self": "arakoon_self",
         "task_id": "task_ids", "cluster_id": "cluster_ids", "own_address": "own_addresses",
         "peer_address": "peer_addresses", "own_host": "own_hosts", "peer_host": "peer_hosts"}
MAX_NAMES = 200
#: Clock events kept per kind. Elections are the latest ones (their keys are a few node names; a
#: cluster's bundles are collected together, so their logs end together but start wherever
#: rotation left them); the others the ones of the lowest keys (task ids, volume ids), like the names.
MAX_EVENTS = 300
_BY_TIME = ("election",)
_SCHEMA = {"fact": pl.String, "value": pl.String, "event": pl.String, "host": pl.String,
           "ts_local": pl.Datetime("us"), "utc_offset": pl.Int16, "source": pl.String, "line": pl.UInt32}
_CONTEXT = ["host", "ts_local", "utc_offset", "source", "line"]


@dataclass(frozen=True)
class Extractor:
    """One line shape that names cluster members or marks a clock event (see the knowledge file)."""

    id: str
    kind: str | None
    clock: str | None
    key: str
    producers: tuple[str, ...]
    column: str
    literals: tuple[str, ...]
    regex: str
    every_match: bool
    groups: tuple[str, ...]
    examples: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class ClusterKnowledge:
    extractors: tuple[Extractor, ...]
    never_names: frozenset[str]
    never_patterns: tuple[str, ...]


@shipped_once("cluster_names")
def cluster_knowledge(path: Path) -> ClusterKnowledge:
    """Read and validate `parsers/knowledge/cluster_names.yaml` (or `path`)."""
    doc = load_mapping(path, "cluster names knowledge file")
    never = doc.get("never_link") or {}
    extractors = tuple(_extractor(path, item) for item in doc.get("extractors") or [])
    if not extractors:
        raise UserError(f"{path}: no extractors")
    return ClusterKnowledge(extractors=extractors,
                            never_names=frozenset(str(n).lower() for n in never.get("names") or []),
                            never_patterns=tuple(str(p) for p in never.get("patterns") or []))


def _extractor(path: Path, item: dict[str, Any]) -> Extractor:
    where = f"extractor {item.get('id')!r}"
    kind, clock = item.get("kind"), item.get("clock")
    if kind is not None and kind not in FACTS:
        raise UserError(f"{path}: {where}: unknown kind {kind!r}; choose from {', '.join(FACTS)}")
    if clock is not None and clock not in CLOCK_EVENTS:
        raise UserError(f"{path}: {where}: unknown clock event {clock!r}; choose from {', '.join(CLOCK_EVENTS)}")
    if kind is None and clock is None:
        raise UserError(f"{path}: {where} needs a kind or a clock event")
    key = str(item.get("key", "key"))
    allowed = (*FACTS.get(kind or "", {}), *([key] if clock else []))
    groups = regex_groups(path, where, str(item["regex"]), allowed)
    if clock and key not in groups:
        raise UserError(f"{path}: {where}: a clock event needs the group {key!r}")
    every_match = bool(item.get("all", False))
    if every_match and len(groups) != 1:
        raise UserError(f"{path}: {where}: `all` takes a regex of one group")
    literal = item.get("literal")
    literals = tuple(str(x) for x in literal) if isinstance(literal, list) else (str(literal),) if literal else ()
    if not literals:
        raise UserError(f"{path}: {where} needs a literal: text every line it reads contains")
    return Extractor(id=str(item["id"]), kind=kind, clock=clock, key=key, producers=tuple(item.get("producers") or ()),
                     column=str(item.get("column", "message")), literals=literals, regex=str(item["regex"]),
                     every_match=every_match, groups=groups, examples=examples_of(path, where, item.get("examples")))


def extract(events: pl.DataFrame, knowledge: ClusterKnowledge) -> pl.DataFrame:
    """Every name and clock event the extractors find in `events` (rows of `_SCHEMA`), before caps.

    One pass per column finds the few records holding any extractor's literal (one automaton for
    all literals of that column); only the extractors with a literal among them read them, each
    only those it is for, and most members have none at all.
    """
    frame = events.select("producer", *{ex.column for ex in knowledge.extractors}, *_CONTEXT)
    candidates = {column: _candidates(frame, column, [ex for ex in knowledge.extractors if ex.column == column])
                  for column in {ex.column for ex in knowledge.extractors}}
    frames = [found for ex in knowledge.extractors
              if (holding := [mask for literal, mask in candidates[ex.column][1].items() if literal in ex.literals])
              and (found := _found(candidates[ex.column][0], reduce(operator.or_, holding), ex)).height]
    if not frames:
        return pl.DataFrame(schema=_SCHEMA)
    return pl.concat(frames).filter(pl.col("event").is_not_null() | _sharable(knowledge))


def _candidates(frame: pl.DataFrame, column: str,
                extractors: list[Extractor]) -> tuple[pl.DataFrame, dict[str, pl.Series]]:
    """The records whose `column` holds a literal of `extractors` (of their producers, when all name
    some), and for each literal they hold, which of them hold it (`literal_masks`): an extractor
    none of whose literals is there reads nothing, and its own filter and regex cost a small bundle
    more than the rest of this collector."""
    if all(ex.producers for ex in extractors):
        frame = frame.filter(pl.col("producer").is_in(sorted({p for ex in extractors for p in ex.producers})))
    literals = sorted({literal for ex in extractors for literal in ex.literals})
    found = frame.filter(pl.col(column).str.contains_any(literals).fill_null(False))
    return found, literal_masks(found, column, literals)


def _found(candidates: pl.DataFrame, holding: pl.Series, ex: Extractor) -> pl.DataFrame:
    """What one extractor finds in the candidates `holding` one of its literals: one row per name
    (fact) and per clock event."""
    text = pl.col(ex.column)
    lines = candidates.filter(holding)
    if ex.producers:
        lines = lines.filter(pl.col("producer").is_in(ex.producers))
    if lines.height == 0:
        return pl.DataFrame(schema=_SCHEMA)
    if ex.every_match:
        group = ex.groups[0]
        matched = lines.select(text.str.extract_all(ex.regex).alias("match"), *_CONTEXT).explode("match") \
            .select(pl.col("match").str.extract(ex.regex, 1).alias(group), *_CONTEXT)
    else:
        matched = lines.select(text.str.extract_groups(ex.regex).alias("groups"), *_CONTEXT).unnest("groups")
    rows = [matched.select(pl.lit(fact).alias("fact"), _normal(pl.col(group), ex.kind).alias("value"),
                           pl.lit(None, pl.String).alias("event"), *_CONTEXT)
            for group, fact in FACTS.get(ex.kind or "", {}).items() if group in ex.groups]
    if ex.clock:
        rows.append(matched.select(pl.lit("clock").alias("fact"), pl.col(ex.key).alias("value"),
                                   pl.lit(ex.clock).alias("event"), *_CONTEXT))
    return pl.concat(rows).drop_nulls("value").cast(_SCHEMA)  # type: ignore[arg-type]


def _normal(value: pl.Expr, kind: str | None) -> pl.Expr:
    """Host names and addresses as one spelling: lower case, no brackets, IPv4 not IPv6-mapped."""
    if kind not in ("address", "host"):
        return value
    return value.str.to_lowercase().str.strip_chars("[].").str.replace(r"^::ffff:", "")


def _sharable(knowledge: ClusterKnowledge) -> pl.Expr:
    """Not a name every installation shares (`never_link` of the knowledge file)."""
    value = pl.col("value").str.to_lowercase()
    keep = ~value.is_in(sorted(knowledge.never_names))
    if knowledge.never_patterns:
        keep &= ~value.str.contains("|".join(f"(?:{p})" for p in knowledge.never_patterns))
    return keep


def capped(facts: pl.DataFrame) -> pl.DataFrame:
    """Each name once and at most `MAX_NAMES` of each kind (the lowest); each clock event once and at
    most `MAX_EVENTS` of each kind (elections: the latest; others: the lowest keys)."""
    names = facts.filter(pl.col("event").is_null()).unique(["fact", "value"], keep="first") \
        .sort("fact", "value").group_by("fact", maintain_order=True).head(MAX_NAMES)
    clock = facts.filter(pl.col("event").is_not_null()).unique(["event", "value", "host", "ts_local"], keep="first")
    by_time = pl.col("event").is_in(_BY_TIME)
    clock = pl.concat([clock.filter(by_time).sort("ts_local", "source", "line", descending=[True, False, False]),
                       clock.filter(~by_time).sort("value", "ts_local", "source", "line")]) \
        .group_by("event", maintain_order=True).head(MAX_EVENTS)
    return pl.concat([names, clock], how="diagonal_relaxed").select(list(_SCHEMA))


class ClusterEvidence(Collector):
    """Collector of the names a cluster's nodes share and of clock events (see module doc)."""

    name = "cluster_evidence"

    def __init__(self, knowledge: ClusterKnowledge | None = None) -> None:
        self.knowledge = knowledge or cluster_knowledge()

    def collect(self, batch: Batch) -> pl.DataFrame | None:
        events = batch.events
        frames = [_from_path(path) for path in batch.sources]
        if events.height and "producer" in events.columns:
            live = events.filter(pl.col("parse_status") != "duplicate") if "parse_status" in events.columns \
                else events
            frames.append(extract(live, self.knowledge))
        found = pl.concat(frames)
        return capped(found) if found.height else None

    def combine(self, parts: list[Packed], view: BundleView) -> dict[str, Any]:
        facts = capped(pl.concat([*unpack_all(parts), self._own_hosts(view)]))
        parts.clear()
        names = facts.filter(pl.col("event").is_null())

        def values(*kinds: str) -> list[str]:
            return sorted(set(names.filter(pl.col("fact").is_in(kinds))["value"].to_list()))

        clock = facts.filter(pl.col("event").is_not_null())
        full = {LISTS[fact] for fact, n in names.group_by("fact").len().iter_rows() if n >= MAX_NAMES}
        full |= {"anchors" for _, n in clock.group_by("event").len().iter_rows() if n >= MAX_EVENTS}
        if clock.height:
            clock = view.to_utc(clock.with_columns(pl.col("host").fill_null(pl.lit(view.node, pl.String))))
            clock = clock.filter(pl.col("ts").is_not_null()).unique(["event", "value", "ts"], keep="first") \
                .sort("ts", "event", "source", "line")
        return {
            "node": view.node,
            **{section: values(fact) for fact, section in LISTS.items()},
            "arakoon_nodes": values("arakoon_node", "arakoon_self"),
            "anchors": [{"kind": row["event"], "key": row["value"], "ts": iso(row["ts"]), "source": row["source"],
                         "line": row["line"]} for row in clock.iter_rows(named=True)],
            # lists that reached their cap: the bundle may hold more of these than were kept
            "capped": sorted(full),
        }

    def _own_hosts(self, view: BundleView) -> pl.DataFrame:
        """The node's own host names: the host field of its lines (as `identity` counted them)."""
        hosts = [*view.sections.get("identity", {}).get("hosts", {}), *([view.node] if view.node else [])]
        frame = pl.DataFrame({"fact": "own_host", "value": hosts}, schema={"fact": pl.String, "value": pl.String})
        frame = frame.with_columns(_normal(pl.col("value"), "host")).filter(_sharable(self.knowledge))
        return frame.select(pl.col(c) if c in frame.columns else pl.lit(None, t).alias(c) for c, t in _SCHEMA.items())


def _from_path(path: str) -> pl.DataFrame:
    """The Arakoon cluster and node a log file is named after (the node is the bundle's own)."""
    found = _ARAKOON_LOG.match(path)
    rows = [{"fact": "arakoon_cluster", "value": found["cluster"], "source": path},
            {"fact": "arakoon_self", "value": found["node"], "source": path}] if found else []
    given = ("fact", "value", "source")
    return pl.DataFrame(rows, schema={c: pl.String for c in given}).select(
        pl.col(c) if c in given else pl.lit(None, t).alias(c) for c, t in _SCHEMA.items())
