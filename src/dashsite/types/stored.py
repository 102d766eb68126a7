"""What a render type's stored fields are checked with when ``data.json`` is read back.

Data read back from disk never turns into markup unchecked: each field is the
type it must be, or the value is refused with :class:`StoredDataError`.
"""

from __future__ import annotations

from typing import Any

from dashsite.core.levels import StatusLevel

KIND = "$kind"
"""The key naming a stored value's render type (or ``datetime``, ``date``, ``dict``)."""

SCALAR = (str, int, float, type(None))
"""What a label or a metric's value may be."""


class StoredDataError(ValueError):
    """A stored value is not what :func:`dashsite.types.serialize.to_jsonable` writes."""


def field_of(raw: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    """``raw[name]``, refused unless it is a ``kind`` (a bool is never a number)."""
    value = raw.get(name)
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise StoredDataError(f"{raw.get(KIND)}.{name} is {type(value).__name__}, not valid")
    return value


def level_of(raw: dict[str, Any], name: str = "level") -> StatusLevel:
    """A stored level name as a :class:`StatusLevel`."""
    try:
        return StatusLevel.parse(field_of(raw, name, str))
    except ValueError as exc:
        raise StoredDataError(str(exc)) from None


def size_of(raw: dict[str, Any], name: str) -> int | None:
    """A stored size in pixels, or None."""
    value = raw.get(name)
    if value is None:
        return None
    return int(field_of(raw, name, int))
