"""What a visitor reads on the status pages: every dashboard listed, status words, numbers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from projects import assert_site_whole, build, fixed_clock, manifest_entries, write_project

from htmltree import parse

T0 = datetime(2026, 11, 27, 20, 15, tzinfo=UTC)
GOOD = {"dashboard.py": "from dashsite import collector, MonitorKV\n"
        "TITLE = 'Web'\n@collector\ndef port():\n    return MonitorKV({'port': 8080})\n",
        "template.html": "<div id='kv'>{{ port | render }}</div>"}
BROKEN = {"dashboard.py": "import no_such_module_here\n", "template.html": "<p>x</p>"}


FLAKY_WEB = {"dashboard.py": "from pathlib import Path\nfrom dashsite import collector\n"
             "TITLE = 'Web'\n@collector\ndef api():\n"
             "    if Path(__file__).with_name('down').exists():\n"
             "        raise RuntimeError('down')\n    return 1\n",
             "template.html": "<p>{{ api }}</p>"}
"""A dashboard whose collector fails while its folder holds a file ``down``."""


def builds(root: Path, states: list[str]) -> None:
    """One build per state (``up``, ``down``), five minutes apart from ``T0``."""
    down = root / "dashboards" / "web" / "down"
    for n, state in enumerate(states):
        if state == "down":
            down.write_text("")
        else:
            down.unlink(missing_ok=True)
        build(root, version_id=f"v{n}", clock=fixed_clock(T0 + timedelta(minutes=5 * n)))


def page(root: Path, relative: str):
    return parse((root / "site" / relative).read_text(encoding="utf-8"))


def test_a_dashboard_that_fails_to_import_is_listed_counted_and_has_a_page(
    tmp_path: Path,
) -> None:
    write_project(tmp_path, {"web": GOOD, "broken": BROKEN}, config='expected_every = "5m"\n')
    build(tmp_path, version_id="v1", clock=fixed_clock(T0))
    index = page(tmp_path, "index.html")
    cards = {li.attrs["id"]: li for li in index.find_all("li", class_="card")}
    assert list(cards) == ["card-broken", "card-web"]  # the failed one first: worst first
    broken = cards["card-broken"]
    assert broken.find("span", class_="status-failed").text() == "Failed to load"
    assert "dashboards/broken/dashboard.py" in broken.find("p", class_="card-problem").text()
    assert broken.find("a").attrs["href"] == "broken/index.html"
    banner = index.find("p", class_="banner")
    assert "banner-error" in banner.classes
    assert banner.find("strong").text() == "Partial outage"
    assert banner.find("span").text() == "1 of 2 dashboards needs attention: Broken"
    # its URL is a page that says what failed, not a 404
    latest = page(tmp_path, "broken/index.html")
    alert = latest.find("section", role="alert")
    assert "no_such_module_here" in alert.text() and "dashboard.py" in alert.text()
    assert latest.find("h1").find("span").text() == "Failed to load"
    site_badge = json.loads((tmp_path / "site" / "badge.json").read_text())
    assert site_badge["message"] == "failed · 1 of 2 need attention"
    assert site_badge["color"] == "red"
    own = json.loads((tmp_path / "site" / "broken" / "badge.json").read_text())
    assert own["message"] == "failed" and own["isError"] is True
    manifest = manifest_entries(tmp_path / "site")
    assert manifest["broken"]["status"] is None and manifest["broken"]["active"] is True
    assert manifest["web"]["status"] == "ok"
    assert_site_whole(tmp_path / "site")
    # fixed: it builds like any other and the banner says all is well
    (tmp_path / "dashboards" / "broken" / "dashboard.py").write_text("TITLE = 'Broken'\n")
    build(tmp_path, version_id="v2", clock=fixed_clock(T0 + timedelta(minutes=5)))
    index = page(tmp_path, "index.html")
    banner = index.find("p", class_="banner")
    assert "banner-ok" in banner.classes
    assert banner.text() == "Operational All 2 dashboards operational"
    assert page(tmp_path, "broken/index.html").find("h1").find("span").text() == "Operational"


def test_a_dashboard_that_breaks_after_building_is_marked_on_the_index(tmp_path: Path) -> None:
    write_project(tmp_path, {"web": GOOD}, config='expected_every = "5m"\n')
    build(tmp_path, version_id="v1", clock=fixed_clock(T0))
    published = (tmp_path / "site" / "web" / "index.html").read_bytes()
    (tmp_path / "dashboards" / "web" / "dashboard.py").write_text("raise RuntimeError('bad')\n")
    build(tmp_path, version_id="v2", clock=fixed_clock(T0 + timedelta(minutes=5)))
    card = page(tmp_path, "index.html").find("li", id="card-web")
    assert card.find("span", class_="status-failed").text() == "Failed to load"
    assert "RuntimeError" in card.find("p", class_="card-problem").text()
    assert "1 version" in card.text()  # its history is still there
    # the published latest page is kept as it was (nothing published is lost)
    assert (tmp_path / "site" / "web" / "index.html").read_bytes() == published
    assert_site_whole(tmp_path / "site")


def test_numbers_read_as_given_and_counts_are_grouped(tmp_path: Path) -> None:
    from projects import seed_log

    write_project(tmp_path, {"web": GOOD}, config='expected_every = "5m"\n')
    seed_log(tmp_path, ["web"], 1500, T0 - timedelta(minutes=5))
    build(tmp_path, version_id="v1", clock=fixed_clock(T0))
    latest = page(tmp_path, "web/index.html")
    kv = latest.find("div", id="kv")
    assert [td.text() for td in kv.find_all("td")] == ["8080"]  # a port, as returned
    card = page(tmp_path, "index.html").find("li", id="card-web")
    assert "1,501 versions" in card.text()
    history = page(tmp_path, "web/history/index.html")
    assert "1,501 versions kept" in history.find("main").text()
    assert latest.find("h1").find("span").text() == "Operational"


def test_the_uptime_table_names_collectors_by_label(tmp_path: Path) -> None:
    write_project(tmp_path, {"web": GOOD}, config='expected_every = "5m"\n')
    for n in range(2):
        build(tmp_path, version_id=f"v{n}", clock=fixed_clock(T0 + timedelta(minutes=5 * n)))
    table = page(tmp_path, "web/index.html").find("table", class_="uptime-table")
    assert next(th.text() for th in table.find("thead").find_all("th")) == "Component"
    rows = [tr.find("th") for tr in table.find("tbody").find_all("tr")]
    assert [r.text() for r in rows] == ["Dashboard", "Port"]
    assert rows[1].find("span").attrs["title"] == "collector port"


def test_status_words_are_configurable_and_machine_values_stay(tmp_path: Path) -> None:
    write_project(tmp_path, {"web": GOOD}, config=(
        'expected_every = "5m"\n[status_words]\nok = "All good"\nerror = "Down"\n'))
    build(tmp_path, version_id="v1", clock=fixed_clock(T0))
    latest = page(tmp_path, "web/index.html")
    badge = latest.find("h1").find("span")
    assert badge.text() == "All good" and "status-ok" in badge.classes
    assert page(tmp_path, "index.html").find("p", class_="banner").find("strong").text() == "All good"
    manifest = json.loads((tmp_path / "site" / "manifest.json").read_text())
    assert manifest["dashboards"][0]["status"] == "ok"
    assert json.loads((tmp_path / "site" / "web" / "badge.json").read_text())["message"] == "ok"


def test_an_unknown_status_word_is_a_config_error(tmp_path: Path) -> None:
    from projects import cli

    write_project(tmp_path, {"web": GOOD}, config='[status_words]\nfine = "Fine"\n')
    done = cli(tmp_path, "build")
    assert done.returncode == 1
    assert "dashsite.toml: 'status_words' unknown key 'fine' in [status_words]" in done.stderr
    assert "Traceback" not in done.stderr


MAINTENANCE = """\
+++
title = "Planned failover"
dashboards = ["web"]
start = 2026-11-27T20:20:00Z
end = 2026-11-27T20:30:00Z
severity = "maintenance"
+++
Moved the primary.
"""


def test_a_maintenance_day_is_drawn_and_labelled_as_maintenance(tmp_path: Path) -> None:
    write_project(
        tmp_path, {"web": FLAKY_WEB}, config='expected_every = "5m"\nunchanged = "version"\n'
    )  # (it counts them)
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents" / "failover.md").write_text(MAINTENANCE)
    builds(tmp_path, ["up", "up", "down", "up", "up"])
    latest = page(tmp_path, "web/index.html")
    bars = list(latest.find("ol", class_="day-bars").find_all("li"))
    assert len(bars) == 90
    assert "state-maintenance" in bars[-1].classes
    assert bars[-1].text().startswith("2026-11-27: maintenance 5 min, 5 versions")
    item = next(li for li in latest.find("section", class_="incidents").find_all("li")
                if "Planned failover" in li.text())
    assert item.find("span", class_="status-badge").text() == "Maintenance"
    assert "incident-maintenance" in item.classes
    card = page(tmp_path, "index.html").find("li", id="card-web")
    assert "maintenance" in list(card.find("div", class_="day-runs").find_all("span"))[-1].classes


def test_day_bars_are_one_tab_stop(tmp_path: Path) -> None:
    write_project(tmp_path, {"web": GOOD}, config='expected_every = "1d"\n')
    for n in range(3):
        build(tmp_path, version_id=f"d{n}", clock=fixed_clock(T0 + timedelta(days=n)))
    bars = page(tmp_path, "web/index.html").find("ol", class_="day-bars")
    focusable = [el for el in bars.iter() if "tabindex" in el.attrs]
    assert len(focusable) == 90
    assert [el.attrs["tabindex"] for el in focusable].count("0") == 1
    assert focusable[-1].attrs["tabindex"] == "0" and focusable[-1].tag == "a"
    assert focusable[0].tag == "span"  # a day without data: focusable, no link


OUTAGE = """\
+++
title = "Database failover"
dashboards = ["web"]
start = 2026-11-27T20:20:00Z
end = 2026-11-27T20:35:00Z
severity = "error"
+++
The primary went away; the replica took over.
"""


def test_the_incident_history_lists_every_incident_and_a_declared_one_absorbs(
    tmp_path: Path,
) -> None:
    write_project(tmp_path, {"web": FLAKY_WEB}, config='expected_every = "5m"\n')
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents" / "failover.md").write_text(OUTAGE)
    # down at 20:25 (inside the declared window) and at 20:45 (outside it)
    builds(tmp_path, ["up", "up", "down", "up", "up", "up", "down", "up"])
    index = page(tmp_path, "index.html")
    assert index.find("p", class_="index-links").find("a").attrs["href"] == "incidents/index.html"
    history = page(tmp_path, "incidents/index.html")
    items = list(history.find("ul", class_="incident-list").find_all("li", class_="incident"))
    titles = [li.find("strong").text() for li in items]
    assert titles == ["Detected: Web", "Database failover"]  # newest first, the covered one gone
    assert "includes 1 detected incident" in items[1].text()
    assert items[1].find("a").attrs["href"] == "../incidents/failover.html"
    assert items[0].find("a").attrs["href"].startswith("../web/history/2026-11")
    assert history.find("h2").text() == "2026-11"
    recent = page(tmp_path, "web/index.html").find("section", class_="incidents")
    assert len(list(recent.find_all("li", class_="incident"))) == 2
    crumbs = page(tmp_path, "incidents/failover.html").find("nav")
    assert [a.attrs["href"] for a in crumbs.find_all("a")][-1] == "index.html"
    assert_site_whole(tmp_path / "site")


def test_the_incident_history_is_drawn_again_when_a_layout_changes(tmp_path: Path) -> None:
    """The page is written only when what it says changed: a layout (``base.html``, or
    its own ``incidents.html``) is part of that, as on every other page."""
    write_project(tmp_path, {"web": FLAKY_WEB}, config='expected_every = "5m"\n')
    builds(tmp_path, ["up", "down", "up"])
    theme = Path(__file__).parents[1] / "src" / "dashsite" / "theme"
    layouts = tmp_path / "dashboards" / "_layouts"
    layouts.mkdir()
    marked = (theme / "base.html").read_text().replace("<body", '<body data-layout="one"', 1)
    (layouts / "base.html").write_text(marked)
    build(tmp_path, version_id="v3", clock=fixed_clock(T0 + timedelta(minutes=15)))
    for relative in ("index.html", "web/index.html", "incidents/index.html"):
        assert page(tmp_path, relative).find("body").attrs.get("data-layout") == "one", relative
    (layouts / "base.html").write_text(marked.replace('"one"', '"two"'))
    build(tmp_path, version_id="v4", clock=fixed_clock(T0 + timedelta(minutes=20)))
    assert page(tmp_path, "incidents/index.html").find("body").attrs["data-layout"] == "two"
    (layouts / "incidents.html").write_text(
        (theme / "incidents.html").read_text().replace("{% block content %}",
                                                       "{% block content %}<p id=own></p>", 1))
    build(tmp_path, version_id="v5", clock=fixed_clock(T0 + timedelta(minutes=25)))
    assert page(tmp_path, "incidents/index.html").find("p", id="own") is not None


def test_the_incident_history_holds_the_newest_detected_incidents_and_says_where_the_rest_are(
    tmp_path: Path, monkeypatch
) -> None:
    """At 1,000 dashboards a year of detected incidents is tens of thousands: the site-wide
    page keeps every declared and ongoing one and the newest detected ones, and says that
    the dashboards' histories have the older ones."""
    from dashsite.site import incident_history

    monkeypatch.setattr(incident_history, "SITE_DETECTED", 2)
    write_project(tmp_path, {"web": FLAKY_WEB}, config='expected_every = "5m"\n')
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents" / "failover.md").write_text(OUTAGE)  # 20:20 to 20:35
    # detected: 20:45, 20:55, 21:05 (outside the declared window), and 21:15 ongoing
    builds(tmp_path, ["up"] * 6 + ["down", "up", "down", "up", "down", "up", "down"])
    history = page(tmp_path, "incidents/index.html")
    items = list(history.find("ul", class_="incident-list").find_all("li", class_="incident"))
    starts = [li.find("time").attrs["datetime"] for li in items]
    assert starts == ["2026-11-27T21:15:00Z", "2026-11-27T21:05:00Z", "2026-11-27T20:55:00Z",
                      "2026-11-27T20:20:00Z"]  # ongoing, the newest two resolved, declared
    assert "Ongoing" in items[0].text()
    assert [li.find("strong").text() for li in items][-1] == "Database failover"
    assert "up to 2." in history.find("p", class_="meta").text()
    older = history.find("p", class_="older-incidents").text()
    assert "Older detected incidents are not listed here" in older
    dashboard = page(tmp_path, "web/history/index.html")
    listed = dashboard.find("section", class_="incidents")
    times = {t.attrs["datetime"] for t in listed.find_all("time")}
    assert "2026-11-27T20:45:00Z" in times  # the one dropped here is in its history
    assert_site_whole(tmp_path / "site")


