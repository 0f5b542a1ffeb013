"""Record boundaries: multi-line records stay whole, and no line is ever dropped."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

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


JOURNAL_TRACEBACK = """Mar 14 10:22:05 ovs-node1 celery[2211]: [2017-03-14 10:22:05,046: ERROR/MainProcess] Task ovs.mds.ensure_safety[3a9de4f5-d543-4646-a6f2-6769ffa18810] raised unexpected: ArakoonNoMaster()
Mar 14 10:22:05 ovs-node1 celery[2211]: Traceback (most recent call last):
Mar 14 10:22:05 ovs-node1 celery[2211]:   File "/opt/OpenvStorage/ovs/extensions/db/arakoon/pyrakoon/pyrakoon/compat.py", line 190, in wrapped
Mar 14 10:22:06 ovs-node1 celery[2211]:     raise ArakoonNoMaster()
Mar 14 10:22:06 ovs-node1 celery[2211]: ArakoonNoMaster: Could not determine the Arakoon master node
Mar 14 10:22:06 ovs-node1 celery[2211]: [2017-03-14 10:22:06,100: INFO/MainProcess] Received task: ovs.storagerouter.ping[x]
Mar 14 10:22:06 ovs-node1 systemd[1]:   indented, but no traceback
Mar 14 10:22:07 ovs-node1 systemd[1]:   indented again"""  # noqa: E501


def test_a_traceback_the_journal_split_into_entries_is_one_record_with_the_line_before_it(parse):
    events = parse(JOURNAL_TRACEBACK, source="var/log/journald.log").events
    assert events["line"].to_list() == [1, 6, 7, 8]
    assert events["raw"][0] == "\n".join(JOURNAL_TRACEBACK.splitlines()[:5])
    assert events["level"][0] == "error", "the folded record keeps its first entry's fields"


def test_journal_entries_of_another_process_or_time_never_fold(parse):
    lines = JOURNAL_TRACEBACK.splitlines()
    other_pid = [lines[1], lines[2].replace("[2211]", "[2212]"), lines[4].replace("10:22:06", "10:25:00")]
    assert parse("\n".join(other_pid), source="var/log/journald.log").events.height == 3
    later = [lines[1], lines[2].replace("10:22:05", "10:25:05")]
    assert parse("\n".join(later), source="var/log/journald.log").events.height == 2


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


def test_relogged_task_output_that_carries_no_line_of_its_own_keeps_its_wrapper_fields(parse):
    """Polars 2.1's streaming engine panicked on the few non-null messages of a mostly null column
    (found with 5 worker lines and 3 relogged prints)."""
    head = "2017-03-14 11:00:00 00000 +0100 - ovs-node1 - {} - 4 - INFO - {}"
    lines = [head.format("1/2 - celery/celery.worker.job", "Received task: x")] * 5 + \
        [head.format("23050/2 - celery/celery.redirected", "printed 0")] * 3
    events = parse("\n".join(lines) + "\n", source="var/log/ovs/celery.log").events
    assert events.height == 8 and events["parse_status"].unique().to_list() == ["ok"]
    assert events["message"].to_list()[5:] == ["printed 0"] * 3


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
    "Mar  4 10:22:05 n1 celery[7]: Traceback (most recent call last):",
    'Mar  4 10:22:05 n1 celery[7]:   File "/opt/x.py", line 1, in f',
    "Mar  4 10:22:06 n1 celery[7]: ValueError: boom",
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


def test_a_journal_entry_with_embedded_newlines_is_one_record(parse):
    # journalctl prints an entry's further lines indented to the message column
    text = ("Mar 14 10:22:05 ovs-node1 ovs-workers[3311]: Configuration of vPool vpool1 failed:\n"
            "                                              step 3: no such storagerouter\n"
            "Mar 14 10:22:06 ovs-node1 systemd[1]: Started ovs-workers.\n")
    parsed = parse(text, source="var/log/journald.log")
    assert parsed.events["line"].to_list() == [1, 3] and parsed.unparsed == 0
    assert parsed.events["raw"][0] == "\n".join(text.splitlines()[:2])


def test_a_customer_copys_hard_wraps_rejoin_their_record(parse):
    # ../shared/ovs-log-formats.md 11.8: hard wraps at ~150-200 characters (`... rai\nsed unexpected`), also
    # inside the header itself (`- inf\no -`)
    syslog = ("Jan 11 12:51:23 node1 celery[2211]: [2018-01-11 12:51:23,046: ERROR/MainProcess] Task "
              "ovs.mds.ensure_safety[3a9de4f5] rai\nsed unexpected: ArakoonNoMaster()\n")
    arakoon = ("2018-01-11 12:51:23 046812 +0100 - node1 - 4321/0000 - arakoon - 1034 - info - NODE_LOOP: Got upd\n"
               "ate i=7 from client\n")
    header = "2018-01-11 12:51:23 046812 +0100 - node1 - 4321/0000 - arakoon - 1034 - inf\no - NODE_LOOP: Got update\n"
    for text, source in ((syslog, "var/log/syslog"), (arakoon, "var/log/arakoon/ovsdb/node1.log"),
                         (header, "var/log/arakoon/ovsdb/node1.log")):
        parsed = parse(text, source=source)
        assert parsed.events.height == 1 and parsed.unparsed == 0, text
        assert parsed.events["raw"][0] == text.rstrip("\n")
    assert parse(header, source="var/log/arakoon/ovsdb/node1.log").events["level"][0] == "info"


WHOLE_LINES = [
    ("2018-09-17 10:22:05 04700 +0200 - ovs-node1 - 4242/139912345678592 - extensions-generic/system.py - "
     "get_my_storagerouter - 7 - WARNING - Master not found, retrying", "var/log/ovs/extensions.log"),
    ("2017-03-14 10:22:05 046812 +0100 - ovs-node1 - 18332/0x00007f8400994700 - volumedriverfs/VolManager - "
     "00000000000a1b2c - info - createNewVolume: Creating new volume vd01", "var/log/ovs/volumedriver/vpool1.log"),
    ("2016/05/27 09:08:20 858870 +0200 - ovs-node1 - 2270/0 - alba/proxy - 1507 - info - Disqualifying osd 3",
     "var/log/ovs/albaproxy_vpool1_0.log"),
]


def _pasted(text: str, escaped: set[str]) -> str:
    """`text` as markdown escapes it (after the time stamp, which it leaves alone)."""
    return text[:19] + "".join(f"\\{c}" if c in escaped else c for c in text[19:])


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(WHOLE_LINES), st.floats(min_value=0, max_value=1, exclude_max=True),
       st.sampled_from(["", " ", "  "]), st.sets(st.sampled_from("+_*#")), st.booleans())
def test_a_line_pasted_into_a_ticket_still_gives_its_record(parse, whole, where, indent, escaped, wrapped):
    """../shared/ovs-log-formats.md 11.8: a leading space, markdown escapes (`\\+0200`, `\\_run_hooks`),
    and a hard wrap anywhere between the time stamp and the end of the header."""
    line, source = whole
    event = parse(line + "\n", source=source).events.row(0, named=True)
    stamp, header_end = 16, len(line) - len(event["message"])
    cut = stamp + int(where * (header_end - stamp)) if wrapped else len(line)
    text = indent + _pasted(line[:cut], escaped) + ("\n" + line[cut:] if wrapped else "")
    pasted = parse(text + "\n", source=source).events
    assert pasted.height == 1 and pasted["raw"][0] == text
    assert pasted.drop("raw").row(0, named=True) == {k: v for k, v in event.items() if k != "raw"}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(WHOLE_LINES), st.sampled_from(WHOLE_LINES), st.sampled_from(["took 0.000592", "done", "."]))
def test_a_record_a_paste_glued_to_the_line_before_is_read_as_a_record_of_its_own(parse, first, second, end):
    """../shared/ovs-log-formats.md 11.8: `… took 0.000592Jan 11 12:51:23 …`. Both records read as
    they do on lines of their own, on the one line's number; the blank line a paste leaves between
    records is what makes the parser look for glued ones."""
    (head, source), (glued, _) = first, second
    apart = parse(f"{head}{end}\n{glued}\n\n", source=source)
    together = parse(f"{head}{end}{glued}\n\n", source=source)
    assert together.lines == 2 and together.glued == 1 and together.events["line"].to_list() == [1, 1]
    assert_frame_equal(together.events.drop("raw", "line"), apart.events.drop("raw", "line"))
    assert together.events["raw"][0] == f"{head}{end}"


def test_the_glued_record_of_a_pasted_journal_gets_its_own_time_and_level(parse):
    text = ("Jan 11 12:51:22 node1 volumedriver_fs.sh[1234]: 2018-01-11 12:51:22 100000 +0100 - node1 - "
            "1234/0x00007f8400994700 - volumedriverfs/VolManager - 0000000000000001 - info - Scrub took 0.000592"
            "Jan 11 12:51:23 node1 volumedriver_fs.sh[1234]: 2018-01-11 12:51:23 200000 +0100 - node1 - "
            "1234/0x00007f8400994700 - volumedriverfs/VolManager - 0000000000000002 - error - Failed to scrub\n"
            "\n"
            "Jan 11 12:51:24 node1 kernel: [1.0] eth0 up\n")
    events = parse(text, source="var/log/syslog", year=2018).events
    assert events.select("line", "level", "message").rows() == [
        (1, "info", "Scrub took 0.000592"), (1, "error", "Failed to scrub"), (3, "info", "eth0 up")]
    assert events["ts_local"][1] == datetime(2018, 1, 11, 12, 51, 23, 200000)


def test_a_stamp_after_a_space_bracket_or_colon_is_text_not_a_glued_record(parse):
    """A re-logged child line, a syslog-wrapped OVS line, a bracketed or keyed time: not pastes."""
    text = ("2017-03-14 10:22:05 04700 +0100 - ovs-node1 - 1/2 - celery/celery.redirected - 5 - WARNING - "
            "2017-03-14 10:22:05 04700 +0100 - ovs-node1 - 3/4 - lib/mds - 6 - ERROR - inner\n"
            "2017-03-14 10:22:06 04700 +0100 - ovs-node1 - 1/2 - lib/mds - 7 - INFO - at [2017-03-14 10:22:06]\n"
            "2017-03-14 10:22:07 04700 +0100 - ovs-node1 - 1/2 - lib/mds - 8 - INFO - since:2017-03-14 10:22:07\n"
            "\n")
    parsed = parse(text)
    assert parsed.glued == 0 and parsed.events["line"].to_list() == [1, 2, 3]


def test_an_unknown_line_that_starts_with_a_stamp_is_a_record_of_its_own(parse):
    text = ("2017-03-14 10:22:05 04700 +0100 - ovs-node1 - 1/2 - lib/mds - 275 - ERROR - Ensure safety failed\n"
            "2017-03-14T10:22:06.000+01:00 ovs-node1 some-new-tool: a format nobody taught the tool\n"
            "Mar 14 10:22:07 ovs-node1 x[1]: y\n"
            " Mar 14 10:22:08 ovs-node1 a pasted journal line with a leading space\n")
    parsed = parse(text)
    assert parsed.events["line"].to_list() == [1, 2, 3, 4]
    assert parsed.events["parse_status"].to_list() == ["ok", "unparsed", "ok", "unparsed"]


def test_a_members_formats_are_counted_in_the_order_they_first_appear(parse):
    """The inventory and findings.json list them so: the same bundle must give the same bytes."""
    lines = [
        "-- Logs begin at Tue 2017-03-14 00:00:01 CET, end at Tue 2017-03-14 12:00:01 CET. --",
        "Mar 14 10:22:05 ovs-node1 kernel: [ 1.0] eth0 up",
        "Mar 14 10:22:06 ovs-node1 volumedriver_fs.sh[18332]: 2017-03-14 10:22:06 046812 +0100 - ovs-node1 - "
        "18332/0x00007f8400994700 - volumedriverfs/VolManager - 0000000000000001 - info - f: m",
    ] * 200
    parsed = parse("\n".join(lines), source="var/log/journald.log")
    first_seen = parsed.events["format"].drop_nulls().unique(maintain_order=True).to_list()
    assert list(parsed.formats) == first_seen == ["journald_marker", "dmesg", "ovs_volumedriver"]


def test_a_pasted_line_takes_its_year_from_the_lines_around_it(parse):
    """A year-less line re-read after a paste artefact is matched apart from the others: alone, it
    would miss the New Year roll-over the lines before it went through."""
    text = ("Dec 31 23:59:58 node1 systemd[1]: Started A.\n"
            "Dec 31 23:59:59 node1 systemd[1]: Started B.\n"
            "Jan  1 00:00:01 node1 systemd[1]: Started C.\n"
            " Jan  1 00:00:02 node1 systemd\\[1\\]: Started D.\n"
            "Jan  1 00:00:03 node1 systemd[1]: Started E.\n")
    events = parse(text, source="var/log/syslog", year=2017).events
    assert events["format"].to_list() == ["syslog_short"] * 5
    assert [t.year for t in events["ts_local"]] == [2017, 2017, 2018, 2018, 2018]
    assert events.filter(pl.col("message") == "Started D.")["ts_local"][0] == datetime(2018, 1, 1, 0, 0, 2)


def test_a_pasted_first_line_takes_the_year_of_the_lines_after_it(parse):
    """No line of its format before it: it is placed just before the next one, across a New Year."""
    text = (" Dec 31 23:59:59 node1 systemd[1]: Started A.\n"
            "Jan  1 00:00:01 node1 systemd[1]: Started B.\n"
            "Jan  1 00:00:02 node1 systemd[1]: Started C.\n")
    events = parse(text, source="var/log/syslog", year=2017).events
    assert [t.year for t in events["ts_local"]] == [2016, 2017, 2017]
