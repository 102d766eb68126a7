"""Drawing primitives the charts share: data columns, ticks, formats, the plot area, a series.

Below both :mod:`.charts` (the render types) and :mod:`.chart_frame` (their words as HTML
over a stretched plot), so neither imports the other back.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any

from dashsite.core.errors import RenderError
from dashsite.types.formats import duration, filesize, percent, to_datetime
from dashsite.types.renderables import format_value
from dashsite.types.sparkline import MAX_DRAWN, as_number

PALETTE = ("#0969da", "#bc4c00", "#1a7f37", "#8250df", "#bf3989", "#57606a")
"""Series colours on white (each at least 3:1); the theme's dark mode has its own."""
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 3", "10 4")
"""Series 2, 3… are dashed differently, so they differ by more than colour."""
FORMATS = ("number", "bytes", "percent", "duration")
MAX_SIZE = 4000
TABLE_ROWS = 50
"""Rows of the data table under a chart (the newest ones)."""

X = float | datetime
Pairs = list[tuple[float, float | None]]


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class _Column(Sequence[Any]):
    """The x of ``(x, y)`` pairs, read in place (a year of pairs is not copied)."""

    __slots__ = ("_rows",)

    def __init__(self, rows: Sequence[Any]) -> None:
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [row[0] for row in self._rows[index]]
        return self._rows[index][0]

    def __iter__(self) -> Iterator[Any]:  # in C: Sequence's would index row by row
        return map(itemgetter(0), self._rows)


@dataclass(frozen=True, slots=True)
class _Line:
    """One series as given: x ascending (aware datetimes, or numbers) and raw values."""

    name: str
    xs: Sequence[Any]
    ys: Sequence[Any]


def _lines(data: Any) -> tuple[list[_Line], bool]:
    """The series of ``data``, without touching each value: long series stay cheap.

    Accepts what :func:`_points` does; x must be in ascending order (history
    is), a short series out of order is sorted.
    """
    if isinstance(data, Mapping):
        named = list(data.items())
    else:
        named = [("", data)] if data is not None else []
    lines, kinds = [], set()
    for name, values in named:
        if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
            raise RenderError(
                f"chart series {str(name)!r} must be numbers or (x, y) pairs, "
                f"not {type(values).__name__}"
            )
        times = getattr(values, "times", None)
        ys = values if isinstance(values, list) else list(values)
        if times is not None and len(times) == len(ys):
            kept = [i for i, t in enumerate(times) if t is not None]
            xs: Sequence[Any] = [times[i] for i in kept]
            ys = [ys[i] for i in kept] if len(kept) != len(ys) else ys
            timed = True
        elif ys and all(isinstance(v, list | tuple) and len(v) == 2 for v in (ys[0], ys[-1])):
            try:
                xs, ys = _Column(ys), list(map(itemgetter(1), ys))
            except (TypeError, IndexError, KeyError):
                raise RenderError(f"chart series {str(name)!r} mixes pairs and values") from None
            if isinstance(xs[0], date | str) and not isinstance(xs[0], datetime):
                xs = _times(xs)  # dates, ISO text: times
            timed = isinstance(xs[0], datetime)
            if timed and xs[0].tzinfo is None:
                xs = [x.replace(tzinfo=UTC) if x.tzinfo is None else x for x in xs]
            elif not timed:
                kept = [i for i, x in enumerate(xs) if as_number(x) is not None]
                xs, ys = [float(xs[i]) for i in kept], [ys[i] for i in kept]
        else:
            xs, timed = range(len(ys)), False
        if len(xs) and (
            timed != isinstance(xs[0], datetime) or timed != isinstance(xs[-1], datetime)
        ):
            raise RenderError("chart series mix times and positions on x: give all of them times")
        if 1 < len(xs) <= 5000 and not all(a <= b for a, b in itertools.pairwise(xs)):
            order = sorted(range(len(xs)), key=xs.__getitem__)
            xs, ys = [xs[i] for i in order], [ys[i] for i in order]
        lines.append(_Line(str(name), xs, ys))
        if len(xs):
            kinds.add(timed)
    if len(kinds) > 1:
        raise RenderError("chart series mix times and positions on x: give all of them times")
    return lines, kinds == {True}


