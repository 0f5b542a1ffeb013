"""The analysis of one bundle: members -> events -> hits and aggregates -> findings.

Members are processed one at a time and only small things are kept per member (rule hits,
per-minute counts, offset samples, an inventory row), so memory is bounded by the largest
member, not the bundle. A later copy of a duplicated member replaces the earlier one's
results, as `ovs collect logs` bug #1146 requires.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from analyzer.collectors.member_kind import classify
from analyzer.collectors.protocol import BundleView, Collector
from analyzer.detection.coverage import judge_versions, rule_coverage
from analyzer.detection.evidence import with_context
from analyzer.detection.findings import Finding, build_findings
from analyzer.detection.matcher import find_hits
from analyzer.detection.rule import ENTITY_GROUPS, Rule
from analyzer.detection.unknown import templates_section, unexplained_errors
from analyzer.frames import detached
from analyzer.isotime import iso
from analyzer.lanes import Lane
from analyzer.parsing.chunks import parse_chunks
from analyzer.parsing.context import ParseContext
from analyzer.parsing.copies import JournalCopies, drop_copied_hits
from analyzer.parsing.formats import FormatSpec, load_formats
from analyzer.parsing.journal_header import read_header
from analyzer.parsing.member import ParsedMember
from analyzer.parsing.timezones import OFFSETS_SCHEMA, fill_offsets, offset_samples
from analyzer.pipeline.counts import _COUNT_KEYS, _COUNTED, counts_in_utc, dominant_host, end_of_logs, minute_counts
from analyzer.pipeline.registry import default_collectors
from analyzer.reading.bundle import Bundle, Caps, Member, describe, file_sha256, iter_members
from analyzer.reading.stream import TextStream
from analyzer.timings import stage, timed


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
    #: Records that repeat journal entries (rsyslog's copies): left out of the timeline.
    journal_copies: int = 0
    #: Records a copy-paste had glued to the end of the line before them, read as records of their own.
    glued: int = 0


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
    sha256: str | None = None

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
            caps: Caps = Caps(), collectors: list[Collector] | None = None,
            progress: Callable[[Member], None] | None = None) -> Analysis:
    """Analyze one bundle file or folder (or a node `Bundle` of a bundle of bundles);
    `progress` hears of each member once it is parsed."""
    formats = formats if formats is not None else load_formats()
    collectors = default_collectors() if collectors is None else collectors
    bundle = path if isinstance(path, Bundle) else describe(path)
    pending: dict[str, _PendingMember] = {}
    copies = JournalCopies()  # used on the lane only, in archive order
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ovs-sha256") as hasher, Lane() as lane:
        sha256 = hasher.submit(file_sha256, bundle.path)
        for member in timed(iter_members(bundle, caps), "read"):
            if member.path in pending:
                bundle.warnings.append(f"member {member.path} appears twice in the archive: the last copy was used")
            pending[member.path] = _submit_member(member, bundle, rules, formats, collectors, lane, copies)
            if progress is not None:
                progress(member)
            del member  # its bytes go before the next member is read
        with stage("wait for analysis"):
            results = [member.result() for member in pending.values()]
        digest = sha256.result()
    with stage("combine"):
        _uncount_late_copies(results, copies.late(_COUNT_KEYS))
        return replace(_combine(bundle, results, rules, collectors, formats), sha256=digest)


def parse_bundle_chunks(member: Member, bundle: Bundle, formats: list[FormatSpec]) -> Iterator[ParsedMember]:
    """A member's records a chunk at a time (see `parse_chunks`), parsed with what the bundle knows
    (host, collection time, journal year) and numbered as lines of the member in the bundle."""
    chunks = parse_chunks(member.path, member.text(), formats, _parse_context(member, bundle))
    return (_numbered(parsed, member) for parsed in chunks)


def _numbered(parsed: ParsedMember, member: Member) -> ParsedMember:
    if member.first_line != 1:  # lines a rotation neighbour holds were dropped from the head
        parsed.events = parsed.events.with_columns(pl.col("line") + (member.first_line - 1))
    return parsed


def _parse_context(member: Member, bundle: Bundle) -> ParseContext:
    header = read_header(member.head())
    return ParseContext(
        year=header.year,
        collected_at=bundle.collected_at or datetime.fromtimestamp(member.mtime),
        naive_offset=header.offset,
    )


def _submit_member(member: Member, bundle: Bundle, rules: list[Rule], formats: list[FormatSpec],
                   collectors: list[Collector], lane: Lane, copies: JournalCopies) -> _PendingMember:
    """Parse a member a chunk of whole records at a time (large members come in several chunks)
    and hand each chunk to the analysis lane; the pieces are merged once all are analyzed."""
    pieces = [lane.submit(_analyze_chunk, parsed, member, rules, formats, collectors, copies)
              for parsed in timed(parse_bundle_chunks(member, bundle, formats), "parse")]
    return _PendingMember(member.path, pieces, formats, member.warnings, member.stream)


@dataclass
class _PendingMember:
    """A member whose chunks are being analyzed on the lane."""

    path: str
    pieces: list[Future[_MemberResult]]
    formats: list[FormatSpec]
    warnings: Sequence[str]
    #: A streamed member's size and warnings are final only once it was read (never its text: it is gone).
    stream: TextStream | None = None

    def result(self) -> _MemberResult:
        pieces = [piece.result() for piece in self.pieces]
        result = pieces[0] if len(pieces) == 1 else _merged(pieces)
        report = result.report
        if self.stream is not None:
            report.size, report.stored_size, report.warnings = (self.stream.size, self.stream.stored_size,
                                                                list(self.warnings))
        report.kind, report.era, report.rotation_set = classify(self.path, report.formats, report.binary,
                                                                self.formats)
        if report.binary:
            report.warnings.append("binary file (not a text log): skipped")
        if report.invalid_utf8:
            report.warnings.append(f"{report.invalid_utf8} invalid UTF-8 sequence(s) replaced")
        if report.glued:
            report.warnings.append(f"{report.glued} record(s) glued to the end of a line (a copy-paste) read as "
                                   "records of their own, on that line's number")
        return result


def _uncount_late_copies(results: list[_MemberResult], late: pl.DataFrame) -> None:
    """Take rsyslog's copies out of the counts of a member read before the journal they copy
    (`JournalCopies.defer`), and say how many records of each member were copies."""
    for result in results:
        report = result.report
        mine = late.filter(pl.col("source") == report.path).drop("source") if late.height else late
        if mine.height:
            counts = result.counts.join(mine.rename({"count": "_late"}), on=_COUNT_KEYS, how="left", nulls_equal=True)
            result.counts = counts.with_columns(pl.col("count") - pl.col("_late").fill_null(0)) \
                .filter(pl.col("count") > 0).drop("_late")
            report.journal_copies += int(mine["count"].sum())
        if report.journal_copies:
            report.warnings.append(f"{report.journal_copies} record(s) repeat journal entries: "
                                   "counted once in the timeline")


def _analyze_chunk(parsed: ParsedMember, member: Member, rules: list[Rule], formats: list[FormatSpec],
                   collectors: list[Collector], copies: JournalCopies) -> _MemberResult:
    events = parsed.events
    copies.learn(member.path, events)
    copy = copies.of(member.path, events)
    report = MemberReport(
        path=member.path, stored_size=member.stored_size, size=member.size, lines=parsed.lines,
        records=events.height, unparsed=parsed.unparsed, binary=parsed.binary,
        invalid_utf8=parsed.invalid_utf8, glued=parsed.glued, formats=parsed.formats, warnings=list(member.warnings),
        journal_copies=int(copy.sum()) if copy is not None else 0,
    )
    with stage("aggregates"):
        history = [f.id for f in formats if not f.timeline]
        counted = events if copy is None else events.filter(~copy)  # the journal's copy was counted
        activity = counted.filter(~pl.col("format").is_in(history).fill_null(False))
        counts = minute_counts(activity)
        copies.defer(member.path, activity, _COUNTED)
        offsets, spans, activity_spans = offset_samples(events), _spans(events), _spans(activity)
    with stage("rules"):
        hits = find_hits(events, rules)
        if hits.height:
            hits = with_context(hits, events, ["rule_id", *[e for e in ENTITY_GROUPS if e in hits.columns]])
    with stage("collectors"):
        parts = {c.name: part for c in collectors if (part := c.collect(member, events)) is not None}
        unknown = unexplained_errors(events, hits, _explaining(rules))
    return _MemberResult(report=report, hits=detached(hits), counts=detached(counts), offsets=detached(offsets),
                         spans=detached(spans), activity=detached(activity_spans), unknown=detached(unknown),
                         parts={name: detached(part) for name, part in parts.items()})


def _merged(pieces: list[_MemberResult]) -> _MemberResult:
    """One member's result from its chunks': sums, re-grouped counts and spans, stacked rows."""
    formats: dict[str, int] = {}
    for piece in pieces:
        for name, count in piece.report.formats.items():
            formats[name] = formats.get(name, 0) + count
    report = replace(
        pieces[0].report, formats=formats, **{
            key: sum(getattr(p.report, key) for p in pieces)
            for key in ("lines", "records", "unparsed", "invalid_utf8", "journal_copies", "glued")
        },
    )

    def stacked(frames: list[pl.DataFrame]) -> pl.DataFrame:
        filled = [f for f in frames if f.height]
        return pl.concat(filled, how="diagonal_relaxed") if filled else frames[0]

    counts = stacked([p.counts for p in pieces])
    counts = counts.group_by(_COUNT_KEYS).agg(pl.col("count").sum().cast(counts.schema["count"]))
    names = {name for p in pieces for name in p.parts}
    return _MemberResult(
        report=report, hits=stacked([p.hits for p in pieces]), counts=counts,
        offsets=stacked([p.offsets for p in pieces]), spans=_respan(stacked([p.spans for p in pieces])),
        activity=_respan(stacked([p.activity for p in pieces])), unknown=stacked([p.unknown for p in pieces]),
        parts={name: stacked([p.parts[name] for p in pieces if name in p.parts]) for name in sorted(names)},
    )


def _explaining(rules: list[Rule]) -> list[str]:
    return [r.id for r in rules if r.kind in ("match", "clock_jump")]


def _spans(events: pl.DataFrame) -> pl.DataFrame:
    """First and last local time per offset: enough to give a member's span in UTC later."""
    return events.group_by("utc_offset").agg(
        pl.col("host").first(), pl.col("ts_local").min().alias("first"), pl.col("ts_local").max().alias("last")
    )


