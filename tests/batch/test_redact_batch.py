"""`triage --redact` of a three-node cluster: one map for the run, merged from worker processes that
share nothing but the run's key, and no identifier of it in any byte or name of any output (the
bundles' reports, the cluster report, the index, a diff continuing the run, a parsed table)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from analyzer.batch.jobs import plan, run_bundle
from analyzer.outputs.redact import REDACTION_MAP, Redactor, named_hosts, read_map, unredact
from analyzer.parsing.secrets import MASK
from samples.make_sample import write_cluster
from tests.conftest import build_tar, cli, open_report

HOSTS = ("ovs-node1", "ovs-node2", "ovs-node3")
RULE_FIELDS = ("rule_id", "title", "description", "remediation", "references", "versions")
SCREENSHOT = Path("/tmp/redacted-cluster.png")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A three-node cluster's bundles, triaged plainly and with --redact; a redacted diff of node1's
    redacted report against its bundle; node1's bundle parsed with --redact."""
    root = tmp_path_factory.mktemp("redacted-cluster")
    manifests = write_cluster(root / "in", hosts=HOSTS)
    node1 = root / "in" / manifests[0]["archive"]
    runs = {"in": root / "in", "node1": node1}
    for name, extra in (("plain", ()), ("triage", ("--redact",))):
        result = cli("triage", str(root / "in"), "-o", str(root / name), "-j", "2", *extra)
        assert result.returncode == 0, result.stderr
        runs[name] = root / name
    own = bundle_folder(runs["triage"], "ovs-node1")
    result = cli("diff", str(own), str(node1), "--redact", "-o", str(root / "diff"))
    assert result.returncode == 0, result.stderr
    result = cli("parse", str(node1), "-o", str(root / "parse"), "--redact")
    assert result.returncode == 0, result.stderr
    return {**runs, "diff": root / "diff", "parse": root / "parse"}


def token_of(out: Path) -> dict[str, str]:
    return {value: token for token, value in read_map(out / REDACTION_MAP).items()}


def bundle_folder(out: Path, host: str) -> Path:
    """A node's report folder, found through the index as an engineer would."""
    triage = json.loads((out / "triage.json").read_text())
    wanted = token_of(out).get(host, host) if (out / REDACTION_MAP).exists() else host
    return out / next(Path(r["report"]).parent for r in triage["bundles"] if r["host"] == wanted)


def outputs(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.is_file() and p.name != REDACTION_MAP)


def texts(path: Path) -> list[str]:
    """Every byte of an output as text; of a Parquet table, every text cell."""
    if path.suffix == ".parquet":
        table = pl.read_parquet(path)
        return [v for c, kind in table.schema.items() if kind == pl.String for v in table[c].drop_nulls()]
    return [path.read_bytes().decode("utf-8")]


@pytest.mark.parametrize("run", ["triage", "diff", "parse"])
def test_no_identifier_of_the_map_is_in_any_byte_or_name_of_any_output(runs, run):
    out = runs[run]
    values = list(token_of(out))
    assert len(values) >= 4, values
    names = [p.name for p in outputs(out)]
    expected = {"triage": {"report.html", "findings.json", "findings.csv", "summary.md", "index.html", "triage.json",
                           "triage.csv"},
                "diff": {"diff.json", "diff.md"}, "parse": {"events.parquet"}}[run]
    assert expected <= set(names)
    for path in outputs(out):
        relative = path.relative_to(out).as_posix()
        assert not [v for v in values if v in relative], relative
        assert not [v for v in values for text in texts(path) if v in text], relative
        assert "redaction-map" not in "".join(texts(path)), f"{relative} must not point at the private map"


def test_the_run_has_one_private_map_at_the_top_merged_from_its_workers(runs):
    out = runs["triage"]
    assert list(out.rglob(REDACTION_MAP)) == [out / REDACTION_MAP]
    assert (out / REDACTION_MAP).stat().st_mode & 0o077 == 0
    tokens = token_of(out)
    assert set(HOSTS) <= set(tokens) and {"10.101.1.1", "10.101.1.2", "10.101.1.3"} <= set(tokens)
    assert set(token_of(runs["diff"]).items()) >= set(tokens.items()), "the diff went on with the triage's run"


