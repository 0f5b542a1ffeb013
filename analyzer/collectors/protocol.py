"""The extension point for everything a bundle analysis learns beside rule findings.

A `Collector` sees each member's events once, while the member is in memory (small members a
batch at a time), and keeps only a small frame; after the last member, `combine` turns those
frames into one JSON-ready section of findings.json (and of the report, through
`report_templates/sections/<name>.html.j2`).
Task history, service states, bundle identity and unknown-error templates are collectors, so
each lives in its own module and the pipeline stays a loop over members.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import polars as pl

from analyzer.detection.rule import Rule
from analyzer.reading.bundle import Bundle


@dataclass(frozen=True)
class BundleView:
    """What `combine` may use: the bundle, its node, and the clock that turns local time to UTC."""

    bundle: Bundle
    node: str | None
    #: Adds `ts` (UTC) to a frame with `host`, `ts_local` and `utc_offset`, learning missing offsets.
    to_utc: Callable[[pl.DataFrame], pl.DataFrame]
    #: The sections of the collectors combined before this one (identity comes first), so one
    #: fact such as the node's role is worked out once and reused.
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)


class Collector(Protocol):
    """One kind of knowledge gathered member by member; `name` is its findings.json key."""

    name: str

    def collect(self, sources: Sequence[str], events: pl.DataFrame) -> pl.DataFrame | None:
        """Keep what this collector needs of the members `sources` names (small), or None.

        `events` hold their records, each member's in one run of rows in line order (column
        `source`; a member may have none): a batch of small members, so that a bundle of thousands
        pays a collector's fixed costs once a batch, or one chunk of whole records of a member larger
        than `analyzer.parsing.chunks.CHUNK_BYTES` (called once per chunk, the frames stacked).
        So keep rows or partial aggregates per member that `combine` can add up, not conclusions
        about the batch, and keep each row's `source`: an archive may hold a member twice, and
        the rows of its earlier copy are dropped before `combine`.
        """
        ...

    def combine(self, parts: list[pl.DataFrame], view: BundleView) -> dict[str, Any]:
        """Turn the per-member parts into a JSON-ready section.

        The parts are handed over (nothing else holds them): a collector may empty the list as
        soon as it no longer needs them, so they are freed before the frames built from them.
        """
        ...

    def rule_hits(self, rules: list[Rule]) -> pl.DataFrame | None:
        """Rows that join the rule hits, for rules that refer to this collector's table (task rules).

        Called after `combine`. Most collectors have no such table: subclass `Collector` to inherit
        this answer, None.
        """
        return None

