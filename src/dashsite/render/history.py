"""The ``history`` template variable: earlier versions, read from the log.

Lists, trends (``history | series("disk.value")``) and statuses come from
the dashboard's log tail; a version's full data (``h.data``) is read from its
``data.json`` only when a template asks for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, overload

from dashsite.core.levels import StatusLevel
from dashsite.store.version_store import DashboardRecord, LogRecord, VersionStore
from dashsite.types.formats import to_datetime


class Unavailable:
    """A value of an earlier version whose data the tiers no longer keep.

    Any attribute or item of it is itself, it iterates as nothing and shows
    as a dash, so ``{{ h.data.load.value }}`` over an old version renders
    ``—`` (and is a gap in a series) instead of failing the page.
    """

    def __getattr__(self, _: str) -> Unavailable:
        return self

    def __getitem__(self, _: object) -> Unavailable:
        return self

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __bool__(self) -> bool:
        return False

    def __str__(self) -> str:
        return "—"

    def __html__(self) -> str:
        return "—"

    def render(self, *, inline_css: bool = False) -> str:
        """A dash."""
        return "—"


UNAVAILABLE = Unavailable()


class ThinnedData(dict[str, Any]):
    """The data of a version that only its log line keeps: every name is unavailable."""

    def __missing__(self, _: str) -> Unavailable:
        return UNAVAILABLE


class HistoryEntry:
    """One earlier version: id, time, status, collector errors; ``data`` on demand."""

    __slots__ = ("_data", "_load", "record")

    def __init__(self, record: LogRecord, load: Callable[[LogRecord], dict[str, Any]]) -> None:
        self.record = record
        self._load = load
        self._data: dict[str, Any] | None = None

    @property
    def version(self) -> str:
        """The version id."""
        return self.record.id

    @property
    def collected_at(self) -> datetime | None:
        """When it was collected (UTC)."""
        return to_datetime(self.record.collected_at)

    @property
    def status(self) -> StatusLevel:
        """Its status."""
        return self.record.status

    @property
    def errors(self) -> dict[str, str]:
        """Collector name → error message, for the collectors that failed."""
        return self.record.errors

    @property
    def values(self) -> dict[str, float]:
        """The numbers of its data by dotted path (what ``series`` reads)."""
        return self.record.values

    @property
    def data(self) -> dict[str, Any]:
        """What its collectors returned (read from ``data.json`` the first time).

        Past the data tier only the log line is left: every name is then
        :class:`Unavailable`, so templates written for fresh data still render.
        """
        if self._data is None:
            self._data = self._load(self.record) or ThinnedData()
        return self._data

    def __repr__(self) -> str:
        return f"HistoryEntry({self.record.id!r}, {self.record.status.slug})"


class LastGood:
    """A failed collector's newest good value: ``last_good.disk.value``, with its age."""

    __slots__ = ("_entry", "_now", "name")

    def __init__(self, name: str, entry: HistoryEntry, now: datetime) -> None:
        self.name = name
        self._entry = entry
        self._now = now

    @property
    def value(self) -> Any:
        """The value it returned then (:class:`Unavailable` once the data tier dropped it)."""
        return self._entry.data.get(self.name, UNAVAILABLE)

    @property
    def version(self) -> str:
        """The version it came from."""
        return self._entry.version

    @property
    def collected_at(self) -> datetime | None:
        """When it was collected (UTC)."""
        return self._entry.collected_at

    @property
    def age(self) -> float:
        """Seconds between then and this build."""
        then = self.collected_at
        return (self._now - then).total_seconds() if then is not None else 0.0

    def __repr__(self) -> str:
        return f"LastGood({self.name!r}, {self._entry.version!r})"


def last_good_values(
    store: VersionStore, record: DashboardRecord | None, failed: Sequence[str], now: datetime
) -> dict[str, LastGood]:
    """``last_good`` for a template: each failed collector's newest good value, if any."""
    if record is None:
        return {}
    return {
        name: LastGood(name, HistoryEntry(record.last_good[name], store.read_data), now)
        for name in failed
        if name in record.last_good
    }


class LazyHistory(Sequence[HistoryEntry]):
    """The last ``limit`` versions before this one, oldest first.

    Nothing is read until a template touches ``history``; then only the
    log's tail.
    """

    def __init__(
        self,
        store: VersionStore,
        record: DashboardRecord | None,
        limit: int,
        *,
        skip_latest: bool = False,
    ) -> None:
        self._store = store
        self._record = record
        self._limit = limit if record is not None else 0
        self._skip_latest = skip_latest
        self._entries: list[HistoryEntry] | None = None

    def _load(self) -> list[HistoryEntry]:
        if self._entries is None:
            records: list[LogRecord] = []
            if self._record is not None and self._limit:
                wanted = self._limit + (1 if self._skip_latest else 0)
                records = self._store.tail(self._record, wanted)
                if self._skip_latest:
                    records = records[:-1]
                records = records[-self._limit :]
            self._entries = [HistoryEntry(r, self._store.read_data) for r in records]
        return self._entries

    @overload
    def __getitem__(self, index: int) -> HistoryEntry: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[HistoryEntry]: ...

    def __getitem__(self, index: int | slice) -> HistoryEntry | Sequence[HistoryEntry]:
        return self._load()[index]

    def __len__(self) -> int:
        return len(self._load())

    def __iter__(self) -> Iterator[HistoryEntry]:
        return iter(self._load())

    def __bool__(self) -> bool:
        return bool(self._load())
