"""Cluster view: bundles of one cluster recognised, one timeline, clock skew measured and applied."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from playwright.sync_api import sync_playwright

from analyzer.batch.skew import estimate
from samples.make_sample import write_cluster
from tests.conftest import CHROMIUM_ARGS, SAMPLE, SCHEMA, cli, open_report

CLUSTER_A = {"hosts": ("ovs-node1", "ovs-node2", "ovs-node3"), "scenarios": ("incident", "incident", "healthy"),
             "skews": (0.0, 2.5, -1.25), "seed": 1}
CLUSTER_B = {"hosts": ("ovs-b1", "ovs-b2"), "scenarios": ("healthy", "incident"), "skews": (0.0, -3.0), "seed": 7}


@pytest.fixture(scope="module")
def two_clusters(tmp_path_factory) -> Path:
    """Five bundles of two clusters, each with known clock errors, and a corrupt archive among them."""
    root = tmp_path_factory.mktemp("clusters")
    write_cluster(root / "a", **CLUSTER_A)
    write_cluster(root / "b", **CLUSTER_B)
    (root / "ovs-node9-20170314102205-logs.tar.gz").write_bytes(b"\x1f\x8b" + bytes(range(256)) * 8)
    return root


@pytest.fixture(scope="module")
def aligned(two_clusters, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("aligned")
    result = cli("triage", str(two_clusters), "-o", str(out), "--jobs", "2", "--align-clocks")
    assert result.returncode == 4, result.stdout + result.stderr  # the garbled ninth node is unreadable
    return out


def doc_of(out: Path, name: str) -> dict:
    return json.loads((out / "clusters" / name / "findings.json").read_text())


def test_bundles_are_grouped_by_the_arakoon_nodes_they_share(aligned):
    triage = json.loads((aligned / "triage.json").read_text())
    clusters = {c["name"]: sorted(c["hosts"]) for c in triage["clusters"]}
    assert clusters == {"ovs-b1+ovs-b2": ["ovs-b1", "ovs-b2"],
                        "ovs-node1+ovs-node2+ovs-node3": ["ovs-node1", "ovs-node2", "ovs-node3"]}
    rows = {r["bundle"]: r for r in triage["bundles"]}
    assert rows["ovs-node9-20170314102205-logs.tar.gz"]["status"] == "error"
    assert rows["ovs-node9-20170314102205-logs.tar.gz"]["cluster"] is None
    assert {r["cluster"] for r in rows.values() if r["status"] == "ok"} == set(clusters)
    assert all(c["recognised_by"].startswith("shared names in the logs: 3 Arakoon node ids (ovsdb)")
               for c in triage["clusters"]), [c["recognised_by"] for c in triage["clusters"]]


@pytest.mark.parametrize("plan", [CLUSTER_A, CLUSTER_B], ids=["three-nodes", "two-nodes"])
def test_clock_skew_is_estimated_from_elections_every_node_logged(aligned, plan):
    name = "+".join(plan["hosts"])
    section = doc_of(aligned, name)["sections"]["cluster"]
    assert section["reference"] == plan["hosts"][0]
    measured = {s["host"]: s for s in section["skew"]}
    for index, (host, planted) in enumerate(zip(plan["hosts"], plan["skews"], strict=True)):
        latency = 0.0015 * index  # the generator's nodes log an election 1.5 ms apart
        assert measured[host]["offset_seconds"] == pytest.approx(planted + latency, abs=0.001), host
        assert measured[host]["confidence"] == "high"
    assert "Arakoon" in measured[plan["hosts"][1]]["method"]
    assert "applied" in section["skew_statement"]


def test_aligned_clocks_put_one_event_at_one_time_on_every_node(aligned):
    doc = doc_of(aligned, "ovs-node1+ovs-node2+ovs-node3")
    crash = sorted(f["first_seen"] for f in doc["findings"] if f["rule_id"] == "NO_SPACE_LEFT_ON_DEVICE")
    assert len(crash) == 2
    assert crash[0][:20] == crash[1][:20], "the same moment on node1 and node2 once node2's +2.5 s is removed"


def test_without_align_clocks_the_skew_is_shown_but_times_stay_as_logged(two_clusters, tmp_path):
    result = cli("triage", str(two_clusters / "b"), "-o", str(tmp_path), "--jobs", "2")
    assert result.returncode == 0, result.stderr
    doc = doc_of(tmp_path, "ovs-b1+ovs-b2")
    assert "not applied" in doc["sections"]["cluster"]["skew_statement"]
    own = json.loads(next((tmp_path / "bundles").glob("*ovs-b2*/findings.json")).read_text())
    assert {f["first_seen"] for f in own["findings"]} <= {f["first_seen"] for f in doc["findings"]}


def test_the_cluster_report_is_a_findings_document_of_every_node(aligned):
    doc = doc_of(aligned, "ovs-node1+ovs-node2+ovs-node3")
    jsonschema.validate(doc, SCHEMA)
    assert doc["bundle"]["hosts"] == ["ovs-node1", "ovs-node2", "ovs-node3"]
    per_node = [json.loads(p.read_text()) for p in (aligned / "bundles").glob("*ovs-node*/findings.json")]
    assert len(doc["findings"]) == sum(len(d["findings"]) for d in per_node)
    assert doc["verdict"] == "critical"
    nodes = doc["sections"]["cluster"]["nodes"]
    assert [n["role"] for n in nodes] == ["master"] * 3 and all(n["arakoon_node"] for n in nodes)
    assert (aligned / "clusters" / "ovs-node1+ovs-node2+ovs-node3" / "report.html").is_file()


def test_problems_that_start_together_on_several_nodes_are_one_incident(aligned):
    incidents = doc_of(aligned, "ovs-node1+ovs-node2+ovs-node3")["sections"]["cluster"]["incidents"]
    no_master = [i for i in incidents if any(f["rule_id"] == "ARAKOON_NO_MASTER" for f in i["findings"])]
    assert len(no_master) == 1
    assert no_master[0]["hosts"] == ["ovs-node1", "ovs-node2"] and no_master[0]["worst"] == "critical"
    assert all(len(i["hosts"]) >= 2 for i in incidents)


def test_cluster_option_names_one_cluster_of_everything_readable(two_clusters, tmp_path):
    result = cli("triage", str(two_clusters / "b"), str(two_clusters / "a" / "*node3*"), "-o", str(tmp_path),
                 "--cluster", "customer-x", "--jobs", "2")
    assert result.returncode == 0, result.stderr
    clusters = json.loads((tmp_path / "triage.json").read_text())["clusters"]
    assert [(c["name"], len(c["bundles"]), c["recognised_by"]) for c in clusters] == [
        ("customer-x", 3, "named with --cluster")]
    skew = {s["host"]: s for s in clusters[0]["skew"]}
    assert skew["ovs-node3"]["confidence"] == "none" and skew["ovs-node3"]["offset_seconds"] is None


def test_a_node_with_two_bundles_shows_in_the_cluster_view_once_from_its_newest(two_clusters, tmp_path):
    """A bundle mailed twice, or a node collected again the day before: the index marks the copy,
    and the cluster view takes the newest bundle of each node, so no finding of it shows twice, and
    names what it left out."""
    inbox = tmp_path / "inbox"
    shutil.copytree(two_clusters / "b", inbox)
    [b2] = inbox.glob("*ovs-b2*")
    shutil.copy(b2, inbox / f"again-{b2.name}")
    day_before = write_cluster(tmp_path / "old", **{**CLUSTER_B, "skews": (-86400.0, -86400.0)})
    older_b1 = (tmp_path / "old" / day_before[0]["archive"]).rename(inbox / f"older-{day_before[0]['archive']}")
    result = cli("triage", str(inbox), "-o", str(tmp_path / "out"), "--jobs", "2")
    assert result.returncode == 0, result.stderr
    triage = json.loads((tmp_path / "out" / "triage.json").read_text())
    copies = {r["bundle"]: r["copy_of"] for r in triage["bundles"] if r["copy_of"]}
    assert copies == {f"again-{b2.name}": b2.name}, "the file named as `ovs collect logs` names it is the original"
    assert triage["summary"]["copies"] == 1 and "1 a copy of another" in result.stdout
    [cluster] = triage["clusters"]
    assert sorted(cluster["left_out"]) == sorted([f"again-{b2.name}", older_b1.name])
    assert len(cluster["bundles"]) == 2 and older_b1.name not in cluster["bundles"]
    doc = doc_of(tmp_path / "out", cluster["name"])
    shown = [json.loads(next((tmp_path / "out" / "bundles").glob(f"{Path(b).name.split('.tar')[0]}*/findings.json"))
                        .read_text()) for b in cluster["bundles"]]
    assert len(doc["findings"]) == sum(len(d["findings"]) for d in shown)
    assert sorted(n["host"] for n in doc["sections"]["cluster"]["nodes"]) == ["ovs-b1", "ovs-b2"]
    warnings = " ".join(doc["bundle"]["warnings"])
    assert f"again-{b2.name} is a byte-for-byte copy of {b2.name}" in warnings
    assert f"{older_b1.name} is a bundle of ovs-b1 older than" in warnings


def anchor(key: str, ts: str) -> dict:
    return {"key": key, "ts": ts, "source": "arakoon.log", "line": 1}


def test_skew_confidence_follows_how_many_events_agree():
    t = "2017-03-14T08:00:0{}.000000Z"
    reference, skews = estimate({
        "n1": [anchor("A is master", t.format(0)), anchor("B is master", t.format(5)),
               anchor("C is master", t.format(8))],
        "n2": [anchor("A is master", t.format(2)), anchor("B is master", t.format(7))],
        "n3": [anchor("A is master", t.format(1))],
        "n4": [anchor("A is master", t.format(3)), anchor("B is master", t.format(5))],
        "n5": [anchor("Z is master", t.format(1))],
    })
    by_host = {s.host: s for s in skews}
    assert reference == "n1"
    assert (by_host["n2"].offset_seconds, by_host["n2"].confidence) == (2.0, "medium")
    assert (by_host["n3"].offset_seconds, by_host["n3"].confidence) == (1.0, "low")
    assert by_host["n4"].confidence == "low", "two events that disagree by 3 s"
    assert (by_host["n5"].offset_seconds, by_host["n5"].confidence) == (None, "none")


@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.mark.browser
def test_the_index_page_sorts_and_filters_offline(chromium, aligned):
    index = aligned / "index.html"
    page, seen = open_report(chromium, index, "triage-index.png")
    assert seen["requests"] == [index.as_uri()] and seen["errors"] == [], seen
    rows = page.locator("#triage tbody tr")
    assert rows.count() == 6
    page.locator("#triage thead th", has_text="Host").click()
    hosts = [h for h in page.locator("#triage tbody tr td:nth-child(3)").all_inner_texts()]
    assert hosts == sorted(hosts)
    page.locator("input[data-filter='triage']").fill("ovs-b")
    assert page.locator("#triage tbody tr:not([hidden])").count() == 2
    page.locator("input[data-filter='triage']").fill("")
    page.locator("select[data-filter='triage']").select_option("error")
    assert page.locator("#triage tbody tr:not([hidden])").count() == 1
    for href in page.locator("a[href$='report.html']").evaluate_all("links => links.map(a => a.href)"):
        assert Path(href.removeprefix("file://")).is_file(), href
    page.close()


@pytest.mark.browser
def test_the_cluster_report_draws_a_lane_per_node_on_one_timeline(chromium, aligned):
    report = aligned / "clusters" / "ovs-node1+ovs-node2+ovs-node3" / "report.html"
    page, seen = open_report(chromium, report, "cluster-report.png")
    assert seen["requests"] == [report.as_uri()] and seen["errors"] == [], seen
    labels = page.locator("#tl .lane-label").evaluate_all("labels => labels.map(l => l.textContent)")
    assert {label.split(" · ")[0] for label in labels if " · " in label} >= {"ovs-node1", "ovs-node2", "ovs-node3"}
    assert page.locator("#cluster-skew tbody tr").count() == 3
    page.close()


def test_diff_takes_a_whole_triage_folder_as_one_side(aligned):
    result = cli("diff", str(aligned), str(aligned / "triage.json"), "--json")
    assert result.returncode == 0, result.stderr
    diff = json.loads(result.stdout)
    per_bundle = [json.loads(p.read_text()) for p in (aligned / "bundles").glob("*/findings.json")]
    assert diff["summary"]["persisting"] == sum(len(d["findings"]) for d in per_bundle)
    assert len(diff["old_bundle"]["hosts"]) == 5


@pytest.mark.browser
def test_markup_in_a_bundle_name_stays_inert_text_in_the_index(chromium, tmp_path):
    hostile = "ovs-<img src=x onerror=window.__pwned=1>-20170314102205-logs.tar.gz"
    (tmp_path / "in").mkdir()
    shutil.copy(SAMPLE, tmp_path / "in" / hostile)
    assert cli("triage", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "1").returncode == 0
    page, seen = open_report(chromium, tmp_path / "out" / "index.html", "triage-hostile.png")
    assert page.evaluate("window.__pwned") is None and seen["errors"] == []
    assert hostile in page.locator("#triage tbody").inner_text()
    page.close()


def test_only_election_announcements_are_clock_anchors_not_periodic_lease_renewals(parse):
    from analyzer.collectors.cluster_evidence import ClusterEvidence
    from analyzer.collectors.protocol import Batch

    path = "var/log/arakoon/ovsdb/09FydVMSuGL4Fp3k.log"
    text = ("2016-07-05 08:28:42 843502 +0200 - perf-roub-02 - 42745/0 - arakoon - 632403 - info - "
            "09FydVMSuGL4Fp3k is master\n"
            "2016-07-05 08:28:42 843600 +0200 - perf-roub-02 - 42745/0 - arakoon - 632404 - info - "
            "09FydVMSuGL4Fp3k is master, lease expires in 10.0s\n")
    events = parse(text, source=path).events
    part = ClusterEvidence().collect(Batch.of([path], events))
    anchors = part.filter(part["event"] == "election")
    assert anchors["value"].to_list() == ["09FydVMSuGL4Fp3k is master"]
    assert set(part.filter(part["fact"] == "arakoon_self")["value"]) == {"09FydVMSuGL4Fp3k"}
