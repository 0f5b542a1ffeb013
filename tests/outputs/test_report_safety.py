"""Secrets never leave the bundle, and embedded data stays data (`--redact`: tests/outputs/test_redact.py)."""

from __future__ import annotations

import html.parser
import json

import polars as pl
import pytest

from analyzer.outputs.redact import scrub
from analyzer.outputs.report import embed_json, findings_document, render_html, timeline_model, write_outputs
from analyzer.parsing.secrets import MASK, mask_key_lines, mask_record_secrets, mask_secrets
from analyzer.pipeline.analysis import analyze

CELERY = ("Mar 14 10:22:07 ovs-node1 celery[23011]: [2017-03-14 10:22:07,051: ERROR/MainProcess] consumer: "
          "Cannot connect to amqp://ovs:S3cretPw@10.100.1.11:5672//: [Errno 111] Connection refused. "
          "config password=Hunter22 api_key: AKIA1234\n")
VOLUMEDRIVER = ("2017-03-14 10:22:05 046812 +0100 - ovs-node1 - 18332/0x00007f8400994700 - volumedriverfs/Volume - "
                "00000000000a1b2c - error - write: No space left on device (peer 10.100.1.11, mac 52:54:00:ab:cd:ef)\n")
SECRETS = ("S3cretPw", "Hunter22", "AKIA1234")
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


def test_secrets_are_masked_in_every_output(make_bundle, rules, tmp_path):
    bundle = make_bundle({"var/log/syslog": CELERY, "var/log/ovs/volumedriver/vpool1.log": VOLUMEDRIVER})
    write_outputs(analyze(bundle, rules), tmp_path, {})
    for name in OUTPUTS:
        text = (tmp_path / name).read_text()
        assert not [s for s in SECRETS if s in text], name
    assert "amqp://ovs:********@10.100.1.11" in (tmp_path / "report.html").read_text()


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
