"""Status over time, kept beside the log: settled days, closed incidents, the build's view.

``<slug>/log/<YYYY-MM>/status.json`` holds the month's *settled* days (a day
is settled once a later version exists, so its time is known) and the
incidents that started in it and are resolved. The manifest keeps what
changes every build: the last settled day, the mark carried past it, the
open incident, each collector's last good version.

A build reads at most: the status files of the last 13 months, the shards
of the days not settled yet (today), and yesterday's shard for the exact
24 hours: O(window), however long the history. A status file that is
missing or unreadable (a pull, a tampered file) is computed again from its
month's shards.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .levels import StatusLevel
from .log import LogRecord, status_path
from .manifest import DashboardRecord
from .status import (
    WINDOWS,
    DaySummary,
    Incident,
    Mark,
    State,
    Uptime,
    add_seconds,
    collector_uptime,
    day_start,
    follow,
    tally,
    uptime_text,
)
from .store import VersionStore
from .write import SiteWriter

STATUS_SCHEMA = 1
BAR_DAYS = 90
RECENT_INCIDENTS = 5
YEAR_DAYS = 365


def _month_of(day: date) -> str:
    return day.isoformat()[:7]


def _next_month(month: str) -> str:
    """``2026-12`` → ``2027-01``."""
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + 1:04d}-01" if number == 12 else f"{year:04d}-{number + 1:02d}"


def _months(first: date, last: date) -> list[str]:
    """The months from ``first``'s to ``last``'s, oldest first."""
    found, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


@dataclass(slots=True)
class MonthStatus:
    """One ``status.json``: settled days (by ``YYYY-MM-DD``) and resolved incidents."""

    days: dict[str, DaySummary] = field(default_factory=dict)
    incidents: list[Incident] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The file's document."""
        return {
            "schema": STATUS_SCHEMA,
            "days": {day[8:]: found.to_json() for day, found in sorted(self.days.items())},
            "incidents": [i.to_json() for i in sorted(self.incidents, key=lambda i: i.start)],
        }

    @classmethod
    def from_json(cls, raw: Any, slug: str, month: str) -> MonthStatus:
        """Read back; ``ValueError`` if anything is off."""
        if not isinstance(raw, dict) or raw.get("schema") != STATUS_SCHEMA:
            raise ValueError("not a status file of this dashsite")
        days, incidents = raw.get("days"), raw.get("incidents", [])
        if not isinstance(days, dict) or not isinstance(incidents, list):
            raise ValueError("days must be an object, incidents a list")
        found = cls()
        for dd, value in days.items():
            day = f"{month}-{dd}"
            date.fromisoformat(day)  # ValueError if not a day of the month
            found.days[day] = DaySummary.from_json(day, value)
        found.incidents = [Incident.from_json(raw_incident, slug) for raw_incident in incidents]
        return found


@dataclass(frozen=True, slots=True)
class Window:
    """A maintenance window of a dashboard (from ``incidents/``)."""

    start: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True)
class DayBar:
    """One day of the 90-day bars."""

    day: str
    state: State
    count: int
    uptime: float | None
    page: str
    """The history page that lists the day's first version (``2026-11-2.html``), or ``""``."""

    @property
    def label(self) -> str:
        """What the bar says in words: ``2026-11-27: down, 288 versions, uptime 93.40 %``."""
        words = {
            State.UP: "ok",
            State.DEGRADED: "degraded",
            State.DOWN: "down",
            State.MAINTENANCE: "maintenance",
            State.NODATA: "no data",
        }[self.state]
        if self.count == 0 and self.state == State.NODATA:
            return f"{self.day}: no data"
        versions = f"{self.count} version{'' if self.count == 1 else 's'}"
        return f"{self.day}: {words}, {versions}, uptime {uptime_text(self.uptime)}"


@dataclass(frozen=True, slots=True)
class StatusView:
    """What a build shows of one dashboard's status over time."""

    now: datetime
    uptime: tuple[Uptime, ...]
    collectors: tuple[tuple[str, tuple[str, ...]], ...]
    """Collector → its uptime text per window in :attr:`uptime`."""
    bars: tuple[DayBar, ...]
    incidents: tuple[Incident, ...]
    """Ongoing first, then those resolved in the last year, newest first."""
    ongoing: tuple[Incident, ...]
    """The incidents going on now: detected first, then declared."""
    month_incidents: dict[str, tuple[Incident, ...]] = field(default_factory=dict)
    days: dict[str, DaySummary] = field(default_factory=dict)
    """Every day summary of the last year (settled and live), by ``YYYY-MM-DD``."""
    linkable: bool = True
    """Whether days may link to history pages (not under ``retention``, which drops
    months after the pages are drawn)."""

    def month_bars(self, month: str) -> tuple[DayBar, ...]:
        """The bars of one month's days (those of the last year)."""
        return tuple(
            DayBar(day, found.state, found.count, _ratio(found), "")
            for day, found in sorted(self.days.items())
            if day.startswith(month)
        )

    @property
    def recent(self) -> tuple[Incident, ...]:
        """The few incidents a dashboard page shows."""
        return self.incidents[:RECENT_INCIDENTS]

    def history_page(self, day: str) -> str:
        """The history page listing ``day``'s first version (``2026-11-2.html``)."""
        month, before = day[:7], 0
        for other, found in sorted(self.days.items()):
            if other.startswith(month) and other < day:
                before += found.count
        page = before // HISTORY_PAGE + 1
        return f"{month}.html" if page == 1 else f"{month}-{page}.html"

    def window(self, label: str) -> Uptime | None:
        """The uptime of one window (``"30 d"``), if the view has it."""
        return next((u for u in self.uptime if u.label == label), None)


