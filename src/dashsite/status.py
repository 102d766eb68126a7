"""Status over time: states, day summaries, uptime and incidents, computed from log records.

Plain computations on :class:`~dashsite.log.LogRecord` streams; where the
results are kept and how little of the log a build reads is
:mod:`dashsite.timeline`'s business.

The formula (the README's "Uptime" section says the same):

- A version's status holds from its ``collected_at`` until the next version,
  for at most ``hold`` seconds (twice ``expected_every``); time past that is
  *no data*, as is time before a dashboard's first version (not counted).
- ``ok`` is up, ``warning`` is degraded, ``error`` and ``critical`` are down;
  time inside a maintenance window is *maintenance* instead of degraded or down.
- Uptime = (up + degraded) / (up + degraded + down): no data and maintenance
  count neither way. A collector is down while it is among a version's
  errors, up while it ran without one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from .levels import StatusLevel
from .log import LogRecord, checked_count, checked_text, finite_number
from .versions import is_version_id

DAY = 86_400.0


class State(StrEnum):
    """What a stretch of time counts as."""

    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    MAINTENANCE = "maintenance"
    NODATA = "nodata"


def state_of(level: StatusLevel) -> State:
    """``ok`` → up, ``warning`` → degraded, ``error``/``critical`` → down."""
    if level == StatusLevel.OK:
        return State.UP
    return State.DEGRADED if level == StatusLevel.WARNING else State.DOWN


def parse_time(text: str) -> datetime:
    """An ISO time read back from the log or a summary (always UTC there)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def day_start(day: str) -> datetime:
    """``2026-11-27`` → midnight UTC of that day."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)


@dataclass(frozen=True, slots=True)
class Mark:
    """The status a version set, and from when: what carries into the time after it."""

    at: datetime
    status: StatusLevel
    failed: frozenset[str] = frozenset()
    ran: frozenset[str] = frozenset()

    @classmethod
    def of(cls, record: LogRecord) -> Mark:
        """The mark of a log record (collectors that ran: timed or failed)."""
        return cls(
            parse_time(record.collected_at),
            record.status,
            frozenset(record.errors),
            frozenset(record.durations) | frozenset(record.errors),
        )

    def to_json(self) -> dict[str, Any]:
        """The summary file's form."""
        return {
            "at": self.at.isoformat(),
            "status": self.status.slug,
            "failed": sorted(self.failed),
            "ran": sorted(self.ran),
        }

    @classmethod
    def from_json(cls, raw: Any) -> Mark:
        """Read back; ``ValueError`` if anything is off."""
        if not isinstance(raw, dict) or not isinstance(raw.get("status"), str):
            raise ValueError("a mark must be an object with a status")
        names = []
        for key in ("failed", "ran"):
            value = raw.get(key, [])
            if not isinstance(value, list) or len(value) > 1000:
                raise ValueError(f"mark {key} is not a list of names")
            names.append(frozenset(checked_text(v, "a collector name", 200) for v in value))
        return cls(
            parse_time(checked_text(raw.get("at"), "a time", 64)),
            StatusLevel.parse(raw["status"]),
            names[0],
            names[1],
        )


STATES = tuple(State)
"""In order; iterating the enum itself is slow where it runs for every day read."""


def _seconds() -> dict[State, float]:
    return dict.fromkeys(STATES, 0.0)


