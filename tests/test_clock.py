"""The site stays true whatever the clock says: build order, one incident, caches, damage."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from projects import assert_site_whole, build, fixed_clock, manifest_entries
from test_status_site import page, project, run

ATOM = "{http://www.w3.org/2005/Atom}"
pytestmark = pytest.mark.calendar  # status over time: run again with the clock ahead
FIRST_OF_MONTH = datetime(2026, 12, 1, 0, 15, tzinfo=UTC)


def feed_ids(site: Path, relative: str) -> list[str]:
    """The ``<id>`` of every entry of a feed, in order."""
    root = ET.parse(site / relative).getroot()
    return [entry.findtext(f"{ATOM}id") or "" for entry in root.iter(f"{ATOM}entry")]


def month_status(site: Path, slug: str, month: str) -> dict:
    return json.loads((site / slug / "log" / month / "status.json").read_text())


# -- A2: an incident is one incident ---------------------------------------------------------


def test_a_day_of_hourly_builds_keeps_one_incident_once(tmp_path: Path) -> None:
    # A history that starts on the first of a month has no day to settle before
    # today: every build used to read the whole log again and file the incident again.
    root = project(tmp_path)
    run(root, "alpha", ["7"] * 2 + ["down"] * 3 + ["7"] * 19, start=FIRST_OF_MONTH,
        every=timedelta(hours=1))
    site = root / "site"
    status = month_status(site, "alpha", "2026-12")
    assert [(i["start_id"], i["count"]) for i in status["incidents"]] == [
        ("20261201T021500Z", 3)]
    latest = page(root, "alpha/index.html")
    items = list(latest.find("section", class_="incidents").find_all("li", class_="incident"))
    assert len(items) == 1
    history = page(root, "alpha/history/2026-12.html")
    assert len(list(history.find_all("li", class_="incident"))) == 1
    for relative in ("feed.xml", "alpha/feed.xml"):
        ids = feed_ids(site, relative)
        assert len(ids) == 1 == len(set(ids)), relative
    assert_site_whole(site)


def test_copies_of_an_incident_in_a_status_file_count_once(tmp_path: Path) -> None:
    root = project(tmp_path)
    run(root, "alpha", ["7", "down", "7"], start=FIRST_OF_MONTH)
    site = root / "site"
    path = site / "alpha" / "log" / "2026-12" / "status.json"
    status = json.loads(path.read_text())
    status["incidents"] *= 4  # as an earlier release left it
    path.write_text(json.dumps(status))
    (site / "alpha" / "log" / "digest.json").unlink(missing_ok=True)
    run(root, "alpha", ["7"], start=FIRST_OF_MONTH + timedelta(days=1))
    for relative in ("feed.xml", "alpha/feed.xml"):
        ids = feed_ids(site, relative)
        assert len(ids) == 1 == len(set(ids)), relative
    history = page(root, "alpha/history/2026-12.html")
    assert len(list(history.find_all("li", class_="incident"))) == 1


# -- A1: the newest run is what the site shows ------------------------------------------------

T0 = datetime(2026, 11, 27, 20, 15, tzinfo=UTC)


def build_at(root: Path, mode: str, moment: datetime):
    """One build with the collector in ``mode`` and the clock at ``moment`` (auto id)."""
    (root / "dashboards" / "alpha" / "mode.txt").write_text(mode)
    return build(root, clock=fixed_clock(moment))


def index_status(site: Path, slug: str) -> str:
    from htmltree import parse

    index = parse((site / "index.html").read_text())
    card = next(c for c in index.find_all("li", class_="card")
                if c.find("a").attrs["href"].startswith(f"{slug}/"))
    badge = card.find("span", class_="status-badge")  # the words are for people; the class is the level
    (level,) = [c.removeprefix("status-") for c in badge.attrs["class"].split() if c != "status-badge"]
    return level


def assert_site_shows(site: Path, version: str, status: str) -> None:
    """The manifest, both badges, the feeds and the index all say the newest run's status."""
    manifest = json.loads((site / "manifest.json").read_text())
    alpha = manifest["dashboards"][0]
    assert alpha["latest"]["id"] == version and alpha["status"] == status
    badge = json.loads((site / "alpha" / "badge.json").read_text())
    assert badge["message"].split(" ")[0] == status
    svg = ET.parse(site / "alpha" / "badge.svg").getroot()
    assert svg.attrib["aria-label"].split(": ", 1)[1].split(" ")[0] == status
    site_badge = json.loads((site / "badge.json").read_text())
    assert site_badge["message"].split(" ")[0] == status
    assert index_status(site, "alpha") == status
    feed = ET.parse(site / "feed.xml").getroot()
    titles = [e.findtext(f"{ATOM}title") or "" for e in feed.iter(f"{ATOM}entry")]
    if status == "ok":
        assert not any("ongoing" in t for t in titles), titles
    else:
        assert any(t.endswith("(ongoing)") and f"{status} since" in t for t in titles), titles
    for relative in ("feed.xml", "alpha/feed.xml"):
        ids = feed_ids(site, relative)
        assert len(ids) == len(set(ids))


