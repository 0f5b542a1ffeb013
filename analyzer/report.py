"""Write the outputs of an analysis: report.html, findings.json and summary.md.

Fed only by the `Analysis` (findings, inventory, per-minute counts), never by raw events, so
a huge bundle gives a page of the same size. Log text is data: Jinja2 autoescaping is on for
HTML, and the page's Content-Security-Policy forbids every network request.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
import polars as pl

from analyzer import __version__
from analyzer.findings import SCHEMA_ID, verdict
from analyzer.pipeline import Analysis
from analyzer.resources import shipped_dir
from analyzer.rules import SEVERITIES

_BUCKETS = [timedelta(minutes=m) for m in (1, 2, 5, 10, 15, 30, 60, 120, 360, 720, 1440, 10080)]
_MAX_BARS = 160
_LEVEL_BANDS = (("error", ("error", "critical")), ("warning", ("warning",)),
                ("info", ("trace", "debug", "info", "notice")))


def write_outputs(analysis: Analysis, out_dir: Path, settings: dict[str, Any],
                  generated_at: datetime | None = None) -> dict[str, Path]:
    """Write all outputs into `out_dir` (created if needed) and return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    generated = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = findings_document(analysis, generated, settings)
    paths = {"report": out_dir / "report.html", "findings": out_dir / "findings.json",
             "summary": out_dir / "summary.md"}
    paths["findings"].write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    context = {"doc": doc, "timeline": timeline_model(analysis), "severities": SEVERITIES}
    paths["report"].write_text(_env(autoescape=True).get_template("report.html.j2").render(context),
                               encoding="utf-8")
    paths["summary"].write_text(_env(autoescape=False).get_template("summary.md.j2").render(context),
                                encoding="utf-8")
    return paths


def findings_document(analysis: Analysis, generated_at: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The `findings.json` document; see analyzer/findings.schema.json."""
    bundle = analysis.bundle
    per_severity = {s: sum(1 for f in analysis.findings if f.severity == s) for s in reversed(SEVERITIES)}
    return {
        "schema": SCHEMA_ID,
        "tool": {"name": "ovs-analyzer", "version": __version__},
        "generated_at": generated_at,
        "settings": settings,
        "bundle": {
            "file": bundle.name,
            "sha256": _sha256(bundle.path),
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
        "verdict": verdict(analysis.findings),
        "counts": per_severity,
        "coverage": analysis.coverage,
        "findings": [f.to_dict() for f in analysis.findings],
        "sections": analysis.sections,
    }


def timeline_model(analysis: Analysis) -> dict[str, Any]:
    """Stacked per-bucket counts by level band and finding spans, in 0..1 coordinates."""
    counts = analysis.counts
    if counts.height == 0:
        return {"bars": [], "findings": [], "start": None, "end": None, "bucket": None, "peak": 0}
    start: datetime = counts["minute"].min()  # type: ignore[assignment]
    end: datetime = counts["minute"].max() + timedelta(minutes=1)  # type: ignore[operator]
    span = max(end - start, timedelta(minutes=1))
    bucket = next((b for b in _BUCKETS if span / b <= _MAX_BARS), _BUCKETS[-1])
    every = f"{int(bucket.total_seconds() // 60)}m"
    bands = pl.lit("info")
    for band, levels in reversed(_LEVEL_BANDS):
        bands = pl.when(pl.col("level").cast(pl.String).is_in(list(levels))).then(pl.lit(band)).otherwise(bands)
    per = (
        counts.with_columns(pl.col("minute").dt.truncate(every).alias("bucket"), bands.alias("band"))
        .group_by("bucket").agg(*[pl.col("count").filter(pl.col("band") == b).sum().alias(b)
                                  for b, _ in _LEVEL_BANDS])
        .sort("bucket")
    )
    peak = max(int(per.select(sum(pl.col(b) for b, _ in _LEVEL_BANDS)).max().item()), 1)
    total = span.total_seconds()
    bars = [
        {"x": (row["bucket"] - start).total_seconds() / total, "w": bucket.total_seconds() / total,
         "start": row["bucket"].strftime("%Y-%m-%d %H:%M"),
         **{b: row[b] for b, _ in _LEVEL_BANDS}}
        for row in per.iter_rows(named=True)
    ]
    marks = []
    for index, f in enumerate(analysis.findings):
        if not f.first_seen:
            continue
        first = datetime.strptime(f.first_seen, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=start.tzinfo)
        last = datetime.strptime(f.last_seen or f.first_seen, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=start.tzinfo)
        marks.append({"index": index, "x1": (first - start).total_seconds() / total,
                      "x2": (last - start).total_seconds() / total, "severity": f.severity,
                      "label": f.rule_id, "title": f.title})
    return {"bars": bars, "findings": marks, "peak": peak, "bucket": every,
            "start": start.strftime("%Y-%m-%d %H:%M UTC"), "end": end.strftime("%Y-%m-%d %H:%M UTC")}


def _env(autoescape: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(shipped_dir("report_templates")),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _sha256(path: Path) -> str | None:
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
