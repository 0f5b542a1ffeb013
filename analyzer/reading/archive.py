"""Read archive members under caps, without ever writing to disk.

The containers a customer sends (tar in any compression, zip, a folder) are turned into one
uniform stream of `Entry`s; `read_capped` then takes a member's bytes chunk by chunk so a
decompression bomb is stopped by its inflation ratio before it costs memory, and damage met
while reading keeps everything read before it. Nothing here knows about logs.
"""

from __future__ import annotations

import bz2
import io
import lzma
import os
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

_CHUNK = 4 << 20
#: tarfile inflates one buffer of compressed input at a time: 16 KiB bounds a bomb's step to ~16 MiB.
_STREAM_BUFFER = 16 * 1024
#: A plain tar inflates nothing: large reads, which tarfile's stream joins from `bufsize` pieces.
_PLAIN_BUFFER = 1 << 20
_INFLATE_STEP = 16 * 1024
#: Everything a broken or hostile container can raise while being read.
READ_ERRORS: tuple[type[BaseException], ...] = (
    tarfile.TarError, zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error, lzma.LZMAError,
    ValueError, NotImplementedError, RuntimeError, KeyError, UnicodeError, TypeError, IndexError, OverflowError,
    struct.error,
)


@dataclass(frozen=True)
class Limits:
    """The caps `read_capped` and `inflate_capped` enforce (a subset of `bundle.Caps`)."""

    max_member_bytes: int
    max_ratio: int
    ratio_floor: int


@dataclass
class Entry:
    """One member of a container, before its bytes are read."""

    name: str
    kind: str  # file, dir, link, device, fifo, other
    size: int
    mtime: float
    offset: int | None
    open: Callable[[], IO[bytes]]
    #: Compressed bytes of the container consumed so far (None: no compression to watch).
    consumed: Callable[[], int] | None = None


@dataclass
class ReadResult:
    data: bytes
    stopped: str | None = None  # why reading stopped early (a cap)
    damage: str | None = None  # what broke, and where
    bomb: bool = False  # stopped by the inflation ratio


class Damaged(Exception):
    """The container cannot be read past this point; `args[0]` says where and why."""


class CountingReader:
    """A read-only file wrapper that counts the bytes handed out (compressed bytes consumed)."""

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        return data


