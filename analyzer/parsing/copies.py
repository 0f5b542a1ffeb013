"""One message, several members: rsyslog and journald write the same entry to several files.

A kernel line lands in `kern.log` and `syslog`; a unit's line in the journal dump and in
`syslog`; rotation leaves the same lines in `syslog` and `syslog.1`. Counting each copy would
double every finding they carry, so copies count once and the preferred copy (the journal,
then the most specific file) is the evidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

from analyzer.frames import detached

JOURNAL_SOURCES = ("var/log/journald.log", "var/log/ovs_journald.log")
_COPY_KEY = ["host", "ts_local", "service", "message"]
#: The files rsyslog writes journal entries to, most specific first.
_RSYSLOG_FILES = (
    r"(^|/)kern\.log(\.\d+)?(\.gz)?$",
    r"(^|/)daemon\.log(\.\d+)?(\.gz)?$",
    r"(^|/)auth\.log(\.\d+)?(\.gz)?$",  # the auth facility: sshd, sudo, CRON sessions
    r"(^|/)syslog(\.\d+)?(\.gz)?$",
    r"(^|/)messages(\.\d+)?(\.gz)?$",
)
#: Members that receive copies of the same syslog/journal entries, best evidence first.
_SYSLOG_FAMILY = (r"(^|/)(ovs_)?journald\.log$", *_RSYSLOG_FILES)
#: A member that may repeat journal entries.
_COPYING = "|".join(f"(?:{p})" for p in _RSYSLOG_FILES)


class JournalCopies:
    """The journal entries read so far, to tell rsyslog's copies of them in other members.

    A copy is a whole entry (`_ENTRY`: same host, instant, ident and message) of a member rsyslog
    writes to (`_COPYING`). `analyze` and `parse` see a member a chunk at a time, so this keeps a
    hash of each journal entry's key (8 bytes an entry), not the entries, and marks a later
    record of such a member with the same key as a copy; the journal's own record stays the
    evidence. `analyze` keeps counts only: a copy is counted once. `parse` keeps every record and
    marks the copy's `parse_status` `duplicate`, having read every journal chunk first.
    In `analyze` chunks and batches of small members are analyzed in archive order on one
    thread, a journal dump first in its batch, so a journal dump read before `syslog` (as `ovs
    collect logs` and sorted archives have it) is known when `syslog` comes. A
    syslog-family member read before any journal is remembered by the hash and count columns
    of its counted records (`defer`), and its copies are taken out of its counts once the
    whole archive was read (`late`).
    """

    def __init__(self) -> None:
        self._hashes: list[pl.Series] = []
        self._known: pl.Series | None = None
        self._deferred: list[pl.DataFrame] = []

    def learn(self, source: str, events: pl.DataFrame) -> None:
        """Remember the keys of a journal member's entries (other members are ignored)."""
        if source in JOURNAL_SOURCES and events.height:
            self._hashes.append(_keys(events.filter(_ENTRY)))  # only entries a copy can repeat
            self._known = None

    def of(self, events: pl.DataFrame, sources: Sequence[str]) -> pl.Series | None:
        """Which records of syslog-family members repeat a journal entry read before (None: none
        can). `events` hold the records of the members `sources` names: a journal among them must
        have been learned before any member that comes after it, and none may come before it."""
        copying = _copying(sources) if self._hashes else None
        if copying is None:
            return None
        entries = events.select((_ENTRY & copying).alias("entry"), _key_hash().alias("hash"))
        return entries["entry"] & _among(entries["hash"], self._known_hashes())

    def defer(self, events: pl.DataFrame, sources: Sequence[str], keys: list[pl.Expr], counted: pl.Expr) -> None:
        """Remember the records of syslog-family members read before any journal that the timeline
        counts (`counted` picks them from `events`, the records of the members `sources` names):
        their source, key hash and `keys`, the columns the timeline counts them by."""
        copying = None if self._hashes else _copying(sources)
        if copying is None:
            return
        rows = events.filter(counted & _ENTRY & pl.col("ts_local").is_not_null() & copying) \
            .select("source", _key_hash().alias("_hash"), *keys)
        if rows.height:
            # detached: filtered text columns are views into the chunk's buffers, and would keep
            # every chunk of a syslog-family member read before the journal (or of a bundle
            # without one) alive to the end
            self._deferred.append(detached(rows))

    def late(self, keys: list[str]) -> pl.DataFrame:
        """How many deferred records per source and `keys` repeat a journal read after them."""
        if not self._deferred or not self._hashes:
            return pl.DataFrame()
        deferred = pl.concat(self._deferred)
        late = deferred.filter(_among(deferred["_hash"], self._known_hashes()))
        return late.group_by("source", *keys).len("count")

    def _known_hashes(self) -> pl.Series:
        """Every journal entry's hash, sorted, each once."""
        if self._known is None:
            self._known = pl.concat(self._hashes).unique().sort()
            self._hashes = [self._known]
        return self._known


