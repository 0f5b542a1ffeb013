"""Start here, end to end: cascade bundles built from real signatures, with distractors that are
earlier or more severe than the true cause, give the true cause; the sample starts at a cause, not an effect."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SAMPLE, build_tar, cli

NODE = "2017-03-14 {t} 046812 +0100 - ovs-node1 - 18332/0x00007f83f2ffd700 - volumedriverfs/{c} - 00000000000a1b2c - "

DISTRACTORS = {
    # earlier than everything, but explains nothing
    "var/log/ovs/lib.log": "2017-03-14 07:59:05 04700 +0100 - ovs-node1 - 2816/140355468900096 - extensions/volatile "
                           "mutex - 44 - WARNING - Waited 0.103229045868 sec for lock ovs_lock_messaging\n",
    # more severe than the cause, later, alone
    "var/log/ovs/volumedriver/vpool2.log":
        NODE.format(t="10:30:05", c="MDSMetaDataStore") + "error - mdstore_: 6c7e3f1a-58a2-4b4f-9d0a-2f8f1a1c0b77: "
        "no internal MetaDataStore present - all previous MDS failover attempts failed?\n",
}

STORAGE_CASCADE = {
    "var/log/kern.log":
        "Mar 14 08:39:12 ovs-node1 kernel: [12345.678901] XFS (sdc): xfs_log_force: error -5 returned.\n",
    "var/log/ovs/albaproxy_vpool1_0.log":
        "2017-03-14 08:39:14 046812 +0100 - ovs-node1 - 5512/0000 - alba/proxy - 1034 - info - "
        "Disqualifying osd 5: Unix.Unix_error(Unix.EPIPE, \"write\", \"\")\n",
    "var/log/ovs/volumedriver/vpool1.log":
        NODE.format(t="08:39:50", c="BackendInterface") + "warning - do_wrap_: 6c7e3f1a-58a2-4b4f-9d0a-2f8f1a1c0b77: "
        "retrying with new connection (retry: 1, sleep before retry: 1000 milliseconds)\n"
        + NODE.format(t="09:14:10", c="Volume") + "fatal - halt: 6c7e3f1a-58a2-4b4f-9d0a-2f8f1a1c0b77: Setting "
        "volume to 'halted'\n",
}


def _findings(tmp_path, members):
    bundle = build_tar(tmp_path / "ovs-node1-20170314102205-logs.tar.gz", members)
    result = cli("analyze", str(bundle), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    return json.loads((tmp_path / "out" / "findings.json").read_text())


def test_a_failing_disk_is_where_to_start_though_a_lock_warning_came_first_and_an_mds_failure_is_louder(tmp_path):
    doc = _findings(tmp_path, {**DISTRACTORS, **STORAGE_CASCADE})
    assert {"LOCK_CONTENTION", "MDS_FAILOVER_FAILED"} <= {f["rule_id"] for f in doc["findings"]}
    here = doc["start_here"]
    assert (here["rule_id"], here["host"], here["first_seen"]) == ("DISK_IO_ERROR_KERNEL", "ovs-node1",
                                                                   "2017-03-14T07:39:12.000000Z")
    top = doc["root_causes"][0]
    assert [e["rule_id"] for e in top["effects"]] == ["ALBA_OSD_DISQUALIFIED", "OSD_LOSS_HALTED_VOLUMES",
                                                      "BACKEND_CONNECTION_RETRY", "VOLUME_HALTED"]
    assert top["explains"] == 4 and all(e["link"]["references"] for e in top["effects"])
    alone = {c["cause"]["rule_id"] for c in doc["root_causes"] if not c["explains"]}
    assert {"LOCK_CONTENTION", "MDS_FAILOVER_FAILED"} <= alone
    assert doc["findings"][here["index"]]["rule_id"] == "DISK_IO_ERROR_KERNEL"
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert summary.index("Start here: **DISK_IO_ERROR_KERNEL**") < summary.index("What to do first")


CRASH_CASCADE = {
    "var/log/syslog":
        "Mar 14 09:16:35 ovs-node1 kernel: [12345.678901] volumedriver_fs[18332]: segfault at 0 ip 00007f8402a1b2c3 "
        "sp 00007f83f2ffb9d0 error 4 in libovsvolumedriver.so[7f8402800000+1200000]\n"
        "Mar 14 09:16:36 ovs-node1 systemd[1]: ovs-volumedriver_vpool1.service: Failed with result 'signal'.\n",
    "var/log/ovs/volumedriver/vpool1.log":
        NODE.format(t="09:21:27", c="volumedriver_fs") + "fatal - operator(): caught exception: "
        "boost::filesystem::status: Transport endpoint is not connected: \"/mnt/vpool1\"\n",
}

BROKER_CASCADE = {
    "var/log/syslog": "Mar 14 09:22:05 ovs-node1 systemd[1]: rabbitmq-server.service: Main process exited, "
                      "code=exited, status=2/INVALIDARGUMENT\n"
                      "Mar 14 09:22:09 ovs-node1 python[1450]: RuntimeError: Could not connect to any available "
                      "RabbitMQ endpoint.\n",
    "var/log/ovs/extensions.log": "2017-03-14 09:22:15 04700 +0100 - ovs-node1 - 18102/139912345678592 - "
                                  "extensions/watcher - 7 - DEBUG - [framework] One of the master services is "
                                  "unavailable\n",
}


@pytest.mark.parametrize("cascade, cause, effects", [
    (CRASH_CASCADE, "VOLUMEDRIVER_CRASH", {"SERVICE_FAILED_TO_START", "STALE_FUSE_MOUNT"}),
    (BROKER_CASCADE, "RABBITMQ_NODE_DOWN", {"CELERY_BROKER_CONNECTION_LOST", "WATCHER_DEPENDENCY_WAIT"}),
], ids=["volumedriver crash", "broker down"])
def test_each_cascade_starts_at_its_cause_whatever_came_earlier_or_louder(tmp_path, cascade, cause, effects):
    doc = _findings(tmp_path, {**DISTRACTORS, **cascade})
    assert doc["start_here"]["rule_id"] == cause
    assert effects <= {e["rule_id"] for e in doc["root_causes"][0]["effects"]}
    alone = {c["cause"]["rule_id"] for c in doc["root_causes"] if not c["explains"]}
    assert {"LOCK_CONTENTION", "MDS_FAILOVER_FAILED"} <= alone


def test_without_the_disk_error_the_chain_starts_at_the_disqualified_osd(tmp_path):
    cascade = {k: v for k, v in STORAGE_CASCADE.items() if k != "var/log/kern.log"}
    doc = _findings(tmp_path, {**DISTRACTORS, **cascade})
    assert doc["start_here"]["rule_id"] == "ALBA_OSD_DISQUALIFIED"


def test_the_sample_starts_at_the_cause_of_its_largest_cascade_not_at_its_loudest_finding(tmp_path):
    result = cli("analyze", str(SAMPLE), "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "findings.json").read_text())
    assert doc["findings"][0]["rule_id"] == "ARAKOON_NO_MASTER", "the loudest finding"
    chains = {c["cause"]["rule_id"]: c for c in doc["root_causes"]}
    # no master was brought by an unreachable Arakoon node; the tasks that failed, by no master
    assert doc["start_here"]["rule_id"] == "ARAKOON_NODE_UNREACHABLE"
    assert {"ARAKOON_NO_MASTER", "MDS_SAFETY_TASKS_FAILING", "ENSURE_SINGLE_TIMEOUT"} <= {
        e["rule_id"] for e in chains["ARAKOON_NODE_UNREACHABLE"]["effects"]}
    # the earlier, smaller cascade is the next chain: the disk error that cost an OSD and halted a volume
    assert doc["root_causes"][1]["cause"]["rule_id"] == "DISK_IO_ERROR_KERNEL"
    assert {"ALBA_OSD_DISQUALIFIED", "VOLUME_HALTED"} <= {e["rule_id"] for e in doc["root_causes"][1]["effects"]}
