"""Is this an Open vStorage node's bundle at all? Never a false all-clear for one that is not.

A tarball of a plain Linux box (syslog, apt and nginx logs) has nothing for the rules to find, so
it would come out "clean": a support engineer would read that as "the customer's node is healthy".
What shows an OVS node (formats only OVS components write, OVS log paths, services, packages and
the framework's Celery tasks) is data: `ovs_signs` in parsers/knowledge/identity.yaml.
"""

from __future__ import annotations

import re

from analyzer.collectors.identity import knowledge
from analyzer.pipeline.analysis import Analysis


def ovs_signs(analysis: Analysis) -> list[str]:
    """What in the bundle shows an Open vStorage node, most telling first; empty when nothing does."""
    signs = knowledge()["ovs_signs"]
    formats = set(signs["formats"])
    found: list[str] = []
    records = {}
    for member in analysis.members:
        for name, count in member.formats.items():
            if name in formats:
                records[name] = records.get(name, 0) + count
    found += [f"{count:,} records of the {name} format" for name, count in sorted(records.items())]
    found += [f"the file {m.path}" for m in analysis.members if re.search(signs["paths"], m.path)][:3]
    identity = analysis.sections.get("identity") or {}
    found += [f"the service {s}" for s in identity.get("services") or [] if re.search(signs["services"], s)][:3]
    found += [f"the package {p} {v}" for p, v in (identity.get("versions") or {}).items()
              if re.search(signs["packages"], p)][:3]
    tasks = (analysis.sections.get("tasks") or {}).get("by_name") or []
    found += [f"the Celery task {t['name']}" for t in tasks if re.search(signs["tasks"], t["name"])][:3]
    return found


def contents(analysis: Analysis) -> str:
    """What the bundle holds instead, in a few words: its files and the kinds of logs they are."""
    members = analysis.members
    if not members:
        return "no files"
    names = ", ".join(m.path for m in members[:4]) + (f" and {len(members) - 4} more" if len(members) > 4 else "")
    kinds = sorted({m.kind for m in members if m.kind})
    return f"{len(members)} file(s) ({names})" + (f" of kind {', '.join(kinds)}" if kinds else "")
