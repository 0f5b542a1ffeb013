"""Celery task history: every signature recognises its lines, and every outcome is rebuilt from
real-shaped lines of both eras (upstart job log with celery's own format, systemd journal with
the OVS format inside)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analyzer.collectors.protocol import BundleView
from analyzer.collectors.tasks import TaskHistory, deciders, history_of, load_task_knowledge, task_events
from analyzer.detection.rule import TASK_OUTCOMES
from analyzer.errors import UserError
from analyzer.frames import Packed
from analyzer.parsing.formats import load_formats
from analyzer.parsing.knowledge import knowledge_file
from analyzer.parsing.timezones import fill_offsets
from analyzer.pipeline.analysis import analyze
from analyzer.reading.bundle import Bundle

KNOWLEDGE = load_task_knowledge()
EXAMPLES = [(sig.id, i, ex) for sig in KNOWLEDGE.signatures for i, ex in enumerate(sig.examples)]
UUID = "6b1c9a4e-0d7e-4c1e-9a52-1f0c2f8b7d1{}"


@pytest.mark.parametrize(("signature", "index", "example"), EXAMPLES, ids=[f"{s}-{i}" for s, i, _ in EXAMPLES])
def test_each_task_signature_recognises_its_example(parse, signature, index, example):
    events = parse(example["line"], source="var/log/upstart/ovs-workers.log").events
    found = task_events(events, KNOWLEDGE)
    assert found.height and signature in found["signature"].to_list(), f"not recognised: {example['line']}"
    row = found.filter(found["signature"] == signature).row(0, named=True)
    for key, value in example["expect"].items():
        assert row[key] == str(value), f"{key}: got {row[key]!r}"


def test_task_knowledge_lives_beside_the_formats_but_is_not_a_format():
    assert knowledge_file("tasks").parent.parent == Path(load_formats()[0].source_file).parent
    assert not [spec.source_file for spec in load_formats() if "knowledge" in spec.source_file]


def test_task_rules_know_every_outcome_the_signatures_can_give():
    assert (*KNOWLEDGE.outcomes, "unfinished") == TASK_OUTCOMES


def test_a_broken_signature_file_is_one_clear_error(tmp_path):
    bad = tmp_path / "tasks.yaml"
    bad.write_text("outcomes: [succeeded]\nsignatures:\n  - {id: x, step: finished, outcome: exploded, "
                   "literal: a, regex: 'Task (?P<name>\\w+)', examples: [{line: a}]}\n")
    with pytest.raises(UserError, match="outcome"):
        load_task_knowledge(bad)
    bad.write_text("outcomes: [succeeded]\nsignatures:\n  - {id: x, step: started, literal: a, "
                   "regex: 'Task (?P<nmae>\\w+)', examples: [{line: a}]}\n")
    with pytest.raises(UserError, match="unknown group"):
        load_task_knowledge(bad)
    # only a finished step may say its task never ran
    bad.write_text("outcomes: [succeeded]\nsignatures:\n  - {id: x, step: started, ran: false, literal: a, "
                   "regex: 'Task (?P<name>\\w+)', examples: [{line: a}]}\n")
    with pytest.raises(UserError, match="ran"):
        load_task_knowledge(bad)


def test_an_edited_signature_file_is_read_as_it_now_stands_and_the_shipped_one_once(tmp_path):
    edited = tmp_path / "tasks.yaml"
    shipped = knowledge_file("tasks").read_text(encoding="utf-8")
    edited.write_text(shipped, encoding="utf-8")
    assert load_task_knowledge(edited).output_literal == "celery.redirected"
    edited.write_text(shipped.replace("{literal: celery.redirected}", "{literal: my.redirected}"), encoding="utf-8")
    assert load_task_knowledge(edited).output_literal == "my.redirected"
    assert load_task_knowledge() is load_task_knowledge() == KNOWLEDGE


def _celery(t: str, level: str, proc: str, msg: str) -> str:
    return f"[2015-12-04 {t},000: {level}/{proc}] {msg}\r\n"


UPSTART_WORKERS = "".join([
    _celery("10:00:00", "INFO", "MainProcess", f"Received task: ovs.vdisk.create_snapshot[{UUID.format(1)}]"),
    _celery("10:00:01", "WARNING", "Worker-3", f"ovs.vdisk.create_snapshot[{UUID.format(1)}]: snapshot exists"),
    _celery("10:00:03", "INFO", "MainProcess", f"Task ovs.vdisk.create_snapshot[{UUID.format(1)}] succeeded in "
            "2.26s: None"),
    _celery("10:01:00", "INFO", "MainProcess", f"Received task: ovs.storagerouter.add_vpool[{UUID.format(2)}]"),
    _celery("10:01:30", "ERROR", "MainProcess", f"Task ovs.storagerouter.add_vpool[{UUID.format(2)}] raised "
            "unexpected: RuntimeError('StorageDriver service failed to start (service not running)',)"),
    "Traceback (most recent call last):\r\n",
    '  File "/usr/lib/python2.7/dist-packages/celery/app/trace.py", line 240, in trace_task\r\n',
    "    R = retval = fun(*args, **kwargs)\r\n",
    '  File "/opt/OpenvStorage/ovs/lib/storagerouter.py", line 712, in add_vpool\r\n',
    "    raise RuntimeError('StorageDriver service failed to start (service not running)')\r\n",
    "RuntimeError: StorageDriver service failed to start (service not running)\r\n",
    _celery("10:02:00", "INFO", "MainProcess", f"Received task: ovs.vdisk.delete[{UUID.format(3)}]"),
    _celery("10:02:05", "INFO", "MainProcess", f"Discarding revoked task: ovs.vdisk.delete[{UUID.format(3)}]"),
    _celery("10:03:00", "INFO", "MainProcess", f"Received task: ovs.generic.execute_scrub[{UUID.format(4)}]"),
    _celery("11:03:00", "ERROR", "MainProcess", "Hard time limit (3600s) exceeded for "
            f"ovs.generic.execute_scrub[{UUID.format(4)}]"),
    _celery("11:03:01", "ERROR", "MainProcess", f"Task ovs.generic.execute_scrub[{UUID.format(4)}] raised "
            "unexpected: TimeLimitExceeded(3600,)"),
    _celery("11:04:00", "INFO", "MainProcess", f"Received task: ovs.storagerouter.ping[{UUID.format(5)}]"),
    _celery("11:04:01", "INFO", "MainProcess", f"Task ovs.storagerouter.ping[{UUID.format(5)}] retry: "
            "Retry in 10s: RuntimeError('busy',)"),
    _celery("11:04:11", "INFO", "MainProcess", f"Received task: ovs.storagerouter.ping[{UUID.format(5)}]"),
    _celery("11:04:12", "INFO", "MainProcess", f"Task ovs.storagerouter.ping[{UUID.format(5)}] succeeded in "
            "0.08s: None"),
    _celery("11:05:00", "INFO", "MainProcess", f"Received task: ovs.mds.mds_checkup[{UUID.format(6)}]"),
])
#: Framework E2 (format B) ensure-single lines of the same node: they name the task, not its id.
LIB_E2 = (
    "2015-12-04 10:02:30,046 - [2816] - [INFO] - [lib] - [ensure single] - Ensure single DEFAULT mode - "
    "ID 1449219750_a1B2c3D4e5 - Execution of task ovs.mds.mds_checkup discarded\n"
)


def _journal(t: str, ident: str, text: str) -> str:
    return f"Mar 14 {t} ovs-node1 {ident}: {text}\n"


def _ovs(t: str, comp: str, level: str, msg: str) -> str:
    return f"2017-03-14 {t} 04700 +0100 - ovs-node1 - 23011/140355468900096 - {comp} - 88 - {level} - {msg}"


JOURNAL = "".join([
    "-- Logs begin at Tue 2017-03-14 09:00:01 CET, end at Tue 2017-03-14 11:00:00 CET. --\n",
    _journal("10:00:00", "celery[23011]", _ovs("10:00:00", "celery/celery.worker.strategy", "INFO",
                                               f"Received task: ovs.mds.ensure_safety[{UUID.format(7)}]")),
    _journal("10:00:00", "celery[23011]", _ovs("10:00:00", "lib/ensure single", "INFO",
                                               "Ensure single CHAINED mode - ID 1489482000_aB3dE5fG7h - New task "
                                               "ovs.mds.ensure_safety with params {} scheduled for execution")),
    _journal("10:05:00", "celery[23011]", _ovs("10:05:00", "lib/ensure single", "ERROR",
                                               "Ensure single CHAINED mode - ID 1489482000_aB3dE5fG7h - Could not "
                                               "start task ovs.mds.ensure_safety with params {}, within expected "
                                               "time (300s). Removed it from queue")),
    _journal("10:05:00", "celery[23011]", _ovs("10:05:00", "celery/celery.worker.job", "ERROR",
                                               f"Task ovs.mds.ensure_safety[{UUID.format(7)}] raised unexpected: "
                                               "EnsureSingleTimeoutReached('Ensure single CHAINED mode - ID "
                                               "1489482000_aB3dE5fG7h - Task ovs.mds.ensure_safety could not be "
                                               "started within timeout of 300s',)")),
    _journal("10:10:00", "celery[23011]", _ovs("10:10:00", "celery/celery.worker.strategy", "INFO",
                                               f"Received task: ovs.vdisk.dtl_checkup[{UUID.format(8)}]")),
    _journal("10:10:01", "celery[23011]", _ovs("10:10:01", "lib/ensure single", "INFO",
                                               "Ensure single CHAINED mode - ID 1489482601_zZ3dE5fG7h - Execution "
                                               "of task ovs.vdisk.dtl_checkup with params {} discarded because "
                                               "of identical parameters")),
    _journal("10:10:01", "celery[23011]", _ovs("10:10:01", "celery/celery.worker.job", "INFO",
                                               f"Task ovs.vdisk.dtl_checkup[{UUID.format(8)}] succeeded in 0.01s: "
                                               "None")),
    _journal("10:20:00", "celery[23011]", _ovs("10:20:00", "celery/celery.worker.job", "DEBUG",
                                               f"Task accepted: ovs.vdisk.sync_with_reality[{UUID.format(9)}] "
                                               "pid:23050")),
])


@pytest.fixture(scope="module")
def tasks(tmp_path_factory, rules):
    from tests.conftest import build_tar

    bundle = build_tar(tmp_path_factory.mktemp("b") / "ovs-node1-20170314102205-logs.tar.gz", {
        "var/log/upstart/ovs-workers.log": UPSTART_WORKERS,
        "var/log/ovs/lib.log": LIB_E2,
        "var/log/journald.log": JOURNAL,
        "var/log/syslog": JOURNAL.split("\n", 1)[1],
    })
    history = TaskHistory()
    analysis = analyze(bundle, rules, collectors=[history])
    by_id = {row["task_id"]: row for row in history.table.iter_rows(named=True) if row["task_id"]}
    return analysis.sections["tasks"], by_id, history.table


def test_upstart_era_succeeded_task_has_times_runtime_and_pool_process(tasks):
    _, by_id, _ = tasks
    row = by_id[UUID.format(1)]
    assert (row["name"], row["outcome"], row["runtime"], row["worker"]) == (
        "ovs.vdisk.create_snapshot", "succeeded", 2.26, "Worker-3")
    assert row["received"] < row["started"] < row["finished"]


def test_upstart_era_failed_task_keeps_exception_message_and_traceback_record(tasks):
    _, by_id, _ = tasks
    row = by_id[UUID.format(2)]
    assert row["outcome"] == "failed"
    assert row["exception"] == "RuntimeError"
    assert row["message"] == "StorageDriver service failed to start (service not running)"
    assert row["evidence"] == "var/log/upstart/ovs-workers.log:5"
    assert row["traceback"] == "/opt/OpenvStorage/ovs/lib/storagerouter.py:712 in add_vpool"


def test_only_problem_and_unfinished_tasks_keep_their_line_text_succeeded_ones_keep_source_line(tasks):
    _, by_id, _ = tasks
    succeeded, failed = by_id[UUID.format(1)], by_id[UUID.format(2)]
    assert succeeded["record"] is None and succeeded["evidence"].startswith("var/log/")
    assert failed["record"].startswith("[") and "raised unexpected" in failed["record"]


def test_revoked_time_limited_retried_and_unfinished_tasks(tasks):
    _, by_id, _ = tasks
    assert by_id[UUID.format(3)]["outcome"] == "revoked"
    scrub = by_id[UUID.format(4)]
    assert (scrub["outcome"], scrub["exception"], scrub["runtime"]) == ("timed_out", "TimeLimitExceeded", 3601.0)
    ping = by_id[UUID.format(5)]
    assert (ping["outcome"], ping["retries"]) == ("succeeded", 1)
    assert by_id[UUID.format(6)]["outcome"] == "unfinished"


def test_systemd_era_ensure_single_timeout_and_discard_win_over_what_celery_says(tasks):
    _, by_id, _ = tasks
    safety = by_id[UUID.format(7)]
    assert (safety["outcome"], safety["exception"]) == ("timed_out", "EnsureSingleTimeoutReached")
    assert safety["evidence"].startswith("var/log/journald.log:")
    assert by_id[UUID.format(8)]["outcome"] == "discarded"
    sync = by_id[UUID.format(9)]
    assert (sync["outcome"], sync["worker"]) == ("unfinished", "pid 23050")


def test_journal_and_rsyslog_copies_count_once_and_name_only_lines_form_their_own_run(tasks):
    _, _, table = tasks
    assert table.height == 10
    loose = table.filter(table["task_id"].is_null()).row(0, named=True)
    assert (loose["name"], loose["outcome"], loose["evidence"]) == (
        "ovs.mds.mds_checkup", "discarded", "var/log/ovs/lib.log:1")


def test_section_lists_problems_first_then_unfinished_and_per_name_statistics(tasks):
    section, _, _ = tasks
    assert section["total"] == 10
    assert [p["outcome"] for p in section["problems"]] == ["failed", "timed_out", "timed_out", "revoked",
                                                           "discarded", "discarded"]
    assert {u["task_id"] for u in section["unfinished"]} == {UUID.format(6), UUID.format(9)}
    ping = next(n for n in section["by_name"] if n["name"] == "ovs.storagerouter.ping")
    assert (ping["count"], ping["succeeded"], ping["p50"], ping["max"]) == (1, 1, 0.08, 0.08)


def test_a_task_rule_turns_repeated_failures_into_one_finding_with_the_deciding_lines(tmp_path, rules):
    from tests.conftest import build_tar

    lines = "".join(
        _celery(f"10:{i}0:00", "INFO", "MainProcess", f"Received task: ovs.mds.ensure_safety[{UUID.format(i)}]")
        + _celery(f"10:{i}0:02", "ERROR", "MainProcess", f"Task ovs.mds.ensure_safety[{UUID.format(i)}] raised "
                  "unexpected: ArakoonNoMaster()")
        for i in range(3)
    )
    bundle = build_tar(tmp_path / "ovs-node1-20151204130205-logs.tar.gz", {"var/log/upstart/ovs-workers.log": lines})
    findings = [f for f in analyze(bundle, rules).findings if f.rule_id == "MDS_SAFETY_TASKS_FAILING"]
    assert len(findings) == 1
    finding = findings[0]
    assert (finding.kind, finding.count, finding.entities) == ("task", 3, {"host": "node1",
                                                                           "task": "ovs.mds.ensure_safety"})
    assert [e.line for e in finding.evidence] == [2, 4, 6]
    assert "raised unexpected: ArakoonNoMaster()" in finding.evidence[0].raw


def test_what_a_task_printed_is_tied_to_it_by_the_pool_process_that_accepted_it(tmp_path, rules):
    from tests.conftest import build_tar

    def c(t: str, pid: int, comp: str, level: str, msg: str) -> str:
        return f"2017-03-14 10:22:{t} 04700 +0100 - ovs-node1 - {pid}/140355468900096 - {comp} - 7 - {level} - {msg}"

    task = UUID.format(1)
    printed = "celery/celery.redirected"
    lines = "\n".join([
        c("00", 3311, "celery/celery.worker.strategy", "INFO", f"Received task: ovs.alba.sync[{task}]"),
        c("01", 3311, "celery/celery.worker.job", "DEBUG", f"Task accepted: ovs.alba.sync[{task}] pid:23050"),
        c("02", 23050, printed, "WARNING", '{"result": "ok"}'),
        c("03", 23050, printed, "WARNING", c("03", 23050, "lib/alba", "ERROR", "alba-cli failed: namespace busy")),
        c("04", 23051, printed, "WARNING", "another pool process"),
        c("05", 3311, "celery/celery.worker.job", "INFO", f"Task ovs.alba.sync[{task}] succeeded in 4.02s: None"),
        c("09", 23050, printed, "WARNING", "after the task"),
    ]) + "\n"
    bundle = build_tar(tmp_path / "ovs-node1-20170314102205-logs.tar.gz", {"var/log/ovs/celery.log": lines})
    history = TaskHistory()
    analyze(bundle, rules, collectors=[history])
    row = history.table.row(0, named=True)
    assert (row["worker"], row["output_lines"], row["output_error"]) == (
        "pid 23050", 2, "alba-cli failed: namespace busy")


NAMES = st.from_regex(r"(ovs|alba)\.[a-z_]{1,12}\.[a-z_]{1,16}", fullmatch=True)


@settings(max_examples=40, deadline=None)
@given(name=NAMES, ids=st.lists(st.uuids(), min_size=1, max_size=4, unique=True),
       runtimes=st.lists(st.decimals(min_value=0, max_value=9999, places=2), min_size=4, max_size=4),
       fail=st.integers(min_value=0, max_value=3))
def test_any_received_and_finished_pair_becomes_one_row_with_its_outcome_and_runtime(parse, name, ids, runtimes,
                                                                                    fail):
    lines = []
    for i, task_id in enumerate(ids):
        lines.append(f"[2017-03-14 10:0{i}:00,000: INFO/MainProcess] Received task: {name}[{task_id}]")
        end = f"[2017-03-14 10:0{i}:30,000: INFO/MainProcess] Task {name}[{task_id}] "
        lines.append(end + ("raised unexpected: RuntimeError('boom',)" if i == fail else
                            f"succeeded in {runtimes[i]}s: None"))
    events = parse("\n".join(lines) + "\n", source="var/log/upstart/ovs-workers.log").events
    table = history_of(events, pl.DataFrame(schema={"host": pl.String, "ts_local": pl.Datetime("us"),
                                                   "utc_offset": pl.Int16}))
    assert table.height == len(ids)
    for i, task_id in enumerate(ids):
        row = table.filter(pl.col("task_id") == str(task_id)).row(0, named=True)
        assert row["name"] == name
        if i == fail:
            assert (row["outcome"], row["exception"], row["runtime"]) == ("failed", "RuntimeError", 30.0)
        else:
            assert (row["outcome"], row["runtime"]) == ("succeeded", float(runtimes[i]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120), max_size=12))
def test_arbitrary_lines_never_break_the_task_history(parse, texts):
    noise = [f"[2017-03-14 10:00:0{i % 10},000: INFO/MainProcess] {t.replace(chr(10), ' ')}"
             for i, t in enumerate(texts)]
    events = parse("\n".join([*noise, *texts]) + "\n", source="var/log/upstart/ovs-workers.log").events
    table = history_of(events, pl.DataFrame(schema={"host": pl.String, "ts_local": pl.Datetime("us"),
                                                   "utc_offset": pl.Int16}))
    assert set(table["outcome"].to_list()) <= set(TASK_OUTCOMES)


ENSURE_SINGLE = "2017-03-14 10:{m:02d}:{s:02d} 04700 +0100 - {host} - 1/2 - lib/ensure single - 4 - INFO - {msg}"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ovs-node1", "ovs-node2"]), st.sampled_from(["ovs.a.run", "ovs.b.run"]),
                          st.booleans()), min_size=1, max_size=30))
def test_name_only_lines_form_runs_per_host_and_task_and_only_finished_or_last_runs_are_tasks(parse, steps):
    """A scheduled line opens a run of its task on its host, a finish closes it; a run that never
    finished is a task only when it is the last run (a later run means it ended)."""
    lines, runs = [], {}
    for i, (host, name, finishes) in enumerate(steps):
        msg = (f"Execution of task {name} with default params discarded" if finishes else
               f"Ensure single CHAINED mode - ID 1_x - New task {name} with default params scheduled for execution")
        lines.append(ENSURE_SINGLE.format(m=i // 60, s=i % 60, host=host, msg=msg))
        task_runs = runs.setdefault((host, name), [])
        if not finishes or not task_runs or task_runs[-1]["finished"]:
            task_runs.append({"first": i, "finished": False})
        task_runs[-1]["finished"] |= finishes
    expected = sorted((host, name, r["first"], "discarded" if r["finished"] else "unfinished")
                      for (host, name), task_runs in runs.items() for n, r in enumerate(task_runs)
                      if r["finished"] or n == len(task_runs) - 1)
    events = parse("\n".join(lines) + "\n", source="var/log/ovs/lib.log").events
    table = history_of(events, pl.DataFrame(schema={"host": pl.String, "ts_local": pl.Datetime("us"),
                                                   "utc_offset": pl.Int16}))
    first_line = datetime(2017, 3, 14, 9, 0, tzinfo=UTC)
    got = sorted((r["host"], r["name"], int((r["first_seen"] - first_line).total_seconds()), r["outcome"])
                 for r in table.iter_rows(named=True))
    assert got == expected


def test_a_bundle_whose_only_task_lines_are_printed_output_has_an_empty_history(tmp_path, rules):
    from tests.conftest import build_tar

    printed = ("2017-03-14 10:22:02 04700 +0100 - ovs-node1 - 23050/140355468900096 - celery/celery.redirected - 7 - "
               'WARNING - {"result": "ok"}\n')
    bundle = build_tar(tmp_path / "ovs-node1-20170314102205-logs.tar.gz", {"var/log/ovs/celery.log": printed})
    section = analyze(bundle, rules).sections["tasks"]
    assert (section["total"], section["problems"], section["by_name"]) == (0, [], [])


TASK_LINES = [
    "Received task: {name}[{id}]",
    "Task accepted: {name}[{id}] pid:{pid}",
    "Task {name}[{id}] retry: Retry",
    "Task {name}[{id}] succeeded in {second}.5s: None",
    "Task {name}[{id}] raised unexpected: {exc}Error('boom {second}',)",
    "Task {name}[{id}] raised unexpected: {exc}Error()",
    "Discarding revoked task: {name}[{id}]",
    "Execution of task {id} with params discarded",
    "Ensure single CHAINED mode - ID 1_x - New task {name} with default params scheduled for execution",
    "{name}[{id}]: what the task logs",
    "Task {name}[{id}] raised unexpected: KeyError()\nTraceback (most recent call last):\n"
    '  File "/opt/ovs/{exc}.py", line {second}, in run\nKeyError: {second}',
    "printed {second}",  # a task's own output, re-logged by its pool process
]
#: A task line as celery itself writes it (no zone), and in the framework's format zoned +0100 or
#: +0200 (at 11:00 and 12:00 local: one UTC instant).
TASK_STAMPS = ["[2017-03-14 10:00:0{second},{ms:03d}: INFO/{thread}] {msg}",
               "2017-03-14 1{zone}:00:0{second} {ms:03d}00 +0{zone}00 - ovs-node1 - {pid}/2 - {logger} - 4 - {level} - "
               "{msg}"]
SOURCES = ("var/log/journald.log", "var/log/syslog", "var/log/upstart/ovs-workers.log")


def kept_part(frame: pl.DataFrame, compressed: bool) -> Packed:
    """A collector's part as the pipeline keeps it: compressed Arrow IPC, or a copy when small."""
    if not compressed:
        return Packed.of(frame)
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="zstd")
    return Packed(frame.height, data=buffer.getvalue())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(TASK_LINES), st.integers(0, 1), st.sampled_from(["ovs.a.run", "ovs.b.run"]),
                          st.integers(0, 4), st.integers(0, 2), st.integers(0, 3), st.integers(0, 2)),
                min_size=8, max_size=40), st.booleans())
