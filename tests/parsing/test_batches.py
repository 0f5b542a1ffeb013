"""Members parsed together in one batch give, each, what they give parsed alone: no line, record,
host, year, zone, vPool or line number crosses a member's edge (issue #19)."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analyzer.parsing.context import ParseContext
from analyzer.parsing.member import parse_member, parse_members, split_lines, split_members

#: A header a customer's copy hard-wrapped (`- inf\no -`), and a year-less line pasted with a leading space.
WRAPPED = (" 2018-01-11 12:51:{s:02d} 046812 \\+0100 - node1 - 4321/0000 - arakoon - 1034 - inf",
           "o - NODE_LOOP: Got update {s}")
PASTED_YEARLESS = " Dec 31 23:59:{s:02d} node1 systemd\\[1\\]: Started A{s}."
YEARLESS = "Jan  1 00:00:{s:02d} node1 systemd[1]: Started B{s}."
LINES = [
    "2017-03-14 10:22:{s:02d} 04700 +0100 - ovs-node1 - 1/2 - lib/mds - {s} - ERROR - Ensure safety failed {s}",
    "2017-03-14 10:22:{s:02d} 04700 +0200 - ovs-node2 - 1/2 - lib/mds - {s} - INFO - another host {s}",
    "2017-03-14 10:22:{s:02d} 046812 +0100 - ovs-node1 - 18332/0x00007f8400994700 - volumedriverfs/VolManager"
    " - {s:016x} - error - createNewVolume: failed {s} took 0.000592"
    "2017-03-14 10:22:{s:02d} 04700 +0100 - ovs-node1 - 1/2 - lib/mds - {s} - ERROR - glued {s}",
    "[2017-03-14 10:22:{s:02d},046: INFO/MainProcess] Received task: ovs.vdisk.sync[{s}]",
    "Dec 31 23:59:{s:02d} ovs-node1 kernel: [1.0] tick {s}",
    "Jan  1 00:00:{s:02d} ovs-node3 kernel: [1.0] tock {s}",
    YEARLESS,
    "Mar 14 10:22:05 ovs-node1 celery[2211]: Traceback (most recent call last):",
    'Mar 14 10:22:05 ovs-node1 celery[2211]:   File "/opt/x.py", line 3, in y',
    "Mar 14 10:22:06 ovs-node1 celery[2211]: RuntimeError: boom {s}",
    *WRAPPED,
    "Traceback (most recent call last):",
    '  File "/opt/x.py", line 3, in y',
    PASTED_YEARLESS,
    "not a header {s}",
    "",
]
SOURCES = ["var/log/ovs/lib.log", "var/log/ovs/volumedriver/vpool{s}.log", "var/log/syslog",
           "var/log/upstart/ovs-workers.log", "var/log/arakoon/ovsdb/node1.log", "var/log/journald.log"]
CONTEXTS = [ParseContext(year=2017), ParseContext(year=2016, naive_offset=60),
            ParseContext(collected_at=datetime(2017, 1, 2)), ParseContext(collected_at=datetime(2017, 3, 14, 10, 22)),
            ParseContext()]

member = st.tuples(
    st.sampled_from(SOURCES), st.integers(0, 59),
    st.lists(st.tuples(st.sampled_from(LINES), st.integers(0, 59)), max_size=12),
    st.sampled_from(["\n", "", "\r\n"]),  # how the text ends (and CRLF files)
    st.sampled_from(CONTEXTS), st.sampled_from([b"", b"", b" \xff\xfe", b"\x00\x01binary"]),
)


def _text(lines: list[tuple[str, int]], end: str, extra: bytes) -> bytes:
    text = end.join(line.format(s=s) for line, s in lines) + (end if lines else "")
    text = text.encode() + extra
    return text.rstrip(b"\n") if end == "" else text


def _as_alone(texts: list[tuple[str, bytes, ParseContext]], formats) -> None:
    together = parse_members(texts, formats)
    assert len(together) == len(texts)
    for (source, data, ctx), parsed in zip(texts, together, strict=True):
        alone = parse_member(source, data, formats, ctx)
        assert_frame_equal(parsed.events, alone.events)
        assert (parsed.source, parsed.lines, parsed.binary, parsed.invalid_utf8, parsed.glued, parsed.formats) == (
            alone.source, alone.lines, alone.binary, alone.invalid_utf8, alone.glued, alone.formats)


@settings(max_examples=150, deadline=None)
@given(st.lists(member, max_size=8))
def test_members_parsed_in_one_batch_give_what_each_gives_alone(formats, members):
    _as_alone([(source.format(s=n), _text(lines, end, extra), ctx) for source, n, lines, end, ctx, extra in members],
              formats)


def test_a_hard_wrap_is_undone_within_a_member_not_across_two(formats):
    head, tail = (line.format(s=5) for line in WRAPPED)
    _as_alone([("var/log/arakoon/ovsdb/node1.log", f"{head}\n".encode(), ParseContext(year=2018)),
               ("var/log/arakoon/ovsdb/node1.log.1", f"{tail}\n".encode(), ParseContext(year=2018))], formats)


def test_a_pasted_year_less_line_takes_its_year_from_its_own_member(formats):
    _as_alone([("var/log/syslog", f"{PASTED_YEARLESS.format(s=5)}\n".encode(), ParseContext(year=2015)),
               ("var/log/syslog.1", f"{YEARLESS.format(s=6)}\n".encode(), ParseContext(year=2017))], formats)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "", "é", "\r", "b\r", "\xff"]), max_size=5).map("\n".join), max_size=6),
       st.lists(st.booleans(), max_size=6))
def test_texts_split_together_give_each_text_s_lines(texts, ends):
    datas = [t.encode("utf-8", "surrogateescape").replace("\xff".encode(), b"\xff") + (b"\n" if end else b"")
             for t, end in zip(texts, ends + [False] * len(texts), strict=False)]
    lines, counts, invalid = split_members(datas)
    assert sum(counts) == lines.len()
    start = 0
    for data, count, bad in zip(datas, counts, invalid, strict=True):
        alone, alone_bad = split_lines(data)
        assert (lines.slice(start, count).to_list(), bad) == (alone.to_list(), alone_bad)
        start += count
