#!/usr/bin/env python3
"""Write small, seeded, realistic Open vStorage support bundles with planted failures.

Why this exists: the analyzer needs test data whose truth is known line by line.  Real
bundles are customer data and cannot be committed; the benchmark generator in
``../shared/bench`` makes big bundles for speed tests but does not tell *where* its
failures are.  This module writes a bundle of a few hundred KB that looks like what
``ovs collect logs`` (framework 2.7.9.1 and later) packs: a gzipped GNU tar whose members
are named ``var/log/...`` without a leading slash, each member in the line format of its
producer and release era (see ``../shared/ovs-log-formats.md``), with healthy background
noise and, depending on the scenario, a story of known failures whose message texts come
from ``../shared/ovs-failure-catalog.md``.

It returns a manifest that says, for every planted failure, the catalog id, the member
and the 1-based line number of the first line of the record that carries it, so tests can
assert that the analyzer finds each one at the right place.

Scenarios:
  incident  E3 (2.7-2.9) master node, zone +0100, two hours on one day, eleven failure kinds.
  healthy   the same node and noise, no failure text at all.
  legacy    E2 (2015) upstart node: Python format B, old volumedriver format, arakoon 1.8,
            CRLF upstart job logs, dmesg; three failure kinds.

Deterministic: the same arguments give a byte-identical archive (fixed tar mtimes and
owners, gzip mtime 0, sorted members, string-seeded random streams, no wall clock).
Standard library only.

Usage: python samples/make_sample.py OUT [--seed N] [--host H] [--scenario S]
                                         [--start ISO8601] [--manifest]
       python samples/make_sample.py OUT_DIR --cluster N [--seed N] [--shared KINDS]
                                         (N nodes of one cluster, known clock skews)
"""
from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import string
import struct
import sys
import tarfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

SCENARIOS = ("incident", "healthy", "legacy")
CET = timezone(timedelta(hours=1))
DEFAULT_START = {
    "incident": datetime(2017, 3, 14, 8, 20, 0, tzinfo=CET),
    "healthy": datetime(2017, 3, 14, 8, 20, 0, tzinfo=CET),
    "legacy": datetime(2015, 12, 4, 8, 20, 0, tzinfo=CET),
}
# The window is two hours; the last line is written just before `ovs collect logs` runs.
WINDOW = timedelta(hours=2, minutes=1, seconds=55)
COLLECT_DELAY = timedelta(seconds=10)
#: systemd's RestartSec=5 of the OVS units: a crashed service is started again after this.
RESTART_DELAY = timedelta(seconds=5, microseconds=112000)

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ZONE_NAMES = {0: "UTC", 60: "CET", 120: "CEST", -300: "EST", -240: "EDT", -420: "MST", 480: "CST"}


# --------------------------------------------------------------------------- timestamps

def _offset_minutes(t: datetime) -> int:
    off = t.utcoffset()
    return 0 if off is None else int(off.total_seconds() // 60)


def tz_offset(t: datetime) -> str:
    """``+0100`` style offset, as every OVS producer prints it."""
    mins = _offset_minutes(t)
    sign = "+" if mins >= 0 else "-"
    mins = abs(mins)
    return f"{sign}{mins // 60:02d}{mins % 60:02d}"


def tz_name(t: datetime) -> str:
    """Zone abbreviation (``CET``), as ``tm_zone`` and journalctl print it."""
    return ZONE_NAMES.get(_offset_minutes(t), tz_offset(t))


def ymd_hms(t: datetime) -> str:
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}:{t.second:02d}"


def hms(t: datetime) -> str:
    return f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}"


def ts_python_c(t: datetime) -> str:
    """Formats C/D: milliseconds rounded to 3 digits plus a literal "00" (999.5 ms -> 100000)."""
    return f"{ymd_hms(t)} {t.microsecond / 1000:03.0f}00 {tz_offset(t)}"


def ts_micro(t: datetime) -> str:
    """volumedriver >= 6 and arakoon/alba >= 1.9.16: zero-padded microseconds."""
    return f"{ymd_hms(t)} {t.microsecond:06d} {tz_offset(t)}"


def ts_vd_old(t: datetime) -> str:
    """volumedriver <= 5.x: colon before the microseconds, zone name at the end."""
    return f"{ymd_hms(t)}:{t.microsecond:06d} {tz_offset(t)} {tz_name(t)}"


def ts_python_default(t: datetime) -> str:
    """Python logging's default asctime (formats A/B, django, celery): truncated ms."""
    return f"{ymd_hms(t)},{t.microsecond // 1000:03d}"


def ts_syslog(t: datetime) -> str:
    """rsyslog: space-padded day."""
    return f"{MONTHS[t.month - 1]} {t.day:2d} {hms(t)}"


def ts_journal(t: datetime) -> str:
    """journalctl short output: strftime("%b %d %H:%M:%S"), zero-padded day."""
    return f"{MONTHS[t.month - 1]} {t.day:02d} {hms(t)}"


def ts_lwt(t: datetime) -> tuple[str, str]:
    """Lwt_log $(date) and $(milliseconds): 4 characters cut from "%.4f" of the fraction."""
    return ts_syslog(t), f"{t.microsecond / 1e6:.4f}"[2:6]


def journal_header_time(t: datetime) -> str:
    return f"{WEEKDAYS[t.weekday()]} {ymd_hms(t)} {tz_name(t)}"


# --------------------------------------------------------------------------- small helpers

def make_uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"


def make_machine_id(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(16))


def thread_address(rng: random.Random) -> int:
    """A pthread_t as seen on 64-bit Linux: 0x00007fxxxxxxx700."""
    return 0x7F0000000000 + rng.randrange(0x1000000, 0xFFFFFFF) * 0x1000 + 0x700


def rng_for(seed: int, host: str, *parts: str) -> random.Random:
    """A random stream per (seed, host, purpose); str seeds hash with SHA-512, so it is stable."""
    return random.Random(":".join((str(seed), host, *parts)))


def spread(rng: random.Random, t0: datetime, t1: datetime, n: int) -> list[datetime]:
    """n sorted random instants in [t0, t1)."""
    span = (t1 - t0).total_seconds()
    if span <= 0 or n <= 0:
        return []
    offsets = sorted(rng.uniform(0, span) for _ in range(n))
    return [t0 + timedelta(seconds=round(o, 6)) for o in offsets]


def every(t0: datetime, t1: datetime, period: timedelta, phase: timedelta) -> list[datetime]:
    """Instants t0+phase, +period, ... before t1 (cron-like schedules)."""
    out, t = [], t0 + phase
    while t < t1:
        out.append(t)
        t += period
    return out


# --------------------------------------------------------------------------- processes

class Seq:
    """A per-process sequence counter. Python and volumedriver take the number before level
    filtering, so the visible numbers have gaps; OCaml counters are contiguous."""

    def __init__(self, rng: random.Random, style: str, start: int = 0, gaps: float = 0.0):
        self.rng, self.style, self.value, self.gaps = rng, style, start, gaps

    def next(self) -> str:
        v = self.value
        self.value += 1
        if self.gaps and self.rng.random() < self.gaps:
            self.value += self.rng.randint(1, 4)
        return f"{v:016x}" if self.style == "hex16" else str(v)


class Proc:
    """One OS process writing OVS-format lines: pid, a pool of threads, a sequence counter."""

    def __init__(self, rng: random.Random, host: str, pid: int, kind: str, *, threads: int = 4,
                 seq_start: int = 0):
        self.rng, self.host, self.pid, self.kind = rng, host, pid, kind
        addrs = [thread_address(rng) for _ in range(threads)]
        if kind == "py":
            self.threads = [str(a) for a in addrs]
            self.seq = Seq(rng, "dec", seq_start, gaps=0.3)
        elif kind == "vd":
            self.threads = [f"0x{a:016x}" for a in addrs]
            self.seq = Seq(rng, "hex16", seq_start, gaps=0.2)
        else:  # arakoon / alba >= 1.9.16: thread is always 0, printed %04i
            self.threads = ["0000"]
            self.seq = Seq(rng, "dec", seq_start)

    def tid(self) -> str:
        return self.rng.choice(self.threads)

    def py_c(self, t: datetime, comp: str, level: str, msg: str) -> str:
        return (f"{ts_python_c(t)} - {self.host} - {self.pid}/{self.tid()} - {comp} - "
                f"{self.seq.next()} - {level} - {msg}")

    def py_d(self, t: datetime, comp: str, func: str, level: str, msg: str) -> str:
        return (f"{ts_python_c(t)} - {self.host} - {self.pid}/{self.tid()} - {comp} - {func} - "
                f"{self.seq.next()} - {level} - {msg}")

    def vd(self, t: datetime, prog: str, logger: str, sev: str, func: str, msg: str, tid: str = "") -> str:
        return (f"{ts_micro(t)} - {self.host} - {self.pid}/{tid or self.tid()} - {prog}/{logger} - "
                f"{self.seq.next()} - {sev} - {func}: {msg}")

    def ocaml(self, t: datetime, comp: str, level: str, msg: str) -> str:
        return (f"{ts_micro(t)} - {self.host} - {self.pid}/{self.tid()} - {comp} - "
                f"{self.seq.next()} - {level} - {msg}")


def vd_old(t: datetime, sev: str, logger: str, func: str, msg: str, tid: str) -> str:
    return f"{ts_vd_old(t)} -- {sev} -- {logger} -- {func}: {msg} -- [{tid}]"


def py_b(t: datetime, pid: int, level: str, source: str, name: str, msg: str) -> str:
    return f"{ts_python_default(t)} - [{pid}] - [{level}] - [{source}] - [{name}] - {msg}"


def celery_line(t: datetime, level: str, proc: str, msg: str) -> str:
    return f"[{ts_python_default(t)}: {level}/{proc}] {msg}"


# --------------------------------------------------------------------------- members

Render = Callable[[], list[str]]


@dataclass
class Rec:
    """One log record: rendered lazily (in time order, so sequence numbers increase)."""

    t: datetime
    render: Render
    ids: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    quirk: str = ""
    order: int = 0


@dataclass
class Member:
    path: str
    owner: tuple[str, str] = ("root", "root")
    crlf: bool = False
    recs: list[Rec] = field(default_factory=list)
    header: Callable[[datetime, datetime], list[str]] | None = None
    raw: bytes | None = None  # binary members (lastlog)
    mtime: datetime | None = None

    def add(self, t: datetime, render: Render | list[str] | str, *, ids: Sequence[str] = (),
            extra: Sequence[str] = (), quirk: str = "") -> None:
        if isinstance(render, str):
            render = [render]
        if isinstance(render, list):
            fixed = render
            render = lambda: fixed  # noqa: E731
        self.recs.append(Rec(t, render, tuple(ids), tuple(extra), quirk, len(self.recs)))

    def build(self) -> tuple[list[str], list[tuple[Rec, int, str]]]:
        """Physical lines, and (record, 1-based first line, first line) for tagged records."""
        self.recs.sort(key=lambda r: (r.t, r.order))
        lines: list[str] = []
        tagged: list[tuple[Rec, int, str]] = []
        if self.header and self.recs:
            lines.extend(self.header(self.recs[0].t, self.recs[-1].t))
        for rec in self.recs:
            out = rec.render()
            if rec.ids or rec.extra or rec.quirk:
                tagged.append((rec, len(lines) + 1, out[0]))
            lines.extend(out)
        if self.recs and self.mtime is None:
            self.mtime = self.recs[-1].t
        return lines, tagged


def count_lines(data: bytes) -> int:
    """Physical lines: a final newline does not add a line."""
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


# --------------------------------------------------------------------------- the node

@dataclass
class Volume:
    name: str
    guid: str
    vid: str


