"""Turn rule hits (and per-minute counts) into findings: one per rule and entity, with the
evidence to trust it and a sentence saying why it fired.

The findings document (`findings.json`, schema `ovs-analyzer/findings/1`, described in
`analyzer/outputs/findings.schema.json`) is the one contract other tools consume; its field order and
sort order are fixed so the same bundle always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from analyzer.detection.rule import SEVERITIES, Rule
from analyzer.detection.windows import EVIDENCE_COLUMNS, chains, gaps, peaks
from analyzer.durations import duration_label
from analyzer.isotime import iso

SCHEMA_ID = "ovs-analyzer/findings/1"
EVIDENCE_ALL_UP_TO = 20
EVIDENCE_EDGE = 10


@dataclass(frozen=True)
class Evidence:
    """One matching record, as found in the bundle, with the lines around it."""

    source: str
    line: int
    timestamp: str | None
    host: str | None
    raw: str
    context_before: list[str] = field(default_factory=list)
    context_after: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    """A rule that fired, for one entity (volume, OSD, ...) or for the whole bundle."""

    rule_id: str
    title: str
    severity: str
    component: str
    kind: str
    count: int
    first_seen: str | None
    last_seen: str | None
    hosts: list[str]
    entities: dict[str, str]
    vpools: list[str]
    detail: str
    description: str
    remediation: str
    references: list[str]
    hc_codes: list[str]
    related: list[str]
    evidence: list[Evidence]
    evidence_omitted: int
    #: The rule's version range against the node's installed version (rules with `versions` only).
    versions: str | None = None

    @property
    def severity_rank(self) -> int:
        return SEVERITIES.index(self.severity)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def worst_severity(findings: list[Finding]) -> str | None:
    return max((f.severity for f in findings), key=SEVERITIES.index, default=None)


def verdict(findings: list[Finding], coverage: dict[str, Any] | None = None) -> str:
    """The bundle's worst problem; `info` findings are facts (a start, a version), not problems.

    With nothing found, `inconclusive` instead of `clean` when most enabled rules could not run
    (none of the producers they read logged anything): "nothing found" would then mean nothing.
    """
    worst = worst_severity([f for f in findings if f.severity != "info"])
    if worst:
        return worst
    return "inconclusive" if coverage and mostly_unavailable(coverage) else "clean"


def mostly_unavailable(coverage: dict[str, Any]) -> bool:
    """Whether more than half of the enabled rules had nothing to read (see `rule_coverage`)."""
    enabled = coverage.get("rules_loaded", 0) - len(coverage.get("rules_disabled") or ())
    return enabled > 0 and 2 * len(coverage.get("rules_unavailable") or ()) > enabled


#: Some columns of hits (their text, the lines around it) at some `_hit` row numbers (a null row
#: gives nulls).
TextOf = Callable[[pl.Series, Sequence[str]], pl.DataFrame]
#: The lines around a hit that its evidence shows.
_CONTEXT = ("context_before", "context_after")
#: What a grouped finding's evidence shows beside the hit columns (a chain's shows the text alone):
#: a bundle's hits may keep it packed, for `text_of` to read back.
EVIDENCE_TEXT = ("raw", *_CONTEXT)
#: The hit columns a rule's grouped findings read besides the rule's entities.
_FINDING_COLUMNS = ("source", "line", "ts", "host", "vpool", "_hit", *EVIDENCE_TEXT)


def build_findings(hits: pl.DataFrame, counts: pl.DataFrame, rules: list[Rule],
                   end_of_logs: datetime | None, text_of: TextOf | None = None) -> list[Finding]:
    """`hits` has `rule_id`, the hit columns, UTC `ts` and entity columns; `counts` per-minute counts.

    A hit without its `raw` text and context has a `_hit` row number instead, and `text_of` reads
    those of the hits shown as evidence (a bundle's hits may be millions, their text gigabytes),
    for every finding in one call: each call unpacks the parts that hold them."""
    hit_rules = set(hits["rule_id"].unique().to_list()) if hits.height else set()
    drafts: list[_Draft] = []
    for rule in rules:
        if not rule.enabled:
            continue
        if rule.kind in ("match", "threshold", "clock_jump", "task") and rule.id in hit_rules:
            # one rule's hits at a time, and only the columns its findings read: sorting and
            # splitting all of them at once held every hit twice more
            wanted = [c for c in (*_FINDING_COLUMNS, *rule.entities) if c in hits.columns]
            rows = hits.lazy().filter(pl.col("rule_id") == rule.id).select(list(dict.fromkeys(wanted))) \
                .sort(["ts", "source", "line"], nulls_last=True).collect()
            drafts.extend(_grouped(rule, rows))
        elif rule.kind == "sequence" and hits.height:
            drafts.extend(_chained(rule, hits, end_of_logs))
        elif rule.kind == "absence" and counts.height:
            drafts.extend(_Draft(finding) for finding in _silent(rule, counts))
    findings = _with_evidence(drafts, text_of)
    return sorted(findings, key=lambda f: (-f.severity_rank, f.first_seen or "~", f.rule_id,
                                           sorted(f.entities.items())))


def _grouped(rule: Rule, rows: pl.DataFrame) -> list[_Draft]:
    keys = [k for k in rule.entities if k in rows.columns]
    if "vpool" in keys:
        rows = borrow_vpool(rows)
    window = rule.threshold or rule.escalate_when
    peak_of: dict[tuple, tuple[int, datetime]] = {}
    if window:
        for row in peaks(rows, keys, window).iter_rows():
            peak_of[tuple(row[: len(keys)])] = (int(row[-2]), row[-1])
    groups = rows.group_by(keys, maintain_order=True) if keys else [((), rows)]
    drafts = []
    for key, group in groups:
        key = tuple(key)
        peak, peak_end = peak_of.get(key, (0, None))
        severity, detail = rule.severity, f"{group.height} matching record{'s' if group.height != 1 else ''}"
        if rule.threshold:
            if peak < rule.threshold.count:
                continue
            detail = f"{peak} records within {rule.threshold.label} (up to {iso(peak_end)}); {group.height} in all"
        if rule.escalate_when and rule.escalate_to and peak >= rule.escalate_when.count:
            severity = rule.escalate_to
            detail += (f"; escalated from {rule.severity}: {peak} within {rule.escalate_when.label} "
                       f"(at least {rule.escalate_when.count})")
        entities = {k: str(v) for k, v in zip(keys, key, strict=True) if v is not None}
        drafts.append(_finding(rule, group, entities, severity, detail, EVIDENCE_TEXT))
    return drafts


def borrow_vpool(rows: pl.DataFrame) -> pl.DataFrame:
    """A hit that does not name its vPool takes the vPool of the same host's nearest hit within a minute.

    The kernel's `volumedriver_fs[pid]: segfault` line and systemd's
    `ovs-volumedriver_<vpool>.service: Main process exited` line are one crash; without this
    they would be two findings, one of them about no vPool at all.
    """
    missing = pl.col("vpool").is_null() & pl.col("ts").is_not_null()
    if rows.height == 0 or not rows.select(missing.any()).item():
        return rows
    named = rows.filter(pl.col("vpool").is_not_null() & pl.col("ts").is_not_null())
    if named.height == 0:
        return rows
    lookup = named.select("host", "ts", pl.col("vpool").alias("_near")).sort("ts")
    indexed = rows.with_row_index("_row")
    guessed = (
        indexed.filter(missing).select("_row", "host", "ts").sort("ts")
        .join_asof(lookup, on="ts", by="host", strategy="nearest", tolerance=timedelta(minutes=1),
                   check_sortedness=False)
        .select("_row", "_near")
    )
    return (
        indexed.join(guessed, on="_row", how="left")
        .sort("_row")
        .with_columns(pl.coalesce("vpool", "_near").alias("vpool"))
        .drop("_row", "_near")
    )


def _chained(rule: Rule, hits: pl.DataFrame, end_of_logs: datetime | None) -> list[_Draft]:
    sequence = rule.sequence
    assert sequence is not None
    instances = chains(hits, sequence, end_of_logs)
    if instances.height == 0:
        return []
    keys = list(sequence.join_on)
    present = len(sequence.steps) - (1 if sequence.absent_last else 0)
    drafts = []
    for key, group in instances.sort("ts0").group_by(keys, maintain_order=True):
        steps = [
            group.select(*[pl.col(f"{c}{k}").alias(c) for c in EVIDENCE_COLUMNS if f"{c}{k}" in group.columns])
            for k in range(present)
        ]
        records = pl.concat(steps).unique(["source", "line"]).sort("ts", "source", "line")
        if sequence.absent_last:
            detail = (f"{group.height} time(s) {' then '.join(sequence.steps[:-1])} was not followed by "
                      f"{sequence.steps[-1]} within {duration_label(sequence.within)}")
        else:
            steps = " then ".join(sequence.steps)
            detail = f"{group.height} time(s) {steps}, each within {duration_label(sequence.within)}"
        entities = {k: str(v) for k, v in zip(keys, key, strict=True) if v is not None}
        drafts.append(_finding(rule, records, entities, rule.severity, detail, ("raw",), count=group.height))
    return drafts


def _silent(rule: Rule, counts: pl.DataFrame) -> list[Finding]:
    absence = rule.absence
    assert absence is not None
    silences = gaps(counts, absence)
    findings = []
    for (host, producer), group in silences.group_by("host", "producer", maintain_order=True):
        spans = [
            f"{iso(row['start'])} to {iso(row['end'])}{' (until the end of its logs)' if row['until_end'] else ''}"
            f", while {row['other']} other records were written"
            for row in group.iter_rows(named=True)
        ]
        detail = f"{producer} silent for {duration_label(absence.silent_for)} or more: " + "; ".join(spans)
        findings.append(Finding(
            rule_id=rule.id, title=rule.title, severity=rule.severity, component=rule.component, kind=rule.kind,
            count=group.height,
            first_seen=iso(group["start"].min()),  # type: ignore[arg-type]
            last_seen=iso(group["end"].max()),  # type: ignore[arg-type]
            hosts=[str(host)], entities={"host": str(host), "producer": str(producer)}, vpools=[],
            detail=detail, description=rule.description, remediation=rule.remediation,
            references=list(rule.references), hc_codes=list(rule.hc_codes), related=[], evidence=[],
            evidence_omitted=0,
        ))
    return findings


@dataclass(frozen=True)
class _Draft:
    """A finding whose evidence is still to be written: the records it shows, and which columns
    of text it shows of them (a chain's shows the text alone)."""

    finding: Finding
    shown: pl.DataFrame | None = None
    text: Sequence[str] = ()


def _finding(rule: Rule, group: pl.DataFrame, entities: dict[str, str], severity: str, detail: str,
             text: Sequence[str], count: int | None = None) -> _Draft:
    records = group.height
    edges = [group.head(EVIDENCE_EDGE), group.tail(EVIDENCE_EDGE)]
    shown = group if records <= EVIDENCE_ALL_UP_TO else pl.concat(edges)
    times = group["ts"].drop_nulls()
    vpools = sorted(group["vpool"].drop_nulls().unique().to_list()) if "vpool" in group.columns else []
    finding = Finding(
        rule_id=rule.id,
        title=rule.title,
        severity=severity,
        component=rule.component,
        kind=rule.kind,
        count=records if count is None else count,
        first_seen=iso(times.min()) if times.len() else None,  # type: ignore[arg-type]
        last_seen=iso(times.max()) if times.len() else None,  # type: ignore[arg-type]
        hosts=sorted(group["host"].drop_nulls().unique().to_list()),
        entities=entities,
        vpools=vpools,
        detail=detail,
        description=rule.description,
        remediation=rule.remediation,
        references=list(rule.references),
        hc_codes=list(rule.hc_codes),
        related=list(rule.sequence.steps) if rule.sequence else [],
        evidence=[],
        evidence_omitted=records - shown.height,
    )
    return _Draft(finding, shown, text)


def _with_evidence(drafts: list[_Draft], text_of: TextOf | None) -> list[Finding]:
    """The drafts' findings with their evidence, the text of what they show read back (where
    their hits came without it) in one `text_of` call."""
    reading = [d.shown is not None and text_of is not None and "_hit" in d.shown.columns for d in drafts]
    wanted = [d.shown["_hit"].cast(pl.Int64) for d, read in zip(drafts, reading, strict=True)
              if read and d.shown is not None]
    read_back = text_of(pl.concat(wanted), EVIDENCE_TEXT) if text_of is not None and wanted else pl.DataFrame()
    findings, at = [], 0
    for draft, read in zip(drafts, reading, strict=True):
        shown = draft.shown
        if shown is None:
            findings.append(draft.finding)
            continue
        if read:
            texts = read_back.slice(at, shown.height)
            at += shown.height
            shown = shown.with_columns(pl.coalesce(c, texts[c]) if c in shown.columns else texts[c]
                                       for c in draft.text)
        findings.append(replace(draft.finding, evidence=_evidence(shown)))
    return findings


def _evidence(shown: pl.DataFrame) -> list[Evidence]:
    context = [c for c in _CONTEXT if c in shown.columns]
    return [
        Evidence(source=row["source"], line=int(row["line"]), timestamp=iso(row["ts"]), host=row["host"],
                 raw=row["raw"] if row["raw"] is not None else "",
                 **{c: list(row[c] or []) for c in context})
        for row in shown.select("source", "line", "ts", "host", "raw", *context).iter_rows(named=True)
    ]
