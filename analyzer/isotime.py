"""Times as every document writes them: ISO 8601 in UTC, to the second, with a Z."""

from __future__ import annotations

from datetime import datetime


def iso(ts: datetime | None) -> str | None:
    """ISO 8601 UTC with microseconds and a `Z`, the one time format of every output."""
    if ts is None:
        return None
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
