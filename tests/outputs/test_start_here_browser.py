"""The report's "Start here" in a real headless Chromium: the cause, its chain on a time axis, what
to do first, and the findings read chain by chain; the same for a cluster's report."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from analyzer.outputs.report import write_outputs
from analyzer.pipeline.analysis import analyze
from tests.conftest import SAMPLE, open_report

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory, rules):
    out = tmp_path_factory.mktemp("start-here")
    write_outputs(analyze(SAMPLE, rules), out, {})
    return out


def test_the_panel_names_the_cause_draws_its_chain_and_says_what_to_do_first(browser, sample_out):
    doc = json.loads((sample_out / "findings.json").read_text())
    here, top = doc["start_here"], doc["root_causes"][0]
    page, seen = open_report(browser, sample_out / "report.html", "start-here.png")
    assert seen["errors"] == []
    panel = page.locator("#start-here")
    assert panel.is_visible()
    assert panel.locator(".sh-cause code").inner_text() == here["rule_id"]
    assert page.locator(".headline").inner_text().count(doc["findings"][here["index"]]["title"]) == 1
    steps = panel.locator(".chain-steps li")
    assert steps.count() == 1 + top["explains"]
    assert [steps.nth(i).locator("code").inner_text() for i in range(steps.count())] == \
        [here["rule_id"], *(e["rule_id"] for e in top["effects"])]
    assert panel.locator(".chain-dot").count() == steps.count(), "every step is on the time axis"
    assert doc["findings"][here["index"]]["remediation"][:40] in panel.locator(".fix").inner_text()
    panel.locator(".chain-steps li a").nth(1).click()
    effect = top["effects"][0]["index"]
    assert page.url.endswith(f"#f{effect}")
    # the page opens it on the hash change, an event after the click: wait for it as a reader would
    expect(page.locator(f"#f{effect} details").first, "the finding opened").to_have_attribute("open", "")
    page.close()


def test_the_findings_can_be_read_chain_by_chain_and_each_effect_links_to_what_brought_it(browser, sample_out):
    doc = json.loads((sample_out / "findings.json").read_text())
    page, _ = open_report(browser, sample_out / "report.html", "chain-order.png")
    codes = lambda: page.locator("article.finding code").all_inner_texts()  # noqa: E731
    assert codes()[0] == doc["findings"][0]["rule_id"], "severity order first"
    page.select_option("#f-order", "chain")
    chain_order = [m["rule_id"] for c in doc["root_causes"] for m in (c["cause"], *c["effects"])]
    assert codes() == chain_order
    page.select_option("#f-order", "severity")
    assert codes() == [f["rule_id"] for f in doc["findings"]]
    cause = doc["start_here"]["index"]
    assert "root cause of" in page.locator(f"#f{cause} .role").inner_text()
    effect = doc["root_causes"][0]["effects"][0]
    page.locator(f"#f{effect['index']} a.role").click()
    assert page.url.endswith(f"#f{cause}"), "an effect links to the finding that brought it"
    page.close()


def test_the_timeline_lists_the_findings_chain_by_chain(browser, sample_out):
    doc = json.loads((sample_out / "findings.json").read_text())
    page, _ = open_report(browser, sample_out / "report.html", "timeline-chains.png")
    page.locator("#timeline svg a").first.click()
    assert page.url.endswith(f"#f{doc['start_here']['index']}"), "the first row is where to start"
    page.close()
