"""``dashsite build``: discover → collect → render → version/write → index.

Everything happens under the build lock, in the site folder itself: a
build writes its new versions and the few pages that change, never the
history it keeps (see :mod:`dashsite.store`). Every file is written
atomically and in an order that never links to a missing file. A dashboard
that cannot be built (bad module, template error) is reported and skipped;
the others still build.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dashsite.collection.dashboard import Dashboard
from dashsite.collection.discover import Discovery, discover, title_from_slug
from dashsite.collection.engine import (
    DashboardData,
    Offload,
    collect_dashboards,
    dashboard_data,
    run_coroutine,
)
from dashsite.collection.imports import WORKER as IMPORTS
from dashsite.collection.imports import bytecode_cache
from dashsite.collection.schedule import carried_values
from dashsite.core.config import SiteConfig, keep_days
from dashsite.core.errors import (
    ConfigError,
    DashboardError,
    DashsiteError,
    RenderError,
    SiteError,
    display,
)
from dashsite.core.levels import StatusLevel
from dashsite.core.names import check_version_id, is_slug, new_version_id
from dashsite.core.reporter import Event, NullReporter, Reporter
from dashsite.render.compiled import TEMPLATES_FOLDER
from dashsite.render.environment import create_environment
from dashsite.render.history import LazyHistory
from dashsite.render.pages import render_dashboard_pages, render_failure_pages
from dashsite.site.context import (
    check_record,
    data_key,
    expected_every,
    hold,
    kept_view,
    latest_extra,
    latest_status,
    listed,
    pending_record,
    repeats_latest,
    site_context,
    version_document,
)
from dashsite.site.handover import Counts, Done
from dashsite.site.incident_history import write_incident_history
from dashsite.site.index import (
    TREND_LENGTH,
    calendar_parts,
    history_pages,
    history_signature,
    index_entry,
    listed_since,
    trend_of,
    write_assets,
    write_history,
    write_index,
    write_manifest,
    write_months_page,
)
from dashsite.site.journal import recover, write_journal
from dashsite.site.outputs import SiteView, ThemePages, write_outputs
from dashsite.site.report import BuildResult, DashboardBuild, overall_level, summary
from dashsite.site.retime import Drawn, kept_page, layout_signature, page_hash, page_key
from dashsite.site.stages import Filing, Moment, Opened, Retained
from dashsite.site.unbuilt import render_unbuilt_page
from dashsite.site.workers import (
    JOBS_PER_CPU,
    blocks,
    jobs_for,
    most_jobs,
    other_threads,
    run_blocks,
)
from dashsite.status.incidents import (
    DeclaredIncident,
    IncidentError,
    by_dashboard,
    read_incidents,
    standing,
    write_incident_pages,
)
from dashsite.status.live import LiveCache
from dashsite.status.timeline import Timeline
from dashsite.status.view import StatusView, month_page, page_after
from dashsite.store import layout
from dashsite.store.clock import behind, id_floor, next_seq, site_time
from dashsite.store.layout import DATA_FILE, MANIFEST_FILE
from dashsite.store.manifest import MAX_PROBLEM, EarlierMonths
from dashsite.store.records import Incident
from dashsite.store.version_store import (
    SCHEMA_VERSION,
    DashboardRecord,
    Manifest,
    VersionStore,
)
from dashsite.store.write import BuildLock, SiteFolder, WrittenDigests

__all__ = [
    "BuildOptions",
    "BuildResult",
    "DashboardBuild",
    "SiteBuilder",
    "build_site",
    "summary",
]


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """What one ``dashsite build`` was asked to do."""

    version_id: str | None = None
    only: frozenset[str] | None = None
    strict: bool = False
    lock_timeout: float | None = None
    executor: Executor | None = None
    offload: Offload | None = None
    """Where sync collectors run instead (a dask cluster); None: as the config says."""
    refresh: bool = False
    """Run every collector, even those whose ``every`` says a reused value will do."""
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    """The build's clock: every time it records (collected_at, built_at, a new version id,
    the collectors' outcomes) is read from it."""
    force: bool = False
    """Build even into a non-empty folder that is not a dashsite site."""
    jobs: int | None = 1
    """Processes that file the dashboards (``--jobs``); None: as many CPUs as pay
    (:func:`.workers.jobs_for`), the command line's default. A library caller's
    process is not forked unless it asks."""


