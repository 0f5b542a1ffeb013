"""Hostile archives, built on the fly: each is read in seconds, in bounded memory, and never
turned against the machine. What bounds each case: `Caps.max_members` (member floods),
`max_ratio` after `ratio_floor` inflated bytes (decompression bombs), `max_line_bytes`
(monstrous lines), `max_member_bytes`/`max_total_bytes` (everything else); nothing is ever
extracted, so names and links can only be skipped."""

from __future__ import annotations

import dataclasses
import gzip
import io
import os
import re
import tarfile
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.errors import UserError
from analyzer.reading.archive import read_capped
from analyzer.reading.bundle import Caps, describe, iter_members
from analyzer.reading.folder import dir_entries
from tests.conftest import tar_bytes
from tests.reading.test_bundle import PY, zip_bytes

GOOD = PY.format(s=1)


def special(name: str, kind: bytes, linkname: str = "", data: bytes = b"") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, linkname, len(data)
    return info


def raw_tar(infos: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info, data in infos:
            tar.addfile(info, io.BytesIO(data) if data else None)
    return buffer.getvalue()


def read_all(path: Path, caps: Caps = Caps()):
    bundle = describe(path)
    return bundle, {m.path: m for m in iter_members(bundle, caps)}


def inflated_before_stop(warnings: list[str] | tuple[str, ...]) -> int:
    """The bytes a reader inflated before a cap stopped it, as its warning says: the work a bomb
    cost is bounded by the cap, not by how large the bomb claims to be (checked in bytes, not
    seconds, so a busy machine cannot fail it)."""
    (stopped,) = [int(m[1]) for w in warnings if (m := re.search(r"stopped after (\d+) bytes", w))]
    return stopped


def write(tmp_path: Path, data: bytes, name: str = "ovs-x-20170314102205-logs.tar") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_dotdot_and_absolute_members_never_leave_the_archive(tmp_path):
    before = set(tmp_path.parent.iterdir())
    path = write(tmp_path, tar_bytes({"../../evil.log": GOOD, "/etc/cron.d/evil": GOOD, "var/../../x.log": GOOD,
                                      "var/log/ovs/lib.log": GOOD}))
    bundle, members = read_all(path)
    assert sorted(members) == ["etc/cron.d/evil", "var/log/ovs/lib.log"], "absolute names are read as relative"
    assert any("2 members with unsafe names skipped" in w for w in bundle.warnings)
    assert set(tmp_path.parent.iterdir()) == before and sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_symlinks_hardlinks_and_devices_are_skipped_never_followed(tmp_path):
    path = write(tmp_path, raw_tar([
        (special("var/log/passwd.log", tarfile.SYMTYPE, "/etc/passwd"), b""),
        (special("var/log/shadow.log", tarfile.LNKTYPE, "/etc/shadow"), b""),
        (special("var/log/zero.log", tarfile.CHRTYPE), b""),
        (special("var/log/sda.log", tarfile.BLKTYPE), b""),
        (special("var/log/pipe.log", tarfile.FIFOTYPE), b""),
        (special("var/log/syslog", tarfile.REGTYPE, data=GOOD.encode()), GOOD.encode()),
    ]))
    bundle, members = read_all(path)
    assert list(members) == ["var/log/syslog"]
    assert not any(b"root:" in m.data for m in members.values())
    text = " | ".join(bundle.warnings)
    assert "2 links (never followed) skipped" in text and "2 device files skipped" in text and "1 FIFOs" in text


def test_a_symlink_in_a_folder_is_not_followed(tmp_path):
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "passwd.log").symlink_to("/etc/passwd")
    (tmp_path / "var" / "loop").symlink_to(tmp_path)
    (tmp_path / "var" / "syslog").write_text(GOOD)
    bundle, members = read_all(tmp_path)
    assert list(members) == ["var/syslog"] and any("links (never followed)" in w for w in bundle.warnings)


