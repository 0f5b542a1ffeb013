"""`--redact`: keyed pseudonyms, one private map per run that gives every redacted line back exactly,
in the outputs of `analyze`, `parse` and `diff` (a triage's: tests/batch/test_redact_batch.py)."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from datetime import datetime

import polars as pl
import pytest

from analyzer.outputs.redact import REDACTION_MAP, Redactor, read_map, unredact
from analyzer.outputs.report import write_outputs
from analyzer.pipeline.analysis import analyze
from analyzer.pipeline.event_table import bundle_events
from samples.make_sample import CET, write_sample
from tests.conftest import ROOT, SAMPLE, build_tar, cli

KEY = bytes(32)
PSEUDONYM = re.compile(r"(?:host|ip|mac|email)-[a-z2-7]{8}")
CELERY = ("Mar 14 10:22:07 ovs-node1 celery[23011]: [2017-03-14 10:22:07,051: ERROR/MainProcess] consumer: "
          "Cannot connect to amqp://ovs:S3cretPw@10.100.1.11:5672//: [Errno 111] Connection refused.\n")
VOLUMEDRIVER = ("2017-03-14 10:22:05 046812 +0100 - ovs-node1 - 18332/0x00007f8400994700 - volumedriverfs/Volume - "
                "00000000000a1b2c - error - write: No space left on device (peer 10.100.1.11, mac 52:54:00:ab:cd:ef)\n")
OUTPUTS = ("report.html", "findings.json", "findings.csv", "summary.md")


def token_of(out) -> dict[str, str]:
    """original -> pseudonym, from the map of the run that wrote `out`."""
    return {value: token for token, value in read_map(out / REDACTION_MAP).items()}


def cli_stdin(text: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command with `text` on its standard input."""
    return subprocess.run([sys.executable, "-m", "analyzer.cli.app", *args], input=text, capture_output=True,
                          text=True, cwd=ROOT, timeout=60)


def test_a_pseudonym_is_the_run_key_and_the_value_alone_whoever_gives_it():
    """Two workers of one run, one knowing a host up front and one learning it late, give the same
    pseudonyms without asking each other; another run (key) gives other ones."""
    first, second = Redactor(KEY, ["ovs-node1"]), Redactor(KEY)
    line = "ovs-node1 lost 10.0.0.1 (52:54:00:ab:cd:ef, ops@example.com)"
    second.learn(["ovs-node1"])
    assert first(line) == second(line)
    assert [m[0].split("-")[0] for m in PSEUDONYM.finditer(first(line))] == ["host", "ip", "mac", "email"]
    assert Redactor(bytes(range(32)))("10.0.0.1") != first("10.0.0.1"), "another run, other pseudonyms"
    first.learn(["10.0.0.9"])
    assert first("10.0.0.9").startswith("ip-"), "the kind is the value's, not how it was learned"


def test_known_names_are_replaced_inside_longer_names_and_long_ids_even_glued_to_a_word():
    r = Redactor(KEY, ["ovs-node1", "ovs-node10", "pZ4T6ndbbgdUp2y7"])
    node1, node10, machine = r("ovs-node1"), r("ovs-node10"), r("pZ4T6ndbbgdUp2y7")
    assert r("ovs-node1-20170314102205-logs.tar.gz: ovs-node10") == f"{node1}-20170314102205-logs.tar.gz: {node10}"
    assert r("OVS-NODE1") not in (node1, "OVS-NODE1"), "another spelling, its own pseudonym: lines come back exactly"
    assert r("hosts/vpool1pZ4T6ndbbgdUp2y7/config") == f"hosts/vpool1{machine}/config"
    assert r("ovs-node1x") == "ovs-node1x", "a short name glued to a word is another word"


def test_redacting_a_redacted_text_changes_nothing():
    r = Redactor(KEY, ["ovs-node1", "host"])  # a host called `host` does not eat pseudonyms
    once = r("ovs-node1 at 10.0.0.1 asks host rabbit@ovs-node2 about fe80::1")
    assert "host " not in once and r(once) == once and Redactor()(once) == once


