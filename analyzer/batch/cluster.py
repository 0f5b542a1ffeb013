"""One report for the bundles of one cluster: every node on one time axis, findings side by side.

Bundles are grouped by the names their `cluster_evidence` sections share (see `group` and
`analyzer.collectors.cluster_evidence`), or all together under `--cluster NAME`. A cluster report is the
ordinary report page (`report.render_html` via `report.write_documents`) fed with a merged
findings document: all nodes' findings, one timeline lane per node and producer, plus a
`cluster` section with the clock skew between nodes (`analyzer.batch.skew`) and the incidents, i.e.
problems on different nodes that overlap in time. With `align_clocks`, every time of a node is
moved onto the reference node's clock before anything is merged.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl

from analyzer import __version__
from analyzer.batch.jobs import Outcome
from analyzer.batch.skew import SHORT, Skew, estimate, shift
from analyzer.detection.causes import chains_document, root_causes, start_here
from analyzer.detection.findings import SCHEMA_ID
from analyzer.detection.loader import pack_links
from analyzer.detection.rule import SEVERITIES
from analyzer.isotime import parse_iso
from analyzer.outputs.redact import Redactor, redact_outputs

#: Problems starting on different nodes closer than this belong to one incident.
INCIDENT_GAP = timedelta(minutes=5)
#: Names that link every bundle mentioning them: random per cluster, so no other cluster has them.
SHARED_NAMES = ("arakoon_nodes", "task_ids", "cluster_ids")
#: Names one bundle mentions as a peer's, and the list of those another bundle states as its own.
PEER_NAMES = {"peer_addresses": "own_addresses", "peer_hosts": "own_hosts"}
#: How `recognised_by` counts each kind, in its order: (one, many).
LABELS = {"arakoon_nodes": ("Arakoon node id", "Arakoon node ids"), "task_ids": ("Celery task id", "Celery task ids"),
          "cluster_ids": ("framework cluster id", "framework cluster ids"),
          "peer_addresses": ("peer address", "peer addresses"), "peer_hosts": ("peer host name", "peer host names")}


@dataclass
class Group:
    """Bundles found to be one cluster, and how that was decided."""

    name: str
    outcomes: list[Outcome]
    recognised_by: str
    #: How many names of each kind (an evidence list of `cluster_evidence`) linked its bundles.
    shared: dict[str, int] = field(default_factory=dict)


def group(outcomes: list[Outcome], forced: str | None = None) -> list[Group]:
    """Clusters of two nodes or more (all analyzed bundles under one name if `forced`).

    Two bundles are one cluster when they name the same random id (`SHARED_NAMES`), or when one
    names a peer address or host that the other, and no other bundle, states as its own
    (`PEER_NAMES`): lab clusters cloned from one template reuse host names and addresses, so a
    name two bundles own is ambiguous and links nothing. A bundle linked to one of a cluster is
    in it (links are transitive). Two bundles of one host are one node, not a cluster.
    """
    ok = [o for o in outcomes if o.row["status"] == "ok"]
    if forced:
        return [Group(forced, ok, "named with --cluster")] if ok else []
    parent = list(range(len(ok)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    links = _links(ok)
    for i, j, _, _ in links:
        parent[root(i)] = root(j)
    members: dict[int, list[Outcome]] = {}
    for i, outcome in enumerate(ok):
        members.setdefault(root(i), []).append(outcome)
    named: dict[int, set[tuple[str, str]]] = {}
    for i, _, kind, name in links:
        named.setdefault(root(i), set()).add((kind, name))
    groups = []
    for top, found in members.items():
        hosts = sorted({o.row["host"] or o.row["bundle"] for o in found})
        if len(hosts) < 2:  # one node (maybe two bundles of it) is no cluster
            continue
        name = "+".join(hosts) if len(hosts) <= 4 else f"{hosts[0]}+{len(hosts) - 1}-more"
        shared = dict(sorted(Counter(kind for kind, _ in named[top]).items(), key=lambda k: list(LABELS).index(k[0])))
        clusters = sorted({c for o in found for c in o.evidence.get("arakoon_clusters", [])})
        groups.append(Group(name, found, _recognised_by(shared, clusters), shared))
    return _unique_names(sorted(groups, key=_order))


def _order(found: Group) -> tuple[str, str, str]:
    """By name, then by the first bundle (its name, and its path: cloned labs name bundles alike)."""
    first = found.outcomes[0].row
    return found.name, first["bundle"], first.get("path") or ""


def _links(ok: list[Outcome]) -> list[tuple[int, int, str, str]]:
    """(bundle, bundle, evidence kind, name) for every name that links two bundles (see `group`)."""
    links = []
    for kind in SHARED_NAMES:
        first: dict[str, int] = {}
        for i, outcome in enumerate(ok):
            for name in outcome.evidence.get(kind, []):
                if (j := first.setdefault(name, i)) != i:
                    links.append((i, j, kind, name))
    for kind, owned in PEER_NAMES.items():
        owners: dict[str, set[int]] = {}
        for i, outcome in enumerate(ok):
            for name in outcome.evidence.get(owned, []):
                owners.setdefault(name, set()).add(i)
        for i, outcome in enumerate(ok):
            for name in outcome.evidence.get(kind, []):
                holders = owners.get(name, set())
                if len(holders) == 1 and (j := min(holders)) != i:
                    links.append((i, j, kind, name))
    return links


def _recognised_by(shared: dict[str, int], arakoon_clusters: list[str]) -> str:
    """`shared names in the logs: 3 Arakoon node ids (ovsdb), 41 Celery task ids, 2 peer addresses`."""
    parts = []
    for kind, count in shared.items():
        text = f"{count} {LABELS[kind][count != 1]}"
        if kind == "arakoon_nodes" and arakoon_clusters:
            text += f" ({', '.join(arakoon_clusters)})"
        parts.append(text)
    return "shared names in the logs: " + ", ".join(parts)


def _unique_names(groups: list[Group]) -> list[Group]:
    """Two clusters of the same host names (cloned labs) get `-2`, `-3`...: each its own report folder."""
    seen: Counter[str] = Counter()
    for found in groups:
        seen[found.name] += 1
        if seen[found.name] > 1:
            found.name = f"{found.name}-{seen[found.name]}"
    return groups


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
    docs, left_out = _newest_per_host(docs)
    anchors: dict[str, list[dict[str, Any]]] = {}
    for outcome, _ in docs:
        anchors.setdefault(_host(outcome), []).extend(outcome.evidence.get("anchors", []))
    reference, skews = estimate(anchors)
    offsets = {s.host: (s.offset_seconds or 0.0) if align else 0.0 for s in skews}
    findings = sorted((_node_finding(f, _host(o), offsets.get(_host(o), 0.0))
                       for o, doc in docs for f in doc["findings"]),
                      key=lambda f: (-SEVERITIES.index(f["severity"]), f["first_seen"] or "~", f["rule_id"],
                                     f["hosts"]))
    counts = _merged_counts([(o.counts, offsets.get(_host(o), 0.0)) for o, _ in docs])
    doc = _cluster_document(found, docs, findings, offsets, generated_at)
    doc["bundle"]["warnings"][:0] = left_out.values()
    doc["sections"] = {"cluster": {
        "name": found.name, "recognised_by": found.recognised_by, "aligned": align, "reference": reference,
        "nodes": [_node_row(o, d, bundles_root, out) for o, d in docs],
        "skew": [s.to_dict() for s in skews],
        "skew_statement": _skew_statement(reference, skews, align),
        "incidents": incidents(findings),
    }}
    write_documents(*redact_outputs(doc, timeline_from_counts(counts, doc), redactor), out)
    return {"name": found.name, "hosts": doc["bundle"]["hosts"], "bundles": [o.row["bundle"] for o, _ in docs],
            "left_out": list(left_out),
            "worst": doc["verdict"], "recognised_by": found.recognised_by, "reference": reference,
            "aligned": align, "skew": [s.to_dict() for s in skews],
            "incidents": len(doc["sections"]["cluster"]["incidents"])}


def _newest_per_host(docs: list[tuple[Outcome, dict[str, Any]]]) -> tuple[list[tuple[Outcome, dict[str, Any]]],
                                                                          dict[str, str]]:
    """One bundle per node, the newest (collected last, else ending last), and why each other was
    left out, by bundle name. Two bundles of one node overlap (a bundle mailed twice, collected again
    the next day): both in one view would show each finding of that node twice and double its lane.
    A byte-for-byte copy (`copy_of`, see `triage.mark_copies`) gives way to the bundle it copies."""
    names = {outcome.row["bundle"] for outcome, _ in docs}
    left_out = {outcome.row["bundle"]: f"{outcome.row['bundle']} is a byte-for-byte copy of {outcome.row['copy_of']}"
                for outcome, _ in docs if outcome.row.get("copy_of") in names}
    newest: dict[str, tuple[Outcome, dict[str, Any]]] = {}
    for outcome, doc in docs:
        if outcome.row["bundle"] not in left_out:
            kept = newest.setdefault(_host(outcome), (outcome, doc))
            if _recency(doc) > _recency(kept[1]):
                newest[_host(outcome)] = (outcome, doc)
    for outcome, _ in docs:
        kept = newest[_host(outcome)][0]
        if kept is not outcome and outcome.row["bundle"] not in left_out:
            left_out[outcome.row["bundle"]] = (f"{outcome.row['bundle']} is a bundle of {_host(outcome)} older than "
                                               f"{kept.row['bundle']}")
    shown = [(outcome, doc) for outcome, doc in docs if newest[_host(outcome)][0] is outcome]
    return shown, {name: f"{why}: left out of the cluster view (its findings would show twice); its own report "
                         "has them" for name, why in left_out.items()}


def _recency(doc: dict[str, Any]) -> tuple[str, str]:
    bundle = doc["bundle"]
    return bundle["collected_at"] or "", bundle["last_seen"] or ""


def _host(outcome: Outcome) -> str:
    return outcome.row["host"] or outcome.row["bundle"]


def _node_finding(finding: dict[str, Any], host: str, offset: float) -> dict[str, Any]:
    """A node's finding as the cluster shows it: every evidence line says its node (a cluster's
    `var/log/ovs/lib.log:963` is on one node of several), times moved onto the reference clock."""
    return {**finding, "first_seen": shift(finding["first_seen"], offset),
            "last_seen": shift(finding["last_seen"], offset),
            "evidence": [{**e, "host": e.get("host") or host, "timestamp": shift(e["timestamp"], offset)}
                         for e in finding["evidence"]]}


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
    """The cluster section's one paragraph on clocks: the largest offset, how it was measured and how
    tightly, what was applied, and every disagreement between methods."""
    if reference is None:
        return "No node logged a cluster-wide event: clock skew could not be estimated."
    measured = [s for s in skews if s.host != reference and s.offset_seconds is not None]
    notes = "".join(f" {s.host}: {s.note}." for s in skews if s.note)
    if not measured:
        return f"No event was seen both on {reference} and another node: clock skew could not be estimated.{notes}"
    worst = max(measured, key=lambda s: abs(s.offset_seconds or 0.0))
    applied = ("applied: every time is on the clock of " + reference) if align else \
        "not applied (use --align-clocks to move every node onto the reference clock)"
    how = _how(worst)
    return (f"Largest clock difference: {worst.host} {worst.offset_seconds:+.3f} s against {reference} "
            f"({worst.confidence} confidence, {worst.pairs} shared events{how}); {applied}.{notes}")


def _how(skew: Skew) -> str:
    """`, from Celery tasks, bounds +37.240 .. +37.262 s`: the method the offset came from (elections when
    they gave one), and the interval the node's clock is known to lie in."""
    elected = [e for e in skew.by_method if e.method == "elections" and e.offset_seconds is not None]
    methods = " and ".join(SHORT.get(e.method, e.method) for e in elected or skew.by_method) or "shared events"
    if skew.lower_seconds is None or skew.upper_seconds is None:
        return f", from {methods}"
    return f", from {methods}, bounds {skew.lower_seconds:+.3f} .. {skew.upper_seconds:+.3f} s"


def _node_row(outcome: Outcome, doc: dict[str, Any], bundles_root: Path, out: Path) -> dict[str, Any]:
    """One node of the cluster table; its report linked relative to the cluster report's folder."""
    evidence = outcome.evidence
    return {"host": _host(outcome), "bundle": outcome.row["bundle"], "role": evidence.get("role"),
            "arakoon_node": ", ".join(evidence.get("arakoon_self", [])) or None,
            "vpools": evidence.get("vpools", []), "worst": doc["verdict"], "findings": len(doc["findings"]),
            "first_seen": doc["bundle"]["first_seen"], "last_seen": doc["bundle"]["last_seen"],
            "report": Path(os.path.relpath(bundles_root / outcome.row["report"], out)).as_posix()}


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
