"""Make a member's text safe to parse: UTF-8 whatever byte order mark it starts with, NUL runs
removed, monstrous lines cut, each said.

A file saved by a Windows editor or by PowerShell starts with a byte order mark, and PowerShell
writes UTF-16: left as they are, the mark would sit in front of the first line's time stamp (so
no format reads it) and UTF-16 would be half NUL bytes. A hard reset leaves runs of NUL bytes
where a log's preallocated tail was; a program dumping a blob can write a line of many MB.
Neither may cost the parser unbounded work or put megabytes into a report, and none of it may
pass silently: each returns a note for the inventory.
Binary files (`lastlog`, `wtmp`) are left alone here; the parser skips them, by this same test.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from itertools import chain

TRUNCATION_MARK = b" [...line cut by ovs-analyzer: %d bytes]"
_BINARY_PROBE = 8192


#: The byte order marks a text may start with: what each says the text is, and its codec.
#: UTF-32's little-endian mark starts with UTF-16's, so it is tried first.
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "UTF-32LE", "utf-32-le"), (codecs.BOM_UTF32_BE, "UTF-32BE", "utf-32-be"),
    (codecs.BOM_UTF8, "UTF-8", "utf-8"),
    (codecs.BOM_UTF16_LE, "UTF-16LE", "utf-16-le"), (codecs.BOM_UTF16_BE, "UTF-16BE", "utf-16-be"),
)


def as_utf8(steps: Iterable[bytes], notes: list[str]) -> Iterator[bytes]:
    """A member's bytes (`steps`: its pieces, in order) as UTF-8 text: a UTF-8 byte order mark at
    its head taken off, a text whose mark says UTF-16 or UTF-32 decoded (what cannot be decoded
    replaced and counted). `notes` hears what was done. Any other text passes untouched, in its
    pieces (the first ones joined until four bytes tell): invalid UTF-8 is the parser's to replace
    and count."""
    pieces = iter(steps)
    head = b""
    for piece in pieces:
        head += piece
        if len(head) >= 4:
            break
    found = next((bom for bom in _BYTE_ORDER_MARKS if head.startswith(bom[0])), None)
    if found is None:
        if head:
            yield head
        yield from pieces
        return
    mark, name, codec = found
    rest = chain([head[len(mark):]], pieces)
    if codec == "utf-8":
        notes.append("the UTF-8 byte order mark at its head removed")
        yield from rest
        return
    decoder = codecs.getincrementaldecoder(codec)("replace")
    replaced = 0
    for piece in chain(rest, [None]):
        text = decoder.decode(b"", final=True) if piece is None else decoder.decode(piece)
        replaced += text.count("\ufffd")
        yield text.encode("utf-8")
    notes.append(f"{name} text (its byte order mark says so) read as UTF-8"
                 + (f"; {replaced} undecodable sequence(s) replaced" if replaced else ""))


def clean_text(data: bytes, max_line_bytes: int) -> tuple[bytes, list[str]]:
    """Read the text as UTF-8 (`as_utf8`), remove NUL bytes and cut lines longer than
    `max_line_bytes`; say what was done."""
    notes: list[str] = []
    data = b"".join(as_utf8([data], notes))  # one piece and no mark: `data` itself, not a copy
    if looks_binary(data):
        return data, notes
    data, nuls, cut = clean_block(data, max_line_bytes)
    return data, notes + cleaning_notes(nuls, cut, max_line_bytes)


def clean_block(data: bytes, max_line_bytes: int) -> tuple[bytes, int, int]:
    """`clean_text` of one block of whole lines of a text member: (text, NULs removed, lines cut)."""
    nuls = data.count(0) if b"\0" in data else 0  # memchr first: far cheaper than counting a clean member
    if nuls:
        data = data.replace(b"\0", b"")
    data, cut = cut_long_lines(data, max_line_bytes)
    return data, nuls, cut


def cleaning_notes(nuls: int, cut: int, max_line_bytes: int) -> list[str]:
    notes = []
    if nuls:
        notes.append(f"{nuls} NUL byte(s) removed (a crash or power loss leaves them)")
    if cut:
        notes.append(f"{cut} line(s) longer than {max_line_bytes} bytes cut to that length")
    return notes


def looks_binary(data: bytes) -> bool:
    """Binary once NUL runs are set aside: nothing but NULs, NULs around text with no newline,
    many other control bytes, or NULs beside bytes that are not UTF-8.

    A text log with a run of NULs from a crash stays text; `lastlog` (NULs around binary
    times) and `wtmp` (records full of control bytes) do not, and are left for the parser to
    mark as binary.
    """
    probe = data[:_BINARY_PROBE]
    text = probe.replace(b"\0", b"")
    if not text:
        return bool(probe)
    control = sum(1 for b in text if b < 9 or 13 < b < 32)
    if len(text) < len(probe) and b"\n" not in text:
        return True  # NULs around text that has no line: records, not a log
    invalid = text.decode("utf-8", "replace").count("\ufffd") if len(text) < len(probe) else 0
    return control > len(text) // 10 or invalid > len(text) // 20


def cut_long_lines(data: bytes, limit: int) -> tuple[bytes, int]:
    """Cut every line longer than `limit` bytes, keeping its start and its newline.

    Scans by windows of `limit` bytes (`rfind` of the last newline in each), so a file with
    normal lines costs len/limit C-level searches, not one Python step per line.
    """
    if len(data) <= limit:
        return data, 0
    pieces: list[bytes] = []
    cut = 0
    pos = 0
    kept_from = 0
    size = len(data)
    while size - pos > limit:
        newline = data.rfind(b"\n", pos, pos + limit + 1)
        if newline != -1:
            pos = newline + 1
            continue
        end = data.find(b"\n", pos)
        end = size if end == -1 else end
        pieces.append(data[kept_from:pos + limit])
        pieces.append(TRUNCATION_MARK % (end - pos))
        cut += 1
        kept_from = pos = end
    if not cut:
        return data, 0
    pieces.append(data[kept_from:])
    return b"".join(pieces), cut


def line_blocks(text: bytes, block_bytes: int) -> Iterator[bytes]:
    """`text` as blocks that end at the first line end `block_bytes` on (a rest under a quarter of
    that joins the block before): a member held whole, handed on as a streamed one's blocks are."""
    start = 0
    while start < len(text):
        cut = text.find(b"\n", start + block_bytes - 1)
        end = len(text) if cut < 0 or len(text) - cut - 1 < block_bytes // 4 else cut + 1
        yield text[start:end]
        start = end
