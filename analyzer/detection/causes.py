"""Root causes: findings joined into chains by causal links, and the one to start with.

Severity is not causality: a node that lost its disk logs the disk error once (high), and then a
dozen louder failures it brought (no Arakoon master, failed tasks, halted volumes). Which failure
is known to bring which is support engineers' knowledge, so it is data beside the rules
(`rules/links/*.yaml`, one list of links per file): a link names a cause rule and an effect rule,
what the two findings must share (`join`), how long after the cause the effect may start
(`within`), why, and its public source, with examples the test suite runs.

Founds (as findings.json writes them, so a node's and a cluster's findings chain alike) joined
by links form chains; a chain's cause is its earliest finding that nothing in it
explains. Chains rank by how many findings they explain, then by their worst effect, then by their
cause's severity and time: an earlier or louder finding that explains nothing never outranks the
cause of a cascade. Every finding belongs to exactly one chain (most to a chain of one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from analyzer.datafiles import load_mapping
from analyzer.detection.rule import SEVERITIES
from analyzer.durations import duration_label, duration_seconds
from analyzer.errors import UserError
from analyzer.isotime import parse_iso

#: The folder of a rules folder that holds its causal links.
LINKS_FOLDER = "links"
#: What two findings can be required to share (`join`): `node` (a host), or an entity both name;
#: `where_named` keys must agree only where both findings name them (a kernel line names no vPool).
JOIN_KEYS = ("node", "vpool", "volume", "osd", "namespace", "arakoon_cluster", "service", "task")
#: An effect may be logged this long before its cause's first record: separate logs flush apart,
#: and a cluster's clocks are aligned to about a second.
SLACK = timedelta(seconds=60)
_LINK_KEYS = {"cause", "effect", "join", "where_named", "within", "why", "references", "examples"}


#: A finding as findings.json holds it (rule_id, severity, first_seen, last_seen, hosts, entities, vpools).
Found = dict[str, Any]


@dataclass(frozen=True)
class LinkExample:
    """Log text parsed as one member (named `source`) in which both rules fire."""

    text: str
    source: str = "example.log"


@dataclass(frozen=True)
class Link:
    """`cause` is known to bring `effect` on what they share (`join`), starting within `within`."""

    cause: str
    effect: str
    join: tuple[str, ...]
    where_named: tuple[str, ...]
    within: float
    why: str
    references: tuple[str, ...]
    linked: tuple[LinkExample, ...]
    not_linked: tuple[LinkExample, ...]
    source_file: str

    @property
    def label(self) -> str:
        shared = f"same {', '.join(self.join)}" if self.join else "any node"
        named = f", same {', '.join(self.where_named)} where both name one" if self.where_named else ""
        return f"{self.cause} -> {self.effect} ({shared}{named}, within {duration_label(self.within)})"

    def joins(self, cause: Found, effect: Found) -> bool:
        """Whether this link explains `effect` by `cause`: the right rules, the shared names, the time."""
        if (cause["rule_id"], effect["rule_id"]) != (self.cause, self.effect):
            return False
        start, end = parse_iso(cause["first_seen"]), parse_iso(cause["last_seen"])
        began = parse_iso(effect["first_seen"])
        if start is None or began is None:
            return False
        if not start - SLACK <= began <= (end or start) + timedelta(seconds=self.within):
            return False
        if any(not _names(cause, key) & _names(effect, key) for key in self.join):
            return False
        named = ((_names(cause, key), _names(effect, key)) for key in self.where_named)
        return all(ours & theirs or not (ours and theirs) for ours, theirs in named)


@dataclass(frozen=True)
class Effect:
    """A finding a chain explains, the link that joined it and the finding it was joined to."""

    finding: Found
    link: Link
    via: Found


@dataclass(frozen=True)
class Chain:
    """A cause and every finding it is known to have brought, in time order."""

    cause: Found
    effects: tuple[Effect, ...]

    @property
    def explains(self) -> int:
        return len(self.effects)

    @property
    def findings(self) -> list[Found]:
        return [self.cause, *(e.finding for e in self.effects)]


def load_links(dirs: Iterable[Path]) -> list[Link]:
    """The links of every `links/*.yaml` below the rules folders `dirs`, in file order."""
    links = [link for directory in dirs for path in sorted((directory / LINKS_FOLDER).glob("*.yaml"))
             for link in load_links_file(path)]
    seen: dict[tuple[str, str], str] = {}
    for link in links:
        pair = (link.cause, link.effect)
        if pair in seen:
            raise UserError(f"{link.source_file}: the link {link.cause} -> {link.effect} is already in {seen[pair]}")
        seen[pair] = link.source_file
    return links


def load_links_file(path: Path) -> list[Link]:
    """The links of one `links/*.yaml` file."""
    doc = load_mapping(path, "causal links file")
    items = doc.get("links")
    if set(doc) != {"links"} or not isinstance(items, list) or not items:
        raise UserError(f"{path}: a causal links file holds one key, 'links', a list of links")
    return [_link(path, i, item) for i, item in enumerate(items, start=1)]


def check_links(links: list[Link], rule_ids: Iterable[str]) -> None:
    """Refuse a link that names a rule the pack does not have: a typo would silently never join."""
    known = set(rule_ids)
    for link in links:
        for end in (link.cause, link.effect):
            if end not in known:
                raise UserError(f"{link.source_file}: the link {link.cause} -> {link.effect} names {end}, "
                                "no rule of the pack")


def root_causes(findings: list[Found], links: list[Link]) -> list[Chain]:
    """Every finding in one chain, the chains most important first (see the module docstring)."""
    order = sorted(range(len(findings)), key=lambda i: (findings[i]["first_seen"] or "~", -_rank(findings[i])))
    by_rules: dict[tuple[str, str], list[Link]] = {}
    for link in links:
        by_rules.setdefault((link.cause, link.effect), []).append(link)
    edges: dict[int, list[tuple[int, Link]]] = {i: [] for i in order}
    explained: set[int] = set()
    for a in order:
        for b in order:
            if a == b:
                continue
            for link in by_rules.get((findings[a]["rule_id"], findings[b]["rule_id"]), []):
                if link.joins(findings[a], findings[b]):
                    edges[a].append((b, link))
                    explained.add(b)
                    break
    claimed: set[int] = set()
    chains: list[Chain] = []
    # causes nothing explains first, earliest first; then whatever a cycle of links left unclaimed
    for root in [i for i in order if i not in explained] + order:
        if root in claimed:
            continue
        claimed.add(root)
        effects: list[tuple[int, Effect]] = []  # with their depth: on a tie in time, what brought a finding first
        frontier = [(root, 0)]
        while frontier:
            here, depth = frontier.pop(0)
            for there, link in edges[here]:
                if there not in claimed:
                    claimed.add(there)
                    effects.append((depth + 1, Effect(findings[there], link, findings[here])))
                    frontier.append((there, depth + 1))
        effects.sort(key=lambda de: (de[1].finding["first_seen"] or "~", de[0], -_rank(de[1].finding)))
        chains.append(Chain(findings[root], tuple(e for _, e in effects)))
    return sorted(chains, key=_importance)


def start_here(chains: list[Chain], findings: list[Found]) -> dict[str, Any] | None:
    """The cause of the top chain, with one sentence saying why to start there; None with no findings."""
    if not chains:
        return None
    top = chains[0]
    return {**_summary(top.cause, _places(findings)), "why": _why(top, chains)}


def chains_document(chains: list[Chain], findings: list[Found]) -> list[dict[str, Any]]:
    """`root_causes` of findings.json: each chain's cause, its effects and the links that joined them;
    `index` is each finding's place in `findings` (the list the chains were built from)."""
    places = _places(findings)
    return [{
        "cause": _summary(chain.cause, places),
        "effects": [{**_summary(e.finding, places), "via": e.via["rule_id"],
                     "link": {"cause": e.link.cause, "effect": e.link.effect, "why": e.link.why,
                              "references": list(e.link.references)}}
                    for e in chain.effects],
        "explains": chain.explains,
    } for chain in chains]


