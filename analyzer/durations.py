"""Durations as rule and knowledge files write them (`30s`, `10m`, `1h`, `2d`), and back for sentences."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from analyzer.errors import UserError

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)$")


_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_seconds(path: Path, where: str, value: Any) -> float:
    """`30s`, `10m`, `1h`, `2d` -> seconds."""
    m = _DURATION.match(str(value).strip())
    if not m:
        raise UserError(f"{path}: {where} must be a duration like 30s, 10m, 1h or 2d, not {value!r}")
    return float(m.group(1)) * _SECONDS[m.group(2)]


def duration_label(seconds: float) -> str:
    """The inverse of `duration_seconds`, for sentences: 600 -> `10m`."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
