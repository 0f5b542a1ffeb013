"""One message, several members: rsyslog and journald write the same entry to several files.

A kernel line lands in `kern.log` and `syslog`; a unit's line in the journal dump and in
`syslog`; rotation leaves the same lines in `syslog` and `syslog.1`. Counting each copy would
double every finding they carry, so copies count once and the preferred copy (the journal,
then the most specific file) is the evidence.
"""

from __future__ import annotations

import polars as pl

JOURNAL_SOURCES = ("var/log/journald.log", "var/log/ovs_journald.log")
_COPY_KEY = ["host", "ts_local", "service", "message"]
#: Members that receive copies of the same syslog/journal entries, best evidence first.
_SYSLOG_FAMILY = (
    r"(^|/)(ovs_)?journald\.log$",
    r"(^|/)kern\.log(\.\d+)?(\.gz)?$",
    r"(^|/)syslog(\.\d+)?(\.gz)?$",
    r"(^|/)messages(\.\d+)?(\.gz)?$",
)


def mark_journal_copies(events: pl.DataFrame) -> pl.DataFrame:
    """An entry rsyslog copied from the journal (same host, instant, ident and message) counts once.

    The journal copy stays `ok` as the evidence; the other copy's `parse_status` becomes
    `duplicate`, so every line is still accounted for but no count sees it twice.
    """
    journal = events.filter(pl.col("source").is_in(JOURNAL_SOURCES) & (pl.col("parse_status") == "ok"))
    if journal.height == 0:
        return events
    keys = journal.select(_COPY_KEY).unique().with_columns(pl.lit(True).alias("_copy"))
    candidate = ~pl.col("source").is_in(JOURNAL_SOURCES) & pl.col("service").is_not_null()
    marked = events.with_row_index("_row").join(keys, on=_COPY_KEY, how="left", nulls_equal=False)
    return marked.sort("_row").with_columns(
        pl.when(candidate & pl.col("_copy").fill_null(False)).then(pl.lit("duplicate"))
        .otherwise(pl.col("parse_status")).alias("parse_status")
    ).drop("_row", "_copy")


def drop_copied_hits(hits: pl.DataFrame) -> pl.DataFrame:
    """Keep one copy of a rule hit that several syslog-family members carry verbatim.

    Only copies in *other* members are dropped: a line repeated within one file is a real
    repetition and keeps counting.
    """
    if hits.height == 0 or "raw" not in hits.columns:
        return hits
    rank = pl.lit(None, dtype=pl.Int32)
    for position, pattern in reversed(list(enumerate(_SYSLOG_FAMILY))):
        rank = pl.when(pl.col("source").str.contains(pattern)).then(pl.lit(position, dtype=pl.Int32)).otherwise(rank)
    ranked = hits.with_columns(rank.alias("_rank"))
    key = ["rule_id", "host", "raw"]
    best_source = pl.col("source").sort_by(["_rank", "source"]).first().over(key)
    keep = pl.col("_rank").is_null() | (pl.col("source") == best_source)
    return ranked.filter(keep).drop("_rank")
