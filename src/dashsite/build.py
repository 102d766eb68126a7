"""``dashsite build``: discover → collect → render → version/write → index.

Everything happens in a staged copy of the site under the build lock; the
copy is swapped in at the end, so a failed or killed build leaves the
previous site whole. A dashboard that cannot be built (bad module, template
error, unstorable data) is reported and skipped; the others still build.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .collect import DashboardData, collect_dashboards, run_coroutine, settle
from .config import SiteConfig
from .discover import Dashboard, discover
from .environment import create_environment
from .errors import ConfigError, DashboardError, DashsiteError, RenderError, display
from .history import LazyHistory
from .index import write_assets, write_history, write_index, write_manifest
from .levels import StatusLevel
from .render import render_dashboard_pages, render_failure_pages
from .reporter import Event, NullReporter, Reporter
from .versions import (
    DATA_FILE,
    MANIFEST_FILE,
    SCHEMA_VERSION,
    DashboardRecord,
    Manifest,
    VersionRecord,
    check_version_id,
    new_version_id,
    prune,
)
from .write import BuildLock, StagedSite


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """What one ``dashsite build`` was asked to do."""

    version_id: str | None = None
    only: frozenset[str] | None = None
    strict: bool = False
    lock_timeout: float | None = None
    executor: Executor | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class DashboardBuild:
    """How one dashboard fared in a build."""

    slug: str
    status: StatusLevel | None
    version: str | None
    errors: dict[str, str] = field(default_factory=dict)
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class BuildResult:
    """The outcome of a build, for the CLI summary and ``--json``."""

    version_id: str
    site: Path
    dashboards: tuple[DashboardBuild, ...]
    problems: tuple[DashsiteError, ...]
    pruned: dict[str, list[str]]
    duration: float
    files_written: int

    @property
    def collector_failures(self) -> int:
        """How many collectors failed across all dashboards."""
        return sum(len(d.errors) for d in self.dashboards)

    def exit_code(self, strict: bool) -> int:
        """1 when the user must act (bad input, or failures under --strict), else 0."""
        if self.problems or (strict and self.collector_failures):
            return 1
        return 0

    def to_json(self) -> dict[str, Any]:
        """The machine-readable build report."""
        return {
            "version": self.version_id,
            "site": str(self.site),
            "duration": round(self.duration, 3),
            "files_written": self.files_written,
            "dashboards": [
                {
                    "slug": d.slug,
                    "status": d.status.slug if d.status is not None else None,
                    "version": d.version,
                    "collector_errors": d.errors,
                    "problem": d.problem,
                }
                for d in self.dashboards
            ],
            "problems": [p.one_line() for p in self.problems],
            "pruned": self.pruned,
        }


def _relative_problem(error: DashsiteError, root: Path) -> DashsiteError:
    if error.path and Path(error.path).is_absolute():
        error.path = display(Path(error.path), root)
    return error


class SiteBuilder:
    """One build of one project: holds the state the stages share."""

    def __init__(self, config: SiteConfig, options: BuildOptions, reporter: Reporter) -> None:
        self.config = config
        self.options = options
        self.reporter = reporter
        self.problems: list[DashsiteError] = []
        self.results: list[DashboardBuild] = []

    def problem(self, error: DashsiteError, slug: str = "") -> DashsiteError:
        """Record a problem; with ``slug``, one that stops that dashboard, not the build."""
        error = _relative_problem(error, self.config.root)
        self.problems.append(error)
        self.reporter.emit(Event("problem", slug, error.one_line()))
        if slug:
            self.results.append(DashboardBuild(slug, None, None, problem=error.one_line()))
        return error

    def run(self) -> BuildResult:
        """Build the site; see the module docstring."""
        started = time.perf_counter()
        config = self.config
        if not config.dashboards_path.is_dir():
            raise ConfigError(
                f"no dashboards folder '{config.dashboards_dir}'",
                path=display(config.source, config.root) if config.source else None,
                hint="create it with 'dashsite new SLUG', or fix dashboards_dir "
                "(a build without it would archive every dashboard)",
            )
        found = discover(
            config.dashboards_path,
            root=config.root,
            only=self.options.only,
            import_timeout=config.import_timeout,
        )
        for error in found.problems:
            self.problem(error, error.slug)
        if self.options.only:
            known = {d.slug for d in found.dashboards} | {e.slug for e in found.problems}
            for slug in sorted(self.options.only - known):
                self.problem(
                    DashboardError(
                        f"no dashboard named '{slug}'",
                        path=display(config.dashboards_path / slug, config.root),
                        hint="check the name with 'dashsite list'",
                    )
                )
        self.reporter.emit(
            Event(
                "start",
                message=f"Building {len(found.dashboards)} "
                f"dashboard(s) into {display(config.site_path, config.root)}",
                data={"dashboards": len(found.dashboards)},
            )
        )
        lock = BuildLock(config.site_path, self.options.lock_timeout)
        lock.acquire(
            on_wait=lambda: self.reporter.emit(
                Event("waiting", message="waiting for another build to finish…")
            )
        )
        try:
            with StagedSite(config.site_path) as staged:
                version_id, pruned = self._build_into(
                    staged, found.dashboards, {e.slug for e in found.problems}
                )
                staged.commit()
                written = staged.written
        finally:
            lock.release()
        result = BuildResult(
            version_id,
            config.site_path,
            tuple(self.results),
            tuple(self.problems),
            pruned,
            time.perf_counter() - started,
            written,
        )
        self.reporter.emit(Event("finish", message=summary(result), level=_overall(result)))
        return result

    def _build_into(
        self, staged: StagedSite, dashboards: Sequence[Dashboard], broken: set[str]
    ) -> tuple[str, dict[str, list[str]]]:
        config = self.config
        manifest = Manifest.load(
            staged.path, shown=display(config.site_path / MANIFEST_FILE, config.root)
        )
        manifest.title = config.title
        taken = manifest.version_ids()
        if self.options.version_id is not None:
            version_id = check_version_id(self.options.version_id, taken)
        else:
            now = self.options.clock()
            version_id = new_version_id(now, taken)
            # A folder a crashed run or a partial pull left behind takes the id too.
            while any(staged.exists(f"{d.slug}/{version_id}") for d in dashboards):
                taken.add(version_id)
                version_id = new_version_id(now, taken)
        collected_at = self.options.clock()
        grouped = run_coroutine(
            lambda: collect_dashboards(dashboards, config, self.options.executor)
        )
        pending: list[DashboardData] = []
        for dashboard, outcomes in zip(dashboards, grouped, strict=True):
            item = settle(dashboard, outcomes, config.root)
            for problem in item.problems:
                self.problem(problem)
            pending.append(item)
        self._mark_active(manifest, dashboards, broken)
        assets = write_assets(staged)
        built_at = self.options.clock()
        site = self._site_context(manifest, pending, assets, built_at)
        environment = create_environment(
            [config.layouts_path, config.dashboards_path],
            preloaded={d.template_name: (d.source, str(d.template)) for d in dashboards},
            auto_reload=False,
        )
        for item in pending:
            self._file_version(staged, environment, manifest, item, version_id, collected_at, site)
        pruned: dict[str, list[str]] = {}
        for record in manifest.dashboards.values():
            dropped = prune(record, config.retention)
            for version in dropped:
                staged.remove(f"{record.slug}/{version.id}")
            if dropped:
                pruned[record.slug] = [v.id for v in dropped]
        site = self._site_context(manifest, [], assets, built_at)
        for record in manifest.dashboards.values():
            if record.versions:
                write_history(staged, environment, record, site)
        write_index(staged, environment, manifest, site)
        write_manifest(staged, manifest, built_at, assets)
        return version_id, pruned

    def _mark_active(
        self, manifest: Manifest, dashboards: Sequence[Dashboard], broken: set[str]
    ) -> None:
        present = {d.slug for d in dashboards} | broken
        if self.options.only is None:
            for slug, record in manifest.dashboards.items():
                record.active = slug in present
        for dashboard in dashboards:
            record = manifest.dashboards.setdefault(
                dashboard.slug, DashboardRecord(dashboard.slug, dashboard.title)
            )
            record.title, record.description = dashboard.title, dashboard.description
            record.active = True

    def _site_context(
        self,
        manifest: Manifest,
        pending: Sequence[DashboardData],
        assets: dict[str, str],
        built_at: datetime,
    ) -> dict[str, Any]:
        statuses = {p.dashboard.slug: p.status for p in pending}
        listed = []
        for slug in sorted(manifest.dashboards):
            record = manifest.dashboards[slug]
            if not record.active:
                continue
            latest = record.latest
            status = statuses.get(slug, latest.status if latest else None)
            listed.append(
                {
                    "slug": slug,
                    "title": record.title,
                    "description": record.description,
                    "status": status,
                    "url": f"{slug}/index.html",
                }
            )
        return {
            "title": self.config.title,
            "base_url": self.config.base_url,
            "assets": assets,
            "built_at": built_at,
            "dashboards": listed,
            "preview": False,
            "refresh": self.config.refresh,
        }

    def _file_version(
        self,
        staged: StagedSite,
        environment: Any,
        manifest: Manifest,
        item: DashboardData,
        version_id: str,
        collected_at: datetime,
        site: dict[str, Any],
    ) -> None:
        dashboard = item.dashboard
        slug = dashboard.slug
        record = manifest.dashboards[slug]
        folder = f"{slug}/{version_id}"
        if staged.exists(folder):
            raise DashboardError(
                f"version {version_id} of '{slug}' already exists",
                hint="versions are immutable; pick another --version-id",
            )
        history = LazyHistory(staged.path, slug, record.versions, self.config.history)
        problem: str | None = None
        try:
            latest, snapshot = render_dashboard_pages(
                environment, item, version_id, collected_at, history, site
            )
        except RenderError as exc:
            if not item.errors:
                self.problem(exc, slug)
                return
            # A source is down and the template cannot cope: never keep the old
            # "ok" page; file this version with built-in pages that say so.
            item.status = max(item.status, StatusLevel.ERROR)
            failure = self.problem(exc)
            problem = failure.one_line()
            latest, snapshot = render_failure_pages(
                environment, item, version_id, collected_at, history, site, failure
            )
        document = {
            "schema": SCHEMA_VERSION,
            "dashboard": slug,
            "title": dashboard.title,
            "version": version_id,
            "collected_at": collected_at.isoformat(),
            "status": item.status.slug,
            "data": item.stored,
            "errors": item.errors,
            "collectors": {
                o.name: {"duration": round(o.duration, 6), "attempts": o.attempts, "ok": o.ok}
                for o in item.outcomes
            },
        }
        staged.write(f"{folder}/{DATA_FILE}", json.dumps(document, ensure_ascii=False))
        assert snapshot is not None
        staged.write(f"{folder}/index.html", snapshot)
        staged.write(f"{slug}/index.html", latest)
        record.versions.append(
            VersionRecord(version_id, collected_at.isoformat(), item.status, len(item.errors))
        )
        folder = display(dashboard.folder, self.config.root)
        for name, message in item.errors.items():
            if name in item.reported:
                continue
            self.reporter.emit(
                Event("collector-failed", slug, f"{folder}: collector '{name}' failed: {message}")
            )
        self.results.append(
            DashboardBuild(slug, item.status, version_id, dict(item.errors), problem)
        )
        self.reporter.emit(Event("dashboard", slug, level=item.status))


def _overall(result: BuildResult) -> StatusLevel:
    if result.problems:
        return StatusLevel.ERROR
    if result.collector_failures:
        return StatusLevel.WARNING
    return StatusLevel.OK


def summary(result: BuildResult) -> str:
    """``Built 3 dashboards as version … in 0.4 s: 1 collector failed, 1 problem``."""
    built = sum(1 for d in result.dashboards if d.version)
    if built:
        head = (
            f"Built {built} dashboard{'s' if built != 1 else ''} as version "
            f"{result.version_id} in {result.duration:.2f} s"
        )
    else:
        head = f"Built no dashboard (no version filed) in {result.duration:.2f} s"
    notes = []
    if result.collector_failures:
        n = result.collector_failures
        notes.append(f"{n} collector{'s' if n != 1 else ''} failed")
    if result.problems:
        n = len(result.problems)
        notes.append(f"{n} problem{'s' if n != 1 else ''} to fix")
    return head + (": " + ", ".join(notes) if notes else "")


def build_site(
    config: SiteConfig, options: BuildOptions | None = None, reporter: Reporter | None = None
) -> BuildResult:
    """Build the site of ``config``; the library entry point behind ``dashsite build``."""
    return SiteBuilder(config, options or BuildOptions(), reporter or NullReporter()).run()
