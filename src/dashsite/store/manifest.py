"""``manifest.json``: the dashboards a site holds, their latest version, counts by month.

Schema 2 counts versions by month (and lists the days that have a log
shard) instead of listing every version, as schema 1 did; a schema-1
manifest is read into :attr:`Manifest.legacy` for the store to upgrade.
Schema 3 keeps the manifest's size independent of the history's age: it
lists the build's month only, and the finished ones go to a file of their
own, named by its content (``<slug>/log/months-<sha256[:12]>.json``), which
changes once a month, when a month ends, not with every build. A month's
days are ranges (``"01-30"``, not thirty strings). Schema 2 is read as it is.
Schema 4 keeps it small at 1,000 dashboards (under 500 bytes a dashboard): no
indentation or spaces, no field that another one gives (a URL the layout
makes, given once as a template in ``urls``; the latest version's id and
status written once; ``"latest"`` for a collector whose newest good version
is the latest), and a field most dashboards share given once in
``defaults``, each dashboard listing only where it differs. Schema 3 is read
as it is.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from dashsite.core.levels import StatusLevel
from dashsite.core.names import is_slug
from dashsite.store import layout
from dashsite.store.log import LogRecord, checked_count, checked_text, finite_number
from dashsite.store.records import Incident, Mark

SCHEMA_VERSION = 4
"""Of ``manifest.json``; schema 1 (every version listed) is upgraded by a build."""
READ_SCHEMAS = (1, 2, 3, 4)
EARLIER_SCHEMA = 1

DEFAULTED = (
    "description",
    "group",
    "active",
    "stale",
    "expected_every",
    "incident",
    "status_carry",
    "status_settled",
    "pages_from",
    "data_from",
    "checked",
)
"""A dashboard's fields that schema 4 gives once, in ``defaults``, where most share a value."""

PRUNED_RECENT = 20
"""How many of the versions ``retention`` dropped last a dashboard's record names."""

MAX_PROBLEM = 2000
"""Characters of a dashboard's ``problem`` read back."""

LATEST = "latest"
"""In ``last_good`` (schema 4): the collector's newest good version is the latest version."""
CHECKED = "checked"
"""In ``last_good``: the latest version, which the newest check (``checked``) found good."""

URLS = {
    "dashboard": layout.latest_page("{slug}"),
    "history": layout.history_page("{slug}"),
    "month_history": layout.history_page("{slug}", "{month}.html"),
    "log": layout.log_month("{slug}", "{month}") + "/{dd}.jsonl",
    "version_page": "{path}" + layout.INDEX_PAGE,
    "version_data": "{path}" + layout.DATA_FILE,
}
"""The site's URLs as templates (schema 4), in place of the same URLs on every dashboard:
``{slug}``, a ``{month}`` of its ``months``, a ``{dd}`` of that month's ``days``, a
version's ``{path}``."""


def horizon(moment: datetime) -> str:
    """``YYYY-MM``: the month of ``moment``, the only one a manifest built then lists;
    the months before it are finished and in the earlier-months file."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def matches_name(relative: str, body: bytes) -> bool:
    """Whether ``body`` is what the earlier-months file ``relative`` is named after."""
    found = layout.EARLIER_NAME.fullmatch(relative.rsplit("/", 1)[-1])
    return found is not None and hashlib.sha256(body).hexdigest()[:12] == found.group(1)


def read_first(*readers: Callable[[str], bytes | None]) -> Callable[[str], bytes | None]:
    """A reader of earlier-months files trying ``readers`` in turn.

    The files are named by their content, so a copy that matches its name
    is the file, wherever it is: a publish reads the target's from the
    local site when it has it, and asks the target only for one it lacks.
    """

    def read(relative: str) -> bytes | None:
        body = None
        for reader in readers:
            body = reader(relative)
            if body is not None and matches_name(relative, body):
                return body
        return body  # the last one's, to be refused with the reason

    return read


@dataclass(frozen=True, slots=True)
class EarlierMonths:
    """The manifest's link to a dashboard's months before :func:`horizon`."""

    url: str
    months: int
    count: int

    def to_json(self) -> dict[str, Any]:
        """The manifest form."""
        return {"url": self.url, "months": self.months, "count": self.count}


@dataclass(slots=True)
class MonthInfo:
    """How many versions a month holds, the worst status, and its days' shards."""

    count: int = 0
    worst: StatusLevel = StatusLevel.OK
    days: set[str] = field(default_factory=set)
    """``DD`` of the days that have a log shard."""
    checked: set[str] = field(default_factory=set)
    """``DD`` of the days that have a checks file (:mod:`dashsite.store.log`)."""

    def add(self, status: StatusLevel, day: str) -> None:
        """Count one more version, collected on ``day`` (``YYYY-MM-DD``)."""
        self.count += 1
        self.worst = max(self.worst, status)
        self.days.add(day[8:10])


