"""Open a support bundle, whatever its packaging, and hand out its members one at a time.

The bundle layer knows nothing about log formats. It turns a path (tar in any compression,
a gzip stream named .tar, zip, or an unpacked folder) into a stream of `Member`s with
normalized names and decompressed, parse-safe bytes, under caps that keep a hostile archive
from exhausting memory or time. Everything is read in memory: nothing is ever extracted, so
`..`, absolute names, links and devices can only be skipped and reported, never followed.

A bundle of bundles (a tar/zip/folder holding per-node bundles) is read in two steps: the
outer pass yields its loose members and records the nested bundles in `Bundle.nested`;
`nested_bundles` then turns those into `Bundle`s of their own, read straight from the outer
archive's stream.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import IO

from analyzer.errors import UserError
from analyzer.reading.archive import (
    READ_ERRORS,
    Damaged,
    Entry,
    Limits,
    inflate_capped,
    is_compressed,
    open_tar_file,
    open_tar_stream,
    read_capped,
    tar_entries,
    why,
    zip_entries,
)
from analyzer.reading.folder import dir_entries
from analyzer.reading.lone_log import lone_log_entry
from analyzer.reading.rotation import OverlapTrimmer
from analyzer.reading.stream import STREAM_BYTES, TextStream
from analyzer.reading.text import clean_text, looks_binary
from analyzer.timings import stage

_BUNDLE_NAME = re.compile(
    r"^ovs-(?P<host>.+?)(?:-(?P<stamp>\d{14}|\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d))?-logs\.(?:tar|tgz|tar\.\w+|zip)$"
)
#: Members that are bundles themselves (a customer's archive of per-node bundles).
NESTED_ARCHIVE = re.compile(r"\.(?:tar|tgz|tbz2?|txz|tar\.(?:gz|bz2|xz)|zip)$", re.IGNORECASE)
_COMPRESSED_MEMBER = re.compile(r"\.(?:gz|bz2|xz)$")
#: About how much a compressed log inflates: a compressed member storing more than
#: `stream_bytes` / this may well inflate past `stream_bytes`, so it is streamed.
_INFLATION = 16
_MAX_EXAMPLES = 3
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


@dataclass(frozen=True)
class Caps:
    """Bounds on the work one bundle may cause; hitting one is a warning, not a failure.

    Memory is bounded by `stream_bytes` (one member is held at a time, and a larger one only a
    block at a time, see `analyzer.reading.stream`) or else `max_member_bytes`; time by
    `max_total_bytes` and `max_members`; `max_ratio` stops a decompression bomb once it has
    inflated `ratio_floor` bytes, and `max_line_bytes` keeps a monstrous line out of the parser
    and the report.
    """

    max_member_bytes: int = 2 * 1024**3
    max_total_bytes: int = 16 * 1024**3
    max_members: int = 5_000
    max_ratio: int = 200
    ratio_floor: int = 16 * 1024**2
    max_line_bytes: int = 1024**2
    stream_bytes: int = STREAM_BYTES

    @property
    def limits(self) -> Limits:
        return Limits(self.max_member_bytes, self.max_ratio, self.ratio_floor)

    @classmethod
    def from_options(cls, options: list[str]) -> Caps:
        """`["members=500", "total_bytes=4G"]` -> Caps; names are the fields without `max_`."""
        known = {f.name.removeprefix("max_"): f.name for f in fields(cls)}
        values: dict[str, int] = {}
        for option in options:
            key, _, value = option.partition("=")
            m = re.fullmatch(r"(\d+)([kKmMgG]?)", value.strip())
            if key.strip() not in known or m is None:
                raise UserError(f"--cap {option!r}: expected NAME=NUMBER[k|M|G] with NAME one of {', '.join(known)}")
            values[known[key.strip()]] = int(m.group(1)) * _UNITS[m.group(2).lower()]
        return cls(**values)


@dataclass(frozen=True)
class Member:
    """One file of the bundle, decompressed: `path` has no leading slash.

    `first_line` is the line number of `data`'s first line in the file as stored (lines a
    rotation neighbour already holds may have been dropped from the head). A large member comes
    as a `stream` instead (its `data` is empty): read its text with `text()`, once, before the
    next member; its `first_line` is known once its `head()` is read, its `size` and `warnings`
    once all its text is.
    """

    path: str
    data: bytes
    mtime: float
    stored_size: int
    warnings: Sequence[str] = ()
    head_dropped: int = 0
    stream: TextStream | None = None

    def text(self) -> bytes | Iterator[bytes]:
        """The whole text, or the stream's blocks of whole lines."""
        return self.data if self.stream is None else iter(self.stream)

    def head(self) -> bytes:
        """The text's first bytes (at least a few KB unless the member is shorter)."""
        return self.data if self.stream is None else self.stream.head()

    @property
    def first_line(self) -> int:
        return self.head_dropped + 1 if self.stream is None else self.stream.first_line

    @property
    def size(self) -> int:
        return len(self.data) if self.stream is None else self.stream.size


