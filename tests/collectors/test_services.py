"""Service states: every transition phrasing of systemd and upstart is recognised, and a bundle of
either era becomes a state timeline per service with restarts, crashes, flapping, silence and
the expected services that left no trace."""

from __future__ import annotations

import pytest

from analyzer.collectors.identity import IdentityCollector
from analyzer.collectors.services import ServiceStates, load_service_knowledge, resolve_units, transition_events
from analyzer.errors import UserError
from analyzer.parsing.knowledge import knowledge_file
from analyzer.parsing.timezones import fill_offsets, offset_samples
from analyzer.pipeline.analysis import analyze
from tests.conftest import build_tar

KNOWLEDGE = load_service_knowledge()
EXAMPLES = [(t.id, i, ex) for t in KNOWLEDGE.transitions for i, ex in enumerate(t.examples)]


@pytest.mark.parametrize(("transition", "index", "example"), EXAMPLES, ids=[f"{t}-{i}" for t, i, _ in EXAMPLES])
def test_each_transition_recognises_its_example(parse, transition, index, example):
    events = parse(example["line"], source="var/log/syslog").events
    found = transition_events(events, KNOWLEDGE)
    assert found.height and transition in found["signature"].to_list(), f"not recognised: {example['line']}"
    resolved = resolve_units(fill_offsets(found, offset_samples(events)), KNOWLEDGE, ["vpool1"])
    row = resolved.filter(resolved["signature"] == transition).row(0, named=True)
    for key, value in example["expect"].items():
        assert row[key] == str(value), f"{key}: got {row[key]!r}"


def test_a_transition_must_name_a_unit_or_a_description(tmp_path):
    bad = tmp_path / "services.yaml"
    bad.write_text("transitions:\n  - {id: x, state: running, literal: a, regex: 'a (?P<detail>b)', "
                   "examples: [{line: a}]}\nexpected: {every_node: [{service: ovs-workers}]}\n")
    with pytest.raises(UserError, match="unit or description"):
        load_service_knowledge(bad)


def test_an_edited_knowledge_file_is_read_as_it_now_stands_and_the_shipped_one_once(tmp_path):
    edited = tmp_path / "services.yaml"
    shipped = knowledge_file("services").read_text(encoding="utf-8")
    edited.write_text(shipped, encoding="utf-8")
    assert load_service_knowledge(edited).silent_after == KNOWLEDGE.silent_after == 600
    edited.write_text(shipped.replace("silent_after: 10m", "silent_after: 20m"), encoding="utf-8")
    assert load_service_knowledge(edited).silent_after == 1200
    assert load_service_knowledge() is load_service_knowledge() == KNOWLEDGE


def _journal(t: str, ident: str, msg: str) -> str:
    return f"Mar 14 {t} ovs-node1 {ident}: {msg}\n"


def _vd(t: str, msg: str) -> str:
    return (f"2017-03-14 {t} 046812 +0100 - ovs-node1 - 18332/0x00007f8400994700 - volumedriverfs/VolManager - "
            f"00000000000a1b2c - info - {msg}\n")


SYSTEMD_JOURNAL = "".join([
    "-- Logs begin at Tue 2017-03-14 09:00:01 CET, end at Tue 2017-03-14 11:00:00 CET. --\n",
    _journal("09:00:01", "systemd[1]", "Starting Open vStorage workers..."),
    _journal("09:00:01", "systemd[1]", "Started Open vStorage workers."),
    _journal("09:00:02", "systemd[1]", "Started Open vStorage StorageDriver."),
    *[line for minute in ("10", "15", "20") for line in (
        _journal(f"09:{minute}:00", "systemd[1]",
                 "ovs-volumedriver_vpool1.service: Main process exited, code=killed, status=11/SEGV"),
        _journal(f"09:{minute}:00", "systemd[1]", "ovs-volumedriver_vpool1.service: Failed with result 'signal'."),
        _journal(f"09:{minute}:05", "systemd[1]",
                 "ovs-volumedriver_vpool1.service: Service hold-off time over, scheduling restart."),
        _journal(f"09:{minute}:05", "systemd[1]", "Stopped Open vStorage StorageDriver."),
        _journal(f"09:{minute}:05", "systemd[1]", "Starting Open vStorage StorageDriver..."),
        _journal(f"09:{minute}:05", "systemd[1]", "Started Open vStorage StorageDriver."),
    )],
    _journal("09:25:00", "systemd[1]", "ovs-volumedriver_vpool1.service: Start request repeated too quickly."),
    _journal("09:25:00", "systemd[1]", "Failed to start Open vStorage StorageDriver."),
    *[_journal(f"10:{m:02d}:00", "ovs-workers[3311]", f"still working {m}") for m in range(0, 60, 5)],
])


