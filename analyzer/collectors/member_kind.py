"""What a member is, for the inventory: its kind (which producer wrote it), the release era its
formats betray, and the rotation set it belongs to. Era knowledge is data (`parsers/knowledge/identity.yaml`)."""

from __future__ import annotations

import re

from analyzer.collectors.identity import knowledge
from analyzer.parsing.formats import FormatSpec
from analyzer.reading.rotation import rotation_of


def classify(path: str, formats: dict[str, int], binary: bool,
             specs: list[FormatSpec]) -> tuple[str, str | None, str]:
    """(kind, era or None, rotation set) of one member from its path and the formats its lines matched."""
    rotation_set = rotation_of(path).base
    known = next((kind for pattern, kind in knowledge()["path_kinds"].items() if re.search(pattern, path)), None)
    if binary:
        return "binary", None, rotation_set
    if not formats:
        return known or "unrecognised", None, rotation_set
    producers = {s.id: s.producer for s in specs}
    dominant = max(sorted(formats), key=lambda f: formats[f])
    kind = known or producers.get(dominant, dominant)
    eras = knowledge()["format_eras"]
    era = "; ".join(eras[f] for f in sorted(formats, key=lambda f: -formats[f]) if f in eras) or None
    return kind, era, rotation_set
