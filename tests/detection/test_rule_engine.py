"""The rule engine: how a rule file's match block selects records and groups findings."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from analyzer.detection.loader import load_rule_file
from analyzer.detection.matcher import find_hits
from analyzer.errors import UserError
from analyzer.parsing.formats import load_formats
from analyzer.pipeline.rule_examples import example_findings

VD = ("2017-03-14 10:22:{s:02d} 046812 +0100 - n1 - 1/0x00007f8400994700 - volumedriverfs/Volume - "
      "00000000000a1b2c - {level} - setFailOverCacheMode_: {vol}: setting DTL degraded")


def write_rule(tmp_path: Path, body: str, name: str = "TEST_RULE") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"id: {name}\ntitle: t\nseverity: high\ncomponent: dtl\ndescription: d\nremediation: r\n{body}"
    )
    return path


def findings_for(parse, rule, text, source="var/log/ovs/volumedriver/vpool1.log", steps=()):
    return example_findings(text, rule, [rule, *steps], load_formats(), source=source)[1]


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
        ("match: {}\n", "match needs literals, a regex, producers or min_level"),
        ("match:\n  regex: '(?<=x)y'\n", "look-around or back-references needs literals"),
        ("match:\n  regex: '(unclosed'\n", "does not compile"),
        ("kind: threshold\nmatch:\n  literals: [x]\n", "a threshold rule needs a 'threshold' block"),
        ("match:\n  literals: [x]\nthreshold: {count: 3, window: 5m}\n", "does not apply to a match rule"),
        ("kind: threshold\nmatch:\n  literals: [x]\nthreshold: {count: 3, window: soon}\n", "a duration like"),
        ("match:\n  literals: [x]\nescalate: {to: low, count: 3, window: 1h}\n", "above the rule's severity"),
        ("match:\n  regex: '(?P<disk>x)'\n", "unknown entity group"),
        ("match:\n  literals: [x]\n  min_level: loud\n", "min_level must be one of"),
    ],
)
def test_broken_rule_files_are_refused_with_the_file_named(tmp_path, body, message):
    path = write_rule(tmp_path, body)
    with pytest.raises(UserError, match=message) as err:
        load_rule_file(path)
    assert str(path) in str(err.value)


def test_each_rule_sees_its_literal_even_inside_another_rules_literal(parse, tmp_path):
    rules = [load_rule_file(write_rule(tmp_path, f"match:\n  literals: ['{literal}']\n", name))
             for name, literal in (("LONG", "setting DTL degraded"), ("INNER", "DTL"), ("TAIL", "degraded"))]
    hits = find_hits(parse(VD.format(s=1, level="error", vol="v")).events, rules)
    assert sorted(hits["rule_id"].to_list()) == ["INNER", "LONG", "TAIL"]


def test_a_clock_jump_is_judged_against_zoned_records_only(parse):
    rule = load_rule_file(Path(__file__).parents[2] / "rules/system/CLOCK_JUMP_BACKWARDS.yaml")
    text = "\n".join(VD.format(s=s, level="info", vol="v") for s in (1, 2, 3, 4)).replace("10:22:04", "10:10:04")
    late_naive = pl.col("line") == 2  # a record in local time of an unknown zone, stamped late
    events = parse(text).events.with_columns(
        pl.when(late_naive).then(None).otherwise(pl.col("utc_offset")).alias("utc_offset"),
        pl.when(late_naive).then(pl.datetime(2017, 3, 14, 23, 59)).otherwise(pl.col("ts_local")).alias("ts_local"),
    )
    hits = find_hits(events, [rule])
    assert hits["line"].to_list() == [4]


CLOCK = ("2017-03-14 {h:02d}:{m:02d}:00 046812 +0100 - n1 - 1/0x00007f8400994700 - volumedriverfs/Volume - "
         "00000000000a1b2c - info - sync_: tick")


def test_a_clock_that_ran_ahead_and_was_put_right_is_one_jump_not_every_record_after(parse):
    rule = load_rule_file(Path(__file__).parents[2] / "rules/system/CLOCK_JUMP_BACKWARDS.yaml")
    stamps = [(10, 1), (10, 2), (11, 30), (11, 31), (10, 4), (10, 5), (10, 6), (9, 50), (9, 51)]
    hits = find_hits(parse("\n".join(CLOCK.format(h=h, m=m) for h, m in stamps)).events, [rule])
    assert hits["line"].to_list() == [5, 8]  # back 87 minutes, then back 16; a minute back is no jump


def test_a_clock_jump_is_found_wherever_a_members_records_are_cut_into_chunks(parse):
    rule = load_rule_file(Path(__file__).parents[2] / "rules/system/CLOCK_JUMP_BACKWARDS.yaml")
    stamps = [(10, 1), (10, 2), (11, 30), (11, 31), (10, 4), (10, 5)]
    events = parse("\n".join(CLOCK.format(h=h, m=m) for h, m in stamps)).events
    for cut in range(events.height + 1):
        carried: dict = {}
        parts = [find_hits(events[:cut], [rule], latest=carried), find_hits(events[cut:], [rule], latest=carried)]
        assert [line for part in parts if part.height for line in part["line"]] == [5], f"cut before record {cut}"


def test_hits_carry_only_what_evidence_and_windows_need(parse, tmp_path):
    rule = load_rule_file(write_rule(tmp_path, "match:\n  literals: [setting DTL degraded]\n"))
    hits = find_hits(parse(VD.format(s=1, level="error", vol="v")).events, [rule])
    assert "message" not in hits.columns and {"raw", "source", "line", "ts_local"} <= set(hits.columns)
    assert hits.schema["line"] == pl.UInt32


def vd(second: int, text: str, minute: int = 22, level: str = "error") -> str:
    return (f"2017-03-14 10:{minute:02d}:{second:02d} 046812 +0100 - n1 - 1/0x00007f8400994700 - volumedriverfs/Volume"
            f" - 00000000000a1b2c - {level} - {text}")


def test_look_around_regexes_run_on_the_fallback_engine_with_their_entities(parse, tmp_path):
    rule = load_rule_file(write_rule(tmp_path, "match:\n  literals: [halted]\n"
                                     "  regex: '(?<=volume )(?P<volume>\\w+)(?= halted)'\n"))
    (finding,) = findings_for(parse, rule, vd(1, "f: volume vol7 halted") + "\n" + vd(2, "f: volume halted"))
    assert finding.entities == {"volume": "vol7"} and finding.count == 1


def test_a_catastrophic_user_regex_cannot_hang_the_analysis(parse, tmp_path):
    import time

    rule = load_rule_file(write_rule(tmp_path, "match:\n  literals: [aaaa]\n  regex: '(?=x)?(a+)+$\\\\1z'\n"))
    start = time.perf_counter()
    findings = findings_for(parse, rule, "\n".join(vd(i, "f: " + "a" * 5000 + "!") for i in range(5)))
    assert findings == [] and time.perf_counter() - start < 5


def test_threshold_fires_only_when_enough_hits_fall_inside_the_window(parse, tmp_path):
    rule = load_rule_file(write_rule(tmp_path, "kind: threshold\nmatch:\n  literals: [is master]\n"
                                     "threshold: {count: 3, window: 5m}\n"))
    spread = "\n".join(vd(0, "f: node is master", minute=m) for m in (0, 10, 20, 30))
    assert findings_for(parse, rule, spread) == []
    burst = "\n".join(vd(s, "f: node is master", minute=40) for s in (1, 2, 3)) + "\n" + spread
    (finding,) = findings_for(parse, rule, burst)
    assert finding.detail.startswith("3 records within 5m") and finding.count == 7
    assert finding.entities == {"host": "n1"}


def test_escalation_raises_the_severity_past_a_rate(parse, tmp_path):
    rule = load_rule_file(write_rule(tmp_path, "match:\n  literals: [retrying]\n"
                                     "escalate: {to: critical, count: 4, window: 1m}\n"))
    (calm,) = findings_for(parse, rule, "\n".join(vd(0, "f: retrying", minute=m) for m in range(4)))
    assert calm.severity == "high"
    (storm,) = findings_for(parse, rule, "\n".join(vd(s, "f: retrying") for s in range(4)))
    assert storm.severity == "critical" and "escalated from high" in storm.detail


def step_rules(tmp_path: Path):
    first = load_rule_file(write_rule(tmp_path, "match:\n  literals: [Disqualifying osd]\n", "STEP_A"))
    second = load_rule_file(write_rule(tmp_path, "match:\n  literals: [setting volume to 'halted']\n", "STEP_B"))
    return first, second


def test_sequence_fires_when_the_steps_follow_each_other_in_time(parse, tmp_path):
    steps = step_rules(tmp_path)
    rule = load_rule_file(write_rule(tmp_path, "kind: sequence\nsequence: {steps: [STEP_A, STEP_B], within: 10m}\n",
                                     "CHAIN"))
    chain = vd(1, "f: Disqualifying osd 5") + "\n" + vd(30, "f: setting volume to 'halted'", minute=25)
    (finding,) = findings_for(parse, rule, chain, steps=steps)
    assert finding.related == ["STEP_A", "STEP_B"] and [e.line for e in finding.evidence] == [1, 2]
    too_late = vd(1, "f: Disqualifying osd 5") + "\n" + vd(30, "f: setting volume to 'halted'", minute=45)
    assert findings_for(parse, rule, too_late, steps=steps) == []
    wrong_order = vd(30, "f: setting volume to 'halted'", minute=21) + "\n" + vd(1, "f: Disqualifying osd 5")
    assert findings_for(parse, rule, wrong_order, steps=steps) == []


def test_sequence_with_absent_last_fires_only_when_recovery_never_came(parse, tmp_path):
    steps = step_rules(tmp_path)
    rule = load_rule_file(write_rule(
        tmp_path, "kind: sequence\nsequence: {steps: [STEP_A, STEP_B], within: 10m, absent_last: true}\n", "NEVER"))
    later = vd(0, "f: later", minute=50, level="info")
    (finding,) = findings_for(parse, rule, vd(1, "f: Disqualifying osd 5") + "\n" + later, steps=steps)
    assert "was not followed by STEP_B within 10m" in finding.detail
    recovered = vd(1, "f: Disqualifying osd 5") + "\n" + vd(5, "f: setting volume to 'halted'", minute=23)
    assert findings_for(parse, rule, recovered + "\n" + later, steps=steps) == []
    logs_end_too_soon = vd(1, "f: Disqualifying osd 5")
    assert findings_for(parse, rule, logs_end_too_soon, steps=steps) == [], "absence unknown before the window ends"


def test_absence_finds_a_producer_silent_while_the_node_logs_otherwise(parse, tmp_path):
    body = "kind: absence\nabsence: {producers: [volumedriver], silent_for: 20m}\n"
    rule = load_rule_file(write_rule(tmp_path, body))
    python = "2017-03-14 10:{m:02d}:00 00000 +0100 - n1 - 1/2 - lib/x - 4 - INFO - tick"
    lines = [vd(0, "f: ok", minute=m, level="info") for m in (0, 1, 2)]
    lines += [python.format(m=m) for m in range(0, 60, 5)]
    text = "\n".join(sorted(lines, key=lambda s: s[:19]))
    (finding,) = findings_for(parse, rule, text, source="x.log")
    assert finding.entities == {"host": "n1", "producer": "volumedriver"}
    assert "until the end of its logs" in finding.detail and finding.first_seen == "2017-03-14T09:03:00.000000Z"
    busy = "\n".join(vd(0, "f: ok", minute=m, level="info") for m in range(0, 60, 10))
    assert findings_for(parse, rule, busy, source="x.log") == [], "silence with nothing else logged is no finding"


def test_evidence_carries_the_lines_around_the_record(make_bundle, rules):
    from analyzer.pipeline.analysis import analyze

    lines = [f"2017-03-14 10:22:0{i} 04700 +0100 - n1 - 1/2 - lib/x - {i} - INFO - line {i}" for i in range(7)]
    lines[3] = lines[3].replace("INFO - line 3", "ERROR - No space left on device")
    analysis = analyze(make_bundle({"var/log/ovs/lib.log": "\n".join(lines) + "\n"}), rules)
    (evidence,) = [e for f in analysis.findings for e in f.evidence if f.rule_id == "NO_SPACE_LEFT_ON_DEVICE"]
    assert evidence.context_before == lines[:3] and evidence.context_after == lines[4:7]


def test_evidence_text_of_hits_kept_without_it_is_read_back_once_for_every_finding(tmp_path):
    """A bundle's hits keep a row number (`_hit`) instead of their text: the findings' evidence
    reads the text and context of the records it shows, for all findings in one read (each read
    unpacks the parts that hold them), and no other record's."""
    from datetime import UTC, datetime

    from analyzer.detection.findings import build_findings

    rule = load_rule_file(write_rule(tmp_path, "match:\n  literals: [x]\n  regex: '(?P<volume>v\\d)'\n"))
    hits = pl.DataFrame({
        "rule_id": ["TEST_RULE"] * 30,
        "source": ["a.log"] * 30,
        "line": list(range(1, 31)),
        "ts": [datetime(2017, 3, 14, 9, 0, i, tzinfo=UTC) for i in range(30)],
        "host": ["n1"] * 30,
        "vpool": [None] * 30,
        "volume": ["v1"] * 25 + ["v2"] * 5,
        "_hit": [100 + i for i in range(30)],
    })
    reads = []

    def text_of(rows: pl.Series, columns):
        reads.append(rows.to_list())
        return pl.DataFrame({"raw": [f"record {r}" for r in rows], "context_before": [[f"before {r}"] for r in rows],
                             "context_after": [[] for _ in rows]}).select(columns)

    findings = build_findings(hits, pl.DataFrame(), [rule], None, text_of=text_of)
    assert len(reads) == 1
    shown = {*range(100, 110), *range(115, 125), *range(125, 130)}
    assert sorted(reads[0]) == sorted(shown)
    by_volume = {f.entities["volume"]: f for f in findings}
    assert [e.raw for e in by_volume["v2"].evidence] == [f"record {r}" for r in range(125, 130)]
    first = by_volume["v1"].evidence[0]
    assert (first.line, first.raw, first.context_before, first.context_after) == (1, "record 100", ["before 100"], [])
    assert by_volume["v1"].evidence_omitted == 5