class Node:
    """Everything that stays the same across the members of one bundle: names, ids, pids,
    and the timeline of the story."""

    def __init__(self, seed: int, host: str, scenario: str, start: datetime):
        self.seed, self.host, self.scenario, self.start = seed, host, scenario, start
        self.incident = scenario == "incident"
        self.cluster: ClusterPlan | None = None  # set by ClusterPlan.join for multi-node samples
        self.index = 0
        rng = rng_for(seed, host, "node")
        self.rng = rng
        self.end = start + WINDOW
        self.collected = self.end + COLLECT_DELAY
        self.vpool = "vpool1"
        self.mid = make_machine_id(rng)
        self.peer_mids = [make_machine_id(rng) for _ in range(2)]
        self.ip = "10.100.1.1"
        self.peer_ips = ["10.100.1.2", "10.100.1.3"]
        self.sd_id = f"{self.vpool}{self.mid}"
        names = ["web01_disk0", "web02_disk0", "db01_disk0", "db01_disk1", "mail01_disk0",
                 "build01_disk0", "fs01_disk0", "fs01_disk1"]
        self.vols = [Volume(n, make_uuid(rng), make_uuid(rng)) for n in names]
        self.vpool_guid = make_uuid(rng)
        # timeline (offsets from start); the node reboots just after the window starts
        self.t_shutdown = start + timedelta(seconds=80)
        self.t_boot = start + timedelta(seconds=190)
        self.t_up = start + timedelta(seconds=228)
        base = rng.randrange(1200, 1500)
        self.pid = {
            # previous boot
            "arakoon_old": rng.randrange(1100, 1300), "worker_old": rng.randrange(1800, 2400),
            "vd_old": rng.randrange(2400, 3000), "dtl_old": rng.randrange(2300, 2400),
            "alba_old": rng.randrange(2200, 2300),
            # this boot
            "arakoon": base + 17, "dtl": base + 641, "alba": base + 655, "vd": base + 702,
            "worker": base + 731, "api": base + 760, "vd_new": base + 9318,
            "heartbeat": base + 1100,
        }
        if scenario == "legacy":
            self.era = "E2"
            self.versions = {"openvstorage": "2.4.2-1", "volumedriver": "5.6.2",
                             "alba": "0.6.28", "arakoon": "1.8.12"}
        else:
            self.era = "E3"
            self.versions = {"openvstorage": "2.7.9.1-1", "volumedriver": "6.10.1",
                             "alba": "1.3.7", "arakoon": "1.9.16"}
        # story times (only used by the scenarios that plant failures)
        s = start
        self.t_disk_io = s + timedelta(minutes=79, seconds=12, microseconds=118204)
        self.t_disqualify = s + timedelta(minutes=79, seconds=14, microseconds=402113)
        self.t_requalified = s + timedelta(minutes=91, seconds=40, microseconds=7761)
        self.t_retry = s + timedelta(minutes=79, seconds=50, microseconds=230417)
        self.t_no_master = s + timedelta(minutes=95)
        self.t_master_back = s + timedelta(minutes=108, seconds=0, microseconds=523337)
        self.t_ensure_timeout = s + timedelta(minutes=102, seconds=15, microseconds=33000)
        self.t_task_raised = s + timedelta(minutes=104, seconds=10, microseconds=512000)
        self.t_no_space = s + timedelta(minutes=112, seconds=0, microseconds=401877)
        self.t_dtl_degraded = s + timedelta(minutes=112, seconds=2, microseconds=90112)
        self.t_halted = s + timedelta(minutes=114, seconds=10, microseconds=611234)
        self.t_crash = s + timedelta(minutes=116, seconds=35, microseconds=221345)
        self.t_restart = self.t_crash + RESTART_DELAY
        self.crash = scenario in ("incident", "legacy")
        self.t_vd_back = self.t_restart + timedelta(microseconds=700311)
        # incident: the volumedriver keeps crashing (flapping: three SEGVs within four minutes), and
        # ovs-workers is killed while a task runs, which therefore never finishes
        self.vd_recrashes = [self.t_vd_back + timedelta(seconds=69, microseconds=310442),
                             self.t_vd_back + timedelta(seconds=141, microseconds=87120)] if self.incident else []
        self.t_worker_kill = s + timedelta(minutes=106, seconds=20, microseconds=412000)
        self.outages: dict[str, list[tuple[datetime, datetime]]] = {}
        if self.crash:
            self.outages["vd"] = [(self.t_crash, self.t_vd_back)] + [
                (t, t + RESTART_DELAY + timedelta(microseconds=700311)) for t in self.vd_recrashes]
        if self.incident:
            self.outages["worker"] = [(self.t_worker_kill, self.t_worker_kill + RESTART_DELAY)]
        up = self.t_up
        after = {"node": 0.0, "arakoon": 0.318002, "watcher": 1.600413, "api": 3.0012, "dtl": 6.09021,
                 "alba": 9.001307, "vd": 17.000412, "worker": 22.331}
        self.svc_start = {k: up + timedelta(seconds=v) for k, v in after.items()}

    def shares(self, kind: str) -> bool:
        """Does this node's cluster sample carry evidence `kind` (`SHARED_KINDS`)?"""
        return self.cluster is not None and kind in self.cluster.shared

    def heartbeat_pid(self, t: datetime) -> int:
        """pid of the `ovs monitor heartbeat` cron run of t's minute (pids wrap below pid_max 32768);
        CRON's own pid in syslog is two less."""
        minute = int((t - self.start).total_seconds() // 60)
        return 300 + (self.pid["heartbeat"] + 13 * minute) % 32000

    @property
    def ensure_single_msg(self) -> str:
        t = self.t_ensure_timeout
        eid = f"{int(t.timestamp()) - 300}_{self.mid[:8]}"
        return (f"Ensure single CHAINED mode - ID {eid} - Could not start task ovs.mds.mds_checkup "
                "with params {}, within expected time (300s). Removed it from queue")

    def running(self, svc: str, t: datetime) -> bool:
        """Is the service up at t? Everything stops at shutdown and starts again after the reboot;
        a service is also down between each crash and its restart (`outages`)."""
        if t < self.t_shutdown:
            return True
        if t < self.svc_start[svc]:
            return False
        return not any(start <= t < end for start, end in self.outages.get(svc, ()))

    def worker_killed_between(self, t0: datetime, t1: datetime) -> bool:
        return any(t0 <= start < t1 for start, _ in self.outages.get("worker", ()))

    def vd_pid_at(self, t: datetime) -> str:
        if t < self.t_shutdown:
            return "vd_old"
        return "vd_new" if self.crash and t >= self.t_restart else "vd"

    def down(self, t: datetime) -> bool:
        """The node itself is down (between shutdown and boot, plus boot time)."""
        return not self.running("node", t)

    def fields(self, rng: random.Random) -> dict[str, object]:
        v = rng.choice(self.vols)
        return {
            "vname": v.name, "vguid": v.guid, "vid": v.vid, "n": rng.randrange(2, 4000),
            "k": rng.randrange(1, 9), "ms": rng.randrange(1, 900), "uuid": make_uuid(rng),
            "sec": f"{rng.uniform(0.02, 2.5):.2f}", "secf": f"{rng.uniform(0.0002, 0.02):.6f}",
            "peer": rng.choice(self.peer_ips), "host": self.host, "vpool": self.vpool,
            "mid": self.mid, "sd": self.sd_id, "ip": self.ip, "hex": f"{rng.getrandbits(32):08x}",
            "eid": f"{int(self.start.timestamp()) + rng.randrange(7200)}_{make_machine_id(rng)[:8]}",
            "bytes": rng.randrange(4096, 4 << 20), "port": rng.randrange(26200, 26220),
        }


def pick(rng: random.Random, bank: Sequence[tuple]) -> tuple:
    return rng.choices(bank, weights=[b[0] for b in bank])[0]


# --------------------------------------------------------------------------- message banks
# (weight, ...fields...).  Texts are shaped after real OVS lines; none of them matches a
# catalog signature, so healthy noise never raises a finding.

LIB_C = [  # component, level, message
    (6, "lib/ensure single", "INFO",
     "Ensure single CHAINED mode - ID {eid} - New task ovs.mds.mds_checkup with params {{}} scheduled "
     "for execution"),
    (4, "lib/ensure single", "INFO",
     "Ensure single CHAINED mode - ID {eid} - Task ovs.mds.mds_checkup with params {{}} finished "
     "successfully"),
    (3, "lib/ensure single", "DEBUG",
     "Ensure single DEFAULT mode - ID {eid} - Amount of jobs pending for key "
     "ovs_ensure_single_ovs.vdisk.dtl_checkup: 0"),
    (6, "lib/mds", "DEBUG", "MDS safety: vDisk {vguid}: Start checkup for virtual disk {vname}"),
    (6, "lib/mds", "DEBUG", "MDS safety: vDisk {vguid}: Completed"),
    (3, "lib/mds", "INFO", "MDS checkup - vPool {vpool} - Checking StorageRouter {host}"),
    (5, "lib/vdisk", "INFO", "    VDisk {vname} with guid {vguid}: DTL configuration is ok"),
    (3, "lib/vdisk", "INFO", "Syncing vDisk {vname} with guid {vguid} to the model"),
    (4, "lib/scheduled tasks", "INFO", "[SSA] Snapshot has been taken for vDisk {vguid}"),
    (2, "lib/scheduled tasks", "DEBUG", "[SSA] vDisk {vname} - Snapshot {uuid} will be kept"),
    (3, "lib/storagerouter", "DEBUG", "Pinging StorageRouter {host} - {ms} ms since last ping"),
    (2, "lib/generic tasks scrub", "INFO",
     "Scrubber - vPool {vpool} - StorageRouter {host} - Queue for scrubbing is empty"),
    (2, "lib/vdisk", "WARNING",
     "vDisk {vname} with guid {vguid}: statistics are {k} seconds old, using cached values"),
    (1, "lib/storagedriver", "INFO", "Cluster registry checkup - vPool {vpool} - {k} nodes online"),
]

EXT_D = [  # component, funcName, level, message
    (8, "extensions-generic/watcher.py", "_test_store", "DEBUG", "[framework] Testing persistent store..."),
    (8, "extensions-generic/watcher.py", "_test_store", "DEBUG",
     "[framework] Persistent store OK after 1 tries"),
    (6, "extensions-generic/watcher.py", "_test_store", "DEBUG",
     "[framework] Volatile store OK after 1 tries"),
    (4, "extensions-generic/watcher.py", "_test_rabbitmq", "DEBUG", "[framework] RabbitMQ OK after 1 tries"),
    (5, "extensions-generic/sshclient.py", "run", "DEBUG",
     "Executing command on {peer}: systemctl is-active ovs-volumedriver_{vpool}"),
    (3, "extensions-generic/system.py", "get_my_storagerouter", "DEBUG",
     "StorageRouter {host} found with machine id {mid}"),
    (3, "extensions-rabbitmq/mq_consumer.py", "callback", "INFO",
     "Processing message volumedriver.volume_size_changed for volume {vid}"),
    (2, "extensions-packages/packagefactory.py", "get_installed_versions", "DEBUG",
     "Package openvstorage has version {ovs_version}"),
    (2, "extensions-db/arakoon_client.py", "_connect", "DEBUG",
     "Connected to Arakoon node {peer}:26400 of cluster ovsdb"),
]

VD_MSG = [  # logger, severity, function, message
    (8, "XMLRPCTimingWrapper", "info", "execute", "Arguments for volumeInfo are {{[volume_id:{vid}]}}"),
    (8, "XMLRPCTimingWrapper", "info", "execute", "Call volumeInfo took {secf} seconds"),
    (6, "Volume", "info", "tlogWrittenToBackend", "{vid}: tlog_{uuid} written to backend"),
    (5, "SCOCache", "info", "cleanup",
     "/mnt/ssd1/{vpool}_write_sco_1: removed {k} SCOs, {bytes} bytes freed"),
    (4, "MDSMetaDataBackend", "info", "sync_", "{vid}: MDS slave {peer}:{port} is in sync"),
    (4, "LockedArakoonCounter", "info", "run_sequence", "updating counter succeeded after 1 attempt(s)"),
    (3, "VFSObjectRouter", "info", "maybe_steal_", "{vid}: not stealing, owner {peer} is online"),
    (3, "ClusterCache", "info", "update_stats", "cache hit rate {k}{k}.{ms}%, {n} entries in use"),
    (3, "Volume", "info", "createSnapshot", "{vid}: snapshot {uuid} created"),
    (2, "MetaDataServerTable", "info", "apply_relocations", "{vid}: applied {n} relocations"),
    (2, "VolManager", "info", "ensureResourceLimits", "{k} volumes running, open files within limits"),
    (1, "SCOCache", "warning", "throttle_", "/mnt/ssd1/{vpool}_write_sco_1: throttling writes for {ms} us"),
]

DTL_MSG = [
    (6, "FailOverCacheAcceptor", "info", "run", "new connection from {peer}"),
    (5, "FailOverCacheProtocol", "info", "register_", "{vid}: registered, cluster size 4096"),
    (5, "DtlFileBackend", "info", "open", "{vid}: opening /mnt/ssd1/{vpool}_dtl/{vid}/00_{hex}_00"),
    (4, "DtlFileBackend", "info", "remove", "{vid}: removing 00_{hex}_00"),
    (3, "FailOverCacheProtocol", "info", "processFlush_", "{vid}: flush of {n} entries done"),
    (2, "FailOverCacheProtocol", "info", "~FailOverCacheProtocol", "{vid}: connection closed by peer"),
]

ARAKOON_MSG = [  # level, message
    (6, "info", "stats: {{start: {start:.6f}, avg_set_size: {n}.000000, avg_get_size: {k}{ms}.000000, "
                "harvest_stats: (n: {n}), op_count: {bytes}}}"),
    (3, "info", "T:on_accept took: {secf} ({n} B)"),
    (2, "info", "connection=client_service_{ip}_{port}: closed"),
    (2, "info", "client_service: new connection from {peer}"),
]

ALBA_MSG = [
    (8, "info", "Request ReadObjectsSlices took {secf}"),
    (6, "info", "Request UploadObjectFromFile took {secf}"),
    (4, "info", "Request GetObjectInfo took {secf}"),
    (2, "info", "{k} slices,{bytes} bytes,{k} objects => sequential"),
    (2, "info", "Alba_client_preset_cache.propagate_preset \"preset_{vpool}\""),
    (1, "info", "refresh_osd_info: {k} osds, 0 disqualified"),
]

TASKS = [  # weight, task name, typical seconds
    (10, "ovs.storagerouter.ping", 0.08),
    (4, "ovs.vdisk.dtl_checkup", 1.2),
    (3, "ovs.mds.mds_checkup", 2.6),
    (3, "ovs.vdisk.sync_with_reality", 0.6),
    (2, "ovs.generic.snapshot_all_vdisks", 3.1),
    (2, "ovs.storagedriver.cluster_registry_checkup", 0.4),
    (1, "alba.alba_arakoon_checkup", 0.9),
]

KERNEL_E2 = ("Linux version 3.13.0-68-generic (buildd@lgw01-16) (gcc version 4.8.2 (Ubuntu 4.8.2-19ubuntu1) "
             ") #111-Ubuntu SMP Fri Nov 6 18:17:06 UTC 2015 (Ubuntu 3.13.0-68.111-generic 3.13.11-ckt27)")
KERNEL_BOOT = [
    "Linux version 4.4.0-62-generic (buildd@lcy01-30) (gcc version 5.4.0 20160609 (Ubuntu "
    "5.4.0-6ubuntu1~16.04.4) ) #83-Ubuntu SMP Wed Jan 18 14:10:15 UTC 2017 "
    "(Ubuntu 4.4.0-62.83-generic 4.4.39)",
    "Command line: BOOT_IMAGE=/boot/vmlinuz-4.4.0-62-generic root=UUID={uuid} ro",
    "KERNEL supported cpus:",
    "  Intel GenuineIntel",
    "x86/fpu: Legacy x87 FPU detected.",
    "e820: BIOS-provided physical RAM map:",
    "BIOS-e820: [mem 0x0000000000000000-0x000000000009bfff] usable",
    "BIOS-e820: [mem 0x0000000000100000-0x000000007ffeffff] usable",
    "NX (Execute Disable) protection: active",
    "SMBIOS 2.8 present.",
    "DMI: Supermicro SYS-2028TP-HC0TR/X10DRT-PT, BIOS 2.0a 08/14/2016",
    "ACPI: Early table checksum verification disabled",
    "Memory: 131823420K/134112844K available (8368K kernel code, 1293K rwdata)",
    "Hierarchical RCU implementation.",
    "NR_IRQS:33024 nr_irqs:1368 16",
    "Console: colour VGA+ 80x25",
    "tsc: Detected 2399.998 MHz processor",
    "Calibrating delay loop (skipped), value calculated using timer frequency.. 4799.99 BogoMIPS",
    "pid_max: default: 32768 minimum: 301",
    "Security Framework initialized",
    "AppArmor: AppArmor initialized",
    "smpboot: Total of 32 processors activated (153599.93 BogoMIPS)",
    "NET: Registered protocol family 16",
    "PCI: Using configuration type 1 for base access",
    "SCSI subsystem initialized",
    "clocksource: Switched to clocksource tsc",
    "NET: Registered protocol family 2",
    "Freeing unused kernel memory: 1480K",
    "ixgbe: Intel(R) 10 Gigabit PCI Express Network Driver - version 4.2.1-k",
    "ahci 0000:00:11.4: AHCI 0001.0300 32 slots 4 ports 6 Gbps 0xf impl SATA mode",
    "scsi 0:0:0:0: Direct-Access     ATA      INTEL SSDSC2BB48 0370 PQ: 0 ANSI: 5",
    "sd 0:0:0:0: [sda] 937703088 512-byte logical blocks: (480 GB/447 GiB)",
    "scsi 0:0:1:0: Direct-Access     ATA      HGST HUS726020AL W517 PQ: 0 ANSI: 5",
    "sd 0:0:1:0: [sdb] 3907029168 512-byte logical blocks: (2.00 TB/1.82 TiB)",
    "sd 0:0:1:0: [sdb] Write cache: enabled, read cache: enabled, doesn't support DPO or FUA",
    " sdb: sdb1",
    "sd 0:0:1:0: [sdb] Attached SCSI disk",
    "EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null)",
    "systemd[1]: Detected architecture x86-64.",
    "systemd[1]: Set hostname to <{host}>.",
    "EXT4-fs (sda1): re-mounted. Opts: errors=remount-ro",
    "ixgbe 0000:03:00.0 eth2: NIC Link is Up 10 Gbps, Flow Control: RX/TX",
    "IPv6: ADDRCONF(NETDEV_CHANGE): eth2: link becomes ready",
    "XFS (sdb1): Mounting V5 Filesystem",
    "XFS (sdb1): Ending clean mount",
    "XFS (sda3): Mounting V5 Filesystem",
    "XFS (sda3): Ending clean mount",
    "fuse init (API version 7.23)",
    "Netfilter messages via NETLINK v0.30.",
]


# --------------------------------------------------------------------------- builder

class Builder:
    """Builds every member of one bundle for one scenario."""

    def __init__(self, node: Node):
        self.node = node
        self.members: dict[str, Member] = {}
        self.journal: list[tuple[datetime, str, int, Render, tuple, tuple, str]] = []
        self.jprocs: dict[str, Proc] = {}

    # -- plumbing ------------------------------------------------------------------
    def member(self, path: str, **kw) -> Member:
        if path not in self.members:
            self.members[path] = Member(path, **kw)
        return self.members[path]

    def rng(self, *parts: str) -> random.Random:
        return rng_for(self.node.seed, self.node.host, *parts)

    def proc(self, name: str, kind: str, rng: random.Random, **kw) -> Proc:
        return Proc(rng, self.node.host, self.node.pid[name], kind, **kw)

    def jproc(self, key: str, kind: str) -> Proc:
        """The console side of a process (journald): its own counter, created on first use."""
        if key not in self.jprocs:
            rng = self.rng("journal-proc", key)
            fresh = key in ("vd", "vd_new", "worker", "arakoon", "alba")  # started in this window
            start = 0 if fresh else rng.randrange(1 << 14, 1 << 20)
            self.jprocs[key] = Proc(rng, self.node.host, self.node.pid[key], kind, threads=8, seq_start=start)
        return self.jprocs[key]

    def jentry(self, t: datetime, ident: str, pid: int, render: Render | list[str], *,
               ids: Sequence[str] = (), extra: Sequence[str] = (), quirk: str = "") -> None:
        """A journal entry; it goes to journald.log (E3) and, through rsyslog, to syslog."""
        if isinstance(render, list):
            fixed = render
            render = lambda: fixed  # noqa: E731
        self.journal.append((t, ident, pid, render, tuple(ids), tuple(extra), quirk))

    # -- framework (Python) -----------------------------------------------------------
    def lib_log(self) -> None:
        n = self.node
        self._lib_c("var/log/ovs/lib.log", n.start, n.end, 1150, "lib", current=True)
        self._lib_c("var/log/ovs/lib.log.1", n.start - timedelta(minutes=100),
                    n.start - timedelta(seconds=20), 520, "lib1", current=False)
        self._lib_c("var/log/ovs/lib.log.2.gz", n.start - timedelta(minutes=200),
                    n.start - timedelta(minutes=100, seconds=20), 430, "lib2", current=False)

    def _lib_c(self, path: str, t0: datetime, t1: datetime, count: int, tag: str, *,
               current: bool) -> None:
        n = self.node
        m = self.member(path, owner=("ovs", "ovs"))
        rng = self.rng(path)
        # the pre-reboot worker wrote all three files; its counter grows from the oldest file on
        first_seq = {"lib2": 40000, "lib1": 43000, "lib": 46000}[tag] + rng.randrange(2000)
        old = self.proc("worker_old", "py", rng, seq_start=first_seq)
        new = self.proc("worker", "py", rng, seq_start=0)
        for t in spread(rng, t0, t1, count):
            comp, level, text = pick(rng, LIB_C)[1:]
            msg = text.format(**n.fields(rng))
            if not n.running("worker", t):
                continue
            p = old if (not current or t < n.t_shutdown) else new
            m.add(t, lambda p=p, t=t, c=comp, lv=level, s=msg: [p.py_c(t, c, lv, s)])
        # the per-minute `ovs monitor heartbeat` cron runs through the `ovs` CLI, so it logs to file
        phase = timedelta(seconds=0.8 + rng.random() / 5)
        for t in every(t0.replace(second=0, microsecond=0), t1, timedelta(minutes=1), phase):
            if n.down(t):
                continue
            hb = Proc(rng, n.host, n.heartbeat_pid(t), "py", threads=1)
            t = t + timedelta(microseconds=rng.randrange(999000))
            failing = n.incident and current and n.t_no_master <= t < n.t_master_back
            if failing:
                m.add(t, lambda hb=hb, t=t: self._heartbeat_failure(hb, t),
                      ids=("ARAKOON_NO_MASTER",), extra=("PYTHON_TRACEBACK_GENERIC",))
            else:
                m.add(t, lambda hb=hb, t=t: [hb.py_c(t, "lib/heartbeat", "DEBUG",
                                                     f"Heartbeat for StorageRouter {n.host} sent")])
        if current:
            # one record at 999.5 ms or more: the formatter prints "100000", seconds not carried
            t = n.start + timedelta(minutes=47, seconds=41, microseconds=999712)
            m.add(t, lambda t=t: [new.py_c(t, "lib/scheduled tasks", "INFO",
                                           "[SSA] 8 vDisk snapshots took place")], quirk="python_ms_rounding")
        if current and n.incident:
            t = n.t_ensure_timeout
            m.add(t, lambda t=t: [new.py_c(t, "lib/ensure single", "ERROR", n.ensure_single_msg)],
                  ids=("ENSURE_SINGLE_TIMEOUT",))

    def _heartbeat_failure(self, hb: Proc, t: datetime) -> list[str]:
        return [
            hb.py_c(t, "lib/heartbeat", "ERROR", "Could not send heartbeat: Unable to determine master node"),
            "Traceback (most recent call last):",
            '  File "/opt/OpenvStorage/ovs/lib/heartbeat.py", line 52, in pulse',
            "    node.save()",
            '  File "/opt/OpenvStorage/ovs/dal/dataobject.py", line 728, in save',
            "    self._persistent.set(self._key, self._data)",
            '  File "/opt/OpenvStorage/ovs/extensions/storage/persistent/pyrakoonstore.py", line 146, in set',
            "    self._client.set(key, json.dumps(value, sort_keys=True))",
            '  File "/opt/OpenvStorage/ovs/extensions/db/arakoon/pyrakoon/pyrakoon/compat.py", line 190, '
            "in wrapped",
            "    raise ArakoonNoMaster()",
            "ArakoonNoMaster: Could not determine the Arakoon master node",
        ]

    def extensions_log(self) -> None:
        """Format D, as the brief asks (see README: D is a 2.10+ format)."""
        n = self.node
        m = self.member("var/log/ovs/extensions.log", owner=("ovs", "ovs"))
        rng = self.rng("extensions")
        old = Proc(rng, n.host, n.pid["worker_old"] + 3, "py", seq_start=rng.randrange(5000, 50000))
        new = Proc(rng, n.host, n.pid["worker"] - 9, "py")
        for t in spread(rng, n.start, n.end, 620):
            comp, func, level, text = pick(rng, EXT_D)[1:]
            msg = text.format(ovs_version=n.versions["openvstorage"], **n.fields(rng))
            if not n.running("watcher", t):
                continue
            p = old if t < n.t_shutdown else new
            m.add(t, lambda p=p, t=t, a=(comp, func, level, msg): [p.py_d(t, *a)])
        if n.incident:
            t = n.t_no_master + timedelta(seconds=31, microseconds=77000)
            m.add(t, lambda t=t: [new.py_d(t, "extensions-db/compat.py", "_determine_master", "ERROR",
                                           "Unable to determine master node")], ids=("ARAKOON_NO_MASTER",))

    def django_log(self) -> None:
        n = self.node
        m = self.member("var/log/ovs/django.log", owner=("ovs", "ovs"))
        rng = self.rng("django")
        paths = ["/api/vdisks/", "/api/storagerouters/", "/api/vpools/", "/api/tasks/",
                 "/api/alba/backends/", "/api/users/"]
        for t in spread(rng, n.start, n.end, 320):
            f = n.fields(rng)
            roll = rng.random()
            if not n.running("api", t):
                continue
            if roll < 0.7:
                msg = f"GET {rng.choice(paths)} - 200 - {f['ms']} ms"
            elif roll < 0.9:
                msg = f"Authenticated user admin (client {f['uuid']})"
            else:
                msg = "Refreshing relation cache for VDiskList"
            thread = rng.choice(["MainThread", "MainThread", "Thread-3", "Thread-7"])
            m.add(t, f"{ts_python_default(t)} [INFO] ({thread}) {msg}")

    # -- volumedriver / DTL ----------------------------------------------------------
    def banner(self, p: Proc, t: datetime, prog: str, args: list[str]) -> list[str]:
        v = self.node.versions["volumedriver"]
        main = p.threads[0]  # logged by the main thread, a few microseconds apart
        first = p.vd(t, prog, "MainHelper", "notice", "print_version_data", f"version: {v}", main)
        lines = [first, "version revision: 0",
                 "repository URL: https://github.com/openvstorage/volumedriver",
                 f"branch: release-{v.rsplit('.', 1)[0]}", "md5 support: yes",
                 f"revision: {self.rng('banner').getrandbits(160):040x}",
                 "build time: 2017-02-17 08:22:48 UTC", ""]
        for i, text in enumerate(["Command Line Options", *args], 1):
            ti = t + timedelta(microseconds=31 * i)
            lines.append(p.vd(ti, prog, "MainHelper", "notice", "print_version_data", text, main))
        return lines

    def vd_args(self) -> list[str]:
        n = self.node
        return ["--config",
                f"arakoon://config/ovs/vpools/{n.vpool_guid}/hosts/{n.sd_id}/config?ini="
                "%2Fopt%2FOpenvStorage%2Fconfig%2Farakoon_cacc.ini",
                "--logsink", f"/var/log/ovs/volumedriver/{n.vpool}.log",
                "--mountpoint", f"/mnt/{n.vpool}", "--logrotation", "--fuse-min-workers", "4"]

    def volumedriver_logs(self) -> None:
        n = self.node
        m = self.member(f"var/log/ovs/volumedriver/{n.vpool}.log", owner=("ovs", "ovs"))
        rng = self.rng("vd")
        procs = {k: self.proc(k, "vd", rng, threads=10) for k in ("vd", "vd_new")}
        t_start = n.svc_start["vd"]
        m.add(t_start, lambda t=t_start: self.banner(procs["vd"], t, "volumedriverfs", self.vd_args()),
              quirk="version_banner")
        # the file starts with this boot's version banner (the previous run's lines were rotated away)
        for t in spread(rng, t_start + timedelta(seconds=1), n.end, 2100):
            f = n.fields(rng)
            logger, sev, func, text = pick(rng, VD_MSG)[1:]
            if not n.running("vd", t):
                continue
            key = n.vd_pid_at(t)
            m.add(t, lambda p=procs[key], t=t, a=(logger, sev, func, text.format(**f)):
                  [p.vd(t, "volumedriverfs", *a)])
        if n.crash:
            t = n.t_vd_back
            m.add(t, lambda t=t: self.banner(procs["vd_new"], t, "volumedriverfs", self.vd_args()),
                  quirk="version_banner")
        if n.shares("dtl"):
            self.dtl_owner(m, procs)
        if not n.incident:
            return
        vd = procs["vd"]
        ns = n.vols[2].vid
        t = n.t_retry
        m.add(t, lambda t=t: [vd.vd(t, "volumedriverfs", "BackendInterface", "error", "do_wrap_",
                                    f"{ns}: problem with connection: Connection reset by peer")])
        sleep = 250
        for i in range(1, 4):
            t = t + timedelta(microseconds=800 + sleep * 1000 * (i - 1))
            m.add(t, lambda t=t, i=i, sl=sleep: [vd.vd(
                t, "volumedriverfs", "BackendInterface", "warning", "do_wrap_",
                f"{ns}: retrying with new connection (retry: {i}, sleep before retry: {sl} milliseconds)")],
                ids=("BACKEND_CONNECTION_RETRY",))
            sleep *= 2
        t = t + timedelta(seconds=2, microseconds=3377)
        m.add(t, lambda t=t: [vd.vd(t, "volumedriverfs", "BackendInterface", "info", "do_wrap_",
                                    f"{ns}: request succeeded after 3 retries")])
        for i, v in enumerate(n.vols[3:5]):
            t = n.t_dtl_degraded + timedelta(microseconds=41377 * i)
            m.add(t, lambda t=t, v=v: [vd.vd(t, "volumedriverfs", "Volume", "info", "operator()",
                                             f"{v.vid}: setting DTL degraded")], ids=("DTL_DEGRADED",))
        v = n.vols[4]
        t = n.t_halted - timedelta(microseconds=1812)
        m.add(t, lambda t=t, v=v: [vd.vd(t, "volumedriverfs", "Volume", "error", "writeClusters_",
                                         f"{v.vid}: failed to write to SCO cache: Input/output error")])
        m.add(n.t_halted, lambda t=n.t_halted, v=v: [vd.vd(t, "volumedriverfs", "Volume", "fatal", "halt",
                                                           f"{v.vid}: Setting volume to 'halted'")],
              ids=("VOLUME_HALTED",))

    def dtl_log(self) -> None:
        n = self.node
        m = self.member(f"var/log/ovs/volumedriver/dtl_{n.vpool}.log", owner=("ovs", "ovs"))
        rng = self.rng("dtl")
        p = self.proc("dtl", "vd", rng, threads=6)
        t0 = n.svc_start["dtl"]
        args = ["--path", f"/mnt/ssd1/{n.vpool}_dtl", "--address", n.ip, "--port", "26203",
                "--logsink", f"/var/log/ovs/volumedriver/dtl_{n.vpool}.log"]
        m.add(t0, lambda a=args: self.banner(p, t0, "dtl_server", a), quirk="version_banner")
        if n.shares("dtl"):
            self.dtl_target(m, p, t0 + timedelta(microseconds=4177))
        for t in spread(rng, t0 + timedelta(seconds=1), n.end, 560):
            logger, sev, func, text = pick(rng, DTL_MSG)[1:]
            msg = text.format(**n.fields(rng))
            m.add(t, lambda t=t, a=(logger, sev, func, msg): [p.vd(t, "dtl_server", *a)])
        if n.incident:
            for i, v in enumerate(n.vols[3:5]):
                t = n.t_no_space + timedelta(microseconds=700000 * i)
                msg = (f"{v.vid}: failed to write /mnt/ssd1/{n.vpool}_dtl/{v.vid}/00_{0x3a1 + i:08x}_00: "
                       "No space left on device")
                rec = ("DtlFileBackend", "error", "add_entries", msg)
                m.add(t, lambda t=t, a=rec: [p.vd(t, "dtl_server", *a)], ids=("NO_SPACE_LEFT_ON_DEVICE",))

    # -- arakoon / alba ------------------------------------------------------------------
    def arakoon_log(self) -> None:
        n = self.node
        m = self.member(f"var/log/arakoon/ovsdb/{n.mid}.log", owner=("ovs", "ovs"))
        rng = self.rng("arakoon")
        old = self.proc("arakoon_old", "ocaml", rng, seq_start=rng.randrange(400000, 900000))
        p = self.proc("arakoon", "ocaml", rng)
        t = n.t_shutdown + timedelta(seconds=3, microseconds=218771)
        m.add(t, lambda t=t: [old.ocaml(t, "arakoon", "info",
                                        "All logging set to debug level after TERM/INT")])
        t2 = t + timedelta(microseconds=412311)
        m.add(t2, lambda t=t2: [old.ocaml(t, "arakoon", "info", "Completed shutdown")])
        t0 = n.svc_start["arakoon"]
        start_msgs = [
            "--- NODE STARTED ---",
            f"git_revision: tags/{n.versions['arakoon']}-0-g8e3b6ef ",
            "compile_time: 06/02/2017 14:21:37 UTC ",
            f"version: {n.versions['arakoon']}",
            "NOFILE: 8192",
            *([f"cfg = {{ node_name = \"{n.mid}\"; ips = [\"{n.ip}\"]; client_port = 26400; "
               "messaging_port = 26401; home = \"/opt/OpenvStorage/db/arakoon/ovsdb/db\" }",
               f"other: {n.peer_mids[0]}",
               f"other: {n.peer_mids[1]}"] if n.cluster is None or n.shares("arakoon_startup") else []),
            "quorum_function gives 2 for 3",
            "DAEMONIZATION=false",
            "open_tlog_collection_and_store ~autofix:true",
            "Batched_store.max_entries = 100",
            "Batched_store.max_size = 100000",
        ]
        for i, msg in enumerate(start_msgs):
            ti = t0 + timedelta(microseconds=1711 * i)
            m.add(ti, lambda ti=ti, s=msg: [p.ocaml(ti, "arakoon", "info", s)])
        start_f = float(int(t0.timestamp()))
        for t in spread(rng, n.start, n.end, 760):
            level, text = pick(rng, ARAKOON_MSG)[1:]
            msg = text.format(start=start_f, **n.fields(rng))
            if not n.running("arakoon", t):
                continue
            q = old if t < n.t_shutdown else p
            m.add(t, lambda q=q, t=t, lv=level, s=msg: [q.ocaml(t, "arakoon", lv, s)])
        if n.incident:
            for i, ip in enumerate(n.peer_ips + n.peer_ips[:1]):
                t = n.t_no_master + timedelta(seconds=1 + 9 * i, microseconds=4113 * (i + 1))
                msg = (f"__open_connection to ({ip},26401) failed: "
                       'Unix.Unix_error(Unix.ECONNREFUSED, "connect", "")')
                m.add(t, lambda t=t, s=msg: [p.ocaml(t, "arakoon", "info", s)],
                      ids=("ARAKOON_NODE_UNREACHABLE",))
            t = n.t_master_back
            back = n.cluster.mids[1] if n.cluster else n.peer_mids[0]  # nodes of one cluster agree
            m.add(t, lambda t=t: [p.ocaml(t, "arakoon", "info", f"{back} is master")],
                  extra=("ARAKOON_MASTER_CHURN",))
        if n.cluster and n.shares("elections"):
            for t, master in n.cluster.elections_seen_by(n):
                if n.running("arakoon", t):
                    m.add(t, lambda t=t, s=f"{master} is master": [p.ocaml(t, "arakoon", "info", s)],
                          quirk="cluster_election")

    def alba_log(self) -> None:
        n = self.node
        path = f"var/log/ovs/albaproxy_{n.vpool}_0.log"
        m = self.member(path, owner=("ovs", "ovs"))
        rng = self.rng("alba")
        old = self.proc("alba_old", "ocaml", rng, seq_start=rng.randrange(100000, 500000))
        p = self.proc("alba", "ocaml", rng)
        t0 = n.svc_start["alba"]
        rev = f"{rng.getrandbits(160):040x}"
        m.add(t0, lambda t=t0, s=f"proxy_server version:{rev}": [p.ocaml(t, "alba/proxy", "info", s)])
        for t in spread(rng, n.start, n.end, 680):
            level, text = pick(rng, ALBA_MSG)[1:]
            msg = text.format(**n.fields(rng))
            if not n.running("alba", t):
                continue
            q = old if t < n.t_shutdown else p
            m.add(t, lambda q=q, t=t, lv=level, s=msg: [q.ocaml(t, "alba/proxy", lv, s)])
        if not n.incident:
            return
        exn = 'Unix.Unix_error(Unix.ECONNRESET, "read", "")'
        t = n.t_disqualify
        msg = f"Disqualifying osd 5: {exn}"
        m.add(t, lambda t=t, s=msg: [p.ocaml(t, "alba/proxy", "info", s)], ids=("ALBA_OSD_DISQUALIFIED",))
        self.jentry(t, "alba", n.pid["alba"],
                    lambda t=t, s=msg: [self.jproc("alba", "ocaml").ocaml(t, "alba/proxy", "info", s)],
                    ids=("ALBA_OSD_DISQUALIFIED",))
        delay, tr = 1.0, t
        for _ in range(4):
            tr = tr + timedelta(seconds=delay, microseconds=rng.randrange(2000, 9000))
            msg = f"Could not yet requalify osd 5, trying again in {delay:f} seconds: {exn}"
            m.add(tr, lambda tr=tr, s=msg: [p.ocaml(tr, "alba/proxy", "info", s)],
                  ids=("ALBA_OSD_DISQUALIFIED",))
            delay = min(delay * 1.5, 60.0)
        tq = n.t_requalified
        long_id = f"{rng.getrandbits(128):032x}"
        m.add(tq, lambda t=tq, s=f"Requalified osd 5 {long_id}": [p.ocaml(t, "alba/proxy", "info", s)])

    # -- traffic between the nodes of a cluster sample ------------------------------------
    def shared_tasks(self, workers: Member) -> None:
        """The cluster's Celery tasks as this node logs them: as the beat's lock holder, each send
        (celery 3.1 beat `maybe_due`: INFO `Scheduler: Sending due task`, then DEBUG `<task> sent.
        id-><uuid>`, as `celery beat -l debug` of framework 2.13 logs it); as a worker, each receive
        and success. Each node writes on its own clock: its window start carries its skew."""
        n = self.node
        beat = self.member("var/log/upstart/ovs-scheduled-tasks.log")
        for task in n.cluster.tasks:
            sent = n.start + task.at
            if task.sender == n.index and n.running("worker", sent):
                beat.add(sent, celery_line(sent, "INFO", "MainProcess",
                                           f"Scheduler: Sending due task {task.name} ({task.name})"))
                done = sent + timedelta(microseconds=310)
                beat.add(done, celery_line(done, "DEBUG", "MainProcess", f"{task.name} sent. id->{task.task_id}"))
            got = sent + task.latency
            ran = got + timedelta(seconds=task.runtime)
            if task.receiver == n.index and n.running("worker", got) and n.running("worker", ran):
                named = f"{task.name}[{task.task_id}]"
                workers.add(got, celery_line(got, "INFO", "MainProcess", f"Received task: {named}"))
                workers.add(ran, celery_line(ran, "INFO", "MainProcess",
                                             f"Task {named} succeeded in {task.runtime:.2f}s: None"))

    def dtl_owner(self, m: Member, procs: dict[str, Proc]) -> None:
        """This node's volumes given a DTL on another node (volumedriver `Volume::setFailOverCacheConfig_`):
        the connect naming the DTL's address, then `finding out volume state` once the DTL server
        answered the clear."""
        n = self.node
        for setup in n.cluster.dtl:
            t = n.start + setup.at
            answered = t + 4 * setup.hop + timedelta(microseconds=37)
            if setup.owner != n.index or not (n.running("vd", t) and n.running("vd", answered)):
                continue
            vd = procs[n.vd_pid_at(t)]
            foc = f"foc://{n.cluster.ips[setup.target]}:{DTL_PORT},Asynchronous"
            connect = ("Volume", "info", "setFailOverCacheConfig_",
                       f"{setup.volume}: Setting the failover cache to {foc}")
            cache = ("FailOverCacheAsyncBridge", "info", "newCache", "newCache")
            state = ("Volume", "info", "setFailOverCacheConfig_", f"{setup.volume}: finding out volume state")
            for ti, rec in ((t, connect), (t + timedelta(microseconds=41), cache), (answered, state)):
                m.add(ti, lambda ti=ti, a=rec, vd=vd: [vd.vd(ti, "volumedriverfs", *a)])

    def dtl_target(self, m: Member, p: Proc, started: datetime) -> None:
        """The DTL server's side: its start line (the address it binds to, FailOverCacheServer::run),
        then per volume given to it `Connected`, `Registering namespace` one hop after the
        connect, `Clearing for namespace` three hops after (FailOverCacheProtocol)."""
        n = self.node
        m.add(started, lambda: [p.vd(started, "dtl_server", "MainHelper", "info", "run",
                                     f'starting, server path:  "/mnt/ssd1/{n.vpool}_dtl", address to bind to:  '
                                     f"{n.ip}, port: {DTL_PORT}, transport type: TCP, busy-loop usecs: 0, "
                                     "file backend stream buffer size: 131072")])
        for setup in n.cluster.dtl:
            t = n.start + setup.at + setup.hop
            if setup.target != n.index or not n.running("dtl", t):
                continue
            registered = t + timedelta(microseconds=60)
            for ti, func, msg in ((t, "run", "Connected"),
                                  (registered, "register_", f"Registering namespace {setup.volume}"),
                                  (t + 2 * setup.hop, "Clear_", f"Clearing for namespace {setup.volume}")):
                m.add(ti, lambda ti=ti, a=("FailOverCacheProtocol", "info", func, msg): [p.vd(ti, "dtl_server", *a)])

    # -- celery (upstart job log) --------------------------------------------------------
    def celery_banner(self) -> list[str]:
        n = self.node
        platform = ("Linux-4.4.0-62-generic-x86_64-with-Ubuntu-16.04-xenial" if n.era == "E3"
                    else "Linux-3.13.0-68-generic-x86_64-with-Ubuntu-14.04-trusty")
        return [
            "",
            f" -------------- celery@{n.host} v3.1.23 (Cipater)",
            "---- **** ----- ",
            f"--- * ***  * -- {platform}",
            "-- * - **** --- ",
            "- ** ---------- [config]",
            "- ** ---------- .> app:         __main__:0x7f3ad5d7c510",
            f"- ** ---------- .> transport:   amqp://ovs:**@{n.ip}:5672//",
            "- ** ---------- .> results:     disabled://",
            "- *** --- * --- .> concurrency: {min=2, max=8} (prefork)",
            "-- ******* ---- ",
            "--- ***** ----- [queues]",
            " -------------- .> ovs_generic      exchange=generic(direct) key=generic",
            f"                .> ovs_{n.mid} exchange=generic(direct) key=sr.{n.mid}",
            "                .> ovs_masters      exchange=generic(direct) key=masters",
            "",
        ]

    def workers_log(self, *, crlf: bool = False) -> None:
        n = self.node
        m = self.member("var/log/upstart/ovs-workers.log", crlf=crlf)
        rng = self.rng("celery")
        t_boot = n.svc_start["worker"]
        m.add(t_boot, self.celery_banner(), quirk="celery_banner")
        boot_lines = [
            ("INFO", "MainProcess", f"Connected to amqp://ovs:**@{n.ip}:5672//"),
            ("INFO", "MainProcess", "mingle: searching for neighbors"),
            ("INFO", "MainProcess", "mingle: sync with 2 nodes"),
            ("INFO", "MainProcess", "mingle: sync complete"),
            ("WARNING", "MainProcess", f"celery@{n.host} ready."),
        ]
        for i, (lv, pr, msg) in enumerate(boot_lines):
            ti = t_boot + timedelta(seconds=1, microseconds=203117 * (i + 1))
            m.add(ti, celery_line(ti, lv, pr, msg))
        for t in spread(rng, t_boot + timedelta(seconds=3), n.end, 430):
            task, dur = pick(rng, TASKS)[1:]
            tid = make_uuid(rng)
            took = dur * rng.uniform(0.5, 1.6)
            te = t + timedelta(seconds=took)
            if not (n.running("worker", t) and n.running("worker", te)) or n.worker_killed_between(t, te):
                continue
            m.add(t, celery_line(t, "INFO", "MainProcess", f"Received task: {task}[{tid}]"))
            m.add(te, celery_line(te, "INFO", "MainProcess",
                                  f"Task {task}[{tid}] succeeded in {took:.2f}s: None"))
        if n.incident:
            self.worker_story(m)
        if n.shares("celery"):
            self.shared_tasks(m)
        if n.incident:
            t = n.t_task_raised
            tid = make_uuid(self.rng("raised"))
            ts = t - timedelta(seconds=2, microseconds=118000)
            m.add(ts, celery_line(ts, "INFO", "MainProcess", f"Received task: ovs.vdisk.dtl_checkup[{tid}]"))
            m.add(t, [celery_line(t, "ERROR", "MainProcess",
                                  f"Task ovs.vdisk.dtl_checkup[{tid}] raised unexpected: ArakoonNoMaster()"),
                      *self.celery_traceback()],
                  ids=("CELERY_TASK_RAISED_UNEXPECTED",),
                  extra=("ARAKOON_NO_MASTER", "PYTHON_TRACEBACK_GENERIC"))

    def worker_story(self, m: Member) -> None:
        """While Arakoon has no master, ensure_safety fails three times (a `task` rule's story);
        then ovs-workers is killed with a task in hand, which never finishes, and comes back."""
        n = self.node
        rng = self.rng("worker-story")
        inner = ('  File "/opt/OpenvStorage/ovs/lib/mdsservice.py", line 512, in ensure_safety',
                 "    vdisk = VDisk(vdisk_guid)",
                 '  File "/opt/OpenvStorage/ovs/extensions/db/arakoon/pyrakoon/pyrakoon/compat.py", line 190, '
                 "in wrapped",
                 "    raise ArakoonNoMaster()")
        for minute in (96, 99, 101):
            tid = make_uuid(rng)
            tr = n.start + timedelta(minutes=minute, seconds=4, microseconds=118000)
            tf = tr + timedelta(seconds=2, microseconds=301000)
            m.add(tr, celery_line(tr, "INFO", "MainProcess", f"Received task: ovs.mds.ensure_safety[{tid}]"))
            m.add(tf, [celery_line(tf, "ERROR", "MainProcess",
                                   f"Task ovs.mds.ensure_safety[{tid}] raised unexpected: ArakoonNoMaster()"),
                       *self.celery_traceback(inner=inner)],
                  ids=("CELERY_TASK_RAISED_UNEXPECTED", "MDS_SAFETY_TASKS_FAILING"),
                  extra=("ARAKOON_NO_MASTER", "PYTHON_TRACEBACK_GENERIC"))
        t = n.t_worker_kill - timedelta(seconds=31, microseconds=220000)
        m.add(t, celery_line(t, "INFO", "MainProcess", f"Received task: ovs.mds.mds_checkup[{make_uuid(rng)}]"),
              quirk="task_never_finished")
        back = n.t_worker_kill + RESTART_DELAY
        m.add(back, self.celery_banner())
        m.add(back + timedelta(seconds=1, microseconds=203117),
              celery_line(back + timedelta(seconds=1, microseconds=203117), "WARNING", "MainProcess",
                          f"celery@{n.host} ready."))

    @staticmethod
    def celery_traceback(final: str = "ArakoonNoMaster: Could not determine the Arakoon master node",
                         inner: tuple[str, ...] | None = None) -> list[str]:
        """Python 2 traceback of a task raising inside ovs.vdisk.dtl_checkup; `inner` replaces the
        innermost frames (from the dtl_checkup frame on)."""
        frames = [
            '  File "/usr/lib/python2.7/dist-packages/celery/app/trace.py", line 240, in trace_task',
            "    R = retval = fun(*args, **kwargs)",
            '  File "/usr/lib/python2.7/dist-packages/celery/app/trace.py", line 438, in __protected_call__',
            "    return self.run(*args, **kwargs)",
            '  File "/opt/OpenvStorage/ovs/lib/helpers/decorators.py", line 395, in new_function',
            "    output = function(*args, **kwargs)",
        ]
        tail = inner or (
            '  File "/opt/OpenvStorage/ovs/lib/vdisk.py", line 1042, in dtl_checkup',
            "    for vdisk in VDiskList.get_vdisks():",
            '  File "/opt/OpenvStorage/ovs/extensions/db/arakoon/pyrakoon/pyrakoon/compat.py", line 190, '
            "in wrapped",
            "    raise ArakoonNoMaster()")
        return ["Traceback (most recent call last):", *frames, *tail, final]

    # -- journald / systemd (E3) ---------------------------------------------------------
    def journal_entries(self) -> None:
        n = self.node
        rng = self.rng("journal")
        units = [  # unit, description, ident/pid key
            ("ovs-arakoon-ovsdb", "Arakoon database ovsdb", "arakoon"),
            (f"ovs-dtl_{n.vpool}", f"Open vStorage distributed transaction log ({n.vpool})", "dtl"),
            (f"ovs-albaproxy_{n.vpool}_0", f"ALBA proxy ({n.vpool}, 0)", "alba"),
            (f"ovs-volumedriver_{n.vpool}", f"Open vStorage volumedriver ({n.vpool})", "vd"),
            ("ovs-watcher-framework", "Watcher for Open vStorage master services", "watcher"),
            ("ovs-workers", "Open vStorage workers", "worker"),
            ("ovs-webapp-api", "Open vStorage webapp API", "api"),
        ]
        for i, (_unit, desc, _) in enumerate(reversed(units)):
            t = n.t_shutdown + timedelta(microseconds=150000 * i)
            self.jentry(t, "systemd", 1, [f"Stopping {desc}..."])
            self.jentry(t + timedelta(microseconds=90000), "systemd", 1, [f"Stopped {desc}."])
        for i, (_unit, desc, _) in enumerate(units):
            t = n.t_up - timedelta(seconds=2) + timedelta(microseconds=410000 * i)
            self.jentry(t, "systemd", 1, [f"Starting {desc}..."])
            self.jentry(t + timedelta(microseconds=2000), "systemd", 1, [f"Started {desc}."])
        # framework console output of the worker (format C) and celery's own lines
        old = self.jproc("worker_old", "py")
        new = self.jproc("worker", "py")
        for t in spread(rng, n.start, n.end, 820):
            comp, level, text = pick(rng, LIB_C)[1:]
            msg = text.format(**n.fields(rng))
            celery_own = rng.random() < 0.1
            task, typical = pick(rng, TASKS)[1:]
            tid = make_uuid(rng)
            if not n.running("worker", t):
                continue
            key = "worker_old" if t < n.t_shutdown else "worker"
            p = old if key == "worker_old" else new
            if celery_own:
                self.jentry(t, "celery", n.pid[key],
                            [celery_line(t, "INFO", "MainProcess", f"Received task: {task}[{tid}]")])
                te = t + timedelta(seconds=typical)
                if not n.running("worker", te) or n.worker_killed_between(t, te) or t < n.t_shutdown <= te:
                    continue  # the worker went down with the task in hand: it never finished
                self.jentry(te, "celery", n.pid[key], [celery_line(
                    te, "INFO", "MainProcess", f"Task {task}[{tid}] succeeded in {typical:.2f}s: None")])
            else:
                self.jentry(t, "celery", n.pid[key], lambda p=p, t=t, a=(comp, level, msg): [p.py_c(t, *a)])
        # volumedriver console output; the version banner comes as one journal entry per line
        vrng = self.rng("journal-vd")
        procs = {k: self.jproc(k, "vd") for k in ("vd_old", "vd", "vd_new")}
        starts = [("vd", n.svc_start["vd"])]
        if n.crash:
            starts.append(("vd_new", n.t_vd_back))
        for key, ts in starts:
            self.jentry(ts, "volumedriver_fs.sh", n.pid[key],
                        lambda key=key, ts=ts: [x for x in self.banner(procs[key], ts, "volumedriverfs",
                                                                       self.vd_args()) if x])
        for t in spread(vrng, n.start, n.end, 900):
            logger, sev, func, text = pick(vrng, VD_MSG)[1:]
            msg = text.format(**n.fields(vrng))
            if not n.running("vd", t):
                continue
            key = n.vd_pid_at(t)
            self.jentry(t, "volumedriver_fs.sh", n.pid[key],
                        lambda p=procs[key], t=t, a=(logger, sev, func, msg): [p.vd(t, "volumedriverfs", *a)])
        # arakoon and alba console output
        arng = self.rng("journal-ocaml")
        aprocs = {k: self.jproc(k, "ocaml") for k in ("arakoon_old", "arakoon", "alba_old", "alba")}
        for t in spread(arng, n.start, n.end, 520):
            is_alba = arng.random() < 0.5
            level, text = pick(arng, ALBA_MSG if is_alba else ARAKOON_MSG)[1:]
            msg = text.format(start=float(int(n.t_up.timestamp())), **n.fields(arng))
            base = "alba" if is_alba else "arakoon"
            if not n.running(base, t):
                continue
            key = base + ("_old" if t < n.t_shutdown else "")
            comp = "alba/proxy" if is_alba else "arakoon"
            self.jentry(t, base, n.pid[key],
                        lambda p=aprocs[key], t=t, a=(comp, level, msg): [p.ocaml(t, *a)])
        if not n.incident:
            return
        for dt in (timedelta(seconds=40, microseconds=118000), timedelta(minutes=3, seconds=12)):
            t = n.t_no_master + dt
            self.jentry(t, "celery", n.pid["worker"], lambda t=t: [new.py_c(
                t, "arakoon_client/pyrakoon", "ERROR", "Unable to determine master node")],
                ids=("ARAKOON_NO_MASTER",))
        t = n.t_ensure_timeout
        self.jentry(t, "celery", n.pid["worker"],
                    lambda t=t: [new.py_c(t, "lib/ensure single", "ERROR", n.ensure_single_msg)],
                    ids=("ENSURE_SINGLE_TIMEOUT",))
        for tc in (n.t_crash, *n.vd_recrashes):
            self.systemd_crash(units[3][0], units[3][1], tc, "11/SEGV", ids=("VOLUMEDRIVER_CRASH",))
        self.systemd_crash(units[5][0], units[5][1], n.t_worker_kill, "9/KILL", ids=())

    def systemd_crash(self, unit: str, desc: str, tc: datetime, status: str, ids: tuple[str, ...]) -> None:
        """systemd's lines for a unit whose main process died, and its restart (Restart=on-failure)."""
        self.jentry(tc, "systemd", 1, [f"{unit}.service: Main process exited, code=killed, status={status}"],
                    ids=ids, extra=("SERVICE_FAILED_TO_START",))
        self.jentry(tc + timedelta(microseconds=1200), "systemd", 1,
                    [f"{unit}.service: Failed with result 'signal'."], extra=("SERVICE_FAILED_TO_START",))
        tr = tc + RESTART_DELAY
        self.jentry(tr - timedelta(microseconds=900), "systemd", 1,
                    [f"{unit}.service: Service hold-off time over, scheduling restart."])
        self.jentry(tr - timedelta(microseconds=500), "systemd", 1, [f"Stopped {desc}."])
        self.jentry(tr - timedelta(microseconds=400), "systemd", 1, [f"Starting {desc}..."])
        self.jentry(tr, "systemd", 1, [f"Started {desc}."])

    def journald_and_syslog(self, *, with_journald: bool) -> None:
        """Render the journal entries once, then write journald.log and the rsyslog copy."""
        n = self.node
        self.journal.sort(key=lambda e: e[0])
        syslog = self.member("var/log/syslog", owner=("syslog", "adm"))
        jd = self.member("var/log/journald.log") if with_journald else None
        for t, ident, pid, render, ids, extra, quirk in self.journal:
            msgs = render()
            ident_pid = f"{ident}[{pid}]"
            jlines = [f"{ts_journal(t)} {n.host} {ident_pid}: {x}" for x in msgs]
            slines = [f"{ts_syslog(t)} {n.host} {ident_pid}: {x}" for x in msgs]
            if jd is not None:
                jd.add(t, jlines[:1], ids=ids, extra=extra, quirk=quirk)
                for x in jlines[1:]:
                    jd.add(t, x)
            syslog.add(t, slines[:1], ids=ids, extra=extra)
            for x in slines[1:]:
                syslog.add(t, x)
        if jd is not None:
            jd.add(n.t_boot - timedelta(seconds=1), "-- Reboot --", quirk="journal_reboot")
            jd.header = lambda first, last: [
                f"-- Logs begin at {journal_header_time(first)}, end at {journal_header_time(last)}. --"]

    # -- kernel / syslog extras / dpkg / rabbitmq / lastlog ------------------------------------
    def kernel(self, *, dmesg: bool = False) -> None:
        """kern.log (and the syslog copy). Uptime stamps count from the reboot."""
        n = self.node
        rng = self.rng("kernel")
        kern = self.member("var/log/kern.log", owner=("syslog", "adm"))
        syslog = self.member("var/log/syslog", owner=("syslog", "adm"))
        dm = self.member("var/log/dmesg") if dmesg else None
        prev_uptime = 1_734_512.0 + rng.random()

        def uptime(t: datetime) -> str:
            up = (t - n.t_boot).total_seconds()
            if up < 0:  # the previous boot had been up for about 20 days
                up = prev_uptime + (t - n.start).total_seconds()
            us = round(up * 1e6)
            return f"[{us // 1_000_000:5d}.{us % 1_000_000:06d}]"

        def add(t: datetime, msg: str, ids: Sequence[str] = (), extra: Sequence[str] = ()) -> None:
            kern.add(t, f"{ts_syslog(t)} {n.host} kernel: {uptime(t)} {msg}", ids=ids, extra=extra)
            syslog.add(t, f"{ts_syslog(t)} {n.host} kernel: {uptime(t)} {msg}", ids=ids, extra=extra)
            if dm is not None and t >= n.t_boot:
                dm.add(t, f"{uptime(t)} {msg}", ids=ids, extra=extra)

        for t in spread(rng, n.start, n.t_shutdown, 6):
            add(t, f"[UFW BLOCK] IN=eth0 OUT= MAC= SRC={rng.choice(n.peer_ips)} DST={n.ip} LEN=40 PROTO=TCP "
                   f"SPT={rng.randrange(30000, 60000)} DPT=111 WINDOW=0 RES=0x00 RST URGP=0")
        uid = make_uuid(rng)
        boot = KERNEL_BOOT
        if n.era == "E2":  # Ubuntu 14.04: 3.13 kernel, upstart (no systemd lines)
            boot = [KERNEL_E2] + [x.replace("4.4.0-62", "3.13.0-68").replace("7.23", "7.22")
                                  for x in KERNEL_BOOT[1:] if "systemd" not in x]
        for i, text in enumerate(boot):
            t = n.t_boot + timedelta(microseconds=int(i * i * 1500 + rng.randrange(800)))
            add(t, text.format(uuid=uid, host=n.host))
        for t in spread(rng, n.t_up, n.end, 70):
            add(t, f"[UFW BLOCK] IN=eth0 OUT= MAC= SRC={rng.choice(n.peer_ips)} DST={n.ip} LEN=40 PROTO=TCP "
                   f"SPT={rng.randrange(30000, 60000)} DPT=111 WINDOW=0 RES=0x00 RST URGP=0")
        if n.incident:
            t = n.t_disk_io
            add(t, "blk_update_request: I/O error, dev sdb, sector 123456", ids=("DISK_IO_ERROR_KERNEL",))
            t2 = t + timedelta(microseconds=3907)
            add(t2, "blk_update_request: I/O error, dev sdb, sector 123464", ids=("DISK_IO_ERROR_KERNEL",))
            t3 = t + timedelta(microseconds=9113)
            add(t3, 'XFS (sdb1): metadata I/O error: block 0x1e240 ("xfs_trans_read_buf_map") error 5 '
                "numblks 8", ids=("DISK_IO_ERROR_KERNEL",))
        if n.crash and n.era == "E3":
            pid = n.pid["vd"]
            add(n.t_crash - timedelta(microseconds=3100),
                f"volumedriver_fs[{pid}]: segfault at 0 ip 00007f8a1c2d3e4f sp 00007f89f2ffc8b0 error 4 in "
                "libvolumedriverfs.so.6[7f8a1b400000+1f2e000]", ids=("VOLUMEDRIVER_CRASH",))
        if n.crash and n.era == "E2":
            job = f"ovs-volumedriver_{n.vpool}"
            add(n.t_crash, f"init: {job} main process ({n.pid['vd']}) killed by SEGV signal",
                ids=("VOLUMEDRIVER_CRASH",), extra=("SERVICE_FAILED_TO_START",))
            add(n.t_crash + timedelta(microseconds=310), f"init: {job} main process ended, respawning")

    def syslog_extras(self) -> None:
        n = self.node
        rng = self.rng("syslog")
        s = self.member("var/log/syslog", owner=("syslog", "adm"))
        version = "8.16.0" if n.era == "E3" else "7.4.4"
        origin = (f'rsyslogd: [origin software="rsyslogd" swVersion="{version}" '
                  'x-pid="1031" x-info="http://www.rsyslog.com"]')
        # daily rotation at 06:25 (cron.daily); syslog starts there, if that is before the window
        rotated = n.start.replace(hour=6, minute=25, second=5, microsecond=0)
        first = n.start
        if rotated < n.start:
            s.add(rotated, f"{ts_syslog(rotated)} {n.host} {origin} rsyslogd was HUPed")
            first = rotated + timedelta(seconds=55)
        for t in every(first.replace(second=0, microsecond=0), n.end, timedelta(minutes=1),
                       timedelta(microseconds=2133)):
            if n.down(t) or t < first:
                continue
            pid = n.heartbeat_pid(t) - 2
            s.add(t, f"{ts_syslog(t)} {n.host} CRON[{pid}]: (root) CMD (/usr/bin/ovs monitor heartbeat)")
        for t in every(first.replace(minute=17, second=0, microsecond=0), n.end, timedelta(hours=1),
                       timedelta(microseconds=rng.randrange(900000))):
            if t < first:
                continue
            s.add(t, f"{ts_syslog(t)} {n.host} CRON[{rng.randrange(3000, 30000)}]: (root) CMD (   cd / && "
                     "run-parts --report /etc/cron.hourly)")
        tb = n.t_boot + timedelta(seconds=11, microseconds=412)
        s.add(tb, f"{ts_syslog(tb)} {n.host} {origin} start")
        if n.era == "E2":
            return
        for t in spread(rng, n.t_up, n.end, 40):
            s.add(t, f"{ts_syslog(t)} {n.host} systemd-timesyncd[702]: Synchronized to time server "
                     "91.189.89.198:123 (ntp.ubuntu.com).")

    def dpkg_log(self) -> None:
        n = self.node
        m = self.member("var/log/dpkg.log")
        rng = self.rng("dpkg")
        v = n.versions
        if n.era == "E3":
            install = [("arakoon", "amd64", v["arakoon"]), ("alba", "amd64", v["alba"]),
                       ("volumedriver-no-dedup-base", "amd64", v["volumedriver"] + "-1"),
                       ("volumedriver-no-dedup-server", "amd64", v["volumedriver"] + "-1"),
                       ("openvstorage-core", "all", "2.7.6-fargo.1-1"),
                       ("openvstorage-webapps", "all", "2.7.6-fargo.1-1"),
                       ("openvstorage", "all", "2.7.6-fargo.1-1"),
                       ("openvstorage-backend-core", "all", "1.7.6-fargo.1-1"),
                       ("openvstorage-backend", "all", "1.7.6-fargo.1-1"),
                       ("openvstorage-hc", "all", "2.1.4-1")]
            upgrade = [("openvstorage-core", "all", "2.7.6-fargo.1-1", v["openvstorage"]),
                       ("openvstorage-webapps", "all", "2.7.6-fargo.1-1", v["openvstorage"]),
                       ("openvstorage", "all", "2.7.6-fargo.1-1", v["openvstorage"]),
                       ("openvstorage-backend-core", "all", "1.7.6-fargo.1-1", "1.7.9.1-1"),
                       ("openvstorage-backend", "all", "1.7.6-fargo.1-1", "1.7.9.1-1")]
            first = datetime(2016, 12, 5, 11, 2, 13, tzinfo=n.start.tzinfo)
            second = datetime(2017, 2, 21, 14, 40, 2, tzinfo=n.start.tzinfo)
            sys_pkgs = [("libssl1.0.0", "amd64", "1.0.2g-1ubuntu4.5", "1.0.2g-1ubuntu4.6"),
                        ("tzdata", "all", "2016j-0ubuntu0.16.04", "2017a-0ubuntu0.16.04")]
        else:
            install = [("arakoon", "amd64", v["arakoon"]), ("alba", "amd64", v["alba"]),
                       ("volumedriver-server", "amd64", v["volumedriver"] + "-1"),
                       ("openvstorage-core", "all", "2.4.1-1"), ("openvstorage-webapps", "all", "2.4.1-1"),
                       ("openvstorage", "all", "2.4.1-1")]
            upgrade = [("openvstorage-core", "all", "2.4.1-1", v["openvstorage"]),
                       ("openvstorage-webapps", "all", "2.4.1-1", v["openvstorage"]),
                       ("openvstorage", "all", "2.4.1-1", v["openvstorage"])]
            first = datetime(2015, 10, 12, 15, 31, 40, tzinfo=n.start.tzinfo)
            second = datetime(2015, 11, 23, 10, 5, 19, tzinfo=n.start.tzinfo)
            sys_pkgs = [("libssl1.0.0", "amd64", "1.0.1f-1ubuntu2.15", "1.0.1f-1ubuntu2.16"),
                        ("tzdata", "all", "2015f-0ubuntu0.14.04", "2015g-0ubuntu0.14.04")]
        lines: list[tuple[datetime, str]] = []
        t = first

        def emit(text: str, step: float = 0.0) -> None:
            nonlocal t
            t = t + timedelta(seconds=step)
            lines.append((t, f"{ymd_hms(t)} {text}"))

        emit("startup archives unpack")
        for pkg, arch, ver in install:
            emit(f"install {pkg}:{arch} <none> {ver}", rng.uniform(0.2, 2))
            emit(f"status half-installed {pkg}:{arch} {ver}")
            emit(f"status unpacked {pkg}:{arch} {ver}", rng.uniform(0.5, 4))
            emit(f"status unpacked {pkg}:{arch} {ver}")
        emit("trigproc man-db:amd64 2.7.5-1 <none>", 1)
        emit("status half-configured man-db:amd64 2.7.5-1")
        emit("status installed man-db:amd64 2.7.5-1", 1)
        emit("startup packages configure")
        for pkg, arch, ver in install:
            emit(f"configure {pkg}:{arch} {ver} <none>", rng.uniform(0.2, 3))
            emit(f"status unpacked {pkg}:{arch} {ver}")
            emit(f"status half-configured {pkg}:{arch} {ver}", rng.uniform(0.1, 9))
            emit(f"status installed {pkg}:{arch} {ver}")
        for when, pkgs in ((second - timedelta(days=6, hours=3), sys_pkgs), (second, upgrade)):
            t = when
            emit("startup archives unpack")
            for pkg, arch, old, new in pkgs:
                emit(f"upgrade {pkg}:{arch} {old} {new}", rng.uniform(0.2, 2))
                emit(f"status half-configured {pkg}:{arch} {old}")
                emit(f"status unpacked {pkg}:{arch} {old}")
                emit(f"status half-installed {pkg}:{arch} {old}")
                emit(f"status unpacked {pkg}:{arch} {new}", rng.uniform(0.5, 3))
            emit("startup packages configure", 1)
            for pkg, arch, _old, new in pkgs:
                emit(f"configure {pkg}:{arch} {new} <none>", rng.uniform(0.2, 2))
                emit(f"status unpacked {pkg}:{arch} {new}")
                emit(f"status half-configured {pkg}:{arch} {new}", rng.uniform(0.1, 6))
                emit(f"status installed {pkg}:{arch} {new}")
        for t, text in lines:
            m.add(t, text)

    def rabbitmq_log(self) -> None:
        """A master node runs RabbitMQ; its presence marks the node as master."""
        n = self.node
        m = self.member(f"var/log/rabbitmq/rabbit@{n.host}.log", owner=("rabbitmq", "rabbitmq"))
        rng = self.rng("rabbitmq")

        def block(t: datetime, text: str) -> list[str]:
            return [f"=INFO REPORT==== {t.day}-{MONTHS[t.month - 1]}-{t.year}::{hms(t)} ===", text, ""]

        t0 = n.t_up - timedelta(seconds=6)
        for i, text in enumerate(["Starting RabbitMQ 3.5.7 on Erlang 18.3",
                                  "Memory limit set to 52729MB of 131823MB total.",
                                  "started TCP Listener on [::]:5672",
                                  "Server startup complete; 0 plugins started."]):
            ti = t0 + timedelta(microseconds=250000 * i)
            m.add(ti, block(ti, text))
        if n.shares("rabbitmq"):
            peers = [h for i, h in enumerate(n.cluster.hosts) if i != n.index]
            for i, peer in enumerate(peers):
                ti = t0 + timedelta(seconds=1, microseconds=130000 + 250000 * i)
                m.add(ti, block(ti, f"rabbit on node 'rabbit@{peer}' up"))
        for t in spread(rng, n.t_up, n.end, 110):
            port = rng.randrange(40000, 60000)
            src = rng.choice([n.ip, *n.peer_ips])
            verb = rng.choice(["accepting", "closing"])
            m.add(t, block(t, f"{verb} AMQP connection <0.{rng.randrange(300, 9000)}.0> ({src}:{port} -> "
                              f"{n.ip}:5672)"))

    def lastlog(self) -> None:
        """Binary: struct lastlog {int32 ll_time; char ll_line[32]; char ll_host[256];} per uid."""
        n = self.node
        login = int((n.start - timedelta(hours=15, minutes=12)).timestamp())
        root = struct.pack("<i32s256s", login, b"pts/0", b"10.100.1.254")
        m = self.member("var/log/lastlog", owner=("root", "utmp"))
        m.raw = root + bytes(292)
        m.mtime = n.start - timedelta(hours=15, minutes=12)

    # -- legacy (E2) ----------------------------------------------------------------------
    def legacy(self) -> None:
        n = self.node
        rng = self.rng("legacy")
        lib = self.member("var/log/ovs/lib.log", owner=("ovs", "ovs"))
        ext = self.member("var/log/ovs/extensions.log", owner=("ovs", "ovs"))
        for t in spread(rng, n.start, n.end, 900):
            if not n.running("worker", t):
                continue
            comp, level, text = pick(rng, LIB_C)[1:]
            source, name = comp.split("/", 1)
            pid = n.pid["worker_old"] if t < n.t_shutdown else n.pid["worker"]
            lib.add(t, py_b(t, pid, level, source, name, text.format(**n.fields(rng))))
        for t in spread(rng, n.start, n.end, 420):
            if not n.running("watcher", t):
                continue
            _, func, level, text = pick(rng, EXT_D)[1:]
            names = {"_test_store": "watcher", "_test_rabbitmq": "watcher", "run": "sshclient"}
            name = names.get(func, "generic")
            pid = n.pid["worker_old"] + 3 if t < n.t_shutdown else n.pid["worker"] - 9
            ext.add(t, py_b(t, pid, level, "extensions", name,
                            text.format(ovs_version=n.versions["openvstorage"], **n.fields(rng))))
        self.django_log()
        # volumedriver and failovercache, old format
        vd = self.member(f"var/log/ovs/volumedriver/{n.vpool}.log", owner=("ovs", "ovs"))
        vrng = self.rng("legacy-vd")
        tids = {k: [f"0x{thread_address(vrng):016x}" for _ in range(8)] for k in ("vd", "vd_new")}

        def old_banner(t: datetime, key: str) -> list[str]:
            ver = n.versions["volumedriver"]
            return [f"{ts_vd_old(t)} -- notice -- MainHelper -- print_version_data: version: {ver}",
                    "version revision: 0", "repository URL: ssh://git@bitbucket.org/openvstorage/volumedriver",
                    "branch: release-5.6", "md5 support: yes",
                    f"revision: {vrng.getrandbits(160):040x}", "build time: 2015-10-02 09:12:51 UTC",
                    f" -- [{tids[key][0]}]"]

        tb = n.svc_start["vd"]
        vd.add(tb, old_banner(tb, "vd"), quirk="version_banner_old")
        for t in spread(vrng, tb + timedelta(seconds=1), n.end, 1250):
            logger, sev, func, text = pick(vrng, VD_MSG)[1:]
            msg = text.format(**n.fields(vrng))
            if not n.running("vd", t):
                continue
            key = "vd_new" if t >= n.t_restart else "vd"
            vd.add(t, vd_old(t, sev, logger, func, msg, vrng.choice(tids[key])))
        tr = n.t_vd_back
        vd.add(tr, old_banner(tr, "vd_new"), quirk="version_banner_old")
        v = n.vols[1]
        td = n.t_crash - timedelta(minutes=4, seconds=10)
        vd.add(td, vd_old(td, "info", "Volume", "operator()", f"{v.vid}: setting DTL degraded",
                          tids["vd"][3]), ids=("DTL_DEGRADED",))
        foc = self.member(f"var/log/ovs/volumedriver/foc_{n.vpool}.log", owner=("ovs", "ovs"))
        ftids = [f"0x{thread_address(vrng):016x}" for _ in range(4)]
        for t in spread(vrng, n.t_up, n.end, 330):
            logger, sev, func, text = pick(vrng, DTL_MSG)[1:]
            foc.add(t, vd_old(t, sev, logger, func, text.format(**n.fields(vrng)), vrng.choice(ftids)))
        # arakoon 1.8: every line repeats the prefix; space-padded day, no year
        ara = self.member(f"var/log/arakoon/ovsdb/{n.mid}.log", owner=("ovs", "ovs"))
        arng = self.rng("legacy-arakoon")

        def ara18(t: datetime, section: str, level: str, msg: str) -> str:
            day, frac = ts_lwt(t)
            return f"{day} {frac}: ({section}|{level}): {msg}"

        t0 = n.svc_start["arakoon"]
        for i, msg in enumerate(["--- NODE STARTED ---", f"version: {n.versions['arakoon']}", "NOFILE: 8192",
                                 "quorum_function gives 2 for 3", "DAEMONIZATION=false"]):
            ti = t0 + timedelta(microseconds=1711 * i)
            ara.add(ti, ara18(ti, "main", "info", msg))
        for t in spread(arng, n.start, n.end, 520):
            if not n.running("arakoon", t):
                continue
            section, msg = arng.choice([
                ("main", f"stats: (start: {float(int(t0.timestamp())):.6f}) (n: {arng.randrange(9000)})"),
                ("client_protocol",
                 f"connection=client_service_{n.ip}_{arng.randrange(40000, 60000)}: closed"),
                ("paxos", f"T:on_accept took: {arng.uniform(0.0002, 0.01):.6f}"),
                ("tcp_messaging", f"got connection from {arng.choice(n.peer_ips)}"),
            ])
            ara.add(t, ara18(t, section, "info", msg))
        # upstart job logs (raw stdout through a pty: CRLF)
        self.workers_log(crlf=True)
        wk = self.members["var/log/upstart/ovs-workers.log"]
        t = n.t_restart + timedelta(minutes=1, seconds=3, microseconds=208000)
        tid = make_uuid(self.rng("legacy-raised"))
        wk.add(t, [celery_line(t, "ERROR", "MainProcess",
                               f"Task ovs.vdisk.dtl_checkup[{tid}] raised unexpected: "
                               f"RuntimeError('Volume {n.vols[1].name} is not running on {n.vpool}',)"),
                   *self.celery_traceback(
                       final=f"RuntimeError: Volume {n.vols[1].name} is not running on {n.vpool}",
                       inner=('  File "/opt/OpenvStorage/ovs/lib/vdisk.py", line 788, in dtl_checkup',
                              "    dtl_config = VDiskController._get_dtl_config(vdisk)",
                              '  File "/opt/OpenvStorage/ovs/lib/vdisk.py", line 1061, in _get_dtl_config',
                              "    raise RuntimeError('Volume {0} is not running on {1}'.format(*names))"))],
               ids=("CELERY_TASK_RAISED_UNEXPECTED",), extra=("PYTHON_TRACEBACK_GENERIC",))
        prx = self.member(f"var/log/upstart/ovs-albaproxy_{n.vpool}.log", crlf=True)
        prng = self.rng("legacy-alba")
        for t in spread(prng, n.t_up, n.end, 360):
            day, frac = ts_lwt(t)
            text = pick(prng, ALBA_MSG)[2].format(**n.fields(prng))
            prx.add(t, f"{day}.{frac} main info: {text}")
        self.kernel(dmesg=True)
        self.syslog_extras()
        self.dpkg_log()
        self.lastlog()

    # -- assemble ---------------------------------------------------------------------------
    def build_all(self) -> None:
        if self.node.scenario == "legacy":
            self.legacy()
            self.journald_and_syslog(with_journald=False)
            return
        self.lib_log()
        self.extensions_log()
        self.django_log()
        self.volumedriver_logs()
        self.dtl_log()
        self.arakoon_log()
        self.alba_log()
        self.workers_log()
        self.journal_entries()
        self.journald_and_syslog(with_journald=True)
        self.kernel()
        self.syslog_extras()
        self.dpkg_log()
        self.rabbitmq_log()
        self.lastlog()


# --------------------------------------------------------------------------- archive

OWNER_IDS = {"root": 0, "adm": 4, "utmp": 43, "syslog": 104, "ovs": 1001, "rabbitmq": 113}


def _tarinfo(name: str, size: int, mtime: datetime, owner: tuple[str, str], *,
             is_dir: bool) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime.timestamp())
    info.uname, info.gname = owner
    info.uid, info.gid = OWNER_IDS.get(owner[0], 0), OWNER_IDS.get(owner[1], 0)
    if is_dir:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    else:
        info.mode = 0o640 if owner[1] == "adm" else 0o644
    return info


