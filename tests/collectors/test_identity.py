"""The identity section: whose bundle, which role and why, which versions, what is missing."""

from __future__ import annotations

import re

from analyzer.collectors.identity import knowledge, missing_sources
from analyzer.pipeline.analysis import analyze

PY = "2017-03-14 10:22:05 04700 +0100 - {host} - 1/2 - lib/vdisk - 4 - INFO - {msg}\n"
JOURNAL = ("-- Logs begin at Tue 2017-03-14 09:00:01 CET, end at Tue 2017-03-14 11:00:00 CET. --\n"
           "Mar 14 10:22:05 ovs-node2 systemd[1]: ovs-volumedriver_vpool9.service: Main process exited, "
           "code=killed, status=11/SEGV\n"
           "Mar 14 10:22:06 ovs-node2 systemd[1]: Started ovs-workers.service.\n")
DPKG = ("2016-12-05 11:02:29 install openvstorage:amd64 <none> 2.7.6-fargo.1-1\n"
        "2016-12-05 11:02:30 status installed openvstorage:amd64 2.7.6-fargo.1-1\n"
        "2017-02-21 14:40:09 upgrade openvstorage:amd64 2.7.6-fargo.1-1 2.7.9.1-1\n"
        "2017-02-21 14:40:10 upgrade libc6:amd64 2.23-0ubuntu5 2.23-0ubuntu6\n")
BANNER = ("2017-03-14 10:20:00 000412 +0100 - ovs-node2 - 18332/0x00007f8402ffe880 - volumedriverfs/Main - "
          "0000000000000000 - notice - print_version_data: version: 6.16.3\nversion: 6.16.3\nrevision: 0\n\n")


def identity(make_bundle, rules, members):
    return analyze(make_bundle(members, name="ovs-node2-20170314102205-logs.tar.gz"), rules).sections["identity"]


def test_versions_come_from_dpkg_and_the_volumedriver_banner_as_a_package_dict(make_bundle, rules):
    section = identity(make_bundle, rules, {"var/log/dpkg.log": DPKG,
                                            "var/log/ovs/volumedriver/vpool9.log": BANNER})
    assert section["versions"] == {"openvstorage": "2.7.9.1-1", "volumedriver (build banner)": "6.16.3"}
    assert [h["version"] for h in section["version_history"] if h["package"] == "openvstorage"] == [
        "2.7.6-fargo.1-1", "2.7.9.1-1"], "an install and its status line are one change"


def test_a_node_with_master_only_services_is_a_master_and_says_why(make_bundle, rules):
    section = identity(make_bundle, rules, {"var/log/rabbitmq/rabbit@ovs-node2.log": "x\n",
                                            "var/log/ovs/lib.log": PY.format(host="ovs-node2", msg="a")})
    assert section["role"] == "master"
    assert section["role_evidence"] == ["RabbitMQ logs: var/log/rabbitmq/rabbit@ovs-node2.log"]


def test_a_framework_node_without_master_services_is_an_extra_node(make_bundle, rules):
    section = identity(make_bundle, rules, {"var/log/journald.log": JOURNAL, "var/log/dpkg.log": DPKG})
    assert section["role"] == "extra"
    assert "framework service: ovs-workers" in section["role_evidence"]
    assert section["services"] == ["ovs-volumedriver_vpool9", "ovs-workers"]
    assert section["vpools"] == ["vpool9"]
    assert section["hosts"] == {"ovs-node2": 3}, "two entries and the journal header"


def test_an_upstart_jobs_init_line_names_its_service(make_bundle, rules):
    dmesg = ("[ 6805.221345] init: ovs-volumedriver_vpool3 main process (2180) killed by SEGV signal\n"
             "[ 6805.230000] ovs-volumedriver_vpool4 is not an init line\n")
    section = identity(make_bundle, rules, {"var/log/dmesg": dmesg,
                                            "var/log/ovs/lib.log": PY.format(host="ovs-node2", msg="a")})
    assert section["services"] == ["ovs-volumedriver_vpool3"]
    assert section["vpools"] == ["vpool3"]


def test_a_service_pattern_with_a_prefix_matches_only_messages_that_start_with_it():
    """`prefix` picks the messages a pattern's regex reads: it must be what the regex is anchored to."""
    for pattern in knowledge()["service_patterns"]:
        if "prefix" in pattern:
            assert pattern["regex"].startswith("^" + re.escape(pattern["prefix"]).replace("\\ ", " ")), pattern


def test_spans_and_offsets_are_per_source(make_bundle, rules):
    section = identity(make_bundle, rules, {"var/log/ovs/lib.log": PY.format(host="n", msg="a"),
                                            "var/log/dpkg.log": DPKG})
    assert section["time_span"]["framework"] == {"first": "2017-03-14T09:22:05.047000Z",
                                                 "last": "2017-03-14T09:22:05.047000Z"}
    assert section["utc_offsets"] == {"+0100": 1}
    assert section["format_eras"] == {"framework E3 (2.7-2.9)": 1}


def test_a_2_7_6_bundle_without_a_journal_dump_says_which_rules_could_not_run(make_bundle, rules):
    section = identity(make_bundle, rules, {"var/log/dpkg.log": DPKG, "var/log/syslog": "",
                                            "var/log/ovs/lib.log": PY.format(host="n", msg="a")})
    assert [m["source"] for m in section["missing_sources"]] == ["journal dump"]


def test_expected_sources_follow_the_release():
    present = {"var/log/ovs/lib.log", "var/log/dpkg.log", "var/log/syslog"}
    assert [m["source"] for m in missing_sources(present, "2.6.1-1")] == ["upstart job logs"]
    assert [m["source"] for m in missing_sources(present, "2.7.9.1-1")] == ["journal dump"]
    assert missing_sources(present, None) == [], "unknown release: only era-independent sources are expected"


def test_without_dpkg_log_the_formats_bound_the_release_from_below(make_bundle, rules):
    line_d = ("2018-09-17 10:22:05 04700 +0200 - n - 3311/140012345671111 - lib/vdisk.py - delete - 8 - INFO - "
              "Deleting vDisk vd01\n")
    section = identity(make_bundle, rules, {"var/log/ovs/lib.log": line_d, "var/log/syslog": ""})
    assert section["versions"] == {}
    assert [m["source"] for m in section["missing_sources"]] == ["journal dump", "dpkg.log"], \
        "format D is 2.10+, so the journal dump (2.7.6+) should be there"


def test_a_flapping_version_history_is_capped_to_its_latest_changes(make_bundle, rules):
    banner_lines = "".join(BANNER.replace("6.16.3", f"6.16.{n % 2}") for n in range(130))
    section = identity(make_bundle, rules, {"var/log/ovs/volumedriver/vpool9.log": banner_lines})
    assert len(section["version_history"]) == 100
    assert section["version_history_omitted"] > 0