@dataclass(slots=True)
class DashboardRecord:
    """A dashboard as the site knows it: metadata, its latest version, counts by month."""

    slug: str
    title: str
    description: str = ""
    active: bool = True
    latest: LogRecord | None = None
    months: dict[str, MonthInfo] = field(default_factory=dict)
    pages_from: str | None = None
    """``YYYY-MM-DD``: versions collected before this day have no snapshot page (tiers)."""
    data_from: str | None = None
    """``YYYY-MM-DD``: versions collected before this day keep only their log line."""
    group: str = ""
    expected_every: float = 3600.0
    """Seconds between versions the dashboard expects (``expected_every``)."""
    stale: bool = False
    """The latest version is older than twice ``expected_every`` (set by the build)."""
    problem: str = ""
    """Why the latest build filed no version of it (it failed to load or to draw), in one
    line; empty when it did. Its pages still show the version before."""
    settled: str | None = None
    """``YYYY-MM-DD``: the last day whose status summary is written (:mod:`.timeline`)."""
    carry: Mark | None = None
    """The status in force at the end of :attr:`settled`."""
    incident: Incident | None = None
    """The ongoing incident, if any."""
    last_good: dict[str, LogRecord] = field(default_factory=dict)
    """Collector → the newest version where it did not fail."""
    earlier: EarlierMonths | None = None
    """The earlier-months file the manifest on disk links to (its months are in :attr:`months`)."""
    pruned: int = 0
    """Versions ``retention`` has dropped so far: a publish compares it with the target's,
    where a month's count alone can stay the same (one version in, one out)."""
    pruned_recent: list[str] = field(default_factory=list)
    """The folders of the last :data:`PRUNED_RECENT` versions ``retention`` dropped: a
    target whose latest is one of them holds this site's history, behind (``retention =
    1`` prunes the published latest each build), not a history of its own."""
    checked: LogRecord | None = None
    """The newest check, when it is newer than :attr:`latest` (the builds since found the
    data unchanged): when the dashboard was last seen, by which build."""
    key: str = ""
    """What :attr:`latest` was drawn from (its data and template, hashed): a build that
    collects the same files a check, not a version (:mod:`dashsite.store.log`)."""
    failed: int = 0
    """How many collectors failed in :attr:`latest` (the manifest keeps the count, not the
    errors: a manifest read back knows no more)."""

    @property
    def seen(self) -> LogRecord | None:
        """The newest record: the latest check, or else the latest version."""
        return self.checked if self.checked is not None else self.latest

    def check(self, entry: LogRecord) -> None:
        """Count a newly filed check: its collectors that did not fail were last good then
        (with the latest version's values, which it found unchanged)."""
        self.months.setdefault(entry.month, MonthInfo()).checked.add(entry.day[8:10])
        self.months = dict(sorted(self.months.items()))
        if self.checked is None or entry.order >= self.checked.order:
            self.checked = entry
            latest = self.latest
            if latest is not None and entry.same == latest.id:
                self.remember_good(entry, replace(latest, collected_at=entry.collected_at))

    def remember_good(self, entry: LogRecord, good: LogRecord | None = None) -> None:
        """The collectors that ran in ``entry`` without failing: last good there (``good``:
        as which version, a check's being the latest version's at the check's time)."""
        for name in entry.durations:
            if name not in entry.errors:
                self.last_good[name] = good or entry

    def tier(self, entry: LogRecord) -> str:
        """``page``, ``data`` or ``log``: what is still kept of ``entry``."""
        if self.latest is not None and entry.id == self.latest.id:
            return "page"
        day = entry.collected_at[:10]
        if self.data_from is not None and day < self.data_from:
            return "log"
        if self.pages_from is not None and day < self.pages_from:
            return "data"
        return "page"

    @property
    def count(self) -> int:
        """How many versions are kept."""
        return sum(info.count for info in self.months.values())

    def add(self, record: LogRecord) -> None:
        """Count a newly filed version."""
        self.months.setdefault(record.month, MonthInfo()).add(record.status, record.day)
        self.months = dict(sorted(self.months.items()))
        self.take_latest(record)

    def take_latest(self, record: LogRecord) -> None:
        """``record`` is the latest version if it is the newest build (whatever the clock
        said, :mod:`.log`): its key is the filing build's to set, its failures counted, and
        a check older than it is no longer the newest build."""
        if self.latest is None or record.order >= self.latest.order:
            self.latest = record
            self.key = ""
            self.failed = len(record.errors)
            if self.checked is not None and record.order >= self.checked.order:
                self.checked = None

    def _good_json(self, entry: LogRecord) -> str | dict[str, Any]:
        """A collector's last good version as the manifest writes it: ``"latest"`` for the
        latest version (an id alone may recur on another day), ``"checked"`` for the latest
        version seen good at the newest check, else the version's reference."""
        latest, checked = self.latest, self.checked
        if latest is not None and (entry.id, entry.path) == (latest.id, latest.path):
            if entry.collected_at == latest.collected_at:
                return LATEST
            if checked is not None and entry.collected_at == checked.collected_at:
                return CHECKED
        return {k: entry.to_json()[k] for k in ("id", "collected_at", "status", "path")}

    def log_path(self, day: str) -> str:
        """The site-relative log shard of ``day`` (``YYYY-MM-DD``)."""
        return layout.log_shard(self.slug, day)

    def log_paths(self, month: str) -> list[str]:
        """The log shards of ``month`` the manifest knows of, oldest first."""
        info = self.months.get(month)
        return [self.log_path(f"{month}-{day}") for day in sorted(info.days)] if info else []

    def check_paths(self, month: str) -> list[str]:
        """The checks files of ``month`` the manifest knows of, oldest first."""
        info = self.months.get(month)
        days = sorted(info.checked) if info else []
        return [layout.log_checks(self.slug, f"{month}-{day}") for day in days]

    def earlier_file(self, since: str) -> tuple[bytes, EarlierMonths] | None:
        """The file of the months before ``since``: its bytes and the manifest's link to it.

        None when there are no such months. The name is the content's hash,
        so a file, once written, never changes: a build killed before its
        manifest leaves the old manifest linking the old file, still there.
        """
        months = {m: info for m, info in self.months.items() if m < since}
        if not months:
            return None
        body = json.dumps(
            {
                "schema": EARLIER_SCHEMA,
                "dashboard": self.slug,
                "months": [self._month_json(m, info) for m, info in months.items()],
            },
            separators=(",", ":"),
        ).encode()
        name = f"months-{hashlib.sha256(body).hexdigest()[:12]}.json"
        count = sum(info.count for info in months.values())
        return body, EarlierMonths(layout.earlier_months(self.slug, name), len(months), count)

    def _month_json(self, month: str, info: MonthInfo) -> dict[str, Any]:
        """A month as the earlier-months file keeps it (with its log folder and history page:
        the file is written once a month, and its name is its content's hash)."""
        return {
            "month": month,
            "count": info.count,
            "worst": info.worst.slug,
            "log": f"{layout.log_month(self.slug, month)}/",
            "days": day_ranges(info.days),
            **({"checks": day_ranges(info.checked)} if info.checked else {}),
            "history": layout.history_page(self.slug, f"{month}.html"),
        }

    def to_json(
        self, since: str = "0000-00", earlier: EarlierMonths | None = None
    ) -> dict[str, Any]:
        """The manifest form (schema 4, before :data:`DEFAULTED` fields are left to
        ``defaults``): the months from ``since`` on, and ``earlier``, the link to the
        file of those before (:meth:`earlier_file`). URLs are ``urls``' templates."""
        latest = self.latest
        return {
            "slug": self.slug,
            "title": self.title,
            "description": self.description,
            "active": self.active,
            "status": latest.status.slug if latest else None,
            "latest": None
            if latest is None
            else {
                "id": latest.id,
                "collected_at": latest.collected_at,
                "errors": self.failed,
                "path": latest.path,
                **({"seq": latest.seq} if latest.seq else {}),
                **({"key": self.key} if self.key else {}),
            },
            "checked": None
            if self.checked is None
            else {
                "id": self.checked.id,
                "collected_at": self.checked.collected_at,
                **({"seq": self.checked.seq} if self.checked.seq else {}),
            },
            "count": self.count,
            "group": self.group,
            "expected_every": self.expected_every,
            "stale": self.stale,
            **({"problem": self.problem} if self.problem else {}),
            **({"pruned": self.pruned} if self.pruned else {}),
            **({"pruned_recent": self.pruned_recent} if self.pruned_recent else {}),
            "incident": self.incident.to_json() if self.incident else None,
            "status_settled": self.settled,
            "status_carry": self.carry.to_json() if self.carry else None,
            "last_good": {
                name: self._good_json(entry) for name, entry in sorted(self.last_good.items())
            },
            "pages_from": self.pages_from,
            "data_from": self.data_from,
            "months": [
                {
                    "month": month,
                    "count": info.count,
                    "worst": info.worst.slug,
                    "days": day_ranges(info.days),
                    **({"checks": day_ranges(info.checked)} if info.checked else {}),
                }
                for month, info in self.months.items()
                if month >= since
            ],
            **({"earlier": earlier.to_json()} if earlier else {}),
        }