@dataclass
class Bundle:
    """A bundle being read: its identity from the file name, the warnings so far, nested bundles."""

    path: Path
    host_hint: str | None
    collected_at: datetime | None
    warnings: list[str] = field(default_factory=list)
    #: Member of `path` this bundle is (a node of a bundle of bundles), else None.
    inner: str | None = None
    #: Bundles found inside this one while reading it (member names, or paths in a folder).
    nested: list[str] = field(default_factory=list)
    #: Each nested bundle's size: only bundles of one size can be copies of one another.
    nested_sizes: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return PurePosixPath(self.inner).name if self.inner else self.path.name


def describe(path: Path) -> Bundle:
    """Identify a bundle from its name, as `ovs collect logs` writes it (host and time)."""
    if not path.exists():
        if str(path) == "-":  # the habit of tools that read a stream; a bundle is read more than once
            raise UserError("-: a bundle cannot be read from standard input (it is read more than once): "
                            "save it to a file and name that file")
        raise UserError(f"{path}: no such file or directory")
    if not (path.is_file() or path.is_dir()):  # a bundle is read more than once (sniffed, hashed, read)
        raise UserError(f"{path}: not a regular file or folder (a pipe or device can be read only once): "
                        "save the bundle to a file first")
    if path.name in ("", ".."):  # `.` names no bundle: the folder it is does
        path = path.resolve()
    host, collected = _identity_from_name(path.name)
    return Bundle(path=path, host_hint=host, collected_at=collected)


def nested_bundles(bundle: Bundle, leave_out: Collection[str] = ()) -> list[Bundle]:
    """The per-node bundles found inside `bundle` while it was read (call after `iter_members`),
    but those named in `leave_out`."""
    nodes = []
    for name in bundle.nested:
        if name in leave_out:
            continue
        host, collected = _identity_from_name(PurePosixPath(name).name)
        if bundle.path.is_dir():
            nodes.append(Bundle(path=bundle.path / name, host_hint=host, collected_at=collected))
        else:
            nodes.append(Bundle(path=bundle.path, host_hint=host, collected_at=collected, inner=name))
    return nodes


