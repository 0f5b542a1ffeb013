"""Service states, rebuilt offline: a state timeline per service from systemd, upstart and own logs.

`ovs monitor services` shows what runs now; the bundle shows what happened. systemd and upstart
log each start, stop, crash and respawn (the phrasings are data in
`parsers/knowledge/services.yaml`); a service's own log says it was alive, and its going quiet
long before the node's other logs end says it stopped without a word. After the last member the
transitions become state spans per service, with restart and crash counts, and the node's
expected services (per role and per vPool, from the troubleshooting guide) are checked for a
trace, so "volumedriver crashed three times and gave up" and "no trace of rabbitmq" are stated.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from analyzer.collectors.protocol import Batch, BundleView, Collector
from analyzer.datafiles import load_mapping
from analyzer.durations import duration_seconds
from analyzer.errors import UserError
from analyzer.frames import Packed, unpack_all
from analyzer.isotime import iso
from analyzer.parsing.knowledge import examples_of, regex_groups, shipped_once
from analyzer.parsing.literals import contains_any_literal, literal_masks

STATES = ("activating", "running", "restarting", "deactivating", "stopped", "crashed", "failed", "silent")
TRANSITION_GROUPS = ("unit", "description", "detail")
#: States in which a service is expected to keep writing its own log.
_ALIVE = ("activating", "running", "restarting")
_UNKNOWN_VPOOL = "?"
_VPOOL_UNIT = r"^ovs-(?:volumedriver|dtl|failovercache)_(?P<vpool>.+)$"
_TEMPLATE = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Transition:
    """A log line that says a service changed state."""

    id: str
    state: str
    producers: tuple[str, ...]
    literal: str
    regex: str
    groups: tuple[str, ...]
    flapping: bool
    examples: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Named:
    """A unit name template (`ovs-dtl_{vpool}`) and what finds it: a Description regex, or
    journal idents and member paths for its own log, or the names it had across releases."""

    unit: str
    pattern: str = ""
    idents: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    #: Why an expected service is expected here: "every node", "a master node" or "vPool <name>".
    expected_for: str = ""


@dataclass(frozen=True)
class ServiceKnowledge:
    transitions: tuple[Transition, ...]
    descriptions: tuple[Named, ...]
    own_logs: tuple[Named, ...]
    silent_after: float
    flap_crashes: int
    flap_window: float
    expected: dict[str, tuple[Named, ...]]
    source_file: str


@shipped_once("services")
def load_service_knowledge(path: Path) -> ServiceKnowledge:
    """Read and validate `parsers/knowledge/services.yaml` (or `path`)."""
    doc = load_mapping(path, "service knowledge")
    transitions = []
    for i, item in enumerate(doc.get("transitions") or ()):
        where = f"transition {item.get('id', i + 1) if isinstance(item, dict) else i + 1}"
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("id", "literal", "regex")):
            raise UserError(f"{path}: {where} needs id, literal and regex strings")
        if item.get("state") not in STATES:
            raise UserError(f"{path}: {where}: state must be one of {', '.join(STATES)}")
        groups = regex_groups(path, where, item["regex"], TRANSITION_GROUPS)
        if not {"unit", "description"} & set(groups):
            raise UserError(f"{path}: {where}: the regex must capture unit or description")
        transitions.append(Transition(
            id=item["id"], state=item["state"], producers=tuple(item.get("producers") or ()),
            literal=item["literal"], regex=item["regex"], groups=groups, flapping=bool(item.get("flapping")),
            examples=examples_of(path, where, item.get("examples"))))
    descriptions = tuple(Named(unit=str(d["unit"]), pattern=str(d["pattern"])) for d in doc.get("descriptions") or ())
    for d in descriptions:
        regex_groups(path, f"description {d.pattern!r}", d.pattern, ("vpool", "cluster", "n"))
    own_logs = tuple(Named(unit=str(o["unit"]), idents=tuple(o.get("idents") or ()),
                           sources=tuple(o.get("sources") or ())) for o in doc.get("own_logs") or ())
    expected_doc = doc.get("expected") or {}
    expected = {
        role: tuple(Named(unit=str(e["service"]), any_of=tuple(e.get("any_of") or (e["service"],)))
                    for e in expected_doc.get(role) or ())
        for role in ("every_node", "master", "vpool")
    }
    flapping = doc.get("flapping") or {}
    if not transitions or not expected["every_node"]:
        raise UserError(f"{path}: needs transitions and expected.every_node")
    return ServiceKnowledge(
        transitions=tuple(transitions), descriptions=descriptions, own_logs=own_logs,
        silent_after=duration_seconds(path, "silent_after", doc.get("silent_after", "10m")),
        flap_crashes=int(flapping.get("crashes", 3)),
        flap_window=duration_seconds(path, "flapping.window", flapping.get("window", "30m")),
        expected=expected, source_file=str(path))


def transition_events(events: pl.DataFrame, knowledge: ServiceKnowledge) -> pl.DataFrame:
    """One row per state-change line: the unit (or Description) it names, the new state, the detail."""
    message = pl.col("message")
    literals = sorted({t.literal for t in knowledge.transitions})
    candidates = events.select("host", "ts_local", "utc_offset", "source", "line", "message", "producer") \
        .filter(contains_any_literal(message, literals).fill_null(False))
    holding = literal_masks(candidates, "message", literals)
    parts = []
    for tr in knowledge.transitions:
        if tr.literal not in holding:
            continue
        mask = pl.lit(holding[tr.literal])
        if tr.producers:
            mask = mask & pl.col("producer").is_in(list(tr.producers)).fill_null(False)
        rows = candidates.filter(mask)
        rows = rows.filter(message.str.contains(tr.regex)) if rows.height else rows  # the regex: few lines only
        if rows.height == 0:
            continue
        found = pl.col("_g").struct.field
        parts.append(rows.with_columns(pl.col("message").str.extract_groups(tr.regex).alias("_g")).select(
            "host", "ts_local", "utc_offset", "source", "line", "message",
            pl.lit(tr.id).alias("signature"), pl.lit(tr.state).alias("state"), pl.lit(tr.flapping).alias("flapping"),
            *[(found(g) if g in tr.groups else pl.lit(None, dtype=pl.String)).alias(g) for g in TRANSITION_GROUPS],
        ))
    return pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame()


def resolve_units(transitions: pl.DataFrame, knowledge: ServiceKnowledge, vpools: list[str]) -> pl.DataFrame:
    """Give every transition a unit: the one it names, else the one its Description belongs to."""
    only_vpool = vpools[0] if len(vpools) == 1 else _UNKNOWN_VPOOL
    unit = pl.col("unit")
    for named in reversed(knowledge.descriptions):
        groups = pl.col("description").str.extract_groups(named.pattern).struct.field
        fields = _TEMPLATE.findall(named.unit)
        filled = pl.format(_TEMPLATE.sub("{}", named.unit),
                           *[groups(f).fill_null(pl.lit(only_vpool) if f == "vpool" else pl.lit(_UNKNOWN_VPOOL))
                             for f in fields]) if fields else pl.lit(named.unit)
        unit = pl.when(pl.col("unit").is_null() & pl.col("description").str.contains(named.pattern)).then(filled) \
            .otherwise(unit)
    return transitions.with_columns(unit.alias("unit")).filter(pl.col("unit").is_not_null())


def own_log_activity(sources: Sequence[str], summary: pl.DataFrame, knowledge: ServiceKnowledge) -> pl.DataFrame:
    """Per member: first/last line and count per minute and service whose own output it holds, plus
    one row (unit null) for the member as a whole: the node's activity that silence is judged against.
    A member whose path names a service's own log is all that service's; in others, the ident says.
    `summary`: the members' records folded (`record_summary`)."""
    by_path = {path: unit for path in sources
               if (unit := next((named.unit for named in knowledge.own_logs for source in named.sources
                                 if _path_matches(source, path)), None)) is not None}
    idents = {ident: named.unit for named in reversed(knowledge.own_logs) for ident in (*named.idents, named.unit)}
    unit = pl.col("service").replace_strict(idents, default=None, return_dtype=pl.String)
    if by_path:
        unit = pl.coalesce(pl.col("source").replace_strict(by_path, default=None, return_dtype=pl.String), unit)
    # the records per minute and ident; units and the node's rows are folded from those few rows
    minutes = summary.filter(pl.col("minute").is_not_null()) \
        .group_by("source", "host", "service", "vpool", "utc_offset", "minute") \
        .agg(pl.col("first").min(), pl.col("last").max(), pl.col("count").sum().alias("lines"))
    spans = [pl.col("first").min(), pl.col("last").max(), pl.col("lines").sum().cast(pl.UInt32)]
    own = minutes.with_columns(unit.alias("unit")).filter(pl.col("unit").is_not_null()) \
        .group_by("source", "host", "unit", "vpool", "utc_offset", "minute").agg(*spans).drop("minute")
    node = minutes.group_by("source", "host", "utc_offset").agg(*spans) \
        .with_columns(pl.lit(None, dtype=pl.String).alias("unit"))
    return pl.concat([own, node], how="diagonal_relaxed")