def archive_name(host: str, collected: datetime) -> str:
    """What `ovs collect logs` names it: ovs-$(hostname)-$(date +%Y%m%d%H%M%S)-logs.tar.gz."""
    c = collected
    stamp = f"{c.year:04d}{c.month:02d}{c.day:02d}{c.hour:02d}{c.minute:02d}{c.second:02d}"
    return f"ovs-{host}-{stamp}-logs.tar.gz"


#: Kinds of evidence the nodes of a multi-node sample share (`write_cluster(shared=...)`):
#:   arakoon_startup  each Arakoon's start-up lines: `cfg = { node_name = "<self>"; ips = [...]; ...}`, `other: <peer>`
#:   elections        `<node> is master`, logged by every node at the same true moment
#:   celery           tasks the Celery beat of one node sends (`<task> sent. id-><uuid>`, beat at -l debug)
#:                    and the worker of another receives and runs
#:   dtl              volumes of one node given their DTL on another: the volumedriver's connect and
#:                    `finding out volume state`, the DTL server's register and clear, and its start line
#:   rabbitmq         `rabbit on node 'rabbit@<peer>' up` for every other node, as RabbitMQ logs its cluster
SHARED_KINDS = ("arakoon_startup", "elections", "celery", "dtl", "rabbitmq")
DEFAULT_SHARED = ("arakoon_startup", "elections")
#: Cross-node traffic is planned in this part of the window (minutes after its start), where no
#: scenario has a node or service down, so both ends of each exchange are logged.
TRAFFIC_MINUTES = (6.0, 78.0)
DTL_PORT = 26203