def test_a_clock_a_year_ahead_does_not_hide_the_failures_after_it(tmp_path: Path) -> None:
    root = project(tmp_path)
    site = root / "site"
    build_at(root, "7", T0)
    ahead = build_at(root, "7", T0 + timedelta(days=365))
    assert_site_shows(site, ahead.version_id, "ok")
    failed = build_at(root, "down", T0 + timedelta(minutes=5))
    assert failed.version_id > ahead.version_id  # ids sort by build, whatever the clock
    assert_site_shows(site, failed.version_id, "error")
    again = build_at(root, "down", T0 + timedelta(minutes=10))
    assert_site_shows(site, again.version_id, "error")
    manifest = manifest_entries(site)["alpha"]
    # the marker the year-ahead build set is back before the newest run
    assert manifest["status_settled"] < (T0 + timedelta(minutes=10)).date().isoformat()
    assert manifest["incident"]["start_id"] == failed.version_id
    assert manifest["count"] == 4
    cells = {
        tr.find("th").text(): [td.text() for td in tr.find_all("td")]
        for tr in page(root, "alpha/index.html").find("table", class_="uptime-table")
        .find("tbody").find_all("tr")
    }
    assert "no data" not in cells["Dashboard"][0], cells
    recovered = build_at(root, "7", T0 + timedelta(minutes=15))
    assert_site_shows(site, recovered.version_id, "ok")
    assert_site_whole(site)


def test_a_clock_stepped_back_still_files_the_newest_run(tmp_path: Path) -> None:
    from dashsite.core.config import load_config
    from dashsite.core.reporter import RecordingReporter
    from dashsite.site.build import BuildOptions, build_site

    root = project(tmp_path)
    site = root / "site"
    build_at(root, "7", T0)
    build_at(root, "7", T0 + timedelta(hours=4))  # the next day (UTC), 00:15
    (root / "dashboards" / "alpha" / "mode.txt").write_text("down")
    reporter = RecordingReporter()
    back = build_site(load_config(root), BuildOptions(clock=fixed_clock(T0 + timedelta(hours=1))),
                      reporter=reporter)
    notices = [e.message for e in reporter.events if "behind the site's newest build" in e.message]
    assert len(notices) == 1 and "\n" not in notices[0]
    assert_site_shows(site, back.version_id, "error")
    errors = " ".join(page(root, "alpha/index.html").find(
        "section", class_="collector-errors").text().split())
    assert "(3h 0m later, by a clock set back since): stale since then" in errors, errors
    data = json.loads(next(site.glob(f"alpha/*/{back.version_id}/data.json")).read_text())
    assert data["collected_at"] == (T0 + timedelta(hours=1)).isoformat()  # what the clock said
    reporter = RecordingReporter()  # still behind: said again (the newest version was
    build_site(load_config(root), BuildOptions(clock=fixed_clock(T0 + timedelta(hours=2))),
               reporter=reporter)  # filed by the clock already behind: the site's time counts)
    notices = [e.message for e in reporter.events if "behind the site's newest build" in e.message]
    assert len(notices) == 1 and " is 2.0 h behind " in notices[0], notices
    assert "the site's time 2026-11-28 00:15 UTC" in notices[0], notices
    later = build_at(root, "down", T0 + timedelta(hours=4, minutes=5))
    assert_site_shows(site, later.version_id, "error")
    manifest = manifest_entries(site)["alpha"]
    assert manifest["count"] == 5 and manifest["incident"]["start_id"] == back.version_id
    assert_site_whole(site)


