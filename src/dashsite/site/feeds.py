"""Atom feeds of incidents: ``feed.xml`` for the site, ``<slug>/feed.xml`` per dashboard.

An entry is one incident (detected or declared in ``incidents/``). Its id
never changes (derived from the dashboard and the version that opened it);
``updated`` moves when the incident grows worse or resolves, so readers show
it again. Links are relative unless ``base_url`` is set (RFC 4287 allows
relative references; they resolve against the feed's own address).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from dashsite.core.xmltext import xml_text
from dashsite.status.timeline import StatusView
from dashsite.store import layout
from dashsite.store.layout import FEED_FILE
from dashsite.store.manifest import DashboardRecord
from dashsite.store.records import Incident
from dashsite.store.write import SiteWriter
from dashsite.types.formats import duration

FEED_ENTRIES = 50
"""Entries in the site's feed."""
DASHBOARD_ENTRIES = 20
"""Entries in a dashboard's feed."""
ATOM_TYPE = "application/atom+xml"


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One incident as a feed tells it."""

    key: str
    """What makes the id: ``<slug>:<start version>`` or ``declared:<file>``."""
    title: str
    summary: str
    published: datetime
    updated: datetime
    link: str
    """Site-relative."""
    level: str


def stable_id(base_url: str, key: str) -> str:
    """A ``urn:uuid:`` that only ``base_url`` and ``key`` decide."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"dashsite:{base_url}:{key}").urn


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def incident_entry(dashboard: str, incident: Incident, now: datetime, link: str) -> FeedEntry:
    """A detected or declared incident as a feed entry."""
    start, end = incident.start, incident.end
    level = "maintenance" if incident.maintenance else incident.worst.slug
    length = duration(incident.duration(now))
    head = f"{dashboard}: {incident.title} · " if incident.title else f"{dashboard}: "
    if end is None:
        heading = f"{head}{level} since {start:%Y-%m-%d %H:%M} UTC (ongoing)"
        told = f"Started {start:%Y-%m-%d %H:%M} UTC, ongoing."  # no running time: no churn
    else:
        heading = f"{head}{level}, resolved after {length}"
        told = f"Started {start:%Y-%m-%d %H:%M} UTC, resolved {end:%Y-%m-%d %H:%M} UTC ({length})."
    lines = [told, *(f"{name}: {message}" for name, message in sorted(incident.failed.items()))]
    if incident.summary:
        lines.append(incident.summary)
    return FeedEntry(
        incident.feed_key, heading, "\n".join(lines), start, incident.updated, link, level
    )


def render_feed(
    *,
    title: str,
    key: str,
    base_url: str,
    self_link: str,
    page_link: str,
    entries: Iterable[FeedEntry],
    fallback_updated: datetime,
    limit: int = FEED_ENTRIES,
) -> str:
    """An Atom 1.0 document (RFC 4287); links are made absolute when ``base_url`` is set."""

    def href(relative: str) -> str:
        return base_url.rstrip("/") + "/" + relative if base_url else relative

    chosen: Sequence[FeedEntry] = sorted(entries, key=lambda e: (e.updated, e.key), reverse=True)[
        :limit
    ]
    updated = max((e.updated for e in chosen), default=fallback_updated)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<id>{stable_id(base_url, key)}</id>",
        f"<title>{escape(title)}</title>",
        f"<updated>{_time(updated)}</updated>",
        f"<author><name>{escape(title)}</name></author>",
        '<generator uri="https://pypi.org/project/dashsite/">dashsite</generator>',
        f'<link rel="self" type="{ATOM_TYPE}" href={quoteattr(href(self_link))}/>',
        f'<link rel="alternate" type="text/html" href={quoteattr(href(page_link))}/>',
    ]
    for entry in chosen:
        parts += [
            "<entry>",
            f"<id>{stable_id(base_url, entry.key)}</id>",
            f"<title>{escape(entry.title)}</title>",
            f"<published>{_time(entry.published)}</published>",
            f"<updated>{_time(entry.updated)}</updated>",
            f'<link rel="alternate" type="text/html" href={quoteattr(href(entry.link))}/>',
            f"<category term={quoteattr(entry.level)}/>",
            f'<content type="text">{escape(entry.summary)}</content>',
            "</entry>",
        ]
    parts.append("</feed>")
    return xml_text("\n".join(parts) + "\n")


def write_feeds(
    writer: SiteWriter,
    dashboards: Sequence[tuple[DashboardRecord, StatusView]],
    *,
    title: str,
    base_url: str,
    now: datetime,
) -> None:
    """``<slug>/feed.xml`` for each dashboard, then the site's ``feed.xml`` (all of them)."""
    everything: dict[str, FeedEntry] = {}
    for record, view in dashboards:
        entries: list[FeedEntry] = []
        for incident in view.incidents[:FEED_ENTRIES]:
            if incident.declared:
                link = incident.url
            else:
                day = incident.start.date().isoformat()
                page = layout.history_page(record.slug, view.history_page(day))
                link = f"{page}#v-{incident.start_id}"
            entry = incident_entry(record.title, incident, now, link)
            if any(e.key == entry.key for e in entries):
                continue  # one incident, one entry: an id is never repeated
            entries.append(entry)
            everything.setdefault(entry.key, entry)
        writer.write(
            layout.feed(record.slug),
            render_feed(
                title=f"{record.title} — {title}",
                key=f"feed:{record.slug}",
                base_url=base_url,
                self_link=layout.feed(record.slug),
                page_link=layout.latest_page(record.slug),
                entries=entries,
                fallback_updated=_first_day(record, now),
                limit=DASHBOARD_ENTRIES,
            ),
        )
    writer.write(
        FEED_FILE,
        render_feed(
            title=title,
            key="feed:site",
            base_url=base_url,
            self_link=FEED_FILE,
            page_link="index.html",
            entries=everything.values(),
            fallback_updated=min((_first_day(r, now) for r, _ in dashboards), default=now),
        ),
    )


def _first_day(record: DashboardRecord, now: datetime) -> datetime:
    """A feed without entries is "updated" when its history began: it changes no more."""
    for month, info in record.months.items():
        if info.days:
            return datetime.fromisoformat(f"{month}-{min(info.days)}T00:00:00+00:00")
    return now
