"""One log file given where a bundle was expected: read as a bundle holding only that file.

Customers mail a single log as often as a bundle ("here is the volumedriver log"), plain or
gzipped, sometimes under a bundle's name. Such a file is no archive, so it used to end in "not a
tar or zip archive"; it is now one member, named after the file, and the bundle says so. Only
text is taken this way: anything else still gets the error naming what the file is not.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO

from analyzer.reading.archive import Entry, compression_suffix, inflated_head
from analyzer.reading.text import looks_binary

#: How much of the file (inflated) decides: a log shows its lines well within it.
_SNIFF_BYTES = 64 * 1024
#: What a bundle's name ends with (`ovs-node1-...-logs.tar.gz`), taken off a lone log's member name.
_ARCHIVE_SUFFIX = re.compile(r"(?:\.(?:tar|tgz|tbz2?|txz|zip|gz|bz2|xz))+$", re.IGNORECASE)


def lone_log_entry(path: Path, handle: IO[bytes]) -> Entry | None:
    """The one member of `path` when it is a text file (or a gzip, bzip2 or xz of one) rather than
    an archive, read from `handle`'s start; None otherwise (the handle is left at its start)."""
    head = handle.read(_SNIFF_BYTES)
    handle.seek(0)
    sample = inflated_head(head, _SNIFF_BYTES)
    if not sample or sample[257:262] == b"ustar" or head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return None
    if b"\n" not in sample or looks_binary(sample) or not _mostly_utf8(sample):
        return None
    # a compressed log keeps its compression's suffix, by which members are inflated
    name = (_ARCHIVE_SUFFIX.sub("", path.name) or "log") + compression_suffix(head)
    stat = path.stat()
    return Entry(name=name, kind="file", size=stat.st_size, mtime=stat.st_mtime, offset=None,
                 open=lambda: path.open("rb"))


def _mostly_utf8(sample: bytes) -> bool:
    """Text a log writes: UTF-8 but for a stray byte in a hundred (a Latin-1 name, a sample cut
    inside a character), which random or packed bytes never are."""
    return sample.decode("utf-8", "replace").count("\ufffd") * 100 <= len(sample)
