"""Turn a mined unknown-error template into a rule file an engineer only has to edit.

Closes the loop from "new failure seen in a bundle" to "tested rule": the template's constant
parts become the literals and the regex (its masked parts become patterns), the real records
become the examples, and the file is checked by the same example runner as the shipped pack
before it is written.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

#: What each mask token of analyzer.detection.unknown stands for, as a Rust regex.
TOKEN_PATTERNS = {
    "<uuid>": r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    "<hex>": r"0x[0-9a-fA-F]+",
    "<ip>": r"\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?",
    "<path>": r"\S+",
    "<id>": r"[0-9a-fA-F]{12,}",
    "<str>": r"(?:'[^']*'|\"[^\"]*\")",
    "<num>": r"\d+(?:\.\d+)?",
}
_TOKEN = re.compile("|".join(re.escape(t) for t in TOKEN_PATTERNS))
_COMPONENT_OF_PRODUCER = {"volumedriver": "volumedriver", "dtl": "dtl", "mds": "mds", "scrubber": "scrubber",
                          "framework": "framework", "celery": "celery", "arakoon": "arakoon", "alba": "alba"}


def regex_of(template: str) -> str:
    """The template with constant text escaped and each mask token replaced by its pattern."""
    parts, last = [], 0
    for m in _TOKEN.finditer(template):
        parts.append(re.escape(template[last:m.start()]))
        parts.append(TOKEN_PATTERNS[m.group(0)])
        last = m.end()
    parts.append(re.escape(template[last:]))
    return "".join(parts).replace(r"\ ", r"\s+")


def longest_literal(template: str) -> str:
    """The longest constant stretch of the template: the rule's pre-filter literal."""
    return max((s.strip(" :;,-") for s in _TOKEN.split(template)), key=len, default="")


def rule_id_for(template: str) -> str:
    words = re.findall(r"[A-Za-z]{3,}", _TOKEN.sub(" ", template))[:5]
    return "NEW_" + ("_".join(w.upper() for w in words) or "ERROR")


def scaffold_rule(template: dict[str, Any], producer: str | None, near_miss: str | None,
                  bundle_name: str) -> tuple[str, str]:
    """Return (rule id, YAML text) for one template of findings.json's unknown_errors section."""
    rule_id = rule_id_for(template["template"])
    literal = longest_literal(template["template"])
    doc: dict[str, Any] = {
        "id": rule_id,
        "title": f"Unrecognised error: {template['template'][:90]}",
        "severity": "medium",
        "component": _COMPONENT_OF_PRODUCER.get(producer or "", "system"),
        "description": (
            f"Mined by ovs-analyzer from {template['count']} error records in {bundle_name} "
            f"({template['first_seen']} to {template['last_seen']}, hosts {', '.join(template['hosts'])}, "
            f"in {', '.join(template['sources'])}). Say what it means and why it matters."
        ),
        "remediation": "Say what the engineer should check or do when this appears.",
        "references": [],
        "hc_codes": [],
        "tags": ["scaffolded"],
        "match": {"literals": [literal], "regex": regex_of(template["template"])},
        "examples": {"match": list(template["examples"]),
                     "no_match": [near_miss] if near_miss else []},
    }
    header = (f"# Scaffolded from template {template['rank']} of {bundle_name}.\n"
              "# Edit title, severity, component, description and remediation; keep the examples real;\n"
              "# add a near-miss under no_match; then run: ovs-analyzer rules test THIS_FILE\n")
    return rule_id, header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1 << 20)
