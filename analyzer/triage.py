"""Triage many bundles at once: one `analyze` per bundle, in parallel, then a ranked index.

Each bundle goes through exactly the single-bundle path (`pipeline.analyze` then
`report.write_outputs`) in a worker process, plus the `ClusterEvidence` collector so bundles of
one cluster can be recognised afterwards. A worker returns a small `Outcome` (the row of the
index, the cluster evidence and per-minute counts), never events,
so the parent stays small whatever the bundles weigh. A bundle that cannot be read becomes a
row with its error; the batch goes on.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import os
import re
import resource
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from analyzer import __version__
from analyzer.errors import INTERNAL_ERRORS, UserError, machine_problem
from analyzer.findings import verdict
from analyzer.outputs import write_together
from analyzer.pipeline import Analysis
from analyzer.rules import SEVERITIES, Rule, apply_tuning, default_rule_dirs, load_rules

SCHEMA_ID = "ovs-analyzer/triage/1"
#: The archive names bundle.py accepts (`ovs-<host>-<stamp>-logs.<suffix>`), by their suffix.
BUNDLE_FILE = re.compile(r"\.(?:tar|tgz|tar\.\w+|zip)$")
#: Rows sort by this, most urgent first. An unreadable bundle ranks just below `high`: the node
#: may be as bad as anything, and a new bundle has to be asked for.
URGENCY = ("critical", "high", "error", "medium", "low", "clean")
TOP_FINDINGS = 5
CSV_COLUMNS = ("rank", "bundle", "status", "error", "host", "role", "cluster", "first_seen", "last_seen", "worst",
               *reversed(SEVERITIES), "findings_total", "top_findings", "report", "size_bytes", "seconds")


@dataclass(frozen=True)
class Job:
    """One bundle to analyze into its own report folder (everything a worker needs, picklable)."""

    path: Path
    out_dir: Path
    rule_dirs: tuple[Path, ...]
    config: Path | None
    settings: dict[str, Any]
    size: int


@dataclass
class Outcome:
    """What a worker sends back for one bundle."""

    row: dict[str, Any]
    #: the `cluster_evidence` section, plus the node's role and vPools from the `identity` section
    evidence: dict[str, Any] = field(default_factory=dict)
    #: per-minute record counts (host, producer, level, minute, count): the cluster timeline's lanes
    counts: pl.DataFrame = field(default_factory=pl.DataFrame)


def discover(inputs: Iterable[str], exclude: Path | None = None) -> list[Path]:
    """Expand files, globs and folders (recursively) into bundle paths, each once, in a stable order.

    A path named explicitly is always taken, so a broken or missing one becomes an error row;
    inside folders, archives are recognised by suffix and unpacked bundles by their `var/log`.
    Nothing under `exclude` (the output folder, when it sits inside an input folder) is taken.
    """
    found: list[Path] = []
    for arg in inputs:
        matches = sorted(glob.glob(arg, recursive=True)) if glob.has_magic(arg) else [arg]
        for match in matches:
            path = Path(match)
            found.extend(_in_folder(path) if path.is_dir() and not is_unpacked_bundle(path) else [path])
    unique: dict[Path, Path] = {}
    skip = exclude.resolve() if exclude is not None else None
    for path in found:
        resolved = path.resolve()
        if skip is None or not resolved.is_relative_to(skip):
            unique.setdefault(resolved, path)
    return list(unique.values())


def is_unpacked_bundle(path: Path) -> bool:
    """An unpacked `ovs collect logs` archive: its members are `var/log/...`."""
    return path.is_dir() and (path / "var" / "log").is_dir()


def _in_folder(root: Path) -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        bundles = sorted(d for d in dirs if is_unpacked_bundle(here / d))
        found.extend(here / d for d in bundles)
        dirs[:] = sorted(d for d in dirs if d not in bundles)
        found.extend(here / f for f in sorted(files) if BUNDLE_FILE.search(f))
    return found


def bundle_size(path: Path) -> int:
    """Bytes to read: the archive, or every file of an unpacked bundle (0 if missing)."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return path.stat().st_size if path.is_file() else 0


