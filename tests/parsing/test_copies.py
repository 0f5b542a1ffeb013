"""One entry copied into several syslog-family members counts once, and a crash is one finding."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.parsing.copies import _among
from analyzer.pipeline.analysis import analyze
from analyzer.pipeline.event_table import bundle_events
from tests.conftest import build_tar

SEGV = ("Mar 14 10:16:35 ovs-node1 kernel: [ 6805.218245] volumedriver_fs[1937]: segfault at 0 ip "
        "00007f8a1c2d3e4f sp 00007f89f2ffc8b0 error 4 in libvolumedriver.so[7f8a1b000000+2a00000]")
EXIT = ("Mar 14 10:16:35 ovs-node1 systemd[1]: ovs-volumedriver_vpool1.service: Main process exited, "
        "code=killed, status=11/SEGV")
JOURNAL = "-- Logs begin at Tue 2017-03-14 08:00:01 CET, end at Tue 2017-03-14 10:22:05 CET. --\n"


def crash_findings(make_bundle, rules, files):
    analysis = analyze(make_bundle(files), rules)
    return [f for f in analysis.findings if f.rule_id == "VOLUMEDRIVER_CRASH"]


def test_a_kernel_line_in_kern_log_and_syslog_counts_once(make_bundle, rules):
    (finding,) = crash_findings(make_bundle, rules, {
        "var/log/kern.log": SEGV + "\n",
        "var/log/syslog": SEGV + "\n",
        "var/log/syslog.1": SEGV + "\n",
    })
    assert finding.count == 1
    assert [e.source for e in finding.evidence] == ["var/log/kern.log"], "the most specific copy is the evidence"


def test_the_journal_copy_is_preferred_over_rsyslog(make_bundle, rules):
    (finding,) = crash_findings(make_bundle, rules, {
        "var/log/syslog": EXIT + "\n",
        "var/log/journald.log": JOURNAL + EXIT + "\n",
    })
    assert finding.count == 1 and finding.evidence[0].source == "var/log/journald.log"


def test_a_line_repeated_within_one_member_keeps_counting(make_bundle, rules):
    (finding,) = crash_findings(make_bundle, rules, {"var/log/kern.log": f"{SEGV}\n{SEGV}\n"})
    assert finding.count == 2


def test_the_kernel_segfault_joins_the_vpool_named_by_systemd_at_the_same_moment(make_bundle, rules):
    (finding,) = crash_findings(make_bundle, rules, {
        "var/log/kern.log": SEGV + "\n",
        "var/log/journald.log": JOURNAL + EXIT + "\n",
    })
    assert finding.entities == {"vpool": "vpool1"} and finding.count == 2


def test_a_segfault_far_from_any_named_crash_stays_on_its_own(make_bundle, rules):
    late = SEGV.replace("10:16:35", "11:40:00")
    findings = crash_findings(make_bundle, rules, {
        "var/log/kern.log": late + "\n",
        "var/log/journald.log": JOURNAL + EXIT + "\n",
    })
    assert sorted(f.entities.get("vpool", "-") for f in findings) == ["-", "vpool1"]


@pytest.mark.parametrize("journal_first", [True, False], ids=["journal-read-first", "syslog-read-first"])
def test_rsyslogs_copies_of_journal_entries_count_once_in_the_timeline(make_bundle, rules, journal_first):
    started = "Mar 14 10:16:{s:02d} ovs-node1 systemd[1]: Started Open vStorage worker {s}."
    journal = "".join(started.format(s=s) + "\n" for s in range(20))
    own = "Mar 14 10:17:00 ovs-node1 CRON[1151]: (root) CMD (/usr/bin/ovs monitor heartbeat)\n"
    members = {
        "var/log/journald.log": JOURNAL + journal,  # `ovs collect logs` order: the journal before syslog
        "var/log/ovs/lib.log": journal,  # not a syslog-family member: its lines are its own
        "var/log/syslog": journal + own,
    }
    order = list(members) if journal_first else list(reversed(members))
    analysis = analyze(make_bundle({name: members[name] for name in order}), rules)
    assert int(analysis.counts["count"].sum()) == 20 + 20 + 1
    syslog = next(m for m in analysis.members if m.path == "var/log/syslog")
    assert syslog.journal_copies == 20 and syslog.records == 21, "copies stay records: no line is dropped"
    assert any("20 record(s) repeat journal entries:" in w for w in syslog.warnings)


@settings(max_examples=15, deadline=None)
@given(journal=st.sets(st.integers(0, 29), max_size=12), syslog=st.sets(st.integers(0, 29), max_size=12),
       order=st.permutations(["var/log/journald.log", "var/log/syslog", "var/log/ovs/lib.log"]))
def test_the_timeline_counts_an_entry_once_whatever_the_archive_order(rules, journal, syslog, order):
    """rsyslog copies journal entries; lib.log is no syslog-family member, its lines are its own."""
    entry = "Mar 14 10:16:{0:02d} ovs-node1 systemd[1]: Started unit {0}.\n"
    text = {"var/log/journald.log": JOURNAL + "".join(entry.format(i) for i in sorted(journal)),
            "var/log/syslog": "".join(entry.format(i) for i in sorted(syslog)),
            "var/log/ovs/lib.log": entry.format(0)}
    with tempfile.TemporaryDirectory() as folder:
        bundle = build_tar(Path(folder) / "ovs-node1-20170314102205-logs.tar.gz",
                           {name: text[name] for name in order if text[name]})
        counts = analyze(bundle, rules).counts
    assert int(counts["count"].sum()) == len(journal | syslog) + 1


def test_parse_and_analyze_agree_on_which_records_repeat_journal_entries(make_bundle, rules):
    """`parse` marks copies `duplicate` over the whole table, `analyze` recognises them chunk by chunk:
    both take a whole entry of a syslog-family member (auth.log too) for a copy, never a line of
    another member that happens to look the same."""
    entry = "Mar 14 10:16:{0:02d} ovs-node1 {1}: {2} {0}.\n"
    started = [entry.format(s, "systemd[1]", "Started Open vStorage worker") for s in range(6)]
    logins = [entry.format(s, "sshd[2211]", "Accepted publickey for root from 10.0.0.9 port") for s in range(3)]
    members = {
        "var/log/journald.log": JOURNAL + "".join(started + logins),
        "var/log/syslog": "".join(started[:4]) + "Mar 14 10:17:00 ovs-node1 CRON[1151]: (root) CMD (true)\n",
        "var/log/auth.log": "".join(logins[1:]),
        "var/log/ovs/lib.log": "".join(started),  # looks like rsyslog's lines, but is no copy of them
    }
    bundle = make_bundle(members)
    events = bundle_events(bundle)
    marked = dict(events.filter(pl.col("parse_status") == "duplicate").group_by("source").len().iter_rows())
    counted = {m.path: m.journal_copies for m in analyze(bundle, rules).members if m.journal_copies}
    assert marked == counted == {"var/log/syslog": 4, "var/log/auth.log": 2}


_HASHES = st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=30)


@given(known=_HASHES, hashes=_HASHES)
def test_a_record_is_a_copy_exactly_when_its_key_hash_is_a_known_entrys(known, hashes):
    known_series = pl.Series(known, dtype=pl.UInt64).unique().sort()
    assert _among(pl.Series(hashes, dtype=pl.UInt64), known_series).to_list() == [h in set(known) for h in hashes]
