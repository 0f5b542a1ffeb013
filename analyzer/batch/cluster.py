"""One report for the bundles of one cluster: every node on one time axis, findings side by side.

Bundles are grouped by the Arakoon node names their `cluster_evidence` section shares (see
`analyzer.collectors.cluster_evidence`), or all together under `--cluster NAME`. A cluster report is the
ordinary report page (`report.render_html` via `report.write_documents`) fed with a merged
findings document: all nodes' findings, one timeline lane per node and producer, plus a
`cluster` section with the clock skew between nodes (`analyzer.batch.skew`) and the incidents, i.e.
problems on different nodes that overlap in time. With `align_clocks`, every time of a node is
moved onto the reference node's clock before anything is merged.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl

from analyzer import __version__
from analyzer.batch.jobs import Outcome
from analyzer.batch.skew import Skew, estimate, shift
from analyzer.detection.causes import chains_document, root_causes, start_here
from analyzer.detection.findings import SCHEMA_ID
from analyzer.detection.loader import pack_links
from analyzer.detection.rule import SEVERITIES
from analyzer.isotime import parse_iso
from analyzer.outputs.redact import Redactor, redact_outputs

#: Problems starting on different nodes closer than this belong to one incident.
INCIDENT_GAP = timedelta(minutes=5)


@dataclass
class Group:
    """Bundles found to be one cluster, and how that was decided."""

    name: str
    outcomes: list[Outcome]
    recognised_by: str


def group(outcomes: list[Outcome], forced: str | None = None) -> list[Group]:
    """Clusters of two nodes or more (all analyzed bundles under one name if `forced`)."""
    ok = [o for o in outcomes if o.row["status"] == "ok"]
    if forced:
        return [Group(forced, ok, "named with --cluster")] if ok else []
    parent = list(range(len(ok)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, outcome in enumerate(ok):
        for name in outcome.evidence.get("arakoon_nodes", []):
            if name in owner:
                parent[root(i)] = root(owner[name])
            else:
                owner[name] = i
    members: dict[int, list[Outcome]] = {}
    for i, outcome in enumerate(ok):
        members.setdefault(root(i), []).append(outcome)
    groups = []
    for found in members.values():
        hosts = sorted({o.row["host"] or o.row["bundle"] for o in found})
        if len(hosts) < 2:  # one node (maybe two bundles of it) is no cluster
            continue
        name = "+".join(hosts) if len(hosts) <= 4 else f"{hosts[0]}+{len(hosts) - 1}-more"
        clusters = sorted({c for o in found for c in o.evidence.get("arakoon_clusters", [])})
        groups.append(Group(name, found, f"shared Arakoon node names ({', '.join(clusters) or 'arakoon'} cluster)"))
    return sorted(groups, key=lambda g: g.name)


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", name).strip("._") or "cluster"


def write_cluster_report(found: Group, out: Path, bundles_root: Path, align: bool,
                         generated_at: str, redactor: Redactor | None = None) -> dict[str, Any]:
    """Write `out/report.html` (and the merged findings.json, csv, summary) and return its index entry.

    The bundles' documents are already scrubbed, the nodes' evidence and counts are not: the report
    is scrubbed as one bundle's is, with the run's `redactor` (the entry is not: the index is).
    """
    from analyzer.outputs.report import timeline_from_counts, write_documents

    docs = [(o, json.loads((bundles_root / o.row["report"]).with_name("findings.json").read_text(encoding="utf-8")))
            for o in found.outcomes]
    anchors: dict[str, list[dict[str, Any]]] = {}
    for outcome, _ in docs:
        anchors.setdefault(_host(outcome), []).extend(outcome.evidence.get("anchors", []))
    reference, skews = estimate(anchors)
    offsets = {s.host: (s.offset_seconds or 0.0) if align else 0.0 for s in skews}
    findings = sorted((_shifted_finding(f, offsets.get(_host(o), 0.0)) for o, doc in docs for f in doc["findings"]),
                      key=lambda f: (-SEVERITIES.index(f["severity"]), f["first_seen"] or "~", f["rule_id"],
                                     f["hosts"]))
    counts = _merged_counts([(o.counts, offsets.get(_host(o), 0.0)) for o, _ in docs])
    doc = _cluster_document(found, docs, findings, offsets, generated_at)
    doc["sections"] = {"cluster": {
        "name": found.name, "recognised_by": found.recognised_by, "aligned": align, "reference": reference,
        "nodes": [_node_row(o, d) for o, d in docs],
        "skew": [s.to_dict() for s in skews],
        "skew_statement": _skew_statement(reference, skews, align),
        "incidents": incidents(findings),
    }}
    write_documents(*redact_outputs(doc, timeline_from_counts(counts, doc), redactor), out)
    return {"name": found.name, "hosts": doc["bundle"]["hosts"], "bundles": [o.row["bundle"] for o, _ in docs],
            "worst": doc["verdict"], "recognised_by": found.recognised_by, "reference": reference,
            "aligned": align, "skew": [s.to_dict() for s in skews],
            "incidents": len(doc["sections"]["cluster"]["incidents"])}


def _host(outcome: Outcome) -> str:
    return outcome.row["host"] or outcome.row["bundle"]


def _shifted_finding(finding: dict[str, Any], offset: float) -> dict[str, Any]:
    if not offset:
        return finding
    return {**finding, "first_seen": shift(finding["first_seen"], offset),
            "last_seen": shift(finding["last_seen"], offset),
            "evidence": [{**e, "timestamp": shift(e["timestamp"], offset)} for e in finding["evidence"]]}


def _merged_counts(parts: list[tuple[pl.DataFrame, float]]) -> pl.DataFrame:
    frames = []
    for counts, offset in parts:
        if counts.height:
            moved = pl.col("minute") - pl.duration(microseconds=round(offset * 1e6))
            frames.append(counts.select("host", "producer", "level", moved.dt.truncate("1m").alias("minute"), "count"))
    if not frames:
        return pl.DataFrame()
    return (pl.concat(frames, how="vertical_relaxed").group_by("host", "producer", "level", "minute")
            .agg(pl.col("count").sum()).sort("minute", "host", "producer", "level"))


def incidents(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Problems (not info) that start on two nodes or more, each within `INCIDENT_GAP` of the previous
    start: one failure seen from several nodes, or a failure on one node and its effect on another."""
    timed = sorted((f for f in findings if f["severity"] != "info" and f["first_seen"]),
                   key=lambda f: (f["first_seen"], f["hosts"]))
    runs: list[list[dict[str, Any]]] = []
    for f in timed:
        if runs and parse_iso(f["first_seen"]) <= parse_iso(runs[-1][-1]["first_seen"]) + INCIDENT_GAP:
            runs[-1].append(f)
        else:
            runs.append([f])
    found = []
    for run in runs:
        hosts = sorted({h for f in run for h in f["hosts"]})
        if len(hosts) < 2:
            continue
        worst = max((f["severity"] for f in run), key=SEVERITIES.index)
        found.append({
            "start": min(f["first_seen"] for f in run), "end": max(f["last_seen"] or f["first_seen"] for f in run),
            "hosts": hosts, "worst": worst,
            "findings": [{"host": ", ".join(f["hosts"]), "severity": f["severity"], "rule_id": f["rule_id"],
                          "title": f["title"], "first_seen": f["first_seen"], "entities": f["entities"]} for f in run],
        })
    return found


