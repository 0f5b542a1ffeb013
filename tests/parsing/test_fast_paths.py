"""Shortcuts taken for speed give exactly what the plain road gives."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analyzer.detection import coverage
from analyzer.parsing import chunks, matching, member
from analyzer.parsing.chunks import parse_chunks
from analyzer.parsing.context import ParseContext
from analyzer.parsing.formats import ascii_digits
from analyzer.parsing.member import parse_member
from analyzer.pipeline.analysis import analyze
from analyzer.reading.archive import (
    READ_ERRORS,
    Damaged,
    Limits,
    open_tar_file,
    open_tar_stream,
    read_capped,
    tar_entries,
)
from analyzer.reading.text import line_blocks
from tests.conftest import SAMPLE, tar_bytes


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


# --- a large member is parsed in chunks of whole records -------------------------------------------------

VOLDRV = ("2017-03-14 10:22:{s:02d} 046812 +0100 - ovs-node1 - 18332/0x00007f8400994700 - volumedriverfs/VolManager"
          " - {s:016x} - error - createNewVolume: failed {s}")
PYTHON = "2017-03-14 10:22:{s:02d} 04700 +0100 - ovs-node1 - 1/2 - lib/mds - {s} - ERROR - Ensure safety failed {s}"
CONTINUATION = ["Traceback (most recent call last):", '  File "/opt/x.py", line 3, in y', "RuntimeError: boom", ""]
GLUED = VOLDRV + " took 0.000592" + PYTHON  # two records on one line, a paste artefact


def _chunked(text: str, formats, chunk_bytes: int, source: str = "var/log/ovs/lib.log",
             ctx: ParseContext = ParseContext(year=2017)):
    data = text.encode()
    whole = parse_member(source, data, formats, ctx)
    chunks = list(parse_chunks(source, data, formats, ctx, chunk_bytes))
    return whole, chunks, pl.concat([c.events for c in chunks], how="diagonal_relaxed")


record = st.tuples(st.sampled_from([VOLDRV, PYTHON, GLUED, "not a header {s}"]), st.integers(0, 59),
                   st.lists(st.sampled_from(CONTINUATION), max_size=4))


@settings(max_examples=30, deadline=None)
@given(st.lists(record, min_size=1, max_size=40), st.integers(150, 1500))
def test_chunks_of_a_member_give_the_records_of_the_whole_member(formats, records, chunk_bytes):
    """A member opening with a line that states its host (a chunk before any does keeps no host:
    the pipeline later gives such records the node's)."""
    records = [(PYTHON, 0, []), *records]
    text = "\n".join("\n".join([head.format(s=s), *tail]) for head, s, tail in records)
    whole, chunks, stacked = _chunked(text, formats, chunk_bytes)
    assert_frame_equal(stacked, whole.events)
    assert sum(c.lines for c in chunks) == whole.lines
    assert sum(c.unparsed for c in chunks) == whole.unparsed
    assert sum(c.glued for c in chunks) == whole.glued
    totals: dict[str, int] = {}
    for chunk in chunks:
        for name, count in chunk.formats.items():
            totals[name] = totals.get(name, 0) + count
    assert totals == whole.formats


@settings(max_examples=30, deadline=None)
@given(st.lists(record, min_size=1, max_size=40), st.integers(150, 1500), st.lists(st.integers(1, 30), max_size=8))
def test_a_member_read_in_blocks_of_lines_gives_the_records_of_the_whole_member(formats, records, chunk_bytes,
                                                                              block_lines):
    """A streamed member comes in blocks of whole lines (`member_stream`), cut wherever the reads fell."""
    records = [(PYTHON, 0, []), *records]
    lines = [line + "\n" for head, s, tail in records for line in [head.format(s=s), *tail]]
    blocks, start = [], 0
    for count in block_lines:
        blocks.append("".join(lines[start:start + count]).encode())
        start += count
    blocks.append("".join(lines[start:]).encode())
    data = b"".join(blocks)
    ctx = ParseContext(year=2017)
    whole = parse_member("var/log/ovs/lib.log", data, formats, ctx)
    chunks = list(parse_chunks("var/log/ovs/lib.log", iter(blocks), formats, ctx, chunk_bytes))
    assert_frame_equal(pl.concat([c.events for c in chunks], how="diagonal_relaxed"), whole.events)
    assert sum(c.lines for c in chunks) == whole.lines


def test_a_streamed_member_is_split_block_by_block_and_no_block_is_joined_to_another():
    blocks = [b"a line\n" * 100, b"", b"another line\n" * 7, b"last"]
    batches = list(chunks._block_batches(iter(blocks)))
    assert [lines.to_list() for lines, _, _ in batches] == [["a line"] * 100, ["another line"] * 7, ["last"]]
    assert [count for _, count, _ in batches] == [700, 91, 4]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="ab\u00e9", max_size=12), min_size=1, max_size=60), st.integers(4, 200))