def test_each_node_keeps_one_pseudonym_in_every_output(runs):
    out = runs["triage"]
    tokens = token_of(out)
    pseudonyms = sorted(tokens[h] for h in HOSTS)
    triage = json.loads((out / "triage.json").read_text())
    assert sorted(r["host"] for r in triage["bundles"]) == pseudonyms
    [cluster] = triage["clusters"]
    assert sorted(cluster["hosts"]) == pseudonyms and set(cluster["name"].split("+")) == set(pseudonyms)
    folder = out / cluster["report"].removesuffix("/report.html")
    assert folder.name == cluster["name"], "the cluster's folder is named by pseudonyms"
    doc = json.loads((folder / "findings.json").read_text())
    assert doc["bundle"]["hosts"] == pseudonyms
    assert sorted(s["host"] for s in doc["sections"]["cluster"]["skew"]) == pseudonyms
    assert {h for i in doc["sections"]["cluster"]["incidents"] for h in i["hosts"]} <= set(pseudonyms)
    for host in HOSTS:
        token = tokens[host]
        own = bundle_folder(out, host)
        assert token in own.name
        places = [own / name for name in ("report.html", "findings.json", "findings.csv", "summary.md")]
        places += [folder / "report.html", folder / "findings.json", out / "index.html", out / "triage.csv"]
        assert all(token in p.read_text() for p in places), host
        assert json.loads((own / "findings.json").read_text())["bundle"]["hosts"] == [token]
    diff = json.loads((runs["diff"] / "diff.json").read_text())
    assert diff["old_bundle"]["hosts"] == diff["new_bundle"]["hosts"] == [tokens["ovs-node1"]]
    assert diff["summary"]["appeared"] == diff["summary"]["resolved"] == 0, \
        "the same node on both sides: its findings match"


def test_versions_references_and_rule_texts_are_those_of_the_plain_run(runs):
    plain, out = runs["plain"], runs["triage"]
    for host in HOSTS:
        before, after = (json.loads((bundle_folder(o, host) / "findings.json").read_text()) for o in (plain, out))
        assert after["sections"]["identity"]["versions"] == before["sections"]["identity"]["versions"]
        assert after["sections"]["identity"]["versions"]["openvstorage"]
        assert [{k: f[k] for k in RULE_FIELDS} for f in after["findings"]] == \
            [{k: f[k] for k in RULE_FIELDS} for f in before["findings"]]
        assert [e["link"] for c in after["root_causes"] for e in c["effects"]] == \
            [e["link"] for c in before["root_causes"] for e in c["effects"]]
    clusters = [json.loads(next((o / "clusters").glob("*/findings.json")).read_text()) for o in (plain, out)]
    assert sorted(json.dumps({k: f[k] for k in RULE_FIELDS}) for f in clusters[1]["findings"]) == \
        sorted(json.dumps({k: f[k] for k in RULE_FIELDS}) for f in clusters[0]["findings"])
    assert any(r.startswith("https://") for f in clusters[1]["findings"] for r in f["references"])


def test_the_map_gives_back_every_redacted_evidence_line_of_the_cluster_exactly(runs):
    tokens = read_map(runs["triage"] / REDACTION_MAP)
    plain, redacted = ([e["raw"] for f in json.loads(next((o / "clusters").glob("*/findings.json")).read_text())
                        ["findings"] for e in f["evidence"]] for o in (runs["plain"], runs["triage"]))
    assert sum(r not in plain for r in redacted) > 10, "many evidence lines were redacted"
    assert sorted(unredact(r, tokens) for r in redacted) == sorted(plain)


def test_a_peer_only_one_worker_knows_is_replaced_in_the_others_outputs_too(tmp_path):
    """node1's logs state a peer's name, node2's name it only in free text: node2's worker cannot
    know it is a host, so the parent's final check writes node2's outputs again with the run's map."""
    line = "2017-03-14 10:22:{s:02d} 04700 +0100 - {host} - 1/2 - lib/x - 1 - ERROR - {msg}\n"
    (tmp_path / "in").mkdir()
    build_tar(tmp_path / "in" / "ovs-node1-20170314102205-logs.tar.gz", {"var/log/ovs/lib.log": (
        line.format(s=1, host="ovs-node1", msg="cannot reach arakoon")
        + line.format(s=2, host="ovs-peer7", msg="peer says hello"))})
    build_tar(tmp_path / "in" / "ovs-node2-20170314102205-logs.tar.gz", {"var/log/ovs/lib.log": (
        line.format(s=3, host="ovs-node2", msg="lost contact with ovs-peer7 during rebalance"))})
    paths = sorted((tmp_path / "in").iterdir())
    alone = plan(paths, tmp_path / "alone", (), None, {}, Redactor(hosts=named_hosts(paths)))[1]
    [worker] = run_bundle(alone)
    assert "ovs-peer7" in (tmp_path / "alone" / worker.row["report"]).read_text(), "what one worker leaves"
    result = cli("triage", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "2", "--redact")
    assert result.returncode == 0, result.stderr
    peer = token_of(tmp_path / "out")["ovs-peer7"]
    report = (bundle_folder(tmp_path / "out", "ovs-node2") / "report.html").read_text()
    assert "ovs-peer7" not in report and f"lost contact with {peer}" in report


