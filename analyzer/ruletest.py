"""Run the examples every rule carries, through the same parser and matcher as a bundle.

An example is a whole log line as it appears in a member. Parsing it for real (instead of
matching the regex against the string) proves the rule fires on what the parsers produce:
producer and level filters included.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from analyzer.formats import FormatSpec, load_formats
from analyzer.parse import LEVELS, ParseContext, parse_member
from analyzer.rules import Rule, find_hits

_CTX = ParseContext(year=2017)


@dataclass(frozen=True)
class ExampleFailure:
    """One example that did not behave as its rule file says, and why."""

    rule: Rule
    expected: str
    example: str
    why: str

    def describe(self) -> str:
        return (f"FAIL {self.rule.id} ({self.rule.source_file}): expected {self.expected}\n"
                f"  example: {self.example}\n  {self.why}")


def run_rule_examples(rules: list[Rule], formats: list[FormatSpec] | None = None) -> list[ExampleFailure]:
    formats = formats if formats is not None else load_formats()
    failures: list[ExampleFailure] = []
    for rule in rules:
        for example in rule.examples_match:
            events = parse_member("example.log", example.encode(), formats, _CTX).events
            if find_hits(events, [rule]).height == 0:
                failures.append(ExampleFailure(rule, "a match", example, _why_not(rule, events)))
        for example in rule.examples_no_match:
            events = parse_member("example.log", example.encode(), formats, _CTX).events
            if find_hits(events, [rule]).height:
                failures.append(ExampleFailure(rule, "no match", example, "but the rule matched it"))
    return failures


def _why_not(rule: Rule, events: pl.DataFrame) -> str:
    """Name the condition that failed, with what the parser made of the line."""
    if events.height == 0:
        return "the example parsed to no record at all"
    row = events.row(0, named=True)
    raw = pl.col("raw")
    checks = []
    if rule.literals:
        checks.append((f"none of the literals {list(rule.literals)} occurs", raw.str.contains_any(list(rule.literals))))
    if rule.regex:
        checks.append((f"the regex {rule.regex!r} does not match", raw.str.contains(rule.regex)))
    if rule.producers:
        checks.append((f"producer {row['producer']!r} is not in {list(rule.producers)}",
                       pl.col("producer").is_in(list(rule.producers))))
    if rule.min_level:
        checks.append((f"level {row['level']!r} is below {rule.min_level}",
                       pl.col("level").to_physical() >= LEVELS.index(rule.min_level)))
    failed = [text for text, expr in checks if not events.select(expr.fill_null(False).any()).item()]
    parsed = f"parsed as producer={row['producer']} level={row['level']} format={row['format']}"
    return "; ".join(failed or ["no condition failed on its own"]) + f" ({parsed})"
