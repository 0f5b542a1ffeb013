"""`analyze` of one upload holding every node of a cluster: each node's report, and the cluster's at the top."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import jsonschema
import pytest

from analyzer.isotime import parse_iso
from analyzer.reading.folder import OUTPUT_MARK
from samples.make_sample import write_cluster, write_sample
from tests.conftest import SCHEMA, cli, open_report

HOSTS = ("ovs-node1", "ovs-node2", "ovs-node3")
SKEWS = (0.0, 2.5, -1.25)


def _upload(folder: Path, name: str) -> Path:
    """One tar of the node bundles in `folder`, as a customer sends them."""
    upload = folder.parent / name
    with tarfile.open(upload, "w") as tar:
        for bundle in sorted(folder.glob("*.tar.gz")):
            tar.add(bundle, arcname=bundle.name)
    return upload


@pytest.fixture(scope="module")
def upload(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("upload")
    write_cluster(root / "nodes", hosts=HOSTS, scenarios=("incident", "incident", "healthy"), skews=SKEWS)
    return _upload(root / "nodes", "cluster-upload.tar")


@pytest.fixture(scope="module")
def analyzed(upload: Path) -> Path:
    out = upload.parent / "out"
    result = cli("analyze", str(upload), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert f"cluster {'+'.join(HOSTS)}: 3 nodes" in result.stdout and f"{out / 'report.html'}" in result.stdout
    return out


@pytest.fixture(scope="module")
def aligned(upload: Path) -> Path:
    out = upload.parent / "aligned"
    result = cli("analyze", str(upload), "-o", str(out), "--align-clocks")
    assert result.returncode == 0, result.stderr
    return out


def _doc(out: Path) -> dict:
    return json.loads((out / "findings.json").read_text())


def test_the_cluster_report_is_at_the_top_and_holds_every_nodes_findings(analyzed):
    doc = _doc(analyzed)
    jsonschema.validate(doc, SCHEMA)
    assert sorted(p.name for p in analyzed.iterdir() if p.is_file() and p.name != OUTPUT_MARK) == [
        "findings.csv", "findings.json", "report.html", "summary.md"]
    nodes = doc["sections"]["cluster"]["nodes"]
    assert [n["host"] for n in nodes] == list(HOSTS) and doc["bundle"]["hosts"] == list(HOSTS)
    own = [_doc((analyzed / n["report"]).parent) for n in nodes]
    assert len(doc["findings"]) == sum(len(d["findings"]) for d in own)
    assert doc["sections"]["cluster"]["recognised_by"].startswith("shared names in the logs: 3 Arakoon node ids")
    assert doc["start_here"]["host"] in HOSTS and doc["root_causes"]


def test_each_node_row_links_to_that_nodes_own_report(analyzed):
    for node in _doc(analyzed)["sections"]["cluster"]["nodes"]:
        report = analyzed / node["report"]
        assert report.is_file() and report.parent.parent == analyzed
        assert _doc(report.parent)["bundle"]["hosts"] == [node["host"]]
    assert 'href="ovs-ovs-node2-' in (analyzed / "report.html").read_text()


def test_every_piece_of_evidence_and_every_timeline_row_names_its_node(analyzed):
    doc = _doc(analyzed)
    assert all(e["host"] in HOSTS for f in doc["findings"] for e in f["evidence"])
    html = (analyzed / "report.html").read_text()
    data = json.loads(html.split('<script type="application/json" id="report-data">')[1].split("</script>")[0])
    rows = [f["rule"] for f in data["findings"]]
    assert all(any(h in row for h in HOSTS) for row in rows), [r for r in rows if not any(h in r for h in HOSTS)]
    assert len(set(rows)) == len(rows), "a rule found on two nodes makes two rows that say which node"
    summary = (analyzed / "summary.md").read_text()
    assert "Evidence: `" in summary
    assert all(" on ovs-node" in line for line in summary.splitlines() if "Evidence: `" in line)


def test_align_clocks_moves_each_node_onto_the_reference_clock(analyzed, aligned):
    def firsts(out: Path) -> dict[tuple[str, str], float]:
        return {(f["rule_id"], f["hosts"][0]): parse_iso(f["first_seen"]).timestamp()
                for f in _doc(out)["findings"] if f["first_seen"]}

    plain, moved = firsts(analyzed), firsts(aligned)
    for host, skew in zip(HOSTS, SKEWS, strict=True):
        shifts = [plain[key] - moved[key] for key in plain if key[1] == host]
        assert max(shifts) - min(shifts) < 1e-3, "one node, one offset"
        assert shifts[0] == pytest.approx(skew, abs=0.05), (host, shifts)
    assert _doc(aligned)["sections"]["cluster"]["aligned"] is True
    assert "applied: every time is on the clock of ovs-node1" in _doc(aligned)["sections"]["cluster"][
        "skew_statement"]


def test_nodes_whose_logs_share_no_name_still_make_one_report_that_says_why(tmp_path):
    (tmp_path / "nodes").mkdir()
    for i, host in enumerate(("ovs-east", "ovs-west")):  # two unrelated single nodes sent together
        write_sample(tmp_path / "nodes", seed=11 + i, host=host, scenario="healthy")
    upload = _upload(tmp_path / "nodes", "two-nodes.tar")
    result = cli("analyze", str(upload), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    section = _doc(tmp_path / "out")["sections"]["cluster"]
    assert section["name"] == "two-nodes" and [n["host"] for n in section["nodes"]] == ["ovs-east", "ovs-west"]
    assert section["recognised_by"].startswith("sent together in one upload (their logs name no node")


def test_a_node_bundle_lost_to_damage_is_named_in_every_report_of_the_upload(upload, tmp_path):
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(upload) as source, tarfile.open(damaged, "w") as tar:
        for member in source.getmembers():
            tar.addfile(member, source.extractfile(member))
        broken = tarfile.TarInfo("ovs-ovs-node4-20170314102205-logs.tar.gz")
        junk = b"\x1f\x8b" + bytes(range(256)) * 8
        broken.size = len(junk)
        tar.addfile(broken, io.BytesIO(junk))
    result = cli("analyze", str(damaged), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "ovs-node4" in result.stderr, "the terminal says which node could not be read"
    warnings = _doc(tmp_path / "out")["bundle"]["warnings"]
    assert any("ovs-node4" in w for w in warnings)


def test_the_cluster_report_opens_in_a_browser_with_every_node_and_its_link(analyzed, browser):
    page, seen = open_report(browser, analyzed / "report.html", "upload-cluster.png")
    try:
        rows = page.locator("#section-cluster tbody").first.locator("tr")
        assert rows.count() == 3
        assert [rows.nth(i).locator("td").first.inner_text() for i in range(3)] == list(HOSTS)
        labels = page.eval_on_selector_all("#timeline .lane-label", "ls => ls.map(l => l.childNodes[0].nodeValue)")
        rows = [f["rule"] for f in page.evaluate("JSON.parse(document.getElementById('report-data').textContent)")[
            "findings"]]
        shown = [row if len(row) <= 26 else row[:25] + "…" for row in rows]  # the label column's cut
        assert set(shown) <= set(labels) and all(row.split(" · ")[0] in HOSTS for row in shown), shown
        assert seen["errors"] == [] and all(r.startswith("file:") for r in seen["requests"])
    finally:
        page.close()


def test_only_the_nodes_of_an_upload_pay_for_the_cluster_evidence(upload, rules):
    """A single bundle has no cluster to recognise: its lines are not scanned for names it would never use."""
    from analyzer.collectors.cluster_evidence import ClusterEvidence
    from analyzer.pipeline.nodes import analyze_nodes
    from analyzer.pipeline.registry import default_collectors
    from tests.conftest import SAMPLE

    def sections(path: Path) -> list[set[str]]:
        nodes = analyze_nodes(path, rules, node_collectors=[*default_collectors(), ClusterEvidence()])
        return [set(analysis.sections) for _, analysis in nodes]

    assert all("cluster_evidence" in names for names in sections(upload))
    assert ["cluster_evidence" in names for names in sections(SAMPLE)] == [False]