UPGRADE = """\
+++
title = "Database upgrade"
dashboards = ["web"]
start = 2026-11-17T08:00:00Z
end = 2026-11-18T09:00:00Z
severity = "maintenance"
+++
Planned.
"""


def day_details(tree) -> dict[str, list[tuple[str, str, str]]]:
    """Day → the incidents its detail links: (words, href, tabindex)."""
    found = {}
    for li in tree.find("ol", class_="day-bars").find_all("li"):
        day = li.find("span", class_="visually-hidden").text()[:10]
        for detail in li.find_all("span", class_="day-incidents"):
            found[day] = [(a.text(), a.attrs["href"], a.attrs["tabindex"])
                          for a in detail.find_all("a")]
    return found


def test_a_days_detail_links_the_incidents_that_touched_it(tmp_path: Path) -> None:
    from projects import seed_log

    flaky = {"dashboard.py": "from pathlib import Path\nfrom dashsite import collector\n"
             "TITLE = 'Web'\n@collector\ndef api():\n"
             "    if Path(__file__).with_name('down').exists():\n"
             "        raise RuntimeError('down')\n    return 1\n",
             "template.html": "<p>{{ api }}</p>"}
    write_project(tmp_path, {"web": flaky}, config='expected_every = "1h"\n')
    seed_log(tmp_path, ["web"], 30 * 24, T0 - timedelta(minutes=5), every=60)
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents" / "upgrade.md").write_text(UPGRADE)  # in the seeded history
    (tmp_path / "incidents" / "failover.md").write_text(OUTAGE)
    # down at 20:25 (inside the declared window) and at 20:45 (outside it)
    builds(tmp_path, ["up", "up", "down", "up", "up", "up", "down", "up"])
    site = tmp_path / "site"
    latest = page(tmp_path, "web/index.html")
    details = day_details(latest)
    upgrade = [("Database upgrade", "../incidents/upgrade.html", "-1")]
    assert details["2026-11-17"] == details["2026-11-18"] == upgrade  # both days it spanned
    today = details.pop("2026-11-27")
    assert sorted(details) == ["2026-11-17", "2026-11-18"]
    # the declared one absorbs the outage at 20:25; the one at 20:45 is its own; the row's
    # tab stop is today's, so today's links are tab stops too
    assert [(words, tab) for words, _, tab in today] == [
        ("Database failover", "0"), ("Partial outage from 20:45 UTC", "0")]
    assert today[0][1] == "../incidents/failover.html"
    assert today[1][1].startswith("../web/history/2026-11") and today[1][1].endswith("#v-v6")
    for _, href, _ in today + upgrade:  # every link resolves in the built site
        assert (site / "web" / href.split("#")[0]).resolve().is_file(), href
    assert page(tmp_path, "incidents/upgrade.html").find("h1").text() == "Database upgrade"
    # a month page's bars link the same incidents, from two folders down
    month = max((site / "web" / "history").glob("2026-11*.html"), key=lambda p: p.stat().st_mtime)
    on_month = day_details(parse(month.read_text()))
    assert on_month["2026-11-17"] == [("Database upgrade", "../../incidents/upgrade.html", "-1")]
    assert [href for _, href, _ in on_month["2026-11-27"]] == [
        "../" + href for _, href, _ in today]
    for _, href, _ in on_month["2026-11-27"]:
        assert (month.parent / href.split("#")[0]).resolve().is_file(), href
    assert_site_whole(site)


