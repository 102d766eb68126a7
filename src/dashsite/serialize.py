"""Collected data ⇄ JSON, so every version's ``data.json`` can be read back.

Plain JSON values stay as they are. A render type becomes an object with a
``"$kind"`` key naming its class and its fields (levels as their names)::

    {"$kind": "StatusCell", "label": "UP", "level": "ok"}

Datetimes become ``{"$kind": "datetime", "value": "2026-11-27T20:15:00+00:00"}``
and images keep their bytes as base64. Anything else cannot be stored and is
refused with :class:`TypeError` naming where it was found.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

from .image import MonitorImage
from .levels import StatusLevel
from .renderables import MonitorKV, MonitorList, MonitorMetric, MonitorTable, StatusCell
from .sparkline import Sparkline

KIND = "$kind"


def _encode_fields(obj: Any, names: tuple[str, ...], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {KIND: type(obj).__name__}
    for name in names:
        out[name] = to_jsonable(getattr(obj, name), f"{where}.{name}")
    return out


_ENCODERS: dict[type, Callable[[Any, str], dict[str, Any]]] = {
    StatusCell: lambda o, w: _encode_fields(o, ("label", "level"), w),
    MonitorMetric: lambda o, w: _encode_fields(o, ("value", "label", "level", "unit"), w),
    MonitorTable: lambda o, w: _encode_fields(o, ("headers", "title", "rows"), w),
    MonitorKV: lambda o, w: _encode_fields(o, ("items", "title"), w),
    MonitorList: lambda o, w: _encode_fields(o, ("items", "ordered", "title"), w),
    Sparkline: lambda o, w: _encode_fields(o, ("values", "width", "height", "label", "level"), w),
    MonitorImage: lambda o, w: {
        KIND: "MonitorImage",
        "data": base64.b64encode(o.data).decode("ascii"),
        "alt": o.alt,
        "width": o.width,
        "height": o.height,
    },
}


def to_jsonable(value: Any, where: str = "value") -> Any:
    """``value`` as JSON-ready data; ``TypeError`` naming ``where`` if impossible."""
    if value is None or isinstance(value, bool | str | int):
        return value if not isinstance(value, StatusLevel) else value.slug
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, StatusLevel):
        return value.slug
    encoder = _ENCODERS.get(type(value))
    if encoder is not None:
        return encoder(value, where)
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
            out[str(key)] = to_jsonable(item, f"{where}[{key!r}]")
        return out
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [to_jsonable(item, f"{where}[{index}]") for index, item in enumerate(items)]
    raise TypeError(f"{where}: a {type(value).__name__} cannot be stored as JSON")


def _level(raw: Any) -> StatusLevel:
    return StatusLevel.parse(raw)


_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "StatusCell": lambda d: StatusCell(d["label"], _level(d["level"])),
    "MonitorMetric": lambda d: MonitorMetric(d["value"], d["label"], _level(d["level"]), d["unit"]),
    "MonitorTable": lambda d: MonitorTable(d["headers"], d["title"], d["rows"]),
    "MonitorKV": lambda d: MonitorKV(d["items"], d["title"]),
    "MonitorList": lambda d: MonitorList(d["items"], d["ordered"], d["title"]),
    "Sparkline": lambda d: Sparkline(
        d["values"],
        d["width"],
        d["height"],
        d["label"],
        None if d["level"] is None else _level(d["level"]),
    ),
    "MonitorImage": lambda d: MonitorImage(
        data=base64.b64decode(d["data"]), alt=d["alt"], width=d["width"], height=d["height"]
    ),
    "datetime": lambda d: datetime.fromisoformat(d["value"]),
    "date": lambda d: date.fromisoformat(d["value"]),
}


def from_jsonable(value: Any) -> Any:
    """The inverse of :func:`to_jsonable`: render types come back as objects."""
    if isinstance(value, list):
        return [from_jsonable(item) for item in value]
    if not isinstance(value, dict):
        return value
    decoded = {key: from_jsonable(item) for key, item in value.items()}
    kind = decoded.get(KIND)
    if isinstance(kind, str) and kind in _DECODERS:
        return _DECODERS[kind](decoded)
    return decoded
