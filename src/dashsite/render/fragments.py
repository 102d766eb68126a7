"""The theme's hot pieces, written in Python: the day bars of a status page.

A latest page holds 90 day bars and a month page up to 31; as a Jinja2 macro each
bar costs a macro call, a dozen attribute lookups and as many escapes, which made
the bars the largest cost of a build (a third of the rendering at 1,000 dashboards).
Here a bar is one f-string. The markup is the one ``status.html`` documents: the
theme calls :func:`day_bar_items` through the ``day_bars`` filter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from dashsite.core.levels import StatusLevel
from dashsite.core.words import status_word
from dashsite.store.log import LOGGED_TIME
from dashsite.types.formats import isotime, number, timestamp
from dashsite.types.renderables import StatusCell


def _text(value: str) -> str:
    """``escape(value)`` as a plain string: markupsafe's five replacements, with no
    ``Markup`` made for a piece that goes straight into an f-string (90 bars and 200
    rows a page made that a tenth of a build)."""
    return (
        value.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


class Bar(Protocol):
    """What a day bar needs of the status layer's ``DayBar``."""

    @property
    def day(self) -> str: ...

    @property
    def page(self) -> str: ...

    @property
    def shown(self) -> str: ...

    @property
    def partial(self) -> bool: ...

    @property
    def label(self) -> str: ...


class Incident(Protocol):
    """What a day's detail names of an incident (the store's ``Incident``)."""

    @property
    def title(self) -> str: ...

    @property
    def worst(self) -> StatusLevel: ...

    @property
    def start(self) -> datetime: ...


class Touching(Protocol):
    """An incident that touched a day, and where it is read (the status layer's
    ``DayIncident``)."""

    @property
    def incident(self) -> Incident: ...

    @property
    def link(self) -> str: ...


def day_bar_items(
    bars: Iterable[Bar],
    prefix: str | None,
    touched: Mapping[str, Sequence[Touching]] | None = None,
    root: str = "",
    word: Callable[[StatusLevel], str] | None = None,
) -> Markup:
    """The ``<li>`` of each day, for an ``<ol class="day-bars day-bars-roving">``.

    ``prefix`` goes before a bar's history page in its link (``"history/"`` on a
    latest page, ``""`` on a history page); ``None`` links no day (``retention``
    moves rows between pages). Only the last day is a tab stop: the arrow keys
    move along the row (``fresh.js``), so a keyboard user passes the bars in one
    Tab. ``touched`` gives a day's incidents, linked in its detail (``root``
    before their site-relative links; a detected one named by ``word`` of its level).
    """
    bars = list(bars)
    last = len(bars) - 1
    items = []
    for n, bar in enumerate(bars):
        partial = " day-partial" if bar.partial else ""
        tab = "0" if n == last else "-1"
        label = _text(bar.label)
        if prefix is not None and bar.page:
            href = _text(f"{prefix}{bar.page}#d-{bar.day}")
            inner = (
                f'<a class="day-focus" href="{href}" tabindex="{tab}">'
                f'<span class="visually-hidden">{label}</span></a>'
            )
        else:
            inner = (
                f'<span class="day-focus" tabindex="{tab}"><span class="visually-hidden">'
                f"{label}</span></span>"
            )
        if touched and bar.day in touched:
            inner += _day_incidents(bar.day, touched[bar.day], tab, root, word)
        items.append(f'<li class="day-bar state-{_text(bar.shown)}{partial}">{inner}</li>')
    return Markup("".join(items))  # noqa: S704 - every value above is escaped


def _day_incidents(
    day: str,
    found: Sequence[Touching],
    tab: str,
    root: str,
    word: Callable[[StatusLevel], str] | None,
) -> str:
    """A day's incidents, linked: a declared one by its title, a detected one by its level's
    word and when it began (its time alone when that was this day)."""
    links = []
    for touching in found:
        incident = touching.incident
        if incident.title:
            name = incident.title
        else:
            begun = isotime(incident.start)[:10] == day
            when = timestamp(incident.start, "%H:%M UTC" if begun else "%Y-%m-%d %H:%M UTC")
            said = word(incident.worst) if word is not None else incident.worst.slug
            name = f"{said} from {when}"
        href = escape(root + touching.link)
        links.append(f'<a href="{href}" tabindex="{tab}">{escape(name)}</a>')
    head = "Incident" if len(links) == 1 else "Incidents"
    return f'<span class="day-incidents visually-hidden">{head}: {", ".join(links)}</span>'


