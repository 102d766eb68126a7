"""Today so far (status/live.py): a tally carried from build to build adds up to a whole one.

The split at the newest mark's time, the records appended after it and the
pending version must give the very summaries the whole day's tally gives:
on random logs (clock steps back, equal times, gaps, a clock behind the log),
and on a real site built again and again, against the same build with the
cache deleted.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dashsite.core.levels import StatusLevel
from dashsite.status.live import LiveCache, LiveTally, advance, extend, split
from dashsite.status.model import DaySummary, tally
from dashsite.store.log import LogRecord
from dashsite.store.records import Mark
from dashsite.store.version_store import ShardMark
from projects import build, fixed_clock, simple, write_project

START = datetime(2026, 12, 3, tzinfo=UTC)
LEVELS = [StatusLevel.OK, StatusLevel.OK, StatusLevel.WARNING, StatusLevel.ERROR]


def record(n: int, at: datetime, status: StatusLevel, failed: bool = False) -> LogRecord:
    errors = {"c": "boom"} if failed else {}
    return LogRecord(f"v{n}", at.isoformat(), status, f"a/{at.date()}/v{n}/", errors,
                     {"c": 0.1}, {}, 0)


def shown(days: dict[str, DaySummary]) -> dict[str, object]:
    def one(s: DaySummary) -> tuple[object, ...]:
        return (s.count, s.worst, {k: round(v, 6) for k, v in s.seconds.items() if v},
                {c: [round(x, 6) for x in v] for c, v in s.collectors.items()})

    return {day: (one(s), s.last, {h: one(p) for h, p in s.hours.items()})
            for day, s in days.items()}


@pytest.mark.parametrize("seed", range(4))
def test_a_carried_tally_adds_up_to_the_whole_days(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(1500):
        at = START + timedelta(minutes=rng.randint(0, 60))
        records = []
        for n in range(rng.randint(0, 9)):
            at = max(START, at + timedelta(minutes=rng.choice([-7, 0, 0, 5, 5, 20, 90])))
            records.append(record(n, at, rng.choice(LEVELS), rng.random() < 0.2))
        hold = rng.choice([600.0, 3600.0])
        carry = None if rng.random() < 0.5 else Mark(
            START - timedelta(minutes=rng.randint(-30, 30)), StatusLevel.OK)
        now = at + timedelta(minutes=rng.randint(-10, 200))  # the clock may be behind
        pending = [record(99, now, StatusLevel.OK)] if rng.random() < 0.7 else []
        whole = tally([*records, *pending], carry, START, now, hold, hours=True)
        cut, again = rng.randint(0, len(records)), rng.randint(0, len(records))
        cut, again = min(cut, again), max(cut, again)
        prefix, at_t, before = split(records[:cut], carry, START, hold)
        known = LiveTally(START.date().isoformat(), None, {}, prefix, at_t, before)
        known = advance(advance(known, records[cut:again], hold), records[again:], hold)
        carried = extend(known, pending, now, hold)
        if carried is None:  # the clock is at or behind the log's newest line: read whole
            assert now <= max(Mark.of(r).at for r in records)
            continue
        assert shown(carried) == shown(whole), (records, carry, now)


def test_builds_reading_only_new_lines_show_what_a_whole_read_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten builds in a day carry the tally; the eleventh, once with the cache (reading no
    shard whole) and once on a copy without it (reading the day whole), writes the same
    latest page."""
    from dashsite.status.timeline import Timeline

    whole_reads: list[str] = []
    read_whole = Timeline._records

    def counted(self: Timeline, record: Any, first: date, last: date) -> list[LogRecord]:
        if first <= START.date() <= last:  # today's shard read whole
            whole_reads.append(record.slug)
        return read_whole(self, record, first, last)

    monkeypatch.setattr(Timeline, "_records", counted)
    write_project(tmp_path, {"alpha": simple("Alpha")})
    (tmp_path / "dashsite.toml").write_text('expected_every = "5m"\n')
    moments = [START + timedelta(hours=1, minutes=7 * n) for n in range(11)]
    for n, moment in enumerate(moments[:-1]):
        build(tmp_path, version_id=f"v{n}", clock=fixed_clock(moment))
    cache = tmp_path / ".dashsite" / "site.live.json"
    assert "\nalpha\t" in cache.read_text()  # the previous build left its tally
    whole = tmp_path.parent / "whole"
    shutil.copytree(tmp_path, whole)
    (whole / ".dashsite" / "site.live.json").unlink()
    reads = []
    for root in (tmp_path, whole):
        whole_reads.clear()
        build(root, version_id="v10", clock=fixed_clock(moments[-1]))
        reads.append(whole_reads.count("alpha"))
    assert reads[0] == 0 < reads[1]
    page = (tmp_path / "site" / "alpha" / "index.html").read_text()
    assert "uptime-table" in page
    assert page == (whole / "site" / "alpha" / "index.html").read_text()