@dataclass(slots=True)
class DaySummary:
    """One UTC day of one dashboard: versions, worst status, time by state, collectors."""

    day: str
    count: int = 0
    worst: StatusLevel | None = None
    seconds: dict[State, float] = field(default_factory=_seconds)
    collectors: dict[str, list[float]] = field(default_factory=dict)
    """Collector name → ``[seconds covered, seconds down]``."""
    last: Mark | None = None
    """The newest mark at or before the day's end (carries into the next day)."""
    hours: dict[int, DaySummary] = field(default_factory=dict)
    """The same by UTC hour, when asked for (:func:`tally` with ``hours``)."""

    @property
    def covered(self) -> float:
        """Seconds that count for uptime (up, degraded, down)."""
        s = self.seconds
        return s[State.UP] + s[State.DEGRADED] + s[State.DOWN]

    @property
    def state(self) -> State:
        """The day's bar: its worst version, or what carried into it, or no data."""
        if self.worst is not None:
            return state_of(self.worst)
        if self.seconds[State.DOWN] > 0:
            return State.DOWN
        if self.seconds[State.DEGRADED] > 0:
            return State.DEGRADED
        if self.seconds[State.UP] > 0:
            return State.UP
        if self.seconds[State.MAINTENANCE] > 0:
            return State.MAINTENANCE
        return State.NODATA

    def to_json(self) -> dict[str, Any]:
        """The summary file's form (seconds rounded to the millisecond)."""
        raw: dict[str, Any] = {
            "count": self.count,
            "worst": self.worst.slug if self.worst is not None else None,
            "seconds": {s.value: round(v, 3) for s, v in self.seconds.items() if v},
        }
        if self.collectors:
            raw["collectors"] = {
                k: [round(v[0], 3), round(v[1], 3)] for k, v in sorted(self.collectors.items())
            }
        if self.last is not None:
            raw["last"] = self.last.to_json()
        if self.hours:
            raw["hours"] = {f"{h:02d}": found.to_json() for h, found in sorted(self.hours.items())}
        return raw

    @classmethod
    def from_json(cls, day: str, raw: Any, limit: float = DAY + 1) -> DaySummary:
        """Read back; ``ValueError`` if anything is off (``limit``: seconds it may hold)."""
        if not isinstance(raw, dict):
            raise ValueError(f"day {day} is not an object")
        summary = cls(day, checked_count(raw.get("count"), f"day {day} count"))
        worst = raw.get("worst")
        if worst is not None:
            summary.worst = StatusLevel.parse(checked_text(worst, "a level", 20))
        seconds = raw.get("seconds", {})
        if not isinstance(seconds, dict):
            raise ValueError(f"day {day}: seconds is not an object")
        for name, value in seconds.items():
            number = finite_number(value)
            if number is None or not 0 <= number <= limit:
                raise ValueError(f"day {day}: {name} is not a number of seconds")
            summary.seconds[State(name)] = number
        collectors = raw.get("collectors", {})
        if not isinstance(collectors, dict):
            raise ValueError(f"day {day}: collectors is not an object")
        for name, pair in collectors.items():
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ValueError(f"day {day}: collector {name[:40]!r} is not [covered, down]")
            numbers = [finite_number(v) for v in pair]
            if any(n is None or n < 0 for n in numbers):
                raise ValueError(f"day {day}: collector {name[:40]!r} is not [covered, down]")
            summary.collectors[checked_text(name, "a collector name", 200)] = [
                float(n or 0) for n in numbers
            ]
        if raw.get("last") is not None:
            summary.last = Mark.from_json(raw["last"])
        hours = raw.get("hours", {})
        if not isinstance(hours, dict) or len(hours) > 24:
            raise ValueError(f"day {day}: hours is not an object of up to 24 hours")
        for hour, value in hours.items():
            if not (isinstance(hour, str) and hour.isdigit() and 0 <= int(hour) < 24):
                raise ValueError(f"day {day}: {str(hour)[:8]!r} is not an hour")
            summary.hours[int(hour)] = DaySummary.from_json(f"{day}T{hour}", value)
        return summary


def _days_between(start: datetime, end: datetime) -> Iterable[tuple[str, datetime, datetime]]:
    """The UTC days ``[start, end)`` spans, each with its part of the span."""
    moment = start
    while moment < end:
        midnight = datetime.combine(moment.date() + timedelta(days=1), datetime.min.time(), UTC)
        stop = min(midnight, end)
        yield moment.date().isoformat(), moment, stop
        moment = stop


HOUR = timedelta(hours=1)


def _add(target: DaySummary, mark: Mark, state: State, seconds: float) -> None:
    target.seconds[state] += seconds
    if state != State.NODATA:
        for name in mark.ran:
            pair = target.collectors.setdefault(name, [0.0, 0.0])
            pair[0] += seconds
            if name in mark.failed:
                pair[1] += seconds