def test_an_outage_a_clock_set_back_dated_into_counted_time_still_shows(
    tmp_path: Path,
) -> None:
    """Builds every 5 minutes; the clock steps back an hour and the collector fails while
    it is behind. The day bar, its count and the manifest say so (the day read "ok, 100 %"
    with the failures dropped)."""
    from htmltree import parse

    root = project(tmp_path)
    site = root / "site"
    for n in range(12):  # 20:15 … 21:10
        build_at(root, "7", T0 + timedelta(minutes=5 * n))
    for n in range(6):  # the clock an hour behind: 20:15 … 20:40, failing
        build_at(root, "down", T0 + timedelta(minutes=5 * n))
    page_ = parse((site / "alpha" / "index.html").read_text())
    today = [li for li in page_.find("ol", class_="day-bars").find_all("li")
             if "2026-11-27" in li.text()]
    said = " ".join(today[-1].text().split())
    assert "2026-11-27: down" in said or "partial outage" in said.lower(), said
    assert "18 versions" in said, said
    assert manifest_entries(site)["alpha"]["status"] == "error"
    assert_site_whole(site)


def tiers_left(site: Path) -> dict[str, str]:
    """Version id → what the tiers left of it: ``page``, ``data`` or ``log``."""
    from projects import logged_versions, vdir

    kept = {}
    for version in logged_versions(site)["alpha"]:
        folder = vdir(site, "alpha", version)
        kept[version] = ("page" if (folder / "index.html").is_file()
                         else "data" if (folder / "data.json").is_file() else "log")
    return kept


def test_a_clock_years_ahead_thins_nothing_a_right_clock_keeps(tmp_path: Path) -> None:
    from dashsite.core.config import load_config
    from dashsite.core.reporter import RecordingReporter
    from dashsite.site.build import BuildOptions, build_site

    root = project(tmp_path)  # keep_pages 7 days, keep_data 30 days (the defaults)
    site = root / "site"
    for version, moment in (("old", T0 - timedelta(days=40)), ("mid", T0 - timedelta(days=10)),
                            ("new", T0 - timedelta(days=4)), ("now", T0)):
        build(root, version_id=version, clock=fixed_clock(moment))
    right = {"old": "log", "mid": "data", "new": "page", "now": "page"}
    assert tiers_left(site) == right

    def build_with(version: str, moment: datetime) -> list[str]:
        reporter = RecordingReporter()
        build_site(load_config(root), BuildOptions(version_id=version, clock=fixed_clock(moment)),
                   reporter=reporter)
        return [e.message for e in reporter.events if e.kind == "notice"]

    ahead = T0 + timedelta(days=3 * 365)
    notices = build_with("ahead", ahead)  # by that clock, every page and folder is old
    assert tiers_left(site) == {**right, "ahead": "page"}
    said = [line for line in notices if "days ahead" in line]
    assert said == ["the clock (2029-11-26 20:15 UTC) is 1095 days ahead of the site's time "
                    "(2026-11-27 20:15 UTC, its previous build): old pages and data are thinned "
                    "by the site's time, so none is deleted early; check the machine's clock"], \
        notices
    manifest = json.loads((site / "manifest.json").read_text())
    assert manifest["built_at"] == ahead.isoformat() and manifest["site_time"] == T0.isoformat()
    from test_docs import _problems

    assert _problems("manifest", manifest) == []  # its schema knows site_time
    # The clock stays wrong: the site's time moves by the hour between the builds only.
    assert not [n for n in build_with("ahead2", ahead + timedelta(hours=1)) if "days ahead" in n]
    assert tiers_left(site) == {**right, "ahead": "page", "ahead2": "page"}
    # Set right again ten days later: the clock is the site's time again.
    build_with("later", T0 + timedelta(days=10))
    assert tiers_left(site) == {"old": "log", "mid": "data", "new": "data", "now": "data",
                                "ahead": "page", "ahead2": "page", "later": "page"}
    assert "site_time" not in json.loads((site / "manifest.json").read_text())
    assert_site_whole(site)


