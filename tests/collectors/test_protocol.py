"""Collectors: knowledge gathered member by member lands as its own section of the outputs."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from analyzer.collectors.protocol import Batch, BundleView, Collector
from analyzer.frames import Packed, unpack_all
from analyzer.outputs.report import write_outputs
from analyzer.pipeline.analysis import analyze


class ErrorsPerHour(Collector):
    """A tiny collector: error records per UTC hour, proving both halves of the protocol."""

    name = "errors_per_hour"

    def collect(self, batch: Batch) -> pl.DataFrame | None:
        errors = batch.events.filter(pl.col("level") >= "error").select("host", "ts_local", "utc_offset")
        return errors if errors.height else None

    def combine(self, parts: list[Packed], view: BundleView) -> dict[str, Any]:
        utc = view.to_utc(pl.concat(unpack_all(parts)))
        per_hour = utc.group_by(pl.col("ts").dt.truncate("1h").dt.strftime("%H:00")).len().sort("ts")
        return {"node": view.node, "hours": dict(per_hour.iter_rows())}


def test_a_collector_sees_every_member_and_its_section_reaches_findings_json(make_bundle, rules, tmp_path):
    line = "2017-03-14 {h}:22:05 04700 +0100 - ovs-node1 - 1/2 - lib/x - 4 - ERROR - boom\n"
    bundle = make_bundle({"var/log/ovs/lib.log": line.format(h="10") + line.format(h="11"),
                          "var/log/ovs/api.log": line.format(h="11")})
    analysis = analyze(bundle, rules, collectors=[ErrorsPerHour()])
    assert analysis.sections["errors_per_hour"] == {"node": "ovs-node1", "hours": {"09:00": 1, "10:00": 2}}
    paths = write_outputs(analysis, tmp_path / "out", {})
    assert json.loads(paths["findings"].read_text())["sections"]["errors_per_hour"]["hours"]["10:00"] == 2
    report = paths["report"].read_text()
    assert 'id="section-errors_per_hour"' in report, "a section without its own template still shows"
