"""Collected data ⇄ JSON, so every version's ``data.json`` can be read back.

Plain JSON values stay as they are. A render type becomes an object with a
``"$kind"`` key naming its class and its fields (levels as their names)::

    {"$kind": "StatusCell", "label": "UP", "level": "ok"}

Datetimes become ``{"$kind": "datetime", "value": "2026-11-27T20:15:00+00:00"}``
and images keep their bytes as base64. A collector's plain dict that happens to
hold a ``"$kind"`` key is wrapped as ``{"$kind": "dict", "items": {...}}``, so
plain data is never mistaken for a render type when it is read back. Anything
else cannot be stored and is refused with :class:`TypeError` naming where it
was found.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from enum import Enum
from functools import partial
from typing import Any

from dashsite.core.levels import StatusLevel
from dashsite.types.charts import CHART_KINDS, CHARTS, from_stored, stored_fields
from dashsite.types.image import MonitorImage
from dashsite.types.renderables import (
    MonitorKV,
    MonitorList,
    MonitorMetric,
    MonitorTable,
    StatusCell,
)
from dashsite.types.sparkline import Sparkline
from dashsite.types.vegalite import VegaLite

KIND = "$kind"
PLAIN = "dict"
"""The kind of a plain dict that itself held a ``"$kind"`` key (escaped, not decoded)."""


_FIELDS: dict[type, tuple[str, ...]] = {
    StatusCell: ("label", "level"),
    MonitorMetric: ("value", "label", "level", "unit"),
    MonitorTable: ("headers", "title", "rows", "formats"),
    MonitorKV: ("items", "title"),
    MonitorList: ("items", "ordered", "title"),
    Sparkline: ("values", "width", "height", "label", "level"),
}


def _encode_fields(obj: Any, where: str, depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {KIND: type(obj).__name__}
    for name in _FIELDS[type(obj)]:
        out[name] = to_jsonable(getattr(obj, name), f"{where}.{name}", depth + 1)
    return out


def _encode_chart(obj: Any, where: str, depth: int) -> dict[str, Any]:
    fields = to_jsonable(stored_fields(obj), where, depth + 1)
    return {KIND: obj.kind, **fields}


_ENCODERS: dict[type, Callable[[Any, str, int], dict[str, Any]]] = {
    **{kind: _encode_fields for kind in _FIELDS},
    **{kind: _encode_chart for kind in CHARTS},
    VegaLite: lambda o, w, d: {KIND: "VegaLite", "spec": to_jsonable(dict(o.spec), w, d + 1)},
    MonitorImage: lambda o, w, d: {
        KIND: "MonitorImage",
        "data": base64.b64encode(o.data).decode("ascii"),
        "alt": o.alt,
        "width": o.width,
        "height": o.height,
    },
}


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
    encoder = _ENCODERS.get(type(value))
    if encoder is not None:
        return encoder(value, where, depth)
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
            out[name] = to_jsonable(item, f"{where}[{key!r}]", depth + 1)
        if KIND in out:  # plain data that looks like a render type stays plain data
            return {KIND: PLAIN, "items": out}
        return out
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [
            to_jsonable(item, f"{where}[{index}]", depth + 1) for index, item in enumerate(items)
        ]
    raise TypeError(f"{where}: a {type(value).__name__} cannot be stored as JSON")


class StoredDataError(ValueError):
    """A stored value is not what :func:`to_jsonable` writes."""


def _field(raw: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = raw.get(name)
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise StoredDataError(f"{raw.get(KIND)}.{name} is {type(value).__name__}, not valid")
    return value


def _level(raw: dict[str, Any], name: str = "level") -> StatusLevel:
    try:
        return StatusLevel.parse(_field(raw, name, str))
    except ValueError as exc:
        raise StoredDataError(str(exc)) from None


def _size(raw: dict[str, Any], name: str) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    return int(_field(raw, name, int))


_SCALAR = (str, int, float, type(None))


def _decode_image(raw: dict[str, Any]) -> MonitorImage:
    try:
        data = base64.b64decode(_field(raw, "data", str), validate=True)
    except (ValueError, TypeError) as exc:
        raise StoredDataError(f"MonitorImage.data is not base64: {exc}") from None
    return MonitorImage(
        data=data,
        alt=_field(raw, "alt", str),
        width=_size(raw, "width"),
        height=_size(raw, "height"),
    )


def _decode_table(raw: dict[str, Any]) -> MonitorTable:
    headers = _field(raw, "headers", list)
    rows = _field(raw, "rows", list)
    if not all(isinstance(h, str) for h in headers) or not all(isinstance(r, list) for r in rows):
        raise StoredDataError("MonitorTable headers must be text and rows lists")
    formats = raw.get("formats") or {}  # absent before formats existed
    if not isinstance(formats, dict) or not all(isinstance(v, str) for v in formats.values()):
        raise StoredDataError("MonitorTable formats must map headers to format names")
    return MonitorTable(headers, _field(raw, "title", str), rows, formats)


_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "StatusCell": lambda d: StatusCell(_field(d, "label", _SCALAR), _level(d)),
    "MonitorMetric": lambda d: MonitorMetric(
        _field(d, "value", _SCALAR), _field(d, "label", str), _level(d), _field(d, "unit", str)
    ),
    "MonitorTable": _decode_table,
    "MonitorKV": lambda d: MonitorKV(_field(d, "items", dict), _field(d, "title", str)),
    "MonitorList": lambda d: MonitorList(
        _field(d, "items", list), _field(d, "ordered", bool), _field(d, "title", str)
    ),
    "Sparkline": lambda d: Sparkline(
        [
            v if isinstance(v, int | float) and not isinstance(v, bool) else None
            for v in _field(d, "values", list)
        ],
        _field(d, "width", int),
        _field(d, "height", int),
        _field(d, "label", str),
        None if d.get("level") is None else _level(d),
    ),
    "MonitorImage": _decode_image,
    **{name: partial(from_stored, name) for name in CHART_KINDS},
    "VegaLite": lambda d: VegaLite(_field(d, "spec", dict)),
    "datetime": lambda d: datetime.fromisoformat(_field(d, "value", str)),
    "date": lambda d: date.fromisoformat(_field(d, "value", str)),
}


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
    decoder = _DECODERS.get(kind) if isinstance(kind, str) else None
    if decoder is None:
        raise StoredDataError(f"unknown stored kind {kind!r}")
    try:
        return decoder(decoded)
    except StoredDataError:
        raise
    except (ValueError, TypeError, KeyError) as exc:  # the render type's own checks
        raise StoredDataError(f"stored {kind} is invalid: {exc}") from None