@pytest.fixture(scope="module")
def systemd_era(tmp_path_factory, rules):
    bundle = build_tar(tmp_path_factory.mktemp("s") / "ovs-node1-20170314110205-logs.tar.gz", {
        "var/log/journald.log": SYSTEMD_JOURNAL,
        "var/log/syslog": SYSTEMD_JOURNAL.split("\n", 1)[1],
        "var/log/ovs/volumedriver/vpool1.log": _vd("09:00:03", "starting") + _vd("09:05:00", "last words"),
        "var/log/rabbitmq/rabbit@ovs-node1.log": "=INFO REPORT==== 14-Mar-2017::09:00:05 ===\nstarted TCP Listener\n",
    })
    return analyze(bundle, rules, collectors=[IdentityCollector(), ServiceStates()]).sections["services"]


def _service(section, unit):
    return next(s for s in section["services"] if s["unit"] == unit)


def _spans(section, unit):
    return next(lane["spans"] for lane in section["timeline_lanes"] if lane["unit"] == unit)


def test_systemd_era_crash_loop_counts_crashes_restarts_and_flapping(systemd_era):
    vd = _service(systemd_era, "ovs-volumedriver_vpool1")
    assert (vd["crashes"], vd["restarts"], vd["flapping"], vd["state"]) == (3, 3, True, "failed")
    assert systemd_era["crashed"] == ["ovs-volumedriver_vpool1"]
    assert systemd_era["flapping"] == ["ovs-volumedriver_vpool1"]


def test_systemd_era_states_follow_the_journal_order_and_copies_count_once(systemd_era):
    states = [s["state"] for s in _spans(systemd_era, "ovs-volumedriver_vpool1")]
    assert states[:8] == ["running", "crashed", "failed", "restarting", "stopped", "activating", "running",
                          "crashed"]
    assert states[-2:] == ["failed", "failed"]
    crash = next(s for s in _spans(systemd_era, "ovs-volumedriver_vpool1") if s["state"] == "crashed")
    assert crash["evidence"].startswith("var/log/journald.log:") and crash["detail"] == "11/SEGV"
    assert crash["start"] == "2017-03-14T08:10:00.000000Z"


def test_master_role_and_the_expected_services_without_a_trace(systemd_era):
    assert systemd_era["role"] == "master" and systemd_era["vpools"] == ["vpool1"]
    assert "ovs-dtl_vpool1" in systemd_era["missing"] and "nginx" in systemd_era["missing"]
    assert "ovs-workers" not in systemd_era["missing"] and "rabbitmq-server" not in systemd_era["missing"]


UPSTART_SYSLOG = "".join([
    "Dec  4 09:00:01 ovs-node1 kernel: [   12.345678] init: ovs-workers main process (1234) terminated with "
    "status 1\n",
    "Dec  4 09:00:01 ovs-node1 kernel: [   12.345999] init: ovs-workers main process ended, respawning\n",
    "Dec  4 09:00:02 ovs-node1 kernel: [   13.100000] init: ovs-workers main process (1240) killed by SEGV signal\n",
    "Dec  4 09:00:02 ovs-node1 kernel: [   13.100100] init: ovs-workers main process ended, respawning\n",
    "Dec  4 09:00:03 ovs-node1 init: ovs-workers respawning too fast, stopped\n",
    "Dec  4 10:00:00 ovs-node1 CRON[2201]: (root) CMD (ovs monitor heartbeat)\n",
])
UPSTART_WORKERS = "[2015-12-04 08:59:00,046: INFO/MainProcess] Connected to amqp://ovs:**@10.100.1.1:5672//\r\n"
VD_OLD = "2015-12-04 09:00:00:046812 +0100 CET -- info -- VolManager -- f: m -- [0x00007f8400994700]\n"


