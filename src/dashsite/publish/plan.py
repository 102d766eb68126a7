"""What a publish sends, in which order, with which headers; and what it may delete.

Order matters: a reader must never follow a link to an object that is not
there yet. New versions and assets go first, then history pages, then the
latest pages, then ``index.html``, then the deletions (only of what retention
pruned or the tiers thinned: no page links to them any more), and
``manifest.json`` last, so a publish stopped before it is finished by the next.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dashsite.core.errors import PublishError
from dashsite.store import layout
from dashsite.store.layout import MANIFEST_FILE
from dashsite.store.version_store import LogRecord, Manifest

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
STAGES = (
    "versions and assets",
    "other files",
    "history pages",
    "latest pages",
    "site pages",
    "index",
    "manifest",
)

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".webp": "image/webp",
}


def content_type(path: Path) -> str:
    """The ``Content-Type`` of a site file, with a charset for text."""
    known = _TYPES.get(path.suffix.lower())
    if known:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


@dataclass(frozen=True, slots=True)
class SiteFile:
    """One file to publish: where it goes and how it is served."""

    relative: str
    path: Path
    md5: str
    sha256: str
    content_type: str
    cache_control: str
    stage: int


MANIFEST_STAGE = STAGES.index("manifest")
"""The last stage: a publish's deletions go just before it."""

_ORDER = {
    layout.Kind.MANIFEST: MANIFEST_STAGE,
    layout.Kind.SITE_PAGE: 4,
    layout.Kind.LATEST: 3,
    layout.Kind.HISTORY: 2,
}
"""Publishing order: what links to a file goes after it; the manifest goes last."""
_LINKING = (layout.Kind.SITE_FILE, layout.Kind.DASHBOARD_FILE, layout.Kind.UNKNOWN)


def _links_rows(relative: str) -> bool:
    """The incident history and the feeds (and their pages), which link to history rows
    and latest pages: they go up with the site pages, after those. (A declared incident's
    own page stays first: the latest pages link to it, and it only to them.)"""
    name = relative.rsplit("/", 1)[-1]
    return relative == f"{layout.INCIDENTS_FOLDER}/{layout.INDEX_PAGE}" or name in (
        layout.FEED_FILE,
        layout.FEED_PAGE,
    )


def publish_stage(relative: str) -> tuple[int, str]:
    """A file's place in the publishing order (what links to it goes after) and its caching."""
    found = layout.classify(relative)
    if found.immutable:
        return 0, IMMUTABLE  # a version's files, or named by their content
    if relative == layout.INDEX_PAGE:  # it links to the other site pages (feed.html, …)
        return 5, REVALIDATE
    if found.kind in _LINKING and _links_rows(relative):
        return _ORDER[layout.Kind.SITE_PAGE], REVALIDATE  # (after the pages they link to)
    return _ORDER.get(found.kind, 1), REVALIDATE


def plan_site(site: Path) -> list[SiteFile]:
    """Every file of ``site``, hashed and classified, in publishing order.

    Hidden files and folders (dashsite's own ``.dashsite-tmp``) are not
    part of the site.
    """
    if not (site / MANIFEST_FILE).is_file():
        raise PublishError(
            "no built site to publish", path=site.name, hint="run 'dashsite build' first"
        )
    return site_files(site, walk_site(site))


def walk_site(site: Path, under: str = "", deep: bool = True) -> Iterator[str]:
    """Relative paths of the files in ``site/under`` (all levels, or just that one).

    Hidden files and folders, and symbolic links, are not part of the site.
    """
    top = site / under if under else site
    for folder, dirs, names in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if deep else []
        for name in sorted(names):
            path = Path(folder) / name
            if not name.startswith(".") and not path.is_symlink():
                yield path.relative_to(site).as_posix()


def site_files(site: Path, relatives: Iterable[str]) -> list[SiteFile]:
    """These files of ``site``, hashed and classified, in publishing order."""
    files = []
    for relative in relatives:
        path = site / relative
        data = path.read_bytes()
        stage, cache = publish_stage(relative)
        files.append(
            SiteFile(
                relative,
                path,
                hashlib.md5(data, usedforsecurity=False).hexdigest(),
                hashlib.sha256(data).hexdigest(),
                content_type(path),
                cache,
                stage,
            )
        )
    files.sort(key=lambda f: (f.stage, f.relative))
    return files


@dataclass(frozen=True, slots=True)
class VersionDiff:
    """How the published versions relate to the local ones, month by month.

    ``pruned`` lists ``(slug, month)`` whose published versions the local
    site dropped through retention (older than anything kept, or the oldest
    month kept, with fewer versions); ``unknown`` describes published
    versions the local site never had.
    """

    pruned: list[tuple[str, str]]
    unknown: list[tuple[str, str]]


def compare_versions(
    local: Manifest,
    published: Manifest,
    knows: Callable[[str, LogRecord], bool],
) -> VersionDiff:
    """Published versions the local site lacks: pruned by retention, or unknown (and the
    published newest check, when the local log lacks it: builds this site has not seen).

    Counted per month from the two manifests, so a comparison costs the
    months kept, not the versions. Pruning is only inferred when the local
    site holds the published latest version (``knows``: it is in the local
    log); otherwise every published version the local site lacks is unknown,
    and publishing would unlink it, so the caller should pull first.
    """
    pruned: list[tuple[str, str]] = []
    unknown: list[tuple[str, str]] = []
    for slug, remote in published.dashboards.items():
        mine = local.dashboards.get(slug)
        if remote.latest is None:
            continue
        if (
            mine is None
            or mine.latest is None
            or not (knows(slug, remote.latest) or remote.latest.path in mine.pruned_recent)
        ):
            missing = sum(
                max(0, info.count - (mine.months[m].count if mine and m in mine.months else 0))
                for m, info in remote.months.items()
            )
            unknown.append((slug, f"{max(missing, 1)} version(s), the newest {remote.latest.id}"))
            continue
        if remote.checked is not None and not knows(slug, remote.checked):  # its builds since
            unknown.append((slug, f"checks of {remote.latest.id}, the newest {remote.checked.id}"))
            continue
        oldest = next(iter(mine.months))
        dropped = mine.pruned > remote.pruned  # (a month's count may stay: one in, one out)
        for month, info in remote.months.items():
            have = mine.months[month].count if month in mine.months else 0
            if month < oldest or (month == oldest and (have < info.count or dropped)):
                pruned.append((slug, month))
            elif have < info.count:
                unknown.append((slug, f"{info.count - have} version(s) of {month}"))
    return VersionDiff(pruned, unknown)


def unknown_versions_error(diff: VersionDiff, target: str) -> PublishError:
    """The refusal when the target holds versions this site does not know."""
    slug, what = diff.unknown[0]  # one, and a count: the line must stay whole
    more = f", and {len(diff.unknown) - 1} more" if len(diff.unknown) > 1 else ""
    return PublishError(
        f"{target} holds versions this site does not have ({slug}: {what}{more}); "
        "publishing would drop them",
        hint="run 'dashsite pull' from it and build again (if pull refuses too: --force on "
        "pull or publish keeps that side's versions)",
    )