def test_what_only_looks_like_an_identifier_is_left_alone_and_file_names_keep_their_shape():
    r = Redactor(KEY, ["ovs-node1"])
    kept = ["status installed openvstorage:amd64 2.7.9.1-1", "upgrade openvstorage-backend:amd64 1.7.8 1.7.9.1",
            "version: 6.16.3.1", "see https://github.com/openvstorage/volumedriver/issues/322",
            "=INFO REPORT==== 14-Mar-2017::08:23:42 ===", "consul at localhost:8500 and 127.0.0.1"]
    assert [r(t) for t in kept] == kept
    assert r("var/log/rabbitmq/rabbit@ovs-node1.log") == f"var/log/rabbitmq/rabbit@{r('ovs-node1')}.log"
    assert re.fullmatch(r"partitions \[rabbit@host-\w{8}\], peer ip-\w{8}, email-\w{8}",
                        r("partitions [rabbit@ovs-node2], peer 10.0.0.1, ops@example.com"))


def test_records_are_redacted_as_their_lines_would_be_one_by_one():
    """`parse --redact` redacts a table in the Rust engine, a distinct run of text at a time: the
    same result, and the same map, as the text redactor on every line."""
    events = bundle_events(SAMPLE)
    hosts = events["host"].unique().to_list()
    table, lines = Redactor(KEY, hosts), Redactor(KEY, hosts)
    columns = ["host", "source", "message", "raw"]
    done = table.records(events, columns)
    for column in columns:
        assert done[column].to_list() == [lines(v) if v else v for v in events[column].to_list()], column
    assert table.tokens == lines.tokens and len(table.tokens) > 3


def test_redact_pseudonymizes_every_output_and_keeps_the_map_private_and_separate(make_bundle, tmp_path):
    bundle = make_bundle({"var/log/syslog": CELERY, "var/log/ovs/volumedriver/vpool1.log": VOLUMEDRIVER})
    result = cli("analyze", str(bundle), "-o", str(tmp_path / "out"), "--redact")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    for name in OUTPUTS:
        text = (out / name).read_text()
        assert not [i for i in ("ovs-node1", "10.100.1.11", "52:54:00:ab:cd:ef") if i.lower() in text.lower()], name
        assert REDACTION_MAP not in text, f"{name} must not point at the private map"
        assert "S3cretPw" not in text
    tokens = token_of(out)
    assert {"ovs-node1", "10.100.1.11", "52:54:00:ab:cd:ef"} <= set(tokens)
    assert stat.S_IMODE((out / REDACTION_MAP).stat().st_mode) == 0o600
    doc = json.loads((out / "findings.json").read_text())
    node = tokens["ovs-node1"]
    assert doc["bundle"]["hosts"] == [node] and doc["bundle"]["file"] == f"{node}-20170314102205-logs.tar.gz"
    assert all(node in (out / name).read_text() for name in OUTPUTS), "one pseudonym for one host in every output"
    assert all(r.startswith("https://github.com/") for f in doc["findings"] for r in f["references"]), \
        "rule references are ours, not the customer's, and stay links"


def test_one_redactor_gives_the_bundles_of_one_run_the_same_pseudonyms(make_bundle, rules, tmp_path):
    redactor = Redactor()
    first = make_bundle({"var/log/ovs/volumedriver/vpool1.log": VOLUMEDRIVER},
                        name="ovs-node1-20170314102205-logs.tar.gz")
    second = make_bundle({"var/log/syslog": CELERY.replace("ovs-node1", "ovs-node2") + CELERY},
                         name="ovs-node2-20170314102205-logs.tar.gz")
    docs = []
    for bundle, out in ((first, tmp_path / "a"), (second, tmp_path / "b")):
        write_outputs(analyze(bundle, rules), out, {}, redactor=redactor)
        docs.append((out / "findings.json").read_text())
    address, node1 = redactor("10.100.1.11"), redactor("ovs-node1")
    assert all(address in doc and node1 in doc for doc in docs)
    assert redactor("ovs-node2") != node1
    assert not list(tmp_path.rglob(REDACTION_MAP)), "the command writes the run's one map, once (`seal`)"


