"""Where the shipped knowledge (parsers, rules, templates) lives.

In a source checkout they are top-level folders beside `analyzer/`, where support engineers
edit them; in an installed wheel they are packed under `analyzer/_shipped/` (see the
force-include in pyproject.toml). One lookup serves both so nothing else has to care.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """Return the folder of shipped `parsers`, `rules` or `report_templates`."""
    inside_wheel = _PACKAGE / "_shipped" / name
    if inside_wheel.is_dir():
        return inside_wheel
    return _PACKAGE.parent / name
