"""Record boundaries: multi-line records stay whole, and no line is ever dropped."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

TRACEBACK = """2017-03-14 10:22:05 04700 +0100 - ovs-node1 - 1/2 - lib/mds - 275 - ERROR - Ensure safety failed
Traceback (most recent call last):
  File "/opt/OpenvStorage/ovs/lib/mdsservice.py", line 324, in ensure_safety
RuntimeError: Could not find a suitable MDS slave
2017-03-14 10:22:06 00000 +0100 - ovs-node1 - 1/2 - lib/mds - 276 - INFO - next"""


def test_a_traceback_stays_in_the_record_it_follows(parse):
    parsed = parse(TRACEBACK)
    events = parsed.events
    assert events.height == 2
    assert events["line"].to_list() == [1, 5]
    assert events["raw"][0] == "\n".join(TRACEBACK.splitlines()[:4])
    assert events["message"][0] == "Ensure safety failed"
    assert parsed.unparsed == 0


def test_the_volumedriver_version_banner_is_one_record_with_its_blank_line(parse):
    text = (
        "2017-03-14 10:20:00 000412 +0100 - n1 - 1/0x00007f8402ffe880 - volumedriverfs/Main - "
        "0000000000000000 - notice - print_version_data: version: 6.16.3\n"
        "version revision: 0\nbuild time: now\n\n"
        "2017-03-14 10:20:01 000412 +0100 - n1 - 1/0x00007f8402ffe880 - volumedriverfs/Main - "
        "0000000000000001 - info - main: started\n"
    )
    events = parse(text, source="var/log/ovs/volumedriver/vpool1.log").events
    assert events["line"].to_list() == [1, 5]
    assert events["raw"][0].endswith("build time: now\n")


def test_lines_no_format_explains_are_kept_as_unparsed_records(parse):
    parsed = parse("hello\nworld\n", source="var/log/upstart/ovs-snmp.log")
    assert parsed.events["parse_status"].to_list() == ["unparsed", "unparsed"]
    assert parsed.events["raw"].to_list() == ["hello", "world"]
    assert parsed.lines == 2


def test_lines_before_the_first_header_are_unparsed_not_lost(parse):
    parsed = parse("orphan continuation\n" + TRACEBACK)
    assert parsed.events["parse_status"].to_list()[:2] == ["unparsed", "ok"]


def test_crlf_line_endings_are_read_as_plain_lines(parse):
    parsed = parse("[2015-03-14 10:22:05,046: INFO/MainProcess] a\r\n[2015-03-14 10:22:06,046: INFO/MainProcess] b\r\n")
    assert parsed.events["message"].to_list() == ["a", "b"]


def test_invalid_utf8_is_replaced_and_counted(parse):
    parsed = parse(b"2017-03-14 10:22:05 04700 +0100 - n1 - 1/2 - lib/x - 1 - INFO - caf\xe9 \xff\n")
    assert parsed.invalid_utf8 == 2
    assert parsed.events["message"][0] == "caf\ufffd \ufffd"


def test_binary_files_named_like_logs_are_detected(parse):
    parsed = parse(b"\x00\x01\x02lastlog\x00" * 100, source="var/log/lastlog")
    assert parsed.binary and parsed.events.height == 0


LINE_PIECES = st.sampled_from([
    "2017-03-14 10:22:05 04700 +0100 - n1 - 1/2 - lib/x - 1 - INFO - a - b",
    "Traceback (most recent call last):",
    "  File \"x.py\", line 3, in f",
    "Mar  4 10:22:05 n1 celery[1]: 2017-03-14 10:22:05 04700 +0100 - n1 - 1/2 - lib/x - 1 - ERROR - c",
    "-- Reboot --",
    "",
    "2017-04-14 10:22:05 4512 +0200 - n1 - 4321/0 - arakoon - 18 - notice - x",
    "2016-01-08 10:22:05,046 - [2816] - [INFO] - [lib] - [scheduled tasks] - [SSA] started",
    "2015-12-04 08:24:05:000412 +0100 CET -- notice -- MainHelper -- print_version_data: version: 5.6.2",
    " -- [0x00007f418c498700]",
    "Dec  4 08:20:13 8515: (paxos|info): T:on_accept took: 0.002292",
    "Dec  4 08:24:09.3839 main error: internal error, uncaught exception:",
    "=INFO REPORT==== 14-Mar-2017::08:23:42 ===",
    "[ 6805.221345] init: ovs-volumedriver_vpool1 main process (1937) killed by SEGV signal",
    "12月 13 16:56:51 node1 celery: Traceback (most recent call last):",
])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(LINE_PIECES, st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs")))), max_size=30))
def test_records_rebuild_the_file_exactly_line_for_line(parse, lines):
    """Truth: parsed + unparsed records cover every physical line once, in order."""
    text = "\n".join(lines)
    parsed = parse(text)
    if text == "":
        assert parsed.events.height == 0
        return
    expected = text.removesuffix("\n")  # a final newline ends the last line, it adds none
    assert "\n".join(parsed.events.sort("line")["raw"].to_list()) == expected
    assert parsed.lines == len(expected.split("\n"))
