"""The history log: one line per version, in a file a day.

``<slug>/log/<YYYY-MM>/<DD>.jsonl`` holds, for each version, what lists,
trends and uptime need (id, time, status, failed collectors, durations and
up to :data:`MAX_VALUES` numbers of its data). A line read back is checked
as strictly as local input; a torn or tampered one is skipped.

The clock model. A version's ``collected_at`` is what the machine's clock
said; clocks are wrong (a laptop a year ahead, a runner stepped back by
NTP). So which version is the newest is decided by the build, not by the
clock: each build takes a sequence number one above the highest the site
holds (``seq``, in the log line, ``data.json`` and the manifest), and the
newest version is the one with the highest ``seq`` (:attr:`LogRecord.order`).
The clock still places a version in time (its day's shard, uptime); a time
earlier than the newest version's is kept as the clock said it, and the
build says so in one line. Records written before ``seq`` existed read as
``seq`` 0 and order by time among themselves, as they always did.

Checks. A build whose collected data equals the latest version's (and whose
template is the same) files no new version: it appends a *check* to
``<DD>.checks.jsonl`` beside the day's shard, a line of the same form with
``same`` (the version it found unchanged) in place of ``path``. A check is a
moment the status was seen: the status layer counts its time (uptime, the
bars) but not as a version (the history lists versions only). The first build
of a UTC day always files a version, so every day with checks has a version
the day's bar and history link to.
"""

from __future__ import annotations

import heapq
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dashsite.core.levels import StatusLevel
from dashsite.core.limits import MAX_VALUES
from dashsite.core.names import is_version_id
from dashsite.store import layout
from dashsite.store.layout import DATA_FILE

MAX_VALUE_DEPTH = 4


def month_of(collected_at: str) -> str:
    """``2026-11-27T20:15:00+00:00`` → ``2026-11``."""
    return collected_at[:7]


LOGGED_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{6})?\+00:00"
)
"""A time as :func:`_when` writes it (``datetime.isoformat`` in UTC): every line the
log holds, read back without writing it again."""


def _when(text: Any, what: str) -> str:
    if not isinstance(text, str):
        raise ValueError(f"{what} is not a time")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{what} {text[:40]!r} is not an ISO time") from None
    written = LOGGED_TIME.fullmatch(text)
    if written is not None and (written.group(2) is None or moment.microsecond):
        return text  # (.000000 is written without its fraction: not this text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def checked_text(value: Any, what: str, limit: int = 10_000) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError(f"{what} is not text")
    return value


def checked_count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} is not a count")
    return value


def with_checks(versions: Sequence[LogRecord], checks: Sequence[LogRecord]) -> list[LogRecord]:
    """Versions and checks as one list in build order (:attr:`LogRecord.order`), each keeping
    its own order: what the status counts (a check's time counts, as a version's does). (A
    build killed after its check leaves a line whose ``seq`` the next build takes again:
    the time orders the two.)"""
    if not checks:
        return list(versions)
    return list(heapq.merge(versions, checks, key=lambda record: record.order))


def finite_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer of more than 308 digits
        return None
    return number if math.isfinite(number) else None


def numeric_values(stored: Mapping[str, Any]) -> dict[str, float]:
    """The numbers in a version's stored data by dotted path (``disk.value``).

    What a trend needs from each version, kept in its log record so charts
    never open a ``data.json``. Render types' fields count as keys
    (``{"$kind": "MonitorMetric", "value": 3}`` gives ``name.value``); lists
    (a table's rows) are left out: a series into one reads ``data.json``.
    """
    found: dict[str, float] = {}

    def walk(value: Any, path: str, depth: int) -> None:
        if len(found) >= MAX_VALUES:
            return
        number = finite_number(value)
        if number is not None:
            found[path] = number
        elif isinstance(value, dict) and depth < MAX_VALUE_DEPTH:
            items = value.get("items") if value.get("$kind") == "dict" else value
            if isinstance(items, dict):
                for key, item in items.items():
                    if key != "$kind":
                        walk(item, f"{path}.{key}", depth + 1)

    for name, value in stored.items():
        walk(value, name, 0)
    return found


