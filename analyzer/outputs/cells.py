"""Text for a spreadsheet cell that stays text: the CSV outputs are opened in Excel or LibreOffice,
and their cells hold what customers' logs and file names say."""

from __future__ import annotations

from typing import Any

#: A cell starting with one of these is read as a formula (CSV injection): `=HYPERLINK(...)`.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: Any) -> str:
    """`value` as text, prefixed with `'` where a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
