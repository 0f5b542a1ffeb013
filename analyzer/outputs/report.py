"""Write the outputs of an analysis: report.html, findings.json, findings.csv and summary.md.

Fed only by the `Analysis` (findings, inventory, per-minute counts, sections), never by raw
events, so a huge bundle gives a page of the same size. All outputs come from one document
that is scrubbed once (secrets always, identities with `--redact`, see analyzer/outputs/redact.py), so
no output can leak what another hides. Log text is data: Jinja2 autoescaping is on for HTML,
the data the page's script reads is embedded as JSON that cannot close its element, and the
Content-Security-Policy runs only the page's own script (by hash) and forbids every request.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import polars as pl
from markupsafe import Markup

from analyzer import __version__
from analyzer.collectors.cluster_evidence import ClusterEvidence
from analyzer.detection.causes import chains_document, root_causes, start_here
from analyzer.detection.findings import SCHEMA_ID, verdict
from analyzer.detection.loader import links_for
from analyzer.detection.rule import SEVERITIES
from analyzer.isotime import epoch, generated_stamp, iso
from analyzer.outputs.atomic import write_together
from analyzer.outputs.cells import spreadsheet_text
from analyzer.outputs.redact import Redactor, redact_outputs
from analyzer.outputs.start_here import chain_roles, chain_steps
from analyzer.pipeline.analysis import Analysis
from analyzer.resources import shipped_dir

_BUCKETS = [timedelta(minutes=m) for m in (1, 2, 5, 10, 15, 30, 60, 120, 360, 720, 1440, 10080)]
_MAX_BUCKETS = 1500
_LEVEL_BANDS = (("e", ("error", "critical")), ("w", ("warning",)))  # everything else is "o" (other)
_GAP = timedelta(minutes=30)
_BUSY = timedelta(minutes=5)
_MAX_GAPS = 20
_CSV_COLUMNS = ("severity", "rule_id", "title", "component", "count", "first_seen", "last_seen", "hosts",
                "entities", "vpools", "hc_codes", "first_evidence", "remediation", "references")


def write_outputs(analysis: Analysis, out_dir: Path, settings: dict[str, Any],
                  generated_at: datetime | None = None, redactor: Redactor | None = None) -> dict[str, Path]:
    """Write all outputs into `out_dir` (created if needed) and return their paths.

    With a `redactor`, identifiers are pseudonymized; the command writes the run's one private map
    (`redact.seal`) once every output is written.
    """
    generated = generated_stamp(generated_at)
    doc = findings_document(analysis, generated, settings)
    return write_documents(*redact_outputs(doc, timeline_model(analysis, doc), redactor), out_dir)


def write_documents(doc: dict[str, Any], timeline: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Render an already scrubbed findings document and timeline model into the four outputs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"report": out_dir / "report.html", "findings": out_dir / "findings.json",
             "csv": out_dir / "findings.csv", "summary": out_dir / "summary.md"}
    context = {"doc": doc, "severities": SEVERITIES}
    write_together({
        paths["findings"]: json.dumps(doc, indent=2, ensure_ascii=False) + "\n",
        paths["csv"]: findings_csv(doc),
        paths["report"]: render_html(doc, timeline),
        paths["summary"]: template_env(autoescape=False).get_template("summary.md.j2").render(context),
    })
    return paths


def render_html(doc: dict[str, Any], timeline: dict[str, Any]) -> str:
    """The self-contained page: the template, our CSS and script inlined, the data as inert JSON."""
    templates = shipped_dir("report_templates")
    script, script_hash = inline_script("report.js")
    # the batch pages' table sorter, reused as is: it runs after report.js, which marks every table sortable
    table_script, table_hash = inline_script("table.js")
    context = {
        "doc": doc, "severities": SEVERITIES,
        "css": Markup((templates / "report.css").read_text(encoding="utf-8")),
        "script": script,
        "script_hash": script_hash,
        "table_script": table_script,
        "table_hash": table_hash,
        "data": embed_json(timeline),
        "vpools": sorted({v for f in doc["findings"] for v in f.get("vpools", [])}),
        "chain_steps": chain_steps(doc),
        "roles": chain_roles(doc),
    }
    return template_env(autoescape=True).get_template("report.html.j2").render(context)


def embed_json(value: Any) -> Markup:
    """JSON safe inside `<script type="application/json">`: no `<`, `>` or `&` can end the element
    or open a comment, and U+2028/2029 are escaped too, so log text can never become markup."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return Markup(text)


