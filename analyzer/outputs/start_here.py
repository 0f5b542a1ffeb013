"""The report's view of root causes: the top chain as steps on a small time axis, and each
finding's place in its chain (the findings list can be read chain by chain).

Built from findings.json's `start_here` and `root_causes` only, so a node's report and a
cluster's draw the same way.
"""

from __future__ import annotations

from typing import Any

from analyzer.isotime import epoch


def chain_steps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The top chain, cause first: each step with its time, its offset from the cause and its place
    (0-100) on an axis from the cause to the last effect."""
    chains = doc.get("root_causes") or []
    if not chains:
        return []
    members = [chains[0]["cause"], *chains[0]["effects"]]
    times = [epoch(m["first_seen"]) for m in members]
    known = [t for t in times if t is not None]
    start, end = (min(known), max(known)) if known else (0.0, 0.0)
    span = max(end - start, 1.0)
    return [{
        **member,
        "time": member["first_seen"][:19].replace("T", " ") if member["first_seen"] else "no time",
        "after": _offset(t - start) if t is not None and member is not members[0] else "",
        "pos": round(100 * (t - start) / span, 1) if t is not None else 0.0,
    } for member, t in zip(members, times, strict=True)]


def chain_roles(doc: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """Per finding index: its chain's rank (1 = start here), whether it is the cause, how many
    findings it explains (a cause) or which finding brought it (an effect), and its place when the
    findings are read chain by chain."""
    roles: dict[int, dict[str, Any]] = {}
    place = 0
    for rank, chain in enumerate(doc.get("root_causes") or [], start=1):
        cause = chain["cause"]
        roles[cause["index"]] = {"chain": rank, "cause": True, "explains": chain["explains"], "place": place}
        place += 1
        by_rule = {cause["rule_id"]: cause["index"]}
        for effect in chain["effects"]:
            roles[effect["index"]] = {"chain": rank, "cause": False, "via": effect["via"],
                                      "via_index": by_rule.get(effect["via"], cause["index"]),
                                      "why": effect["link"]["why"], "place": place}
            by_rule.setdefault(effect["rule_id"], effect["index"])
            place += 1
    return roles


def _offset(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"+{hours}:{minutes:02d}:{secs:02d}" if hours else f"+{minutes}:{secs:02d}"

