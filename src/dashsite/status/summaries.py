"""The status cache files: a month's ``status.json`` and a dashboard's ``digest.json``.

Both are computed from the history log by :class:`.timeline.Timeline` and
sealed to the log shards they cover (:mod:`dashsite.store.caches`); this
module is their format: what each holds, written and read back as strictly
as local input (``ValueError`` if anything is off).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dashsite.core.levels import StatusLevel
from dashsite.status.model import DAY, STATES, DaySummary, unique_incidents
from dashsite.store import layout
from dashsite.store.caches import FINGERPRINT
from dashsite.store.log import checked_count, checked_text
from dashsite.store.records import Incident

STATUS_SCHEMA = 1


DIGEST_INCIDENTS = 20
"""The newest resolved incidents a digest keeps: what a feed shows."""


_PAGE = re.compile(r"[0-9]{4}-[0-9]{2}(-[0-9]{1,4})?\.html")


_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def digest_path(slug: str) -> str:
    """``<slug>/log/digest.json``: the settled part of the view, once a day."""
    return layout.digest(slug)


YEAR_DAYS = 365


@dataclass(slots=True)
class MonthStatus:
    """One ``status.json``: settled days (by ``YYYY-MM-DD``) and resolved incidents."""

    days: dict[str, DaySummary] = field(default_factory=dict)
    incidents: list[Incident] = field(default_factory=list)
    through: str | None = None
    """The last day settled in it: its seal covers the shards up to that day."""
    seal: str = field(default="", compare=False)
    """The fingerprint its file had when read, or was written with (not in the file's
    document: the seal is added around it)."""

    def to_json(self) -> dict[str, Any]:
        """The file's document."""
        return {
            "schema": STATUS_SCHEMA,
            "through": self.through,
            "days": {day[8:]: found.to_json() for day, found in sorted(self.days.items())},
            "incidents": [i.to_json() for i in sorted(self.incidents, key=lambda i: i.start)],
        }

    @classmethod
    def from_json(cls, raw: Any, slug: str, month: str, *, days: bool = True) -> MonthStatus:
        """Read back; ``ValueError`` if anything is off. Without ``days``, only the
        incidents and ``through`` (what a day's incidents need, :meth:`Timeline.begun`)."""
        if not isinstance(raw, dict) or raw.get("schema") != STATUS_SCHEMA:
            raise ValueError("not a status file of this dashsite")
        summaries, incidents = raw.get("days"), raw.get("incidents", [])
        if not isinstance(summaries, dict) or not isinstance(incidents, list):
            raise ValueError("days must be an object, incidents a list")
        found = cls()
        through = raw.get("through")
        if through is not None:
            found.through = date.fromisoformat(checked_text(through, "a day", 10)).isoformat()
        for dd, value in summaries.items() if days else ():
            day = f"{month}-{dd}"
            date.fromisoformat(day)  # ValueError if not a day of the month
            found.days[day] = DaySummary.from_json(day, value)
        found.incidents = unique_incidents(
            Incident.from_json(raw_incident, slug) for raw_incident in incidents
        )
        seal = raw.get(FINGERPRINT)
        found.seal = seal if isinstance(seal, str) else ""
        return found


