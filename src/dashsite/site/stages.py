"""What the build's stages hand each other: the site as opened, what retention changed,
what filing a version needs, and when the build happens (:class:`.build.SiteBuilder`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dashsite.status.timeline import Timeline
from dashsite.store.clock import status_time
from dashsite.store.version_store import LogRecord, Manifest, VersionStore


@dataclass(slots=True)
class Opened:
    """What the open stage found: the manifest and what a killed build left."""

    manifest: Manifest
    touched: dict[str, set[str]]
    """Slug → months whose history pages must be redone."""
    adopted: dict[str, list[LogRecord]]
    """Slug → versions a killed build filed, now counted."""
    recovering: bool


@dataclass(slots=True)
class Retained:
    """What retention and the tiers changed."""

    pruned: dict[str, list[str]] = field(default_factory=dict)
    rewritten: dict[str, set[str]] = field(default_factory=dict)
    """Slug → months whose log or pages changed."""
    removed: dict[str, set[str]] = field(default_factory=dict)
    """Slug → months that are gone."""

    def merge(self, more: Retained) -> None:
        """What a later pass changed too."""
        for slug, ids in more.pruned.items():
            self.pruned[slug] = self.pruned.get(slug, []) + ids
        for mine, theirs in ((self.rewritten, more.rewritten), (self.removed, more.removed)):
            for slug, months in theirs.items():
                mine[slug] = mine.get(slug, set()) | months


@dataclass(slots=True)
class Filing:
    """What filing a version needs: the store, the status timeline, the templates, the site."""

    store: VersionStore
    timeline: Timeline
    environment: Any
    manifest: Manifest
    site: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Moment:
    """When this build happens: its version id, the collection time, the build time, and
    the site's own time (:func:`.clock.site_time`, what thinning goes by)."""

    version_id: str
    collected_at: datetime
    built_at: datetime
    site_time: datetime

    @property
    def status_time(self) -> datetime:
        """When the status views are drawn (:func:`.clock.status_time`)."""
        return status_time(self.collected_at, self.site_time, self.built_at)
