"""Sites tune the pack without editing it; rules that could not run say so; unknown errors surface."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.detection.loader import apply_tuning
from analyzer.detection.unknown import template_expr
from analyzer.errors import UserError
from analyzer.pipeline.analysis import analyze

PY = "2017-03-14 10:22:{s:02d} 04700 +0100 - n1 - 1/2 - lib/x - {s} - {level} - {msg}"


def tuning(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(text)
    return path


def test_a_config_file_retunes_severity_and_switches_rules_off(rules, tmp_path):
    tuned = apply_tuning(rules, tuning(tmp_path, "rules:\n  LOCK_CONTENTION: {severity: high}\n"
                                                 "  NO_SPACE_LEFT_ON_DEVICE: {enabled: false}\n"))
    by_id = {r.id: r for r in tuned}
    assert by_id["LOCK_CONTENTION"].severity == "high"
    assert not by_id["NO_SPACE_LEFT_ON_DEVICE"].enabled
    assert [r.id for r in tuned] == [r.id for r in rules]


@pytest.mark.parametrize(("text", "message"), [
    ("rules:\n  NOPE: {enabled: false}\n", "no rule with id 'NOPE'"),
    ("rules:\n  LOCK_CONTENTION: {severity: huge}\n", "severity must be one of"),
    ("rules:\n  LOCK_CONTENTION: {mute: true}\n", "takes only 'severity' and 'enabled'"),
])
def test_a_broken_config_file_is_a_clear_error(rules, tmp_path, text, message):
    with pytest.raises(UserError, match=message):
        apply_tuning(rules, tuning(tmp_path, text))


def test_a_switched_off_rule_neither_fires_nor_counts_as_silent(make_bundle, rules, tmp_path):
    tuned = apply_tuning(rules, tuning(tmp_path, "rules:\n  NO_SPACE_LEFT_ON_DEVICE: {enabled: false}\n"))
    bundle = make_bundle({"var/log/ovs/lib.log": PY.format(s=1, level="ERROR", msg="No space left on device")})
    analysis = analyze(bundle, tuned)
    assert "NO_SPACE_LEFT_ON_DEVICE" not in {f.rule_id for f in analysis.findings}
    assert analysis.coverage["rules_disabled"] == ["NO_SPACE_LEFT_ON_DEVICE"]


def test_rules_whose_sources_are_absent_could_not_run_and_say_why(make_bundle, rules):
    analysis = analyze(make_bundle({"var/log/ovs/lib.log": PY.format(s=1, level="INFO", msg="fine")}), rules)
    unavailable = {u["id"]: u["reason"] for u in analysis.coverage["rules_unavailable"]}
    assert unavailable["ALBA_OSD_DISQUALIFIED"] == "no alba records in this bundle"
    assert "ARAKOON_NO_MASTER" in analysis.coverage["rules_silent"], "framework logs are here: it ran"
    assert set(unavailable).isdisjoint(analysis.coverage["rules_silent"])


def test_errors_no_rule_explains_are_mined_into_ranked_templates(make_bundle, rules):
    lines = [PY.format(s=i, level="ERROR", msg=f"Could not reach 10.0.0.{i}:26203 for vdisk {i}") for i in range(5)]
    lines.append(PY.format(s=9, level="ERROR", msg="No space left on device"))
    lines.append(PY.format(s=10, level="INFO", msg="Could not reach 10.0.0.1:26203 for vdisk 1"))
    section = analyze(make_bundle({"var/log/ovs/lib.log": "\n".join(lines)}), rules).sections["unknown_errors"]
    assert section["records"] == 5, "explained and non-error records are not unknown errors"
    (template,) = section["templates"]
    assert template["template"] == "Could not reach <ip> for vdisk <num>"
    assert template["count"] == 5 and template["where"][0] == "var/log/ovs/lib.log:1"


def test_a_template_spread_over_more_members_ranks_first_and_lists_each_host_and_member_once(make_bundle, rules):
    spread = [PY.format(s=i, level="ERROR", msg=f"the gizmo {i} refused") for i in range(2)]
    frequent = [PY.format(s=10 + i, level="ERROR", msg=f"widget {i} jammed") for i in range(6)]
    section = analyze(make_bundle({"var/log/ovs/lib.log": "\n".join([spread[0], *frequent]),
                                   "var/log/ovs/api.log": spread[1]}), rules).sections["unknown_errors"]
    listed = [(t["template"], t["count"], t["hosts"], t["sources"], t["producers"]) for t in section["templates"]]
    assert listed == [
        ("the gizmo <num> refused", 2, ["n1"], ["var/log/ovs/api.log", "var/log/ovs/lib.log"], ["framework"]),
        ("widget <num> jammed", 6, ["n1"], ["var/log/ovs/lib.log"], ["framework"]),
    ]


@pytest.mark.parametrize("pack_bytes", [0, 1 << 40], ids=["parts-compressed", "parts-copied"])
def test_a_templates_examples_are_its_earliest_records_own_lines_from_any_member(make_bundle, rules, monkeypatch,
                                                                                pack_bytes):
    from analyzer import frames

    monkeypatch.setattr(frames, "PACK_BYTES", pack_bytes)
    reach = "Could not reach 10.0.{net}.{i}:26203 for vdisk {i}"
    late = [PY.format(s=30 + i, level="ERROR", msg=reach.format(net=0, i=i)) for i in range(4)]
    early = [PY.format(s=10 + i, level="ERROR", msg=reach.format(net=1, i=i)) for i in range(2)]
    other = PY.format(s=5, level="ERROR", msg="the gizmo 7 refused")
    section = analyze(make_bundle({"var/log/ovs/lib.log": "\n".join([other, *late]),
                                   "var/log/ovs/api.log": "\n".join(early)}), rules).sections["unknown_errors"]
    examples = {t["template"]: t["examples"] for t in section["templates"]}
    assert examples == {"Could not reach <ip> for vdisk <num>": [*early, late[0]], "the gizmo <num> refused": [other]}


@pytest.mark.parametrize(("message", "template"), [
    ("volume 8c88d911-22e7-4916-84ec-6d45c4723905 halted", "volume <uuid> halted"),
    ("Problem with connection 0x7f83f000a1b0: gone", "Problem with connection <hex>: gone"),
    ("cannot open /mnt/ssd1/vpool1_db/mds_1/db", "cannot open <path>"),
    ("key 'ovs/framework/hosts' missing after 3.5 s", "key <str> missing after <num> s"),
])
def test_templates_mask_the_variable_parts(message, template):
    import polars as pl

    assert pl.select(template_expr(pl.lit(message))).item() == template
