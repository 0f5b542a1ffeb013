"""Every event lands on the right UTC instant, whatever quirk its producer has."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from analyzer.parsing.context import ParseContext
from analyzer.parsing.formats import load_formats
from analyzer.parsing.member import parse_member
from analyzer.parsing.timezones import fill_offsets, offset_samples

PY = "{date} {frac} {tz} - ovs-node1 - 23011/140355468900096 - lib/vdisk - 412 - INFO - m"


def utc(events):
    resolved = fill_offsets(events, offset_samples(events))
    return [ts.strftime("%Y-%m-%d %H:%M:%S.%f") if ts else None for ts in resolved["ts"].to_list()]


@pytest.mark.parametrize(
    ("frac", "expected"),
    [("04700", "09:22:05.047000"), ("00500", "09:22:05.005000"), ("99900", "09:22:05.999000"),
     ("100000", "09:22:06.000000")],
)
def test_python_subsecond_field_is_milliseconds_times_100(parse, frac, expected):
    events = parse(PY.format(date="2017-03-14 10:22:05", frac=frac, tz="+0100")).events
    assert utc(events) == [f"2017-03-14 {expected}"]


@pytest.mark.parametrize(
    ("tz", "expected"),
    [("+0000", "10:22:05"), ("+0530", "04:52:05"), ("-0500", "15:22:05"), ("-03-30", "13:52:05"),
     ("+0800", "02:22:05")],
)
def test_utc_offsets_including_the_cpp_negative_half_hour_quirk(parse, tz, expected):
    line = (f"2017-03-14 10:22:05 000000 {tz} - n1 - 1/0x00007f8400994700 - volumedriverfs/V - "
            "0000000000000001 - info - f: m")
    assert utc(parse(line).events) == [f"2017-03-14 {expected}.000000"]


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("+0100", 60), ("-0500", -300), ("-03-30", -210), ("+01:00", 60), ("+0530", 330), ("+01", 60), ("+x1", None),
     (None, None)],
)
def test_offset_text_becomes_signed_minutes_in_every_spelling_seen(tmp_path, text, minutes):
    """A zone group is read as sign, two hour digits and the last two characters as minutes."""
    (tmp_path / "zoned.yaml").write_text(
        "id: zoned\nproducer: test\nheader: '^(?P<date>\\S+ \\S+)(?: (?P<tz>[^ ]+))? - (?P<message>.*)$'\n"
        "timestamp: {date: date, format: '%Y-%m-%d %H:%M:%S', offset: tz}\n"
        "samples: [{line: '2017-03-14 10:22:05 +0100 - m', expect: {utc_offset: 60}}]\n")
    line = f"2017-03-14 10:22:05{'' if text is None else ' ' + text} - m"
    events = parse_member("x.log", line.encode(), load_formats(tmp_path), ParseContext(year=2017)).events
    assert events["utc_offset"].to_list() == [minutes]


def test_ocaml_unpadded_microseconds_are_a_count_not_a_fraction(parse):
    line = "2017-04-14 10:22:05 4512 +0200 - n1 - 4321/0 - arakoon - 18 - notice - x"
    assert utc(parse(line).events) == ["2017-04-14 08:22:05.004512"]


def test_journal_year_rolls_over_from_december_to_january(parse):
    text = (
        "Dec 31 23:59:58 n1 systemd[1]: Started a.\n"
        "Jan  1 00:00:02 n1 systemd[1]: Started b.\n"
    )
    local = parse(text, source="var/log/journald.log", year=2017).events["ts_local"].to_list()
    assert local == [datetime(2017, 12, 31, 23, 59, 58), datetime(2018, 1, 1, 0, 0, 2)]


def test_naive_lines_take_the_offset_of_the_nodes_zoned_lines(parse):
    text = (
        "[2017-03-14 10:22:05,046: INFO/MainProcess] Received task: ovs.storagerouter.ping[x]\n"
        + PY.format(date="2017-03-14 10:23:00", frac="00000", tz="+0100")
    )
    events = parse(text, source="var/log/upstart/ovs-workers.log").events
    assert events["utc_offset"].to_list() == [None, 60]
    resolved = fill_offsets(events, offset_samples(events))
    assert resolved["offset_learned"].to_list() == [True, False]
    assert utc(events) == ["2017-03-14 09:22:05.046000", "2017-03-14 09:23:00.000000"]


def test_a_frame_naming_its_hosts_as_categories_learns_the_same_offsets(parse):
    """Rule hits name their hosts as categories (a flood holds each name once); their naive times
    are made UTC from samples that name hosts as text."""
    text = (
        "[2017-03-14 10:22:05,046: INFO/MainProcess] Received task: ovs.storagerouter.ping[x]\n"
        + PY.format(date="2017-03-14 10:23:00", frac="00000", tz="+0100")
    )
    events = parse(text, source="var/log/upstart/ovs-workers.log").events.with_columns(
        pl.col("host").fill_null("ovs-node1"))
    as_text = fill_offsets(events, offset_samples(events))
    as_labels = fill_offsets(events.with_columns(pl.col("host").cast(pl.Categorical)), offset_samples(events))
    assert as_labels["ts"].to_list() == as_text["ts"].to_list()
    assert as_labels["offset_learned"].to_list() == [True, False]


def test_the_inner_ovs_timestamp_of_a_journal_line_wins_over_the_journal_prefix(parse):
    line = ("Jan 24 15:31:23 NODE-3 gunicorn: 2019-01-24 08:31:23 04700 +0100 - NODE-3 - 1/2 - api/x - 4 - "
            "ERROR - boom")
    events = parse(line, source="var/log/journald.log", year=2019).events
    assert events.select("format", "wrapper", "level").row(0) == ("ovs_python_c", "syslog_short", "error")
    assert utc(events) == ["2019-01-24 07:31:23.047000"]


def test_a_leap_day_in_a_year_less_log_collected_the_year_after_keeps_its_day(formats):
    """The guessed year (the collection's, 2025) has no Feb 29: the day is kept and the year
    settled as for its neighbours, not the record left untimed."""
    text = ("Feb 28 23:59:58 n1 systemd[1]: Started a.\n"
            "Feb 29 00:00:02 n1 systemd[1]: Started b.\n"
            "Dec 31 23:00:00 n1 systemd[1]: Started c.\n"
            "Jan  2 08:00:00 n1 systemd[1]: Started d.\n")
    ctx = ParseContext(collected_at=datetime(2025, 1, 15, 12, 0))
    local = parse_member("var/log/syslog", text.encode(), formats, ctx).events["ts_local"].to_list()
    assert local == [datetime(2024, 2, 28, 23, 59, 58), datetime(2024, 2, 29, 0, 0, 2),
                     datetime(2024, 12, 31, 23, 0), datetime(2025, 1, 2, 8, 0)]