def test_a_site_time_no_clock_could_have_set_is_not_believed(tmp_path: Path) -> None:
    """A manifest whose site time is in 2099 (edited, damaged, pulled from a bucket someone
    wrote): the next build would have deleted every earlier page and data file."""
    from dashsite.core.config import load_config
    from dashsite.core.reporter import RecordingReporter
    from dashsite.site.build import BuildOptions, build_site

    root = project(tmp_path)
    site = root / "site"
    for version, moment in (("mid", T0 - timedelta(days=10)), ("now", T0)):
        build(root, version_id=version, clock=fixed_clock(moment))
    manifest_file = site / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["site_time"] = "2099-01-01T00:00:00+00:00"
    manifest_file.write_text(json.dumps(manifest))
    reporter = RecordingReporter()
    build_site(load_config(root), BuildOptions(version_id="next",
                                               clock=fixed_clock(T0 + timedelta(hours=1))),
               reporter=reporter)
    assert tiers_left(site) == {"mid": "data", "now": "page", "next": "page"}
    said = [e.message for e in reporter.events if "site's time in the manifest" in e.message]
    assert len(said) == 1 and said[0].startswith(
        "the site's time in the manifest (2099-01-01 00:00 UTC) is 26329 days past its newest "
        "version's month: not believed"), said
    assert "site_time" not in json.loads(manifest_file.read_text())  # the clock, again
    assert_site_whole(site)


def test_a_clock_set_back_months_holds_the_sites_time_and_thinning_goes_on(
    tmp_path: Path,
) -> None:
    """A clock set back 200 days for a few builds: the site's time holds (nothing more is
    thinned meanwhile), and once the clock is right the tiers go on from the right time
    (a build that took the wrong clock as the site's time stopped thinning for good)."""
    root = project(tmp_path)
    site = root / "site"
    for version, moment in (("old", T0 - timedelta(days=40)), ("new", T0 - timedelta(days=8)),
                            ("now", T0)):
        build(root, version_id=version, clock=fixed_clock(moment))
    back = T0 - timedelta(days=200)
    build(root, version_id="back1", clock=fixed_clock(back))
    build(root, version_id="back2", clock=fixed_clock(back + timedelta(hours=1)))
    manifest = json.loads((site / "manifest.json").read_text())
    assert manifest["site_time"] == T0.isoformat()  # held
    build(root, version_id="right", clock=fixed_clock(T0 + timedelta(days=1)))
    assert "site_time" not in json.loads((site / "manifest.json").read_text())  # the clock
    left = tiers_left(site)
    assert left["old"] == "log" and left["new"] == "data" and left["right"] == "page", left
    assert_site_whole(site)


def test_builds_weeks_apart_still_thin_by_the_clock(tmp_path: Path) -> None:
    root = project(tmp_path)
    site = root / "site"
    build(root, version_id="first", clock=fixed_clock(T0))
    build(root, version_id="second", clock=fixed_clock(T0 + timedelta(days=80)))  # believed
    assert tiers_left(site) == {"first": "log", "second": "page"}
    manifest = json.loads((site / "manifest.json").read_text())
    assert "site_time" not in manifest  # the site's time is the clock


# -- A3: derived files are caches ------------------------------------------------------------


def incident_items(root: Path, relative: str) -> list[str]:
    tree = page(root, relative)
    return [" ".join(li.text().split()) for li in tree.find_all("li", class_="incident")]


