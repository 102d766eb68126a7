"""Where everything in a site lives: the one module that builds a site path, and reads one.

Every other module asks here for a file's place (``layout.latest_page(slug)``), and
publishing, retention, gh-pages ownership and pull ask :func:`classify` what a path
is, instead of working the layout out again. The README's site tree is
:func:`tree`'s output, kept equal by a test.

Paths are site-relative, ``/``-separated strings: they are S3 keys and git paths as
much as file names. Slugs and version ids are checked where they are made
(:mod:`dashsite.core.names`); the builders here only join them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

# -- names --------------------------------------------------------------------------------------

INDEX_PAGE = "index.html"
MANIFEST_FILE = "manifest.json"
ASSETS_FOLDER = "assets"
NOJEKYLL = ".nojekyll"
FEED_FILE = "feed.xml"
FEED_PAGE = "feed.html"
"""A feed as a page a browser shows, with how to subscribe (beside each ``feed.xml``)."""
BADGE_JSON = "badge.json"
BADGE_SVG = "badge.svg"
INCIDENTS_FOLDER = "incidents"
"""Declared incidents' pages, site-wide (and their sources in the project)."""
SCHEMAS_FOLDER = "schemas"
"""The JSON Schemas of ``manifest.json`` and ``data.json``, published with the site."""
NOTIFY_LEDGER = "notify-ledger.json"
"""Which status change went to which notification target (travels with the site)."""

DATA_FILE = "data.json"
"""A version's collected data, beside its page."""
LOG_FOLDER = "log"
STATUS_FILE = "status.json"
"""A month's settled days and resolved incidents, beside its shards (a cache)."""
DIGEST_FILE = "digest.json"
"""A dashboard's per-day summaries of the last year, in one file (a cache)."""
HISTORY_FOLDER = "history"
MONTHS_PAGE = "months.html"
"""A dashboard's list of the months before the history index's year."""

TEMP_FOLDER = ".dashsite-tmp"
"""Inside the site: version folders being assembled, and the build's journal."""
JOURNAL_FILE = "journal.json"
STATE_FOLDER = ".dashsite"
"""Inside the site: what publishers remember of their targets (never published)."""

SITE_FILES = frozenset(
    {INDEX_PAGE, MANIFEST_FILE, ASSETS_FOLDER, NOJEKYLL, FEED_FILE, FEED_PAGE, BADGE_JSON,
     BADGE_SVG, INCIDENTS_FOLDER, SCHEMAS_FOLDER, NOTIFY_LEDGER}
)  # fmt: skip
"""Top-level names dashsite writes besides the dashboards' folders."""

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"\d{4}-\d{2}")
_SHARD = re.compile(r"\d{2}\.jsonl")
_CHECKS = re.compile(r"\d{2}\.checks\.jsonl")
EARLIER_NAME = re.compile(r"months-([0-9a-f]{12})\.json")
"""The earlier-months file's name: its content's hash."""
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]*")

# -- builders -----------------------------------------------------------------------------------


def dashboard_folder(slug: str) -> str:
    """``<slug>``: everything of one dashboard."""
    return slug


def latest_page(slug: str) -> str:
    """``<slug>/index.html``: the latest version."""
    return f"{slug}/{INDEX_PAGE}"


def version_day(version: str, collected_at: datetime) -> str:
    """``2026-11-27/<id>``: a version's folder inside its dashboard's.

    Nested by day, so a dashboard's folder (and its git tree, on gh-pages) grows by
    one entry a day, not one a build.
    """
    return f"{collected_at.astimezone(UTC).date().isoformat()}/{version}"


def version_folder(slug: str, version: str, collected_at: datetime) -> str:
    """``<slug>/2026-11-27/<id>``: one immutable snapshot."""
    return f"{slug}/{version_day(version, collected_at)}"


def version_folder_on(slug: str, day: str, version: str) -> str:
    """``<slug>/<day>/<id>``, for a day given as ``YYYY-MM-DD``."""
    return f"{slug}/{day}/{version}"


def legacy_version_folder(slug: str, version: str) -> str:
    """``<slug>/<id>``: where a site of schema 1 kept a version."""
    return f"{slug}/{version}"


