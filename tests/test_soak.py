"""A soak: scheduled builds over a simulated period, checked after every one.

Builds every hour with the clock jittered by a few minutes, collectors that
fail at random, and one step of the clock back, behind the newest version. Before
some builds, a real ``dashsite build`` process (its clock injected, half an hour
earlier) is killed with SIGKILL at a random point: after discovery, or after it filed
its first or second dashboard, plus a random delay. Right after the kill every page
is whole and links only to what exists. After each build, what a visitor relies on
must hold: every link resolves, every page, the manifest, the feeds and the badges
show the newest run, no version is lost (what the killed build filed is adopted,
never half-counted), feed ids are unique, and the 24-hour uptime on the page
equals one computed from the log.

The kills are drawn from their own seeded generator, so a failure names the build
and the point it was killed at, and the same run draws the same kills again.

``make test`` runs a day and a half (about six kills); ``make soak``
(``DASHSITE_SOAK_DAYS=365``) a year of builds every three hours (about a hundred
kills), with the heavy checks (every link, every log line) once a day and after
every kill.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashsite.status.model import Uptime, add_seconds, tally
from dashsite.store.log import LogRecord
from projects import (
    assert_site_whole,
    build,
    fixed_clock,
    logged_checks,
    logged_versions,
    manifest_entries,
)
from test_status_site import flaky, page, project, uptime_cells

pytestmark = [pytest.mark.soak, pytest.mark.calendar]

ATOM = "{http://www.w3.org/2005/Atom}"
DAYS = float(os.environ.get("DASHSITE_SOAK_DAYS", "1.5"))
EVERY = 1 if DAYS <= 7 else 3
"""Hours between builds (a year of hourly builds would take hours to run)."""
START = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
SLUGS = ("alpha", "beta")
HOLD = 2 * EVERY * 3600.0  # twice expected_every
KILL_SHARE = 1 / 6 if DAYS <= 7 else 1 / 30
"""The share of builds that a killed build precedes."""
KILLED_BUILD = """
import functools, sys
from datetime import datetime
import dashsite.commands.build as command
from dashsite.cli import main
moment = datetime.fromisoformat(sys.argv[2])
command.BuildOptions = functools.partial(command.BuildOptions, clock=lambda: moment)
sys.exit(main(["-C", sys.argv[1], "build"]))
"""
"""``dashsite build`` as the command line runs it, in a process of its own, with only its
clock injected (``BuildOptions.clock``), so what it files sits in the simulated time."""
KILL_POINTS = ("Building ", "[1/2]", "[2/2]")
"""Progress lines a killed build is let to print first: discovery is done, one dashboard
is filed, both are (then the history, the pages and the manifest are being written)."""


def kill_a_build(root: Path, moment: datetime, rng: random.Random) -> str:
    """Start a real ``dashsite build`` at ``moment`` and SIGKILL it at a random point."""
    point, delay = rng.choice(KILL_POINTS), rng.uniform(0, 0.3)
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_BUILD, str(root), moment.isoformat()],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert process.stderr is not None
    for line in process.stderr:  # its progress, up to the chosen point
        if line.startswith(point):
            break
    time.sleep(delay)
    process.kill()
    process.wait()
    process.stderr.close()
    return f"killed after {point.strip()!r} + {delay:.2f} s"


def log_records(site: Path, slug: str, since: str = "") -> list[LogRecord]:
    """The log's records (and checks) from the day ``since`` on, in build order."""
    found = []
    for shard in sorted(site.glob(f"{slug}/log/*/*.jsonl")):
        if f"{shard.parent.name}-{shard.name[:2]}" < since:
            continue
        check = shard.name.endswith(".checks.jsonl")
        for line in shard.read_text().splitlines():
            if line.strip():
                found.append(LogRecord.from_json(json.loads(line), slug, check=check))
    return sorted(found, key=lambda record: record.order)  # (as the status merges them)


def uptime_24h(site: Path, slug: str, now: datetime) -> str:
    """The 24-hour window recomputed from the whole log, as the page words it."""
    cut = (now - timedelta(hours=24)).replace(minute=0, second=0, microsecond=0)
    since = (cut - timedelta(seconds=HOLD) - timedelta(days=1)).date().isoformat()
    days = tally(log_records(site, slug, since), None, cut, now, HOLD)
    return Uptime("24 h", add_seconds(days.values())).text


