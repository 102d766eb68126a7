"""Atom feeds of incidents: ``feed.xml`` for the site, ``<slug>/feed.xml`` per dashboard.

An entry is one incident (detected or declared in ``incidents/``). Its id
never changes (derived from the dashboard and the version that opened it);
``updated`` moves when the incident grows worse or resolves, so readers show
it again. Links are relative unless ``base_url`` is set (RFC 4287 allows
relative references; they resolve against the feed's own address).

Beside each feed, ``feed.html`` shows the same entries as a page with the
site's look, and says how to subscribe: a feed opened in a browser is a raw
XML tree. (An XSL stylesheet would render the feed itself, but browsers are
removing XSLT: Chromium 156 still applies one, under a red banner telling the
visitor that the site's functionality is about to stop working.) The index
and the latest pages link the pages; the feed names its page in a comment,
which a browser's XML view shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from xml.sax.saxutils import escape, quoteattr

from dashsite.core.xmltext import xml_text
from dashsite.status.model import absorb
from dashsite.status.view import StatusView
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
FEED_COMMENT = (
    "<!-- An Atom feed of incidents: give its address to a feed reader to follow them."
    f" {layout.FEED_PAGE}, beside it, shows the same entries as a page. -->"
)
"""What a browser showing the feed's XML tree shows first (a comment: readers skip it)."""


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


class PageRenderer(Protocol):
    """Draws a theme template as a page of the site, at ``relative`` (its links follow)."""

    def __call__(self, template: str, relative: str, context: Mapping[str, Any]) -> str:
        """The page's HTML."""
        ...


def stable_id(base_url: str, key: str) -> str:
    """A ``urn:uuid:`` that only ``base_url`` and ``key`` decide."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"dashsite:{base_url}:{key}").urn


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _names(titles: Sequence[str], of: int, shown: int = 3) -> str:
    """``Api, Db and 4 more``, or ``All dashboards`` when ``titles`` are all ``of`` them."""
    if len(titles) == of > 1:
        return "All dashboards"
    if len(titles) <= shown:
        return ", ".join(titles)
    return f"{', '.join(titles[:shown])} and {len(titles) - shown} more"


def incident_entry(dashboard: str, incident: Incident, now: datetime, link: str) -> FeedEntry:
    """A detected or declared incident as a feed entry."""
    start, end = incident.start, incident.end
    level = "maintenance" if incident.maintenance else incident.worst.slug
    span = incident.duration(now)
    head = f"{dashboard}: {incident.title} · " if incident.title else f"{dashboard}: "
    if end is None:
        heading = f"{head}{level} since {start:%Y-%m-%d %H:%M} UTC (ongoing)"
        told = f"Started {start:%Y-%m-%d %H:%M} UTC, ongoing."  # no running time: no churn
    elif span is None:  # its end is dated before its start
        heading = f"{head}{level}, resolved"
        told = (
            f"Started {start:%Y-%m-%d %H:%M} UTC, resolved {end:%Y-%m-%d %H:%M} UTC "
            "(dated before its start: a clock was set back)."
        )
    else:
        length = duration(span)
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
    """An Atom 1.0 document (RFC 4287); links are made absolute when ``base_url`` is set,
    else relative to the feed's own address (``self_link``, site-relative)."""
    up = "../" * self_link.count("/")  # a dashboard's feed is a folder below the site's

    def href(relative: str) -> str:
        return absolute(base_url, relative) if base_url else up + relative

    chosen = newest(entries, limit)
    updated = max((e.updated for e in chosen), default=fallback_updated)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        FEED_COMMENT,
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


def absolute(base_url: str, relative: str) -> str:
    """``relative`` (site-relative) under ``base_url``; as it is without one."""
    return base_url.rstrip("/") + "/" + relative if base_url else relative


def newest(entries: Iterable[FeedEntry], limit: int) -> list[FeedEntry]:
    """The ``limit`` entries a feed holds: the most recently updated first."""
    return sorted(entries, key=lambda e: (e.updated, e.key), reverse=True)[:limit]


def render_feed_page(
    pages: PageRenderer,
    *,
    title: str,
    base_url: str,
    xml: str,
    about: tuple[str, str],
    entries: Iterable[FeedEntry],
    limit: int,
) -> str:
    """The page beside the feed ``xml`` (site-relative): its entries, how to subscribe.

    ``about`` is (title, site-relative link) of what the feed follows: the
    site's index or a dashboard's latest page.
    """
    relative = xml.removesuffix(FEED_FILE) + layout.FEED_PAGE
    context = {
        "feed": {
            "title": title,
            "xml": FEED_FILE,  # beside the page
            "url": absolute(base_url, xml) if base_url else "",
            "about": {"title": about[0], "url": about[1]},
            "limit": limit,
        },
        "entries": newest(entries, limit),
    }
    return pages("feed.html", relative, context)


def write_feeds(
    writer: SiteWriter,
    dashboards: Sequence[tuple[DashboardRecord, StatusView]],
    *,
    title: str,
    base_url: str,
    now: datetime,
    pages: PageRenderer | None = None,
) -> None:
    """``<slug>/feed.xml`` for each dashboard, then the site's ``feed.xml`` (all of them);
    with ``pages``, each one's ``feed.html`` beside it."""
    everything: dict[str, FeedEntry] = {}
    named: dict[str, list[str]] = {}  # a declared incident's key → the dashboards it names
    for record, view in dashboards:
        entries: list[FeedEntry] = []
        for incident in absorb(view.incidents)[:FEED_ENTRIES]:  # as the pages list them: a
            # declared incident tells of the detected ones it explains (planned work's too)
            entry = incident_entry(record.title, incident, now, view.incident_link(incident))
            if any(e.key == entry.key for e in entries):
                continue  # one incident, one entry: an id is never repeated
            entries.append(entry)
            everything.setdefault(entry.key, entry)
            if incident.declared:  # the site's feed names every dashboard it names, once
                titles = named.setdefault(entry.key, [])
                titles.append(record.title)
                if len(titles) > 1:
                    everything[entry.key] = incident_entry(
                        _names(titles, len(dashboards)), incident, now, entry.link
                    )
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
        if pages is not None:
            writer.write(
                layout.feed_page(record.slug),
                render_feed_page(
                    pages,
                    title=f"{record.title} — {title}",
                    base_url=base_url,
                    xml=layout.feed(record.slug),
                    about=(record.title, layout.latest_page(record.slug)),
                    entries=entries,
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
            page_link=layout.INDEX_PAGE,
            entries=everything.values(),
            fallback_updated=min((_first_day(r, now) for r, _ in dashboards), default=now),
        ),
    )
    if pages is not None:
        writer.write(
            layout.FEED_PAGE,
            render_feed_page(
                pages,
                title=title,
                base_url=base_url,
                xml=FEED_FILE,
                about=(title, layout.INDEX_PAGE),
                entries=everything.values(),
                limit=FEED_ENTRIES,
            ),
        )


def _first_day(record: DashboardRecord, now: datetime) -> datetime:
    """A feed without entries is "updated" when its history began: it changes no more."""
    for month, info in record.months.items():
        if info.days:
            return datetime.fromisoformat(f"{month}-{min(info.days)}T00:00:00+00:00")
    return now