@dataclass(frozen=True)
class SharedTask:
    """A task the Celery beat of node `sender` sends and the worker of node `receiver` runs."""

    at: timedelta  # after the window start, on a true clock
    sender: int
    receiver: int
    name: str
    task_id: str
    latency: timedelta  # from the send to the receive
    runtime: float


@dataclass(frozen=True)
class DtlSetup:
    """A volume of node `owner` given its DTL on node `target`: the volumedriver logs its connect,
    the DTL server the register one hop later and the clear three hops later, the volumedriver
    `finding out volume state` once the clear is answered."""

    at: timedelta
    owner: int
    target: int
    volume: str
    hop: timedelta  # one way over the network


@dataclass
class ClusterPlan:
    """Nodes of one cluster: shared Arakoon node names (machine ids) and IPs, elections every node
    logs at the same true moment, the Celery tasks and DTL connections between them (`shared`
    says which evidence is written), and each node's clock error (its logs say true time + skew)."""

    hosts: Sequence[str]
    skews: Sequence[float]
    mids: list[str]
    ips: list[str]
    #: (minutes after the window start, index of the node elected master)
    elections: Sequence[tuple[float, int]] = ((21.5, 0), (47.25, 1), (73.75, 0), (88.1, 2))
    shared: Sequence[str] = DEFAULT_SHARED
    tasks: list[SharedTask] = field(default_factory=list)
    dtl: list[DtlSetup] = field(default_factory=list)

    def join(self, node: Node, index: int) -> None:
        node.cluster, node.index = self, index
        node.mid, node.ip = self.mids[index], self.ips[index]
        node.peer_mids = [m for i, m in enumerate(self.mids) if i != index]
        node.peer_ips = [ip for i, ip in enumerate(self.ips) if i != index]
        node.sd_id = f"{node.vpool}{node.mid}"

    def elections_seen_by(self, node: Node) -> list[tuple[datetime, str]]:
        """When `node` logs each election (its window start already carries its skew), a few ms apart."""
        return [(node.start + timedelta(minutes=minutes, microseconds=1500 * node.index + 211), self.mids[master])
                for minutes, master in self.elections]

    def plan_traffic(self, rng: random.Random) -> None:
        """Celery tasks and DTL set-ups between the nodes with a bundle, at random true moments.

        The beat's lock (ovs.celery_beat.DistributedScheduler) passes from node to node, one part
        of the traffic window each, so tasks flow every way; a task's worker is any node.
        """
        first, last = (timedelta(minutes=m) for m in TRAFFIC_MINUTES)
        span = (last - first).total_seconds()
        nodes = len(self.hosts)
        if "celery" in self.shared:
            for offset in sorted(rng.uniform(0, span) for _ in range(216)):
                task, typical = pick(rng, TASKS)[1:]
                self.tasks.append(SharedTask(
                    at=first + timedelta(seconds=round(offset, 6)), sender=int(offset / span * nodes),
                    receiver=rng.randrange(nodes), name=task, task_id=make_uuid(rng),
                    latency=timedelta(microseconds=rng.randrange(2000, 40000)),
                    runtime=typical * rng.uniform(0.5, 1.6)))
        if "dtl" in self.shared and nodes > 1:
            for offset in sorted(rng.uniform(0, span) for _ in range(60)):
                owner = rng.randrange(nodes)
                self.dtl.append(DtlSetup(
                    at=first + timedelta(seconds=round(offset, 6)), owner=owner,
                    target=rng.choice([i for i in range(nodes) if i != owner]), volume=make_uuid(rng),
                    hop=timedelta(microseconds=rng.randrange(150, 900))))


