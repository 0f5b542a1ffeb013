"""The report in a real headless Chromium: it loads offline, shows its parts, and log text stays inert."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from analyzer.pipeline import analyze
from analyzer.report import write_outputs
from tests.conftest import SAMPLE

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
HOSTILE = ('<script>window.__pwned = 1</script>"><img src=x onerror="window.__pwned = 2">'
           "</script><svg onload=\"window.__pwned = 3\">")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_report(browser, report: Path, screenshot: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    seen = {"requests": [], "errors": [], "dialogs": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
    return page, seen


def test_report_loads_offline_with_no_errors_and_no_requests(browser, tmp_path, rules):
    write_outputs(analyze(SAMPLE, rules), tmp_path, {})
    report = tmp_path / "report.html"
    page, seen = open_report(browser, report, "sample-report.png")
    assert seen["requests"] == [report.as_uri()], "the page must not fetch anything"
    assert seen["errors"] == []
    assert page.locator("#timeline svg rect").count() > 10, "the timeline draws event bars"
    assert page.locator("article.finding").count() >= 5
    page.locator("#timeline svg a").first.click()
    assert page.url.endswith("#f0"), "a finding on the timeline links to its evidence"
    page.close()


def test_log_lines_with_script_payloads_stay_inert_text(browser, tmp_path, rules, make_bundle):
    line = ("2017-03-14 10:22:05 046812 +0100 - ovs-node1 - 18332/0x00007f8400994700 - volumedriverfs/Volume - "
            f"00000000000a1b2c - error - write: No space left on device {HOSTILE}\n")
    bundle = make_bundle({"var/log/ovs/volumedriver/vpool1.log": line})
    write_outputs(analyze(bundle, rules), tmp_path, {})
    page, seen = open_report(browser, tmp_path / "report.html", "hostile-report.png")
    assert page.evaluate("window.__pwned") is None
    assert seen["dialogs"] == [] and seen["errors"] == []
    assert HOSTILE in page.locator("pre.evidence").first.inner_text()
    page.close()