def test_the_history_index_folds_alike_versions_and_opens_with_a_calendar(
    tmp_path: Path,
) -> None:
    from dashsite.status.history_fold import fold_runs

    write_project(
        tmp_path, {"web": FLAKY_WEB}, config='expected_every = "5m"\nunchanged = "version"\n'
    )
    down = tmp_path / "dashboards" / "web" / "down"
    states = ["up"] * 10 + ["down"] + ["up"] * 2 + ["up"] * 10
    for n, state in enumerate(states):
        if state == "down":
            down.write_text("")
        elif down.exists():
            down.unlink()
        build(tmp_path, version_id=f"v{n:02d}", clock=fixed_clock(T0 + timedelta(minutes=5 * n)))
    history = page(tmp_path, "web/history/index.html")
    rows = list(history.find("table", class_="history-table").find("tbody").find_all("tr"))
    firsts = [r.find("td").text() for r in rows]
    assert firsts == ["v11 … v22", "v10", "v00 … v09"]
    assert "12 versions alike" in rows[0].text()
    assert rows[1].find("a").attrs["href"].endswith("/v10/index.html")
    calendar = history.find("section", class_="history-calendar")
    month = calendar.find("div", class_="calendar-month")
    assert month.find("h3").find("a").attrs["href"] == "2026-11.html"
    bars = list(month.find("ol", class_="month-bars").find_all("li"))
    assert len(bars) == 1 and "state-down" in bars[0].classes
    assert bars[0].find("a").attrs["href"] == "2026-11.html#d-2026-11-27"
    assert "23 versions · worst partial outage · 1 incident" in month.find("p").text()
    assert fold_runs([]) == []


def test_the_failure_page_follows_the_current_error(tmp_path: Path) -> None:
    write_project(tmp_path, {"broken": BROKEN}, config='expected_every = "5m"\n')
    build(tmp_path, version_id="v1", clock=fixed_clock(T0))
    (tmp_path / "dashboards" / "broken" / "dashboard.py").write_text("raise ValueError('other')\n")
    build(tmp_path, version_id="v2", clock=fixed_clock(T0 + timedelta(minutes=5)))
    alert = page(tmp_path, "broken/index.html").find("section", role="alert").text()
    assert "other" in alert and "no_such_module_here" not in alert