def write_cluster(out_dir: Path, *, hosts: Sequence[str] = ("ovs-node1", "ovs-node2", "ovs-node3"),
                  scenarios: Sequence[str] = ("incident", "incident", "healthy"),
                  skews: Sequence[float] = (0.0, 2.5, -1.25), seed: int = 1,
                  shared: Sequence[str] = DEFAULT_SHARED) -> list[dict]:
    """Write one bundle per node of one cluster into `out_dir`; node i's clock is `skews[i]` seconds off
    (every line it writes). `shared` picks the evidence the nodes share (`SHARED_KINDS`); two
    clusters with seeds 100 apart have the same IP addresses."""
    unknown = sorted(set(shared) - set(SHARED_KINDS))
    if unknown:
        raise ValueError(f"unknown shared evidence {unknown}; choose from {', '.join(SHARED_KINDS)}")
    rng = rng_for(seed, ",".join(hosts), "cluster")
    nodes = max(3, len(hosts))  # an Arakoon cluster of 3 at least: a node may be one whose bundle is missing
    plan = ClusterPlan(hosts=hosts, skews=skews, mids=[make_machine_id(rng) for _ in range(nodes)],
                       ips=[f"10.{100 + seed % 100}.1.{i + 1}" for i in range(nodes)], shared=tuple(shared))
    plan.plan_traffic(rng_for(seed, ",".join(hosts), "traffic"))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifests = []
    for i, (host, scenario, skew) in enumerate(zip(hosts, scenarios, skews, strict=True)):
        start = DEFAULT_START[scenario] + timedelta(seconds=skew)
        manifest = write_sample(out_dir, seed=seed + i, host=host, scenario=scenario, start=start,
                                cluster=plan, index=i)
        manifests.append({**manifest, "skew_seconds": skew, "arakoon_node": plan.mids[i]})
    return manifests


