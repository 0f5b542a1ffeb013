"""Secrets never leave the bundle, `--redact` pseudonyms are stable and private, and embedded data stays data."""

from __future__ import annotations

import html.parser
import json
import stat

import polars as pl
import pytest

from analyzer.outputs.redact import Redactor, scrub
from analyzer.outputs.report import (
    REDACTION_MAP,
    embed_json,
    findings_document,
    render_html,
    timeline_model,
    write_outputs,
)
from analyzer.parsing.secrets import MASK, mask_key_lines, mask_record_secrets, mask_secrets
from analyzer.pipeline.analysis import analyze
from tests.conftest import SAMPLE, cli

CELERY = ("Mar 14 10:22:07 ovs-node1 celery[23011]: [2017-03-14 10:22:07,051: ERROR/MainProcess] consumer: "
          "Cannot connect to amqp://ovs:S3cretPw@10.100.1.11:5672//: [Errno 111] Connection refused. "
          "config password=Hunter22 api_key: AKIA1234\n")
VOLUMEDRIVER = ("2017-03-14 10:22:05 046812 +0100 - ovs-node1 - 18332/0x00007f8400994700 - volumedriverfs/Volume - "
                "00000000000a1b2c - error - write: No space left on device (peer 10.100.1.11, mac 52:54:00:ab:cd:ef)\n")
SECRETS = ("S3cretPw", "Hunter22", "AKIA1234")
IDENTIFIERS = ("ovs-node1", "10.100.1.11", "52:54:00:ab:cd:ef")
OUTPUTS = ("report.html", "findings.json", "findings.csv", "summary.md")


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("Cannot connect to amqp://ovs:S3cretPw@10.0.0.1:5672//", f"Cannot connect to amqp://ovs:{MASK}@10.0.0.1:5672//"),
        ("login password=Hunter22 user=ovs", f"login password={MASK} user=ovs"),
        ('{"password": "Hunter22", "user": "ovs"}', f'{{"password": "{MASK}", "user": "ovs"}}'),
        ("db_passwd: 'x y'", f"db_passwd: '{MASK}'"),
        ("secret_key=abc&next=1", f"secret_key={MASK}&next=1"),
        ("Authorization: Bearer eyJhbGciOi.x.y", f"Authorization: Bearer {MASK}"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----\nnext",
         f"-----BEGIN RSA PRIVATE KEY----- {MASK}\nnext"),
    ],
    ids=["url", "pair", "json", "quoted", "secret-key", "auth-header", "private-key"],
)
def test_secrets_are_masked_and_the_rest_of_the_line_kept(line, masked):
    assert mask_secrets(line) == masked
    assert mask_secrets(masked) == masked, "masked text is left as it is: a cluster report scrubs it again"


@pytest.mark.parametrize("line", [
    "2017-03-14 10:22:05 046812 +0100 - ovs-node1 - 18332/0x00007f8400994700 - error - write failed",
    "Key /ovs/framework/hosts/abc/ports not found; bypass=1",
    "Connected to amqp://ovs:**@",
])
def test_ordinary_log_text_is_left_alone(line):
    assert mask_secrets(line) == line


@pytest.mark.parametrize(("lines", "masked"), [
    (["x", "-----BEGIN RSA PRIVATE KEY-----", "body1", "body2", "-----END RSA PRIVATE KEY-----", "y"],
     ["x", "-----BEGIN RSA PRIVATE KEY-----", MASK, MASK, "-----END RSA PRIVATE KEY-----", "y"]),
    (["body1", "body2", "-----END RSA PRIVATE KEY-----", "y"], [MASK, MASK, "-----END RSA PRIVATE KEY-----", "y"]),
    (["x", "-----BEGIN EC PRIVATE KEY-----", "body1"], ["x", "-----BEGIN EC PRIVATE KEY-----", MASK]),
    (["x", "y"], ["x", "y"]),
], ids=["whole", "begins-inside", "ends-inside", "none"])
def test_the_lines_of_a_private_key_are_masked_by_their_place_alone(lines, masked):
    """An evidence line's context is lines of the file, where a key's body stands in lines of its own."""
    assert mask_key_lines(lines) == masked


def test_a_key_read_as_records_is_masked_across_the_chunks_of_its_member():
    raw = ["-----BEGIN RSA PRIVATE KEY-----", "body1", "body2", "-----END RSA PRIVATE KEY-----", "after"]
    events = pl.DataFrame({"raw": raw, "message": raw})
    first, in_key = mask_record_secrets(events.head(2))
    second, in_key = mask_record_secrets(events.tail(3), in_key)
    assert pl.concat([first, second])["raw"].to_list() == [
        f"-----BEGIN RSA PRIVATE KEY----- {MASK}", MASK, MASK, "-----END RSA PRIVATE KEY-----", "after"]
    assert in_key is False


