"""Rule coverage: which rules fired, which ran and found nothing, and which could not run.

A rule that could not run must never pass for one that found nothing (the most common
complaint about insights-core). A rule needs the producers named in its `applies_to`, or else
the producers its own examples parse as: the places its signature is known to appear. When
the bundle has no record from any of them, the rule could not run, and the report says so.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from analyzer.detection.findings import Finding
from analyzer.detection.rule import Rule
from analyzer.detection.versions import assess
from analyzer.parsing.context import ParseContext
from analyzer.parsing.formats import FormatSpec
from analyzer.parsing.matching import SAMPLE_LINES
from analyzer.parsing.member import parse_member

_CTX = ParseContext(year=2017)
_EXAMPLE_PRODUCERS: dict[tuple[str, tuple[str, ...]], frozenset[str]] = {}


def needed_producers(rule: Rule, by_id: dict[str, Rule], formats: list[FormatSpec]) -> frozenset[str]:
    """The producers a rule can find its signature in; empty means it can run on anything."""
    if rule.applies_to:
        return frozenset(rule.applies_to)
    if rule.absence:
        return frozenset() if "*" in rule.absence.producers else frozenset(rule.absence.producers)
    if rule.sequence:
        steps = [needed_producers(by_id[s], by_id, formats) for s in rule.sequence.steps]
        return frozenset() if any(not s for s in steps) else frozenset().union(*steps)
    if rule.matcher and rule.matcher.producers:
        return frozenset(rule.matcher.producers)
    key = _example_key(rule)
    if key not in _EXAMPLE_PRODUCERS:
        learn_example_producers([rule], formats)
    return _EXAMPLE_PRODUCERS[key]


def _example_key(rule: Rule) -> tuple[str, tuple[str, ...]]:
    return rule.id, tuple(rule.examples_match)


def learn_example_producers(rules: list[Rule], formats: list[FormatSpec]) -> None:
    """Parse the match examples of many rules together, as few files, and note each rule's producers.

    Parsing has a fixed cost per call that dwarfs a few example lines, so examples are glued into
    files of at most `SAMPLE_LINES` lines: within that size the parser's format sampler sees every
    line, so each line is read by the same format as when its example is parsed alone. An example
    is never split, and a record belongs to the example holding its first line.
    """
    batches: list[list[tuple[tuple[str, tuple[str, ...]], list[str]]]] = [[]]
    size = 0
    for rule in rules:
        key = _example_key(rule)
        if key in _EXAMPLE_PRODUCERS:
            continue
        _EXAMPLE_PRODUCERS[key] = frozenset()
        for example in rule.examples_match:
            lines = example.removesuffix("\n").split("\n")
            if size and size + len(lines) > SAMPLE_LINES:
                batches.append([])
                size = 0
            batches[-1].append((key, lines))
            size += len(lines)
    for batch in batches:
        owners = [key for key, lines in batch for _ in lines]
        if not owners:
            continue
        text = "\n".join(line for _, lines in batch for line in lines)
        events = parse_member("examples.log", text.encode(), formats, _CTX).events
        for line, producer in events.select("line", "producer").drop_nulls().iter_rows():
            key = owners[line - 1]
            _EXAMPLE_PRODUCERS[key] = _EXAMPLE_PRODUCERS[key] | {producer}


def judge_versions(findings: list[Finding], rules: list[Rule],
                   installed: dict[str, str]) -> tuple[list[Finding], list[dict[str, str]]]:
    """Say on each finding whether the node's release is affected, and list every rule's verdict.

    A finding whose rule excludes this release stays: it is a regression or another cause,
    which the engineer must know rather than never see.
    """
    verdicts = {}
    for rule in rules:
        if rule.enabled and rule.versions:
            verdict, why = assess(rule.versions, installed)
            verdicts[rule.id] = {"id": rule.id, "verdict": verdict, "why": why}
    noted = []
    for finding in findings:
        judged = verdicts.get(finding.rule_id)
        if judged and judged["verdict"] == "not_affected":
            finding = replace(finding, versions=f"{judged['why']}: fired anyway, a regression or another cause")
        elif judged:
            finding = replace(finding, versions=judged["why"])
        noted.append(finding)
    return noted, sorted(verdicts.values(), key=lambda v: v["id"])


def rule_coverage(rules: list[Rule], fired: set[str], present: set[str], formats: list[FormatSpec]) -> dict[str, Any]:
    """The coverage block of findings.json."""
    by_id = {r.id: r for r in rules}
    learn_example_producers(rules, formats)
    silent, unavailable = [], []
    for rule in rules:
        if not rule.enabled or rule.id in fired:
            continue
        needed = needed_producers(rule, by_id, formats)
        if needed and not needed & present:
            unavailable.append({"id": rule.id, "needs": sorted(needed),
                                "reason": f"no {' or '.join(sorted(needed))} records in this bundle"})
        else:
            silent.append(rule.id)
    return {
        "rules_loaded": len(rules),
        "rules_fired": sorted(fired),
        "rules_silent": sorted(silent),
        "rules_unavailable": sorted(unavailable, key=lambda u: u["id"]),
        "rules_disabled": sorted(r.id for r in rules if not r.enabled),
        "producers_present": sorted(present),
    }
