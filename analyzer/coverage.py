"""Rule coverage: which rules fired, which ran and found nothing, and which could not run.

A rule that could not run must never pass for one that found nothing (the most common
complaint about insights-core). A rule needs the producers named in its `applies_to`, or else
the producers its own examples parse as: the places its signature is known to appear. When
the bundle has no record from any of them, the rule could not run, and the report says so.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from analyzer.findings import Finding
from analyzer.formats import FormatSpec
from analyzer.parse import ParseContext, parse_member
from analyzer.rules import Rule
from analyzer.versions import assess

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
    key = (rule.id, rule.examples_match)
    if key not in _EXAMPLE_PRODUCERS:
        found: set[str] = set()
        for example in rule.examples_match:
            events = parse_member("example.log", example.encode(), formats, _CTX).events
            found.update(events["producer"].drop_nulls().to_list())
        _EXAMPLE_PRODUCERS[key] = frozenset(found)
    return _EXAMPLE_PRODUCERS[key]


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
