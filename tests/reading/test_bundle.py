"""Every packaging a customer sends is read the same way: names, rotations and text as they really are."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.errors import UserError
from analyzer.pipeline.analysis import analyze
from analyzer.pipeline.nodes import analyze_nodes
from analyzer.reading.bundle import Bundle, Caps, describe, iter_members, nested_bundles, nested_copies
from analyzer.reading.rotation import OverlapTrimmer, rotation_of
from tests.conftest import build_tar, tar_bytes

PY = "2017-03-14 10:22:{s:02d} 04700 +0100 - ovs-node1 - 1/2 - lib/vdisk - {s} - INFO - line {s}\n"
MEMBERS = {"var/log/ovs/lib.log": "".join(PY.format(s=s) for s in range(3)), "var/log/dpkg.log": ""}


def zip_bytes(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def read(path: Path, caps: Caps = Caps()) -> tuple[Bundle, dict[str, bytes]]:
    bundle = describe(path)
    return bundle, {m.path: m.data for m in iter_members(bundle, caps)}


@pytest.mark.parametrize(
    ("suffix", "pack"),
    [
        (".tar", tar_bytes),
        (".tar.gz", lambda m: gzip.compress(tar_bytes(m))),
        (".tar", lambda m: gzip.compress(tar_bytes(m))),  # the unreleased rewrite's gzip named .tar
        (".tgz", lambda m: gzip.compress(tar_bytes(m))),
        (".tar.xz", lambda m: lzma.compress(tar_bytes(m))),
        (".tar.bz2", lambda m: bz2.compress(tar_bytes(m))),
        (".zip", zip_bytes),
    ],
    ids=["tar", "tar.gz", "gzip-named-tar", "tgz", "tar.xz", "tar.bz2", "zip"],
)
def test_every_packaging_gives_the_same_members(tmp_path, suffix, pack):
    path = tmp_path / f"ovs-node1-20170314102205-logs{suffix}"
    path.write_bytes(pack(MEMBERS))
    bundle, members = read(path)
    assert members == {k: v.encode() for k, v in MEMBERS.items()}
    assert bundle.host_hint == "node1" and bundle.warnings == []


def test_an_unpacked_folder_is_read_like_its_archive(tmp_path):
    for name, content in MEMBERS.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    assert read(tmp_path)[1] == {k: v.encode() for k, v in MEMBERS.items()}


def test_leading_slash_and_dot_slash_are_stripped(tmp_path):
    path = build_tar(tmp_path / "b.tar.gz", {"/var/log/ovs/lib.log": "a\n", "./var/log/syslog": "b\n"})
    assert sorted(read(path)[1]) == ["var/log/ovs/lib.log", "var/log/syslog"]


def test_a_bundle_of_bundles_is_split_into_its_nodes(tmp_path, rules):
    node1 = gzip.compress(tar_bytes({"var/log/ovs/lib.log": PY.format(s=1)}))
    node2 = gzip.compress(tar_bytes({"var/log/ovs/lib.log": PY.format(s=2).replace("ovs-node1", "ovs-node2")}))
    outer = tmp_path / "cluster.zip"
    outer.write_bytes(zip_bytes({"ovs-node1-20170314102205-logs.tar.gz": node1,
                                 "case/ovs-node2-20170314102206-logs.tar.gz": node2}))
    bundle, loose = read(outer)
    assert loose == {} and "the bundle holds no regular files" not in bundle.warnings
    nodes = nested_bundles(bundle)
    assert [(n.name, n.host_hint) for n in nodes] == [("ovs-node1-20170314102205-logs.tar.gz", "node1"),
                                                     ("ovs-node2-20170314102206-logs.tar.gz", "node2")]
    assert [analyze(n, rules).hosts for n in nodes] == [["ovs-node1"], ["ovs-node2"]]


def test_a_bundle_nested_two_levels_deep_is_named_with_what_to_do_not_hidden_behind_no_files(tmp_path, rules):
    """A zip of a tar of node bundles: one level of nesting is read. The error named "no regular
    files" before, which the archive does hold, and not the bundle it skipped."""
    node = gzip.compress(tar_bytes({"var/log/ovs/lib.log": PY.format(s=1)}))
    cluster = tar_bytes({"ovs-node1-20170314102205-logs.tar.gz": node})
    outer = tmp_path / "upload.zip"
    outer.write_bytes(zip_bytes({"case/cluster.tar": cluster}))
    with pytest.raises(UserError) as error:
        analyze_nodes(outer, rules)
    said = str(error.value)
    assert "1 bundles nested two levels deep skipped (e.g. ovs-node1-20170314102205-logs.tar.gz)" in said
    assert "unpack the outer archive and analyze what it holds" in said


