"""A member larger than `Caps.stream_bytes` is read while it is parsed, a block of whole lines at a
time: everything that holds for a member read whole holds for it too (same events, same notes,
same rotation trimming of the copies read after it), while memory follows a block."""

from __future__ import annotations

import bz2
import gzip
import lzma
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
from analyzer.reading.rotation import EDGE_BYTES_NEEDED
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


def first_lines(path: Path, caps: Caps) -> dict[str, int]:
    """path -> the stored file's line number of the first line of the member's text."""
    out = {}
    for member in iter_members(describe(path), caps):
        for _ in member.text():
            pass
        out[member.path] = member.first_line
    return out


def block_sizes(path: Path, caps: Caps) -> dict[str, list[int]]:
    """path -> the sizes of the blocks its text comes in (one for a member read whole)."""
    out = {}
    for member in iter_members(describe(path), caps):
        text = member.text()
        out[member.path] = [len(text)] if isinstance(text, bytes) else [len(block) for block in text]
    return out


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
    large = {"var/log/ovs/lib.log", "var/log/ovs/lib.log.2.gz"}  # lib.log.1 (~350 KB) is below stream_bytes
    assert streamed == {k: (d, w, k in large) for k, (d, w, _) in whole.items()}
    assert any("repeat the start of var/log/ovs/lib.log" in w for w in streamed["var/log/ovs/lib.log.1"][1])
    assert streamed["var/log/ovs/lib.log.2.gz"][0] == b"", "it starts as lib.log does: gathered whole, to be told"
    assert any("same content as var/log/ovs/lib.log" in w for w in streamed["var/log/ovs/lib.log.2.gz"][1])


def test_a_copy_read_after_its_neighbour_is_streamed_without_the_lines_it_repeats_at_its_head(tmp_path):
    log = big_log(60_000)
    older_end = log.index(b"\n", 2_000_000) + 1
    newer_start = log.rindex(b"\n", 0, 1_990_000) + 1  # the live file starts with the old copy's last lines
    path = tmp_path / "ovs-node1-20170314102205-logs.tar"
    path.write_bytes(tar_bytes({"var/log/ovs/lib.log.1": log[:older_end], "var/log/ovs/lib.log": log[newer_start:]}))
    streamed, whole = members(path, STREAMED), members(path, WHOLE)
    assert streamed["var/log/ovs/lib.log"][2]
    assert streamed["var/log/ovs/lib.log"][:2] == whole["var/log/ovs/lib.log"][:2]
    assert streamed["var/log/ovs/lib.log"][0] == log[older_end:]
    assert any("repeat the end of var/log/ovs/lib.log.1" in w for w in streamed["var/log/ovs/lib.log"][1])
    numbers = first_lines(path, STREAMED)
    assert numbers == first_lines(path, WHOLE) and numbers["var/log/ovs/lib.log"] == log[newer_start:older_end].count(
        b"\n") + 1, "its lines keep the numbers of the stored file"


def test_a_rotated_gz_read_after_the_live_file_is_inflated_as_it_streams_and_loses_the_lines_it_repeats(
        tmp_path, monkeypatch):
    """The usual rotation set: `vpool.log` first, then yesterday's `vpool.log.<date>.gz`, whose last
    lines the live file starts with (the copy was taken while the rotation ran)."""
    import analyzer.reading.stream as member_stream

    monkeypatch.setattr(member_stream, "BLOCK_BYTES", 1 << 20)  # blocks much smaller than the member
    log = big_log(90_000)
    older_end = log.index(b"\n", 6_000_000) + 1
    newer_start = log.rindex(b"\n", 0, 5_900_000) + 1
    path = tmp_path / "ovs-node1-20170314102205-logs.tar"
    path.write_bytes(tar_bytes({"var/log/ovs/volumedriver/vpool1.log": log[newer_start:],
                                "var/log/ovs/volumedriver/vpool1.log.2017-03-13.gz": gzip.compress(log[:older_end])}))
    streamed, whole = members(path, STREAMED), members(path, WHOLE)
    gz = "var/log/ovs/volumedriver/vpool1.log.2017-03-13.gz"
    assert streamed[gz][2] and streamed[gz][:2] == whole[gz][:2]
    assert streamed[gz][0] == log[:newer_start]
    assert any("repeat the start of var/log/ovs/volumedriver/vpool1.log" in w for w in streamed[gz][1])
    short_lines = Caps(stream_bytes=1 << 20, max_line_bytes=1 << 12)
    blocks = block_sizes(path, short_lines)[gz]
    first = 2 * (EDGE_BYTES_NEEDED + short_lines.max_line_bytes)  # read before the head is decided
    assert sum(blocks) == newer_start and len(blocks) > 3
    assert max(blocks) < first + 2 * member_stream.BLOCK_BYTES, "never held whole: a few blocks at most"


