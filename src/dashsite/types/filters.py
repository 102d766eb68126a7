"""Formatting filters a dashboard template needs: numbers, bytes, durations, times."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from markupsafe import Markup

from dashsite.core.limits import MAX_VALUES
from dashsite.types.formats import (
    duration,
    filesize,
    isotime,
    number,
    percent,
    timestamp,
    to_datetime,
)
from dashsite.types.renderables import render_value
from dashsite.types.sparkline import as_number


class Rendered(Markup):
    """HTML ``| render`` drew from a value: its text is data, in a ``template.md`` too
    (where Markdown would otherwise read ``![x](…)`` in it as an image)."""

    __slots__ = ()


def render_filter(value: Any, inline_css: bool = False) -> Markup:
    """``{{ x | render }}``: a renderable's HTML, anything else escaped."""
    return Rendered(render_value(value, inline_css=inline_css))  # escaped by render_value


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
