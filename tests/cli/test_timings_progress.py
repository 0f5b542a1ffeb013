"""`--timings` says where the time went; the progress bar shows on a terminal only."""

from __future__ import annotations

import contextvars
import io
import threading
import time

from rich.console import Console

from analyzer.cli.progress import BundleProgress, bundle_bytes
from analyzer.pipeline.registry import default_collectors
from analyzer.reading.bundle import Member
from analyzer.timings import lane, measured, recording, stage, timed
from tests.conftest import SAMPLE, cli


def test_a_stage_counts_its_own_time_not_the_stages_inside_it():
    with recording() as spent:
        with stage("outer"):
            time.sleep(0.05)
            with stage("inner"):
                time.sleep(0.1)
        time.sleep(0.02)
    rows = dict(spent.rows())
    assert 0.1 <= rows["inner"] < rows["inner"] + rows["outer"] <= rows["total"]
    assert 0.05 <= rows["outer"] < 0.1
    assert rows["other"] >= 0.02
    assert abs(sum(v for k, v in rows.items() if k != "total") - rows["total"]) < 1e-6


def test_stages_cost_nothing_and_record_nothing_when_nobody_records():
    with stage("parse"):
        pass
    with recording() as spent:
        pass
    assert [name for name, _ in spent.rows()] == ["other", "total"]


def test_timed_counts_the_time_spent_producing_each_item():
    def slow():
        for i in range(3):
            time.sleep(0.02)
            yield i

    with recording() as spent:
        assert list(timed(slow(), "read")) == [0, 1, 2]
    assert dict(spent.rows())["read"] >= 0.06


def test_analyze_timings_prints_every_stage_to_stderr(tmp_path):
    result = cli("analyze", str(SAMPLE), "-o", str(tmp_path), "--timings")
    assert result.returncode == 0, result.stderr
    main, lane = result.stderr.split("# analysis thread, at the same time as the stages above:\n")
    table = {name: float(seconds) for name, seconds, _ in (line.rsplit(None, 2) for line in main.splitlines()[1:])}
    assert abs(sum(v for k, v in table.items() if k != "total") - table["total"]) < 0.05
    for name in ("load rules", "read", "decompress", "split lines", "match formats (core)", "fields table (core)",
                 "assemble records", "parse", "wait for analysis", "combine", "report", "other", "total"):
        assert name in table, result.stderr
    beside = {name: float(seconds) for name, seconds, _ in (line.rsplit(None, 2) for line in lane.splitlines())}
    each_collector = {f"collector {c.name}" for c in default_collectors()}
    assert set(beside) == {"aggregates", "rules", "unexplained errors", *each_collector}, result.stderr
    assert sum(beside.values()) <= table["total"]
    assert "stage" not in result.stdout


def test_a_lane_counts_its_stages_apart_from_the_main_threads():
    def work() -> None:
        with lane("helper"), stage("rules"):
            time.sleep(0.05)

    with recording() as spent, stage("parse"):
        helper = threading.Thread(target=contextvars.copy_context().run, args=(work,))
        helper.start()
        time.sleep(0.05)
        helper.join()
    assert spent.lanes["helper"]["rules"] >= 0.05
    assert "rules" not in dict(spent.rows())
    assert abs(dict(spent.rows())["parse"] + dict(spent.rows())["other"] - spent.wall) < 1e-6
    assert "# helper, at the same time as the stages above:" in spent.table()


def test_time_the_core_measured_itself_is_a_stage_within_the_one_open():
    with recording() as spent, stage("parse"):
        time.sleep(0.05)
        measured("fields table (core)", 0.02)
    rows = dict(spent.rows())
    assert rows["fields table (core)"] == 0.02
    assert 0.025 <= rows["parse"] < spent.wall - 0.02 + 1e-6, "the parent stage no longer counts the measured time"
    assert abs(sum(v for k, v in rows.items() if k != "total") - spent.wall) < 1e-6
    with stage("parse"):  # nothing records: nothing to count, no error
        measured("fields table (core)", 1.0)


def _member(size: int) -> Member:
    return Member(path="var/log/syslog", data=b"", mtime=0.0, stored_size=size)


def _half_done(terminal: bool, delay: float) -> tuple[str, BundleProgress]:
    """What a bar over 100 bytes draws once a 50-byte member is analyzed, and the bar."""
    out = io.StringIO()
    progress = BundleProgress(total=100, console=Console(file=out, force_terminal=terminal, width=120), delay=delay)
    progress(_member(50))
    progress.close()
    return out.getvalue(), progress


def test_no_bar_is_drawn_when_stderr_is_not_a_terminal():
    drawn, progress = _half_done(terminal=False, delay=0)
    assert drawn == ""
    assert progress.done == 50


def test_a_bar_appears_on_a_terminal_once_the_analysis_is_slow():
    drawn, _ = _half_done(terminal=True, delay=0)
    assert "analyzing" in drawn and "var/log/syslog" in drawn


def test_a_quick_analysis_draws_no_bar_even_on_a_terminal():
    drawn, _ = _half_done(terminal=True, delay=60)
    assert drawn == ""


def test_the_bar_knows_its_end_for_a_plain_tar_and_a_folder_but_not_a_compressed_one(make_bundle, tmp_path):
    plain = make_bundle({"var/log/syslog": "x\n"}, name="ovs-n1-20170314102205-logs.tar", compress=False)
    packed = make_bundle({"var/log/syslog": "x\n"}, compress=True)
    folder = tmp_path / "unpacked"
    (folder / "var/log").mkdir(parents=True)
    (folder / "var/log/syslog").write_text("hello\n")
    assert bundle_bytes(plain) == plain.stat().st_size
    assert bundle_bytes(packed) is None
    assert bundle_bytes(folder) == 6


def test_parse_timings_print_reading_and_writing_and_the_parser_threads_apart(tmp_path):
    result = cli("parse", str(SAMPLE), "-o", str(tmp_path), "--timings")
    assert result.returncode == 0, result.stderr
    main, *threads = result.stderr.split("\n# ")
    table = {line.rsplit(None, 2)[0]: float(line.rsplit(None, 2)[1]) for line in main.splitlines()[1:]}
    assert {"read", "wait for parse", "combine", "write", "other", "total"} <= set(table), result.stderr
    assert abs(sum(v for k, v in table.items() if k != "total") - table["total"]) < 0.05
    assert len(threads) == 1 and threads[0].startswith("parse threads,"), result.stderr
    # the core's pass apart, its matching and its table apart
    for name in ("split lines", "match formats (core)", "fields table (core)", "assemble records", "parse"):
        assert f"\n{name} " in threads[0], result.stderr