def nested_copies(bundle: Bundle, caps: Caps = Caps()) -> dict[str, str]:
    """The nested bundles of `bundle` that are byte-for-byte copies of one found before them (a
    customer attached a node's bundle twice, under two folders or names): {copy: the first}. Read
    as nodes of their own, each would count that node's findings twice in the cluster's report.
    Only bundles of one size are compared (their SHA-256), in one more pass over the outer archive
    or folder; one that cannot be read again is taken for no copy."""
    sizes = Counter(bundle.nested_sizes.values())
    alike = {name for name, size in bundle.nested_sizes.items() if sizes[size] > 1}
    if not alike:
        return {}
    digests: dict[str, str] = {}
    outer = replace(bundle, inner=None, warnings=[], nested=[], nested_sizes={})
    try:
        with _entries(outer, caps) as (entries, _):
            for entry in entries:
                name = normalize_member_name(entry.name)
                if entry.kind == "file" and name in alike:
                    with entry.open() as stream:
                        digests[name] = hashlib.file_digest(stream, "sha256").hexdigest()
    except (*READ_ERRORS, Damaged, UserError):
        pass  # the outer pass said what it could not read; what was hashed before still counts
    first_of: dict[str, str] = {}
    copies: dict[str, str] = {}
    for name in bundle.nested:  # archive order: the first of identical bundles is the one read
        digest = digests.get(name)
        if digest is None:
            continue
        if digest in first_of:
            copies[name] = first_of[digest]
        else:
            first_of[digest] = name
    return copies


def named_as_collected(name: str) -> bool:
    """Whether a file bears the name `ovs collect logs` gave it (not `copy of ...`, `... (1).tar.gz`)."""
    return _BUNDLE_NAME.match(name) is not None


def _identity_from_name(name: str) -> tuple[str | None, datetime | None]:
    m = _BUNDLE_NAME.match(name)
    if not m:
        return None, None
    collected = None
    if m.group("stamp"):
        try:
            collected = datetime.strptime(re.sub(r"\D", "", m.group("stamp")), "%Y%m%d%H%M%S")
        except ValueError:
            collected = None
    return m.group("host"), collected


def iter_members(bundle: Bundle, caps: Caps = Caps()) -> Iterator[Member]:
    """Yield the bundle's regular files in archive order: inflated, text-cleaned, overlap-trimmed.

    Raises `UserError` when the input is not a bundle at all; once reading has started, damage
    and caps become warnings in `bundle.warnings` and everything read before them is kept.
    """
    notes = _SkipNotes()
    cut: list[tuple[str, str]] = []
    trimmer = OverlapTrimmer()
    total = 0
    count = 0
    with _entries(bundle, caps) as (entries, streamed):
        try:
            for entry in entries:
                name = normalize_member_name(entry.name)
                if entry.kind != "file" or name is None:
                    notes.add("unsafe name" if name is None else entry.kind, entry.name)
                    continue
                if NESTED_ARCHIVE.search(name):
                    if bundle.inner is None:
                        bundle.nested.append(name)
                        bundle.nested_sizes[name] = entry.size
                    else:
                        notes.add("nested twice", name)
                    continue
                count += 1
                if count > caps.max_members:
                    bundle.warnings.append(f"more than {caps.max_members} members: the rest was not read")
                    break
                compressed = bool(_COMPRESSED_MEMBER.search(name))
                if entry.size > (caps.stream_bytes // _INFLATION if compressed else caps.stream_bytes):
                    stream = TextStream(entry, caps.limits, caps.max_line_bytes, trimmer, name, compressed)
                    try:
                        yield Member(path=name, data=b"", mtime=entry.mtime, stored_size=entry.size,
                                     warnings=stream.notes, stream=stream)
                    except BaseException:  # the consumer gave up (GeneratorExit): stop reading ahead
                        stream.close()
                        raise
                    stream.drain()  # whatever the consumer left: the archive moves on past this member
                    result, read, text = stream.result, stream.stored_size, stream.head()
                else:
                    result = read_capped(entry, caps.limits)
                    read = len(result.data)
                    member = _member(name, entry, result.data, [n for n in (result.stopped, result.damage) if n],
                                     caps, trimmer)
                    yield member
                    text = member.data
                total += max(entry.size, read) if streamed else read
                if result.stopped and text.strip(b"\0") and not looks_binary(text):  # a capped lastlog hides no line
                    cut.append((name, result.stopped))
                if result.bomb and streamed and entry.size > caps.max_member_bytes:
                    bundle.warnings.append(f"member {name} {result.stopped}; it claims {entry.size} bytes and reaching "
                                           "the members after it would mean inflating them all, so they were not read")
                    break
                if result.damage and streamed:
                    bundle.warnings.append(f"archive damaged inside member {name} ({result.damage}): "
                                           "members after it could not be read; everything before was analyzed")
                    break
                if total > caps.max_total_bytes:
                    bundle.warnings.append(f"more than {caps.max_total_bytes} bytes inflated: the rest was not read")
                    break
        except Damaged as exc:
            bundle.warnings.append(f"{exc}: everything before the damage was analyzed")
        except READ_ERRORS as exc:
            bundle.warnings.append(f"reading stopped after {count} members ({why(exc)}): "
                                   "everything before was analyzed")
    bundle.warnings.extend(notes.summary())
    if cut:  # said in the bundle's warnings too: a finding may sit in the part not read
        examples = "; ".join(f"{name} ({why})" for name, why in cut[:_MAX_EXAMPLES])
        bundle.warnings.append(f"{len(cut)} member(s) cut at a reading cap, the rest of each not read: {examples}"
                               f"{' ...' if len(cut) > _MAX_EXAMPLES else ''} (--cap raises a cap)")
    if count == 0 and not bundle.nested:
        bundle.warnings.append("the bundle holds no regular files")


def normalize_member_name(name: str) -> str | None:
    """Strip a leading `/` or `./`; refuse names that climb out with `..` or hold control characters."""
    if any(ord(c) < 32 for c in name):
        return None
    name = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("/", ".")]
    if not parts or ".." in parts or re.match(r"^[A-Za-z]:$", parts[0]):
        return None
    return "/".join(parts)


