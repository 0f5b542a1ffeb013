"""Keep secrets and identities of the customer out of everything the tool writes.

Every output is made from one JSON-ready document, so scrubbing that document (and the
timeline model beside it) once covers report.html, findings.json, findings.csv and summary.md.
Secrets (passwords in URLs, `password=`-style values, private keys, tokens) are always masked,
first where records are made (`parsing/secrets.py`, so `parse`'s events.parquet holds none) and
again here for whatever the documents add: a ticket is no place for them.

With `--redact`, IPs, MAC addresses, e-mail addresses and host names are also replaced by
pseudonyms, one map per run however many processes write its outputs:

- A pseudonym is keyed, not counted: `host-` (or `ip-`, `mac-`, `email-`) and 8 letters of
  HMAC-SHA256(run key, value). Every worker of a triage gets the run's random key in its `Job`, so
  each gives a value the pseudonym every other gives it without asking anyone; the map a worker
  returns is only a record of what it replaced, merged by the parent into one file.
- The kind comes from the value's shape alone (an IP learned as a host name is still `ip-`), so
  no worker's knowledge changes a pseudonym. A pseudonym matches no pattern of an identifier and
  is never replaced again, so scrubbing twice changes nothing.
- The private map (`redaction-map.json`, token -> original, mode 0600) is written once at the top
  of the output folder and linked from no output; `unredact` turns any redacted text back into
  the original exactly (one token per spelling of a value).
- `seal` is the last step of a run: see there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import regex

from analyzer.errors import UserError
from analyzer.parsing.secrets import mask_key_lines, mask_secrets
from analyzer.pipeline.analysis import Analysis
from analyzer.reading.bundle import describe
from analyzer.reading.folder import OUTPUT_MARK

REDACTION_MAP = "redaction-map.json"

#: A dotted quad that is a version, not an address, by its context: a dpkg revision or suffix after it
#: (`2.7.9.1-1`, `1.7.9.1~rc`), or a package and architecture or the word version before it.
_NOT_AN_ADDRESS = (r"(?<!:(?:amd64|all|i386|arm64|armhf) (?:\S{1,40} )?)"  # dpkg: `pkg:arch [old] new`
                   r"(?<!(?:[Vv]ersion|[Rr]evision|[Rr]elease|[Bb]uild)[ :=]{1,3}v?)")
# `_` may glue an address into a name (`client_service_10.100.1.1_26215`): it does not end one
_IPV4 = (_NOT_AN_ADDRESS + r"(?<![A-Za-z0-9.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)"
         r"(?![A-Za-z0-9]|\.\d|[-~+]\w)")
_HEX4 = r"[0-9A-Fa-f]{1,4}"
# `-` before it: an Erlang time (`14-Mar-2017::08:23:42`) has an address's shape
_IPV6 = rf"(?<![\w:-])(?:(?:{_HEX4}:){{7}}{_HEX4}|(?:{_HEX4}:){{1,6}}(?::{_HEX4}){{1,6}}|(?:{_HEX4}:){{2,7}}:)(?![\w:])"
_MAC = r"(?<![A-Za-z0-9:])(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}(?![A-Za-z0-9:])"
#: File name extensions: `rabbit@ovs-node1.log` is a log file named after a RabbitMQ node, not an e-mail address.
_FILE_EXTENSIONS = r"(?:log|gz|xz|bz2|txt|json|ya?ml|conf|cfg|ini|xml|tar|tgz|zip|pid|sock|out|err|db|sst)"
_EMAIL = (rf"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
          rf"\.(?!{_FILE_EXTENSIONS}(?![\w-]))[A-Za-z]{{2,}}(?![\w-])")
#: A RabbitMQ node name (`rabbit@ovs-node2`) names a host of the cluster, a peer this bundle's own
#: names may not include.
_RABBIT_NODE = r"(?<=\brabbit@)[A-Za-z0-9][A-Za-z0-9-]*(?<![-])"
_TLDS = "com|net|org|local|lan|internal|corp|intra|priv|io|eu|be|de|nl|fr|uk"
_FQDN = rf"(?<![\w.-])(?:[A-Za-z0-9-]+\.)+(?:{_TLDS})(?![\w-])"
_KINDS = (("mac", _MAC), ("ip", _IPV6), ("ip", _IPV4), ("email", _EMAIL), ("host", _RABBIT_NODE), ("host", _FQDN))
#: A value's kind by its whole shape; anything else is a host name.
_SHAPES = (("mac", regex.compile(_MAC)), ("ip", regex.compile(_IPV6)), ("ip", regex.compile(_IPV4)),
           ("email", regex.compile(_EMAIL)))
#: Public hosts the tool's own text and software name (references, build banners): never the customer's.
_PUBLIC_DOMAINS = ("github.com", "githubusercontent.com", "openvstorage.com", "openvstorage.org", "ubuntu.com",
                   "debian.org", "launchpad.net", "python.org", "pypi.org", "kernel.org", "readthedocs.io",
                   "readthedocs.org", "rabbitmq.com", "erlang.org", "celeryproject.org", "docs.celeryq.dev")
#: Names and addresses every machine has: they identify no one, and `localhost` in a line says what it says.
_ANYONE = frozenset({"localhost", "localhost.localdomain", "127.0.0.1", "0.0.0.0"})
#: A pseudonym as it stands in a redacted text, maybe glued to a word (see `_ITSELF`).
TOKEN = regex.compile(r"(?:host|ip|mac|email)-[a-z2-7]{8}")
#: A known name this long is itself wherever it stands, glued to other letters or not (a machine id in
#: a storage driver's id, `vpool1pZ4T6ndbbgdUp2y7`): no other word holds it. A shorter one is replaced
#: as a word only: `node1` in `node10` is another name.
_ITSELF = 12
#: For the Rust engine (Polars), which has no look-around: what every identifier the patterns above
#: find holds (a known name too, added per run in `Redactor._compile`). A record is redacted a run of
#: non-blanks around one at a time, so the run carries every character those patterns look at.
_CANDIDATES = rf"\d{{1,3}}\.\d{{1,3}}\.\d{{1,3}}\.\d{{1,3}}|::|(?:[0-9A-Fa-f]{{1,4}}:){{5}}|@|\.(?:{_TLDS})"
#: The spans whose context looks behind across blanks (`version: 6.16.3.1`, `pkg:amd64 old new`): one run each.
_CONTEXT_RUNS = (r"(?:[Vv]ersion|[Rr]evision|[Rr]elease|[Bb]uild)[ :=]{1,3}v?\S+"
                 r"|:(?:amd64|all|i386|arm64|armhf) \S+(?: \S+)?")
#: Marks a candidate run inside a record while it is replaced; text hygiene removed every NUL.
_MARK = "\x00"
#: Keys of the documents whose values are the tool's own text (rule texts, links, versions of
#: packages), never pseudonymized: a reference must stay a link, a version a version.
TOOL_KEYS = frozenset({"schema", "title", "description", "remediation", "references", "hc_codes", "link",
                       "versions", "rule_id", "component", "kind", "severity", "verdict"})
#: A finding's fields written by rule authors, not found in the bundle: kept exactly as written.
RULE_FIELDS = ("rule_id", "title", "component", "description", "remediation", "references", "hc_codes")
_HOST_KEYS = frozenset({"host", "hosts", "host_hint", "hostname", "node", "nodes"})
_OUTPUT_SUFFIXES = frozenset({".html", ".json", ".csv", ".md", ".parquet"})


class RedactionError(UserError):
    """Redaction could not keep its promise: the outputs must not be shared (said in one line, exit 2)."""


class Redactor:
    """Replaces identifiers by keyed pseudonyms (`host-pq3xk2ab`, see the module doc).

    Known names (host names of the run) are replaced wherever they stand as a word, also inside
    file names and longer names such as `ovs-node1-20170314-logs.tar.gz`; the patterns above
    find the rest. `tokens` records every pseudonym given, token -> original.
    """

    def __init__(self, key: bytes | None = None, hosts: Iterable[str | None] = ()) -> None:
        #: The run's secret: the same key gives the same pseudonyms, in any process.
        self.key = key if key is not None else os.urandom(32)
        self.tokens: dict[str, str] = {}
        self._known: set[str] = set()
        self._compile()
        self.learn(hosts)

    def learn(self, names: Iterable[str | None]) -> None:
        """Names to replace wherever they stand as a word, not only where they look like a host."""
        new = {n for n in names if n and len(n) >= 3 and n not in _ANYONE and not TOKEN.fullmatch(n)} - self._known
        if new:
            for name in new:
                self._token(name)
            self._known |= new
            self._compile()

    @property
    def known(self) -> tuple[str, ...]:
        """The names replaced wherever they stand, as `learn` took them."""
        return tuple(sorted(self._known))

    def merge(self, tokens: dict[str, str]) -> None:
        """Take in the map of another redactor of this run (a worker's): its values become known names."""
        for token, value in tokens.items():
            if self._token(value) != token:
                raise RedactionError(f"the pseudonym {token} was drawn with another run's key")
        self.learn(tokens.values())

    def __call__(self, text: str) -> str:
        return self._pattern.sub(self._replace, text) if text else text

    def texts(self, texts: list[str]) -> list[str]:
        """Many texts redacted at once, as `records` redacts a table (a document's: six times faster
        than one by one on the sample's)."""
        return self.records(pl.DataFrame({"text": texts}, schema={"text": pl.String}), ["text"])["text"].to_list()

    def records(self, events: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
        """`events` with `columns` redacted as `__call__` redacts a text, without a Python step per record.

        The Rust engine cuts out the runs that may hold an identifier (`_CANDIDATES`); each distinct
        run is redacted here once, and the engine puts the results back in every record.
        """
        if events.height == 0 or not columns:
            return events
        runs = pl.concat([events[c].str.extract_all(self._runs).explode() for c in columns])
        changed = {run: done for run in runs.drop_nulls().unique().to_list() if (done := self(run)) != run}
        if not changed:
            return events
        marked = [f"{_MARK}{run}{_MARK}" for run in changed]
        return events.with_columns(
            pl.col(c).str.replace_all(self._runs, f"{_MARK}${{0}}{_MARK}")
            .str.replace_many(marked, list(changed.values())).str.replace_all(_MARK, "", literal=True)
            for c in columns)

    def leftover(self, table: pl.LazyFrame) -> str | None:
        """The pseudonym of a known value still standing in a string of `table` where `__call__` would
        replace it, if any."""
        if self._known_words is None:
            return None
        found = pl.coalesce(pl.col(pl.String).str.extract(self._known_words, 1),
                            pl.col(pl.String).str.extract(self._known_words, 2))
        firsts = table.select(found.drop_nulls().first()).collect(engine="streaming")
        values = [value for value in firsts.row(0) if value is not None] if firsts.height else []
        return self._pseudonym(values[0]) if values else None

    def write_map(self, path: Path) -> Path:
        """The private mapping, token -> original, and the run's key (a later run may continue it:
        `continuing`), readable by its owner only from its first byte."""
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {"warning": "PRIVATE: maps pseudonyms back to the customer's identifiers. Never attach to a ticket.",
                "key": self.key.hex(), "tokens": dict(sorted(self.tokens.items()))}
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), 0o600)  # a map already there keeps no wider mode
            file.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
        return path

    def _compile(self) -> None:
        names = sorted(self._known, key=lambda n: (-len(n), n))  # the longest first: `ovs-node10` before `ovs-node1`
        itself = [n for n in names if len(n) >= _ITSELF]
        words = [n for n in names if len(n) < _ITSELF]
        # a pseudonym is never taken for a name inside it (a host called `host`)
        known = (f"(?P<known>(?!{TOKEN.pattern})(?i:{_either(itself, regex.escape)}"
                 f"|(?<![A-Za-z0-9])(?:{_either(words, regex.escape)})(?![A-Za-z0-9])))")
        alternatives = [known, f"(?P<token>{TOKEN.pattern})"]
        alternatives += [f"(?P<{kind}{i}>{pattern})" for i, (kind, pattern) in enumerate(_KINDS)]
        self._pattern = regex.compile("|".join(alternatives))
        # the same for the Rust engine, which has no look-around
        self._runs = rf"{_CONTEXT_RUNS}|\S*(?:{_CANDIDATES}|(?i:{_either(names, re.escape)}))\S*"
        self._known_words = (f"(?i)({_either(itself, re.escape)})"
                             f"|(?:^|[^A-Za-z0-9])({_either(words, re.escape)})(?:[^A-Za-z0-9]|$)") if names else None

    def _replace(self, match: regex.Match[str]) -> str:
        kind = next(name for name, value in match.groupdict().items() if value is not None)
        value = match[0]
        if kind == "token" or value in _ANYONE or (kind.startswith("host") and _public(value)):
            return value
        return self._token(value)

    def _pseudonym(self, value: str) -> str:
        digest = hmac.new(self.key, value.encode("utf-8"), hashlib.sha256).digest()
        return f"{_kind(value)}-{base64.b32encode(digest[:5]).decode('ascii').lower()}"

    def _token(self, value: str) -> str:
        token = self._pseudonym(value)
        if self.tokens.setdefault(token, value) != value:  # two values, one token: the map could not give both back
            raise RedactionError(f"two identifiers drew the pseudonym {token}; run again (a run draws a new key)")
        return token


