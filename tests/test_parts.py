"""The history calendar's finished months, drawn once and kept (``.dashsite/<site>.parts``).

Each build here is made twice from the same state: in the project, which has the
parts earlier builds kept, and in a copy without them, which draws every month.
The history index must be the same byte for byte, whatever changed in between
(an incident resolved into an earlier month, a declared incident, the status
words, a layout) — and on a quiet build, the kept parts must be what was used.
"""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashsite.core.config import load_config
from dashsite.site.build import BuildOptions, build_site
from dashsite.site.views import latest_view
from dashsite.store.parts import PartCache, parts_folder
from dashsite.store.version_store import VersionStore
from projects import fixed_clock, seed_log, write_project

from htmltree import parse

SWITCHED = {
    "dashboard.py": """
        from pathlib import Path

        from dashsite import collector

        TITLE = "Alpha"

        @collector
        def service():
            if (Path(__file__).parent / "DOWN").exists():
                raise RuntimeError("service down")
            return 1
    """,
    "template.html": "<p>{{ service }}</p>",
}
SEEDED_TO = datetime(2026, 10, 30, 20, 0, tzinfo=UTC)
INDEX = "site/alpha/history/index.html"


def _project(root: Path) -> Path:
    # (a version every build: a check that finds the history drawn alike leaves its pages,
    # footer and all, where the twin, without the state folder, draws them again)
    write_project(
        root,
        {"alpha": SWITCHED},
        config='title = "Parts"\nexpected_every = "1h"\nunchanged = "version"\n',
    )
    seed_log(root, ["alpha"], 24 * 95, SEEDED_TO, every=60)  # August to October, hourly
    return root


def _down(root: Path, down: bool) -> None:
    flag = root / "dashboards" / "alpha" / "DOWN"
    if down:
        flag.write_text("")
    else:
        flag.unlink(missing_ok=True)


def _fail_in_log(root: Path, start: datetime, end: datetime) -> None:
    """Turn the logged versions from ``start`` to ``end`` into failures, as if the log said
    so all along (an edited or repaired log: the status files are computed again)."""
    day = start
    while day.date() <= end.date():
        shard = root / "site" / "alpha" / "log" / day.strftime("%Y-%m") / f"{day:%d}.jsonl"
        lines = []
        for line in shard.read_text().splitlines():
            entry = json.loads(line)
            if start <= datetime.fromisoformat(entry["collected_at"]) < end:
                entry |= {"status": "error", "errors": {"service": "RuntimeError: down"}}
            lines.append(json.dumps(entry))
        shard.write_text("\n".join(lines) + "\n")
        day += timedelta(days=1)


class Drawn:
    """Which months each build took from the kept parts, and which it drew."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.taken: list[str] = []
        self.drawn: list[str] = []
        get, put = PartCache.get, PartCache.put

        def counted_get(cache: PartCache, name: str, text: str) -> str | None:
            found = get(cache, name, text)
            if found is not None:
                self.taken.append(name)
            return found

        def counted_put(cache: PartCache, name: str, text: str, markup: str) -> None:
            self.drawn.append(name)
            put(cache, name, text, markup)

        monkeypatch.setattr(PartCache, "get", counted_get)
        monkeypatch.setattr(PartCache, "put", counted_put)

    def clear(self) -> None:
        self.taken.clear()
        self.drawn.clear()


def _build_both(root: Path, twin: Path, moment: datetime, version: str) -> bytes:
    """Build ``root`` and a copy of it without its parts at ``moment``; their history
    indexes must be the same. Returns the project's."""
    shutil.rmtree(twin, ignore_errors=True)
    shutil.copytree(root, twin, symlinks=True)
    shutil.rmtree(parts_folder(twin / "site"), ignore_errors=True)
    for project in (root, twin):
        options = BuildOptions(version_id=version, clock=fixed_clock(moment), jobs=1)
        result = build_site(load_config(project), options)
        assert not result.problems, [p.one_line() for p in result.problems]
    kept, fresh = (root / INDEX).read_bytes(), (twin / INDEX).read_bytes()
    assert kept == fresh, f"build {version}: the kept parts differ from a fresh drawing"
    return kept


