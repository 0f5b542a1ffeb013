"""Finding one's way around the report, in a real headless Chromium on the shipped sample (issue #22).

The page behaves like the tools support engineers already use: the wheel scrolls the page and zooms the
timeline only when asked to, zooming closes in on the findings, the chart never draws outside its plot,
evidence stays folded to a preview, a severity chip is a toggle, a finding leads back to its place on the
timeline, every time says its zone, and every table sorts by a click on its header.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from analyzer.outputs.report import write_outputs
from analyzer.pipeline.analysis import analyze
from tests.conftest import ARTIFACTS, ROOT, SAMPLE, open_report

pytestmark = pytest.mark.browser

PAGE_HEIGHT_BEFORE = 21_584  # document height of the sample's report at 1400x1000 when issue #22 was filed
PAGE_HEIGHT_BOUND = 12_500
FINDINGS_HEIGHT_BEFORE = 13_961  # the findings section alone, then; the rest of the page is ~7,400 px of other sections
LABEL, RIGHT = 200, 14  # the timeline's label column and right margin (report.js)


@pytest.fixture(scope="module")
def sample(tmp_path_factory, rules):
    out = tmp_path_factory.mktemp("navigation")
    write_outputs(analyze(SAMPLE, rules), out, {})
    return out


@pytest.fixture(scope="module")
def doc(sample):
    return json.loads((sample / "findings.json").read_text())


@pytest.fixture
def page(browser, sample, request):
    page, seen = open_report(browser, sample / "report.html", f"nav-{request.node.name[5:45]}.png")
    yield page
    assert seen["errors"] == [], "no console error"
    assert seen["requests"] == [(sample / "report.html").as_uri()], "the page fetches nothing"
    page.close()


def epoch(text: str) -> float:
    text = text.replace("T", " ").rstrip("Z")
    for pattern in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    raise ValueError(text)


def view(page) -> tuple[float, float]:
    """The time range the timeline shows, from its range label (to the minute)."""
    first, last = re.fullmatch(r"(\S+ \S+) → (\S+ \S+) UTC", page.locator("#tl-range").inner_text()).groups()
    return epoch(first), epoch(last)


def finding_times(doc) -> list[float]:
    return sorted({epoch(e["timestamp"]) for f in doc["findings"] for e in f["evidence"] if e["timestamp"]}
                  | {epoch(f["first_seen"]) for f in doc["findings"] if f["first_seen"]})


def chart_point(page, fx: float = 0.6, dy: float = 40) -> tuple[float, float]:
    box = page.locator("#tl-svg").bounding_box()
    return box["x"] + box["width"] * fx, box["y"] + dy


def scroll_y(page) -> float:
    return page.evaluate("window.scrollY")


def wheel(page, dy: float, modifier: str | None = None) -> None:
    page.mouse.move(*chart_point(page))
    if modifier:
        page.keyboard.down(modifier)
    page.mouse.wheel(0, dy)
    if modifier:
        page.keyboard.up(modifier)
    page.wait_for_timeout(250)  # let a scroll, if any, land


# 1 -----------------------------------------------------------------------------------------------------------
def test_the_wheel_over_the_timeline_scrolls_the_page_unless_the_chart_has_focus_or_a_modifier_is_held(page):
    hint = page.locator("#tl-hint").inner_text()
    assert "Ctrl+wheel" in hint and "Shift+wheel pans" in hint and "Esc" in hint, "the heading says how"
    page.evaluate("window.scrollTo(0, document.getElementById('timeline').offsetTop - 60)")
    full, top = view(page), scroll_y(page)

    wheel(page, 300)
    assert scroll_y(page) > top, "a plain wheel over the chart scrolls the page"
    assert view(page) == full, "and leaves the zoom alone"

    page.evaluate("window.scrollTo(0, document.getElementById('timeline').offsetTop - 60)")
    top = scroll_y(page)
    wheel(page, -300, "Control")
    zoomed = view(page)
    assert zoomed[1] - zoomed[0] < full[1] - full[0], "Ctrl+wheel zooms"
    assert scroll_y(page) == top, "and the page stays put"
    wheel(page, -300, "Meta")
    assert view(page)[1] - view(page)[0] < zoomed[1] - zoomed[0], "so does Meta+wheel"
    zoomed = view(page)
    wheel(page, 300, "Shift")
    panned = view(page)
    assert panned != zoomed and abs((panned[1] - panned[0]) - (zoomed[1] - zoomed[0])) <= 60, "Shift+wheel pans"
    assert scroll_y(page) == top
    page.locator("[data-zoom=reset]").click()

    page.mouse.click(*chart_point(page))
    assert page.evaluate("document.activeElement.id") == "tl", "a click on the chart gives it focus"
    ring = page.locator("#tl").evaluate("e => [getComputedStyle(e).outlineStyle, getComputedStyle(e).outlineWidth]")
    assert ring[0] != "none" and float(ring[1].rstrip("px")) >= 2, "with a visible focus ring"
    page.screenshot(path=str(ARTIFACTS / "nav-timeline-focused.png"))
    top = scroll_y(page)
    wheel(page, -300)
    assert view(page)[1] - view(page)[0] < full[1] - full[0], "a focused chart zooms on the wheel"
    assert scroll_y(page) == top, "without scrolling the page"

    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") != "tl", "Escape leaves the chart"
    zoomed = view(page)
    wheel(page, 300)
    assert scroll_y(page) > top and view(page) == zoomed, "and the wheel scrolls the page again"

    page.locator("[data-zoom=reset]").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "tl", "the chart is reachable with the keyboard"
    page.keyboard.press("+")
    assert view(page)[1] - view(page)[0] < full[1] - full[0], "and + zooms it"
    page.keyboard.press("0")
    assert view(page) == full, "0 shows the whole bundle"
    page.mouse.click(5, 5)
    assert page.evaluate("document.activeElement.id") != "tl", "a click elsewhere leaves the chart"


# 2 -----------------------------------------------------------------------------------------------------------
def test_zoom_buttons_close_in_on_the_findings_never_on_an_empty_middle(page, doc):
    full = view(page)
    times = finding_times(doc)
    middle, eighth = (full[0] + full[1]) / 2, (full[1] - full[0]) / 8
    assert not [t for t in times if abs(t - middle) <= eighth / 2], \
        "premise (issue #22): zooming 3 times on the middle of the sample lands where no finding is"

    for _ in range(3):
        page.locator("[data-zoom=in]").click()
    v0, v1 = view(page)
    assert v1 - v0 <= (full[1] - full[0]) / 8 + 120
    start = epoch(doc["start_here"]["first_seen"])
    assert v0 <= start <= v1, "the buttons zoom around the finding to start with"
    assert len([t for t in times if v0 <= t <= v1]) >= 5, "so the view is full of findings"
    assert page.locator("#tl-svg a rect.mark").count() >= 5
    page.screenshot(path=str(ARTIFACTS / "nav-zoomed-on-findings.png"))

    page.locator("[data-zoom=reset]").click()
    x, y = chart_point(page, 0.45)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y, steps=4)
    page.mouse.up()
    brush = re.search(r"Time filter: (\S+ \S+) → (\S+ \S+) UTC", page.locator("#filter-state").inner_text()).groups()
    centre = (epoch(brush[0]) + epoch(brush[1])) / 2
    page.locator("[data-zoom=in]").click()
    v0, v1 = view(page)
    assert abs((v0 + v1) / 2 - centre) <= 120, "with a selection, zoom centres on it"


def test_the_wheel_zooms_around_the_cursor(page):
    page.evaluate("window.scrollTo(0, document.getElementById('timeline').offsetTop - 60)")
    page.locator("#tl").focus()
    x, y = chart_point(page, 0.8)
    page.mouse.move(x, y)
    at = page.locator("#tl-svg").evaluate(
        "(svg, px) => { const r = svg.getBoundingClientRect(), s = svg.viewBox.baseVal.width / r.width; "
        "return (px - r.left) * s; }", x)
    v0, v1 = view(page)
    before = v0 + (at - LABEL) / (page.evaluate("document.getElementById('tl-svg').viewBox.baseVal.width")
                                  - LABEL - RIGHT) * (v1 - v0)
    page.mouse.wheel(0, -300)
    w0, w1 = view(page)
    after = w0 + (before - v0) / (v1 - v0) * (w1 - w0)  # the same screen position, in the new view
    assert w1 - w0 < v1 - v0 and abs(after - before) <= 180, "the time under the cursor stays under it"


# 3 -----------------------------------------------------------------------------------------------------------
CLIP_PROBE = """svg => {
  const clip = svg.querySelector('clipPath rect');
  const left = +clip.getAttribute('x'), right = left + +clip.getAttribute('width');
  const drawn = [...svg.querySelectorAll('rect')]
    .filter(r => !r.closest('clipPath') && !r.matches('.lane-bg, .hl-row'));
  const rect = svg.getBoundingClientRect(), scale = rect.width / svg.viewBox.baseVal.width;
  const outside = [], hits = [];
  let probed = 0;
  drawn.forEach(r => {
    const b = r.getBBox();
    if (b.x >= left - 0.5 && b.x + b.width <= right + 0.5) return;
    outside.push(r);
    const x = b.x < left ? (Math.max(b.x, 0) + left) / 2
                         : (right + Math.min(b.x + b.width, svg.viewBox.baseVal.width)) / 2;
    const px = rect.left + x * scale, py = rect.top + (b.y + b.height / 2) * scale;
    if (py < 60 || py > innerHeight - 5) return;
    probed++;
    const hit = document.elementFromPoint(px, py);
    if (hit === r || r.contains(hit)) hits.push(r.outerHTML);
  });
  return {left, right, width: svg.viewBox.baseVal.width, drawn: drawn.length, outside: outside.length, probed, hits,
          unclipped: drawn.filter(r => !r.closest('g[clip-path="url(#tl-clip)"]')).length};
}"""


def test_a_zoomed_timeline_draws_nothing_into_the_label_column_or_past_the_right_edge(page):
    for _ in range(4):
        page.locator("[data-zoom=in]").click()
    page.locator("[data-pan='-1']").click()
    page.evaluate("window.scrollTo(0, document.getElementById('tl').getBoundingClientRect().top + scrollY - 56)")
    probe = page.locator("#tl-svg").evaluate(CLIP_PROBE)
    assert (probe["left"], probe["right"]) == (LABEL, probe["width"] - RIGHT), "the clip is the plot area"
    assert probe["drawn"] > 20 and probe["unclipped"] == 0, "every bar, span and mark is drawn inside the clip"
    assert probe["outside"] > 0 and probe["probed"] > 0, "premise: zoomed, some bars begin before the plot"
    assert probe["hits"] == [], "yet none of them shows (or takes a click) outside it"
    page.screenshot(path=str(ARTIFACTS / "nav-zoomed-clipped.png"))


# 4 -----------------------------------------------------------------------------------------------------------
def test_evidence_is_folded_to_a_preview_of_its_first_record_so_the_page_is_far_shorter(page, doc):
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < PAGE_HEIGHT_BOUND < PAGE_HEIGHT_BEFORE * 0.6, f"the sample's page is {height} px tall"
    findings = page.locator("#findings").evaluate("e => e.getBoundingClientRect().height")
    assert findings < FINDINGS_HEIGHT_BEFORE / 2.5, f"the findings take {findings} px"
    cards = page.locator("article.finding")
    assert cards.count() == len(doc["findings"])
    assert page.locator("article.finding pre.evidence:visible").count() == 0, "no finding opens its evidence by itself"
    assert max(cards.evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")) < 300
    for i, f in enumerate(doc["findings"]):
        first = f["evidence"][0]
        peek = page.locator(f"#f{i} .ev-peek")
        assert peek.is_visible(), "the first record is there as a preview"
        assert f"{first['source'].rsplit('/', 1)[-1]}:{first['line']}" in peek.locator(".ev-head").inner_text()
        assert peek.locator(".ev-peek-line").text_content() == first["raw"].split("\n")[0]

    top = page.locator("#f0")
    top.locator("details.ev-list summary").click()
    assert top.locator("pre.evidence:visible").count() == len(doc["findings"][0]["evidence"]), "opened: every record"
    assert top.locator("pre.evidence .ctx").first.is_visible(), "with its context lines"
    assert not top.locator(".ev-peek").is_visible(), "and the preview steps aside"
    assert top.locator(".desc").evaluate("e => e.scrollHeight <= e.clientHeight + 1"), "the description is whole"
    page.screenshot(path=str(ARTIFACTS / "nav-evidence-opened.png"))


def test_long_tables_show_their_first_rows_until_asked_for_all(page, doc):
    inventory = page.locator("#inventory table")
    total = len(doc["bundle"]["inventory"])
    assert total > 12, "premise: the sample has a long inventory"
    assert inventory.locator("tbody tr:visible").count() == 10
    more = page.locator("#inventory .more-rows")
    assert more.inner_text() == f"Show all {total} rows"
    more.click()
    assert inventory.locator("tbody tr:visible").count() == total
    more.click()
    assert inventory.locator("tbody tr:visible").count() == 10


# 5 -----------------------------------------------------------------------------------------------------------
def test_a_severity_chip_is_a_toggle_only_this_severity_then_all_again(page, doc):
    def shown() -> list[str]:
        return page.locator("article.finding:visible").evaluate_all("els => els.map(e => e.dataset.sev)")

    every = [f["severity"] for f in doc["findings"]]
    high = page.locator("#sev-chips [data-sev=high]")
    high.click()
    assert shown() == ["high"] * every.count("high") and high.get_attribute("aria-pressed") == "true"
    checked = page.locator("#finding-filters input[name=sev]:checked")
    assert checked.evaluate_all("els => els.map(e => e.value)") == ["high"], "the checkboxes follow"
    high.click()
    assert shown() == every, "a second click brings back all"
    assert high.get_attribute("aria-pressed") == "false"
    assert page.locator("#finding-filters input[name=sev]:not(:checked)").count() == 0
    high.click()
    page.locator("#sev-chips [data-sev=critical]").click()
    assert shown() == ["critical"] * every.count("critical"), "another chip switches to its severity"
    page.locator("#sev-chips [data-sev=critical]").click()
    assert shown() == every


# 6 -----------------------------------------------------------------------------------------------------------
def test_show_on_timeline_takes_a_finding_back_to_its_place_on_the_timeline(page, doc):
    index = next(i for i, f in enumerate(doc["findings"]) if f["rule_id"] == "DTL_DEGRADED")
    finding = doc["findings"][index]
    full = view(page)
    page.locator(f"#f{index}").scroll_into_view_if_needed()
    page.locator(f"#f{index} .to-tl").click()
    page.wait_for_timeout(200)
    top = page.locator("#tl").evaluate("e => e.getBoundingClientRect().top")
    assert 0 <= top < 200, "the page scrolls to the timeline"
    v0, v1 = view(page)
    first, last = epoch(finding["first_seen"]), epoch(finding["last_seen"])
    assert v0 <= first <= last <= v1 and v1 - v0 < (full[1] - full[0]) / 4, "zoomed in on the finding's span"
    row = page.locator(f'#tl-svg .hl-row[data-finding="{index}"]')
    assert row.count() == 1, "its row is highlighted"
    mark = page.locator(f'#tl-svg a[data-finding="{index}"] rect.mark').first
    row_box, mark_box, svg_box = row.bounding_box(), mark.bounding_box(), page.locator("#tl-svg").bounding_box()
    assert row_box["y"] <= mark_box["y"] and mark_box["y"] + mark_box["height"] <= row_box["y"] + row_box["height"]
    scale = svg_box["width"] / page.evaluate("document.getElementById('tl-svg').viewBox.baseVal.width")
    plot_left, plot_width = svg_box["x"] + LABEL * scale, svg_box["width"] - (LABEL + RIGHT) * scale
    assert 0.3 < (mark_box["x"] - plot_left) / plot_width < 0.7, "and centred"
    assert page.locator("#tl-svg .lane-label.hl").text_content().startswith("DTL_DEGRADED")
    page.screenshot(path=str(ARTIFACTS / "nav-show-on-timeline.png"))
    page.locator("[data-zoom=in]").click()
    v0, v1 = view(page)
    assert v0 <= first <= v1, "and the zoom buttons keep that finding in view"


# 7 -----------------------------------------------------------------------------------------------------------
TIME = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
CLOCK = r"\b\d{2}:\d{2}:\d{2}(?:\.\d+)?"
ZONED = re.compile(rf"(?:{TIME}|{CLOCK})(?: → {TIME})? UTC(?: · local [+-]\d{{2}}:\d{{2}})?")


def test_finding_details_name_the_host_once_and_every_time_says_its_zone(page, doc):
    for i, f in enumerate(doc["findings"]):
        meta = page.locator(f"#f{i} .f-meta").inner_text()
        for host in f["hosts"]:
            assert meta.count(f"host {host}") == 1, f"{f['rule_id']}: the host is named once"
    assert any("host" in f["entities"] for f in doc["findings"]), "premise: an entity repeats the host"

    first = doc["findings"][0]["evidence"][0]
    assert "+0100" in first["raw"].split("\n")[0], "premise: the line is stamped in local time"
    page.locator("#f0 details.ev-list summary").click()
    head = page.locator("#f0 .ev .ev-head").first.inner_text()
    assert head == f"{first['source']}:{first['line']} · 2017-03-14 08:55:01.309 UTC · local +01:00 · ovs-node1"
    assert page.locator("#f0 .ev-peek .ev-head").inner_text().endswith("08:55:01.309 UTC · local +01:00")
    kernel = next(i for i, f in enumerate(doc["findings"]) if f["rule_id"] == "DISK_IO_ERROR_KERNEL")
    assert page.locator(f"#f{kernel} .ev-peek .ev-head").inner_text().endswith(" UTC · local +01:00"), \
        "a syslog stamp without a zone is read as local time too"

    texts = page.locator(".headline, #start-here, .f-meta, article.finding .ev-head").all_text_contents()
    bare = [t for t in texts if re.search(r"\d{2}:\d{2}:\d{2}", ZONED.sub("", t))]
    assert bare == [], "no time is left without its zone"


# 8 -----------------------------------------------------------------------------------------------------------
def column(page, table, index: int) -> list[str]:
    return table.locator("tbody tr").evaluate_all(
        "(rows, i) => rows.map(r => r.cells[i].getAttribute('data-sort') ?? r.cells[i].textContent.trim())", index)


def test_the_reports_tables_sort_by_a_click_on_their_header(page, sample):
    html = (sample / "report.html").read_text()
    assert (ROOT / "report_templates" / "table.js").read_text() in html, "the triage index's sorter, reused as is"

    inventory = page.locator("#inventory table")
    size = inventory.locator("thead th", has_text="Size")
    size.click()
    sizes = [float(v) for v in column(page, inventory, 2)]
    assert sizes == sorted(sizes) and size.get_attribute("aria-sort") == "ascending", "sizes sort as numbers"
    first = inventory.locator("tbody tr:visible td.num").first.inner_text()
    assert float(first.replace(",", "")) == sizes[0], "the smallest file comes first on screen"
    size.click()
    assert [float(v) for v in column(page, inventory, 2)] == sorted(sizes, reverse=True), "again: descending"
    inventory.locator("thead th", has_text="File").click()
    paths = column(page, inventory, 0)
    assert [p.lower() for p in paths] == sorted(p.lower() for p in paths)

    per_name = page.locator("#section-tasks table").last
    count = per_name.locator("thead th", has_text="Count")
    count.click()
    counts = [float(v) for v in column(page, per_name, 1)]
    assert counts == sorted(counts) and len(counts) > 1, "a section's table sorts too"
    versions = page.locator("#section-identity table").first
    versions.locator("thead th", has_text="Package").click()
    names = column(page, versions, 0)
    assert names == sorted(names, key=str.lower)
    page.screenshot(path=str(ARTIFACTS / "nav-sorted.png"))
