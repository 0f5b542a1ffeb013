"""`ovs-analyzer inventory`: what is in a bundle, member by member, and whose it is.

Runs the reading and parsing of an analysis without rules, then prints one row per member
(path, size, kind, era, lines, first/last time, rotation set, warnings) and the identity
section, or the same as JSON with `--json`. A bundle of bundles lists each node.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer

from analyzer.bundle import Caps
from analyzer.nodes import analyze_nodes
from analyzer.pipeline import Analysis


def inventory_document(path: Path, caps: Caps = Caps()) -> dict[str, Any]:
    """The inventory of every node of the input, JSON-ready."""
    return {"input": path.name, "nodes": [_node(folder, a) for folder, a in analyze_nodes(path, [], caps)]}


def _node(folder: str | None, analysis: Analysis) -> dict[str, Any]:
    return {
        "bundle": analysis.bundle.name,
        "node": folder,
        "hosts": analysis.hosts,
        "first_seen": analysis.first_seen,
        "last_seen": analysis.last_seen,
        "warnings": list(analysis.bundle.warnings),
        "identity": analysis.sections.get("identity", {}),
        "members": [asdict(m) for m in analysis.members],
    }


def print_inventory(doc: dict[str, Any], as_json: bool) -> None:
    """The document as JSON, or as a table and an identity summary for a terminal."""
    if as_json:
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    for node in doc["nodes"]:
        typer.echo(f"== {node['bundle']}: {', '.join(node['hosts']) or 'unknown host'}, "
                   f"{node['first_seen'] or '?'} -> {node['last_seen'] or '?'} (UTC)")
        typer.echo(f"{'member':<58} {'size':>11} {'kind':<12} {'lines':>9} {'first (UTC)':<19}  "
                   f"{'last (UTC)':<19}  era / rotation set / warnings")
        for m in node["members"]:
            notes = [x for x in (m["era"], m["rotation_set"] if m["rotation_set"] != m["path"] else None) if x]
            typer.echo(f"{_fit(m['path'], 58)} {m['size']:>11,} {m['kind'] or '':<12} {m['lines']:>9,} "
                       f"{_time(m['first_seen'])}  {_time(m['last_seen'])}  {' | '.join(notes + m['warnings'])}")
        for line in _identity_lines(node["identity"]):
            typer.echo(line)
        for warning in node["warnings"]:
            typer.echo(f"warning: {warning}")


def _identity_lines(identity: dict[str, Any]) -> list[str]:
    if not identity:
        return []
    lines = [f"role: {identity['role']} ({'; '.join(identity['role_evidence'])})",
             "versions: " + (", ".join(f"{k} {v}" for k, v in identity["versions"].items()) or "unknown"),
             "eras (records): " + (", ".join(f"{k} ({n:,})" for k, n in identity["format_eras"].items())
                                   or "none recognised"),
             f"vPools: {', '.join(identity['vpools']) or 'none seen'}",
             f"services: {', '.join(identity['services']) or 'none seen'}",
             "UTC offsets (records): " + (", ".join(f"{k} ({n:,})" for k, n in identity["utc_offsets"].items())
                                          or "none stated")]
    lines += [f"missing: {m['source']}: {m['why']}" for m in identity["missing_sources"]]
    return lines


def _fit(text: str, width: int) -> str:
    return f"{text:<{width}}" if len(text) <= width else "..." + text[-(width - 3):]


def _time(value: str | None) -> str:
    return (value or "")[:19].replace("T", " ").ljust(19)
