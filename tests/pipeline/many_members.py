"""Bundles of many tiny members: the input that costs per member rather than per line (issue #19).

`uniform_members(n)`: `n` rotated copies of the framework's `lib.log`, one line each.
`mixed_members(n)`: `n` members of the kinds a month of rotation leaves, each a few records:
framework, celery (no host, no zone), syslog and kern.log (no year), volumedriver (a vPool from
the path, a multi-line build banner), Arakoon of another zone, a foreign host's log, tracebacks,
gzipped copies, a journal dump whose header names a year and zone, rotation copies that repeat
their neighbour's edge lines, and lines the rules know. Whatever a batch of members could leak
from one member into the next (host, year, zone, vPool, a record's continuation lines, a
rotation trim) differs from one member to the next.

As a script it writes one for timing:
`.venv/bin/python -m tests.pipeline.many_members OUT.tar --members 5000 [--mixed]`.
"""

from __future__ import annotations

import argparse
import gzip
import io
import tarfile
from collections.abc import Iterable
from pathlib import Path

#: The framework's line at second `s` of the member's minute.
_PY = "2017-03-{d:02d} {h:02d}:{m:02d}:{s:02d} 04700 +0100 - ovs-node1 - 1/2 - lib/vdisk - {n} - {level} - {msg}\n"


def uniform_members(count: int) -> dict[str, bytes]:
    """`var/log/ovs/lib.log.<i>`: one framework line each, a minute apart (newest copy first)."""
    return {f"var/log/ovs/lib.log.{i}": _py(count - i, "INFO", f"Heartbeat for StorageRouter ovs-node1 sent {i}")
            for i in range(1, count + 1)}


