"""Rotation sets: `x.log`, `x.log.1`, `x.log.2.gz`, `<vpool>.log.2016-03-01.gz` are one log.

logrotate numbers copies (`.1` newest, `delaycompress` leaves `.1` plain), the volumedriver
renames its file to `<name>.YYYY-MM-DD` at midnight and a cron job gzips it, upstart job logs
rotate as `<job>.log.N.gz`, `dmesg` as `dmesg.0`, `dmesg.N.gz`. A copy taken while a rotation
ran repeats lines of its neighbour; `OverlapTrimmer` finds those lines by hashing the head
and tail of every copy and drops them from the copy read second, so they count once.

Only a copy's edges decide: lines it repeats of an older copy's tail are among its first
lines, lines it repeats of a newer copy's head among its last. So a copy read as a stream is
trimmed as it is read (`OverlapTrimmer.start`): its head when it starts, its tail when it ends.
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


#: Bytes of each end of a copy in its fingerprint: two copies of the same content share them.
_FINGERPRINT_EDGE = 1 << 16


@dataclass
class _Edges:
    order: tuple[int, str]
    head: list[int]
    tail: list[int]
    digest: bytes
    #: The hash of the copy's first `_FINGERPRINT_EDGE` bytes: a copy with the same content has it too.
    head_key: bytes = b""


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
        self._by_head_key: dict[bytes, list[str]] = {}
        self._by_last_line: dict[int, set[str]] = {}
        self._by_first_line: dict[int, set[str]] = {}

    def add(self, path: str, edges: _Edges) -> None:
        self.remove(path)
        self.edges[path], self._read[path], self._count = edges, self._count, self._count + 1
        self._by_digest.setdefault(edges.digest, []).append(path)
        self._by_head_key.setdefault(edges.head_key, []).append(path)
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
        self._by_head_key[edges.head_key].remove(path)
        if edges.head:
            self._by_first_line[edges.head[0]].discard(path)
        if edges.tail:
            self._by_last_line[edges.tail[-1]].discard(path)

    def same_as(self, digest: bytes) -> str | None:
        """The first copy read of this content, if any."""
        return next(iter(self._by_digest.get(digest, ())), None)

    def may_repeat(self, head_key: bytes) -> bool:
        """Whether a copy read before starts as a copy with this head key does (so it may be the same)."""
        return bool(self._by_head_key.get(head_key))

    def ending_in(self, lines: list[int]) -> list[str]:
        """In the order read, the copies whose last line is one of `lines` (only their tail can be
        the start of a copy whose first lines these are)."""
        return self._in_order(self._by_last_line, lines)

    def starting_in(self, lines: list[int]) -> list[str]:
        """In the order read, the copies whose first line is one of `lines`."""
        return self._in_order(self._by_first_line, lines)

    def _in_order(self, index: dict[int, set[str]], lines: list[int]) -> list[str]:
        found: set[str] = set()
        for line in set(lines):
            found |= index.get(line, set())
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
            copies.add(path, _Edges(rotation.order, [], [], digest, _head_key(data)))
            return b"", 0, f"same content as {same}: counted once"
        copy = CopyTrimming(copies, path, data)
        tail_dropped, note = copy.end(data, len(data))
        return drop_tail(drop_head(data, copy.head_dropped), tail_dropped), copy.head_dropped, note

    def start(self, path: str, head: bytes) -> CopyTrimming | None:
        """The trimming of a copy read as a stream, from its first bytes (at least
        `EDGE_BYTES_NEEDED`), or None when a copy read before starts as it does: whether the
        two are the same (and this one counts for nothing) only the whole copy tells, so read
        it whole and `trim` it."""
        copies = self.seen.setdefault(rotation_of(path).base, _Copies())
        copies.remove(path)
        return None if copies.may_repeat(_head_key(head)) else CopyTrimming(copies, path, head)


class CopyTrimming:
    """The trimming of a copy as it is read, as `OverlapTrimmer.trim` trims it whole:
    `head_dropped` lines repeat the tail of an older copy (known from its first bytes), and `end`
    tells how many of its last lines repeat the head of a newer one. The copy joins the set when
    it ends."""

    def __init__(self, copies: _Copies, path: str, head: bytes) -> None:
        self._copies, self._path = copies, path
        self._order = rotation_of(path).order
        self._head = head[:_FINGERPRINT_EDGE]
        self._head_lines = _line_hashes(head, EDGE_LINES)
        #: No other copy of the set was read: nothing can be dropped (its lines need not be held back).
        self.alone = not copies.edges
        self.head_dropped, self._head_from = 0, ""
        for other_path in copies.ending_in(self._head_lines):
            other = copies.edges[other_path]
            k = _overlap(other.tail, self._head_lines) if other.order < self._order else 0
            if k > self.head_dropped:
                self.head_dropped, self._head_from = k, other_path

    def end(self, tail: bytes, size: int) -> tuple[int, str | None]:
        """From the copy's last bytes (at least `EDGE_BYTES_NEEDED`, before any line was dropped)
        and its size: the number of its last lines to drop, and the note on what was dropped."""
        tail_lines = _line_hashes(tail, -EDGE_LINES)
        tail_dropped, tail_from = 0, ""
        for other_path in self._copies.starting_in(tail_lines):
            other = self._copies.edges[other_path]
            k = _overlap(tail_lines, other.head) if other.order > self._order else 0
            if k > tail_dropped:
                tail_dropped, tail_from = k, other_path
        self._copies.add(self._path, _Edges(self._order, self._head_lines, tail_lines,
                                            _fingerprint(size, self._head, tail), _head_key(self._head)))
        notes = []
        if self.head_dropped:
            notes.append(f"first {self.head_dropped} line(s) repeat the end of {self._head_from}")
        if tail_dropped:
            notes.append(f"last {tail_dropped} line(s) repeat the start of {tail_from}")
        return tail_dropped, ("; ".join(notes) + ": counted once") if notes else None


#: Bytes of a copy's head and tail that its trimming needs (the compared bytes and a final newline).
EDGE_BYTES_NEEDED = _EDGE_BYTES + 1


def _fingerprint(size: int, head: bytes, tail: bytes) -> bytes:
    """Size, head and tail: equal for identical copies, and cheap on a GB member."""
    edge = _FINGERPRINT_EDGE
    return hashlib.blake2b(size.to_bytes(8, "little") + head[:edge] + tail[-edge:], digest_size=16).digest()


def _head_key(head: bytes) -> bytes:
    return hashlib.blake2b(head[:_FINGERPRINT_EDGE], digest_size=16).digest()


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


def drop_head(data: bytes, lines: int) -> bytes:
    """`data` without its first `lines` lines."""
    pos = 0
    for _ in range(lines):
        pos = data.find(b"\n", pos) + 1
        if pos == 0:
            return b""
    return data[pos:]


def drop_tail(data: bytes, lines: int) -> bytes:
    """`data` without its last `lines` lines (the final newline does not end an empty one)."""
    end = len(data) - 1 if data.endswith(b"\n") else len(data)
    for _ in range(lines):
        end = data.rfind(b"\n", 0, end)
        if end == -1:
            return b""
    return data[: end + 1]