def test_the_nodes_of_a_bundle_of_bundles_share_one_map_at_the_top_of_the_output_folder(tmp_path):
    line = "2017-03-14 10:22:05 04700 +0100 - {host} - 1/2 - lib/x - 1 - ERROR - cannot reach {ips}\n"
    first = build_tar(tmp_path / "ovs-node1-20170314102205-logs.tar.gz", {
        "var/log/ovs/lib.log": line.format(host="ovs-node1", ips="10.0.0.1 10.0.0.2 10.0.0.3 ovs-node2")})
    second = build_tar(tmp_path / "ovs-node2-20170314102205-logs.tar.gz", {
        "var/log/ovs/lib.log": line.format(host="ovs-node2", ips="10.0.0.3 ovs-node1")})
    outer = build_tar(tmp_path / "cluster-logs.tar", {first.name: first.read_bytes(), second.name: second.read_bytes()},
                      compress=False)
    out = tmp_path / "out"
    result = cli("analyze", str(outer), "-o", str(out), "--redact")
    assert result.returncode == 0, result.stderr
    assert list(out.rglob(REDACTION_MAP)) == [out / REDACTION_MAP]
    tokens = token_of(out)
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == sorted(f"{tokens[h]}-20170314102205-logs" for h in ("ovs-node1", "ovs-node2")), \
        "a node's folder is named by its pseudonym"
    docs = [(out / folder / "findings.json").read_text() for folder in folders]
    assert all(tokens["10.0.0.3"] in doc and tokens["ovs-node1"] in doc and tokens["ovs-node2"] in doc
               for doc in docs), "one address, one host, one pseudonym in every node's outputs"


@pytest.fixture(scope="module")
def redacted_sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("redacted")
    plain, secret = out / "plain", out / "redacted"
    for target, extra in ((plain, ()), (secret, ("--redact",))):
        result = cli("analyze", str(SAMPLE), "-o", str(target), *extra)
        assert result.returncode == 0, result.stderr
    return plain, secret


def test_no_identifier_of_the_map_is_left_in_any_byte_of_any_output(redacted_sample):
    _, out = redacted_sample
    tokens = token_of(out)
    assert {"ovs-node1", "10.100.1.1"} <= set(tokens)
    for name in OUTPUTS:
        data = (out / name).read_bytes()
        assert not [v for v in tokens if v.encode() in data], name


def test_versions_references_and_rule_texts_stay_as_they_are(redacted_sample):
    plain, out = (json.loads((folder / "findings.json").read_text()) for folder in redacted_sample)
    assert out["sections"]["identity"]["versions"] == plain["sections"]["identity"]["versions"]
    assert out["sections"]["identity"]["versions"]["openvstorage"] == "2.7.9.1-1"
    fields = ("rule_id", "title", "description", "remediation", "references", "versions")
    for mine, theirs in zip(out["findings"], plain["findings"], strict=True):
        assert {k: mine[k] for k in fields} == {k: theirs[k] for k in fields}
    links = [e["link"] for c in out["root_causes"] for e in c["effects"]]
    assert links == [e["link"] for c in plain["root_causes"] for e in c["effects"]]
    assert "https://host-" not in (redacted_sample[1] / "report.html").read_text()


def test_the_private_map_gives_back_every_redacted_evidence_line_exactly(redacted_sample):
    plain, out = (json.loads((folder / "findings.json").read_text()) for folder in redacted_sample)
    tokens = read_map(redacted_sample[1] / REDACTION_MAP)
    lines = [(e["raw"], o["raw"]) for f, g in zip(out["findings"], plain["findings"], strict=True)
             for e, o in zip(f["evidence"], g["evidence"], strict=True)]
    assert lines and any(r != o for r, o in lines), "some evidence was redacted"
    assert [unredact(r, tokens) for r, _ in lines] == [o for _, o in lines]


