"""Cluster evidence: the names a cluster's nodes share, what each node owns, and its clock events."""

from __future__ import annotations

import pytest

from analyzer.collectors.cluster_evidence import (
    FACTS,
    MAX_EVENTS,
    MAX_NAMES,
    ClusterEvidence,
    ClusterKnowledge,
    cluster_knowledge,
    extract,
)
from analyzer.collectors.identity import IdentityCollector
from analyzer.errors import UserError
from analyzer.parsing.knowledge import knowledge_file
from analyzer.pipeline.analysis import analyze

KNOWLEDGE = cluster_knowledge()
ARAKOON = "2017-03-14 08:{m:02d}:{s:02d} {us:06d} +0100 - ovs-node2 - 1318/0000 - arakoon - {seq} - info - {msg}\n"
VOLUMEDRIVER = ("2017-03-14 08:26:47 {us:06d} +0100 - ovs-node2 - 1937/0x00007f9959464700 - volumedriverfs/Volume - "
                "0000000000000053 - info - setFailOverCacheConfig_: {msg}\n")
DTL = ("2017-03-14 08:{m:02d}:{s:02d} 094387 +0100 - ovs-node2 - 1876/0x00007f533b400700 - dtl_server/{logger} - "
       "000000000000000f - info - {msg}\n")
CELERY = "[2017-03-14 08:{m:02d}:{s:02d},{ms:03d}: {level}/MainProcess] {msg}\n"


def rabbit(*blocks: str) -> str:
    return "".join(f"=INFO REPORT==== 14-Mar-2017::08:24:{26 + i} ===\n{text}\n\n" for i, text in enumerate(blocks))


def evidence(make_bundle, rules, members: dict[str, str]) -> dict:
    bundle = make_bundle(members, name="ovs-node2-20170314102205-logs.tar.gz")
    return analyze(bundle, rules, collectors=[IdentityCollector(), ClusterEvidence()]).sections["cluster_evidence"]


@pytest.mark.parametrize("extractor", KNOWLEDGE.extractors, ids=lambda e: e.id)
def test_every_line_shape_of_the_knowledge_file_yields_its_names_from_a_really_parsed_line(parse, extractor):
    alone = ClusterKnowledge((extractor,), KNOWLEDGE.never_names, KNOWLEDGE.never_patterns)
    for example in extractor.examples:
        found = extract(parse(example["line"] + "\n", source="var/log/x.log").events, alone)
        got = set(found.select("fact", "event", "value").iter_rows())
        for group, value in example["expect"].items():
            if group in FACTS.get(extractor.kind or "", {}):
                assert (FACTS[extractor.kind][group], None, str(value)) in got, (example["line"], got)
            if extractor.clock and group == extractor.key:
                assert ("clock", extractor.clock, str(value)) in got, (example["line"], got)


def test_arakoon_node_ids_come_from_the_lines_themselves_without_start_up_lines_or_log_file(make_bundle, rules):
    journal = "".join(f"Mar 14 08:{20 + i}:00 ovs-node2 arakoon[1318]: " + ARAKOON.format(m=20 + i, s=0, us=i, seq=i,
                                                                                       msg=msg)
                      for i, msg in enumerate(["xY1zW2vU3t4s5R6q is master",
                                               "catchup_tlog 20311 from Qw3Er4Ty5Ui6Op7A ",
                                               "Lk8Jh9Gf0Ds1Aa2Z: handle_prepare: starting election timer"]))
    found = evidence(make_bundle, rules, {"var/log/journald.log": journal})
    assert found["arakoon_nodes"] == ["Lk8Jh9Gf0Ds1Aa2Z", "Qw3Er4Ty5Ui6Op7A", "xY1zW2vU3t4s5R6q"]
    assert found["arakoon_self"] == ["Lk8Jh9Gf0Ds1Aa2Z"], "the id in front of its own Paxos lines"
    assert found["arakoon_clusters"] == []


