"""`ovs-analyzer inventory`: what is in a bundle, member by member, and whose it is.

Runs the reading and parsing of an analysis without rules, then prints one row per member
(path, size, kind, era, lines, first/last time, rotation set, warnings) and the identity
section, or the same as JSON with `--json`. A bundle of bundles lists each node.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from analyzer.pipeline.analysis import Analysis
from analyzer.pipeline.nodes import analyze_nodes
from analyzer.reading.bundle import Caps


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


