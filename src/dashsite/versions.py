"""Versions and the manifest: what has been built, kept as plain data.

A version id is unique, sorts by time and is safe in a URL and an S3 key:
``20261127T201500Z``, with ``-01``, ``-02``… for a second build in the same
second. The manifest (``site/manifest.json``) lists every dashboard and its
versions, oldest first; it is the build's memory between runs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import SiteError
from .levels import StatusLevel

MANIFEST_FILE = "manifest.json"
DATA_FILE = "data.json"
SCHEMA_VERSION = 1
VERSION_ID_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")
"""A version id, whole (used with ``fullmatch``: no trailing newline slips through)."""
SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
"""A dashboard's folder name and URL, whole (used with ``fullmatch``)."""
RESERVED_SLUGS = frozenset({"assets", "index.html", "manifest.json", "history", "dashsite"})
SLUG_HINT = (
    "start with a lower-case letter or digit, then use lower-case letters, digits, '-' "
    "or '_' (up to 63; not assets, history or dashsite), e.g. service-health"
)


def is_slug(text: str) -> bool:
    """Whether ``text`` can be a dashboard's folder name and URL."""
    return SLUG_PATTERN.fullmatch(text) is not None and text not in RESERVED_SLUGS


def is_version_id(text: str) -> bool:
    """Whether ``text`` is a safe version id (in a URL, a path and an S3 key)."""
    return VERSION_ID_PATTERN.fullmatch(text) is not None and text not in RESERVED_VERSION_IDS


RESERVED_VERSION_IDS = frozenset({"history", "index.html", "data.json", "assets"})


def check_version_id(version_id: str, taken: set[str]) -> str:
    """Validate a user-given ``--version-id``; refuse an unsafe or existing one."""
    if not is_version_id(version_id):
        raise SiteError(
            f"version id '{version_id}' is not safe in a URL and an S3 key",
            hint="use letters, digits, '.', '-' or '_' (up to 64), e.g. a CI run number",
        )
    if version_id in taken:
        raise SiteError(
            f"version id '{version_id}' already exists",
            hint="versions are immutable: pick a new --version-id",
        )
    return version_id


def new_version_id(now: datetime, taken: set[str]) -> str:
    """A time-based id not in ``taken``: ``20261127T201500Z`` or ``…Z-01``."""
    base = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    if base not in taken:
        return base
    for counter in range(1, 100):
        candidate = f"{base}-{counter:02d}"
        if candidate not in taken:
            return candidate
    raise SiteError(
        f"more than 100 builds within the second {base}", hint="wait a second or pass --version-id"
    )


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """One filed version of one dashboard."""

    id: str
    collected_at: str
    status: StatusLevel
    errors: int = 0

    def to_json(self) -> dict[str, Any]:
        """The manifest form of this record."""
        return {
            "id": self.id,
            "collected_at": self.collected_at,
            "status": self.status.slug,
            "errors": self.errors,
        }

    @classmethod
    def from_json(cls, raw: Any) -> VersionRecord:
        """Read a record back from the manifest, as strictly as local input."""
        if not isinstance(raw, dict):
            raise ValueError("a version must be an object")
        version, collected_at = raw.get("id"), raw.get("collected_at")
        if not isinstance(version, str) or not is_version_id(version):
            raise ValueError(f"version id {str(version)[:80]!r} is not a safe version id")
        if not isinstance(collected_at, str):
            raise ValueError(f"version {version}: collected_at is not a time")
        try:
            when = datetime.fromisoformat(collected_at.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"version {version}: collected_at {collected_at[:40]!r} is not an ISO time"
            ) from None
        status, errors = raw.get("status"), raw.get("errors", 0)
        if not isinstance(status, str):
            raise ValueError(f"version {version}: status is not a level name")
        if isinstance(errors, bool) or not isinstance(errors, int) or errors < 0:
            raise ValueError(f"version {version}: errors is not a count")
        return cls(version, when.isoformat(), StatusLevel.parse(status), errors)


@dataclass(slots=True)
class DashboardRecord:
    """A dashboard as the site knows it: metadata plus its versions, oldest first."""

    slug: str
    title: str
    description: str = ""
    versions: list[VersionRecord] = field(default_factory=list)
    active: bool = True

    @property
    def latest(self) -> VersionRecord | None:
        """The newest version, if any."""
        return self.versions[-1] if self.versions else None

    def to_json(self) -> dict[str, Any]:
        """The manifest form, with relative URLs for each version."""
        latest = self.latest
        return {
            "slug": self.slug,
            "title": self.title,
            "description": self.description,
            "active": self.active,
            "status": latest.status.slug if latest else None,
            "latest": latest.id if latest else None,
            "url": f"{self.slug}/index.html",
            "history_url": f"{self.slug}/history/index.html",
            "versions": [
                {
                    **v.to_json(),
                    "url": f"{self.slug}/{v.id}/index.html",
                    "data": f"{self.slug}/{v.id}/{DATA_FILE}",
                }
                for v in self.versions
            ],
        }