def plan(paths: list[Path], out: Path, rule_dirs: tuple[Path, ...], config: Path | None,
         settings: dict[str, Any]) -> list[Job]:
    """One job per bundle, each with its own report folder `out/bundles/<name>` (names made unique)."""
    taken: set[str] = set()
    jobs = []
    for path in paths:
        base = BUNDLE_FILE.sub("", path.name) or "bundle"
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        jobs.append(Job(path=path, out_dir=out / "bundles" / slug, rule_dirs=rule_dirs, config=config,
                        settings=settings, size=bundle_size(path)))
    return jobs


@cache
def _rules(rule_dirs: tuple[Path, ...], config: Path | None) -> list[Rule]:
    """Loaded once per worker process."""
    return apply_tuning(load_rules([*default_rule_dirs(), *rule_dirs]), config)


def run_bundle(job: Job) -> list[Outcome]:
    """Analyze one input and write its report folder(s); any failure becomes an error row.

    A bundle of bundles (one archive of every node's bundle) gives one row and one report folder
    per node, as `analyze` does.
    """
    from analyzer.cluster_evidence import ClusterEvidence
    from analyzer.collectors import default_collectors
    from analyzer.nodes import analyze_nodes
    from analyzer.report import write_outputs

    started = time.perf_counter()
    try:
        nodes = analyze_nodes(job.path, _rules(job.rule_dirs, job.config),
                              collectors=[*default_collectors(), ClusterEvidence()])
        outcomes = []
        for folder, analysis in nodes:
            out_dir = job.out_dir / folder if folder else job.out_dir
            write_outputs(analysis, out_dir, job.settings)
            name = f"{job.path.name}/{analysis.bundle.name}" if folder else job.path.name
            outcomes.append(_outcome(job, name, analysis, out_dir))
    except UserError as exc:
        return [failed(job, exc, time.perf_counter() - started)]
    except MemoryError:
        return [failed(job, MemoryError("out of memory while analyzing this bundle"), time.perf_counter() - started)]
    except INTERNAL_ERRORS as exc:
        problem = machine_problem(exc) or f"internal error: {type(exc).__name__}: {exc}"
        return [failed(job, RuntimeError(problem), time.perf_counter() - started)]
    elapsed = round(time.perf_counter() - started, 3)
    for outcome in outcomes:
        outcome.row["seconds"] = elapsed
    return outcomes


def _outcome(job: Job, name: str, analysis: Analysis, out_dir: Path) -> Outcome:
    findings = [f.to_dict() for f in analysis.findings]
    headlines = [{k: f[k] for k in ("rule_id", "title", "severity", "count", "first_seen", "last_seen", "hosts",
                                    "entities")} for f in findings]
    identity = analysis.sections.get("identity", {})
    evidence = {**analysis.sections.get("cluster_evidence", {}),
                "role": identity.get("role"), "vpools": identity.get("vpools", [])}
    counts = {s: sum(1 for f in findings if f["severity"] == s) for s in reversed(SEVERITIES)}
    problems = [f for f in headlines if f["severity"] != "info"]
    row = {
        "bundle": name,
        "path": str(job.path),
        "status": "ok",
        "error": None,
        "host": evidence.get("node") or (analysis.hosts[0] if analysis.hosts else analysis.bundle.host_hint),
        "hosts": analysis.hosts,
        "role": evidence.get("role"),
        "cluster": None,
        "first_seen": analysis.first_seen,
        "last_seen": analysis.last_seen,
        "worst": verdict(analysis.findings),
        "counts": counts,
        "findings_total": len(findings),
        "findings": (problems or headlines)[:TOP_FINDINGS],
        "warnings": len(analysis.bundle.warnings),
        "report": (out_dir.relative_to(job.out_dir.parent.parent) / "report.html").as_posix(),
        "size_bytes": job.size,
        "seconds": None,
        "worker_peak_mib": worker_peak_mib(),
    }
    return Outcome(row=row, evidence=evidence, counts=analysis.counts)