def _node(host: str, second: int = 1) -> bytes:
    return gzip.compress(tar_bytes({"var/log/ovs/lib.log": PY.format(s=second).replace("ovs-node1", host)}), mtime=0)


@pytest.mark.parametrize("packing", ["zip", "folder"])
def test_a_node_bundle_sent_twice_is_analyzed_once_and_the_copy_named(tmp_path, rules, packing):
    """A customer attached node1's bundle twice (two folders): read as two nodes, every finding of
    node1 stood twice in the cluster's report."""
    same = _node("ovs-node1")
    members = {"a/ovs-node1-20170314102205-logs.tar.gz": same, "b/ovs-node1-20170314102205-logs.tar.gz": same,
               "c/ovs-node2-20170314102206-logs.tar.gz": _node("ovs-node2")}
    if packing == "zip":
        outer = tmp_path / "upload.zip"
        outer.write_bytes(zip_bytes(members))
    else:
        outer = tmp_path / "upload"
        for name, data in members.items():
            (outer / name).parent.mkdir(parents=True, exist_ok=True)
            (outer / name).write_bytes(data)
    nodes = analyze_nodes(outer, rules)
    assert [a.hosts for _, a in nodes] == [["ovs-node1"], ["ovs-node2"]]
    said = ("nested bundle b/ovs-node1-20170314102205-logs.tar.gz is a byte-for-byte copy of "
            "a/ovs-node1-20170314102205-logs.tar.gz: analyzed once")
    assert all(said in a.bundle.warnings for _, a in nodes)


def test_bundles_of_one_size_are_compared_by_content_not_taken_for_copies(tmp_path):
    first, second = _node("ovs-node1", 1), _node("ovs-node1", 2)  # a later collection of the same node
    assert len(first) == len(second) and first != second
    outer = tmp_path / "upload.tar"
    outer.write_bytes(tar_bytes({"ovs-node1-20170314102205-logs.tar.gz": first,
                                 "ovs-node1-20170315102205-logs.tar.gz": second}))
    bundle, _ = read(outer)
    assert nested_copies(bundle) == {}
    assert len(nested_bundles(bundle)) == 2


def test_a_folder_of_bundles_is_split_into_its_nodes(tmp_path):
    for host in ("a", "b"):
        build_tar(tmp_path / f"ovs-{host}-20170314102205-logs.tar.gz", {"var/log/syslog": "x\n"})
    bundle, loose = read(tmp_path)
    assert loose == {}
    assert [read(n.path)[0].host_hint for n in nested_bundles(bundle)] == ["a", "b"]