def test_unredact_turns_a_redacted_file_or_standard_input_back_into_the_original(redacted_sample):
    plain, out = redacted_sample
    private = str(out / REDACTION_MAP)
    restored = cli("unredact", private, str(out / "findings.csv"))
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout == (plain / "findings.csv").read_text(), "the whole table, byte for byte"
    assert restored.stdout != (out / "findings.csv").read_text()
    token = token_of(out)["ovs-node1"]
    piped = cli_stdin(f"{token} lost rabbit@{token}\n", "unredact", private)
    assert piped.stdout == "ovs-node1 lost rabbit@ovs-node1\n"
    assert "Usage: ovs-analyzer unredact [OPTIONS] MAP [FILE]" in cli("unredact", "--help").stdout
    assert cli("unredact", str(out / "findings.json")).returncode == 2, "a file that is no map: exit 2"


def test_parse_redact_writes_a_table_with_no_identifier_and_its_map_beside_it(tmp_path):
    plain, out = tmp_path / "plain", tmp_path / "redacted"
    assert cli("parse", str(SAMPLE), "-o", str(plain)).returncode == 0
    result = cli("parse", str(SAMPLE), "-o", str(out), "--redact")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["events.parquet", REDACTION_MAP]
    tokens = read_map(out / REDACTION_MAP)
    assert {"ovs-node1", "10.100.1.1"} <= set(tokens.values())
    before, after = pl.read_parquet(plain / "events.parquet"), pl.read_parquet(out / "events.parquet")
    text = [c for c, kind in after.schema.items() if kind == pl.String]
    leaks = after.select(pl.any_horizontal(pl.col(text).str.contains_any(list(tokens.values()))).sum()).item()
    assert leaks == 0, "no value of the map in any text of any record"
    assert after.drop(text).equals(before.drop(text)), "times, lines, levels: as they were"
    for column in ("producer", "format", "parse_status"):
        assert after[column].equals(before[column]), "the tool's own words are not redacted"
    assert [unredact(r, tokens) for r in after["raw"].to_list()] == before["raw"].to_list(), \
        "the map gives back every record exactly"


@pytest.fixture(scope="module")
def fixed_later(tmp_path_factory):
    """The sample's node two days later, healthy."""
    path = tmp_path_factory.mktemp("later") / "ovs-node1-20170316102205-logs.tar.gz"
    write_sample(path, scenario="healthy", start=datetime(2017, 3, 16, 8, 20, tzinfo=CET))
    return path


def test_diff_redact_gives_a_node_one_pseudonym_on_both_sides(fixed_later, tmp_path):
    plain = cli("diff", str(SAMPLE), str(fixed_later), "--json")
    result = cli("diff", str(SAMPLE), str(fixed_later), "--json", "--redact", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    diff, before = json.loads(result.stdout), json.loads(plain.stdout)
    node = token_of(tmp_path)["ovs-node1"]
    assert diff["old_bundle"]["hosts"] == diff["new_bundle"]["hosts"] == [node]
    assert diff["summary"] == before["summary"], "findings still match across the sides"
    assert json.loads((tmp_path / "diff.json").read_text()) == diff
    assert "ovs-node1" not in (tmp_path / "diff.md").read_text() + result.stdout


def test_diff_redact_needs_a_folder_for_its_map(fixed_later):
    result = cli("diff", str(SAMPLE), str(fixed_later), "--redact")
    assert result.returncode == 2 and "--redact needs --out DIR" in result.stderr


def test_an_unredacted_file_beside_the_outputs_fails_the_run_loudly_and_is_named(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.md").write_text("ovs-node1 was slow\n")  # an earlier run's, or the engineer's own
    result = cli("analyze", str(SAMPLE), "-o", str(out), "--redact")
    assert result.returncode == 2
    assert "notes.md (host-" in result.stderr and f"do not share {out}" in result.stderr
    assert "ovs-node1" not in result.stderr, "the error names the pseudonym, not the name"
    assert (out / REDACTION_MAP).is_file(), "the outputs hold pseudonyms: their map is written all the same"


def test_diff_redact_will_not_compare_the_outputs_of_two_redacted_runs(redacted_sample, tmp_path):
    other = tmp_path / "other"
    assert cli("analyze", str(SAMPLE), "-o", str(other), "--redact").returncode == 0
    result = cli("diff", str(redacted_sample[1]), str(other), "--redact", "-o", str(tmp_path / "diff"))
    assert result.returncode == 2 and "maps of two redacted runs" in result.stderr
