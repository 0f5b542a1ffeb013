"""Entity columns (volume, namespace, OSD, Arakoon cluster, task, ...) for the event table.

The knowledge of where each entity appears in a line is data (parsers/knowledge/entities.yaml,
with examples the suite runs). Extraction is one Polars expression per column over the whole
table. The analysis itself does not need these columns on every event (rules pull their
entities from their own regex groups, on their hits only), so they are added where the full
table is the product: `ovs-analyzer parse` and events.parquet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from analyzer.datafiles import load_mapping
from analyzer.errors import UserError
from analyzer.parsing.knowledge import regex_groups, shipped_once

FIELDS = ("message", "raw", "source")


@dataclass(frozen=True)
class EntityPattern:
    """Where one entity column can be read: a regex with one named group over one field."""

    column: str
    field: str
    pattern: str
    producers: tuple[str, ...]
    examples: tuple[tuple[str, str | None], ...]

    def extract(self) -> pl.Expr:
        value = pl.col(self.field).str.extract(self.pattern, 1)
        if self.producers:
            value = pl.when(pl.col("producer").is_in(list(self.producers))).then(value)
        return value


@shipped_once("entities")
def load_entity_patterns(path: Path) -> tuple[EntityPattern, ...]:
    entries = load_mapping(path, "entity file").get("entities")
    if not isinstance(entries, list):
        raise UserError(f"{path}: 'entities' must be a list")
    return tuple(_pattern(path, n, entry) for n, entry in enumerate(entries, 1))


def _pattern(path: Path, n: int, entry: object) -> EntityPattern:
    where = f"{path}: entity #{n}"
    if not isinstance(entry, dict) or set(entry) - {"column", "field", "pattern", "producers", "examples"}:
        raise UserError(f"{where}: takes column, field, pattern, producers and examples")
    column, field, pattern = entry.get("column"), entry.get("field", "message"), entry.get("pattern")
    if field not in FIELDS:
        raise UserError(f"{where}: field must be one of {', '.join(FIELDS)}")
    one_group = f"pattern needs exactly one group, named (?P<{column}>...)"
    if regex_groups(path, f"entity #{n} ({one_group})", str(pattern), (str(column),)) != (column,):
        raise UserError(f"{where}: {one_group}")
    examples = tuple((str(e["text"]), None if e.get("expect") is None else str(e["expect"]))
                     for e in entry.get("examples") or ())
    if not examples:
        raise UserError(f"{where}: give at least one example")
    return EntityPattern(column=str(column), field=field, pattern=str(pattern),
                         producers=tuple(entry.get("producers") or ()), examples=examples)


def entity_columns(patterns: tuple[EntityPattern, ...] | None = None) -> list[str]:
    """The entity columns, in the order of first appearance in the knowledge file."""
    return list(dict.fromkeys(p.column for p in patterns or load_entity_patterns()))


def with_entities(events: pl.DataFrame, patterns: tuple[EntityPattern, ...] | None = None) -> pl.DataFrame:
    """Add one column per entity; an existing column (e.g. vpool) is kept where it has a value."""
    patterns = patterns or load_entity_patterns()
    exprs = []
    for column in entity_columns(patterns):
        found = [p.extract() for p in patterns if p.column == column]
        if column in events.columns:
            found.insert(0, pl.col(column))
        exprs.append(pl.coalesce(found).cast(pl.String).alias(column))
    return events.with_columns(exprs)
