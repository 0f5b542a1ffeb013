"""Many small members, analyzed a batch at a time, give what they give analyzed one by one (issue
#19): no member's lines, host, zone, vPool or context reach another member of its batch, rotation
trims, journal copies and a member's later copy hold, and the analysis runs once a batch, not
once a member. The bundle is `tests/pipeline/many_members.py`'s mix of kinds."""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from analyzer.collectors.protocol import Batch, BundleView, Collector
from analyzer.frames import Packed
from analyzer.outputs.report import write_outputs
from analyzer.pipeline import analysis
from analyzer.pipeline.analysis import Analysis, analyze
from tests.pipeline.many_members import mixed_members, tar_of

MEMBERS = 300


@pytest.fixture(scope="module")
def members() -> dict[str, bytes]:
    return mixed_members(MEMBERS)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory, members: dict[str, bytes]) -> Path:
    path = tmp_path_factory.mktemp("many") / "ovs-node1-20170314102205-logs.tar"
    path.write_bytes(tar_of(members.items()))
    return path


def findings_json(result: Analysis, out: Path) -> dict[str, Any]:
    document = json.loads(write_outputs(result, out, {})["findings"].read_text(encoding="utf-8"))
    document.pop("generated_at")
    return document


def analyzed(bundle: Path, rules, batch: int, monkeypatch: pytest.MonkeyPatch, collectors=None) -> Analysis:
    with monkeypatch.context() as patched:
        patched.setattr(analysis, "BATCH_MEMBERS", batch)
        return analyze(bundle, rules, collectors=collectors)


