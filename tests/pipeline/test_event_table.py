"""`ovs-analyzer parse` writes the bundle's event table a chunk at a time: the same table as a whole
one, in the output folder only."""

from __future__ import annotations

import io
import tarfile
from collections import Counter
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

import analyzer.parsing.chunks
from analyzer.cli.app import main
from analyzer.cli.progress import BundleProgress
from analyzer.parsing.timezones import offset_samples, offset_tallies, samples_of
from analyzer.pipeline.event_table import PARTS, bundle_events, write_events
from analyzer.reading.bundle import Caps
from analyzer.reading.folder import OUTPUT_MARK
from tests.conftest import build_tar

VD = ("2017-03-14 10:{m:02d}:{s:02d} 046812 +0100 - ovs-node1 - 18332/0x00007f8400994700 - volumedriverfs/VolManager"
      " - 00000000000a1b2c - info - createNewVolume: Creating new volume vd{i:04d}\n")
CELERY = "[2017-03-14 10:{m:02d}:{s:02d},377: INFO/MainProcess] Task ovs.vdisk.dtl_checkup[{i:08d}] succeeded in 0.9s\n"
ENTRY = "Mar 14 10:{m:02d}:{s:02d} ovs-node1 systemd[1]: Started Open vStorage worker {i}.\n"
JOURNAL = "-- Logs begin at Tue 2017-03-14 08:00:01 CET, end at Tue 2017-03-14 10:22:05 CET. --\n"