def tally(
    records: Iterable[LogRecord],
    carry: Mark | None,
    start: datetime,
    end: datetime,
    hold: float,
    *,
    hours: bool = False,
) -> dict[str, DaySummary]:
    """Day summaries of ``[start, end)`` from the records in it and the mark before it.

    ``records`` must be oldest first; those outside the span only move the
    marks. Every day from the first covered moment to ``end`` gets a summary
    (with ``hours``, each also by UTC hour).
    """
    days: dict[str, DaySummary] = {}

    def summary(day: str) -> DaySummary:
        found = days.get(day)
        if found is None:
            found = days[day] = DaySummary(day)
        return found

    def spread(mark: Mark, until: datetime) -> None:
        held_until = mark.at + timedelta(seconds=hold)
        for state, lo, hi in (
            (state_of(mark.status), mark.at, min(until, held_until)),
            (State.NODATA, max(mark.at, held_until), until),
        ):
            lo, hi = max(lo, start), min(hi, end)
            for day, a, b in _days_between(lo, hi) if lo < hi else ():
                target = summary(day)
                _add(target, mark, state, (b - a).total_seconds())
                while hours and a < b:
                    stop = min(b, a.replace(minute=0, second=0, microsecond=0) + HOUR)
                    hour = target.hours.get(a.hour)
                    if hour is None:
                        hour = target.hours[a.hour] = DaySummary(f"{day}T{a.hour:02d}")
                    _add(hour, mark, state, (stop - a).total_seconds())
                    a = stop

    mark = carry
    marks: list[Mark] = []
    for record in records:
        current = Mark.of(record)
        if mark is not None and current.at < mark.at:
            continue  # out of order (a clock step back): its time counts for the earlier one
        if mark is not None:
            spread(mark, current.at)
        if start <= current.at < end:
            target = summary(current.at.date().isoformat())
            target.count += 1
            target.worst = (
                record.status if target.worst is None else max(target.worst, record.status)
            )
        mark = current
        marks.append(current)
    if mark is not None:
        spread(mark, end)
    # The mark in force at each day's end: what carries into the next day (and build).
    index, running = 0, carry
    for day in sorted(days):
        day_end = day_start(day) + timedelta(days=1)
        while index < len(marks) and marks[index].at < day_end:
            running = marks[index]
            index += 1
        days[day].last = running
    return dict(sorted(days.items()))


# -- uptime -------------------------------------------------------------------------------------

WINDOWS: tuple[tuple[str, int], ...] = (  # "24 h": from the start of the hour 24 hours ago
    ("24 h", 0),
    ("7 d", 7),
    ("30 d", 30),
    ("90 d", 90),
    ("1 y", 365),
)
"""Label → days (0: by the hour, the last 24; N: today and the N-1 UTC days before)."""


@dataclass(frozen=True, slots=True)
class Uptime:
    """Time by state over a window, and the ratios shown for it."""

    label: str
    seconds: Mapping[State, float]
    covered_fully: bool = True
    """False when the history starts inside the window."""

    @property
    def counted(self) -> float:
        """Seconds that count: up, degraded and down."""
        s = self.seconds
        return s.get(State.UP, 0.0) + s.get(State.DEGRADED, 0.0) + s.get(State.DOWN, 0.0)

    @property
    def ratio(self) -> float | None:
        """(up + degraded) / counted, or None when nothing counts."""
        if self.counted <= 0:
            return None
        return 1 - self.seconds.get(State.DOWN, 0.0) / self.counted

    @property
    def degraded(self) -> float:
        """The share of counted time spent degraded."""
        return self.seconds.get(State.DEGRADED, 0.0) / self.counted if self.counted > 0 else 0.0

    @property
    def text(self) -> str:
        """``99.95 %``, never rounded up to 100 % while there was downtime; ``no data``."""
        return uptime_text(self.ratio)


def uptime_text(ratio: float | None) -> str:
    """A ratio as a percentage with two decimals, floored (``99.999…`` → ``99.99 %``)."""
    if ratio is None:
        return "no data"
    if ratio >= 1:
        return "100 %"
    return f"{math.floor(ratio * 10_000) / 100:.2f} %"


def add_seconds(days: Iterable[DaySummary]) -> dict[State, float]:
    """The seconds of several days, by state."""
    total = _seconds()
    for found in days:
        for state, value in found.seconds.items():
            total[state] += value
    return total


def collector_sums(days: Iterable[DaySummary]) -> dict[str, list[float]]:
    """Collector name → ``[seconds covered, seconds down]`` over several days."""
    sums: dict[str, list[float]] = {}
    for found in days:
        for name, (seen, down) in found.collectors.items():
            pair = sums.setdefault(name, [0.0, 0.0])
            pair[0] += seen
            pair[1] += down
    return sums


def collector_uptime(days: Iterable[DaySummary]) -> dict[str, float | None]:
    """Collector name → share of its covered time it was up."""
    return {
        name: (1 - down / seen if seen > 0 else None)
        for name, (seen, down) in sorted(collector_sums(days).items())
    }