@pytest.fixture(scope="module")
def one_by_one(bundle: Path, rules, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """findings.json of the bundle analyzed a member at a time (batches of one)."""
    with pytest.MonkeyPatch.context() as patched:
        return findings_json(analyzed(bundle, rules, 1, patched), tmp_path_factory.mktemp("alone"))


@pytest.mark.parametrize("batch", [7, analysis.BATCH_MEMBERS])
def test_members_analyzed_in_batches_give_the_findings_json_of_members_analyzed_one_by_one(
        bundle, rules, one_by_one, batch, monkeypatch, tmp_path):
    batched = findings_json(analyzed(bundle, rules, batch, monkeypatch), tmp_path)
    assert batched["findings"], "the bundle has findings to compare"
    differing = sorted(key for key in one_by_one if batched.get(key) != one_by_one[key])
    assert not differing, f"batches of {batch} members change {differing}"
    assert batched == one_by_one


def test_each_member_keeps_its_own_lines_records_span_and_copies(bundle, members, rules, monkeypatch):
    result = analyzed(bundle, rules, analysis.BATCH_MEMBERS, monkeypatch)
    rows = {row.path: row for row in result.members}
    assert list(rows) == list(members)
    for path, data in members.items():
        text = gzip.decompress(data) if path.endswith(".gz") else data
        dropped = re.search(r"first (\d+) line\(s\) repeat", " ".join(rows[path].warnings))
        assert rows[path].lines + (int(dropped[1]) if dropped else 0) == text.count(b"\n"), path
    assert sum(row.lines for row in result.members) == sum(
        (gzip.decompress(d) if p.endswith(".gz") else d).count(b"\n") for p, d in members.items()) - sum(
        1 for p in members if re.fullmatch(r"var/log/ovs/rotated\d+\.log", p)), "one line dropped per rotation pair"
    for path, row in rows.items():
        if path.endswith(".gz"):  # a traceback of five lines is one record, the next line another
            assert (row.lines, row.records) == (6, 2), path
        elif "/volumedriver/vpool" in path:  # the build banner's lines continue its record
            assert (row.lines, row.records) == (3, 1), path
        elif "/strange.log." in path:
            assert row.unparsed == 1, path
    # zoned lines: each member's span is that of its own lines, whatever its neighbours' zones
    for path, data in members.items():
        dropped = re.search(r"first (\d+) line\(s\) repeat", " ".join(rows[path].warnings))
        instants = [_utc(line) for line in data.splitlines()[int(dropped[1]) if dropped else 0:]]
        if not path.endswith(".gz") and None not in instants:
            assert (rows[path].first_seen, rows[path].last_seen) == (min(instants), max(instants)), path
    # the journal's entries repeat one syslog member read before it and one read after it
    copied = [path for path, row in rows.items() if row.journal_copies]
    assert len(copied) == 2 and all(p.startswith("var/log/syslog.") for p in copied)
    journal = list(members).index("var/log/journald.log")
    assert list(members).index(copied[0]) < journal < list(members).index(copied[1])


def _utc(line: bytes) -> str | None:
    """The instant of a zoned line as findings.json writes it (`04700`: Python's milliseconds x100)."""
    found = re.match(rb"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (\d{5,6}) ([+-]\d\d)00 ", line)
    if found is None:
        return None
    fraction = int(found[2]) * (10 if len(found[2]) == 5 else 1)
    utc = datetime.strptime(found[1].decode(), "%Y-%m-%d %H:%M:%S") - timedelta(hours=int(found[3]))
    return (utc + timedelta(microseconds=fraction)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_evidence_context_comes_from_the_evidence_s_own_member(bundle, members, rules, monkeypatch, tmp_path):
    document = findings_json(analyzed(bundle, rules, analysis.BATCH_MEMBERS, monkeypatch), tmp_path)
    evidence = [e for f in document["findings"] for e in f["evidence"]]
    assert any(e["context_after"] for e in evidence) and any(e["context_before"] for e in evidence)
    for item in evidence:
        data = members[item["source"]]
        lines = (gzip.decompress(data) if item["source"].endswith(".gz") else data).decode().splitlines()
        for line in [*item["context_before"], *item["context_after"]]:
            assert line in lines, f"{item['source']}:{item['line']} shows {line!r} of another member"


def test_a_member_held_twice_counts_once_with_its_last_copy_whatever_batch_each_copy_is_in(
        members, rules, monkeypatch, tmp_path):
    mixed = dict(list(members.items())[:40])
    later = b"2017-03-01 00:00:05 04700 +0100 - ovs-node1 - 1/2 - lib/vdisk - 0 - ERROR - No space left on device\n"
    twice = tmp_path / "twice" / "ovs-node1-20170314102205-logs.tar"
    twice.parent.mkdir()
    twice.write_bytes(tar_of([*mixed.items(), ("var/log/ovs/lib.log.2", later)]))
    once = tmp_path / "once" / "ovs-node1-20170314102205-logs.tar"
    once.parent.mkdir()
    once.write_bytes(tar_of({**mixed, "var/log/ovs/lib.log.2": later}.items()))
    for batch in (8, analysis.BATCH_MEMBERS):
        got = findings_json(analyzed(twice, rules, batch, monkeypatch), tmp_path / f"twice-{batch}")
        want = findings_json(analyzed(once, rules, batch, monkeypatch), tmp_path / f"once-{batch}")
        assert any("appears twice" in w for w in got["bundle"]["warnings"])
        for document in (got, want):  # the archives differ, not what they hold
            del document["bundle"]["sha256"], document["bundle"]["warnings"]
        assert got["findings"] == want["findings"] and got == want


class Calls(Collector):
    """Counts the collector calls and the members each saw."""

    name = "calls"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def collect(self, batch: Batch) -> pl.DataFrame | None:
        self.calls.append(len(batch.sources))
        return None

    def combine(self, parts: list[Packed], view: BundleView) -> dict[str, Any]:
        return {}


def test_the_analysis_runs_once_a_batch_not_once_a_member(bundle, rules, monkeypatch):
    calls = Calls()
    analyzed(bundle, rules, analysis.BATCH_MEMBERS, monkeypatch, collectors=[calls])
    assert sum(calls.calls) == MEMBERS
    assert len(calls.calls) <= MEMBERS // analysis.BATCH_MEMBERS + 3, "a journal dump starts a batch"


def test_events_of_one_instant_in_two_members_keep_the_members_order(rules, monkeypatch, tmp_path):
    """A task accepted in the first member and received, at the same instant, in the second: its
    evidence is the first member's line, batched or not (the batch's rows stay member by member)."""
    task = "ovs.vdisk.sync[6b1c9a4e-0d7e-4c1e-9a52-1f0c2f8b7d11]"
    bundle = tmp_path / "ovs-node1-20170314102205-logs.tar"
    bundle.write_bytes(tar_of([
        ("var/log/upstart/ovs-workers.log.1", f"[2017-03-14 10:22:05,051: DEBUG/MainProcess] Task accepted: {task} "
                                              "pid:2816\n".encode()),
        ("var/log/upstart/ovs-workers.log.2", f"[2017-03-14 10:22:05,051: INFO/MainProcess] Received task: {task}\n"
                                              .encode()),
    ]))
    for batch in (1, analysis.BATCH_MEMBERS):
        tasks = findings_json(analyzed(bundle, rules, batch, monkeypatch), tmp_path / str(batch))["sections"]["tasks"]
        assert [t["evidence"] for t in tasks["unfinished"]] == ["var/log/upstart/ovs-workers.log.1:1"], batch
