"""Rotation sets: `x.log`, `x.log.1`, `x.log.2.gz`, `<vpool>.log.2016-03-01.gz` are one log.

logrotate numbers copies (`.1` newest, `delaycompress` leaves `.1` plain), the volumedriver
renames its file to `<name>.YYYY-MM-DD` at midnight and a cron job gzips it, upstart job logs
rotate as `<job>.log.N.gz`, `dmesg` as `dmesg.0`, `dmesg.N.gz`. A copy taken while a rotation
ran repeats lines of its neighbour; `OverlapTrimmer` finds those lines by hashing the head
and tail of every copy and drops them from the copy read second, so they count once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

_ROTATED = re.compile(
    r"^(?P<base>.+?)(?:\.(?P<n>\d{1,4})|[.-](?P<date>\d{4}-?\d\d-?\d\d))?(?P<zip>\.gz|\.bz2|\.xz)?$"
)
#: Lines of each copy's head and tail compared with its neighbours.
EDGE_LINES = 2000
#: Bytes looked at for those lines (longer lines just mean fewer are compared).
_EDGE_BYTES = EDGE_LINES * 512
_BLANK = hash(b"")


@dataclass(frozen=True)
class Rotation:
    """Which log a member belongs to and where it sits among its copies (oldest sorts first)."""

    base: str
    order: tuple[int, str]

    @property
    def is_copy(self) -> bool:
        return self.order != (2, "")


def rotation_of(path: str) -> Rotation:
    """The set a member path belongs to; a path with no rotation suffix is its own current copy."""
    m = _ROTATED.match(path)
    if m is None or (m.group("n") is None and m.group("date") is None and m.group("zip") is None):
        return Rotation(path, (2, ""))
    if m.group("date"):
        return Rotation(m.group("base"), (0, m.group("date").replace("-", "")))
    if m.group("n") is not None:
        return Rotation(m.group("base"), (1, f"{9999 - int(m.group('n')):04d}"))
    return Rotation(m.group("base"), (2, ""))


@dataclass
class _Edges:
    order: tuple[int, str]
    head: list[int]
    tail: list[int]
    digest: bytes


class _Copies:
    """The copies of one rotation set read so far, in the order read, indexed by their first and
    last lines: the head of a copy can repeat the tail of an older one only if that one's last
    line is among its first lines (and its tail the head of a newer one only if that one's first
    line is among its last lines), so a set of thousands of copies compares each new one with
    those few, not with all."""

    def __init__(self) -> None:
        self.edges: dict[str, _Edges] = {}
        self._read: dict[str, int] = {}  # path -> when it was read (a copy read again moves last)
        self._count = 0
        self._by_digest: dict[bytes, list[str]] = {}
        self._by_last_line: dict[int, set[str]] = {}
        self._by_first_line: dict[int, set[str]] = {}

    def add(self, path: str, edges: _Edges) -> None:
        self.remove(path)
        self.edges[path], self._read[path], self._count = edges, self._count, self._count + 1
        self._by_digest.setdefault(edges.digest, []).append(path)
        if edges.head:
            self._by_first_line.setdefault(edges.head[0], set()).add(path)
        if edges.tail:
            self._by_last_line.setdefault(edges.tail[-1], set()).add(path)

    def remove(self, path: str) -> None:
        edges = self.edges.pop(path, None)
        if edges is None:
            return
        del self._read[path]
        self._by_digest[edges.digest].remove(path)
        if edges.head:
            self._by_first_line[edges.head[0]].discard(path)
        if edges.tail:
            self._by_last_line[edges.tail[-1]].discard(path)

    def same_as(self, digest: bytes) -> str | None:
        """The first copy read of this content, if any."""
        return next(iter(self._by_digest.get(digest, ())), None)

    def overlapping(self, edges: _Edges) -> list[str]:
        """In the order read, the copies `edges` may overlap: those whose last line is among its
        first lines, and those whose first line is among its last lines."""
        found: set[str] = set()
        for line in set(edges.head):
            found |= self._by_last_line.get(line, set())
        for line in set(edges.tail):
            found |= self._by_first_line.get(line, set())
        return sorted(found, key=self._read.__getitem__)


@dataclass
class OverlapTrimmer:
    """Drop from each copy the lines its already-read neighbours in the set hold too."""

    seen: dict[str, _Copies] = field(default_factory=dict)

    def trim(self, path: str, data: bytes) -> tuple[bytes, int, str | None]:
        """Return (data without repeated lines, lines dropped from the head, note or None)."""
        rotation = rotation_of(path)
        copies = self.seen.setdefault(rotation.base, _Copies())
        copies.remove(path)
        digest = _fingerprint(len(data), data, data)
        same = copies.same_as(digest) if data else None
        if same is not None:
            copies.add(path, _Edges(rotation.order, [], [], digest))
            return b"", 0, f"same content as {same}: counted once"
        head_dropped = 0
        tail_dropped = 0
        edges = _edges(rotation.order, data, data, digest)
        for other_path in copies.overlapping(edges):  # no other copy shares an edge line with it
            other = copies.edges[other_path]
            if other.order < rotation.order:
                k = _overlap(other.tail, edges.head)
                if k > head_dropped:
                    head_dropped, head_from = k, other_path
            elif other.order > rotation.order:
                k = _overlap(edges.tail, other.head)
                if k > tail_dropped:
                    tail_dropped, tail_from = k, other_path
        copies.add(path, edges)
        notes = []
        if head_dropped:
            data = _drop_head(data, head_dropped)
            notes.append(f"first {head_dropped} line(s) repeat the end of {head_from}")
        if tail_dropped:
            data = _drop_tail(data, tail_dropped)
            notes.append(f"last {tail_dropped} line(s) repeat the start of {tail_from}")
        return data, head_dropped, ("; ".join(notes) + ": counted once") if notes else None

    def alone(self, path: str) -> bool:
        """No other copy of `path`'s rotation set was read yet: nothing to trim it against."""
        copies = self.seen.get(rotation_of(path).base)
        return copies is None or not any(other != path for other in copies.edges)

    def remember(self, path: str, head: bytes, tail: bytes, size: int) -> None:
        """Keep the edges of a copy read as a stream (`head` and `tail`: at least `EDGE_BYTES_NEEDED`
        of its first and last bytes), for the copies read after it."""
        rotation = rotation_of(path)
        self.seen.setdefault(rotation.base, _Copies()).add(
            path, _edges(rotation.order, head, tail, _fingerprint(size, head, tail)))


