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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from dashsite.core.levels import StatusLevel
from dashsite.store.log import LogRecord, checked_count, checked_text, finite_number
from dashsite.store.records import Incident, Mark, day_start, parse_time

DAY = 86_400.0


class State(StrEnum):
    """What a stretch of time counts as."""

    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    MAINTENANCE = "maintenance"
    NODATA = "nodata"


_BY_TEXT = {state.value: state for state in State}


def state_named(name: object) -> State:
    """The state called ``name`` (``"up"``), as ``State(name)`` but a dict lookup: the
    summaries read back name one per day and hour; ValueError if none is called so."""
    found = _BY_TEXT.get(name) if isinstance(name, str) else None
    if found is None:
        raise ValueError(f"{name!r} is not a state")
    return found


def state_of(level: StatusLevel) -> State:
    """``ok`` → up, ``warning`` → degraded, ``error``/``critical`` → down."""
    if level == StatusLevel.OK:
        return State.UP
    return State.DEGRADED if level == StatusLevel.WARNING else State.DOWN


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

    def copy(self) -> DaySummary:
        """A copy to add to or move time in; the marks are immutable and shared.

        (``copy.deepcopy`` of a year of days with their hours took a quarter of a
        second a dashboard, once a day.)
        """
        return DaySummary(
            self.day,
            self.count,
            self.worst,
            dict(self.seconds),
            {name: list(pair) for name, pair in self.collectors.items()},
            self.last,
            {hour: part.copy() for hour, part in self.hours.items()},
        )

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
            summary.seconds[state_named(name)] = number
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


def in_order(current: Mark, before: Mark | None) -> Mark:
    """``current``, or, dated before the mark in force (a clock set back), that version as
    if collected at the mark's time: no time can be placed twice, but its status, its count
    and what it failed still show on that day, and its status holds from there (dropping
    it hid an outage the clock dated into time already counted)."""
    if before is not None and current.at < before.at:
        return replace(current, at=before.at)
    return current


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
        current = in_order(Mark.of(record), mark)
        if mark is not None:
            spread(mark, current.at)
        if start <= current.at < end:
            target = summary(current.at.date().isoformat())
            target.count += 0 if record.is_check else 1  # (a check is not a version)
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


def follow(
    slug: str, open_incident: Incident | None, record: LogRecord, row: int | None = None
) -> tuple[Incident | None, bool]:
    """The open incident after ``record``; True when this record resolved it.

    A non-OK record opens an incident or extends the open one; an OK record
    resolves it (the incident ends when the source was seen OK again). ``row``:
    the record's place among its month's versions (an incident it opens keeps it).
    """
    if record.status == StatusLevel.OK:
        if open_incident is None:
            return None, False
        open_incident.end = parse_time(record.collected_at)
        open_incident.end_id = record.id
        return open_incident, True
    if open_incident is None:
        at = parse_time(record.collected_at)
        opened = Incident(
            slug, at, record.id, record.status, at, failed=dict(record.errors), row=row
        )
        return opened, False
    open_incident.extend(record)
    return open_incident, False


def unique_incidents(incidents: Iterable[Incident]) -> list[Incident]:
    """Each incident once, by its identity (dashboard and the version that opened it);
    of copies, the first one given is kept (put the one that knows the most first)."""
    found: dict[str, Incident] = {}
    for incident in incidents:
        found.setdefault(incident.feed_key, incident)
    return list(found.values())


# -- declared incidents over detected ones ----------------------------------------------------

SLACK = timedelta(minutes=15)
"""How far outside a declared window a detected incident may start or end and still be covered
(builds run on a schedule: the first failed version can land a little after the window opened)."""


def covered(detected: Incident, declared: Incident) -> bool:
    """Whether ``declared`` explains ``detected``: same dashboard, inside its window."""
    if detected.declared or not declared.declared:
        return False
    if detected.slug and declared.slug and detected.slug != declared.slug:
        return False
    if detected.start < declared.start - (timedelta(0) if declared.maintenance else SLACK):
        return False  # (planned work starts when planned: an outage before it is not its own)
    if declared.end is None:
        return True
    if detected.start > declared.end:  # began after the window closed: something else
        return False
    return detected.end is not None and detected.end <= declared.end + SLACK


def absorb(incidents: Sequence[Incident]) -> tuple[Incident, ...]:
    """``incidents`` without the detected ones a declared one among them covers (order kept)."""
    declared = [i for i in incidents if i.declared]
    return tuple(i for i in incidents if not any(covered(i, d) for d in declared))
