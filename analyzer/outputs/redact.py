"""Keep secrets and identities of the customer out of everything the tool writes.

Every output is made from one JSON-ready document, so scrubbing that document (and the
timeline model beside it) once covers report.html, findings.json, findings.csv and summary.md.
Secrets (passwords in URLs, `password=`-style values, private keys, tokens) are always masked:
a ticket is no place for them and nobody needs them to diagnose. With `--redact`, IPs, MAC
addresses, e-mail addresses and host names are also replaced by stable pseudonyms, the same
value giving the same token everywhere in one run, and the mapping is written beside the outputs
in a private file (`redaction-map.json`) that no output links to.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

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


def mask_secrets(text: str) -> str:
    """`text` with every password, key and token replaced by MASK; the surrounding text is kept."""
    if not text:
        return text
    text = _PRIVATE_KEY.sub(f"-----BEGIN \\1PRIVATE KEY----- {MASK}", text)
    text = _URL_CREDENTIALS.sub(lambda m: m[0] if set(m["secret"]) == {"*"} else m["head"] + MASK, text)
    text = _AUTH_HEADER.sub(lambda m: m["head"] + MASK, text)
    return _SECRET_PAIR.sub(_mask_pair, text)


def _mask_pair(match: regex.Match[str]) -> str:
    secret = match["secret"]
    if secret == MASK or secret.strip("\"'") in ("", MASK):
        return match[0]
    quote = secret[0] if secret[0] in "\"'" else ""
    return f"{match['head']}{quote}{MASK}{quote}"


_IPV4 = r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?!\w|\.\d)"
_HEX4 = r"[0-9A-Fa-f]{1,4}"
_IPV6 = (rf"(?<![\w:])(?:(?:{_HEX4}:){{7}}{_HEX4}|(?:{_HEX4}:){{1,6}}(?::{_HEX4}){{1,6}}|(?:{_HEX4}:){{2,7}}:"
         rf"|::1)(?![\w:])")
_MAC = r"(?<![\w:])(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}(?![\w:])"
_EMAIL = r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_FQDN = (r"(?<![\w.-])(?:[A-Za-z0-9-]+\.)+(?:com|net|org|local|lan|internal|corp|intra|priv|io|eu|be|de|nl|fr|uk)"
         r"(?![\w-])")
_KINDS = (("mac", _MAC), ("ip", _IPV6), ("ip", _IPV4), ("email", _EMAIL), ("host", _FQDN))


class Redactor:
    """Replaces identifiers by stable pseudonyms (`host-1`, `ip-3`, ...), one mapping per run.

    One instance serves all the bundles of a run, so a node keeps its token across bundles.
    Known names (the hosts the analysis found) are replaced wherever they appear, also inside
    file names and longer words such as `ovs-node1-20170314-logs.tar.gz`.
    """

    def __init__(self) -> None:
        self.mapping: dict[str, str] = {}
        self._issued: dict[str, int] = {}
        self._known: list[str] = []
        self._pattern = self._compile()

    def learn_hosts(self, names: Iterable[str | None]) -> None:
        """Names that must be replaced wherever they occur, not only where they look like a host."""
        new = {n for n in names if n and len(n) >= 3 and n not in self._known and not n.startswith("host-")}
        if new:
            self._known = sorted({*self._known, *new}, key=lambda n: (-len(n), n))
            for name in sorted(new):
                self._token("host", name)
            self._pattern = self._compile()

    def __call__(self, text: str) -> str:
        return self._pattern.sub(self._replace, text) if text else text

    def write_map(self, path: Path) -> Path:
        """The private mapping, token -> original, readable by its owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {"warning": "PRIVATE: maps pseudonyms back to the customer's identifiers. Never attach to a ticket.",
                "tokens": {token: value for value, token in self.mapping.items()}}
        path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.chmod(path, 0o600)
        return path

    def _compile(self) -> regex.Pattern[str]:
        known = [f"(?P<known>(?<![A-Za-z0-9])(?i:{'|'.join(regex.escape(n) for n in self._known)})(?![A-Za-z0-9]))"]
        groups = [f"(?P<{kind}{i}>{pattern})" for i, (kind, pattern) in enumerate(_KINDS)]
        return regex.compile("|".join((known if self._known else []) + groups))

    def _replace(self, match: regex.Match[str]) -> str:
        groups = match.groupdict()
        if groups.get("known") is not None:
            return self._token("host", match[0])
        kind = next(name.rstrip("0123456789") for name, value in groups.items() if value is not None)
        return self._token(kind, match[0])

    def _token(self, kind: str, value: str) -> str:
        key = value if kind == "ip" else value.lower()
        token = self.mapping.get(key)
        if token is None:
            self._issued[kind] = self._issued.get(kind, 0) + 1
            token = self.mapping[key] = f"{kind}-{self._issued[kind]}"
        return token


def scrub(value: Any, redactor: Redactor | None = None) -> Any:
    """A copy of a JSON-ready value with secrets masked in every string (keys included) and,
    with a redactor, identifiers pseudonymized."""
    if isinstance(value, str):
        masked = mask_secrets(value)
        return redactor(masked) if redactor else masked
    if isinstance(value, dict):
        return {scrub(k, redactor): scrub(v, redactor) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v, redactor) for v in value]
    return value
