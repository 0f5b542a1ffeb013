"""A large member read while it is parsed: newline-aligned, cleaned blocks instead of one buffer.

Holding a member whole costs its size: a 1.3 GB journal alone would break the 2 GiB budget of a
4 GiB bundle, and a rotated `.gz` copy inflates to ten times what it stores. A member larger
than `Caps.stream_bytes` (default `STREAM_BYTES`), or a compressed one that may inflate past it,
is therefore handed on as a stream of blocks of whole lines, inflated and cleaned like a whole
member (NUL runs, over-long lines), and read once by the parser. A rotation copy is trimmed as
it streams (`OverlapTrimmer.start`): the lines it repeats of a copy read before are dropped from
its first block, and its last `EDGE_BYTES_NEEDED` bytes are held back until its end tells which
of its last lines repeat one. Only a copy that starts as a copy read before does (and so may be
the same) is gathered whole, to be told by its whole.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterator
from itertools import chain

from analyzer.reading.archive import Entry, Limits, ReadResult, inflate_steps, read_steps
from analyzer.reading.rotation import EDGE_BYTES_NEEDED, OverlapTrimmer, drop_head, drop_tail
from analyzer.reading.text import as_utf8, clean_block, cleaning_notes, line_blocks, looks_binary
from analyzer.timings import lane, timed

#: Members larger than this are streamed: one larger than a block is parsed a chunk at a time anyway,
#: and held whole it would weigh its size beside the events of its chunks.
STREAM_BYTES = 16 << 20
#: About how much text each block holds (it ends at the first newline after this much).
BLOCK_BYTES = 16 << 20
_END = object()


class TextStream:
    """A member's text as blocks, read once; `notes`, `size`, `stored_size` are final once the
    blocks are exhausted (`drain` exhausts what the consumer left) and `first_line` once the first
    block is read; `result` says why reading stopped. The member is inflated on the way when
    `compressed`, and trimmed against the copies of its rotation set that `trimmer` has seen."""

    def __init__(self, entry: Entry, limits: Limits, max_line_bytes: int, trimmer: OverlapTrimmer, path: str,
                 compressed: bool = False) -> None:
        self.result = ReadResult(b"")
        self.notes: list[str] = []
        self.size = 0
        self.stored_size = 0
        #: The stored file's line number of the text's first line (lines a copy read before holds are dropped).
        self.first_line = 1
        self._limits = limits
        self._steps = read_steps(entry, limits, self.result)
        self._compressed = compressed
        self._inflating: list[str] = []  # what inflating said
        self._decoding: list[str] = []  # what reading it as UTF-8 said
        self._max_line_bytes = max_line_bytes
        self._trimmer, self._path = trimmer, path
        self._overlap: str | None = None
        self._binary: bool | None = None
        self._nuls = self._cut = 0
        self._cleaned_size = 0  # bytes of text before any line was dropped
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
        for block in self._trimmed(self._blocks_of_lines()):
            self.size += len(block)
            yield block
        # as a member read whole: reading, inflating, cleaning, then trimming notes (`Member.warnings`)
        self.notes.extend(n for n in (self.result.stopped, self.result.damage) if n)  # in place
        self.notes.extend(self._inflating)
        self.notes.extend(self._decoding)
        self.notes.extend(cleaning_notes(self._nuls, self._cut, self._max_line_bytes))
        if self._overlap:
            self.notes.append(self._overlap)

    def _blocks_of_lines(self) -> Iterator[bytes]:
        """The text in cleaned blocks of whole lines, each about `BLOCK_BYTES`."""
        pending: list[bytes] = []
        pending_size = 0
        for chunk in self._text_steps():
            newline = chunk.rfind(b"\n")
            if newline < 0 or pending_size + len(chunk) < BLOCK_BYTES:
                pending.append(chunk)
                pending_size += len(chunk)
                continue
            block = b"".join([*pending, chunk[:newline + 1]])
            pending, pending_size = [chunk[newline + 1:]], len(chunk) - newline - 1
            yield self._cleaned_block(block)
        rest = b"".join(pending)
        if rest:
            yield self._cleaned_block(rest)

    def _text_steps(self) -> Iterator[bytes]:
        """The member's text as UTF-8: its bytes as stored, inflated if it is compressed."""
        stored = self._stored_steps()
        return as_utf8(inflate_steps(stored, self._limits, self._inflating) if self._compressed else stored,
                       self._decoding)

    def _stored_steps(self) -> Iterator[bytes]:
        for chunk in timed(self._steps, "read"):  # read while parsing: still counted as reading
            self.stored_size += len(chunk)
            yield chunk

    def _cleaned_block(self, block: bytes) -> bytes:
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
        self._cleaned_size += len(block)
        return block

    def _trimmed(self, blocks: Iterator[bytes]) -> Iterator[bytes]:
        """The blocks without the lines the copies of its rotation set read before hold.

        The head is decided on the first blocks: the bytes its lines are compared on, and the
        whole of the last line that may be dropped (a member no larger is trimmed whole). The
        last lines are held back until the end, from the line `EDGE_BYTES_NEEDED` before it:
        those compared with the newer copies' heads, whole."""
        enough = EDGE_BYTES_NEEDED + self._max_line_bytes
        first = []
        for block in blocks:
            first.append(block)
            if sum(map(len, first)) >= enough:
                break
        else:
            yield from self._trimmed_whole(b"".join(first))
            return
        text = b"".join(first)
        copy = self._trimmer.start(self._path, text)
        if copy is None:  # it may be the same as a copy read before: only its whole tells
            yield from self._trimmed_whole(b"".join([text, *blocks]))
            return
        self.first_line = copy.head_dropped + 1
        blocks = chain([drop_head(text, copy.head_dropped)], blocks)
        if copy.alone:  # no copy to repeat: nothing to hold back
            yield from blocks
            copy.end(self._edges[1], self._cleaned_size)
            return
        held = b""  # the last lines read: the end tells which of them repeat a newer copy
        for block in blocks:
            cut = block.rfind(b"\n", 0, max(len(block) - EDGE_BYTES_NEEDED, 0)) + 1
            if cut:
                yield b"".join([held, memoryview(block)[:cut]])
                held = block[cut:]
            else:
                held += block
        dropped, self._overlap = copy.end(self._edges[1], self._cleaned_size)
        yield drop_tail(held, dropped)

    def _trimmed_whole(self, text: bytes) -> Iterator[bytes]:
        """`text`, the member whole, trimmed as a member read whole, in blocks of about `BLOCK_BYTES`."""
        text, dropped, self._overlap = self._trimmer.trim(self._path, text)
        self.first_line = dropped + 1
        yield from line_blocks(text, BLOCK_BYTES)
