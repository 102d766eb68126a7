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

This module reads and keeps them; their format is :mod:`.summaries`', and what
a build shows of them (:class:`~.view.StatusView`) is :mod:`.view`'s.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from dashsite.core.levels import StatusLevel
from dashsite.status.live import LiveCache, LiveTally, advance, extend, split
from dashsite.status.model import (
    WINDOWS,
    DaySummary,
    State,
    Uptime,
    add_seconds,
    collector_sums,
    collector_uptime,
    follow,
    state_of,
    tally,
    unique_incidents,
    uptime_text,
)
from dashsite.status.summaries import (
    DIGEST_INCIDENTS,
    YEAR_DAYS,
    Digest,
    MonthStatus,
    digest_path,
)
from dashsite.status.view import (
    BAR_DAYS,
    DayBar,
    StatusView,
    Window,
    bar_months,
    first_pages,
    uptime_ratio,
)
from dashsite.store import layout
from dashsite.store.caches import (
    holds,
    month_signature,
    read_seal,
    sealed,
    span_signature,
    year_months,
)
from dashsite.store.log import LogRecord, with_checks
from dashsite.store.manifest import DashboardRecord
from dashsite.store.records import (
    Incident,
    Mark,
    day_start,
    months_between,
    next_month,
    parse_time,
)
from dashsite.store.version_store import ShardMark, VersionStore
from dashsite.store.write import SiteWriter


def _month_of(day: date) -> str:
    return day.isoformat()[:7]


@dataclass(frozen=True, slots=True)
class MonthFiles:
    """One dashboard's month status files, read through a build's :class:`Timeline`
    (its memo, its checks): what a :class:`StatusView` reads a month through."""

    timeline: Timeline
    record: DashboardRecord
    hold: float

    def status(self, month: str) -> MonthStatus:
        """The month's status: settled days and incidents (:meth:`Timeline.month`)."""
        return self.timeline.month(self.record, month, self.hold)

    def begun(self, month: str) -> list[Incident]:
        """The incidents begun in the month, its days unread (:meth:`Timeline.begun`)."""
        return self.timeline.begun(self.record, month, self.hold)

    def state(self, month: str) -> str:
        """What this build reads of the month, in one line (:meth:`Timeline.month_state`)."""
        return self.timeline.month_state(self.record.slug, month)

    def declared(
        self, days: dict[str, DaySummary], windows: Sequence[Window], until: datetime
    ) -> None:
        """``days`` with the declared ``windows`` counted (:meth:`Timeline._maintain`)."""
        if not days:
            return
        lo = day_start(min(days))
        for window in windows:
            self.timeline._maintain(self.record, days, window, lo, until, self.hold)