def test_pseudonyms_are_stable_and_known_hosts_are_replaced_inside_longer_names():
    redactor = Redactor()
    redactor.learn_hosts(["ovs-node1", "ovs-node10"])
    text = redactor("ovs-node1-20170314102205-logs.tar.gz: ovs-node10 at 10.0.0.1, again 10.0.0.1, fe80::1, 10:22:05")
    assert text == "host-1-20170314102205-logs.tar.gz: host-2 at ip-1, again ip-1, ip-2, 10:22:05"
    assert redactor("ovs-node1 10.0.0.1") == "host-1 ip-1", "the same value gives the same token on every call"
    assert redactor("OVS-NODE1") == "host-3", "another spelling, its own token: the map gives every line back exactly"


def test_secrets_are_masked_in_every_output(make_bundle, rules, tmp_path):
    bundle = make_bundle({"var/log/syslog": CELERY, "var/log/ovs/volumedriver/vpool1.log": VOLUMEDRIVER})
    write_outputs(analyze(bundle, rules), tmp_path, {})
    for name in OUTPUTS:
        text = (tmp_path / name).read_text()
        assert not [s for s in SECRETS if s in text], name
    assert "amqp://ovs:********@10.100.1.11" in (tmp_path / "report.html").read_text()


def test_redact_pseudonymizes_every_output_and_keeps_the_map_private_and_separate(make_bundle, tmp_path):
    bundle = make_bundle({"var/log/syslog": CELERY, "var/log/ovs/volumedriver/vpool1.log": VOLUMEDRIVER})
    result = cli("analyze", str(bundle), "-o", str(tmp_path / "out"), "--redact")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    for name in OUTPUTS:
        text = (out / name).read_text()
        assert not [i for i in IDENTIFIERS if i.lower() in text.lower()], name
        assert REDACTION_MAP not in text, f"{name} must not point at the private map"
        assert not [s for s in SECRETS if s in text], name
    mapping = json.loads((out / REDACTION_MAP).read_text())["tokens"]
    assert {"ovs-node1", "10.100.1.11", "52:54:00:ab:cd:ef"} <= set(mapping.values())
    assert stat.S_IMODE((out / REDACTION_MAP).stat().st_mode) == 0o600
    doc = json.loads((out / "findings.json").read_text())
    node = next(token for token, value in mapping.items() if value == "ovs-node1")
    assert doc["bundle"]["hosts"] == [node] and doc["bundle"]["file"] == f"{node}-20170314102205-logs.tar.gz"
    assert all(node in (out / name).read_text() for name in OUTPUTS), "one token for one host in every output"
    assert all(r.startswith("https://github.com/") for f in doc["findings"] for r in f["references"]), \
        "rule references are ours, not the customer's, and stay links"


def test_one_redactor_gives_the_same_tokens_to_the_bundles_of_one_run(make_bundle, rules, tmp_path):
    redactor = Redactor()
    first = make_bundle({"var/log/ovs/volumedriver/vpool1.log": VOLUMEDRIVER},
                        name="ovs-node1-20170314102205-logs.tar.gz")
    second = make_bundle({"var/log/syslog": CELERY.replace("ovs-node1", "ovs-node2") + CELERY},
                         name="ovs-node2-20170314102205-logs.tar.gz")
    docs = []
    for bundle, out in ((first, tmp_path / "a"), (second, tmp_path / "b")):
        write_outputs(analyze(bundle, rules), out, {}, redactor=redactor)
        docs.append((out / "findings.json").read_text())
    token = redactor.mapping["10.100.1.11"]
    assert all(token in doc for doc in docs)
    assert redactor.mapping["ovs-node1"] != redactor.mapping["ovs-node2"]
    assert redactor.mapping["ovs-node1"] in docs[0] and redactor.mapping["ovs-node1"] in docs[1]


def test_the_nodes_of_a_bundle_of_bundles_share_one_pseudonym_mapping(tmp_path):
    from tests.conftest import build_tar

    line = "2017-03-14 10:22:05 04700 +0100 - {host} - 1/2 - lib/x - 1 - ERROR - cannot reach {ips}\n"
    first = build_tar(tmp_path / "ovs-node1-20170314102205-logs.tar.gz", {
        "var/log/ovs/lib.log": line.format(host="ovs-node1", ips="10.0.0.1 10.0.0.2 10.0.0.3")})
    second = build_tar(tmp_path / "ovs-node2-20170314102205-logs.tar.gz", {
        "var/log/ovs/lib.log": line.format(host="ovs-node2", ips="10.0.0.3")})
    outer = build_tar(tmp_path / "cluster-logs.tar", {first.name: first.read_bytes(), second.name: second.read_bytes()},
                      compress=False)
    result = cli("analyze", str(outer), "-o", str(tmp_path / "out"), "--redact")
    assert result.returncode == 0, result.stderr
    maps = [json.loads(path.read_text())["tokens"] for path in sorted((tmp_path / "out").rglob(REDACTION_MAP))]
    assert len(maps) == 2
    token_of = [{value: token for token, value in m.items()} for m in maps]
    assert token_of[0]["10.0.0.3"] == token_of[1]["10.0.0.3"], "one address, one token in every node's outputs"
    assert token_of[1]["ovs-node2"] != token_of[1]["ovs-node1"] == token_of[0]["ovs-node1"]


