"""Load the declarative log-format definitions of `parsers/*.yaml`.

A format is data a support engineer can review: a header regex with named groups, how to
build the timestamp, whether unmatched lines continue the previous record, and sample lines
with the event each must yield (the test suite runs every sample). This module validates a
definition and turns it into a `FormatSpec`; `analyzer.parsing.matching` applies specs to every line at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import polars as pl

from analyzer.datafiles import load_mapping
from analyzer.errors import UserError
from analyzer.resources import shipped_dir

#: Named groups a header may capture that map straight onto event columns.
FIELD_GROUPS = ("host", "pid", "thread", "component", "level", "message", "service")
FRACTION_UNITS = {"us": 1, "ms": 1000, "ms_x100": 10, "tenth_ms": 100}
MULTILINE_MODES = ("continuation", "none")
_OPEN_MESSAGE = "(?P<message>.*)$"
TEMPLATE_FIELD = re.compile(r"\{(\w+)\}")
#: A lazy group closed by ` - `: format C's logger name, which may hold spaces (see `OnePassForm`).
_LAZY_DASHED = re.compile(r"\(\?P<(\w+)>\.\+\?\) - ")
#: A file name closed by ` - `: format D's `<source>/<file>.py` component (see `OnePassForm`).
_PY_NAME = re.compile(r"\(\?P<(\w+)>\\S\+\\\.py\) - ")


@dataclass(frozen=True)
class TimestampRule:
    """How the named groups of a header make a local timestamp and its UTC offset."""

    date: str
    formats: tuple[str, ...]
    fraction: str | None = None
    fraction_unit: str = "us"
    offset: str | None = None
    yearless: bool = False
    utc: bool = False


@dataclass(frozen=True)
class ProducerMap:
    """Producer chosen from a captured group's value (e.g. volumedriver program name)."""

    group: str
    mapping: dict[str, str]
    default: str


@dataclass(frozen=True)
class FormatSpec:
    """One log format: how to recognise a record's first line and read its fields.

    The patterns derived from the header (`head`, `capture`, `one_pass`) are worked out once per
    spec, not for every chunk of every member that is matched against them."""

    id: str
    producer: str
    description: str
    header: str
    timestamp: TimestampRule | None
    multiline: str = "continuation"
    priority: int = 50
    wraps: bool = False
    wraps_component: str | None = None
    compose: dict[str, str] = field(default_factory=dict)
    timeline: bool = True
    producer_by: ProducerMap | None = None
    group_names: tuple[str, ...] = ()
    samples: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    source_file: str = ""

    @cached_property
    def head(self) -> str | None:
        """The header without its trailing `(?P<message>.*)$`, the whole prefix captured as `_head`.

        Capturing costs per byte scanned: matching only the prefix and stripping it off the line
        makes the regex cost follow the prefix, not the line.
        """
        if not (self.header.startswith("^") and self.header.endswith(_OPEN_MESSAGE)):
            return None
        return ascii_digits(f"^(?P<_head>{self.header[1:-len(_OPEN_MESSAGE)]})")

    @cached_property
    def capture(self) -> str:
        """The pattern the parser runs: `head` (else the whole header), every named group that no
        event column, template or timestamp reads made non-capturing. Each captured group is a
        column built per line, so an unused one is paid on every line."""
        used = {*FIELD_GROUPS, *(g for t in self.compose.values() for g in TEMPLATE_FIELD.findall(t))}
        if self.producer_by is not None:
            used.add(self.producer_by.group)
        if self.timestamp is not None:
            used.update(g for g in (self.timestamp.date, self.timestamp.fraction, self.timestamp.offset) if g)
        pattern = self.head or ascii_digits(self.header)
        for name in set(self.group_names) - used:
            pattern = pattern.replace(f"(?P<{name}>", "(?:")
        return pattern

    @cached_property
    def one_pass(self) -> OnePassForm | None:
        """`capture` rewritten so Rust's regex runs it one-pass, its fastest engine; None where the
        header has no idiom that makes the engine backtrack. See `OnePassForm` for the idioms.
        Year-less formats are left alone: their year roll-over is read across one pass's lines."""
        if self.timestamp is not None and self.timestamp.yearless:
            return None
        pattern = self.capture
        trimmed = tuple(_LAZY_DASHED.findall(pattern))
        suffixed = tuple(_PY_NAME.findall(pattern))
        if not trimmed and not suffixed:
            return None
        pattern = _LAZY_DASHED.sub(r"(?P<\1>[^ ]+ (?:[^ -][^ ]* )*)- ", pattern)
        pattern = _PY_NAME.sub(r"(?P<\1>\\S+) - ", pattern)
        return OnePassForm(pattern, trimmed, tuple((name, ".py") for name in suffixed))


@dataclass(frozen=True)
class OnePassForm:
    """A header's capture as the regex engine can run it without backtracking.

    An engine that must backtrack to place a group's end is slower than its one-pass
    engine, where every byte decides the path. Two idioms of the OVS headers need it; the
    core tries this form first and matches the lines it leaves with the header as written:

    - A lazy `(?P<name>.+?) - ` (format C's logger name, which may hold spaces) becomes words
      each followed by its space, no word after the first starting with `-`:
      `(?P<name>[^ ]+ (?:[^ -][^ ]* )*)- `; the group is read minus that last space (`trimmed`).
      Where it matches it is what the lazy group takes: that stops at the first ` - ` after
      which the rest matches, and these words hold no ` -`.
    - `(?P<name>\\S+\\.py) - ` (format D's module file) becomes `(?P<name>\\S+) - `, and a line
      is a hit only if the group ends in `.py` after at least one character (`suffixes`): the
      same token, since neither form lets the group hold a space.
    """

    pattern: str
    trimmed: tuple[str, ...] = ()
    suffixes: tuple[tuple[str, str], ...] = ()