def version_page(slug: str, version: str, collected_at: datetime) -> str:
    """``<slug>/2026-11-27/<id>/index.html``."""
    return f"{version_folder(slug, version, collected_at)}/{INDEX_PAGE}"


def version_data(slug: str, version: str, collected_at: datetime) -> str:
    """``<slug>/2026-11-27/<id>/data.json``."""
    return f"{version_folder(slug, version, collected_at)}/{DATA_FILE}"


def log_folder(slug: str) -> str:
    """``<slug>/log``: the history log, its caches and the earlier-months file."""
    return f"{slug}/{LOG_FOLDER}"


def log_month(slug: str, month: str) -> str:
    """``<slug>/log/2026-11``: a month's shards and its status cache."""
    return f"{slug}/{LOG_FOLDER}/{month}"


def log_shard(slug: str, day: str) -> str:
    """``<slug>/log/2026-11/27.jsonl``: the log shard of a day."""
    return f"{slug}/{LOG_FOLDER}/{day[:7]}/{day[8:10]}.jsonl"


def log_checks(slug: str, day: str) -> str:
    """``<slug>/log/2026-11/27.checks.jsonl``: the checks of a day (builds that found the
    data unchanged: :mod:`dashsite.store.log`)."""
    return f"{slug}/{LOG_FOLDER}/{day[:7]}/{day[8:10]}.checks.jsonl"


def month_status(slug: str, month: str) -> str:
    """``<slug>/log/2026-11/status.json``: a month's settled days (a cache)."""
    return f"{log_month(slug, month)}/{STATUS_FILE}"


def digest(slug: str) -> str:
    """``<slug>/log/digest.json``: the last year's days in one file (a cache)."""
    return f"{slug}/{LOG_FOLDER}/{DIGEST_FILE}"


def earlier_months(slug: str, name: str) -> str:
    """``<slug>/log/months-<hash>.json``: the finished months, named by their content."""
    return f"{slug}/{LOG_FOLDER}/{name}"


def history_folder(slug: str) -> str:
    """``<slug>/history``: the history index and one page per month."""
    return f"{slug}/{HISTORY_FOLDER}"


def history_page(slug: str, name: str = INDEX_PAGE) -> str:
    """``<slug>/history/<name>`` (the index by default, or ``2026-11.html``)."""
    return f"{slug}/{HISTORY_FOLDER}/{name}"


def feed(slug: str | None = None) -> str:
    """``feed.xml`` for the site, ``<slug>/feed.xml`` for one dashboard."""
    return f"{slug}/{FEED_FILE}" if slug else FEED_FILE


def feed_page(slug: str | None = None) -> str:
    """``feed.html`` for the site, ``<slug>/feed.html`` for one dashboard: the feed, readable."""
    return f"{slug}/{FEED_PAGE}" if slug else FEED_PAGE


def badge_json(slug: str | None = None) -> str:
    """``badge.json`` for the site, ``<slug>/badge.json`` for one dashboard."""
    return f"{slug}/{BADGE_JSON}" if slug else BADGE_JSON


def badge_svg(slug: str | None = None) -> str:
    """``badge.svg`` for the site, ``<slug>/badge.svg`` for one dashboard."""
    return f"{slug}/{BADGE_SVG}" if slug else BADGE_SVG


def schema(name: str) -> str:
    """``schemas/<name>.schema.json``: a published JSON Schema (``manifest``, ``data``)."""
    return f"{SCHEMAS_FOLDER}/{name}.schema.json"


def journal() -> str:
    """``.dashsite-tmp/journal.json``: what an unfinished build was doing."""
    return f"{TEMP_FOLDER}/{JOURNAL_FILE}"


def state_file(site: Path, name: str) -> Path:
    """``.dashsite/<site>.<name>`` beside ``site``: one of dashsite's own files for that
    site (``lock``, ``live.json``, ``written.json``, ``parts``), never published."""
    return site.parent / STATE_FOLDER / f"{site.name}.{name}"


