"""One fold of a batch's records stands for the records in every count, span and first-seen host
the lane reads from it (issue #19): summing its rows by any of its keys gives what counting the
records does, whether the batch is one member or many."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analyzer.parsing.member import parse_members
from analyzer.parsing.summary import activity, record_summary, spans
from tests.parsing.test_batches import _text, member

#: Ways the lane and the collectors fold the summary, each against the same fold of the records.
FOLDS = [
    ("source", "host", "producer", "level", "minute", "utc_offset"),  # the timeline's minute counts
    ("source", "host", "producer", "format", "utc_offset"),  # identity's hosts, formats and spans
    ("source", "host", "service", "vpool", "utc_offset", "minute"),  # the services' own-log activity
    ("source",),
]


def _batch(formats, members) -> pl.DataFrame:
    texts = [(source.format(s=s), _text(lines, end, extra), ctx) for source, s, lines, end, ctx, extra in members]
    parsed = parse_members(texts, formats)
    return pl.concat([p.events for p in parsed]), [p.source for p in parsed]


def _records(events: pl.DataFrame) -> pl.DataFrame:
    return events.with_columns(pl.col("ts_local").dt.truncate("1m").alias("minute"))


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(member, min_size=1, max_size=4, unique_by=lambda m: m[0].format(s=m[1])))
def test_summing_the_summary_by_any_keys_counts_the_records(formats, members) -> None:
    events, sources = _batch(formats, members)
    summary = record_summary(events, sources)
    assert summary["count"].sum() == events.height
    for keys in FOLDS:
        folded = summary.group_by(keys).agg(pl.col("count").sum().cast(pl.UInt32).alias("n"),
                                           pl.col("first").min(), pl.col("last").max())
        counted = _records(events).group_by(keys).agg(pl.len().alias("n"), pl.col("ts_local").min().alias("first"),
                                                     pl.col("ts_local").max().alias("last"))
        assert_frame_equal(_sorted(folded), _sorted(counted), check_column_order=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(member, min_size=1, max_size=4, unique_by=lambda m: m[0].format(s=m[1])))
def test_a_members_spans_keep_the_host_of_its_first_record_at_each_offset(formats, members) -> None:
    events, sources = _batch(formats, members)
    expected = events.group_by("source", "utc_offset", maintain_order=True).agg(
        pl.col("host").first(), pl.col("ts_local").min().alias("first"), pl.col("ts_local").max().alias("last"))
    assert_frame_equal(_sorted(spans(record_summary(events, sources))), _sorted(expected))


@settings(max_examples=40, deadline=None)
@given(member)
def test_a_member_alone_folds_as_it_does_in_a_batch(formats, one) -> None:
    events, sources = _batch(formats, [one])
    other = ("var/log/ovs/api.log", 0, [("not a header {s}", 1)], "\n", one[4], b"")
    batch, batch_sources = _batch(formats, [one, other])
    alone = record_summary(events, sources).drop("row")
    within = record_summary(batch, batch_sources).filter(pl.col("source") == sources[0]).drop("row")
    assert_frame_equal(_sorted(alone), _sorted(within), check_column_order=False)


def test_the_timeline_leaves_out_history_formats_and_journal_copies(parse) -> None:
    dpkg = parse("2017-03-14 10:22:05 install ovs:amd64 <none> 2.7.6\n", source="var/log/dpkg.log").events
    lib = parse("2017-03-14 10:22:05 04700 +0100 - ovs-node1 - 1/2 - lib/mds - 1 - INFO - one\n"
                "2017-03-14 10:22:06 04700 +0100 - ovs-node1 - 1/2 - lib/mds - 2 - INFO - two\n").events
    both = pl.concat([dpkg, lib])
    copy = pl.Series([False, False, True])
    kept = activity(record_summary(both, ["var/log/dpkg.log", "var/log/ovs/lib.log"], copy), ["dpkg"])
    assert kept["count"].sum() == 1, "the dpkg line is history and the second lib line a copy"