def _member(name: str, entry: Entry, raw: bytes, notes: list[str], caps: Caps, trimmer: OverlapTrimmer) -> Member:
    """Inflate a compressed member, make its text safe, and drop lines a rotation neighbour holds."""
    data = raw
    if _COMPRESSED_MEMBER.search(name) and is_compressed(raw):
        with stage("decompress"):
            data, more = inflate_capped(raw, caps.limits)
        notes.extend(more)
    data, more = clean_text(data, caps.max_line_bytes)
    notes.extend(more)
    data, dropped, overlap = trimmer.trim(name, data)
    if overlap:
        notes.append(overlap)
    return Member(path=name, data=data, mtime=entry.mtime, stored_size=len(raw), warnings=tuple(notes),
                  head_dropped=dropped)


@contextmanager
def _entries(bundle: Bundle, caps: Caps) -> Iterator[tuple[Iterator[Entry], bool]]:
    """The entries of the bundle's container and whether it is a one-way stream (tar)."""
    if bundle.inner is None:
        if bundle.path.is_dir():
            yield dir_entries(bundle.path), False
            return
        try:
            handle = bundle.path.open("rb")
        except OSError as exc:
            raise UserError(f"{bundle.path}: cannot be read ({why(exc)})") from None
        with handle:
            lone = lone_log_entry(bundle.path, handle)
            if lone is None:
                yield _container(handle, str(bundle.path), caps, seekable=True)
                return
            said = f"one log file, not an archive: read as a bundle holding only it (as {lone.name})"
            if said not in bundle.warnings:
                bundle.warnings.append(said)
            yield iter([lone]), False
        return
    outer = replace(bundle, inner=None, warnings=[], nested=[])
    with _entries(outer, caps) as (entries, _):
        try:
            for entry in entries:
                if entry.kind == "file" and normalize_member_name(entry.name) == bundle.inner:
                    try:
                        stream = entry.open()
                    except READ_ERRORS as exc:
                        raise UserError(f"{bundle.path}: {bundle.inner} cannot be read ({why(exc)})") from None
                    yield _container(stream, f"{bundle.path}:{bundle.inner}", caps, seekable=False)
                    return
        except Damaged as exc:
            raise UserError(f"{bundle.path}: {exc} before {bundle.inner} was reached") from None
    raise UserError(f"{bundle.path}: holds no member {bundle.inner}")


