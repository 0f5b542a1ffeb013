"""Estimate how far each node's clock is from a reference node's, from events two nodes log about one happening.

Two kinds of shared events, from `cluster_evidence.anchors` (each a `kind`, a `key` shared by the
nodes, and a UTC time as the node's clock wrote it):

- Simultaneous ("elections"): when an Arakoon master is elected, every node of the cluster logs
  the same text (`<node> is master`) within milliseconds. For each node, every such event is
  paired with the reference node's nearest one of the same text (within `TOLERANCE`); the offset
  is the median of the pair differences, and how sure we are follows from how many pairs agree
  and how tightly (median absolute deviation): high with 3 pairs or more within `AGREE_SECONDS`
  of the median, medium with 2, low with one pair or pairs that disagree.
- Causal ("celery", "dtl"): the second event of a pair can not happen before the first, whatever
  the clocks say. A Celery task received on node B at B-time `r` and sent on node A at A-time `s`
  says B's offset against A is at most `r - s`; tasks flowing the other way bound it from below.
  A DTL connect (volumedriver on A) and its register (DTL server on B) bound it the same way, and
  the DTL's clear and the volumedriver going on once it was answered bound it from the other side.
  Every pair is one inequality between two nodes' offsets; the tightest bounds of each node
  against the reference follow from all of them at once (shortest paths over the nodes, so a
  node that never talks to the reference is bounded through the nodes it talks to). The offset
  is the middle of that interval, and how sure we are follows from its width.

Methods combine so: elections when they give an offset (the tightest: simultaneous events);
otherwise the middle of the tightest causal interval (all causal pairs together). When methods
disagree (an election offset outside the causal bounds, Celery and DTL bounds that do not
overlap, bounds that contradict each other: a clock that stepped while the logs were written),
the confidence drops a step and the node's `note` says so.

The reference is the node sharing the most events with the others (ties: the first host name).
A positive offset means the node's clock is ahead: its logs say later than the reference's.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from analyzer.isotime import iso

METHOD = "shared Arakoon events (master elections seen on several nodes)"
METHODS = {
    "elections": METHOD,
    "celery": "Celery tasks (a task is received on one node after it was sent on another)",
    "dtl": "DTL connections (a DTL server registers and clears a volume after its volumedriver connects)",
}
SHORT = {"elections": "Arakoon elections", "celery": "Celery tasks", "dtl": "DTL connections"}
#: The (cause, effect) event pairs of each causal method: the effect never precedes the cause.
CAUSAL = {"celery": (("task_sent", "task_received"),),
          "dtl": (("dtl_connect", "dtl_accept"), ("dtl_clear", "dtl_cleared"))}
TOLERANCE = timedelta(minutes=5)
AGREE_SECONDS = 1.0
#: A causal interval at most this wide (each way) still gives a medium-confidence offset.
WIDE_SECONDS = 5.0
#: Log times are truncated to the millisecond by some producers: bounds are this much looser.
SLACK_SECONDS = 0.002
CONFIDENCES = ("none", "low", "medium", "high")


@dataclass(frozen=True)
class Estimate:
    """What one method alone says about a node's clock against the reference."""

    method: str
    offset_seconds: float | None
    lower_seconds: float | None
    upper_seconds: float | None
    pairs: int


@dataclass(frozen=True)
class Skew:
    """One node's clock against the reference node's, and what each method said."""

    host: str
    offset_seconds: float | None
    pairs: int
    spread_seconds: float | None
    confidence: str
    method: str
    #: The interval the offset is known to lie in (causal bounds; for elections alone, the range
    #: of the pair differences that agree); None on a side nothing bounds.
    lower_seconds: float | None = None
    upper_seconds: float | None = None
    #: Why the confidence is lower than the pairs alone would give (methods that disagree), or None.
    note: str | None = None
    by_method: tuple[Estimate, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "by_method": [asdict(e) for e in self.by_method]}