def _py(minute: int, level: str, msg: str, second: int = 5) -> bytes:
    d, rest = divmod(minute, 24 * 60)
    return _PY.format(d=1 + d % 28, h=rest // 60, m=rest % 60, s=second, n=minute, level=level, msg=msg).encode()


def _task(i: int) -> str:
    return f"{i % 2**32:08x}-0000-4000-8000-{i % 2**48:012x}"


def _syslog(minute: int, what: str, host: str = "ovs-node1") -> bytes:
    d, rest = divmod(minute, 24 * 60)
    return f"Mar {1 + d % 28:2d} {rest // 60:02d}:{rest % 60:02d}:07 {host} {what}\n".encode()


def _kinds(i: int) -> tuple[str, bytes] | list[tuple[str, bytes]]:
    """Member `i`'s path and text (two members for a rotation pair): one of twelve kinds, each copy
    under its own rotation number."""
    k, n, minute = i % 12, i // 12 + 1, 10 * i
    if k == 0:
        return f"var/log/ovs/lib.log.{2 * n}", _py(minute, "INFO", "Ensure single CHAINED mode - ID 1_a - "
                                                       "Task ovs.mds.mds_checkup with params {} finished successfully")
    if k == 1:  # a traceback: one record of five lines, in a gzipped copy
        return f"var/log/ovs/lib.log.{2 * n + 1}.gz", gzip.compress(
            _py(minute, "ERROR", "Error during mds checkup") + b"Traceback (most recent call last):\n"
            b'  File "/opt/OpenvStorage/ovs/lib/mds.py", line 42, in mds_checkup\n'
            b"    raise RuntimeError('No space left on device')\nRuntimeError: No space left on device\n"
            + _py(minute + 1, "INFO", "after the traceback"), mtime=0)
    if k == 2:  # celery states neither host nor zone; a task is received in one copy and ends in the next
        stamp = f"[2017-03-{1 + minute // 1440 % 28:02d} {minute % 1440 // 60:02d}:{minute % 60:02d}:09,000: "
        return f"var/log/upstart/ovs-workers.log.{n}", (
            f"{stamp}INFO/MainProcess] Task ovs.vdisk.sync[{_task(i - 12)}] succeeded in 0.1s: None\n"
            f"{stamp}INFO/MainProcess] Received task: ovs.vdisk.sync[{_task(i)}]\n").encode()
    if k == 3:  # no year: the bundle's collection date gives it
        return f"var/log/syslog.{n}", _syslog(minute, "CRON[1151]: (root) CMD (/usr/bin/ovs monitor heartbeat)") \
            + _syslog(minute, "systemd[1]: ovs-workers.service: Main process exited, code=killed, status=9/KILL")
    if k == 4:  # the vPool comes from the path; the banner's lines continue its record
        return f"var/log/ovs/volumedriver/vpool{n % 3}.log.{n}", (
            f"2017-03-{1 + minute // 1440 % 28:02d} {minute % 1440 // 60:02d}:{minute % 60:02d}:05 000412 +0100 "
            f"- ovs-node1 - 1937/0x00007f9f5b6d4700 - volumedriverfs/MainHelper - 0000000000000000 - notice "
            f"- print_version_data: version: 6.10.{n % 4}\nversion revision: 0\n"
            "repository URL: https://github.com/openvstorage/volumedriver\n").encode()
    if k == 5:  # another zone
        return f"var/log/arakoon/ovsdb/Gh3fbmYhzwUOseWj.log.{n}", (
            f"2017-03-{1 + minute // 1440 % 28:02d} {minute % 1440 // 60:02d}:{minute % 60:02d}:10 934759 +0200 "
            "- ovs-node1 - 1237/0000 - arakoon - 628464 - info - client_service: new connection from 10.100.1.2\n"
        ).encode()
    if k == 6:  # kernel lines a rule knows, no year
        return f"var/log/kern.log.{n}", _syslog(
            minute, "kernel: [1734535.410054] blk_update_request: I/O error, dev sdb, sector 1234")
    if k == 7:  # a foreign host's lines
        return f"var/log/ovs/extensions.log.{n}", _py(minute, "WARNING", "Could not reach node").replace(
            b"ovs-node1", b"ovs-node2")
    if k == 8:  # a package history
        return f"var/log/dpkg.log.{n}", (
            f"2017-02-{1 + n % 28:02d} 11:02:13 upgrade openvstorage:amd64 2.7.{n % 5} 2.7.{n % 5 + 1}\n").encode()
    if k == 9:  # a rotation pair: the current copy starts with the older one's last line (trimmed)
        edge = _py(minute + 1, "INFO", f"edge {i}")
        return [(f"var/log/ovs/rotated{n}.log.1", _py(minute, "INFO", f"older {i}") + edge),
                (f"var/log/ovs/rotated{n}.log", edge + _py(minute + 2, "INFO", f"newer {i}"))]
    if k == 10:  # a line no format explains
        return f"var/log/ovs/strange.log.{n}", f"this is not a log line {i}\n".encode()
    # an error no rule explains, on the line number of rule hits in other members
    return f"var/log/ovs/volumedriver/dtl_vpool{n % 2}.log.{n}", _py(
        minute, "ERROR", f"Unexpected reply from the peer: code {n % 7}").replace(b"lib/vdisk", b"volumedriverfs/DTL")


def mixed_members(count: int) -> dict[str, bytes]:
    """`count` members of mixed kinds (see the module docstring), two journal dumps among them: one
    of another year and zone, one whose entries repeat a syslog member read before it and one after."""
    members: list[tuple[str, bytes]] = []
    i = 0
    while len(members) < count - 2:
        made = _kinds(i)
        members.extend(made if isinstance(made, list) else [made])
        i += 1
    members = members[:max(count - 2, 0)]
    syslogs = [text.splitlines(keepends=True)[-1] for path, text in members if path.startswith("var/log/syslog.")]
    journal = b"-- Logs begin at Wed 2017-03-01 00:00:05 CET, end at Tue 2017-03-28 10:21:50 CET. --\n"
    members.insert(2 * len(members) // 3, ("var/log/journald.log", journal + b"".join(syslogs[:1] + syslogs[-1:])))
    members.insert(len(members) // 3, ("var/log/ovs_journald.log",
                                       b"-- Logs begin at Tue 2016-03-01 00:00:05 EET, end at Mon 2016-03-28 10:21:50 "
                                       b"EET. --\n" + _syslog(5, "systemd[1]: Started Session 1 of user root.")))
    return dict(members[:count])


def tar_of(members: Iterable[tuple[str, bytes]]) -> bytes:
    """An uncompressed GNU tar of `members` (path, text) in this order, with fixed mtimes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1489483325
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the tar to write (name it ovs-<host>-<stamp>-logs.tar)")
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--mixed", action="store_true", help="members of mixed kinds, not lib.log copies only")
    args = parser.parse_args()
    members = (mixed_members if args.mixed else uniform_members)(args.members)
    args.out.write_bytes(tar_of(members.items()))


if __name__ == "__main__":
    main()