#: Bytes of a copy's head and tail that `remember` needs (the compared bytes and a final newline).
EDGE_BYTES_NEEDED = _EDGE_BYTES + 1


def _edges(order: tuple[int, str], head: bytes, tail: bytes, digest: bytes) -> _Edges:
    return _Edges(order, _line_hashes(head, EDGE_LINES), _line_hashes(tail, -EDGE_LINES), digest)


def _fingerprint(size: int, head: bytes, tail: bytes) -> bytes:
    """Size, head and tail: equal for identical copies, and cheap on a GB member."""
    edge = 1 << 16
    return hashlib.blake2b(size.to_bytes(8, "little") + head[:edge] + tail[-edge:], digest_size=16).digest()


def _line_hashes(data: bytes, count: int) -> list[int]:
    """Hashes of the first `count` lines (or the last `-count`), without the final empty piece.

    Python's own `hash` is enough: hashes are only compared within one run.
    """
    end = len(data) - 1 if data.endswith(b"\n") else len(data)  # slices, not `data[:-1]`: a GB member is not copied
    if end <= 0:
        return []
    if count > 0:
        lines = data[:min(_EDGE_BYTES, end)].split(b"\n", count)[:count]
    else:
        lines = data[max(0, end - _EDGE_BYTES):end].rsplit(b"\n", -count)[count:]
    return list(map(hash, lines))


def _overlap(older_tail: list[int], newer_head: list[int]) -> int:
    """The longest k with older_tail[-k:] == newer_head[:k], ignoring overlaps of blank lines only."""
    if not newer_head:
        return 0
    first = newer_head[0]
    for i, line in enumerate(older_tail):
        k = len(older_tail) - i
        if line == first and k <= len(newer_head) and older_tail[i:] == newer_head[:k]:
            return 0 if set(newer_head[:k]) == {_BLANK} else k
    return 0


def _drop_head(data: bytes, lines: int) -> bytes:
    pos = 0
    for _ in range(lines):
        pos = data.find(b"\n", pos) + 1
        if pos == 0:
            return b""
    return data[pos:]


def _drop_tail(data: bytes, lines: int) -> bytes:
    end = len(data) - 1 if data.endswith(b"\n") else len(data)
    for _ in range(lines):
        end = data.rfind(b"\n", 0, end)
        if end == -1:
            return b""
    return data[: end + 1]