def in_dashboard(slug: str, relative: str) -> bool:
    """Whether ``relative`` is inside ``<slug>/`` (no ``..`` steps)."""
    return relative.startswith(f"{slug}/") and ".." not in relative.split("/")


def from_dashboard(slug: str, relative: str) -> str:
    """``<slug>/2026-11-27/<id>/`` → ``2026-11-27/<id>/``: a site path as its dashboard's
    pages link it."""
    return relative.removeprefix(f"{slug}/")


# -- reading a path -----------------------------------------------------------------------------


class Kind(StrEnum):
    """What a site path is."""

    SITE_PAGE = "site page"
    """The index, and other pages of the whole site."""
    MANIFEST = "manifest"
    ASSET = "asset"
    """Named by its content: never changes."""
    SITE_FILE = "site file"
    """Feeds, badges, ``.nojekyll``, incident pages."""
    LATEST = "latest page"
    VERSION = "version"
    """A file of an immutable snapshot (its page or data)."""
    LOG_SHARD = "log shard"
    LOG_CHECKS = "log checks"
    """A day's checks: the builds that found a dashboard's data unchanged."""
    MONTH_STATUS = "month status"
    DIGEST = "digest"
    EARLIER_MONTHS = "earlier months"
    """Named by its content: never changes."""
    HISTORY = "history page"
    DASHBOARD_FILE = "dashboard file"
    """A dashboard's feed (and its page) or badges."""
    LEDGER = "notification ledger"
    """What ``dashsite notify`` sent: published and pulled with the site."""
    STATE = "state"
    """dashsite's own working files: never published."""
    UNKNOWN = "unknown"
    """Not written by dashsite."""


@dataclass(frozen=True, slots=True)
class SitePath:
    """A classified site path: its kind and, where it has them, slug, day or month and version."""

    kind: Kind
    slug: str | None = None
    day: str | None = None
    """``YYYY-MM-DD`` of a version or a log shard; ``YYYY-MM`` of a month's status."""
    version: str | None = None

    @property
    def immutable(self) -> bool:
        """Written once, never changed: a version's files and content-named files."""
        return self.kind in (Kind.VERSION, Kind.ASSET, Kind.EARLIER_MONTHS)

    @property
    def cache(self) -> bool:
        """Derived from the log: recomputed when missing, unreadable or inconsistent."""
        return self.kind in (Kind.MONTH_STATUS, Kind.DIGEST)


def classify(relative: str) -> SitePath:
    """What ``relative`` (a site path, ``/``-separated) is in a dashsite site."""
    parts = relative.strip("/").split("/")
    top = parts[0]
    if top in (TEMP_FOLDER, STATE_FOLDER):
        return SitePath(Kind.STATE)
    if len(parts) == 1:
        if top == MANIFEST_FILE:
            return SitePath(Kind.MANIFEST)
        if top == NOTIFY_LEDGER:
            return SitePath(Kind.LEDGER)
        if top == INDEX_PAGE or top.endswith(".html"):
            return SitePath(Kind.SITE_PAGE)
        if top in SITE_FILES:
            return SitePath(Kind.SITE_FILE)
        return SitePath(Kind.UNKNOWN)
    if top == ASSETS_FOLDER:
        return SitePath(Kind.ASSET)
    if top in (INCIDENTS_FOLDER, SCHEMAS_FOLDER):
        return SitePath(Kind.SITE_FILE)
    return _classify_dashboard(top, parts[1:])


def _classify_dashboard(slug: str, rest: list[str]) -> SitePath:
    head = rest[0]
    if len(rest) == 1:
        if head == INDEX_PAGE:
            return SitePath(Kind.LATEST, slug)
        if head in (FEED_FILE, FEED_PAGE, BADGE_JSON, BADGE_SVG):
            return SitePath(Kind.DASHBOARD_FILE, slug)
        return SitePath(Kind.UNKNOWN, slug)
    if head == HISTORY_FOLDER and len(rest) == 2:
        return SitePath(Kind.HISTORY, slug)
    if head == LOG_FOLDER:
        return _classify_log(slug, rest[1:])
    if head == HISTORY_FOLDER:
        return SitePath(Kind.UNKNOWN, slug)
    if _DAY.fullmatch(head) and len(rest) >= 3:
        return SitePath(Kind.VERSION, slug, head, rest[1])
    return SitePath(Kind.VERSION, slug, None, head)  # a schema-1 site: <slug>/<id>/…


