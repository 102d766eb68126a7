"""``incidents/index.html``: every incident of the site, declared and detected, by month.

The "Incident" breadcrumb of a declared incident's page leads here, and the
index links to it. A declared incident *absorbs* the detected ones it covers
(same dashboard, inside its window): people read one incident, with the
explanation, instead of two.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment

from dashsite.render.pages import compile_template, render_compiled
from dashsite.render.parts import parts_signature
from dashsite.status.model import absorb, covered
from dashsite.status.view import Planned, StatusView
from dashsite.store import layout
from dashsite.store.manifest import DashboardRecord
from dashsite.store.records import Incident
from dashsite.store.write import SiteWriter

HISTORY_PAGE = f"{layout.INCIDENTS_FOLDER}/{layout.INDEX_PAGE}"
SITE_DETECTED = 100
"""Detected incidents the page lists, newest first, besides the ongoing ones: at 1,000
dashboards a year of them is tens of thousands (megabytes, redrawn every build while
one goes on); each dashboard's history lists all of its own."""


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One incident on the site-wide page."""

    incident: Incident
    dashboards: tuple[tuple[str, str], ...]
    """(slug, title) of the dashboards it concerns."""
    link: str
    """Site-relative: the declared incident's page, or the detected one's row in history."""
    absorbed: int = 0
    """Detected incidents it covers (declared ones only)."""


def history_items(
    shown: Iterable[tuple[DashboardRecord, StatusView]],
) -> tuple[list[HistoryItem], bool]:
    """The incidents the page lists, newest first (ongoing ones before): the views'
    declared ones once, their ongoing ones, and the newest :data:`SITE_DETECTED`
    detected ones resolved; and whether the views hold older resolved detected ones."""
    declared: dict[str, tuple[Incident, list[tuple[str, str]], int]] = {}
    detected: list[HistoryItem] = []
    for record, view in shown:
        own = list(view.incidents)
        kept = absorb(own)
        absorbed = [i for i in own if i not in kept]
        for incident in kept:
            if incident.declared:
                found = declared.setdefault(incident.key, (incident, [], 0))
                count = found[2] + sum(1 for a in absorbed if covered(a, incident))
                found[1].append((record.slug, record.title))
                declared[incident.key] = (found[0], found[1], count)
            else:
                link = view.incident_link(incident)
                detected.append(HistoryItem(incident, ((record.slug, record.title),), link))
    resolved = sorted(
        (item for item in detected if not item.incident.ongoing),
        key=lambda item: item.incident.start,
        reverse=True,
    )
    items = [item for item in detected if item.incident.ongoing] + resolved[:SITE_DETECTED]
    items += [
        HistoryItem(incident, tuple(names), incident.url, count)
        for incident, names, count in declared.values()
    ]
    ordered = sorted(
        items, key=lambda item: (item.incident.ongoing, item.incident.start), reverse=True
    )
    return ordered, len(resolved) > SITE_DETECTED


PAGE_TEMPLATES = ("incidents.html", "status.html", "base.html")
"""What the page is drawn with: a layout overriding either draws it again."""


def write_incident_history(
    writer: SiteWriter,
    environment: Environment,
    shown: Iterable[tuple[DashboardRecord, StatusView]],
    site: Mapping[str, Any],
    now: datetime,
) -> None:
    """Write :data:`HISTORY_PAGE`: the incidents by month, newest first.

    Skipped when what it would say has not changed (a key of its inputs is
    in the page): most builds change no incident, and compiling its template
    is most of its cost.
    """
    months: dict[str, list[HistoryItem]] = {}
    shown = list(shown)
    items, older = history_items(shown)
    planned = Planned.across((record.slug, record.title, view) for record, view in shown)
    for item in items:
        months.setdefault(item.incident.start.strftime("%Y-%m"), []).append(item)
    drawn_with = parts_signature(environment, site, (), PAGE_TEMPLATES)
    key = _key(items, planned, site, now, older, drawn_with)
    marker = f'<meta name="dashsite-inputs" content="{key}">'
    try:
        if marker in (writer.path / HISTORY_PAGE).read_text(encoding="utf-8"):
            return
    except (OSError, UnicodeDecodeError):
        pass  # not there yet, or damaged: written below
    context = {
        # No build time in the footer: the page changes only when an incident does, so a
        # build's cost stays what it was (an ongoing one's duration changes each build).
        "site": {**site, "built_at": None},
        "root": "../",
        "months": list(months.items()),
        "scheduled": planned,
        "older": older,
        "limit": SITE_DETECTED,
        "now": now,
        "refresh": site.get("refresh", 0),
    }
    template = compile_template(environment, name="incidents.html")
    page = render_compiled(template, context)
    writer.write(HISTORY_PAGE, page.replace("</head>", f"{marker}\n</head>", 1))


def _key(
    items: Sequence[HistoryItem],
    planned: Planned,
    site: Mapping[str, Any],
    now: datetime,
    older: bool,
    drawn_with: str,
) -> str:
    """A digest of everything the page shows, and of what draws it (``drawn_with``: the
    release, the templates as a layout may override them)."""
    ongoing = any(item.incident.ongoing for item in items)
    parts = [
        repr(
            (
                i.incident.start,
                i.incident.end,
                i.incident.worst,
                i.incident.title,
                i.incident.maintenance,
                i.dashboards,
                i.link,
                i.absorbed,
            )
        )
        for i in items
    ]
    parts += [
        repr((i.key, i.title, i.start, i.end, planned.dashboards[i.key])) for i in planned.incidents
    ]
    parts += [repr(site.get(k)) for k in ("title", "assets", "words", "refresh", "base_url")]
    parts.append(now.isoformat() if ongoing else "")  # an ongoing one's duration moves
    parts.append(str(int(older)))
    parts.append(drawn_with)
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]
