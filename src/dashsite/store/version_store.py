"""The version store: every version a site holds, its history log and its manifest.

Under the site folder::

    <slug>/<YYYY-MM-DD>/<version>/index.html, data.json   immutable snapshots, written once
    <slug>/log/<YYYY-MM>/<DD>.jsonl           the history log: one line per version
    <slug>/log/months-<hash>.json             the finished months (changes once a month)
    manifest.json                             schema 4: dashboards, latest, this month

A build files a version by assembling its folder in ``.dashsite-tmp/`` inside
the site and renaming it into place, then appends one line to the current
day's log shard (a finished day's shard never changes). Templates'
``history``, trends and history pages read the log (its tail, or one
month), never every ``data.json``; a version's full
data is read only when a template asks for it. So a build costs its new work,
not the history it keeps; only retention (what it prunes) and the one-time
upgrade of a schema-1 site read more.

Everything read back is validated as strictly as local input. The log's
records are :mod:`dashsite.log`'s, the manifest's :mod:`dashsite.manifest`'s;
this module reads and writes them, and the version folders.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashsite.core.errors import SiteError
from dashsite.core.limits import MAX_VALUES
from dashsite.core.names import is_slug
from dashsite.store import layout
from dashsite.store.documents import DATA_SCHEMA, VersionDocument
from dashsite.store.layout import DATA_FILE, LOG_FOLDER, MANIFEST_FILE, TEMP_FOLDER
from dashsite.store.log import LogRecord, checked_text, finite_number, numeric_values
from dashsite.store.logrepair import ShardRead, damage, rebuild_month
from dashsite.store.manifest import (
    PRUNED_RECENT,
    SCHEMA_VERSION,
    DashboardRecord,
    Manifest,
    MonthInfo,
)
from dashsite.store.write import atomic_write
from dashsite.types.serialize import from_jsonable

_SHARD_NAME = re.compile(r"[0-3][0-9]\.jsonl")
"""A day's shard in a month's log folder (the glob of :meth:`VersionStore.shards`)."""
_DOOMED = "doomed-"
"""The temporary folder's notes of the version folders a build's retention pruned."""
Listing = tuple[tuple[tuple[str, int | None], ...], tuple[int, int] | None]
"""A month's log folder: each shard's ``(DD, size)``, the status file's ``(size, mtime_ns)``."""

__all__ = [
    "DATA_SCHEMA",
    "MAX_VALUES",
    "SCHEMA_VERSION",
    "DashboardRecord",
    "LogRecord",
    "Manifest",
    "MonthInfo",
    "ShardMark",
    "VersionStore",
    "numeric_values",
]


TAIL_CHECK = 256
"""Bytes before a :class:`ShardMark` that must be unchanged for it to hold."""


@dataclass(frozen=True, slots=True)
class ShardMark:
    """How far a log shard was read: its size then, and a hash of the bytes just before.

    Lets a build read only the lines appended since an earlier build
    (:mod:`dashsite.status.live` keeps them); a shard that shrank or whose bytes
    before the mark differ was rewritten (a repair, a pull) and is read whole.
    """

    size: int
    tail: str
    lines: int
    """Valid records in it (the manifest's counts are checked against them)."""

    @classmethod
    def empty(cls) -> ShardMark:
        """The mark of a shard before its first line: all it holds was appended since."""
        return cls(0, _tail_hash(b""), 0)


