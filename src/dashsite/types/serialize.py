"""Collected data ⇄ JSON, so every version's ``data.json`` can be read back.

Plain JSON values stay as they are. A render type becomes an object with a
``"$kind"`` key naming its type and its stored fields (levels as their names)::

    {"$kind": "StatusCell", "label": "UP", "level": "ok"}
    {"$kind": "_dashsite_dashboards.disk.dashboard:Gauge", "value": 7, "max": 10}

The kinds and fields come from the render-type registry (each type says what it
stores); dashsite's own types are named by class, any other by ``module:qualname``
(see :func:`~dashsite.types.renderables.kind_of`). Read back, a type that is gone
(its ``dashboard.py`` or plugin changed) becomes an :class:`UnavailableType` box
showing its fields: a build never fails on old data.

Datetimes become ``{"$kind": "datetime", "value": "2026-11-27T20:15:00+00:00"}``
and images keep their bytes as base64. A collector's plain dict that happens to
hold a ``"$kind"`` key is wrapped as ``{"$kind": "dict", "items": {...}}``, so
plain data is never mistaken for a render type when it is read back. Anything
else cannot be stored and is refused with :class:`TypeError` naming where it
was found.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

from markupsafe import escape

from dashsite.core.levels import StatusLevel, iter_levels
from dashsite.core.plugins import PluginError
from dashsite.types import charts, image, sparkline, vegalite  # noqa: F401 - the built-in types
from dashsite.types.renderables import (
    RENDER_TYPES,
    MonitorKV,
    RenderType,
    is_builtin,
    kind_of,
    load_plugin_types,
)
from dashsite.types.stored import KIND, StoredDataError, field_of

__all__ = ["KIND", "PLAIN", "StoredDataError", "UnavailableType", "from_jsonable", "to_jsonable"]

PLAIN = "dict"
"""The kind of a plain dict that itself held a ``"$kind"`` key (escaped, not decoded)."""


@dataclass(frozen=True, slots=True)
class UnavailableType(RenderType):
    """A stored render type whose class is gone: a box showing its stored fields.

    A type a ``dashboard.py`` or a plugin defined may be removed or renamed
    while versions still hold its values; reading them back never fails a
    build. The box stores back exactly what was read, so nothing is lost.
    """

    registered = False  # stands in for a type; never built by a template

    kind: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def levels(self) -> Iterator[StatusLevel]:
        """The levels of what its fields hold."""
        return iter_levels(dict(self.fields))

    def render(self, *, inline_css: bool = False) -> str:
        """The type's name, then its fields as a key/value grid."""
        name = self.kind.rpartition(":")[2] or self.kind
        grid = MonitorKV(dict(self.fields), title=f"{name} (type not available)")
        html = grid.render(inline_css=inline_css)
        return f'<div class="monitor-unavailable" data-kind="{escape(self.kind)}">{html}</div>'


MAX_DEPTH = 200
"""Deeper nesting than this is refused (a circular structure is infinitely deep)."""
MAX_INT_DIGITS = 4000
"""Whole numbers longer than this are refused (Python will not print them past 4,300)."""
_MAX_INT = 10**MAX_INT_DIGITS


def _text(value: str, where: str) -> str:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise TypeError(
                f"{where}: text holds a lone surrogate, which is not valid Unicode "
                f"({value.encode('utf-8', 'backslashreplace')[:40]!r})"
            ) from None
    return value


def to_jsonable(value: Any, where: str = "value", depth: int = 0) -> Any:
    """``value`` as JSON-ready data; ``TypeError`` naming ``where`` if impossible.

    Refused as well: text that is not valid Unicode (a lone surrogate, as
    some APIs send), whole numbers of thousands of digits, and structures
    nested deeper than :data:`MAX_DEPTH` (including circular ones).
    """
    if depth > MAX_DEPTH:
        raise TypeError(f"{where}: nested deeper than {MAX_DEPTH} levels (or circular)")
    if type(value) is list:  # (a table's rows: the most common container, tested first)
        return [_child(item, where, index, depth) for index, item in enumerate(value)]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.slug if isinstance(value, StatusLevel) else _text(value, where)
    if isinstance(value, int):
        if isinstance(value, StatusLevel):
            return value.slug
        if not -_MAX_INT < value < _MAX_INT:
            raise TypeError(f"{where}: a whole number of more than {MAX_INT_DIGITS} digits")
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, StatusLevel):
        return value.slug
    if isinstance(value, RenderType):
        return _encode(value, where, depth)
    if isinstance(value, datetime):
        return {KIND: "datetime", "value": value.isoformat()}
    if isinstance(value, date):
        return {KIND: "date", "value": value.isoformat()}
    if isinstance(value, Enum):
        return to_jsonable(value.value, where)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise TypeError(f"{where}: dict key {key!r} is not a string")
            name = _text(key, f"{where} key") if isinstance(key, str) else str(key)
            out[name] = _child(item, where, key, depth)
        if KIND in out:  # plain data that looks like a render type stays plain data
            return {KIND: PLAIN, "items": out}
        return out
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [_child(item, where, index, depth) for index, item in enumerate(items)]
    raise TypeError(f"{where}: a {type(value).__name__} cannot be stored as JSON")


