"""Every node of a cluster in one upload: the cluster report at the top of `analyze`'s output.

A customer who sends all nodes at once (an archive or folder of `ovs-<node>-...-logs.tar.gz`)
gets each node's report in `OUT/<node>/` and, at `OUT/report.html`, the same cluster view triage
writes (`analyzer.batch.cluster`): all nodes on one timeline, the clock offsets, the incidents
across nodes, a link down to each node. The nodes were sent together, so they make one report
even when their logs share no name; the cluster section says whether the logs agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analyzer.batch.cluster import Group, group, write_cluster_report
from analyzer.batch.discovery import BUNDLE_FILE
from analyzer.batch.jobs import Outcome, outcome
from analyzer.outputs.redact import Redactor
from analyzer.pipeline.analysis import Analysis


def write_upload_report(upload: Path, nodes: list[tuple[Path, Analysis]], out: Path, *, align: bool,
                        generated_at: str, redactor: Redactor | None = None) -> dict[str, Any]:
    """Write `out/report.html` (+ findings.json, findings.csv, summary.md) for the nodes whose own
    reports are already in their folders under `out`; return the cluster's entry (name, hosts, ...)."""
    outcomes = [outcome(analysis, name=analysis.bundle.name, path=upload, size=0, out_dir=folder, root=out)
                for folder, analysis in nodes]
    return write_cluster_report(_as_one_cluster(upload, group(outcomes), outcomes), out, out, align, generated_at,
                                redactor)


def _as_one_cluster(upload: Path, found: list[Group], outcomes: list[Outcome]) -> Group:
    """The recognised cluster when the logs tie every node into one; otherwise all the nodes under the
    upload's name, saying what the logs showed (no shared name, or several clusters in one upload)."""
    if len(found) == 1 and len(found[0].outcomes) == len(outcomes):
        return found[0]
    if not found:
        why = "sent together in one upload (their logs name no node, address or task of another)"
    else:
        parts = "; ".join(f"{g.name} by {g.recognised_by}" for g in found)
        why = f"sent together in one upload; their logs tie only some of them together: {parts}"
    return Group(BUNDLE_FILE.sub("", upload.name) or upload.name, outcomes, why)
