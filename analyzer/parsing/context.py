"""What parsing a member needs beyond its lines: the bundle's date, and what one chunk hands the next."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ChunkCarry:
    """What one chunk of a member hands the next, so the chunks read as one file.

    `years` holds, per year-less format, the last stamp read (microseconds since the epoch, local
    time) and the years added at Dec -> Jan roll-overs so far; `stepped_back` the formats whose
    stamps were moved back a year. The compiled core reads and updates both (core/matching.rs).
    """

    host: str | None = None
    years: dict[str, tuple[int | None, int]] = field(default_factory=dict)
    stepped_back: set[str] = field(default_factory=set)

    def restore(self, saved: ChunkCarry) -> None:
        """Go back to `saved`, in place (the chunker holds this object): a chunk matched again
        must not roll its years over twice."""
        self.host, self.years, self.stepped_back = saved.host, saved.years, saved.stepped_back


@dataclass(frozen=True)
class ParseContext:
    """What the bundle knows that a member alone does not: its rough date."""

    year: int | None = None
    collected_at: datetime | None = None
    #: The zone of the member's zone-less stamps, when the member states it (a journal header).
    naive_offset: int | None = None
    #: Set while a member is parsed in chunks (see `parse_chunks`).
    carry: ChunkCarry | None = field(default=None, compare=False)
