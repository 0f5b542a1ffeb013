"""The analysis of one bundle: members -> events -> hits and aggregates -> findings.

Members are processed one at a time and only small things are kept per member (rule hits,
per-minute counts, offset samples, an inventory row), so memory is bounded by the largest
member, not the bundle. A later copy of a duplicated member replaces the earlier one's
results, as `ovs collect logs` bug #1146 requires.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from analyzer.bundle import Bundle, Caps, Member, describe, iter_members
from analyzer.collectors import BundleView, Collector, default_collectors
from analyzer.copies import drop_copied_hits
from analyzer.coverage import judge_versions, rule_coverage
from analyzer.evidence import with_context
from analyzer.findings import Finding, build_findings, iso
from analyzer.formats import FormatSpec, load_formats
from analyzer.member_kind import classify
from analyzer.parse import ParseContext, ParsedMember, parse_member
from analyzer.rules import ENTITY_GROUPS, Rule, find_hits
from analyzer.timezones import OFFSETS_SCHEMA, fill_offsets, offset_samples
from analyzer.unknown import templates_section, unexplained_errors

_JOURNAL_YEAR = re.compile(rb"^-- Logs begin at \w+ (\d{4})-")
_COUNT_KEYS = ["host", "producer", "level", "minute", "utc_offset"]


@dataclass
class MemberReport:
    """What the inventory says about one member."""

    path: str
    stored_size: int
    size: int
    lines: int
    records: int
    unparsed: int
    binary: bool
    invalid_utf8: int
    formats: dict[str, int]
    first_seen: str | None = None
    last_seen: str | None = None
    warnings: list[str] = field(default_factory=list)
    kind: str | None = None
    era: str | None = None
    rotation_set: str | None = None


@dataclass
class Analysis:
    """Everything the outputs need; never the full event table."""

    bundle: Bundle
    members: list[MemberReport]
    findings: list[Finding]
    rules: list[Rule]
    counts: pl.DataFrame
    hosts: list[str]
    first_seen: str | None
    last_seen: str | None
    learned_offsets: int
    coverage: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def lines(self) -> int:
        return sum(m.lines for m in self.members)

    @property
    def unparsed(self) -> int:
        return sum(m.unparsed for m in self.members)


@dataclass
class _MemberResult:
    report: MemberReport
    hits: pl.DataFrame
    counts: pl.DataFrame
    offsets: pl.DataFrame
    spans: pl.DataFrame
    activity: pl.DataFrame
    unknown: pl.DataFrame
    parts: dict[str, pl.DataFrame] = field(default_factory=dict)


def analyze(path: Path | Bundle, rules: list[Rule], formats: list[FormatSpec] | None = None,
            caps: Caps = Caps(), collectors: list[Collector] | None = None) -> Analysis:
    """Analyze one bundle file or folder (or a node `Bundle` of a bundle of bundles)."""
    formats = formats if formats is not None else load_formats()
    collectors = default_collectors() if collectors is None else collectors
    bundle = path if isinstance(path, Bundle) else describe(path)
    results: dict[str, _MemberResult] = {}
    for member in iter_members(bundle, caps):
        if member.path in results:
            bundle.warnings.append(f"member {member.path} appears twice in the archive: the last copy was used")
        results[member.path] = _analyze_member(member, bundle, rules, formats, collectors)
    return _combine(bundle, list(results.values()), rules, collectors, formats)


def parse_bundle_member(member: Member, bundle: Bundle, formats: list[FormatSpec]) -> ParsedMember:
    """Parse one member with what the bundle knows (host, collection time, journal year)."""
    year_match = _JOURNAL_YEAR.match(member.data[:200])
    ctx = ParseContext(
        year=int(year_match.group(1)) if year_match else None,
        collected_at=bundle.collected_at or datetime.fromtimestamp(member.mtime),
    )
    parsed = parse_member(member.path, member.data, formats, ctx)
    if member.first_line != 1:  # lines a rotation neighbour holds were dropped from the head
        parsed.events = parsed.events.with_columns(pl.col("line") + (member.first_line - 1))
    return parsed


def _analyze_member(member: Member, bundle: Bundle, rules: list[Rule], formats: list[FormatSpec],
                    collectors: list[Collector]) -> _MemberResult:
    parsed = parse_bundle_member(member, bundle, formats)
    events = parsed.events
    report = MemberReport(
        path=member.path, stored_size=member.stored_size, size=len(member.data), lines=parsed.lines,
        records=events.height, unparsed=parsed.unparsed, binary=parsed.binary,
        invalid_utf8=parsed.invalid_utf8, formats=parsed.formats, warnings=list(member.warnings),
    )
    report.kind, report.era, report.rotation_set = classify(member.path, parsed.formats, parsed.binary, formats)
    if parsed.binary:
        report.warnings.append("binary file (not a text log): skipped")
    if parsed.invalid_utf8:
        report.warnings.append(f"{parsed.invalid_utf8} invalid UTF-8 sequence(s) replaced")
    history = [f.id for f in formats if not f.timeline]
    activity = events.filter(~pl.col("format").is_in(history).fill_null(False))
    counts = minute_counts(activity)
    parts = {c.name: part for c in collectors if (part := c.collect(member, events)) is not None}
    hits = find_hits(events, rules)
    if hits.height:
        hits = with_context(hits, events, ["rule_id", *[e for e in ENTITY_GROUPS if e in hits.columns]])
    return _MemberResult(report=report, hits=hits, counts=counts, offsets=offset_samples(events),
                         spans=_spans(events), activity=_spans(activity),
                         unknown=unexplained_errors(events, hits, _explaining(rules)), parts=parts)


def _explaining(rules: list[Rule]) -> list[str]:
    return [r.id for r in rules if r.kind in ("match", "clock_jump")]


def minute_counts(events: pl.DataFrame) -> pl.DataFrame:
    """Records per host, producer, level and local minute: the timeline's and absence rules' food."""
    return (
        events.filter(pl.col("ts_local").is_not_null())
        .with_columns(pl.col("ts_local").dt.truncate("1m").alias("minute"))
        .group_by(_COUNT_KEYS).len("count")
    )


def counts_in_utc(frames: list[pl.DataFrame], offsets: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Merge members' minute counts on UTC minutes; also say how many records had a learned offset."""
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame(), 0
    counts = fill_offsets(pl.concat(frames, how="diagonal_relaxed").rename({"minute": "ts_local"}), offsets)
    learned = int(counts.filter(pl.col("offset_learned"))["count"].sum())
    merged = counts.group_by("host", "producer", "level", pl.col("ts").alias("minute")).agg(pl.col("count").sum())
    return merged.sort("minute", "host", "producer", "level"), learned


