"""The per-bundle work on a Dask cluster gives what the local process pool gives."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import SAMPLE, cli

distributed = pytest.importorskip("distributed", reason="the [dask] extra is part of [test]")

VARYING = ("seconds", "worker_peak_mib")


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    from samples.make_sample import write_sample

    root = tmp_path_factory.mktemp("dask-inbox")
    shutil.copy(SAMPLE, root)
    write_sample(root / "ovs-node2-20170314102205-logs.tar.gz", scenario="healthy", host="ovs-node2")
    (root / "ovs-node3-20170314102205-logs.tar.gz").write_bytes(b"not a tar at all\n" * 20)
    return root


@pytest.fixture(scope="module")
def scheduler():
    """A real Dask cluster on loopback: a scheduler and two worker processes."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def stable(out: Path) -> tuple[list[dict], dict[str, dict]]:
    rows = [{k: v for k, v in r.items() if k not in VARYING}
            for r in json.loads((out / "triage.json").read_text())["bundles"]]
    docs = {}
    for path in sorted((out / "bundles").glob("*/findings.json")):
        doc = json.loads(path.read_text())
        docs[path.parent.name] = {k: v for k, v in doc.items() if k != "generated_at"}
    return rows, docs


def test_dask_executor_gives_the_same_rows_and_reports_as_the_local_pool(inbox, scheduler, tmp_path):
    local = cli("triage", str(inbox), "-o", str(tmp_path / "local"), "--jobs", "2")
    remote = cli("triage", str(inbox), "-o", str(tmp_path / "dask"), "--executor", "dask", "--scheduler", scheduler)
    assert local.returncode == remote.returncode == 4, local.stderr + remote.stderr  # the inbox's corrupt bundle
    assert stable(tmp_path / "dask") == stable(tmp_path / "local")
    rows, _ = stable(tmp_path / "dask")
    assert [r["status"] for r in rows] == ["ok", "error", "ok"]
    settings = json.loads((tmp_path / "dask" / "triage.json").read_text())["settings"]
    assert settings["executor"] == "dask"


def test_an_unreachable_scheduler_is_a_one_line_error(inbox, tmp_path):
    result = cli("triage", str(inbox), "-o", str(tmp_path), "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9")
    assert result.returncode == 2, result.stderr
    assert "cannot reach the Dask scheduler" in result.stderr and result.stderr.count("\n") == 1


def test_dask_without_a_scheduler_address_is_refused(inbox, tmp_path):
    result = cli("triage", str(inbox), "-o", str(tmp_path), "--executor", "dask")
    assert result.returncode == 2 and "--scheduler" in result.stderr