def anchor_frame(anchors: dict[str, list[dict[str, Any]]]) -> pl.DataFrame:
    """host, kind, key, ts (UTC) from each node's `cluster_evidence.anchors` (no kind: an election)."""
    rows = [{"host": host, "kind": a.get("kind") or "election", "key": a["key"], "ts": a["ts"]}
            for host, items in anchors.items() for a in items]
    frame = pl.DataFrame(rows, schema={"host": pl.String, "kind": pl.String, "key": pl.String, "ts": pl.String})
    return frame.with_columns(pl.col("ts").str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us"))


def estimate(anchors: dict[str, list[dict[str, Any]]]) -> tuple[str | None, list[Skew]]:
    """The reference host and every host's skew against it (the reference's own is 0, high)."""
    hosts = sorted(anchors)
    if not hosts:
        return None, []
    frame = anchor_frame(anchors)
    elections = frame.filter(pl.col("kind") == "election")
    pairs = {(a, b): _pair_offsets(elections, a, b) for a in hosts for b in hosts if a != b}
    causal = {method: causal_bounds(frame, kinds) for method, kinds in CAUSAL.items()}
    shared = {h: sum(pairs[(h, o)].height for o in hosts if o != h) for h in hosts}
    for bounds in causal.values():
        for h in hosts:
            shared[h] += bounds.filter((pl.col("cause_host") == h) | (pl.col("effect_host") == h)).height
    reference = min(hosts, key=lambda h: (-shared[h], h))
    intervals = {method: _intervals(bounds, hosts, reference) for method, bounds in causal.items()}
    together = _intervals(pl.concat(causal.values()), hosts, reference)
    skews = [Skew(reference, 0.0, 0, 0.0, "high", "reference clock", 0.0, 0.0)]
    for host in hosts:
        if host != reference:
            found = {method: found[host] for method, found in intervals.items()}
            skews.append(_combine(host, _summarize(host, pairs[(reference, host)]["diff"]), found, together[host]))
    return reference, sorted(skews, key=lambda s: s.host)


def _pair_offsets(frame: pl.DataFrame, reference: str, host: str) -> pl.DataFrame:
    """For each anchor of `host`, its time minus the reference's nearest same-text anchor's, in seconds."""
    ref = frame.filter(pl.col("host") == reference).select("key", pl.col("ts").alias("ref_ts")).sort("ref_ts")
    mine = frame.filter(pl.col("host") == host).select("key", "ts").sort("ts")
    if ref.height == 0 or mine.height == 0:
        return pl.DataFrame(schema={"diff": pl.Float64})
    joined = mine.join_asof(ref, left_on="ts", right_on="ref_ts", by="key", strategy="nearest",
                            tolerance=TOLERANCE, check_sortedness=False)
    return joined.filter(pl.col("ref_ts").is_not_null()).select(
        ((pl.col("ts") - pl.col("ref_ts")).dt.total_microseconds() / 1e6).alias("diff"))


def causal_bounds(frame: pl.DataFrame, kinds: tuple[tuple[str, str], ...]) -> pl.DataFrame:
    """cause_host, effect_host, bound: each effect on another node than its cause says
    `offset(effect_host) - offset(cause_host) <= bound` (its time minus the cause's, in seconds).

    An effect pairs with the nearest cause of the same key (within `TOLERANCE`): a task id is
    sent once, but a volume connects to its DTL again after every restart.
    """
    found = []
    for cause, effect in kinds:
        causes = frame.filter(pl.col("kind") == cause).select(
            "key", pl.col("host").alias("cause_host"), pl.col("ts").alias("cause_ts")).sort("cause_ts")
        effects = frame.filter(pl.col("kind") == effect).select(
            "key", pl.col("host").alias("effect_host"), pl.col("ts").alias("effect_ts")).sort("effect_ts")
        if causes.height and effects.height:
            found.append(effects.join_asof(causes, left_on="effect_ts", right_on="cause_ts", by="key",
                                           strategy="nearest", tolerance=TOLERANCE, check_sortedness=False))
    if not found:
        return pl.DataFrame(schema={"cause_host": pl.String, "effect_host": pl.String, "bound": pl.Float64})
    return pl.concat(found).filter(pl.col("cause_ts").is_not_null() & (pl.col("cause_host") != pl.col("effect_host"))) \
        .select("cause_host", "effect_host",
                ((pl.col("effect_ts") - pl.col("cause_ts")).dt.total_microseconds() / 1e6).alias("bound"))


def _intervals(bounds: pl.DataFrame, hosts: list[str], reference: str) -> dict[str, Estimate]:
    """Each host's tightest interval against the reference from every pair at once.

    The pairs are edges `cause -> effect` of weight `bound` in a graph of difference constraints:
    the shortest path reference -> h bounds `offset(h) - offset(reference)` from above, the
    shortest path h -> reference (reference -> h on the reversed edges) from below.
    """
    tightest = bounds.group_by("cause_host", "effect_host").agg(pl.col("bound").min() + SLACK_SECONDS)
    edges = {(cause, effect): bound for cause, effect, bound in tightest.iter_rows()}
    above = _shortest(edges, hosts, reference)
    below = _shortest({(b, a): w for (a, b), w in edges.items()}, hosts, reference)
    used = bounds.select(pl.concat_list("cause_host", "effect_host").alias("h")).explode("h")["h"].value_counts()
    pairs = dict(used.iter_rows())
    return {h: _interval(-below[h], above[h], pairs.get(h, 0)) for h in hosts}


def _shortest(edges: dict[tuple[str, str], float], hosts: list[str], source: str) -> dict[str, float]:
    """Bellman-Ford from `source` (bounds may be negative). Edges exist only between nodes that talk,
    so it settles in a few rounds; bounds that contradict each other (a negative cycle) never
    settle, stop after one round per host and show as an interval whose lower end passes its upper."""
    dist = dict.fromkeys(hosts, math.inf)
    dist[source] = 0.0
    for _ in hosts:
        changed = False
        for (a, b), weight in edges.items():
            if dist[a] + weight < dist[b]:
                dist[b], changed = dist[a] + weight, True
        if not changed:
            break
    return dist


def _interval(lower: float, upper: float, pairs: int) -> Estimate:
    low = round(lower, 6) if math.isfinite(lower) else None
    high = round(upper, 6) if math.isfinite(upper) else None
    middle = round((lower + upper) / 2, 6) if low is not None and high is not None else None
    return Estimate("causal", middle, low, high, pairs)


def _summarize(host: str, diffs: pl.Series) -> Skew:
    if diffs.len() == 0:
        return Skew(host, None, 0, None, "none", "no anchor shared with the reference node")
    median = float(diffs.median())  # type: ignore[arg-type]
    spread = float((diffs - median).abs().median())  # type: ignore[arg-type]
    agree = spread <= AGREE_SECONDS
    confidence = "high" if agree and diffs.len() >= 3 else "medium" if agree and diffs.len() == 2 else "low"
    close = diffs.filter((diffs - median).abs() <= AGREE_SECONDS)
    span = close if close.len() else diffs  # pairs that disagree: all of them
    return Skew(host, round(median, 6), diffs.len(), round(spread, 6), confidence, METHOD,
                round(float(span.min()), 6), round(float(span.max()), 6))  # type: ignore[arg-type]


def _combine(host: str, elected: Skew, causal: dict[str, Estimate], together: Estimate) -> Skew:
    """One skew from what each method said (see the module doc for the rules)."""
    by_method = tuple(e for e in (_as_estimate(elected), *(replace(e, method=m) for m, e in causal.items()))
                      if e.pairs)
    if elected.offset_seconds is not None:
        skew = replace(elected, by_method=by_method)
        if together.lower_seconds is None and together.upper_seconds is None:
            return skew
        lower, upper = together.lower_seconds, together.upper_seconds
        skew = replace(skew, lower_seconds=lower, upper_seconds=upper)
        slack = (elected.spread_seconds or 0.0) + SLACK_SECONDS
        if (lower is not None and elected.offset_seconds < lower - slack) or \
                (upper is not None and elected.offset_seconds > upper + slack):
            return replace(skew, confidence=_lowered(skew.confidence),
                           note=f"elections say {elected.offset_seconds:+.3f} s but {_names(causal)} bound it to "
                                f"{_span(lower, upper)}")
        return skew
    return _from_causal(host, causal, together, by_method)


def _from_causal(host: str, causal: dict[str, Estimate], together: Estimate, by_method: tuple[Estimate, ...]) -> Skew:
    used = {m: e for m, e in causal.items() if e.pairs}
    if not used:
        return Skew(host, None, 0, None, "none", "no event shared with the reference node", by_method=by_method)
    label = " and ".join(SHORT[m] for m in used)
    pairs = sum(e.pairs for e in used.values())
    lower, upper = together.lower_seconds, together.upper_seconds
    if lower is None and upper is None:
        return Skew(host, None, pairs, None, "none", "no event shared with the reference node, even through others",
                    by_method=by_method)
    if lower is None or upper is None:
        return Skew(host, None, pairs, None, "none", f"{label}: bounded from one side only", lower, upper,
                    f"{label} bound the offset from one side only ({_span(lower, upper)}): events flowed one way",
                    by_method)
    note = None
    if lower > upper:  # no offset fits every pair: take the narrowest method that is consistent alone
        alone = {m: e for m, e in used.items() if e.lower_seconds is not None and e.upper_seconds is not None
                 and e.lower_seconds <= e.upper_seconds}
        if len(alone) == len(used) > 1:
            note = " and ".join(f"{SHORT[m]} ({_span(e.lower_seconds, e.upper_seconds)})" for m, e in used.items()) \
                + " do not overlap"
        else:
            note = (f"{label} bounds contradict each other (at least {lower:+.3f} s, at most {upper:+.3f} s): "
                    "a clock may have stepped while the logs were written")
        if alone:
            best = min(alone.values(), key=lambda e: e.upper_seconds - e.lower_seconds)  # type: ignore[operator]
            lower, upper = best.lower_seconds, best.upper_seconds
    assert lower is not None and upper is not None
    half = abs(upper - lower) / 2
    confidence = ("high" if pairs >= 3 else "medium") if half <= AGREE_SECONDS else \
        "medium" if half <= WIDE_SECONDS else "low"
    if note:
        confidence = _lowered(confidence)
    return Skew(host, round((lower + upper) / 2, 6), pairs, round(half, 6), confidence,
                METHODS[next(iter(used))] if len(used) == 1 else f"causal bounds: {label}", lower, upper, note,
                by_method)


def _as_estimate(skew: Skew) -> Estimate:
    return Estimate("elections", skew.offset_seconds, skew.lower_seconds, skew.upper_seconds, skew.pairs)


def _lowered(confidence: str) -> str:
    return CONFIDENCES[max(CONFIDENCES.index(confidence) - 1, 1)]


def _names(causal: dict[str, Estimate]) -> str:
    return " and ".join(SHORT[m] for m, e in causal.items() if e.pairs) or "causal pairs"


def _span(lower: float | None, upper: float | None) -> str:
    if lower is None:
        return f"at most {upper:+.3f} s"
    if upper is None:
        return f"at least {lower:+.3f} s"
    return f"{lower:+.3f} .. {upper:+.3f} s"


def shift(iso_time: str | None, seconds: float) -> str | None:
    """An output time (`...Z`) moved by `-seconds`: a node's time on the reference clock."""
    if iso_time is None or not seconds:
        return iso_time
    return iso(datetime.fromisoformat(iso_time.replace("Z", "+00:00")) - timedelta(seconds=seconds))
