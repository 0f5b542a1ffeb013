"""Run the examples every rule carries, through the same steps as the analysis of a bundle.

An example is log text exactly as it appears in a member: one record for a `match` rule, a
block of lines for a windowed rule (threshold, sequence, absence). It is parsed for real,
matched, put on UTC and turned into findings, so an example proves the rule fires on what
the parsers produce: producer and level filters, windows and chains included.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from analyzer.collectors.tasks import history_of, rule_hits
from analyzer.detection.causes import Chain, Link, root_causes
from analyzer.detection.findings import Finding, build_findings
from analyzer.detection.matcher import find_hits
from analyzer.detection.rule import Rule
from analyzer.parsing.context import ParseContext
from analyzer.parsing.formats import FormatSpec, load_formats
from analyzer.parsing.member import parse_member
from analyzer.parsing.schema import LEVELS
from analyzer.parsing.summary import record_summary
from analyzer.parsing.timezones import fill_offsets, offset_samples
from analyzer.pipeline.counts import counts_in_utc, end_of_logs, minute_counts

_CTX = ParseContext(year=2017)


@dataclass(frozen=True)
class ExampleFailure:
    """One example that did not behave as its rule or link file says, and why."""

    #: The rule's id, or `link CAUSE -> EFFECT`.
    subject: str
    source_file: str
    expected: str
    example: str
    why: str

    def describe(self) -> str:
        return (f"FAIL {self.subject} ({self.source_file}): expected {self.expected}\n"
                f"  example: {self.example}\n  {self.why}")


def run_rule_examples(rules: list[Rule], every_rule: list[Rule] | None = None,
                      formats: list[FormatSpec] | None = None) -> list[ExampleFailure]:
    """Check `rules`' examples; `every_rule` supplies the steps that sequence rules refer to."""
    formats = formats if formats is not None else load_formats()
    by_id = {r.id: r for r in [*(every_rule or []), *rules]}
    failures: list[ExampleFailure] = []
    for rule in rules:
        involved = [rule, *(by_id[s] for s in (rule.sequence.steps if rule.sequence else ()))]
        for example in rule.examples_match:
            events, found = example_findings(example, rule, involved, formats)
            if not found:
                failures.append(ExampleFailure(rule.id, rule.source_file, "a finding", example,
                                               _why_not(rule, events)))
        for example in rule.examples_no_match:
            _, found = example_findings(example, rule, involved, formats)
            if found:
                failures.append(ExampleFailure(rule.id, rule.source_file, "no finding", example,
                                               f"but it fired: {found[0].detail}"))
    return failures


def example_findings(text: str, rule: Rule, involved: list[Rule], formats: list[FormatSpec],
                     source: str = "example.log") -> tuple[pl.DataFrame, list[Finding]]:
    """Analyze one example as a member of its own and return the findings of `rule`."""
    events, found = _findings_of(text, involved, formats, source)
    return events, [f for f in found if f.rule_id == rule.id]


def run_link_examples(links: list[Link], rules: list[Rule],
                      formats: list[FormatSpec] | None = None) -> list[ExampleFailure]:
    """Check every link's examples: in a `linked` one both rules fire and the link joins their
    findings into one chain; in a `not_linked` one both fire and it does not. A link naming a rule
    the pack does not have fails at once."""
    formats = formats if formats is not None else load_formats()
    by_id = {r.id: r for r in rules}
    failures: list[ExampleFailure] = []
    for link in links:
        subject = f"link {link.cause} -> {link.effect}"
        missing = [end for end in (link.cause, link.effect) if end not in by_id]
        if missing:
            failures.append(ExampleFailure(subject, link.source_file, "rules of the pack", "",
                                           f"no rule {', '.join(missing)}"))
            continue
        involved = [by_id[link.cause], by_id[link.effect]]
        involved += [by_id[s] for r in involved for s in (r.sequence.steps if r.sequence else ()) if s in by_id]
        for expected, examples in (("linked", link.linked), ("not linked", link.not_linked)):
            for example in examples:
                _, found = _findings_of(example.text, involved, formats, example.source)
                documents = [f.to_dict() for f in found]
                fired = {f.rule_id for f in found}
                if not {link.cause, link.effect} <= fired:
                    why = f"only {', '.join(sorted(fired)) or 'nothing'} fired"
                elif (_joined(documents, link) is not None) != (expected == "linked"):
                    why = "the link joined them" if expected == "not linked" else _why_apart(documents, link)
                else:
                    continue
                failures.append(ExampleFailure(subject, link.source_file, expected, example.text, why))
    return failures


