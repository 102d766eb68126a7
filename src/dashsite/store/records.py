"""The status records the store keeps: a version's mark and an incident.

The manifest and the month summaries hold them; :mod:`dashsite.status` computes them
from the log. Each reads back as strictly as local input (``ValueError`` if off).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from dashsite.core.levels import StatusLevel
from dashsite.core.names import is_version_id
from dashsite.store.log import LogRecord, checked_count, checked_text


def parse_time(text: str) -> datetime:
    """An ISO time read back from the log or a summary (always UTC there)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is UTC:  # as dashsite writes them: "+00:00"
        return moment
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def day_start(day: str) -> datetime:
    """``2026-11-27`` → midnight UTC of that day."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)


def next_month(month: str) -> str:
    """``2026-12`` → ``2027-01``."""
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + 1:04d}-01" if number == 12 else f"{year:04d}-{number + 1:02d}"


def months_between(first: date, last: date) -> list[str]:
    """The months from ``first``'s to ``last``'s, oldest first."""
    found, month = [], f"{first.year:04d}-{first.month:02d}"
    while month <= f"{last.year:04d}-{last.month:02d}":
        found.append(month)
        month = next_month(month)
    return found


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
    row: int | None = None
    """Its first version's place among its month's versions, oldest first (0: the month's
    first): which history page lists it. None when not known (a file written before
    dashsite kept it, a declared incident)."""

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

    def duration(self, now: datetime) -> float | None:
        """Seconds from start to end (or to ``now`` while ongoing); None when that end is
        dated before the start (a clock set back between them: how long is not known)."""
        seconds = ((self.end or now) - self.start).total_seconds()
        return seconds if seconds >= 0 else None

    def extend(self, record: LogRecord) -> None:
        """One more non-OK version in the run (a check: seen still going, not counted)."""
        self.count += 0 if record.is_check else 1
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
            **({"row": self.row} if self.row is not None else {}),
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
        if "row" in raw:
            incident.row = checked_count(raw["row"], "an incident's row")
        return incident
