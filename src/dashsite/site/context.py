"""What pages see beyond a dashboard's own data: the ``site`` variable and a latest page's status.

One place for both, so ``dashsite build`` and the ``serve --watch`` preview
cannot drift apart: the preview draws a dashboard's latest page from the
site's history (read through the same :class:`~dashsite.status.timeline.Timeline`,
writing nothing) plus its own fresh run, counted as the build counts the
version it is filing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from dashsite.collection.dashboard import Dashboard
from dashsite.collection.engine import DashboardData
from dashsite.collection.schedule import every_of
from dashsite.core.config import SiteConfig, every_seconds
from dashsite.core.levels import StatusLevel
from dashsite.core.version import VERSION
from dashsite.core.words import status_words
from dashsite.render.history import last_good_values
from dashsite.status.compare import changes
from dashsite.status.timeline import Timeline
from dashsite.status.view import StatusView
from dashsite.store import layout
from dashsite.store.documents import VersionDocument
from dashsite.store.log import LogRecord
from dashsite.store.manifest import DashboardRecord
from dashsite.store.records import Incident, parse_time
from dashsite.store.version_store import VersionStore


def listed(slug: str, title: str, description: str, status: StatusLevel | None) -> dict[str, Any]:
    """One dashboard as ``site.dashboards`` lists it."""
    return {
        "slug": slug,
        "title": title,
        "description": description,
        "status": status,
        "url": layout.latest_page(slug),
    }


def site_context(
    config: SiteConfig,
    dashboards: Sequence[dict[str, Any]],
    assets: dict[str, str],
    built_at: datetime | None,
    *,
    preview: bool = False,
    notices: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``site`` variable of every page (``dashboards`` made by :func:`listed`).

    A preview has no ``refresh``: live reload shows each change already. Its
    ``notices`` (a bad file of ``incidents/``, say) head every page it draws.
    """
    return {
        "title": config.title,
        "base_url": config.base_url,
        "assets": assets,
        "built_at": built_at,
        "dashboards": list(dashboards),
        "preview": preview,
        "notices": list(notices),
        "refresh": 0 if preview else config.refresh,
        "words": status_words(config.status_words),
    }


def expected_every(dashboard: Dashboard, config: SiteConfig) -> float:
    """Seconds between a dashboard's runs: its own ``EXPECTED_EVERY``, or the site's."""
    return dashboard.expected_every or every_seconds(config.expected_every)


def hold(record: DashboardRecord) -> float:
    """How long a version's status holds: twice the dashboard's ``expected_every``."""
    return 2 * record.expected_every


def version_document(
    item: DashboardData, version_id: str, collected_at: datetime, seq: int = 0
) -> dict[str, Any]:
    """A version's ``data.json``."""
    dashboard = item.dashboard
    at = collected_at.astimezone(UTC).isoformat()
    return VersionDocument(
        dashboard.slug,
        dashboard.title,
        version_id,
        at,
        item.status,
        item.stored,
        item.errors,
        {
            o.name: {
                "duration": round(o.duration, 6),
                "attempts": o.attempts,
                "ok": o.ok and o.name not in item.errors,  # (a value that cannot be stored)
                "collected_at": o.reused_from or at,
                **({"reused": True} if o.reused_from else {}),
            }
            for o in item.outcomes
        },
        seq,
    ).to_json()


def pending_record(
    store: VersionStore, item: DashboardData, version_id: str, collected_at: datetime, seq: int
) -> LogRecord:
    """The log record a run would be filed as (not in the log: the timeline counts it)."""
    document = version_document(item, version_id, collected_at, seq)
    path = f"{layout.version_folder(item.dashboard.slug, version_id, collected_at)}/"
    return store.record_from_data(item.dashboard.slug, document, path)


