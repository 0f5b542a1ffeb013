"""Rule files into `Rule`s, with one clear error naming the file and the key for anything wrong.

Rules are data (`rules/<component>/<ID>.yaml`, language in rules/README.md, JSON Schema in
rules/rule.schema.json), written by support engineers: every key is checked here, once, so the
matcher and the windowed kinds never meet a malformed rule. `apply_tuning` is a site's
`--config` (rules switched off, severities changed) laid over the loaded pack.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import regex as pyregex

from analyzer.datafiles import load_mapping
from analyzer.detection.causes import LINKS_FOLDER, Link, load_links
from analyzer.detection.rule import (
    COMPONENTS,
    ENTITY_GROUPS,
    GROUP_COLUMNS,
    KINDS,
    SEVERITIES,
    TASK_OUTCOMES,
    TASK_PROBLEMS,
    Absence,
    Matcher,
    Rule,
    Sequence,
    TaskCondition,
    Window,
)
from analyzer.detection.versions import VersionRange, is_version
from analyzer.durations import duration_seconds
from analyzer.errors import UserError
from analyzer.parsing.schema import LEVELS
from analyzer.resources import shipped_dir

_REQUIRED = ("id", "title", "severity", "component", "description", "remediation")
_OPTIONAL = ("references", "hc_codes", "tags", "examples", "kind", "match", "threshold", "sequence", "absence",
             "clock_jump", "escalate", "applies_to", "enabled", "versions", "task")
_MATCH_KEYS = ("literals", "regex", "producers", "min_level")


def default_rule_dirs() -> list[Path]:
    return [shipped_dir("rules")]


def load_rules(dirs: Iterable[Path]) -> list[Rule]:
    """Read every rule file below `dirs`; a broken file is a clear error naming the file.

    The shipped pack is read once per process (a triage worker, a Dask worker above all, reports
    bundle after bundle); any other folder at every call, so a rule being written or tuned is
    the one the next bundle meets, as with causal links (`pack_links`)."""
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for directory in dirs:
        for path, rule in _shipped_rules() if directory == shipped_dir("rules") else _rules_below(directory):
            if rule.id in seen:
                raise UserError(f"{path}: rule id {rule.id} is already defined in {seen[rule.id]}")
            seen[rule.id] = str(path)
            rules.append(rule)
    _check_sequences(rules)
    return rules


@cache
def _shipped_rules() -> tuple[tuple[Path, Rule], ...]:
    return _rules_below(shipped_dir("rules"))


def _rules_below(directory: Path) -> tuple[tuple[Path, Rule], ...]:
    if not directory.is_dir():
        raise UserError(f"{directory}: rules folder not found")
    # causal links between rules are not rules (detection/causes.py)
    return tuple((path, load_rule_file(path)) for path in sorted(directory.rglob("*.yaml"))
                 if path.relative_to(directory).parts[0] != LINKS_FOLDER)


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


def load_pack(extra_dirs: Iterable[Path] = (), config: Path | None = None) -> list[Rule]:
    """The rules a run uses: the shipped pack, the extra folders given (`--rules`), and the site's
    tuning (`--config`) laid over them."""
    return apply_tuning(load_rules([*default_rule_dirs(), *extra_dirs]), config)


def pack_links(extra_dirs: tuple[Path, ...] = ()) -> list[Link]:
    """The causal links of the shipped pack and of the extra rule folders (`--rules`): the shipped
    ones read once per process (a triage worker reports bundle after bundle), the folders given read
    at every call (a links file being written stays current in a long-lived process)."""
    if not extra_dirs:
        return list(_shipped_links())
    return load_links([*default_rule_dirs(), *extra_dirs])  # refuses a link the pack already has


@cache
def _shipped_links() -> tuple[Link, ...]:
    return tuple(load_links(default_rule_dirs()))


def links_for(rules: list[Rule], extra_dirs: Iterable[Path | str] = ()) -> list[Link]:
    """The links of the pack whose cause and effect are both among `rules` (a run may load a
    subset; `rules test` checks that every shipped link names real rules)."""
    ids = {r.id for r in rules}
    return [link for link in pack_links(tuple(Path(d) for d in extra_dirs)) if {link.cause, link.effect} <= ids]


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


