"""The committed sample's story in the report, in a real headless Chromium: the worker killed with a
task in hand, the task that never finished, the flapping volumedriver, drawn and tabled."""

from __future__ import annotations

import pytest

from analyzer.outputs.report import write_outputs
from analyzer.pipeline.analysis import analyze
from tests.conftest import ARTIFACTS, SAMPLE, open_report

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report(tmp_path_factory, rules):
    out = tmp_path_factory.mktemp("tasks-services")
    write_outputs(analyze(SAMPLE, rules), out, {})
    return out / "report.html"


def test_tasks_section_shows_failures_first_and_the_task_that_never_finished(browser, report):
    page, seen = open_report(browser, report, "tasks-services.png")
    tasks = page.locator("#section-tasks")
    problems = tasks.locator("table.tasks").nth(0).locator("tbody tr")
    assert problems.first.locator("td").nth(1).inner_text() == "failed"
    assert "ArakoonNoMaster" in problems.first.inner_text()
    assert "timed out" in tasks.locator("table.tasks").nth(0).inner_text()
    unfinished = tasks.locator("table.tasks").nth(1).inner_text()
    assert "ovs.mds.mds_checkup" in unfinished and "225b63b5-2ccd-463d-82fd-4c3bddf9e6c9" in unfinished
    per_name = tasks.locator("table.tasks").nth(2).inner_text()
    assert "ovs.mds.ensure_safety" in per_name and "ovs.storagerouter.ping" in per_name
    assert page.locator("article.finding", has_text="MDS_SAFETY_TASKS_FAILING").count() == 1
    assert seen["errors"] == [] and seen["requests"] == [report.as_uri()]
    page.close()


def test_services_section_and_timeline_lanes_show_the_crashes(browser, report):
    page, seen = open_report(browser, report, "services-lanes.png")
    services = page.locator("#section-services")
    alerts = services.locator("ul.warn").inner_text()
    assert "ovs-volumedriver_vpool1 flapped: 3 crashes" in alerts
    assert "ovs-workers 1 crash" in alerts
    assert "memcached" in services.locator("p.missing").inner_text()
    workers = services.locator("ul.warn li", has_text="ovs-workers")
    assert "Around it: ARAKOON_NO_MASTER" in workers.inner_text(), "the kill reads as part of the Arakoon story"
    workers.locator("a", has_text="ARAKOON_NO_MASTER").click()
    assert page.url.endswith("#f0") and page.locator("article#f0 pre.evidence").first.is_visible()
    services.locator("details summary").click()
    assert services.locator("table.states tr", has_text="9/KILL").count() == 1
    svg = page.locator("#tl-svg")
    labels = svg.locator("text.lane-label").evaluate_all("ts => ts.map(t => t.firstChild.nodeValue)")
    assert {"ovs-volumedriver_vpool1", "ovs-workers", "rabbitmq-server"} <= set(labels), "one lane per service"
    crash_tips = svg.locator("rect title").evaluate_all(
        "ts => ts.map(t => t.textContent).filter(s => s.includes(': crashed '))")
    assert len(crash_tips) == 4 and any(t.startswith("ovs-workers: crashed") for t in crash_tips)
    flags = services.locator("table.services td:last-child").all_inner_texts()
    assert not [f for f in flags if f.strip() == "expected"], "a bare 'expected' on every row tells nothing"
    running = services.locator("table.services tr.state-running td:last-child").all_inner_texts()
    assert not [f for f in running if "expected" in f], "an expected service that runs needs no flag"
    page.screenshot(path=str(ARTIFACTS / "services-section.png"))
    assert seen["errors"] == []
    page.close()


def test_summary_names_the_task_outcomes_and_the_crashed_and_missing_services(report):
    summary = (report.parent / "summary.md").read_text()
    assert "Celery tasks rebuilt from the logs: 508 (4 failed, 501 succeeded, 1 timed out, 2 unfinished)." in summary
    assert "crashed ovs-volumedriver_vpool1, ovs-workers; flapping ovs-volumedriver_vpool1;" in summary
    assert "no trace: ovs-volumerouter-consumer, ovs-scheduled-tasks, memcached, nginx." in summary