def _skew_statement(reference: str | None, skews: list[Skew], align: bool) -> str:
    if reference is None:
        return "No node logged a cluster-wide event: clock skew could not be estimated."
    measured = [s for s in skews if s.host != reference and s.offset_seconds is not None]
    if not measured:
        return f"No event was seen both on {reference} and another node: clock skew could not be estimated."
    worst = max(measured, key=lambda s: abs(s.offset_seconds or 0.0))
    applied = ("applied: every time is on the clock of " + reference) if align else \
        "not applied (use --align-clocks to move every node onto the reference clock)"
    return (f"Largest clock difference: {worst.host} {worst.offset_seconds:+.3f} s against {reference} "
            f"({worst.confidence} confidence, {worst.pairs} shared events); {applied}.")


def _node_row(outcome: Outcome, doc: dict[str, Any]) -> dict[str, Any]:
    evidence = outcome.evidence
    return {"host": _host(outcome), "bundle": outcome.row["bundle"], "role": evidence.get("role"),
            "arakoon_node": ", ".join(evidence.get("arakoon_self", [])) or None,
            "vpools": evidence.get("vpools", []), "worst": doc["verdict"], "findings": len(doc["findings"]),
            "first_seen": doc["bundle"]["first_seen"], "last_seen": doc["bundle"]["last_seen"],
            "report": outcome.row["report"]}


