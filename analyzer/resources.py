"""Where the shipped knowledge (parsers, rules, templates) lives.

In a source checkout they are top-level folders beside `analyzer/`, where support engineers
edit them; in an installed wheel they are packed under `analyzer/_shipped/`. The build
(maturin, see pyproject.toml) can only pack files under the path they have in the checkout, so
the checkout holds `analyzer/_shipped/<name>` as symlinks to `../../<name>` and the wheel gets
real folders there. One lookup serves both so nothing else has to care: the symlink resolves to
the top-level folder (paths in messages name the file engineers edit), and a checkout without
symlinks (e.g. git's `core.symlinks=false`) falls back to the top-level folder itself.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """Return the folder of shipped `parsers`, `rules` or `report_templates`."""
    inside_wheel = _PACKAGE / "_shipped" / name
    if inside_wheel.is_dir():
        return inside_wheel.resolve()
    return _PACKAGE.parent / name
