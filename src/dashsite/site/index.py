"""The index stage: the site's front page, each dashboard's history, the manifest."""

from __future__ import annotations

import hashlib
import json
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, Template

from dashsite.core import levels, words
from dashsite.core.levels import StatusLevel
from dashsite.render import fragments
from dashsite.render.pages import compile_template, render_compiled
from dashsite.render.parts import CachedMonths, parts_signature
from dashsite.status import model, summaries, timeline
from dashsite.status import view as status_view
from dashsite.status.history_fold import fold_runs
from dashsite.status.model import absorb
from dashsite.status.view import BAR_DAYS, HISTORY_PAGE, DayBar, Planned, StatusView, month_page
from dashsite.store import layout
from dashsite.store.layout import MANIFEST_FILE, MONTHS_PAGE
from dashsite.store.manifest import EarlierMonths
from dashsite.store.parts import PartStore
from dashsite.store.records import Incident
from dashsite.store.version_store import DashboardRecord, LogRecord, Manifest, VersionStore
from dashsite.store.write import SiteWriter
from dashsite.types import formats
from dashsite.types.styles import STYLESHEET

HISTORY_PAGE_SIZE = HISTORY_PAGE
"""Versions on one page of a month (pages fill oldest first, then never change)."""
HISTORY_INDEX_SIZE = 100
"""The newest versions listed on a dashboard's history index."""
"""In ``<slug>/history/``: every finished month (the index lists the last year's)."""
LISTED_MONTHS = 12
"""Months before the build's one the history index lists; older ones are on :data:`MONTHS_PAGE`."""
TREND_LENGTH = 30


def listed_since(moment: datetime) -> str:
    """``YYYY-MM``: the oldest month the history index lists when built at ``moment`` (UTC)."""
    utc = moment.astimezone(UTC)
    months = utc.year * 12 + utc.month - 1 - LISTED_MONTHS
    return f"{months // 12:04d}-{months % 12 + 1:02d}"


def _unlisted(record: DashboardRecord, since: str) -> int:
    """How many months are too old for the history index: :data:`MONTHS_PAGE` shows them."""
    return sum(1 for month in record.months if month < since)


def theme_stylesheet() -> str:
    """The built-in theme's CSS plus the render types' stylesheet."""
    theme = resources.files("dashsite").joinpath("theme/assets/style.css").read_text("utf-8")
    # The render types first: the theme's dark-mode rules must come later to win.
    return "/* render types */\n" + STYLESHEET + "\n" + theme + run_spans_css()


def run_spans_css(days: int = BAR_DAYS) -> str:
    """The rules that let one element of an index card's bars span ``N`` days (``.dN``)."""
    rules = "\n".join(f".day-runs > .d{n} {{ grid-column: span {n}; }}" for n in range(2, days + 1))
    return f"/* an index card's runs of days: .dN spans N of the {days} columns */\n{rules}\n"


@dataclass(frozen=True, slots=True)
class BarRun:
    """Days in a row that an index card draws alike: one element for all of them."""

    shown: str
    """The days' state as drawn (:attr:`DayBar.shown`): its class."""
    partial: bool
    days: int


def bar_runs(bars: Iterable[DayBar]) -> list[BarRun]:
    """The bars as runs of days drawn alike, oldest first (their days add up to the bars')."""
    runs: list[BarRun] = []
    for bar in bars:
        last = runs[-1] if runs else None
        if last is not None and (last.shown, last.partial) == (bar.shown, bar.partial):
            runs[-1] = BarRun(last.shown, last.partial, last.days + 1)
        else:
            runs.append(BarRun(bar.shown, bar.partial, 1))
    return runs


