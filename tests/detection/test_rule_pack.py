"""The shipped rule pack: every rule loads, and its examples behave as its file declares."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from analyzer.cli.app import main
from analyzer.detection.loader import default_rule_dirs, load_rules
from analyzer.pipeline.event_table import bundle_events
from analyzer.pipeline.rule_examples import run_rule_examples
from samples.make_sample import write_sample

RULES = load_rules(default_rule_dirs())
#: The share of a healthy node's records that one rule literal may pick as candidates. A literal
#: that everyday lines hold (a request, a task) sends most records of a busy node through the
#: rule's regex: `Request ` did, as ASD_SLOW_REQUESTS's literal, on 6.5% of them.
MAX_CANDIDATE_SHARE = 0.03


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_examples_fire_through_the_real_parser(rule, formats):
    failures = run_rule_examples([rule], RULES, formats)
    assert not failures, "\n".join(f.describe() for f in failures)


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_file_is_complete(rule):
    assert Path(rule.source_file).stem == rule.id
    assert Path(rule.source_file).parent.name == rule.component
    assert rule.examples_match, "a rule needs at least one example it must match"
    assert rule.examples_no_match, "a rule needs at least one near-miss it must not match"
    if rule.kind in ("match", "threshold") and rule.matcher and (rule.matcher.regex or rule.matcher.literals):
        assert rule.matcher.literals, "a literal pre-filter keeps the pack fast on big bundles"


@pytest.fixture(scope="module")
def healthy_records(tmp_path_factory) -> pl.Series:
    """The raw text of every record of a healthy node's bundle (the sample generator's)."""
    folder = tmp_path_factory.mktemp("healthy")
    write_sample(folder, scenario="healthy", host="ovs-healthy")
    (bundle,) = folder.glob("ovs-*-logs.tar.gz")
    return bundle_events(bundle)["raw"]


def test_no_rule_literal_picks_many_records_of_a_healthy_node(healthy_records):
    share = {f"{rule.id}: {literal!r}": float(healthy_records.str.contains(literal, literal=True).mean() or 0)
             for rule in RULES if rule.matcher for literal in rule.matcher.literals}
    broad = {name: round(value, 3) for name, value in share.items() if value > MAX_CANDIDATE_SHARE}
    assert not broad, f"literals that many healthy records hold (narrow them to the failure's own words): {broad}"


def test_the_pack_covers_the_catalog_patterns_the_walking_skeleton_needs():
    ids = {r.id for r in RULES}
    assert {"ARAKOON_NO_MASTER", "DTL_DEGRADED", "VOLUMEDRIVER_CRASH", "VOLUME_HALTED",
            "NO_SPACE_LEFT_ON_DEVICE"} <= ids


def test_rules_test_command_passes_on_the_shipped_pack(capsys):
    assert main(["rules", "test"]) == 0
    assert ": 0 failed" in capsys.readouterr().out


def test_rules_test_command_reports_a_failing_example(tmp_path, capsys):
    rule = tmp_path / "BAD_RULE.yaml"
    rule.write_text("id: BAD_RULE\ntitle: t\nseverity: low\ncomponent: system\ndescription: d\n"
                    "remediation: r\nmatch:\n  literals: [needle]\nexamples:\n  match: [haystack]\n")
    assert main(["rules", "test", str(rule)]) == 3
    err = capsys.readouterr().err
    assert "FAIL BAD_RULE" in err and "none of the literals ['needle'] occurs" in err


def test_rules_show_prints_the_file_and_what_the_engine_made_of_it(capsys):
    assert main(["rules", "show", "ALBA_OSD_DISQUALIFIED"]) == 0
    out = capsys.readouterr().out
    assert "kind match, severity medium, one finding per: osd" in out and "id: ALBA_OSD_DISQUALIFIED" in out
    assert main(["rules", "show", "NOPE"]) == 2


def test_scaffold_turns_an_unexplained_error_into_a_rule_whose_examples_pass(tmp_path, capsys):
    from tests.conftest import SAMPLE

    assert main(["rules", "scaffold", str(SAMPLE)]) == 0
    listing = capsys.readouterr().out
    assert "templates; write one with --template N" in listing
    target = tmp_path / "site-rules" / "NEW.yaml"  # a folder that does not exist yet is made
    assert main(["rules", "scaffold", str(SAMPLE), "--template", "1", "-o", str(target)]) == 0
    assert "examples pass" in capsys.readouterr().out
    assert main(["rules", "test", str(target)]) == 0
    text = target.read_text()
    assert "examples:" in text and "no_match:" in text and "tags:\n- scaffolded" in text