class ServiceStates(Collector):
    """The collector: state changes and own-log activity per member; the timeline after the last."""

    name = "services"

    def __init__(self, knowledge: ServiceKnowledge | None = None) -> None:
        self.knowledge = knowledge or load_service_knowledge()

    def collect(self, batch: Batch) -> pl.DataFrame | None:
        events = batch.events
        transitions = transition_events(events, self.knowledge).with_columns(pl.lit("transition").alias("kind")) \
            if events.height else pl.DataFrame()
        activity = own_log_activity(batch.sources, batch.summary, self.knowledge) \
            .with_columns(pl.lit("activity").alias("kind"))
        vpools = batch.summary.select("source", "vpool").drop_nulls().unique() \
            .with_columns(pl.lit("vpool").alias("kind"))
        parts = [p for p in (transitions, activity, vpools) if p.height]
        return pl.concat(parts, how="diagonal_relaxed") if parts else None

    def combine(self, parts: list[Packed], view: BundleView) -> dict[str, Any]:
        if not parts:
            return {**service_section(pl.DataFrame(), pl.DataFrame(), [], None, [], []), "untimed": []}
        frame = pl.concat(unpack_all(parts), how="diagonal_relaxed")
        frame = frame.with_columns(pl.col("host").fill_null(pl.lit(view.node, dtype=pl.String))) \
            if "host" in frame.columns else frame
        of_kind = lambda kind: frame.filter(pl.col("kind") == kind)  # noqa: E731
        transitions = of_kind("transition")
        vpools = _vpools(frame, transitions)
        activity = _activity_in_utc(of_kind("activity"), view, vpools)
        untimed = pl.DataFrame()
        if transitions.height:
            transitions = resolve_units(view.to_utc(transitions), self.knowledge, vpools)
            # bare dmesg lines have no instant: a trace of the service, but no place on its timeline
            untimed = transitions.filter(pl.col("ts").is_null())
            transitions = transitions.filter(pl.col("ts").is_not_null()).sort("source", "line") \
                .unique(["host", "ts", "signature", "unit"], keep="first", maintain_order=True)
        timeline = state_timeline(transitions, activity, self.knowledge)
        traced = set(timeline["unit"].to_list()) if timeline.height else set()
        traced |= set(untimed["unit"].to_list()) if untimed.height else set()
        role = _role(view)
        section = service_section(timeline, summarize(timeline, self.knowledge), vpools, role,
                                  expected_services(role, vpools, self.knowledge), sorted(traced))
        section["untimed"] = [
            {"unit": r["unit"], "state": r["state"], "detail": r["detail"], "evidence": f"{r['source']}:{r['line']}"}
            for r in untimed.iter_rows(named=True)
        ] if untimed.height else []
        return section


