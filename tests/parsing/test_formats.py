"""Every format definition in parsers/ keeps its promises: each sample yields its event."""

from __future__ import annotations

from datetime import UTC

import polars as pl
import pytest

from analyzer.parsing.context import ParseContext
from analyzer.parsing.formats import load_formats
from analyzer.parsing.member import parse_member
from analyzer.parsing.schema import EVENT_SCHEMA
from analyzer.parsing.timezones import fill_offsets, offset_samples

SAMPLES = [(spec.id, i, sample) for spec in load_formats() for i, sample in enumerate(spec.samples)]


@pytest.mark.parametrize(("format_id", "index", "sample"), SAMPLES, ids=[f"{f}-{i}" for f, i, _ in SAMPLES])
def test_format_sample_yields_its_event(parse, format_id, index, sample):
    events = parse(sample["line"]).events
    assert events.height == 1, "a sample is one record"
    row = events.row(0, named=True)
    assert format_id in (row["format"], row["wrapper"]), f"recognised as {row['format']}"
    expect = dict(sample["expect"])
    if "ts" in expect:
        resolved = fill_offsets(events, offset_samples(events)).row(0, named=True)
        assert resolved["ts"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") == expect.pop("ts")
    if "ts_local" in expect:
        assert row["ts_local"].strftime("%Y-%m-%dT%H:%M:%S.%f") == expect.pop("ts_local")
    for key, value in expect.items():
        assert str(row[key]) == str(value), f"{key}: got {row[key]!r}"


@pytest.mark.parametrize("format_id", sorted({f for f, _, _ in SAMPLES}))
def test_a_member_of_any_one_format_has_the_documented_column_types(parse, format_id):
    """Columns its format does not fill (a vPool, a wrapper, a service) are typed nulls, so that
    tables concatenate and readers never re-cast a column."""
    lines = "\n".join(sample["line"] for f, _, sample in SAMPLES if f == format_id)
    assert dict(parse(lines).events.schema) == EVENT_SCHEMA


def test_every_format_has_at_least_one_sample():
    assert all(spec.samples for spec in load_formats())


def test_format_c_and_d_are_told_apart_by_the_funcname_field(parse):
    c = "2017-03-14 10:22:05 04700 +0100 - n1 - 1/2 - lib/vdisk - 4 - INFO - a - b"
    d = "2018-09-17 10:22:05 51200 +0200 - n1 - 1/2 - lib/vdisk.py - delete - 8 - INFO - Deleting vDisk vd01"
    assert parse(c).events["format"].to_list() == ["ovs_python_c"]
    assert parse(d).events.select("format", "component").row(0) == ("ovs_python_d", "lib/vdisk.py")


def test_levels_are_normalized_and_the_raw_word_kept(parse):
    text = "\n".join(
        f"2017-03-14 10:22:05 046812 +0100 - n1 - 1/0x00007f8400994700 - volumedriverfs/V - 000000000000000{i} - "
        f"{word} - f: m"
        for i, word in enumerate(["trace", "periodic", "notice", "fatal", "warning"])
    )
    events = parse(text, source="var/log/ovs/volumedriver/vpool1.log").events
    assert events["level"].cast(pl.String).to_list() == ["trace", "debug", "notice", "critical", "warning"]
    assert events["level_raw"].to_list() == ["trace", "periodic", "notice", "fatal", "warning"]
    assert events["vpool"].unique().to_list() == ["vpool1"]


@pytest.mark.parametrize(("format_id", "index", "sample"), SAMPLES, ids=[f"{f}-{i}" for f, i, _ in SAMPLES])
def test_a_sample_level_word_lands_on_the_scale(parse, format_id, index, sample):
    """Level words are looked up as captured (lower, UPPER or Capitalized): a header whose level
    group also takes padding, or a word the scale lacks, shows up here instead of as null levels."""
    row = parse(sample["line"]).events.row(0, named=True)
    if row["level_raw"] is not None:
        assert row["level"] is not None, f"{format_id}: level word {row['level_raw']!r} is not on the scale"


def test_level_words_are_read_in_their_usual_spellings(tmp_path):
    (tmp_path / "leveled.yaml").write_text(
        "id: leveled\nproducer: test\nheader: '^(?P<level>\\w*) - (?P<message>.*)$'\nmultiline: none\n"
        "samples: [{line: 'warn - m', expect: {level: warning}}]\n")
    words = ["warn", "WARN", "Warning", "err", "CRITICAL", "Periodic", "verbose", ""]
    text = "".join(f"{word} - m\n" for word in words).encode()
    events = parse_member("x.log", text, load_formats(tmp_path), ParseContext(year=2017)).events
    assert events["level"].to_list() == ["warning", "warning", "warning", "error", "critical", "debug", None, None]
    assert events["level_raw"].to_list() == words


def test_the_parser_captures_only_the_groups_an_event_reads():
    volumedriver = next(f for f in load_formats() if f.id == "ovs_volumedriver")
    assert "(?P<seq>" in volumedriver.header
    assert "(?P<seq>" not in volumedriver.capture
    for kept in ("date", "frac", "tz", "host", "pid", "thread", "program", "component", "level"):
        assert f"(?P<{kept}>" in volumedriver.capture


def test_a_folder_of_formats_is_read_anew_at_each_load_and_the_shipped_ones_once(tmp_path):
    """A triage worker reuses the shipped formats bundle after bundle; a folder a user edits
    between two loads is read as it now stands."""
    definition = "id: {id}\nproducer: test\nheader: '^(?P<message>.*)$'\nmultiline: none\n" \
                 "samples: [{{line: 'm', expect: {{message: m}}}}]\n"
    (tmp_path / "mine.yaml").write_text(definition.format(id="first"))
    assert [f.id for f in load_formats(tmp_path)] == ["first"]
    (tmp_path / "mine.yaml").write_text(definition.format(id="second"))
    assert [f.id for f in load_formats(tmp_path)] == ["second"]
    shipped, again = load_formats(), load_formats()
    assert shipped == again and shipped is not again
    assert all(a is b for a, b in zip(shipped, again, strict=True))