#: Containers known by their first bytes that are not read (`ovs collect logs` writes none of them),
#: so the error can say what the file is instead of "invalid header".
_UNREAD_CONTAINERS = (
    (b"\x28\xb5\x2f\xfd", "zstd-compressed file"), (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"), (b"\x04\x22\x4d\x18", "LZ4-compressed file"),
)


def _container(handle: IO[bytes], label: str, caps: Caps, seekable: bool) -> tuple[Iterator[Entry], bool]:
    """Sniff the container kind from its first bytes (names lie: gzip is often named .tar)."""
    try:
        head = handle.read(8)
    except READ_ERRORS as exc:
        raise UserError(f"{label}: cannot be read ({why(exc)})") from None
    if not head:
        raise UserError(f"{label}: empty file, not a bundle")
    unread = next((kind for magic, kind in _UNREAD_CONTAINERS if head.startswith(magic)), None)
    if unread is not None:
        raise UserError(f"{label}: a {unread} (a customer repacked the bundle?): this tool reads tar (plain, gz, "
                        "bz2, xz) and zip; unpack it and analyze the folder, or repack it as one of those")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        try:
            if not seekable:
                handle = io.BytesIO(head + handle.read(caps.max_member_bytes))
            handle.seek(0)
            return zip_entries(zipfile.ZipFile(handle), handle), False
        except READ_ERRORS as exc:
            raise UserError(f"{label}: not a readable zip archive ({why(exc)})") from None
    compressed = is_compressed(head)
    try:
        if seekable and not compressed:
            return tar_entries(open_tar_file(handle), None), True
        archive, counter = open_tar_stream(_Prefixed(head, handle), compressed=compressed)
    except READ_ERRORS as exc:
        raise UserError(f"{label}: not a readable bundle: not a tar (plain, gz, bz2, xz) or zip archive "
                        f"({why(exc)})") from None
    return tar_entries(archive, counter), True


class _Prefixed:
    """A stream whose first bytes were already read to sniff its kind."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self.head = head
        self.rest = rest

    def read(self, size: int = -1) -> bytes:
        if not self.head:
            return self.rest.read(size)
        if size < 0:
            data, self.head = self.head + self.rest.read(), b""
            return data
        data, self.head = self.head[:size], self.head[size:]
        if len(data) < size:
            data += self.rest.read(size - len(data))
        return data


class _SkipNotes:
    """Members skipped for what they are, summarized per reason with a few examples."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}

    def add(self, reason: str, name: str) -> None:
        self.counts[reason] += 1
        examples = self.examples.setdefault(reason, [])
        if len(examples) < _MAX_EXAMPLES:
            examples.append(repr(name)[1:-1][:200])

    def summary(self) -> list[str]:
        label = {"dir": "folder entries", "link": "links (never followed)", "device": "device files",
                 "fifo": "FIFOs", "other": "special files", "unsafe name": "members with unsafe names",
                 "output": "ovs-analyzer output folders (reports, not logs)",
                 "nested twice": "bundles nested two levels deep"}
        return [f"{n} {label.get(reason, reason)} skipped (e.g. {', '.join(self.examples[reason])})"
                + (f": {_SKIP_HINTS[reason]}" if reason in _SKIP_HINTS else "")
                for reason, n in self.counts.items() if reason != "dir"]


#: What the support engineer can do about members skipped for a reason.
_SKIP_HINTS = {"nested twice": "one level of bundles inside bundles is read; unpack the outer archive and "
                               "analyze what it holds"}


def file_sha256(path: Path) -> str | None:
    """The bundle file's SHA-256 (None for a folder), for findings.json: which upload this was.

    Remembered per file version: every node of a bundle of bundles names the same file."""
    if not path.is_file():
        return None
    stat = path.stat()
    return _sha256_of(path, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=8)
def _sha256_of(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)  # releases the GIL: hashing runs beside the analysis
    return digest.hexdigest()