def _activity_in_utc(activity: pl.DataFrame, view: BundleView, vpools: list[str]) -> pl.DataFrame:
    if activity.height == 0:
        return pl.DataFrame(schema={"host": pl.String, "unit": pl.String, "first": pl.Datetime("us", "UTC"),
                                    "last": pl.Datetime("us", "UTC"), "lines": pl.UInt32})
    first = view.to_utc(activity.with_columns(pl.col("first").alias("ts_local")))["ts"]
    last = view.to_utc(activity.with_columns(pl.col("last").alias("ts_local")))["ts"]
    unit = fill_vpool(pl.col("unit"), pl.col("vpool"), vpools)
    return activity.select("host", unit.alias("unit"), "lines").with_columns(first.alias("first"), last.alias("last"))


def _path_matches(source: str, path: str) -> bool:
    """`var/log/ovs/volumedriver/dtl_{vpool}.log` matches that file and its rotations; a folder
    (`var/log/rabbitmq/`) matches everything below it."""
    if source.endswith("/"):
        return path.startswith(source)
    pattern = re.escape(source).replace(r"\{vpool\}", r"[\w.-]+")
    return re.fullmatch(pattern + r"(?:\.\d+)?(?:\.gz)?", path) is not None


def fill_vpool(unit: pl.Expr, vpool: pl.Expr, vpools: list[str]) -> pl.Expr:
    """`ovs-volumedriver_{vpool}` with the record's vPool, else the node's only vPool, else `?`."""
    only = vpools[0] if len(vpools) == 1 else _UNKNOWN_VPOOL
    return unit.str.replace("{vpool}", pl.coalesce(vpool, pl.lit(only)), literal=True)