class Timeline:
    """Reads and writes the status files of one site, for one build."""

    def __init__(
        self,
        store: VersionStore,
        writer: SiteWriter,
        on_backfill: Callable[[DashboardRecord], None] | None = None,
    ) -> None:
        self.store = store
        self.writer = writer
        self.on_backfill = on_backfill
        """Told before a dashboard's whole log is read (once, on the first build)."""
        self._months: dict[tuple[str, str], MonthStatus] = {}
        self._begun: dict[tuple[str, str], MonthStatus] = {}
        """Status files read without their days (:meth:`begun`)."""
        self._states: dict[tuple[str, str], str] = {}
        self._shards: dict[str, dict[str, list[LogRecord]]] = {}
        """Slug → day → its shard's records, as they were before this build's appends."""
        self._digests: dict[str, Digest] = {}
        self._changed: set[str] = set()
        """Dashboards whose log changed under this build (retention): their digest's
        :attr:`Digest.begun` is not taken for the rest of it."""
        self._torn: set[tuple[str, str]] = set()
        """Shards read with lines that did not parse."""
        self.live: LiveCache | None = None
        """The previous build's tallies of the unsettled days (a build sets it; :mod:`.live`)."""

    # -- the status files ---------------------------------------------------------------------

    def month(self, record: DashboardRecord, month: str, hold: float) -> MonthStatus:
        """A month's status file; computed again from its shards if missing or bad."""
        key = (record.slug, month)
        if key in self._months:
            return self._months[key]
        found = self._read(record.slug, month, days=True)
        if found is None:
            found = self._recompute(record, month, hold)
        self._months[key] = found
        return found

    def release(self, record: DashboardRecord) -> None:
        """``record``'s pages are written: nothing read for its status is held (it is read
        again if asked)."""
        slug = record.slug
        self.forget(slug, record.months)  # (a month it never had holds nothing to let go)
        self._digests.pop(slug, None)
        self._shards.pop(slug, None)
        self._torn = {key for key in self._torn if key[0] != slug}  # (rarely any)

    def forget(self, slug: str, months: Iterable[str]) -> None:
        """``months`` of ``slug`` changed under this build (retention pruned their log):
        what it read of them is read again when asked."""
        self._changed.add(slug)
        for month in months:
            key = (slug, month)
            self._months.pop(key, None)
            self._begun.pop(key, None)
            self._states.pop(key, None)

    def _read(self, slug: str, month: str, *, days: bool) -> MonthStatus | None:
        """A month's status file as it is, if it holds to its seal (without ``days``: its
        incidents only); None if missing, unreadable, edited or older than its log."""
        path = self.store.site / layout.month_status(slug, month)
        try:
            text = path.read_text(encoding="utf-8")
            found = MonthStatus.from_json(json.loads(text), slug, month, days=days)
            signature = month_signature(self.store, slug, month, found.through)
        except (OSError, ValueError, RecursionError):
            return None
        if not holds(text, signature) and self.store.shards(slug, month):
            return None  # edited, or its log changed since: a cache, redone
        return found

    def begun(self, record: DashboardRecord, month: str, hold: float) -> list[Incident]:
        """The incidents begun in ``month``: :meth:`month`'s, without reading its days.

        The 90 days of bars ask which incidents touched them of four or five months
        every build: the day's digest holds those months' incidents (:attr:`Digest.begun`),
        sealed to their files. Another month's file is read without its days (the larger
        part of a status file to check), held to its seal as :meth:`month` holds it; if
        it fails, the month is read (and computed again) whole.
        """
        digest = self._digests.get(record.slug)
        if (
            digest is not None
            and month in digest.begun
            and (record.slug, month) not in self._months  # (read whole: what it holds now)
            and record.slug not in self._changed
        ):
            return digest.begun[month]  # as the file holds them: the digest is sealed to it
        return self._begun_in_file(record, month, hold)

    def _begun_in_file(self, record: DashboardRecord, month: str, hold: float) -> list[Incident]:
        key = (record.slug, month)
        if key in self._months:
            return self._months[key].incidents
        if key not in self._begun:
            found = self._read(record.slug, month, days=False)
            if found is None:
                return self.month(record, month, hold).incidents
            self._begun[key] = found
        return self._begun[key].incidents

    def _recompute(self, record: DashboardRecord, month: str, hold: float) -> MonthStatus:
        """A month's status from its shards: its settled days and the incidents begun in it."""
        found = MonthStatus()
        if record.settled is None or month not in record.months:
            return found
        if not self.store.shards(record.slug, month):
            return found  # not here (a partial pull): never overwrite what is published
        records = self.store.month(record.slug, month)
        carry = self._carry_before(record, month, hold)
        if month <= record.settled[:7]:
            start = day_start(f"{month}-01")
            end = min(
                day_start(record.settled) + timedelta(days=1),
                day_start(f"{next_month(month)}-01"),
            )
            counted = with_checks(records, self.store.month_checks(record, month))
            found.days = _kept(tally(counted, carry, start, end, hold))
            found.through = (end - timedelta(days=1)).date().isoformat()
        later = (
            entry for m in record.months if m > month for entry in self.store.month(record.slug, m)
        )
        found.incidents = _incidents_begun(record.slug, records, later, carry)
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
        self._states.pop((slug, month), None)
        signature = month_signature(self.store, slug, month, found.through)
        text, found.seal = sealed(found.to_json(), signature)
        self.writer.write(layout.month_status(slug, month), text)
        self.store.relist(slug, month)

    # -- after a version is filed ---------------------------------------------------------------

    def filed(
        self, record: DashboardRecord, entry: LogRecord, hold: float, *, last: bool = True
    ) -> None:
        """Follow the incident, the collectors' last good version, and settle finished days.

        ``last``: ``entry`` is its month's newest version (its place in the month is known).
        """
        if record.settled is None and record.count > 1:
            self.backfill(record, hold)  # the new entry is in the log already
        else:
            info = record.months.get(entry.month)
            row = info.count - 1 if last and info is not None else None
            self._follow(record, entry, hold, row)
            record.remember_good(entry)
        self.settle(record, entry.day, hold)

    def ensure(self, record: DashboardRecord, hold: float) -> None:
        """Bring a dashboard not built this time up to date (once, after an upgrade)."""
        if record.settled is None and record.latest is not None:
            self.backfill(record, hold)
            self.settle(record, record.latest.day, hold)

    def _follow(
        self, record: DashboardRecord, entry: LogRecord, hold: float, row: int | None
    ) -> None:
        incident, resolved = follow(record.slug, record.incident, entry, row)
        if resolved and incident is not None:
            month = self.month(record, incident.start.date().isoformat()[:7], hold)
            month.incidents = unique_incidents([incident, *month.incidents])
            self._save(record.slug, incident.start.date().isoformat()[:7], month)
            digest = self._digests.get(record.slug)
            if digest is not None:  # today's digest hears of it too (it is read, not redone)
                digest.incidents = unique_incidents([incident, *digest.incidents])[
                    :DIGEST_INCIDENTS
                ]
                begun = incident.start.date().isoformat()[:7]
                if begun in digest.begun:
                    digest.begun[begun] = list(month.incidents)
                self._save_digest(record, digest)
            incident = None
        record.incident = incident

    def backfill(self, record: DashboardRecord, hold: float) -> None:
        """The first build that keeps status: incidents and last good values from the whole log.

        Once per dashboard, O(history); days are settled by :meth:`settle`.
        """
        if self.on_backfill is not None:
            self.on_backfill(record)
        record.incident = None
        for month in list(record.months):
            for row, entry in enumerate(self.store.month(record.slug, month)):
                self._follow(record, entry, hold, row)
                record.remember_good(entry)

    def rewind(self, record: DashboardRecord, until: str, hold: float) -> bool:
        """Unsettle the days from ``until`` on, if a clock ahead settled them; True if so.

        A build whose clock was ahead settled days that had not happened: the
        newest run is earlier than the marker. The marker goes back to the day
        before ``until``, the carried mark is read from the status file of the
        last day kept before it, and the days after it are dropped from the
        status files (settled again, from the log, when their time comes).
        """
        if record.settled is None or record.settled < until:
            return False
        last = (date.fromisoformat(until) - timedelta(days=1)).isoformat()
        record.settled = last
        record.carry = None
        for month in sorted((m for m in record.months if m <= last[:7]), reverse=True)[:13]:
            days = self.month(record, month, hold).days
            kept = [d for d in days if d <= last and days[d].last is not None]
            if kept:
                record.carry = days[max(kept)].last
                break
        for month in [m for m in record.months if m >= last[:7]]:
            found = self.month(record, month, hold)
            later = [d for d in found.days if d > last]
            if later or (found.through or "") > last:
                for day in later:
                    del found.days[day]
                found.through = min(found.through or last, last)
                self._save(record.slug, month, found)
        self._digests.pop(record.slug, None)
        return True

    def settle(self, record: DashboardRecord, until: str, hold: float) -> None:
        """Write the summaries of the days before ``until`` (a day) not settled yet."""
        if not record.months:
            return
        self.rewind(record, until, hold)
        first = date.fromisoformat(f"{next(iter(record.months))}-01")
        begin = (
            date.fromisoformat(record.settled) + timedelta(days=1)
            if record.settled is not None
            else first
        )
        stop = date.fromisoformat(until)
        if begin >= stop:
            if record.settled is None:  # nothing before ``until`` to settle: done, vacuously
                record.settled = (stop - timedelta(days=1)).isoformat()
            return
        carry = record.carry
        for month in months_between(begin, stop - timedelta(days=1)):
            if month not in record.months and (
                carry is None or carry.at + timedelta(seconds=hold) < day_start(f"{month}-01")
            ):
                continue  # nothing was collected then, and nothing carries into it
            start = max(day_start(begin.isoformat()), day_start(f"{month}-01"))
            end = min(day_start(stop.isoformat()), day_start(f"{next_month(month)}-01"))
            logged = with_checks(
                self.store.month(record.slug, month), self.store.month_checks(record, month)
            )
            records = [r for r in logged if start.isoformat() <= r.collected_at < end.isoformat()]
            days = tally(records, carry, start, end, hold)
            if days:
                carry = days[max(days)].last or carry
            kept = _kept(days)
            if not kept:
                continue
            found = self.month(record, month, hold) if month in record.months else MonthStatus()
            found.days.update(kept)
            last = (end - timedelta(days=1)).date().isoformat()
            found.through = max(found.through or last, last)
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

        The settled days come from the day's :class:`Digest` (one file); the
        days not settled yet (today) from their log shards. ``pending`` is
        the version being filed (not in the log yet): it counts as if it
        were. ``declared`` incidents (``incidents/``) join the timeline; those
        marked maintenance turn down time into maintenance, and those that start
        after ``now`` (planned maintenance, see :func:`.incidents.standing`) are
        only listed, as :attr:`StatusView.scheduled`.
        """
        now = now.astimezone(UTC)
        planned = tuple(sorted((i for i in declared if i.start > now), key=lambda i: i.start))
        declared = [i for i in declared if i.start <= now]
        maintenance = [  # (the declared outages too: their time counts at their level)
            Window(i.start, i.end, None if i.maintenance else i.worst) for i in declared
        ]
        today = now.date()
        self.rewind(record, today.isoformat(), hold)  # a marker in the future is redone
        year_start = today - timedelta(days=YEAR_DAYS - 1)
        digest = self.digest(record, today, hold, maintenance)
        settled = record.settled
        live_from = max(
            date.fromisoformat(settled) + timedelta(days=1) if settled else year_start, year_start
        )
        live_start = day_start(live_from.isoformat())
        live: dict[str, DaySummary] = {}
        if live_start < now:
            carry = record.carry if settled is not None else None
            known = self._live(record, live_from, today, carry, hold)
            added = [pending] if pending is not None else []
            found = extend(known, added, now, hold)
            if found is None:  # the clock is behind the log's newest line: the days whole
                recent = self._records(record, live_from, today) + added
                found = tally(recent, carry, live_start, now, hold, hours=True)
            live = found
            for window in maintenance:
                self._maintain(record, live, window, live_start, now, hold)
        if pending is not None and parse_time(pending.collected_at) >= now:  # collected
            # "now": the end of every span, counted here (one collected before, by a clock
            # set back, was placed at the newest time known and counted: model.in_order)
            so_far = live.setdefault(pending.day, DaySummary(pending.day))
            so_far.count += 0 if pending.is_check else 1
            worst = so_far.worst
            so_far.worst = pending.status if worst is None else max(worst, pending.status)
        cut = (now - timedelta(hours=24)).replace(minute=0, second=0, microsecond=0)
        since = (cut.date().isoformat(), cut.hour)
        last_24h = [
            hour
            for found in ([digest.last_day] if digest.last_day else []) + list(live.values())
            for h, hour in found.hours.items()
            if (found.day, h) >= since
        ]
        first = min(
            [d for d, found in live.items() if found.covered > 0]
            + ([digest.first] if digest.first else []),
            default=None,
        )

        def _first_hour(day: str) -> int:
            """The first hour of ``day`` with counted time (0 when its hours are unknown)."""
            found = live.get(day) or (digest.last_day if digest.last_day and
                                      digest.last_day.day == day else None)  # fmt: skip
            hours = [h for h, part in found.hours.items() if part.covered > 0] if found else []
            return min(hours, default=0)

        uptimes: list[Uptime] = []
        per_collector: dict[str, dict[str, float | None]] = {}
        for label, length in WINDOWS:
            if length == 0:
                chosen = last_24h
                fully = first is not None and (
                    first < since[0] or (first == since[0] and _first_hour(first) <= since[1])
                )  # (history begun on the cut's day, after its hour: not the whole 24 h)
            else:
                begin = (today - timedelta(days=length - 1)).isoformat()
                chosen = [d for d in (digest.windows.get(length),) if d is not None]
                chosen += [found for d, found in live.items() if d >= begin]
                fully = first is not None and first <= begin
            if not fully and uptimes:
                break  # windows the history does not cover are left out
            uptimes.append(Uptime(label, add_seconds(chosen), fully))
            per_collector[label] = collector_uptime(chosen)
        names = sorted({name for table in per_collector.values() for name in table})
        newest = pending if pending is not None else record.latest
        if newest is not None and (newest.durations or newest.errors):
            present = set(newest.durations) | set(newest.errors)  # (a reused one is timed too)
            names = [name for name in names if name in present]  # not one since removed
        collectors = tuple(
            (name, tuple(uptime_text(per_collector[u.label].get(name)) for u in uptimes))
            for name in names
        )
        closed = list(digest.incidents)
        extra = [i for i in declared if not i.ongoing]
        ongoing = copy.deepcopy(record.incident)
        if pending is not None:
            info = record.months.get(pending.month)
            row = info.count if info is not None else 0  # filed after what is filed
            ongoing, resolved_now = follow(record.slug, ongoing, pending, row)
            if resolved_now and ongoing is not None:
                closed.insert(0, ongoing)
                extra.append(ongoing)
                ongoing = None
        year_ago = day_start(year_start.isoformat())
        closed += [i for i in declared if not i.ongoing and i.start >= year_ago]
        resolved = sorted(unique_incidents(closed), key=lambda i: i.start, reverse=True)
        current = ([ongoing] if ongoing else []) + [i for i in declared if i.ongoing]
        return StatusView(
            now,
            tuple(uptimes),
            collectors,
            _bars(digest, live, today),
            tuple(current + resolved),
            tuple(current),
            live,
            tuple(extra),
            source=self.month_source(record, hold),
            windows=tuple(maintenance),
            scheduled=planned,
            settled=digest.token,
        )

    def month_source(self, record: DashboardRecord, hold: float) -> MonthFiles:
        """What a view reads its months through (:attr:`StatusView.source`): this timeline."""
        return MonthFiles(self, record, hold)

    def month_state(self, slug: str, month: str) -> str:
        """What this build reads of a month, in one line: the seal of the status it
        holds (the one it read or wrote, or else the file's, read from its last
        bytes), and the month's files as they are now (:meth:`VersionStore.month_files`).

        Two builds with the same line for a month read the same days and incidents
        there: the seal hashes the content, the files say that nothing was appended,
        pruned or edited in between (a status file edited by hand has another
        size or time, and would fail its seal when read).
        """
        key = (slug, month)
        found = self._states.get(key)
        if found is None:
            seal = self._month_seal(slug, month)
            found = self._states[key] = f"{seal}|{self.store.month_files(slug, month)}"
        return found

    def _month_seal(self, slug: str, month: str) -> str:
        """The seal of the month's status as this build holds it (read or written), or
        else the file's, read from its last bytes (``""``: none)."""
        held = self._months.get((slug, month)) or self._begun.get((slug, month))
        if held is not None:
            return held.seal
        return read_seal(self.store.site / layout.month_status(slug, month))

    # -- the digest -----------------------------------------------------------------------------

    def digest(
        self, record: DashboardRecord, today: date, hold: float, maintenance: Sequence[Window]
    ) -> Digest:
        """The day's digest: read from ``log/digest.json``, or computed once and written."""
        key = "|".join([today.isoformat(), record.settled or "-"] + [w.key for w in maintenance])
        cached = self._digests.get(record.slug)
        if cached is not None and cached.key == key:
            return cached
        path = self.store.site / digest_path(record.slug)
        found: Digest | None = None
        if path.is_file():
            try:
                text = path.read_text("utf-8")
                found = Digest.from_json(json.loads(text), record.slug)
                if found.key == key and not holds(text, self._digest_signature(record, key)):
                    found = None  # edited, or a settled shard changed since: a cache, redone
                elif found is not None:
                    found.token = _token(text)
            except (OSError, ValueError, RecursionError):
                found = None
        if found is None or found.key != key:
            found = self._compute_digest(record, today, hold, maintenance, key)
            if record.settled is not None or path.is_file():
                # Written even when no settled day is logged yet (a site's first day):
                # without a file, each build of that day would sum it again.
                self._save_digest(record, found)
            else:
                found.token = _token(json.dumps(found.to_json(), sort_keys=True))
        self._digests[record.slug] = found
        return found

    def _save_digest(self, record: DashboardRecord, found: Digest) -> None:
        self._digests[record.slug] = found
        text, _ = sealed(found.to_json(), self._digest_signature(record, found.key))
        found.token = _token(text)
        self.writer.write(digest_path(record.slug), text)

    def _digest_signature(self, record: DashboardRecord, key: str) -> str:
        """The shards a digest of ``key`` (today, the last settled day…) covers, and the
        seals of the status files it copies incidents from (:attr:`Digest.begun`): an
        incident resolved into one of them, when the digest was not read, fails it.

        Only the months the manifest logs: a digest sums no other, and no incident
        began in a month with no log. Another month's folder is neither listed nor
        read, every build, for each dashboard."""
        slug = record.slug
        today, settled = key.split("|")[:2]
        if settled == "-":
            return ""
        begun = ",".join(
            f"{m}={self._month_seal(slug, m) if m in record.months else ''}"
            for m in bar_months(date.fromisoformat(today))
        )
        logged = [m for m in year_months(today) if m in record.months]
        return f"{span_signature(self.store, slug, logged, settled)};begun:{begun}"

    def _compute_digest(
        self,
        record: DashboardRecord,
        today: date,
        hold: float,
        maintenance: Sequence[Window],
        key: str,
    ) -> Digest:
        """Sum a year of status files into the day's digest (the slow path, once a day)."""
        year_start = today - timedelta(days=YEAR_DAYS - 1)
        settled = record.settled
        days: dict[str, DaySummary] = {}
        closed: list[Incident] = []
        for month in months_between(year_start, today):
            if month in record.months:
                found = self.month(record, month, hold)
                days.update(found.days)
                closed += found.incidents
        days = {
            d: found.copy()
            for d, found in days.items()
            if year_start.isoformat() <= d and settled is not None and d <= settled
        }
        digest = Digest(key)
        yesterday = (today - timedelta(days=1)).isoformat()
        if settled == yesterday:  # the 24 hours start in it: its hours, from its shard
            start = day_start(yesterday)
            hours = tally(
                self._records(record, start.date(), start.date()),
                _mark_before(days, yesterday, record),
                start,
                start + timedelta(days=1),
                hold,
                hours=True,
            )
            if yesterday in hours:
                days[yesterday] = hours[yesterday]
        for window in maintenance:
            self._maintain(
                record,
                days,
                window,
                day_start(year_start.isoformat()),
                day_start(today.isoformat()),
                hold,
            )
        if settled == yesterday and yesterday in days:
            digest.last_day = days[yesterday]
        digest.first = min((d for d, found in days.items() if found.covered > 0), default=None)
        for length in (7, 30, 90, YEAR_DAYS):
            begin = (today - timedelta(days=length - 1)).isoformat()
            total = DaySummary(f"window {length}")
            chosen = [found for d, found in days.items() if d >= begin]
            total.seconds = add_seconds(chosen)
            for name, (seen, down) in collector_sums(chosen).items():
                total.collectors[name] = [seen, down]
            digest.windows[length] = total
        pages = first_pages(days)
        first_bar = (today - timedelta(days=BAR_DAYS - 1)).isoformat()
        for d, summary in sorted(days.items()):
            digest.month_counts[d[:7]] = digest.month_counts.get(d[:7], 0) + summary.count
            if d >= first_bar:
                digest.bars[d] = DaySummary(d, summary.count, summary.worst, dict(summary.seconds))
                if summary.count:
                    digest.pages[d] = pages[d]
        year_ago = day_start(year_start.isoformat())
        recent = sorted(
            unique_incidents(i for i in closed if i.start >= year_ago), key=lambda i: i.start
        )
        digest.incidents = recent[::-1][:DIGEST_INCIDENTS]
        if settled is not None:  # (none settled: no file is written, nothing is taken)
            digest.begun = {  # (none began in a month with no log: no file to read)
                m: list(self._begun_in_file(record, m, hold)) if m in record.months else []
                for m in bar_months(today)
            }
        return digest

    def _records(self, record: DashboardRecord, first: date, last: date) -> list[LogRecord]:
        """The log records of the days ``first`` to ``last``, with their checks, each file
        parsed once a build."""
        found: list[LogRecord] = []
        day = first
        while day <= last:
            info = record.months.get(_month_of(day))
            if info is not None and day.isoformat()[8:] in info.days:
                name = day.isoformat()
                shards = self._shards.setdefault(record.slug, {})
                if name not in shards:
                    parsed, unreadable = self.store.day_records(record.slug, name)
                    checks: list[LogRecord] = []
                    if name[8:] in info.checked:  # (a torn check is skipped: no repair)
                        checks = self.store.day_checks(record.slug, name)[0]
                    # as they were before this build's appends
                    shards[name] = with_checks(parsed, checks)
                    if unreadable:
                        self._torn.add((record.slug, name))
                found += shards[name]
            day += timedelta(days=1)
        return found

    def _live(
        self, record: DashboardRecord, first: date, today: date, carry: Mark | None, hold: float
    ) -> LiveTally:
        """The unsettled days ``first``…``today`` tallied up to their newest line.

        From the previous build's :class:`LiveTally` and the lines appended since,
        when it holds; else from the days' shards read whole (:mod:`.live`).
        """
        slug = record.slug
        carried = carry.to_json() if carry is not None else None
        known = self.live.get(slug) if self.live is not None else None
        if known is not None and (
            known.since != first.isoformat() or known.carry != carried or known.hold != hold
        ):
            known = None  # another day, mark or hold (expected_every changed): read whole
        if known is not None:
            found = self._appended(record, known, first, today)
            if found is not None:
                new, marks, checked = found
                counts: Counter[str] = Counter()
                for name, mark in marks.items():
                    counts[name[:7]] += mark.lines
                if not self._check_live(record, counts, first, hold):
                    moved = advance(known, new, hold)
                    moved.shards, moved.checks = marks, checked
                    if self.live is not None:
                        self.live.put(slug, moved)
                    return moved
                self._forget(slug)
        recent = self._records(record, first, today)
        if self._check_live(record, _by_month(recent), first, hold):
            self._forget(slug)
            recent = self._records(record, first, today)
        prefix, at_t, before = split(recent, carry, day_start(first.isoformat()), hold)
        lines = Counter((r.day, r.is_check) for r in recent)
        marks, checked = {}, {}
        for (day, check), count in sorted(lines.items()):
            found_mark = self.store.shard_end(slug, day, count, checks=check)
            if found_mark is not None:
                (checked if check else marks)[day] = found_mark
        known = LiveTally(first.isoformat(), carried, marks, prefix, at_t, before, hold, checked)
        if self.live is not None:
            self.live.put(slug, known)
        return known

    def _appended(
        self, record: DashboardRecord, known: LiveTally, first: date, today: date
    ) -> tuple[list[LogRecord], dict[str, ShardMark], dict[str, ShardMark]] | None:
        """The records (and checks) appended to the unsettled days since ``known``, and the
        new marks of the shards and of the checks files; None when one was rewritten, lost
        lines, or holds a line from before the tally's newest (a killed build's check, read
        once a later build marks its day as having checks): then the days are read whole."""
        new: list[LogRecord] = []
        marks: dict[str, ShardMark] = {}
        checked: dict[str, ShardMark] = {}
        day = first
        while day <= today:
            name = day.isoformat()
            read = self.store.appended(record.slug, name, known.shards.get(name))
            if read is None:
                return None
            found, unreadable, mark = read
            if unreadable:
                self._torn.add((record.slug, name))
            checks: list[LogRecord] = []
            info = record.months.get(name[:7])
            if name in known.checks or (info is not None and name[8:] in info.checked):
                seen = self.store.appended(record.slug, name, known.checks.get(name), checks=True)
                if seen is None:
                    return None
                checks, _, check_mark = seen
                if check_mark is not None:
                    checked[name] = check_mark
            new += with_checks(found, checks)
            if mark is not None:
                marks[name] = mark
            day += timedelta(days=1)
        newest = max((r.order for r in known.at_t), default=None)
        if newest is not None and any(r.order < newest for r in new):
            return None
        return new, marks, checked

    def _forget(self, slug: str) -> None:
        self._shards.pop(slug, None)
        self.store.forget(slug)

    def _check_live(
        self, record: DashboardRecord, counts: Mapping[str, int], first: date, hold: float
    ) -> bool:
        """Whether the days not settled yet lack lines the manifest counts (or have
        unreadable ones); if so, their months are read whole, which rebuilds and tells
        the damage (:mod:`.logrepair`). Costs nothing more than the live days' shards."""
        suspect = {day[:7] for slug, day in self._torn if slug == record.slug}
        settled = record.settled or ""
        for month in set(counts) | {m for m in record.months if m >= str(first)[:7]}:
            info = record.months.get(month)
            if info is None:
                continue
            before = 0
            if settled[:7] >= month:
                days = self.month(record, month, hold).days
                before = sum(found.count for d, found in days.items() if d <= settled)
            if before + counts.get(month, 0) < info.count:
                suspect.add(month)
        for month in sorted(suspect):
            self.store.month(record.slug, month)
        return bool(suspect & {m for slug, m in self.store.repaired if slug == record.slug})

    def _maintain(
        self,
        record: DashboardRecord,
        days: dict[str, DaySummary],
        window: Window,
        lo: datetime,
        hi: datetime,
        hold: float,
    ) -> None:
        """Move the down and degraded time inside a maintenance window to maintenance; or,
        in a declared outage, the time that was better than its level to that level.

        Reads the log of the window's days (bounded by ``lo`` and ``hi``):
        declared windows are rare and short.
        """
        start, end = max(window.start, lo), min(window.end or hi, hi)
        if start >= end:
            return
        records = self._records(record, start.date(), end.date())
        carry = _mark_before(days, start.date().isoformat(), record)
        level = window.level
        for day, found in tally(records, carry, start, end, hold, hours=True).items():
            target = days.get(day)
            if target is None:
                continue
            pairs = [(target, found)] + [
                (target.hours[hour], part)
                for hour, part in found.hours.items()
                if hour in target.hours
            ]
            for into, inside in pairs:
                if level is None:
                    _move_to_maintenance(into, inside)
                else:
                    _move_to_declared(into, inside, level)


