"""What a build shows of one dashboard's status over time: its view, the day bars, and
where each day's versions are listed in the history.

:class:`StatusView` is made by :class:`.timeline.Timeline` (which reads the
store); the pages draw it. A month the pages ask for is read through the view's
:class:`MonthSource`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, Protocol

from dashsite.core.levels import StatusLevel
from dashsite.status.model import (
    DaySummary,
    State,
    Uptime,
    absorb,
    unique_incidents,
    uptime_text,
)
from dashsite.status.summaries import MonthStatus
from dashsite.store import layout
from dashsite.store.records import Incident, day_start, months_between, next_month


class MonthSource(Protocol):
    """Where a view reads a month the pages ask for (:class:`.timeline.MonthFiles`)."""

    def status(self, month: str) -> MonthStatus:
        """The month's settled days and the incidents begun in it."""
        ...

    def begun(self, month: str) -> list[Incident]:
        """The incidents begun in the month, its days unread."""
        ...

    def state(self, month: str) -> str:
        """What this build reads of the month, in one line (a key of what it holds)."""
        ...

    def declared(
        self, days: dict[str, DaySummary], windows: Sequence[Window], until: datetime
    ) -> None:
        """``days`` (settled ones, copies) with the time the declared ``windows`` change
        counted as they say, up to ``until``: as the live days and the digest are."""
        ...


BAR_DAYS = 90


HISTORY_PAGE = 200
"""Versions on one history page (:data:`dashsite.index.HISTORY_PAGE_SIZE`)."""


RECENT_INCIDENTS = 5


@cache
def touching_months(first: str, last: str) -> tuple[str, ...]:
    """The months whose incidents may touch the days ``first`` to ``last``: theirs, and
    those of the 31 days before (an incident runs on into the next month)."""
    start = date.fromisoformat(first) - timedelta(days=31)
    return tuple(months_between(start, date.fromisoformat(last)))


@cache
def bar_months(today: date) -> tuple[str, ...]:
    """The months whose incidents may touch the 90 days of bars that end ``today``."""
    first = today - timedelta(days=BAR_DAYS - 1)
    return touching_months(first.isoformat(), today.isoformat())


@dataclass(frozen=True, slots=True)
class Window:
    """A window declared in ``incidents/`` that changes how a dashboard's time counts:
    maintenance (``level`` None: its down time is neither up nor down), or an outage the
    team declared (its measured time counts at ``level`` at least: down when the
    collectors saw nothing wrong but the service was)."""

    start: datetime
    end: datetime | None
    level: StatusLevel | None = None

    @property
    def key(self) -> str:
        """What a digest computed with this window is keyed by."""
        tail = f"/{self.level.slug}" if self.level is not None else ""
        return f"{self.start.isoformat()}/{self.end.isoformat() if self.end else ''}{tail}"


STATE_WORDS: dict[str, str] = {  # (keyed by State: equal to its text, so either finds it)
    State.UP: "ok",
    State.DEGRADED: "degraded",
    State.DOWN: "down",
    State.MAINTENANCE: "maintenance",
    State.NODATA: "no data",
}
"""A day's state in the words the pages use."""