def _numbers(table: Any, version: str, name: str) -> dict[str, float]:
    """A log line's ``{name: number}`` table (``durations``, ``values``), read in one
    pass: a history page reads 200 lines a build. ``ValueError`` if anything is off."""
    found: dict[str, float] = {}
    if isinstance(table, dict):
        for key, value in table.items():
            number = value if type(value) is float else finite_number(value)
            if number is None or not isinstance(key, str) or not math.isfinite(number):
                break
            found[key] = number
        else:
            return found
    raise ValueError(f"version {version}: {name} must map names to numbers")


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One version as the history log keeps it: enough for lists, trends and uptime."""

    id: str
    collected_at: str
    status: StatusLevel
    path: str
    errors: dict[str, str] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)
    seq: int = 0
    """The build that filed it, counted per site (0: before builds were counted)."""
    same: str = ""
    """A check's: the version whose data it found unchanged (a check has no folder: its
    ``path`` is empty). Empty for a version."""

    @property
    def is_check(self) -> bool:
        """Whether this is a check (a build that found the data unchanged), not a version."""
        return bool(self.same)

    @property
    def order(self) -> tuple[int, str, str]:
        """What "newer" means: the later build, then (for uncounted ones) the later time."""
        return (self.seq, self.collected_at, self.id)

    @property
    def month(self) -> str:
        """``YYYY-MM`` (UTC) of the collection."""
        return month_of(self.collected_at)

    @property
    def day(self) -> str:
        """``YYYY-MM-DD`` (UTC) of the collection."""
        return self.collected_at[:10]

    @property
    def url(self) -> str:
        """The snapshot page, relative to the site root."""
        return f"{self.path}index.html"

    @property
    def data_url(self) -> str:
        """The version's ``data.json``, relative to the site root."""
        return f"{self.path}{DATA_FILE}"

    def to_json(self) -> dict[str, Any]:
        """The log line's object."""
        raw: dict[str, Any] = {
            "id": self.id,
            "collected_at": self.collected_at,
            "status": self.status.slug,
            **({"same": self.same} if self.same else {"path": self.path}),
        }
        if self.errors:
            raw["errors"] = self.errors
        if self.durations:
            raw["durations"] = self.durations
        if self.values:
            raw["values"] = self.values
        if self.seq:
            raw["seq"] = self.seq
        return raw

    def line(self) -> str:
        """One line of the log (no newline)."""
        return json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: Any, slug: str, *, check: bool = False) -> LogRecord:
        """A record read back from a log line (``check``: a line of a checks file);
        ``ValueError`` if anything is off."""
        if not isinstance(raw, dict):
            raise ValueError("a log record must be an object")
        version = raw.get("id")
        if not isinstance(version, str) or not is_version_id(version):
            raise ValueError(f"version id {str(version)[:80]!r} is not a safe version id")
        collected_at = _when(raw.get("collected_at"), f"version {version}: collected_at")
        same = raw.get("same", "")
        if check:
            if not isinstance(same, str) or not is_version_id(same) or "path" in raw:
                raise ValueError(f"check {version}: 'same' is not the version it repeats")
            path = ""
        else:
            if "same" in raw:
                raise ValueError(f"version {version}: a check's line in the versions' log")
            legacy = f"{layout.legacy_version_folder(slug, version)}/"
            path = raw.get("path", legacy)
            own = f"{layout.version_folder_on(slug, collected_at[:10], version)}/"
            if path not in (legacy, own):
                raise ValueError(f"version {version}: path {str(path)[:80]!r} is not its folder")
        named = raw.get("status")
        if not isinstance(named, str):
            raise ValueError(f"version {version}: status is not a level name")
        status = StatusLevel.parse(named)
        errors = raw.get("errors", {})
        if not isinstance(errors, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= 10_000
            for k, v in errors.items()
        ):
            raise ValueError(f"version {version}: errors must map names to messages")
        return cls(
            version,
            collected_at,
            status,
            path,
            dict(errors),
            _numbers(raw.get("durations", {}), version, "durations"),
            _numbers(raw.get("values", {}), version, "values"),
            checked_count(raw.get("seq", 0), f"version {version}: seq"),
            same,
        )
