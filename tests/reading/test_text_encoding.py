"""A log saved by a Windows editor or by PowerShell starts with a byte order mark, and PowerShell
writes UTF-16: such a member is read as the UTF-8 text it stands for (whole or streamed, plain or
compressed), its first line a record like any other, and its inventory row says what was done."""

from __future__ import annotations

import codecs
import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyzer.pipeline.analysis import analyze
from analyzer.reading.bundle import Caps
from analyzer.reading.text import as_utf8
from tests.conftest import build_tar, tar_bytes
from tests.reading.test_stream import members

PY = "2017-03-14 10:{m:02d}:{s:02d} 04700 +0100 - ovs-node1 - 1/2 - lib/vdisk - 1 - {level} - caf\u00e9 line {m}:{s}\n"
LINES = 200
TEXT = "".join(PY.format(m=n // 60, s=n % 60, level="ERROR" if n == 0 else "INFO") for n in range(LINES))
#: What each mark says, and the text with that mark, as a Windows tool writes it.
MARKED = {
    "UTF-8": "\ufeff".encode() + TEXT.encode(),
    "UTF-16LE": codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
    "UTF-16BE": b"\xfe\xff" + TEXT.encode("utf-16-be"),
    "UTF-32LE": codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"),
    "UTF-32BE": b"\x00\x00\xfe\xff" + TEXT.encode("utf-32-be"),
}
CODECS = {"UTF-8": "utf-8", "UTF-16LE": "utf-16-le", "UTF-16BE": "utf-16-be", "UTF-32LE": "utf-32-le",
          "UTF-32BE": "utf-32-be"}
STREAMED = Caps(stream_bytes=1 << 12)
WHOLE = Caps(stream_bytes=1 << 40)


@pytest.mark.parametrize("encoding", MARKED)
@pytest.mark.parametrize("caps", [WHOLE, STREAMED], ids=["whole", "streamed"])
@pytest.mark.parametrize("name", ["var/log/ovs/lib.log", "var/log/ovs/lib.log.1.gz"])
def test_a_marked_text_is_read_as_its_utf8_twin_and_the_inventory_says_so(tmp_path, encoding, caps, name):
    data = MARKED[encoding]
    path = tmp_path / "ovs-node1-20170314102205-logs.tar"
    path.write_bytes(tar_bytes({name: gzip.compress(data) if name.endswith(".gz") else data}))
    text, warnings, streamed = members(path, caps)[name]
    assert streamed == (caps is STREAMED)
    assert text == TEXT.encode()
    said = [w for w in warnings if encoding in w]
    assert said and "undecodable" not in said[0]
    assert not any("NUL" in w or "invalid" in w for w in warnings)


def test_a_utf8_mark_does_not_cost_the_first_line_its_record(tmp_path, rules):
    """The mark sat in front of the first time stamp: no format read that line, and its ERROR was an
    unparsed record outside the timeline."""
    analysis = analyze(build_tar(tmp_path / "b.tar.gz", {"var/log/ovs/lib.log": MARKED["UTF-8"]}), rules)
    member = analysis.members[0]
    assert (member.records, member.unparsed, member.invalid_utf8) == (LINES, 0, 0)
    assert analysis.first_seen == "2017-03-14T09:00:00.047000Z"


def test_a_utf16_log_gives_the_events_of_its_utf8_twin(tmp_path, rules):
    utf16 = analyze(build_tar(tmp_path / "a.tar.gz", {"var/log/ovs/lib.log": MARKED["UTF-16LE"]}), rules)
    utf8 = analyze(build_tar(tmp_path / "b.tar.gz", {"var/log/ovs/lib.log": TEXT}), rules)
    assert utf16.members[0].records == utf8.members[0].records == LINES
    assert (utf16.first_seen, utf16.last_seen) == (utf8.first_seen, utf8.last_seen)
    assert [(f.rule_id, f.count) for f in utf16.findings] == [(f.rule_id, f.count) for f in utf8.findings]


def test_what_utf16_cannot_decode_is_replaced_and_counted():
    notes: list[str] = []
    # a lone surrogate, then an odd byte at the end
    text = b"".join(as_utf8([codecs.BOM_UTF16_LE + "ok\n".encode("utf-16-le") + b"\x00\xd8a\x00x"], notes))
    assert text == "ok\n\ufffda\ufffd".encode()
    assert notes == ["UTF-16LE text (its byte order mark says so) read as UTF-8; 2 undecodable sequence(s) replaced"]


def test_a_text_without_a_mark_passes_untouched_piece_for_piece():
    pieces = [b"2017-03-14 10:22:01 line\n", b"\xff not UTF-8 is the parser's to count\n", b""]
    notes: list[str] = []
    out = list(as_utf8(pieces, notes))
    assert out == pieces and all(a is b for a, b in zip(out, pieces, strict=True))
    assert notes == []


@given(st.sampled_from(sorted(MARKED)), st.text(max_size=200), st.lists(st.integers(0, 1000), max_size=6))
def test_any_cut_of_a_marked_text_into_pieces_reads_as_the_whole(encoding, extra, cuts):
    data = MARKED[encoding] + extra.encode(CODECS[encoding])
    points = sorted({min(c, len(data)) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    whole_notes: list[str] = []
    cut_notes: list[str] = []
    assert b"".join(as_utf8(pieces, cut_notes)) == b"".join(as_utf8([data], whole_notes)) \
        == (TEXT + extra).encode("utf-8", "replace")
    assert cut_notes == whole_notes


@given(st.binary(max_size=64), st.lists(st.integers(0, 64), max_size=4))
def test_any_bytes_cut_anywhere_read_as_the_whole(data, cuts):
    points = sorted({min(c, len(data)) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    whole_notes: list[str] = []
    cut_notes: list[str] = []
    assert b"".join(as_utf8(pieces, cut_notes)) == b"".join(as_utf8([data], whole_notes))
    assert cut_notes == whole_notes
