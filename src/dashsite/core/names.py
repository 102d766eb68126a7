"""Names a site is made of: version ids and dashboard slugs, and their rules.

A version id is unique, sorts by time and is safe in a URL and an S3 key:
``20261127T201500Z``, with ``-01``, ``-02``… for a second build in the same
second. Where versions are kept is :mod:`dashsite.store`'s business.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from dashsite.core.errors import SiteError

VERSION_ID_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")
"""A version id, whole (used with ``fullmatch``: no trailing newline slips through)."""
SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
"""A dashboard's folder name and URL, whole (used with ``fullmatch``)."""
RESERVED_SLUGS = frozenset({"assets", "history", "dashsite", "incidents"})
"""Names the site itself uses (files such as ``feed.xml`` cannot be slugs anyway)."""
NEW_RESERVED = frozenset({"schemas"})
"""Names a new dashboard cannot take (the site's JSON Schemas folder); one already in a
site's history is still read."""
DASHBOARD_PACKAGE = "_dashsite_dashboards"
"""The package each ``dashboard.py`` is imported under (``<package>.<slug>.dashboard``)."""
SLUG_HINT = (
    "start with a lower-case letter or digit, then use lower-case letters, digits, '-' "
    "or '_' (up to 63; not assets, history, incidents, schemas or dashsite), "
    "e.g. service-health"
)


def is_slug(text: str) -> bool:
    """Whether ``text`` can be a dashboard's folder name and URL."""
    return SLUG_PATTERN.fullmatch(text) is not None and text not in RESERVED_SLUGS


def is_new_slug(text: str) -> bool:
    """Whether a dashboard folder may be called ``text`` (:func:`is_slug`, and not a name
    the site took later: :data:`NEW_RESERVED`)."""
    return is_slug(text) and text not in NEW_RESERVED


def is_version_id(text: str) -> bool:
    """Whether ``text`` is a safe version id (in a URL, a path and an S3 key)."""
    return VERSION_ID_PATTERN.fullmatch(text) is not None and text not in RESERVED_VERSION_IDS


RESERVED_VERSION_IDS = frozenset({"history", "index.html", "data.json", "assets", "log"})
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def check_version_id(version_id: str, taken: set[str]) -> str:
    """Validate a user-given ``--version-id``; refuse an unsafe, reserved or existing one."""
    if version_id in RESERVED_VERSION_IDS:
        raise SiteError(
            f"version id '{version_id}' is a name the site uses itself "
            f"({', '.join(sorted(RESERVED_VERSION_IDS))})",
            hint="pick another --version-id, e.g. a CI run number",
        )
    if _DAY.fullmatch(version_id):
        raise SiteError(
            f"version id '{version_id}' is a day: each day's versions are filed in a folder "
            "named so",
            hint="pick another --version-id, e.g. a CI run number or run-2026-12-04",
        )
    if not is_version_id(version_id):
        raise SiteError(
            f"version id '{version_id}' is not safe in a URL and an S3 key",
            hint="use letters, digits, '.', '-' or '_' (up to 64), e.g. a CI run number",
        )
    if version_id in taken:
        raise SiteError(
            f"version id '{version_id}' already exists",
            hint="versions are immutable: pick a new --version-id",
        )
    return version_id


def new_version_id(now: datetime, taken: set[str]) -> str:
    """A time-based id not in ``taken``: ``20261127T201500Z`` or ``…Z-01``."""
    base = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    if base not in taken:
        return base
    for counter in range(1, 100):
        candidate = f"{base}-{counter:02d}"
        if candidate not in taken:
            return candidate
    raise SiteError(
        f"more than 100 builds within the second {base}", hint="wait a second or pass --version-id"
    )