def _importance(chain: Chain) -> tuple:
    worst_effect = max((_rank(e.finding) for e in chain.effects), default=-1)
    return (-chain.explains, -worst_effect, -_rank(chain.cause), chain.cause["first_seen"] or "~",
            chain.cause["rule_id"])


def _places(findings: list[Found]) -> dict[int, int]:
    """Each finding's index in `findings`, by identity (findings are dicts: equal ones may differ)."""
    return {id(f): i for i, f in enumerate(findings)}


def _summary(finding: Found, places: dict[int, int]) -> dict[str, Any]:
    return {"index": places[id(finding)], "rule_id": finding["rule_id"], "title": finding["title"],
            "severity": finding["severity"],
            "host": finding["hosts"][0] if finding["hosts"] else None, "first_seen": finding["first_seen"],
            "entities": dict(finding["entities"])}


def _why(top: Chain, chains: list[Chain]) -> str:
    cause = top.cause
    rule, hosts, first = cause["rule_id"], cause["hosts"], cause["first_seen"]
    where = f" on {', '.join(hosts)}" if hosts else ""
    when = f" at {first[:19].replace('T', ' ')} UTC" if first else ""
    if top.explains:
        names = list(dict.fromkeys(e.finding["rule_id"] for e in top.effects))
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        return (f"{rule}{where}{when} comes first in its chain and is known to bring "
                f"{top.explains} of the later findings ({shown}); nothing found explains it.")
    if cause["severity"] == "info":
        return f"Only facts were found, no problem ({rule}{where}{when} first): nothing to fix."
    alone = f" of {len(chains)} unrelated findings" if len(chains) > 1 else ""
    return (f"No known link ties the findings together; {rule}{where}{when} is the most severe "
            f"(the earliest of its severity){alone}.")