SECRETS = {  # every shape parsing/secrets.py masks, each with a value of its own
    "url": "cannot connect to amqp://ovs:UrlSecret01@10.0.0.1:5672//",
    "header": "request Authorization: Basic HeaderSecret02",
    "bearer": "request Authorization: Bearer BearerSecret03.x.y",
    "token-header": "request authorization: token TokenSecret04",
    "key": "bad key -----BEGIN RSA PRIVATE KEY-----\nKeySecret05\nKeySecret06\n-----END RSA PRIVATE KEY-----",
    **{f"pair-{name}": f"config {name}={name.title()}Secret{i:02d} user=ovs" for i, name in enumerate((
        "password", "passwd", "passphrase", "pwd", "secret", "secret_key", "client-secret", "api_key",
        "access_key", "auth_token", "token", "private_key", "credentials"), 10)},
    "json": 'config {"password": "JsonSecret30", "user": "ovs"}',
    "colon": "db_passwd: 'Quoted Secret31'",
    "yaml": "api-key: YamlSecret32",
}
#: A key read as lines of their own (no log format): its body is a secret by its place alone.
KEY_FILE = "-----BEGIN EC PRIVATE KEY-----\nFileKeySecret40\nFileKeySecret41\n-----END EC PRIVATE KEY-----\n"


def test_secrets_of_every_shape_are_in_no_output_of_any_command(tmp_path):
    line = "2017-03-14 10:22:{s:02d} 04700 +0100 - ovs-node1 - 1/2 - lib/x - 1 - ERROR - {msg}\n"
    (tmp_path / "in").mkdir()
    bundle = build_tar(tmp_path / "in" / "ovs-node1-20170314102205-logs.tar.gz", {
        "var/log/ovs/lib.log": "".join(line.format(s=i, msg=msg) for i, msg in enumerate(SECRETS.values())),
        "var/log/ovs/key.log": KEY_FILE})
    runs = {"analyze": ("analyze", str(bundle)), "triage": ("triage", str(tmp_path / "in")),
            "parse": ("parse", str(bundle)), "diff": ("diff", str(bundle), str(bundle))}
    for name, args in runs.items():
        result = cli(*args, "-o", str(tmp_path / name), "--redact")
        assert result.returncode == 0, result.stderr
    secrets = re.findall(r"\w*Secret\d\d", " ".join([*SECRETS.values(), KEY_FILE]))
    assert len(secrets) == len(SECRETS) + 3, "one secret a shape, two lines of a key in a record, two in a file"
    for name in runs:
        for path in outputs(tmp_path / name):
            assert not [s for s in secrets for text in texts(path) if s in text], path
    table = pl.read_parquet(tmp_path / "parse" / "events.parquet")
    assert table["raw"].str.contains(MASK, literal=True).sum() == len(SECRETS) + 3, \
        "every planted record, masked: the key file's BEGIN line and the two lines of its body"
    assert MASK in (tmp_path / "analyze" / "report.html").read_text()


@pytest.mark.browser
def test_the_redacted_cluster_report_reads_in_chromium_with_nodes_named_by_pseudonyms(runs, browser):
    out = runs["triage"]
    tokens = token_of(out)
    report = next((out / "clusters").glob("*/report.html"))
    page, seen = open_report(browser, report, "redacted-cluster.png")
    assert seen["requests"] == [report.as_uri()] and seen["errors"] == [], seen
    labels = page.locator("#tl .lane-label").evaluate_all("labels => labels.map(l => l.textContent)")
    assert {label.split(" · ")[0] for label in labels if " · " in label} == {tokens[h] for h in HOSTS}
    assert page.locator("#cluster-skew tbody tr").count() == 3
    body = page.locator("body").inner_text()
    assert not [h for h in HOSTS if h in body] and all(tokens[h] in body for h in HOSTS)
    page.locator("#cluster-skew").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOT))  # the cluster section: nodes, clock skew, incidents
    page.close()
