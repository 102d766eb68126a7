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
VERSION_ID_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")
RESERVED_VERSION_IDS = frozenset({"history", "index.html", "data.json", "assets"})


def check_version_id(version_id: str, taken: set[str]) -> str:
    """Validate a user-given ``--version-id``; refuse an unsafe or existing one."""
    if not VERSION_ID_PATTERN.match(version_id) or version_id in RESERVED_VERSION_IDS:
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
    def from_json(cls, raw: dict[str, Any]) -> VersionRecord:
        """Read a record back from the manifest."""
        return cls(
            str(raw["id"]),
            str(raw["collected_at"]),
            StatusLevel.parse(raw["status"]),
            int(raw.get("errors", 0)),
        )


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
        """Read a ``manifest.json`` document; ``ValueError`` if it is malformed."""
        try:
            manifest = cls(title=str(raw.get("title", "Dashboards")))
            for entry in raw["dashboards"]:
                record = DashboardRecord(
                    str(entry["slug"]),
                    str(entry["title"]),
                    str(entry.get("description", "")),
                    [VersionRecord.from_json(v) for v in entry["versions"]],
                    bool(entry.get("active", True)),
                )
                manifest.dashboards[record.slug] = record
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"missing or malformed field: {exc}") from None
        return manifest

    @classmethod
    def load(cls, site: Path) -> Manifest:
        """Read ``site/manifest.json``; rebuilt from ``data.json`` files if missing."""
        path = site / MANIFEST_FILE
        if not path.is_file():
            return cls.scan(site)
        try:
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise SiteError(
                f"manifest is unreadable: {exc}",
                path=path,
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
                slug, version = str(raw["dashboard"]), str(raw["version"])
                record = manifest.dashboards.setdefault(
                    slug, DashboardRecord(slug, str(raw.get("title", slug)))
                )
                record.versions.append(
                    VersionRecord(
                        version,
                        str(raw["collected_at"]),
                        StatusLevel.parse(raw["status"]),
                        len(raw.get("errors", {})),
                    )
                )
            except (ValueError, KeyError, TypeError):
                continue
        for record in manifest.dashboards.values():
            record.versions.sort(key=lambda v: (v.collected_at, v.id))
        return manifest


def prune(record: DashboardRecord, retention: int | None) -> list[VersionRecord]:
    """Drop all but the newest ``retention`` versions; return the dropped ones."""
    if retention is None or len(record.versions) <= retention:
        return []
    dropped = record.versions[:-retention]
    record.versions = record.versions[-retention:]
    return dropped