def _vpools(frame: pl.DataFrame, transitions: pl.DataFrame) -> list[str]:
    named = set(frame.filter(pl.col("kind") == "vpool")["vpool"].to_list()) if "vpool" in frame.columns else set()
    if transitions.height:
        units = transitions["unit"].drop_nulls().str.extract(_VPOOL_UNIT, 1).drop_nulls()
        named |= set(units.to_list())
    return sorted(named - {_UNKNOWN_VPOOL})


def state_timeline(transitions: pl.DataFrame, activity: pl.DataFrame, knowledge: ServiceKnowledge) -> pl.DataFrame:
    """State spans per (host, unit): each state lasts until the next; a service seen only in its own
    log is `running` from its first line, and again after a crash or respawn once its own log speaks
    (upstart logs no start); one that went quiet while alive becomes `silent`.

    `activity` holds own-log buckets (first/last line per minute and service) and node rows (unit null)."""
    node_end = activity.filter(pl.col("unit").is_null()).group_by("host").agg(pl.col("last").max().alias("node_end"))
    buckets = activity.filter(pl.col("unit").is_not_null())
    own = buckets.group_by("host", "unit").agg(pl.col("first").min(), pl.col("last").max())
    # within one second (the journal's precision) the line order is the order of events
    changes = transitions.select(
        "host", "unit", "ts", "line", "state", "detail", pl.format("{}:{}", "source", "line").alias("evidence"),
        "flapping",
    ) if transitions.height else pl.DataFrame(schema={
        "host": pl.String, "unit": pl.String, "ts": pl.Datetime("us", "UTC"), "line": pl.UInt32, "state": pl.String,
        "detail": pl.String, "evidence": pl.String, "flapping": pl.Boolean})
    first_change = changes.group_by("host", "unit").agg(pl.col("ts").min().alias("first_change"))
    seen_alive = own.join(first_change, on=["host", "unit"], how="left").filter(
        pl.col("first_change").is_null() | (pl.col("first") < pl.col("first_change"))
    ).select("host", "unit", pl.col("first").alias("ts"), pl.lit(0, dtype=pl.UInt32).alias("line"),
             pl.lit("running").alias("state"),
             pl.lit(None, dtype=pl.String).alias("detail"), pl.lit("own log").alias("evidence"),
             pl.lit(False).alias("flapping"))
    timeline = pl.concat([changes, seen_alive, _alive_again(changes, buckets)], how="vertical_relaxed") \
        .sort("host", "unit", "ts", "line")
    last_state = timeline.group_by("host", "unit").agg(pl.col("state").last(), pl.col("ts").last().alias("since"))
    silent = own.join(node_end, on="host").join(last_state, on=["host", "unit"], how="left").filter(
        (pl.col("node_end") - pl.col("last") >= pl.duration(seconds=knowledge.silent_after))
        & pl.col("state").is_in(_ALIVE).fill_null(True) & (pl.col("last") >= pl.col("since").fill_null(pl.col("last")))
    ).select("host", "unit", pl.col("last").alias("ts"), pl.lit(0, dtype=pl.UInt32).alias("line"),
             pl.lit("silent").alias("state"),
             pl.format("own log quiet for {} min",
                       ((pl.col("node_end") - pl.col("last")).dt.total_seconds() / 60).round(0).cast(pl.Int64))
             .alias("detail"), pl.lit("own log").alias("evidence"), pl.lit(False).alias("flapping"))
    timeline = pl.concat([timeline, silent], how="vertical_relaxed").sort("host", "unit", "ts", "line")
    return timeline.join(node_end, on="host", how="left", maintain_order="left").with_columns(
        pl.coalesce(pl.col("ts").shift(-1).over("host", "unit"), pl.col("node_end")).alias("end")
    ).drop("node_end", "line")


def _alive_again(changes: pl.DataFrame, buckets: pl.DataFrame) -> pl.DataFrame:
    """`running` (from the own log) after a down state that no logged transition follows before the
    service's own log speaks again; the time is that of the first own line known to follow."""
    down = changes.sort("host", "unit", "ts", "line").with_columns(
        pl.col("ts").shift(-1).over("host", "unit").alias("next")
    ).filter(pl.col("state").is_in(("crashed", "failed", "restarting", "stopped")))
    seen = pl.when(pl.col("first") > pl.col("ts")).then(pl.col("first")).otherwise(pl.col("last"))
    return (
        down.select("host", "unit", "ts", "next").join(buckets.select("host", "unit", "first", "last"),
                                                       on=["host", "unit"])
        .filter(pl.col("last") > pl.col("ts")).with_columns(seen.alias("seen"))
        .filter(pl.col("next").is_null() | (pl.col("seen") < pl.col("next")))
        .group_by("host", "unit", "ts").agg(pl.col("seen").min())
        .select("host", "unit", pl.col("seen").alias("ts"), pl.lit(0, dtype=pl.UInt32).alias("line"),
                pl.lit("running").alias("state"), pl.lit("own log speaks again").alias("detail"),
                pl.lit("own log").alias("evidence"), pl.lit(False).alias("flapping"))
    )