def test_rotation_sets_are_named_and_ordered_oldest_first():
    names = ["var/log/ovs/lib.log", "var/log/ovs/lib.log.1", "var/log/ovs/lib.log.2.gz", "var/log/ovs/lib.log.10.gz",
             "var/log/ovs/volumedriver/vp1.log.2016-03-01.gz", "var/log/ovs/volumedriver/vp1.log.2016-02-28",
             "var/log/upstart/ovs-workers.log.3.gz", "var/log/dmesg.0", "var/log/dmesg"]
    sets = {n: rotation_of(n) for n in names}
    assert {n: r.base for n, r in sets.items()} == {
        **dict.fromkeys(names[:4], "var/log/ovs/lib.log"),
        **dict.fromkeys(names[4:6], "var/log/ovs/volumedriver/vp1.log"),
        names[6]: "var/log/upstart/ovs-workers.log", names[7]: "var/log/dmesg", names[8]: "var/log/dmesg"}
    lib = sorted(names[:4], key=lambda n: sets[n].order)
    assert lib == ["var/log/ovs/lib.log.10.gz", "var/log/ovs/lib.log.2.gz", "var/log/ovs/lib.log.1",
                   "var/log/ovs/lib.log"]
    assert sets[names[5]].order < sets[names[4]].order


def test_lines_a_rotated_copy_shares_with_its_neighbour_count_once(tmp_path, rules):
    lines = [PY.format(s=s) for s in range(10)]
    path = build_tar(tmp_path / "ovs-node1-20170314102205-logs.tar.gz", {
        "var/log/ovs/lib.log.1": "".join(lines[:6]),
        "var/log/ovs/lib.log.2.gz": gzip.compress("".join(lines[:2]).encode()),
        "var/log/ovs/lib.log": "".join(lines[4:]),
    })
    analysis = analyze(path, rules)
    by_path = {m.path: m for m in analysis.members}
    assert by_path["var/log/ovs/lib.log"].lines == 4, "lines 4-5 were already in lib.log.1"
    assert by_path["var/log/ovs/lib.log.2.gz"].lines == 0, "its two lines open lib.log.1 too"
    assert sum(m.lines for m in analysis.members) == 10
    assert any("repeat the end of var/log/ovs/lib.log.1" in w for w in by_path["var/log/ovs/lib.log"].warnings)


def _trimmed_against_every_copy(copies: list[tuple[str, bytes]]) -> list[tuple[bytes, int, str | None]]:
    """The trimmer's answers when each copy is compared with every copy of its set read before it."""
    from analyzer.reading import rotation

    seen: dict[str, dict[str, rotation._Edges]] = {}
    answers = []
    for path, data in copies:
        order = rotation_of(path).order
        others = seen.setdefault(rotation_of(path).base, {})
        others.pop(path, None)
        digest = rotation._fingerprint(len(data), data, data)
        same = next((p for p, e in others.items() if e.digest == digest and data), None)
        if same:
            others[path] = rotation._Edges(order, [], [], digest)
            answers.append((b"", 0, f"same content as {same}: counted once"))
            continue
        edges = rotation._Edges(order, rotation._line_hashes(data, rotation.EDGE_LINES),
                                rotation._line_hashes(data, -rotation.EDGE_LINES), digest)
        head = max(((rotation._overlap(e.tail, edges.head), p) for p, e in others.items() if e.order < order),
                   key=lambda kp: kp[0], default=(0, ""))
        tail = max(((rotation._overlap(edges.tail, e.head), p) for p, e in others.items() if e.order > order),
                   key=lambda kp: kp[0], default=(0, ""))
        others[path] = edges
        data = rotation.drop_tail(rotation.drop_head(data, head[0]), tail[0])
        notes = [f"first {head[0]} line(s) repeat the end of {head[1]}"] * bool(head[0]) + \
            [f"last {tail[0]} line(s) repeat the start of {tail[1]}"] * bool(tail[0])
        answers.append((data, head[0], "; ".join(notes) + ": counted once" if notes else None))
    return answers


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["var/log/syslog", "var/log/syslog.1", "var/log/syslog.2.gz",
                                           "var/log/syslog.3.gz", "var/log/syslog.10.gz"]),
                          st.lists(st.sampled_from(["a", "b", "c", ""]), max_size=6)), max_size=8))
def test_the_trimmer_finds_what_comparing_every_copy_with_every_other_finds(copies):
    copies = [(path, "".join(f"{line}\n" for line in lines).encode()) for path, lines in copies]
    trimmer = OverlapTrimmer()
    assert [trimmer.trim(path, data) for path, data in copies] == _trimmed_against_every_copy(copies)


