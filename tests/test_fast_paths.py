"""Shortcuts taken for speed give exactly what the plain road gives."""

from __future__ import annotations

import dataclasses

from analyzer import coverage
from analyzer.parse import ParseContext, parse_member


def _alone(rule, formats) -> frozenset[str]:
    found: set[str] = set()
    for example in rule.examples_match:
        events = parse_member("example.log", example.encode(), formats, ParseContext(year=2017)).events
        found.update(events["producer"].drop_nulls().to_list())
    return frozenset(found)


def test_rule_examples_parsed_together_give_each_rule_the_producers_its_examples_give_alone(rules, formats):
    learned = [r for r in rules if r.examples_match and not r.applies_to and not r.absence and not r.sequence
               and not (r.matcher and r.matcher.producers)]
    assert len(learned) > 20, "the shipped pack learns most rules' producers from their examples"
    # fresh ids, so nothing learned by an earlier test is reused
    fresh = [dataclasses.replace(r, id=f"{r.id}__fresh") for r in learned]
    coverage.learn_example_producers(fresh, formats)
    by_id = {r.id: r for r in fresh}
    for rule, original in zip(fresh, learned, strict=True):
        assert coverage.needed_producers(rule, by_id, formats) == _alone(original, formats), rule.id