@pytest.fixture(scope="module")
def upstart_era(tmp_path_factory, rules):
    bundle = build_tar(tmp_path_factory.mktemp("u") / "ovs-node1-20151204110205-logs.tar.gz", {
        "var/log/syslog": UPSTART_SYSLOG,
        "var/log/upstart/ovs-workers.log": UPSTART_WORKERS,
        "var/log/ovs/volumedriver/vpool1.log": VD_OLD,
    })
    return analyze(bundle, rules, collectors=[IdentityCollector(), ServiceStates()]).sections["services"]


def test_upstart_era_respawns_crashes_and_giving_up(upstart_era):
    workers = _service(upstart_era, "ovs-workers")
    assert (workers["crashes"], workers["restarts"], workers["flapping"], workers["state"]) == (2, 2, True, "failed")
    states = [s["state"] for s in _spans(upstart_era, "ovs-workers")]
    assert states == ["running", "crashed", "restarting", "crashed", "restarting", "failed"]


def test_upstart_era_own_log_going_quiet_is_a_silent_state(upstart_era):
    vd = _spans(upstart_era, "ovs-volumedriver_vpool1")
    assert [s["state"] for s in vd] == ["running", "silent"]
    assert vd[1]["detail"] == "own log quiet for 60 min"


def test_upstart_era_extra_node_expects_watcher_and_each_vpool_service(upstart_era):
    assert upstart_era["role"] == "extra"
    assert upstart_era["missing"] == ["ovs-watcher-framework", "ovs-volumerouter-consumer", "ovs-dtl_vpool1"]


def test_upstart_respawn_is_running_again_once_the_own_log_speaks_and_bare_dmesg_is_a_trace_only(tmp_path, rules):
    crash = "init: ovs-volumedriver_vpool1 main process (2345) killed by SEGV signal"
    respawn = "init: ovs-volumedriver_vpool1 main process ended, respawning"
    vd = "".join(f"2015-12-04 09:{m:02d}:00:046812 +0100 CET -- info -- VolManager -- f: m -- [0x00007f8400994700]\n"
                 for m in (0, 10, 20))
    bundle = build_tar(tmp_path / "ovs-node1-20151204110205-logs.tar.gz", {
        "var/log/kern.log": f"Dec  4 09:05:00 ovs-node1 kernel: [ 300.100000] {crash}\n"
                            f"Dec  4 09:05:00 ovs-node1 kernel: [ 300.100100] {respawn}\n",
        "var/log/dmesg": f"[  300.100000] {crash}\n[  300.100100] {respawn}\n",
        "var/log/ovs/volumedriver/vpool1.log": vd,
    })
    section = analyze(bundle, rules, collectors=[ServiceStates()]).sections["services"]
    spans = _spans(section, "ovs-volumedriver_vpool1")
    assert [(s["state"], s["start"][11:19]) for s in spans] == [
        ("running", "08:00:00"), ("crashed", "08:05:00"), ("restarting", "08:05:00"), ("running", "08:10:00")]
    assert spans[-1]["detail"] == "own log speaks again"
    assert _service(section, "ovs-volumedriver_vpool1")["crashes"] == 1, "the dmesg copy is not a second crash"
    assert [u["evidence"] for u in section["untimed"]] == ["var/log/dmesg:1", "var/log/dmesg:2"]


def test_each_expected_service_says_what_makes_it_expected_on_this_node(systemd_era, upstart_era):
    """A master node runs the master's services, every node the workers, a vPool its volumedriver: each
    row says which (`expected_for`), so a view can name the reason beside a service that is down."""
    assert _service(systemd_era, "ovs-volumedriver_vpool1")["expected_for"] == "vPool vpool1"
    assert _service(systemd_era, "ovs-workers")["expected_for"] == "every node"
    assert _service(systemd_era, "rabbitmq-server")["expected_for"] == "a master node"
    assert _service(upstart_era, "ovs-workers")["expected_for"] == "every node"