def _joined(documents: list[dict[str, Any]], link: Link) -> Chain | None:
    """The chain in which `link` joined a cause to an effect, if any."""
    for chain in root_causes(documents, [link]):
        if any(e.link is link for e in chain.effects):
            return chain
    return None


def _why_apart(documents: list[dict[str, Any]], link: Link) -> str:
    causes = [d for d in documents if d["rule_id"] == link.cause]
    effects = [d for d in documents if d["rule_id"] == link.effect]
    return (f"the link did not join them: {link.cause} at {[d['first_seen'] for d in causes]} on "
            f"{[d['hosts'] for d in causes]} {[d['entities'] for d in causes]}, {link.effect} at "
            f"{[d['first_seen'] for d in effects]} on {[d['hosts'] for d in effects]} "
            f"{[d['entities'] for d in effects]}; it needs {link.label}")


def _findings_of(text: str, involved: list[Rule], formats: list[FormatSpec],
                 source: str) -> tuple[pl.DataFrame, list[Finding]]:
    """Analyze one example as a member of its own: its events and every finding of `involved`."""
    involved = [replace(r, enabled=True) for r in involved]  # a switched-off rule's examples still count
    events = parse_member(source, text.encode(), formats, _CTX).events
    offsets = offset_samples(events)
    hits = find_hits(events, involved)
    hits = fill_offsets(hits, offsets) if hits.height else hits
    if any(r.kind == "task" for r in involved):  # task rules look at the task history the lines rebuild
        task_hits = rule_hits(history_of(events, offsets), involved)
        hits = pl.concat([h for h in (hits, task_hits) if h.height], how="diagonal_relaxed") if task_hits.height \
            else hits
    counts, _ = counts_in_utc([minute_counts(record_summary(events, [source]))], offsets)
    return events, build_findings(hits, counts, involved, end_of_logs(counts))


def _why_not(rule: Rule, events: pl.DataFrame) -> str:
    """Name the condition that failed, with what the parser made of the text."""
    if events.height == 0:
        return "the example parsed to no record at all"
    row = events.row(0, named=True)
    parsed = f"parsed as producer={row['producer']} level={row['level']} format={row['format']}"
    matcher = rule.matcher
    if matcher is None or rule.kind != "match":
        return f"the {rule.kind} condition was not met over {events.height} record(s) ({parsed})"
    raw = pl.col("raw")
    checks = []
    if matcher.literals:
        checks.append((f"none of the literals {list(matcher.literals)} occurs",
                       raw.str.contains_any(list(matcher.literals))))
    if matcher.regex and not matcher.fallback:
        checks.append((f"the regex {matcher.regex!r} does not match", raw.str.contains(matcher.regex)))
    if matcher.producers:
        checks.append((f"producer {row['producer']!r} is not in {list(matcher.producers)}",
                       pl.col("producer").is_in(list(matcher.producers))))
    if matcher.min_level:
        checks.append((f"level {row['level']!r} is below {matcher.min_level}",
                       pl.col("level").to_physical() >= LEVELS.index(matcher.min_level)))
    failed = [text for text, expr in checks if not events.select(expr.fill_null(False).any()).item()]
    return "; ".join(failed or ["no condition failed on its own"]) + f" ({parsed})"
