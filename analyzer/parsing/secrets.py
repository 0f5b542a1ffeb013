"""Secrets out of what the tool writes: passwords, keys and tokens never reach a file.

A support bundle can hold an amqp URI with its password, a `password=` in a command line or an
HTTP Basic header. `mask_secrets` masks one text (the outputs of `analyze` scrub every string of
their documents with it: outputs/redact.py); `mask_record_secrets` masks a table's records, for
`parse`, which writes every record: a literal scan and a regex (the Rust engine, in Polars) pick
the few records that may hold one, and only those are masked with the exact patterns below (the
`regex` module: they need look-behind). Masking every record of `analyze` as well would scan
every byte once more for what only the few records in its documents need.
"""

from __future__ import annotations

import polars as pl
import regex

MASK = "********"

# Order matters: a private key block first (it spans lines), then credentials inside URLs, then
# `name=value` / `name: value` / `"name": "value"` pairs whose name says it is a secret.
_PRIVATE_KEY = regex.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END \1PRIVATE KEY-----|\Z)",
                             regex.DOTALL)
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


def mask_record_secrets(events: pl.DataFrame) -> pl.DataFrame:
    """`events` with the secrets in `raw` and `message` masked (see the module docstring)."""
    if events.height == 0:
        return events
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
