"""The site stays true whatever the clock says: build order, one incident, caches, damage."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

from projects import assert_site_whole
from test_status_site import page, project, run

ATOM = "{http://www.w3.org/2005/Atom}"
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