class _DataBlock(html.parser.HTMLParser):
    """Collects the text of `<script type="application/json">` the way a browser's tokenizer sees it."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.blocks: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.inside = tag == "script" and ("type", "application/json") in attrs
        if self.inside:
            self.blocks.append("")

    def handle_endtag(self, tag):
        self.inside = False

    def handle_data(self, data):
        if self.inside:
            self.blocks[-1] += data


@pytest.mark.parametrize("payload", ["</script><script>alert(1)</script>", "<!--<script>", "a\u2028b\u2029c",
                                     "&amp;\"'"])
def test_embedded_json_cannot_break_out_of_its_script_element(payload):
    value = {"lane": payload, "nested": [payload]}
    embedded = str(embed_json(value))
    assert "<" not in embedded and "\u2028" not in embedded and "\u2029" not in embedded
    page = f'<script type="application/json">{embedded}</script><p>after</p>'
    parser = _DataBlock()
    parser.feed(page)
    assert [json.loads(block) for block in parser.blocks] == [value]


def test_a_hostile_host_name_reaches_the_page_data_as_data(make_bundle, rules):
    hostile = "<script>x</script>"
    bundle = make_bundle({"var/log/ovs/volumedriver/vpool1.log": VOLUMEDRIVER})
    analysis = analyze(bundle, rules)
    analysis.counts = analysis.counts.with_columns(analysis.counts["host"].str.replace("ovs-node1", hostile))
    doc = scrub(findings_document(analysis, "now", {}))
    page = render_html(doc, timeline_model(analysis, doc))
    parser = _DataBlock()
    parser.feed(page)
    assert json.loads(parser.blocks[0])["lanes"][0]["host"] == hostile
    assert hostile not in page


def test_what_only_looks_like_an_address_or_a_host_is_left_alone_and_file_names_keep_their_shape():
    redactor = Redactor()
    redactor.learn_hosts(["ovs-node1"])
    kept = ["status installed openvstorage:amd64 2.7.9.1-1", "upgrade openvstorage-backend:amd64 1.7.8 1.7.9.1",
            "version: 6.16.3.1", "see https://github.com/openvstorage/volumedriver/issues/322"]
    assert [redactor(t) for t in kept] == kept
    assert redactor("var/log/rabbitmq/rabbit@ovs-node1.log") == "var/log/rabbitmq/rabbit@host-1.log"
    assert redactor("partitions [rabbit@ovs-node2], peer 10.0.0.1, ops@example.com") == \
        "partitions [rabbit@host-2], peer ip-1, email-1"


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
    mapping = json.loads((out / REDACTION_MAP).read_text())["tokens"]
    assert {"ovs-node1", "10.100.1.1"} <= set(mapping.values())
    for name in OUTPUTS:
        data = (out / name).read_bytes()
        assert not [v for v in mapping.values() if v.encode() in data], name


def test_versions_references_and_rule_texts_stay_as_they_are(redacted_sample):
    plain, out = (json.loads((folder / "findings.json").read_text()) for folder in redacted_sample)
    assert out["sections"]["identity"]["versions"] == plain["sections"]["identity"]["versions"]
    assert out["sections"]["identity"]["versions"]["openvstorage"] == "2.7.9.1-1"
    for mine, theirs in zip(out["findings"], plain["findings"], strict=True):
        assert {k: mine[k] for k in ("rule_id", "title", "description", "remediation", "references")} == \
            {k: theirs[k] for k in ("rule_id", "title", "description", "remediation", "references")}
        assert mine["versions"] == theirs["versions"]
    links = [e["link"] for c in out["root_causes"] for e in c["effects"]]
    assert links == [e["link"] for c in plain["root_causes"] for e in c["effects"]]
    assert "https://host-" not in (redacted_sample[1] / "report.html").read_text()


def test_the_private_map_gives_back_every_redacted_evidence_line_exactly(redacted_sample):
    import re

    plain, out = (json.loads((folder / "findings.json").read_text()) for folder in redacted_sample)
    mapping = json.loads((redacted_sample[1] / REDACTION_MAP).read_text())["tokens"]
    token = re.compile(r"\b(?:host|ip|mac|email)-\d+\b")
    restore = lambda text: token.sub(lambda m: mapping.get(m[0], m[0]), text)  # noqa: E731
    lines = [(e["raw"], o["raw"]) for f, g in zip(out["findings"], plain["findings"], strict=True)
             for e, o in zip(f["evidence"], g["evidence"], strict=True)]
    assert lines and any(r != o for r, o in lines), "some evidence was redacted"
    assert [restore(r) for r, _ in lines] == [o for _, o in lines]
