"""What a publish sends, in which order, with which headers; and what it may delete.

Order matters: a reader must never follow a link to an object that is not
there yet. New versions and assets go first, then history pages, then the
latest pages, then ``index.html``, and ``manifest.json`` last. Deletions
come after everything, and only for versions that retention pruned.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from ..errors import PublishError
from ..versions import MANIFEST_FILE, Manifest

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
STAGES = (
    "versions and assets",
    "other files",
    "history pages",
    "latest pages",
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


def _stage(relative: str, versions: set[tuple[str, str]]) -> tuple[int, str]:
    parts = relative.split("/")
    if relative == MANIFEST_FILE:
        return 5, REVALIDATE
    if relative == "index.html":
        return 4, REVALIDATE
    if parts[0] == "assets":
        return 0, IMMUTABLE
    if len(parts) >= 3 and (parts[0], parts[1]) in versions:
        return 0, IMMUTABLE
    if len(parts) >= 2 and parts[1] == "history":
        return 2, REVALIDATE
    if len(parts) == 2 and parts[1] == "index.html":
        return 3, REVALIDATE
    return 1, REVALIDATE


def plan_site(site: Path) -> list[SiteFile]:
    """Every file of ``site``, hashed and classified, in publishing order."""
    if not (site / MANIFEST_FILE).is_file():
        raise PublishError(
            "no built site to publish", path=site.name, hint="run 'dashsite build' first"
        )
    manifest = Manifest.load(site)
    versions = {(slug, v.id) for slug, r in manifest.dashboards.items() for v in r.versions}
    files = []
    for path in sorted(site.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        relative = path.relative_to(site).as_posix()
        data = path.read_bytes()
        stage, cache = _stage(relative, versions)
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
    """How the published versions relate to the local ones."""

    pruned: list[tuple[str, str]]
    unknown: list[tuple[str, str]]


def compare_versions(local: Manifest, published: Manifest) -> VersionDiff:
    """Published versions the local site lacks: pruned by retention, or unknown.

    A published version older than the oldest version both sides share was
    pruned by retention, and may be deleted. Any other published version the
    local site lacks (newer ones, or a dashboard with nothing in common) is
    unknown: publishing would unlink it, so the caller should pull first.
    """
    pruned: list[tuple[str, str]] = []
    unknown: list[tuple[str, str]] = []
    for slug, remote in published.dashboards.items():
        mine = local.dashboards.get(slug)
        local_ids = {v.id for v in mine.versions} if mine else set()
        remote_ids = [v.id for v in remote.versions]
        shared = [i for i, vid in enumerate(remote_ids) if vid in local_ids]
        first_shared = shared[0] if shared else len(remote_ids)
        for index, vid in enumerate(remote_ids):
            if vid in local_ids:
                continue
            if shared and index < first_shared:
                pruned.append((slug, vid))
            else:
                unknown.append((slug, vid))
    return VersionDiff(pruned, unknown)


def unknown_versions_error(diff: VersionDiff, target: str) -> PublishError:
    """The refusal when the target holds versions this site does not know."""
    sample = ", ".join(f"{slug}/{vid}" for slug, vid in diff.unknown[:3])
    more = f" and {len(diff.unknown) - 3} more" if len(diff.unknown) > 3 else ""
    return PublishError(
        f"{target} holds {len(diff.unknown)} version(s) this site does not have "
        f"({sample}{more}); publishing would drop them from the index",
        hint=f"run 'dashsite pull {target}' and build again, or pass --force",
    )
