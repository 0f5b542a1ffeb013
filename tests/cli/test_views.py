"""`ovs-analyzer tasks` and `ovs-analyzer services` on the committed sample, as an engineer runs them."""

from __future__ import annotations

import json

from tests.conftest import SAMPLE, build_tar, cli


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
    assert vd.endswith("  flapping"), "running again: flapping says it all, expected-and-running is no news"
    assert "expected but no trace in the bundle: " in result.stdout


def test_services_json_is_the_report_section_and_a_missing_bundle_exits_2(tmp_path):
    result = cli("services", str(SAMPLE), "--json")
    section = json.loads(result.stdout)
    assert set(section) == {"role", "vpools", "services", "timeline_lanes", "missing", "crashed", "flapping",
                           "untimed"}
    missing = cli("services", str(tmp_path / "nope.tar.gz"))
    assert missing.returncode == 2 and missing.stderr.startswith("ovs-analyzer: error: ")


def test_tasks_shows_a_timed_out_ensure_single_task_without_runtime_and_with_its_whole_message():
    """The sample's mds_checkup was dropped from ensure single's queue: it never ran, so the runtime
    column is empty, and the line under it is the whole message, however long, not a cut of it."""
    result = cli("tasks", str(SAMPLE), "--failed")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    i = next(i for i, line in enumerate(lines) if " timed_out " in line and "ovs.mds.mds_checkup" in line)
    assert lines[i].split("timed_out", 1)[1].split()[0] == "ovs.mds.mds_checkup", "no runtime before the name"
    assert "Could not start task ovs.mds.mds_checkup with params {}, within expected time (300s). " \
           "Removed it from queue  [var/log/journald.log:" in lines[i + 1]


def test_services_flags_only_an_expected_service_that_is_not_running_and_says_why_it_is_expected(tmp_path):
    """On a node nearly every service is an expected one, so a flag "expected" on every row told an
    engineer nothing. What matters is an expected service that is down at the end of the logs, and
    what makes it expected here (every node, a master node, or a vPool the node serves): that is the
    flag now. Expected services that run carry no flag; expected ones with no trace at all are the
    "expected but no trace" line; the JSON keeps `expected` and says why in `expected_for`."""
    journal = "".join(f"Mar 14 {t} ovs-node1 systemd[1]: {msg}\n" for t, msg in (
        ("09:00:01", "Started Open vStorage workers."),
        ("09:00:02", "Started Open vStorage StorageDriver."),
        ("09:10:00", "ovs-volumedriver_vpool1.service: Main process exited, code=exited, status=1/FAILURE"),
        ("09:10:00", "ovs-volumedriver_vpool1.service: Failed with result 'exit-code'."),
        ("09:10:01", "Stopped Open vStorage workers."),
    ))
    bundle = build_tar(tmp_path / "ovs-node1-20170314110205-logs.tar.gz", {
        "var/log/journald.log": "-- Logs begin at Tue 2017-03-14 09:00:01 CET, end at Tue 2017-03-14 11:00:00 CET. --\n"
                                + journal,
        "var/log/ovs/volumedriver/vpool1.log": "2017-03-14 09:00:03 046812 +0100 - ovs-node1 - "
                                               "18332/0x00007f8400994700 - volumedriverfs/VolManager - "
                                               "00000000000a1b2c - info - starting\n",
    })
    result = cli("services", str(bundle))
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[2:-1]}
    assert rows["ovs-volumedriver_vpool1"].endswith(", but expected for vPool vpool1")
    assert rows["ovs-workers"].endswith("stopped, but expected for every node")
    assert "expected" not in result.stdout.splitlines()[1], "the header names no flag"
    section = json.loads(cli("services", str(bundle), "--json").stdout)
    workers = next(s for s in section["services"] if s["unit"] == "ovs-workers")
    assert (workers["expected"], workers["expected_for"]) == (True, "every node")


def test_tasks_and_services_read_a_bundle_of_bundles_node_by_node_as_their_help_says(tmp_path):
    """The shared BUNDLE help says a bundle of bundles is read node by node: `tasks` lists every node's
    tasks in one table (each row names its host), `services` prints one table per node bundle."""
    from samples.make_sample import write_sample

    for node in ("node1", "node2"):  # the sample's story on two nodes (a byte-for-byte copy is one node sent twice)
        write_sample(tmp_path / f"ovs-{node}-20170314102205-logs.tar.gz", host=f"ovs-{node}")
    one = cli("tasks", str(SAMPLE), "--failed").stdout.splitlines()[-1]
    both = cli("tasks", str(tmp_path), "--failed")
    assert both.returncode == 0, both.stderr
    count = int(one.split()[0])
    assert both.stdout.splitlines()[-1].startswith(f"{2 * count} tasks")
    services = cli("services", str(tmp_path))
    assert services.returncode == 0, services.stderr
    assert [line for line in services.stdout.splitlines() if line.startswith("== ")] == [
        "== ovs-node1-20170314102205-logs.tar.gz", "== ovs-node2-20170314102205-logs.tar.gz"]
    nodes = json.loads(cli("services", str(tmp_path), "--json").stdout)
    assert [n["bundle"] for n in nodes] == ["ovs-node1-20170314102205-logs.tar.gz",
                                            "ovs-node2-20170314102205-logs.tar.gz"]
    assert all(n["role"] == "master" for n in nodes)


def test_an_escape_sequence_in_a_logged_exception_is_printed_as_text_not_run_by_the_terminal(tmp_path):
    """A task's exception is the customer's text: echoed raw, `ESC ] 0 ; ... BEL` would retitle the
    engineer's terminal and `ESC [ 2 J` clear it."""
    bundle = build_tar(tmp_path / "ovs-node1-20170314110205-logs.tar.gz", {"var/log/upstart/ovs-workers.log": (
        "[2017-03-14 10:30:05,046: INFO/MainProcess] Received task: ovs.storagerouter.ping"
        "[6afcfa49-6520-41ed-b847-8f084a06d853]\n"
        "[2017-03-14 10:30:06,046: ERROR/MainProcess] Task ovs.storagerouter.ping"
        "[6afcfa49-6520-41ed-b847-8f084a06d853] raised unexpected: RuntimeError('\x1b]0;pwned\x07\x1b[2Jboom')\n")})
    result = cli("tasks", str(bundle), "--failed")
    assert result.returncode == 0, result.stderr
    assert "RuntimeError: \\x1b]0;pwned\\x07\\x1b[2Jboom" in result.stdout
    assert "\x1b" not in result.stdout + result.stderr
