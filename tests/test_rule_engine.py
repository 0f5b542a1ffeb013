"""The rule engine: how a rule file's match block selects records and groups findings."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from analyzer.errors import UserError
from analyzer.findings import build_findings
from analyzer.rules import find_hits, load_rule_file
from analyzer.timezones import fill_offsets, offset_samples

VD = ("2017-03-14 10:22:{s:02d} 046812 +0100 - n1 - 1/0x00007f8400994700 - volumedriverfs/Volume - "
      "00000000000a1b2c - {level} - setFailOverCacheMode_: {vol}: setting DTL degraded")


def write_rule(tmp_path: Path, body: str, name: str = "TEST_RULE") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"id: {name}\ntitle: t\nseverity: high\ncomponent: dtl\ndescription: d\nremediation: r\n{body}"
    )
    return path


def findings_for(parse, rule, text, source="var/log/ovs/volumedriver/vpool1.log"):
    events = parse(text, source=source).events
    hits = find_hits(events, [rule])
    return build_findings(fill_offsets(hits, offset_samples(events)), [rule]) if hits.height else []


def test_named_groups_split_findings_per_entity(parse, tmp_path):
    rule = load_rule_file(write_rule(tmp_path, "match:\n  literals: [setting DTL degraded]\n"
                                     "  regex: '(?P<volume>[0-9a-f-]{8,}): setting DTL degraded'\n"))
    text = "\n".join(VD.format(s=i, level="error", vol="aaaaaaaa-1" if i % 3 else "bbbbbbbb-2") for i in range(9))
    findings = findings_for(parse, rule, text)
    assert sorted((f.entities["volume"], f.count) for f in findings) == [("aaaaaaaa-1", 6), ("bbbbbbbb-2", 3)]
    assert all(f.vpools == ["vpool1"] for f in findings)


def test_evidence_keeps_everything_up_to_20_then_the_first_and_last_10(parse, tmp_path):
    rule = load_rule_file(write_rule(tmp_path, "match:\n  literals: [setting DTL degraded]\n"))
    text = "\n".join(VD.format(s=i, level="error", vol="v") for i in range(45))
    (finding,) = findings_for(parse, rule, text)
    assert finding.count == 45 and finding.evidence_omitted == 25
    assert [e.line for e in finding.evidence] == [*range(1, 11), *range(36, 46)]
    assert finding.first_seen == "2017-03-14T09:22:00.046812Z"
    assert finding.last_seen == "2017-03-14T09:22:44.046812Z"

    (small,) = findings_for(parse, rule, "\n".join(VD.format(s=i, level="error", vol="v") for i in range(20)))
    assert len(small.evidence) == 20 and small.evidence_omitted == 0


def test_min_level_and_producer_filters(parse, tmp_path):
    rule = load_rule_file(write_rule(tmp_path, "match:\n  literals: [setting DTL degraded]\n"
                                     "  min_level: error\n  producers: [volumedriver]\n"))
    assert findings_for(parse, rule, VD.format(s=1, level="warning", vol="v")) == []
    assert findings_for(parse, rule, VD.format(s=1, level="error", vol="v"))[0].count == 1
    framework = "2017-03-14 10:22:05 04700 +0100 - n1 - 1/2 - lib/vdisk - 4 - ERROR - setting DTL degraded"
    assert findings_for(parse, rule, framework, source="var/log/ovs/lib.log") == []


def test_regex_runs_in_multiline_mode_over_the_whole_record(parse, tmp_path):
    rule = load_rule_file(write_rule(tmp_path, "match:\n  regex: '^RuntimeError: (?P<exception>.+)$'\n"))
    text = ("2017-03-14 10:22:05 04700 +0100 - n1 - 1/2 - lib/mds - 4 - ERROR - failed\n"
            "Traceback (most recent call last):\nRuntimeError: no slave")
    (finding,) = findings_for(parse, rule, text, source="var/log/ovs/lib.log")
    assert finding.entities == {"exception": "no slave"}
    assert finding.evidence[0].raw == text


def test_a_literal_prefilter_never_hides_a_regex_only_rule(parse, tmp_path):
    with_literal = load_rule_file(write_rule(tmp_path, "match:\n  literals: [zzz]\n", "A_RULE"))
    regex_only = load_rule_file(write_rule(tmp_path, "match:\n  regex: 'DTL degraded'\n", "B_RULE"))
    events = parse(VD.format(s=1, level="error", vol="v"), source="x.log").events
    hits = find_hits(events, [with_literal, regex_only])
    assert hits["rule_id"].to_list() == ["B_RULE"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("match:\n  literals: [x]\nremediaton: typo\n", "unknown field"),
        ("match:\n  literal: [x]\n", "unknown match field"),
        ("match:\n  literals:\n    - Traceback (most recent call last):\n", "quote items that contain"),
        ("match: {}\n", "needs literals or a regex"),
        ("match:\n  regex: '(?<=x)y'\n", "does not compile"),
        ("match:\n  regex: '(?P<disk>x)'\n", "unknown entity group"),
        ("match:\n  literals: [x]\n  min_level: loud\n", "min_level must be one of"),
    ],
)
def test_broken_rule_files_are_refused_with_the_file_named(tmp_path, body, message):
    path = write_rule(tmp_path, body)
    with pytest.raises(UserError, match=message) as err:
        load_rule_file(path)
    assert str(path) in str(err.value)


def test_hits_carry_only_what_evidence_and_windows_need(parse, tmp_path):
    rule = load_rule_file(write_rule(tmp_path, "match:\n  literals: [setting DTL degraded]\n"))
    hits = find_hits(parse(VD.format(s=1, level="error", vol="v")).events, [rule])
    assert "message" not in hits.columns and {"raw", "source", "line", "ts_local"} <= set(hits.columns)
    assert hits.schema["line"] == pl.UInt32
