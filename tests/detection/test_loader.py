"""The rule language's JSON Schema and its loader agree, version ranges compare as dpkg does, and a
rules folder is read at every load while the shipped pack is read once."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from analyzer.detection.loader import default_rule_dirs, load_pack, load_rule_file
from analyzer.detection.versions import VersionRange, assess
from analyzer.errors import UserError

SCHEMA = json.loads((default_rule_dirs()[0] / "rule.schema.json").read_text())
RULE_FILES = sorted(p for p in default_rule_dirs()[0].rglob("*.yaml") if "links" not in p.parent.parts)
BASE = {"id": "MY_RULE", "title": "t", "severity": "high", "component": "dtl", "description": "d",
        "remediation": "r"}


def test_the_schema_is_itself_valid():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_every_shipped_rule_file_validates_against_the_schema(path):
    jsonschema.validate(yaml.safe_load(path.read_text()), SCHEMA)


BROKEN = {
    "unknown field": {"match": {"literals": ["x"]}, "severity_level": "high"},
    "unknown severity": {"severity": "urgent", "match": {"literals": ["x"]}},
    "match rule without match": {},
    "threshold without a window": {"kind": "threshold", "match": {"literals": ["x"]}, "threshold": {"count": 3}},
    "threshold of one": {"kind": "threshold", "match": {"literals": ["x"]},
                         "threshold": {"count": 1, "window": "1m"}},
    "sequence of one step": {"kind": "sequence", "sequence": {"steps": ["A"], "within": "1m"}},
    "block of another kind": {"match": {"literals": ["x"]}, "absence": {"producers": ["x"], "silent_for": "1m"}},
    "duration without unit": {"kind": "clock_jump", "clock_jump": {"backwards": "120"}},
    "versions without bounds": {"match": {"literals": ["x"]}, "versions": {"package": "openvstorage"}},
    "versions that are not versions": {"match": {"literals": ["x"]},
                                       "versions": {"package": "openvstorage", "fixed": "latest"}},
    "escalation with no window": {"match": {"literals": ["x"]}, "escalate": {"to": "critical", "count": 3}},
    "task rule without a name": {"kind": "task", "task": {"outcomes": ["failed"]}},
    "task rule with an unknown outcome": {"kind": "task", "task": {"name": "^ovs\\.mds\\.", "outcomes": ["exploded"]}},
    "task block on a match rule": {"match": {"literals": ["x"]}, "task": {"name": "x"}},
}


@pytest.mark.parametrize("change", BROKEN.values(), ids=BROKEN.keys())
def test_schema_and_loader_both_refuse_a_broken_rule(change, tmp_path):
    doc = {**BASE, **change}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)
    path = tmp_path / "MY_RULE.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(UserError, match=str(path)):
        load_rule_file(path)


def test_a_versions_block_is_loaded(tmp_path: Path):
    doc = {**BASE, "match": {"literals": ["x"]},
           "versions": {"package": "openvstorage", "introduced": "2.7.0", "fixed": "2.7.4-1"}}
    jsonschema.validate(doc, SCHEMA)
    path = tmp_path / "MY_RULE.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert load_rule_file(path).versions == VersionRange("openvstorage", "2.7.0", "2.7.4-1")


SPAN = VersionRange("openvstorage", "2.7.0", "2.7.4")


@pytest.mark.parametrize(("installed", "verdict"), [
    ("2.7.2-1", "affected"),
    ("2.7.0", "affected"),
    ("2.7.4~rc1", "affected"),  # a release candidate sorts before the release, as in dpkg
    ("2.7.4", "not_affected"),
    ("2.7.10-rev.1", "not_affected"),  # 10 > 4 numerically, not as text
    ("2.6.9", "not_affected"),
    (None, "unknown"),
    ("garbage", "unknown"),
])
def test_a_version_is_judged_against_the_range_as_dpkg_compares(installed, verdict):
    found = {} if installed is None else {"openvstorage": installed}
    got, why = assess(SPAN, found)
    assert got == verdict
    assert "openvstorage" in why


def test_an_open_range_has_only_the_bound_it_names():
    assert assess(VersionRange("volumedriver-no-dedup-server", None, "6.16.4"),
                  {"volumedriver-no-dedup-server": "5.0.1"})[0] == "affected"
    assert assess(VersionRange("alba", "1.5", None), {"alba": "1.6.2"})[0] == "affected"


def _versioned_rule(tmp_path: Path, rule_id: str, versions: dict[str, str]) -> Path:
    doc = {**BASE, "id": rule_id, "component": "arakoon", "match": {"literals": ["Unable to determine master node"]},
           "versions": versions}
    path = tmp_path / f"{rule_id}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_findings_say_whether_the_nodes_release_is_affected(tmp_path, rules):
    from analyzer.outputs.report import findings_document, render_html, timeline_model
    from analyzer.pipeline.analysis import analyze
    from tests.conftest import SAMPLE

    # the sample node runs openvstorage 2.7.9.1-1 (dpkg.log)
    ranges = {"STILL_BROKEN": {"package": "openvstorage", "introduced": "2.7.0", "fixed": "2.7.10"},
              "FIXED_LONG_AGO": {"package": "openvstorage", "fixed": "2.7.4"},
              "OTHER_PACKAGE": {"package": "nosuchpkg", "fixed": "1.0"}}
    custom = [load_rule_file(_versioned_rule(tmp_path, rule_id, span)) for rule_id, span in ranges.items()]
    analysis = analyze(SAMPLE, [*rules, *custom])
    by_id = {f.rule_id: f for f in analysis.findings}
    assert by_id["STILL_BROKEN"].versions == ("openvstorage 2.7.9.1-1 is affected "
                                              "(openvstorage from 2.7.0, fixed in 2.7.10)")
    assert by_id["FIXED_LONG_AGO"].versions.startswith("openvstorage 2.7.9.1-1 has the fix (fixed in 2.7.4): "
                                                       "fired anyway")
    assert by_id["OTHER_PACKAGE"].versions.startswith("no nosuchpkg version found")
    assert by_id["ARAKOON_NO_MASTER"].versions is None, "a rule without a range says nothing about releases"
    verdicts = {v["id"]: v["verdict"] for v in analysis.coverage["rule_versions"]}
    assert {k: v for k, v in verdicts.items() if k in ranges} == {
        "STILL_BROKEN": "affected", "FIXED_LONG_AGO": "not_affected", "OTHER_PACKAGE": "unknown"}
    assert set(verdicts) == {r.id for r in [*rules, *custom] if r.versions}, "every rule with a range is judged"
    doc = findings_document(analysis, "2026-01-01T00:00:00Z", {})
    page = render_html(doc, timeline_model(analysis, doc))
    assert "Rules whose release range excludes this node" in page and "has the fix (fixed in 2.7.4)" in page


def test_a_rules_folder_and_a_config_are_read_anew_at_each_load_the_shipped_pack_once(tmp_path: Path):
    """A triage worker (a Dask worker above all) loads the pack for bundle after bundle: a rule or a
    tuning being written is the one the next bundle meets, while the shipped pack is parsed once."""
    mine, config = tmp_path / "rules", tmp_path / "site.yaml"
    mine.mkdir()
    rule = mine / "MY_RULE.yaml"
    rule.write_text(yaml.safe_dump({**BASE, "match": {"literals": ["boom"]}}))
    config.write_text(yaml.safe_dump({"rules": {"MY_RULE": {"enabled": True}}}))

    def my_rule() -> tuple[str, bool]:
        found = next(r for r in load_pack((mine,), config) if r.id == "MY_RULE")
        return found.severity, found.enabled

    assert my_rule() == ("high", True)
    rule.write_text(yaml.safe_dump({**BASE, "severity": "low", "match": {"literals": ["boom"]}}))
    assert my_rule() == ("low", True)
    config.write_text(yaml.safe_dump({"rules": {"MY_RULE": {"enabled": False}}}))
    assert my_rule() == ("low", False)
    first, again = load_pack(), load_pack()
    assert first == again and all(a is b for a, b in zip(first, again, strict=True)), "the shipped pack, read once"