@dataclass(slots=True)
class Manifest:
    """Every dashboard the site holds, in slug order.

    ``legacy`` holds the versions a schema-1 manifest listed, until the store
    writes them into the log (:meth:`VersionStore.upgrade`).
    """

    title: str = "Dashboards"
    dashboards: dict[str, DashboardRecord] = field(default_factory=dict)
    legacy: dict[str, list[LogRecord]] = field(default_factory=dict)
    built_at: datetime | None = None
    """When the build that wrote it ran, by its clock (None: never built)."""
    site_time: datetime | None = None
    """The site's own time at that build, when it differs from ``built_at``: the clock
    jumped ahead further than the site believes (:func:`dashsite.store.clock.site_time`)."""

    def to_json(
        self,
        built_at: datetime,
        assets: dict[str, str],
        earlier: Mapping[str, tuple[bytes, EarlierMonths]],
    ) -> dict[str, Any]:
        """The whole ``manifest.json`` document; ``earlier`` is :meth:`earlier_files`."""
        since = horizon(built_at)
        entries = [
            self.dashboards[slug].to_json(since, earlier[slug][1] if slug in earlier else None)
            for slug in sorted(self.dashboards)
        ]
        defaults = shared_values(entries)
        return {
            "schema": SCHEMA_VERSION,
            "generator": "dashsite",
            "title": self.title,
            "built_at": built_at.astimezone(UTC).isoformat(),
            **(
                {"site_time": self.site_time.astimezone(UTC).isoformat()}
                if self.site_time is not None and self.site_time != built_at
                else {}
            ),
            "assets": assets,
            "urls": URLS,
            "defaults": defaults,
            "dashboards": [
                {k: v for k, v in entry.items() if k not in defaults or v != defaults[k]}
                for entry in entries
            ],
        }

    @staticmethod
    def dumps(document: Mapping[str, Any]) -> str:
        """The file's text: compact (no indentation, no spaces), one line and a newline."""
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"

    def earlier_files(
        self, built_at: datetime, slugs: Iterable[str] | None = None
    ) -> dict[str, tuple[bytes, EarlierMonths]]:
        """Slug → the earlier-months file the manifest built at ``built_at`` links to.

        For ``slugs``, or all: the history pages and the manifest share what the
        build computed once (a worker computes its own dashboards').
        """
        since = horizon(built_at)
        chosen = self.dashboards if slugs is None else slugs
        found = {slug: self.dashboards[slug].earlier_file(since) for slug in chosen}
        return {slug: file for slug, file in found.items() if file is not None}

    @classmethod
    def from_json(cls, raw: Any, read: Callable[[str], bytes | None] | None = None) -> Manifest:
        """Read a ``manifest.json`` (schema 1 to 4); ``ValueError`` if anything is off.

        A manifest may come from a target (``pull``), so it is checked like
        local input: slugs and version ids must be safe, times must parse,
        text must be text. Nothing read here ever becomes a link unchecked.
        ``read`` fetches a site-relative file (None if missing): the
        earlier-months files a schema-3 manifest links to, checked against
        their names' hash and the manifest's counts.
        """
        if not isinstance(raw, dict) or not isinstance(raw.get("dashboards"), list):
            raise ValueError("not a dashsite manifest (no 'dashboards' list)")
        schema = raw.get("schema", 1)
        if schema not in READ_SCHEMAS:
            raise ValueError(f"schema {schema!r} is newer than this dashsite knows")
        manifest = cls(title=checked_text(raw.get("title", "Dashboards"), "title"))
        manifest.built_at = _time_or_none(raw.get("built_at"), "built_at")
        manifest.site_time = _time_or_none(raw.get("site_time"), "site_time")
        defaults = _read_defaults(raw.get("defaults", {})) if schema >= 4 else {}
        for listed in raw["dashboards"]:
            if not isinstance(listed, dict):
                raise ValueError("a dashboard entry must be an object")
            entry = {**defaults, **listed}
            slug = entry.get("slug")
            if not isinstance(slug, str) or not is_slug(slug):
                raise ValueError(f"dashboard slug {str(slug)[:80]!r} is not a safe name")
            active = entry.get("active", True)
            if not isinstance(active, bool):
                raise ValueError(f"dashboard {slug}: 'active' is not true or false")
            record = DashboardRecord(
                slug,
                checked_text(entry.get("title"), f"{slug} title"),
                checked_text(entry.get("description", ""), f"{slug} description"),
                active,
            )
            if schema == 1:
                manifest.legacy[slug] = _legacy_versions(entry, slug)
                for version in manifest.legacy[slug]:
                    record.add(version)
            else:
                _read_entry(entry, record, read, schema)
            manifest.dashboards[slug] = record
        return manifest