def _among(hashes: pl.Series, known: pl.Series) -> pl.Series:
    """Which of `hashes` are in `known` (sorted): a binary search each. `is_in` would build a hash
    set of every known entry at each call, a journal's millions of them for each chunk of syslog."""
    if known.len() == 0:
        return pl.repeat(False, hashes.len(), eager=True)
    at = known.search_sorted(hashes).clip(upper_bound=known.len() - 1)
    return known.gather(at) == hashes


#: A record rsyslog may have copied from the journal: one whole entry of a named ident.
_ENTRY = (pl.col("parse_status") == "ok") & pl.col("service").is_not_null()
#: The columns `JournalCopies.learn` reads of a journal's records.
ENTRY_COLUMNS = [*_COPY_KEY, "parse_status"]


def _copying(sources: Sequence[str]) -> pl.Expr | None:
    """Which records belong to the members of `sources` that may repeat journal entries (None:
    none does)."""
    copying = [s for s in sources if re.search(_COPYING, s)]
    if not copying:
        return None
    return pl.lit(True) if len(copying) == len(sources) else pl.col("source").is_in(copying)


def _key_hash() -> pl.Expr:
    return pl.struct(_COPY_KEY).hash(seed=0)


def _keys(events: pl.DataFrame) -> pl.Series:
    return events.select(_key_hash()).to_series()


#: The column `HIT_TEXT_KEY` fills, dropped once copies are told apart.
TEXT_KEY = "text_key"
#: A rule hit's text, hashed as journal copies' keys are: copies of hits are told apart by it,
#: and the text itself is read back only for the few hits shown as evidence.
HIT_TEXT_KEY = pl.col("raw").hash(seed=0).alias(TEXT_KEY)


def drop_copied_hits(hits: pl.DataFrame) -> pl.DataFrame:
    """Keep one copy of a rule hit that several syslog-family members carry verbatim (the same
    `text_key`, see `HIT_TEXT_KEY`).

    Only copies in *other* members are dropped: a line repeated within one file is a real
    repetition and keeps counting.
    """
    if hits.height == 0 or TEXT_KEY not in hits.columns:
        return hits
    # a member's preference, one integer: its place in the family, then its name (the few sources
    # are ranked once, so a flood of hits is compared on integers, not sorted by strings);
    # members outside the family have none
    family = pl.lit(None, dtype=pl.UInt64)
    for position, pattern in reversed(list(enumerate(_SYSLOG_FAMILY))):
        family = pl.when(pl.col("source").str.contains(pattern)).then(pl.lit(position, dtype=pl.UInt64)) \
            .otherwise(family)
    sources = pl.DataFrame({"source": hits["source"].cast(pl.String).unique().sort()}).with_row_index("name")
    ranked = sources.select("source", (family * sources.height + pl.col("name")).alias("preference")).drop_nulls()
    if ranked.height < 2:  # one member of the family (a flood in one file, say) has no copies elsewhere
        return hits
    preference = pl.col("source").cast(pl.String).replace_strict(ranked["source"], ranked["preference"], default=None)
    key = ["rule_id", "host", TEXT_KEY]
    row = pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row")
    in_family = hits.select(row, *key, preference.alias("_preference")).drop_nulls("_preference")
    copies = in_family.filter(pl.col("_preference") != pl.col("_preference").min().over(key))["_row"]
    return hits if copies.len() == 0 else hits.with_row_index("_row").filter(~pl.col("_row").is_in(copies.implode())) \
        .drop("_row")
