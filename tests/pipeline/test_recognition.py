"""Never a false all-clear: a bundle that is no Open vStorage node's is refused, one whose rules
mostly had nothing to read says so in its verdict."""

from __future__ import annotations

import json

from tests.conftest import build_tar, cli

DEBIAN_BOX = {
    "var/log/syslog": "Mar 14 10:22:05 debian systemd[1]: Started Daily apt download activities.\n"
                      "Mar 14 10:23:01 debian kernel: [12345.678901] e1000: eth0 NIC Link is Up 1000 Mbps\n",
    "var/log/apt/history.log": "Start-Date: 2017-03-14  10:22:05\nCommandline: apt-get upgrade\n",
    "var/log/nginx/access.log": '10.0.0.1 - - [14/Mar/2017:10:22:05 +0100] "GET / HTTP/1.1" 200 612 "-" "curl"\n',
}


def test_a_tarball_of_a_machine_that_is_no_ovs_node_is_refused_in_one_line_naming_what_it_holds(tmp_path):
    bundle = build_tar(tmp_path / "debian-box-logs.tar.gz", DEBIAN_BOX)
    result = cli("analyze", str(bundle), "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "not an Open vStorage support bundle" in result.stderr
    assert "var/log/syslog" in result.stderr and "var/log/nginx/access.log" in result.stderr
    assert not (tmp_path / "out" / "findings.json").exists(), "no report that could be read as a healthy node"


def test_one_ovs_line_in_the_journal_is_enough_to_recognise_a_node(tmp_path):
    journal = ("Mar 14 10:22:05 ovs-node1 arakoon[4321]: 2017-03-14 10:22:05 18704 +0100 - ovs-node1 - 4321/0000 - "
               "arakoon - 1 - info - NODE_LOOP: Got update i=629012 from client\n")
    members = {**DEBIAN_BOX, "var/log/journald.log": journal}
    bundle = build_tar(tmp_path / "ovs-node1-20170314102205-logs.tar.gz", members)
    result = cli("analyze", str(bundle), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr


def test_the_frameworks_celery_tasks_recognise_a_node_whatever_the_file_is_called(tmp_path):
    """A worker log is generic Celery by its format; its tasks (`ovs.<module>.<task>`) are the
    framework's. Mailed alone as `worker.log`, no path says OVS either."""
    worker = ("[2017-03-14 10:22:05,046: INFO/MainProcess] Received task: ovs.storagerouter.ping[6afcfa49-6520-41ed-"
              "b847-8f084a06d853]\n[2017-03-14 10:22:05,130: INFO/MainProcess] Task ovs.storagerouter.ping[6afcfa49-"
              "6520-41ed-b847-8f084a06d853] succeeded in 0.08s: None\n")
    plain = tmp_path / "worker.log"
    plain.write_text(worker)
    result = cli("analyze", str(plain), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    other = tmp_path / "other-worker.log"
    other.write_text(worker.replace("ovs.storagerouter.ping", "shop.orders.ship"))
    refused = cli("analyze", str(other), "-o", str(tmp_path / "other"))
    assert refused.returncode == 2 and "not an Open vStorage support bundle" in refused.stderr


def test_a_node_whose_rules_mostly_had_nothing_to_read_is_inconclusive_not_clean(tmp_path):
    dpkg = "2017-03-14 10:22:05 status installed openvstorage:amd64 2.7.9.1-1\n"
    bundle = build_tar(tmp_path / "ovs-node1-20170314102205-logs.tar.gz", {"var/log/dpkg.log": dpkg})
    result = cli("analyze", str(bundle), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "inconclusive" in result.stdout
    doc = json.loads((tmp_path / "out" / "findings.json").read_text())
    assert doc["verdict"] == "inconclusive"
    assert 2 * len(doc["coverage"]["rules_unavailable"]) > doc["coverage"]["rules_loaded"]
    assert "INCONCLUSIVE" in (tmp_path / "out" / "summary.md").read_text()


def test_a_bundle_of_bundles_analyzes_its_ovs_nodes_and_says_which_nested_bundle_it_left_out(tmp_path):
    from tests.conftest import SAMPLE, tar_bytes

    other = tar_bytes(DEBIAN_BOX)
    outer = build_tar(tmp_path / "inbox.tar", {"ovs-node1-20170314102205-logs.tar.gz": SAMPLE.read_bytes(),
                                               "debian-box-logs.tar": other}, compress=False)
    result = cli("analyze", str(outer), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    reports = sorted(p.parent.name for p in (tmp_path / "out").rglob("findings.json"))
    assert reports == ["ovs-node1-20170314102205-logs"]
    doc = json.loads(next((tmp_path / "out").rglob("findings.json")).read_text())
    assert any("debian-box-logs.tar shows no sign of Open vStorage" in w for w in doc["bundle"]["warnings"])
