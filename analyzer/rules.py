"""Load rule files and evaluate every rule over a table of events in one vectorized pass.

Rules are data (`rules/<component>/<ID>.yaml`, contract in rules/README.md). Evaluation
never loops over lines in Python: one Aho-Corasick scan (`str.contains_any`) with the union
of all rules' literals picks the candidate records, then each rule's own literals and regex
run as Polars expressions over the candidates only. Regex-only rules scan every record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from analyzer.datafiles import load_mapping
from analyzer.errors import UserError
from analyzer.parse import LEVELS
from analyzer.resources import shipped_dir

SEVERITIES = ("info", "low", "medium", "high", "critical")
COMPONENTS = ("arakoon", "alba", "celery", "rabbitmq", "memcached", "framework", "volumedriver",
              "dtl", "mds", "scrubber", "system")
ENTITY_GROUPS = ("volume", "vpool", "namespace", "osd", "arakoon_cluster", "node", "task", "service",
                 "exception")
_REQUIRED = ("id", "title", "severity", "component", "description", "remediation", "match")
_OPTIONAL = ("references", "hc_codes", "tags", "examples")
_MATCH_KEYS = ("literals", "regex", "producers", "min_level")
#: The event columns a hit keeps: enough for evidence, windows and the timeline.
HIT_COLUMNS = ("host", "source", "line", "ts_local", "utc_offset", "producer", "vpool", "raw")


@dataclass(frozen=True)
class Rule:
    """One known failure pattern, compiled from its YAML file."""

    id: str
    title: str
    severity: str
    component: str
    description: str
    remediation: str
    references: tuple[str, ...]
    hc_codes: tuple[str, ...]
    tags: tuple[str, ...]
    literals: tuple[str, ...]
    regex: str | None
    producers: tuple[str, ...]
    min_level: str | None
    entities: tuple[str, ...]
    examples_match: tuple[str, ...]
    examples_no_match: tuple[str, ...]
    source_file: str

    @property
    def severity_rank(self) -> int:
        return SEVERITIES.index(self.severity)

    def mask(self) -> pl.Expr:
        """True for the records this rule matches (literal pre-filter and regex)."""
        raw = pl.col("raw")
        cond = pl.lit(True)
        if self.literals:
            cond = cond & raw.str.contains_any(list(self.literals))
        if self.regex:
            cond = cond & raw.str.contains(self.regex)
        if self.producers:
            cond = cond & pl.col("producer").is_in(list(self.producers))
        if self.min_level:
            cond = cond & (pl.col("level").to_physical() >= LEVELS.index(self.min_level))
        return cond.fill_null(False)


def default_rule_dirs() -> list[Path]:
    return [shipped_dir("rules")]


def load_rules(dirs: Iterable[Path]) -> list[Rule]:
    """Read every rule file below `dirs`; a broken file is a clear error naming the file."""
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for directory in dirs:
        if not directory.is_dir():
            raise UserError(f"{directory}: rules folder not found")
        for path in sorted(directory.rglob("*.yaml")):
            rule = load_rule_file(path)
            if rule.id in seen:
                raise UserError(f"{path}: rule id {rule.id} is already defined in {seen[rule.id]}")
            seen[rule.id] = str(path)
            rules.append(rule)
    return rules


def load_rule_file(path: Path) -> Rule:
    """Read and validate one rule file."""
    doc = load_mapping(path, "rule file")
    missing = [k for k in _REQUIRED if k not in doc]
    if missing:
        raise UserError(f"{path}: missing required field(s) {', '.join(missing)}")
    unknown = sorted(set(doc) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise UserError(f"{path}: unknown field(s) {', '.join(unknown)} (a typo?)")
    if doc["severity"] not in SEVERITIES:
        raise UserError(f"{path}: severity must be one of {', '.join(SEVERITIES)}")
    if doc["component"] not in COMPONENTS:
        raise UserError(f"{path}: component must be one of {', '.join(COMPONENTS)}")
    match: dict[str, Any] = doc["match"] or {}
    unknown = sorted(set(match) - set(_MATCH_KEYS))
    if unknown:
        raise UserError(f"{path}: unknown match field(s) {', '.join(unknown)}")
    literals = _strings(path, "match.literals", match.get("literals"))
    regex = match.get("regex")
    if not literals and not regex:
        raise UserError(f"{path}: match needs literals or a regex")
    min_level = match.get("min_level")
    if min_level is not None and min_level not in LEVELS:
        raise UserError(f"{path}: min_level must be one of {', '.join(LEVELS)}")
    entities: tuple[str, ...] = ()
    if regex:
        regex = "(?m)" + str(regex)
        entities = _entity_groups(path, regex)
    examples = doc.get("examples") or {}
    return Rule(
        id=str(doc["id"]),
        title=str(doc["title"]).strip(),
        severity=doc["severity"],
        component=doc["component"],
        description=str(doc["description"]).strip(),
        remediation=str(doc["remediation"]).strip(),
        references=tuple(doc.get("references") or ()),
        hc_codes=tuple(doc.get("hc_codes") or ()),
        tags=tuple(doc.get("tags") or ()),
        literals=literals,
        regex=regex,
        producers=tuple(match.get("producers") or ()),
        min_level=min_level,
        entities=entities,
        examples_match=tuple(x.rstrip("\n") for x in _strings(path, "examples.match", examples.get("match"))),
        examples_no_match=tuple(x.rstrip("\n") for x in _strings(path, "examples.no_match", examples.get("no_match"))),
        source_file=str(path),
    )


def _strings(path: Path, where: str, value: Any) -> tuple[str, ...]:
    """A list of strings, refusing what YAML silently made of an unquoted `key: value` item."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise UserError(f"{path}: {where} must be a list of strings; quote items that contain ': ' "
                        "(YAML reads them as mappings)")
    return tuple(value)


