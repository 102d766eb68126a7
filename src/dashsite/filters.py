"""Formatting filters a dashboard template needs: numbers, bytes, durations, times."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from .log import MAX_VALUES
from .renderables import render_value
from .sparkline import as_number


def render_filter(value: Any, inline_css: bool = False) -> Markup:
    """``{{ x | render }}``: a renderable's HTML, anything else escaped."""
    return Markup(render_value(value, inline_css=inline_css))  # noqa: S704 - escaped by render_value


def number(value: Any, digits: int = 0) -> str:
    """``1234567 | number`` → ``1,234,567``; ``3.14159 | number(2)`` → ``3.14``."""
    if value is None:
        return "—"
    try:
        figure = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(figure):
        return str(figure)
    return f"{figure:,.{digits}f}"


def percent(value: Any, digits: int = 0) -> str:
    """``0.953 | percent`` → ``95%`` (a ratio in, a percentage out)."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.{digits}f}%"


_BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def filesize(value: Any, digits: int = 1) -> str:
    """``1536 | bytes`` → ``1.5 KiB`` (binary units)."""
    if value is None:
        return "—"
    size = float(value)
    for unit in _BYTE_UNITS:
        if abs(size) < 1024 or unit == _BYTE_UNITS[-1]:
            return f"{int(size)} B" if unit == "B" else f"{size:.{digits}f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def duration(value: Any) -> str:
    """Seconds as ``250 ms``, ``4.2 s``, ``3m 20s``, ``2h 5m``, ``3d 4h``."""
    if value is None:
        return "—"
    seconds = float(value)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"


def to_datetime(value: Any) -> datetime | None:
    """A datetime from a datetime, an ISO string or a Unix timestamp (UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float):
        moment = datetime.fromtimestamp(value, tz=UTC)
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def timestamp(value: Any, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    """``build.collected_at | timestamp`` → ``2026-11-27 20:15 UTC``."""
    moment = to_datetime(value)
    return "—" if moment is None else moment.astimezone(UTC).strftime(fmt)


def isotime(value: Any) -> str:
    """Machine-readable UTC time for ``<time datetime="…">``."""
    moment = to_datetime(value)
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _lookup(value: Any, step: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(step)
    if isinstance(value, list | tuple) and step.isdigit():
        index = int(step)
        return value[index] if index < len(value) else None
    if step.startswith("_"):
        return None
    return getattr(value, step, None)


class Series(list[float | None]):
    """The numbers ``series`` gives, oldest first, with each one's time in ``times``.

    A plain list for ``Sparkline`` (and ``+ [value]``), and a time series for
    ``LineChart``.
    """

    times: list[datetime | None]

    def __init__(self, values: Iterable[float | None] = (), times: Iterable[Any] = ()) -> None:
        super().__init__(values)
        self.times = [to_datetime(t) if t is not None else None for t in times]

    def then(self, value: Any, at: Any) -> Series:
        """This series and one more point: ``series(...).then(disk.value, build.collected_at)``."""
        return Series([*self, as_number(value)], [*self.times, at])


def series(history: Iterable[Any], path: str) -> Series:
    """``history | series("disk.value")``: one number per version, oldest first.

    ``path`` is dotted, from a version's collected data. A version whose
    collector failed, or whose value is missing or not a number, gives
    ``None`` (a gap in a ``Sparkline``), never an error. The numbers come
    from the history log, so no version's ``data.json`` is opened.
    """
    key = str(path)
    steps = [step for step in key.split(".") if step]
    points: list[float | None] = []
    times: list[Any] = []
    for entry in history:
        times.append(
            entry.get("collected_at")
            if isinstance(entry, Mapping)
            else getattr(entry, "collected_at", None)
        )
        logged = getattr(entry, "values", None)  # a history entry: its log record's numbers
        listed = any(step.isdigit() for step in steps)  # lists are not in the log
        if isinstance(logged, Mapping) and (
            key in logged or (len(logged) < MAX_VALUES and not listed)
        ):
            points.append(as_number(logged.get(key)))
            continue
        value: Any = (
            entry.get("data") if isinstance(entry, Mapping) else getattr(entry, "data", None)
        )
        for step in steps:
            if value is None:
                break
            value = _lookup(value, step)
        points.append(as_number(value))
    return Series(points, times)


FILTERS = {
    "series": series,
    "render": render_filter,
    "number": number,
    "percent": percent,
    "bytes": filesize,
    "filesize": filesize,
    "duration": duration,
    "timestamp": timestamp,
    "isotime": isotime,
}
