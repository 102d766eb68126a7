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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .badges import write_badges
from .collection import DashboardData, Offload, collect_dashboards, run_coroutine, settle
from .compare import changes
from .config import SiteConfig, every_seconds, keep_days
from .discover import Dashboard, discover, title_from_slug
from .environment import create_environment
from .errors import ConfigError, DashboardError, DashsiteError, RenderError, SiteError, display
from .feeds import write_feeds
from .history import LazyHistory, last_good_values
from .incident_history import write_incident_history
from .incidents import (
    DeclaredIncident,
    IncidentError,
    by_dashboard,
    read_incidents,
    write_incident_pages,
)
from .index import (
    TREND_LENGTH,
    index_entry,
    listed_since,
    write_assets,
    write_history,
    write_index,
    write_manifest,
    write_months_page,
)
from .levels import StatusLevel
from .render import render_dashboard_pages, render_failure_pages, version_folder
from .reporter import Event, NullReporter, Reporter
from .schedule import carried_values
from .status import Incident
from .store import (
    DATA_FILE,
    DATA_SCHEMA,
    JOURNAL_FILE,
    MANIFEST_FILE,
    SCHEMA_VERSION,
    DashboardRecord,
    LogRecord,
    Manifest,
    VersionStore,
)
from .timeline import StatusView, Timeline, month_page, page_after
from .unbuilt import render_unbuilt_page
from .versions import check_version_id, is_slug, new_version_id
from .words import status_words
from .write import BuildLock, SiteFolder, atomic_write


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
    bytes_written: int = 0

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
            "bytes_written": self.bytes_written,
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
        self.views: dict[str, StatusView] = {}
        self.declared: dict[str, list[Incident]] = {}
        """Slug → the incidents ``incidents/`` declares for it."""
        self.failed: dict[str, str] = {}
        """Slug → why that dashboard could not be loaded or drawn in this build."""

    def problem(self, error: DashsiteError, slug: str = "") -> DashsiteError:
        """Record a problem; with ``slug``, one that stops that dashboard, not the build."""
        error = _relative_problem(error, self.config.root)
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
            writer = SiteFolder(config.site_path, shown=Path(config.site_dir))
            store = VersionStore(config.site_path)
            try:
                version_id, pruned = self._build_into(
                    writer, store, found.dashboards, {e.slug for e in found.problems}
                )
            except DashsiteError as exc:  # a site-wide failure (the index's layout, say)
                _relative_problem(exc, config.root)
                raise
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
        self.reporter.emit(Event("finish", message=summary(result), level=_overall(result)))
        return result

    def _build_into(
        self,
        writer: SiteFolder,
        store: VersionStore,
        dashboards: Sequence[Dashboard],
        broken: set[str],
    ) -> tuple[str, dict[str, list[str]]]:
        """Everything under the lock, in the order that keeps the site whole.

        New version folders first (each assembled aside and renamed in), then
        their log lines, the history pages, the latest pages (which link to
        both), the index, and the manifest last (the commit point). A journal
        names the versions being filed until the manifest is written, so a
        build killed midway is finished by the next one (:func:`_recover`).
        """
        config = self.config
        site = config.site_path
        site.mkdir(parents=True, exist_ok=True)
        manifest = store.load_manifest(shown=display(site / MANIFEST_FILE, config.root))
        recovering = store.temp_folder().is_dir()  # a build was killed: tidy up after it
        touched, adopted = _recover(store, manifest)
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
        version_id = self._version_id(site, dashboards)
        collected_at = self.options.clock()
        carried = (
            {}
            if self.options.refresh
            else carried_values(dashboards, manifest, store, config, collected_at)
        )
        with self._offload() as offload:
            grouped = run_coroutine(
                lambda: collect_dashboards(
                    dashboards, config, self.options.executor, carried=carried, offload=offload
                )
            )
        pending: list[DashboardData] = []
        for dashboard, outcomes in zip(dashboards, grouped, strict=True):
            item = settle(dashboard, outcomes, config.root)
            for problem in item.problems:
                self.problem(problem)
            pending.append(item)
        self._mark_active(manifest, dashboards, broken)
        declared = self._read_incidents(manifest)
        assets = write_assets(writer)
        built_at = self.options.clock()
        site_context = self._site_context(manifest, pending, assets, built_at)
        environment = create_environment(
            [config.layouts_path, config.dashboards_path],
            preloaded={d.template_name: (d.source, str(d.template)) for d in dashboards},
            auto_reload=False,
        )
        journal = store.temp_folder() / JOURNAL_FILE
        journal.parent.mkdir(exist_ok=True)
        atomic_write(
            journal,
            json.dumps(
                [
                    {"slug": slug, "path": f"{slug}/{version_folder(version_id, collected_at)}"}
                    for slug in (item.dashboard.slug for item in pending)
                ]
            ).encode(),
        )
        timeline = Timeline(store, writer, self._backfilling)
        for slug, found in adopted.items():  # a killed build's versions: their status counts
            record = manifest.dashboards[slug]
            for entry in sorted(found, key=lambda e: (e.collected_at, e.id)):
                timeline.filed(record, entry, _hold(record))
        latest_pages: dict[str, str] = {}
        for item in pending:
            page = self._file_version(
                store, timeline, environment, manifest, item, version_id, collected_at, site_context
            )
            if page is not None:
                latest_pages[item.dashboard.slug] = page
        appended = set(latest_pages)
        pruned: dict[str, list[str]] = {}
        rewritten: dict[str, set[str]] = {}
        removed: dict[str, set[str]] = {}
        if config.retention is not None:
            for record in manifest.dashboards.values():
                dropped, changed, gone = store.prune(record, config.retention, writer)
                if dropped:
                    pruned[record.slug] = [v.id for v in dropped]
                    rewritten[record.slug], removed[record.slug] = changed, gone
        pages_from, data_from = _tier_days(config, built_at)
        for record in manifest.dashboards.values():
            thinned = store.thin(record, pages_from, data_from)
            if thinned:
                rewritten[record.slug] = rewritten.get(record.slug, set()) | thinned
        site_context = self._site_context(manifest, [], assets, built_at)
        for record in manifest.dashboards.values():
            hold = _hold(record)
            if record.slug not in self.views and record.active:
                timeline.ensure(record, hold)
                self.views[record.slug] = timeline.view(
                    record, collected_at, hold, self.declared.get(record.slug, ())
                )
            latest = record.latest
            record.stale = (
                latest is None
                or (collected_at - _parse(latest.collected_at)).total_seconds() > hold
            )
        earlier = manifest.earlier_files(built_at)  # the finished months, once
        since = listed_since(built_at)
        for record in manifest.dashboards.values():  # before the history index links to it
            months_file = earlier.get(record.slug)
            link = months_file[1] if months_file else None
            write_months_page(writer, environment, record, site_context, link, since)
        for record in manifest.dashboards.values():
            slug = record.slug
            if slug in appended or slug in rewritten or slug in touched:
                months = touched.get(slug, set()) | rewritten.get(slug, set())
                write_history(
                    writer,
                    environment,
                    store,
                    record,
                    site_context,
                    appended=slug in appended,
                    rewritten=months,
                    removed=removed.get(slug, set()),
                    view=self.views.get(slug),
                    since=since,
                )
        for slug, page in latest_pages.items():  # they link to the history just written
            writer.write(f"{slug}/index.html", page)
        for record in manifest.dashboards.values():  # its URL says why, never a 404
            # (a latest page already published stays: the index says it failed)
            url = f"{record.slug}/index.html"
            missing = record.latest is None or not writer.exists(url)  # never a real page
            if record.active and record.slug not in latest_pages and missing:
                page = render_unbuilt_page(
                    environment, record, self.failed.get(record.slug, ""), site_context
                )
                writer.write(url, page)
        shown = [
            (record, self.views[record.slug])
            for record in (manifest.dashboards[slug] for slug in sorted(manifest.dashboards))
            if record.slug in self.views
        ]
        write_incident_pages(  # before the history and the index that link to them
            writer,
            environment,
            declared,
            {r.slug: r.title for r in manifest.dashboards.values() if r.active},
            site_context,
        )
        write_incident_history(writer, environment, shown, site_context, collected_at)
        entries = [
            (
                index_entry(
                    record,
                    store.tail(record, TREND_LENGTH),
                    self.views.get(record.slug),
                    problem=self.failed.get(record.slug, ""),
                ),
                record.active,
            )
            for record in (manifest.dashboards[slug] for slug in sorted(manifest.dashboards))
        ]
        write_index(writer, environment, entries, site_context, sort=config.index_sort)
        write_feeds(writer, shown, title=config.title, base_url=config.base_url, now=collected_at)
        write_badges(writer, shown, config.title, failed=set(self.failed))
        write_manifest(writer, manifest, built_at, assets, earlier)
        if recovering:  # a build killed after its manifest may have left an old months file
            store.drop_unlinked_earlier(manifest, writer)
        shutil.rmtree(store.temp_folder(), ignore_errors=True)  # the journal with it
        return version_id, pruned

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

    def _read_incidents(self, manifest: Manifest) -> list[DeclaredIncident]:
        """``incidents/``: each file checked; a bad one is a problem, the rest count."""
        config = self.config
        declared, problems = read_incidents(config.incidents_path, config.root)
        for problem in problems:
            self.problem(problem)
        active = sorted(slug for slug, record in manifest.dashboards.items() if record.active)
        for incident in declared:
            unknown = [s for s in incident.dashboards or () if s not in manifest.dashboards]
            if unknown:
                self.problem(
                    IncidentError(
                        f"names no dashboard called {', '.join(repr(s) for s in unknown)}",
                        path=display(config.incidents_path / f"{incident.name}.md", config.root),
                        hint="check 'dashboards' against 'dashsite list'",
                    )
                )
        self.declared = by_dashboard(declared, active)
        return declared

    def _version_id(self, site: Path, dashboards: Sequence[Dashboard]) -> str:
        """``--version-id`` checked, or a new time-based id no dashboard has yet."""

        now = self.options.clock()

        def taken(candidate: str) -> bool:
            nested = version_folder(candidate, now)
            return any(
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
        used: set[str] = set()
        version_id = new_version_id(now, used)
        # A folder of a killed run (or a partial pull) takes the id too.
        while taken(version_id):
            used.add(version_id)
            version_id = new_version_id(now, used)
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
            record.expected_every = dashboard.expected_every or every_seconds(
                self.config.expected_every
            )

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
            "words": status_words(self.config.status_words),
        }

    def _file_version(
        self,
        store: VersionStore,
        timeline: Timeline,
        environment: Any,
        manifest: Manifest,
        item: DashboardData,
        version_id: str,
        collected_at: datetime,
        site: dict[str, Any],
    ) -> str | None:
        """Render, file and log one dashboard's new version; its latest page, or None."""
        dashboard = item.dashboard
        slug = dashboard.slug
        record = manifest.dashboards[slug]
        hold = _hold(record)
        timeline.ensure(record, hold)
        timeline.settle(record, collected_at.astimezone(UTC).date().isoformat(), hold)
        history = LazyHistory(store, record, self.config.history)
        path = f"{slug}/{version_folder(version_id, collected_at)}"
        previous = record.latest
        extra: dict[str, Any] = {
            "last_good": last_good_values(store, record, sorted(item.errors), collected_at),
            "changes": self._changes(store, previous, item),
            "in_history": self._in_history(record, version_id, collected_at),
            "stale_after": hold,
        }

        def status_now() -> None:
            document = self._document(item, version_id, collected_at)
            pending = store.record_from_data(slug, document, path)
            extra["timeline"] = replace(
                timeline.view(
                    record, collected_at, hold, self.declared.get(slug, ()), pending=pending
                ),
                linkable=self.config.retention is None,
            )

        status_now()
        problem: str | None = None
        try:
            latest, snapshot = render_dashboard_pages(
                environment, item, version_id, collected_at, history, site, extra=extra
            )
        except RenderError as exc:
            if not item.errors:
                self.problem(exc, slug)
                return None
            # A source is down and the template cannot cope: never keep the old
            # "ok" page; file this version with built-in pages that say so.
            item.status = max(item.status, StatusLevel.ERROR)
            status_now()
            failure = self.problem(exc)
            problem = failure.one_line()
            latest, snapshot = render_failure_pages(
                environment, item, version_id, collected_at, history, site, failure, extra
            )
        assert snapshot is not None
        self.views[slug] = extra["timeline"]
        document = self._document(item, version_id, collected_at)
        text = json.dumps(document, ensure_ascii=False)
        store.file_version(
            slug,
            version_id,
            version_folder(version_id, collected_at),
            {DATA_FILE: _utf8(text), "index.html": _utf8(snapshot)},
        )
        entry = store.record_from_data(slug, document, path)
        store.append(record, entry)
        timeline.filed(record, entry, hold)
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
        return latest

    @contextmanager
    def _offload(self) -> Iterator[Offload | None]:
        """The dask cluster the config asks for, for the collection only; else None."""
        if self.options.offload is not None or self.config.executor != "dask":
            yield self.options.offload
            return
        from .cluster import dask_cluster

        with dask_cluster(self.config, self.reporter) as offload:
            yield offload

    @staticmethod
    def _document(item: DashboardData, version_id: str, collected_at: datetime) -> dict[str, Any]:
        """A version's ``data.json``."""
        dashboard = item.dashboard
        return {
            "schema": DATA_SCHEMA,
            "dashboard": dashboard.slug,
            "title": dashboard.title,
            "version": version_id,
            "collected_at": collected_at.astimezone(UTC).isoformat(),
            "status": item.status.slug,
            "data": item.stored,
            "errors": item.errors,
            "collectors": {
                o.name: {
                    "duration": round(o.duration, 6),
                    "attempts": o.attempts,
                    "ok": o.ok,
                    "collected_at": o.reused_from or collected_at.astimezone(UTC).isoformat(),
                    **({"reused": True} if o.reused_from else {}),
                }
                for o in item.outcomes
            },
        }

    @staticmethod
    def _changes(store: VersionStore, previous: Any, item: DashboardData) -> list[Any] | None:
        """What moved since the previous version (None when there is none to compare)."""
        if previous is None:
            return None
        try:
            raw = json.loads((store.site / previous.data_url).read_text(encoding="utf-8"))
            before = raw.get("data", {})
        except (OSError, ValueError, AttributeError, RecursionError):
            return None
        if not isinstance(before, dict):
            return None
        return changes(before, item.stored, previous.errors, item.errors)

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
        return f"{record.slug}/history/{name}#v-{version_id}"