def _calendar(page: bytes) -> dict[str, str]:
    """Month → the text of its calendar block (the days' labels and incidents)."""
    tree = parse(page.decode())
    return {
        block.find("h3").text().strip(): block.text()
        for block in tree.find_all("div", class_="calendar-month")
    }


def test_kept_months_are_what_a_fresh_build_draws_whatever_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, twin = _project(tmp_path / "project"), tmp_path / "twin"
    drawn = Drawn(monkeypatch)

    _down(root, True)  # an incident begins on the last evening of October…
    _build_both(root, twin, datetime(2026, 10, 31, 21, 0, tzinfo=UTC), "b1")
    _build_both(root, twin, datetime(2026, 11, 1, 1, 0, tzinfo=UTC), "b2")
    _down(root, False)  # … and ends in November: October's status file learns of it
    page = _build_both(root, twin, datetime(2026, 11, 1, 3, 0, tzinfo=UTC), "b3")
    assert "2026-10-31" in _calendar(page)["2026-10"]
    assert "Incident" in _calendar(page)["2026-10"]  # the day's detail links it

    drawn.clear()  # a quiet build: every finished month is taken (the twin has none)
    _build_both(root, twin, datetime(2026, 11, 1, 5, 0, tzinfo=UTC), "b4")
    assert sorted(drawn.taken) == ["2026-07", "2026-08", "2026-09", "2026-10"]
    assert sorted(drawn.drawn) == ["2026-07", "2026-08", "2026-09", "2026-10"]  # the twin's
    # The next day the 90-day bars start a day later, and the months after their first
    # day are drawn again (an incident begun before a month links its first day's page
    # through the bars); the older ones are taken.
    drawn.clear()
    _build_both(root, twin, datetime(2026, 11, 2, 9, 0, tzinfo=UTC), "b4b")
    assert sorted(drawn.taken) == ["2026-07", "2026-08"]

    # The log says otherwise of two finished months: September 15 failed for two hours,
    # and a failure ran from September 30 into October 1 (its link, from October's days,
    # goes through the bars while September 30 is among them).
    _fail_in_log(root, datetime(2026, 9, 15, 10, tzinfo=UTC), datetime(2026, 9, 15, 12, tzinfo=UTC))
    _fail_in_log(root, datetime(2026, 9, 30, 22, tzinfo=UTC), datetime(2026, 10, 1, 2, tzinfo=UTC))
    page = _build_both(root, twin, datetime(2026, 11, 2, 9, 30, tzinfo=UTC), "b4c")
    assert "2026-09-15: down 2 h" in _calendar(page)["2026-09"]
    assert "2026-10-01: down 2 h" in _calendar(page)["2026-10"]

    # A declared incident in September: September is drawn again, with it.
    (root / "incidents").mkdir()
    (root / "incidents" / "failover.md").write_text(
        '+++\ntitle = "Database failover"\nstart = 2026-09-10T08:00:00Z\n'
        'end = 2026-09-10T09:30:00Z\nseverity = "error"\n+++\nThe primary lost its disk.\n'
    )
    drawn.clear()
    page = _build_both(root, twin, datetime(2026, 11, 2, 10, 0, tzinfo=UTC), "b5")
    assert "Database failover" in _calendar(page)["2026-09"]
    assert "2026-09" not in drawn.taken

    # The site's status words, then a layout of the status macros: all drawn again.
    config = root / "dashsite.toml"
    config.write_text(config.read_text() + '[status_words]\nok = "All good"\n')
    page = _build_both(root, twin, datetime(2026, 11, 2, 11, 0, tzinfo=UTC), "b6")
    assert "worst all good" in _calendar(page)["2026-08"]
    theme = Path(__file__).parents[1] / "src" / "dashsite" / "theme" / "status.html"
    layouts = root / "dashboards" / "_layouts"
    layouts.mkdir(exist_ok=True)
    (layouts / "status.html").write_text(
        theme.read_text().replace('class="day-bars day-bars-roving month-bars"',
                                  'class="day-bars day-bars-roving month-bars layout-marker"')
    )  # fmt: skip
    page = _build_both(root, twin, datetime(2026, 11, 2, 12, 0, tzinfo=UTC), "b7")
    assert page.count(b"layout-marker") == 5  # July to November

    # September 30 leaves the 90 days of bars: the link on October 1 to the failure
    # begun that day still opens the page with its row (September's 719th version, on
    # its fourth page), in the kept part too.
    for day in (28, 29):
        page = _build_both(root, twin, datetime(2026, 12, day, 12, 0, tzinfo=UTC), f"c{day}")
    assert "2026-09-4.html#v-20260930T220000Z" in page.decode()


