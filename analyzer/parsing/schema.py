"""The event table every parser fills: its columns, their types, and the one scale of levels."""

from __future__ import annotations

import polars as pl

LEVELS = ("trace", "debug", "info", "notice", "warning", "error", "critical")


LEVEL_TYPE = pl.Enum(LEVELS)


_LEVEL_WORDS = {
    "trace": "trace", "debug": "debug", "periodic": "debug", "info": "info", "notice": "notice",
    "notification": "notice", "warning": "warning", "warn": "warning", "error": "error", "err": "error",
    "critical": "critical", "crit": "critical", "fatal": "critical", "alert": "critical", "emerg": "critical",
}


#: Columns of the event table and their types (documented in docs of `ovs-analyzer parse`).
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "host": pl.String(),
    "source": pl.String(),
    "line": pl.UInt32(),
    "ts_local": pl.Datetime("us"),
    "utc_offset": pl.Int16(),
    "producer": pl.String(),
    "format": pl.String(),
    "wrapper": pl.String(),
    "component": pl.String(),
    "level": LEVEL_TYPE,
    "level_raw": pl.String(),
    "pid": pl.String(),
    "thread": pl.String(),
    "service": pl.String(),
    "vpool": pl.String(),
    "message": pl.String(),
    "raw": pl.String(),
    "parse_status": pl.String(),
}


def empty_events() -> pl.DataFrame:
    return pl.DataFrame(schema=EVENT_SCHEMA)


#: Each level word as producers write it: lower case (C++, OCaml), UPPER (Python), Capitalized.
LEVEL_SPELLINGS = {spelt: level for word, level in _LEVEL_WORDS.items()
                    for spelt in (word, word.upper(), word.capitalize())}