def check(root: Path, built: dict[str, int], statuses: dict[str, str], version: str,
          now: datetime, heavy: bool) -> None:
    site = root / "site"
    manifest = manifest_entries(site)
    index = page(root, "index.html")
    feed = ET.parse(site / "feed.xml").getroot()
    ongoing = {
        (entry.findtext(f"{ATOM}title") or "").split(":")[0]
        for entry in feed.iter(f"{ATOM}entry")
        if (entry.findtext(f"{ATOM}title") or "").endswith("(ongoing)")
    }
    logged = logged_versions(site) if heavy else {}
    for slug in SLUGS:
        status = statuses[slug]
        record = manifest[slug]
        # the newest run, everywhere (a version, or a check of the latest)
        newest = record.get("checked") or record["latest"]
        assert newest["id"] == version and record["status"] == status, (slug, record)
        badge = json.loads((site / slug / "badge.json").read_text())
        assert badge["message"].split(" ")[0] == status, (slug, badge)
        svg = ET.parse(site / slug / "badge.svg").getroot()
        assert svg.attrib["aria-label"].split(": ", 1)[1].split(" ")[0] == status
        card = index.find("li", id=f"card-{slug}")
        badge = card.find("span", class_="status-badge")  # words for people, the level as a class
        assert f"status-{status}" in badge.attrs["class"].split()
        latest = page(root, f"{slug}/index.html")
        heading = latest.find("h1").find("span")  # the level as a class, words for people
        assert any(c.endswith(f"-{status}") for c in heading.attrs["class"].split()), heading
        title = slug.capitalize()
        assert (title in ongoing) == (status != "ok"), (slug, status, ongoing)
        # no version lost
        assert record["count"] == built[slug]
        if heavy:
            assert len(logged[slug]) == len(set(logged[slug])) == built[slug]
        # uptime equals a recomputation from the log
        cells = uptime_cells(latest)
        assert cells["windows"][0] == "24 h"
        assert cells["Dashboard"][0] == uptime_24h(site, slug, now), slug
        for relative in (f"{slug}/feed.xml",):
            ids = [e.findtext(f"{ATOM}id") for e in ET.parse(site / relative).getroot()
                   .iter(f"{ATOM}entry")]
            assert len(ids) == len(set(ids)), relative
        if heavy and DAYS <= 7:  # within the tiers: every version keeps its folder
            assert len(list(site.glob(f"{slug}/*/*/data.json"))) == built[slug]
    ids = [e.findtext(f"{ATOM}id") for e in feed.iter(f"{ATOM}entry")]
    assert len(ids) == len(set(ids))
    site_badge = json.loads((site / "badge.json").read_text())
    worst = "ok" if all(s == "ok" for s in statuses.values()) else "error"
    assert site_badge["message"].split(" ")[0] == worst
    if heavy:
        assert_site_whole(site)


@pytest.mark.parametrize("checks", [False, True], ids=["versions", "checks"])
def test_scheduled_builds_stay_true(tmp_path: Path, checks: bool) -> None:
    """With ``checks``, a build that finds a dashboard as it was files a check (a quarter
    of the runs fail, the rest are alike: most builds)."""
    root = project(tmp_path, config=f'expected_every = "{EVERY}h"\n', checks=checks,
                   alpha=flaky("Alpha"), beta=flaky("Beta"))
    site = root / "site"
    rng = random.Random(22)
    kills = random.Random(2217)  # apart, so the builds' own draws stay as they were
    builds = int(DAYS * 24 / EVERY)
    jump = builds // 2  # the clock steps back here, behind the newest version
    built = dict.fromkeys(SLUGS, 0)
    clock = START
    heavy_every = 6 if DAYS <= 7 else 24 // EVERY
    site_time = START  # never goes back: while the clock is behind it, views are drawn there
    for n in range(builds):
        clock += timedelta(hours=EVERY)
        if n == jump:
            clock -= timedelta(hours=EVERY + 1)
        moment = clock + timedelta(seconds=rng.randint(-180, 180))
        drawn_at = moment if moment >= site_time else site_time + timedelta(seconds=1)
        site_time = max(site_time, moment)
        killed = ""
        if n and kills.random() < KILL_SHARE:
            known = {slug: set(ids) for slug, ids in logged_versions(site).items()}
            for slug in SLUGS:
                mode = "down" if kills.random() < 0.25 else "7"
                (root / "dashboards" / slug / "mode.txt").write_text(mode)
            killed = kill_a_build(root, moment - timedelta(minutes=30), kills)
            assert_site_whole(site, anchors=False)  # at the kill: whole, every link there
        statuses = {}
        for slug in SLUGS:
            down = rng.random() < 0.25
            (root / "dashboards" / slug / "mode.txt").write_text("down" if down else "7")
            statuses[slug] = "error" if down else "ok"
        result = build(root, clock=fixed_clock(moment))
        assert not result.problems, (n, killed, result.problems)
        if killed:  # what the killed build filed is adopted whole, or gone
            logged = logged_versions(site)
            for slug in SLUGS:
                ids = set(logged[slug])
                assert known[slug] <= ids, (n, killed, "a version was lost")
                assert len(ids - known[slug] - {result.version_id}) <= 1, (n, killed, slug)
                built[slug] = len(logged[slug])
        else:
            for done in result.dashboards:
                built[done.slug] += 0 if done.unchanged else 1
        check(root, built, statuses, result.version_id, drawn_at,
              heavy=n % heavy_every == 0 or n == builds - 1 or abs(n - jump) <= 1
              or bool(killed))
    checked = sum(len(found) for found in logged_checks(site).values())
    assert (checked > builds // 2) if checks else checked == 0  # (most runs are alike)
