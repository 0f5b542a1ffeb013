"""`ovs-analyzer inventory` and `analyze` on what customers really send: nested bundles, caps, junk."""

from __future__ import annotations

import gzip
import json
import zipfile

from tests.conftest import SAMPLE, SCHEMA, cli, tar_bytes
from tests.reading.test_bundle import PY


def test_inventory_lists_every_member_with_kind_era_span_and_identity():
    result = cli("inventory", str(SAMPLE), "--json")
    assert result.returncode == 0, result.stderr
    (node,) = json.loads(result.stdout)["nodes"]
    members = {m["path"]: m for m in node["members"]}
    assert members["var/log/ovs/lib.log.2.gz"]["rotation_set"] == "var/log/ovs/lib.log"
    assert members["var/log/ovs/lib.log"]["kind"] == "framework"
    assert members["var/log/ovs/lib.log"]["era"] == "framework E3 (2.7-2.9)"
    assert members["var/log/lastlog"]["kind"] == "binary"
    assert members["var/log/journald.log"]["first_seen"].startswith("2017-03-14T07:20")
    assert node["identity"]["role"] == "master" and node["identity"]["versions"]["openvstorage"] == "2.7.9.1-1"


def test_inventory_table_is_readable_on_a_terminal():
    result = cli("inventory", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    assert "var/log/ovs/lib.log.2.gz" in result.stdout and "role: master (RabbitMQ logs" in result.stdout


def test_analyze_of_a_bundle_of_bundles_writes_one_report_per_node(tmp_path):
    outer = tmp_path / "case-1234.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        for host in ("node1", "node2"):
            text = PY.format(s=1).replace("ovs-node1", f"ovs-{host}")
            inner = gzip.compress(tar_bytes({"var/log/ovs/lib.log": text}))
            zf.writestr(f"ovs-{host}-20170314102205-logs.tar.gz", inner)
        zf.writestr("README.txt", "Bundles of the cluster, as asked in the ticket.\n")
    result = cli("analyze", str(outer), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    for host in ("node1", "node2"):
        doc = json.loads((tmp_path / "out" / f"ovs-{host}-20170314102205-logs" / "findings.json").read_text())
        assert doc["bundle"]["hosts"] == [f"ovs-{host}"]
    top = json.loads((tmp_path / "out" / "findings.json").read_text())
    nodes = [n["host"] for n in top["sections"]["cluster"]["nodes"]]
    assert nodes == ["ovs-node1", "ovs-node2"], "the cluster of the nodes; the outer archive held no log of its own"
    assert any("README.txt" in w for w in doc["bundle"]["warnings"])


def test_a_bundle_with_no_log_lines_and_no_node_bundles_is_not_said_to_have_node_bundles(tmp_path, rules):
    from analyzer.pipeline.nodes import analyze_nodes

    bundle = tmp_path / "ovs-n-logs.tar"
    bundle.write_bytes(tar_bytes({"var/log/ovs/notes.log": "welcome\n"}))  # an OVS path, no log line
    ((folder, analysis),) = analyze_nodes(bundle, rules)
    assert folder is None
    assert not [w for w in analysis.bundle.warnings if "node bundles" in w]


def test_caps_are_set_from_the_command_line_and_hitting_one_is_a_warning(tmp_path):
    bundle = tmp_path / "ovs-n-logs.tar"
    bundle.write_bytes(tar_bytes({f"var/log/m{i}.log": PY.format(s=i) for i in range(5)}))
    result = cli("analyze", str(bundle), "-o", str(tmp_path / "out"), "--cap", "members=3")
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "out" / "findings.json").read_text())
    assert doc["bundle"]["members"] == 3 and "more than 3 members: the rest was not read" in doc["bundle"]["warnings"]
    assert cli("analyze", str(bundle), "--cap", "speed=9").returncode == 2


def test_an_archive_with_no_files_is_one_line_and_exit_2(tmp_path):
    bundle = tmp_path / "ovs-n-logs.tar"
    bundle.write_bytes(tar_bytes({}))
    result = cli("analyze", str(bundle), "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and "nothing to analyze" in result.stderr and result.stderr.count("\n") == 1


def test_findings_json_of_a_damaged_bundle_follows_the_schema_and_locates_the_damage(tmp_path):
    import jsonschema

    data = gzip.compress(tar_bytes({"var/log/ovs/lib.log": PY.format(s=1) * 2000, "var/log/syslog": "x\n"}))
    bundle = tmp_path / "ovs-n-logs.tar.gz"
    bundle.write_bytes(data[: len(data) // 2])
    result = cli("analyze", str(bundle), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "out" / "findings.json").read_text())
    jsonschema.validate(doc, SCHEMA)
    assert any("damaged inside member var/log/ovs/lib.log" in w for w in doc["bundle"]["warnings"])


def test_hostile_member_names_never_write_outside_the_output_folder(tmp_path):
    from tests.reading.test_hostile_archives import raw_tar, special

    evil = PY.format(s=1).encode()
    members = [(special("../../escaped.log", b"0", data=evil), evil),
               (special("/tmp/abs-escape.log", b"0", data=evil), evil),
               (special("var/log/link.log", b"2", "/etc/passwd"), b""),
               (special("var/log/ovs/lib.log", b"0", data=evil), evil)]
    bundle = tmp_path / "in" / "ovs-n-logs.tar"
    bundle.parent.mkdir()
    bundle.write_bytes(raw_tar(members))
    before = {p for p in tmp_path.rglob("*")}
    result = cli("analyze", str(bundle), "-o", str(tmp_path / "out"), cwd=tmp_path / "in")
    assert result.returncode == 0, result.stderr
    created = {p for p in tmp_path.rglob("*")} - before
    assert all(p.is_relative_to(tmp_path / "out") for p in created)
    assert not any(p.name in ("escaped.log", "abs-escape.log") for p in created)
    doc = json.loads((tmp_path / "out" / "findings.json").read_text())
    assert any("unsafe names skipped" in w for w in doc["bundle"]["warnings"])


def test_parse_of_a_bundle_of_bundles_writes_each_node_beside_the_logs_found_next_to_them(tmp_path):
    outer = tmp_path / "cluster.tar"
    inner = gzip.compress(tar_bytes({"var/log/ovs/lib.log": PY.format(s=1)}))
    loose = {"var/log/ovs/lib.log": PY.format(s=2)}  # the uploader's own node, unpacked beside the others
    outer.write_bytes(tar_bytes({"ovs-a-logs.tar.gz": inner, "ovs-b-logs.tar.gz": inner, **loose}))
    result = cli("parse", str(outer), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.parquet"))
    assert written == ["cluster/events.parquet", "ovs-a-logs/events.parquet", "ovs-b-logs/events.parquet"]
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["cluster", "ovs-a-logs", "ovs-b-logs"]