def _hold(record: DashboardRecord) -> float:
    """How long a version's status holds: twice the dashboard's ``expected_every``."""
    return 2 * record.expected_every


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


def _recover(
    store: VersionStore, manifest: Manifest
) -> tuple[dict[str, set[str]], dict[str, list[LogRecord]]]:
    """Finish what a killed build left: adopt its filed versions, drop its parts.

    The journal lists the versions that build was filing. One whose folder
    was renamed in is adopted (its log line written if missing, the manifest
    counts redone for its month); anything still aside in the temporary
    folder is deleted. Returns the months whose history pages must be redone,
    and the versions adopted (their status is followed once the timeline is
    open), by dashboard.
    """
    temp = store.temp_folder()
    if not temp.is_dir():
        return {}, {}
    touched: dict[str, set[str]] = {}
    adopted: dict[str, list[LogRecord]] = {}
    journal = temp / JOURNAL_FILE
    try:
        entries = json.loads(journal.read_text(encoding="utf-8")) if journal.is_file() else []
    except (OSError, ValueError):
        entries = []
    for entry in entries if isinstance(entries, list) else []:
        slug, path = (entry.get("slug"), entry.get("path")) if isinstance(entry, dict) else (0, 0)
        if not (isinstance(slug, str) and is_slug(slug) and isinstance(path, str)):
            continue
        if not path.startswith(f"{slug}/") or ".." in path.split("/"):
            continue
        if not (store.site / path).is_dir():
            continue
        record = manifest.dashboards.setdefault(slug, DashboardRecord(slug, slug))
        found = store.adopt(record, path)
        if found is not None:
            touched.setdefault(slug, set()).add(found.month)
            adopted.setdefault(slug, []).append(found)
    shutil.rmtree(temp, ignore_errors=True)
    return touched, adopted


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