def _token(text: str) -> str:
    """A digest's text, hashed (:attr:`Digest.token`)."""
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _move_to_declared(target: DaySummary, inside: DaySummary, level: StatusLevel) -> None:
    """The measured time of ``inside`` better than ``level`` counts at ``level`` in
    ``target``, and the day (or hour) reads that level at least."""
    state = state_of(level)
    better = [State.UP] + ([State.DEGRADED] if state == State.DOWN else [])
    moved = 0.0
    for was in better:
        amount = min(inside.seconds[was], target.seconds[was])
        target.seconds[was] -= amount
        target.seconds[state] += amount
        moved += amount
    if moved > 0 or inside.count:
        target.worst = level if target.worst is None else max(target.worst, level)


def _move_to_maintenance(target: DaySummary, inside: DaySummary) -> None:
    for state in (State.DOWN, State.DEGRADED):
        moved = min(inside.seconds[state], target.seconds[state])
        target.seconds[state] -= moved
        target.seconds[State.MAINTENANCE] += moved
    for name, (_seen, down) in inside.collectors.items():  # its failed time only, as the
        pair = target.collectors.get(name)  # dashboard's: its up time still counts
        if pair is not None:
            pair[0] = max(0.0, pair[0] - down)
            pair[1] = max(0.0, pair[1] - down)


