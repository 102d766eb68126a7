"""Status levels and the roll-up of a dashboard's worst level."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import IntEnum
from typing import Any


class StatusLevel(IntEnum):
    """How bad a status is; ordered so that ``max()`` picks the worst."""

    OK = 10
    WARNING = 20
    ERROR = 30
    CRITICAL = 40

    @property
    def slug(self) -> str:
        """Lower-case name used in CSS classes and JSON: ``ok``, ``warning``…"""
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | int | StatusLevel) -> StatusLevel:
        """Accept a level, its name (any case) or its number."""
        if type(value) is str:  # most often the name the files write (``ok``): read often
            found = _BY_SLUG.get(value)
            if found is not None:
                return found
        if isinstance(value, StatusLevel):
            return value
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = ", ".join(level.slug for level in cls)
            raise ValueError(f"unknown status level {value!r} (expected one of {names})") from None


_BY_SLUG = {level.slug: level for level in StatusLevel}


PLAIN_SCALARS = frozenset({str, int, float, bool, type(None)})
"""The exact types of plain values: they carry no level (a subclass, such as
:class:`StatusLevel`, may)."""


def iter_levels(value: Any) -> Iterator[StatusLevel]:
    """Yield every level carried by renderables found in ``value``.

    Renderables report their own levels through a ``levels()`` method; plain
    dicts, lists and tuples are searched recursively.
    """
    if type(value) in PLAIN_SCALARS:
        return  # (most of what a table holds: no lookup of a ``levels`` it cannot have)
    levels = getattr(value, "levels", None)
    if callable(levels) and not isinstance(value, type):
        yield from levels()
    elif isinstance(value, Mapping):
        for item in value.values():
            if type(item) not in PLAIN_SCALARS:
                yield from iter_levels(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            if type(item) not in PLAIN_SCALARS:
                yield from iter_levels(item)


def worst_level(data: Any, *, failed: bool = False) -> StatusLevel:
    """The worst level in ``data``; at least ERROR when a collector ``failed``."""
    worst = max(iter_levels(data), default=StatusLevel.OK)
    if failed:
        worst = max(worst, StatusLevel.ERROR)
    return worst