def test_a_whole_member_is_cut_into_blocks_of_whole_lines_of_about_a_chunk_each_split_on_its_own(lines, chunk_bytes):
    text = "\n".join(lines).encode()
    blocks = list(line_blocks(text, chunk_bytes))
    assert b"".join(blocks) == text
    for block in blocks[:-1]:  # each ends at the first line end a chunk on
        assert block.endswith(b"\n") and len(block) >= chunk_bytes > len(block) - len(block.split(b"\n")[-2]) - 1
    assert len(blocks) <= 1 or len(blocks[-1]) >= chunk_bytes // 4  # a short rest joins the block before
    batches = list(chunks._block_batches(iter(blocks)))
    assert [line for b, _, _ in batches for line in b.to_list()] == member.split_lines(text)[0].to_list()


def test_a_record_larger_than_a_chunk_is_never_cut(formats):
    long_record = "\n".join([PYTHON.format(s=1), *[f"  frame {i}" for i in range(200)]])
    text = "\n".join([PYTHON.format(s=0), long_record, PYTHON.format(s=2)])
    whole, chunks, stacked = _chunked(text, formats, chunk_bytes=300)
    assert len(chunks) > 1
    assert stacked["raw"].to_list()[1] == long_record
    assert_frame_equal(stacked, whole.events)


def test_a_year_roll_over_at_a_chunk_edge_is_kept(formats):
    days = [f"Dec 31 23:5{i} 00 node1 kernel: tick {i}" for i in range(10)]
    days += [f"Jan  1 00:0{i}:00 node1 kernel: tock {i}" for i in range(10)]
    text = "\n".join(line.replace(" 00 node1", ":00 node1") for line in days)
    ctx = ParseContext(collected_at=datetime(2017, 1, 2))
    whole, chunks, stacked = _chunked(text, formats, chunk_bytes=120, source="var/log/syslog", ctx=ctx)
    assert len(chunks) > 3
    assert_frame_equal(stacked, whole.events)
    assert {t.year for t in stacked["ts_local"].to_list()} == {2016, 2017}


@pytest.mark.parametrize("chunk_bytes", [400, 64 * 1024])
def test_a_year_less_log_begun_weeks_after_the_collections_day_a_year_before_is_in_that_year(formats, chunk_bytes):
    """Collected on 15 January, a syslog running from February to January began the year before.
    Its first chunk, which sees February only, cannot wait for the New Year at the end to learn it:
    a log's first line was not written after it was collected."""
    lines = [f"Feb {d:2d} 10:00:00 node1 kernel: a {d}" for d in range(1, 28)]
    lines += [f"Jun {d:2d} 10:00:00 node1 kernel: b {d}" for d in range(1, 28)]
    lines += [f"Dec 31 10:00:0{i} node1 kernel: c" for i in range(5)]
    lines += [f"Jan  2 10:00:0{i} node1 kernel: d" for i in range(5)]
    ctx = ParseContext(collected_at=datetime(2025, 1, 15))
    whole, chunks, stacked = _chunked("\n".join(lines), formats, chunk_bytes, source="var/log/syslog", ctx=ctx)
    assert (len(chunks) > 3) == (chunk_bytes == 400), "in chunks, and whole"
    assert_frame_equal(stacked, whole.events)
    assert [t.year for t in stacked["ts_local"]] == [2024] * 59 + [2025] * 5


