"""Transitions of a dashboard's status, read from its history log, under a target's rules.

An *episode* starts at the first build that is not OK and ends once
``recover_after`` OK builds follow in a row (so a flap inside an episode
does not end it). A build is a version or a check (the data unchanged: the
status seen again, :mod:`dashsite.store.log`). Its transitions:

- ``opened``: ``fail_after`` builds in a row were not OK, or the episode
  lasted ``fail_after_time`` (whichever first) — one blip pages nobody;
- ``worsened``: after ``opened``, the level rose (warning → error → critical);
  once per level;
- ``ongoing``: after ``opened``, every ``remind_every`` while it lasts;
- ``recovered``: the end of an episode that was ``opened``.

Every transition has a key that does not change when it is computed again
(dashboard, episode start, kind, sequence number): the ledger keys on it, so
a run that is repeated sends nothing twice. Times come from the versions,
never the wall clock, so the result is the same on every run.

Declared maintenance (``incidents/`` files with ``severity = "maintenance"``)
silences ``opened``, ``worsened`` and ``ongoing`` inside its window; an
episode still failing after the window is ``opened`` at its first version
after it. ``recovered`` is always sent for an episode that was ``opened``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dashsite.core.levels import StatusLevel
from dashsite.notify.config import Rules
from dashsite.store import layout
from dashsite.store.log import LogRecord
from dashsite.store.records import parse_time

Window = tuple[datetime, datetime | None]
"""A maintenance window: start, end (None: not over)."""


@dataclass(frozen=True, slots=True)
class Transition:
    """One change a target may be told of."""

    slug: str
    title: str
    kind: str
    start_id: str
    """The version that started the episode: with ``slug``, the episode's identity."""
    start: datetime
    at: datetime
    """The time of the version where the change happened."""
    version: str
    level: StatusLevel
    """The status the version had (for ``recovered``: the worst the episode reached)."""
    failed: tuple[tuple[str, str], ...] = ()
    """Collector → its last error (raw; :mod:`.message` cleans it)."""
    url: str = ""
    """The version's page, site-relative."""
    seq: int = 0

    @property
    def key(self) -> str:
        """The ledger's key: the same every time this transition is computed."""
        tail = f":{self.seq}" if self.kind in ("ongoing", "worsened") else ""
        return f"{self.slug}:{self.start_id}:{self.kind}{tail}"


@dataclass(slots=True)
class Episode:
    """An episode in progress while the log is walked."""

    start_id: str
    start: datetime
    count: int = 0
    """Versions not OK in a row (an OK version inside the episode starts it over)."""
    ok_streak: int = 0
    opened: datetime | None = None
    level: StatusLevel = StatusLevel.OK
    worst: StatusLevel = StatusLevel.OK
    last_notice: datetime | None = None
    reminders: int = 0
    failed: dict[str, str] = field(default_factory=dict)


def in_windows(moment: datetime, windows: Iterable[Window]) -> bool:
    """Whether ``moment`` falls in one of the windows."""
    return any(start <= moment and (end is None or moment < end) for start, end in windows)


def walk(
    slug: str,
    title: str,
    records: Sequence[LogRecord],
    rules: Rules,
    maintenance: Sequence[Window] = (),
) -> tuple[list[Transition], Episode | None]:
    """The transitions in ``records`` (oldest first), and the episode still open after them."""
    found: list[Transition] = []
    episode: Episode | None = None
    quiet_windows = maintenance if rules.quiet_in_maintenance else ()
    fail_time = timedelta(seconds=rules.fail_after_time) if rules.fail_after_time else None
    remind = timedelta(seconds=rules.remind_every) if rules.remind_every else None

    def emit(kind: str, record: LogRecord, at: datetime, level: StatusLevel, seq: int = 0) -> None:
        assert episode is not None
        errors = record.errors if kind != "recovered" else episode.failed
        found.append(
            Transition(
                slug,
                title,
                kind,
                episode.start_id,
                episode.start,
                at,
                record.same or record.id,  # (a check shows the version it found unchanged)
                level,
                tuple(sorted(errors.items())),
                record.url if not record.is_check else layout.latest_page(slug),  # (no snapshot)
                seq,
            )
        )

    for record in records:
        at = parse_time(record.collected_at)
        if record.status == StatusLevel.OK:
            if episode is None:
                continue
            episode.ok_streak += 1
            episode.count = 0
            if episode.ok_streak >= rules.recover_after:
                if episode.opened is not None:
                    emit("recovered", record, at, episode.worst)
                episode = None
            continue
        if episode is None:
            episode = Episode(record.id, at)
        episode.ok_streak = 0
        episode.count += 1
        episode.worst = max(episode.worst, record.status)
        episode.failed.update(record.errors)
        quiet = in_windows(at, quiet_windows)
        if episode.opened is None:
            confirmed = episode.count >= rules.fail_after or (
                fail_time is not None and at - episode.start >= fail_time
            )
            if confirmed and not quiet:
                episode.opened = episode.last_notice = at
                episode.level = record.status
                emit("opened", record, at, record.status)
            continue
        if record.status > episode.level:
            episode.level = record.status
            if not quiet:
                emit("worsened", record, at, record.status, int(record.status))
                episode.last_notice = at
            continue
        last = episode.last_notice
        if remind is not None and last is not None and at - last >= remind and not quiet:
            episode.reminders += 1
            episode.last_notice = at
            emit("ongoing", record, at, record.status, episode.reminders)
    return found, episode