def findings_document(analysis: Analysis, generated_at: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The `findings.json` document; see analyzer/outputs/findings.schema.json."""
    bundle = analysis.bundle
    per_severity = {s: sum(1 for f in analysis.findings if f.severity == s) for s in reversed(SEVERITIES)}
    findings = [f.to_dict() for f in analysis.findings]
    chains = root_causes(findings, links_for(analysis.rules, settings.get("extra_rule_dirs") or ()))
    return {
        "schema": SCHEMA_ID,
        "tool": {"name": "ovs-analyzer", "version": __version__},
        "generated_at": generated_at,
        "settings": settings,
        "bundle": {
            "file": bundle.name,
            "sha256": analysis.sha256,
            "host_hint": bundle.host_hint,
            "collected_at": bundle.collected_at.isoformat() if bundle.collected_at else None,
            "hosts": analysis.hosts,
            "first_seen": analysis.first_seen,
            "last_seen": analysis.last_seen,
            "members": len(analysis.members),
            "lines": analysis.lines,
            "unparsed_records": analysis.unparsed,
            "events_with_learned_offset": analysis.learned_offsets,
            "warnings": list(bundle.warnings),
            "inventory": [asdict(m) for m in analysis.members],
        },
        "verdict": verdict(analysis.findings, analysis.coverage),
        "counts": per_severity,
        "start_here": start_here(chains, findings),
        "root_causes": chains_document(chains, findings),
        "coverage": {**analysis.coverage, "gaps": silences(analysis.counts)},
        "findings": findings,
        # the cluster evidence is the cluster view's input (it travels in triage's outcomes), not a reader's
        "sections": {name: section for name, section in analysis.sections.items() if name != ClusterEvidence.name},
    }


def silences(counts: pl.DataFrame) -> list[dict[str, Any]]:
    """Stretches of >= 30 minutes without a line from a node's producer that otherwise logs every
    few minutes: a stopped service, a lost log file or a rotation the bundle missed."""
    if counts.height == 0:
        return []
    active = (
        counts.group_by("host", "producer", "minute").agg(pl.col("count").sum())
        .sort("host", "producer", "minute")
        .with_columns(pl.col("minute").diff().over("host", "producer").alias("gap"))
        .with_columns(pl.col("gap").median().over("host", "producer").alias("usual"))
    )
    gaps = (
        active.filter((pl.col("gap") >= _GAP) & (pl.col("usual") <= _BUSY))
        .sort(["gap", "host", "producer", "minute"], descending=[True, False, False, False])
        .head(_MAX_GAPS)
    )
    return [
        {"host": row["host"], "producer": row["producer"],
         "start": iso(row["minute"] - row["gap"] + timedelta(minutes=1)), "end": iso(row["minute"]),
         "minutes": int(row["gap"].total_seconds() // 60) - 1}
        for row in gaps.iter_rows(named=True)
    ]


def timeline_model(analysis: Analysis, doc: dict[str, Any]) -> dict[str, Any]:
    """What the page's script draws: per-bucket event counts per node x producer lane (sparse,
    by level band), the findings with their evidence times, and the lanes sections contribute.
    Times are seconds since the epoch (UTC)."""
    return timeline_from_counts(analysis.counts, doc)


def timeline_from_counts(counts: pl.DataFrame, doc: dict[str, Any]) -> dict[str, Any]:
    """`timeline_model` from per-minute counts (host, producer, level, minute, count) and a findings
    document: also what a cluster report draws, from the counts of several nodes."""
    several_nodes = len(doc["bundle"]["hosts"]) > 1
    findings = [
        {"i": i, "sev": f["severity"], "rule": _row_label(f, several_nodes), "title": f["title"],
         "t1": epoch(f["first_seen"]), "t2": epoch(f["last_seen"] or f["first_seen"]),
         "ev": sorted({t for e in f["evidence"] if (t := epoch(e["timestamp"])) is not None})}
        for i, f in enumerate(doc["findings"])
    ]
    # rows chain by chain, most important first, each chain in time order (its cause, then its effects)
    order = list(dict.fromkeys(m["index"] for c in doc.get("root_causes") or () for m in (c["cause"], *c["effects"])))
    findings = [findings[i] for i in order] + [f for f in findings if f["i"] not in set(order)]
    section_lanes = _section_lanes(doc["sections"])
    model: dict[str, Any] = {"t0": None, "t1": None, "bucket": 60, "lanes": [], "findings": findings,
                             "section_lanes": section_lanes}
    times = [t for f in findings for t in (f["t1"], f["t2"]) if t is not None]
    times += [t for lane in section_lanes for s in lane["spans"] for t in (s["t1"], s["t2"])]
    if counts.height:
        first: datetime = counts["minute"].min()  # type: ignore[assignment]
        last: datetime = counts["minute"].max() + timedelta(minutes=1)  # type: ignore[operator]
        times += [first.timestamp(), last.timestamp()]
    if not times:
        return model
    start, end = min(times), max(times)
    bucket = next((b for b in _BUCKETS if (end - start) / b.total_seconds() <= _MAX_BUCKETS), _BUCKETS[-1])
    start -= start % bucket.total_seconds()
    model.update(t0=start, t1=max(end, start + bucket.total_seconds()), bucket=int(bucket.total_seconds()),
                 lanes=_lanes(counts, datetime.fromtimestamp(start, UTC), bucket))
    return model


def _row_label(finding: dict[str, Any], several_nodes: bool) -> str:
    """A finding's timeline row: rule and entities, and where several nodes share the page, its nodes
    first (a cluster shows one rule as one row per node; the label column keeps only the start of a
    long label, and rows that read alike would hide which node is which)."""
    nodes = finding["hosts"] if several_nodes else []
    entities = [str(v) for v in finding["entities"].values() if str(v) not in nodes]
    return (f"{', '.join(nodes)} · " if nodes else "") + " ".join([finding["rule_id"], *entities])


def _lanes(counts: pl.DataFrame, start: datetime, bucket: timedelta) -> list[dict[str, Any]]:
    if counts.height == 0:
        return []
    level = pl.col("level").cast(pl.String)
    band = pl.lit("o")
    for name, levels in reversed(_LEVEL_BANDS):
        band = pl.when(level.is_in(list(levels))).then(pl.lit(name)).otherwise(band)
    per = (
        counts.with_columns(
            ((pl.col("minute") - start).dt.total_seconds() // int(bucket.total_seconds())).cast(pl.Int32).alias("i"),
            band.alias("band"), pl.col("host").fill_null("?"), pl.col("producer").fill_null("?"),
        )
        .group_by("host", "producer", "i")
        .agg(*[pl.col("count").filter(pl.col("band") == b).sum().cast(pl.Int64).alias(b) for b in ("e", "w", "o")])
        .sort("host", "producer", "i")
        .group_by("host", "producer", maintain_order=True)
        .agg("i", "e", "w", "o", (pl.col("e") + pl.col("w") + pl.col("o")).sum().alias("total"))
    )
    return per.to_dicts()


def _section_lanes(sections: dict[str, Any]) -> list[dict[str, Any]]:
    """The `timeline_lanes` a section may carry: [{"lane", "spans": [{"start", "end", "state", "title"}]}]."""
    lanes = []
    for name, section in sections.items():
        for lane in section.get("timeline_lanes", []) if isinstance(section, dict) else []:
            spans = []
            for span in lane.get("spans", []):
                t1, t2 = epoch(span.get("start")), epoch(span.get("end"))
                if t1 is not None:
                    spans.append({"t1": t1, "t2": max(t1, t2 or t1), "state": str(span.get("state", "")),
                                  "title": str(span.get("title", ""))})
            lanes.append({"section": name, "lane": str(lane.get("lane", name)), "spans": spans})
    return lanes


def findings_csv(doc: dict[str, Any]) -> str:
    """One row per finding, for spreadsheets and ticket queues. A cell that a spreadsheet would
    read as a formula (`=`, `+`, `-`, `@` first) is prefixed with `'` so it stays text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    for f in doc["findings"]:
        first = f["evidence"][0] if f["evidence"] else None
        row = {**f, "hosts": " ".join(f["hosts"]), "vpools": " ".join(f.get("vpools", [])),
               "entities": " ".join(f"{k}={v}" for k, v in f["entities"].items()),
               "hc_codes": " ".join(f.get("hc_codes", [])), "references": " ".join(f.get("references", [])),
               "first_evidence": f"{first['source']}:{first['line']}" if first else ""}
        writer.writerow([spreadsheet_text(row.get(column)) for column in _CSV_COLUMNS])
    return buffer.getvalue()


def inline_script(name: str) -> tuple[Markup, str]:
    """A shipped script to inline, and its base64 SHA-256: the page's Content-Security-Policy
    allows exactly that script, never inline script in general."""
    script = (shipped_dir("report_templates") / name).read_text(encoding="utf-8")
    return Markup(script), base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


@cache
def template_env(autoescape: bool) -> jinja2.Environment:
    """One environment per process: it keeps the templates it compiled, and compiling the report's
    is most of rendering it, which a triage worker does for every bundle."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(shipped_dir("report_templates")),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["epoch"] = lambda value: "" if (t := epoch(value)) is None else f"{t:.3f}"
    env.filters["md_cell"] = lambda value: " ".join(str(value).split()).replace("|", "\\|")
    env.filters["duration"] = _duration
    return env


def _duration(first: str | None, last: str | None) -> str:
    """`3 h 12 min` between two ISO times, for people; empty when either is missing."""
    start, end = epoch(first), epoch(last)
    if start is None or end is None:
        return ""
    seconds = int(end - start)
    if seconds < 60:
        return f"{seconds} s"
    days, rest = divmod(seconds // 60, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "",
             f"{minutes} min" if minutes and not days else ""]
    return " ".join(p for p in parts if p)