@pytest.mark.parametrize("chunk_bytes", [100, 150, 200, 250])
def test_a_chunk_matched_again_for_a_glued_record_rolls_its_year_over_once(formats, chunk_bytes):
    """The second match of a chunk starts from the roll-overs the chunk began with, not from those
    its first match reached (a Dec -> Jan inside the chunk would otherwise push its Dec a year on)."""
    lines = [f"Dec 30 23:5{i}:00 node1 kernel: tick {i}" for i in range(6)]
    lines += ["Dec 31 23:59:58 node1 kernel: last", "Jan  1 00:00:01 node1 kernel: took 0.5Jan  1 00:00:02 node1 "
              "kernel: glued", "", "Jan  1 00:00:03 node1 kernel: first"]
    ctx = ParseContext(collected_at=datetime(2017, 1, 2))
    whole, chunks, stacked = _chunked("\n".join(lines), formats, chunk_bytes, source="var/log/syslog", ctx=ctx)
    assert len(chunks) > 1 and whole.glued == sum(c.glued for c in chunks) == 1
    assert_frame_equal(stacked, whole.events)
    assert [t.year for t in stacked["ts_local"]] == [2016] * 7 + [2017] * 3


def test_invalid_utf8_is_counted_once_across_chunks(formats):
    data = b"\n".join([PYTHON.format(s=i).encode() + (b" \xff" if i % 3 == 0 else b"") for i in range(30)])
    ctx = ParseContext(year=2017)
    whole = parse_member("var/log/ovs/lib.log", data, formats, ctx)
    chunks = list(parse_chunks("var/log/ovs/lib.log", data, formats, ctx, chunk_bytes=200))
    assert len(chunks) > 3
    assert sum(c.invalid_utf8 for c in chunks) == whole.invalid_utf8 == 10


def test_a_bundle_analyzed_in_small_chunks_finds_what_it_finds_whole(make_bundle, rules, monkeypatch):
    lines = [PYTHON.format(s=i % 60) if i % 7 else "\n".join([VOLDRV.format(s=i % 60), *CONTINUATION[:3]])
             for i in range(400)]
    bundle = make_bundle({"var/log/ovs/lib.log": "\n".join(lines) + "\n"})
    whole = analyze(bundle, rules)
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 2048)
    chunked = analyze(bundle, rules)
    assert [m.__dict__ for m in chunked.members] == [m.__dict__ for m in whole.members]
    assert_frame_equal(chunked.counts, whole.counts)
    assert [(f.rule_id, f.count) for f in chunked.findings] == [(f.rule_id, f.count) for f in whole.findings]
    assert chunked.sections == whole.sections


@pytest.mark.parametrize(("pattern", "ascii"), [
    (r"^\d{4}-\d\d (?P<pid>\d+)", r"^[0-9]{4}-[0-9][0-9] (?P<pid>[0-9]+)"),
    (r"[\d.]+ [^\d]", r"[0-9.]+ [^0-9]"),
    (r"\\d \[\d", r"\\d \[[0-9]"),
    (r"[]\d] [^]\d] [\]\d]", r"[]0-9] [^]0-9] [\]0-9]"),
    (r"[[:alpha:]\d]\d", r"[[:alpha:]0-9][0-9]"),
])
def test_header_digits_are_matched_as_ascii_digits(pattern, ascii):
    assert ascii_digits(pattern) == ascii


def test_a_header_with_ascii_digits_reads_every_format_sample_alike(formats):
    for spec in formats:
        for sample in spec.samples:
            line = pl.Series([sample["line"]])
            assert line.str.contains(spec.header).item() == line.str.contains(ascii_digits(spec.header)).item()


def test_a_format_is_sampled_with_a_pattern_that_takes_the_lines_its_header_takes(formats):
    """Chunks order their formats by which ones match a sample of lines, tried with each capture
    pattern; on every format's sample lines, each capture must say what its header says."""
    lines = pl.Series([sample["line"] for spec in formats for sample in spec.samples])
    for spec in formats:
        assert lines.str.contains(spec.capture).to_list() == lines.str.contains(spec.header).to_list(), spec.id


