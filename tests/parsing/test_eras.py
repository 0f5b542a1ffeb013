"""Every era's lines, built as their format strings write them, read right; no line lost."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from analyzer.cli.app import main
from analyzer.pipeline.event_table import bundle_events
from samples.make_sample import write_sample
from tests.parsing.test_timestamps import utc


def test_arakoon_18_lines_are_arakoon_not_syslog(parse):
    events = parse("Dec  4 08:20:13 8515: (paxos|info): T:on_accept took: 0.002292",
                   source="var/log/arakoon/ovsdb/n1.log", year=2015).events
    row = events.select("format", "producer", "component", "level").row(0)
    assert row == ("arakoon_lwt", "arakoon", "paxos", "info")
    assert str(events["ts_local"][0]) == "2015-12-04 08:20:13.851500"


def test_old_volumedriver_banner_is_one_record_ending_with_the_thread_suffix(parse):
    text = ("2015-12-04 08:24:05:000412 +0100 CET -- notice -- MainHelper -- print_version_data: version: 5.6.2\n"
            "version revision: 0\nbuild time: 2015-10-02 09:12:51 UTC\n -- [0x00007f418c498700]\n"
            "2015-12-04 08:24:06:000001 +0100 CET -- error -- Volume -- halt: x -- [0x00007f418c498700]\n")
    events = parse(text, source="var/log/ovs/volumedriver/vpool1.log").events
    assert events["line"].to_list() == [1, 5]
    assert events["raw"][0].endswith(" -- [0x00007f418c498700]")
    assert events["thread"][1] == "0x00007f418c498700"
    assert utc(events) == ["2015-12-04 07:24:05.000412", "2015-12-04 07:24:06.000001"]


def test_alba_uncaught_exception_dump_folds_into_its_record(parse):
    text = ("Dec  4 08:24:09.3839 main info: Request UploadObjectFromFile took 0.008128\r\n"
            "Dec  4 08:24:10.0001 main error: internal error, uncaught exception:\r\n"
            "           Failure(\"bad\")\r\nRaised at file \"pervasives.ml\", line 30\r\n"
            "Dec  4 08:24:11.0001 main info: restarted\r\n")
    events = parse(text, source="var/log/upstart/ovs-albaproxy_vpool1.log", year=2015).events
    assert events["line"].to_list() == [1, 2, 5]
    assert events["raw"][1].count("\n") == 2
    assert events["level"].cast(pl.String).to_list() == ["info", "error", "info"]


def test_rabbitmq_report_blocks_are_one_record_each(parse):
    text = ("=INFO REPORT==== 14-Mar-2017::08:23:42 ===\nStarting RabbitMQ 3.5.7 on Erlang 18.3\n\n"
            "=ERROR REPORT==== 14-Mar-2017::08:23:43 ===\nconnection_closed_abruptly\n")
    events = parse(text, source="var/log/rabbitmq/rabbit@n1.log").events
    assert events["line"].to_list() == [1, 4]
    assert events["level"].cast(pl.String).to_list() == ["info", "error"]


def test_a_kernel_uptime_inside_a_syslog_line_keeps_the_syslog_time(parse):
    line = ("Dec  4 10:16:35 n1 kernel: [ 6805.221345] init: ovs-volumedriver_vpool1 main process (1937) "
            "killed by SEGV signal")
    events = parse(line, source="var/log/kern.log", year=2015).events
    assert events.select("format", "wrapper", "producer").row(0) == ("dmesg", "syslog_short", "kernel")
    assert events["message"][0].startswith("init: ovs-volumedriver_vpool1")
    assert str(events["ts_local"][0]) == "2015-12-04 10:16:35"


def test_a_bare_dmesg_line_is_parsed_without_inventing_an_instant(parse):
    events = parse("[    0.000628] Linux version 3.13.0-68-generic", source="var/log/dmesg").events
    assert events.select("parse_status", "producer", "ts_local").row(0) == ("ok", "kernel", None)


@pytest.mark.parametrize("scenario", ["legacy", "incident"])
def test_a_bundle_of_each_era_accounts_for_every_line(tmp_path: Path, scenario: str):
    manifest = write_sample(tmp_path / "b.tar.gz", scenario=scenario)
    events = bundle_events(tmp_path / "b.tar.gz")
    lines = events.group_by("source").agg(pl.col("raw").str.count_matches("\n").sum() + pl.len())
    counted = dict(lines.iter_rows())
    expected = {m: n for m, n in manifest["members"].items() if m != "var/log/lastlog"}
    assert counted == {m: n for m, n in expected.items() if n}
    unparsed = events.filter(pl.col("parse_status") == "unparsed")
    assert unparsed["source"].unique().to_list() == ["var/log/upstart/ovs-workers.log"], "only the celery banner"
    assert unparsed.height == 16


def test_the_journal_and_its_syslog_copy_count_once(tmp_path: Path):
    write_sample(tmp_path / "b.tar.gz", scenario="incident")
    events = bundle_events(tmp_path / "b.tar.gz")
    copies = events.filter(pl.col("parse_status") == "duplicate")
    assert copies["source"].unique().to_list() == ["var/log/syslog"]
    journal = events.filter((pl.col("source") == "var/log/journald.log") & (pl.col("parse_status") == "ok"))
    assert copies.height == journal.filter(pl.col("service").is_not_null()).height


def test_a_member_over_the_member_cap_is_parsed_before_the_archive_moves_on(tmp_path: Path):
    """It is read while it is parsed (on the lane): reading on at once took its text away."""
    from analyzer.reading.bundle import Caps
    from tests.conftest import build_tar

    line = ("2017-03-14 10:22:05 046812 +0100 - ovs-node1 - 18332/0x00007f8400994700 - volumedriverfs/VolManager - "
            "00000000000a1b2c - info - line {}\n")
    big = "".join(line.format(i) for i in range(30_000))
    cap = 2 * 1024**2
    bundle = build_tar(tmp_path / "ovs-node1-20170314102205-logs.tar", {
        "var/log/ovs/volumedriver/vpool1.log": big, "var/log/ovs/volumedriver/vpool2.log": line.format(0) * 10,
    }, compress=False)
    for _ in range(3):
        streamed = Caps(max_member_bytes=cap, stream_bytes=cap // 2)  # read as it is parsed
        counts = dict(bundle_events(bundle, caps=streamed).group_by("source").len().rows())
        assert counts == {"var/log/ovs/volumedriver/vpool1.log": len(big.encode()[:cap].splitlines()),
                          "var/log/ovs/volumedriver/vpool2.log": 10}


def test_parse_command_writes_events_parquet_with_utc_times(tmp_path: Path, capsys):
    write_sample(tmp_path / "ovs-node1-20151204102205-logs.tar.gz", scenario="legacy")
    assert main(["parse", str(tmp_path / "ovs-node1-20151204102205-logs.tar.gz"), "-o", str(tmp_path / "out")]) == 0
    events = pl.read_parquet(tmp_path / "out" / "events.parquet")
    assert events.columns[:10] == ["ts", "host", "source", "line", "producer", "component", "level", "message", "raw",
                                   "parse_status"]
    assert events.schema["ts"] == pl.Datetime("us", "UTC")
    arakoon = events.filter(pl.col("format") == "arakoon_lwt")
    assert arakoon["offset_learned"].all() and (arakoon["utc_offset"] == 60).all()
    assert "events.parquet" in capsys.readouterr().out
