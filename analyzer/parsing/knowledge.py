"""Read the support knowledge of `parsers/knowledge/*.yaml` (task signatures, expected services).

These files are data support engineers review, like the formats beside them; they live in a
subfolder so `analyzer.parsing.formats.load_formats`, which reads `parsers/*.yaml`, never takes them
for log formats. Regexes run with the same Rust engine (through Polars) as the analysis.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, wraps
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from analyzer.errors import UserError
from analyzer.resources import shipped_dir

T = TypeVar("T")


def knowledge_file(name: str) -> Path:
    """The shipped `parsers/knowledge/<name>.yaml`."""
    return shipped_dir("parsers") / "knowledge" / f"{name}.yaml"


def shipped_once(name: str) -> Callable[[Callable[[Path], T]], Callable[..., T]]:
    """A reader of a knowledge file that, called with no path, reads the shipped
    `parsers/knowledge/<name>.yaml` once per process (a triage worker builds its collectors again
    for every bundle), and reads a path given at every call (a file being edited stays current)."""
    def decorate(read: Callable[[Path], T]) -> Callable[..., T]:
        shipped = cache(lambda: read(knowledge_file(name)))

        @wraps(read)
        def reader(path: Path | None = None) -> T:
            return shipped() if path is None else read(path)
        return reader
    return decorate


def regex_groups(path: Path, where: str, pattern: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """The named groups of `pattern`, which must compile (Rust syntax) and name only `allowed` groups."""
    try:
        dtype = pl.Series([""]).str.extract_groups(pattern).dtype
    except pl.exceptions.PolarsError as exc:
        raise UserError(f"{path}: {where}: regex does not compile: {' '.join(str(exc).split())}") from None
    names = tuple(f.name for f in dtype.fields)  # type: ignore[attr-defined]
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        raise UserError(f"{path}: {where}: unknown group(s) {unknown}; allowed: {', '.join(allowed)}")
    return names


def examples_of(path: Path, where: str, value: Any) -> tuple[dict[str, Any], ...]:
    """`examples: [{line: ..., expect: {...}}]`, each a real-shaped log line and what it must yield."""
    if not isinstance(value, list) or not value:
        raise UserError(f"{path}: {where} needs examples (a list of {{line, expect}})")
    for example in value:
        if not isinstance(example, dict) or not isinstance(example.get("line"), str):
            raise UserError(f"{path}: {where}: every example needs a 'line' string")
    return tuple(value)