# -- incidents ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Incident:
    """A run of non-OK versions (detected), or one written in ``incidents/`` (declared)."""

    slug: str
    start: datetime
    start_id: str
    worst: StatusLevel
    last_at: datetime
    """The newest non-OK version's time."""
    end: datetime | None = None
    """When a version was OK again (None: ongoing)."""
    end_id: str | None = None
    count: int = 1
    failed: dict[str, str] = field(default_factory=dict)
    """Collector → its last error while the incident lasted."""
    title: str = ""
    """Declared incidents (``incidents/``) only, like the rest below."""
    key: str = ""
    """A declared incident's file name: its feed id."""
    summary: str = ""
    url: str = ""
    """A declared incident's page, site-relative."""
    maintenance: bool = False
    worsened_at: datetime | None = None
    """When its worst level last rose (feeds show it again then)."""

    @property
    def updated(self) -> datetime:
        """The last change a reader should hear of: opened, worsened, resolved."""
        return self.end or self.worsened_at or self.start

    @property
    def declared(self) -> bool:
        """Written by a person in ``incidents/``, not detected."""
        return bool(self.key)

    @property
    def feed_key(self) -> str:
        """What the feed entry's id is made from: it never changes."""
        return f"declared:{self.key}" if self.key else f"{self.slug}:{self.start_id}"

    @property
    def ongoing(self) -> bool:
        """Not resolved yet."""
        return self.end is None

    def duration(self, now: datetime) -> float:
        """Seconds from start to end (or to ``now`` while ongoing)."""
        return ((self.end or now) - self.start).total_seconds()

    def extend(self, record: LogRecord) -> None:
        """One more non-OK version in the run."""
        self.count += 1
        self.last_at = parse_time(record.collected_at)
        if record.status > self.worst:
            self.worst = record.status
            self.worsened_at = self.last_at
        self.failed.update(record.errors)

    def to_json(self) -> dict[str, Any]:
        """The summary file's (and manifest's) form."""
        return {
            "slug": self.slug,
            "start": self.start.isoformat(),
            "start_id": self.start_id,
            "end": self.end.isoformat() if self.end else None,
            "end_id": self.end_id,
            "last_at": self.last_at.isoformat(),
            "worst": self.worst.slug,
            "count": self.count,
            "failed": dict(sorted(self.failed.items())),
            "worsened_at": self.worsened_at.isoformat() if self.worsened_at else None,
        }

    @classmethod
    def from_json(cls, raw: Any, slug: str) -> Incident:
        """Read back; ``ValueError`` if anything is off."""
        if not isinstance(raw, dict) or raw.get("slug") != slug:
            raise ValueError("an incident must be an object of its dashboard")
        ids = [raw.get("start_id"), raw.get("end_id")]
        if not isinstance(ids[0], str) or not is_version_id(ids[0]):
            raise ValueError("an incident's start_id is not a version id")
        if ids[1] is not None and not (isinstance(ids[1], str) and is_version_id(ids[1])):
            raise ValueError("an incident's end_id is not a version id")
        failed = raw.get("failed", {})
        if not isinstance(failed, dict) or len(failed) > 1000:
            raise ValueError("an incident's failed collectors are not an object")
        end, worsened = raw.get("end"), raw.get("worsened_at")
        incident = cls(
            slug,
            parse_time(checked_text(raw.get("start"), "a time", 64)),
            ids[0],
            StatusLevel.parse(checked_text(raw.get("worst"), "a level", 20)),
            parse_time(checked_text(raw.get("last_at"), "a time", 64)),
            None if end is None else parse_time(checked_text(end, "a time", 64)),
            ids[1],
            checked_count(raw.get("count"), "an incident's count"),
            {
                checked_text(k, "a collector name", 200): checked_text(v, "an error")
                for k, v in failed.items()
            },
        )
        if worsened is not None:
            incident.worsened_at = parse_time(checked_text(worsened, "a time", 64))
        return incident


def follow(
    slug: str, open_incident: Incident | None, record: LogRecord
) -> tuple[Incident | None, bool]:
    """The open incident after ``record``; True when this record resolved it.

    A non-OK record opens an incident or extends the open one; an OK record
    resolves it (the incident ends when the source was seen OK again).
    """
    if record.status == StatusLevel.OK:
        if open_incident is None:
            return None, False
        open_incident.end = parse_time(record.collected_at)
        open_incident.end_id = record.id
        return open_incident, True
    if open_incident is None:
        at = parse_time(record.collected_at)
        return Incident(slug, at, record.id, record.status, at, failed=dict(record.errors)), False
    open_incident.extend(record)
    return open_incident, False
