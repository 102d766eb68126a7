"""The theme's hot pieces, written in Python: the day bars of a status page.

A latest page holds 90 day bars and a month page up to 31; as a Jinja2 macro each
bar costs a macro call, a dozen attribute lookups and as many escapes, which made
the bars the largest cost of a build (a third of the rendering at 1,000 dashboards).
Here a bar is one f-string. The markup is the one ``status.html`` documents: the
theme calls :func:`day_bar_items` through the ``day_bars`` filter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from markupsafe import Markup, escape


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


def day_bar_items(bars: Iterable[Bar], prefix: str | None) -> Markup:
    """The ``<li>`` of each day, for an ``<ol class="day-bars day-bars-roving">``.

    ``prefix`` goes before a bar's history page in its link (``"history/"`` on a
    latest page, ``""`` on a history page); ``None`` links no day (``retention``
    moves rows between pages). Only the last day is a tab stop: the arrow keys
    move along the row (``fresh.js``), so a keyboard user passes the bars in one
    Tab.
    """
    bars = list(bars)
    last = len(bars) - 1
    items = []
    for n, bar in enumerate(bars):
        partial = " day-partial" if bar.partial else ""
        tab = "0" if n == last else "-1"
        label = escape(bar.label)
        if prefix is not None and bar.page:
            href = escape(f"{prefix}{bar.page}#d-{bar.day}")
            inner = (
                f'<a href="{href}" tabindex="{tab}"><span class="visually-hidden">{label}'
                "</span></a>"
            )
        else:
            inner = (
                f'<span class="day-focus" tabindex="{tab}"><span class="visually-hidden">'
                f"{label}</span></span>"
            )
        items.append(f'<li class="day-bar state-{escape(bar.shown)}{partial}">{inner}</li>')
    return Markup("".join(items))  # noqa: S704 - every value above is escaped
