"""The sample bundles: deterministic, and every planted failure is found where it was planted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzer.pipeline.analysis import analyze
from samples.make_sample import write_sample
from tests.conftest import SAMPLE


def test_the_committed_sample_is_what_the_generator_makes(tmp_path):
    fresh = tmp_path / SAMPLE.name
    write_sample(fresh, seed=1, host="ovs-node1", scenario="incident")
    assert fresh.read_bytes() == SAMPLE.read_bytes(), "regenerate: python samples/make_sample.py " + str(SAMPLE)
    assert SAMPLE.stat().st_size < 2 * 1024 * 1024


@pytest.mark.parametrize("scenario", ["incident", "legacy"])
def test_every_planted_failure_is_found_at_its_member_and_line(tmp_path, rules, scenario):
    bundle = tmp_path / "ovs-node1-20170314102205-logs.tar.gz"
    manifest = write_sample(bundle, scenario=scenario)
    analysis = analyze(bundle, rules)
    found = {(f.rule_id, e.source, e.line) for f in analysis.findings for e in f.evidence}
    # rsyslog's copy of a kernel or journal line is the same entry: found once, at its best copy
    copies = {(f.rule_id, e.raw) for f in analysis.findings for e in f.evidence}
    missing = [p for p in manifest["planted"] if (p["id"], p["member"], p["line"]) not in found
               and not (_is_syslog_copy(p["member"]) and (p["id"], p["text"]) in copies)]
    assert not missing, json.dumps(missing, indent=1)


def _is_syslog_copy(member: str) -> bool:
    return member.rsplit("/", 1)[-1].split(".")[0] in ("syslog", "messages", "kern")


def test_manifest_line_counts_match_what_the_analyzer_counts(tmp_path, rules):
    bundle = tmp_path / "ovs-node1-20170314102205-logs.tar.gz"
    manifest = write_sample(bundle)
    analysis = analyze(bundle, rules)
    counted = {m.path: m.lines for m in analysis.members if not m.binary}
    expected = {p: n for p, n in manifest["members"].items() if p in counted}
    assert counted == expected
    assert Path(bundle).stat().st_size < 2 * 1024 * 1024