@dataclass(frozen=True, slots=True)
class DayBar:
    """One day of the 90-day bars."""

    day: str
    state: State
    count: int
    uptime: float | None
    page: str
    """The history page that lists the day's first version (``2026-11-2.html``), or ``""``."""
    seconds: Mapping[State, float] = field(default_factory=dict)
    """The day's seconds by state (empty for a day without data)."""
    shown: str = field(init=False, compare=False)
    """How the bar is drawn: its state, or ``maintenance`` when all it lost was maintenance.

    (A version failing inside a declared maintenance window makes the day's
    worst level an error; its time counts as maintenance, not down.) Worked out
    once: a page, its index card and the bars' summary each ask.
    """
    partial: bool = field(init=False, compare=False)
    """Data for part of the day only: an hour or more without any."""

    def __post_init__(self) -> None:
        seconds = self.seconds
        lost = seconds.get(State.DOWN, 0) + seconds.get(State.DEGRADED, 0)
        maintenance = seconds.get(State.MAINTENANCE, 0) > 0 and lost == 0
        shown = State.MAINTENANCE.value if maintenance else self.state.value
        object.__setattr__(self, "shown", shown)
        partial = self.count > 0 and seconds.get(State.NODATA, 0) >= PARTIAL_NODATA
        object.__setattr__(self, "partial", partial)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as a tuple of its fields (a build's worker sends 90 a dashboard, see
        :mod:`dashsite.site.workers`; the dataclass default goes field by field)."""
        seconds = {state.value: value for state, value in self.seconds.items()}
        return (_day_bar, (self.day, self.state.value, self.count, self.uptime, self.page,
                           seconds, self.shown, self.partial))  # fmt: skip

    @property
    def label(self) -> str:
        """In words: ``2026-11-27: down 25 min, 288 versions, uptime 93.40 %``."""
        if self.count == 0 and self.state == State.NODATA:
            return f"{self.day}: no data"
        versions = f"{self.count:,} version{'' if self.count == 1 else 's'}"
        uptime = uptime_text(self.uptime)
        said = [
            f"{STATE_WORDS[state]} {minutes_text(self.seconds.get(state, 0))}"
            for state in (State.DOWN, State.DEGRADED, State.MAINTENANCE)
            if self.seconds.get(state, 0) > 0
        ]
        if self.partial:
            said.append(f"no data {minutes_text(self.seconds[State.NODATA])}")
        head = ", ".join(said) if said else STATE_WORDS[self.shown]
        return f"{self.day}: {head}, {versions}, uptime {uptime}"


PARTIAL_NODATA = 3600.0
"""Seconds without data that mark a day with data as partly without (``DayBar.partial``)."""


@dataclass(frozen=True, slots=True)
class DayIncident:
    """An incident as a day's detail links it."""

    incident: Incident
    link: str
    """Site-relative: a declared incident's page, or a detected one's first version in
    its dashboard's history."""


def minutes_text(seconds: float) -> str:
    """``45 s``, ``25 min``, ``2 h 10 min``: how long, as a visitor reads it."""
    if seconds < 60:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


_STATES = {state.value: state for state in State}