class SiteBuilder:
    """One build of one project: holds the state the stages share."""

    def __init__(self, config: SiteConfig, options: BuildOptions, reporter: Reporter) -> None:
        self.config = config
        self.options = options
        self.reporter = reporter
        self.problems: list[DashsiteError] = []
        self.results: list[DashboardBuild] = []
        self.views: dict[str, StatusView] = {}
        self.trends: dict[str, list[int]] = {}
        """Slug → its card's trend, kept when its history is written (its log records are not)."""
        self.declared: dict[str, list[Incident]] = {}
        """Slug → the incidents ``incidents/`` declares for it."""
        self.seq = 0
        """This build's place in the site's order (:mod:`.clock`)."""
        self.failed: dict[str, str] = {}
        """Slug → why that dashboard could not be loaded or drawn in this build."""
        self.live: LiveCache | None = None
        """Each dashboard's unsettled days as the previous build left them (:mod:`.live`)."""
        self.checked: set[str] = set()
        """The dashboards whose data this build found unchanged: a check, not a version."""
        self._signature: tuple[str | None] | None = None
        """What latest pages are drawn with, once worked out (:meth:`_layout_signature`)."""

    def problem(self, error: DashsiteError, slug: str = "") -> DashsiteError:
        """Record a problem; with ``slug``, one that stops that dashboard, not the build."""
        error = error.shown_from(self.config.root)
        self.problems.append(error)
        self.reporter.emit(Event("problem", slug, error.one_line()))
        if slug:
            self.failed[slug] = error.one_line()
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
        found = self._discover()
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
            digests = WrittenDigests(config.site_path)
            live = self.live = LiveCache(
                config.site_path
            )  # today so far, as the last build left it
            writer = SiteFolder(config.site_path, shown=Path(config.site_dir), digests=digests)
            store = VersionStore(config.site_path)
            try:
                version_id, pruned = self._build_into(
                    writer, store, found.dashboards, {e.slug for e in found.problems}
                )
            except DashsiteError as exc:  # a site-wide failure (the index's layout, say)
                exc.shown_from(config.root)
                raise
            digests.save()  # the next build skips the pages this one left unchanged
            live.save()  # and reads only the log lines appended after this one
            written = writer.written + store.written
            bytes_written = writer.bytes_written + store.bytes_written
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
            bytes_written,
        )
        self.reporter.emit(Event("finish", message=summary(result), level=overall_level(result)))
        return result

    def _discover(self) -> Discovery:
        """Stage discover: refuse a folder that is not a site, then load every dashboard."""
        config = self.config
        if not self.options.force:
            from dashsite.store.site_guard import foreign_folder_problem

            foreign = foreign_folder_problem(config.site_path, config.site_dir)
            if foreign is not None:
                raise foreign
        found = discover(
            config.dashboards_path,
            root=config.root,
            only=self.options.only,
            import_timeout=config.import_timeout,
            allow_secret_env=config.allow_secret_env,
        )
        for error in found.problems:
            self.problem(error, error.slug)
        self._check_every(found)
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
        return found

    def _check_every(self, found: Discovery) -> None:
        """``[every]`` names dashboards (and collectors) that exist: a typo there would
        leave a collector on the wrong schedule without a word."""
        config = self.config
        if self.options.only is not None or not config.every:
            return  # (a part of the dashboards: the others are not loaded)
        collectors = {d.slug: {c.name for c in d.collectors} for d in found.dashboards}
        broken = {error.slug for error in found.problems}
        for key in config.every:
            slug, _, name = key.partition(".")
            if slug in broken:
                continue  # (its own problem is told)
            if slug not in collectors:
                said = f"[every] names no dashboard called '{slug}'"
            elif name and name not in collectors[slug]:
                said = f"[every] names no collector '{name}' in '{slug}'"
            else:
                continue
            self.problem(
                ConfigError(
                    said,
                    path=display(config.source, config.root) if config.source else None,
                    hint="check the names with 'dashsite list'",
                )
            )

    def _build_into(
        self,
        writer: SiteFolder,
        store: VersionStore,
        dashboards: Sequence[Dashboard],
        broken: set[str],
    ) -> tuple[str, dict[str, list[str]]]:
        """Everything under the lock, as named stages, in the order that keeps the site whole.

        open → collect → file versions → retention → status → history → pages → commit.
        New version folders first (each assembled aside and renamed in), then
        their log lines, the history pages, the latest pages (which link to
        both), the index, and the manifest last (the commit point). A journal
        names the versions being filed until the manifest is written, so a
        build killed midway is finished by the next one (:func:`.journal.recover`).
        """
        opened = self._open(store, writer)
        manifest = opened.manifest
        version_id = self._version_id(self.config.site_path, dashboards, manifest)
        collected_at = self.options.clock()
        self.seq = next_seq(manifest)  # this build's place in the site's order
        clock_behind = behind(manifest, collected_at)
        if clock_behind is not None:
            self.reporter.emit(Event("notice", message=clock_behind, level=StatusLevel.WARNING))
        pending = self._collect(dashboards, manifest, store, collected_at)
        self._mark_active(manifest, dashboards, broken)
        assets = write_assets(writer)
        built_at = self.options.clock()
        now, jumped = site_time(manifest, built_at)  # what thinning goes by
        manifest.site_time = now
        if jumped is not None:
            self.reporter.emit(Event("notice", message=jumped, level=StatusLevel.WARNING))
        moment = Moment(version_id, collected_at, built_at, now)
        # incidents/ as they stand when the views are drawn (a clock set back: the site's
        # time, so work going on is not told as over, nor planned work as not begun)
        declared = self._read_incidents(manifest, moment.status_time)
        kept = bytecode_cache(self.config.root)
        environment = create_environment(
            [self.config.layouts_path, self.config.dashboards_path],
            preloaded={d.template_name: (d.source, str(d.template)) for d in dashboards},
            auto_reload=False,
            code_folder=kept / TEMPLATES_FOLDER if kept is not None else None,
        )
        filing = Filing(store, Timeline(store, writer, self._backfilling), environment, manifest)
        filing.timeline.live = self.live
        filing.site = self._site_context(manifest, pending, assets, built_at)
        slugs = [item.dashboard.slug for item in pending]
        write_journal(filing.store, opened.adopted, slugs, version_id, collected_at)
        done = self._dashboards(filing, writer, opened, pending, moment)
        for slug, staged in done.latest_pages.items():  # they link to the history just written
            if staged:
                writer.unstage(layout.latest_page(slug), store.temp_folder())
        site_context = self._site_context(manifest, [], assets, built_at)
        latest_pages, earlier = done.latest_pages, done.earlier
        self._unbuilt_pages(writer, environment, manifest, latest_pages, site_context)
        self._site_pages(writer, store, environment, manifest, declared, site_context, moment)
        for slug in {d.slug for d in dashboards} | broken:  # what this build tried to file
            if slug in manifest.dashboards:
                manifest.dashboards[slug].problem = self.failed.get(slug, "")[:MAX_PROBLEM]
        for record in manifest.dashboards.values():
            if not record.active:
                record.problem = ""  # archived: its folder is gone, nothing is left to fix
        write_manifest(writer, manifest, built_at, assets, earlier)  # the commit point
        store.drop_doomed()  # what retention and the tiers took out: nothing links to it now
        if opened.recovering:  # a build killed after its manifest: an old months file may stay
            store.drop_unlinked_earlier(manifest, writer)
        shutil.rmtree(store.temp_folder(), ignore_errors=True)  # the journal with it
        return version_id, done.pruned

    def _open(self, store: VersionStore, writer: SiteFolder) -> Opened:
        """Stage open: the manifest, finishing what a killed build left, a schema-1 upgrade."""
        config = self.config
        site = config.site_path
        site.mkdir(parents=True, exist_ok=True)
        manifest = store.load_manifest(shown=display(site / MANIFEST_FILE, config.root))
        store.counted = manifest.dashboards  # a damaged month of the log is rebuilt, and told
        store.on_damage = lambda line: self.reporter.emit(
            Event("notice", message=line, level=StatusLevel.WARNING)
        )
        recovering = store.temp_folder().is_dir()  # a build was killed: tidy up after it
        touched, adopted = recover(store, manifest)
        if manifest.legacy:  # a schema-1 site: its versions go into the log, once
            count = sum(len(versions) for versions in manifest.legacy.values())
            for slug in store.upgrade(manifest, writer):
                touched[slug] = set(manifest.dashboards[slug].months)
            tiers = (
                "every page and data file is kept"
                if config.keep_pages == config.keep_data == "forever"
                else f"pages older than {config.keep_pages} and data older than "
                f"{config.keep_data} are thinned"
            )
            self.reporter.emit(
                Event(
                    "notice",
                    message=f"{display(site, config.root)}: upgraded to manifest schema "
                    f"{SCHEMA_VERSION}, {count} version(s) written into the history log; {tiers} "
                    "(keep_pages/keep_data in dashsite.toml)",
                )
            )
        manifest.title = config.title
        return Opened(manifest, touched, adopted, recovering)

    def _collect(
        self,
        dashboards: Sequence[Dashboard],
        manifest: Manifest,
        store: VersionStore,
        collected_at: datetime,
    ) -> list[DashboardData]:
        """Stage collect: every dashboard's collectors at once; values reused under ``every``."""
        config = self.config
        carried = (
            {}
            if self.options.refresh
            else carried_values(dashboards, manifest, store, config, collected_at)
        )
        with self._offload() as offload:
            grouped = run_coroutine(
                lambda: collect_dashboards(
                    dashboards,
                    config,
                    self.options.executor,
                    carried=carried,
                    offload=offload,
                    clock=self.options.clock,
                )
            )
        pending: list[DashboardData] = []
        for dashboard, outcomes in zip(dashboards, grouped, strict=True):
            item = dashboard_data(dashboard, outcomes, config.root)
            for problem in item.problems:
                self.problem(problem)
            pending.append(item)
        return pending

    def _dashboards(
        self,
        filing: Filing,
        writer: SiteFolder,
        opened: Opened,
        pending: list[DashboardData],
        moment: Moment,
    ) -> Done:
        """The stages that touch one dashboard's files, in this process or in ``--jobs``
        worker processes (:mod:`.workers`), each taking a block of dashboards.

        ``pending`` is emptied once its versions are filed (or handed to the workers),
        and so are the previous build's tallies: neither is held to the end of the build."""
        filed = [item.dashboard.slug for item in pending]  # blocks in the report's order
        slugs = filed + sorted(set(filing.manifest.dashboards) - set(filed))
        jobs = jobs_for(self.options.jobs, len(slugs))
        asked = self.options.jobs
        if asked is not None and jobs < min(asked, len(slugs)) and jobs == most_jobs():
            self.reporter.emit(
                Event(
                    "notice",
                    message=f"--jobs {asked}: building in {jobs} processes, "
                    f"{JOBS_PER_CPU} for each of the {jobs // JOBS_PER_CPU} CPU(s): each "
                    "process is a copy of the build, and more only share the same CPUs",
                    level=StatusLevel.WARNING,
                )
            )
        if jobs > 1:
            IMPORTS.settle()  # discovery is over: its idle thread need not be copied
            running = other_threads()
            if running:
                self.reporter.emit(
                    Event(
                        "notice",
                        message=f"building in one process: {len(running)} other thread(s) "
                        f"still running ({', '.join(running[:3])}); a worker would copy "
                        "their locks (a collector past its timeout, say)",
                        level=StatusLevel.WARNING,
                    )
                )
                jobs = 1

        if jobs <= 1:
            return self._part(filing, writer, opened, pending, moment, slugs)
        before = Counts.of(self, filing, writer)

        def work(part: Sequence[str], reporter: Reporter) -> Done:  # in a forked worker
            self.reporter = reporter
            done = self._part(filing, writer, opened, pending, moment, part)
            done.handover(self, filing, writer, part, before)
            return done

        def forked() -> None:  # the workers have their copies: this process needs neither
            pending.clear()
            if self.live is not None:
                self.live.previous.clear()

        found = run_blocks(blocks(slugs, jobs), work, self.reporter, started=forked)
        for done in found:
            done.take_over(self, filing, writer)
        return Done.joined(found)

    def _part(
        self,
        filing: Filing,
        writer: SiteFolder,
        opened: Opened,
        pending: list[DashboardData],
        moment: Moment,
        slugs: Sequence[str],
    ) -> Done:
        """Retention → file versions → status → history, for the dashboards ``slugs``.

        Retention goes first, so every page this build draws (the latest page, the
        feeds, the incident history) is drawn from the history as it is kept; what it
        takes out is deleted by the build after its manifest, when nothing links to it.
        Returns what changed, for the build (or, in a worker, to be sent back to it).
        """
        chosen = set(slugs)
        records = [filing.manifest.dashboards[slug] for slug in slugs]
        mine = [p for p in pending if p.dashboard.slug in chosen]
        coming = {p.dashboard.slug for p in mine}
        retained = self._retain(records, filing.store, writer, moment.site_time, coming)
        for changed in (retained.rewritten, retained.removed):
            for slug, months in changed.items():
                filing.timeline.forget(slug, months)  # read again, as pruned
        before = {slug: filing.manifest.dashboards[slug].latest for slug in coming}
        latest_pages = self._file_versions(filing, writer, opened, mine, moment, chosen)
        for slug, latest in before.items():
            if slug not in latest_pages and latest is not None:  # not filed: still the latest
                filing.store.spare(latest)
        if self.config.retention is not None:  # (retention = 1: the latest goes only now)
            later = self._retain(records, filing.store, writer, moment.site_time, set())
            retained.merge(later)
            for changed in (later.rewritten, later.removed):
                for slug, months in changed.items():
                    filing.timeline.forget(slug, months)
            for slug in later.pruned:  # its view (feeds, incident history) drawn again
                self.views.pop(slug, None)
        mine.clear()
        pending.clear()  # filed: the collected data is not held to the end of the build
        self._status(records, filing.timeline, moment)
        earlier = filing.manifest.earlier_files(moment.built_at, slugs)  # the finished months
        self._history(writer, filing, records, earlier, moment.built_at, opened, retained,
                      latest_pages)  # fmt: skip
        return Done(latest_pages, retained.pruned, earlier)  # (doomed: deleted by the build)

    def _file_versions(
        self,
        filing: Filing,
        writer: SiteFolder,
        opened: Opened,
        pending: Sequence[DashboardData],
        moment: Moment,
        chosen: set[str],
    ) -> dict[str, bool]:
        """Stage file versions: each new version, its latest page staged aside
        (:meth:`SiteFolder.stage`). The dashboards filed, and whether their page changed."""
        for slug, found in opened.adopted.items():  # a killed build's versions: their status
            if slug not in chosen:
                continue
            record = filing.manifest.dashboards[slug]
            for entry in sorted(found, key=lambda e: (e.collected_at, e.id)):
                filing.timeline.filed(record, entry, _hold(record), last=False)
        latest_pages: dict[str, bool] = {}  # staged on disk until what they link to exists
        for item in pending:
            page = self._file_version(filing, writer, item, moment)
            if page is not None:
                slug = item.dashboard.slug
                url = layout.latest_page(slug)
                latest_pages[slug] = writer.stage(url, page, filing.store.temp_folder())
        return latest_pages

    def _retain(
        self,
        records: Sequence[DashboardRecord],
        store: VersionStore,
        writer: SiteFolder,
        now: datetime,
        coming: set[str],
    ) -> Retained:
        """Stage retention: ``retention`` prunes versions, the tiers thin pages and data.

        ``coming``: the dashboards about to file a version, which counts among the
        ``retention`` kept. (One whose new version then fails to draw keeps one fewer
        until its next build.) ``now`` is the site's own time (:func:`.clock.site_time`),
        not the build's clock: a clock years ahead must not thin what a right one would
        keep.
        """
        retained = Retained()
        config = self.config
        if config.retention is not None:
            for record in records:
                extra = 1 if record.slug in coming else 0
                dropped, changed, gone = store.prune(record, config.retention, writer, extra)
                if dropped or changed or gone:  # (a month not pulled goes whole, unlisted)
                    retained.pruned[record.slug] = [v.id for v in dropped]
                    retained.rewritten[record.slug] = changed
                    retained.removed[record.slug] = gone
        pages_from, data_from = _tier_days(config, now)
        for record in records:
            thinned = store.thin(record, pages_from, data_from, record.slug in coming)
            if thinned:
                retained.rewritten[record.slug] = (
                    retained.rewritten.get(record.slug, set()) | thinned
                )
        return retained

    def _status(
        self, records: Sequence[DashboardRecord], timeline: Timeline, moment: Moment
    ) -> None:
        """Stage status: a view of every active dashboard (filed ones have theirs), staleness."""
        collected_at = moment.collected_at
        for record in records:
            hold = _hold(record)
            if record.slug not in self.views and record.active:
                timeline.ensure(record, hold)
                declared = self.declared.get(record.slug, ())
                view = timeline.view(record, moment.status_time, hold, declared)
                self.views[record.slug] = kept_view(
                    view, timeline.store, record, self.config.retention
                )
            seen = record.seen  # (a check: the data was collected again, unchanged)
            record.stale = (
                seen is None or (collected_at - _parse(seen.collected_at)).total_seconds() > hold
            )

    def _history(
        self,
        writer: SiteFolder,
        filing: Filing,
        records: Sequence[DashboardRecord],
        earlier: Mapping[str, tuple[bytes, EarlierMonths]],
        built_at: datetime,
        opened: Opened,
        retained: Retained,
        latest_pages: Mapping[str, bool],
    ) -> None:
        """Stage history: the months pages, then each changed dashboard's history pages.

        They show the site as the dashboard pages do (``filing.site``: the statuses
        this build collected), so a block of dashboards can be done on its own.
        """
        environment, site_context = filing.environment, filing.site
        since = listed_since(built_at)
        parts = calendar_parts(filing.store.site, environment, site_context)
        for record in records:  # before the history index links to it
            months_file = earlier.get(record.slug)
            link = months_file[1] if months_file else None
            write_months_page(writer, environment, record, site_context, link, since)
        for slug, month in filing.store.repaired:  # rebuilt from the version folders: listed again
            if (
                slug in filing.manifest.dashboards
                and month in filing.manifest.dashboards[slug].months
            ):
                retained.rewritten.setdefault(slug, set()).add(month)
        touched, rewritten = opened.touched, retained.rewritten
        drawn = self.live.drawn if self.live is not None else {}
        signature = history_signature(environment, site_context, parts, self._layouts())
        for record in records:
            slug = record.slug
            view = self.views.get(slug)
            key = f"{view.drawn_key()}|{signature}" if view is not None else ""
            filed = slug in latest_pages and not (
                slug in self.checked
                and key
                and drawn.get(slug) == key
                and all(writer.exists(page) for page in history_pages(record))
            )  # (a check that would draw them as they are, and finds them, leaves them)
            if filed or slug in rewritten or slug in touched:
                drawn[slug] = key
                write_history(
                    writer,
                    environment,
                    filing.store,
                    record,
                    site_context,
                    appended=filed,
                    rewritten=touched.get(slug, set()) | rewritten.get(slug, set()),
                    removed=retained.removed.get(slug, set()),
                    view=self.views.get(slug),
                    since=since,
                    parts=parts,
                )
            self.trends[slug] = trend_of(filing.store.tail(record, TREND_LENGTH))
            filing.store.forget(slug)  # nothing after its history reads its log: not held
            filing.timeline.release(record)

    def _layouts(self) -> str:
        """The shared layouts folder as it is (each file's name, size and time): a layout
        the history pages include may change."""
        folder = self.config.layouts_path
        try:
            files = sorted(p for p in folder.rglob("*") if p.is_file())
        except OSError:
            return ""
        stats = ((p.relative_to(folder).as_posix(), p.stat()) for p in files)
        return ";".join(f"{name}:{s.st_size}:{s.st_mtime_ns}" for name, s in stats)

    def _unbuilt_pages(
        self,
        writer: SiteFolder,
        environment: Any,
        manifest: Manifest,
        latest_pages: Mapping[str, bool],
        site_context: dict[str, Any],
    ) -> None:
        """A configured dashboard never built, or failing to load: its URL says why, never 404.
        An archived one's says it is archived.

        (A latest page already published stays: the index says the dashboard failed.)
        """
        for record in manifest.dashboards.values():
            url = layout.latest_page(record.slug)
            missing = record.latest is None or not writer.exists(url)  # never a real page
            if record.active and record.slug not in latest_pages and missing:
                page = render_unbuilt_page(
                    environment, record, self.failed.get(record.slug, ""), site_context
                )
                writer.write(url, page)
            elif not record.active and record.latest is not None and self.options.only is None:
                # Archived: its latest page said "Operational" for good. It says archived
                # now, and links the last version (kept whole, as the latest always is).
                page = render_unbuilt_page(environment, record, "", site_context, archived=True)
                writer.write(url, page)

    def _site_pages(
        self,
        writer: SiteFolder,
        store: VersionStore,
        environment: Any,
        manifest: Manifest,
        declared: Sequence[DeclaredIncident],
        site_context: dict[str, Any],
        moment: Moment,
    ) -> None:
        """Stage pages: incident pages, the incident history, the index, then the outputs."""
        records = [manifest.dashboards[slug] for slug in sorted(manifest.dashboards)]
        shown = [(r, self.views[r.slug]) for r in records if r.slug in self.views]
        write_incident_pages(  # before the history and the index that link to them
            writer,
            environment,
            declared,
            {r.slug: r.title for r in records if r.active},
            site_context,
            moment.status_time,
        )
        write_incident_history(writer, environment, shown, site_context, moment.status_time)
        entries = [
            (
                index_entry(
                    record,
                    self.trends[record.slug]
                    if record.slug in self.trends
                    else trend_of(store.tail(record, TREND_LENGTH)),
                    self.views.get(record.slug),
                    problem=self.failed.get(record.slug, ""),
                ),
                record.active,
            )
            for record in records
        ]
        write_index(writer, environment, entries, site_context, sort=self.config.index_sort)
        pages = ThemePages(environment, {**site_context, "built_at": None})  # as feeds: no churn
        view = SiteView(
            self.config, manifest, shown, moment.collected_at, frozenset(self.failed), pages
        )
        for problem in write_outputs(view, writer):  # a plugin's: told, the build goes on
            self.problem(problem)

    def _backfilling(self, record: DashboardRecord) -> None:
        if record.count > 1000:  # long enough to be noticed: say why this build is slow
            self.reporter.emit(
                Event(
                    "notice",
                    record.slug,
                    f"{record.slug}: computing status over time from its {record.count:,} "
                    "logged versions (once; later builds read the summaries)",
                )
            )

    def _read_incidents(self, manifest: Manifest, now: datetime) -> list[DeclaredIncident]:
        """``incidents/``: each file checked; a bad one is a problem, the rest count.

        As they stand at ``now`` (:func:`standing`): one that starts later is not shown
        yet, one that ends later is going on.
        """
        config = self.config
        declared, problems = read_incidents(config.incidents_path, config.root)
        for problem in problems:
            self.problem(problem)
        active = sorted(slug for slug, record in manifest.dashboards.items() if record.active)
        for incident in declared:
            shown = display(config.incidents_path / f"{incident.name}.md", config.root)
            archived = [s for s in incident.dashboards or () if s in manifest.dashboards
                        and not manifest.dashboards[s].active]  # fmt: skip
            if archived and not any(s in active for s in incident.dashboards or ()):
                self.reporter.emit(  # (a notice: an old file may well name a removed one)
                    Event(
                        "notice",
                        message=f"{shown}: names only archived dashboards "
                        f"({', '.join(archived)}): it shows on no dashboard",
                        level=StatusLevel.WARNING,
                    )
                )
            unknown = [s for s in incident.dashboards or () if s not in manifest.dashboards]
            if unknown:
                self.problem(
                    IncidentError(
                        f"names no dashboard called {', '.join(repr(s) for s in unknown)}",
                        path=display(config.incidents_path / f"{incident.name}.md", config.root),
                        hint="check 'dashboards' against 'dashsite list'",
                    )
                )
        declared = standing(declared, now)  # (every file checked, also one for later)
        self.declared = by_dashboard(declared, active)
        return declared

    def _version_id(self, site: Path, dashboards: Sequence[Dashboard], manifest: Manifest) -> str:
        """``--version-id`` checked, or a new time-based id no dashboard has yet, never
        earlier than the newest version's (:mod:`.clock`)."""

        now = self.options.clock()
        stamp = id_floor(manifest, now)
        used = {  # (a check has no folder, but its id is taken: ids sort by build)
            entry.id
            for record in manifest.dashboards.values()
            for entry in (record.latest, record.checked)
            if entry is not None
        }

        def taken(candidate: str) -> bool:
            nested = layout.version_day(candidate, now)
            return candidate in used or any(
                (site / d.slug / candidate).exists() or (site / d.slug / nested).exists()
                for d in dashboards
            )

        if self.options.version_id is not None:
            version_id = check_version_id(self.options.version_id, set())
            if taken(version_id):
                raise SiteError(
                    f"version id '{version_id}' already exists",
                    hint="versions are immutable: pick a new --version-id",
                )
            return version_id
        version_id = new_version_id(stamp, used)
        # A folder of a killed run (or a partial pull) takes the id too.
        while taken(version_id):
            used.add(version_id)
            version_id = new_version_id(stamp, used)
        return version_id

    def _mark_active(
        self, manifest: Manifest, dashboards: Sequence[Dashboard], broken: set[str]
    ) -> None:
        present = {d.slug for d in dashboards} | broken
        if self.options.only is None:
            for slug, record in manifest.dashboards.items():
                record.active = slug in present
        for slug in sorted(s for s in broken if is_slug(s)):  # listed, even if never built
            manifest.dashboards.setdefault(slug, DashboardRecord(slug, title_from_slug(slug)))
            manifest.dashboards[slug].active = True
        for dashboard in dashboards:
            record = manifest.dashboards.setdefault(
                dashboard.slug, DashboardRecord(dashboard.slug, dashboard.title)
            )
            record.title, record.description = dashboard.title, dashboard.description
            record.active = True
            record.group = dashboard.group
            record.expected_every = expected_every(dashboard, self.config)

    def _site_context(
        self,
        manifest: Manifest,
        pending: Sequence[DashboardData],
        assets: dict[str, str],
        built_at: datetime,
    ) -> dict[str, Any]:
        statuses = {p.dashboard.slug: p.status for p in pending}
        dashboards = []
        for slug in sorted(manifest.dashboards):
            record = manifest.dashboards[slug]
            if not record.active:
                continue
            latest = record.latest
            status = statuses.get(slug, latest.status if latest else None)
            dashboards.append(listed(slug, record.title, record.description, status))
        return site_context(self.config, dashboards, assets, built_at)

    def _file_version(
        self,
        filing: Filing,
        writer: SiteFolder,
        item: DashboardData,
        moment: Moment,
    ) -> str | None:
        """Render, file and log one dashboard's new version (or its check, when its data is
        unchanged: :meth:`_file_check`); its latest page, or None."""
        slug = item.dashboard.slug
        version_id, collected_at = moment.version_id, moment.collected_at
        record = filing.manifest.dashboards[slug]
        key = data_key(item)
        if repeats_latest(self.config, record, item, key, collected_at):
            page = self._file_check(filing, writer, item, moment)
            if page is not None:
                return page
        hold = _hold(record)
        pending = pending_record(filing.store, item, version_id, collected_at, self.seq)
        extra = latest_extra(
            filing.store, filing.timeline, record, item, pending, self.declared.get(slug, ()),
            retention=self.config.retention, now=moment.status_time,
        )  # fmt: skip
        extra["in_history"] = self._in_history(record, version_id, collected_at)
        rendered = self._render_version(filing, item, moment, extra)
        if rendered is None:  # (its problem is told): counted, as every dashboard is
            self.reporter.emit(Event("dashboard", slug, "not filed"))
            return None
        latest, snapshot, problem = rendered
        self.views[slug] = extra["timeline"]
        row_page = extra["in_history"].partition("#")[0]
        if not writer.exists(row_page):  # a new month, or its next page of 200 rows
            writer.write(row_page, PAGE_BEING_WRITTEN)  # (drawn in full by the history)
        document = self._document(item, version_id, collected_at, self.seq)
        filing.store.file_version(
            slug,
            version_id,
            layout.version_folder(slug, version_id, collected_at),
            {DATA_FILE: _utf8(json.dumps(document, ensure_ascii=False)),
             layout.INDEX_PAGE: _utf8(snapshot)},
        )  # fmt: skip
        path = f"{layout.version_folder(slug, version_id, collected_at)}/"
        entry = filing.store.record_from_data(slug, document, path)
        filing.store.append(record, entry)
        if record.latest is entry and problem is None:  # (built-in pages: drawn again)
            record.key = key
        filing.timeline.filed(record, entry, hold)
        self._report_version(item, version_id, problem)
        return latest

    def _file_check(
        self, filing: Filing, writer: SiteFolder, item: DashboardData, moment: Moment
    ) -> str | None:
        """File a check: a line in the day's checks file, and the latest page drawn again
        (it says when the data was collected, and since when it is unchanged). No version
        folder, no history row. None when the page fails to draw: a version is filed then,
        which tells the failure."""
        slug = item.dashboard.slug
        record = filing.manifest.dashboards[slug]
        latest = record.latest
        assert latest is not None
        entry = check_record(
            filing.store, item, moment.version_id, moment.collected_at, self.seq, latest
        )
        extra = latest_extra(
            filing.store, filing.timeline, record, item, entry, self.declared.get(slug, ()),
            retention=None, now=moment.status_time,
        )  # fmt: skip
        history = LazyHistory(filing.store, record, self.config.history, skip_latest=True)
        drawn: list[str] = []

        def kept(body: str) -> str | None:  # the previous page, retimed (:mod:`.retime`)
            key = page_key(self._layout_signature(filing), item, body, latest, record.key, extra)
            if key is None:
                return None
            drawn.append(key)
            before = self.live.pages_before.get(slug) if self.live is not None else None
            relative = layout.latest_page(slug)
            return kept_page(writer, relative, before, key, moment.collected_at, moment.built_at)

        try:
            page, _ = render_dashboard_pages(
                filing.environment, item, latest.id, moment.collected_at, history, filing.site,
                snapshot=False, extra=extra, folder=layout.from_dashboard(slug, latest.path),
                kept=kept,
            )  # fmt: skip
        except RenderError:
            return None
        if drawn and self.live is not None:
            written = page_hash(page.encode("utf-8"))
            found = Drawn(drawn[0], moment.collected_at, moment.built_at, written)
            self.live.pages[slug] = found.to_text()
        filing.store.spare(latest)  # still the latest: the tiers keep it whole
        filing.store.append_check(record, entry)
        if record.incident is not None:
            record.incident.extend(entry)  # seen still going (not counted as a version)
        self.views[slug] = extra["timeline"]
        self.checked.add(slug)
        self._report_version(item, latest.id, None, unchanged=True)
        return page

    def _layout_signature(self, filing: Filing) -> str | None:
        """What this build draws every latest page's layout with (:mod:`.retime`), once."""
        if self._signature is None:
            self._signature = (layout_signature(filing.environment, filing.site),)
        return self._signature[0]

    def _render_version(
        self,
        filing: Filing,
        item: DashboardData,
        moment: Moment,
        extra: dict[str, Any],
    ) -> tuple[str, str, str | None] | None:
        """The latest page, the snapshot and the problem line (None: not filed at all).

        ``extra["timeline"]`` is redone when a failure makes this version an error.
        """
        slug = item.dashboard.slug
        version_id, collected_at = moment.version_id, moment.collected_at
        record = filing.manifest.dashboards[slug]
        history = LazyHistory(filing.store, record, self.config.history)
        try:
            latest, snapshot = render_dashboard_pages(
                filing.environment, item, version_id, collected_at, history, filing.site,
                extra=extra,
            )  # fmt: skip
            assert snapshot is not None
            return latest, snapshot, None
        except RenderError as exc:
            if not item.errors:
                self.problem(exc, slug)
                return None
            # A source is down and the template cannot cope: never keep the old
            # "ok" page; file this version with built-in pages that say so.
            item.status = max(item.status, StatusLevel.ERROR)
            pending = pending_record(filing.store, item, version_id, collected_at, self.seq)
            extra["timeline"] = latest_status(
                filing.timeline, record, pending, self.declared.get(slug, ()),
                retention=self.config.retention, now=moment.status_time,
            )  # fmt: skip
            failure = self.problem(exc)
            try:
                latest, snapshot = render_failure_pages(
                    filing.environment, item, version_id, collected_at, history, filing.site,
                    failure, extra,
                )  # fmt: skip
            except RenderError as again:  # (a layout that fails on failures): this one only
                self.problem(again, slug)
                return None
            assert snapshot is not None
            return latest, snapshot, failure.one_line()

    def _report_version(
        self,
        item: DashboardData,
        version_id: str,
        problem: str | None,
        *,
        unchanged: bool = False,
    ) -> None:
        """Tell the reporter how the dashboard fared; keep it for the build's result."""
        slug = item.dashboard.slug
        folder = display(item.dashboard.folder, self.config.root)
        for name, message in item.errors.items():
            if name in item.reported:
                continue
            self.reporter.emit(
                Event("collector-failed", slug, f"{folder}: collector '{name}' failed: {message}")
            )
        self.results.append(
            DashboardBuild(slug, item.status, version_id, dict(item.errors), problem, unchanged)
        )
        self.reporter.emit(Event("dashboard", slug, level=item.status))

    @contextmanager
    def _offload(self) -> Iterator[Offload | None]:
        """The dask cluster the config asks for, for the collection only; else None."""
        if self.options.offload is not None or self.config.executor != "dask":
            yield self.options.offload
            return
        from dashsite.collection.cluster import dask_cluster

        with dask_cluster(self.config, self.reporter) as offload:
            yield offload

    @staticmethod
    def _document(
        item: DashboardData, version_id: str, collected_at: datetime, seq: int = 0
    ) -> dict[str, Any]:
        """A version's ``data.json``."""
        return version_document(item, version_id, collected_at, seq)

    def _in_history(self, record: DashboardRecord, version_id: str, collected_at: datetime) -> str:
        """This version's row in the history, between the previous and the newer ones.

        A snapshot never changes and its neighbours' pages are thinned in
        time, so it links to the history (kept as long as the log), not to
        them. Month pages fill oldest first, so the row's page is known now;
        only ``retention`` shifts rows, and then the month's first page is named.
        """
        month = collected_at.astimezone(UTC).isoformat()[:7]
        info = record.months.get(month)
        before = info.count if info is not None else 0
        name = month_page(month, 1) if self.config.retention else page_after(month, before)
        return f"{layout.history_page(record.slug, name)}#v-{version_id}"


_hold = hold

PAGE_BEING_WRITTEN = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    "<title>History</title>\n</head>\n<body>\n<main>\n"
    "<p>This page of the history is being written: reload it in a moment.</p>\n"
    "</main>\n</body>\n</html>\n"
)
"""The history page a new snapshot's row will be on, before the build draws it: a snapshot
links to its row, so the page exists before the snapshot does (a build killed in between
leaves this, linking to nothing; the next build draws the page)."""


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _tier_days(config: SiteConfig, now: datetime) -> tuple[str | None, str | None]:
    """The first days whose versions keep their page, and their data (None: all do)."""
    today = now.astimezone(UTC).date()
    days = keep_days(config.keep_pages), keep_days(config.keep_data)
    pages, data = (None if n is None else (today - timedelta(days=n)).isoformat() for n in days)
    return pages, data


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "replace")


def build_site(
    config: SiteConfig, options: BuildOptions | None = None, reporter: Reporter | None = None
) -> BuildResult:
    """Build the site of ``config``; the library entry point behind ``dashsite build``."""
    return SiteBuilder(config, options or BuildOptions(), reporter or NullReporter()).run()
