"""A version's ``data.json`` as one typed document, with one validation policy.

Every reader of a version's data (the schedule's reused values, mail, what changed, the
log's repair and upgrade) goes through :class:`VersionDocument`: a file that is not an
object, names another dashboard, or holds a field of the wrong type is refused as a
whole (``ValueError``), never half read. The collected values stay JSON here; the
render types turn them back into objects (:func:`dashsite.types.serialize.from_jsonable`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

from dashsite.core.levels import StatusLevel
from dashsite.core.names import is_version_id

DATA_SCHEMA = 1
"""Of each version's ``data.json``."""


@dataclass(frozen=True, slots=True)
class VersionDocument:
    """What one version's collectors returned, and how each ran."""

    dashboard: str
    title: str
    version: str
    collected_at: str
    """ISO 8601, UTC."""
    status: StatusLevel
    data: dict[str, Any] = field(default_factory=dict)
    """Collector → its value as JSON (render types as ``{"$kind": …}`` objects)."""
    errors: dict[str, str] = field(default_factory=dict)
    collectors: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Collector → duration, attempts, ok, collected_at (and ``reused``)."""
    seq: int = 0
    """The build's place in the site's order (0: filed before there was one)."""

    def to_json(self) -> dict[str, Any]:
        """The file's content, keys in the order every release wrote them."""
        return {
            "schema": DATA_SCHEMA,
            "dashboard": self.dashboard,
            "title": self.title,
            "version": self.version,
            **({"seq": self.seq} if self.seq else {}),
            "collected_at": self.collected_at,
            "status": self.status.slug,
            "data": self.data,
            "errors": self.errors,
            "collectors": self.collectors,
        }

    @classmethod
    def from_json(cls, raw: Any, slug: str | None = None) -> VersionDocument:
        """Read back; ``ValueError`` naming the field if anything is off."""
        if not isinstance(raw, dict):
            raise ValueError("data.json is not an object")
        if raw.get("schema", DATA_SCHEMA) != DATA_SCHEMA:
            raise ValueError(f"data.json schema {raw.get('schema')!r} is not {DATA_SCHEMA}")
        dashboard = raw.get("dashboard", slug)
        if not isinstance(dashboard, str) or (slug is not None and dashboard != slug):
            raise ValueError(f"data.json belongs to {dashboard!r}, not {slug!r}")
        version = raw.get("version")
        if not isinstance(version, str) or not is_version_id(version):
            raise ValueError(f"data.json has no usable version id ({version!r})")
        collected_at = raw.get("collected_at")
        if not isinstance(collected_at, str):
            raise ValueError(f"version {version}: collected_at is not a time")
        datetime.fromisoformat(collected_at)  # ValueError if not a time
        status = raw.get("status")
        if not isinstance(status, str):
            raise ValueError(f"version {version}: status is not a level name")
        data = raw.get("data", {})
        errors = raw.get("errors", {})
        collectors = raw.get("collectors", {})
        seq = raw.get("seq", 0)
        if not isinstance(data, dict):
            raise ValueError(f"version {version}: data is not an object")
        if not _strings(errors):
            raise ValueError(f"version {version}: errors must map names to messages")
        if not isinstance(collectors, dict) or not all(
            isinstance(k, str) and isinstance(v, dict) for k, v in collectors.items()
        ):
            raise ValueError(f"version {version}: collectors must map names to objects")
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
            raise ValueError(f"version {version}: seq is not a count")
        return cls(
            dashboard,
            str(raw.get("title", dashboard)),
            version,
            collected_at,
            StatusLevel.parse(status),
            data,
            dict(errors),
            collectors,
            seq,
        )


SCHEMAS = ("manifest", "data")
"""The formats dashsite publishes a JSON Schema of (``store/schemas/<name>.schema.json``)."""


def schema_text(name: str) -> str:
    """The JSON Schema of ``manifest.json`` or ``data.json``, as the package ships it."""
    return (
        resources.files("dashsite").joinpath(f"store/schemas/{name}.schema.json").read_text("utf-8")
    )


def _strings(table: Any) -> bool:
    return isinstance(table, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in table.items()
    )
