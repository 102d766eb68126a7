"""A damaged log shard is never silent: find it, say so in one line, rebuild it.

The history log is the truth the status caches, history pages and uptime
are computed from, so a shard that lost lines (truncated, garbled, deleted)
would make versions vanish from the history while their folders stay. When
the store reads a month, it compares what it read with the manifest's count
of that month; a month with an unreadable line, a missing shard or fewer
versions than counted is rebuilt: the valid lines are kept, and every
version folder of the month that still has its ``data.json`` gives its
record back. The shards are rewritten whole (atomically), the manifest's
count is set to what is really there, and one line says which file was
damaged, how many versions came back, and how many are gone (versions kept
only in the log, past their ``keep_data`` tier, cannot come back).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from dashsite.store import layout
from dashsite.store.layout import DATA_FILE
from dashsite.store.layout import log_shard as log_path
from dashsite.store.log import LogRecord
from dashsite.store.manifest import DashboardRecord, MonthInfo
from dashsite.store.write import atomic_write


class VersionStore(Protocol):
    """What a repair needs of the store (which calls it: no import back)."""

    site: Path

    def inside(self, relative: str) -> Path:
        """``relative`` inside the site, contained."""
        ...

    def record_from_data(self, slug: str, raw: Any, path: str | None = None) -> LogRecord:
        """A version's log record from its ``data.json``."""
        ...


@dataclass(frozen=True, slots=True)
class ShardRead:
    """What one shard gave: its valid records, and how many lines were not."""

    path: Path
    records: list[LogRecord]
    bad: int


def damage(record: DashboardRecord, month: str, reads: list[ShardRead]) -> str | None:
    """Why ``month``'s shards disagree with the manifest, or None when they do not.

    More lines than counted is not damage: a killed build's line, which the
    next build adopts.
    """
    info = record.months.get(month)
    if info is None or not reads:
        return None  # nothing counted, or no shard here at all (a partial pull)
    bad = [r for r in reads if r.bad]
    if bad:
        lines = sum(r.bad for r in bad)
        return f"{lines} unreadable line(s) in {', '.join(r.path.name for r in bad)}"
    here = {r.path.stem for r in reads}
    gone = sorted(day for day in info.days if day not in here)
    if gone:
        return f"shard(s) {', '.join(f'{d}.jsonl' for d in gone)} missing"
    found = sum(len(r.records) for r in reads)
    if found < info.count:
        return f"{found} of the {info.count} versions the manifest counts"
    return None


def rebuild_month(
    store: VersionStore, record: DashboardRecord, month: str, reads: list[ShardRead], why: str
) -> tuple[list[LogRecord], str]:
    """Rebuild ``month``'s shards from their valid lines and the version folders.

    Returns the month's records (oldest first) and the line that tells it.
    """
    slug = record.slug
    kept = {entry.id: entry for read in reads for entry in read.records}
    before = len(kept)
    for entry in _from_folders(store, slug, month):
        kept.setdefault(entry.id, entry)
    recovered = len(kept) - before
    entries = sorted(kept.values(), key=lambda e: (e.collected_at, e.seq, e.id))
    days: dict[str, list[str]] = {}
    for entry in entries:
        days.setdefault(entry.day, []).append(entry.line() + "\n")
    for day, lines in days.items():
        atomic_write(store.inside(log_path(slug, day)), "".join(lines).encode("utf-8"))
    for read in reads:
        if f"{month}-{read.path.stem}" not in days:
            read.path.unlink(missing_ok=True)  # nothing of it could be read or rebuilt
    counted = record.months[month].count
    info = MonthInfo(checked={d for d in record.months[month].checked if f"{month}-{d}" in days})
    for entry in entries:
        info.add(entry.status, entry.day)
    if entries:
        record.months[month] = info
    else:
        del record.months[month]
    lost = counted - len(entries)
    shown = f"{store.site.name}/{slug}/log/{month}/"
    bad = [r.path.name for r in reads if r.bad]
    if len(bad) == 1:
        shown += bad[0]
    message = (
        f"{shown}: the history log is damaged ({why}); rebuilt it from its readable lines "
        f"and {recovered} version folder(s)"
        + (f"; {lost} version(s) kept only in the log are lost" if lost > 0 else "; nothing lost")
    )
    return entries, message


def _from_folders(store: VersionStore, slug: str, month: str) -> list[LogRecord]:
    """The records of ``month``'s version folders that still have their ``data.json``."""
    found = []
    base = store.site / slug
    candidates = [
        (path, f"{layout.version_folder_on(slug, path.parent.parent.name, path.parent.name)}/")
        for path in base.glob(f"{month}-[0-3][0-9]/*/{DATA_FILE}")
    ]
    candidates += [  # a site from the first release: flat version folders
        (path, f"{layout.legacy_version_folder(slug, path.parent.name)}/")
        for path in base.glob(f"*/{DATA_FILE}")
    ]
    for path, relative in candidates:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict) or raw.get("dashboard") != slug:
                continue
            entry = store.record_from_data(slug, raw, relative)
        except (OSError, ValueError, AttributeError, TypeError, RecursionError):
            continue
        if entry.month == month:
            found.append(entry)
    return found