def test_deleting_a_status_file_and_the_digest_loses_no_incident(tmp_path: Path) -> None:
    root = project(tmp_path)
    site = root / "site"
    # settled up to 2026-11-30; the incident begins and ends on 2026-12-01
    run(root, "alpha", ["7", "7", "down", "down", "7", "7"],
        start=datetime(2026, 11, 30, 22, 15, tzinfo=UTC), every=timedelta(hours=1))
    before = incident_items(root, "alpha/index.html")
    assert len(before) == 1
    (site / "alpha" / "log" / "2026-12" / "status.json").unlink()
    (site / "alpha" / "log" / "digest.json").unlink(missing_ok=True)
    run(root, "alpha", ["7"], start=datetime(2026, 12, 1, 4, 15, tzinfo=UTC))
    assert incident_items(root, "alpha/index.html") == before
    assert len(incident_items(root, "alpha/history/2026-12.html")) == 1
    for relative in ("feed.xml", "alpha/feed.xml"):
        assert len(feed_ids(site, relative)) == 1, relative
    status = month_status(site, "alpha", "2026-12")
    assert [i["start_id"] for i in status["incidents"]] == ["20261201T001500Z"]


def _tamper(path: Path, change) -> None:
    raw = json.loads(path.read_text())
    change(raw)  # valid JSON, the old fingerprint left as it was
    path.write_text(json.dumps(raw))


def _days_marked_up(raw: dict) -> None:
    for summary in raw["days"].values():
        seconds = summary.get("seconds", {})
        seconds["up"] = seconds.get("up", 0) + seconds.pop("down", 0)
        if summary.get("worst") == "error":
            summary["worst"] = "ok"


def test_a_status_file_or_digest_with_false_content_is_computed_again(tmp_path: Path) -> None:
    import shutil

    control = project(tmp_path / "control")
    run(control, "alpha", ["7", "down", "7", "7", "7"], start=T0 - timedelta(days=3),
        every=timedelta(hours=20))
    tampered = tmp_path / "tampered"
    shutil.copytree(control, tampered)
    log = tampered / "site" / "alpha" / "log"
    _tamper(log / "2026-11" / "status.json", lambda raw: raw.update(incidents=[]))
    _tamper(log / "2026-11" / "status.json", _days_marked_up)
    _tamper(log / "digest.json", lambda raw: raw.update(incidents=[]))
    same_day = T0 - timedelta(days=3) + timedelta(hours=81)  # the digest's key still holds
    for where in (control, tampered):
        run(where, "alpha", ["7"], start=same_day)
    assert incident_items(tampered, "alpha/index.html") == incident_items(
        control, "alpha/index.html")
    assert len(incident_items(tampered, "alpha/index.html")) == 1
    from test_status_site import uptime_cells

    assert uptime_cells(page(tampered, "alpha/index.html")) == uptime_cells(
        page(control, "alpha/index.html"))
    for relative in ("feed.xml", "alpha/feed.xml"):
        assert feed_ids(tampered / "site", relative) == feed_ids(control / "site", relative)
    assert month_status(tampered / "site", "alpha", "2026-11") == month_status(
        control / "site", "alpha", "2026-11")


def test_a_line_appended_to_a_settled_day_redoes_its_summary(tmp_path: Path) -> None:
    root = project(tmp_path)
    run(root, "alpha", ["7", "7", "7"], start=T0 - timedelta(days=2), every=timedelta(hours=20))
    status = month_status(root / "site", "alpha", "2026-11")
    assert status["days"]["25"]["count"] == 1
    # a clock stepped back files a failed version into a settled day
    (root / "dashboards" / "alpha" / "mode.txt").write_text("down")
    build(root, clock=fixed_clock(T0 - timedelta(days=2) + timedelta(hours=2)))
    build(root, clock=fixed_clock(T0 - timedelta(days=2) + timedelta(hours=42)))
    status = month_status(root / "site", "alpha", "2026-11")
    assert status["days"]["25"]["count"] == 2 and status["days"]["25"]["worst"] == "error"


# -- A4: a damaged log shard is never silent -------------------------------------------------


def build_recorded(root: Path, mode: str, moment: datetime):
    """A build whose reporter's events are kept: (result, their messages)."""
    from dashsite.core.config import load_config
    from dashsite.core.reporter import RecordingReporter
    from dashsite.site.build import BuildOptions, build_site

    (root / "dashboards" / "alpha" / "mode.txt").write_text(mode)
    reporter = RecordingReporter()
    result = build_site(load_config(root), BuildOptions(clock=fixed_clock(moment)),
                        reporter=reporter)
    return result, [e.message for e in reporter.events if e.message]


