"""`ovs-analyzer triage`: a folder of real bundles (and broken files) in, a ranked index out."""

from __future__ import annotations

import csv
import json
import shutil
import tarfile
from pathlib import Path

import pytest
import yaml

from analyzer.batch.discovery import discover
from analyzer.batch.jobs import plan, run_bundle
from analyzer.batch.triage import urgency
from samples.make_sample import write_sample
from tests.conftest import SAMPLE, build_tar, cli


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    """A support inbox: an incident, a healthy node, a legacy node unpacked, a corrupt archive, noise."""
    root = tmp_path_factory.mktemp("inbox")
    shutil.copy(SAMPLE, root / SAMPLE.name)
    write_sample(root / "customer-b" / "ovs-node7-20170314102205-logs.tar.gz", scenario="healthy", host="ovs-node7")
    (root / "customer-c").mkdir()
    legacy = write_sample(root / "customer-c", scenario="legacy", host="ovs-old1")
    with tarfile.open(root / "customer-c" / legacy["archive"]) as tar:
        tar.extractall(root / "customer-c" / "ovs-old1-unpacked", filter="data")
    (root / "customer-c" / legacy["archive"]).unlink()
    (root / "customer-b" / "ovs-bad-20170314102205-logs.tar.gz").write_bytes(b"\x1f\x8b\x08\x00garbage" * 100)
    (root / "customer-b" / "README.txt").write_text("not a bundle\n")
    return root


@pytest.fixture(scope="module")
def triaged(inbox, tmp_path_factory):
    out = tmp_path_factory.mktemp("triage-out")
    result = cli("triage", str(inbox), "-o", str(out), "--jobs", "2", "--fail-on", "high")
    return result, out


def test_discover_takes_archives_and_unpacked_folders_recursively_and_skips_other_files(inbox):
    found = discover([str(inbox)])
    names = sorted(p.name for p in found)
    assert names == ["ovs-bad-20170314102205-logs.tar.gz", "ovs-node1-20170314102205-logs.tar.gz",
                     "ovs-node7-20170314102205-logs.tar.gz", "ovs-old1-unpacked"]


def test_discover_expands_globs_and_keeps_each_bundle_once(inbox):
    found = discover([str(inbox / "**" / "*.tar.gz"), str(inbox / SAMPLE.name), str(inbox)])
    assert len(found) == 4
    assert len({p.resolve() for p in found}) == 4


def test_a_file_named_explicitly_is_taken_even_when_it_is_not_a_bundle(inbox):
    assert discover([str(inbox / "customer-b" / "README.txt")]) == [inbox / "customer-b" / "README.txt"]