class Timeline:
    """Reads and writes the status files of one site, for one build."""

    def __init__(self, store: VersionStore, writer: SiteWriter) -> None:
        self.store = store
        self.writer = writer
        self._months: dict[tuple[str, str], MonthStatus] = {}

    # -- the status files ---------------------------------------------------------------------

    def month(self, record: DashboardRecord, month: str, hold: float) -> MonthStatus:
        """A month's status file; computed again from its shards if missing or bad."""
        key = (record.slug, month)
        if key in self._months:
            return self._months[key]
        path = self.store.site / status_path(record.slug, month)
        found: MonthStatus | None = None
        if path.is_file():
            try:
                found = MonthStatus.from_json(
                    json.loads(path.read_text(encoding="utf-8")), record.slug, month
                )
            except (OSError, ValueError, RecursionError):
                found = None
        if found is None:
            found = self._recompute(record, month, hold)
        self._months[key] = found
        return found

    def _recompute(self, record: DashboardRecord, month: str, hold: float) -> MonthStatus:
        found = MonthStatus()
        if record.settled is None or month > record.settled[:7] or month not in record.months:
            return found
        if not self.store.shards(record.slug, month):
            return found  # not here (a partial pull): never overwrite what is published
        start = day_start(f"{month}-01")
        end = min(
            day_start(record.settled) + timedelta(days=1),
            day_start(f"{_next_month(month)}-01"),
        )
        records = self.store.month(record.slug, month)
        carry = self._carry_before(record, month, hold)
        found.days = _kept(tally(records, carry, start, end, hold))
        found.incidents = _incidents_in(record.slug, records)
        self._save(record.slug, month, found)
        return found

    def _carry_before(self, record: DashboardRecord, month: str, hold: float) -> Mark | None:
        earlier = [m for m in record.months if m < month]
        if not earlier:
            return None
        days = self.month(record, earlier[-1], hold).days
        return days[max(days)].last if days else None

    def _save(self, slug: str, month: str, found: MonthStatus) -> None:
        self._months[(slug, month)] = found
        self.writer.write(
            status_path(slug, month),
            json.dumps(found.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n",
        )

    # -- after a version is filed ---------------------------------------------------------------

    def filed(self, record: DashboardRecord, entry: LogRecord, hold: float) -> None:
        """Follow the incident, the collectors' last good version, and settle finished days."""
        if record.settled is None and record.count > 1:
            self.backfill(record, hold)  # the new entry is in the log already
        else:
            self._follow(record, entry, hold)
            _remember_good(record, entry)
        self.settle(record, entry.day, hold)

    def ensure(self, record: DashboardRecord, hold: float) -> None:
        """Bring a dashboard not built this time up to date (once, after an upgrade)."""
        if record.settled is None and record.latest is not None:
            self.backfill(record, hold)
            self.settle(record, record.latest.day, hold)

    def _follow(self, record: DashboardRecord, entry: LogRecord, hold: float) -> None:
        incident, resolved = follow(record.slug, record.incident, entry)
        if resolved and incident is not None:
            month = self.month(record, incident.start.date().isoformat()[:7], hold)
            month.incidents.append(incident)
            self._save(record.slug, incident.start.date().isoformat()[:7], month)
            incident = None
        record.incident = incident

    def backfill(self, record: DashboardRecord, hold: float) -> None:
        """The first build that keeps status: incidents and last good values from the whole log.

        Once per dashboard, O(history); days are settled by :meth:`settle`.
        """
        record.incident = None
        for month in list(record.months):
            for entry in self.store.month(record.slug, month):
                self._follow(record, entry, hold)
                _remember_good(record, entry)

    def settle(self, record: DashboardRecord, until: str, hold: float) -> None:
        """Write the summaries of the days before ``until`` (a day) not settled yet."""
        if not record.months:
            return
        first = date.fromisoformat(f"{next(iter(record.months))}-01")
        begin = (
            date.fromisoformat(record.settled) + timedelta(days=1)
            if record.settled is not None
            else first
        )
        stop = date.fromisoformat(until)
        if begin >= stop:
            return
        carry = record.carry
        for month in _months(begin, stop - timedelta(days=1)):
            if month not in record.months and (
                carry is None or carry.at + timedelta(seconds=hold) < day_start(f"{month}-01")
            ):
                continue  # nothing was collected then, and nothing carries into it
            start = max(day_start(begin.isoformat()), day_start(f"{month}-01"))
            end = min(day_start(stop.isoformat()), day_start(f"{_next_month(month)}-01"))
            records = [
                r
                for r in self.store.month(record.slug, month)
                if start.isoformat() <= r.collected_at < end.isoformat()
            ]
            days = tally(records, carry, start, end, hold)
            if days:
                carry = days[max(days)].last or carry
            kept = _kept(days)
            if not kept:
                continue
            found = self.month(record, month, hold) if month in record.months else MonthStatus()
            found.days.update(kept)
            self._save(record.slug, month, found)
        record.settled = (stop - timedelta(days=1)).isoformat()
        record.carry = carry

    # -- the view -------------------------------------------------------------------------------

    def view(
        self,
        record: DashboardRecord,
        now: datetime,
        hold: float,
        declared: Sequence[Incident] = (),
        pending: LogRecord | None = None,
    ) -> StatusView:
        """Uptime windows, the 90-day bars and recent incidents of one dashboard at ``now``.

        ``pending`` is the version being filed (not in the log yet): it counts
        as if it were. ``declared`` incidents (``incidents/``) join the
        timeline; those marked maintenance turn down time into maintenance.
        """
        maintenance = [Window(i.start, i.end) for i in declared if i.maintenance]
        now = now.astimezone(UTC)
        today = now.date()
        year_start = today - timedelta(days=YEAR_DAYS - 1)
        days: dict[str, DaySummary] = {}
        closed: list[Incident] = []
        by_month: dict[str, tuple[Incident, ...]] = {}
        for month in _months(year_start, today):
            if month in record.months:
                found = self.month(record, month, hold)
                days.update(found.days)
                closed += found.incidents
                by_month[month] = tuple(found.incidents)
        live_from = (
            date.fromisoformat(record.settled) + timedelta(days=1)
            if record.settled is not None
            else year_start
        )
        live_start = day_start(max(live_from, year_start).isoformat())
        if live_start < now:
            recent = self._records(record, live_start.date(), today)
            recent += [pending] if pending is not None else []
            days.update(tally(recent, record.carry, live_start, now, hold))
        if pending is not None:  # collected "now": the end of every span, counted here
            so_far = days.setdefault(pending.day, DaySummary(pending.day))
            so_far.count += 1
            worst = so_far.worst
            so_far.worst = pending.status if worst is None else max(worst, pending.status)
        day_24h = now - timedelta(hours=24)
        last_24h = tally(
            self._records(record, day_24h.date(), today) + ([pending] if pending else []),
            _mark_before(days, day_24h.date().isoformat(), record),
            day_24h,
            now,
            hold,
        )
        for window in maintenance:
            self._maintain(record, days, window, year_start, now, hold)
            self._maintain(record, last_24h, window, day_24h.date(), now, hold, since=day_24h)
        first = min((d for d, s in days.items() if s.covered > 0), default=None)
        uptimes: list[Uptime] = []
        per_collector: dict[str, dict[str, float | None]] = {}
        for label, length in WINDOWS:
            if length == 0:
                chosen = list(last_24h.values())
                fully = first is not None and first <= day_24h.date().isoformat()
            else:
                begin = (today - timedelta(days=length - 1)).isoformat()
                chosen = [s for d, s in days.items() if d >= begin]
                fully = first is not None and first <= begin
            if not fully and uptimes:
                break  # windows the history does not cover are left out
            uptimes.append(Uptime(label, add_seconds(chosen), fully))
            per_collector[label] = collector_uptime(chosen)
        names = sorted({name for table in per_collector.values() for name in table})
        collectors = tuple(
            (name, tuple(uptime_text(per_collector[u.label].get(name)) for u in uptimes))
            for name in names
        )
        bars = self._bars(record, days, today)
        ongoing = copy.deepcopy(record.incident)
        if pending is not None:
            ongoing, resolved_now = follow(record.slug, ongoing, pending)
            if resolved_now and ongoing is not None:
                closed.append(ongoing)
                month = ongoing.start.date().isoformat()[:7]
                by_month[month] = (*by_month.get(month, ()), ongoing)
                ongoing = None
        year_ago = day_start(year_start.isoformat())
        for incident in declared:
            if incident.ongoing:
                continue
            if incident.start >= year_ago:
                closed.append(incident)
            month = incident.start.date().isoformat()[:7]
            by_month[month] = (*by_month.get(month, ()), incident)
        resolved = sorted(closed, key=lambda i: i.start, reverse=True)
        current = ([ongoing] if ongoing else []) + [i for i in declared if i.ongoing]
        return StatusView(
            now,
            tuple(uptimes),
            collectors,
            bars,
            tuple(current + resolved),
            tuple(current),
            {m: tuple(sorted(found, key=lambda i: i.start)) for m, found in by_month.items()},
            days,
        )

    def _records(self, record: DashboardRecord, first: date, last: date) -> list[LogRecord]:
        found: list[LogRecord] = []
        day = first
        while day <= last:
            info = record.months.get(_month_of(day))
            if info is not None and day.isoformat()[8:] in info.days:
                found += self.store.parse(
                    record.slug, _lines(self.store.shard(record.slug, day.isoformat()))
                )
            day += timedelta(days=1)
        return found

    def _maintain(
        self,
        record: DashboardRecord,
        days: dict[str, DaySummary],
        window: Window,
        first: date,
        now: datetime,
        hold: float,
        since: datetime | None = None,
    ) -> None:
        """Move the down and degraded time inside a maintenance window to maintenance."""
        start = max(window.start, since or day_start(first.isoformat()))
        end = min(window.end or now, now)
        if start >= end:
            return
        records = self._records(record, start.date(), end.date())
        carry = _mark_before(days, start.date().isoformat(), record)
        inside = tally(records, carry, start, end, hold)
        for day, found in inside.items():
            target = days.get(day)
            if target is None:
                continue
            for state in (State.DOWN, State.DEGRADED):
                moved = min(found.seconds[state], target.seconds[state])
                target.seconds[state] -= moved
                target.seconds[State.MAINTENANCE] += moved
            for name, (seen, down) in found.collectors.items():
                pair = target.collectors.get(name)
                if pair is not None:
                    pair[0] = max(0.0, pair[0] - seen)
                    pair[1] = max(0.0, pair[1] - down)

    def _bars(
        self, record: DashboardRecord, days: dict[str, DaySummary], today: date
    ) -> tuple[DayBar, ...]:
        bars = []
        position: dict[str, int] = {}  # versions of the month before the day
        for day in sorted(days):
            month = day[:7]
            position.setdefault(month, 0)
            found = days[day]
            if found.count:
                page = position[month] // HISTORY_PAGE + 1
                days_page = f"{month}.html" if page == 1 else f"{month}-{page}.html"
                position[month] += found.count
                found_page: str = days_page
            else:
                found_page = ""
            if day > (today - timedelta(days=BAR_DAYS)).isoformat():
                bars.append(DayBar(day, found.state, found.count, _ratio(found), found_page))
        shown = {bar.day: bar for bar in bars}
        return tuple(
            shown.get(day) or DayBar(day, State.NODATA, 0, None, "")
            for day in (
                (today - timedelta(days=n)).isoformat() for n in range(BAR_DAYS - 1, -1, -1)
            )
        )


HISTORY_PAGE = 200
"""Versions on one history page (:data:`dashsite.index.HISTORY_PAGE_SIZE`)."""


def _ratio(found: DaySummary) -> float | None:
    return 1 - found.seconds[State.DOWN] / found.covered if found.covered > 0 else None


def _remember_good(record: DashboardRecord, entry: LogRecord) -> None:
    for name in entry.durations:
        if name not in entry.errors:
            record.last_good[name] = entry


def _kept(days: dict[str, DaySummary]) -> dict[str, DaySummary]:
    """Days worth a line in a status file: any versions, or any counted time."""
    return {d: s for d, s in days.items() if s.count or s.covered or s.seconds[State.MAINTENANCE]}


def _mark_before(days: dict[str, DaySummary], day: str, record: DashboardRecord) -> Mark | None:
    earlier = [d for d in days if d < day and days[d].last is not None]
    if earlier:
        return days[max(earlier)].last
    if record.carry is not None and record.settled is not None and record.settled < day:
        return record.carry
    return None


def _incidents_in(slug: str, records: Iterable[LogRecord]) -> list[Incident]:
    """The resolved incidents that start and end among ``records``."""
    found: list[Incident] = []
    incident: Incident | None = None
    for entry in records:
        incident, resolved = follow(slug, incident, entry)
        if resolved and incident is not None:
            found.append(incident)
            incident = None
    return found


def _lines(path: Any) -> list[str]:
    try:
        text: str = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    return text.splitlines()


def worst_ongoing(incidents: Iterable[Incident]) -> StatusLevel | None:
    """The worst level among ongoing incidents."""
    return max((i.worst for i in incidents if i.ongoing), default=None)
