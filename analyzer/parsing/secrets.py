"""Secrets out of what the tool writes: passwords, keys and tokens never reach a file.

A support bundle can hold an amqp URI with its password, a `password=` in a command line or an
HTTP Basic header. `mask_secrets` masks one text (the outputs of `analyze` scrub every string of
their documents with it: outputs/redact.py); `mask_record_secrets` masks a table's records, for
`parse`, which writes every record: a literal scan and a regex (the Rust engine, in Polars) pick
the few records that may hold one, and only those are masked with the exact patterns below (the
`regex` module: they need look-behind). Masking every record of `analyze` as well would scan
every byte once more for what only the few records in its documents need.

A private key read as lines (a key file, or the lines around an evidence line) has its body in
lines of their own, told apart only by their place between its BEGIN and END lines: `mask_key_lines`
and `mask_record_secrets` mask those whole, also where a window or a chunk begins inside a block.
"""

from __future__ import annotations

import polars as pl
import regex

MASK = "********"

# Order matters: a private key block first (it spans lines), then credentials inside URLs, then
# `name=value` / `name: value` / `"name": "value"` pairs whose name says it is a secret. Masked text
# is left as it is (a document is scrubbed again when a cluster report merges it): a masked key
# block has no END line, and would otherwise take the rest of the text with it.
_PRIVATE_KEY = regex.compile(rf"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----(?! {regex.escape(MASK)})"
                             r".*?(?:-----END \1PRIVATE KEY-----|\Z)", regex.DOTALL)
_URL_CREDENTIALS = regex.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s:/@'\"<>]+:)(?P<secret>[^\s@/'\"<>]+)(?=@)")
_SECRET_NAMES = (r"pass(?:word|wd|phrase)?|pwd|secret(?:[_-]?key)?|client[_-]?secret|api[_-]?key|access[_-]?key"
                 r"|auth[_-]?token|token|private[_-]?key|credentials?")
_SECRET_PAIR = regex.compile(
    rf"""(?P<head>(?<![A-Za-z0-9])(?:{_SECRET_NAMES})(?P<q>['"]?)\s*[:=]\s*)"""
    r"""(?P<secret>"[^"\n]*"|'[^'\n]*'|[^\s,;&'"}\])]+)""",
    regex.IGNORECASE,
)
_AUTH_HEADER = regex.compile(r"(?P<head>\bAuthorization:\s*(?:Basic|Bearer|Token)\s+)(?P<secret>[A-Za-z0-9+/=._~-]+)",
                             regex.IGNORECASE)
#: Every text the patterns above can change matches this (no look-around: the Rust engine runs it
#: over every record); a record it misses holds no secret they would mask.
MAY_HOLD_SECRET = (rf"(?i)PRIVATE KEY-----|[a-z][a-z0-9+.-]{{1,20}}://[^\s:/@'\"<>]+:[^\s@/'\"<>]+@"
                   rf"|authorization:\s*(?:basic|bearer|token)\s|(?:{_SECRET_NAMES})['\"]?\s*[:=]")
_KEY_BEGIN = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
_KEY_END = r"-----END [A-Z0-9 ]*PRIVATE KEY-----"
#: Words one of which every text MAY_HOLD_SECRET matches holds, whatever their case: a literal scan
#: (Aho-Corasick) finds the few records the regex has to read.
_SECRET_WORDS = ["private key", "://", "authorization", "pass", "pwd", "secret", "apikey", "api_key", "api-key",
                 "accesskey", "access_key", "access-key", "token", "credential"]


def mask_secrets(text: str) -> str:
    """`text` with every password, key and token replaced by MASK; the surrounding text is kept."""
    if not text:
        return text
    text = _PRIVATE_KEY.sub(f"-----BEGIN \\1PRIVATE KEY----- {MASK}", text)
    text = _URL_CREDENTIALS.sub(lambda m: m[0] if set(m["secret"]) == {"*"} else m["head"] + MASK, text)
    text = _AUTH_HEADER.sub(lambda m: m["head"] + MASK, text)
    return _SECRET_PAIR.sub(_mask_pair, text)


def mask_key_lines(lines: list[str]) -> list[str]:
    """Consecutive lines (an evidence line's context) with every line inside a private key block
    replaced by MASK, also before the END of a block the lines begin inside; `mask_secrets` masks
    the rest, the BEGIN line with it."""
    if not any("PRIVATE KEY-----" in line for line in lines):
        return lines
    ends = [i for i, line in enumerate(lines) if regex.search(_KEY_END, line)]
    begins = [i for i, line in enumerate(lines) if regex.search(_KEY_BEGIN, line)]
    inside = bool(ends) and (not begins or ends[0] < begins[0])
    masked = []
    for i, line in enumerate(lines):
        masked.append(MASK if inside and i not in ends else line)
        inside = (inside or i in begins) and i not in ends
    return masked


def mask_record_secrets(events: pl.DataFrame, in_key: bool = False) -> tuple[pl.DataFrame, bool]:
    """`events` (one member's records, in order) with the secrets in `raw` and `message` masked (see
    the module docstring), and whether they end inside a private key block: `in_key` of the next
    chunk of the member."""
    if events.height == 0:
        return events, in_key
    events, in_key = _mask_key_records(events, in_key)
    return _mask_records(events), in_key


def _mask_key_records(events: pl.DataFrame, in_key: bool) -> tuple[pl.DataFrame, bool]:
    """Records between a BEGIN and an END line of a private key (each a record of its own) masked whole."""
    raw = events["raw"]
    if not in_key and not raw.str.contains("PRIVATE KEY-----", literal=True).any():
        return events, False
    opens = raw.str.contains(_KEY_BEGIN).fill_null(False)
    closes = raw.str.contains(_KEY_END).fill_null(False)
    first_open, first_close = opens.arg_true(), closes.arg_true()
    in_key = in_key or (first_close.len() > 0 and (first_open.len() == 0 or first_close[0] < first_open[0]))
    depth = (opens.cast(pl.Int32) - closes.cast(pl.Int32)).cum_sum() + int(in_key)  # after each record
    inside = (depth.shift(1, fill_value=int(in_key)) > 0) & ~closes
    hidden = [pl.when(inside).then(pl.lit(MASK)).otherwise(pl.col(name)).alias(name) for name in ("raw", "message")]
    return events.with_columns(hidden), bool(depth[-1] > 0)


def _mask_records(events: pl.DataFrame) -> pl.DataFrame:
    # the literal scan reads every record, the regex only those holding a word
    worded = events.select(pl.col("raw").str.contains_any(_SECRET_WORDS, ascii_case_insensitive=True)
                           .fill_null(False).arg_true()).to_series()
    if worded.len() == 0:
        return events
    rows = worded.filter(events["raw"].gather(worded).str.contains(MAY_HOLD_SECRET).fill_null(False))
    if rows.len() == 0:
        return events
    masked = []
    for name in ("raw", "message"):
        column = events[name]
        fixed = pl.Series(name, [mask_secrets(v) if v else v for v in column.gather(rows).to_list()], dtype=pl.String)
        masked.append(column.clone().scatter(rows, fixed))
    return events.with_columns(masked)


def _mask_pair(match: regex.Match[str]) -> str:
    secret = match["secret"]
    if secret == MASK or secret.strip("\"'") in ("", MASK):
        return match[0]
    quote = secret[0] if secret[0] in "\"'" else ""
    return f"{match['head']}{quote}{MASK}{quote}"
