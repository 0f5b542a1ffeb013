"""A whole cluster from one upload: bundles recognised by every name their nodes share, clocks from every
kind of shared event (issue #21)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzer.batch.cluster import group
from analyzer.batch.jobs import Outcome
from samples.make_sample import write_cluster
from tests.conftest import cli

HOSTS = ("ovs-node1", "ovs-node2", "ovs-node3")
IN_LINE = ("elections", "celery", "dtl", "rabbitmq")  # no Arakoon start-up lines
#: Two lab clusters cloned from one template: the same host names and (seeds 100 apart) addresses.
LAB_A = {"hosts": HOSTS, "scenarios": ("incident", "healthy", "healthy"), "skews": (0.0, 2.5, -1.25), "seed": 1,
         "shared": IN_LINE}
LAB_B = {**LAB_A, "seed": 101}
SKEWS = (0.0, 37.25, -12.5)
CELERY = {"hosts": ("ovs-c1", "ovs-c2", "ovs-c3"), "scenarios": ("healthy",) * 3, "skews": SKEWS, "seed": 3,
          "shared": ("celery", "rabbitmq")}
DTL = {"hosts": ("ovs-d1", "ovs-d2", "ovs-d3"), "scenarios": ("healthy",) * 3, "skews": SKEWS, "seed": 5,
       "shared": ("dtl",)}


def node(host: str, **evidence: list[str]) -> Outcome:
    return Outcome(row={"status": "ok", "host": host, "bundle": f"ovs-{host}-logs.tar.gz"}, evidence=evidence)


def hosts_of(groups) -> list[list[str]]:
    return [sorted(o.row["host"] for o in g.outcomes) for g in groups]


def test_bundles_naming_one_celery_task_id_are_one_cluster():
    found = group([node("a", task_ids=["t1", "t2"]), node("b", task_ids=["t2"]), node("c", task_ids=["t9"])])
    assert hosts_of(found) == [["a", "b"]]
    assert found[0].recognised_by == "shared names in the logs: 1 Celery task id"


def test_a_peer_address_links_a_bundle_to_the_one_bundle_that_owns_it():
    found = group([node("a", own_addresses=["10.0.0.1"], peer_addresses=["10.0.0.2", "10.0.0.1"]),
                   node("b", own_addresses=["10.0.0.2"]), node("c", peer_addresses=["10.0.0.9"])])
    assert hosts_of(found) == [["a", "b"]]
    assert found[0].recognised_by == "shared names in the logs: 1 peer address"


def test_a_name_two_bundles_own_is_ambiguous_and_links_nothing():
    lab = [node("ovs-node1", own_hosts=["ovs-node1"], own_addresses=["10.0.0.1"], peer_hosts=["ovs-node2"]),
           node("ovs-node2", own_hosts=["ovs-node2"], own_addresses=["10.0.0.2"], peer_addresses=["10.0.0.1"])]
    clone = [node(o.row["host"], **o.evidence) for o in lab]
    assert group(lab) != [] and group(lab + clone) == [], "each name is owned by a node of each lab"


def test_links_are_transitive_and_recognised_by_counts_each_kind_that_linked():
    found = group([node("a", arakoon_nodes=["m1", "m2"], arakoon_clusters=["ovsdb"]),
                   node("b", arakoon_nodes=["m1", "m2"], own_hosts=["b"]),
                   node("c", peer_hosts=["b"], task_ids=["t1"]), node("d", task_ids=["t1"])])
    assert hosts_of(found) == [["a", "b", "c", "d"]]
    assert found[0].shared == {"arakoon_nodes": 2, "task_ids": 1, "peer_hosts": 1}
    assert found[0].recognised_by == ("shared names in the logs: 2 Arakoon node ids (ovsdb), 1 Celery task id, "
                                      "1 peer host name")


def test_two_clusters_of_the_same_host_names_get_a_name_each():
    found = group([node("n1", task_ids=["t1"]), node("n2", task_ids=["t1"]),
                   node("n1", task_ids=["t2"]), node("n2", task_ids=["t2"])])
    assert [g.name for g in found] == ["n1+n2", "n1+n2-2"]


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    """Four clusters of three nodes in one inbox, none with Arakoon start-up lines: two cloned labs
    (same host names, same addresses), one sharing only Celery traffic and RabbitMQ peers, one only
    DTL connections; the last two with clocks +37.25 s and -12.5 s off."""
    root = tmp_path_factory.mktemp("recognition")
    for name, plan in (("lab-a", LAB_A), ("lab-b", LAB_B), ("celery", CELERY), ("dtl", DTL)):
        write_cluster(root / name, **plan)
    return root


@pytest.fixture(scope="module")
def triaged(inbox, tmp_path_factory) -> tuple[Path, list[dict]]:
    """The triage of the inbox, and its clusters, each with the inbox folders its bundles came from."""
    out = tmp_path_factory.mktemp("recognition-out")
    result = cli("triage", str(inbox), "-o", str(out), "--jobs", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    triage = json.loads((out / "triage.json").read_text())
    folders: dict[str, set[str]] = {}
    for row in triage["bundles"]:
        folders.setdefault(row["cluster"], set()).add(Path(row["path"]).parent.name)
    return out, [{**c, "folders": sorted(folders[c["name"]])} for c in triage["clusters"]]


def cluster_from(triaged, folder: str) -> dict:
    found = [c for c in triaged[1] if c["folders"] == [folder]]
    assert len(found) == 1, [(c["name"], c["folders"]) for c in triaged[1]]
    return found[0]


def test_two_cloned_lab_clusters_of_the_same_host_names_and_addresses_stay_apart(triaged):
    out, clusters = triaged
    assert sorted(c["folders"] for c in clusters) == [["celery"], ["dtl"], ["lab-a"], ["lab-b"]]
    assert all(len(c["bundles"]) == 3 for c in clusters)
    labs = sorted(c["name"] for c in clusters if c["folders"][0].startswith("lab-"))
    assert labs == ["ovs-node1+ovs-node2+ovs-node3", "ovs-node1+ovs-node2+ovs-node3-2"]
    assert all((out / c["report"]).is_file() for c in clusters), "a report folder each"


def test_nodes_sharing_only_names_inside_their_lines_are_one_cluster(triaged):
    lab = cluster_from(triaged, "lab-a")["recognised_by"]
    assert "Arakoon node ids" in lab and "Celery task ids" in lab, lab
    assert "peer" not in lab, "their host names and addresses are the other lab's too: ambiguous"
    celery = cluster_from(triaged, "celery")["recognised_by"]
    assert "Arakoon" not in celery and "Celery task ids" in celery and "peer host names" in celery, celery
    assert "peer addresses" in cluster_from(triaged, "dtl")["recognised_by"]


@pytest.mark.parametrize(("folder", "method"), [("celery", "Celery"), ("dtl", "DTL")])
def test_known_clock_offsets_are_recovered_within_a_second_by_one_method_alone(triaged, folder, method):
    found = cluster_from(triaged, folder)
    plan = CELERY if folder == "celery" else DTL
    planted = dict(zip(plan["hosts"], SKEWS, strict=True))
    reference = found["reference"]
    for skew in found["skew"]:
        expected = planted[skew["host"]] - planted[reference]
        assert skew["offset_seconds"] == pytest.approx(expected, abs=1.0), skew
        assert skew["lower_seconds"] <= expected + 0.01 and expected - 0.01 <= skew["upper_seconds"], skew
        if skew["host"] != reference:
            assert method in skew["method"] and skew["confidence"] == "high", skew
            assert [m["method"] for m in skew["by_method"]] == [folder], "no other method had anything"
    statement = json.loads((triaged[0] / found["report"]).with_name("findings.json").read_text())[
        "sections"]["cluster"]["skew_statement"]
    assert f"from {method}" in statement and "bounds" in statement, statement


def test_a_bundle_report_carries_no_cluster_evidence_lists_the_cluster_report_says_what_grouped(triaged):
    """The names and clock events are the cluster view's input, travelling in triage's outcomes: a
    node's findings.json and report stay what a reader needs, the cluster report says the evidence."""
    folder = next((triaged[0] / "bundles").glob("*ovs-c1*"))
    assert "cluster_evidence" not in json.loads((folder / "findings.json").read_text())["sections"]
    assert 'id="section-cluster_evidence"' not in (folder / "report.html").read_text()
    clusters = json.loads((triaged[0] / "triage.json").read_text())["clusters"]
    assert any("Celery task ids" in c["recognised_by"] for c in clusters)
