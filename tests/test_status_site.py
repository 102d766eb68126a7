"""Status over time in a built site: uptime, bars, incidents, feeds, badges, freshness."""

from __future__ import annotations

import email
import json
import shutil
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import feedparser
import pytest

from dashsite.site.build import BuildResult
from projects import (
    assert_site_whole,
    build,
    cli,
    fixed_clock,
    logged_versions,
    manifest_entries,
    vdir,
    write_project,
)

from htmltree import parse

T0 = datetime(2026, 11, 27, 20, 15, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"

FLAKY = """
from pathlib import Path
from dashsite import collector, MonitorMetric
MODE = Path(__file__).with_name("mode.txt")
TITLE = "{title}"
GROUP = "{group}"

@collector
def api():
    mode = MODE.read_text().strip() if MODE.exists() else "7"
    if mode == "down":
        raise RuntimeError("api unreachable")
    return MonitorMetric(int(mode), label="latency")

@collector
def disk():
    return 50
"""
TEMPLATE = (
    "<p id='api'>{% if 'api' in build.errors %}{% if 'api' in last_good %}stale since "
    "{{ last_good.api.collected_at | timestamp }}: {{ last_good.api.value.value }}{% endif %}"
    "{% else %}{{ api.value }}{% endif %}</p>"
)


def flaky(title: str = "Flaky", group: str = "") -> dict[str, str]:
    return {"dashboard.py": FLAKY.format(title=title, group=group), "template.html": TEMPLATE}


def project(
    tmp_path: Path, config: str = 'expected_every = "5m"\n', checks: bool = False, **dashboards
) -> Path:
    """A project of ``dashboards`` (one flaky ``alpha`` by default). Unless ``checks``, a
    build files a version even when the data is unchanged (``unchanged = "version"``):
    these tests count versions; ``test_checks.py`` holds the status of a site that files
    checks to the status of one that files versions."""
    if not checks and "unchanged" not in config:
        config += 'unchanged = "version"\n'
    write_project(tmp_path, dashboards or {"alpha": flaky()}, config=config)
    return tmp_path


def run(root: Path, slug: str, modes: list[str], start: datetime = T0,
        every: timedelta = timedelta(minutes=5)) -> list[BuildResult]:
    """One build per mode, ``every`` apart, the collector in that mode."""
    results = []
    for n, mode in enumerate(modes):
        (root / "dashboards" / slug / "mode.txt").write_text(mode)
        moment = start + n * every
        results.append(build(root, version_id=moment.strftime("%Y%m%dT%H%M%SZ"),
                             clock=fixed_clock(moment)))
    return results


def page(root: Path, relative: str):
    return parse((root / "site" / relative).read_text(encoding="utf-8"))


def uptime_cells(tree) -> dict[str, list[str]]:
    table = tree.find("table", class_="uptime-table")
    head = [th.text() for th in table.find("thead").find_all("th")][1:]
    rows = {}
    for tr in table.find("tbody").find_all("tr"):
        rows[tr.find("th").text()] = [td.text().rstrip("*").split(" (")[0] for td in tr.find_all("td")]
    return {"windows": head, **rows}


def feed(root: Path, relative: str):
    text = (root / "site" / relative).read_text(encoding="utf-8")
    parsed = feedparser.parse(text)
    assert not parsed.bozo, parsed.get("bozo_exception")
    tree = ET.fromstring(text)
    assert tree.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert tree.find(f"{ATOM}{required}") is not None, required
    for entry in tree.findall(f"{ATOM}entry"):
        for required in ("id", "title", "updated", "link"):
            assert entry.find(f"{ATOM}{required}") is not None, required
        assert entry.findtext(f"{ATOM}id", "").startswith("urn:uuid:")
    return parsed


def test_a_run_of_failures_is_an_incident_and_counts_as_down(tmp_path: Path) -> None:
    root = project(tmp_path)
    run(root, "alpha", ["7", "7", "down", "down"])
    ongoing = feed(root, "alpha/feed.xml")
    assert [e.title for e in ongoing.entries] == [
        "Flaky: error since 2026-11-27 20:25 UTC (ongoing)"]
    first_id, first_updated = ongoing.entries[0].id, ongoing.entries[0].updated
    run(root, "alpha", ["7", "7"], start=T0 + timedelta(minutes=20))
    latest = page(root, "alpha/index.html")
    # 20:15-20:25 up, 20:25-20:35 down, 20:35-20:40 up; the build at 20:40 is "now".
    cells = uptime_cells(latest)
    assert cells["windows"] == ["24 h"]
    assert cells["Dashboard"] == ["60.00 %"]
    assert cells["Api"] == ["60.00 %"] and cells["Disk"] == ["100 %"]
    incidents = latest.find("section", class_="incidents")
    items = list(incidents.find_all("li", class_="incident"))
    assert len(items) == 1
    text = " ".join(items[0].text().split())
    assert "From 2026-11-27 20:25 UTC to 2026-11-27 20:35 UTC (10m 0s, 2 versions)" in text
    assert "api: RuntimeError: api unreachable" in " ".join(text.split())
    resolved = feed(root, "alpha/feed.xml")
    assert [e.title for e in resolved.entries] == ["Flaky: error, resolved after 10m 0s"]
    assert resolved.entries[0].id == first_id  # the same entry, updated
    assert resolved.entries[0].updated == "2026-11-27T20:35:00Z" != first_updated
    manifest = manifest_entries(root / "site")["alpha"]
    assert manifest["incident"] is None and manifest["status"] == "ok"
    site_feed = feed(root, "feed.xml")
    assert [e.id for e in site_feed.entries] == [first_id]
    assert_site_whole(root / "site")


def test_without_a_base_url_a_feeds_links_resolve_from_where_the_feed_is(tmp_path: Path) -> None:
    """A relative link in a feed resolves against the feed's own address (RFC 4287):
    in ``alpha/feed.xml`` that is ``alpha/``, not the site's root."""
    root = project(tmp_path)
    run(root, "alpha", ["7", "down", "down", "7"])
    site = (root / "site").resolve()
    for relative in ("alpha/feed.xml", "feed.xml"):
        parsed = feed(root, relative)
        links = [link.href for link in parsed.feed.links]
        links += [link.href for entry in parsed.entries for link in entry.links]
        assert len(links) == 3, relative  # self, the page, the incident
        for href in links:
            target = ((site / relative).parent / href.partition("#")[0]).resolve()
            assert target.is_file() and target.is_relative_to(site), (relative, href)


def test_the_index_says_what_is_ongoing_worst_first_and_by_group(tmp_path: Path) -> None:
    root = project(tmp_path, alpha=flaky("Alpha", "Web"), beta=flaky("Beta", "Web"),
                   gamma=flaky("Gamma"))
    (root / "dashboards" / "alpha" / "mode.txt").write_text("7")
    (root / "dashboards" / "gamma" / "mode.txt").write_text("7")
    run(root, "beta", ["7", "down"])
    index = page(root, "index.html")
    banner = index.find("p", class_="banner")
    assert banner.find("strong").text() == "Partial outage" and "banner-error" in banner.classes
    assert banner.find("span").text().startswith("1 of 3 dashboards needs attention: Beta")
    assert "Beta since 2026-11-27 20:20 UTC" in index.find("section", class_="ongoing").text()
    groups = [h.text() for h in index.find_all("h2", class_="group-title")]
    assert groups == ["Web", "Other dashboards"]
    cards = [li.attrs["id"] for li in index.find_all("li", class_="card")]
    assert cards == ["card-beta", "card-alpha", "card-gamma"]  # worst first inside a group
    (root / "dashsite.toml").write_text('expected_every = "5m"\nindex_sort = "title"\n')
    run(root, "beta", ["down"], start=T0 + timedelta(minutes=10))
    cards = [li.attrs["id"] for li in page(root, "index.html").find_all("li", class_="card")]
    assert cards == ["card-alpha", "card-beta", "card-gamma"]
    run(root, "beta", ["7"], start=T0 + timedelta(minutes=15))
    banner = page(root, "index.html").find("p", class_="banner")
    assert banner.text() == "Operational All 3 dashboards operational"


def test_bars_split_days_at_midnight_utc_across_a_month_end(tmp_path: Path) -> None:
    root = project(tmp_path)
    run(root, "alpha", ["7", "down", "7", "7"], start=datetime(2026, 10, 31, 23, 50, tzinfo=UTC))
    labels = [li.find("span").text() for li in
              page(root, "alpha/index.html").find("ol", class_="day-bars").find_all("li")]
    assert len(labels) == 90
    assert labels[-1] == "2026-11-01: ok, 2 versions, uptime 100 %"
    assert labels[-2] == "2026-10-31: down 5 min, 2 versions, uptime 50.00 %"
    assert labels[-3] == "2026-10-30: no data"
    settled = json.loads((root / "site" / "alpha" / "log" / "2026-10" / "status.json").read_text())
    assert settled["days"]["31"]["seconds"] == {"up": 300.0, "down": 300.0}
    assert settled["days"]["31"]["worst"] == "error"
    link = page(root, "alpha/index.html").find("ol", class_="day-bars").find_all(
        "a", class_="day-focus")
    assert [a.attrs["href"] for a in link] == [
        "history/2026-10.html#d-2026-10-31", "history/2026-11.html#d-2026-11-01"]
    month = page(root, "alpha/history/2026-10.html")
    assert month.find("td", id="d-2026-10-31") is not None
    # the index card draws the same days as one image, its label counting them by state
    # (one element per run of days drawn alike, spanning them: .dN, N of the 90 columns)
    card = page(root, "index.html").find("li", id="card-alpha").find("div", class_="day-runs")
    assert card.attrs["role"] == "img"
    assert card.attrs["aria-label"].endswith(
        ": daily status, last 90 days: 1 day ok, 1 down, 88 no data")
    assert [b.attrs["class"] for b in card.find_all("span")] == ["nodata d88", "down", "up"]
    assert card.text().strip() == ""
    assert_site_whole(root / "site")


def test_uptime_reads_summaries_not_the_whole_log(tmp_path: Path) -> None:
    """Two copies of a site with 10 days of history; one loses its old shards. Same figures."""
    root = project(tmp_path / "a")
    run(root, "alpha", ["7"] * 5 + ["down"] * 3 + ["7"] * 4, start=T0 - timedelta(days=10),
        every=timedelta(hours=20))
    copy = tmp_path / "b"
    shutil.copytree(root, copy)
    today = (T0 + timedelta(days=1)).date()
    for shard in (copy / "site" / "alpha" / "log").glob("*/*.jsonl"):
        day = datetime.strptime(f"{shard.parent.name}-{shard.stem}", "%Y-%m-%d").date()
        if day < today - timedelta(days=1):
            # blanked, same size (the status files' seal holds): only they know those days now
            shard.write_text(" " * (shard.stat().st_size - 1) + "\n")
    for where in (root, copy):
        run(where, "alpha", ["7"], start=T0 + timedelta(days=1))
    tables = [uptime_cells(page(where, "alpha/index.html")) for where in (root, copy)]
    assert tables[0] == tables[1]
    assert tables[0]["windows"] == ["24 h", "7 d"]
    assert tables[0]["Dashboard"][1] not in ("100 %", "no data")


def test_a_tampered_status_file_is_computed_again(tmp_path: Path) -> None:
    root = project(tmp_path)
    run(root, "alpha", ["7", "down", "7"], start=T0 - timedelta(days=2), every=timedelta(hours=20))
    before = uptime_cells(page(root, "alpha/index.html"))
    status = next((root / "site" / "alpha" / "log").glob("*/status.json"))
    status.write_text('{"schema": 1, "days": {"01": {"count": "lots"}}}')
    build(root, version_id="again", clock=fixed_clock(T0 - timedelta(days=2) + timedelta(hours=40)))
    assert uptime_cells(page(root, "alpha/index.html")) == before
    assert json.loads(status.read_text())["days"]["25"]["count"] == 1


def test_a_dashboard_not_built_in_time_is_stale(tmp_path: Path) -> None:
    root = project(tmp_path, alpha=flaky("Alpha"), beta=flaky("Beta"))
    build(root, version_id="one", clock=fixed_clock(T0))
    build(root, version_id="two", clock=fixed_clock(T0 + timedelta(minutes=30)),
          only=frozenset({"beta"}))
    manifest = manifest_entries(root / "site")
    assert manifest["alpha"]["stale"] is True and manifest["beta"]["stale"] is False
    assert manifest["alpha"]["expected_every"] == 300.0
    badge = json.loads((root / "site" / "alpha" / "badge.json").read_text())
    assert badge["message"].startswith("stale") and badge["isError"] is True
    index = page(root, "index.html")
    assert index.find("li", id="card-alpha").find("span", class_="status-stale").text() == "Stale"
    assert "1 of 2 dashboards needs attention: Alpha" in index.find("p", class_="banner").text()
    latest = page(root, "beta/index.html")
    time = latest.find("header", class_="dashboard-header").find("time")
    assert time.attrs["data-stale-after"] == "600"
    assert latest.find("p", class_="stale-notice").attrs.get("hidden", "x") is None


def test_a_collector_removed_from_the_dashboard_leaves_the_uptime_table(tmp_path: Path) -> None:
    root = project(tmp_path)
    run(root, "alpha", ["7", "7"])
    assert list(uptime_cells(page(root, "alpha/index.html"))) == [
        "windows", "Dashboard", "Api", "Disk"]
    # what a collector's row counts is said (a probe returning CRITICAL read "100 %" there)
    said = " ".join(page(root, "alpha/index.html").text().split())
    assert "A collector's row is the time it ran without an error; the status it returned" in said
    module = root / "dashboards" / "alpha" / "dashboard.py"
    module.write_text(module.read_text().replace("@collector\ndef disk():", "def disk():"))
    run(root, "alpha", ["7"], start=T0 + timedelta(minutes=10))
    for relative in ("alpha/index.html", "alpha/history/index.html"):
        assert list(uptime_cells(page(root, relative))) == ["windows", "Dashboard", "Api"]


def test_badges_are_shields_endpoints_and_accessible_svg(tmp_path: Path) -> None:
    root = project(tmp_path)
    run(root, "alpha", ["7", "down", "down"])  # up 5 min, then down 5 min
    badge = json.loads((root / "site" / "alpha" / "badge.json").read_text())
    assert badge == {"schemaVersion": 1, "label": "Flaky", "message": "error · 50.00 % 24 h",
                     "color": "red", "isError": True}
    svg = ET.fromstring((root / "site" / "alpha" / "badge.svg").read_text())
    assert svg.attrib["role"] == "img"
    assert svg.attrib["aria-label"] == "Flaky: error · 50.00 % 24 h"
    assert svg.findtext("{http://www.w3.org/2000/svg}title") == "Flaky: error · 50.00 % 24 h"
    site = json.loads((root / "site" / "badge.json").read_text())
    assert site["message"] == "error · 1 of 1 need attention" and site["color"] == "red"
    run(root, "alpha", ["7"], start=T0 + timedelta(minutes=15))
    site = json.loads((root / "site" / "badge.json").read_text())
    assert site["message"] == "ok · all 1" and site["isError"] is False


def test_snapshots_say_what_changed_and_failed_collectors_keep_their_last_value(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    run(root, "alpha", ["7", "9", "down"])
    second = page(root, "alpha/2026-11-27/20261127T202000Z/index.html")
    changes = [li.text() for li in second.find("section", class_="changes").find_all("li")]
    assert changes == ["api.value: 7 → 9 (+2)"]
    nav = second.find("nav", class_="pagination")
    assert [a.attrs["href"] for a in nav.find_all("a")] == [
        "../../../alpha/history/2026-11.html#v-20261127T202000Z", "../../index.html"]
    latest = page(root, "alpha/index.html")
    assert latest.find("p", id="api").text() == "stale since 2026-11-27 20:20 UTC: 9"
    changes = [li.text() for li in latest.find("section", class_="changes").find_all("li")]
    assert changes[0] == "api: ok → failed"
    errors = latest.find("section", class_="collector-errors").text()
    assert "last good value from 2026-11-27 20:20 UTC (5m 0s earlier)" in " ".join(errors.split())
    # Still down: the collector is not "ok → failed" again (the manifest keeps the latest
    # version's count of errors, not their names: they are read from its data.json).
    run(root, "alpha", ["down"], start=T0 + timedelta(minutes=15))
    still = page(root, "alpha/index.html").find_all("section", class_="changes")
    assert not any("api: ok → failed" in section.text() for section in still)
    assert_site_whole(root / "site")


MAINTENANCE = """\
+++
title = "Planned failover"
dashboards = ["alpha"]
start = 2026-11-27T20:20:00Z
end = 2026-11-27T20:30:00Z
severity = "maintenance"
[[updates]]
at = 2026-11-27T20:22:00Z
text = "Switching <primary>."
+++
We moved the **primary**. <script>alert(1)</script>
"""


def test_declared_maintenance_joins_the_timeline_and_is_not_down(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "incidents").mkdir()
    (root / "incidents" / "failover.md").write_text(MAINTENANCE)
    results = run(root, "alpha", ["7", "7", "down", "7", "7"])
    assert not results[-1].problems
    latest = page(root, "alpha/index.html")
    assert uptime_cells(latest)["Dashboard"] == ["100 %"]  # 20:25-20:30 down, in maintenance
    titles = [strong.text() for li in
              latest.find("section", class_="incidents").find_all("li", class_="incident")
              for strong in li.find_all("strong")]
    assert "Planned failover" in titles
    incident = page(root, "incidents/failover.html")
    assert incident.find("h1").text() == "Planned failover"
    assert incident.find("section", class_="incident-body").find("strong").text() == "primary"
    assert all(s.attrs.get("src") for s in incident.find_all("script"))  # only the site's own
    assert "<script>alert(1)</script>" in incident.find("section", class_="incident-body").text()
    updates = incident.find("ol", class_="incident-updates").text()
    assert "Switching <primary>." in updates
    entries = {e.title: e for e in feed(root, "feed.xml").entries}
    assert "Flaky: Planned failover · maintenance, resolved after 10m 0s" in entries
    assert_site_whole(root / "site")


def test_a_failure_during_planned_maintenance_reads_as_maintenance_until_the_window_ends(
    tmp_path: Path,
) -> None:
    """The collector fails inside a declared maintenance window: the index says
    "Maintenance" (not "Partial outage … needs attention"), lists the maintenance once,
    and no feed tells of a separate outage. Still failing after the window: an outage."""
    root = project(tmp_path, alpha=flaky(), beta=flaky("Beta"))
    (root / "incidents").mkdir()
    (root / "incidents" / "failover.md").write_text(
        MAINTENANCE.replace("end = 2026-11-27T20:30:00Z\n", "end = 2026-11-27T20:40:00Z\n"))
    run(root, "alpha", ["7", "7", "down", "down"])  # 20:15 … 20:30; window 20:20-20:40
    index = page(root, "index.html")
    banner = index.find("p", class_="banner")
    assert "banner-maintenance" in banner.classes and "banner-ok" not in banner.classes
    assert " ".join(banner.text().split()) == (
        "Maintenance 1 of 2 dashboards under planned maintenance: Flaky")
    card = index.find("li", id="card-alpha")
    assert card.find("span", class_="status-badge").text() == "Maintenance"
    (item,) = index.find("section", class_="ongoing").find_all("li")
    assert "Planned failover" in item.text()
    titles = [e.title for e in feed(root, "feed.xml").entries]
    assert titles == ["Flaky: Planned failover · maintenance since 2026-11-27 20:20 UTC (ongoing)"]
    manifest = manifest_entries(root / "site")["alpha"]
    assert manifest["status"] == "error"  # machines read the level, as it was collected
    run(root, "alpha", ["down"], start=T0 + timedelta(minutes=30))  # 20:45: past the window
    index = page(root, "index.html")
    banner = index.find("p", class_="banner")
    assert "banner-error" in banner.classes
    assert "needs attention: Flaky" in " ".join(banner.text().split())
    titles = sorted(e.title for e in feed(root, "feed.xml").entries)
    assert any(t.startswith("Flaky: error since") for t in titles), titles
    assert_site_whole(root / "site")


def test_an_outage_that_began_before_the_maintenance_stays_an_outage(tmp_path: Path) -> None:
    """Failing from 20:15, maintenance from 20:20: the outage was published before the
    window and is not taken back as planned work (it was, within 15 minutes)."""
    root = project(tmp_path)
    (root / "incidents").mkdir()
    (root / "incidents" / "failover.md").write_text(
        MAINTENANCE.replace("end = 2026-11-27T20:30:00Z\n", "end = 2026-11-27T21:00:00Z\n"))
    run(root, "alpha", ["down", "down", "down"])  # 20:15, 20:20, 20:25
    banner = page(root, "index.html").find("p", class_="banner")
    assert "banner-error" in banner.classes and "needs attention" in banner.text()
    titles = [e.title for e in feed(root, "feed.xml").entries]
    assert any(t.startswith("Flaky: error since 2026-11-27 20:15") for t in titles), titles


def test_inside_maintenance_a_collectors_up_time_still_counts_as_the_dashboards_does(
    tmp_path: Path,
) -> None:
    """Up from 20:15, maintenance 20:20-20:30 with the collector up, down 20:30-20:40:
    both rows read the same (the collector's up time in the window was dropped)."""
    root = project(tmp_path)
    (root / "incidents").mkdir()
    (root / "incidents" / "failover.md").write_text(MAINTENANCE)  # 20:20 to 20:30
    run(root, "alpha", ["7", "7", "7", "down", "down", "7"])  # 20:15 … 20:40
    cells = uptime_cells(page(root, "alpha/index.html"))
    assert cells["Dashboard"] == cells["Api"] == ["60.00 %"], cells


def test_an_update_written_before_the_start_does_not_date_the_feed_entry_back(
    tmp_path: Path,
) -> None:
    """A "scheduled" update at 20:00 for work from 20:25: the entry's <updated> was 20:00,
    before its <published>, and a feed reader sorted it as old."""
    root = project(tmp_path)
    (root / "incidents").mkdir()
    (root / "incidents" / "failover.md").write_text(
        '+++\ntitle = "Planned failover"\ndashboards = ["alpha"]\n'
        'start = 2026-11-27T20:25:00Z\nend = 2026-11-27T20:35:00Z\nseverity = "maintenance"\n'
        '[[updates]]\nat = 2026-11-27T20:00:00Z\nstatus = "scheduled"\ntext = "Planned."\n+++\n')
    run(root, "alpha", ["7"], start=T0 + timedelta(minutes=15))  # 20:30, in the window
    tree = ET.parse(root / "site" / "feed.xml").getroot()
    (entry,) = tree.iter(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}updated") >= entry.findtext(f"{ATOM}published")


def test_an_incident_naming_only_archived_dashboards_is_told(tmp_path: Path) -> None:
    from dashsite.core.config import load_config
    from dashsite.core.reporter import RecordingReporter
    from dashsite.site.build import BuildOptions, build_site

    root = project(tmp_path, alpha=flaky(), beta=flaky("Beta"))
    run(root, "alpha", ["7"])
    import shutil
    shutil.rmtree(root / "dashboards" / "beta")
    (root / "incidents").mkdir()
    (root / "incidents" / "old.md").write_text(OUTAGE.replace('["alpha"]', '["beta"]'))
    reporter = RecordingReporter()
    build_site(load_config(root), BuildOptions(clock=fixed_clock(T0 + timedelta(minutes=5))),
               reporter=reporter)
    said = [e.message for e in reporter.events if "archived" in e.message]
    assert said == ["incidents/old.md: names only archived dashboards (beta): it shows on no "
                    "dashboard"], said


def test_a_clock_set_back_does_not_end_maintenance_going_on(tmp_path: Path) -> None:
    """Maintenance 20:20-20:40 going on at 20:35; the next build's clock reads 20:15 (set
    back). Incidents are read at the site's time, as the views are drawn: the feed said
    "resolved after 20m", its page "Scheduled" again, the index had no word of it. (The
    failure itself is dated by the clock, 20:15, before the window: an outage.)"""
    root = project(tmp_path)
    (root / "incidents").mkdir()
    (root / "incidents" / "failover.md").write_text(
        MAINTENANCE.replace("end = 2026-11-27T20:30:00Z\n", "end = 2026-11-27T20:40:00Z\n"))
    run(root, "alpha", ["7", "7", "7", "7", "7"])  # 20:15 … 20:35
    (root / "dashboards" / "alpha" / "mode.txt").write_text("down")
    build(root, clock=fixed_clock(T0))  # the clock at 20:15 again (its id: after the newest)
    titles = [e.title for e in feed(root, "feed.xml").entries]
    assert all("resolved" not in t for t in titles), titles
    index = page(root, "index.html")
    assert "Planned failover" in index.find("section", class_="ongoing").text()
    drawn = page(root, "incidents/failover.html").find("article").text()
    assert "Ongoing" in drawn and "Scheduled" not in drawn


def test_work_on_every_dashboard_is_one_row_and_one_entry_naming_them(tmp_path: Path) -> None:
    """A file naming no dashboard (all of them): the index listed it once per dashboard
    (1,000 rows at 1,000 dashboards) and the site's feed named only the first."""
    root = project(tmp_path, alpha=flaky(), beta=flaky("Beta"), gamma=flaky("Gamma"))
    (root / "incidents").mkdir()
    everyone = MAINTENANCE.replace('dashboards = ["alpha"]\n', "").replace(
        "end = 2026-11-27T20:30:00Z\n", "").replace("Planned failover", "Network work")
    (root / "incidents" / "network.md").write_text(everyone)
    run(root, "alpha", ["7", "7"])  # 20:15, 20:20: the work began at 20:20
    rows = page(root, "index.html").find("section", class_="ongoing").find_all("li")
    (row,) = rows
    said = " ".join(row.text().split())
    assert said.startswith("Maintenance All dashboards · Network work since"), said
    titles = [e.title for e in feed(root, "feed.xml").entries]
    assert titles == ["All dashboards: Network work · maintenance since 2026-11-27 20:20 UTC "
                      "(ongoing)"], titles
    assert [e.title for e in feed(root, "beta/feed.xml").entries] == [
        "Beta: Network work · maintenance since 2026-11-27 20:20 UTC (ongoing)"]


@pytest.mark.parametrize("severity", ["critical", "maintenance"])
def test_a_settled_day_reads_alike_in_the_bars_and_the_history_pages_under_a_declared_window(
    tmp_path: Path, severity: str
) -> None:
    """Once a day is settled, the history's month page and calendar read its status file,
    which the declared windows never touched: a declared outage's day read 'ok, 100 %'
    there and 'down 20 min' in the 90-day bars (maintenance the other way round)."""
    root = project(tmp_path)
    (root / "incidents").mkdir()
    (root / "incidents" / "db.md").write_text(OUTAGE.replace("20:10:00Z", "20:20:00Z").replace(
        "+++\nWe", "end = 2026-11-27T20:40:00Z\n+++\nWe").replace("critical", severity))
    modes = ["7", "7", "down", "down", "7", "7", "7"] if severity == "maintenance" else ["7"] * 7
    run(root, "alpha", modes)  # 20:15 … 20:45
    run(root, "alpha", ["7"], start=T0 + timedelta(days=1))  # the next day: 11-27 is settled

    def day(relative: str) -> str:
        bars = page(root, relative).find_all("li", class_="day-bar")
        said = [" ".join(b.text().split()) for b in bars if "2026-11-27:" in b.text()]
        return said[0].split("Incident")[0].strip()

    shown = day("alpha/index.html")
    assert shown == day("alpha/history/2026-11.html") == day("alpha/history/index.html"), shown
    assert ("down 20 min" in shown) == (severity == "critical"), shown
    calendar = page(root, "alpha/history/index.html").find("section", class_="history-calendar")
    worst = "major outage" if severity == "critical" else "partial outage"  # (as collected)
    assert f"worst {worst}" in calendar.text()


def test_a_row_for_several_dashboards_counts_by_the_newest_of_them(tmp_path: Path) -> None:
    """A declared outage on two dashboards, one no longer built: the row counted by the
    first one's last update, so it read "at least 5m as of the last update" while the
    other was fresh."""
    root = project(tmp_path, alpha=flaky(), beta=flaky("Beta"))
    (root / "incidents").mkdir()
    (root / "incidents" / "db.md").write_text(OUTAGE.replace('dashboards = ["alpha"]\n', ""))
    build(root, clock=fixed_clock(T0))
    for n in range(1, 4):
        build(root, clock=fixed_clock(T0 + timedelta(minutes=5 * n)), only=frozenset({"alpha"}))
    (row,) = page(root, "index.html").find("section", class_="ongoing").find_all("li")
    assert row.find("span", class_="since").attrs["data-checked"] == "2026-11-27T20:30:00Z"


def test_the_24_hours_say_when_history_began_inside_them_on_the_cuts_day(
    tmp_path: Path,
) -> None:
    """History from 20:15; 23.5 hours later the window starts at 19:00 the day before:
    it was marked as covered whole (the check compared days only), with no footnote."""
    root = project(tmp_path)
    run(root, "alpha", ["7"])  # 2026-11-27 20:15
    run(root, "alpha", ["7"], start=T0 + timedelta(hours=23, minutes=15))  # 11-28 19:30
    latest = page(root, "alpha/index.html")
    first = latest.find("table", class_="uptime-table").find("tbody").find("td")
    assert first.text().endswith("*"), first.text()
    assert "* since the first version." in latest.text()


OUTAGE = """\
+++
title = "Database down"
dashboards = ["alpha"]
start = 2026-11-27T20:10:00Z
severity = "critical"
+++
We are on it.
"""


def test_a_declared_outage_counts_as_down_time_in_the_uptime_and_the_bars(
    tmp_path: Path,
) -> None:
    """The collectors see nothing wrong; the team declared the service down from 20:20.
    The heading said "Major outage" over "Uptime 24 h 100 %" and a green day (and the
    badge "critical · 100 %"): the declared time now counts at its level."""
    root = project(tmp_path)
    (root / "incidents").mkdir()
    (root / "incidents" / "db.md").write_text(OUTAGE.replace("20:10:00Z", "20:20:00Z"))
    run(root, "alpha", ["7"] * 5)  # 20:15 … 20:35, all ok by the collectors
    latest = page(root, "alpha/index.html")
    assert uptime_cells(latest)["Dashboard"] == ["25.00 %"]  # 15 of the 20 minutes down
    day = [" ".join(li.text().split()) for li in
           latest.find("ol", class_="day-bars").find_all("li")][-1]
    assert day.startswith("2026-11-27: down 15 min, 5 versions, uptime 25.00 %"), day
    badge = json.loads((root / "site" / "alpha" / "badge.json").read_text())
    assert badge["message"] == "critical · 25.00 % 24 h"
    assert uptime_cells(latest)["Api"] == ["100 %"]  # the collectors themselves never failed
    assert_site_whole(root / "site")


@pytest.mark.parametrize("severity", ["critical", "maintenance"])
def test_an_outage_declared_going_on_is_the_status_a_visitor_reads(
    tmp_path: Path, severity: str
) -> None:
    # The collectors say ok; the team wrote an incident to say the database is down. The
    # banner said "Operational, all 2 dashboards" above that very incident.
    root = project(tmp_path, alpha=flaky("Flaky"), beta=flaky("Calm"))
    (root / "dashboards" / "beta" / "mode.txt").write_text("7")
    (root / "incidents").mkdir()
    (root / "incidents" / "db.md").write_text(OUTAGE.replace("critical", severity))
    run(root, "alpha", ["7"])
    index = page(root, "index.html")
    banner = index.find("p", class_="banner")
    card = index.find("li", id="card-alpha").find("p", class_="card-status").text()
    heading = page(root, "alpha/index.html").find("h1").text()
    badge = json.loads((root / "site" / "alpha" / "badge.json").read_text())
    site_badge = json.loads((root / "site" / "badge.json").read_text())
    manifest = manifest_entries(root / "site")
    if severity == "critical":
        assert banner.find("strong").text() == "Major outage"
        assert "1 of 2 dashboards needs attention: Flaky" in banner.text()
        assert card.strip() == "Major outage" and heading.endswith("Major outage")
        assert (badge["message"], badge["isError"]) == ("critical", True)
        assert site_badge["color"] == "critical"
    else:  # maintenance is not an outage
        assert banner.find("strong").text() == "Operational"
        assert card.strip() == "Operational" and heading.endswith("Operational")
        assert site_badge["color"] == badge["color"] == "brightgreen"
    assert manifest["alpha"]["status"] == "ok"  # what the collectors returned, as ever
    # The version's own snapshot keeps what its collectors said: withdrawing a mistaken
    # declaration cannot change an immutable page.
    snapshot = next((root / "site" / "alpha").glob("*/*/index.html"))
    assert parse(snapshot.read_text()).find("h1").text().endswith("Operational")
    # A mail's subject says what the latest page's heading says.
    out = root / "mail.eml"
    assert cli(root, "mail", "alpha", "--eml", str(out)).returncode == 0
    subject = email.message_from_bytes(out.read_bytes(), policy=policy.default)["Subject"]
    assert subject.startswith("Flaky: Major outage" if severity == "critical" else "Flaky: Operational")


def test_an_incident_resolved_by_a_clock_set_back_has_no_negative_length(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    run(root, "alpha", ["7", "down"])  # 20:15 ok, 20:20 down
    (root / "dashboards" / "alpha" / "mode.txt").write_text("7")
    back = T0 - timedelta(hours=24)  # the next build's clock, a day behind
    build(root, version_id="20261204T000000Z", clock=fixed_clock(back))
    titles = [e.title for e in feed(root, "alpha/feed.xml").entries]
    assert titles == ["Flaky: error, resolved"], titles
    summary = feed(root, "alpha/feed.xml").entries[0].summary
    assert "dated before its start: a clock was set back" in summary
    listed = page(root, "alpha/index.html").find("section", class_="incidents").text()
    assert "(—" in listed and "-23h" not in listed and "-1d" not in listed


AHEAD = MAINTENANCE.replace("20:20:00Z", "20:25:00Z").replace("20:30:00Z", "20:35:00Z").replace(
    "20:22:00Z", "20:26:00Z")


def test_maintenance_declared_ahead_is_scheduled_then_goes_on_until_its_end(
    tmp_path: Path,
) -> None:
    """A file written the day before the work: until it starts, the pages tell it as
    scheduled (and nothing says it happened: no feed entry, no time counted); while it
    runs it is going on, not 'resolved' at its planned end."""
    root = project(tmp_path, alpha=flaky(), beta=flaky("Beta"))
    (root / "incidents").mkdir()
    (root / "incidents" / "failover.md").write_text(AHEAD)  # 20:25 to 20:35, alpha only
    run(root, "alpha", ["7"])  # 20:15
    assert not feed(root, "feed.xml").entries and not feed(root, "alpha/feed.xml").entries
    index = page(root, "index.html")
    assert not list(index.find_all("section", class_="ongoing"))
    (item,) = index.find("section", class_="scheduled").find_all("li")
    assert item.find("span", class_="status-scheduled").text() == "Scheduled"
    assert item.find("a").attrs["href"] == "incidents/failover.html"
    assert [t.attrs["datetime"] for t in item.find_all("time")] == [
        "2026-11-27T20:25:00Z", "2026-11-27T20:35:00Z"]
    assert "(10m 0s)" in item.text()
    assert [a.attrs["href"] for a in item.find("p", class_="meta").find_all("a")] == [
        "alpha/index.html"]  # beta is not named
    alpha = page(root, "alpha/index.html")
    planned = alpha.find("header", class_="dashboard-header").find("section", class_="scheduled")
    assert planned.find("a").attrs["href"] == "../incidents/failover.html"
    assert "Planned failover" not in alpha.find("section", class_="incidents").text()
    assert not list(page(root, "beta/index.html").find_all("section", class_="scheduled"))
    drawn = page(root, "incidents/failover.html").find("article")
    assert drawn.find("span", class_="status-scheduled").text() == "Scheduled"
    assert "Planned from" in drawn.text() and "Ongoing" not in drawn.text()
    assert "Switching" not in drawn.text()  # its update is dated 20:26: not news yet
    history = page(root, "incidents/index.html")
    assert "Planned failover" in history.find("section", class_="scheduled").text()
    assert not list(history.find_all("section", class_="incident-month"))
    assert not manifest_entries(root / "site")["alpha"].get("incident")
    run(root, "alpha", ["7"], start=T0 + timedelta(minutes=15))  # 20:30, in the window
    (entry,) = feed(root, "feed.xml").entries
    assert "Planned failover" in entry.title and "resolved" not in entry.title
    index = page(root, "index.html")
    assert "Planned failover" in index.find("section", class_="ongoing").text()
    assert not list(index.find_all("section", class_="scheduled"))
    assert "Ongoing" in page(root, "incidents/failover.html").find("article").text()
    run(root, "alpha", ["7"], start=T0 + timedelta(minutes=25))  # 20:40, over
    (entry,) = feed(root, "feed.xml").entries
    assert entry.title == "Flaky: Planned failover · maintenance, resolved after 10m 0s"
    assert not list(page(root, "incidents/index.html").find_all("section", class_="scheduled"))
    assert_site_whole(root / "site")


def test_many_scheduled_files_are_listed_soonest_first_up_to_a_few(tmp_path: Path) -> None:
    """500 files of planned work were all listed on the index and every latest page."""
    root = project(tmp_path)
    (root / "incidents").mkdir()
    for n in range(12):
        (root / "incidents" / f"w{n:02d}.md").write_text(
            AHEAD.replace("Planned failover", f"Work {n:02d}").replace(
                "2026-11-27T20:25:00Z", f"2026-11-{28 + n // 10}T{10 + n % 10:02d}:00:00Z"
            ).replace("end = 2026-11-27T20:35:00Z\n", ""))
    run(root, "alpha", ["7"])
    listed = page(root, "index.html").find("section", class_="scheduled")
    titles = [a.text() for li in listed.find_all("li") for a in li.find_all("a")
              if a.attrs["href"].startswith("incidents/")]
    assert titles == [f"Work {n:02d}" for n in range(10)]
    assert "And 2 more, in the incident history." in " ".join(listed.text().split())
    mine = page(root, "alpha/index.html").find("section", class_="scheduled")
    assert len(list(mine.find_all("li"))) == 5 and "And 7 more" in mine.text()
    everything = page(root, "incidents/index.html").find("section", class_="scheduled")
    assert len(list(everything.find_all("li"))) == 12


def test_an_outage_declared_ahead_is_not_told_before_it_starts(tmp_path: Path) -> None:
    """Only maintenance is announced: an outage file dated later is no incident yet (and
    a file naming every dashboard says so once on the index, not dashboard by dashboard)."""
    root = project(tmp_path, alpha=flaky(), beta=flaky("Beta"))
    (root / "incidents").mkdir()
    outage = AHEAD.replace('severity = "maintenance"', 'severity = "error"').replace(
        "Planned failover", "Future outage")
    (root / "incidents" / "outage.md").write_text(outage)
    everyone = AHEAD.replace('dashboards = ["alpha"]\n', "").replace(
        "Planned failover", "Network work")
    (root / "incidents" / "network.md").write_text(everyone)
    run(root, "alpha", ["7"])  # 20:15
    for relative in ("index.html", "alpha/index.html", "incidents/index.html"):
        assert "Future outage" not in page(root, relative).text(), relative
    assert not (root / "site" / "incidents" / "outage.html").exists()
    (item,) = page(root, "index.html").find("section", class_="scheduled").find_all("li")
    assert "Network work" in item.text()
    assert item.find("p", class_="meta").text().strip() == "All dashboards"
    for slug in ("alpha", "beta"):
        assert "Network work" in page(root, f"{slug}/index.html").find(
            "section", class_="scheduled").text()
    assert manifest_entries(root / "site")["alpha"]["status"] == "ok"


def test_an_update_written_ahead_is_told_once_its_time_comes(tmp_path: Path) -> None:
    """A "completed" update dated at the planned end: while the work runs, no page or feed
    tells it, and no feed is dated in the future."""
    done = AHEAD.replace('text = "Switching <primary>."', 'text = "Switching <primary>."\n'
                         '[[updates]]\nat = 2026-11-27T20:35:00Z\nstatus = "completed"\n'
                         'text = "All done"')
    root = project(tmp_path)
    (root / "incidents").mkdir()
    (root / "incidents" / "failover.md").write_text(done)  # 20:25 to 20:35, done at 20:35
    run(root, "alpha", ["7"], start=T0 + timedelta(minutes=15))  # 20:30, in the window
    assert "Switching" in page(root, "incidents/failover.html").text()
    for relative in ("incidents/failover.html", "alpha/index.html", "incidents/index.html"):
        assert "All done" not in page(root, relative).text(), relative
    for relative in ("feed.xml", "alpha/feed.xml"):
        parsed = feed(root, relative)
        assert "All done" not in str(parsed.entries)
        times = [parsed.feed.updated, *(e.updated for e in parsed.entries)]
        built = T0 + timedelta(minutes=15)
        assert all(datetime.fromisoformat(t.replace("Z", "+00:00")) <= built for t in times)
    run(root, "alpha", ["7"], start=T0 + timedelta(minutes=25))  # 20:40: it happened
    assert "All done" in page(root, "incidents/failover.html").text()
    assert "All done" in str(feed(root, "feed.xml").entries)


TIMELINE = """\
+++
title = "Database failover"
dashboards = ["alpha"]
start = 2026-11-27T20:20:00Z
end = 2026-11-27T21:05:00Z
[[updates]]
at = 2026-11-27T20:40:00Z
status = "identified"
text = "The primary lost its disk: **failing over**."
[[updates]]
at = 2026-11-27T21:05:00Z
status = "resolved"
text = "Back on the replica."
[[updates]]
at = 2026-11-27T20:25:00Z
status = "investigating"
text = "Errors on <every> request."
[[updates]]
at = 2026-11-27T20:50:00Z
text = "Still watching."
+++
"""


def test_incident_updates_read_as_a_timeline_newest_first(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "incidents").mkdir()
    (root / "incidents" / "failover.md").write_text(TIMELINE)
    assert not run(root, "alpha", ["7"], start=T0 + timedelta(minutes=50))[0].problems  # 21:05
    updates = page(root, "incidents/failover.html").find("ol", class_="incident-updates")
    assert "reversed" in updates.attrs  # an ordered list, newest first
    items = list(updates.find_all("li", class_="update"))
    said = [(li.find("strong", class_="update-status").text(),
             li.find("time").attrs["datetime"], li.find("time").text(),
             " ".join(li.find("div", class_="update-body").text().split())) for li in items]
    assert said == [
        ("Resolved", "2026-11-27T21:05:00Z", "2026-11-27 21:05 UTC", "Back on the replica."),
        ("Update", "2026-11-27T20:50:00Z", "2026-11-27 20:50 UTC", "Still watching."),
        ("Identified", "2026-11-27T20:40:00Z", "2026-11-27 20:40 UTC",
         "The primary lost its disk: failing over."),
        ("Investigating", "2026-11-27T20:25:00Z", "2026-11-27 20:25 UTC",
         "Errors on <every> request."),  # raw HTML in an update is shown, not run
    ]
    assert [li.classes[-1] for li in items] == [
        "update-resolved", "update-update", "update-identified", "update-investigating"]
    body = items[2].find("div", class_="update-body")
    assert body.find("strong").text() == "failing over"  # Markdown
    assert not any(n.tag == "every" for n in body.iter()) and not list(
        items[3].find("div", class_="update-body").find_all("every"))


def test_an_update_with_an_unknown_status_is_one_line_naming_it(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "incidents").mkdir()
    (root / "incidents" / "bad.md").write_text(TIMELINE.replace('"identified"', '"fixed"'))
    lines = [p.one_line() for p in run(root, "alpha", ["7"])[0].problems]
    assert len(lines) == 1 and lines[0].startswith(
        "incidents/bad.md:8: an update's 'status' must be one of investigating, identified"), lines


@pytest.mark.parametrize(("text", "where", "says"), [
    ("+++\ndashboards = [\"alpha\"]\nstart = 2026-11-27T20:20:00Z\n+++\n",
     "incidents/bad.md:1", "'title' must be one line of text"),
    ("+++\ntitle = \"x\"\nstart = 2026-11-27\n+++\n",
     "incidents/bad.md:3", "'start' must be a date and time"),
    ("+++\ntitle = \"x\"\nstart = 2026-11-27T20:20:00Z\nseverity = \"bad\"\n+++\n",
     "incidents/bad.md:4", "'severity' must be one of"),
    ("+++\ntitle = = \"x\"\n+++\n", "incidents/bad.md:2", "front matter is not valid TOML"),
    ("no front matter\n", "incidents/bad.md:1", "has no front matter"),
    ("+++\ntitle = \"x\"\nstart = 2026-11-27T20:20:00Z\ndashboards = [\"nope\"]\n+++\n",
     "incidents/bad.md", "names no dashboard called 'nope'"),
    # the second [[updates]] table's own line, not the first one's
    ("+++\ntitle = \"x\"\nstart = 2026-11-27T20:20:00Z\n[[updates]]\nat = 2026-11-27T20:21:00Z\n"
     "status = \"identified\"\ntext = \"a\"\n[[updates]]\nat = 2026-11-27T20:22:00Z\n"
     "text = \"b\"\nstatus = \"fixed\"\n+++\n",
     "incidents/bad.md:11", "an update's 'status' must be one of"),
    ("+++\ntitle = \"x\"\nstart = 2026-11-27T20:20:00Z\n[[updates]]\nat = 2026-11-27T20:21:00Z\n"
     "text = \"a\"\n[[updates]]\ntext = \"b\"\nat = \"soon\"\n+++\n",
     "incidents/bad.md:9", "'at' must be a date and time"),
    ("+++\ntitle = \"x\"\nstart = 0001-01-01T00:00:00Z\n+++\n",
     "incidents/bad.md:3", "'start' is in the year 1"),
])
def test_a_bad_incident_file_is_one_line_naming_it(tmp_path: Path, text: str, where: str,
                                                    says: str) -> None:
    root = project(tmp_path)
    (root / "incidents").mkdir()
    (root / "incidents" / "bad.md").write_text(text)
    result = run(root, "alpha", ["7"])[0]
    lines = [p.one_line() for p in result.problems]
    assert len(lines) == 1 and lines[0].startswith(f"{where}: {says}"), lines
    assert result.exit_code(strict=False) == 1
    assert (root / "site" / "alpha" / "index.html").is_file()  # the dashboards still build


def test_an_incident_named_index_is_refused_not_lost_under_the_history(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "incidents").mkdir()
    (root / "incidents" / "index.md").write_text(
        "+++\ntitle = \"DB\"\nstart = 2026-11-27T20:20:00Z\n+++\nThe postmortem.\n")
    result = run(root, "alpha", ["7"])[0]
    lines = [p.one_line() for p in result.problems]
    assert len(lines) == 1 and lines[0].startswith(
        "incidents/index.md: 'index' is the incident history's page"), lines
    assert result.exit_code(strict=False) == 1
    history = page(root, "incidents/index.html")
    assert history.find("h1").text() != "DB"  # the history, as ever


def test_every_page_announces_its_feeds(tmp_path: Path) -> None:
    root = project(tmp_path)
    run(root, "alpha", ["7", "7"])
    for relative, feeds in (("index.html", ["feed.xml"]),
                            ("alpha/index.html", ["../feed.xml", "feed.xml"]),
                            ("alpha/history/index.html", ["../../feed.xml", "../feed.xml"])):
        links = [link.attrs["href"] for link in page(root, relative).find_all("link")
                 if link.attrs.get("type") == "application/atom+xml"]
        assert links == feeds, relative
    assert not feed(root, "alpha/feed.xml").entries


@pytest.mark.parametrize("base_url", ["", "https://status.example.com/ops/"])
def test_each_feed_has_a_page_beside_it_with_its_entries_and_how_to_subscribe(
    tmp_path: Path, base_url: str
) -> None:
    from dashsite.site.feeds import FEED_COMMENT

    root = project(tmp_path, config=f'expected_every = "5m"\nbase_url = "{base_url}"\n',
                   alpha=flaky("Alpha"), beta=flaky("Beta"))
    run(root, "alpha", ["7", "down", "down", "7", "down"])
    for xml, html, depth in (("feed.xml", "feed.html", ""), ("alpha/feed.xml", "alpha/feed.html",
                                                               "../")):
        text = (root / "site" / xml).read_text()
        assert text.splitlines()[1] == FEED_COMMENT  # what a browser's XML view shows first
        entries = [e.title for e in feed(root, xml).entries]  # still a valid Atom feed
        assert len(entries) == 2
        shown = page(root, html)
        listed = [li.find("strong").text() for li in shown.find_all("li", class_="incident")]
        assert listed == entries  # the same entries, in the feed's order
        for li in shown.find_all("li", class_="incident"):
            target = li.find("a").attrs["href"]
            assert (root / "site" / Path(html).parent / target.split("#")[0]).is_file(), target
        how = shown.find("section", class_="subscribe")
        assert how.find("h2").text() == "How to subscribe" and "feed reader" in how.text()
        address = how.find("a", class_="feed-address")
        assert address.attrs["href"] == "feed.xml" and address.attrs["type"] == "application/atom+xml"
        assert address.text() == (f"{base_url}{xml}" if base_url else "feed.xml")
        assert shown.find("link", rel="stylesheet").attrs["href"].startswith(f"{depth}assets/")
    links = page(root, "index.html").find("p", class_="index-links").find_all("a")
    assert [a.attrs["href"] for a in links] == ["incidents/index.html", "feed.html"]
    incidents = page(root, "alpha/index.html").find("section", class_="incidents")
    after = incidents.parent.children[incidents.parent.children.index(incidents) + 1:]
    subscribe = [a for node in after if not isinstance(node, str) for a in node.find_all("a")]
    assert [a.attrs["href"] for a in subscribe] == ["feed.html"]  # under the incident list
    snapshot = sorted((root / "site" / "alpha").glob("2026-11-27/*/index.html"))[0]
    assert "feed.html" not in snapshot.read_text()  # a snapshot stays as it was written
    assert not list(page(root, "beta/feed.html").find_all("li", class_="incident"))
    assert "No incidents yet" in page(root, "beta/feed.html").text()
    assert_site_whole(root / "site")


def test_a_build_reads_the_days_digest_not_a_year_of_status_files(tmp_path: Path) -> None:
    root = project(tmp_path / "site-a", config='expected_every = "1d"\n')
    run(root, "alpha", ["7", "down", "7", "7"], start=T0 - timedelta(days=9),
        every=timedelta(hours=50))
    run(root, "alpha", ["7"], start=T0)
    digest = root / "site" / "alpha" / "log" / "digest.json"
    assert json.loads(digest.read_text())["key"].startswith("2026-11-27|2026-11-26")
    control = tmp_path / "control"
    shutil.copytree(root, control)
    for status in (root / "site" / "alpha" / "log").glob("*/status.json"):
        status.unlink()  # the same day's builds never read them
    for where in (root, control):
        run(where, "alpha", ["7"], start=T0 + timedelta(minutes=5))
    after, expected = (uptime_cells(page(where, "alpha/index.html")) for where in (root, control))
    assert after == expected
    assert after["windows"] == ["24 h", "7 d"] and after["Dashboard"][1] != "100 %"
    digest.write_text('{"schema": 1, "key": "x"}')  # torn or stale: computed again
    run(root, "alpha", ["7"], start=T0 + timedelta(minutes=10))
    assert json.loads(digest.read_text())["key"].startswith("2026-11-27|2026-11-26")


def test_a_sites_first_day_keeps_its_digest_and_reads_only_logged_months(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is settled on a site's first day, but its digest is kept all the same:
    summed by the first build, read by the next. And the months of a year of bars
    that have no log are neither listed nor read, every build, for every dashboard."""
    from dashsite.status import timeline
    from dashsite.store.version_store import VersionStore

    summed: list[str] = []
    compute = timeline.Timeline._compute_digest

    def counting(self, record, *args, **kwargs):  # type: ignore[no-untyped-def]
        summed.append(record.slug)
        return compute(self, record, *args, **kwargs)

    looked: set[str] = set()
    listing = VersionStore._month_folder
    read_seal = timeline.read_seal

    def listed(self, slug, month):  # type: ignore[no-untyped-def]
        looked.add(month)
        return listing(self, slug, month)

    def sealed(path: Path) -> str:
        looked.add(path.parent.name)
        return read_seal(path)

    monkeypatch.setattr(timeline.Timeline, "_compute_digest", counting)
    monkeypatch.setattr(VersionStore, "_month_folder", listed)
    monkeypatch.setattr(timeline, "read_seal", sealed)
    root = project(tmp_path)
    run(root, "alpha", ["7", "7"])
    digest = root / "site" / "alpha" / "log" / "digest.json"
    assert json.loads(digest.read_text())["key"].startswith("2026-11-27|2026-11-26")
    assert summed
    summed.clear()
    run(root, "alpha", ["7", "7"], start=T0 + timedelta(minutes=10))
    assert summed == []  # read, not summed again
    assert looked == {"2026-11"}  # the bars reach back to August: no log there
    control = tmp_path / "control"
    shutil.copytree(root, control)
    shutil.rmtree(control / ".dashsite")
    digest.unlink()
    for where in (root, control):
        run(where, "alpha", ["down"], start=T0 + timedelta(minutes=20))
    assert page(root, "alpha/index.html").text() == page(control, "alpha/index.html").text()


def test_a_version_a_killed_build_filed_still_counts_for_incidents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dashsite.site.build

    root = project(tmp_path)
    run(root, "alpha", ["7"])

    def killed(*_: object, **__: object) -> None:
        raise KeyboardInterrupt  # as if killed before the commit point

    monkeypatch.setattr(dashsite.site.build, "write_manifest", killed)
    with pytest.raises(KeyboardInterrupt):
        run(root, "alpha", ["down"], start=T0 + timedelta(minutes=5))
    monkeypatch.undo()
    assert (root / "site" / ".dashsite-tmp" / "journal.json").is_file()
    run(root, "alpha", ["7"], start=T0 + timedelta(minutes=10))
    status = json.loads((root / "site" / "alpha" / "log" / "2026-11" / "status.json").read_text())
    assert [(i["start_id"], i["end_id"], i["count"]) for i in status["incidents"]] == [
        ("20261127T202000Z", "20261127T202500Z", 1)]
    assert_site_whole(root / "site")


@pytest.mark.calendar
def test_the_first_build_over_a_long_log_says_why_it_takes_longer(tmp_path: Path) -> None:
    from projects import cli, seed_log, simple

    write_project(tmp_path, {"alpha": simple()}, config='expected_every = "5m"\n')
    # The CLI builds with the real clock: the log ends an hour before it, whatever the date.
    seed_log(tmp_path, ["alpha"], 2000, datetime.now(UTC) - timedelta(hours=1))
    first = cli(tmp_path, "build", "--version-id", "next")
    assert first.returncode == 0, first.stderr
    assert "alpha: computing status over time from its 2,000 logged versions" in first.stderr
    again = cli(tmp_path, "build", "--version-id", "again")
    assert again.returncode == 0 and "computing status" not in again.stderr
    cells = uptime_cells(page(tmp_path, "alpha/index.html"))
    assert cells["windows"][:2] == ["24 h", "7 d"]


def _incident_links(root: Path) -> dict[str, list[str]]:
    """Page → the links to a detected incident's first version (``…#v-<id>``) on it,
    each resolved to a site-relative path: from the bars' days, the history calendar,
    the incident history and the feeds."""
    site = root / "site"
    found: dict[str, list[str]] = {}
    pages = ["alpha/index.html", "alpha/history/index.html", "incidents/index.html",
             "alpha/feed.html", "feed.html"]
    for relative in pages:
        hrefs = [a.attrs.get("href", "") for a in page(root, relative).find_all("a")]
        base = (site / relative).parent
        found[relative] = [
            str((base / path).resolve().relative_to(site.resolve())) + "#" + anchor
            for path, _, anchor in (href.partition("#") for href in hrefs) if "v-" in anchor
        ]
    for relative in ("alpha/feed.xml", "feed.xml"):
        found[relative] = [
            link.removeprefix("https://example.test/")
            for link in (e.link for e in feed(root, relative).entries) if "#v-" in link
        ]
    return found


def _rows_on(root: Path, relative: str) -> set[str]:
    return {node.attrs["id"] for node in page(root, relative).find_all() if "id" in node.attrs}


def test_an_incident_links_the_history_page_that_lists_its_first_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At a 5-minute cadence a day fills more than one history page: an incident begun in
    the afternoon is on a later page than the day's first version. Its links (bars,
    calendar, incident history, feeds) open the page that has its row, while it goes on
    (read back from the manifest) and once resolved (from the status files)."""
    from dashsite.site import index
    from dashsite.status import view

    monkeypatch.setattr(view, "HISTORY_PAGE", 5)  # five rows a page, not 200
    monkeypatch.setattr(index, "HISTORY_PAGE_SIZE", 5)
    root = project(tmp_path, config='expected_every = "5m"\nbase_url = "https://example.test/"\n')
    run(root, "alpha", ["7"] * 7 + ["down", "down"])  # 20:15 … 20:45 ok, 20:50 down
    first = "20261127T205000Z"  # the month's eighth version: its second page
    ongoing = _incident_links(root)
    assert ongoing["alpha/index.html"] == [f"alpha/history/2026-11-2.html#v-{first}"]
    assert ongoing["alpha/feed.xml"] == [f"alpha/history/2026-11-2.html#v-{first}"]
    run(root, "alpha", ["7", "7"], start=T0 + timedelta(minutes=45))
    resolved = _incident_links(root)
    for relative in ("alpha/index.html", "alpha/history/index.html", "incidents/index.html",
                     "alpha/feed.html", "alpha/feed.xml", "feed.xml"):
        assert resolved[relative], f"{relative} links no incident"
        for link in resolved[relative]:
            assert link == f"alpha/history/2026-11-2.html#v-{first}", relative
    target, anchor = resolved["alpha/feed.xml"][0].split("#")
    assert anchor in _rows_on(root, target)
    assert f"v-{first}" not in _rows_on(root, "alpha/history/2026-11.html")
    status = root / "site/alpha/log/2026-11/status.json"
    assert [i["row"] for i in json.loads(status.read_text())["incidents"]] == [7]
    status.unlink()  # computed again from the log, which knows each version's place
    run(root, "alpha", ["7"], start=T0 + timedelta(minutes=55))
    assert [i["row"] for i in json.loads(status.read_text())["incidents"]] == [7]
    assert _incident_links(root)["alpha/index.html"] == [
        f"alpha/history/2026-11-2.html#v-{first}"]


def test_retention_leaves_no_page_linking_a_version_it_pruned(tmp_path: Path) -> None:
    """The build that prunes draws its pages from the history as kept: the latest page,
    the feeds and the incident history linked rows of pruned versions (an incident begun
    in them) until the next build."""
    root = project(tmp_path)
    run(root, "alpha", ["7", "down", "down", "7", "7"])  # an incident, resolved
    (root / "dashsite.toml").write_text('expected_every = "5m"\nretention = 2\n')
    run(root, "alpha", ["7"], start=T0 + timedelta(minutes=25))
    assert logged_versions(root / "site")["alpha"] == ["20261127T203500Z", "20261127T204000Z"]
    assert_site_whole(root / "site", anchors=True)


def test_a_build_killed_after_thinning_leaves_no_page_linking_what_it_thinned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tiers take pages and data out once the history pages no longer link to them: a
    build killed between the two leaves the old pages whole (the next build deletes)."""
    from dashsite.site import build as build_module

    root = project(tmp_path, config='keep_pages = "2d"\nkeep_data = "10d"\n')
    for days in (20, 15, 5, 1):
        run(root, "alpha", ["7"], start=T0 - timedelta(days=days))
    real = build_module.SiteBuilder._history

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # (as a kill: nothing after it runs)

    monkeypatch.setattr(build_module.SiteBuilder, "_history", killed)
    with pytest.raises(KeyboardInterrupt):  # two days on: the page of a day ago goes
        run(root, "alpha", ["7"], start=T0 + timedelta(days=2))
    assert_site_whole(root / "site", anchors=False)  # (its new row is not drawn yet)
    monkeypatch.setattr(build_module.SiteBuilder, "_history", real)
    run(root, "alpha", ["7"], start=T0 + timedelta(days=2, minutes=5))
    assert_site_whole(root / "site", anchors=True)
    site = root / "site"
    kept = {v: sorted(p.name for p in vdir(site, "alpha", v).glob("*"))
            if vdir(site, "alpha", v).exists() else []
            for v in logged_versions(site)["alpha"]}
    assert [len(files) for files in kept.values()] == [0, 0, 1, 1, 2, 2], kept


def test_an_incident_begun_in_pruned_versions_links_the_history_not_a_lost_row(
    tmp_path: Path,
) -> None:
    """Down since before the oldest version retention keeps: the incident goes on, and its
    links (page, feeds) open the history, not the row of a version no longer there."""
    root = project(tmp_path, config='expected_every = "5m"\nretention = 2\n')
    run(root, "alpha", ["down"] * 4)
    assert logged_versions(root / "site")["alpha"] == ["20261127T202500Z", "20261127T203000Z"]
    (entry,) = feed(root, "alpha/feed.xml").entries
    assert entry.link.endswith("alpha/history/index.html"), entry.link
    assert_site_whole(root / "site")  # every row a page links to is there


def test_a_build_killed_before_its_history_leaves_no_snapshot_linking_a_missing_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot links to its row's history page: the first version of a new month (or of
    a month's next page of 200 rows) linked a page not drawn yet when the build was killed
    before its history (the page exists first now, drawn in full by the history)."""
    from dashsite.site import build as build_module

    root = project(tmp_path)
    run(root, "alpha", ["7"])  # November's
    monkeypatch.setattr(build_module.SiteBuilder, "_history",
                        lambda *args, **kwargs: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        run(root, "alpha", ["7"], start=T0 + timedelta(days=5))  # December's first
    site = root / "site"
    (snapshot,) = site.glob("alpha/2026-12-*/*/index.html")
    links = [n.attrs["href"] for n in parse(snapshot.read_text()).iter() if "href" in n.attrs]
    history = [link for link in links if "/history/" in link]
    assert history and all((snapshot.parent / link.partition("#")[0]).resolve().is_file()
                           for link in history), history
    assert_site_whole(site, anchors=False)  # (its row is drawn by the next build)
    monkeypatch.undo()
    run(root, "alpha", ["7"], start=T0 + timedelta(days=5, minutes=5))
    assert_site_whole(site)
    assert "being written" not in (site / "alpha" / "history" / "2026-12.html").read_text()


def test_retention_one_keeps_the_pages_whole_and_the_latest_across_a_clock_step(
    tmp_path: Path,
) -> None:
    """retention = 1: each build prunes the version before its own. With an incident on the
    way, no page links a row no longer there; and a clock set back across midnight never
    makes the build prune the version it just filed (the newest build's)."""
    root = project(tmp_path, config='expected_every = "5m"\nretention = 1\n')
    run(root, "alpha", ["7", "down", "down"])
    assert logged_versions(root / "site")["alpha"] == ["20261127T202500Z"]
    assert_site_whole(root / "site")
    midnight = datetime(2026, 12, 1, tzinfo=UTC)
    (root / "dashboards" / "alpha" / "mode.txt").write_text("7")
    build(root, version_id="after", clock=fixed_clock(midnight + timedelta(seconds=10)))
    build(root, version_id="before", clock=fixed_clock(midnight - timedelta(seconds=10)))
    assert logged_versions(root / "site")["alpha"] == ["before"]
    assert manifest_entries(root / "site")["alpha"]["latest"]["id"] == "before"
    assert_site_whole(root / "site")
    build(root, version_id="right", clock=fixed_clock(midnight + timedelta(minutes=1)))
    assert logged_versions(root / "site")["alpha"] == ["right"]
    assert_site_whole(root / "site")
