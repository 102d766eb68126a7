"""What a ``--jobs`` worker hands back to the build: the records, views, outcomes and
tallies of its block of dashboards (:class:`Handover`), and what a block's stages did
(:class:`Done`). The forking itself is :mod:`.workers`'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from dashsite.core.errors import DashsiteError
from dashsite.site.context import hold
from dashsite.site.report import DashboardBuild
from dashsite.site.stages import Filing
from dashsite.status.view import StatusView
from dashsite.store.manifest import EarlierMonths
from dashsite.store.version_store import DashboardRecord
from dashsite.store.write import SiteFolder


class Outcomes(Protocol):
    """What the build keeps of its dashboards (:class:`.build.SiteBuilder`): what a worker
    adds to and the build takes over."""

    results: list[DashboardBuild]
    problems: list[DashsiteError]
    views: dict[str, StatusView]
    failed: dict[str, str]
    trends: dict[str, list[int]]


@dataclass(frozen=True, slots=True)
class Counts:
    """Where the build's tallies stood when the workers were forked: a worker hands back
    what it added to them."""

    results: int
    problems: int
    files: int
    bytes: int
    store_files: int
    store_bytes: int

    @staticmethod
    def of(builder: Outcomes, filing: Filing, writer: SiteFolder) -> Counts:
        return Counts(
            len(builder.results),
            len(builder.problems),
            writer.written,
            writer.bytes_written,
            filing.store.written,
            filing.store.bytes_written,
        )


@dataclass(frozen=True, slots=True)
class Handover:
    """What a worker changed that the build must take over (:meth:`Done.handover`).

    The records, views and outcomes of its dashboards, the digests of the pages
    it wrote, today's tallies, each card's trend (for the index),
    the months it repaired, and how many files and bytes it wrote. Everything
    else a worker touches is its dashboards' files, which the build reads again.
    """

    slugs: list[str]
    records: dict[str, DashboardRecord]
    views: dict[str, StatusView]
    """Without their month source: each reads its months through the build's timeline."""
    failed: dict[str, str]
    results: list[DashboardBuild]
    problems: list[DashsiteError]
    digests: dict[str, str]
    live: dict[str, str]
    """Today's tallies, encoded (:class:`LiveCache`)."""
    drawn: dict[str, str]
    """What its history pages were drawn from (:attr:`LiveCache.drawn`)."""
    pages: dict[str, str]
    """What the latest pages its checks drew were drawn from (:attr:`LiveCache.pages`)."""
    trends: dict[str, list[int]]
    repaired: set[tuple[str, str]]
    doomed: list[tuple[str, str]]
    """What its retention and tiers took out, deleted by the build after its manifest."""
    files: int
    bytes: int
    store_files: int
    store_bytes: int


@dataclass(slots=True)
class Done:
    """What the per-dashboard stages did for a block of dashboards
    (:meth:`.build.SiteBuilder._part`); from a worker, with its :class:`Handover`."""

    latest_pages: dict[str, bool]
    """The dashboards filed, and whether their latest page changed (staged aside)."""
    pruned: dict[str, list[str]]
    earlier: dict[str, tuple[bytes, EarlierMonths]]
    handed: Handover | None = None

    def handover(
        self,
        builder: Outcomes,
        filing: Filing,
        writer: SiteFolder,
        slugs: Sequence[str],
        before: Counts,
    ) -> None:
        """In a worker: note what the build must take over (:meth:`take_over`)."""
        now = Counts.of(builder, filing, writer)
        live = filing.timeline.live
        chosen = set(slugs)
        self.handed = Handover(
            slugs=list(slugs),
            records={slug: filing.manifest.dashboards[slug] for slug in slugs},
            views={s: replace(builder.views[s], source=None) for s in slugs if s in builder.views},
            failed={s: builder.failed[s] for s in slugs if s in builder.failed},
            results=builder.results[before.results :],
            problems=builder.problems[before.problems :],
            digests=writer.digests.under(slugs) if writer.digests is not None else {},
            live={s: live.current[s] for s in slugs if live and s in live.current},
            drawn={s: live.drawn[s] for s in slugs if live and s in live.drawn},
            pages={s: live.pages[s] for s in slugs if live and s in live.pages},
            trends={s: builder.trends[s] for s in slugs if s in builder.trends},
            repaired={r for r in filing.store.repaired if r[0] in chosen},
            doomed=list(filing.store.doomed),
            files=now.files - before.files,
            bytes=now.bytes - before.bytes,
            store_files=now.store_files - before.store_files,
            store_bytes=now.store_bytes - before.store_bytes,
        )

    def take_over(self, builder: Outcomes, filing: Filing, writer: SiteFolder) -> None:
        """In the build: take over what a worker did (:meth:`handover`)."""
        got = self.handed
        assert got is not None, "a worker's result without its handover"
        filing.manifest.dashboards.update(got.records)
        for slug, view in got.views.items():  # its months read through our timeline
            record = filing.manifest.dashboards[slug]
            source = filing.timeline.month_source(record, hold(record))
            builder.views[slug] = replace(view, source=source)
        builder.failed.update(got.failed)
        builder.results.extend(got.results)
        builder.problems.extend(got.problems)
        if writer.digests is not None:
            writer.digests.carry(got.slugs, got.digests)
        if filing.timeline.live is not None:
            filing.timeline.live.current.update(got.live)
            filing.timeline.live.drawn.update(got.drawn)
            filing.timeline.live.pages.update(got.pages)
        builder.trends.update(got.trends)
        filing.store.carry(got.slugs)
        filing.store.repaired |= got.repaired
        filing.store.doomed += got.doomed
        writer.written += got.files
        writer.bytes_written += got.bytes
        filing.store.written += got.store_files
        filing.store.bytes_written += got.store_bytes
        self.handed = None

    @staticmethod
    def joined(found: Sequence[Done]) -> Done:
        """The blocks' results as one."""
        done = Done({}, {}, {})
        for part in found:
            done.latest_pages.update(part.latest_pages)
            done.pruned.update(part.pruned)
            done.earlier.update(part.earlier)
        return done