def _respan(spans: pl.DataFrame) -> pl.DataFrame:
    """Chunks' spans of one member as one span per offset."""
    return spans.group_by("utc_offset").agg(pl.col("host").first(), pl.col("first").min(), pl.col("last").max())


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
        # handed over, not shared: a collector's parts are freed as soon as its combine lets go of them
        sections[collector.name] = collector.combine([r.parts.pop(collector.name) for r in results
                                                      if collector.name in r.parts], view)
    sections["unknown_errors"] = templates_section([r.unknown for r in results if r.unknown.height], view.to_utc)
    table_hits = [table for c in collectors if (table := c.rule_hits(rules)) is not None]  # task rules
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
    return dominant_host([r.counts.select("host", "count") for r in results if r.counts.height])


def _utc_span(spans: pl.DataFrame, offsets: pl.DataFrame) -> tuple[str | None, str | None]:
    spans = spans.filter(pl.col("first").is_not_null())
    if spans.height == 0:
        return None, None
    first = fill_offsets(spans.select("host", pl.col("first").alias("ts_local"), "utc_offset"), offsets)
    last = fill_offsets(spans.select("host", pl.col("last").alias("ts_local"), "utc_offset"), offsets)
    return iso(first["ts"].min()), iso(last["ts"].max())  # type: ignore[arg-type]
