"""Times as every document writes them: ISO 8601 in UTC, to the second, with a Z."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def iso(ts: datetime | None) -> str | None:
    """ISO 8601 UTC with microseconds and a `Z`, the one time format of every output."""
    if ts is None:
        return None
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: Any) -> datetime | None:
    """The inverse of `iso` (any ISO 8601 time; a zone-less one is UTC), aware; None for no time."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def epoch(value: Any) -> float | None:
    """Seconds since the epoch of an ISO 8601 time, as the report's script draws it; None for no time."""
    moment = parse_iso(value)
    return moment.timestamp() if moment else None


def generated_stamp(moment: datetime | None = None) -> str:
    """When a document was generated (now, unless given): to the second, as `generated_at` says it."""
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