def _times(xs: Sequence[Any]) -> Sequence[Any]:
    """``(date, y)`` or ``("2026-01-01T00:00:00Z", y)`` pairs' x as UTC times (a date is
    its midnight, :func:`to_datetime`); ``xs`` as they are when one of them is neither
    (text such as "mon" is no time: those points are gaps, as any x that is not a number
    or a time)."""
    found: list[datetime] = []
    for x in xs:
        if not isinstance(x, date | str):
            return xs
        try:
            moment = to_datetime(x)
        except ValueError:
            return xs
        if moment is None:
            return xs
        found.append(moment)
    return found


def _x(value: Any) -> float:
    return _epoch(value) if isinstance(value, datetime) else float(value)


def _clean(values: Sequence[Any]) -> bool:
    """Only numbers an axis can span (passes in C: types, the extremes against
    :data:`MAX_DRAWN`, then a sum that NaN or inf spoils)."""
    if not values or not set(map(type, values)) <= {int, float}:
        return not values
    try:
        low, high = min(values), max(values)
        return low >= -MAX_DRAWN and high <= MAX_DRAWN and math.isfinite(sum(values))
    except (OverflowError, ValueError):  # (nan compares as neither)
        return False


def sample(line: _Line, columns: int) -> Pairs:
    """``line`` as at most two points a column (its min and max), x in epoch seconds.

    A column with a gap or a non-number is drawn point by point, so gaps stay
    gaps. Cost: two C passes over the values, and a bisect per column.
    """
    xs, ys = line.xs, line.ys
    if len(xs) <= 2 * columns:
        numbers = list(map(float, ys)) if _clean(ys) else [as_number(y) for y in ys]
        places = map(float, xs) if isinstance(xs, range) else map(_x, xs)
        return list(zip(places, numbers, strict=True))
    first, last = xs[0], xs[-1]
    bounds, count = [0], len(xs)
    for c in range(1, columns):
        edge = first + (last - first) * (c / columns)
        # Guess where the edge falls as if points were evenly spaced (history is,
        # nearly), then step to it: a comparison or two, not a bisection.
        at = max(bounds[-1], min(count - 1, c * count // columns))
        if xs[at] < edge:
            while at < count and xs[at] < edge:
                at += 1
                if at - bounds[-1] > 64:  # uneven after all: bisect the rest
                    at = bisect.bisect_left(xs, edge, lo=at)
                    break
        else:
            while at > bounds[-1] and xs[at - 1] >= edge:
                at -= 1
                if c * count // columns - at > 64:
                    at = bisect.bisect_left(xs, edge, lo=bounds[-1], hi=at)
                    break
        bounds.append(at)
    bounds.append(count)
    out: Pairs = []
    for a, b in itertools.pairwise(bounds):
        if a == b:
            continue
        segment = ys[a:b]
        try:  # numbers only: min and max raise (or give text) on anything else
            low, high = min(segment), max(segment)
            clean = math.isfinite(low) and math.isfinite(high)
        except TypeError:
            clean = False
        if not clean:  # a gap, text or an infinity: drawn point by point
            points = [(_x(xs[a + i]), as_number(y)) for i, y in enumerate(segment)]
            out.extend(downsample(points, 1))
            continue
        # (A NaN inside a dense column is below a pixel: not drawn, as a gap would not show.)
        picks = sorted({segment.index(low), segment.index(high)})
        out.extend((_x(xs[a + i]), float(segment[i])) for i in picks)
    return out


def _tail(line: _Line) -> tuple[Sequence[Any], Sequence[Any]]:
    return line.xs[-TABLE_ROWS:], line.ys[-TABLE_ROWS:]


def _last(line: _Line) -> float | None:
    for value in reversed(line.ys):
        number = as_number(value)
        if number is not None:
            return number
    return None


def _check_size(kind: str, width: Any, height: Any) -> None:
    for name, size in (("width", width), ("height", height)):
        if isinstance(size, bool) or not isinstance(size, int) or not 40 <= size <= MAX_SIZE:
            raise RenderError(
                f"{kind} {name} must be a whole number of pixels from 40 to {MAX_SIZE}, "
                f"not {size!r}"
            )


def value_formatter(fmt: str | None, unit: str) -> Callable[[float], str]:
    """How a chart writes its numbers: a filter's format, or a number and ``unit``."""
    if fmt not in (None, *FORMATS):
        raise RenderError(f"chart format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "bytes":
        return lambda v: filesize(v)
    if fmt == "percent":
        return lambda v: percent(v, 1 if 0 < abs(v) < 0.1 else 0)
    if fmt == "duration":
        return lambda v: duration(v)
    suffix = f" {unit}" if unit and not unit.startswith(("%", "°")) else unit
    return lambda v: f"{format_value(round(v, 6) if v % 1 else int(v))}{suffix}"


def tick_labels(ticks: list[float], fmt: str | None, unit: str) -> list[str]:
    """Labels for the y ticks, with as many decimals as the step needs (never two alike)."""
    if (fmt is not None and fmt != "number") or len(ticks) < 2:
        return [value_formatter(fmt, unit)(t) for t in ticks]
    step = abs(ticks[1] - ticks[0]) or 1.0
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if round(step / 10 ** math.floor(math.log10(step)), 6) == 2.5:
        decimals += 1
    suffix = f" {unit}" if unit and not unit.startswith(("%", "°")) else unit
    return [f"{t:,.{decimals}f}{suffix}" for t in ticks]


def value_ticks(low: float, high: float, fmt: str | None) -> list[float]:
    """:func:`nice_ticks`, in binary units for ``bytes`` (1, 2, 5 MiB…, not 476.8 MiB)."""
    if fmt != "bytes":
        return nice_ticks(low, high)
    scale = 1.0
    while max(abs(low), abs(high)) / scale >= 1024 and scale < 1024**5:
        scale *= 1024
    return [t * scale for t in nice_ticks(low / scale, high / scale)]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten apart) over ``low``..``high``."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high < low:
        low, high = high, low
    if high == low:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first, last = math.floor(low / step), math.ceil(high / step)
    return [round(n * step, 12) for n in range(first, last + 1)]


_TIME_STEPS = (
    60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600,
    86400, 2 * 86400, 7 * 86400, 14 * 86400,
)  # fmt: skip


def time_ticks(start: float, end: float, count: int = 6) -> tuple[list[float], str]:
    """Tick times (epoch seconds, on round UTC boundaries) and their strftime format."""
    span = max(end - start, 1.0)
    if span > 60 * 86400:  # months
        months = max(1, math.ceil(span / (30.4 * 86400) / count))
        moment = datetime.fromtimestamp(start, UTC).replace(
            day=1, hour=0, minute=0, second=0, microsecond=0
        )
        ticks = []
        while moment.timestamp() <= end:
            if moment.timestamp() >= start and (moment.month - 1) % months == 0:
                ticks.append(moment.timestamp())
            year, month = divmod(moment.month, 12)
            moment = moment.replace(year=moment.year + year, month=month + 1)
        return ticks, "%Y-%m"
    step = next((s for s in _TIME_STEPS if span / s <= count), _TIME_STEPS[-1])
    first = math.ceil(start / step) * step
    ticks = [float(t) for t in range(int(first), int(end) + 1, step)]
    if step >= 86400:
        return ticks, "%m-%d"
    one_day = datetime.fromtimestamp(start, UTC).date() == datetime.fromtimestamp(end, UTC).date()
    return ticks, "%H:%M" if one_day else "%m-%d %H:%M"


def downsample(points: Pairs, columns: int) -> Pairs:
    """At most two points per pixel column (its min and max, in x order); gaps kept."""
    if len(points) <= 2 * columns or columns < 1:
        return points
    low, high = points[0][0], points[-1][0]
    width = (high - low) / columns or 1.0
    out: Pairs = []
    bucket: list[tuple[float, float]] = []
    current = 0
    gap = False

    def flush() -> None:
        if bucket:
            lowest = min(bucket, key=lambda p: p[1])
            highest = max(bucket, key=lambda p: p[1])
            out.extend(sorted({lowest, highest}))
        if gap:
            out.append((out[-1][0] if out else low, None))

    for x, y in points:
        column = min(int((x - low) / width), columns - 1)
        if column != current:
            flush()
            bucket, gap, current = [], False, column
        if y is None:
            gap = True
        else:
            if gap and bucket:
                flush()
                bucket, gap = [], False
            bucket.append((x, y))
    flush()
    return out


@dataclass(frozen=True, slots=True)
class _Plot:
    """Where the drawing area sits and how values map onto it."""

    left: float
    top: float
    right: float
    bottom: float
    x0: float
    x1: float
    y0: float
    y1: float

    def x(self, value: float) -> float:
        span = (self.x1 - self.x0) or 1.0
        return round(self.left + (value - self.x0) / span * (self.right - self.left), 1)

    def y(self, value: float) -> float:
        span = (self.y1 - self.y0) or 1.0
        return round(self.bottom - (value - self.y0) / span * (self.bottom - self.top), 1)


def _share(ratio: float) -> str:
    """``25%``; a share that is there but rounds to nothing reads ``< 1%``, never ``0%``."""
    if 0 < ratio < 0.005:
        return "< 1%"
    if 0.995 <= ratio < 1:
        return "> 99%"
    return f"{ratio:.0%}"


def _draw_series(plot: _Plot, points: Pairs, index: int, area: bool, inline_css: bool) -> list[str]:
    colour = PALETTE[index % len(PALETTE)]
    dash = DASHES[index % len(DASHES)]
    number = index % len(PALETTE) + 1
    # The plot's mapping inlined: this loop runs for every point drawn.
    kx = (plot.right - plot.left) / ((plot.x1 - plot.x0) or 1.0)
    ky = (plot.bottom - plot.top) / ((plot.y1 - plot.y0) or 1.0)
    left, bottom, x0, y0 = plot.left, plot.bottom, plot.x0, plot.y0
    runs: list[list[str]] = [[]]
    for x, y in points:
        if y is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(f"{left + (x - x0) * kx:.1f},{bottom - (y - y0) * ky:.1f}")
    shapes = []
    base = f"{plot.y(max(plot.y0, min(0.0, plot.y1))):.1f}"
    for run in (r for r in runs if r):
        if len(run) == 1:
            x_text, y_text = run[0].split(",")
            css = "" if inline_css else f' class="chart-dot chart-series-{number}"'
            shapes.append(f'<circle cx="{x_text}" cy="{y_text}" r="2" fill="{colour}"{css}/>')
            continue
        line = " ".join(run)
        if area:
            css = "" if inline_css else f' class="chart-area chart-series-{number}"'
            first, last = run[0].split(",")[0], run[-1].split(",")[0]
            shapes.append(
                f'<polygon points="{first},{base} {line} {last},{base}" '
                f'fill="{colour}" fill-opacity="0.18" stroke="none"{css}/>'
            )
        css = "" if inline_css else f' class="chart-line chart-series-{number}"'
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        shapes.append(
            f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"'
            f' stroke-linejoin="round"{dashed}{css}/>'
        )
    return shapes