@dataclass(slots=True)
class Digest:
    """The settled part of a dashboard's view, computed once a day (``log/digest.json``).

    Valid for one ``key`` (today, the last settled day, the maintenance
    windows): then a build reads this one file instead of a year of status
    files.
    """

    key: str
    first: str | None = None
    """The first day with counted time in the last year."""
    windows: dict[int, DaySummary] = field(default_factory=dict)
    """Days of a window (7, 30, 90, 365) → the sum of its settled days."""
    bars: dict[str, DaySummary] = field(default_factory=dict)
    """The settled days of the 90-day bars (seconds, count, worst)."""
    pages: dict[str, str] = field(default_factory=dict)
    month_counts: dict[str, int] = field(default_factory=dict)
    """Versions of each month in its settled days (history pages of the live days)."""
    last_day: DaySummary | None = None
    """The last settled day, by hour (the 24-hour window starts in it)."""
    incidents: list[Incident] = field(default_factory=list)
    """Resolved in the last year, newest first (at most :data:`DIGEST_INCIDENTS`)."""
    begun: dict[str, list[Incident]] = field(default_factory=dict)
    """Each month the bars' incidents are read from (:func:`bar_months`) → the incidents
    its status file holds (:meth:`Timeline.begun`): one file to read every build, not
    four or five. The digest is sealed to those files too."""
    token: str = field(default="", compare=False)
    """Its content, hashed (not in the file): what a view drawn from it shows of the settled
    days is the same for the same token (:meth:`StatusView.page_key`)."""

    def to_json(self) -> dict[str, Any]:
        """The file's document."""
        return {
            "schema": STATUS_SCHEMA,
            "key": self.key,
            "first": self.first,
            "windows": {str(n): found.to_json() for n, found in self.windows.items()},
            "bars": {
                day: [found.count, found.worst.slug if found.worst is not None else None]
                + [round(found.seconds[state], 3) for state in STATES]
                for day, found in self.bars.items()
            },
            "pages": self.pages,
            "month_counts": self.month_counts,
            "last_day": self.last_day.to_json() if self.last_day else None,
            "last_day_date": self.last_day.day if self.last_day else None,
            "incidents": [i.to_json() for i in self.incidents],
            "begun": {m: [i.to_json() for i in found] for m, found in self.begun.items()},
        }

    @classmethod
    def from_json(cls, raw: Any, slug: str) -> Digest:
        """Read back; ``ValueError`` if anything is off."""
        if not isinstance(raw, dict) or raw.get("schema") != STATUS_SCHEMA:
            raise ValueError("not a digest of this dashsite")
        windows, bars, pages, counts, begun = (
            raw.get(k) for k in ("windows", "bars", "pages", "month_counts", "begun")
        )
        if not (
            isinstance(windows, dict)
            and isinstance(bars, dict)
            and isinstance(pages, dict)
            and isinstance(counts, dict)
            and isinstance(begun, dict)
            and isinstance(raw.get("incidents"), list)
        ):
            raise ValueError("a digest's parts are missing")
        found = cls(checked_text(raw.get("key"), "a key", 2000))
        if raw.get("first") is not None:
            found.first = date.fromisoformat(checked_text(raw["first"], "a day", 10)).isoformat()
        found.windows = {
            int(n): DaySummary.from_json(f"window {n}", v, limit=DAY * (YEAR_DAYS + 1))
            for n, v in windows.items()
        }
        for day, value in bars.items():
            found.bars[date.fromisoformat(day).isoformat()] = _bar_from_json(day, value)
        for day, page in pages.items():
            if not (isinstance(page, str) and _PAGE.fullmatch(page) and day in found.bars):
                raise ValueError(f"day {str(day)[:12]!r} has no history page name")
            found.pages[day] = page
        found.month_counts = {
            checked_text(m, "a month", 7): checked_count(n, "a count") for m, n in counts.items()
        }
        if raw.get("last_day") is not None:
            day = date.fromisoformat(checked_text(raw.get("last_day_date"), "a day", 10))
            found.last_day = DaySummary.from_json(day.isoformat(), raw["last_day"])
        found.incidents = unique_incidents(Incident.from_json(i, slug) for i in raw["incidents"])
        for month, listed in begun.items():
            if not (_MONTH.fullmatch(month) and isinstance(listed, list)):
                raise ValueError(f"{str(month)[:12]!r} is not a month of incidents")
            found.begun[month] = [Incident.from_json(i, slug) for i in listed]
        return found


def _bar_from_json(day: str, raw: Any) -> DaySummary:
    """A bar's day as a digest keeps it: ``[count, worst, seconds by state…]``."""
    if not isinstance(raw, list) or len(raw) != 2 + len(STATES):
        raise ValueError(f"bar {day[:12]!r} is not [count, worst, seconds…]")
    count, worst, *seconds = raw
    found = DaySummary(day, checked_count(count, "a count"))
    if worst is not None:
        found.worst = StatusLevel.parse(checked_text(worst, "a level", 20))
    for state, value in zip(STATES, seconds, strict=True):  # ninety a build: no isinstance
        kind = type(value)
        if not ((kind is float or kind is int) and 0 <= value <= DAY):
            raise ValueError(f"bar {day}: {state.value} is not a number of seconds")
    found.seconds = dict(zip(STATES, map(float, seconds), strict=True))
    return found