def write_assets(staged: SiteWriter, css: str | None = None) -> dict[str, str]:
    """Write content-hashed assets; returns logical name → site-relative path.

    ``style.css`` (the theme and the render types) and ``fresh.js``, the one
    small script: "updated 7 min ago" and the stale notice, nothing else.
    """
    theme = resources.files("dashsite").joinpath("theme/assets")
    sources = {
        "style.css": css if css is not None else theme_stylesheet(),
        "fresh.js": theme.joinpath("fresh.js").read_text("utf-8"),
    }
    assets = {}
    for name, text in sources.items():
        stem, suffix = name.rsplit(".", 1)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        relative = f"assets/{stem}.{digest}.{suffix}"
        if not staged.exists(relative):
            staged.write(relative, text)
        assets[name] = relative
    return assets


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """What the index shows of one dashboard."""

    slug: str
    title: str
    description: str
    count: int
    latest: LogRecord | None
    trend: list[int]
    timeline: StatusView | None = None
    group: str = ""
    stale: bool = False
    expected_every: float = 3600.0
    problem: str = ""
    """Why it could not be loaded or drawn in the latest build ("" when it was)."""
    seen: LogRecord | None = None
    """When it was last collected: the latest version, or a newer check (data unchanged)."""

    @property
    def level(self) -> StatusLevel | None:
        """The latest version's level, raised by an outage declared in ``incidents/``
        going on now (:meth:`StatusView.shown_level`); None: never built."""
        if self.latest is None:
            return None
        collected = self.latest.status
        return self.timeline.shown_level(collected) if self.timeline is not None else collected

    @property
    def maintenance(self) -> bool:
        """Not OK only through declared maintenance going on now (planned work explains
        every failure, :attr:`StatusView.under_maintenance`): the card and the banner say
        Maintenance, not an outage; the manifest and the badges keep the level."""
        return (
            not self.problem
            and not self.stale
            and self.level not in (None, StatusLevel.OK)
            and self.timeline is not None
            and self.timeline.under_maintenance
        )

    @property
    def attention(self) -> bool:
        """Not OK (but for planned work), stale, failed to load, or never built: someone
        should look."""
        return (
            bool(self.problem) or self.level is None or self.stale or self.level != StatusLevel.OK
        ) and not self.maintenance

    @property
    def state(self) -> str:
        """What the card says: a level's slug, ``failed``, ``unbuilt`` or ``maintenance``."""
        if self.problem:
            return "failed"
        if self.level is None:
            return "unbuilt"
        return "maintenance" if self.maintenance else self.level.slug

    @property
    def rank(self) -> float:
        """Worst first: critical, failed, error, warning, stale, under maintenance, never
        built, ok."""
        if self.problem:
            return 3.5
        level = self.level
        if level is None:
            return 0.5
        if self.maintenance:
            return 0.75
        if level == StatusLevel.OK:
            return 1.0 if self.stale else 0.0
        return 1.0 + list(StatusLevel).index(level)  # warning 2, error 3, critical 4

    @property
    def runs(self) -> list[BarRun]:
        """The 90-day bars as the card draws them (:func:`bar_runs`)."""
        return bar_runs(self.timeline.bars) if self.timeline is not None else []


_RANKS = {level: rank for rank, level in enumerate(StatusLevel)}  # ok 0 … critical 3


def trend_of(recent: Sequence[LogRecord]) -> list[int]:
    """What a card's trend draws of the log's tail ``recent``: its newest statuses' ranks."""
    return [_RANKS[r.status] for r in recent[-TREND_LENGTH:]]


def index_entry(
    record: DashboardRecord,
    trend: Sequence[int],
    timeline: StatusView | None = None,
    *,
    problem: str = "",
) -> IndexEntry:
    """One card: ``trend`` is :func:`trend_of` the log's tail."""
    return IndexEntry(
        record.slug,
        record.title,
        record.description,
        record.count,
        record.latest,
        list(trend),
        timeline,
        record.group,
        record.stale,
        record.expected_every,
        problem,
        record.seen,
    )


