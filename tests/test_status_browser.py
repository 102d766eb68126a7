"""The status pages in a real chromium: readable charts, usable bars, phones, axe."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from projects import build, fixed_clock, write_project
from servers import CHROMIUM_ARGS, chromium_path

pytestmark = pytest.mark.slow  # a real chromium

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
T0 = datetime(2026, 11, 27, 20, 15, tzinfo=UTC)
CHARTS = """
<div class="panels">
<section class="panel"><h2>Latency</h2>{{ latency | render }}</section>
<section class="panel"><h2>Errors</h2>{{ errors | render }}</section>
<section class="panel"><h2>Status</h2>{{ week | render }}</section>
</div>
"""
MODULE = """
from datetime import datetime, timedelta, timezone
from dashsite import collector, LineChart, BarChart, StatusTimeline

END = datetime(2026, 11, 27, 20, 15, tzinfo=timezone.utc)

@collector
def latency():
    hours = [END - timedelta(hours=168 - h) for h in range(169)]
    return LineChart({"api": [(t, 100 + (h * 37) % 450) for h, t in enumerate(hours)],
                      "db": [(t, 50 + (h * 13) % 90) for h, t in enumerate(hours)]},
                     title="Latency", unit="ms", thresholds={"critical": 500, "warning": 300},
                     annotations=[(END - timedelta(hours=40), "deploy")])

@collector
def errors():
    return BarChart({"mon": {"api": 3, "db": 1}, "tue": {"api": 5, "db": 2},
                     "wed": {"api": 1, "db": 0}, "thu": {"api": 2, "db": 4},
                     "fri": {"api": 0, "db": 1}}, title="Errors", stacked=True)

@collector
def week():
    start = END - timedelta(days=7)
    return StatusTimeline([(start, "ok"), (start + timedelta(days=3), "error"),
                           (start + timedelta(days=3, minutes=5), "ok")],
                          title="Status, last week", end=END)
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def open_page(browser: Browser, path: Path, width: int, theme: str = "light") -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=theme)
    page = context.new_page()
    page.goto(path.as_uri())
    return page


@pytest.fixture(scope="module")
def chart_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("charts")
    write_project(root, {"charts": {"dashboard.py": MODULE, "template.html": CHARTS}})
    build(root, version_id="v1", clock=fixed_clock(T0))
    return root / "site" / "charts" / "index.html"


VISIBLE_TEXT = """figure => {
  const out = [];
  for (const el of figure.querySelectorAll('.chart-frame span, .chart-notes, figcaption, text')) {
    if (el.closest('.chart-tip') || el.classList.contains('chart-hit')) continue;
    if (el.classList.contains('chart-key') || el.classList.contains('chart-mark')) continue;
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (style.display === 'none' || r.width === 0 || !el.textContent.trim()) continue;
    out.push({cls: el.getAttribute('class') || el.tagName, text: el.textContent,
              x: r.x, y: r.y, w: r.width, h: r.height, size: parseFloat(style.fontSize)});
  }
  return out;
}"""


def overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if (a["x"] < b["x"] + b["w"] - 0.5 and b["x"] < a["x"] + a["w"] - 0.5
                    and a["y"] < b["y"] + b["h"] - 0.5 and b["y"] < a["y"] + a["h"] - 0.5):
                found.append((a["text"], b["text"]))
    return found


@pytest.mark.parametrize("width", [1280, 390])
def test_chart_text_is_readable_and_never_overlaps(
    chart_site: Path, browser: Browser, width: int
) -> None:
    page = open_page(browser, chart_site, width)
    figures = page.locator("figure.chart")
    assert figures.count() == 3
    for n in range(3):
        texts = figures.nth(n).evaluate(VISIBLE_TEXT)
        labels = [t for t in texts if "label" in t["cls"]]
        assert len(labels) >= 2, texts
        small = [t for t in texts if t["size"] < 11 or t["h"] < 11]
        assert small == [], small
        assert overlapping(labels) == []
        # no label wider than the page, none outside the figure's box
        box = figures.nth(n).bounding_box()
        assert all(t["x"] >= box["x"] - 1 and t["x"] + t["w"] <= box["x"] + box["width"] + 1
                   for t in labels), labels
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    notes = figures.nth(0).locator(".chart-notes").inner_text()
    assert "Times in UTC" in notes and "critical at 500 ms" in notes and "deploy (" in notes
    page.context.close()