def _lines(template: str, count: int) -> str:
    return "".join(template.format(m=i // 60 % 60, s=i % 60, i=i) for i in range(count))


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """Members of many chunks each when chunks are small: zoned volumedriver lines, naive celery
    lines that learn their zone from them, a journal and rsyslog's copies of its entries."""
    return build_tar(tmp_path / "ovs-node1-20170314102205-logs.tar.gz", {
        "var/log/journald.log": JOURNAL + _lines(ENTRY, 600),
        "var/log/ovs/volumedriver/vpool1.log": _lines(VD, 2000),
        "var/log/syslog": _lines(ENTRY, 900),
        "var/log/upstart/ovs-workers.log": _lines(CELERY, 1500),
    })


def test_the_table_is_the_same_whatever_the_chunk_size(bundle: Path, monkeypatch):
    """Offsets are learned, copies found and the node named over the whole bundle, not per chunk;
    a member read as it is parsed (a block at a time) gives the same records as one read whole."""
    whole = bundle_events(bundle)
    monkeypatch.setattr(analyzer.parsing.chunks, "CHUNK_BYTES", 16 * 1024)
    assert bundle_events(bundle).equals(whole)
    assert bundle_events(bundle, caps=Caps(stream_bytes=16 * 1024)).equals(whole)
    assert whole.filter(pl.col("parse_status") == "duplicate").height == 600, "the copies span several chunks"
    celery = whole.filter(pl.col("source") == "var/log/upstart/ovs-workers.log")
    assert celery["offset_learned"].all() and (celery["utc_offset"] == 60).all()
    assert celery["host"].unique().to_list() == ["ovs-node1"], "a member stating no host gets the node's"


def test_parse_leaves_only_events_parquet_in_the_output_folder(bundle: Path, tmp_path: Path, capsys):
    out = tmp_path / "out"
    (out / PARTS).mkdir(parents=True)
    (out / PARTS / "00000-00000.arrow").write_bytes(b"left by a run that was killed")
    assert main(["parse", str(bundle), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [OUTPUT_MARK, "events.parquet"]
    assert "5,001 records (0 unparsed, 600 journal copies)" in capsys.readouterr().out
    assert pl.scan_parquet(out / "events.parquet").select(pl.len()).collect().item() == 5001


def test_a_bundle_of_bundles_gets_one_table_per_node_whose_hostless_lines_name_their_own_node(tmp_path: Path,
                                                                                              capsys):
    (tmp_path / "in").mkdir()
    for host in ("a", "b"):  # format A (E0-E1) lines state no host: the node's name comes from its bundle
        # (each node its own log: byte-for-byte copies are one node sent twice)
        build_tar(tmp_path / "in" / f"ovs-{host}-20170314102205-logs.tar.gz",
                  {"var/log/ovs/lib.log": f"2017-03-14 10:22:05,046 - [INFO] - [lib] - [vdisk] - On {host}\n" * 3})
    (tmp_path / "in" / "notes.txt").write_text("sent by the customer\n")
    out = tmp_path / "out"
    assert main(["parse", str(tmp_path / "in"), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    for host in ("a", "b"):
        folder = out / f"ovs-{host}-20170314102205-logs"
        assert sorted(p.name for p in folder.iterdir()) == ["events.parquet"], "no part files left"
        table = pl.read_parquet(folder / "events.parquet")
        assert table.height == 3 and table["host"].unique().to_list() == [host]
        assert f"ovs-{host}-20170314102205-logs: 3 records" in printed
    assert not (out / "events.parquet").exists(), "a note beside the node bundles is not a node"


def test_parse_of_a_damaged_archive_says_on_the_terminal_that_its_table_holds_part_of_it(bundle: Path,
                                                                                          tmp_path: Path, capsys):
    """`parse` wrote a table of what it could read and said nothing: half a bundle passed for all of it."""
    cut = tmp_path / bundle.name
    cut.write_bytes(bundle.read_bytes()[:len(bundle.read_bytes()) // 2])
    assert main(["parse", str(cut), "-o", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr()
    assert "records" in printed.out
    assert f"ovs-analyzer: warning: {cut.name}: " in printed.err and "damaged" in printed.err


def test_a_node_bundle_sent_twice_gets_one_table_and_each_table_says_so(tmp_path: Path, capsys):
    (tmp_path / "in" / "again").mkdir(parents=True)
    for host in ("a", "b"):
        build_tar(tmp_path / "in" / f"ovs-{host}-20170314102205-logs.tar.gz",
                  {"var/log/ovs/lib.log": f"2017-03-14 10:22:05,046 - [INFO] - [lib] - [vdisk] - On {host}\n" * 3})
    copy = tmp_path / "in" / "again" / "ovs-a-20170314102205-logs.tar.gz"
    copy.write_bytes((tmp_path / "in" / "ovs-a-20170314102205-logs.tar.gz").read_bytes())
    out = tmp_path / "out"
    assert main(["parse", str(tmp_path / "in"), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["ovs-a-20170314102205-logs",
                                                                  "ovs-b-20170314102205-logs"]
    said = ("nested bundle ovs-a-20170314102205-logs.tar.gz is a byte-for-byte copy of "
            "again/ovs-a-20170314102205-logs.tar.gz: its table was written once")
    assert capsys.readouterr().err.count(said) == 2


_EVENTS = st.lists(st.tuples(st.sampled_from(["n1", "n2", None]), st.integers(0, 5 * 3600),
                             st.sampled_from([60, 120, None])), max_size=60)


@settings(max_examples=60, deadline=None)
@given(rows=_EVENTS, cuts=st.lists(st.integers(0, 60), max_size=4))
def test_the_offset_learned_from_parts_is_the_most_frequent_of_the_whole(rows, cuts):
    """Per host and local hour: the offset most zoned records state, the smaller one on a tie,
    whether the tallies come from the whole table or from any cut of it into parts."""
    start = datetime(2017, 3, 14)
    events = pl.DataFrame({"host": [h for h, _, _ in rows],
                           "ts_local": [start + timedelta(seconds=s) for _, s, _ in rows],
                           "utc_offset": [o for _, _, o in rows]},
                          schema={"host": pl.String, "ts_local": pl.Datetime("us"), "utc_offset": pl.Int16})
    seen = Counter((h, s // 3600, o) for h, s, o in rows if o is not None)
    expected = {(h, hour): min((o for (h2, hr, o) in seen if (h2, hr) == (h, hour)),
                               key=lambda o: (-seen[(h, hour, o)], o)) for h, hour, _ in seen}
    bounds = [0, *sorted(c for c in cuts if c <= events.height), events.height]
    parts = [offset_tallies(events.slice(a, b - a)) for a, b in pairwise(bounds)]
    for samples in (samples_of(pl.concat(parts)), offset_samples(events)):
        learned = {(h, (t - start) // timedelta(hours=1)): o for h, t, o in samples.iter_rows()}
        assert learned == expected


def test_parse_shows_its_progress_on_a_terminal(bundle: Path, tmp_path: Path):
    screen = io.StringIO()
    progress = BundleProgress(total=bundle.stat().st_size, console=Console(file=screen, force_terminal=True, width=120),
                              delay=0, doing="parsing")
    write_events(bundle, tmp_path / "out", progress=progress)
    progress.close()
    with tarfile.open(bundle) as archive:
        assert progress.done == sum(m.size for m in archive), "every member read moves the bar"
    assert "parsing" in screen.getvalue()
    assert "completing the table" in screen.getvalue(), "the bar says what it waits for after the last member"


def test_parse_writes_no_secret_into_events_parquet(tmp_path):
    from tests.outputs.test_report_safety import CELERY, SECRETS

    bundle = build_tar(tmp_path / "ovs-node1-20170314102205-logs.tar.gz", {
        "var/log/syslog": CELERY,
        "var/log/ovs/lib.log": "2017-03-14 10:22:05 04700 +0100 - ovs-node1 - 1/2 - lib/x - 1 - INFO - "
                               'call {"password": "Hunter22"} with Authorization: Basic QWxhZGRpbjpvcGVu\n'})
    assert main(["parse", str(bundle), "-o", str(tmp_path / "out")]) == 0
    table = pl.read_parquet(tmp_path / "out" / "events.parquet")
    text = "\n".join(v for c in ("raw", "message") for v in table[c].drop_nulls().to_list())
    assert "amqp://ovs:********@10.100.1.11" in text
    assert not [s for s in (*SECRETS, "QWxhZGRpbjpvcGVu") if s in text]