@dataclass(slots=True)
class Manifest:
    """Every dashboard the site holds, in slug order."""

    title: str = "Dashboards"
    dashboards: dict[str, DashboardRecord] = field(default_factory=dict)

    def version_ids(self) -> set[str]:
        """Every version id used by any dashboard."""
        return {v.id for record in self.dashboards.values() for v in record.versions}

    def to_json(self, built_at: datetime, assets: dict[str, str]) -> dict[str, Any]:
        """The whole ``manifest.json`` document."""
        return {
            "schema": SCHEMA_VERSION,
            "generator": "dashsite",
            "title": self.title,
            "built_at": built_at.astimezone(UTC).isoformat(),
            "assets": assets,
            "dashboards": [self.dashboards[slug].to_json() for slug in sorted(self.dashboards)],
        }

    @classmethod
    def from_json(cls, raw: Any) -> Manifest:
        """Read a ``manifest.json`` document; ``ValueError`` if anything in it is off.

        A manifest may come from a target (``pull``), so it is checked like
        local input: slugs and version ids must be safe, times must parse,
        text must be text. Nothing read here ever becomes a link unchecked.
        """
        if not isinstance(raw, dict) or not isinstance(raw.get("dashboards"), list):
            raise ValueError("not a dashsite manifest (no 'dashboards' list)")
        manifest = cls(title=_text(raw.get("title", "Dashboards"), "title"))
        for entry in raw["dashboards"]:
            if not isinstance(entry, dict):
                raise ValueError("a dashboard entry must be an object")
            slug = entry.get("slug")
            if not isinstance(slug, str) or not is_slug(slug):
                raise ValueError(f"dashboard slug {str(slug)[:80]!r} is not a safe name")
            versions = entry.get("versions")
            if not isinstance(versions, list):
                raise ValueError(f"dashboard {slug}: 'versions' is not a list")
            active = entry.get("active", True)
            if not isinstance(active, bool):
                raise ValueError(f"dashboard {slug}: 'active' is not true or false")
            record = DashboardRecord(
                slug,
                _text(entry.get("title"), f"{slug} title"),
                _text(entry.get("description", ""), f"{slug} description"),
                [VersionRecord.from_json(v) for v in versions],
                active,
            )
            if len({v.id for v in record.versions}) != len(record.versions):
                raise ValueError(f"dashboard {slug}: a version id is listed twice")
            manifest.dashboards[record.slug] = record
        return manifest

    @classmethod
    def load(cls, site: Path, shown: str | None = None) -> Manifest:
        """Read ``site/manifest.json``; rebuilt from ``data.json`` files if missing.

        ``shown`` names the file in an error (a staged copy is read under the
        name of the site it came from).
        """
        path = site / MANIFEST_FILE
        if not path.is_file():
            return cls.scan(site)
        try:
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, OSError, RecursionError) as exc:
            raise SiteError(
                f"manifest is unreadable: {exc}",
                path=shown or path,
                hint="restore it (dashsite pull) or delete it to rebuild it "
                "from the versions' data.json files",
            ) from None

    @classmethod
    def scan(cls, site: Path) -> Manifest:
        """Rebuild the manifest from ``<slug>/<version>/data.json`` files."""
        manifest = cls()
        for data_file in sorted(site.glob(f"*/*/{DATA_FILE}")):
            try:
                raw = json.loads(data_file.read_text(encoding="utf-8"))
                slug, version = raw["dashboard"], raw["version"]
                if not (isinstance(slug, str) and is_slug(slug) and slug == data_file.parts[-3]):
                    continue
                if not (isinstance(version, str) and is_version_id(version)):
                    continue
                record = manifest.dashboards.setdefault(
                    slug, DashboardRecord(slug, _text(raw.get("title", slug), "title"))
                )
                record.versions.append(
                    VersionRecord.from_json(
                        {
                            "id": version,
                            "collected_at": raw["collected_at"],
                            "status": raw["status"],
                            "errors": len(raw.get("errors", {})),
                        }
                    )
                )
            except (ValueError, KeyError, TypeError, AttributeError, OSError):
                continue
        for record in manifest.dashboards.values():
            record.versions.sort(key=lambda v: (v.collected_at, v.id))
        return manifest


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or len(value) > 10_000:
        raise ValueError(f"{what} is not text")
    return value


def prune(record: DashboardRecord, retention: int | None) -> list[VersionRecord]:
    """Drop all but the newest ``retention`` versions; return the dropped ones."""
    if retention is None or len(record.versions) <= retention:
        return []
    dropped = record.versions[:-retention]
    record.versions = record.versions[-retention:]
    return dropped
