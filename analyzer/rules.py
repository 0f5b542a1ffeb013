"""Load rule files and evaluate every record-level signature over a table of events in one pass.

Rules are data (`rules/<component>/<ID>.yaml`, language in rules/README.md, JSON Schema in
rules/rule.schema.json). Record-level matching never loops over lines in Python: one
Aho-Corasick scan (`str.contains_any`) with the union of all rules' literals picks the
candidate records, then each rule's own literals and regex run as Polars expressions over the
candidates only. Windowed kinds (threshold, sequence, absence, escalation) run afterwards over
the small table of hits and per-minute counts (analyzer/correlate.py), never over all events.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl
import regex as pyregex

from analyzer.datafiles import load_mapping
from analyzer.errors import UserError
from analyzer.knowledge import contains_any_literal, literals_present
from analyzer.parse import LEVELS
from analyzer.resources import shipped_dir
from analyzer.versions import VersionRange, is_version

SEVERITIES = ("info", "low", "medium", "high", "critical")
COMPONENTS = ("arakoon", "alba", "celery", "rabbitmq", "memcached", "framework", "volumedriver",
              "dtl", "mds", "scrubber", "system")
ENTITY_GROUPS = ("volume", "vpool", "namespace", "osd", "arakoon_cluster", "node", "task", "service",
                 "exception")
#: How a rebuilt Celery task can end (the outcomes of parsers/knowledge/tasks.yaml, and never
#: finishing); `task` rules pick among them, by default the ones where the task did not do its job.
TASK_OUTCOMES = ("succeeded", "failed", "discarded", "timed_out", "revoked", "unfinished")
TASK_PROBLEMS = ("failed", "timed_out", "revoked")
KINDS = ("match", "threshold", "sequence", "absence", "clock_jump", "task")
#: Columns a hit may be grouped by besides the regex's entities.
GROUP_COLUMNS = ("host", "component", "producer", "source", *ENTITY_GROUPS)
_REQUIRED = ("id", "title", "severity", "component", "description", "remediation")
_OPTIONAL = ("references", "hc_codes", "tags", "examples", "kind", "match", "threshold", "sequence", "absence",
             "clock_jump", "escalate", "applies_to", "enabled", "versions", "task")
_MATCH_KEYS = ("literals", "regex", "producers", "min_level")
#: The event columns a hit keeps: enough for evidence, windows and the timeline.
HIT_COLUMNS = ("host", "source", "line", "ts_local", "utc_offset", "producer", "component", "vpool", "raw")
#: The event columns matchers read besides the hit columns.
_MATCH_COLUMNS = ("level",)
#: How long the look-around fallback engine may spend on one record before the rule gives up on it.
FALLBACK_TIMEOUT_S = 0.05
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_seconds(path: Path, where: str, value: Any) -> float:
    """`30s`, `10m`, `1h`, `2d` -> seconds."""
    m = _DURATION.match(str(value).strip())
    if not m:
        raise UserError(f"{path}: {where} must be a duration like 30s, 10m, 1h or 2d, not {value!r}")
    return float(m.group(1)) * _SECONDS[m.group(2)]


def duration_label(seconds: float) -> str:
    """The inverse of `duration_seconds`, for sentences: 600 -> `10m`."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class Window:
    """At least `count` hits within `seconds`."""

    count: int
    seconds: float

    @property
    def label(self) -> str:
        return duration_label(self.seconds)


@dataclass(frozen=True)
class Matcher:
    """Which records a rule looks at: literals, regex and filters, all optional but not all absent."""

    literals: tuple[str, ...] = ()
    regex: str | None = None
    producers: tuple[str, ...] = ()
    min_level: str | None = None
    entities: tuple[str, ...] = ()
    #: The regex needs look-around or back-references: run it with the `regex` module, with a
    #: timeout, on the literal-filtered candidates only.
    fallback: bool = False

    def mask(self) -> pl.Expr:
        """True for the records this matcher selects (the fallback regex is applied afterwards)."""
        raw = pl.col("raw")
        cond = pl.lit(True)
        if self.literals:
            cond = cond & raw.str.contains_any(list(self.literals))
        if self.regex and not self.fallback:
            cond = cond & raw.str.contains(self.regex)
        if self.producers:
            cond = cond & pl.col("producer").is_in(list(self.producers))
        if self.min_level:
            cond = cond & (pl.col("level").to_physical() >= LEVELS.index(self.min_level))
        return cond.fill_null(False)