def _classify_log(slug: str, rest: list[str]) -> SitePath:
    if len(rest) == 1:
        if rest[0] == DIGEST_FILE:
            return SitePath(Kind.DIGEST, slug)
        if EARLIER_NAME.fullmatch(rest[0]):
            return SitePath(Kind.EARLIER_MONTHS, slug)
    elif len(rest) == 2 and _MONTH.fullmatch(rest[0]):
        if rest[1] == STATUS_FILE:
            return SitePath(Kind.MONTH_STATUS, slug, rest[0])
        if _SHARD.fullmatch(rest[1]):
            return SitePath(Kind.LOG_SHARD, slug, f"{rest[0]}-{rest[1][:2]}")
        if _CHECKS.fullmatch(rest[1]):
            return SitePath(Kind.LOG_CHECKS, slug, f"{rest[0]}-{rest[1][:2]}")
    return SitePath(Kind.UNKNOWN, slug)


# -- the tree the README shows ------------------------------------------------------------------

TREE = (
    (INDEX_PAGE, "every dashboard: status, last update, 90-day bars; overall banner"),
    (MANIFEST_FILE, "machine-readable: dashboards, status, latest, this month's counts"),
    (FEED_FILE, "Atom feed of the site's incidents"),
    (FEED_PAGE, "the same feed as a page: its entries, how to subscribe"),
    (f"{BADGE_JSON}, {BADGE_SVG}", "the site's status: shields.io endpoint JSON and an SVG badge"),
    (f"{INCIDENTS_FOLDER}/<name>.html", "a declared incident's page"),
    (f"{ASSETS_FOLDER}/…", "CSS (and one small optional JS), content-hashed names"),
    (f"{SCHEMAS_FOLDER}/manifest.schema.json, data.schema.json",
        "JSON Schemas of the two machine-readable formats"),
    (NOTIFY_LEDGER, "which status change dashsite notify sent to which target"),
    (latest_page("<slug>"), "the latest version"),
    (version_page("<slug>", "<version>", datetime(2026, 11, 27, tzinfo=UTC)).replace(
        "2026-11-27", "<YYYY-MM-DD>"), "one immutable snapshot (written once)"),
    (f"{version_folder('<slug>', '<version>', datetime(2026, 11, 27, tzinfo=UTC))}/{DATA_FILE}"
        .replace("2026-11-27", "<YYYY-MM-DD>"), "what the collectors returned for it"),
    (history_page("<slug>"), "the history index: the last year by month, uptime"),
    (history_page("<slug>", "<YYYY-MM>.html"), "one page per month (finished months never change)"),
    (history_page("<slug>", MONTHS_PAGE), "the months before the last year"),
    (log_shard("<slug>", "0000-00-00").replace("0000-00", "<YYYY-MM>").replace("00.", "<DD>."),
        "the history log: one line per version, a file a day"),
    (log_checks("<slug>", "0000-00-00").replace("0000-00", "<YYYY-MM>").replace("00.", "<DD>."),
        "the builds that found the data unchanged (checks), a file a day"),
    (month_status("<slug>", "<YYYY-MM>"), "cache: a month's settled days and incidents"),
    (digest("<slug>"), "cache: the last year's days in one file"),
    (earlier_months("<slug>", "months-<hash>.json"), "the finished months, named by content"),
    (feed("<slug>"), "Atom feed of the dashboard's incidents"),
    (feed_page("<slug>"), "the dashboard's feed as a page"),
    (f"{badge_json('<slug>')}, {BADGE_SVG}", "the dashboard's status badges"),
)  # fmt: skip
"""Every kind of file in a site, with what it holds, in the README's order."""


def tree() -> str:
    """The site layout as the README's tree (a code block's lines)."""
    width = max(len(path) for path, _ in TREE) + 2
    lines = ["site/"] + [f"  {path.ljust(width)}# {what}" for path, what in TREE]
    return "\n".join(lines)
