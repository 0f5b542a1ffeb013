"""The whole bundle as one event table, for `ovs-analyzer parse` and users of Polars/DuckDB.

The table is written a chunk at a time, so memory follows the members and chunks in flight,
not the bundle (the whole table is about 5.5x the bundle's text). Two threads parse members
while the main thread reads the next; each chunk's events go to an Arrow file in the output
folder, with the little the table as a whole decides: the hosts stated, the zone offsets seen,
the journal's entries. Then all are streamed into one Parquet file, each chunk completed on its
way with those (the node's name where a line states none, UTC times, rsyslog's copies of journal
entries marked `duplicate`, entities); the part files are removed.

With a redactor (`parse --redact`), the completion also pseudonymizes every text column but the
tool's own (producer, format, wrapper, parse status), once every host name the table states is known.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Protocol

import polars as pl

from analyzer.lanes import Lane
from analyzer.parsing.copies import ENTRY_COLUMNS, JOURNAL_SOURCES, JournalCopies
from analyzer.parsing.entities import with_entities
from analyzer.parsing.formats import FormatSpec, load_formats
from analyzer.parsing.schema import empty_events
from analyzer.parsing.secrets import mask_record_secrets
from analyzer.parsing.timezones import fill_offsets, offset_tallies, samples_of
from analyzer.pipeline.analysis import parse_bundle_chunks
from analyzer.pipeline.counts import dominant_host
from analyzer.pipeline.nodes import node_folders
from analyzer.reading.bundle import Bundle, Caps, Member, describe, iter_members, nested_bundles, nested_copies
from analyzer.timings import stage, timed

#: Members parsed at once (see `_parse_into`).
PARSER_THREADS = 2
#: The folder of part files, inside the output folder, while `write_events` runs.
PARTS = ".events-parts"
#: Text columns the tool fills from its own words, never from a log: never redacted.
_TOOL_COLUMNS = frozenset({"producer", "format", "wrapper", "parse_status"})


class TableProgress(Protocol):
    """What `write_events` tells as it goes (the CLI's progress bar is one)."""

    def __call__(self, member: Member) -> None:
        """One more member parsed."""

    def step(self, description: str) -> None:
        """The work after the last member has begun."""


class TableRedactor(Protocol):
    """Pseudonymizes a table's identifiers (`outputs.redact.Redactor`, which this stage may not import)."""

    def learn(self, names: Iterable[str | None]) -> None:
        """Host names to replace wherever they stand."""

    def records(self, events: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
        """`events` with `columns` redacted."""

    def __call__(self, text: str) -> str:
        """One text redacted (a folder's name)."""


@dataclass(frozen=True)
class WrittenEvents:
    """Where the table went and what the command line says of it."""

    path: Path
    records: int
    unparsed: int
    duplicates: int
    #: What reading the bundle could not do (damage, caps, members skipped): a table of half a
    #: bundle must not pass for the whole of it.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _MemberParts:
    """One member's chunk files, and what the whole table needs to know of them."""

    source: str
    files: list[Path]
    #: Records per stated host (null: none stated).
    hosts: pl.DataFrame
    #: See `timezones.offset_tallies`.
    offsets: pl.DataFrame


def write_events(path: Path, out: Path, formats: list[FormatSpec] | None = None, caps: Caps = Caps(),
                 progress: TableProgress | None = None, redactor: TableRedactor | None = None) -> list[WrittenEvents]:
    """Write `out/events.parquet`: every record of every text member, with `ts` in UTC and journal
    copies marked `duplicate`, in archive order (the last copy of a member appearing twice), redacted
    with a `redactor`. `progress` hears of each member as it is read, then of the completion.

    A bundle of bundles gets one table per node, in `out/<node bundle name>/events.parquet` as
    `analyze` places its reports: a line stating no host takes its own node's name, never another's.
    Log files beside the node bundles make one more table, of the outer archive's name."""
    formats = formats if formats is not None else load_formats()
    outer = describe(path)
    written = _write_table(outer, out, formats, caps, progress, redactor)
    if not outer.nested:
        return [written]
    copies = nested_copies(outer, caps)
    said = tuple(f"nested bundle {copy} is a byte-for-byte copy of {first}: its table was written once"
                 for copy, first in copies.items())
    nodes = nested_bundles(outer, leave_out=copies)
    if written.records > written.unparsed:
        nodes.insert(0, outer)
    else:  # only the node bundles and files that are no log: nothing of its own to show
        written.path.unlink()
    if redactor is not None:  # every node's name (from its file name) before any table: one may name another
        redactor.learn(node.host_hint for node in nodes)
    tables = []
    for node, folder in zip(nodes, node_folders(nodes), strict=True):
        folder = redactor(folder) if redactor is not None else folder  # a folder's name is an output too
        target = out / folder
        if node is outer:
            target.mkdir(parents=True, exist_ok=True)
            tables.append(replace(written, path=written.path.replace(target / "events.parquet")))
        else:
            tables.append(_write_table(node, target, formats, caps, progress, redactor))
    return [replace(table, warnings=(*table.warnings, *said)) for table in tables]  # each table says it


def _write_table(bundle: Bundle, out: Path, formats: list[FormatSpec], caps: Caps,
                 progress: TableProgress | None, redactor: TableRedactor | None) -> WrittenEvents:
    """One bundle's (or node's) `out/events.parquet`, whole or not at all."""
    parts = out / PARTS
    shutil.rmtree(parts, ignore_errors=True)  # a run that was killed left them
    parts.mkdir(parents=True)
    try:
        members = _parse_into(parts, bundle, formats, caps, progress)
        if progress is not None:
            progress.step("completing the table")
        written = _complete(bundle, members, parts / "events.parquet", redactor)
        # only a whole table takes the name: an interrupted or failed run leaves no half a file there
        return replace(written, path=written.path.replace(out / "events.parquet"), warnings=tuple(bundle.warnings))
    finally:
        shutil.rmtree(parts, ignore_errors=True)


def bundle_events(path: Path, formats: list[FormatSpec] | None = None, caps: Caps = Caps()) -> pl.DataFrame:
    """The tables `write_events` writes, in memory, one after the other (it grows with the bundle)."""
    with tempfile.TemporaryDirectory(prefix="ovs-analyzer-events-") as folder:
        return pl.concat([pl.read_parquet(t.path) for t in write_events(path, Path(folder), formats, caps)])


def _parse_into(parts: Path, bundle: Bundle, formats: list[FormatSpec], caps: Caps,
                progress: TableProgress | None) -> list[_MemberParts]:
    """Parse every member into chunk files in `parts`, two members at a time.

    A member larger than `caps.stream_bytes` is read a block at a time as it is parsed, as
    `analyze` reads it, so memory follows the chunks in flight, not the largest member.
    Polars spreads one member's parse over the cores only part of the time (Python steps,
    single-threaded kernels); a second member in flight fills those gaps."""
    parsing: dict[str, Future[_MemberParts]] = {}
    with ThreadPoolExecutor(PARSER_THREADS, thread_name_prefix="ovs-parts") as writer, \
            Lane("parse", workers=PARSER_THREADS) as lane:
        members = timed(iter_members(bundle, caps), "read")
        for number, member in enumerate(members):
            stem = parts / f"{number:05d}"
            # the last copy of a member appearing twice wins (#1146)
            parsing[member.path] = parsed = lane.submit(_parsed, member, bundle, formats, stem, writer)
            if member.stream is not None:  # read as it is parsed: the archive can only move on after it
                with stage("wait for parse"):
                    parsed.result()
            if progress is not None:
                progress(member)
        with stage("wait for parse"):
            done = [future.result() for future in parsing.values()]
    return done


def _parsed(member: Member, bundle: Bundle, formats: list[FormatSpec], stem: Path,
            writer: ThreadPoolExecutor) -> _MemberParts:
    """Parse a member into chunk files; a chunk is written (compressed) while the next is parsed."""
    files, hosts, offsets = [], [], []
    writing: Future[None] | None = None
    in_key = False  # a private key's lines may run from one chunk into the next
    with stage("parse"):
        for number, chunk in enumerate(parse_bundle_chunks(member, bundle, formats)):
            # every record's text is written: its secrets are masked before it reaches the disk
            events, in_key = mask_record_secrets(chunk.events, in_key)
            if events.height == 0:
                continue
            hosts.append(events.group_by("host").agg(pl.len().cast(pl.UInt64).alias("count")))
            offsets.append(offset_tallies(events))
            files.append(stem.with_name(f"{stem.name}-{number:05d}.arrow"))
            if writing is not None:
                writing.result()  # one chunk waits to be written at most: memory stays a chunk's
            writing = writer.submit(events.write_ipc, files[-1], compression="zstd")
    if writing is not None:
        writing.result()
    return _MemberParts(member.path, files, _stacked(hosts), _stacked(offsets))


def _stacked(frames: list[pl.DataFrame]) -> pl.DataFrame:
    return pl.concat(frames) if frames else pl.DataFrame()


def _complete(bundle: Bundle, members: list[_MemberParts], target: Path,
              redactor: TableRedactor | None) -> WrittenEvents:
    """Give each chunk what the whole table decides, as Polars streams them all into `target`.

    Completing a chunk inside the stream, rather than into a second part file first, saves
    writing and reading the bundle's events once more. A chunk's completion depends on its own
    rows and on `node`, `samples` and `copies` alone, so the stream may cut it anywhere."""
    with stage("combine"):
        node = dominant_host([m.hosts for m in members if m.hosts.height]) or bundle.host_hint
        tallies = [m.offsets for m in members if m.offsets.height]
        samples = (samples_of(pl.concat(tallies).with_columns(pl.col("host").fill_null(pl.lit(node, pl.String))))
                   if tallies else pl.DataFrame())
        copies = JournalCopies()  # every journal entry is known before any copy is looked for
        for member in members:
            for file in member.files if member.source in JOURNAL_SOURCES else ():
                copies.learn(member.source, pl.read_ipc(file, columns=ENTRY_COLUMNS))
        if redactor is not None:  # every name the table states, before its first record is redacted
            stated = [m.hosts["host"] for m in members if m.hosts.height]
            redactor.learn([node, bundle.host_hint, *(pl.concat(stated).unique().to_list() if stated else [])])
    completed = partial(_completed, node=node, samples=samples, copies=copies, redactor=redactor)
    empty = completed(empty_events(), source="")
    with stage("write"):
        # the stream completes chunks on Polars' threads at once; `copies` builds its set of known
        # entries at its first look-up, and two threads doing so build the same set
        chunks = [pl.scan_ipc(file).map_batches(partial(completed, source=member.source), schema=empty.schema,
                                                streamable=True)
                  for member in members for file in member.files]
        pl.concat(chunks or [empty.lazy()]).sink_parquet(target)
        status = dict(pl.scan_parquet(target).group_by("parse_status").len().collect().iter_rows())
    return WrittenEvents(target, records=sum(status.values()), unparsed=status.get("unparsed", 0),
                         duplicates=status.get("duplicate", 0))


def _completed(events: pl.DataFrame, source: str, node: str | None, samples: pl.DataFrame, copies: JournalCopies,
               redactor: TableRedactor | None) -> pl.DataFrame:
    """A chunk as the table holds it: copies marked (keyed as `analyze` keys them, on the hosts the
    lines state), the node's name where a line states none, UTC times, entities, columns in order,
    identifiers redacted with a `redactor`."""
    copy = copies.of(events, [source])
    if copy is not None:
        events = events.with_columns(pl.when(copy).then(pl.lit("duplicate")).otherwise(pl.col("parse_status"))
                                     .alias("parse_status"))
    events = events.with_columns(pl.col("host").fill_null(pl.lit(node, dtype=pl.String)))
    events = _ordered(with_entities(fill_offsets(events, samples)))
    if redactor is None:
        return events
    return redactor.records(events, [c for c, kind in events.schema.items()
                                     if kind == pl.String and c not in _TOOL_COLUMNS])


def _ordered(events: pl.DataFrame) -> pl.DataFrame:
    first = ["ts", "host", "source", "line", "producer", "component", "level", "message", "raw", "parse_status"]
    return events.select(first + [c for c in events.columns if c not in first])