def _either(names: list[str], escape: Callable[[str], str]) -> str:
    """An alternation of `names`, or a pattern that matches nothing (in both regex engines)."""
    return "|".join(map(escape, names)) or r"\b\B"


def _kind(value: str) -> str:
    return next((kind for kind, shape in _SHAPES if shape.fullmatch(value)), "host")


def _public(host: str) -> bool:
    name = host.lower()
    return any(name == domain or name.endswith("." + domain) for domain in _PUBLIC_DOMAINS)


def scrub(value: Any, redactor: Redactor | None = None) -> Any:
    """A copy of a JSON-ready value with secrets masked in every string (keys included; a list of
    strings read as consecutive lines, which a private key may span) and, with a redactor,
    identifiers pseudonymized, except under `TOOL_KEYS` (the tool's own text)."""
    masked = _masked(value)
    if redactor is None:
        return masked
    texts: dict[str, str] = {}
    _redacted(masked, lambda text: texts.setdefault(text, text))  # every text to redact, once
    done = dict(zip(texts, redactor.texts(list(texts)), strict=True))
    return _redacted(masked, done.__getitem__)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, dict):
        return {mask_secrets(k): _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        lines = mask_key_lines(list(value)) if value and all(isinstance(v, str) for v in value) else value
        return [_masked(v) for v in lines]
    return value


def _redacted(value: Any, change: Callable[[str], str]) -> Any:
    """`value` with `change` applied to every string, keys included, but not under `TOOL_KEYS`."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {change(k): v if k in TOOL_KEYS else _redacted(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v, change) for v in value]
    return value


def redact_outputs(doc: dict[str, Any], timeline: dict[str, Any],
                   redactor: Redactor | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """A findings document and its timeline model as the outputs may show them: scrubbed, the host
    names they name learned first (so a name is replaced wherever it stands), rule texts as written."""
    if redactor is not None:
        redactor.learn(host_names([doc, timeline]))
    clean = scrub(doc, redactor)
    for finding, original in zip(clean["findings"], doc["findings"], strict=True):
        finding.update({key: original[key] for key in RULE_FIELDS})
    return clean, scrub(timeline, redactor)


def host_names(values: list[Any]) -> list[str]:
    """Every string found under a host-like key (`host`, `hosts`, `node`, ...) anywhere in `values`."""
    found: list[str] = []
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if key in _HOST_KEYS:
                    found.extend(v for v in (item if isinstance(item, list) else [item]) if isinstance(v, str))
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)
    return sorted(set(found))


def output_folders(out: Path, nodes: Sequence[tuple[str | None, Analysis]], redactor: Redactor | None) -> list[Path]:
    """Where each node's outputs go: `out`, or `out/<folder>` for a node of a bundle of bundles, named
    by pseudonyms with a `redactor` (a folder's name is an output too), which first learns every
    node's host names: one node's outputs may name another."""
    if redactor is not None:
        redactor.learn(h for _, analysis in nodes for h in (*analysis.hosts, analysis.bundle.host_hint))
    return [out / (redactor(folder) if redactor else folder) if folder else out for folder, _ in nodes]


def named_hosts(paths: Iterable[Path]) -> list[str]:
    """The host names bundle file names carry (`ovs-<host>-<date>-logs.tar.gz`): known before any is read."""
    hosts = []
    for path in paths:
        try:
            hosts.append(describe(path).host_hint)
        except UserError:  # a missing input: its row says so, and it names no one
            continue
    return [h for h in hosts if h]


def seal(out: Path, redactor: Redactor, folders: Iterable[Path] = (),
         rewrite: Callable[[Path], None] | None = None) -> Path:
    """The last step of a redacted run: no value of the map left in any output, then the map.

    Every value the run replaced anywhere becomes a known name, and every output in `out` and the
    `folders` the run wrote into (its bytes, and its path from `out`: folder names are outputs too)
    is searched for one; not the rest of `out`, which may be any folder of the user's. A worker can
    leave one: a peer another worker learned as a host name from its own logs, named by this
    bundle only in free text. Its folder is then written again by `rewrite(folder)`, from its
    documents, which replaces the value with the pseudonym the other worker gave it, the pseudonym
    depending on the value alone. Rewriting the documents, not patching bytes, keeps the page's own
    words and script (a host called `master`) as they are.

    Whatever is left after that fails loudly, after the map is written (the outputs hold its
    pseudonyms): a value inside an output no rewrite can reach (a file of an earlier run, a name
    this run's outputs cannot tell from their own text) means the folder must not be shared, and
    quietly patching it would hide that. A short name glued to letters or digits (`node1` in
    `node10`) is another word, not that name (`_ITSELF`).
    """
    redactor.learn(redactor.tokens.values())
    folders = sorted({out, *folders})
    for folder in sorted({path.parent for path, _ in _leftovers(out, folders, redactor)}):
        if rewrite is not None:
            rewrite(folder)
    path = redactor.write_map(out / REDACTION_MAP)
    if left := _leftovers(out, folders, redactor):
        where = ", ".join(f"{p.relative_to(out)} ({token})" for p, token in left[:5])
        raise RedactionError(f"{len(left)} output(s) still hold an identifier the map replaces: {where}; do not "
                             f"share {out} (remove files of earlier runs, or report this)")
    return path


def _leftovers(out: Path, folders: list[Path], redactor: Redactor) -> list[tuple[Path, str]]:
    """Outputs in `folders` still holding a known value, with the pseudonym of the first one found."""
    found = []
    for path in (p for folder in folders for p in sorted(folder.iterdir())):
        if not path.is_file() or path.suffix not in _OUTPUT_SUFFIXES or path.name == REDACTION_MAP:
            continue
        token = redactor.leftover(pl.LazyFrame({"path": [path.relative_to(out).as_posix()]})) or \
            redactor.leftover(_texts(path))
        if token:
            found.append((path, token))
    return found


def _texts(path: Path) -> pl.LazyFrame:
    if path.suffix == ".parquet":  # compressed: its strings, not its bytes
        return pl.scan_parquet(path)
    return pl.LazyFrame({"text": [path.read_bytes().decode("utf-8", errors="replace")]})


def read_map(path: Path) -> dict[str, str]:
    """The tokens of a `redaction-map.json`, token -> original."""
    return _map_body(path)["tokens"]


def continuing(paths: Sequence[Path]) -> Redactor:
    """The redactor of a run reading `paths`. If some are outputs of a redacted run, that run goes on
    (its key, its map), so a node keeps its pseudonym from their outputs to this run's: `diff --redact`
    of a redacted triage folder and a new bundle matches the node's findings on both sides."""
    maps = sorted({found for path in paths if (found := _map_of(path)) is not None})
    bodies = [_map_body(path) for path in maps]
    keys = {body["key"] for body in bodies}
    if len(keys) > 1:
        raise UserError(f"{' and '.join(map(str, maps))} are the maps of two redacted runs, whose pseudonyms "
                        "differ: compare the unredacted outputs with --redact")
    redactor = Redactor(bytes.fromhex(keys.pop()) if keys else None, named_hosts(paths))
    for body in bodies:
        redactor.merge(body["tokens"])
    return redactor


def _map_of(path: Path) -> Path | None:
    """The map of the redacted run whose output folder holds `path`: in it or above it, up to that
    folder's top (the one ovs-analyzer marked); a bundle outside any output folder has none."""
    start = path if path.is_dir() else path.parent
    folders = [start, *start.parents]
    top = next((i for i, folder in enumerate(folders) if (folder / OUTPUT_MARK).is_file()), None)
    if top is None:
        return None
    return next((folder / REDACTION_MAP for folder in folders[:top + 1] if (folder / REDACTION_MAP).is_file()), None)


def _map_body(path: Path) -> dict[str, Any]:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        bytes.fromhex(body["key"])
        if not isinstance(body["tokens"], dict):
            raise TypeError("its tokens are not a mapping")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path}: not a readable redaction-map.json ({exc})") from None
    return body


def unredact(text: str, tokens: dict[str, str]) -> str:
    """`text` with every pseudonym of the map replaced by what it stands for: the original, exactly."""
    return TOKEN.sub(lambda m: tokens.get(m[0], m[0]), text)
