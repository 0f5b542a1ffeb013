"""The terminal view of `ovs-analyzer inventory`: one row per member, then the bundle's identity."""

from __future__ import annotations

import json
from typing import Any

from analyzer.cli.wording import say


def print_inventory(doc: dict[str, Any], as_json: bool) -> None:
    """The document as JSON, or as a table and an identity summary for a terminal."""
    if as_json:
        say(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    for node in doc["nodes"]:
        say(f"== {node['bundle']}: {', '.join(node['hosts']) or 'unknown host'}, "
                   f"{node['first_seen'] or '?'} -> {node['last_seen'] or '?'} (UTC)")
        say(f"{'member':<58} {'size':>11} {'kind':<12} {'lines':>9} {'first (UTC)':<19}  "
                   f"{'last (UTC)':<19}  era / rotation set / warnings")
        for m in node["members"]:
            notes = [x for x in (m["era"], m["rotation_set"] if m["rotation_set"] != m["path"] else None) if x]
            say(f"{_fit(m['path'], 58)} {m['size']:>11,} {m['kind'] or '':<12} {m['lines']:>9,} "
                       f"{_time(m['first_seen'])}  {_time(m['last_seen'])}  {' | '.join(notes + m['warnings'])}")
        for line in _identity_lines(node["identity"]):
            say(line)
        for warning in node["warnings"]:
            say(f"warning: {warning}")


def _identity_lines(identity: dict[str, Any]) -> list[str]:
    if not identity:
        return []
    lines = [f"role: {identity['role']} ({'; '.join(identity['role_evidence'])})",
             "versions: " + (", ".join(f"{k} {v}" for k, v in identity["versions"].items()) or "unknown"),
             "eras (records): " + (", ".join(f"{k} ({n:,})" for k, n in identity["format_eras"].items())
                                   or "none recognised"),
             f"vPools: {', '.join(identity['vpools']) or 'none seen'}",
             f"services: {', '.join(identity['services']) or 'none seen'}",
             "UTC offsets (records): " + (", ".join(f"{k} ({n:,})" for k, n in identity["utc_offsets"].items())
                                          or "none stated")]
    lines += [f"missing: {m['source']}: {m['why']}" for m in identity["missing_sources"]]
    return lines


def _fit(text: str, width: int) -> str:
    return f"{text:<{width}}" if len(text) <= width else "..." + text[-(width - 3):]


def _time(value: str | None) -> str:
    return (value or "")[:19].replace("T", " ").ljust(19)
