"""Every record-level signature over a table of events, in one pass and with no loop over lines.

One literal scan (`contains_any_literal`) with the union of all rules' literals picks the
candidate records; only the rules with a literal among the candidates are evaluated there, each
as one Polars expression (literals, regex, producers, level). Rules without literals scan every
record. A regex that needs look-around runs with the `regex` module, under a timeout, on its
candidates only. Windowed kinds (threshold, sequence, absence, escalation) run afterwards over
the small table of hits and per-minute counts (analyzer/detection/windows.py).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import regex as pyregex

from analyzer.detection.rule import (
    Matcher,
    Rule,
)
from analyzer.parsing.literals import contains_any_literal, literals_present

#: The event columns a hit keeps: enough for evidence, windows and the timeline.
HIT_COLUMNS = ("host", "source", "line", "ts_local", "utc_offset", "producer", "component", "vpool", "raw")


#: The event columns matchers read besides the hit columns.
_MATCH_COLUMNS = ("level",)


#: How long the look-around fallback engine may spend on one record before the rule gives up on it.
FALLBACK_TIMEOUT_S = 0.05


def find_hits(events: pl.DataFrame, rules: list[Rule], latest: dict[str, datetime] | None = None) -> pl.DataFrame:
    """All (rule, record) matches, with the rule's regex entities pulled out as columns.

    `latest`: per member (`source`), the UTC instant of its last zoned record in the chunks
    before these, for `clock_jump` rules (a step back at a chunk's first record is still seen);
    updated with these records' when given."""
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
    jumps = [rule for rule in rules if rule.enabled and rule.clock_backwards]
    if jumps:
        before = latest or {}
        parts.extend(_clock_jumps(events, rule, keep, before) for rule in jumps)
        if latest is not None:
            latest.update(_latest_instants(events, before))
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


def _clock_jumps(events: pl.DataFrame, rule: Rule, keep: list[str], before: dict[str, datetime]) -> pl.DataFrame:
    """Records stamped well before the record their member wrote just before: where the clock
    stepped back. One hit per step, so a clock put right after it ran ahead is one jump, not
    every record until it caught up again.

    Only zoned records count (their UTC instant is known without learning an offset): the UTC
    instant of the others is null, so they are neither judged nor judged against.
    `events` may hold several members, each one run of rows in line order (so the first and the
    last row name the same member only when there is one); `before` holds each member's last
    instant in its chunks before these.
    """
    previous = _UTC.forward_fill().shift(1)
    if events["source"][0] != events["source"][-1]:
        previous = previous.over("source")
    if before:
        previous = pl.coalesce(previous, _instant_before(before))
    back = (previous - _UTC) > pl.duration(seconds=rule.clock_backwards or 0)
    return events.filter(back.fill_null(False)).select(pl.lit(rule.id).alias("rule_id"), *keep)


#: A record's UTC instant, when its zone is known.
_UTC = pl.col("ts_local") - pl.duration(minutes=pl.col("utc_offset").cast(pl.Int64))


def _instant_before(before: dict[str, datetime]) -> pl.Expr:
    """Each record's member's last instant in the chunks before (null for a member without one)."""
    return pl.col("source").replace_strict(list(before), list(before.values()), default=None,
                                           return_dtype=pl.Datetime("us"))


def _latest_instants(events: pl.DataFrame, before: dict[str, datetime]) -> dict[str, datetime]:
    """Per member of `events`, the instant of its last zoned record, in these chunks or before."""
    last = _UTC.drop_nulls().last()
    if before:
        last = pl.coalesce(last, _instant_before(before).first())
    return {source: instant for source, instant in
            events.group_by("source").agg(last.alias("last")).drop_nulls("last").iter_rows()}


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