def _bars(digest: Digest, live: dict[str, DaySummary], today: date) -> tuple[DayBar, ...]:
    """The 90 days to today: settled ones from the digest, the rest from the live days."""
    live_pages = first_pages(live, digest.month_counts)
    bars = []
    for day, empty in _bar_days(today):
        found = live.get(day) or digest.bars.get(day)
        if found is None:
            bars.append(empty)
            continue
        page = (live_pages.get(day) or digest.pages.get(day, "")) if found.count else ""
        bars.append(
            DayBar(day, found.state, found.count, uptime_ratio(found), page, dict(found.seconds))
        )
    return tuple(bars)


@functools.lru_cache(maxsize=4)
def _bar_days(today: date) -> tuple[tuple[str, DayBar], ...]:
    """The 90 days of bars to ``today``, each with its bar for a day without data.

    The same for every dashboard, so made once: a build of 1,000 new dashboards
    held 89,000 alike bars (and their day strings), a fifth of its memory. A bar
    is frozen, so one can be shared.
    """
    days = [(today - timedelta(days=n)).isoformat() for n in range(BAR_DAYS - 1, -1, -1)]
    return tuple((day, DayBar(day, State.NODATA, 0, None, "")) for day in days)


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


def _incidents_begun(
    slug: str, records: Iterable[LogRecord], later: Iterable[LogRecord], carry: Mark | None
) -> list[Incident]:
    """The resolved incidents that begin among ``records`` (one month's), followed into
    ``later`` records until they end; a run already going on when the month began
    (``carry`` not ok) belongs to an earlier month."""
    found: list[Incident] = []
    incident: Incident | None = None
    before = carry is not None and carry.status != StatusLevel.OK
    for row, entry in enumerate(records):
        if before:
            before = entry.status != StatusLevel.OK
            continue
        incident, resolved = follow(slug, incident, entry, row)
        if resolved and incident is not None:
            found.append(incident)
            incident = None
    if incident is not None:
        for entry in later:
            incident, resolved = follow(slug, incident, entry)
            if resolved and incident is not None:
                found.append(incident)
                break
    return found


def _by_month(records: Iterable[LogRecord]) -> Counter[str]:
    return Counter(r.month for r in records)
