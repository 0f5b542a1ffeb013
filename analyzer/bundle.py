"""Open a support bundle, whatever its packaging, and hand out its members one at a time.

The bundle layer knows nothing about log formats. It turns a path (tar, tar.gz, a gzip
stream named .tar, or an unpacked folder) into a stream of `Member`s with normalized names
and decompressed bytes, under caps that keep a hostile archive from exhausting memory.
Everything is read in memory: nothing is ever extracted to disk.
"""

from __future__ import annotations

import io
import re
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO

from analyzer.errors import UserError
from analyzer.timings import stage

_BUNDLE_NAME = re.compile(
    r"^ovs-(?P<host>.+?)(?:-(?P<stamp>\d{14}|\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d))?-logs\.(?:tar|tgz|tar\.\w+|zip)$"
)


_READ_BLOCK = 16 * 1024**2


@dataclass(frozen=True)
class Caps:
    """Bounds on the work one bundle may cause; hitting one is a warning, not a failure."""

    max_member_bytes: int = 2 * 1024**3
    max_total_bytes: int = 32 * 1024**3
    max_members: int = 100_000


@dataclass(frozen=True)
class Member:
    """One file of the bundle, decompressed: `path` has no leading slash."""

    path: str
    data: bytes
    mtime: float
    stored_size: int
    warnings: tuple[str, ...] = ()


@dataclass
class Bundle:
    """A bundle being read: its identity from the file name and the warnings so far."""

    path: Path
    host_hint: str | None
    collected_at: datetime | None
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name


def describe(path: Path) -> Bundle:
    """Identify a bundle from its name, as `ovs collect logs` writes it (host and time)."""
    if not path.exists():
        raise UserError(f"{path}: no such file or directory")
    m = _BUNDLE_NAME.match(path.name)
    host = m.group("host") if m else None
    collected = None
    if m and m.group("stamp"):
        digits = re.sub(r"\D", "", m.group("stamp"))
        collected = datetime.strptime(digits, "%Y%m%d%H%M%S")
    return Bundle(path=path, host_hint=host, collected_at=collected)


def iter_members(bundle: Bundle, caps: Caps = Caps()) -> Iterator[Member]:
    """Yield the bundle's regular files in archive order, decompressing `.gz` members."""
    if bundle.path.is_dir():
        yield from _iter_directory(bundle, caps)
        return
    try:
        archive = tarfile.open(bundle.path, mode="r|*")  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise UserError(f"{bundle.path}: not a readable tar archive ({_why(exc)})") from None
    total = 0
    count = 0
    with archive:
        while True:
            try:
                info = archive.next()
            except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
                bundle.warnings.append(f"archive damaged after {count} members: {_why(exc)}; "
                                       "everything before the damage was analyzed")
                return
            if info is None:
                return
            if not info.isfile():
                continue
            count += 1
            if count > caps.max_members:
                bundle.warnings.append(f"more than {caps.max_members} members: the rest was skipped")
                return
            name = normalize_member_name(info.name)
            if name is None:
                bundle.warnings.append(f"member {info.name!r}: unsafe name, skipped")
                continue
            stream = archive.extractfile(info)
            if stream is None:
                continue
            try:
                raw = _read_blocks(stream, caps.max_member_bytes + 1)
            except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
                bundle.warnings.append(f"member {name}: cut short ({_why(exc)}); archive damaged here")
                return
            member = _decoded(name, raw, info.mtime, caps)
            total += len(member.data)
            if total > caps.max_total_bytes:
                bundle.warnings.append(f"more than {caps.max_total_bytes} bytes inflated: the rest was skipped")
                return
            yield member
            del member, raw  # a large member's bytes go before the next member's are read


def _read_blocks(stream: IO[bytes], limit: int) -> bytes:
    """Up to `limit` bytes, read a block at a time into one growing buffer.

    A single huge read makes tarfile's stream reader hold the member three times over in small
    pieces, and joining blocks holds it twice; `BytesIO` grows in place and hands its buffer over.
    """
    buffer = io.BytesIO()
    size = 0
    while size < limit and (block := stream.read(min(_READ_BLOCK, limit - size))):
        buffer.write(block)
        size += len(block)
    return buffer.getvalue()


def normalize_member_name(name: str) -> str | None:
    """Strip a leading `/` or `./`; refuse names that climb out with `..`."""
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("/", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def _iter_directory(bundle: Bundle, caps: Caps) -> Iterator[Member]:
    root = bundle.path
    for count, path in enumerate(sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())):
        if count >= caps.max_members:
            bundle.warnings.append(f"more than {caps.max_members} files: the rest was skipped")
            return
        with path.open("rb") as fh:
            raw = fh.read(caps.max_member_bytes + 1)
        yield _decoded(path.relative_to(root).as_posix(), raw, path.stat().st_mtime, caps)


def _decoded(name: str, raw: bytes, mtime: float, caps: Caps) -> Member:
    """Inflate a gzip member within the cap; keep what was readable if it is damaged."""
    warnings: list[str] = []
    data = raw
    if len(raw) > caps.max_member_bytes:
        data = raw[: caps.max_member_bytes]
        warnings.append(f"larger than {caps.max_member_bytes} bytes: truncated")
    if name.endswith(".gz") and raw[:2] == b"\x1f\x8b":
        with stage("decompress"):
            data, more = _gunzip(raw, caps.max_member_bytes)
        warnings.extend(more)
    return Member(path=name, data=data, mtime=mtime, stored_size=len(raw), warnings=tuple(warnings))


def _gunzip(raw: bytes, limit: int) -> tuple[bytes, list[str]]:
    inflater = zlib.decompressobj(wbits=47)
    try:
        data = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        return b"", [f"gzip data damaged ({exc}); member skipped"]
    if len(data) > limit:
        return data[:limit], [f"inflates past {limit} bytes: truncated"]
    if not inflater.eof:
        return data, ["gzip stream cut short: analyzed up to the damage"]
    return data, []


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
