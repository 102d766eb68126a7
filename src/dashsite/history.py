"""Earlier versions' collected data, read lazily for the ``history`` variable."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, overload

from .filters import to_datetime
from .levels import StatusLevel
from .serialize import from_jsonable
from .versions import DATA_FILE, VersionRecord


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One earlier version: its id, time, status, data and collector errors."""

    version: str
    collected_at: datetime | None
    status: StatusLevel
    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class LazyHistory(Sequence[HistoryEntry]):
    """The last ``limit`` versions of a dashboard, oldest first.

    Nothing is read until a template touches ``history``, so dashboards that
    do not use it cost no I/O.
    """

    def __init__(self, site: Path, slug: str, records: Sequence[VersionRecord], limit: int) -> None:
        self._site = site
        self._slug = slug
        self._records = list(records)[-limit:] if limit else []
        self._entries: list[HistoryEntry] | None = None

    def _load(self) -> list[HistoryEntry]:
        if self._entries is None:
            self._entries = [self._read(record) for record in self._records]
        return self._entries

    def _read(self, record: VersionRecord) -> HistoryEntry:
        path = self._site / self._slug / record.id / DATA_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            data = from_jsonable(raw.get("data", {}))
            errors = {str(k): str(v) for k, v in raw.get("errors", {}).items()}
        except (OSError, ValueError, TypeError, KeyError):
            data, errors = {}, {}
        return HistoryEntry(
            record.id,
            to_datetime(record.collected_at),
            record.status,
            data if isinstance(data, dict) else {},
            errors,
        )

    @overload
    def __getitem__(self, index: int) -> HistoryEntry: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[HistoryEntry]: ...

    def __getitem__(self, index: int | slice) -> HistoryEntry | Sequence[HistoryEntry]:
        return self._load()[index]

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[HistoryEntry]:
        return iter(self._load())

    def __bool__(self) -> bool:
        return bool(self._records)