def sort_entries(entries: Sequence[IndexEntry], sort: str) -> list[IndexEntry]:
    """By status (worst first, then title) or by title."""
    if sort == "title":
        return sorted(entries, key=lambda e: (e.title.casefold(), e.slug))
    return sorted(entries, key=lambda e: (-e.rank, e.title.casefold(), e.slug))


def group_entries(entries: Sequence[IndexEntry]) -> list[tuple[str, list[IndexEntry]]]:
    """Sections by ``GROUP`` (named groups A to Z, then the ungrouped); one unnamed if none."""
    groups: dict[str, list[IndexEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.group, []).append(entry)
    named = sorted((g for g in groups if g), key=str.casefold)
    return [(g, groups[g]) for g in named] + ([("", groups[""])] if "" in groups else [])


def overall_state(entries: Sequence[IndexEntry]) -> str:
    """The banner's state: the worst level (``failed`` counts as error), else ``stale``,
    else ``maintenance`` (planned work explains every failure)."""
    levels = [
        StatusLevel.ERROR if e.problem or e.level is None else e.level
        for e in entries
        if (e.level is not None or e.problem) and not e.maintenance
    ]
    worst = max(levels, default=StatusLevel.OK)
    if worst == StatusLevel.OK and any(e.attention for e in entries):
        return "stale"
    if worst == StatusLevel.OK and any(e.maintenance for e in entries):
        return "maintenance"
    return worst.slug


def write_index(
    writer: SiteWriter,
    environment: Environment,
    entries: Sequence[tuple[IndexEntry, bool]],
    site: Mapping[str, Any],
    *,
    sort: str = "status",
) -> None:
    """Write ``index.html``: a banner, active dashboards as cards (grouped), archived listed."""
    active = sort_entries([entry for entry, on in entries if on], sort)
    ongoing: list[tuple[list[IndexEntry], Incident]] = []  # a declared incident absorbs
    declared: dict[str, list[IndexEntry]] = {}  # the detected ones it explains (as on its
    for entry in active:  # page), and is one row for all the dashboards it names
        for incident in absorb(entry.timeline.ongoing) if entry.timeline is not None else ():
            if incident.declared and incident.key in declared:
                declared[incident.key].append(entry)
                continue
            names = declared.setdefault(incident.key, []) if incident.declared else []
            names.append(entry)
            ongoing.append((names, incident))
    planned = Planned.across((e.slug, e.title, e.timeline) for e in active)
    context = {
        "site": site,
        "root": "",
        "refresh": site.get("refresh", 0),
        "scheduled": planned,
        "overall": overall_state(active),
        "active": active,
        "groups": group_entries(active),
        "attention": [entry for entry in active if entry.attention],
        "maintenance": [entry for entry in active if entry.maintenance],
        "ongoing": sorted(ongoing, key=lambda pair: (-pair[1].worst, pair[1].start)),
        "archived": [entry for entry, on in entries if not on and entry.count],
    }
    writer.write(
        "index.html", render_compiled(compile_template(environment, name="index.html"), context)
    )


def calendar_parts(site_path: Path, environment: Environment, site: Mapping[str, Any]) -> PartStore:
    """Where this build keeps and finds the history calendars' finished months
    (:mod:`dashsite.store.parts`), signed with what draws them."""
    code = (fragments, formats, layout, levels, model, summaries, timeline, status_view, words,
            sys.modules[__name__])  # fmt: skip
    return PartStore(site_path, parts_signature(environment, site, code))


def history_signature(
    environment: Environment, site: Mapping[str, Any], parts: PartStore, layouts: str = ""
) -> str:
    """What every history page of a build is drawn with besides the dashboard's own status:
    the calendar's code and templates (``parts``), the layout around them and ``layouts``
    (the shared layouts folder's state: what they include), the site's title, address and
    assets. A check whose view draws the same keeps the pages
    (:meth:`.build.SiteBuilder._history`)."""
    drawn = {key: site.get(key) for key in ("title", "base_url", "assets", "words")}
    around = parts_signature(environment, {}, (), ("base.html",))
    text = json.dumps([parts.signature, around, layouts, drawn], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def history_pages(record: DashboardRecord) -> list[str]:
    """The history pages a build draws for a dashboard's new version: the index and the
    latest version's month page (the last of its pages)."""
    latest = record.latest
    if latest is None or latest.month not in record.months:
        return [layout.history_page(record.slug)]
    pages = max(1, math.ceil(record.months[latest.month].count / HISTORY_PAGE_SIZE))
    return [layout.history_page(record.slug), layout.history_page(
        record.slug, month_page(latest.month, pages))]  # fmt: skip


def write_history(
    writer: SiteWriter,
    environment: Environment,
    store: VersionStore,
    record: DashboardRecord,
    site: Mapping[str, Any],
    *,
    appended: bool = True,
    rewritten: Iterable[str] = (),
    removed: Iterable[str] = (),
    view: StatusView | None = None,
    since: str = "0000-00",
    parts: PartStore | None = None,
) -> None:
    """Bring ``<slug>/history/`` up to date, at the cost of what changed.

    The history index (the newest :data:`HISTORY_INDEX_SIZE` versions, the
    months from ``since`` on, a link to :data:`MONTHS_PAGE` when there are
    older ones) is rewritten each time.
    A month's pages hold :data:`HISTORY_PAGE_SIZE` versions each, oldest
    first, so a finished page never changes: after an append only the
    month's last page is rendered (and the one before it, the first time it
    gets a "newer" link). ``rewritten`` months (retention dropped their
    oldest versions) are rendered whole; ``removed`` months lose their pages.
    With ``parts``, the calendar's finished months drawn by an earlier build
    from the same things are taken, not drawn (:mod:`dashsite.render.parts`).
    """
    template = compile_template(environment, name="history.html")
    folder = layout.history_folder(record.slug)
    root = "../../"
    cache = parts.dashboard(record.slug) if parts is not None and view is not None else None

    def month_key(month: str) -> str | None:
        info = record.months.get(month)
        key = view.part_key(month) if view is not None else None
        return None if info is None or key is None else f"{info.count}|{info.worst}|{root}\n{key}"

    base = {
        "site": site,
        "root": root,
        "dashboard": record,
        "timeline": view,
        "months_page": False,
        "earlier_months": 0,
        "cached_month": CachedMonths(cache, month_key),
    }
    for month in removed:
        _drop_pages(writer, folder, month, keep=0)
    for month in rewritten:
        if month not in record.months:
            continue
        entries = store.month(record.slug, month)
        pages = max(1, math.ceil(len(entries) / HISTORY_PAGE_SIZE))
        for page in range(pages, 0, -1):  # newest first: a "newer" link never dangles
            chunk = entries[(page - 1) * HISTORY_PAGE_SIZE : page * HISTORY_PAGE_SIZE]
            _write_month_page(writer, template, base, folder, month, page, pages, chunk)
        _drop_pages(writer, folder, month, keep=pages)
    latest = record.latest
    if appended and latest is not None and latest.month not in set(rewritten):
        month, count = latest.month, record.months[latest.month].count
        pages = math.ceil(count / HISTORY_PAGE_SIZE)
        in_last = count - (pages - 1) * HISTORY_PAGE_SIZE
        fresh_page = in_last == 1 and pages > 1
        wanted = in_last + (HISTORY_PAGE_SIZE if fresh_page else 0)
        tail = _month_tail(store, record, month, wanted)
        _write_month_page(writer, template, base, folder, month, pages, pages, tail[-in_last:])
        if fresh_page:  # then the page before gets its "newer" link to it
            _write_month_page(
                writer, template, base, folder, month, pages - 1, pages, tail[:-in_last]
            )
    newest = store.tail(record, HISTORY_INDEX_SIZE)[::-1]
    months = [
        {"month": month, "count": info.count, "worst": info.worst}
        for month, info in reversed(record.months.items())
        if month >= since
    ]
    earlier = _unlisted(record, since)
    context = {
        **base,
        "versions": newest,
        "rows": fold_runs(newest),
        "months": months,
        "earlier_months": earlier,
        "total": record.count,
        "month": None,
    }
    writer.write(f"{folder}/index.html", render_compiled(template, context))
    if cache is not None:
        cache.save()
    if not earlier and writer.exists(f"{folder}/{MONTHS_PAGE}"):  # no longer linked
        writer.remove(f"{folder}/{MONTHS_PAGE}")


def _month_tail(
    store: VersionStore, record: DashboardRecord, month: str, count: int
) -> list[LogRecord]:
    """The newest ``count`` versions of ``month``, the latest version's month."""
    return store.month_tail(record, month, count)


def _write_month_page(
    writer: SiteWriter,
    template: Template,
    base: Mapping[str, Any],
    folder: str,
    month: str,
    page: int,
    pages: int,
    entries: Sequence[LogRecord],
) -> None:
    context = {
        **base,
        "month": month,
        "page": page,
        "versions": entries,
        "months": [],
        "total": len(entries),
        "older": month_page(month, page - 1) if page > 1 else "",
        "newer": month_page(month, page + 1) if page < pages else "",
    }
    writer.write(f"{folder}/{month_page(month, page)}", render_compiled(template, context))


def _drop_pages(writer: SiteWriter, folder: str, month: str, keep: int) -> None:
    page = keep + 1
    while writer.exists(f"{folder}/{month_page(month, page)}"):
        writer.remove(f"{folder}/{month_page(month, page)}")
        page += 1


def write_manifest(
    writer: SiteWriter,
    manifest: Manifest,
    built_at: datetime,
    assets: dict[str, str],
    earlier: Mapping[str, tuple[bytes, EarlierMonths]],
) -> None:
    """Write ``manifest.json`` (schema in the README): the build's commit point.

    ``earlier`` (:meth:`Manifest.earlier_files`) goes first: files named by
    their content, so one already there is the same file; the ones the
    manifest no longer links to are deleted after it.
    """
    for body, link in earlier.values():
        if not writer.exists(link.url):
            writer.write(link.url, body)
    document = manifest.to_json(built_at, assets, earlier)
    writer.write(MANIFEST_FILE, Manifest.dumps(document))
    for slug, record in manifest.dashboards.items():
        now = earlier[slug][1] if slug in earlier else None
        previous, record.earlier = record.earlier, now
        if previous is None or (now is not None and now.url == previous.url):
            continue
        if writer.exists(previous.url):  # no longer linked
            writer.remove(previous.url)


def write_months_page(
    writer: SiteWriter,
    environment: Environment,
    record: DashboardRecord,
    site: Mapping[str, Any],
    link: EarlierMonths | None,
    since: str,
) -> None:
    """``<slug>/history/months.html``: every finished month, the earlier-months file's.

    Written when the history index will link to it (some month is older than
    ``since``), and then only when that file changes (once a month, or when
    retention drops a month): the page shows just what the file holds, so
    the file's name, which follows its content, says when to redraw it.
    Written before the history index that links to it, and removed after it
    (:func:`write_history`) when no month is that old.
    """
    page = layout.history_page(record.slug, MONTHS_PAGE)
    if link is None or not _unlisted(record, since):
        return  # a page left over goes after the history index stops linking it
    if record.earlier is not None and record.earlier.url == link.url and writer.exists(page):
        return
    finished = list(record.months.items())[: link.months]  # the oldest: months are in order
    months = [
        {"month": month, "count": info.count, "worst": info.worst}
        for month, info in reversed(finished)
    ]
    context = {
        "site": site,
        "root": "../../",
        "dashboard": record,
        "timeline": None,
        "versions": [],
        "months": months,
        "total": link.count,
        "month": None,
        "months_page": True,
        "earlier_months": 0,
    }
    template = compile_template(environment, name="history.html")
    writer.write(page, render_compiled(template, context))
