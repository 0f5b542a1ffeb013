"""Triage many bundles at once: one `analyze` per bundle, in parallel, then a ranked index.

Each bundle goes through exactly the single-bundle path (`pipeline.analyze` then
`report.write_outputs`) in a worker process, plus the `ClusterEvidence` collector so bundles of
one cluster can be recognised afterwards. A worker returns a small `Outcome` (the row of the
index, the cluster evidence and per-minute counts), never events,
so the parent stays small whatever the bundles weigh. A bundle that cannot be read becomes a
row with its error; the batch goes on.

With `redact`, one map serves the whole run without the workers sharing anything: each `Job`
carries the run's key and the host names of every bundle's file name, each worker returns the
pseudonyms it gave, and the parent merges them, writes the index and cluster reports with every
name known, then `seal`s the output folder (analyzer/outputs/redact.py).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from analyzer import __version__
from analyzer.batch.cluster import group, slug, write_cluster_report
from analyzer.batch.discovery import discover
from analyzer.batch.jobs import Job, Outcome, failed, plan, run_bundle
from analyzer.detection.loader import load_pack
from analyzer.detection.rule import SEVERITIES
from analyzer.errors import UserError
from analyzer.isotime import generated_stamp
from analyzer.outputs.atomic import write_together
from analyzer.outputs.cells import spreadsheet_text
from analyzer.outputs.redact import Redactor, named_hosts, redact_outputs, scrub, seal
from analyzer.reading.bundle import named_as_collected

SCHEMA_ID = "ovs-analyzer/triage/1"
#: Rows sort by this, most urgent first. An unreadable bundle ranks just below `high`: the node
#: may be as bad as anything, and a new bundle has to be asked for.
URGENCY = ("critical", "high", "error", "medium", "low", "inconclusive", "clean")
CSV_COLUMNS = ("rank", "bundle", "status", "error", "copy_of", "host", "role", "cluster", "first_seen", "last_seen",
               "worst", *reversed(SEVERITIES), "findings_total", "top_findings", "report", "size_bytes", "seconds")


def urgency(row: dict[str, Any]) -> tuple:
    """Most urgent first: worst severity (errors just below high), then how many at that level."""
    worst = "error" if row["status"] == "error" else row["worst"]
    at_worst = row["counts"].get(worst, 0)
    problems = sum(n for s, n in row["counts"].items() if s != "info")
    return URGENCY.index(worst), -at_worst, -problems, row["bundle"], row["path"]


@dataclass
class Batch:
    """The finished batch: rows ranked by urgency, and what the cluster view needs."""

    outcomes: list[Outcome]
    clusters: list[dict[str, Any]]
    generated_at: str

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [o.row for o in self.outcomes]

    def worst_severity(self) -> str | None:
        """Over every bundle, counting `info` (the same rule as `analyze --fail-on`)."""
        present = {s for row in self.rows for s, n in row["counts"].items() if n}
        return max(present, key=SEVERITIES.index, default=None)


def run_batch(jobs: list[Job], executor: str, workers: int | None, scheduler: str | None,
              on_done: Callable[[list[Outcome], Job], None]) -> list[Outcome]:
    """Run every job on the executor, calling `on_done` with its rows as each finishes; rows ranked by urgency."""
    from analyzer.batch.executors import run_each

    by_path = {str(job.path): job for job in jobs}
    outcomes = []
    for node_outcomes in run_each(run_bundle, jobs, _worker_lost, executor=executor, jobs=workers,
                                  scheduler=scheduler):
        on_done(node_outcomes, by_path[node_outcomes[0].row["path"]])
        outcomes.extend(node_outcomes)
    mark_copies(outcomes)
    outcomes.sort(key=lambda o: urgency(o.row))
    for rank, outcome in enumerate(outcomes, 1):
        outcome.row = {"rank": rank, **outcome.row}
    return outcomes


def mark_copies(outcomes: list[Outcome]) -> None:
    """Name in `copy_of` the bundle each byte-for-byte copy repeats (the one named as `ovs collect
    logs` names bundles, else the first by path): a bundle mailed twice is two rows of the same
    findings, which the index should not let pass for two nodes. A node of a bundle of bundles is a
    copy only of the same node of a copy of that file."""
    first: dict[tuple[str, str], str] = {}
    for outcome in sorted(outcomes, key=lambda o: (not named_as_collected(Path(o.row["path"]).name), o.row["path"],
                                                   o.row["bundle"])):
        row = outcome.row
        if row["status"] != "ok" or row["sha256"] is None:
            continue
        node = row["bundle"].partition("/")[2]  # "" for a bundle, the node's file in a bundle of bundles
        if (seen := first.setdefault((row["sha256"], node), row["bundle"])) != row["bundle"]:
            row["copy_of"] = seen


def _worker_lost(job: Job, exc: BaseException) -> list[Outcome]:
    return [failed(job, RuntimeError(f"the worker analyzing it was lost ({type(exc).__name__}: {exc}); "
                                    "was it killed for lack of memory?"))]


def write_batch(batch: Batch, out: Path, settings: dict[str, Any], redactor: Redactor | None = None) -> dict[str, Path]:
    """Write OUT/triage.json, OUT/triage.csv and OUT/index.html (all from one document, scrubbed once)."""
    from analyzer.outputs.pages import render_page

    out.mkdir(parents=True, exist_ok=True)
    doc = {
        "schema": SCHEMA_ID,
        "tool": {"name": "ovs-analyzer", "version": __version__},
        "generated_at": batch.generated_at,
        "settings": settings,
        "summary": summary(batch),
        "clusters": batch.clusters,
        "bundles": batch.rows,
    }
    if redactor is not None:
        doc = scrub(doc, redactor)
    paths = {"index": out / "index.html", "json": out / "triage.json", "csv": out / "triage.csv"}
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for row in doc["bundles"]:
        cells = {**{k: row.get(k) for k in CSV_COLUMNS if k in row}, **row["counts"],
                 "top_findings": "; ".join(f"{f['severity']}:{f['rule_id']}" for f in row["findings"])}
        writer.writerow({k: v if isinstance(v, int | float) else spreadsheet_text(v) for k, v in cells.items()})
    write_together({
        paths["json"]: json.dumps(doc, indent=2, ensure_ascii=False) + "\n",
        paths["csv"]: table.getvalue(),
        paths["index"]: render_page("index.html.j2", {"doc": doc, "urgency": list(URGENCY)}),
    })
    return paths


def summary(batch: Batch) -> dict[str, Any]:
    rows = batch.rows
    return {
        "bundles": len(rows),
        "ok": sum(r["status"] == "ok" for r in rows),
        "copies": sum(r["copy_of"] is not None for r in rows),
        "errors": sum(r["status"] == "error" for r in rows),
        "by_worst": {w: sum((r["worst"] or "error") == w for r in rows) for w in URGENCY},
        "bytes": sum(r["size_bytes"] for r in rows),
    }


def triage(inputs: list[str], out: Path, *, workers: int | None = None, executor: str = "local",
           scheduler: str | None = None, rule_dirs: tuple[Path, ...] = (), config: Path | None = None,
           fail_on: str | None = None, cluster: str | None = None, align_clocks: bool = False,
           redact: bool = False) -> Batch:
    """The whole `triage` command short of its exit code: discover, analyze each, rank, write; with
    `redact`, seal the output folder (see the module doc)."""
    from analyzer.batch.progress import progress_for

    paths = discover(inputs, exclude=out)
    if not paths:
        raise UserError(f"no bundle found in {' '.join(inputs)} (looked for *.tar, *.tar.gz, *.tgz, *.tar.xz, "
                        "*.tar.bz2, *.zip and unpacked bundle folders)")
    loaded = load_pack(rule_dirs, config)  # a bad --rules or --config stops here, before any work
    settings = {"fail_on": fail_on, "rules": len(loaded), "extra_rule_dirs": [str(p) for p in rule_dirs],
                "config": str(config) if config else None, "redact": redact}
    redactor = Redactor(hosts=named_hosts(paths)) if redact else None
    jobs = plan(paths, out, rule_dirs, config, settings, redactor)
    with progress_for(len(jobs), sum(j.size for j in jobs)) as bar:
        outcomes = run_batch(jobs, executor, workers, scheduler,
                             lambda done, job: bar.advance([o.row for o in done], job.size))
    if redactor is not None:
        for outcome in outcomes:
            redactor.merge(outcome.redacted)
    generated = generated_stamp()
    batch = Batch(outcomes=outcomes,
                  clusters=cluster_reports(outcomes, out, cluster, align_clocks, generated, redactor),
                  generated_at=generated)
    write_batch(batch, out, {**settings, "executor": executor, "jobs": workers, "cluster": cluster,
                             "align_clocks": align_clocks}, redactor)
    if redactor is not None:
        bundles = {(out / o.row["report"]).parent: o for o in outcomes if o.row["report"]}
        clusters = [(out / c["report"]).parent for c in batch.clusters]
        seal(out, redactor, [*bundles, *clusters], partial(_rewrite, bundles, redactor))
    return batch


def _rewrite(outcomes: dict[Path, Outcome], redactor: Redactor, folder: Path) -> None:
    """Write a bundle's outputs again from its findings document and counts, with every name the
    run knows (`seal`: a worker could not know a peer another worker learned)."""
    from analyzer.outputs.report import timeline_from_counts, write_documents

    if folder in outcomes:
        doc = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
        write_documents(*redact_outputs(doc, timeline_from_counts(outcomes[folder].counts, doc), redactor), folder)


def cluster_reports(outcomes: list[Outcome], out: Path, name: str | None, align: bool, generated_at: str,
                    redactor: Redactor | None = None) -> list[dict[str, Any]]:
    """Group the bundles into clusters, write `out/clusters/<name>/report.html` for each, mark the rows
    (the folder named by pseudonyms with a `redactor`)."""
    entries = []
    for found in group(outcomes, name):
        folder = Path("clusters") / slug(redactor(found.name) if redactor else found.name)
        entry = write_cluster_report(found, out / folder, out, align, generated_at, redactor)
        entries.append({**entry, "report": (folder / "report.html").as_posix()})
        for outcome in found.outcomes:
            outcome.row["cluster"] = found.name
    return entries
