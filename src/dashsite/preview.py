"""The preview build behind ``dashsite serve --watch``.

It renders into its own folder (never ``site/``) and files no version. It
keeps each dashboard's collected data, so a change is rebuilt at the
smallest cost that is still right:

* a template (or any non-Python file) of a dashboard → re-render that one;
* a layout in ``_layouts/`` → re-render every dashboard, collectors not rerun;
* a ``.py`` file in a dashboard folder → re-import it and rerun its collectors;
* a dashboard folder added or removed → it appears in or leaves the index;
* the configuration → everything again.

A failure never stops the server: the page shows an error naming the file
and line until the file is fixed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import escape

from .collection import DashboardData, collect_dashboards, run_coroutine, settle
from .config import CONFIG_FILE, SiteConfig, load_config
from .discover import Dashboard, dashboard_folders, load_dashboard
from .environment import create_environment
from .errors import DashsiteError
from .history import LazyHistory
from .index import TREND_LENGTH, index_entry, write_assets, write_index
from .levels import StatusLevel
from .render import compile_template, render_dashboard_pages, render_template
from .store import MANIFEST_FILE, DashboardRecord, LogRecord, Manifest, VersionStore
from .watch import Change
from .write import SiteFolder

PREVIEW_VERSION = "preview"


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

    def __init__(self, root: Path, folder: Path) -> None:
        self.root = root.resolve()
        self.out = SiteFolder(folder)
        self.config: SiteConfig | None = None
        self.config_error: DashsiteError | None = None
        self.environment: Environment = create_environment()
        self.assets: dict[str, str] = {}
        self.dashboards: dict[str, Dashboard] = {}
        self.data: dict[str, DashboardData] = {}
        self.collected_at: dict[str, datetime] = {}
        self.load_errors: dict[str, DashsiteError] = {}
        self.render_errors: dict[str, DashsiteError] = {}
        self.published = Manifest()
        self._last_index: tuple[Any, ...] | None = None

    @property
    def errors(self) -> dict[str, DashsiteError]:
        """Every dashboard that currently shows an error page, and why."""
        return {**self.render_errors, **self.load_errors}

    # -- what changed ------------------------------------------------------

    def apply(self, changes: Iterable[Change]) -> Rebuild | None:
        """Rebuild what ``changes`` affect; ``None`` when nothing relevant changed."""
        started = time.perf_counter()
        self.out.written = 0
        if self.config is None:
            return self._finish("configuration", self.full_work(), started)
        config = self.config
        reload_slugs: set[str] = set()
        render_slugs: set[str] = set()
        everything = False
        reasons: list[str] = []
        for change in changes:
            path = change.path
            if path.parent == self.root and path.name in {CONFIG_FILE, "pyproject.toml"}:
                return self._finish(f"{path.name} changed", self.full_work(), started)
            try:
                relative = path.resolve().relative_to(config.dashboards_path)
            except ValueError:
                continue
            reasons.append(str(relative))
            slug = relative.parts[0] if relative.parts else ""
            if not slug or len(relative.parts) == 1 or slug.startswith(("_", ".")):
                everything = True  # a layout, or a file shared by every dashboard
            elif path.suffix == ".py" or slug not in self.dashboards:
                reload_slugs.add(slug)
            else:
                render_slugs.add(slug)
        if not (everything or reload_slugs or render_slugs):
            return None
        if everything:  # a layout may now shadow a cached built-in template
            self.environment = create_environment([config.layouts_path, config.dashboards_path])
        collected = self._reload(sorted(reload_slugs))
        targets = set(self.dashboards) if everything else (render_slugs | set(collected))
        targets |= {s for s in reload_slugs if s in self.errors}
        rendered = self._render_all(sorted(targets & (set(self.dashboards) | set(self.errors))))
        self._write_index(force=everything)
        reason = ", ".join(sorted(set(reasons))[:3]) + (" …" if len(set(reasons)) > 3 else "")
        return self._finish(reason, (tuple(collected), tuple(rendered)), started)

    def full(self) -> Rebuild:
        """Load the configuration, every dashboard, run every collector, render all."""
        started = time.perf_counter()
        self.out.written = 0
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
        site_manifest = config.site_path / MANIFEST_FILE
        try:
            self.published = (
                VersionStore(config.site_path).load_manifest()
                if site_manifest.is_file()
                else Manifest()
            )
        except DashsiteError:
            self.published = Manifest()
        for slug in list(self.dashboards):
            self._forget(slug)
        self.load_errors.clear()
        self.render_errors.clear()
        slugs = [folder.name for folder in dashboard_folders(config.dashboards_path)]
        collected = self._reload(slugs)
        rendered = self._render_all(sorted(set(self.dashboards) | set(self.errors)))
        self._write_index()
        return tuple(collected), tuple(rendered)

    # -- the stages, for a few dashboards ---------------------------------

    def _reload(self, slugs: Sequence[str]) -> list[str]:
        """Re-import these dashboards and rerun their collectors (all at once)."""
        assert self.config is not None
        loaded: list[Dashboard] = []
        for slug in slugs:
            folder = self.config.dashboards_path / slug
            self.load_errors.pop(slug, None)
            self.render_errors.pop(slug, None)
            if not folder.is_dir():
                self._forget(slug)
                continue
            try:
                dashboard = load_dashboard(
                    folder, root=self.root, import_timeout=self.config.import_timeout
                )
            except DashsiteError as exc:
                self._forget(slug, keep_page=True)
                self.load_errors[slug] = exc
                continue
            if dashboard is None:
                self._forget(slug)
                continue
            self.dashboards[slug] = dashboard
            loaded.append(dashboard)
        if not loaded:
            return []
        config = self.config
        grouped = run_coroutine(lambda: collect_dashboards(loaded, config))
        now = datetime.now(UTC)
        for dashboard, outcomes in zip(loaded, grouped, strict=True):
            item = settle(dashboard, outcomes, self.root)
            if item.problems:
                self.load_errors[dashboard.slug] = item.problems[0]
                continue
            self.data[dashboard.slug] = item
            self.collected_at[dashboard.slug] = now
        return [d.slug for d in loaded]

    def _forget(self, slug: str, *, keep_page: bool = False) -> None:
        self.dashboards.pop(slug, None)
        self.data.pop(slug, None)
        self.collected_at.pop(slug, None)
        if not keep_page and self.out.exists(slug):
            self.out.remove(slug)

    def _render_all(self, slugs: Sequence[str]) -> list[str]:
        site = self._site_context()  # once: it lists every dashboard
        return [page for slug in slugs for page in [self._render(slug, site)] if page]

    def _render(self, slug: str, site: dict[str, Any]) -> str | None:
        """Render one dashboard's page, or its error page; returns the page's path."""
        page = f"{slug}/index.html"
        self.render_errors.pop(slug, None)
        error = self.load_errors.get(slug)
        if error is None and slug in self.data:
            record = self.published.dashboards.get(slug)
            history = LazyHistory(VersionStore(self._site_path), record, self._history_limit)
            try:
                html, _ = render_dashboard_pages(
                    self.environment,
                    self.data[slug],
                    PREVIEW_VERSION,
                    self.collected_at[slug],
                    history,
                    site,
                    snapshot=False,
                )
            except DashsiteError as exc:
                self.render_errors[slug] = error = exc
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
        listed = [
            {
                "slug": slug,
                "title": d.title,
                "description": d.description,
                "status": self.data[slug].status if slug in self.data else StatusLevel.ERROR,
                "url": f"{slug}/index.html",
            }
            for slug, d in sorted(self.dashboards.items())
        ]
        return {
            "title": self.config.title if self.config else "Dashboards",
            "base_url": self.config.base_url if self.config else "",
            "assets": self.assets,
            # The newest collection, not "now": re-rendering unchanged input gives
            # the same bytes, so an unchanged save writes nothing.
            "built_at": max(self.collected_at.values(), default=None),
            "dashboards": listed,
            "preview": True,
        }

    def _index_key(self) -> tuple[Any, ...]:
        """Everything the index shows; the index is re-rendered only when it changes."""
        return tuple(
            (
                slug,
                d.title if (d := self.dashboards.get(slug)) else "",
                d.description if d else "",
                self.data[slug].status if slug in self.data else None,
                slug in self.errors,
                self.collected_at.get(slug),
            )
            for slug in sorted(set(self.dashboards) | set(self.errors))
        )

    def _write_index(self, *, force: bool = True) -> None:
        key = self._index_key()
        if not force and key == self._last_index:
            return
        self._last_index = key
        store = VersionStore(self._site_path)
        entries = []
        for slug in sorted(set(self.dashboards) | set(self.errors)):
            dashboard = self.dashboards.get(slug)
            published = self.published.dashboards.get(slug)
            record = DashboardRecord(
                slug,
                dashboard.title if dashboard else slug,
                dashboard.description if dashboard else "",
                months=dict(published.months) if published else {},
            )
            recent = store.tail(published, TREND_LENGTH) if published else []
            data = self.data.get(slug)
            status = data.status if data and slug not in self.errors else StatusLevel.ERROR
            moment = self.collected_at.get(slug, datetime.now(UTC))
            preview = LogRecord(PREVIEW_VERSION, moment.astimezone(UTC).isoformat(), status, "")
            record.latest = preview
            entries.append((index_entry(record, [*recent, preview]), True))
        try:
            write_index(self.out, self.environment, entries, self._site_context())
        except DashsiteError as exc:
            self.out.write("index.html", self.error_page([exc.one_line()], root=""))

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
            return render_template(template, context)
        except DashsiteError:
            items = "".join(f"<p><code>{escape(line)}</code></p>" for line in lines)
            return (
                '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
                f"<title>Build error</title></head><body><h1>Build error</h1>{items}</body></html>"
            )

    def _write_error_everywhere(self, error: DashsiteError) -> None:
        lines = error.lines()
        self.out.write("index.html", self.error_page(lines, root=""))
        for slug in list(self.dashboards) + list(self.errors):
            self.out.write(f"{slug}/index.html", self.error_page(lines, root="../"))

    def _finish(
        self, reason: str, work: tuple[tuple[str, ...], tuple[str, ...]], started: float
    ) -> Rebuild:
        collected, rendered = work
        problems: list[str] = []
        if self.config_error is not None:
            problems.extend(self.config_error.lines())
        problems.extend(error.one_line() for error in self.errors.values())
        return Rebuild(
            reason,
            collected,
            rendered,
            tuple(problems),
            time.perf_counter() - started,
            self.out.written,
        )
