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
from analyzer.frames import Packed
from analyzer.parsing.summary import record_summary
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


@dataclass(frozen=True)
class Batch:
    """What a collector sees of a batch of members, or of one chunk of whole records of a member
    larger than `analyzer.parsing.chunks.CHUNK_BYTES` (then called once per chunk, the frames
    stacked)."""

    #: The members, in archive order.
    sources: Sequence[str]
    #: Their records, each member's in one run of rows in line order (column `source`; a member
    #: may have none).
    events: pl.DataFrame
    #: The same records folded by member, host, producer, level, format, service, offset and local
    #: minute (`analyzer.parsing.summary.record_summary`): what counts or spans records should read
    #: instead of passing over every record again.
    summary: pl.DataFrame

    @classmethod
    def of(cls, sources: Sequence[str], events: pl.DataFrame, copy: pl.Series | None = None) -> Batch:
        """The batch of these members' records, folded once; `copy`: which records repeat a
        journal entry (see `record_summary`)."""
        return cls(sources=sources, events=events, summary=record_summary(events, sources, copy))


class Collector(Protocol):
    """One kind of knowledge gathered member by member; `name` is its findings.json key."""

    name: str

    def collect(self, batch: Batch) -> pl.DataFrame | None:
        """Keep what this collector needs of the members of `batch` (small), or None.

        A batch is many small members, so that a bundle of thousands pays a collector's fixed
        costs once a batch, or one chunk of a large member. So keep rows or partial aggregates
        per member that `combine` can add up, not conclusions about the batch, and keep each
        row's `source`: an archive may hold a member twice, and the rows of its earlier copy are
        dropped before `combine`.
        """
        ...

    def combine(self, parts: list[Packed], view: BundleView) -> dict[str, Any]:
        """Turn the per-member parts into a JSON-ready section.

        The parts arrive as they were kept, compressed when large: a collector reads back what
        it needs when it needs it (`analyzer.frames.unpack_all`, all of them or some columns).
        They are handed over (nothing else holds them): a collector may empty the list as soon
        as it no longer needs them, so they are freed before the frames built from them.
        """
        ...

    def rule_hits(self, rules: list[Rule]) -> pl.DataFrame | None:
        """Rows that join the rule hits, for rules that refer to this collector's table (task rules).

        Called after `combine`. Most collectors have no such table: subclass `Collector` to inherit
        this answer, None.
        """
        return None