def _encode(value: RenderType, where: str, depth: int) -> dict[str, Any]:
    """``{"$kind": kind, field: value, …}`` of a registered render type."""
    if isinstance(value, UnavailableType):
        kind, stored = value.kind, dict(value.fields)
    else:
        cls = type(value)
        if not cls.__dict__.get("registered", True):
            raise TypeError(f"{where}: a {cls.__name__} cannot be stored as JSON")
        kind = kind_of(cls)
        try:
            if cls.to_stored is RenderType.to_stored:  # the fields as they are: no dict between
                out: dict[str, Any] = {KIND: kind}
                for name in cls.field_names():
                    out[name] = _child(getattr(value, name), where, name, depth, attribute=True)
                return out
            stored = value.to_stored()
        except AttributeError as exc:  # a type's stored_fields names what it does not have
            raise TypeError(f"{where}: {cls.__name__} cannot store itself: {exc}") from None
        except TypeError as exc:
            text = str(exc)
            raise TypeError(text if text.startswith(where) else f"{where}: {text}") from None
    out = {KIND: kind}
    for name, item in stored.items():
        out[name] = _child(item, where, name, depth, attribute=True)
    return out


def _child(item: Any, where: str, key: object, depth: int, *, attribute: bool = False) -> Any:
    """``item``, held at ``key`` in the value ``where`` names, as JSON-ready data.

    A plain scalar fit to store is returned as it is, and no name is made for it: the
    common case (a table's cells), which was a third of a build's collection. Anything
    else goes to :func:`to_jsonable` with its name (``where[key]``, or ``where.key`` for
    an ``attribute`` of a render type).
    """
    kind = type(item)
    if depth < MAX_DEPTH:
        if kind is str:
            if item.isascii():
                return item
        elif kind is int:
            if -_MAX_INT < item < _MAX_INT:
                return item
        elif kind is float:
            if math.isfinite(item):
                return item
        elif item is None or kind is bool:
            return item
    return to_jsonable(item, f"{where}.{key}" if attribute else f"{where}[{key!r}]", depth + 1)


_TIMES: dict[str, Any] = {"datetime": datetime, "date": date}


def _decode(kind: str, stored: dict[str, Any]) -> Any:
    """A stored render type (or time) again: strictly for dashsite's own types, and
    as an :class:`UnavailableType` box for another's that is gone or no longer fits."""
    cls = RENDER_TYPES.get(kind)
    if cls is not None and is_builtin(kind):  # the common case first
        return cls.from_stored(stored)
    if kind in _TIMES:
        return _TIMES[kind].fromisoformat(field_of(stored, "value", str))
    if is_builtin(kind):
        raise StoredDataError(f"unknown stored kind {kind!r}")
    if cls is None:
        # A plugin's type, read before any environment loaded it. A broken plugin is
        # said when an environment is made; here its values show as boxes.
        with contextlib.suppress(PluginError):
            load_plugin_types()
        cls = RENDER_TYPES.get(kind)
    fields = {name: value for name, value in stored.items() if name != KIND}
    if cls is None:
        return UnavailableType(kind, fields)
    try:
        return cls.from_stored(stored)
    except Exception:  # a user's type changed since: show what was stored
        return UnavailableType(kind, fields)


def from_jsonable(value: Any, *, depth: int = 0) -> Any:
    """The inverse of :func:`to_jsonable`: render types come back as objects.

    Only objects marked with ``"$kind"`` are decoded, and every field is
    checked as strictly as a collector's own value would be: a stored value
    that is not what dashsite writes raises :class:`StoredDataError` (a
    ``ValueError``), so data read back from disk never turns into markup.
    Plain dicts that held a ``"$kind"`` key come back as the plain dicts.
    """
    if depth > MAX_DEPTH:
        raise StoredDataError(f"stored data nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, list):
        return [from_jsonable(item, depth=depth + 1) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get(KIND)
    if kind == PLAIN:
        items = value.get("items")
        if not isinstance(items, dict):
            raise StoredDataError("a stored plain dict has no items")
        return {key: from_jsonable(item, depth=depth + 1) for key, item in items.items()}
    decoded = {key: from_jsonable(item, depth=depth + 1) for key, item in value.items()}
    if kind is None:
        return decoded
    if not isinstance(kind, str):
        raise StoredDataError(f"unknown stored kind {kind!r}")
    try:
        return _decode(kind, decoded)
    except StoredDataError:
        raise
    except (ValueError, TypeError, KeyError) as exc:  # the render type's own checks
        raise StoredDataError(f"stored {kind} is invalid: {exc}") from None