@dataclass(frozen=True)
class Sequence:
    """Steps (rule ids) that must follow each other within `within` seconds on the same `join_on`."""

    steps: tuple[str, ...]
    within: float
    join_on: tuple[str, ...]
    #: Fire when the last step does NOT follow the others in time ("never recovered").
    absent_last: bool


@dataclass(frozen=True)
class Absence:
    """A producer silent for `silent_for` seconds while the node keeps logging otherwise."""

    producers: tuple[str, ...]
    silent_for: float


@dataclass(frozen=True)
class TaskCondition:
    """Celery tasks whose name matches `name` and that ended in one of `outcomes` (task history)."""

    name: str
    outcomes: tuple[str, ...]


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
    kind: str
    matcher: Matcher | None
    threshold: Window | None
    group_by: tuple[str, ...]
    sequence: Sequence | None
    absence: Absence | None
    #: clock_jump rules: a record whose UTC time is this many seconds before an earlier record of its member.
    clock_backwards: float | None
    escalate_to: str | None
    escalate_when: Window | None
    applies_to: tuple[str, ...]
    enabled: bool
    versions: VersionRange | None
    examples_match: tuple[str, ...]
    examples_no_match: tuple[str, ...]
    source_file: str
    #: task rules: which tasks of the rebuilt task history count as hits (analyzer/tasks.py).
    task: TaskCondition | None = None

    @property
    def severity_rank(self) -> int:
        return SEVERITIES.index(self.severity)

    @property
    def entities(self) -> tuple[str, ...]:
        """What one finding of this rule is about: its group_by columns, else its regex entities."""
        if self.group_by:
            return self.group_by
        if self.sequence:
            return self.sequence.join_on
        return self.matcher.entities if self.matcher else ()


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
    _check_sequences(rules)
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
    _one_of(path, "severity", doc["severity"], SEVERITIES)
    _one_of(path, "component", doc["component"], COMPONENTS)
    kind = doc.get("kind", "match")
    _one_of(path, "kind", kind, KINDS)
    needs = {"match": ("match",), "threshold": ("match", "threshold"), "sequence": ("sequence",),
             "absence": ("absence",), "clock_jump": ("clock_jump",), "task": ("task",)}[kind]
    for key in needs:
        if key not in doc:
            raise UserError(f"{path}: a {kind} rule needs a '{key}' block")
    for key in {"match", "threshold", "sequence", "absence", "clock_jump", "task"} - set(needs):
        if key in doc:
            raise UserError(f"{path}: '{key}' does not apply to a {kind} rule (set kind: {key}?)")
    matcher = _matcher(path, doc["match"]) if "match" in doc else None
    threshold, group_by = _threshold(path, doc.get("threshold"), matcher)
    task = None
    if kind == "task":
        task, threshold, group_by = _task(path, doc["task"])
    escalate_to, escalate_when = _escalation(path, doc.get("escalate"), doc["severity"])
    examples = doc.get("examples") or {}
    return Rule(
        id=str(doc["id"]),
        title=str(doc["title"]).strip(),
        severity=doc["severity"],
        component=doc["component"],
        description=str(doc["description"]).strip(),
        remediation=str(doc["remediation"]).strip(),
        references=_strings(path, "references", doc.get("references")),
        hc_codes=_strings(path, "hc_codes", doc.get("hc_codes")),
        tags=_strings(path, "tags", doc.get("tags")),
        kind=kind,
        matcher=matcher,
        threshold=threshold,
        group_by=group_by,
        sequence=_sequence(path, doc["sequence"]) if kind == "sequence" else None,
        absence=_absence(path, doc["absence"]) if kind == "absence" else None,
        clock_backwards=_clock_jump(path, doc["clock_jump"]) if kind == "clock_jump" else None,
        escalate_to=escalate_to,
        escalate_when=escalate_when,
        applies_to=_strings(path, "applies_to.producers", (doc.get("applies_to") or {}).get("producers")),
        enabled=bool(doc.get("enabled", True)),
        versions=_versions(path, doc.get("versions")),
        examples_match=tuple(x.rstrip("\n") for x in _strings(path, "examples.match", examples.get("match"))),
        examples_no_match=tuple(x.rstrip("\n") for x in _strings(path, "examples.no_match", examples.get("no_match"))),
        source_file=str(path),
        task=task,
    )