def _cluster_document(found: Group, docs: list[tuple[Outcome, dict[str, Any]]], findings: list[dict[str, Any]],
                      offsets: dict[str, float], generated_at: str) -> dict[str, Any]:
    """A findings document (same schema as one bundle's) for the whole cluster."""
    bundles = [d["bundle"] for _, d in docs]
    coverages = [d["coverage"] for _, d in docs]
    fired = sorted({r for c in coverages for r in c["rules_fired"]})
    problems = [f for f in findings if f["severity"] != "info"]
    spans = [(shift(d["bundle"]["first_seen"], offsets.get(_host(o), 0.0)),
              shift(d["bundle"]["last_seen"], offsets.get(_host(o), 0.0))) for o, d in docs]
    firsts = [first for first, _ in spans if first]
    lasts = [last for _, last in spans if last]
    settings = {**docs[0][1]["settings"], "cluster": found.name}
    # across nodes, on the aligned clocks the findings carry
    chains = root_causes(findings, pack_links(tuple(Path(d) for d in settings.get("extra_rule_dirs") or ())))
    return {
        "schema": SCHEMA_ID,
        "tool": {"name": "ovs-analyzer", "version": __version__},
        "generated_at": generated_at,
        "settings": settings,
        "bundle": {
            "file": f"cluster {found.name}: " + ", ".join(o.row["bundle"] for o, _ in docs),
            "sha256": None, "host_hint": None, "collected_at": None,
            "hosts": sorted({h for b in bundles for h in b["hosts"]}),
            "first_seen": min(firsts, default=None), "last_seen": max(lasts, default=None),
            "members": sum(b["members"] for b in bundles), "lines": sum(b["lines"] for b in bundles),
            "unparsed_records": sum(b["unparsed_records"] for b in bundles),
            "events_with_learned_offset": sum(b.get("events_with_learned_offset", 0) for b in bundles),
            "warnings": [f"{o.row['bundle']}: {w}" for o, d in docs for w in d["bundle"]["warnings"]],
            "inventory": [{**m, "path": f"{_host(o)}: {m['path']}"} for o, d in docs for m in d["bundle"]["inventory"]],
        },
        "verdict": max((f["severity"] for f in problems), key=SEVERITIES.index, default=None)
        or ("inconclusive" if all(d["verdict"] == "inconclusive" for _, d in docs) else "clean"),
        "counts": {s: sum(f["severity"] == s for f in findings) for s in reversed(SEVERITIES)},
        "start_here": start_here(chains, findings),
        "root_causes": chains_document(chains, findings),
        "coverage": {
            "rules_loaded": max(c["rules_loaded"] for c in coverages),
            "rules_fired": fired,
            "rules_silent": sorted({r for c in coverages for r in c["rules_silent"]} - set(fired)),
            "gaps": [{**g, "start": shift(g["start"], offsets.get(g["host"], 0.0)),
                      "end": shift(g["end"], offsets.get(g["host"], 0.0))}
                     for c in coverages for g in c.get("gaps", [])],
        },
        "findings": findings,
        "sections": {},
    }