def _entity_groups(path: Path, regex: str) -> tuple[str, ...]:
    try:
        dtype = pl.Series([""]).str.extract_groups(regex).dtype
    except pl.exceptions.PolarsError as exc:
        raise UserError(f"{path}: regex does not compile (Rust regex syntax): {exc}") from None
    names = tuple(f.name for f in dtype.fields)  # type: ignore[attr-defined]
    named = tuple(n for n in names if not n.isdigit())
    unknown = [n for n in named if n not in ENTITY_GROUPS]
    if unknown:
        raise UserError(f"{path}: unknown entity group(s) {unknown}; allowed: {', '.join(ENTITY_GROUPS)}")
    return named


def find_hits(events: pl.DataFrame, rules: list[Rule]) -> pl.DataFrame:
    """All (rule, record) matches, with the rule's entities pulled out as columns."""
    if events.height == 0 or not rules:
        return pl.DataFrame()
    keep = [c for c in HIT_COLUMNS if c in events.columns]
    prefiltered = [r for r in rules if r.literals]
    full_scan = [r for r in rules if not r.literals]
    parts: list[pl.DataFrame] = []
    if prefiltered:
        union = sorted({lit for r in prefiltered for lit in r.literals})
        candidates = events.filter(pl.col("raw").str.contains_any(union))
        parts.extend(_hits_of(candidates, prefiltered, keep))
    if full_scan:
        parts.extend(_hits_of(events, full_scan, keep))
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts, how="diagonal_relaxed")


def _hits_of(frame: pl.DataFrame, rules: list[Rule], keep: list[str]) -> list[pl.DataFrame]:
    if frame.height == 0:
        return []
    masks = frame.select([r.mask().alias(f"m{i}") for i, r in enumerate(rules)])
    parts = []
    for i, rule in enumerate(rules):
        mask = masks[f"m{i}"]
        if not mask.any():
            continue
        rows = frame.filter(mask).select([pl.lit(rule.id).alias("rule_id"), *keep])
        if rule.entities:
            found = pl.col("_e").struct.field
            rows = rows.with_columns(pl.col("raw").str.extract_groups(rule.regex).alias("_e")).with_columns(
                *[found(n).alias(n) for n in rule.entities if n != "vpool"],
                *([pl.coalesce(found("vpool"), pl.col("vpool")).alias("vpool")]
                  if "vpool" in rule.entities else []),
            ).drop("_e")
        parts.append(rows)
    return parts