def test_a_chart_value_shows_on_hover_and_on_keyboard_focus(
    chart_site: Path, browser: Browser
) -> None:
    page = open_page(browser, chart_site, 1280)
    hits = page.locator("figure.chart").first.locator(".chart-hit")
    assert 10 <= hits.count() <= 60
    tip = hits.nth(20).locator(".chart-tip")
    assert not tip.is_visible()
    hits.nth(20).hover()
    assert tip.is_visible()
    text = tip.inner_text()
    assert text.startswith("2026-11-2") and " UTC: api " in text and " ms, db " in text
    page.mouse.move(5, 5)
    assert not tip.is_visible()
    # keyboard: one tab stop for the chart, the arrow keys walk its columns
    assert [hits.nth(i).get_attribute("tabindex") for i in range(3)] == ["0", "-1", "-1"]
    hits.first.focus()
    assert hits.first.locator(".chart-tip").is_visible()
    first = hits.first.locator(".chart-tip").inner_text()
    page.keyboard.press("ArrowRight")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused != first and hits.nth(1).locator(".chart-tip").is_visible()
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement === document.querySelector("
                         "'figure.chart .chart-hits').lastElementChild")
    page.context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_five_minute_outage_in_a_week_is_at_least_two_pixels(
    chart_site: Path, browser: Browser, width: int
) -> None:
    page = open_page(browser, chart_site, width)
    timeline = page.locator("figure.chart").nth(2)
    marks = timeline.locator(".chart-mark.status-error")
    assert marks.count() == 1
    assert marks.first.bounding_box()["width"] >= 2
    colour = marks.first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(207, 34, 46)"
    summary = timeline.locator("svg desc").text_content()
    assert "error < 1%" in summary and "error 0%" not in summary
    page.context.close()


INCIDENT = """\
+++
title = "Database upgrade"
dashboards = ["web"]
start = 2026-11-20T08:00:00Z
end = 2026-11-20T09:00:00Z
severity = "maintenance"
[[updates]]
at = 2026-11-19T16:00:00Z
status = "scheduled"
text = "Planned for tomorrow 08:00 UTC, about an hour."
[[updates]]
at = 2026-11-20T08:30:00Z
status = "in-progress"
text = "Halfway."
[[updates]]
at = 2026-11-20T09:00:00Z
status = "completed"
text = "Done. Notes: https://example.com/runbooks/database/upgrades/2026-11-20/postgres-16-to-17-major-version-upgrade-with-pg_upgrade-link-mode"
+++
Done in **one** hour.
"""
SCHEDULED = """\
+++
title = "Kernel upgrade on every web and database host, one rack at a time"
start = 2026-12-05T02:00:00Z
end = 2026-12-05T05:30:00Z
severity = "maintenance"
[[updates]]
at = 2026-11-20T09:00:00Z
status = "scheduled"
text = "Each host restarts once."
+++
"""
WEB = {"dashboard.py": "from dashsite import collector, MonitorKV\nTITLE = 'Web'\n"
       "@collector\ndef port():\n    return MonitorKV({'port': 8080})\n",
       "template.html": "<div>{{ port | render }}</div>"}
BROKEN = {"dashboard.py": "import no_such_module_here\n", "template.html": "<p>x</p>"}


