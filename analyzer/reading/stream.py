"""A large member read while it is parsed: newline-aligned, cleaned blocks instead of one buffer.

Holding a member whole costs its size: a 1.3 GB journal alone would break the 2 GiB budget of a
4 GiB bundle. A member larger than `Caps.stream_bytes` (default `STREAM_BYTES`) is therefore
handed on as a stream of blocks of whole lines, cleaned like a whole member (NUL runs, over-long
lines), and read once by the parser; only its head and tail are kept, for the rotation copies
read after it. A member that
must be trimmed against a copy read before it (rotation overlap) is still read whole, since its
tail must be known before its lines are counted.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterator

from analyzer.reading.archive import Entry, Limits, ReadResult, read_steps
from analyzer.reading.rotation import EDGE_BYTES_NEEDED
from analyzer.reading.text import clean_block, cleaning_notes, looks_binary
from analyzer.timings import lane, timed

#: Members larger than this are streamed.
STREAM_BYTES = 64 << 20
#: About how much text each block holds (it ends at the first newline after this much).
BLOCK_BYTES = 16 << 20
_END = object()


class TextStream:
    """A member's text as blocks, read once; `notes`, `size` and `stored_size` are final once the
    blocks are exhausted (`drain` exhausts what the consumer left), `result` says why reading stopped.
    `on_end(head, tail, size)` hears the text's edges then."""

    def __init__(self, entry: Entry, limits: Limits, max_line_bytes: int,
                 on_end: Callable[[bytes, bytes, int], None]) -> None:
        self.result = ReadResult(b"")
        self.notes: list[str] = []
        self.size = 0
        self.stored_size = 0
        self._steps = read_steps(entry, limits, self.result)
        self._max_line_bytes = max_line_bytes
        self._on_end = on_end
        self._binary: bool | None = None
        self._nuls = self._cut = 0
        self._edges = [b"", b""]  # the text's first and last EDGE_BYTES_NEEDED bytes
        self._stop = threading.Event()
        self._reader: threading.Thread | None = None
        self._blocks = self._read_ahead()
        self._first: bytes | None = None

    def head(self) -> bytes:
        """The first block (read now if need be; still handed out first by iteration)."""
        if self._first is None:
            self._first = next(self._blocks, b"")
        return self._first

    def __iter__(self) -> Iterator[bytes]:
        first = self.head()
        self._first = b""
        if first:
            yield first
        yield from self._blocks

    def drain(self) -> None:
        for _ in self:
            pass

    def close(self) -> None:
        """Stop reading ahead (the consumer gave up on this member)."""
        self._stop.set()
        if self._reader is not None:
            self._reader.join()

    def _read_ahead(self) -> Iterator[bytes]:
        """The blocks, read one ahead on a helper thread: tarfile, inflating and cleaning the next
        block run while this one is parsed (both release the GIL for most of their work)."""
        handoff: queue.Queue[object] = queue.Queue(maxsize=1)

        def hand(item: object) -> bool:
            """Hand `item` over once there is room; False once the consumer gave up."""
            while not self._stop.is_set():
                try:
                    handoff.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def read() -> None:
            with lane("read-ahead thread"):
                try:
                    for block in self._read():
                        if not hand(block):
                            return
                    hand(_END)
                except BaseException as exc:  # handed to the consumer, raised there
                    hand(exc)

        self._reader = threading.Thread(target=contextvars.copy_context().run, args=(read,),
                                        name="ovs-read-ahead", daemon=True)
        self._reader.start()
        try:
            while (item := handoff.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                yield item  # type: ignore[misc]
            self._reader.join()
        finally:  # closed or failed half-way: the reader must not wait for a consumer that is gone
            self._stop.set()

    def _read(self) -> Iterator[bytes]:
        pending: list[bytes] = []
        pending_size = 0
        for chunk in timed(self._steps, "read"):  # read while parsing: still counted as reading
            self.stored_size += len(chunk)
            newline = chunk.rfind(b"\n")
            if newline < 0 or pending_size + len(chunk) < BLOCK_BYTES:
                pending.append(chunk)
                pending_size += len(chunk)
                continue
            block = b"".join([*pending, chunk[:newline + 1]])
            pending, pending_size = [chunk[newline + 1:]], len(chunk) - newline - 1
            yield self._cleaned(block)
        rest = b"".join(pending)
        if rest:
            yield self._cleaned(rest)
        self.notes.extend(n for n in (self.result.stopped, self.result.damage) if n)  # in place: Member.warnings
        self.notes.extend(cleaning_notes(self._nuls, self._cut, self._max_line_bytes))
        self._on_end(*self._edges, self.size)

    def _cleaned(self, block: bytes) -> bytes:
        """The block as a whole member is cleaned (a binary member, told by its first block, is left as is)."""
        if self._binary is None:
            self._binary = looks_binary(block)
        if not self._binary:
            block, nuls, cut = clean_block(block, self._max_line_bytes)
            self._nuls += nuls
            self._cut += cut
        head, tail = self._edges
        if len(head) < EDGE_BYTES_NEEDED:
            head += block[:EDGE_BYTES_NEEDED - len(head)]
        tail = (block if len(block) >= EDGE_BYTES_NEEDED else tail + block)[-EDGE_BYTES_NEEDED:]
        self._edges = [head, tail]
        self.size += len(block)
        return block
