"""One input, one or more nodes: a bundle of bundles is analyzed node by node.

The outer input is read once; its loose members (if any) are analyzed as one bundle and the
bundles found inside it are then analyzed one by one, each read straight from the outer file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from analyzer.collectors.protocol import Collector
from analyzer.detection.rule import Rule
from analyzer.errors import UserError
from analyzer.pipeline.analysis import Analysis, analyze
from analyzer.pipeline.recognition import contents, ovs_signs
from analyzer.reading.bundle import Bundle, Caps, Member, nested_bundles, nested_copies


def analyze_nodes(path: Path, rules: list[Rule], caps: Caps = Caps(),
                  progress: Callable[[Member], None] | None = None,
                  collectors: list[Collector] | None = None,
                  node_collectors: list[Collector] | None = None) -> list[tuple[str | None, Analysis]]:
    """[(output sub-folder or None for the input itself, analysis)]; raises UserError if nothing is readable.

    `node_collectors` (default: `collectors`) are those of the node bundles inside a bundle of
    bundles: `analyze` wants the cluster view's evidence from them, which one bundle alone would pay
    for every line of and never use.
    """
    node_collectors = collectors if node_collectors is None else node_collectors
    outer = analyze(path, rules, caps=caps, progress=progress, collectors=collectors)
    copies = nested_copies(outer.bundle, caps)
    nodes = nested_bundles(outer.bundle, leave_out=copies)
    results: list[tuple[str | None, Analysis]] = []
    lost = [f"nested bundle {copy} is a byte-for-byte copy of {first}: analyzed once" for copy, first in copies.items()]
    loose_logs = any(m.formats for m in outer.members)
    if not nodes:
        results.append((None, outer))
    elif loose_logs:  # logs beside the node bundles: one more node, with its own folder like the others
        nodes.insert(0, outer.bundle)
    for node, folder in zip(nodes, node_folders(nodes), strict=True):
        if node is outer.bundle:
            results.append((folder, outer))
            continue
        try:
            results.append((folder, analyze(node, rules, caps=caps, progress=progress, collectors=node_collectors)))
        except UserError as exc:
            lost.append(f"nested bundle {node.inner or node.path}: {exc}")
    if nodes and outer.members and not loose_logs:
        lost.append(f"{len(outer.members)} file(s) beside the node bundles hold no log lines and were not analyzed: "
                    + ", ".join(m.path for m in outer.members[:5]))
    for _, node_analysis in results:  # every node's report says what of the upload it does not cover
        node_analysis.bundle.warnings.extend(lost)
    if not any(a.members for _, a in results):
        # what each node's reading skipped too (a bundle nested deeper than one level, say): "no
        # regular files" would be false, and the support engineer would not know to unpack it
        said = [*outer.bundle.warnings, *lost, *(w for _, a in results for w in a.bundle.warnings)]
        reasons = "; ".join(dict.fromkeys(said)) or "no regular files"
        raise UserError(f"{path}: nothing to analyze ({reasons})")
    return _open_vstorage_only(path, results)


def _open_vstorage_only(path: Path, results: list[tuple[str | None, Analysis]]) -> list[tuple[str | None, Analysis]]:
    """The nodes that show they are Open vStorage nodes; an error naming what the input holds
    when none does (a clean report of another machine would read as a healthy node)."""
    kept: list[tuple[str | None, Analysis]] = []
    others: list[Analysis] = []
    for folder, analysis in results:
        if ovs_signs(analysis):
            kept.append((folder, analysis))
        else:
            others.append(analysis)
    if not kept:
        what = "; ".join(contents(a) for a in others if a.members)
        raise UserError(f"{path}: not an Open vStorage support bundle: no OVS log, format, service, package or task in "
                        f"it; it holds {what}")
    left_out = [f"nested bundle {a.bundle.name} shows no sign of Open vStorage (it holds {contents(a)}): not analyzed"
                for a in others]
    for _, analysis in kept:
        analysis.bundle.warnings.extend(left_out)
    return kept


def node_folders(nodes: list[Bundle]) -> list[str]:
    """A safe folder name for each node's outputs, from its file name, none twice."""
    folders: list[str] = []
    for node in nodes:
        stem = re.sub(r"\.(?:tar(?:\.\w+)?|tgz|zip)$", "", node.name)
        folder = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "node"
        while folder in folders:
            folder += "_"
        folders.append(folder)
    return folders