def history_ids(root: Path, month: str) -> list[str]:
    rows = page(root, f"alpha/history/{month}.html").find_all("tr")
    return [tr.attrs["id"][2:] for tr in rows if tr.attrs.get("id", "").startswith("v-")]


def versions_everywhere(site: Path) -> tuple[int, int, int]:
    """(versions in the log, the manifest's count, version folders with data.json)."""
    from projects import logged_versions

    manifest = json.loads((site / "manifest.json").read_text())["dashboards"][0]
    return (len(logged_versions(site)["alpha"]), manifest["count"],
            len(list(site.glob("alpha/*/*/data.json"))))


def _six_hourly(root: Path) -> None:
    run(root, "alpha", ["7", "7", "down", "7"] * 3, start=T0 - timedelta(days=3),
        every=timedelta(hours=6))


def test_a_truncated_shard_is_told_and_rebuilt_from_the_version_folders(tmp_path: Path) -> None:
    root = project(tmp_path)
    site = root / "site"
    _six_hourly(root)
    assert versions_everywhere(site) == (12, 12, 12)
    shard = site / "alpha" / "log" / "2026-11" / "25.jsonl"
    body = shard.read_bytes()
    shard.write_bytes(body[: len(body) // 2])  # cut in the middle of a line
    _, messages = build_recorded(root, "7", T0 + timedelta(hours=1))
    told = [m for m in messages if "damaged" in m]
    assert len(told) == 1 and "\n" not in told[0], messages
    assert "alpha/log/2026-11/25.jsonl" in told[0] and "nothing lost" in told[0]
    assert versions_everywhere(site) == (13, 13, 13)
    assert len(history_ids(root, "2026-11")) == 13
    _, messages = build_recorded(root, "7", T0 + timedelta(hours=2))
    assert not [m for m in messages if "damaged" in m]  # rebuilt once, whole since
    assert_site_whole(site)


def test_lines_lost_from_todays_shard_come_back(tmp_path: Path) -> None:
    root = project(tmp_path)
    site = root / "site"
    _six_hourly(root)
    today = site / "alpha" / "log" / "2026-11" / "27.jsonl"
    lines = today.read_text().splitlines(keepends=True)
    assert len(lines) >= 2
    today.write_text(lines[0])  # truncated at a line boundary: every line left is valid
    _, messages = build_recorded(root, "7", T0 + timedelta(hours=1))
    told = [m for m in messages if "damaged" in m]
    assert len(told) == 1 and "alpha/log/2026-11/" in told[0], messages
    assert versions_everywhere(site) == (13, 13, 13)
    assert len(history_ids(root, "2026-11")) == 13


def test_a_deleted_shard_whose_versions_kept_only_their_log_line_is_told_as_lost(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    site = root / "site"
    _six_hourly(root)
    import shutil

    gone = site / "alpha" / "log" / "2026-11" / "24.jsonl"
    count = len(gone.read_text().splitlines())
    gone.unlink()
    shutil.rmtree(site / "alpha" / "2026-11-24")  # their folders too: nothing to rebuild from
    _, messages = build_recorded(root, "7", T0 + timedelta(hours=1))
    told = [m for m in messages if "damaged" in m]
    assert len(told) == 1 and "24.jsonl missing" in told[0], messages
    assert f"{count} version(s) kept only in the log are lost" in told[0]
    logged, counted, _ = versions_everywhere(site)
    assert logged == counted == 13 - count


# -- D16: the calendar run shifts the clock dashsite reads ------------------------------------


def test_the_injected_clock_reaches_the_build(tmp_path: Path) -> None:
    import time

    from conftest import DAYS_AHEAD

    root = project(tmp_path)
    build(root)  # the default clock: the real one (shifted under make test-calendar)
    built = datetime.fromisoformat(
        json.loads((root / "site" / "manifest.json").read_text())["built_at"])
    real = datetime.fromtimestamp(time.time(), UTC)  # not shifted: from the epoch seconds
    assert abs(built - real - timedelta(days=DAYS_AHEAD)) < timedelta(hours=1)