def _day_bar(
    day: str, state: str, count: int, uptime: float | None, page: str,
    seconds: dict[str, float], shown: str, partial: bool,
) -> DayBar:  # fmt: skip
    """A pickled :class:`DayBar` back, its fields set as they were (no ``__post_init__``)."""
    bar = object.__new__(DayBar)
    for name, value in (("day", day), ("state", _STATES[state]), ("count", count),
                        ("uptime", uptime), ("page", page), ("shown", shown),
                        ("partial", partial),
                        ("seconds", {_STATES[k]: v for k, v in seconds.items()})):  # fmt: skip
        object.__setattr__(bar, name, value)
    return bar


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
    live: dict[str, DaySummary] = field(default_factory=dict)
    """The days not settled yet (today, mostly)."""
    extra: tuple[Incident, ...] = ()
    """Incidents no status file holds yet: declared ones, one resolved by this build."""
    source: MonthSource | None = None
    """The dashboard's month status files, read when a page asks for a month."""
    linkable: bool = True
    """Whether days may link to history pages (not under ``retention``, which drops
    months after the pages are drawn)."""
    kept_from: datetime | None = None
    """Under ``retention``: the oldest version kept. An incident begun before it has no
    row left to link to: its link is the history's index."""
    windows: tuple[Window, ...] = ()
    """The declared windows the view counted (maintenance, outages): month pages count
    them in the settled days too."""
    scheduled: tuple[Incident, ...] = ()
    """Maintenance declared to start later, soonest first: told ahead, counted for nothing
    yet."""
    settled: str = ""
    """What the view shows of the settled days, hashed (:attr:`.summaries.Digest.token`)."""

    @property
    def declared_level(self) -> StatusLevel | None:
        """The worst level of the outages declared in ``incidents/`` going on now (None:
        none; maintenance is not one). A visitor reads it beside the collectors' own: a
        team writes the file to say the service is down."""
        return max(
            (i.worst for i in self.ongoing if i.declared and not i.maintenance), default=None
        )

    @property
    def under_maintenance(self) -> bool:
        """Declared maintenance goes on now and explains everything else going on: no
        detected incident outside it, no declared outage. Planned work, not an outage:
        a visitor reads "Maintenance" (the level stays what the collectors said)."""
        current = absorb(self.ongoing)
        return any(i.declared and i.maintenance for i in current) and all(
            i.declared and i.maintenance for i in current
        )

    def shown_level(self, collected: StatusLevel) -> StatusLevel:
        """``collected`` (a version's level), raised to :attr:`declared_level`."""
        declared = self.declared_level
        return collected if declared is None or declared <= collected else declared

    def drawn_key(self) -> str:
        """What the history pages show of this view that a build without a new version
        (a check) can change, hashed: the uptime and collectors' texts, the bars of the days
        not settled, the incidents, the declared windows, the day, and the time while
        something goes on (its duration is shown). Two views with the same key draw the
        history pages alike; settled days and the versions listed do not move without a
        new version or a new day."""
        live = [
            (b.day, b.shown, b.partial, b.page, b.label) for b in self.bars if b.day in self.live
        ]
        drawn = [
            [(u.label, u.text, u.covered_fully) for u in self.uptime],
            self.collectors,
            live,
            [repr(i) for i in (*self.incidents, *self.extra, *self.scheduled)],
            [w.key for w in self.windows],
            self.now.date().isoformat(),
            self.now.isoformat() if self.ongoing else "",
            self.linkable,
        ]
        return hashlib.blake2b(repr(drawn).encode(), digest_size=12).hexdigest()

    def page_key(self) -> str:
        """What a latest page shows of this view, hashed: :meth:`drawn_key`, the settled
        days' bars (:attr:`settled`), the incidents a bar may link (those begun in the
        bars' months, as :meth:`touched` reads them) and where the view links
        (``kept_from``). Two views with the same key draw a latest page's status alike: a
        check whose page would be drawn the same is retimed instead
        (:mod:`dashsite.site.retime`)."""
        months = touching_months(self.bars[0].day, self.bars[-1].day) if self.bars else ()
        begun = [repr(self.source.begun(m)) for m in months] if self.source is not None else []
        drawn = [self.drawn_key(), self.settled, begun, repr(self.ongoing), str(self.kept_from)]
        return hashlib.blake2b(repr(drawn).encode(), digest_size=12).hexdigest()

    def month_days(self, month: str) -> dict[str, DaySummary]:
        """The day summaries of one month (settled and live), the declared windows counted
        in the settled ones as in the live ones and the 90-day bars."""
        days = dict(self.source.status(month).days) if self.source is not None else {}
        touching = self._windows_in(month)
        if touching and days and self.source is not None:
            days = {d: found.copy() for d, found in days.items()}
            end = day_start(f"{next_month(month)}-01")
            self.source.declared(days, touching, min(end, self.now))
        days.update((d, found) for d, found in self.live.items() if d.startswith(month))
        return dict(sorted(days.items()))

    def month_worst(self, month: str, collected: StatusLevel | None) -> StatusLevel | None:
        """The worst level of a month: its versions' (``collected``), raised by an outage
        declared in it."""
        declared = [w.level for w in self._windows_in(month) if w.level is not None]
        return max([*([collected] if collected is not None else []), *declared], default=None)

    def _windows_in(self, month: str) -> list[Window]:
        """The declared windows that touch ``month``."""
        start, end = day_start(f"{month}-01"), day_start(f"{next_month(month)}-01")
        return [w for w in self.windows if w.start < end and (w.end is None or w.end > start)]

    def month_bars(self, month: str) -> tuple[DayBar, ...]:
        """The bars of one month's days."""
        days = self.month_days(month)
        pages = first_pages(days)
        return tuple(
            DayBar(
                day,
                found.state,
                found.count,
                uptime_ratio(found),
                pages[day] if found.count else "",
                dict(found.seconds),
            )
            for day, found in days.items()
        )

    def month_incidents(self, month: str) -> tuple[Incident, ...]:
        """The incidents that began in ``month``, oldest first (the one going on too)."""
        found = list(self.source.begun(month)) if self.source is not None else []
        found += [
            i for i in (*self.extra, *self.ongoing) if i.start.date().isoformat()[:7] == month
        ]
        return tuple(sorted(unique_incidents(found), key=lambda i: i.start))

    def incident_link(self, incident: Incident, page: str = "") -> str:
        """Where ``incident`` is read, site-relative: a declared one's page, or the row of a
        detected one's first version in the history.

        The page is the one its first version's place in the month falls on; when that
        is not known (an incident read from an older file) or rows move (``retention``),
        ``page``, the history page listing the first version of its first day, if known.
        """
        if incident.url:
            return incident.url
        if self.kept_from is not None and incident.start < self.kept_from:
            return layout.history_page(incident.slug)  # its first version was pruned
        day = incident.start.date().isoformat()
        if incident.row is not None and self.linkable:
            name = page_after(day[:7], incident.row)
        else:
            name = page or self.history_page(day)
        return f"{layout.history_page(incident.slug, name)}#v-{incident.start_id}"

    def touched(self, bars: Sequence[DayBar]) -> dict[str, tuple[DayIncident, ...]]:
        """Day of ``bars`` → the incidents that touched it, oldest first: declared and
        detected, a declared one absorbing the detected ones it covers.

        Read from the incidents the view holds and those begun in the bars' months and
        the month before them (the status files a build reads for the history anyway).
        """
        if not bars:
            return {}
        first, last = bars[0].day, bars[-1].day
        months = touching_months(first, last)
        found = [*self.incidents, *self.extra]
        for month in months:
            found += self.month_incidents(month)
        pages = {bar.day: bar.page for bar in bars if bar.page}
        days: dict[str, list[DayIncident]] = {}
        for incident in sorted(absorb(unique_incidents(found)), key=lambda i: i.start):
            # resolved at midnight: the day it was resolved on is not touched
            end = incident.end - timedelta(microseconds=1) if incident.end else self.now
            day = max(incident.start.date(), date.fromisoformat(first))
            stop = min(max(end, incident.start).date(), date.fromisoformat(last))
            page = pages.get(incident.start.date().isoformat(), "")
            linked = DayIncident(incident, self.incident_link(incident, page))
            while day <= stop:
                days.setdefault(day.isoformat(), []).append(linked)
                day += timedelta(days=1)
        return {day: tuple(found) for day, found in days.items()}

    def part_key(self, month: str) -> str | None:
        """Everything a finished month's calendar (its bars, the incidents each day links,
        its count of incidents) is drawn from, as text: two builds that give a month the
        same key draw it alike, so a build may keep the drawing (:mod:`dashsite.store.parts`).

        What this build reads of the months :meth:`touched` reads (each one's seal and
        its files, :meth:`Timeline.month_state`), the view's incidents that overlap
        them, and the bars before the month (an incident begun earlier links its first
        day's page through them). None while the month can still change: not over
        yet, a day of it not settled, or no status files to read.
        """
        start = f"{month}-01"
        end = f"{next_month(month)}-01"
        if self.source is None or end > self.now.date().isoformat():
            return None
        if any(day.startswith(month) for day in self.live):
            return None
        last = (date.fromisoformat(end) - timedelta(days=1)).isoformat()
        months = touching_months(start, last)
        since = day_start(f"{months[0]}-01")
        until = day_start(end)
        overlapping = sorted(
            (
                i
                for i in unique_incidents([*self.incidents, *self.extra])
                if i.start < until and (i.end is None or i.end > since)
            ),
            key=lambda i: i.feed_key,
        )
        before = [(bar.day, bar.page) for bar in self.bars if bar.day < start]
        parts = [
            month,
            str(self.linkable),
            str(self.kept_from),
            "\n".join(f"{m}={self.source.state(m)}" for m in months),
            repr(overlapping),
            repr(before),
        ]
        return "\n".join(parts)

    @property
    def recent(self) -> tuple[Incident, ...]:
        """The few incidents a dashboard page shows (a declared one absorbs those it covers)."""
        return absorb(self.incidents)[:RECENT_INCIDENTS]

    def history_page(self, day: str) -> str:
        """The history page listing ``day``'s first version (``2026-11-2.html``).

        Known for the days of the bars; an older day names its month's first page.
        """
        found = next((bar.page for bar in self.bars if bar.day == day and bar.page), None)
        return found or f"{day[:7]}.html"

    @property
    def bars_summary(self) -> str:
        """The bars in one sentence: ``86 days ok, 1 degraded, 3 no data``.

        What a card on the index says for its bars, which it draws as one
        image (90 labelled days per dashboard would make the index long to
        read aloud, and heavy: it is rewritten by every build).
        """
        counts = Counter(bar.shown for bar in self.bars)  # (a State is equal to its text)
        parts = [f"{counts[state]} {word}" for state, word in STATE_WORDS.items() if counts[state]]
        if not parts:
            return "no days"
        first, *rest = parts
        count, _, word = first.partition(" ")
        return ", ".join([f"{count} day{'' if count == '1' else 's'} {word}", *rest])

    def window(self, label: str) -> Uptime | None:
        """The uptime of one window (``"30 d"``), if the view has it."""
        return next((u for u in self.uptime if u.label == label), None)