def test_parts_are_local_state_never_in_the_site(tmp_path: Path) -> None:
    root = _project(tmp_path)
    options = BuildOptions(version_id="b1", clock=fixed_clock(SEEDED_TO + timedelta(hours=1)))
    build_site(load_config(root), options)
    kept = parts_folder(root / "site") / "alpha.json.gz"
    document = json.loads(gzip.decompress(kept.read_bytes()))
    assert sorted(document["parts"]) == ["2026-07", "2026-08", "2026-09"]  # not October
    assert kept.parent.parent == root / ".dashsite"
    assert not [p for p in (root / "site").rglob("*") if "parts" in p.name]


def test_a_damaged_parts_file_is_drawn_again(tmp_path: Path) -> None:
    root, twin = _project(tmp_path / "project"), tmp_path / "twin"
    _build_both(root, twin, SEEDED_TO + timedelta(hours=1), "b1")
    kept = parts_folder(root / "site") / "alpha.json.gz"
    for n, damage in enumerate(
        (
            b"not gzip",
            gzip.compress(b'{"schema": 1, "slug": "beta", "parts": {}}'),
            gzip.compress(b'{"schema": 1, "slug": "alpha", "parts": {"2026-08": 3}}'),
        )
    ):
        kept.write_bytes(damage)
        page = _build_both(root, twin, SEEDED_TO + timedelta(hours=2 + n), f"b{n + 2}")
        assert "2026-08-15" in _calendar(page)["2026-08"]
        assert json.loads(gzip.decompress(kept.read_bytes()))["slug"] == "alpha"  # rewritten


def test_a_months_key_follows_its_status_file(tmp_path: Path) -> None:
    """Whatever changes a finished month's status file changes its key: the key holds
    the file's seal (read from the file's end), which hashes its content."""
    root = _project(tmp_path)
    now = SEEDED_TO + timedelta(hours=1)
    build_site(load_config(root), BuildOptions(version_id="b1", clock=fixed_clock(now)))
    config = load_config(root)
    store = VersionStore(config.site_path)

    def key(month: str) -> str | None:
        record = store.load_manifest().dashboards["alpha"]
        view = latest_view(config, store, record, now)
        assert view is not None
        return view.part_key(month)

    before = key("2026-08")
    assert before is not None and key("2026-10") is None  # October is not over
    status = root / "site" / "alpha" / "log" / "2026-08" / "status.json"
    seal = json.loads(status.read_text())["fingerprint"]
    assert seal in before
    status.write_text(status.read_text().replace(seal, "0" * len(seal)))
    assert key("2026-08") not in (before, None)


def _fail_days(root: Path, first: datetime, days: int) -> None:
    """One hour down on each of ``days`` days from ``first``: an incident each."""
    for n in range(days):
        start = first + timedelta(days=n)
        _fail_in_log(root, start, start + timedelta(hours=1))


