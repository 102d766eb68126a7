"""Collectors on their own schedule: which run in this build, which are reused.

A collector with ``every`` (``@collector(every="1h")``, ``EVERY`` in its
``dashboard.py``, or ``[every]`` in the config) runs only when its last good
value is at least that old. In between, a build carries the value forward
from the latest version's ``data.json``, recording when it was collected and
that it was reused. So an expensive or rate-limited source can sit on a
dashboard built every five minutes.

Due means ``age >= every - slack``, where the slack (a tenth of ``every``, at
most a minute) absorbs a scheduler's jitter: an hourly collector on hourly
builds runs every build, not every other one. A value is never shown older
than ``every`` plus one build interval. Anything unexpected in the stored
version (missing, tampered, a failed value) makes the collector due: a
schedule can only save work, never hide a fault.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from dashsite.collection.dashboard import Dashboard
from dashsite.collection.engine import CollectorOutcome
from dashsite.core.config import SiteConfig, every_seconds
from dashsite.core.levels import worst_level
from dashsite.store.documents import VersionDocument
from dashsite.store.log import LogRecord, numeric_values
from dashsite.store.manifest import Manifest
from dashsite.store.version_store import VersionStore
from dashsite.types.serialize import StoredDataError, from_jsonable

MAX_SLACK = 60.0
"""Seconds of scheduler jitter forgiven at most (a tenth of ``every`` below ten minutes)."""


def slack(every: float) -> float:
    """How much younger than ``every`` a value may be and still count as due."""
    return min(every / 10, MAX_SLACK)


def every_of(dashboard: Dashboard, config: SiteConfig) -> dict[str, float]:
    """Each scheduled collector's ``every`` in seconds; the config's ``[every]`` wins.

    ``[every]`` keys are ``"<slug>"`` (every collector of the dashboard) or
    ``"<slug>.<collector>"`` (that one; it beats the dashboard-wide key).
    """
    found = {spec.name: spec.every for spec in dashboard.collectors if spec.every is not None}
    whole = config.every.get(dashboard.slug)
    for spec in dashboard.collectors:
        named = config.every.get(f"{dashboard.slug}.{spec.name}", whole)
        if named is not None:
            found[spec.name] = every_seconds(named)
    return {name: seconds for name, seconds in found.items() if seconds is not None}


@dataclass(frozen=True, slots=True)
class Carried:
    """A value reused from an earlier version instead of being collected again."""

    name: str
    value: object
    collected_at: str
    """When it was really collected (ISO 8601, UTC)."""
    version: str
    """The version it was read from."""

    def outcome(self) -> CollectorOutcome:
        """The outcome a build files for it: ok, no attempt, ``reused_from`` set."""
        at = datetime.fromisoformat(self.collected_at)
        return CollectorOutcome(self.name, self.value, None, at, at, 0.0, 0, self.collected_at)


def carried_values(
    dashboards: Sequence[Dashboard],
    manifest: Manifest,
    store: VersionStore,
    config: SiteConfig,
    now: datetime,
) -> dict[str, dict[str, Carried]]:
    """For each dashboard, the collectors that are not due and the values they keep.

    One ``data.json`` read per dashboard that has a scheduled collector.
    """
    carried: dict[str, dict[str, Carried]] = {}
    for dashboard in dashboards:
        every = every_of(dashboard, config)
        record = manifest.dashboards.get(dashboard.slug)
        if not every or record is None or record.latest is None:
            continue
        latest = record.latest
        document = store.version_or_none(dashboard.slug, latest)
        logged = store.tail(record, 1)  # (the manifest keeps no numbers: the log line does)
        if document is None or not logged or not _as_logged(document, logged[-1], latest):
            continue  # missing, or edited since it was filed: every collector is due
        kept = _not_due(document.to_json(), every, now, latest.id)
        if kept:
            carried[dashboard.slug] = kept
    return carried


def _as_logged(document: VersionDocument, entry: LogRecord, latest: LogRecord) -> bool:
    """Whether the latest version's ``data.json`` still says what its log line ``entry``
    says: the status its values give, and their numbers. A value edited in the file (a
    level set to ``ok``) is not reused as if a collector had returned it."""
    if (entry.id, entry.path) != (latest.id, latest.path):
        return False  # the log's last line is not that version: nothing to check it by
    try:
        values = from_jsonable(document.data)
    except (StoredDataError, ValueError, TypeError, RecursionError):
        return False
    level = worst_level(values, failed=bool(document.errors))
    return level == entry.status and numeric_values(document.data) == entry.values


def _not_due(
    raw: object, every: Mapping[str, float], now: datetime, version: str
) -> dict[str, Carried]:
    """The values in one stored version (``data.json``) that are young enough to reuse."""
    if not isinstance(raw, dict):
        return {}
    data, ran, errors = raw.get("data"), raw.get("collectors"), raw.get("errors", {})
    if not isinstance(data, dict) or not isinstance(ran, dict) or not isinstance(errors, dict):
        return {}
    kept: dict[str, Carried] = {}
    for name, seconds in every.items():
        info = ran.get(name)
        if not isinstance(info, dict) or info.get("ok") is not True or name in errors:
            continue
        at = info.get("collected_at", raw.get("collected_at"))
        try:
            collected = datetime.fromisoformat(at) if isinstance(at, str) else None
        except ValueError:
            collected = None
        if collected is None or collected.tzinfo is None:
            continue
        age = (now - collected).total_seconds()
        if not 0 <= age < seconds - slack(seconds) or name not in data:
            continue
        try:
            value = from_jsonable(data[name])
        except (StoredDataError, ValueError, TypeError, RecursionError):
            continue
        kept[name] = Carried(name, value, collected.astimezone(UTC).isoformat(), version)
    return kept