def ascii_digits(pattern: str) -> str:
    """`pattern` with `\\d` as the ASCII digits `[0-9]` (`0-9` inside a class).

    Rust's `\\d` is every Unicode digit: the automaton that captures groups grows with it and runs
    slower on OVS headers. Log stamps, pids and sequence numbers are ASCII (and a stamp
    in other digits would not parse as a time anyway).
    """
    out: list[str] = []
    depth = 0  # classes nest in Rust's syntax: `[[:alpha:]\\d]`
    class_start = -1  # where the open class's items begin: a `]` there is a literal
    i = 0
    while i < len(pattern):
        two = pattern[i:i + 2]
        if two == "\\d":
            out.append("0-9" if depth else "[0-9]")
        elif pattern[i] == "\\":
            out.append(two)
        else:
            char = pattern[i]
            out.append(char)
            if char == "[":
                depth += 1
                class_start = i + 2 if pattern[i + 1:i + 2] == "^" else i + 1
                if class_start == i + 2:
                    out.append("^")
                    i += 1
            elif char == "]" and depth and i != class_start:
                depth -= 1
            i += 1
            continue
        i += 2
    return "".join(out)


def load_formats(directory: Path | None = None) -> list[FormatSpec]:
    """Read and validate every `*.yaml` format in `directory` (default: the shipped ones)."""
    if directory is None:
        return list(_shipped_formats())
    specs = [_spec_from_file(path) for path in sorted(directory.glob("*.yaml"))]
    seen: set[str] = set()
    for spec in specs:
        if spec.id in seen:
            raise UserError(f"{spec.source_file}: format id {spec.id!r} is defined twice")
        seen.add(spec.id)
    return sorted(specs, key=lambda s: (s.priority, s.id))


@cache
def _shipped_formats() -> tuple[FormatSpec, ...]:
    """Read once per process: a triage worker analyzes many bundles with the same formats."""
    return tuple(load_formats(shipped_dir("parsers")))


def _spec_from_file(path: Path) -> FormatSpec:
    doc = load_mapping(path, "format definition")

    def need(key: str) -> Any:
        if key not in doc:
            raise UserError(f"{path}: missing required key {key!r}")
        return doc[key]

    header = str(need("header"))
    groups = _group_names(path, header)
    if "message" not in groups:
        raise UserError(f"{path}: the header regex needs a (?P<message>...) group")
    ts_doc = doc.get("timestamp")
    timestamp = None
    if ts_doc is not None:
        timestamp = TimestampRule(
            date=ts_doc["date"],
            formats=_as_tuple(ts_doc["format"]),
            fraction=ts_doc.get("fraction"),
            fraction_unit=ts_doc.get("fraction_unit", "us"),
            offset=ts_doc.get("offset"),
            yearless=not any("%Y" in f or "%s" in f for f in _as_tuple(ts_doc["format"])),
            utc=bool(ts_doc.get("utc", False)),
        )
        if timestamp.fraction_unit not in FRACTION_UNITS:
            raise UserError(f"{path}: fraction_unit must be one of {sorted(FRACTION_UNITS)}")
        for g in (timestamp.date, timestamp.fraction, timestamp.offset):
            if g is not None and g not in groups:
                raise UserError(f"{path}: timestamp refers to group {g!r} that the header lacks")
    compose = {str(k): str(v) for k, v in doc.get("compose", {}).items()}
    for column, template in compose.items():
        if column not in FIELD_GROUPS:
            raise UserError(f"{path}: compose may only build {FIELD_GROUPS}, not {column!r}")
        missing = set(TEMPLATE_FIELD.findall(template)) - set(groups)
        if missing:
            raise UserError(f"{path}: compose {column!r} refers to groups {sorted(missing)} that the header lacks")
    multiline = doc.get("multiline", "continuation")
    if multiline not in MULTILINE_MODES:
        raise UserError(f"{path}: multiline must be one of {MULTILINE_MODES}")
    producer_by = None
    if "producer_by" in doc:
        pb = doc["producer_by"]
        if pb["group"] not in groups:
            raise UserError(f"{path}: producer_by refers to group {pb['group']!r} that the header lacks")
        producer_by = ProducerMap(group=pb["group"], mapping=dict(pb.get("map", {})),
                                  default=pb.get("default", need("producer")))
    return FormatSpec(
        id=str(need("id")),
        producer=str(need("producer")),
        description=str(doc.get("description", "")).strip(),
        header=header,
        timestamp=timestamp,
        multiline=multiline,
        priority=int(doc.get("priority", 50)),
        wraps=bool(doc.get("wraps", False)),
        wraps_component=doc.get("wraps_component"),
        compose=compose,
        timeline=bool(doc.get("timeline", True)),
        producer_by=producer_by,
        group_names=groups,
        samples=tuple(doc.get("samples", ())),
        source_file=str(path),
    )


def _as_tuple(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _group_names(path: Path, pattern: str) -> tuple[str, ...]:
    """Compile the header with the same engine that will run it (Rust regex via Polars)."""
    try:
        extracted = pl.Series([""]).str.extract_groups(pattern)
    except pl.exceptions.PolarsError as exc:
        raise UserError(f"{path}: header regex does not compile: {exc}") from None
    return tuple(f.name for f in extracted.dtype.fields)  # type: ignore[attr-defined]
