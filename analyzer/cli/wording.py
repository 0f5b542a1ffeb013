"""How the command line words what it prints: a count ("1 rule", "1,024 lines"), and every line
through `say`, with the customer's control characters made visible."""

from __future__ import annotations

import typer

from analyzer.printable import visible


def say(text: str, err: bool = False, nl: bool = True) -> None:
    """Print a line of the command's output (stderr with `err`), control characters escaped."""
    typer.echo(visible(text), err=err, nl=nl)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and `noun`, singular for exactly one, else `plural` (default: `noun` + "s"); thousands grouped."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
