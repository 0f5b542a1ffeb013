"""How the command line words a count: "1 rule", "2 rules", "1,024 lines"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and `noun`, singular for exactly one, else `plural` (default: `noun` + "s"); thousands grouped."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
