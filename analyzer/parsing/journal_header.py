"""What a journal dump's first line says: the year and the zone of its year-less, zone-less stamps.

`journalctl` writes `-- Logs begin at <Day YYYY-MM-DD HH:MM:SS ZONE>, end at <...>. --` (newer
releases `-- Journal begins at ..., ends at ... --`). Without it, journal stamps take their year
from the bundle's date and their zone from the node's zoned lines. The zone names it may state
are data in `parsers/knowledge/zones.yaml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from analyzer.datafiles import load_mapping
from analyzer.parsing.knowledge import knowledge_file

_HEADER = re.compile(
    rb"^-- (?:Logs begin|Journal begins) at \w+ (?P<year>\d{4})-\d\d-\d\d \d\d:\d\d:\d\d (?P<begin>[A-Za-z][\w+-]*),"
    rb" ends? at \w+ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d (?P<end>[A-Za-z][\w+-]*)\.? --"
)
_YEAR_ONLY = re.compile(rb"^-- (?:Logs begin|Journal begins) at \w+ (?P<year>\d{4})-")


@dataclass(frozen=True)
class JournalHeader:
    year: int | None
    #: Minutes east of UTC of the dump's stamps, when the header names one unambiguous zone.
    offset: int | None


@cache
def zone_offsets() -> dict[str, int]:
    """`parsers/knowledge/zones.yaml`: zone name -> minutes east of UTC."""
    return {str(k): int(v) for k, v in load_mapping(knowledge_file("zones"), "zone names")["offsets"].items()}


def read_header(head: bytes) -> JournalHeader:
    """The year and zone the first line of a member states, if it is a journal header."""
    full = _HEADER.match(head[:300])
    if full is None:
        year = _YEAR_ONLY.match(head[:300])
        return JournalHeader(int(year.group("year")) if year else None, None)
    begin, end = full.group("begin").decode(), full.group("end").decode()
    offset = zone_offsets().get(begin) if begin == end else None
    return JournalHeader(int(full.group("year")), offset)