@pytest.mark.parametrize("pack", [
    pytest.param(lambda text: gzip.compress(text[:3_000_000]) + gzip.compress(text[3_000_000:]), id="two-gzip-streams"),
    pytest.param(bz2.compress, id="bzip2"),
    pytest.param(lzma.compress, id="xz"),
    pytest.param(lambda text: gzip.compress(text)[:-300_000], id="cut-short"),
    pytest.param(lambda text: gzip.compress(text)[:400_000] + b"\xff" * 2000 + gzip.compress(text)[402_000:],
                 id="damaged"),
    pytest.param(lambda text: text, id="not-compressed-after-all"),
])
def test_a_compressed_member_streamed_gives_what_it_gives_read_whole(tmp_path, pack):
    path = tmp_path / "ovs-node1-20170314102205-logs.tar"
    path.write_bytes(tar_bytes({"var/log/ovs/lib.log.2.gz": pack(big_log(70_000)), "var/log/syslog": big_log(5)}))
    streamed, whole = members(path, STREAMED), members(path, WHOLE)
    assert streamed["var/log/ovs/lib.log.2.gz"][2]
    assert streamed == {k: (d, w, k == "var/log/ovs/lib.log.2.gz") for k, (d, w, _) in whole.items()}


_COPY_LINES = big_log(170_000).splitlines(keepends=True)
_OLDEST_FIRST = ["var/log/syslog.3.gz", "var/log/syslog.2.gz", "var/log/syslog.1", "var/log/syslog"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lengths=st.lists(st.integers(3_000, 40_000), min_size=4, max_size=4),
       overlaps=st.lists(st.integers(0, 2_500), min_size=4, max_size=4),
       order=st.permutations(range(4)), count=st.integers(2, 4), twin=st.booleans())
def test_a_rotation_set_read_as_streams_is_trimmed_as_it_is_read_whole(tmp_path, monkeypatch, lengths, overlaps,
                                                                       order, count, twin):
    """Copies of one log, oldest first each a stretch of its lines that may start with the last
    lines of the one before, read in any order, one maybe twice under two names: streamed (in
    blocks far smaller than the lines compared at each end) or read whole, the same text, notes
    and line numbers."""
    import analyzer.reading.stream as member_stream

    monkeypatch.setattr(member_stream, "BLOCK_BYTES", 1 << 16)
    files, start = {}, 0
    for name, length, overlap in zip(_OLDEST_FIRST, lengths, overlaps, strict=True):
        text = b"".join(_COPY_LINES[max(start - overlap, 0):start + length])
        files[name] = gzip.compress(text, compresslevel=1) if name.endswith(".gz") else text
        start += length
    chosen = [_OLDEST_FIRST[i] for i in order[:count]]
    read = {name: files[name] for name in chosen}
    if twin:  # the newest copy chosen also kept as a plain `.0`
        read["var/log/syslog.0"] = gzip.decompress(files[chosen[-1]]) if chosen[-1].endswith(".gz") \
            else files[chosen[-1]]
    path = tmp_path / "ovs-node1-20170314102205-logs.tar"
    path.write_bytes(tar_bytes(read))
    caps = Caps(stream_bytes=1 << 18, max_line_bytes=1 << 12)  # all but the shortest streamed
    whole = Caps(stream_bytes=1 << 40, max_line_bytes=1 << 12)
    assert {k: v[:2] for k, v in members(path, caps).items()} == {k: v[:2] for k, v in members(path, whole).items()}
    assert first_lines(path, caps) == first_lines(path, whole)


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
    monkeypatch.setattr(member_stream.TextStream, "_cleaned_block", broken)
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
