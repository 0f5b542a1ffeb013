"""Errors no rule explains, grouped into templates so a new failure pattern stands out.

Drain-style mining, vectorized: the variable parts of a message (UUIDs, hex ids, addresses,
paths, numbers, quoted values) are masked with Polars regex replacements, and records with the
same masked message form one template. Only error-and-worse records that no rule matched are
mined, so the table is small; templates are ranked by how far they spread (hosts, sources)
and how often they occur. `ovs-analyzer rules scaffold` turns one into a rule file.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from analyzer.frames import Packed, gather_rows, unpack_all
from analyzer.isotime import iso

#: Masks applied in order: the most specific first, so a UUID is not eaten by the number mask.
MASKS: tuple[tuple[str, str], ...] = (
    (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "<uuid>"),
    (r"\b0x[0-9a-fA-F]+\b", "<hex>"),
    (r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b", "<ip>"),
    (r"(?:/[\w.@-]+){2,}/?", "<path>"),
    (r"\b[0-9a-fA-F]{12,}\b", "<id>"),
    (r"'[^']*'|\"[^\"]*\"", "<str>"),
    (r"\b\d+(?:\.\d+)?\b", "<num>"),
)
EXAMPLES_PER_TEMPLATE = 3
TOP_TEMPLATES = 50


def template_expr(message: pl.Expr) -> pl.Expr:
    """The masked form of a message, its template."""
    for pattern, token in MASKS:
        message = message.str.replace_all(pattern, token)
    return message.str.replace_all(r"\s+", " ").str.strip_chars()


def unexplained_errors(events: pl.DataFrame, hits: pl.DataFrame, explaining: list[str]) -> pl.DataFrame:
    """Error-and-worse records that no rule in `explaining` matched, with their template (`events`
    and `hits` of one or more members).

    Only rules that name a failure by its text explain a record; a threshold rule ("too many
    errors") does not say what any one of them is.
    """
    errors = events.select("host", "source", "line", "ts_local", "utc_offset", "producer", "component", "raw",
                           "message", "level").filter(pl.col("level") >= "error")
    if hits.height:
        explained = hits.filter(pl.col("rule_id").is_in(explaining)).select("source", "line").unique()
        errors = errors.join(explained, on=["source", "line"], how="anti")
    # a flood of one new error is one template millions of times: each distinct text is held once
    return errors.select(
        "host", "source", "line", "ts_local", "utc_offset", "producer", "component", "raw",
        template_expr(pl.col("message")).cast(pl.Categorical).alias("template"),
    )


def templates_section(parts: list[Packed], to_utc: Any) -> dict[str, Any]:
    """Combine every member's unexplained errors into ranked templates for findings.json.

    The records' text stays packed: only the few shown as a template's examples are read back."""
    parts = [p for p in parts if p.height]
    if not parts:
        return {"records": 0, "template_count": 0, "templates": []}
    read = pl.concat(unpack_all(parts, drop=("raw",)), how="diagonal_relaxed").with_row_index("_row")
    rows = to_utc(read)
    ranked = (
        rows.group_by("template")
        .agg(
            pl.len().alias("count"),
            pl.col("host").drop_nulls().unique().sort().alias("hosts"),
            pl.col("source").unique().sort().alias("sources"),
            pl.col("producer").drop_nulls().unique().sort().alias("producers"),
            pl.col("component").drop_nulls().unique().sort().alias("components"),
            pl.col("ts").min().alias("first"),
            pl.col("ts").max().alias("last"),
        )
        .with_columns((pl.col("hosts").list.len() * pl.col("sources").list.len()).alias("spread"))
        .sort(["spread", "count", "template"], descending=[True, True, False])
    )
    shown = ranked.head(TOP_TEMPLATES)
    # a template's examples are its earliest records (by time, then place; untimed ones last),
    # ordered on the few columns that order them
    order = shown.select("template", pl.int_range(pl.len()).alias("_t"))
    examples = rows.select("template", "ts", "source", "line", "_row").join(order, on="template") \
        .sort("ts", "source", "line", nulls_last=True).group_by("_t", maintain_order=True).head(EXAMPLES_PER_TEMPLATE) \
        .sort("_t", maintain_order=True)
    examples = examples.with_columns(gather_rows(parts, "raw", examples["_row"]).alias("raw")) \
        .group_by("_t", maintain_order=True).agg("raw", pl.format("{}:{}", "source", "line").alias("where"))
    templates = [
        {
            "rank": rank,
            "template": row["template"],
            "count": row["count"],
            "hosts": row["hosts"],
            "sources": row["sources"],
            "producers": row["producers"],
            "components": row["components"],
            "first_seen": iso(row["first"]),
            "last_seen": iso(row["last"]),
            "examples": shown_records["raw"],
            "where": shown_records["where"],
        }
        for rank, (row, shown_records) in enumerate(
            zip(shown.iter_rows(named=True), examples.iter_rows(named=True), strict=True), start=1)
    ]
    return {"records": rows.height, "template_count": ranked.height, "templates": templates}