def summarize(timeline: pl.DataFrame, knowledge: ServiceKnowledge) -> pl.DataFrame:
    """Per service: its last state, restarts, crashes, failures, and whether it flapped."""
    if timeline.height == 0:
        return pl.DataFrame()
    n = knowledge.flap_crashes
    crashes = timeline.filter(pl.col("state") == "crashed").sort("ts").group_by("host", "unit").agg(
        ((pl.col("ts").shift(-(n - 1)) - pl.col("ts")) <= pl.duration(seconds=knowledge.flap_window)).any()
        .alias("crash_burst"))
    logged = pl.col("evidence") != "own log"  # a state inferred from the own log is no start of its own
    count = lambda state: ((pl.col("state") == state) & logged).sum().cast(pl.UInt32)  # noqa: E731
    return timeline.group_by("host", "unit").agg(
        pl.col("state").last(), pl.col("ts").last().alias("since"),
        pl.col("ts").min().alias("first_seen"),
        count("running").alias("starts"), count("restarting").alias("respawns"),
        count("crashed").alias("crashes"), count("failed").alias("failures"),
        pl.col("flapping").any().alias("gave_up"),
    ).join(crashes, on=["host", "unit"], how="left").with_columns(
        pl.when(pl.col("starts") > 0).then((pl.col("starts").cast(pl.Int64) - 1).clip(0))
        .otherwise(pl.col("respawns")).cast(pl.UInt32).alias("restarts"),
        (pl.col("gave_up") | pl.col("crash_burst").fill_null(False)).alias("flapping"),
    ).drop("starts", "respawns", "crash_burst", "gave_up").sort("host", "unit")


def _role(view: BundleView) -> str | None:
    """The node's role as the identity section worked it out, with its evidence (None: unknown)."""
    role = (view.sections.get("identity") or {}).get("role")
    return role if role in ("master", "extra") else None


def expected_services(role: str | None, vpools: list[str], knowledge: ServiceKnowledge) -> list[Named]:
    """What the troubleshooting guide says this node runs: every node's, the master's, each vPool's."""
    wanted = [replace(e, expected_for="every node") for e in knowledge.expected["every_node"]]
    if role == "master":
        wanted += [replace(e, expected_for="a master node") for e in knowledge.expected["master"]]
    for vpool in vpools:
        wanted += [Named(unit=e.unit.format(vpool=vpool), any_of=tuple(a.format(vpool=vpool) for a in e.any_of),
                         expected_for=f"vPool {vpool}")
                   for e in knowledge.expected["vpool"]]
    return wanted


def service_section(timeline: pl.DataFrame, summary: pl.DataFrame, vpools: list[str], role: str | None,
                    expected: list[Named], traced: list[str]) -> dict[str, Any]:
    """What findings.json and the report show; times ISO UTC. `timeline_lanes` (one lane of state
    spans per service) is what the report's timeline draws beside the log lanes."""
    found = set(traced)
    missing = [e.unit for e in expected if not found & set(e.any_of)]
    expected_for = {name: e.expected_for for e in expected for name in e.any_of}
    services = [
        {**row, "since": iso(row["since"]), "first_seen": iso(row["first_seen"]),
         "expected": row["unit"] in expected_for, "expected_for": expected_for.get(row["unit"])}
        for row in summary.iter_rows(named=True)
    ] if summary.height else []
    hosts = timeline["host"].n_unique() if timeline.height else 0
    lanes = [
        {"lane": unit if hosts == 1 else f"{host} · {unit}", "host": host, "unit": unit, "spans": [
            {"start": iso(r["ts"]), "end": iso(r["end"]), "state": r["state"], "detail": r["detail"],
             "evidence": r["evidence"], "title": " · ".join(x for x in (r["detail"], r["evidence"]) if x)}
            for r in spans.iter_rows(named=True)]}
        for (host, unit), spans in timeline.group_by("host", "unit", maintain_order=True)
    ] if timeline.height else []
    return {
        "role": role,
        "vpools": vpools,
        "services": services,
        "timeline_lanes": lanes,
        "missing": missing,
        "crashed": sorted({s["unit"] for s in services if s["crashes"]}),
        "flapping": sorted({s["unit"] for s in services if s["flapping"]}),
    }