def test_a_node_states_its_own_host_and_addresses_and_names_its_peers(make_bundle, rules):
    found = evidence(make_bundle, rules, {
        "var/log/arakoon/ovsdb/Qw3Er4Ty5Ui6Op7A.log": ARAKOON.format(
            m=24, s=18, us=1, seq=5, msg='cfg = { node_name = "Qw3Er4Ty5Ui6Op7A"; ips = ["10.101.1.2"]; '
                                        'client_port = 26400; messaging_port = 26401 }'),
        "var/log/ovs/volumedriver/vpool1.log": VOLUMEDRIVER.format(
            us=667588, msg="75e0bb4c-2562-433e-9892-18fb2723f99b: Setting the failover cache to "
                           "foc://10.101.1.3:26203,Asynchronous"),
        "var/log/rabbitmq/rabbit@ovs-node2.log": rabbit(
            "rabbit on node 'rabbit@OVS-Node1' up",
            "accepting AMQP connection <0.1234.0> (::ffff:10.101.1.1:45678 -> 10.101.1.2:5672)"),
    })
    assert found["own_hosts"] == ["ovs-node2"], "the host field of its lines"
    assert found["own_addresses"] == ["10.101.1.2"]
    assert found["peer_addresses"] == ["10.101.1.1", "10.101.1.3"], "one spelling: no IPv6-mapped prefix"
    assert found["peer_hosts"] == ["ovs-node1"], "host names in lower case"


def test_names_every_installation_shares_are_never_evidence(make_bundle, rules):
    found = evidence(make_bundle, rules, {
        "var/log/arakoon/ovsdb/Qw3Er4Ty5Ui6Op7A.log": ARAKOON.format(
            m=24, s=19, us=2, seq=6, msg="__open_connection SUCCEEDED (fd=17) (127.0.0.1,40212) (127.0.0.1,26400)"),
        "var/log/rabbitmq/rabbit@localhost.log": rabbit(
            "rabbit on node 'rabbit@localhost' up",
            "accepting AMQP connection <0.1234.0> (0.0.0.0:45678 -> 127.0.0.1:5672)"),
        "var/log/ovs/volumedriver/vpool1.log": VOLUMEDRIVER.format(
            us=1, msg="vd01: Setting the failover cache to foc://localhost:26203,Asynchronous"),
    })
    assert (found["own_addresses"], found["peer_addresses"], found["peer_hosts"]) == ([], [], [])
    assert found["arakoon_clusters"] == ["ovsdb"], "kept to describe the node, never to link bundles"


def test_the_framework_cluster_id_comes_from_the_support_agents_vpn(make_bundle, rules):
    syslog = ("Mar 14 10:22:05 ovs-node2 systemd[1]: Started OpenVPN connection to "
              "ovs_AbCdEfGh12345678-ZyXwVuTs98765432.\n")
    assert evidence(make_bundle, rules, {"var/log/syslog": syslog})["cluster_ids"] == ["AbCdEfGh12345678"]


