"""`ovs-analyzer diff OLD NEW`: is it fixed? Findings appeared, resolved and persisting on one node."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from samples.make_sample import CET, write_sample
from tests.conftest import SAMPLE, cli


@pytest.fixture(scope="module")
def later(tmp_path_factory):
    """The same node two days later: healthy (fixed), or the same incident again (not fixed)."""
    root = tmp_path_factory.mktemp("later")
    start = datetime(2017, 3, 16, 8, 20, tzinfo=CET)
    fixed = root / "fixed" / "ovs-node1-20170316102205-logs.tar.gz"
    again = root / "again" / "ovs-node1-20170316102205-logs.tar.gz"
    write_sample(fixed, scenario="healthy", start=start)
    write_sample(again, scenario="incident", start=start)
    return {"fixed": fixed, "again": again}


def run_diff(*args: str) -> tuple[int, dict]:
    result = cli("diff", *args, "--json")
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout) if result.returncode in (0, 3) else {}


def test_a_fixed_node_shows_its_problems_resolved_and_nothing_new(later):
    code, diff = run_diff(str(SAMPLE), str(later["fixed"]), "--fail-on", "low")
    assert code == 0
    resolved = {f["rule_id"] for f in diff["resolved"]}
    assert {"VOLUMEDRIVER_CRASH", "ARAKOON_NO_MASTER", "NO_SPACE_LEFT_ON_DEVICE"} <= resolved
    assert [f for f in diff["appeared"] if f["severity"] != "info"] == []
    assert diff["summary"]["same_hosts"] is True


def test_the_same_failure_again_after_the_old_logs_persists_as_recurred_and_fails(later):
    code, diff = run_diff(str(SAMPLE), str(later["again"]), "--fail-on", "high")
    assert code == 3
    persisting = {f["rule_id"]: f for f in diff["persisting"]}
    crash = persisting["VOLUMEDRIVER_CRASH"]
    assert crash["recurred"] is True and crash["in_old_bundle"]["last_seen"] < crash["first_seen"]
    assert diff["resolved"] == []


def test_old_occurrences_seen_again_in_a_newer_bundle_are_not_called_recurring(tmp_path):
    report = tmp_path / "report"
    assert cli("analyze", str(SAMPLE), "-o", str(report)).returncode == 0
    code, diff = run_diff(str(report), str(report / "findings.json"), "--fail-on", "info")
    assert code == 0, "nothing new, nothing happened again"
    assert diff["summary"] == {**diff["summary"], "appeared": 0, "resolved": 0, "recurred": 0}
    assert diff["summary"]["persisting"] == len(json.loads((report / "findings.json").read_text())["findings"])


def test_out_writes_json_and_paste_ready_markdown(later, tmp_path):
    result = cli("diff", str(SAMPLE), str(later["fixed"]), "-o", str(tmp_path))
    assert result.returncode == 0
    assert result.stdout.startswith("**ovs-analyzer diff**: ")
    assert (tmp_path / "diff.md").read_text() == result.stdout
    assert json.loads((tmp_path / "diff.json").read_text())["schema"] == "ovs-analyzer/diff/2"


def test_a_file_that_is_no_findings_document_is_a_one_line_error(tmp_path):
    bogus = tmp_path / "x.json"
    bogus.write_text('{"hello": 1}')
    result = cli("diff", str(bogus), str(SAMPLE))
    assert result.returncode == 2
    assert "neither a findings.json nor a triage.json" in result.stderr and result.stderr.count("\n") == 1


def test_the_json_and_the_markdown_name_the_sides_and_the_lists_with_the_same_words(later):
    """`old_bundle`/`new_bundle` are the two sides, `appeared`/`resolved`/`persisting` what happened to a
    finding between them: no key called `new` that could mean either the newer side or a new finding."""
    code, diff = run_diff(str(SAMPLE), str(later["again"]))
    assert code == 0
    assert {"old_bundle", "new_bundle", "appeared", "resolved", "persisting", "summary"} <= set(diff)
    assert not {"old", "new", "new_findings"} & set(diff)
    assert set(diff["summary"]) == {"appeared", "resolved", "persisting", "recurred", "same_hosts"}
    assert diff["old_bundle"]["source"] == str(SAMPLE) and diff["new_bundle"]["source"] == str(later["again"])
    assert all("in_old_bundle" in p for p in diff["persisting"])
    text = cli("diff", str(SAMPLE), str(later["again"])).stdout
    s = diff["summary"]
    assert text.startswith(f"**ovs-analyzer diff**: {s['appeared']} appeared, {s['resolved']} resolved, "
                           f"{s['persisting']} persisting ")
    assert f"- old bundle: `{SAMPLE}`" in text and f"- new bundle: `{later['again']}`" in text
    for heading in ("Appeared", "Persisting", "Resolved"):
        assert f"### {heading} (" in text


def test_a_bundle_of_bundles_is_compared_node_by_node_not_as_an_empty_bundle(tmp_path):
    """An upload of every node against the same upload: every node's findings persist, none appears."""
    import tarfile

    from samples.make_sample import write_cluster

    write_cluster(tmp_path / "nodes", hosts=("ovs-node1", "ovs-node2"), scenarios=("incident", "healthy"),
                  skews=(0.0, 0.0), seed=5)
    upload = tmp_path / "upload.tar"
    with tarfile.open(upload, "w") as tar:
        for bundle in sorted((tmp_path / "nodes").iterdir()):
            tar.add(bundle, arcname=bundle.name)
    code, diff = run_diff(str(upload), str(upload))
    assert code == 0
    assert diff["new_bundle"]["hosts"] == ["ovs-node1", "ovs-node2"]
    assert diff["summary"]["appeared"] == diff["summary"]["resolved"] == 0
    assert {h for p in diff["persisting"] for h in p["hosts"]} == {"ovs-node1", "ovs-node2"}
