"""Compare two analyses of the same node or cluster: what appeared, what is resolved, what persists.

The "is it fixed?" question. Each side is a bundle (analyzed here, the usual way), a findings.json,
a report folder, or a triage output folder (every bundle of it, i.e. a whole cluster). Findings
match on rule id, entity (volume, vPool, OSD, ...) and hosts. A newer bundle usually still holds
the older one's logs, so a persisting finding says whether it happened again after the old
side's logs end (`recurred`) or only shows the old occurrences once more.

The document names each side by what it is (`old_bundle`, `new_bundle`) and each list of findings
by what happened to it between them (`appeared`, `resolved`, `persisting`), the words of the
Markdown answer too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from analyzer import __version__
from analyzer.detection.rule import SEVERITIES, Rule
from analyzer.errors import UserError

SCHEMA_ID = "ovs-analyzer/diff/2"  # 2: old_bundle/new_bundle, appeared (were old/new, new_findings)
_KEEP = ("rule_id", "title", "severity", "count", "first_seen", "last_seen", "hosts", "entities")


def load_side(path: Path, rules: list[Rule]) -> dict[str, Any]:
    """The findings and time span of one side, from whatever `path` is (see module doc)."""
    if path.is_file() and path.suffix == ".json":
        return _from_json(path)
    if path.is_dir() and (path / "findings.json").is_file():
        return _from_json(path / "findings.json")
    if path.is_dir() and (path / "triage.json").is_file():
        return _from_json(path / "triage.json")
    from analyzer.outputs.report import findings_document
    from analyzer.pipeline.nodes import analyze_nodes

    docs = [findings_document(analysis, "", {}) for _, analysis in analyze_nodes(path, rules)]
    return _merged(str(path), [_side(str(path), d["bundle"], d["findings"]) for d in docs])


def _from_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: not a readable findings.json or triage.json ({exc})") from None
    if isinstance(doc, dict) and "bundles" in doc:  # a triage output: every bundle it analyzed
        return _merged(str(path), [_from_json(path.parent / Path(row["report"]).with_name("findings.json"))
                                   for row in doc["bundles"] if row.get("report")])
    if not isinstance(doc, dict) or "findings" not in doc or "bundle" not in doc:
        raise UserError(f"{path}: neither a findings.json nor a triage.json")
    return _side(str(path), doc["bundle"], doc["findings"])


def _merged(source: str, sides: list[dict[str, Any]]) -> dict[str, Any]:
    """One side made of several nodes (a triage folder, a bundle of bundles): all their findings."""
    if len(sides) == 1:
        return {**sides[0], "source": source}
    spans = [d for d in sides if d["last_seen"]]
    return {"source": source, "hosts": sorted({h for d in sides for h in d["hosts"]}),
            "first_seen": min((d["first_seen"] for d in spans), default=None),
            "last_seen": max((d["last_seen"] for d in spans), default=None),
            "findings": [f for d in sides for f in d["findings"]]}


def _side(source: str, bundle: dict[str, Any], findings: list[dict[str, Any]]) -> dict[str, Any]:
    return {"source": source, "hosts": bundle["hosts"], "first_seen": bundle["first_seen"],
            "last_seen": bundle["last_seen"], "findings": [{k: f[k] for k in _KEEP} for f in findings]}


def key(finding: dict[str, Any]) -> tuple:
    return finding["rule_id"], tuple(sorted(finding["entities"].items())), tuple(finding["hosts"])


def compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The diff document: findings appeared, resolved and persisting, worst first."""
    before = {key(f): f for f in old["findings"]}
    after = {key(f): f for f in new["findings"]}
    old_end = old["last_seen"]
    persisting = []
    for k in after.keys() & before.keys():
        was, now = before[k], after[k]
        recurred = bool(old_end and now["last_seen"] and now["last_seen"] > old_end)
        persisting.append({**now, "recurred": recurred,
                           "in_old_bundle": {f: was[f] for f in ("severity", "count", "first_seen", "last_seen")}})
    document = {
        "schema": SCHEMA_ID,
        "tool": {"name": "ovs-analyzer", "version": __version__},
        "old_bundle": {k: old[k] for k in ("source", "hosts", "first_seen", "last_seen")},
        "new_bundle": {k: new[k] for k in ("source", "hosts", "first_seen", "last_seen")},
        "appeared": _ranked([after[k] for k in after.keys() - before.keys()]),
        "resolved": _ranked([before[k] for k in before.keys() - after.keys()]),
        "persisting": _ranked(persisting),
    }
    document["summary"] = {
        "appeared": len(document["appeared"]), "resolved": len(document["resolved"]),
        "persisting": len(persisting), "recurred": sum(p["recurred"] for p in persisting),
        "same_hosts": sorted(old["hosts"]) == sorted(new["hosts"]),
    }
    return document


def _ranked(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(findings, key=lambda f: (-SEVERITIES.index(f["severity"]), f["first_seen"] or "~", key(f)))


def worst_open(diff: dict[str, Any]) -> str | None:
    """The worst severity still open: findings that appeared and persisting ones that recurred."""
    open_ = diff["appeared"] + [p for p in diff["persisting"] if p["recurred"]]
    return max((f["severity"] for f in open_), key=SEVERITIES.index, default=None)


def markdown(diff: dict[str, Any]) -> str:
    """A paste-ready answer to "is it fixed?"."""
    s = diff["summary"]
    lines = [f"**ovs-analyzer diff**: {s['appeared']} appeared, {s['resolved']} resolved, {s['persisting']} persisting "
             f"({s['recurred']} happened again after the old logs end)", "",
             *(f"- {side.replace('_', ' ')}: `{diff[side]['source']}` ({', '.join(diff[side]['hosts']) or '?'}; "
               f"logs end {diff[side]['last_seen'] or '?'})" for side in ("old_bundle", "new_bundle"))]
    if not s["same_hosts"]:
        lines.append("- warning: the two sides are not the same hosts")
    for title, rows, note in (("Appeared", diff["appeared"], None), ("Persisting", diff["persisting"], "recurred"),
                              ("Resolved", diff["resolved"], None)):
        lines += ["", f"### {title} ({len(rows)})"]
        if rows:
            lines += ["", "| Severity | Finding | Hosts | Entity | Last seen |", "|---|---|---|---|---|"]
        for f in rows:
            entity = ", ".join(f"{k} {v}" for k, v in f["entities"].items())
            flag = " (again since the old bundle)" if note and f[note] else \
                " (old occurrences only)" if note else ""
            lines.append(f"| {f['severity']} | `{f['rule_id']}` {f['title']}{flag} | {', '.join(f['hosts'])} | "
                         f"{entity} | {f['last_seen'] or ''} |")
    return "\n".join(lines) + "\n"
