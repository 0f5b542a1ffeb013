"""What the report, findings.csv and summary.md show, from hand-made and real findings documents."""

from __future__ import annotations

import copy
import csv
import io
import re

import pytest

from analyzer.outputs.report import findings_csv, findings_document, render_html, timeline_model
from analyzer.pipeline.analysis import analyze
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def sample(rules):
    analysis = analyze(SAMPLE, rules)
    doc = findings_document(analysis, "2026-01-01T00:00:00Z", {})
    return analysis, doc


def test_evidence_shows_its_context_lines_numbered_around_the_match(sample):
    analysis, doc = sample
    doc = copy.deepcopy(doc)
    evidence = doc["findings"][0]["evidence"][0]
    evidence.update(raw="matched line\ncontinued", line=100, context_before=["before 1", "before 2"],
                    context_after=["after 1"])
    page = render_html(doc, timeline_model(analysis, doc))
    assert ('<span class="ctx" data-n="98">before 1</span><span class="ctx" data-n="99">before 2</span>'
            '<span class="hit" data-n="100">matched line\ncontinued</span><span class="ctx" data-n="102">after 1</span>'
            ) in page
    assert f"{evidence['source']}:100" in page


def test_rules_that_could_not_run_are_listed_with_their_reason(sample):
    analysis, doc = sample
    doc = copy.deepcopy(doc)
    doc["coverage"]["rules_unavailable"] = [{"id": "SOME_RULE", "reason": "needs the journal, absent <here>"}]
    page = render_html(doc, timeline_model(analysis, doc))
    assert "Rules that could not run" in page and "needs the journal, absent &lt;here&gt;" in page


def test_the_header_names_role_versions_and_time_zones_from_the_identity_section(sample):
    analysis, doc = sample
    page = render_html(doc, timeline_model(analysis, doc))
    header = page[page.index("<header"):page.index("</header>")]
    identity = doc["sections"]["identity"]
    assert "Node role</dt><dd>master" in header and identity["role_evidence"][0] in header
    assert f"openvstorage <b>{identity['versions']['openvstorage']}</b>" in header
    assert all(offset in header for offset in identity["utc_offsets"])


def test_unknown_errors_are_a_ranked_table_with_their_real_lines_and_how_to_make_a_rule(sample):
    analysis, doc = sample
    page = render_html(doc, timeline_model(analysis, doc))
    section = page[page.index('id="section-unknown_errors"'):]
    section = section[: section.index("</section>")]
    first = doc["sections"]["unknown_errors"]["templates"][0]
    assert "<table>" in section and first["template"].replace("<", "&lt;").replace(">", "&gt;") in section
    assert first["where"][0] in section and "rules scaffold" in section
    empty = copy.deepcopy(doc)
    empty["sections"]["unknown_errors"] = {"records": 0, "template_count": 0, "templates": []}
    assert "Every error-or-worse record is explained by a rule." in render_html(empty, timeline_model(analysis, empty))


def test_sections_contribute_timeline_lanes_and_bad_spans_are_skipped(sample):
    analysis, doc = sample
    doc = copy.deepcopy(doc)
    doc["sections"]["services"] = {"timeline_lanes": [{"lane": "ovs-node1 · ovs-workers", "spans": [
        {"start": "2017-03-14T08:00:00.000000Z", "end": "2017-03-14T09:00:00.000000Z", "state": "running",
         "title": "up"},
        {"start": "not a time", "end": None, "state": "failed", "title": "ignored"},
        {"start": "2017-03-14T09:00:00Z", "end": None, "state": "failed", "title": "down"},
    ]}]}
    model = timeline_model(analysis, doc)
    (lane,) = model["section_lanes"]
    assert lane["section"] == "services" and [s["state"] for s in lane["spans"]] == ["running", "failed"]
    assert lane["spans"][1]["t1"] == lane["spans"][1]["t2"], "an open span ends where it starts"


def test_the_timeline_holds_aggregates_not_lines(sample):
    analysis, doc = sample
    model = timeline_model(analysis, doc)
    assert {(lane["host"], lane["producer"]) for lane in model["lanes"]} >= {("ovs-node1", "volumedriver")}
    total = sum(sum(lane[b]) for lane in model["lanes"] for b in ("e", "w", "o"))
    assert total == analysis.counts["count"].sum(), "every counted line is in exactly one bucket"
    assert model["bucket"] == 60 and len(model["findings"]) == len(doc["findings"])


def test_findings_csv_has_one_row_per_finding_and_defuses_formulas(sample):
    _, doc = sample
    doc = copy.deepcopy(doc)
    doc["findings"][0]["entities"] = {"volume": "=cmd|'/c calc'!A1"}
    rows = list(csv.DictReader(io.StringIO(findings_csv(doc))))
    assert len(rows) == len(doc["findings"])
    assert rows[0]["rule_id"] == doc["findings"][0]["rule_id"]
    assert rows[0]["entities"] == "volume==cmd|'/c calc'!A1"
    assert re.fullmatch(r".+:\d+", rows[0]["first_evidence"])
    formula = findings_csv({"findings": [{**doc["findings"][0], "title": "=HYPERLINK(x)"}]})
    assert next(csv.DictReader(io.StringIO(formula)))["title"] == "'=HYPERLINK(x)"


def test_the_report_fits_in_a_ticket(sample):
    analysis, doc = sample
    assert len(render_html(doc, timeline_model(analysis, doc)).encode()) < 400_000