def month_page(month: str, page: int) -> str:
    """``2026-11.html``, ``2026-11-2.html``…: a month's history pages, oldest first."""
    return f"{month}.html" if page == 1 else f"{month}-{page}.html"


def page_after(month: str, before: int) -> str:
    """The history page that lists a month's version with ``before`` earlier ones."""
    return month_page(month, before // HISTORY_PAGE + 1)


def first_pages(
    days: dict[str, DaySummary], counted: Mapping[str, int] | None = None
) -> dict[str, str]:
    """Day → the history page of its first version (``counted``: versions of each month
    before the first of these days)."""
    pages: dict[str, str] = {}
    position = dict(counted or {})
    for day in sorted(days):
        month = day[:7]
        before = position.get(month, 0)
        pages[day] = page_after(month, before)
        position[month] = before + days[day].count
    return pages


def uptime_ratio(found: DaySummary) -> float | None:
    return 1 - found.seconds[State.DOWN] / found.covered if found.covered > 0 else None


@dataclass(frozen=True, slots=True)
class Planned:
    """The maintenance declared ahead on a set of dashboards: each once, soonest first."""

    incidents: tuple[Incident, ...]
    dashboards: dict[str, list[tuple[str, str]]]
    """Incident key → (slug, title) of the dashboards it names; empty when it names all
    of several."""

    @classmethod
    def across(cls, views: Iterable[tuple[str, str, StatusView | None]]) -> Planned:
        """From each dashboard's ``(slug, title, view)``."""
        found: dict[str, Incident] = {}
        names: dict[str, list[tuple[str, str]]] = {}
        count = 0
        for slug, title, view in views:
            count += 1
            for incident in view.scheduled if view is not None else ():
                found.setdefault(incident.key, incident)
                names.setdefault(incident.key, []).append((slug, title))
        return cls(
            tuple(sorted(found.values(), key=lambda incident: incident.start)),
            {key: [] if len(every) == count > 1 else every for key, every in names.items()},
        )