@pass_context
def day_bars(
    context: Context,
    bars: Iterable[Bar],
    prefix: str | None,
    touched: Mapping[str, Sequence[Touching]] | None = None,
    root: str = "",
) -> Markup:
    """The ``<li>`` of each day, for an ``<ol class="day-bars day-bars-roving">``.

    ``prefix`` goes before a bar's history page in its link (``"history/"`` on a
    latest page, ``""`` on a history page); ``None`` links no day (``retention``
    moves rows between pages). Only the last day is a tab stop: the arrow keys
    move along the row (``fresh.js``), so a keyboard user passes the bars in one
    Tab. ``touched`` (``timeline.touched(bars)``) gives each day's incidents, linked
    in the day's detail after ``root``; a detected one is named in the site's status
    words.
    """
    return day_bar_items(bars, prefix, touched, root, lambda level: status_word(context, level))


class Version(Protocol):
    """What a history row needs of the store's ``LogRecord``."""

    @property
    def id(self) -> str: ...

    @property
    def day(self) -> str: ...

    @property
    def collected_at(self) -> str: ...

    @property
    def status(self) -> StatusLevel: ...

    @property
    def errors(self) -> Sequence[str]: ...

    @property
    def url(self) -> str: ...

    @property
    def data_url(self) -> str: ...


@pass_context
def version_rows(context: Context, versions: Iterable[Any], month: str | None = None) -> Markup:
    """The ``<tr>`` of each version of a history table (``history.html``), a line each.

    ``versions`` are log records, or on the history index rows that may fold a
    run of alike versions (``.folded``, ``.newest``, ``.oldest``, ``.count``). On a
    ``month`` page the first row of each day carries the day's anchor
    (``#d-2026-11-27``), where the day bars link. A history page lists up to
    200 rows and one is rendered every build, so this is Python, not a loop of
    the template (a third of a build at a year of 5-minute history).
    """

    def render(value: Any) -> Any:
        return context.environment.call_filter("render", value, context=context)

    dashboard, root = context["dashboard"], context["root"]
    badges: dict[Any, str] = {}  # a few distinct ones: each rendered once

    def badge(level: StatusLevel) -> str:
        if level not in badges:
            badges[level] = str(render(StatusCell(status_word(context, level), level)))
        return badges[level]

    lines = []
    previous = None
    for item in versions:
        if getattr(item, "folded", False):
            new, old = item.newest, item.oldest
            lines.append(
                f'<tr id="v-{_text(new.id)}" class="history-run"><td>{_text(old.id)} … '
                f"{_text(new.id)}</td><td>{_time(old.collected_at)} to "
                f"{_time(new.collected_at)}</td><td>{badge(new.status)}</td><td>— "
                f"({number(item.count)} versions alike)</td></tr>\n"
            )
            continue
        v: Version = getattr(item, "newest", item)
        anchor = f' id="d-{_text(v.day)}"' if month and previous != v.day else ""
        previous = v.day
        kept = dashboard.tier(v)
        if kept == "page":
            shown = f'<a href="{_text(root + v.url)}">{_text(v.id)}</a>'
        elif kept == "data":
            shown = f'{_text(v.id)} (<a href="{_text(root + v.data_url)}">data</a>)'
        else:
            shown = _text(v.id)
        failed = ", ".join(_text(e) for e in v.errors) if v.errors else "—"
        lines.append(
            f'<tr id="v-{_text(v.id)}"><td{anchor}>{shown}</td><td>{_time(v.collected_at)}'
            f"</td><td>{badge(v.status)}</td><td>{failed}</td></tr>\n"
        )
    return Markup("".join(lines))  # noqa: S704 - every value above is escaped


def _time(value: str) -> str:
    """A log record's time (``2026-11-27T20:15:03.5+00:00``, as the log keeps it) as a
    ``<time>``: read from the text itself, as :func:`isotime` and :func:`timestamp`
    would write it."""
    if LOGGED_TIME.fullmatch(value):  # (digits and signs only: nothing to escape)
        return f'<time datetime="{value[:19]}Z">{value[:10]} {value[11:16]} UTC</time>'
    return f'<time datetime="{isotime(value)}">{_text(timestamp(value))}</time>'