def shared_values(entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """For each of :data:`DEFAULTED`, the value most entries have (the first one's on a tie)."""
    found = {}
    for name in DEFAULTED:
        counts = Counter(json.dumps(entry[name], sort_keys=True) for entry in entries)
        if counts:
            found[name] = json.loads(counts.most_common(1)[0][0])
    return found


def _time_or_none(value: Any, name: str) -> datetime | None:
    """A top-level time of the manifest (UTC, ISO 8601), or None when absent."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError(f"'{name}' is not a time")
    moment = datetime.fromisoformat(value)  # ValueError if not a time
    if moment.tzinfo is None:
        raise ValueError(f"'{name}' has no time zone")
    return moment.astimezone(UTC)


def _legacy_versions(entry: dict[str, Any], slug: str) -> list[LogRecord]:
    versions = entry.get("versions")
    if not isinstance(versions, list):
        raise ValueError(f"dashboard {slug}: 'versions' is not a list")
    found = []
    for raw in versions:
        if not isinstance(raw, dict):
            raise ValueError(f"dashboard {slug}: a version must be an object")
        checked_count(raw.get("errors", 0), f"dashboard {slug}: errors")
        found.append(
            LogRecord.from_json({k: raw.get(k) for k in ("id", "collected_at", "status")}, slug)
        )
    if len({v.id for v in found}) != len(found):
        raise ValueError(f"dashboard {slug}: a version id is listed twice")
    return found


def _read_defaults(raw: Any) -> dict[str, Any]:
    """Schema 4's ``defaults``: only fields of :data:`DEFAULTED` (checked where they are used)."""
    if not isinstance(raw, dict) or not set(raw) <= set(DEFAULTED):
        raise ValueError(f"'defaults' holds other than {', '.join(DEFAULTED)}")
    return raw


def _read_entry(
    entry: dict[str, Any],
    record: DashboardRecord,
    read: Callable[[str], bytes | None] | None,
    schema: int,
) -> None:
    """A dashboard of schema 2 to 4 (with schema 4's defaults filled in)."""
    slug = record.slug
    months = entry.get("months")
    if not isinstance(months, list):
        raise ValueError(f"dashboard {slug}: 'months' is not a list")
    recent = _read_months(months, slug)
    if entry.get("earlier") is not None:
        earlier = _read_earlier(entry["earlier"], slug, read)
        if recent and earlier and max(earlier) >= min(recent):
            raise ValueError(f"dashboard {slug}: its earlier months overlap the manifest's")
        record.earlier = EarlierMonths(
            entry["earlier"]["url"], len(earlier), sum(i.count for i in earlier.values())
        )
        record.months.update(earlier)
    record.months.update(recent)
    for name in ("pages_from", "data_from"):
        day = entry.get(name)
        if day is not None:
            if not isinstance(day, str):
                raise ValueError(f"dashboard {slug}: {name} is not a day")
            datetime.strptime(day, "%Y-%m-%d")  # ValueError if not a day
            setattr(record, name, day)
    record.latest = _read_latest(entry, slug, schema)
    if (record.latest is None) != (record.count == 0):
        raise ValueError(f"dashboard {slug}: its latest version and the month counts disagree")
    if record.latest is not None:
        record.failed = checked_count(
            entry.get("latest" if schema >= 4 else "latest_version", {}).get("errors", 0),
            f"dashboard {slug}: latest errors",
        )
        key = entry["latest"].get("key", "") if schema >= 4 else ""
        if not isinstance(key, str) or not KEY.fullmatch(key or "0" * 24):
            raise ValueError(f"dashboard {slug}: its latest version's key is not a key")
        record.key = key
        record.checked = _read_checked(entry.get("checked"), record.latest, slug)
    _read_status(entry, record, schema)


def _read_latest(entry: dict[str, Any], slug: str, schema: int) -> LogRecord | None:
    """Schema 4's ``latest`` (its status is the dashboard's), or the older ``latest_version``."""
    latest = entry.get("latest" if schema >= 4 else "latest_version")
    if latest is None:
        return None
    if not isinstance(latest, dict):
        raise ValueError(f"dashboard {slug}: its latest version is not an object")
    fields = ("id", "collected_at", "path", "seq") + (() if schema >= 4 else ("status",))
    found = {k: latest[k] for k in fields if k in latest}
    if schema >= 4:
        found["status"] = entry.get("status")
    return LogRecord.from_json(found, slug)


KEY = re.compile(r"[0-9a-f]{24}")
"""A data key (:attr:`DashboardRecord.key`): 96 bits of a hash, as hex."""


def _read_checked(raw: Any, latest: LogRecord, slug: str) -> LogRecord | None:
    """The newest check (``checked``), as a record of the latest version's status."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not set(raw) <= {"id", "collected_at", "seq"}:
        raise ValueError(f"dashboard {slug}: 'checked' is not a check")
    found = LogRecord.from_json(
        {**raw, "status": latest.status.slug, "same": latest.id}, slug, check=True
    )
    if found.order <= latest.order:  # (a check older than the latest: it says nothing more)
        return None
    return found


def _read_months(months: list[Any], slug: str) -> dict[str, MonthInfo]:
    found: dict[str, MonthInfo] = {}
    for raw in months:
        if not isinstance(raw, dict):
            raise ValueError(f"dashboard {slug}: a month must be an object")
        month = raw.get("month")
        if not isinstance(month, str) or len(month) != 7 or month[4] != "-":
            raise ValueError(f"dashboard {slug}: month {str(month)[:20]!r} is not YYYY-MM")
        datetime.strptime(month, "%Y-%m")  # ValueError if not a month
        if month in found:
            raise ValueError(f"dashboard {slug}: month {month} is listed twice")
        worst = raw.get("worst")
        if not isinstance(worst, str):
            raise ValueError(f"dashboard {slug}: month {month} has no worst level")
        days = raw.get("days", [])
        listed = parse_day_ranges(days) if isinstance(days, str) else days
        if not isinstance(listed, (list, set)) or not all(_is_day(d) for d in listed):
            raise ValueError(f"dashboard {slug}: month {month} days are not DD or DD-DD ranges")
        checks = raw.get("checks", "")
        checked = parse_day_ranges(checks) if isinstance(checks, str) else None
        if checked is None:
            raise ValueError(f"dashboard {slug}: month {month} checks are not DD-DD ranges")
        found[month] = MonthInfo(
            checked_count(raw.get("count"), f"dashboard {slug}: month {month} count"),
            StatusLevel.parse(worst),
            set(listed),
            checked,
        )
    return dict(sorted(found.items()))


def _read_earlier(
    link: Any, slug: str, read: Callable[[str], bytes | None] | None
) -> dict[str, MonthInfo]:
    """The months of a dashboard's earlier-months file, checked against its link."""
    if not isinstance(link, dict):
        raise ValueError(f"dashboard {slug}: 'earlier' is not an object")
    url = link.get("url")
    name = url[len(layout.log_folder(slug)) + 1 :] if isinstance(url, str) else ""
    if not (
        isinstance(url, str)
        and url.startswith(f"{layout.log_folder(slug)}/")
        and layout.EARLIER_NAME.fullmatch(name)
    ):
        raise ValueError(f"dashboard {slug}: earlier months url {str(url)[:80]!r} is not its own")
    if read is None:
        raise ValueError(f"dashboard {slug}: its earlier months ({url}) were not read")
    body = read(url)
    if body is None:
        raise ValueError(f"dashboard {slug}: {url} is missing")
    if not matches_name(url, body):
        raise ValueError(f"dashboard {slug}: {url} does not match its name (changed or torn)")
    raw = json.loads(body)
    if (
        not isinstance(raw, dict)
        or raw.get("schema") != EARLIER_SCHEMA
        or raw.get("dashboard") != slug
        or not isinstance(raw.get("months"), list)
    ):
        raise ValueError(f"dashboard {slug}: {url} is not its earlier months")
    months = _read_months(raw["months"], slug)
    count = sum(info.count for info in months.values())
    if link.get("months") != len(months) or link.get("count") != count:
        raise ValueError(f"dashboard {slug}: {url} and the manifest's counts disagree")
    return months


def day_ranges(days: set[str]) -> str:
    """``{"01", "02", "03", "07"}`` → ``"01-03,07"``: a month's days, compactly."""
    numbers = sorted(int(day) for day in days)
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return ",".join(f"{a:02d}" if a == b else f"{a:02d}-{b:02d}" for a, b in runs)


def parse_day_ranges(text: str) -> set[str] | None:
    """The days :func:`day_ranges` wrote; ``None`` if ``text`` is not such a list."""
    found: set[str] = set()
    if len(text) > 200:
        return None
    for part in text.split(",") if text else []:
        first, _, last = part.partition("-")
        if not _is_day(first) or not _is_day(last or first) or (last or first) < first:
            return None
        found.update(f"{n:02d}" for n in range(int(first), int(last or first) + 1))
    return found


def _is_day(day: object) -> bool:
    return isinstance(day, str) and len(day) == 2 and day.isdigit() and "01" <= day <= "31"


def _read_status(entry: dict[str, Any], record: DashboardRecord, schema: int) -> None:
    """The status-over-time fields (absent from sites built before them: then recomputed)."""
    slug = record.slug
    record.group = checked_text(entry.get("group", ""), f"{slug} group", 200)
    every = finite_number(entry.get("expected_every", 3600.0))
    if every is None or every <= 0:
        raise ValueError(f"dashboard {slug}: expected_every is not a number of seconds")
    record.expected_every = every
    stale = entry.get("stale", False)
    if not isinstance(stale, bool):
        raise ValueError(f"dashboard {slug}: 'stale' is not true or false")
    record.stale = stale
    record.problem = checked_text(entry.get("problem", ""), f"{slug} problem", MAX_PROBLEM)
    record.pruned = checked_count(entry.get("pruned", 0), f"dashboard {slug}: pruned")
    recent = entry.get("pruned_recent", [])
    if not isinstance(recent, list) or len(recent) > PRUNED_RECENT:
        raise ValueError(f"dashboard {slug}: pruned_recent is not a list of folders")
    record.pruned_recent = [checked_text(path, "a version folder", 300) for path in recent]
    settled = entry.get("status_settled")
    if settled is not None:
        if not isinstance(settled, str):
            raise ValueError(f"dashboard {slug}: status_settled is not a day")
        datetime.strptime(settled, "%Y-%m-%d")  # ValueError if not a day
        record.settled = settled
        if entry.get("status_carry") is not None:
            record.carry = Mark.from_json(entry["status_carry"])
    if entry.get("incident") is not None:
        record.incident = Incident.from_json(entry["incident"], slug)
    last_good = entry.get("last_good", {})
    if not isinstance(last_good, dict) or len(last_good) > 1000:
        raise ValueError(f"dashboard {slug}: last_good is not an object")
    for name, raw in last_good.items():
        if raw == LATEST and schema >= 4 and record.latest is not None:
            good = record.latest
        elif raw == CHECKED and record.latest is not None:  # (no check newer: the latest)
            checked = record.checked
            good = record.latest
            if checked is not None:
                good = replace(good, collected_at=checked.collected_at)
        else:
            good = LogRecord.from_json(raw, slug)
        record.last_good[checked_text(name, "a collector name", 200)] = good