def _tail_hash(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()[:16]


class VersionStore:
    """Reads and writes one site folder's versions, log and manifest."""

    def __init__(self, site: Path) -> None:
        self.site = site
        self.written = 0
        """Files written and log lines appended by this store (for the build report)."""
        self.bytes_written = 0
        self.counted: Mapping[str, DashboardRecord] = {}
        """The manifest's dashboards: a month read is checked against their counts."""
        self.on_damage: Callable[[str], None] | None = None
        """Told, in one line, of a damaged month of the log (then rebuilt)."""
        self.repaired: set[tuple[str, str]] = set()
        """``(slug, month)`` rebuilt by :mod:`.logrepair` (its history pages are redone)."""
        self._checked: set[tuple[str, str]] = set()
        self._resolved: Path | None = None
        self._safe: set[Path] = set()
        """Folders of the site known to be no symbolic link (each is looked at once)."""
        self._safe_names: set[str] = set()
        """The same folders as :meth:`inside` names them (``/``-separated, from the site)."""
        self._days: dict[str, dict[str, tuple[list[LogRecord], int]]] = {}
        """Slug → day → the day's shard as read (and appended to) in this build: its records
        and how many lines were unreadable."""
        self._checks: dict[str, dict[str, tuple[list[LogRecord], int]]] = {}
        """The same for the days' checks files."""
        self._listings: dict[str, dict[str, Listing]] = {}
        """Slug → month → its log folder as listed in this build (:meth:`_month_folder`)."""
        self.doomed: list[tuple[str, str]] = []
        """``(version path, "folder" | "page")`` retention and the tiers took out of the site,
        to delete once no page links to them (:meth:`drop_doomed`)."""
        self._tails: dict[str, list[LogRecord]] = {}
        """The newest records of each dashboard read so far, kept current by :meth:`append`."""

    # -- the manifest -------------------------------------------------------

    def load_manifest(self, shown: str | None = None) -> Manifest:
        """``manifest.json``, validated; rebuilt from the logs (or data files) if missing.

        ``shown`` names the file in an error.
        """
        path = self.site / MANIFEST_FILE
        if not path.is_file():
            return self.rebuild_manifest()
        try:
            return Manifest.from_json(json.loads(path.read_text(encoding="utf-8")), self.read)
        except (ValueError, OSError, RecursionError) as exc:
            raise SiteError(
                f"manifest is unreadable: {exc}",
                path=shown or path,
                hint="restore it (dashsite pull) or delete it to rebuild it "
                "from the dashboards' logs",
            ) from None

    def read(self, relative: str) -> bytes | None:
        """A file of the site by its relative path (checked by the caller), None if missing."""
        try:
            return (self.site / relative).read_bytes()
        except FileNotFoundError:
            return None

    def drop_unlinked_earlier(self, manifest: Manifest, writer: Any) -> None:
        """Delete earlier-months files no dashboard links to (a killed build's leftovers)."""
        for slug, record in manifest.dashboards.items():
            keep = record.earlier.url if record.earlier is not None else None
            for path in (self.site / slug / LOG_FOLDER).glob("months-*.json"):
                relative = layout.earlier_months(slug, path.name)
                earlier = layout.classify(relative).kind is layout.Kind.EARLIER_MONTHS
                if relative != keep and earlier:
                    writer.remove(relative)

    def rebuild_manifest(self) -> Manifest:
        """A manifest from the log shards (or, for a schema-1 site, the data files)."""
        manifest = Manifest()
        if not self.site.is_dir():
            return manifest
        for folder in sorted(p for p in self.site.iterdir() if p.is_dir() and is_slug(p.name)):
            shards = sorted((folder / LOG_FOLDER).glob("*/[0-3][0-9].jsonl"))
            title = folder.name
            if shards:
                record = DashboardRecord(folder.name, title)
                for shard in shards:
                    for entry in self._read_shard(folder.name, shard):
                        record.add(entry)
                for day in sorted((folder / LOG_FOLDER).glob("*/[0-3][0-9].checks.jsonl")):
                    if day.name[:2] not in record.months.get(day.parent.name, MonthInfo()).days:
                        continue  # (its versions are gone: nothing to count its checks by)
                    for entry in self.day_checks(folder.name, f"{day.parent.name}-{day.name[:2]}")[
                        0
                    ]:
                        record.check(entry)
                latest, checked = record.latest, record.checked
                if latest is not None and checked is not None and checked.order <= latest.order:
                    record.checked = None  # (the manifest keeps the newest check, if newer)
                manifest.dashboards[folder.name] = record
                continue
            legacy = sorted(self._scan_data_files(folder), key=lambda r: r[0].order)
            if legacy:
                record = DashboardRecord(folder.name, legacy[-1][1])
                manifest.legacy[folder.name] = [entry for entry, _ in legacy]
                for entry, _ in legacy:
                    record.add(entry)
                manifest.dashboards[folder.name] = record
        return manifest

    def _scan_data_files(self, folder: Path) -> Iterator[tuple[LogRecord, str]]:
        for data_file in folder.glob(f"*/{DATA_FILE}"):
            try:
                raw = json.loads(data_file.read_text(encoding="utf-8"))
                if raw.get("dashboard") != folder.name:
                    continue
                entry = self.record_from_data(folder.name, raw)
                yield entry, checked_text(raw.get("title", folder.name), "title")
            except (ValueError, OSError, AttributeError, TypeError, RecursionError):
                continue  # a damaged data file: that version is not counted

    def record_from_data(self, slug: str, raw: Any, path: str | None = None) -> LogRecord:
        """The log record of a version, from its ``data.json`` and its folder's path."""
        if not isinstance(raw, dict):
            raise ValueError("data.json is not an object")
        data = raw.get("data", {})
        collectors = raw.get("collectors", {})
        durations = {
            str(name): round(float(info["duration"]), 4)
            for name, info in (collectors.items() if isinstance(collectors, dict) else [])
            if isinstance(info, dict) and finite_number(info.get("duration")) is not None
        }
        return LogRecord.from_json(
            {
                "id": raw.get("version"),
                "collected_at": raw.get("collected_at"),
                "path": path
                if path is not None
                else f"{layout.legacy_version_folder(slug, str(raw.get('version')))}/",
                "status": raw.get("status"),
                "errors": raw.get("errors", {}),
                "durations": durations,
                "values": numeric_values(data) if isinstance(data, dict) else {},
                **({"seq": raw["seq"]} if raw.get("seq") is not None else {}),
            },
            slug,
        )

    def upgrade(self, manifest: Manifest, writer: Any) -> list[str]:
        """Write the log of a schema-1 site's versions (once); returns the slugs upgraded.

        Each version's ``data.json`` is read for its values, errors and
        durations; a version without one keeps what the manifest said.
        Shards are written whole and atomically, so an interrupted upgrade is
        simply done again by the next build.
        """
        upgraded = []
        for slug, versions in manifest.legacy.items():
            shards: dict[str, list[str]] = {}
            for version in sorted(versions, key=lambda v: (v.collected_at, v.id)):
                entry = version
                try:
                    document = self.load_version(slug, f"{version.path.rstrip('/')}/{DATA_FILE}")
                    entry = self.record_from_data(slug, document.to_json(), version.path)
                except (OSError, ValueError, SiteError):
                    pass
                shards.setdefault(entry.day, []).append(entry.line())
            for day, lines in shards.items():
                writer.write(layout.log_shard(slug, day), "\n".join(lines) + "\n")
            upgraded.append(slug)
            self._listings.pop(slug, None)
        manifest.legacy.clear()
        return upgraded

    def inside(self, relative: str) -> Path:
        """``site/relative``, refusing a path that a symbolic link leads out of the site.

        Each folder on the way is looked at once a build (an ``lstat``): a build
        asks for a dashboard's folders thousands of times, and resolving the
        whole path each time cost more than writing the files.
        """
        names = relative.split("/")
        if relative[:1] != "/" and not {"", ".", ".."} & set(names):  # the usual case
            folder = "/".join(names[:-1])
            if folder not in self._safe_names:  # (checked the long way, once)
                if not self._plain(self.site.joinpath(*names[:-1])):
                    return self._resolved_inside(self.site / relative)
                self._safe_names.add(folder)
            path = self.site / relative
            if not path.is_symlink() or path.resolve().is_relative_to(self._root()):
                return path
            return self._resolved_inside(path)
        return self._resolved_inside(self.site / relative)

    def _resolved_inside(self, path: Path) -> Path:
        """``path``, resolved and held to the site; :class:`SiteError` naming the link that
        leads out of it."""
        if path.resolve().is_relative_to(self._root()):
            return path
        link = next((p for p in [path, *path.parents] if p.is_symlink()), path)
        raise SiteError(
            f"is a symbolic link to {link.readlink() if link.is_symlink() else '?'}, "
            "outside the site",
            path=Path(self.site.name) / link.relative_to(self.site)
            if link.is_relative_to(self.site)
            else link,
            hint="dashsite writes only inside the site: replace the link "
            "with a real folder (or move the site where the link points)",
        )

    def _plain(self, folder: Path) -> bool:
        """Whether no folder from the site down to ``folder`` is a symbolic link."""
        if folder == self.site or folder in self._safe:
            return True
        if folder == folder.parent or not self._plain(folder.parent) or folder.is_symlink():
            return False
        self._safe.add(folder)
        return True

    def _root(self) -> Path:
        if self._resolved is None:
            self._resolved = self.site.resolve()
        return self._resolved

    # -- the log --------------------------------------------------------------

    def shard(self, slug: str, day: str) -> Path:
        """The log shard of ``slug`` for ``day`` (``YYYY-MM-DD``)."""
        return self.site / layout.log_shard(slug, day)

    def shards(self, slug: str, month: str) -> list[Path]:
        """The day shards of ``month`` that are here, oldest first."""
        return sorted((self.site / slug / LOG_FOLDER / month).glob("[0-3][0-9].jsonl"))

    def shard_sizes(self, slug: str, month: str) -> tuple[tuple[str, int | None], ...]:
        """``(DD, size)`` of each of ``month``'s shards, oldest first (None: not readable).

        What a cache's seal covers (:mod:`dashsite.store.caches`), read with one
        directory listing and a ``stat`` a shard: a digest asks for a year of them
        every build.
        """
        return self._month_folder(slug, month)[0]

    def month_files(self, slug: str, month: str) -> str:
        """The state of ``month``'s log folder in one line: each shard's size, and the
        status file's size and modification time (``-``: none). Two equal lines mean
        nothing was appended, removed or rewritten there in between."""
        shards, status = self._month_folder(slug, month)
        sizes = ",".join(f"{day}:{'-' if size is None else size}" for day, size in shards)
        return f"{sizes};{'-' if status is None else f'{status[0]}:{status[1]}'}"

    def _month_folder(self, slug: str, month: str) -> Listing:
        """One listing of a month's log folder: its shards' sizes (oldest first), and
        its status file's size and modification time in nanoseconds.

        Listed once a build: the digest's seal and the kept calendar months both ask
        for a year of months. What the store writes there (an append, a prune, a
        repair) lists the month again; so does :meth:`relist` (a status file written).
        """
        listed = self._listings.setdefault(slug, {})
        if month in listed:
            return listed[month]
        shards: list[tuple[str, int | None]] = []
        status: tuple[int, int] | None = None
        try:
            entries = os.scandir(self.site / slug / LOG_FOLDER / month)
        except OSError:
            listed[month] = ((), status)
            return listed[month]
        with entries:
            for entry in entries:
                name = entry.name
                try:
                    if _SHARD_NAME.fullmatch(name):
                        shards.append((name[:2], entry.stat().st_size))
                    elif name == layout.STATUS_FILE:
                        found = entry.stat()
                        status = (found.st_size, found.st_mtime_ns)
                except OSError:
                    if _SHARD_NAME.fullmatch(name):
                        shards.append((name[:2], None))
        listed[month] = (tuple(sorted(shards)), status)  # kept: no caller can change it
        return listed[month]

    def relist(self, slug: str, month: str) -> None:
        """``month``'s log folder changed (a status file written): list it again when asked."""
        self._listings.get(slug, {}).pop(month, None)

    def append(self, record: DashboardRecord, entry: LogRecord) -> None:
        """Add ``entry`` to the log: one appended line, whatever the history holds."""
        path = self.inside(layout.log_shard(record.slug, entry.day))
        path.parent.mkdir(parents=True, exist_ok=True)
        self.relist(record.slug, entry.day[:7])
        self._append_line(path, entry)
        record.add(entry)
        known = self._tails.get(record.slug)
        if known is not None:
            known.append(entry)
        parsed = self._days.get(record.slug, {}).get(entry.day)
        if parsed is not None:
            parsed[0].append(entry)

    def _append_line(self, path: Path, entry: LogRecord) -> None:
        line = entry.line().encode("utf-8") + b"\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and _last_byte(path) != b"\n":
                line = b"\n" + line  # a killed append left half a line: keep lines whole
            os.write(fd, line)
        finally:
            os.close(fd)
        self.written += 1
        self.bytes_written += len(line)

    def month(self, slug: str, month: str) -> list[LogRecord]:
        """Every record of one month, oldest first.

        The first read of a month in a build is checked against the counts of
        :attr:`counted`; a damaged month is rebuilt and told (:mod:`.logrepair`).
        """
        reads = [self._read_counted(slug, path) for path in self.shards(slug, month)]
        record = self.counted.get(slug)
        if record is not None and (slug, month) not in self._checked:
            self._checked.add((slug, month))
            why = damage(record, month, reads)
            if why is not None:
                entries, message = rebuild_month(self, record, month, reads, why)
                self.forget(slug)
                self.repaired.add((slug, month))
                if self.on_damage is not None:
                    self.on_damage(message)
                return entries
        return [entry for read in reads for entry in read.records]

    def _read_counted(self, slug: str, path: Path) -> ShardRead:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return ShardRead(path, [], 1)
        found = self.parse(slug, lines)
        return ShardRead(path, found, sum(1 for line in lines if line.strip()) - len(found))

    def day_records(self, slug: str, day: str) -> tuple[list[LogRecord], int]:
        """A day's shard, parsed once a build: its valid records, and how many lines were not.

        The status of the days not settled yet and the history's tail both read
        today's shard; this build's appends are added as they happen.
        """
        days = self._days.setdefault(slug, {})
        if day not in days:
            try:
                lines = self.shard(slug, day).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                lines = []
            found = self.parse(slug, lines)
            days[day] = (found, sum(1 for line in lines if line.strip()) - len(found))
        return days[day]

    def shard_end(
        self, slug: str, day: str, lines: int, *, checks: bool = False
    ) -> ShardMark | None:
        """Where ``day``'s shard (or checks file) ends now, holding ``lines`` valid records
        (None: not there)."""
        try:
            with self._day_file(slug, day, checks).open("rb") as handle:
                size = handle.seek(0, 2)
                handle.seek(max(0, size - TAIL_CHECK))
                return ShardMark(size, _tail_hash(handle.read()), lines)
        except OSError:
            return None

    def appended(
        self, slug: str, day: str, known: ShardMark | None, *, checks: bool = False
    ) -> tuple[list[LogRecord], int, ShardMark | None] | None:
        """What was appended to ``day``'s shard since ``known`` (None: never read): its valid
        records, how many lines were not, and the shard's new mark (None: no shard yet).

        None when the shard no longer matches ``known`` (it shrank, its bytes before the
        mark changed, or it is gone): it was rewritten, so read it whole. ``checks``: the
        day's checks file.
        """
        path = self._day_file(slug, day, checks)
        if known is None:
            if not path.exists():
                return [], 0, None
            known = ShardMark.empty()
        try:
            with path.open("rb") as handle:
                size = handle.seek(0, 2)
                if size < known.size:
                    return None
                start = max(0, known.size - TAIL_CHECK)
                handle.seek(start)
                before = handle.read(known.size - start)
                if _tail_hash(before) != known.tail:
                    return None
                added = handle.read()
        except OSError:
            return None
        lines = added.decode("utf-8", "replace").splitlines()
        found = self.parse(slug, lines, checks=checks)
        unreadable = sum(1 for line in lines if line.strip()) - len(found)
        tail = _tail_hash((before + added)[-TAIL_CHECK:])  # what shard_end would hash now
        return found, unreadable, ShardMark(known.size + len(added), tail, known.lines + len(found))

    def forget(self, slug: str) -> None:
        """Drop what was read of ``slug``'s log: its shards are being rewritten, or the
        build asks nothing more of them."""
        self._tails.pop(slug, None)
        self._days.pop(slug, None)
        self._checks.pop(slug, None)
        self._listings.pop(slug, None)

    def carry(self, slugs: Iterable[str]) -> None:
        """Another process wrote ``slugs``' logs: forget what was read of them here."""
        for slug in slugs:
            self.forget(slug)

    def tail(self, record: DashboardRecord, count: int) -> list[LogRecord]:
        """The newest ``count`` records, oldest first, reading back from the end.

        Read once a build for the largest ``count`` asked (the index's trend, the
        history index and the month's tail all ask), then sliced.
        """
        if count <= 0:
            return []
        known = self._tails.get(record.slug)
        if known is not None and (len(known) >= count or len(known) >= record.count):
            return known[-count:]
        found = self._read_back(record.slug, reversed(record.months), count)
        self._tails[record.slug] = found
        return found

    def _read_back(self, slug: str, months: Iterable[str], count: int) -> list[LogRecord]:
        """The last ``count`` records of ``months`` (newest month first), oldest first,
        read back from each shard's end (or taken from a shard read whole already)."""
        found: list[LogRecord] = []
        for month in months:
            if len(found) >= count:
                break  # older months are not even listed
            for path in reversed(self.shards(slug, month)):
                if len(found) >= count:
                    break
                parsed = self._days.get(slug, {}).get(f"{month}-{path.stem}")
                if parsed is not None:  # read whole already
                    found = [*parsed[0], *found]
                    continue
                found = [*self.parse(slug, _tail_lines(path, count - len(found))), *found]
        return found[-count:]

    def oldest(self, record: DashboardRecord) -> LogRecord | None:
        """The oldest version the log keeps (the first line of its first shard)."""
        for month in record.months:
            for path in self.shards(record.slug, month):
                found = self.parse(record.slug, _head_lines(path, 4))
                if found:
                    return found[0]
        return None

    def month_tail(self, record: DashboardRecord, month: str, count: int) -> list[LogRecord]:
        """The newest ``count`` records of ``month``, oldest first, reading back from its
        end: a month page's rows. (:meth:`tail` reads back from the last month, which is
        not this build's when a clock ran ahead into a later month and came back.)"""
        if count <= 0:
            return []
        if month == next(reversed(record.months), None):  # (the usual case: read once a build)
            return [entry for entry in self.tail(record, count) if entry.month == month]
        return self._read_back(record.slug, [month], count)

    def knows(self, slug: str, entry: LogRecord) -> bool:
        """Whether the local log holds ``entry``, a version or a check (reads its day's shard
        or checks file)."""
        path = self._day_file(slug, entry.day, entry.is_check)
        return any(
            found.id == entry.id for found in self._read_shard(slug, path, checks=entry.is_check)
        )

    def _read_shard(self, slug: str, path: Path, *, checks: bool = False) -> Iterator[LogRecord]:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return iter(())
        return iter(self.parse(slug, text.splitlines(), checks=checks))

    @staticmethod
    def parse(slug: str, lines: Iterable[str], *, checks: bool = False) -> list[LogRecord]:
        """Valid records only (``checks``: of a checks file): a torn last line or a tampered
        one is skipped."""
        found = []
        for line in lines:
            if not line.strip():
                continue
            try:
                found.append(LogRecord.from_json(json.loads(line), slug, check=checks))
            except (ValueError, RecursionError):
                continue
        return found

    # -- checks ---------------------------------------------------------------

    def _day_file(self, slug: str, day: str, checks: bool) -> Path:
        return self.site / (layout.log_checks if checks else layout.log_shard)(slug, day)

    def append_check(self, record: DashboardRecord, entry: LogRecord) -> None:
        """Add the check ``entry`` to its day's checks file (one appended line)."""
        path = self.inside(layout.log_checks(record.slug, entry.day))
        path.parent.mkdir(parents=True, exist_ok=True)
        self._append_line(path, entry)
        record.check(entry)
        parsed = self._checks.get(record.slug, {}).get(entry.day)
        if parsed is not None:
            parsed[0].append(entry)

    def day_checks(self, slug: str, day: str) -> tuple[list[LogRecord], int]:
        """A day's checks, read once a build: the valid ones, and how many lines were not."""
        days = self._checks.setdefault(slug, {})
        if day not in days:
            try:
                lines = self._day_file(slug, day, True).read_text("utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                lines = []
            found = self.parse(slug, lines, checks=True)
            days[day] = (found, sum(1 for line in lines if line.strip()) - len(found))
        return days[day]

    def month_checks(self, record: DashboardRecord, month: str) -> list[LogRecord]:
        """Every check of ``month`` the manifest knows of, oldest first."""
        info = record.months.get(month)
        found: list[LogRecord] = []
        for day in sorted(info.checked) if info is not None else ():
            found += self.day_checks(record.slug, f"{month}-{day}")[0]
        return found

    def damaged(self, manifest: Manifest) -> list[str]:
        """What of the site cannot be read back, a line each (``alpha/log/2026-11/27.jsonl:
        2 of 288 lines are not log records``): the log shards, and the ``data.json`` of the
        versions they list. For what a ``pull`` brought, before a build meets it (a build
        leaves out what it cannot read, and would say a version was lost)."""
        found: list[str] = []
        for slug, record in manifest.dashboards.items():
            for month in record.months:
                for path in self.shards(slug, month):
                    lines = [x for x in _read_lines(path) if x.strip()]
                    entries = self.parse(slug, lines)
                    relative = path.relative_to(self.site).as_posix()
                    if len(entries) < len(lines):
                        found.append(
                            f"{relative}: {len(lines) - len(entries)} of {len(lines)} line(s) "
                            "are not log records (their versions are left out)"
                        )
                    for entry in entries:
                        if not self.inside(entry.data_url).is_file():
                            continue  # (thinned: only its line is kept)
                        try:
                            self.load_version(slug, entry.data_url)
                        except (OSError, ValueError, SiteError) as exc:
                            found.append(f"{entry.data_url}: cannot be read back ({exc})")
                here = {path.name[:2] for path in self.shards(slug, month)}
                for relative in record.check_paths(month):
                    path = self.site / relative
                    if relative.rsplit("/", 1)[1][:2] not in here:
                        continue  # (its day not pulled either: a pull fetches what builds need)
                    lines = [x for x in _read_lines(path) if x.strip()] if path.is_file() else []
                    checks = self.parse(slug, lines, checks=True)
                    if not path.is_file():
                        found.append(f"{relative}: missing (its checks' time is not counted)")
                    elif len(checks) < len(lines):
                        found.append(
                            f"{relative}: {len(lines) - len(checks)} of {len(lines)} line(s) "
                            "are not checks (their time is not counted)"
                        )
        return found

    # -- versions -------------------------------------------------------------

    def load_version(self, slug: str, data_url: str) -> VersionDocument:
        """A version's ``data.json``, validated as a whole.

        ``OSError`` when it is not there, ``ValueError`` when it is not one of
        ``slug``'s: the caller says what that means for it (skip, or one line).
        """
        try:
            raw = json.loads(self.inside(data_url).read_text(encoding="utf-8"))
        except RecursionError:
            raise ValueError("data.json is nested too deeply") from None
        return VersionDocument.from_json(raw, slug)

    def version_or_none(self, slug: str, entry: LogRecord) -> VersionDocument | None:
        """``entry``'s ``data.json``, or None when it is missing or damaged (thinned, say)."""
        try:
            return self.load_version(slug, entry.data_url)
        except (OSError, ValueError, SiteError):
            return None

    def read_data(self, entry: LogRecord) -> dict[str, Any]:
        """A version's collected data, decoded and validated; ``{}`` if it is not here."""
        document = self.version_or_none(entry.path.split("/", 1)[0], entry)
        if document is None:
            return {}
        try:
            data = from_jsonable(document.data)
        except (ValueError, TypeError, AttributeError, RecursionError):
            return {}
        return data if isinstance(data, dict) else {}

    def temp_folder(self) -> Path:
        """Where version folders are assembled (inside the site: same file system)."""
        return self.site / TEMP_FOLDER

    def file_version(self, slug: str, version: str, folder: str, files: Mapping[str, bytes]) -> str:
        """Assemble a version folder aside, then rename it to ``folder``; its path.

        Refuses to replace a folder that exists: versions are immutable.
        """
        final = self.inside(folder)
        if final.exists():
            raise SiteError(
                f"version {version} of '{slug}' already exists",
                path=f"{self.site.name}/{slug}/{version}",
                hint="versions are immutable; pick another --version-id",
            )
        aside = self.temp_folder() / f"{slug}.{version}"
        shutil.rmtree(aside, ignore_errors=True)
        aside.mkdir(parents=True)
        for name, payload in files.items():
            with (aside / name).open("xb") as out:
                out.write(payload)
            os.chmod(aside / name, 0o644)
            self.written += 1
            self.bytes_written += len(payload)
        final.parent.mkdir(parents=True, exist_ok=True)
        aside.rename(final)
        return f"{folder.rstrip('/')}/"

    def adopt(self, record: DashboardRecord, path: str) -> LogRecord | None:
        """Make a version folder a killed build renamed in count, as if it had finished.

        Returns its log record (its month's history pages must be redone), or None.
        """
        try:
            document = self.load_version(record.slug, f"{path.rstrip('/')}/{DATA_FILE}")
            entry = self.record_from_data(record.slug, document.to_json(), path)
        except (OSError, ValueError, SiteError):
            return None
        shard = self.shard(record.slug, entry.day)
        if not any(e.id == entry.id for e in self.parse(record.slug, _tail_lines(shard, 8))):
            self.append(record, entry)
        info = MonthInfo()
        for found in self.month(record.slug, entry.month):
            info.add(found.status, found.day)
        before = record.months.get(entry.month)
        info.checked = set(before.checked) if before is not None else set()
        record.months[entry.month] = info
        record.months = dict(sorted(record.months.items()))
        record.take_latest(entry)  # (its key unknown: the next build files a version)
        return entry

    def prune(
        self, record: DashboardRecord, retention: int, writer: Any, coming: int = 0
    ) -> tuple[list[LogRecord], set[str], set[str]]:
        """Keep the newest ``retention`` versions, ``coming`` more about to be filed counted
        among them, and the latest whatever comes (the one coming may fail to be filed);
        costs what it deletes (plus one shard).

        The log and the counts lose the versions now; their folders go into
        :attr:`doomed` (noted in the temporary folder first, so a build killed before
        :meth:`drop_doomed` leaves no orphan: :meth:`drop_orphans`), deleted once no
        page links to them. Returns the versions dropped, the months that lost
        versions (their history pages shift) and the months now gone.
        """
        excess = min(record.count + coming - retention, record.count - 1)
        if excess <= 0:
            return [], set(), set()  # (what was read of its log stays good)
        self.forget(record.slug)  # shards are rewritten below
        dropped: list[LogRecord] = []
        rewritten: set[str] = set()
        removed: set[str] = set()
        for month in list(record.months):
            if excess <= 0:
                break
            info = record.months[month]
            entries = self.month(record.slug, month)
            if not entries:  # the shard is not here (a partial pull): only whole months go
                if excess < info.count:
                    break
                del record.months[month]
                removed.add(month)
                excess -= info.count
                record.pruned += info.count
                continue
            # The oldest first, by the time they were collected; never the latest version
            # (the newest build's, which a clock set back may have filed earlier in time).
            latest = (record.latest.id, record.latest.path) if record.latest else None
            cut = [e for e in entries if (e.id, e.path) != latest][:excess]
            gone_ids = {(e.id, e.path) for e in cut}
            rest = [e for e in entries if (e.id, e.path) not in gone_ids]
            self.doomed += ((entry.path, "folder") for entry in cut)
            self._note_doomed()  # before the log forgets them
            dropped += cut
            excess -= len(cut)
            record.pruned += len(cut)
            record.pruned_recent = [*record.pruned_recent, *(e.path for e in cut)][-PRUNED_RECENT:]
            kept = MonthInfo(checked=set(info.checked))
            for entry in rest:
                kept.add(entry.status, entry.day)
            for day in {entry.day for entry in cut}:  # only the days that lost versions
                lines = [entry.line() + "\n" for entry in rest if entry.day == day]
                if lines:
                    writer.write(layout.log_shard(record.slug, day), "".join(lines))
                else:
                    writer.remove(layout.log_shard(record.slug, day))
                    if day[8:10] in kept.checked:  # (its checks go with its last version)
                        kept.checked.discard(day[8:10])
                        writer.remove(layout.log_checks(record.slug, day))
            if rest:
                record.months[month] = kept
                rewritten.add(month)
            else:
                del record.months[month]
                removed.add(month)
            if writer.exists(layout.month_status(record.slug, month)):  # computed again if needed
                writer.remove(layout.month_status(record.slug, month))
        self._listings.pop(record.slug, None)  # its shards and status files changed
        return dropped, rewritten, removed

    def thin(
        self,
        record: DashboardRecord,
        pages_from: str | None,
        data_from: str | None,
        coming: bool = False,
    ) -> set[str]:
        """Move versions down the tiers: page → data only → log line only.

        Versions collected before ``pages_from`` (a day) lose their snapshot
        page, before ``data_from`` their folder; their log line stays. What goes
        is deleted by :meth:`drop_doomed`, once the pages linking it are drawn. Tiers
        move a day at a time, so this reads a shard or two once a day (the
        first time, every month before the cut). Returns the months touched,
        whose history pages must drop the links. The latest version is kept whole
        (its latest page links to it), unless a new one is ``coming`` (then, if that
        new one is not filed after all, :meth:`spare` keeps it).
        """
        touched: set[str] = set()
        for name, cut in (("data_from", data_from), ("pages_from", pages_from)):
            current = getattr(record, name)
            if cut is None or (current is not None and current >= cut):
                continue
            for month in [m for m in record.months if m <= cut[:7]]:
                if current is not None and month < current[:7]:
                    continue
                for entry in self.month(record.slug, month):
                    day = entry.collected_at[:10]
                    if day >= cut or (current is not None and day < current):
                        continue
                    if not coming and record.latest is not None and entry.id == record.latest.id:
                        continue  # the latest page links to it: kept whole, however old
                    self.doomed.append((entry.path, "folder" if name == "data_from" else "page"))
                    touched.add(month)
            setattr(record, name, cut)
        return touched

    def spare(self, entry: LogRecord) -> None:
        """Keep ``entry`` whole after all (the latest version, when the version meant to
        follow it was not filed)."""
        self.doomed = [(path, what) for path, what in self.doomed if path != entry.path]

    def drop_doomed(self) -> None:
        """Delete what :meth:`prune` and :meth:`thin` took out of the site: called once no
        page links to it. (A build killed before: the tiers thin it again, and
        :meth:`drop_orphans` deletes the folders the log no longer lists.)"""
        for path, what in self.doomed:
            self._drop(path, what)
        self.doomed.clear()
        self._doomed_note().unlink(missing_ok=True)

    def drop_orphans(self) -> None:
        """Finish a killed build's retention: each version folder it had pruned from the
        log (noted by :meth:`prune`) is deleted, unless its day's shard still lists it
        (killed before the log was rewritten: the next prune takes it again)."""
        for note in self.temp_folder().glob(f"{_DOOMED}*.json"):
            try:
                listed = json.loads(note.read_text(encoding="utf-8"))
            except (OSError, ValueError, RecursionError):
                listed = []
            for path in listed if isinstance(listed, list) else []:
                found = layout.classify(f"{path}{DATA_FILE}") if isinstance(path, str) else None
                if not (found and found.slug and found.day and found.version):
                    continue  # (a dated version folder of a dashboard only)
                if not is_slug(found.slug) or path != (
                    f"{layout.version_folder_on(found.slug, found.day, found.version)}/"
                ):
                    continue
                listing = self._read_shard(found.slug, self.shard(found.slug, found.day))
                if not any(entry.id == found.version for entry in listing):
                    self._drop(path, "folder")
            note.unlink(missing_ok=True)

    def _drop(self, path: str, what: str) -> None:
        folder = self.inside(path)
        if what == "page":
            (folder / "index.html").unlink(missing_ok=True)
            return
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
        _drop_empty_day(folder.parent, self.site / path.split("/")[0])

    def _doomed_note(self) -> Path:
        return self.temp_folder() / f"{_DOOMED}{os.getpid()}.json"

    def _note_doomed(self) -> None:
        folders = [path for path, what in self.doomed if what == "folder"]
        self.temp_folder().mkdir(exist_ok=True)
        atomic_write(self._doomed_note(), json.dumps(folders).encode())


def _drop_empty_day(folder: Path, dashboard: Path) -> None:
    """Remove a day's folder that no version lives in any more."""
    if folder != dashboard:
        with contextlib.suppress(OSError):  # not empty (or gone): keep it
            folder.rmdir()


def _last_byte(path: Path) -> bytes:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)


def _tail_lines(path: Path, count: int, block: int = 64 * 1024) -> list[str]:
    """The last ``count`` lines of a file, read backwards in blocks."""
    if count <= 0:
        return []
    try:
        handle = path.open("rb")
    except OSError:
        return []
    with handle:
        end = handle.seek(0, os.SEEK_END)
        data = b""
        position = end
        while position > 0 and data.count(b"\n") <= count:
            step = min(block, position)
            position -= step
            handle.seek(position)
            data = handle.read(step) + data
    lines = data.decode("utf-8", "replace").splitlines()
    if position > 0:
        lines = lines[1:]  # the first one may be cut
    return lines[-count:]


def _head_lines(path: Path, count: int) -> list[str]:
    """The first ``count`` lines of a file (a line of any length: read as it comes)."""
    found: list[str] = []
    try:
        with path.open("rb") as handle:
            for raw in handle:
                if not raw.endswith(b"\n"):
                    break  # (a torn last line)
                found.append(raw.decode("utf-8", "replace"))
                if len(found) >= count:
                    break
    except OSError:
        return []
    return found


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
