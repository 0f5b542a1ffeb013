"""Keep secrets and identities of the customer out of everything the tool writes.

Every output is made from one JSON-ready document, so scrubbing that document (and the
timeline model beside it) once covers report.html, findings.json, findings.csv and summary.md.
Secrets (passwords in URLs, `password=`-style values, private keys, tokens) are always masked,
first where records are made (`parsing/secrets.py`, so `parse`'s events.parquet holds none) and
again here for whatever the documents add: a ticket is no place for them. With `--redact`, IPs, MAC
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

from analyzer.parsing.secrets import mask_key_lines, mask_secrets

#: A dotted quad that is a version, not an address, by its context: a dpkg revision or suffix after it
#: (`2.7.9.1-1`, `1.7.9.1~rc`), or a package and architecture or the word version before it.
_NOT_AN_ADDRESS = (r"(?<!:(?:amd64|all|i386|arm64|armhf) (?:\S{1,40} )?)"  # dpkg: `pkg:arch [old] new`
                   r"(?<!(?:[Vv]ersion|[Rr]evision|[Rr]elease|[Bb]uild)[ :=]{1,3}v?)")
# `_` may glue an address into a name (`client_service_10.100.1.1_26215`): it does not end one
_IPV4 = (_NOT_AN_ADDRESS + r"(?<![A-Za-z0-9.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)"
         r"(?![A-Za-z0-9]|\.\d|[-~+]\w)")
_HEX4 = r"[0-9A-Fa-f]{1,4}"
_IPV6 = (rf"(?<![\w:])(?:(?:{_HEX4}:){{7}}{_HEX4}|(?:{_HEX4}:){{1,6}}(?::{_HEX4}){{1,6}}|(?:{_HEX4}:){{2,7}}:"
         rf"|::1)(?![\w:])")
_MAC = r"(?<![A-Za-z0-9:])(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}(?![A-Za-z0-9:])"
#: File name extensions: `rabbit@ovs-node1.log` is a log file named after a RabbitMQ node, not an e-mail address.
_FILE_EXTENSIONS = r"(?:log|gz|xz|bz2|txt|json|ya?ml|conf|cfg|ini|xml|tar|tgz|zip|pid|sock|out|err|db|sst)"
_EMAIL = (rf"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
          rf"\.(?!{_FILE_EXTENSIONS}(?![\w-]))[A-Za-z]{{2,}}(?![\w-])")
#: A RabbitMQ node name (`rabbit@ovs-node2`) names a host of the cluster, a peer this bundle's own
#: names may not include.
_RABBIT_NODE = r"(?<=\brabbit@)[A-Za-z0-9][A-Za-z0-9-]*(?<![-])"
_FQDN = (r"(?<![\w.-])(?:[A-Za-z0-9-]+\.)+(?:com|net|org|local|lan|internal|corp|intra|priv|io|eu|be|de|nl|fr|uk)"
         r"(?![\w-])")
_KINDS = (("mac", _MAC), ("ip", _IPV6), ("ip", _IPV4), ("email", _EMAIL), ("host", _RABBIT_NODE), ("host", _FQDN))
#: Public hosts the tool's own text and software name (references, build banners): never the customer's.
_PUBLIC_DOMAINS = ("github.com", "githubusercontent.com", "openvstorage.com", "openvstorage.org", "ubuntu.com",
                   "debian.org", "launchpad.net", "python.org", "pypi.org", "kernel.org", "readthedocs.io",
                   "readthedocs.org", "rabbitmq.com", "erlang.org", "celeryproject.org", "docs.celeryq.dev")
#: Keys of the documents whose values are the tool's own text (rule texts, links, versions of
#: packages), never pseudonymized: a reference must stay a link, a version a version.
TOOL_KEYS = frozenset({"schema", "title", "description", "remediation", "references", "hc_codes", "link",
                       "versions", "rule_id", "component", "kind", "severity", "verdict"})


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
        if kind == "host" and _public(match[0]):
            return match[0]
        return self._token(kind, match[0])

    def _token(self, kind: str, value: str) -> str:
        # one spelling, one token: the private map gives back every redacted line exactly
        token = self.mapping.get(value)
        if token is None:
            self._issued[kind] = self._issued.get(kind, 0) + 1
            token = self.mapping[value] = f"{kind}-{self._issued[kind]}"
        return token


def _public(host: str) -> bool:
    name = host.lower()
    return any(name == domain or name.endswith("." + domain) for domain in _PUBLIC_DOMAINS)


def scrub(value: Any, redactor: Redactor | None = None) -> Any:
    """A copy of a JSON-ready value with secrets masked in every string (keys included) and,
    with a redactor, identifiers pseudonymized, except under `TOOL_KEYS` (the tool's own text)."""
    if isinstance(value, str):
        masked = mask_secrets(value)
        return redactor(masked) if redactor else masked
    if isinstance(value, dict):
        return {scrub(k, redactor): scrub(v, None if redactor is None or k in TOOL_KEYS else redactor)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, str) for v in value):  # consecutive lines, which a private key may span
            value = mask_key_lines(list(value))
        return [scrub(v, redactor) for v in value]
    return value
