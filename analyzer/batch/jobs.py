"""One bundle of a batch: the picklable `Job` a worker gets, and the small `Outcome` it sends back.

Shared by triage (which runs the jobs) and the cluster view (which reads the outcomes), so neither
has to import the other.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from analyzer.batch.discovery import BUNDLE_FILE, bundle_size
from analyzer.detection.findings import verdict
from analyzer.detection.loader import load_pack
from analyzer.detection.rule import SEVERITIES
from analyzer.errors import INTERNAL_ERRORS, UserError, machine_problem
from analyzer.outputs.redact import Redactor, output_folders
from analyzer.pipeline.analysis import Analysis

TOP_FINDINGS = 5


@dataclass(frozen=True)
class Job:
    """One bundle to analyze into its own report folder (everything a worker needs, picklable)."""

    path: Path
    out_dir: Path
    rule_dirs: tuple[Path, ...]
    config: Path | None
    settings: dict[str, Any]
    size: int
    #: With --redact, the run's key: every worker gives a value the pseudonym the others give it.
    redact_key: bytes | None = None
    #: Host names known before any bundle is read (every bundle's file name's), replaced wherever they stand.
    known_hosts: tuple[str, ...] = ()

    def redactor(self) -> Redactor | None:
        return Redactor(self.redact_key, self.known_hosts) if self.redact_key is not None else None


@dataclass
class Outcome:
    """What a worker sends back for one bundle."""

    row: dict[str, Any]
    #: the `cluster_evidence` section, plus the node's role and vPools from the `identity` section
    evidence: dict[str, Any] = field(default_factory=dict)
    #: per-minute record counts (host, producer, level, minute, count): the cluster timeline's lanes
    counts: pl.DataFrame = field(default_factory=pl.DataFrame)
    #: With --redact, the pseudonyms the worker gave (token -> original), for the run's one map.
    redacted: dict[str, str] = field(default_factory=dict)


def plan(paths: list[Path], out: Path, rule_dirs: tuple[Path, ...], config: Path | None,
         settings: dict[str, Any], redactor: Redactor | None = None) -> list[Job]:
    """One job per bundle, each with its own report folder `out/bundles/<name>` (names made unique;
    with a `redactor`, the worker names it by pseudonyms once it knows the bundle's hosts)."""
    key, hosts = (redactor.key, redactor.known) if redactor else (None, ())
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
                        settings=settings, size=bundle_size(path), redact_key=key, known_hosts=hosts))
    return jobs


def run_bundle(job: Job) -> list[Outcome]:
    """Analyze one input and write its report folder(s); any failure becomes an error row.

    A bundle of bundles (one archive of every node's bundle) gives one row and one report folder
    per node, as `analyze` does. With --redact, every node's host names are learned before anything
    is written, and the folders are named by pseudonyms: a folder's name is an output too.
    """
    from analyzer.collectors.cluster_evidence import ClusterEvidence
    from analyzer.outputs.report import write_outputs
    from analyzer.pipeline.nodes import analyze_nodes
    from analyzer.pipeline.registry import default_collectors

    started = time.perf_counter()
    try:
        nodes = analyze_nodes(job.path, load_pack(job.rule_dirs, job.config),
                              collectors=[*default_collectors(), ClusterEvidence()])
        redactor = job.redactor()
        # the bundle's own folder is named as its nodes' are: once every node's names are known
        within = [(f"{job.out_dir.name}/{folder}" if folder else job.out_dir.name, a) for folder, a in nodes]
        outcomes = []
        folders = output_folders(job.out_dir.parent, within, redactor)
        for (folder, analysis), out_dir in zip(nodes, folders, strict=True):
            write_outputs(analysis, out_dir, job.settings, redactor=redactor)
            name = f"{job.path.name}/{analysis.bundle.name}" if folder else job.path.name
            outcomes.append(outcome(analysis, name=name, path=job.path, size=job.size, out_dir=out_dir,
                                    root=job.out_dir.parent.parent))
        if redactor is not None:
            for done in outcomes:
                done.redacted = redactor.tokens
    except UserError as exc:
        return [failed(job, exc, time.perf_counter() - started)]
    except MemoryError:
        return [failed(job, MemoryError("out of memory while analyzing this bundle"), time.perf_counter() - started)]
    except INTERNAL_ERRORS as exc:
        problem = machine_problem(exc) or f"internal error: {type(exc).__name__}: {exc}"
        return [failed(job, RuntimeError(problem), time.perf_counter() - started)]
    elapsed = round(time.perf_counter() - started, 3)
    for done in outcomes:
        done.row["seconds"] = elapsed
    return outcomes


def outcome(analysis: Analysis, *, name: str, path: Path, size: int, out_dir: Path, root: Path) -> Outcome:
    """The row and cluster evidence of one analyzed node whose report is in `out_dir`, a folder under
    `root` (the batch's output folder, against which the row's report path is written)."""
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
        "path": str(path),
        "status": "ok",
        "error": None,
        "host": evidence.get("node") or (analysis.hosts[0] if analysis.hosts else analysis.bundle.host_hint),
        "hosts": analysis.hosts,
        "role": evidence.get("role"),
        "cluster": None,
        "first_seen": analysis.first_seen,
        "last_seen": analysis.last_seen,
        "worst": verdict(analysis.findings, analysis.coverage),
        "counts": counts,
        "findings_total": len(findings),
        "findings": (problems or headlines)[:TOP_FINDINGS],
        "warnings": len(analysis.bundle.warnings),
        "report": (out_dir.relative_to(root) / "report.html").as_posix(),
        "size_bytes": size,
        "sha256": analysis.sha256,
        "copy_of": None,
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
        "warnings": 0, "report": None, "size_bytes": job.size, "sha256": None, "copy_of": None,
        "seconds": round(seconds, 3),
        "worker_peak_mib": None,
    })