def write_sample(path: Path, *, seed: int = 1, host: str = "ovs-node1", scenario: str = "incident",
                 start: datetime | None = None, cluster: ClusterPlan | None = None, index: int = 0) -> dict:
    """Write one sample bundle to ``path`` (a ``.tar.gz``; a directory gets the real-style name)
    and return its manifest: members with line counts, and every planted failure's place."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    if start is None:
        start = DEFAULT_START[scenario]
    elif start.tzinfo is None:
        start = start.replace(tzinfo=CET)
    node = Node(seed, host, scenario, start)
    if cluster is not None:
        cluster.join(node, index)
    builder = Builder(node)
    builder.build_all()
    path = Path(path)
    if path.is_dir():
        path = path / archive_name(host, node.collected)

    members: dict[str, int] = {}
    planted: list[dict] = []
    incidental: list[dict] = []
    quirks: list[dict] = []
    payload: list[tuple[str, bytes, Member]] = []
    for name in sorted(builder.members):
        mem = builder.members[name]
        if mem.raw is not None:
            data = mem.raw
        else:
            lines, tagged = mem.build()
            eol = "\r\n" if mem.crlf else "\n"
            data = ("".join(x + eol for x in lines)).encode("utf-8")
            for rec, lineno, text in tagged:
                for cid in rec.ids:
                    planted.append({"id": cid, "member": name, "line": lineno, "text": text})
                for cid in rec.extra:
                    incidental.append({"id": cid, "member": name, "line": lineno, "text": text})
                if rec.quirk:
                    quirks.append({"kind": rec.quirk, "member": name, "line": lineno, "text": text})
        members[name] = count_lines(data)
        stored = gzip.compress(data, compresslevel=9, mtime=0) if name.endswith(".gz") else data
        payload.append((name, stored, mem))

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        dirs = sorted({"/".join(p.split("/")[:i]) for p, _, _ in payload for i in range(3, p.count("/") + 1)})
        entries = [(d + "/", None, None) for d in dirs] + payload
        for name, stored, mem in sorted(entries, key=lambda e: e[0]):
            if stored is None:
                tar.addfile(_tarinfo(name, 0, node.collected, ("root", "root"), is_dir=True))
                continue
            mtime = (mem.mtime or node.collected) + timedelta(seconds=1)
            tar.addfile(_tarinfo(name, len(stored), min(mtime, node.collected), mem.owner, is_dir=False),
                        io.BytesIO(stored))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(buf.getvalue(), compresslevel=9, mtime=0))

    key = lambda e: (e["member"], e["line"], e["id"] if "id" in e else e["kind"])  # noqa: E731
    return {
        "host": host,
        "scenario": scenario,
        "era": node.era,
        "seed": seed,
        "archive": path.name,
        "window_start": start.isoformat(),
        "collected_at": node.collected.isoformat(),
        "members": members,
        "planted": sorted(planted, key=key),
        "incidental": sorted(incidental, key=key),
        "quirks": sorted(quirks, key=key),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="the .tar.gz to write (a directory: use the real-style name)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--host", default="ovs-node1")
    ap.add_argument("--scenario", choices=SCENARIOS, default="incident")
    ap.add_argument("--start", type=datetime.fromisoformat, default=None,
                    help="window start, ISO 8601 (default: per scenario; naive means +01:00)")
    ap.add_argument("--manifest", action="store_true", help="print the manifest as JSON on stdout")
    ap.add_argument("--cluster", type=int, metavar="N", default=0,
                    help="write N bundles of one cluster into the OUT folder (node i's clock off by known seconds)")
    ap.add_argument("--shared", default=",".join(DEFAULT_SHARED), metavar="KINDS",
                    help=f"with --cluster: the evidence the nodes share, of {', '.join(SHARED_KINDS)}")
    a = ap.parse_args(argv)
    if a.cluster:
        hosts = [f"ovs-node{i + 1}" for i in range(a.cluster)]
        scenarios = ["incident"] * min(2, a.cluster) + ["healthy"] * max(a.cluster - 2, 0)
        skews = [0.0, 2.5, -1.25, 4.0, -3.5, 1.75][: a.cluster] + [0.5] * max(a.cluster - 6, 0)
        manifests = write_cluster(a.out, hosts=hosts, scenarios=scenarios, skews=skews, seed=a.seed,
                                  shared=[k for k in a.shared.split(",") if k])
        for manifest in manifests:
            print(f"wrote {a.out / manifest['archive']}: clock {manifest['skew_seconds']:+.2f} s")
        return 0
    raw_out = sys.argv[1:] if argv is None else argv
    if any(x.endswith("/") for x in raw_out if not x.startswith("-")):
        a.out.mkdir(parents=True, exist_ok=True)
    manifest = write_sample(a.out, seed=a.seed, host=a.host, scenario=a.scenario, start=a.start)
    if a.manifest:
        json.dump(manifest, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"wrote {a.out}: {len(manifest['members'])} members, "
              f"{sum(manifest['members'].values())} lines, {len(manifest['planted'])} planted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