def _rank(finding: Found) -> int:
    return SEVERITIES.index(finding["severity"])


def _names(finding: Found, key: str) -> set[str]:
    if key == "node":
        return set(finding["hosts"])
    names = {finding["entities"][key]} if key in finding["entities"] else set()
    return names | set(finding["vpools"]) if key == "vpool" else names


def _link(path: Path, number: int, item: Any) -> Link:
    where = f"{path}: link {number}"
    if not isinstance(item, dict):
        raise UserError(f"{where} must be a mapping")
    unknown = sorted(set(item) - _LINK_KEYS)
    missing = sorted(_LINK_KEYS - {"where_named"} - set(item))
    if unknown or missing:
        raise UserError(f"{where}: " + "; ".join(
            ([f"unknown key(s) {', '.join(unknown)}"] if unknown else [])
            + ([f"missing key(s) {', '.join(missing)}"] if missing else [])))
    if not all(isinstance(item[end], str) for end in ("cause", "effect")):
        raise UserError(f"{where}: cause and effect are rule ids")
    join, named = item["join"], item.get("where_named", [])
    for key, value in (("join", join), ("where_named", named)):
        if not isinstance(value, list) or any(k not in JOIN_KEYS for k in value):
            raise UserError(f"{where}: {key} is a list of {', '.join(JOIN_KEYS)}")
    references = item["references"]
    if not isinstance(references, list) or not references or not all(isinstance(r, str) for r in references):
        raise UserError(f"{where}: references is a non-empty list of URLs (the source of the link)")
    examples = item["examples"]
    if not isinstance(examples, dict) or set(examples) - {"linked", "not_linked"} or not examples.get("linked"):
        raise UserError(f"{where}: examples needs 'linked' (and may have 'not_linked') lists")
    return Link(
        cause=item["cause"], effect=item["effect"], join=tuple(join), where_named=tuple(named),
        within=duration_seconds(path, f"link {number}.within", item["within"]),
        why=str(item["why"]).strip(), references=tuple(references),
        linked=tuple(_example(where, e) for e in examples["linked"]),
        not_linked=tuple(_example(where, e) for e in examples.get("not_linked") or ()),
        source_file=str(path),
    )


def _example(where: str, example: Any) -> LinkExample:
    if isinstance(example, str):
        return LinkExample(example)
    if isinstance(example, dict) and isinstance(example.get("text"), str) and set(example) <= {"text", "source"}:
        return LinkExample(example["text"], str(example.get("source", "example.log")))
    raise UserError(f"{where}: an example is log text, or a mapping of text and source (a member path)")
