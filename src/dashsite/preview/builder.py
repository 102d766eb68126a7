"""The preview build behind ``dashsite serve --watch``.

It renders into its own folder (never ``site/``) and files no version. It
keeps each dashboard's collected data, so a change is rebuilt at the
smallest cost that is still right:

* a template (or any non-Python file) of a dashboard → re-render that one;
* a layout in ``_layouts/`` → re-render every dashboard, collectors not rerun;
* a ``.py`` file in a dashboard folder → re-import it and rerun its collectors;
* a dashboard folder added or removed → it appears in or leaves the index;
* a file of ``incidents/`` → every dashboard re-rendered, collectors not rerun;
* the site's ``manifest.json`` (a build finished) → its history read again, the same;
* the configuration → everything again.

Each latest page shows status over time as the next build would: the
site's history (its log, status files and digests, read through the
build's own :func:`~dashsite.site.context.latest_extra`) with the preview's
run counted as the newest version. Nothing is written into the site: the
caches the build would refresh stay in memory (:class:`ReadOnlySite`).

A failure never stops the server: the page shows an error naming the file
and line until the file is fixed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import escape

from dashsite.collection.dashboard import Dashboard
from dashsite.collection.discover import dashboard_folders, load_source, slug_of
from dashsite.collection.engine import (
    DashboardData,
    collect_dashboards,
    dashboard_data,
    run_coroutine,
)
from dashsite.collection.files import file_of, format_of
from dashsite.core.config import CONFIG_FILE, SiteConfig, load_config
from dashsite.core.errors import DashsiteError, display
from dashsite.core.levels import StatusLevel
from dashsite.preview.watch import FileChange
from dashsite.render.environment import create_environment
from dashsite.render.history import LazyHistory
from dashsite.render.pages import compile_template, render_compiled, render_dashboard_pages
from dashsite.site.context import (
    check_record,
    data_key,
    expected_every,
    hold,
    latest_extra,
    listed,
    pending_record,
    repeats_latest,
    site_context,
)
from dashsite.site.index import (
    TREND_LENGTH,
    index_entry,
    trend_of,
    write_assets,
    write_index,
)
from dashsite.site.unbuilt import render_unbuilt_page
from dashsite.status.incidents import DeclaredIncident, by_dashboard, read_incidents, standing
from dashsite.status.timeline import Timeline
from dashsite.status.view import StatusView
from dashsite.store import layout
from dashsite.store.clock import next_seq
from dashsite.store.layout import MANIFEST_FILE
from dashsite.store.records import parse_time
from dashsite.store.version_store import DashboardRecord, LogRecord, Manifest, VersionStore
from dashsite.store.write import ReadOnlySite, SiteFolder

PREVIEW_VERSION = "preview"


@dataclass(slots=True)
class PreviewEntry:
    """One dashboard as the preview knows it: loaded, collected, or why it shows an error."""

    dashboard: Dashboard | None = None
    data: DashboardData | None = None
    collected_at: datetime | None = None
    load_error: DashsiteError | None = None
    render_error: DashsiteError | None = None
    view: StatusView | None = None
    """Its status over time, as its latest page shows it."""

    @property
    def error(self) -> DashsiteError | None:
        """Why its page is an error page (a load error wins), or None."""
        return self.load_error or self.render_error


@dataclass(frozen=True, slots=True)
class Rebuild:
    """What one rebuild did: why, which collectors ran, what it wrote."""

    reason: str
    collected: tuple[str, ...]
    rendered: tuple[str, ...]
    problems: tuple[str, ...]
    duration: float
    written: int = 0


class PreviewBuilder:
    """Keeps a preview folder in step with a project's dashboards."""

    def __init__(
        self, root: Path, folder: Path, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.root = root.resolve()
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        """When a collection happened (injected in tests, like ``BuildOptions.clock``)."""
        self.out = SiteFolder(folder)
        self.config: SiteConfig | None = None
        self.config_error: DashsiteError | None = None
        self.environment: Environment = create_environment()
        self.assets: dict[str, str] = {}
        self.entries: dict[str, PreviewEntry] = {}
        """Every dashboard folder the preview knows, by slug."""
        self.published = Manifest()
        """The site's manifest, read (never written) when the preview starts."""
        self.store = VersionStore(self._site_path)
        self.timeline = Timeline(self.store, ReadOnlySite(self._site_path))
        self.incidents: list[DeclaredIncident] = []
        """``incidents/``, read as the build reads it."""
        self.history_problem: str | None = None
        """Why the site's history cannot be read (the pages show none), or None."""
        self.incident_problems: list[str] = []
        """The files of ``incidents/`` left out, a line each."""
        self._notes: list[str] = []
        """What this rebuild could not show (a dashboard's status over time)."""
        self._last_index: tuple[Any, ...] | None = None

    @property
    def errors(self) -> dict[str, DashsiteError]:
        """Every dashboard that currently shows an error page, and why."""
        return {slug: e.error for slug, e in self.entries.items() if e.error is not None}

    @property
    def dashboards(self) -> dict[str, Dashboard]:
        """The dashboards loaded now, by slug."""
        return {slug: e.dashboard for slug, e in self.entries.items() if e.dashboard}

    def _shown(self) -> list[str]:
        """The slugs with a page: loaded, or showing an error."""
        return sorted(s for s, e in self.entries.items() if e.dashboard or e.error)

    # -- what changed ------------------------------------------------------

    def apply(self, changes: Iterable[FileChange]) -> Rebuild | None:
        """Rebuild what ``changes`` affect; ``None`` when nothing relevant changed."""
        started = time.perf_counter()
        self.out.written = 0
        self._notes = []
        if self.config is None:
            return self._finish("configuration", self.full_work(), started)
        config = self.config
        reload_slugs: set[str] = set()
        render_slugs: set[str] = set()
        everything = redraw = False
        reasons: list[str] = []
        for change in changes:
            path = change.path
            if path.parent == self.root and path.name in {CONFIG_FILE, "pyproject.toml"}:
                return self._finish(f"{path.name} changed", self.full_work(), started)
            if path == config.site_path / MANIFEST_FILE:  # a build finished: its history
                self._open_history()
                reload_slugs.update(self._overtaken())  # and runs newer than the preview's
            elif path == config.incidents_path or path.is_relative_to(config.incidents_path):
                self._read_incidents()
            else:
                try:
                    relative = path.resolve().relative_to(config.dashboards_path)
                except ValueError:
                    continue
                reasons.append(str(relative))
                slug = relative.parts[0] if relative.parts else ""
                if len(relative.parts) == 1 and format_of(slug) is not None:
                    reload_slugs.add(slug_of(path))  # a kstlib YAML dashboard: all in one file
                elif len(relative.parts) == 1 and slug in self.entries:
                    reload_slugs.add(slug)  # its folder itself (made, moved or removed)
                elif not slug or len(relative.parts) == 1 or slug.startswith(("_", ".")):
                    everything = True  # a layout, or a file shared by every dashboard
                elif path.suffix == ".py" or slug not in self.dashboards:
                    reload_slugs.add(slug)
                else:
                    render_slugs.add(slug)
                continue
            redraw = True  # every page's status over time, collectors not rerun
            render_slugs.update(self._shown())
            reasons.append(display(path, self.root))
        if not (everything or reload_slugs or render_slugs):
            return None
        if everything:  # a layout may now shadow a cached built-in template
            self.environment = create_environment([config.layouts_path, config.dashboards_path])
        collected = self._reload(sorted(reload_slugs))
        targets = set(self.dashboards) if everything else (render_slugs | set(collected))
        targets |= {s for s in reload_slugs if s in self.errors}
        rendered = self._render_all(sorted(targets & set(self._shown())))
        self._write_index(force=everything or redraw)
        reason = ", ".join(sorted(set(reasons))[:3]) + (" …" if len(set(reasons)) > 3 else "")
        return self._finish(reason, (tuple(collected), tuple(rendered)), started)

    def full(self) -> Rebuild:
        """Load the configuration, every dashboard, run every collector, render all."""
        started = time.perf_counter()
        self.out.written = 0
        self._notes = []
        return self._finish("full build", self.full_work(), started)

    def full_work(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The work of :meth:`full`: returns (collected slugs, rendered pages)."""
        try:
            self.config = load_config(self.root)
            self.config_error = None
        except DashsiteError as exc:
            self.config, self.config_error = None, exc
            self._write_error_everywhere(exc)
            return (), ()
        config = self.config
        self.environment = create_environment([config.layouts_path, config.dashboards_path])
        self.assets = write_assets(self.out)
        self._open_history()
        self._read_incidents()
        for slug in list(self.dashboards):
            self._forget(slug)
        self.entries.clear()
        slugs = [slug_of(found) for found in dashboard_folders(config.dashboards_path)]
        collected = self._reload(slugs)
        rendered = self._render_all(self._shown())
        self._write_index()
        return tuple(collected), tuple(rendered)

    # -- the site's history, read only ------------------------------------

    def _open_history(self) -> None:
        """Read the site's manifest; status over time is computed afresh from here on."""
        self.history_problem = None
        site = self._site_path
        self.store = VersionStore(site)
        self.timeline = Timeline(self.store, ReadOnlySite(site))
        try:
            manifest_file = site / MANIFEST_FILE
            self.published = self.store.load_manifest() if manifest_file.is_file() else Manifest()
        except DashsiteError as exc:
            self.published = Manifest()
            self.history_problem = f"{exc.one_line()} (the preview shows no history)"

    def _overtaken(self) -> list[str]:
        """The dashboards the site now holds a newer version of than the preview's run (a
        build beside the preview): their collectors run again, so the page shows a run
        after the site's newest, as the next build would."""
        found = []
        for slug, entry in self.entries.items():
            record = self.published.dashboards.get(slug)
            latest = record.seen if record is not None else None  # (a check too)
            if entry.dashboard is None or latest is None:
                continue
            if entry.collected_at is None or entry.collected_at <= parse_time(latest.collected_at):
                found.append(slug)
        return found

    def _read_incidents(self) -> None:
        """``incidents/``, as the build reads it; a bad file is told and left out."""
        if self.config is None:
            return
        found, problems = read_incidents(self.config.incidents_path, self.config.root)
        self.incidents = found
        self.incident_problems = [problem.one_line() for problem in problems]

    def _record(self, slug: str, dashboard: Dashboard) -> DashboardRecord:
        """The dashboard's history record (an empty one if never built), as a build sees it."""
        assert self.config is not None
        record = self.published.dashboards.get(slug)
        if record is None:
            record = self.published.dashboards[slug] = DashboardRecord(slug, dashboard.title)
        record.title, record.description = dashboard.title, dashboard.description
        record.group = dashboard.group
        record.expected_every = expected_every(dashboard, self.config)
        return record

    def _status(self, entry: PreviewEntry) -> dict[str, Any]:
        """What a build would put beside this run on its latest page: status over time,
        last good values, changes (``{}`` when the site's history cannot be read)."""
        assert self.config is not None and entry.data is not None and entry.collected_at
        data = entry.data
        slug = data.dashboard.slug
        record = self._record(slug, data.dashboard)
        declared = by_dashboard(
            standing(self.incidents, entry.collected_at), sorted(self.dashboards)
        ).get(slug, [])
        try:
            seq = next_seq(self.published)
            pending = pending_record(self.store, data, PREVIEW_VERSION, entry.collected_at, seq)
            if record.latest is not None and repeats_latest(
                self.config, record, data, data_key(data), entry.collected_at
            ):  # the data unchanged: the next build files a check, counted as one
                pending = check_record(
                    self.store, data, PREVIEW_VERSION, entry.collected_at, seq, record.latest
                )
            return latest_extra(
                self.store,
                self.timeline,
                record,
                data,
                pending,
                declared,
                retention=self.config.retention,
            )
        except (DashsiteError, OSError, ValueError) as exc:  # a site damaged under us
            self._notes.append(f"{slug}: status over time not shown: {exc}")
            return {}

    # -- the stages, for a few dashboards ---------------------------------

    def _reload(self, slugs: Sequence[str]) -> list[str]:
        """Re-import these dashboards and rerun their collectors (all at once)."""
        assert self.config is not None
        loaded: list[Dashboard] = []
        for slug in slugs:
            folder = self.config.dashboards_path / slug
            if not folder.is_dir():
                folder = file_of(folder) or folder
            entry = self.entries.setdefault(slug, PreviewEntry())
            entry.load_error = entry.render_error = None
            if not folder.exists():
                self._forget(slug, gone=True)
                continue
            try:
                dashboard = load_source(
                    folder, root=self.root, import_timeout=self.config.import_timeout
                )
            except DashsiteError as exc:
                self._forget(slug, keep_page=True)
                self.entries[slug] = PreviewEntry(load_error=exc)
                continue
            if dashboard is None:
                self._forget(slug)
                continue
            entry.dashboard = dashboard
            loaded.append(dashboard)
        if not loaded:
            return []
        config = self.config
        grouped = run_coroutine(lambda: collect_dashboards(loaded, config, clock=self.clock))
        now = self.clock()
        for dashboard, outcomes in zip(loaded, grouped, strict=True):
            item = dashboard_data(dashboard, outcomes, self.root)
            entry = self.entries[dashboard.slug]
            if item.problems:
                entry.load_error = item.problems[0]
                continue
            entry.data, entry.collected_at = item, now
        return [d.slug for d in loaded]

    def _forget(self, slug: str, *, keep_page: bool = False, gone: bool = False) -> None:
        self.entries.pop(slug, None)
        if keep_page:
            return
        if self.out.exists(slug):
            self.out.remove(slug)
        record = self.published.dashboards.get(slug)
        if gone and record is not None and record.latest is not None and self.config is not None:
            # Gone from dashboards/ but built: the site's page (served where the preview
            # draws none) would say it is up. It says what the next build makes of it.
            page = render_unbuilt_page(
                self.environment, record, "", self._site_context(), archived=True
            )
            self.out.write(layout.latest_page(slug), page)

    def _render_all(self, slugs: Sequence[str]) -> list[str]:
        site = self._site_context()  # once: it lists every dashboard
        return [page for slug in slugs for page in [self._render(slug, site)] if page]

    def _render(self, slug: str, site: dict[str, Any]) -> str | None:
        """Render one dashboard's page, or its error page; returns the page's path."""
        page = layout.latest_page(slug)
        entry = self.entries.setdefault(slug, PreviewEntry())
        entry.render_error = None
        error = entry.load_error
        if error is None and entry.data is not None and entry.collected_at is not None:
            extra = self._status(entry)
            entry.view = extra.get("timeline")
            record = self.published.dashboards.get(slug)
            history = LazyHistory(self.store, record, self._history_limit)
            try:
                html, _ = render_dashboard_pages(
                    self.environment,
                    entry.data,
                    PREVIEW_VERSION,
                    entry.collected_at,
                    history,
                    site,
                    snapshot=False,
                    extra=extra,
                )
            except DashsiteError as exc:
                entry.render_error = error = exc.shown_from(self.root)
            else:
                self.out.write(page, html)
                return page
        if error is None:
            return None
        self.out.write(page, self.error_page([error.one_line()], root="../"))
        return page

    @property
    def _site_path(self) -> Path:
        return self.config.site_path if self.config else self.root / "site"

    @property
    def _history_limit(self) -> int:
        return self.config.history if self.config else 100

    def _site_context(self) -> dict[str, Any]:
        dashboards = [
            listed(
                slug,
                e.dashboard.title,
                e.dashboard.description,
                e.data.status if e.data is not None else StatusLevel.ERROR,
            )
            for slug, e in sorted(self.entries.items())
            if e.dashboard is not None
        ]
        # The newest collection, not "now": re-rendering unchanged input gives
        # the same bytes, so an unchanged save writes nothing.
        built_at = max(
            (e.collected_at for e in self.entries.values() if e.collected_at), default=None
        )
        if self.config is None:  # a configuration error: only its error pages are drawn
            return {"title": "Dashboards", "base_url": "", "assets": self.assets,
                    "built_at": built_at, "dashboards": dashboards, "preview": True,
                    "notices": []}  # fmt: skip
        notices = [*self.incident_problems]  # what the pages leave out: said on each
        if self.history_problem is not None:
            notices.append(self.history_problem)
        return site_context(
            self.config, dashboards, self.assets, built_at, preview=True, notices=notices
        )

    def _index_key(self) -> tuple[Any, ...]:
        """Everything the index shows; the index is re-rendered only when it changes."""
        return tuple(
            (
                slug,
                e.dashboard.title if e.dashboard else "",
                e.dashboard.description if e.dashboard else "",
                e.data.status if e.data is not None else None,
                e.error is not None,
                e.collected_at,
            )
            for slug, e in ((s, self.entries[s]) for s in self._shown())
        )

    def _write_index(self, *, force: bool = True) -> None:
        key = self._index_key()
        if not force and key == self._last_index:
            return
        self._last_index = key
        store = VersionStore(self._site_path)
        entries = []
        for slug in self._shown():
            entry = self.entries[slug]
            dashboard = entry.dashboard
            published = self.published.dashboards.get(slug)
            record = DashboardRecord(
                slug,
                dashboard.title if dashboard else slug,
                dashboard.description if dashboard else "",
                months=dict(published.months) if published else {},
            )
            recent = store.tail(published, TREND_LENGTH) if published else []
            data = entry.data
            status = data.status if data and entry.error is None else StatusLevel.ERROR
            moment = entry.collected_at or self.clock()
            preview = LogRecord(PREVIEW_VERSION, moment.astimezone(UTC).isoformat(), status, "")
            record.latest = preview
            problem = entry.error.one_line() if entry.error is not None else ""
            view = entry.view if entry.error is None else self._past_view(slug, moment)
            trend = trend_of([*recent, preview])
            entries.append((index_entry(record, trend, view, problem=problem), True))
        try:
            write_index(self.out, self.environment, entries, self._site_context())
        except DashsiteError as exc:
            said = exc.shown_from(self.root).one_line()  # (named from the project)
            self._notes.append(f"the index: {said}")
            self.out.write("index.html", self.error_page([said], root=""))

    def _past_view(self, slug: str, now: datetime) -> StatusView | None:
        """A dashboard without a run (it failed to load): its history alone, as the build's
        index shows it."""
        record = self.published.dashboards.get(slug)
        if record is None or record.latest is None:
            return None
        declared = by_dashboard(standing(self.incidents, now), sorted(self.entries)).get(slug, [])
        try:
            self.timeline.ensure(record, hold(record))
            return self.timeline.view(record, now, hold(record), declared)
        except (DashsiteError, OSError, ValueError):
            return None

    # -- errors -------------------------------------------------------------

    def error_page(self, lines: Sequence[str], *, root: str) -> str:
        """The error page (built-in layout; plain HTML if even that fails)."""
        context = {
            "errors": lines,
            "root": root,
            "site": {**self._site_context(), "title": "dashsite preview"},
        }
        try:
            template = compile_template(self.environment, name="error.html")
            return render_compiled(template, context)
        except DashsiteError:
            items = "".join(f"<p><code>{escape(line)}</code></p>" for line in lines)
            return (
                '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
                f"<title>Build error</title></head><body><h1>Build error</h1>{items}</body></html>"
            )

    def _write_error_everywhere(self, error: DashsiteError) -> None:
        lines = error.lines()
        self.out.write("index.html", self.error_page(lines, root=""))
        for slug in self._shown():
            self.out.write(layout.latest_page(slug), self.error_page(lines, root="../"))

    def _finish(
        self, reason: str, work: tuple[tuple[str, ...], tuple[str, ...]], started: float
    ) -> Rebuild:
        collected, rendered = work
        problems: list[str] = []
        if self.config_error is not None:
            problems.extend(self.config_error.lines())
        if self.history_problem is not None:
            problems.append(self.history_problem)
        problems.extend(self.incident_problems + self._notes)
        problems.extend(error.one_line() for error in self.errors.values())
        return Rebuild(
            reason,
            collected,
            rendered,
            tuple(problems),
            time.perf_counter() - started,
            self.out.written,
        )
