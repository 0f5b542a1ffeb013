"""The report in a real headless Chromium: it loads offline, shows its parts, and log text stays inert."""

from __future__ import annotations

import re

import pytest

from analyzer.collectors.protocol import Collector
from analyzer.outputs.report import write_outputs
from analyzer.pipeline.analysis import analyze
from tests.conftest import ARTIFACTS, SAMPLE, open_report

HOSTILE = ('<script>window.__pwned = 1</script>"><img src=x onerror="window.__pwned = 2">'
           "</script><svg onload=\"window.__pwned = 3\">")

pytestmark = pytest.mark.browser


def test_report_loads_offline_with_no_errors_and_no_requests(browser, tmp_path, rules):
    write_outputs(analyze(SAMPLE, rules), tmp_path, {})
    report = tmp_path / "report.html"
    page, seen = open_report(browser, report, "sample-report.png")
    assert seen["requests"] == [report.as_uri()], "the page must not fetch anything"
    assert seen["errors"] == []
    assert page.locator("#timeline svg rect").count() > 10, "the timeline draws event bars"
    assert page.locator("article.finding").count() >= 5
    page.locator("#timeline svg a").last.click()
    assert re.search(r"#f\d+$", page.url), "a finding on the timeline links to its evidence"
    assert page.locator(page.url[page.url.index("#"):] + " details").get_attribute("open") is not None
    page.close()


def test_log_lines_with_script_payloads_stay_inert_text(browser, tmp_path, rules, make_bundle):
    line = ("2017-03-14 10:22:05 046812 +0100 - ovs-node1 - 18332/0x00007f8400994700 - volumedriverfs/Volume - "
            f"00000000000a1b2c - error - write: No space left on device {HOSTILE}\n")
    bundle = make_bundle({"var/log/ovs/volumedriver/vpool1.log": line})
    write_outputs(analyze(bundle, rules), tmp_path, {})
    page, seen = open_report(browser, tmp_path / "report.html", "hostile-report.png")
    assert page.evaluate("window.__pwned") is None
    assert seen["dialogs"] == [] and seen["errors"] == []
    assert HOSTILE in page.locator(".ev-peek-line").first.inner_text(), "the preview shows it as text"
    page.locator("details.ev-list summary").first.click()  # evidence starts folded to a one-line preview
    assert HOSTILE in page.locator("pre.evidence").first.inner_text()
    page.close()


class ServiceLanes(Collector):
    """A section that contributes a timeline lane (the real services collector has its own template)."""

    name = "state_lanes"

    def collect(self, batch):
        return None

    def combine(self, parts, view):
        return {"timeline_lanes": [{"lane": "ovs-node1 · ovs-workers", "spans": [
            {"start": "2017-03-14T07:30:00Z", "end": "2017-03-14T08:55:00Z", "state": "running", "title": "up"},
            {"start": "2017-03-14T08:55:00Z", "end": "2017-03-14T09:05:00Z", "state": "failed", "title": HOSTILE}]}]}


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory, rules):
    out = tmp_path_factory.mktemp("browser-sample")
    write_outputs(analyze(SAMPLE, rules, collectors=[ServiceLanes()]), out, {})
    return out / "report.html"


def visible_findings(page) -> int:
    return page.locator("article.finding:visible").count()


def test_filters_by_severity_component_and_text_change_what_is_shown(browser, sample_report):
    page, seen = open_report(browser, sample_report, "filters.png")
    total = visible_findings(page)
    page.locator("#finding-filters input[value=critical]").uncheck()
    assert visible_findings(page) == total - page.locator("article.finding[data-sev=critical]").count()
    page.locator("#finding-filters input[value=critical]").check()
    page.select_option("#f-component", "arakoon")
    assert 0 < visible_findings(page) < total
    assert page.locator("article.finding:visible").evaluate_all("els => els.every(e => e.dataset.comp === 'arakoon')")
    page.select_option("#f-component", "")
    page.fill("#f-text", "8c88d911")
    shown = visible_findings(page)
    assert 2 <= shown < total and page.locator("#f-shown").inner_text() == f"{shown} of {total} shown"
    assert page.locator("article.finding:visible").evaluate_all(
        "els => els.every(e => e.textContent.includes('8c88d911'))")
    page.fill("#f-text", "no such thing anywhere")
    assert visible_findings(page) == 0 and page.locator("#f-none").is_visible()
    page.screenshot(path=str(ARTIFACTS / "filters-none.png"))
    page.fill("#f-text", "")
    page.locator("#sev-chips [data-sev=high]").click()
    assert visible_findings(page) == page.locator("article.finding[data-sev=high]").count()
    assert seen["errors"] == []
    page.close()


def test_clicking_a_finding_on_the_timeline_opens_its_evidence(browser, sample_report):
    page, seen = open_report(browser, sample_report, "timeline.png")
    closed = page.locator("article.finding").nth(6)
    assert not closed.locator("pre.evidence").first.is_visible(), "later findings start folded"
    page.locator('#timeline svg a[data-finding="6"]').click()
    assert page.url.endswith("#f6")
    assert closed.locator("pre.evidence").first.is_visible()
    assert closed.evaluate("e => e.getBoundingClientRect().top") < 1000, "and scrolls to it"
    page.screenshot(path=str(ARTIFACTS / "finding-opened.png"))
    assert seen["errors"] == [] and seen["requests"] == [sample_report.as_uri()]
    page.close()


def test_brushing_a_time_range_filters_the_tables_and_zoom_changes_the_view(browser, sample_report):
    page, seen = open_report(browser, sample_report, "timeline-full.png")
    assert page.locator("#timeline svg text", has_text="ovs-node1 · ovs-workers").count() == 1, "section lanes render"
    assert page.locator("#timeline svg text", has_text="ovs-node1 · volumedriver").count() == 1, "node x producer lanes"
    before = page.locator("#tl-range").inner_text()
    page.locator("#tl-svg").scroll_into_view_if_needed()  # below the Start here panel
    box = page.locator("#tl-svg").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + 40)
    page.locator("#tl").focus()  # the wheel zooms a focused chart; otherwise it scrolls the page
    page.mouse.wheel(0, -300)
    assert page.locator("#tl-range").inner_text() != before, "scrolling zooms"
    page.locator("[data-zoom=reset]").click()
    assert page.locator("#tl-range").inner_text() == before
    total, rows = visible_findings(page), page.locator("#inventory tbody tr:visible").count()
    page.mouse.move(box["x"] + 220, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 420, box["y"] + 40, steps=5)
    page.mouse.up()
    assert page.locator("#filter-state").inner_text().startswith("Time filter: 2017-03-14 04:")
    assert visible_findings(page) < total, "findings outside the brushed range are hidden"
    assert page.locator("#inventory tbody tr:visible").count() < rows, "so are files that end before it"
    page.screenshot(path=str(ARTIFACTS / "brushed.png"))
    page.locator("#clear-brush").click()
    assert visible_findings(page) == total
    assert page.evaluate("window.__pwned") is None and seen["errors"] == [] and seen["dialogs"] == []
    page.close()
