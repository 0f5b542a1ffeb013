"""A journal dump's header states the year and the zone of its stamps; the zone is used only when
it names one zone for the whole dump."""

from __future__ import annotations

import pytest

from analyzer.datafiles import load_mapping
from analyzer.parsing.journal_header import read_header, zone_offsets
from analyzer.parsing.knowledge import knowledge_file
from analyzer.pipeline.event_table import bundle_events

EXAMPLES = load_mapping(knowledge_file("zones"), "zone names")["examples"]
ENTRY = "Mar 14 10:22:05 ovs-node1 systemd[1]: Started Open vStorage workers.\n"


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["header"][3:40] for e in EXAMPLES])
def test_zone_knowledge_example(example):
    header = read_header(example["header"].encode() + b"\nMar 14 10:22:05 n1 x: y\n")
    assert (header.year, header.offset) == (example["year"], example["offset"])


def test_names_that_mean_several_zones_are_not_guessed():
    assert not {"CST", "IST", "BST", "AST"} & set(zone_offsets())


def test_a_member_without_a_header_states_nothing():
    assert read_header(ENTRY.encode()) == read_header(b"") == read_header(b"\0\0\0")
    assert read_header(b"").offset is None and read_header(b"").year is None


def _utc_of_the_entry(make_bundle, header: str) -> tuple[str, bool]:
    path = make_bundle({"var/log/journald.log": header + ENTRY})
    events = bundle_events(path).filter(format="syslog_short")
    return events["ts"][0].strftime("%Y-%m-%d %H:%M:%S"), events["offset_learned"][0]


def test_journal_stamps_take_the_zone_the_header_states(make_bundle):
    header = "-- Logs begin at Tue 2017-03-14 09:00:01 CET, end at Tue 2017-03-14 11:00:00 CET. --\n"
    assert _utc_of_the_entry(make_bundle, header) == ("2017-03-14 09:22:05", False)


def test_a_header_spanning_a_dst_change_leaves_the_zone_to_be_learned(make_bundle):
    header = "-- Logs begin at Sat 2017-03-11 09:00:01 CET, end at Tue 2017-03-14 11:00:00 CEST. --\n"
    assert _utc_of_the_entry(make_bundle, header) == ("2017-03-14 10:22:05", True)