def test_a_gzip_member_inflating_to_gigabytes_is_stopped_by_its_ratio(tmp_path):
    block = gzip.compress(b"\0" * (64 << 20), compresslevel=9)  # 64 MiB of zeros in ~64 KiB
    bomb = block * 64  # a valid multi-stream gzip: 4 GiB inflated
    path = write(tmp_path, tar_bytes({"var/log/ovs/lib.log.2.gz": bomb, "var/log/ovs/lib.log": GOOD}))
    tracemalloc.start()
    _, members = read_all(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    caps = Caps()
    assert "inflates more than 200:1" in " ".join(members["var/log/ovs/lib.log.2.gz"].warnings)
    assert len(members["var/log/ovs/lib.log.2.gz"].data) < caps.ratio_floor + (64 << 20)
    assert members["var/log/ovs/lib.log"].data == GOOD.encode(), "the rest is still read"
    assert peak < 400 << 20


def test_a_tar_gz_whose_member_inflates_to_gigabytes_stops_the_stream_there(tmp_path):
    inflater = zlib.compressobj(9, zlib.DEFLATED, 31)
    header = tarfile.TarInfo("var/log/huge.log")
    header.size = 4 << 30
    first = tarfile.TarInfo("var/log/first.log")
    first.size = len(GOOD)
    padded = GOOD.encode() + b"\0" * (-len(GOOD) % 512)
    parts = [inflater.compress(first.tobuf() + padded), inflater.compress(header.tobuf())]
    zeros = b"\0" * (16 << 20)
    parts += [inflater.compress(zeros) for _ in range(8)]  # 128 MiB declared data is enough to trip the ratio
    path = write(tmp_path, b"".join(parts) + inflater.flush(), "ovs-x-logs.tar.gz")
    bundle, members = read_all(path)
    assert list(members) == ["var/log/first.log", "var/log/huge.log"]
    assert any("huge.log inflates more than 200:1" in w for w in bundle.warnings)
    assert inflated_before_stop(bundle.warnings) <= 2 * Caps().limits.ratio_floor, "not the 4 GiB it claims"


def test_a_sparse_lastlog_of_zeros_is_capped_and_the_members_after_it_are_still_read(tmp_path):
    data = gzip.compress(tar_bytes({"var/log/lastlog": b"\0" * (96 << 20), "var/log/syslog": GOOD}), 6)
    bundle, members = read_all(write(tmp_path, data, "ovs-x-logs.tar.gz"))
    assert "inflates more than 200:1" in " ".join(members["var/log/lastlog"].warnings)
    assert inflated_before_stop(members["var/log/lastlog"].warnings) <= 2 * Caps().limits.ratio_floor
    assert members["var/log/syslog"].data == GOOD.encode() and bundle.warnings == []


def test_a_zip_bomb_member_is_stopped_and_the_rest_is_read(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("var/log/bomb.log", "w", force_zip64=True) as fh:
            for _ in range(16):
                fh.write(b"\0" * (16 << 20))
        zf.writestr("var/log/syslog", GOOD)
    _, members = read_all(write(tmp_path, buffer.getvalue(), "b.zip"))
    assert "inflates more than 200:1" in " ".join(members["var/log/bomb.log"].warnings)
    assert inflated_before_stop(members["var/log/bomb.log"].warnings) <= 2 * Caps().limits.ratio_floor
    assert members["var/log/syslog"].data == GOOD.encode()


def fast_tar_of_empty_members(count: int) -> bytes:
    """A valid tar of `count` empty members, built by patching one header (tarfile needs ~30 s)."""
    template = tarfile.TarInfo("var/log/m000000.log").tobuf(tarfile.GNU_FORMAT)
    base = sum(template) - sum(template[148:156]) + 8 * 32 - sum(b"000000")
    blocks = []
    for i in range(count):
        digits = b"%06d" % i
        header = bytearray(template)
        header[9:15] = digits
        header[148:156] = b"%06o\0 " % (base + sum(digits))
        blocks.append(bytes(header))
    return b"".join(blocks) + b"\0" * 1024


def test_a_200k_member_tar_is_cut_at_the_member_cap(tmp_path):
    path = write(tmp_path, fast_tar_of_empty_members(200_000))
    bundle, members = read_all(path)
    assert len(members) == Caps().max_members
    assert "more than 5000 members: the rest was not read" in bundle.warnings


def test_a_tar_cut_mid_member_keeps_what_was_read_and_says_where(tmp_path):
    data = tar_bytes({"var/log/a.log": GOOD * 10, "var/log/b.log": GOOD * 100})
    cut = data[: 512 * 3 + 2000 + 512 + 1000]  # header a, data a (2 blocks + ...), header b, part of b
    bundle, members = read_all(write(tmp_path, cut))
    assert members["var/log/a.log"].data == (GOOD * 10).encode()
    assert members["var/log/b.log"].data and (GOOD * 100).encode().startswith(members["var/log/b.log"].data)
    assert any("cut short at byte" in w for w in members["var/log/b.log"].warnings)
    assert any("damaged inside member var/log/b.log" in w for w in bundle.warnings)


def test_a_tar_cut_between_members_is_reported_as_cut(tmp_path):
    data = tar_bytes({"var/log/a.log": GOOD})
    bundle, members = read_all(write(tmp_path, data[:1024]))
    assert list(members) == ["var/log/a.log"]
    assert any("without the end-of-archive marker" in w for w in bundle.warnings)


def test_a_gzip_stream_cut_short_keeps_everything_before_the_cut(tmp_path):
    lines = "".join(PY.format(s=s % 60) for s in range(20000)).encode()
    data = gzip.compress(tar_bytes({"var/log/a.log": GOOD, "var/log/big.log": lines}))
    bundle, members = read_all(write(tmp_path, data[: len(data) // 2], "ovs-x-logs.tar.gz"))
    assert members["var/log/a.log"].data == GOOD.encode()
    assert 0 < len(members["var/log/big.log"].data) < len(lines)
    assert any("big.log" in w and "members after it could not be read" in w for w in bundle.warnings)


def test_a_cut_gzip_member_keeps_its_readable_lines(tmp_path):
    member = gzip.compress(("".join(PY.format(s=s % 60) for s in range(5000))).encode())
    _, members = read_all(write(tmp_path, tar_bytes({"var/log/ovs/lib.log.2.gz": member[: len(member) // 2]})))
    got = members["var/log/ovs/lib.log.2.gz"]
    assert got.data.startswith(PY.format(s=0).encode()) and "cut short" in " ".join(got.warnings)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(os.urandom(1 << 16), "not a readable bundle"), (b"", "empty file"),
     (b"PK\x03\x04junk" * 10, "not a readable zip"),
     (gzip.compress(os.urandom(1 << 14)), "not a readable bundle"),
     (b"\x28\xb5\x2f\xfd" + os.urandom(100), "a zstd-compressed file .* unpack it and analyze the folder"),
     (b"7z\xbc\xaf\x27\x1c" + os.urandom(100), "a 7-Zip archive"), (b"Rar!\x1a\x07\x01\x00", "a RAR archive")],
    ids=["random-bytes", "empty-file", "broken-zip", "gzip-of-binary", "zstd", "7z", "rar"],
)
def test_input_that_is_not_a_bundle_is_a_clean_user_error(tmp_path, content, fragment):
    with pytest.raises(UserError, match=fragment):
        read_all(write(tmp_path, content))


def test_a_tar_with_no_members_is_read_and_says_so(tmp_path):
    bundle, members = read_all(write(tmp_path, tar_bytes({})))
    assert members == {} and bundle.warnings == ["the bundle holds no regular files"]


def test_a_64mb_line_is_cut_to_the_line_cap_and_only_that_much_reaches_the_parser(tmp_path, rules):
    from analyzer.pipeline.analysis import analyze

    huge = GOOD.encode() + b"x" * (64 << 20) + b"\n" + GOOD.encode()
    analysis = analyze(write(tmp_path, tar_bytes({"var/log/ovs/lib.log": huge})), rules)  # gzipped: a ratio bomb
    member = analysis.members[0]
    assert member.lines == 3 and member.size < Caps().max_line_bytes + 4096
    assert any("longer than 1048576 bytes cut" in w for w in member.warnings)


def test_binary_junk_in_a_log_is_counted_not_fatal(tmp_path, rules):
    from analyzer.pipeline.analysis import analyze

    junk = GOOD.encode() + bytes(range(128, 256)) * 50 + b"\n" + GOOD.encode()
    analysis = analyze(write(tmp_path, tar_bytes({"var/log/ovs/lib.log": junk, "var/log/ovs/x.log": os.urandom(9000)})),
                       rules)
    lib, rand = analysis.members
    assert lib.invalid_utf8 > 0 and lib.records >= 2
    assert rand.binary


def test_odd_encodings_are_decoded_with_replacement(tmp_path, rules):
    from analyzer.pipeline.analysis import analyze

    members = {"var/log/latin1.log": GOOD.replace("line", "ligne é").encode("latin-1"),
               "var/log/utf16.log": GOOD.encode("utf-16"), "var/log/bom.log": b"\xef\xbb\xbf" + GOOD.encode()}
    analysis = analyze(write(tmp_path, tar_bytes(members)), rules)
    by_path = {m.path: m for m in analysis.members}
    assert by_path["var/log/latin1.log"].invalid_utf8 == 1
    assert (by_path["var/log/utf16.log"].lines, by_path["var/log/utf16.log"].invalid_utf8) == (1, 0), \
        "UTF-16 with its byte order mark is decoded"
    assert (by_path["var/log/bom.log"].records, by_path["var/log/bom.log"].unparsed) == (1, 0)


def test_odd_member_names_are_kept_readable_or_skipped(tmp_path):
    names = {"var/log/" + "d/" * 200 + "deep.log": GOOD, "var/log/new\nline.log": GOOD, "var/log/ünï cødé.log": GOOD,
             "C:\\Windows\\x.log": GOOD, "var\\log\\win.log": GOOD, "var/log/\udcff.log": GOOD}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT, errors="surrogateescape") as tar:
        for name, content in names.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content.encode()))
    bundle, members = read_all(write(tmp_path, buffer.getvalue()))
    assert sorted(members) == sorted(["var/log/" + "d/" * 200 + "deep.log", "var/log/ünï cødé.log", "var/log/win.log",
                                      "var/log/\ufffd.log"])
    assert any("2 members with unsafe names skipped" in w for w in bundle.warnings)
    assert all(m.encode("utf-8") for m in members)


def test_duplicate_zip_members_keep_the_last_copy(tmp_path, rules):
    from analyzer.pipeline.analysis import analyze

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf, pytest.warns(UserWarning):
        zf.writestr("var/log/ovs/lib.log", PY.format(s=1))
        zf.writestr("var/log/ovs/lib.log", PY.format(s=2))
    analysis = analyze(write(tmp_path, buffer.getvalue(), "b.zip"), rules)
    assert [m.first_seen for m in analysis.members] == ["2017-03-14T09:22:02.047000Z"]
    assert any("appears twice" in w for w in analysis.bundle.warnings)


VALID = gzip.compress(tar_bytes({"var/log/ovs/lib.log": GOOD * 5, "var/log/syslog": GOOD}), mtime=0)
SMALL = Caps(max_member_bytes=1 << 20, max_total_bytes=4 << 20, max_members=50, ratio_floor=1 << 16)


def _read_or_refuse(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.tar.gz"
    path.write_bytes(data)
    try:
        bundle = describe(path)
        for member in iter_members(bundle, SMALL):
            assert isinstance(member.data, bytes) and member.path and not member.path.startswith("/")
            assert ".." not in member.path.split("/")
    except UserError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=4096))
def test_any_bytes_give_members_or_a_clean_error(tmp_path, data):
    _read_or_refuse(tmp_path, data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, len(VALID)), st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)),
                                            max_size=8))
