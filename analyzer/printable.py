"""Customer text made safe to print on a terminal.

Log lines, member and bundle names are the customer's bytes: an escape sequence among them, echoed
as is, would retitle the support engineer's terminal, clear it, move the cursor over what was
printed, or (with a bidirectional override) show text in another order than it is stored. Every
line the command line prints from a bundle goes through `visible`.
"""

from __future__ import annotations

import re

#: C0 controls but tab and newline, DEL, C1 controls, and the bidirectional marks and overrides.
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """`text` with each control character written as its escape (`\\x1b`, `\\u202e`); a CRLF line end
    (a file written on Windows, such as a rule shown by `rules show`) is a line end."""
    return _HIDDEN.sub(_escape, text.replace("\r\n", "\n"))


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