def test_the_sample_bundle_analyzed_in_small_chunks_gives_the_same_findings_and_sections(rules, monkeypatch):
    whole = analyze(SAMPLE, rules)
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 4096)
    chunked = analyze(SAMPLE, rules)
    assert [m.lines for m in chunked.members] == [m.lines for m in whole.members]
    assert [(f.rule_id, f.count, f.first_seen) for f in chunked.findings] == \
        [(f.rule_id, f.count, f.first_seen) for f in whole.findings]
    assert chunked.sections == whole.sections


def _tar_as_read(entries_of, limits: Limits) -> list[tuple]:
    """What a tar reader hands out: each entry with its bytes and notes, then how the archive ended."""
    seen: list[tuple] = []
    try:
        for entry in entries_of():
            read = read_capped(entry, limits) if entry.kind == "file" else None
            seen.append((entry.name, entry.kind, entry.size, entry.offset,
                         read and (read.data, read.stopped, read.damage)))
    except Damaged as exc:
        seen.append(("damaged", str(exc)))
    except READ_ERRORS as exc:  # not a tar at all: both readers must refuse it
        seen.append(("refused", type(exc).__name__))
    return seen


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=4), st.floats(0, 1.2),
       st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=4), st.sampled_from([100, 1500, 1 << 20]))
def test_a_plain_tar_read_in_place_gives_what_its_stream_gives(tmp_path, contents, cut_at, flips, cap):
    """A plain tar in a file is read in place (pread at each member's offset); any tar, whole, cut
    or damaged, must give the same members, bytes, notes and ending as reading it as a stream."""
    packed = bytearray(tar_bytes({f"var/log/m{i}.log": data for i, data in enumerate(contents)}))
    for at, value in flips:
        packed[int(at * (len(packed) - 1))] = value
    path = tmp_path / "bundle.tar"
    path.write_bytes(bytes(packed[:int(cut_at * len(packed))]))
    limits = Limits(max_member_bytes=cap, max_ratio=100, ratio_floor=1 << 20)

    def in_place():
        return tar_entries(open_tar_file(in_place_file), None)

    def streamed():
        return tar_entries(*open_tar_stream(stream_file, compressed=False))

    with path.open("rb") as in_place_file, path.open("rb") as stream_file:
        assert _tar_as_read(in_place, limits) == _tar_as_read(streamed, limits)


_HEADERS = {
    "ovs_python_c": "2017-03-14 10:22:05 04700 +0100 - ovs-node1 - 23011/1403 - {name} - {seq} - {level} - {message}",
    "ovs_python_d": "2018-06-01 10:22:05 04700 +0200 - node1 - 1/2 - {name} - run - {seq} - {level} - {message}",
}
_BITS = st.sampled_from(["lib", "vdisk", "scheduled", "tasks", "-", "x-y", "/", "ü", " ", " - ", " -z", "  ",
                         " - 7 - INFO - ", "DEBUG", "\t", ".py", "a.py", ".", "py", ".pyc"])


@pytest.mark.parametrize("format_id", sorted(_HEADERS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.lists(_BITS, min_size=1, max_size=5), st.integers(0, 99),
                          st.sampled_from(["DEBUG", "INFO", "ERROR", "info"]), st.lists(_BITS, max_size=4)),
                min_size=1, max_size=30))
def test_the_core_reads_tricky_names_as_the_header_as_written_does(formats, format_id, lines):
    """Names with spaces, dashes, ` - `, `.py` in odd places and whole fake headers inside: the
    compiled core and the format's header regex as written (run by Polars, the same regex engine)
    agree on every line, matched or not, on every field the header gives."""
    spec = next(f for f in formats if f.id == format_id)
    texts = [_HEADERS[format_id].format(name="".join(name), seq=seq, level=level, message="".join(message))
             for name, seq, level, message in lines]
    fields = ["host", "pid", "thread", "component", "message"]
    groups = pl.Series(texts).str.extract_groups(spec.header).struct.unnest()
    expected = groups.select(*fields, pl.col("level").alias("level_raw"))
    got = matching.match_lines(pl.Series(texts), [spec], ParseContext(year=2017)).select(*fields, "level_raw")
    assert_frame_equal(got, expected, check_dtypes=False)