def test_each_kind_keeps_its_lowest_names_so_two_nodes_sampling_one_set_keep_the_same_shared_ids(make_bundle, rules):
    ids = [f"{n:08x}-0d7e-4c1e-9a52-1f0c2f8b7d11" for n in range(3 * MAX_EVENTS)]
    sent = ids[::2]  # the beat (node A) sent half of the tasks its worker (node B) received

    def log(level: str, texts: list[str]) -> str:
        return "".join(CELERY.format(m=30 + i // 600, s=i // 10 % 60, ms=i % 10 * 100, level=level, msg=text)
                       for i, text in enumerate(texts))

    a = evidence(make_bundle, rules, {"var/log/upstart/ovs-scheduled-tasks.log": log(
        "DEBUG", [f"ovs.storagerouter.ping sent. id->{t}" for t in reversed(sent)])})
    b = evidence(make_bundle, rules, {"var/log/upstart/ovs-workers.log": log(
        "INFO", [f"Received task: ovs.storagerouter.ping[{t}]" for t in reversed(ids)])})
    assert b["task_ids"] == ids[:MAX_NAMES] and "task_ids" in b["capped"]
    assert a["task_ids"] == sent[:MAX_NAMES]
    shared = set(a["task_ids"]) & set(b["task_ids"])
    assert shared == {t for t in sent if t < ids[MAX_NAMES]}, "every shared id below the cap survives on both"
    received = [x["key"] for x in b["anchors"] if x["kind"] == "task_received"]
    assert sorted(received) == ids[:MAX_EVENTS], "clock events too: the lowest keys"


def test_clock_events_are_in_utc_and_a_journal_entry_copied_to_syslog_counts_once(make_bundle, rules):
    line = ("Mar 14 08:26:47 ovs-node2 volumedriver_fs.sh[1937]: " + VOLUMEDRIVER.format(
        us=667588, msg="75e0bb4c-2562-433e-9892-18fb2723f99b: Setting the failover cache to "
                       "foc://10.101.1.3:26203,Asynchronous"))
    found = evidence(make_bundle, rules, {"var/log/journald.log": line, "var/log/syslog": line})
    assert [(a["kind"], a["key"], a["ts"]) for a in found["anchors"]] == [
        ("dtl_connect", "75e0bb4c-2562-433e-9892-18fb2723f99b", "2017-03-14T07:26:47.667588Z")]


def test_dtl_server_lines_are_clock_events_keyed_by_the_volume_and_state_the_servers_address(make_bundle, rules):
    volume = "75e0bb4c-2562-433e-9892-18fb2723f99b"
    dtl = "".join(DTL.format(m=m, s=s, logger=logger, msg=msg) for m, s, logger, msg in (
        (23, 54, "MainHelper", 'run: starting, server path:  "/mnt/ssd1/vpool1_dtl", address to bind to:  10.101.1.2, '
                               "port: 26203, transport type: TCP, busy-loop usecs: 0"),
        (26, 35, "FailOverCacheProtocol", f"register_: Registering namespace {volume}"),
        (26, 36, "FailOverCacheProtocol", f"Clear_: Clearing for namespace {volume}")))
    found = evidence(make_bundle, rules, {"var/log/ovs/volumedriver/dtl_vpool1.log": dtl})
    assert found["own_addresses"] == ["10.101.1.2"]
    assert [(a["kind"], a["key"]) for a in found["anchors"]] == [("dtl_accept", volume), ("dtl_clear", volume)]


def test_a_broken_extractor_is_one_clear_error(tmp_path):
    path = tmp_path / "cluster_names.yaml"
    path.write_text("extractors:\n  - {id: bad, kind: address, literal: x, regex: '(?P<node>x)', "
                    "examples: [{line: x, expect: {}}]}\n")
    with pytest.raises(UserError, match=r"extractor 'bad'.*unknown group"):
        cluster_knowledge(path)


def test_an_edited_knowledge_file_is_read_as_it_now_stands_and_the_shipped_one_once(tmp_path):
    edited = tmp_path / "cluster_names.yaml"
    shipped = knowledge_file("cluster_names").read_text(encoding="utf-8")
    edited.write_text(shipped, encoding="utf-8")
    assert "ovsdb" in cluster_knowledge(edited).never_names
    edited.write_text(shipped.replace("names: [ovsdb, ", "names: [mycluster, "), encoding="utf-8")
    never = cluster_knowledge(edited).never_names
    assert "mycluster" in never and "ovsdb" not in never
    assert cluster_knowledge() is cluster_knowledge() == KNOWLEDGE


def test_of_many_elections_the_latest_are_kept_where_the_bundles_of_one_collection_overlap(make_bundle, rules):
    lines = "".join(ARAKOON.format(m=i % 60, s=0, us=i, seq=i, msg="xY1zW2vU3t4s5R6q is master").replace(
        "08:", f"{8 + i // 60:02d}:", 1) for i in range(MAX_EVENTS + 100))
    found = evidence(make_bundle, rules, {"var/log/arakoon/ovsdb/Qw3Er4Ty5Ui6Op7A.log": lines})
    times = [a["ts"] for a in found["anchors"] if a["kind"] == "election"]
    assert len(times) == MAX_EVENTS and "anchors" in found["capped"]
    assert min(times) == "2017-03-14T08:40:00.000100Z", "the first 100 (the oldest) are the ones left out"
