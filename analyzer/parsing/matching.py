"""Which format explains each line, and its header fields normalized (time, zone, level, producer).

The work that touches every line runs in the compiled core (`analyzer._core`, core/matching.rs),
in one pass with the GIL released: each line is tried against the formats in the order a sample
of the lines suggests, the first that matches wins, and its fields come back through the Arrow C
stream interface (the message as a string view into the lines' own buffers, not a copy). This
module describes each format to the core once per list of formats and turns its answer into a
Polars frame.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from analyzer import _core
from analyzer.parsing.context import ParseContext
from analyzer.parsing.formats import FRACTION_UNITS, TEMPLATE_FIELD, FormatSpec
from analyzer.parsing.schema import LEVEL_SPELLINGS, LEVEL_TYPE, LEVELS
from analyzer.timings import measured

#: Lines of a file the core's format sampler looks at first (all of them in a file this short).
SAMPLE_LINES: int = _core.SAMPLE_LINES
#: Compiled format lists, by their definitions: compiling the regexes once per list, not per chunk.
_MATCHERS: dict[str, Any] = {}
_MAX_MATCHERS = 32
_EPOCH = datetime(1970, 1, 1)


def match_lines(lines: pl.Series, formats: list[FormatSpec], ctx: ParseContext) -> pl.DataFrame:
    """`match_members` of the lines of one member."""
    return match_members(lines, formats, [(lines.len(), ctx)])


def match_members(lines: pl.Series, formats: list[FormatSpec], members: Sequence[tuple[int, ParseContext]]
                  ) -> pl.DataFrame:
    """Per line (`idx`, in line order): the normalized header fields of the first format that
    explains it, else nulls; a wrapper line (journald, syslog) that carries a whole line of another
    format takes that line's time, zone, level, message and producer, and names itself `wrapper`.

    `lines` are those of one or more members one after the other (`members`: how many lines each
    holds, and what the bundle knows of it); each is read as a file of its own, in one call.
    Year-less stamps take the bundle's year, roll over at Dec -> Jan and step back a year when the
    member's first one lands after the collection (decided in its first chunk: a chunk cannot wait
    for the member's end) or its last well after; in a chunked member `ctx.carry` hands this on to
    the next chunk (a carry goes with one member only). A Feb 29 keeps its day whatever year was
    guessed, and is untimed only if its settled year has none. A null line (a wrapper entry that carries nothing) is
    explained by no format.
    """
    carry = members[0][1].carry if len(members) == 1 else None
    state = (carry.years, carry.stepped_back) if carry is not None else None
    frame = pl.DataFrame({"text": lines.rechunk()})
    started = time.perf_counter()
    capsule, state, building = _matcher(formats).match_lines(frame, [(count, *_dates(ctx)) for count, ctx in members],
                                                             state)
    measured("match formats (core)", time.perf_counter() - started - building)
    measured("fields table (core)", building)
    if carry is not None and state is not None:
        carry.years, carry.stepped_back = state
    return pl.DataFrame(_ArrowStream(capsule)).with_columns(pl.col("level").cast(LEVEL_TYPE))


def _dates(ctx: ParseContext) -> tuple[int, int | None]:
    """The year a year-less stamp of the member takes, and when the bundle was collected (microseconds
    since the epoch) when that year is a guess from it."""
    year = ctx.year or (ctx.collected_at.year if ctx.collected_at else 1970)
    collected = None
    if ctx.collected_at is not None and ctx.year is None:
        collected = (ctx.collected_at - _EPOCH) // timedelta(microseconds=1)
    return year, collected


class _ArrowStream:
    """The core's answer as an object Polars reads through the Arrow PyCapsule interface."""

    def __init__(self, capsule: object) -> None:
        self._capsule = capsule

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        return self._capsule


def core_definitions(formats: list[FormatSpec]) -> dict[str, Any]:
    """Everything the core is told of a list of formats: one definition per format (the keys
    core/lib.rs reads), the level names lowest first, and each spelling of a level word.
    The fuzz targets read the shipped formats' definitions from a copy (core/fuzz/formats.json)."""
    return {"levels": list(LEVELS), "spellings": LEVEL_SPELLINGS, "formats": [_definition(f) for f in formats]}


def _matcher(formats: list[FormatSpec]) -> Any:
    definitions = core_definitions(formats)
    key = repr(definitions["formats"])
    matcher = _MATCHERS.get(key)
    if matcher is None:
        if len(_MATCHERS) >= _MAX_MATCHERS:
            _MATCHERS.clear()
        matcher = _MATCHERS[key] = _core.Matcher(definitions["formats"], definitions["levels"],
                                                 definitions["spellings"])
    return matcher


def _definition(spec: FormatSpec) -> dict[str, Any]:
    """What the core needs of one format (core/lib.rs reads these keys)."""
    stamp = spec.timestamp
    by = spec.producer_by
    fast = spec.one_pass
    return {
        "id": spec.id,
        "producer": spec.producer,
        "capture": spec.capture,
        "one_pass": None if fast is None else (fast.pattern, list(fast.trimmed), list(fast.suffixes)),
        "compose": {name: _pieces(template) for name, template in spec.compose.items()},
        "continuation": spec.multiline == "continuation",
        "stamp": None if stamp is None else {
            "patterns": list(stamp.formats),
            "fraction_unit": FRACTION_UNITS[stamp.fraction_unit] if stamp.fraction else None,
            "yearless": stamp.yearless,
            "utc": stamp.utc,
            "date": stamp.date,
            "fraction": stamp.fraction,
            "offset": stamp.offset,
        },
        "producer_by": None if by is None else (by.group, dict(by.mapping), by.default),
        "wraps": spec.wraps,
        "wraps_component": spec.wraps_component,
    }


def _pieces(template: str) -> list[tuple[str | None, str | None]]:
    """`{source}/{name}` -> [(None, "source"), ("/", None), (None, "name")]."""
    pieces: list[tuple[str | None, str | None]] = []
    at = 0
    for field in TEMPLATE_FIELD.finditer(template):
        if field.start() > at:
            pieces.append((template[at:field.start()], None))
        pieces.append((None, field.group(1)))
        at = field.end()
    if at < len(template):
        pieces.append((template[at:], None))
    return pieces