def apply_tuning(rules: list[Rule], config: Path | None) -> list[Rule]:
    """Re-tune severities or switch rules off by id, from a site's YAML config file:

    rules:
      LOCK_CONTENTION: {severity: medium}
      ENSURE_SINGLE_DISCARDED: {enabled: false}
    """
    if config is None:
        return rules
    doc = load_mapping(config, "config file")
    tuning = doc.get("rules") or {}
    if not isinstance(tuning, dict):
        raise UserError(f"{config}: 'rules' must map rule ids to settings")
    by_id = {r.id: r for r in rules}
    for rule_id, settings in tuning.items():
        if rule_id not in by_id:
            raise UserError(f"{config}: no rule with id {rule_id!r}")
        if not isinstance(settings, dict) or set(settings) - {"severity", "enabled"}:
            raise UserError(f"{config}: {rule_id} takes only 'severity' and 'enabled'")
        if "severity" in settings:
            _one_of(config, f"{rule_id}.severity", settings["severity"], SEVERITIES)
        by_id[rule_id] = replace(by_id[rule_id], severity=settings.get("severity", by_id[rule_id].severity),
                                 enabled=bool(settings.get("enabled", by_id[rule_id].enabled)))
    return [by_id[r.id] for r in rules]


def _one_of(path: Path, where: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UserError(f"{path}: {where} must be one of {', '.join(allowed)}, not {value!r}")


def _mapping(path: Path, where: str, value: Any, keys: Iterable[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UserError(f"{path}: {where} must be a mapping")
    unknown = sorted(set(value) - set(keys))
    if unknown:
        raise UserError(f"{path}: unknown {where} field(s) {', '.join(unknown)}")
    return value


def _matcher(path: Path, value: Any) -> Matcher:
    match = _mapping(path, "match", value or {}, _MATCH_KEYS)
    literals = _strings(path, "match.literals", match.get("literals"))
    regex = match.get("regex")
    min_level = match.get("min_level")
    if min_level is not None:
        _one_of(path, "match.min_level", min_level, LEVELS)
    producers = _strings(path, "match.producers", match.get("producers"))
    if not (literals or regex or producers or min_level):
        raise UserError(f"{path}: match needs literals, a regex, producers or min_level")
    entities: tuple[str, ...] = ()
    fallback = False
    if regex:
        regex = "(?m)" + str(regex)
        entities, fallback = _compile(path, regex)
        if fallback and not literals:
            raise UserError(f"{path}: a regex with look-around or back-references needs literals to pre-filter")
    return Matcher(literals=literals, regex=regex, producers=producers, min_level=min_level,
                   entities=entities, fallback=fallback)


def _compile(path: Path, regex: str) -> tuple[tuple[str, ...], bool]:
    """Entity groups of a regex, and whether it needs the look-around-capable fallback engine."""
    try:
        dtype = pl.Series([""]).str.extract_groups(regex).dtype
        names = tuple(f.name for f in dtype.fields)  # type: ignore[attr-defined]
        fallback = False
    except pl.exceptions.PolarsError as rust_error:
        try:
            names = tuple(pyregex.compile(regex).groupindex)
        except pyregex.error:
            raise UserError(f"{path}: regex does not compile: {' '.join(str(rust_error).split())}") from None
        fallback = True
    named = tuple(n for n in names if not n.isdigit())
    unknown = [n for n in named if n not in ENTITY_GROUPS]
    if unknown:
        raise UserError(f"{path}: unknown entity group(s) {unknown}; allowed: {', '.join(ENTITY_GROUPS)}")
    return named, fallback


def _threshold(path: Path, value: Any, matcher: Matcher | None) -> tuple[Window | None, tuple[str, ...]]:
    if value is None:
        return None, ()
    block = _mapping(path, "threshold", value, ("count", "window", "per"))
    per = _strings(path, "threshold.per", block.get("per"))
    for key in per:
        _one_of(path, "threshold.per", key, GROUP_COLUMNS)
    window = Window(count=int(block.get("count", 0)), seconds=duration_seconds(path, "threshold.window",
                                                                              block.get("window")))
    if window.count < 2:
        raise UserError(f"{path}: threshold.count must be at least 2")
    return window, per or (("host", *matcher.entities) if matcher else ("host",))


def _task(path: Path, value: Any) -> tuple[TaskCondition, Window | None, tuple[str, ...]]:
    """`task: {name, outcomes, count, window}`: one finding per host and task name; with `count` >= 2,
    only when that many such tasks ended within `window`."""
    block = _mapping(path, "task", value, ("name", "outcomes", "count", "window"))
    name = block.get("name")
    if not isinstance(name, str) or not name:
        raise UserError(f"{path}: task.name is a regex on the task name, e.g. '^ovs\\.mds\\.ensure_safety$'")
    if _compile(path, name)[1]:
        raise UserError(f"{path}: task.name must not need look-around or back-references")
    outcomes = _strings(path, "task.outcomes", block.get("outcomes")) or TASK_PROBLEMS
    for outcome in outcomes:
        _one_of(path, "task.outcomes", outcome, TASK_OUTCOMES)
    count = int(block.get("count", 1))
    window = None
    if count >= 2:
        window = Window(count=count, seconds=duration_seconds(path, "task.window", block.get("window", "1d")))
    return TaskCondition(name=name, outcomes=outcomes), window, ("host", "task")


def _escalation(path: Path, value: Any, severity: str) -> tuple[str | None, Window | None]:
    if value is None:
        return None, None
    block = _mapping(path, "escalate", value, ("to", "count", "window"))
    _one_of(path, "escalate.to", block.get("to"), SEVERITIES)
    if SEVERITIES.index(block["to"]) <= SEVERITIES.index(severity):
        raise UserError(f"{path}: escalate.to must be above the rule's severity {severity}")
    return block["to"], Window(count=int(block.get("count", 0)),
                               seconds=duration_seconds(path, "escalate.window", block.get("window")))


def _sequence(path: Path, value: Any) -> Sequence:
    block = _mapping(path, "sequence", value, ("steps", "within", "join_on", "absent_last"))
    steps = _strings(path, "sequence.steps", block.get("steps"))
    if len(steps) < 2:
        raise UserError(f"{path}: sequence.steps needs at least two rule ids")
    join_on = _strings(path, "sequence.join_on", block.get("join_on")) or ("host",)
    for key in join_on:
        _one_of(path, "sequence.join_on", key, GROUP_COLUMNS)
    return Sequence(steps=steps, within=duration_seconds(path, "sequence.within", block.get("within")),
                    join_on=join_on, absent_last=bool(block.get("absent_last", False)))


def _absence(path: Path, value: Any) -> Absence:
    block = _mapping(path, "absence", value, ("producers", "silent_for"))
    producers = _strings(path, "absence.producers", block.get("producers"))
    if not producers:
        raise UserError(f"{path}: absence.producers names the producers whose silence matters ('*' for each)")
    return Absence(producers=producers, silent_for=duration_seconds(path, "absence.silent_for",
                                                                    block.get("silent_for")))


def _clock_jump(path: Path, value: Any) -> float:
    block = _mapping(path, "clock_jump", value, ("backwards",))
    return duration_seconds(path, "clock_jump.backwards", block.get("backwards"))


def _versions(path: Path, value: Any) -> VersionRange | None:
    if value is None:
        return None
    block = _mapping(path, "versions", value, ("package", "introduced", "fixed"))
    if not isinstance(block.get("package"), str) or not (block.get("introduced") or block.get("fixed")):
        raise UserError(f"{path}: versions needs a package and an introduced or fixed version")
    bounds = {key: str(block[key]) for key in ("introduced", "fixed") if block.get(key) is not None}
    for key, bound in bounds.items():
        if not is_version(bound):
            raise UserError(f"{path}: versions.{key} {bound!r} is not a Debian version")
    return VersionRange(package=block["package"], introduced=bounds.get("introduced"), fixed=bounds.get("fixed"))


def _check_sequences(rules: list[Rule]) -> None:
    by_id = {r.id: r for r in rules}
    for rule in rules:
        for step in rule.sequence.steps if rule.sequence else ():
            if step not in by_id or by_id[step].matcher is None:
                raise UserError(f"{rule.source_file}: sequence step {step!r} is not a rule with a match block")


def _strings(path: Path, where: str, value: Any) -> tuple[str, ...]:
    """A list of strings, refusing what YAML silently made of an unquoted `key: value` item."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise UserError(f"{path}: {where} must be a list of strings; quote items that contain ': ' "
                        "(YAML reads them as mappings)")
    return tuple(value)


def find_hits(events: pl.DataFrame, rules: list[Rule]) -> pl.DataFrame:
    """All (rule, record) matches, with the rule's regex entities pulled out as columns."""
    matching = [r for r in rules if r.enabled and r.matcher is not None]
    if events.height == 0:
        return pl.DataFrame()
    keep = [c for c in HIT_COLUMNS if c in events.columns]
    # Filters copy every column they are given: give them only the columns matchers and hits use.
    events = events.select([*keep, *[c for c in _MATCH_COLUMNS if c in events.columns and c not in keep]])
    prefiltered = [r for r in matching if r.matcher and r.matcher.literals]
    full_scan = [r for r in matching if r.matcher and not r.matcher.literals]
    parts: list[pl.DataFrame] = []
    if prefiltered:
        union = sorted({lit for r in prefiltered if r.matcher for lit in r.matcher.literals})
        candidates = events.filter(contains_any_literal(pl.col("raw"), union))
        parts.extend(_hits_of(candidates, _with_literals_in(candidates, prefiltered, union), keep))
    if full_scan:
        parts.extend(_hits_of(events, full_scan, keep))
    for rule in rules:
        if rule.enabled and rule.clock_backwards:
            parts.append(_clock_jumps(events, rule, keep))
    parts = [p for p in parts if p.height]
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts, how="diagonal_relaxed")


def _with_literals_in(frame: pl.DataFrame, rules: list[Rule], union: list[str]) -> list[Rule]:
    """The rules with a literal somewhere in `frame`: only they can match there, and the others'
    regexes need not even be compiled."""
    present = literals_present(frame, "raw", union)
    return [r for r in rules if r.matcher and present.intersection(r.matcher.literals)]


def _hits_of(frame: pl.DataFrame, rules: list[Rule], keep: list[str]) -> list[pl.DataFrame]:
    if frame.height == 0:
        return []
    matchers = [r.matcher for r in rules if r.matcher]
    masks = frame.select([m.mask().alias(f"m{i}") for i, m in enumerate(matchers)])
    parts = []
    for i, (rule, matcher) in enumerate(zip(rules, matchers, strict=True)):
        mask = masks[f"m{i}"]
        if not mask.any():
            continue
        rows = frame.filter(mask).select([pl.lit(rule.id).alias("rule_id"), *keep])
        if matcher.fallback:
            rows = _fallback_filter(rows, matcher)
        elif matcher.entities:
            rows = _with_entities(rows, matcher)
        if rows.height:
            parts.append(rows)
    return parts


def _clock_jumps(events: pl.DataFrame, rule: Rule, keep: list[str]) -> pl.DataFrame:
    """Records stamped well before a record the same member wrote earlier: the clock went back.

    Only zoned records count (their UTC instant is known without learning an offset): the UTC
    instant of the others is null, so they neither match nor raise the latest instant seen.
    """
    utc = pl.col("ts_local") - pl.duration(minutes=pl.col("utc_offset").cast(pl.Int64))
    latest_before = utc.cum_max().forward_fill().shift(1)
    back = (latest_before - utc) > pl.duration(seconds=rule.clock_backwards or 0)
    return events.filter(back.fill_null(False)).select(pl.lit(rule.id).alias("rule_id"), *keep)


def _with_entities(rows: pl.DataFrame, matcher: Matcher) -> pl.DataFrame:
    found = pl.col("_e").struct.field
    vpool = [pl.coalesce(found("vpool"), pl.col("vpool")).alias("vpool")] if "vpool" in matcher.entities else []
    return (
        rows.with_columns(pl.col("raw").str.extract_groups(matcher.regex).alias("_e"))  # type: ignore[arg-type]
        .with_columns(*[found(n).alias(n) for n in matcher.entities if n != "vpool"], *vpool)
        .drop("_e")
    )


def _fallback_filter(rows: pl.DataFrame, matcher: Matcher) -> pl.DataFrame:
    """Look-around regexes: the `regex` module on the pre-filtered rows, each search under a timeout.

    A record that times out counts as no match; the rule can never hang the analysis.
    """
    pattern = pyregex.compile(matcher.regex)  # type: ignore[arg-type]
    found: list[dict[str, str | None] | None] = []
    for raw in rows["raw"].to_list():
        try:
            m = pattern.search(raw, timeout=FALLBACK_TIMEOUT_S)
        except TimeoutError:
            m = None
        found.append({n: m.group(n) for n in matcher.entities} if m else None)
    keep = pl.Series([f is not None for f in found])
    rows = rows.filter(keep)
    for name in matcher.entities:
        values = pl.Series(name, [f[name] for f in found if f is not None], dtype=pl.String)
        rows = rows.with_columns(pl.coalesce(values, pl.col(name)) if name in rows.columns else values)
    return rows
