"""What changed since the previous version: moved numbers, changed statuses, table rows.

Computed from the two versions' stored data (``data.json`` form), so a
snapshot can say "disk.value 71 → 74 (+3)" without its template doing
anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dashsite.store.log import numeric_values
from dashsite.types.renderables import RENDER_TYPES

MAX_CHANGES = 40
"""Lines in one comparison: a page says what moved, it is not a diff tool."""
MAX_ROWS_NAMED = 3


@dataclass(frozen=True, slots=True)
class DataChange:
    """One difference: ``kind`` is ``number``, ``status``, ``collector`` or ``rows``."""

    kind: str
    path: str
    before: str
    after: str
    delta: float | None = None

    @property
    def text(self) -> str:
        """``disk.value: 71 → 74 (+3)``, ``procs: 2 rows added (nginx, cron)``."""
        if self.kind == "rows":
            return f"{self.path}: {self.before} ({self.after})"
        tail = f" ({self.delta:+g})" if self.delta is not None else ""
        return f"{self.path}: {self.before} → {self.after}{tail}"


def _levels(value: Any, path: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    """Dotted path → level name of every stored render type that has one."""
    if depth > 6:
        return
    if isinstance(value, dict):
        if isinstance(value.get("level"), str) and "$kind" in value:
            yield path, value["level"]
        for key, item in value.items():
            if key not in ("$kind", "level", "rows"):
                yield from _levels(item, f"{path}.{key}" if key != "items" else path, depth + 1)


def _rows_field(kind: Any) -> str | None:
    """The stored field a render type keeps its rows in (``MonitorTable``: ``rows``)."""
    found = RENDER_TYPES.get(kind) if isinstance(kind, str) else None
    return found.rows_field if found is not None else None


def _rows(value: Any, path: str, depth: int = 0) -> Iterator[tuple[str, list[Any]]]:
    """Dotted path → rows of every stored table (any render type with a ``rows_field``)."""
    if depth > 6 or not isinstance(value, dict):
        return
    rows = _rows_field(value.get("$kind"))
    if rows is not None and isinstance(value.get(rows), list):
        yield path, value[rows]
        return
    for key, item in value.items():
        if key != "$kind":
            yield from _rows(item, f"{path}.{key}" if key != "items" else path, depth + 1)


def _cell_text(row: Any) -> str:
    first = row[0] if isinstance(row, list) and row else row
    if isinstance(first, dict):
        first = first.get("label", first.get("value", ""))
    return str(first)[:60]


def _number(value: float) -> str:
    return f"{value:g}"


def changes(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    errors_before: Mapping[str, str],
    errors_after: Mapping[str, str],
) -> list[DataChange]:
    """The differences between two versions' stored data, the most telling first."""
    found: list[DataChange] = []
    for name in sorted(set(errors_before) | set(errors_after)):
        was, now = name in errors_before, name in errors_after
        if was != now:
            found.append(
                DataChange("collector", name, "failed" if was else "ok", "failed" if now else "ok")
            )
    old_levels = dict(pair for key, value in before.items() for pair in _levels(value, key))
    for path, level in (pair for key, value in after.items() for pair in _levels(value, key)):
        if path in old_levels and old_levels[path] != level:
            found.append(DataChange("status", path, old_levels[path], level))
    old_numbers, new_numbers = numeric_values(before), numeric_values(after)
    for path, value in new_numbers.items():
        old = old_numbers.get(path)
        if old is not None and old != value:
            found.append(DataChange("number", path, _number(old), _number(value), value - old))
    old_tables = dict(pair for key, value in before.items() for pair in _rows(value, key))
    for path, rows in (pair for key, value in after.items() for pair in _rows(value, key)):
        if path not in old_tables:
            continue
        found += _row_changes(path, old_tables[path], rows)
    return found[:MAX_CHANGES]


def _row_changes(path: str, before: list[Any], after: list[Any]) -> list[DataChange]:
    """Rows told apart by their first cell: added, removed, changed."""
    if json.dumps(before, sort_keys=True) == json.dumps(after, sort_keys=True):
        return []  # (most tables between two versions: one comparison, not one a row)
    old = {_cell_text(r): json.dumps(r, sort_keys=True) for r in before}
    new = {_cell_text(r): json.dumps(r, sort_keys=True) for r in after}
    found = []
    for label, keys in (
        ("added", [k for k in new if k not in old]),
        ("removed", [k for k in old if k not in new]),
        ("changed", [k for k in new if k in old and new[k] != old[k]]),
    ):
        if keys:
            named = ", ".join(keys[:MAX_ROWS_NAMED]) + ("…" if len(keys) > MAX_ROWS_NAMED else "")
            count = f"{len(keys)} row{'s' if len(keys) != 1 else ''} {label}"
            found.append(DataChange("rows", path, count, named))
    return found
