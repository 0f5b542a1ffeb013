"""Outputs stay what they were when they were checked by hand: findings.json and the event table
of three bundles of two eras, against the goldens in tests/golden/ (see its README)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from samples.make_sample import write_sample
from tests.conftest import ROOT, SAMPLE, cli

GOLDEN = ROOT / "tests" / "golden"
BUNDLES = {
    "sample": lambda folder: shutil.copy(SAMPLE, folder / SAMPLE.name),
    "healthy": lambda folder: write_sample(folder, scenario="healthy", host="ovs-healthy"),
    "legacy": lambda folder: write_sample(folder, scenario="legacy", host="ovs-legacy"),
}


def _bundle(name: str, folder: Path) -> Path:
    BUNDLES[name](folder)
    (bundle,) = folder.glob("ovs-*-logs.tar.gz")
    return bundle


def _without_generation_time(text: str) -> str:
    return re.sub(r'"generated_at": "[^"]*"', '"generated_at": ""', text)


@pytest.mark.parametrize("name", sorted(BUNDLES))
def test_findings_json_is_the_golden_one(tmp_path, name):
    bundle = _bundle(name, tmp_path)
    result = cli("analyze", str(bundle), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    written = _without_generation_time((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    golden = (GOLDEN / name / "findings.json").read_text(encoding="utf-8")
    if written != golden:
        new, old = json.loads(written), json.loads(golden)
        differing = sorted(k for k in old if new.get(k) != old[k])
        pytest.fail(f"findings.json of {name} differs from tests/golden/{name} in {differing}; if the change "
                    "means it (a new rule does), run tests/golden/regenerate.py and commit the files with it")


@pytest.mark.parametrize("name", sorted(n for n in BUNDLES if (GOLDEN / n / "events.parquet").is_file()))
def test_the_event_table_is_the_golden_one(tmp_path, name):
    bundle = _bundle(name, tmp_path)
    result = cli("parse", str(bundle), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    written = pl.read_parquet(tmp_path / "out" / "events.parquet")
    assert_frame_equal(written, pl.read_parquet(GOLDEN / name / "events.parquet"))
