"""`ovs-analyzer tasks` and `ovs-analyzer services` on the committed sample, as an engineer runs them."""

from __future__ import annotations

import json

from tests.conftest import SAMPLE, cli


def test_tasks_failed_lists_only_problem_tasks_with_their_exception_and_evidence():
    result = cli("tasks", str(SAMPLE), "--failed")
    assert result.returncode == 0, result.stderr
    assert "ArakoonNoMaster: Could not determine the Arakoon master node" in result.stdout
    assert "[var/log/upstart/ovs-workers.log:" in result.stdout
    assert " succeeded " not in result.stdout


def test_tasks_json_filtered_by_name_pattern():
    result = cli("tasks", str(SAMPLE), "--name", r"^ovs\.vdisk\.dtl_", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows and {r["name"] for r in rows} == {"ovs.vdisk.dtl_checkup"}
    assert {"failed", "succeeded"} <= {r["outcome"] for r in rows}
    assert all(r["first_seen"].endswith("Z") for r in rows)


def test_tasks_with_a_broken_pattern_is_a_one_line_usage_error():
    result = cli("tasks", str(SAMPLE), "--name", "(")
    assert result.returncode == 2
    assert result.stderr.strip() == "ovs-analyzer: error: --name: not a valid regex: '('"


def test_services_table_names_the_crashed_volumedriver_and_the_missing_services():
    result = cli("services", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("node role: master; vPools: vpool1")
    vd = next(line for line in result.stdout.splitlines() if line.startswith("ovs-volumedriver_vpool1 "))
    assert "expected" in vd
    assert "expected but no trace in the bundle: " in result.stdout


def test_services_json_is_the_report_section_and_a_missing_bundle_exits_2(tmp_path):
    result = cli("services", str(SAMPLE), "--json")
    section = json.loads(result.stdout)
    assert set(section) == {"role", "vpools", "services", "timeline_lanes", "missing", "crashed", "flapping",
                           "untimed"}
    missing = cli("services", str(tmp_path / "nope.tar.gz"))
    assert missing.returncode == 2 and missing.stderr.startswith("ovs-analyzer: error: ")
