"""Badges: a shields.io endpoint JSON and a static SVG, per dashboard and for the site.

``<slug>/badge.json`` feeds ``https://img.shields.io/endpoint?url=…``;
``<slug>/badge.svg`` is the same badge drawn here, for sites that should not
depend on shields.io. Both say the status and the 30-day uptime, and say
``stale`` when the latest version is older than expected.
"""

from __future__ import annotations

import json
from collections.abc import Sequence, Set
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from dashsite.core.xmltext import xml_text
from dashsite.status.view import StatusView
from dashsite.store import layout
from dashsite.store.manifest import DashboardRecord
from dashsite.store.write import SiteWriter

COLORS = {
    "ok": ("brightgreen", "#1a7f37"),
    "warning": ("yellow", "#9a6700"),
    "error": ("red", "#cf222e"),
    "critical": ("critical", "#82071e"),
    "failed": ("red", "#cf222e"),
    "stale": ("lightgrey", "#57606a"),
    "no data": ("lightgrey", "#57606a"),
    "archived": ("inactive", "#57606a"),
}
"""Badge state → (shields.io colour name, the SVG's fill: white text passes WCAG AA on each)."""


@dataclass(frozen=True, slots=True)
class Badge:
    """What a badge says."""

    label: str
    state: str
    """A key of :data:`COLORS`."""
    detail: str = ""
    """After the state, e.g. ``99.95 % 30 d``."""

    @property
    def message(self) -> str:
        """``ok · 99.95 % 30 d``."""
        return f"{self.state} · {self.detail}" if self.detail else self.state

    @property
    def is_error(self) -> bool:
        """Red, or stale: shields.io shows it as an error."""
        return self.state in {"error", "critical", "failed", "stale", "no data"}

    def endpoint_json(self) -> str:
        """The shields.io endpoint document (``schemaVersion`` 1)."""
        document: dict[str, Any] = {
            "schemaVersion": 1,
            "label": self.label[:60],
            "message": self.message,
            "color": COLORS[self.state][0],
            "isError": self.is_error,
        }
        return json.dumps(document, ensure_ascii=False) + "\n"

    def svg(self) -> str:
        """A flat badge, sized from the text; ``role="img"`` with the words as its name."""
        label, message = self.label[:60], self.message
        left, right = _text_width(label) + 12, _text_width(message) + 12
        width = left + right
        words = f"{label}: {message}"
        fill = COLORS[self.state][1]
        return xml_text(
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" '
            f'role="img" aria-label={quoteattr(words)}>'
            f"<title>{escape(words)}</title>"
            f'<rect width="{left}" height="20" fill="#444d56"/>'
            f'<rect x="{left}" width="{right}" height="20" fill="{fill}"/>'
            '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" '
            'text-anchor="middle">'
            f'<text x="{left / 2:.1f}" y="14">{escape(label)}</text>'
            f'<text x="{left + right / 2:.1f}" y="14">{escape(message)}</text>'
            "</g></svg>\n"
        )


_NARROW = set("ijlI.,:;'!|() ")
_WIDE = set("mwMW@%")


def _text_width(text: str) -> int:
    """The width of ``text`` in 11 px Verdana, near enough for a badge."""
    total = 0.0
    for char in text:
        if char in _NARROW:
            total += 3.9
        elif char in _WIDE:
            total += 10.5
        elif char.isupper() or char.isdigit():
            total += 7.6
        else:
            total += 6.6
    return round(total)


def dashboard_badge(
    title: str, status: str | None, stale: bool, uptime: str | None, failed: bool = False
) -> Badge:
    """A dashboard's badge: its latest status (or stale, or failed to load), and its uptime."""
    state = "failed" if failed else "no data" if status is None else ("stale" if stale else status)
    return Badge(title, state, uptime or "")


def site_badge(title: str, states: list[str]) -> Badge:
    """The site's badge: ``all ok``, or how many dashboards need attention."""
    if not states:
        return Badge(title, "no data")
    bad = [s for s in states if s != "ok"]
    if not bad:
        return Badge(title, "ok", f"all {len(states)}")
    order = ["critical", "failed", "error", "warning", "stale", "no data"]
    worst = min(bad, key=lambda s: order.index(s) if s in order else len(order))
    return Badge(title, worst, f"{len(bad)} of {len(states)} need attention")


def write_badges(
    writer: SiteWriter,
    dashboards: Sequence[tuple[DashboardRecord, StatusView | None]],
    title: str,
    *,
    failed: Set[str] = frozenset(),
    archived: Sequence[DashboardRecord] = (),
) -> None:
    """``<slug>/badge.json`` and ``badge.svg`` per dashboard, then the site's pair.

    ``failed``: the dashboards that could not be loaded or drawn in this build.
    ``archived``: those whose folder is gone: their badges say so (grey), not the
    status they had when they were last built, and the site's badge leaves them out.
    """
    for record in archived:
        badge = Badge(record.title, "archived")
        writer.write(layout.badge_json(record.slug), badge.endpoint_json())
        writer.write(layout.badge_svg(record.slug), badge.svg())
    states = []
    for record, view in dashboards:
        window = None
        if view is not None and view.uptime:
            window = view.window("30 d") or view.uptime[-1]  # the widest, while history is short
        status = None
        if record.latest is not None:  # (raised by an outage declared in incidents/)
            level = record.latest.status
            status = (view.shown_level(level) if view is not None else level).slug
        badge = dashboard_badge(
            record.title,
            status,
            record.stale,
            f"{window.text} {window.label}" if window and window.ratio is not None else None,
            record.slug in failed,
        )
        states.append(badge.state)
        writer.write(layout.badge_json(record.slug), badge.endpoint_json())
        writer.write(layout.badge_svg(record.slug), badge.svg())
    badge = site_badge(title, states)
    writer.write(layout.badge_json(), badge.endpoint_json())
    writer.write(layout.badge_svg(), badge.svg())