def test_a_tally_of_another_hold_is_not_carried_on(tmp_path: Path) -> None:
    """``expected_every`` changed between two builds: today's tally so far was made with
    the old hold (how long a version's status counts), so the build reads the day whole
    and shows what a build without the cache shows."""
    root = write_project(tmp_path / "project", {"alpha": simple("Alpha")})
    config = root / "dashsite.toml"
    config.write_text('expected_every = "1h"\n')
    for n in range(4):  # hourly: with a 2-hour hold, no gap
        build(root, version_id=f"v{n}", clock=fixed_clock(START + timedelta(hours=n)))
    config.write_text('expected_every = "20m"\n')  # now a 40-minute hold: 20 min gaps
    whole = tmp_path / "whole"  # the same state, without the carried tally
    shutil.copytree(root, whole)
    (whole / ".dashsite" / "site.live.json").unlink()
    for project in (root, whole):
        build(project, version_id="v4", clock=fixed_clock(START + timedelta(hours=4)))
    page = (root / "site" / "alpha" / "index.html").read_text()
    assert "no data" in page.split("2026-12-03:")[1].split("<")[0]  # today's bar
    assert page == (whole / "site" / "alpha" / "index.html").read_text()


def test_the_kept_tallies_are_read_one_dashboard_at_a_time_and_a_damaged_one_alone_is_lost(
    tmp_path: Path,
) -> None:
    """The file holds a line a dashboard: each is decoded when asked for, once; a damaged
    line costs its dashboard a whole read, not the others; another site's or an earlier
    release's file is not taken."""
    site = tmp_path / "site"
    records = [record(n, START + timedelta(minutes=5 * n), LEVELS[n % 4]) for n in range(6)]
    prefix = tally(records[:4], None, START, START + timedelta(minutes=20), 600.0, hours=True)
    kept = {
        slug: LiveTally(START.date().isoformat(), None, {"2026-12-03": ShardMark(900 + n, "ab", 6)},
                        prefix, [replace(r, path=f"{slug}/{r.path[2:]}") for r in records[4:]],
                        Mark(START, StatusLevel.OK), 600.0)
        for n, slug in enumerate(["alpha", "beta", "gamma"])
    }
    cache = LiveCache(site)
    for slug, known in kept.items():
        cache.put(slug, known)
    cache.save()
    path = tmp_path / ".dashsite" / "site.live.json"
    lines = path.read_text().splitlines()
    assert [line.split("\t")[0] for line in lines[1:]] == ["alpha", "beta", "gamma"]
    huge = lines[1].replace("alpha\t", "delta\t").replace('[900,', '[1e999,')  # int(inf)
    short_mark = lines[1].replace("alpha\t", "epsilon\t").replace('[900,"ab",6]', "[900]")
    short_pair = lines[1].replace("alpha\t", "zeta\t").replace('"c":[1200.0,0.0]', '"c":[1]')
    assert "[900]" in short_mark and '"c":[1]' in short_pair
    path.write_text("\n".join([lines[0], lines[1], "beta\t{\"since\": ", lines[3], huge,
                               short_mark, short_pair]) + "\n")  # fmt: skip
    again = LiveCache(site)
    assert not path.exists()  # taken: a build that fails leaves none
    assert again.get("alpha") == kept["alpha"] and again.get("gamma") == kept["gamma"]
    for damaged in ("beta", "delta", "epsilon", "zeta"):
        assert again.get(damaged) is None, damaged  # damaged: read whole
    assert again.get("alpha") is None  # the previous build's is asked for once
    now = replace(kept["alpha"], hold=300.0)
    again.put("alpha", now)
    assert again.get("alpha") == now  # asked again after its put: this build's
    for head in ('{"site": "/elsewhere", "schema": 2}', json.dumps({"site": str(site)})):
        path.write_text("\n".join([head, *lines[1:]]) + "\n")
        assert LiveCache(site).previous == {}