def test_retention_pruning_the_start_of_an_incident_redraws_the_month_it_ran_into(
    tmp_path: Path,
) -> None:
    """Each build prunes the oldest version: June (30th, 21:00 to 23:00) loses, one by
    one, the versions where a failure into July began. July's status file does not
    change, but what July's calendar shows of that failure does, in the very build
    that prunes (the timeline forgets what it read of a pruned month)."""
    root, twin = tmp_path / "project", tmp_path / "twin"
    count = 24 * 122 - 1  # from June 30, 21:00
    write_project(
        root, {"alpha": SWITCHED}, config=f'expected_every = "1h"\nretention = {count}\n'
    )
    seed_log(root, ["alpha"], count, SEEDED_TO, every=60)
    _fail_in_log(root, datetime(2026, 6, 30, 22, tzinfo=UTC), datetime(2026, 7, 1, 2, tzinfo=UTC))
    _fail_days(root, datetime(2026, 8, 1, 10, tzinfo=UTC), 24)  # the view keeps only 20
    for n in range(5):
        page = _build_both(root, twin, SEEDED_TO + timedelta(hours=15 + n), f"b{n}")
        july = _calendar(page)["2026-07"]
        if n == 1:  # this build pruned 22:00: July says so at once, not a build later
            assert "from 2026-06-30 23:00" in july and "22:00" not in july
    assert "2026-06" not in _calendar(page)  # June is gone…
    assert "2026-06-30" not in july  # … and its failure's start


def test_a_log_edit_in_the_oldest_listed_month_on_a_months_last_day(tmp_path: Path) -> None:
    """On November 30 the calendar lists November of the year before, which the day's
    digest (365 days) no longer covers: an edit of its log must still show."""
    root, twin = tmp_path / "project", tmp_path / "twin"
    end = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
    write_project(root, {"alpha": SWITCHED}, config='expected_every = "1h"\n')
    seed_log(root, ["alpha"], 24 * 400, end, every=60)
    _build_both(root, twin, end + timedelta(days=1), "b1")
    _fail_in_log(root, datetime(2025, 11, 15, 10, tzinfo=UTC), datetime(2025, 11, 15, 12, tzinfo=UTC))
    page = _build_both(root, twin, end + timedelta(days=2), "b2")
    assert "2025-11-15: down 2 h" in _calendar(page)["2025-11"]


def test_a_status_file_edited_by_hand_keeping_its_seal(tmp_path: Path) -> None:
    """A day taken out of May's status file (older than the months the 90-day bars read),
    its seal left as it was, after the dashboard's expected interval changed: the file
    fails its seal when read, and is computed again from the log under the new
    interval. The kept May is not used."""
    root, twin = tmp_path / "project", tmp_path / "twin"
    write_project(root, {"alpha": SWITCHED}, config='expected_every = "1h"\n')
    seed_log(root, ["alpha"], 24 * 200, SEEDED_TO, every=60)  # from April: May is past
    _build_both(root, twin, SEEDED_TO + timedelta(hours=1), "b1")  # the bars' incidents
    config = root / "dashsite.toml"
    config.write_text(config.read_text().replace('"1h"', '"20m"'))
    _build_both(root, twin, SEEDED_TO + timedelta(hours=2), "b2")
    status = root / "site" / "alpha" / "log" / "2026-05" / "status.json"
    document = json.loads(status.read_text())
    del document["days"]["15"]
    status.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    page = _build_both(root, twin, SEEDED_TO + timedelta(hours=3), "b3")
    assert "2026-05-15: ok" not in _calendar(page)["2026-05"]  # partly without data now


@pytest.mark.parametrize("blocker", ["folder is a file", "file is a folder"])
def test_parts_that_cannot_be_written_are_drawn_every_build(tmp_path: Path, blocker: str) -> None:
    root, twin = _project(tmp_path / "project"), tmp_path / "twin"
    folder = parts_folder(root / "site")
    folder.parent.mkdir(parents=True, exist_ok=True)
    if blocker == "folder is a file":
        folder.write_text("not a folder")
    else:
        (folder / "alpha.json.gz").mkdir(parents=True)
    for n in range(2):
        page = _build_both(root, twin, SEEDED_TO + timedelta(hours=1 + n), f"b{n}")
        assert "2026-08-15" in _calendar(page)["2026-08"]