class _WatchedTarInfo(tarfile.TarInfo):
    """Remembers why header reading stopped, so a cut or corrupt archive is told from a clean end."""

    @classmethod
    def fromtarfile(cls, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:  # type: ignore[override]
        try:
            return super().fromtarfile(tarfile_)
        except tarfile.HeaderError as exc:
            tarfile_.ovs_end = exc  # type: ignore[attr-defined]
            raise


def why(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def open_tar_stream(fileobj: IO[bytes], compressed: bool = True) -> tuple[tarfile.TarFile, CountingReader]:
    """Open a tar stream in any compression tarfile knows (plain, gz, bz2, xz); raises on non-tar.

    `compressed=False` (the caller saw no compression magic) reads in large steps, which is much faster."""
    counter = CountingReader(fileobj)
    archive = tarfile.open(  # noqa: SIM115 - the caller closes the underlying file
        fileobj=counter, mode="r|*", bufsize=_STREAM_BUFFER if compressed else _PLAIN_BUFFER,
        tarinfo=_WatchedTarInfo)  # type: ignore[call-overload]
    return archive, counter


def open_tar_file(handle: IO[bytes]) -> tarfile.TarFile:
    """Open an uncompressed tar in a file for random access; raises on non-tar.

    Its members are then read straight from the file at their offsets (`pread`, one copy), and
    moving to the next header is a seek; a tar stream would read and copy every byte twice more
    and read the members it skips."""
    handle.seek(0)
    return tarfile.open(fileobj=handle, mode="r:", tarinfo=_WatchedTarInfo)  # type: ignore[call-overload]


def tar_entries(archive: tarfile.TarFile, counter: CountingReader | None) -> Iterator[Entry]:
    """The tar's members in order; raises `Damaged` where the archive stops making sense.

    `counter` is None for a tar opened with `open_tar_file`, whose members are read in place."""
    compressed = counter is not None and getattr(archive.fileobj, "comptype", "tar") != "tar"
    while True:
        try:
            info = archive.next()
        except READ_ERRORS as exc:
            raise Damaged(f"archive damaged after byte {archive.offset}: {why(exc)}") from None
        archive.members.clear()  # stream mode keeps every header otherwise: memory grows per member
        if info is None:
            end = getattr(archive, "ovs_end", None)
            if end is not None and not isinstance(end, tarfile.EOFHeaderError):
                reason = "ends without the end-of-archive marker (cut short?)" \
                    if isinstance(end, tarfile.EmptyHeaderError) else f"has an unreadable header ({why(end)})"
                raise Damaged(f"archive {reason} at byte {archive.offset}")
            return
        yield Entry(
            name=info.name, kind=_tar_kind(info), size=info.size, mtime=float(info.mtime),
            offset=info.offset_data, open=lambda info=info: _tar_data(archive, info, counter is None),  # type: ignore[misc]
            consumed=(lambda: counter.count) if compressed else None,  # type: ignore[union-attr]
        )


def _tar_data(archive: tarfile.TarFile, info: tarfile.TarInfo, in_place: bool) -> IO[bytes]:
    """A member's bytes straight from the stream or the file, so a cut archive still yields what
    precedes the cut (tarfile's own reader discards a short read); sparse members need tarfile's reader."""
    if info.issparse():
        return archive.extractfile(info)  # type: ignore[return-value]
    if in_place:
        return _FileSlice(archive.fileobj, info.offset_data, info.size)  # type: ignore[arg-type, return-value]
    return _StreamSlice(archive.fileobj, info.size)  # type: ignore[arg-type, return-value]


class _StreamSlice:
    """The next `size` bytes of a forward-only stream; running dry early raises after the partial read."""

    def __init__(self, stream: IO[bytes], size: int):
        self.stream = stream
        self.left = size

    def read(self, size: int = -1) -> bytes:
        want = self.left if size < 0 else min(size, self.left)
        if want == 0:
            return b""
        data = self._read(want)
        if not data:
            raise EOFError(f"unexpected end of data, {self.left} bytes of the member missing")
        self.left -= len(data)
        return data

    def _read(self, want: int) -> bytes:
        return self.stream.read(want)


class _FileSlice(_StreamSlice):
    """`size` bytes of a file from `offset`, read in place (the file's position is tarfile's).

    A read asks for no more than the file holds: pread allocates what it is asked for, and a
    hostile header may claim a member of gigabytes in a file of kilobytes."""

    def __init__(self, file: IO[bytes], offset: int, size: int):
        super().__init__(file, size)
        self.position = offset

    def _read(self, want: int) -> bytes:
        fd = self.stream.fileno()
        data = os.pread(fd, min(want, max(os.fstat(fd).st_size - self.position, 0)), self.position)
        self.position += len(data)
        return data


def _tar_kind(info: tarfile.TarInfo) -> str:
    if info.isreg():
        return "file"
    if info.isdir():
        return "dir"
    if info.issym() or info.islnk():
        return "link"
    if info.ischr() or info.isblk():
        return "device"
    return "fifo" if info.isfifo() else "other"


def zip_entries(archive: zipfile.ZipFile, raw: IO[bytes]) -> Iterator[Entry]:
    """The zip's members in central-directory order; symlinks (unix mode) are not files.

    `raw` is the file the zip is read from: its position tells how much compressed data a
    member has consumed so far, so the inflation ratio is checked as the member grows.
    """
    for info in archive.infolist():
        mode = info.external_attr >> 16
        kind = "dir" if info.filename.endswith("/") else "link" if (mode & 0o170000) == 0o120000 else "file"
        if mode and (mode & 0o170000) not in (0, 0o100000, 0o120000, 0o040000):
            kind = "device" if mode & 0o170000 in (0o020000, 0o060000) else "other"
        yield Entry(
            name=info.filename, kind=kind, size=info.file_size, mtime=_zip_mtime(info), offset=info.header_offset,
            open=lambda info=info: archive.open(info), consumed=raw.tell,  # type: ignore[misc]
        )


def _zip_mtime(info: zipfile.ZipInfo) -> float:
    from datetime import datetime

    try:
        return datetime(*info.date_time).timestamp()
    except (ValueError, OverflowError):
        return 0.0


class _Gathered:
    """A member's bytes as they arrive, in one growing buffer.

    Joining a list of pieces holds the member twice at the end (pieces and result); a BytesIO
    grows in place (realloc) and hands its buffer over without a copy, so a 300 MB member costs
    300 MB, not 600. A member that arrives in one piece is that piece: no copy at all.
    """

    def __init__(self) -> None:
        self._first = b""  # the bytes so far while they came in one piece
        self._buffer: io.BytesIO | None = None  # once a second piece came
        self.total = 0

    def add(self, piece: bytes) -> None:
        if self._buffer is None and self.total:
            self._buffer = io.BytesIO()
            self._buffer.write(self._first)
            self._first = b""
        if self._buffer is None:
            self._first = piece
        else:
            self._buffer.write(piece)
        self.total += len(piece)

    def value(self, limit: int | None = None) -> bytes:
        if self._buffer is None:
            return self._first[:limit] if limit is not None and self.total > limit else self._first
        if limit is not None and self.total > limit:
            self._buffer.truncate(limit)
        return self._buffer.getvalue()


def read_capped(entry: Entry, limits: Limits) -> ReadResult:
    """Read a member whole; stop at the size cap, at the inflation ratio, or at damage.

    Without an inflation ratio to watch (a plain tar, a folder), the member is asked for in one
    read of its stated size, which lands in place: no piece is copied again (a file that grew
    since its size was read comes in further steps of at least `_CHUNK`)."""
    result = ReadResult(b"")
    data = _Gathered()
    step = _CHUNK if entry.consumed else max(_CHUNK, min(entry.size, limits.max_member_bytes) + 1)
    for chunk in read_steps(entry, limits, result, step):
        data.add(chunk)
    result.data = data.value()
    return result


def read_steps(entry: Entry, limits: Limits, result: ReadResult, step: int = _CHUNK) -> Iterator[bytes]:
    """A member's bytes in steps of `step` bytes (a few MB), for a caller that need not hold it whole.

    Stops at the size cap, at the inflation ratio, or at damage; once exhausted, `result` says
    which (its `data` is left to the caller).
    """
    total = 0
    start = entry.consumed() if entry.consumed else 0
    try:
        stream = entry.open()
    except READ_ERRORS as exc:
        result.damage = f"cannot be opened ({why(exc)})"
        return
    try:
        while True:
            chunk = stream.read(min(step, limits.max_member_bytes + 1 - total))
            if not chunk:
                return
            if total + len(chunk) > limits.max_member_bytes:
                yield chunk[:limits.max_member_bytes - total]
                result.stopped = f"larger than {limits.max_member_bytes} bytes: truncated"
                return
            total += len(chunk)
            yield chunk
            if entry.consumed and _too_inflated(total, entry.consumed() - start, limits):
                result.stopped, result.bomb = _ratio_note(limits, total), True
                return
    except READ_ERRORS as exc:
        where = f"at byte {total} of the member" + (f" (byte {entry.offset + total} of the archive)"
                                                    if entry.offset is not None else "")
        result.damage = f"cut short {where}: {why(exc)}"


def _too_inflated(inflated: int, packed: int, limits: Limits) -> bool:
    return inflated > limits.ratio_floor and inflated > limits.max_ratio * max(packed, 1)


def _ratio_note(limits: Limits, at: int) -> str:
    return (f"inflates more than {limits.max_ratio}:1 (a decompression bomb?): "
            f"stopped after {at} bytes")


#: The compressions read, by magic bytes: the suffix a member so compressed bears, its decompressor.
_COMPRESSIONS: tuple[tuple[bytes, str, Callable[[], Any]], ...] = (
    (b"\x1f\x8b", ".gz", lambda: zlib.decompressobj(wbits=47)),
    (b"BZh", ".bz2", bz2.BZ2Decompressor),
    (b"\xfd7zXZ\x00", ".xz", lzma.LZMADecompressor),
)


def _decompressor(data: bytes) -> Any | None:
    return next((make() for magic, _, make in _COMPRESSIONS if data.startswith(magic)), None)


def compression_suffix(data: bytes) -> str:
    """`.gz`, `.bz2` or `.xz` for data starting as that compression does, else ""."""
    return next((suffix for magic, suffix, _ in _COMPRESSIONS if data.startswith(magic)), "")


def is_compressed(data: bytes) -> bool:
    """gzip, bzip2 or xz, by their magic bytes."""
    return _decompressor(data) is not None


def inflated_head(data: bytes, size: int) -> bytes | None:
    """The first `size` bytes `data` (the start of a gzip, bzip2 or xz stream, or of plain bytes)
    inflates to; None when it is not a stream it can start on."""
    decompressor = _decompressor(data)
    if decompressor is None:
        return data[:size]
    try:
        return decompressor.decompress(data, size)  # type: ignore[no-any-return]
    except READ_ERRORS:
        return None


def inflate_capped(raw: bytes, limits: Limits) -> tuple[bytes, list[str]]:
    """Inflate a compressed member held whole (see `inflate_steps`), and say why it stopped early."""
    out = _Gathered()
    notes: list[str] = []
    for piece in inflate_steps([raw], limits, notes):
        out.add(piece)
    return out.value(), notes


def inflate_steps(steps: Iterable[bytes], limits: Limits, notes: list[str]) -> Iterator[bytes]:
    """The inflated text of a compressed member (gzip, several gzip streams one after the other,
    bzip2, xz) whose stored bytes come in `steps`, within the caps; why it stopped before the end
    of its streams goes into `notes`. Bytes that do not start a compressed stream end it (a member
    that starts with none is yielded as it is).

    Input is fed in small steps so a bomb is caught by its ratio after a few MB, not after GBs."""
    steps = iter(steps)
    buffer, at = memoryview(b""), 0  # stored bytes at `at` on are not fed yet
    fed = 0  # stored bytes of the streams already inflated
    total = 0
    inflater = None
    more = True
    while True:
        if more and len(buffer) - at < _INFLATE_STEP:
            step = next(steps, None)
            if step is None:
                more = False
            else:
                buffer, at = memoryview(bytes(buffer[at:]) + step if at < len(buffer) else step), 0
                continue
        if inflater is None:
            if at == len(buffer):
                return
            inflater = _decompressor(bytes(buffer[at:at + 8]))
            if inflater is None:
                if total == 0 and fed == 0:  # not compressed after all: the text as stored
                    yield bytes(buffer[at:])
                    yield from steps
                return
            pos = 0
        piece = buffer[at:at + _INFLATE_STEP]
        at += len(piece)
        try:
            out = inflater.decompress(piece)
        except READ_ERRORS as exc:
            notes.append(f"compressed data damaged after {total} inflated bytes ({why(exc)}): "
                         "analyzed up to the damage")
            return
        pos += len(piece)
        if total + len(out) > limits.max_member_bytes:
            yield out[:limits.max_member_bytes - total]
            notes.append(f"inflates past {limits.max_member_bytes} bytes: truncated")
            return
        total += len(out)
        if out:
            yield out
        if _too_inflated(total, fed + pos, limits):
            notes.append(_ratio_note(limits, total))
            return
        if inflater.eof:  # the next stream starts with what this one did not use, the end of this piece
            unused = len(inflater.unused_data)
            fed, at, inflater = fed + pos - unused, at - unused, None
        elif at == len(buffer) and not more:
            notes.append(f"compressed stream cut short after {total} inflated bytes: analyzed up to the damage")
            return