def test_triage_writes_one_report_per_bundle_an_index_json_and_csv(triaged):
    result, out = triaged
    assert "Traceback" not in result.stderr
    doc = json.loads((out / "triage.json").read_text())
    assert doc["schema"] == "ovs-analyzer/triage/1"
    ok = [r for r in doc["bundles"] if r["status"] == "ok"]
    assert len(ok) == 3
    for row in ok:
        assert 0 < row["worker_peak_mib"] < 1024, "a small bundle keeps its worker small"
        report = out / row["report"]
        assert report.is_file() and (report.parent / "findings.json").is_file()
        assert json.loads((report.parent / "findings.json").read_text())["verdict"] == row["worst"]
    assert (out / "index.html").is_file()
    with (out / "triage.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["bundle"] for r in rows] == [r["bundle"] for r in doc["bundles"]]


def test_an_unreadable_bundle_is_an_error_row_and_the_batch_goes_on(triaged):
    _, out = triaged
    doc = json.loads((out / "triage.json").read_text())
    bad = [r for r in doc["bundles"] if r["status"] == "error"]
    assert [r["bundle"] for r in bad] == ["ovs-bad-20170314102205-logs.tar.gz"]
    assert "not a readable" in bad[0]["error"] and bad[0]["report"] is None
    assert doc["summary"] == {**doc["summary"], "bundles": 4, "ok": 3, "errors": 1}


def test_rows_are_sorted_by_urgency_most_urgent_first(triaged):
    _, out = triaged
    rows = json.loads((out / "triage.json").read_text())["bundles"]
    assert [r["worst"] for r in rows] == ["critical", "critical", None, "clean"]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["host"] == "ovs-node1" and rows[0]["role"] == "master"
    assert rows[0]["findings"][0]["severity"] == "critical"
    assert [urgency(r) for r in rows] == sorted(urgency(r) for r in rows)


def test_exit_code_follows_the_worst_finding_over_all_bundles(triaged, inbox, tmp_path):
    result, _ = triaged
    assert result.returncode == 3, result.stdout + result.stderr
    healthy = inbox / "customer-b" / "ovs-node7-20170314102205-logs.tar.gz"
    assert cli("triage", str(healthy), "-o", str(tmp_path / "a"), "--fail-on", "low").returncode == 0
    assert cli("triage", str(healthy), "-o", str(tmp_path / "b"), "--fail-on", "info").returncode == 3


def test_without_a_terminal_progress_is_one_plain_line_per_bundle(triaged):
    result, _ = triaged
    lines = [line for line in result.stderr.splitlines() if line.startswith("[")]  # stdout holds the result
    assert len(lines) == 4 and lines[-1].startswith("[4/4] ")
    assert "\x1b" not in result.stdout + result.stderr


def test_nothing_to_triage_is_a_one_line_error(tmp_path):
    result = cli("triage", str(tmp_path), "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.startswith("ovs-analyzer: error: no bundle found") and result.stderr.count("\n") == 1


def test_a_missing_path_named_explicitly_is_an_error_row(tmp_path):
    result = cli("triage", str(SAMPLE), str(tmp_path / "gone.tar.gz"), "-o", str(tmp_path / "out"), "-j", "1")
    assert result.returncode == 4, result.stderr
    rows = json.loads((tmp_path / "out" / "triage.json").read_text())["bundles"]
    assert {r["bundle"]: r["status"] for r in rows} == {SAMPLE.name: "ok", "gone.tar.gz": "error"}
    assert "no such file or directory" in next(r["error"] for r in rows if r["status"] == "error")


def test_one_worker_goes_through_many_bundles(tmp_path):
    line = ("2017-03-14 10:22:05 046812 +0100 - ovs-node1 - 18332/0x00007f8400994700 - volumedriverfs/Volume - "
            "00000000000a1b2c - error - write: No space left on device\n")
    (tmp_path / "in").mkdir()
    for i in range(7):
        build_tar(tmp_path / "in" / f"ovs-n{i}-20170314102205-logs.tar.gz", {"var/log/ovs/volumedriver/vp.log": line})
    result = cli("triage", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--jobs", "1")
    assert result.returncode == 0, result.stderr
    rows = json.loads((tmp_path / "out" / "triage.json").read_text())["bundles"]
    assert len(rows) == 7 and {r["worst"] for r in rows} == {"high"}


def test_a_worker_meets_a_rule_edited_between_two_bundles(tmp_path):
    """A Dask worker lives from one triage to the next: the rule a support engineer just tuned in
    the --rules folder is the one its next bundle is judged by, not the one it read first."""
    line = "2017-03-14 10:22:05 046812 +0100 - ovs-node1 - 1/2 - lib/vdisk - 1 - INFO - frobnicator jammed\n"
    bundle = build_tar(tmp_path / "ovs-node1-20170314102205-logs.tar.gz", {"var/log/ovs/lib.log": line})
    mine = tmp_path / "rules"
    mine.mkdir()
    rule = {"id": "FROBNICATOR_JAMMED", "title": "Frobnicator jammed", "component": "framework",
            "description": "d", "remediation": "r", "match": {"literals": ["frobnicator jammed"]}}

    def judged(severity: str, out: str) -> str:
        (mine / "FROBNICATOR_JAMMED.yaml").write_text(yaml.safe_dump({**rule, "severity": severity}))
        [job] = plan([bundle], tmp_path / out, (mine,), None, {})
        [done] = run_bundle(job)
        assert done.row["status"] == "ok", done.row
        findings = json.loads((job.out_dir / "findings.json").read_text())["findings"]
        return next(f["severity"] for f in findings if f["rule_id"] == "FROBNICATOR_JAMMED")

    assert judged("medium", "first") == "medium"
    assert judged("critical", "second") == "critical"


def test_an_output_folder_inside_the_inbox_is_not_triaged_again(tmp_path):
    shutil.copy(SAMPLE, tmp_path)
    for _ in range(2):
        result = cli("triage", str(tmp_path), "-o", str(tmp_path / "out"), "-j", "1")
        assert result.returncode == 0, result.stderr
        assert len(json.loads((tmp_path / "out" / "triage.json").read_text())["bundles"]) == 1


def test_when_no_bundle_at_all_can_be_read_it_is_exit_2_with_the_rows_written(tmp_path):
    (tmp_path / "ovs-a-20170314102205-logs.tar.gz").write_bytes(b"junk")
    result = cli("triage", str(tmp_path), "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and "none of the 1 bundle(s) could be analyzed: " in result.stderr
    assert json.loads((tmp_path / "out" / "triage.json").read_text())["bundles"][0]["status"] == "error"


def test_a_full_disk_under_one_bundles_report_is_its_row_says_so_not_an_internal_error(tmp_path):
    report = tmp_path / "out" / "bundles" / SAMPLE.name.removesuffix(".tar.gz")
    report.mkdir(parents=True)
    (report / ".findings.json.partial").symlink_to("/dev/full")  # where it is written before it takes its name
    result = cli("triage", str(SAMPLE), "-o", str(tmp_path / "out"))
    [row] = json.loads((tmp_path / "out" / "triage.json").read_text())["bundles"]
    assert row["error"] == "No space left on device (free some space, or write the outputs elsewhere with -o)"
    assert result.stderr.splitlines()[-1] == (
        "ovs-analyzer: error: none of the 1 bundle(s) could be analyzed: No space left on device (free some space, "
        f"or write the outputs elsewhere with -o); the rows are in {tmp_path / 'out' / 'triage.json'}")
    assert [line for line in result.stderr.splitlines() if line.startswith("ovs-analyzer: ")] == \
        result.stderr.splitlines()[-1:], "one error line, after the per-bundle line"


def test_a_bundle_of_bundles_gives_one_row_and_report_per_node(tmp_path):
    from samples.make_sample import write_cluster

    nodes = tmp_path / "nodes"
    manifests = write_cluster(nodes, hosts=("ovs-node1", "ovs-node2"), scenarios=("incident", "healthy"),
                              skews=(0.0, 1.0))
    (tmp_path / "in").mkdir()
    build_tar(tmp_path / "in" / "customer-all-nodes.tar",
              {m["archive"]: (nodes / m["archive"]).read_bytes() for m in manifests}, compress=False)
    result = cli("triage", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "1")
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "out" / "triage.json").read_text())
    rows = {r["host"]: r for r in doc["bundles"]}
    assert set(rows) == {"ovs-node1", "ovs-node2"}
    assert rows["ovs-node1"]["worst"] == "critical"
    assert rows["ovs-node1"]["bundle"].startswith("customer-all-nodes.tar/")
    assert all((tmp_path / "out" / r["report"]).is_file() for r in rows.values())
    assert [c["hosts"] for c in doc["clusters"]] == [["ovs-node1", "ovs-node2"]]


def test_a_name_a_spreadsheet_would_read_as_a_formula_stays_text_in_triage_csv(tmp_path):
    """triage.csv is opened in a spreadsheet, and bundle names and errors are the customer's text."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLE, inbox / "=HYPERLINK(1)-ovs-node1.tar.gz")
    (inbox / "@SUM(1)-ovs-node2.tar.gz").write_bytes(b"\x1f\x8b\x08\x00garbage" * 100)
    result = cli("triage", str(inbox), "-o", str(tmp_path / "out"), "--jobs", "1")
    assert result.returncode == 4, result.stderr
    with (tmp_path / "out" / "triage.csv").open() as fh:
        rows = {row["status"]: row for row in csv.DictReader(fh)}
    assert rows["ok"]["bundle"] == "'=HYPERLINK(1)-ovs-node1.tar.gz"
    assert rows["error"]["bundle"] == "'@SUM(1)-ovs-node2.tar.gz"
    assert rows["ok"]["critical"].isdigit() and rows["ok"]["rank"] == "1"