def data_key(item: DashboardData) -> str:
    """What a version is drawn from, hashed: the collected data, errors and status, and the
    dashboard's template, title and description (and dashsite's release). A build whose key
    equals the latest version's files a check instead of a version (:mod:`.build`).
    Empty when the data cannot be hashed (then a version is filed)."""
    dashboard = item.dashboard
    drawn = [VERSION, item.stored, item.errors, item.status.slug, dashboard.source,
             dashboard.title, dashboard.description]  # fmt: skip
    try:
        text = json.dumps(drawn, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return ""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def repeats_latest(
    config: SiteConfig, record: DashboardRecord, item: DashboardData, key: str, at: datetime
) -> bool:
    """Whether a run collected ``at`` repeats the latest version: then a build files a check
    (a log line), not a version.

    The same :func:`data_key` (data, errors, template, title), on the same UTC day (the
    first build of a day files a version: every day has one, for its bar and its rows),
    with no collector under ``every`` run (its time is kept in ``data.json``:
    :mod:`dashsite.collection.schedule`). Not under ``retention`` (it counts versions), nor
    with ``unchanged = "version"``.
    """
    latest = record.latest
    if (
        config.unchanged != "check"
        or config.retention is not None
        or latest is None
        or not key
        or key != record.key
        or latest.day != at.astimezone(UTC).date().isoformat()
    ):
        return False
    every = every_of(item.dashboard, config)
    return not any(o.name in every and o.reused_from is None for o in item.outcomes)


def check_record(
    store: VersionStore,
    item: DashboardData,
    version_id: str,
    collected_at: datetime,
    seq: int,
    same: LogRecord,
) -> LogRecord:
    """The check a run whose data equals version ``same``'s is filed as: its time, status,
    failed and timed collectors, and ``same``'s id (a check has no folder, nor values)."""
    found = pending_record(store, item, version_id, collected_at, seq)
    return replace(found, path="", values={}, same=same.id)


def latest_status(
    timeline: Timeline,
    record: DashboardRecord,
    pending: LogRecord,
    declared: Sequence[Incident],
    *,
    retention: int | None,
    now: datetime | None = None,
) -> StatusView:
    """The status over time a latest page shows, with ``pending`` as the newest version,
    drawn at its time or ``now`` if later (:func:`.clock.status_time`: a clock set back).

    Days before ``pending``'s are settled first, as a build settles them.
    """
    held = hold(record)
    timeline.ensure(record, held)
    timeline.settle(record, pending.day, held)
    drawn_at = (
        max(parse_time(pending.collected_at), now) if now else parse_time(pending.collected_at)
    )
    view = timeline.view(record, drawn_at, held, declared, pending=pending)
    return kept_view(view, timeline.store, record, retention, pending)


def kept_view(
    view: StatusView,
    store: VersionStore,
    record: DashboardRecord,
    retention: int | None,
    pending: LogRecord | None = None,
) -> StatusView:
    """``view`` as ``retention`` leaves the history: rows move, and an incident begun
    before the oldest version kept has no row to link to. (With ``retention = 1`` and a
    ``pending`` version, that is the one kept: the build prunes the one before it.)"""
    if retention is None:
        return replace(view, linkable=True)
    oldest = pending if retention == 1 and pending is not None else store.oldest(record)
    kept_from = parse_time(oldest.collected_at) if oldest is not None else None
    return replace(view, linkable=False, kept_from=kept_from)


def latest_extra(
    store: VersionStore,
    timeline: Timeline,
    record: DashboardRecord,
    item: DashboardData,
    pending: LogRecord,
    declared: Sequence[Incident],
    *,
    retention: int | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """What a latest page knows beyond its run (``build.*``): the status over time
    (``timeline``, drawn as :func:`latest_status` says), each failed collector's
    ``last_good`` value, the ``changes`` since the version before, and when the page goes
    stale (``stale_after``)."""
    view = latest_status(timeline, record, pending, declared, retention=retention, now=now)
    collected_at = parse_time(pending.collected_at)
    return {
        "timeline": view,
        "last_good": last_good_values(store, record, sorted(item.errors), collected_at),
        # (a check: nothing changed, and the version it repeats shows its own changes)
        "changes": None if pending.is_check else changes_since(store, record.latest, item),
        "stale_after": hold(record),
        "unchanged_since": record.latest if pending.is_check else None,
    }


def changes_since(
    store: VersionStore, previous: LogRecord | None, item: DashboardData
) -> list[Any] | None:
    """What moved since the previous version (None when there is none to compare)."""
    if previous is None:
        return None
    before = store.version_or_none(item.dashboard.slug, previous)
    if before is None:
        return None
    # (its errors from its data.json: the manifest keeps the latest version's count only)
    return changes(before.data, item.stored, before.errors, item.errors)
