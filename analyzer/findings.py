"""Group rule hits into findings: one per rule and entity, with the evidence to trust it.

The findings document (`findings.json`, schema `ovs-analyzer/findings/1`, described in
`analyzer/findings.schema.json`) is the one contract other tools consume; its field order and
sort order are fixed so the same bundle always gives the same bytes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import polars as pl

from analyzer.rules import SEVERITIES, Rule

SCHEMA_ID = "ovs-analyzer/findings/1"
EVIDENCE_ALL_UP_TO = 20
EVIDENCE_EDGE = 10


@dataclass(frozen=True)
class Evidence:
    """One matching record, as found in the bundle."""

    source: str
    line: int
    timestamp: str | None
    host: str | None
    raw: str


@dataclass(frozen=True)
class Finding:
    """A rule that fired, for one entity (volume, OSD, ...) or for the whole bundle."""

    rule_id: str
    title: str
    severity: str
    component: str
    count: int
    first_seen: str | None
    last_seen: str | None
    hosts: list[str]
    entities: dict[str, str]
    vpools: list[str]
    description: str
    remediation: str
    references: list[str]
    hc_codes: list[str]
    evidence: list[Evidence]
    evidence_omitted: int

    @property
    def severity_rank(self) -> int:
        return SEVERITIES.index(self.severity)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def iso(ts: datetime | None) -> str | None:
    """ISO 8601 UTC with microseconds and a `Z`, the one time format of every output."""
    if ts is None:
        return None
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build_findings(hits: pl.DataFrame, rules: list[Rule]) -> list[Finding]:
    """`hits` has `rule_id`, the hit columns, UTC `ts`, and the rules' entity columns."""
    if hits.height == 0:
        return []
    by_id = {r.id: r for r in rules}
    findings: list[Finding] = []
    ordered = hits.sort(["rule_id", "ts", "source", "line"], nulls_last=True)
    for (rule_id,), rule_hits in ordered.group_by("rule_id", maintain_order=True):
        rule = by_id[str(rule_id)]
        keys = [e for e in rule.entities if e in rule_hits.columns]
        groups = rule_hits.group_by(keys, maintain_order=True) if keys else [((), rule_hits)]
        for key, group in groups:
            entities = {k: str(v) for k, v in zip(keys, key, strict=True) if v is not None}
            findings.append(_finding(rule, entities, group))
    return sorted(findings, key=lambda f: (-f.severity_rank, f.first_seen or "~", f.rule_id,
                                           sorted(f.entities.items())))


def _finding(rule: Rule, entities: dict[str, str], group: pl.DataFrame) -> Finding:
    count = group.height
    shown = group if count <= EVIDENCE_ALL_UP_TO else pl.concat([group.head(EVIDENCE_EDGE), group.tail(EVIDENCE_EDGE)])
    evidence = [
        Evidence(source=row["source"], line=int(row["line"]), timestamp=iso(row["ts"]),
                 host=row["host"], raw=row["raw"])
        for row in shown.select("source", "line", "ts", "host", "raw").iter_rows(named=True)
    ]
    times = group["ts"].drop_nulls()
    vpools = sorted(group["vpool"].drop_nulls().unique().to_list()) if "vpool" in group.columns else []
    return Finding(
        rule_id=rule.id,
        title=rule.title,
        severity=rule.severity,
        component=rule.component,
        count=count,
        first_seen=iso(times.min()) if times.len() else None,  # type: ignore[arg-type]
        last_seen=iso(times.max()) if times.len() else None,  # type: ignore[arg-type]
        hosts=sorted(group["host"].drop_nulls().unique().to_list()),
        entities=entities,
        vpools=vpools,
        description=rule.description,
        remediation=rule.remediation,
        references=list(rule.references),
        hc_codes=list(rule.hc_codes),
        evidence=evidence,
        evidence_omitted=count - len(evidence),
    )


def worst_severity(findings: list[Finding]) -> str | None:
    return max((f.severity for f in findings), key=SEVERITIES.index, default=None)