def end_of_logs(counts: pl.DataFrame) -> datetime | None:
    """The end of the last minute anything was logged: how far 'never followed by' can be judged."""
    return counts["minute"].max() + timedelta(minutes=1) if counts.height else None  # type: ignore[operator]


def _spans(events: pl.DataFrame) -> pl.DataFrame:
    """First and last local time per offset: enough to give a member's span in UTC later."""
    return events.group_by("utc_offset").agg(
        pl.col("host").first(), pl.col("ts_local").min().alias("first"), pl.col("ts_local").max().alias("last")
    )


def _combine(bundle: Bundle, results: list[_MemberResult], rules: list[Rule],
             collectors: list[Collector], formats: list[FormatSpec]) -> Analysis:
    node = _dominant_host(results) or bundle.host_hint
    for result in results:
        result.hits, result.counts, result.offsets, result.spans, result.activity = (
            frame.with_columns(pl.col("host").fill_null(pl.lit(node, dtype=pl.String))) if "host" in frame.columns
            else frame
            for frame in (result.hits, result.counts, result.offsets, result.spans, result.activity)
        )
    offsets = pl.concat([r.offsets for r in results]) if results else pl.DataFrame(schema=OFFSETS_SCHEMA)
    hit_frames = [r.hits for r in results if r.hits.height]
    hits = (fill_offsets(drop_copied_hits(pl.concat(hit_frames, how="diagonal_relaxed")), offsets) if hit_frames
            else pl.DataFrame())
    counts, learned = counts_in_utc([r.counts for r in results], offsets)
    for result in results:
        result.report.first_seen, result.report.last_seen = _utc_span(result.spans, offsets)
    active = [_utc_span(r.activity, offsets) for r in results]
    hosts = sorted(counts["host"].drop_nulls().unique().to_list()) if counts.height else []
    if not hosts and node:
        hosts = [node]
    sections: dict[str, dict[str, Any]] = {}
    view = BundleView(bundle=bundle, node=node, to_utc=lambda frame: fill_offsets(frame, offsets), sections=sections)
    for collector in collectors:
        sections[collector.name] = collector.combine([r.parts[collector.name] for r in results
                                                      if collector.name in r.parts], view)
    sections["unknown_errors"] = templates_section([r.unknown for r in results if r.unknown.height], view.to_utc)
    table_hits = [hits_of(rules) for c in collectors if (hits_of := getattr(c, "rule_hits", None))]  # task rules
    if any(f.height for f in table_hits):
        hits = pl.concat([f for f in (hits, *table_hits) if f.height], how="diagonal_relaxed")
    findings = build_findings(hits, counts, rules, end_of_logs(counts))
    present = set(counts["producer"].drop_nulls().unique().to_list()) if counts.height else set()
    coverage = rule_coverage(rules, {f.rule_id for f in findings}, present, formats)
    findings, coverage["rule_versions"] = judge_versions(findings, rules,
                                                         sections.get("identity", {}).get("versions", {}))
    firsts = [first for first, _ in active if first]
    lasts = [last for _, last in active if last]
    return Analysis(
        bundle=bundle,
        members=[r.report for r in results],
        findings=findings,
        rules=rules,
        counts=counts,
        hosts=hosts,
        first_seen=min(firsts, default=None),
        last_seen=max(lasts, default=None),
        learned_offsets=learned,
        coverage=coverage,
        sections=sections,
    )


def _dominant_host(results: list[_MemberResult]) -> str | None:
    """The host most events state; a line without a host field was written by this node."""
    frames = [r.counts.select("host", "count") for r in results if r.counts.height]
    if not frames:
        return None
    totals = pl.concat(frames).drop_nulls("host").group_by("host").agg(pl.col("count").sum())
    if totals.height == 0:
        return None
    return str(totals.sort(["count", "host"], descending=[True, False])["host"][0])


def _utc_span(spans: pl.DataFrame, offsets: pl.DataFrame) -> tuple[str | None, str | None]:
    spans = spans.filter(pl.col("first").is_not_null())
    if spans.height == 0:
        return None, None
    first = fill_offsets(spans.select("host", pl.col("first").alias("ts_local"), "utc_offset"), offsets)
    last = fill_offsets(spans.select("host", pl.col("last").alias("ts_local"), "utc_offset"), offsets)
    return iso(first["ts"].min()), iso(last["ts"].max())  # type: ignore[arg-type]