def test_a_damaged_real_bundle_gives_members_or_a_clean_error(tmp_path, cut, flips):
    data = bytearray(VALID)
    for at, value in flips:
        data[at] = value
    _read_or_refuse(tmp_path, bytes(data[:cut]))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=3000), st.integers(0, 5000))
def test_a_damaged_tar_or_zip_gives_members_or_a_clean_error(tmp_path, noise, at):
    for packed in (tar_bytes({"a.log": GOOD, "b.log.gz": gzip.compress(GOOD.encode())}),
                   zip_bytes({"a.log": GOOD, "b.log": GOOD})):
        _read_or_refuse(tmp_path, packed[:at] + noise + packed[at + len(noise):])


class _ReadCounter:
    """A real file that counts how many reads it was asked for."""

    def __init__(self, path: Path):
        self.file = path.open("rb")
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        return self.file.read(size)


def test_a_log_that_grew_after_its_size_was_taken_is_read_to_its_end_in_large_steps(tmp_path):
    log = tmp_path / "var/log/syslog"
    log.parent.mkdir(parents=True)
    log.write_bytes(b"a\n")
    entry = next(e for e in dir_entries(tmp_path) if e.name == "var/log/syslog")
    grown = b"x" * 3_000_000 + b"\n"
    log.write_bytes(grown)  # the service kept logging while the folder was listed
    opened: list[_ReadCounter] = []
    entry = dataclasses.replace(entry, open=lambda: opened.append(_ReadCounter(log)) or opened[-1])
    got = read_capped(entry, Caps().limits)
    assert got.data == grown and got.damage is None
    assert opened[0].reads <= 3, "read a byte or two at a time, by the stale size"


def test_a_header_claiming_gigabytes_in_a_small_tar_costs_no_more_memory_than_the_file(tmp_path):
    """Read whole (as `parse` reads members up to the member cap), a member is asked for in one
    read of its stated size; that read must not allocate what a forged size field claims."""
    packed = bytearray(tar_bytes({"var/log/syslog": GOOD * 50}))
    packed[124:136] = b"%011o\0" % (1900 << 20)  # the size field: 1.9 GiB
    packed[148:156] = b" " * 8
    packed[148:156] = b"%06o\0 " % sum(packed[:512])  # and the checksum that covers it
    path = write(tmp_path, bytes(packed))
    caps = Caps(stream_bytes=Caps().max_member_bytes)
    tracemalloc.start()
    _, members = read_all(path, caps)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert any("cut short" in w for w in members["var/log/syslog"].warnings)
    assert peak < 64 << 20, f"{peak >> 20} MiB allocated for a {len(packed) >> 10} KiB bundle"