def worker_peak_mib() -> float:
    """The most memory the worker process has held so far (its largest bundle yet), in MiB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def failed(job: Job, exc: BaseException, seconds: float = 0.0) -> Outcome:
    """The row of a bundle that could not be analyzed."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    return Outcome(row={
        "bundle": job.path.name, "path": str(job.path), "status": "error", "error": message,
        "host": None, "hosts": [], "role": None, "cluster": None, "first_seen": None, "last_seen": None,
        "worst": None, "counts": {s: 0 for s in reversed(SEVERITIES)}, "findings_total": 0, "findings": [],
        "warnings": 0, "report": None, "size_bytes": job.size, "seconds": round(seconds, 3),
        "worker_peak_mib": None,
    })


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
    from analyzer.executors import run_each

    by_path = {str(job.path): job for job in jobs}
    outcomes = []
    for node_outcomes in run_each(run_bundle, jobs, _worker_lost, executor=executor, jobs=workers,
                                  scheduler=scheduler):
        on_done(node_outcomes, by_path[node_outcomes[0].row["path"]])
        outcomes.extend(node_outcomes)
    outcomes.sort(key=lambda o: urgency(o.row))
    for rank, outcome in enumerate(outcomes, 1):
        outcome.row = {"rank": rank, **outcome.row}
    return outcomes


def _worker_lost(job: Job, exc: BaseException) -> list[Outcome]:
    return [failed(job, RuntimeError(f"the worker analyzing it was lost ({type(exc).__name__}: {exc}); "
                                    "was it killed for lack of memory?"))]


def write_batch(batch: Batch, out: Path, settings: dict[str, Any]) -> dict[str, Path]:
    """Write OUT/triage.json, OUT/triage.csv and OUT/index.html."""
    from analyzer.pages import render_page

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
    paths = {"index": out / "index.html", "json": out / "triage.json", "csv": out / "triage.csv"}
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for row in batch.rows:
        writer.writerow({**{k: row.get(k) for k in CSV_COLUMNS if k in row}, **row["counts"],
                         "top_findings": "; ".join(f"{f['severity']}:{f['rule_id']}" for f in row["findings"])})
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
        "errors": sum(r["status"] == "error" for r in rows),
        "by_worst": {w: sum((r["worst"] or "error") == w for r in rows) for w in URGENCY},
        "bytes": sum(r["size_bytes"] for r in rows),
    }


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def triage(inputs: list[str], out: Path, *, workers: int | None = None, executor: str = "local",
           scheduler: str | None = None, rule_dirs: tuple[Path, ...] = (), config: Path | None = None,
           fail_on: str | None = None, cluster: str | None = None, align_clocks: bool = False) -> Batch:
    """The whole `triage` command short of its exit code: discover, analyze each, rank, write."""
    from analyzer.batch_progress import progress_for

    paths = discover(inputs, exclude=out)
    if not paths:
        raise UserError(f"no bundle found in {' '.join(inputs)} (looked for *.tar, *.tar.gz, *.tgz and "
                        "unpacked bundle folders)")
    loaded = _rules(rule_dirs, config)  # a bad --rules or --config stops here, before any work
    settings = {"fail_on": fail_on, "rules": len(loaded), "extra_rule_dirs": [str(p) for p in rule_dirs],
                "config": str(config) if config else None}
    jobs = plan(paths, out, rule_dirs, config, settings)
    with progress_for(len(jobs), sum(j.size for j in jobs)) as bar:
        outcomes = run_batch(jobs, executor, workers, scheduler,
                             lambda done, job: bar.advance([o.row for o in done], job.size))
    generated = now()
    batch = Batch(outcomes=outcomes, clusters=cluster_reports(outcomes, out, cluster, align_clocks, generated),
                  generated_at=generated)
    write_batch(batch, out, {**settings, "executor": executor, "jobs": workers, "cluster": cluster,
                             "align_clocks": align_clocks})
    return batch


def cluster_reports(outcomes: list[Outcome], out: Path, name: str | None, align: bool,
                    generated_at: str) -> list[dict[str, Any]]:
    """Group the bundles into clusters, write `out/clusters/<name>/report.html` for each, mark the rows."""
    from analyzer.cluster import group, slug, write_cluster_report

    entries = []
    for found in group(outcomes, name):
        folder = Path("clusters") / slug(found.name)
        entry = write_cluster_report(found, out / folder, out, align, generated_at)
        entries.append({**entry, "report": (folder / "report.html").as_posix()})
        for outcome in found.outcomes:
            outcome.row["cluster"] = found.name
    return entries