def test_a_set_of_thousands_of_copies_compares_each_copy_with_few_others(monkeypatch):
    from analyzer.reading import rotation

    compared = []
    monkeypatch.setattr(rotation, "_overlap", lambda *edges: compared.append(1) or 0)
    trimmer = OverlapTrimmer()
    for n in range(2000):
        trimmer.trim(f"var/log/ovs/lib.log.{n}", PY.format(s=n % 60).replace("line", f"copy {n}").encode())
    assert len(compared) < 100, "each copy shares no edge line with another: none is worth comparing"


def test_line_numbers_stay_those_of_the_stored_file_after_the_head_is_dropped(tmp_path):
    from analyzer.pipeline.event_table import bundle_events

    lines = [PY.format(s=s) for s in range(6)]
    path = build_tar(tmp_path / "b.tar.gz", {"var/log/ovs/lib.log.1": "".join(lines[:4]),
                                             "var/log/ovs/lib.log": "".join(lines[2:])})
    events = bundle_events(path).filter(source="var/log/ovs/lib.log")
    assert events["line"].to_list() == [3, 4], "lines 1-2 repeat lib.log.1; what is left keeps its own numbers"


def test_an_identical_copy_counts_once(tmp_path):
    text = "".join(PY.format(s=s) for s in range(3))
    path = build_tar(tmp_path / "b.tar.gz", {"var/log/journald.log.1": text, "var/log/journald.log": text})
    _, members = read(path)
    assert members["var/log/journald.log"] == b""


def test_crlf_nul_and_invalid_utf8_are_read_and_counted(tmp_path, rules):
    text = PY.format(s=1).replace("\n", "\r\n").encode() + b"\0" * 40 + b"caf\xe9 \xff\n"
    analysis = analyze(build_tar(tmp_path / "b.tar.gz", {"var/log/ovs/lib.log": text}), rules)
    member = analysis.members[0]
    assert member.lines == 2 and member.invalid_utf8 == 2
    assert any("40 NUL byte(s) removed" in w for w in member.warnings)
    assert analysis.first_seen == "2017-03-14T09:22:01.047000Z", "CRLF does not hide the line's time"


def test_binary_files_matching_log_are_skipped_with_a_note(tmp_path, rules):
    wtmp = (b"\x07\x00\x00\x00\x8c\x05" + b"\0" * 26 + b"tty1" + b"\0" * 348) * 20
    analysis = analyze(build_tar(tmp_path / "b.tar.gz", {"var/log/wtmp": wtmp, "var/log/lastlog": b"\0" * 2920}),
                       rules)
    assert all(m.binary and m.lines == 0 for m in analysis.members)
    assert all("binary file" in " ".join(m.warnings) for m in analysis.members)


def test_caps_are_configurable_by_name():
    caps = Caps.from_options(["members=50", "total_bytes=4G", "line_bytes=64k", "ratio=50"])
    assert (caps.max_members, caps.max_total_bytes, caps.max_line_bytes, caps.max_ratio) == (50, 4 * 1024**3, 65536, 50)


def test_a_member_cut_at_a_cap_is_named_in_the_bundle_warnings_not_only_in_its_own_row(tmp_path):
    """A finding may sit in the part not read: the report's header and the terminal must say so."""
    long = "".join(PY.format(s=s % 60) for s in range(400))  # ~36 KiB
    path = build_tar(tmp_path / "b.tar.gz", {"var/log/ovs/lib.log": long, "var/log/ovs/api.log": PY.format(s=1)})
    bundle, _ = read(path, Caps.from_options(["member_bytes=8k"]))
    (warning,) = [w for w in bundle.warnings if "cut at a reading cap" in w]
    assert warning.startswith("1 member(s) cut") and "var/log/ovs/lib.log (larger than 8192 bytes" in warning
    assert "api.log" not in warning