def test_each_member_keeps_only_the_task_events_that_decide_the_history(parse, lines, compressed):
    """Folding only what `deciders` keeps of each member gives the same task table as folding
    every event: copies across members, equal instants, naive and two zoned clocks mixed; and
    the same whether the parts were kept compressed (the evidence lines read back from them)."""
    sources: dict[str, list[str]] = {source: [] for source in SOURCES}
    for template, task, name, second, where, clock, ms in lines:
        printed = template.startswith("printed")
        msg = template.format(name=name, id=UUID.format(task), pid=23050 + ms, second=second, exc="VXYZ"[ms + task])
        text = TASK_STAMPS[min(clock, 1)].format(
            second=second, ms=ms * 100, zone=clock, msg=msg, thread=f"Worker-{ms}" if ms else "MainProcess",
            pid=23050 + ms if printed else 1, logger="celery/celery.redirected" if printed else "celery/x",
            level="ERROR" if printed and task else "INFO")
        for source in SOURCES[where:where + 1] if clock < 3 else SOURCES[:2]:  # 3: naive, copied by rsyslog
            sources[source].append(text)
    history = TaskHistory()
    found = [task_events(parse("\n".join(text) + "\n", source=source).events, history.knowledge)
             for source, text in sources.items() if text]
    found = [f for f in found if f.height]
    offsets = pl.DataFrame({"host": ["ovs-node1"], "ts_local": [datetime(2017, 3, 14, 11)], "utc_offset": [60]},
                           schema={"host": pl.String, "ts_local": pl.Datetime("us"), "utc_offset": pl.Int16})
    view = BundleView(bundle=Bundle(path=Path("b.tar"), host_hint="ovs-node1", collected_at=None), node="ovs-node1",
                      to_utc=lambda frame: fill_offsets(frame, offsets))
    history.combine([kept_part(deciders(f, history.knowledge.outcomes), compressed) for f in found], view)
    kept = history.table
    history.combine([Packed.of(f) for f in found], view)

    assert_frame_equal(kept, history.table)


def test_a_task_ensure_single_gave_up_starting_never_ran_so_it_has_no_runtime_and_its_whole_line_is_the_message(
        tasks):
    """"Could not start task X with params {...}, within expected time (300s). Removed it from queue": the
    task waited five minutes in ensure single's queue and was dropped. Its wait is no runtime, and the
    message keeps every word of the line (the params say which volume), not the part after the comma."""
    _, by_id, _ = tasks
    safety = by_id[UUID.format(7)]
    assert (safety["outcome"], safety["runtime"]) == ("timed_out", None)
    said = "Ensure single CHAINED mode - ID 1489482000_aB3dE5fG7h - "
    assert safety["message"] in (  # ensure single's line, or celery's copy of the same words in the exception
        f"{said}Could not start task ovs.mds.ensure_safety with params {{}}, within expected time (300s). Removed "
        "it from queue",
        f"{said}Task ovs.mds.ensure_safety could not be started within timeout of 300s")
    scrub = by_id[UUID.format(4)]
    assert (scrub["outcome"], scrub["runtime"]) == ("timed_out", 3601.0), "a task celery killed did run"