@pytest.fixture(scope="module")
def status_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site with 90 days of hourly history, a chart page, a broken dashboard, an incident."""
    from projects import seed_log

    root = tmp_path_factory.mktemp("status")
    write_project(root, {"web": WEB, "broken": BROKEN,
                         "charts": {"dashboard.py": MODULE, "template.html": CHARTS}},
                  config='title = "Example status"\nexpected_every = "1h"\n')
    seed_log(root, ["web"], 90 * 24, T0 - timedelta(hours=1), every=60)
    (root / "incidents").mkdir()
    (root / "incidents" / "upgrade.md").write_text(INCIDENT)
    (root / "incidents" / "kernel.md").write_text(SCHEDULED)  # told ahead, on every page
    for n in range(2):
        build(root, version_id=f"v{n}", clock=fixed_clock(T0 + timedelta(hours=n)))
    return root / "site"


def page_kinds(site: Path) -> dict[str, Path]:
    snapshot = next(site.glob("web/*/v0/index.html"))  # (v1 found its data unchanged: a check)
    month = max((site / "web" / "history").glob("2026-11*.html"), key=lambda p: p.stat().st_mtime)
    return {"index": site / "index.html", "latest": site / "web" / "index.html",
            "charts": site / "charts" / "index.html", "snapshot": snapshot,
            "history": site / "web" / "history" / "index.html", "month": month,
            "incident": site / "incidents" / "upgrade.html",
            "incidents": site / "incidents" / "index.html",
            "scheduled": site / "incidents" / "kernel.html",
            "failed": site / "broken" / "index.html", "feed": site / "feed.html"}


def test_the_day_bars_are_one_tab_stop_and_arrows_move_between_days(
    status_site: Path, browser: Browser
) -> None:
    page = open_page(browser, status_site / "web" / "index.html", 1280)
    links = page.locator("ol.day-bars a.day-focus")
    assert links.count() >= 80  # a long history: the days are links
    presses, visits = 0, 0
    for presses in range(1, 30):  # noqa: B007 - counted
        page.keyboard.press("Tab")
        where = page.evaluate("""() => {
            const el = document.activeElement;
            const bars = document.querySelector('ol.day-bars');
            if (bars.contains(el)) return 'bars';
            const after = bars.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING;
            return el.tagName === 'A' && after ? 'after' : 'before';
        }""")
        visits += where == "bars"
        if where == "after":
            break
    assert where == "after" and presses <= 10 and visits == 1, (presses, visits)
    # back onto the bars: today is focused, its label shown; the arrow keys walk the days
    today = links.last
    today.focus()  # the row's one tab stop
    assert today.evaluate("e => e === document.activeElement")
    label = today.locator(".visually-hidden")
    assert label.bounding_box()["width"] > 100
    assert "version" in label.inner_text() and "uptime" in label.inner_text()
    page.keyboard.press("ArrowLeft")
    assert links.nth(links.count() - 2).evaluate("e => e === document.activeElement")
    assert links.nth(links.count() - 2).get_attribute("tabindex") == "0"
    assert today.get_attribute("tabindex") == "-1"
    page.keyboard.press("Home")
    first = page.locator("ol.day-bars [tabindex]").first
    assert first.evaluate("e => e === document.activeElement")
    page.context.close()


def test_a_tap_on_a_day_shows_its_detail_before_it_navigates(
    status_site: Path, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 800}, has_touch=True,
                                  is_mobile=True)
    page = context.new_page()
    url = (status_site / "web" / "index.html").as_uri()
    page.goto(url)
    day = page.locator("ol.day-bars a.day-focus").nth(-5)
    assert day.is_visible()  # the last 30 days show on a phone
    assert page.locator("ol.day-bars > li:visible").count() == 30
    day.tap()
    assert page.url == url
    assert day.locator(".visually-hidden").bounding_box()["width"] > 100
    day.tap()
    page.wait_for_url("**/history/*.html*")
    context.close()


def test_a_days_detail_links_its_incidents_by_pointer_keyboard_and_tap(
    status_site: Path, browser: Browser
) -> None:
    page = open_page(browser, status_site / "web" / "index.html", 1280)
    day = page.locator("ol.day-bars > li", has=page.locator("a.day-focus", has_text="2026-11-20"))
    incident = day.locator(".day-incidents a")
    assert incident.count() == 1 and incident.inner_text() == "Database upgrade"
    assert day.locator(".day-incidents").bounding_box()["width"] <= 1  # hidden until asked for
    day.hover()
    bar, shown = day.bounding_box(), day.locator(".day-incidents").bounding_box()
    assert shown["width"] > 100 and shown["y"] >= bar["y"] + bar["height"]  # below the bar
    incident.hover()  # the pointer reaches it without the detail closing
    incident.click()
    page.wait_for_url("**/incidents/upgrade.html")
    # keyboard: walk to the day, Tab goes to its incident, then on past the bars
    page.goto((status_site / "web" / "index.html").as_uri())
    days = page.locator("ol.day-bars a.day-focus")
    days.last.focus()
    for _ in range(7):  # 2026-11-27 → 2026-11-20
        page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.textContent").startswith("2026-11-20")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Database upgrade"
    assert day.locator(".day-incidents").bounding_box()["width"] > 100  # shown while focused
    page.keyboard.press("Tab")
    assert not page.evaluate("document.querySelector('ol.day-bars').contains(document.activeElement)")
    page.context.close()
    # a phone: a tap shows the day's detail inside the screen, a tap on the incident opens it
    context = browser.new_context(viewport={"width": 390, "height": 800}, has_touch=True,
                                  is_mobile=True)
    page = context.new_page()
    page.goto((status_site / "web" / "index.html").as_uri())
    day = page.locator("ol.day-bars > li", has=page.locator("a.day-focus", has_text="2026-11-20"))
    day.locator("a.day-focus").tap()
    for part in (day.locator("a.day-focus .visually-hidden"), day.locator(".day-incidents")):
        box = part.bounding_box()
        assert box["width"] > 100 and box["x"] >= 0 and box["x"] + box["width"] <= 390
    day.locator(".day-incidents a").tap()
    page.wait_for_url("**/incidents/upgrade.html")
    context.close()


CONTRAST = """() => {
  const lum = c => { const v = c.match(/[0-9.]+/g).slice(0, 3).map(x => {
      x = x / 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const bg = lum(getComputedStyle(document.body).backgroundColor);
  const out = {};
  for (const bar of document.querySelectorAll('.day-bar')) {
    const state = [...bar.classList].find(c => c.startsWith('state-'));
    const l = lum(getComputedStyle(bar).backgroundColor);
    out[state] = Math.round(100 * (Math.max(l, bg) + 0.05) / (Math.min(l, bg) + 0.05)) / 100;
  }
  return out;
}"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_day_state_has_three_to_one_contrast(
    status_site: Path, browser: Browser, theme: str
) -> None:
    page = open_page(browser, status_site / "web" / "index.html", 1280, theme)
    # every state the theme draws, on one row of bars
    page.evaluate("""() => {
        const bars = document.querySelectorAll('ol.day-bars > li');
        ['up', 'degraded', 'down', 'maintenance', 'nodata'].forEach((s, i) => {
            bars[i].className = 'day-bar state-' + s; });
    }""")
    found = page.evaluate(CONTRAST)
    assert set(found) == {f"state-{s}" for s in ("up", "degraded", "down", "maintenance", "nodata")}
    assert all(ratio >= 3 for ratio in found.values()), found
    page.context.close()


INDEX_RUNS = """() => [...document.querySelectorAll('.day-runs')].map(bars => {
  // beside each run, a day of the dashboard page's bars in the same state: its colour
  const probe = document.createElement('ol');
  probe.className = 'day-bars';
  bars.after(probe);
  const runs = [...bars.children].map(run => {
    const day = document.createElement('li');
    day.className = 'day-bar state-' + run.classList[0];
    probe.append(day);
    const box = run.getBoundingClientRect();
    return {cls: run.className, x: box.x, w: box.width, h: box.height,
            colour: getComputedStyle(run).backgroundColor,
            page: getComputedStyle(day).backgroundColor};
  });
  probe.remove();
  const box = bars.getBoundingClientRect();
  return {x: box.x, w: box.width, runs};
})"""


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize(("width", "shown"), [(1280, 90), (390, 30)])
def test_an_index_card_draws_each_run_of_days_as_wide_as_its_days(
    status_site: Path, browser: Browser, theme: str, width: int, shown: int
) -> None:
    """One element per run of alike days: placed and coloured as the days it stands for
    (the last 30 on a phone), in the colours of the dashboard page's bars."""
    page = open_page(browser, status_site / "index.html", width, theme)
    # and one card with every state, redrawn as a build would write it
    page.evaluate("""() => { document.querySelector('.day-runs').innerHTML =
        '<span class="nodata d10"></span><span class="up d20"></span><span class="degraded">'
        + '</span><span class="down d3"></span><span class="maintenance d2"></span>'
        + '<span class="up partial d4"></span><span class="up d49"></span><span class="down">'
        + '</span>'; }""")
    cards = page.evaluate(INDEX_RUNS)
    assert len(cards) == 2  # web (90 days of history) and charts (one day)
    states = set()
    for card in cards:
        day = card["w"] / shown
        first = 0  # the run's first day, of the 90
        for run in card["runs"]:
            days = int(run["cls"].split(" d")[1]) if " d" in run["cls"] else 1
            hidden = max(0, min(first + days, 90 - shown) - first)  # before the shown days
            assert run["w"] == pytest.approx((days - hidden) * day, abs=0.5), run
            if days > hidden:
                start = max(first, 90 - shown) - (90 - shown)
                assert run["x"] == pytest.approx(card["x"] + start * day, abs=0.5), run
                assert run["h"] > 20
            assert run["colour"] == run["page"], run
            states.add(run["cls"].split()[0])
            first += days
        assert first == 90
    assert states == {"up", "degraded", "down", "maintenance", "nodata"}
    page.context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_no_page_overflows_and_screenshots_are_left(
    status_site: Path, browser: Browser, width: int
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for kind, path in page_kinds(status_site).items():
        page = open_page(browser, path, width)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, kind
        if width == 1280 or kind in ("index", "latest"):
            # bytes, written here: playwright's own file writing leaves executor threads
            (ARTIFACTS / f"status-{kind}-{width}.png").write_bytes(page.screenshot(full_page=True))
        page.context.close()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_status_pages_pass_axe(
    status_site: Path, browser: Browser, theme: str, width: int
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    found = []
    for kind, path in page_kinds(status_site).items():
        page = open_page(browser, path, width, theme)
        for violation in axe.run(page).response["violations"]:
            found.append((kind, violation["id"], [n["target"] for n in violation["nodes"]][:3]))
        page.context.close()
    assert found == []


def test_a_feed_reads_as_a_page_over_http_with_how_to_subscribe(
    status_site: Path, browser: Browser
) -> None:
    """Served over HTTP as a visitor meets it: the index leads to the feed's page, which shows
    the feed's entries as text and the feed's address; the feed itself stays Atom."""
    import xml.etree.ElementTree as ET

    from servers import ServeProcess

    atom = "{http://www.w3.org/2005/Atom}"
    server = ServeProcess(status_site.parent)
    try:
        context = browser.new_context(viewport={"width": 390, "height": 900})
        page = context.new_page()
        page.goto(server.url + "index.html")
        page.get_by_role("link", name="Subscribe to incidents").click()
        assert page.url == server.url + "feed.html"
        response = page.request.get(server.url + "feed.xml")
        assert response.ok
        tree = ET.fromstring(response.body())
        assert tree.tag == f"{atom}feed"
        titles = [e.findtext(f"{atom}title") for e in tree.iter(f"{atom}entry")]
        assert titles and all(titles)
        shown = page.locator("li.incident strong").all_inner_texts()
        assert shown == titles  # rendered text, each visible, in the feed's order
        assert all(page.locator("li.incident strong").nth(n).is_visible()
                   for n in range(len(titles)))
        how = page.locator("section.subscribe")
        assert "How to subscribe" in how.inner_text() and "feed reader" in how.inner_text()
        address = how.locator("a.feed-address")
        assert address.get_attribute("href") == "feed.xml"
        assert page.request.get(server.url + "web/feed.xml").ok
        page.goto(server.url + "web/index.html")
        page.get_by_role("link", name="Subscribe to these incidents").click()
        assert page.url == server.url + "web/feed.html"
        assert page.locator("h1").inner_text() == "Incidents feed"
        context.close()
    finally:
        assert server.stop() == 0


DOWN = {"dashboard.py": "from dashsite import collector\n@collector\ndef api():\n"
                        "    raise RuntimeError('unreachable')\n",
        "template.html": "<p>{{ api }}</p>"}


def test_an_ongoing_incident_counts_up_while_fresh_and_stops_at_the_last_update_when_stale(
    tmp_path: Path, browser: Browser
) -> None:
    """Read a week late, "since 20:15 (7d 3h)" told an outage nobody had checked for days:
    on a stale page the duration stops at the newest collection and says so."""
    write_project(tmp_path, {"api": DOWN}, config='expected_every = "5m"\n')
    for n in range(3):  # down since 20:15, checked 20:15, 20:20, 20:25
        build(tmp_path, version_id=f"v{n}", clock=fixed_clock(T0 + timedelta(minutes=5 * n)))
    index = tmp_path / "site" / "index.html"

    def since(now: datetime) -> tuple[str, bool]:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.clock.set_fixed_time(now)
        page.goto(index.as_uri())
        text = page.locator("section.ongoing .since").first.inner_text()
        stale = page.locator("[data-stale-notice]").first.is_visible()
        context.close()
        return text, stale

    assert since(T0 + timedelta(minutes=12)) == ("12m 0s", False)  # fresh: counted to now
    assert since(T0 + timedelta(days=7)) == ("at least 10m 0s as of the last update", True)


def test_on_the_index_each_incident_goes_by_its_own_dashboards_last_update(
    tmp_path: Path, browser: Browser
) -> None:
    """One dashboard built every 5 minutes, one stopped an hour ago: the fresh one's outage
    counts to now; the stale one's stops at its own last update (not the other's)."""
    write_project(tmp_path, {"api": DOWN, "db": DOWN}, config='expected_every = "5m"\n')
    build(tmp_path, version_id="v0", clock=fixed_clock(T0))  # both down since 20:15
    for n in range(1, 13):  # only api again: 20:20 … 21:15 (db's last update stays 20:15)
        build(tmp_path, version_id=f"v{n}", clock=fixed_clock(T0 + timedelta(minutes=5 * n)),
              only=frozenset({"api"}))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.clock.set_fixed_time(T0 + timedelta(minutes=62))  # 21:17
    page.goto((tmp_path / "site" / "index.html").as_uri())
    texts = {
        item.locator("a").first.inner_text(): item.locator(".since").inner_text()
        for item in page.locator("section.ongoing li").all()
    }
    context.close()
    assert texts == {"Api": "1h 2m", "Db": "at least 0s as of the last update"}, texts
