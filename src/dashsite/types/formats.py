"""Numbers, bytes, durations and times as text: what the filters and the render types show.

Plain functions of a value, importing nothing else of dashsite's, so every render type
can use them.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any


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
    """Seconds as ``250 ms``, ``4.2 s``, ``3m 20s``, ``2h 5m``, ``3d 4h`` (``-2h 5m``
    before zero: a span between two clocks that disagree)."""
    if value is None:
        return "—"
    seconds = float(value)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return "—"  # not a span
    if seconds < 0:
        return f"-{duration(-seconds)}"
    if seconds == 0:
        return "0s"  # (an incident that just began, as the pages' script counts: not "0 ms")
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
