"""A member larger than `Caps.stream_bytes` is read while it is parsed, a block of whole lines at a
time: everything that holds for a member read whole holds for it too (same events, same notes,
same rotation trimming of the copies read after it), while memory follows a block."""

from __future__ import annotations

import gzip
import threading
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.detection.loader import default_rule_dirs, load_rules
from analyzer.errors import UserError
from analyzer.parsing.chunks import parse_chunks
from analyzer.parsing.context import ParseContext
from analyzer.parsing.formats import load_formats
from analyzer.pipeline.analysis import analyze
from analyzer.reading.bundle import Caps, describe, iter_members
from tests.conftest import tar_bytes

STREAMED = Caps(stream_bytes=1 << 20)
WHOLE = Caps(stream_bytes=1 << 40)
_PY = "2017-03-14 10:{m:02d}:{s:02d} 04700 +0100 - ovs-node1 - 1/2 - lib/vdisk - {n} - {level} - line {n}\n"
_TRACE = 'Traceback (most recent call last):\n  File "/opt/x.py", line 3, in f\nRuntimeError: boom {n}\n'


def big_log(lines: int) -> bytes:
    """~100 bytes a line; every 997th record an error with a traceback, so records cross block ends."""
    out = []
    for n in range(lines):
        level = "ERROR" if n % 997 == 0 else "INFO"
        out.append(_PY.format(m=(n // 60) % 60, s=n % 60, n=n, level=level))
        if level == "ERROR":
            out.append(_TRACE.format(n=n))
    return "".join(out).encode()


def members(path: Path, caps: Caps) -> dict[str, tuple[bytes, tuple[str, ...], bool]]:
    """path -> (text, warnings, streamed), each text read before the next member, as the pipeline does."""
    out = {}
    for member in iter_members(describe(path), caps):
        text = member.text()
        data = text if isinstance(text, bytes) else b"".join(text)
        out[member.path] = (data, tuple(member.warnings), member.stream is not None)
    return out


def test_a_large_member_is_streamed_and_its_text_is_the_same(tmp_path):
    log = big_log(400_000)  # ~40 MB: several 16 MiB blocks
    path = tmp_path / "ovs-node1-20170314102205-logs.tar"
    path.write_bytes(tar_bytes({"var/log/small.log": log[:1000], "var/log/ovs/lib.log": log}))
    streamed, whole = members(path, STREAMED), members(path, WHOLE)
    assert streamed["var/log/ovs/lib.log"][2] and not whole["var/log/ovs/lib.log"][2]
    assert not streamed["var/log/small.log"][2], "a member below the threshold is read whole"
    assert streamed == {k: (d, w, k == "var/log/ovs/lib.log") for k, (d, w, _) in whole.items()}


def test_a_streamed_member_parses_into_the_same_events_as_a_whole_one(tmp_path):
    log = big_log(400_000)
    path = tmp_path / "ovs-node1-20170314102205-logs.tar"
    path.write_bytes(tar_bytes({"var/log/ovs/lib.log": log}))
    formats, ctx = load_formats(), ParseContext(year=2017)
    reading = iter_members(describe(path), STREAMED)  # held: the archive stays open while the member is read
    member = next(reading)
    from_blocks = [p.events for p in parse_chunks(member.path, member.text(), formats, ctx)]
    from_bytes = [p.events for p in parse_chunks(member.path, log, formats, ctx)]
    assert len(from_blocks) > 2
    assert pl.concat(from_blocks).equals(pl.concat(from_bytes))
    tracebacks = pl.concat(from_blocks).filter(pl.col("raw").str.contains("Traceback"))
    assert tracebacks.height == 402 and tracebacks["raw"].str.contains("RuntimeError: boom", literal=True).all()
    assert tracebacks["raw"].str.count_matches("\n").min() == 3, "no traceback was cut at a block end"


def test_nul_runs_and_monstrous_lines_in_a_streamed_member_are_cleaned_and_counted(tmp_path):
    log = big_log(200_000)
    dirty = log[:5_000_000] + b"\0" * 3000 + log[5_000_000:15_000_000] + b"x" * 3_000_000 + b"\n" + log[15_000_000:]
    path = tmp_path / "ovs-node1-20170314102205-logs.tar"
    path.write_bytes(tar_bytes({"var/log/ovs/lib.log": dirty}))
    streamed, whole = members(path, STREAMED), members(path, WHOLE)
    assert streamed["var/log/ovs/lib.log"][:2] == whole["var/log/ovs/lib.log"][:2]
    assert any("3000 NUL" in w for w in streamed["var/log/ovs/lib.log"][1])
    assert any("1 line(s) longer than" in w for w in streamed["var/log/ovs/lib.log"][1])


def test_copies_read_after_a_streamed_member_are_trimmed_against_it(tmp_path):
    log = big_log(200_000)
    first = log[: log.index(b"\n", 50_000) + 1]
    older = big_log(3000).replace(b"10:", b"09:") + first  # rotated copy whose last lines repeat syslog's first
    path = tmp_path / "ovs-node1-20170314102205-logs.tar"
    path.write_bytes(tar_bytes({"var/log/ovs/lib.log": log, "var/log/ovs/lib.log.1": older,
                                "var/log/ovs/lib.log.2.gz": gzip.compress(log)}))
    streamed, whole = members(path, STREAMED), members(path, WHOLE)
    assert streamed["var/log/ovs/lib.log"][2]
    assert streamed == {k: (d, w, k == "var/log/ovs/lib.log") for k, (d, w, _) in whole.items()}
    assert any("repeat the start of var/log/ovs/lib.log" in w for w in streamed["var/log/ovs/lib.log.1"][1])
    assert streamed["var/log/ovs/lib.log.2.gz"][0] == b""
    assert any("same content as var/log/ovs/lib.log" in w for w in streamed["var/log/ovs/lib.log.2.gz"][1])


def test_a_copy_read_after_its_neighbour_is_read_whole_to_be_trimmed(tmp_path):
    log = big_log(60_000)
    older_end = log.index(b"\n", 2_000_000) + 1
    newer_start = log.rindex(b"\n", 0, 1_990_000) + 1  # the live file starts with the old copy's last lines
    path = tmp_path / "ovs-node1-20170314102205-logs.tar"
    path.write_bytes(tar_bytes({"var/log/ovs/lib.log.1": log[:older_end], "var/log/ovs/lib.log": log[newer_start:]}))
    streamed = members(path, STREAMED)
    assert not streamed["var/log/ovs/lib.log"][2]
    assert any("repeat the end of var/log/ovs/lib.log.1" in w for w in streamed["var/log/ovs/lib.log"][1])


def test_a_streamed_member_cut_short_keeps_what_was_read_and_says_so(tmp_path):
    log = big_log(300_000)
    data = tar_bytes({"var/log/ovs/lib.log": log})
    path = tmp_path / "ovs-node1-20170314102205-logs.tar"
    path.write_bytes(data[: len(data) // 2])
    bundle = describe(path)
    got = members(path, STREAMED)["var/log/ovs/lib.log"]
    assert got[2] and 0 < len(got[0]) < len(log) and log.startswith(got[0])
    assert any("cut short" in w for w in got[1])
    list(iter_members(bundle, STREAMED))
    assert any("members after it could not be read" in w for w in bundle.warnings)


def test_analyze_reports_a_streamed_member_as_it_reports_a_whole_one(tmp_path):
    log = big_log(250_000)
    path = tmp_path / "ovs-node1-20170314102205-logs.tar"
    path.write_bytes(tar_bytes({"var/log/ovs/lib.log": log[:-40] + b"\0" * 10 + log[-40:]}))
    rules = load_rules(default_rule_dirs())
    streamed, whole = analyze(path, rules, caps=STREAMED), analyze(path, rules, caps=WHOLE)
    assert streamed.members == whole.members
    assert streamed.members[0].size == len(log) and streamed.members[0].stored_size == len(log) + 10
    assert any("NUL" in w for w in streamed.members[0].warnings)
    assert [f.rule_id for f in streamed.findings] == [f.rule_id for f in whole.findings]
    assert streamed.counts.equals(whole.counts)


def test_giving_up_on_a_streamed_member_stops_its_reading_ahead(tmp_path):
    path = tmp_path / "ovs-node1-20170314102205-logs.tar"
    path.write_bytes(tar_bytes({"var/log/ovs/lib.log": big_log(300_000), "var/log/syslog": big_log(10)}))
    reading = iter_members(describe(path), STREAMED)
    member = next(reading)
    next(iter(member.text()))  # one block parsed, the next read ahead and waiting
    reading.close()  # the analysis failed: nothing may keep reading
    assert not any(t.name == "ovs-read-ahead" and t.is_alive() for t in threading.enumerate())


def test_an_error_while_reading_ahead_reaches_the_parser(tmp_path, monkeypatch):
    import analyzer.reading.stream as member_stream

    def broken(self, block):
        raise MemoryError("no room for a block")

    path = tmp_path / "ovs-node1-20170314102205-logs.tar"
    path.write_bytes(tar_bytes({"var/log/ovs/lib.log": big_log(300_000)}))
    monkeypatch.setattr(member_stream.TextStream, "_cleaned", broken)
    reading = iter_members(describe(path), STREAMED)
    member = next(reading)
    with pytest.raises(MemoryError, match="no room"):
        list(member.text())
    reading.close()


def test_a_streamed_member_cut_before_its_first_byte_is_reported_not_fatal(tmp_path):
    data = tar_bytes({"var/log/ovs/lib.log": big_log(30_000)})
    path = tmp_path / "ovs-node1-20170314102205-logs.tar"
    path.write_bytes(data[:512])  # the member's header, none of its bytes
    analysis = analyze(path, load_rules(default_rule_dirs()), caps=STREAMED)
    member = analysis.members[0]
    assert (member.path, member.lines, member.size) == ("var/log/ovs/lib.log", 0, 0)
    assert any("cut short" in w for w in member.warnings)


_SMALL_BIG = big_log(15_000)  # ~1.5 MB: streamed under STREAMED
_TAR = tar_bytes({"var/log/ovs/lib.log": _SMALL_BIG, "var/log/syslog": big_log(10)})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=1, max_value=len(_TAR)), gzipped=st.booleans())
def test_a_streamed_member_of_an_archive_cut_anywhere_yields_a_prefix_of_its_text(tmp_path, cut, gzipped):
    data = gzip.compress(_TAR)[:cut] if gzipped else _TAR[:cut]
    path = tmp_path / f"ovs-node1-20170314102205-logs.tar{'.gz' if gzipped else ''}"
    path.write_bytes(data)
    try:
        got = members(path, STREAMED)
    except UserError:
        return  # cut inside the first header: not a readable bundle, said in one line
    if "var/log/ovs/lib.log" in got:
        text, warnings, streamed = got["var/log/ovs/lib.log"]
        assert streamed and _SMALL_BIG.startswith(text)
        assert text == _SMALL_BIG or any("cut short" in w for w in warnings), "a shortened member says so"


def test_a_streamed_member_without_a_single_newline_is_cut_by_the_line_cap(tmp_path):
    path = tmp_path / "ovs-node1-20170314102205-logs.tar"
    path.write_bytes(tar_bytes({"var/log/ovs/lib.log": b"x" * (3 << 20), "var/log/syslog": big_log(3)}))
    caps = Caps(stream_bytes=1 << 20, max_line_bytes=1 << 18)
    got = members(path, caps)
    text, warnings, streamed = got["var/log/ovs/lib.log"]
    assert streamed and len(text) < (1 << 18) + 100 and any("1 line(s) longer than" in w for w in warnings)
    assert got["var/log/syslog"][0] == big_log(3), "the members after it are read"
