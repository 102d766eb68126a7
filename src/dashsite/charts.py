"""Charts as static SVG: line, area, bar and status timeline — no JavaScript.

A chart is a render type like the others: returned by a collector or built
in a template (``{{ LineChart(history | series("latency.value"), title="Latency",
unit="ms") | render }}``), drawn as inline SVG that works from ``file://``,
in an archive and (rasterized) in mail. The same data always gives the same
bytes. Every chart says in words what it shows (``role="img"``, a ``<title>``,
a ``<desc>`` with range, last, min and max) and keeps its numbers in a
``<details>`` table; series differ by dash pattern as well as colour.

Long series are downsampled for drawing, keeping each pixel column's minimum
and maximum, so a spike in 105,120 points still shows and costs about what
1,000 points do.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

from markupsafe import escape

from .errors import RenderError
from .filters import duration, filesize, percent
from .levels import StatusLevel
from .renderables import RenderType, format_value
from .sparkline import as_number
from .styles import LEVEL_COLORS, MUTED

PALETTE = ("#0969da", "#bc4c00", "#1a7f37", "#8250df", "#bf3989", "#57606a")
"""Series colours on white (each at least 3:1); the theme's dark mode has its own."""
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 3", "10 4")
"""Series 2, 3… are dashed differently, so they differ by more than colour."""
FORMATS = ("number", "bytes", "percent", "duration")
MAX_SIZE = 4000
TABLE_ROWS = 50
"""Rows of the data table under a chart (the newest ones)."""
_FONT = 'font-family="system-ui,-apple-system,Segoe UI,Roboto,DejaVu Sans,sans-serif"'

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


def _x(value: Any) -> float:
    return _epoch(value) if isinstance(value, datetime) else float(value)


def _clean(values: Sequence[Any]) -> bool:
    """Only finite numbers (two passes in C: types, then a sum that NaN or inf spoils)."""
    return set(map(type, values)) <= {int, float} and math.isfinite(sum(values))


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


def _edge_text(plot: _Plot, x: float, y: float, words: str) -> str:
    """An axis label that stays inside the chart at either end."""
    half = 3.5 * len(words)
    anchor = "start" if x - half < 2 else "end" if x + half > plot.right + 10 else "middle"
    return _text(x, y, words, anchor)


def _text(x: float, y: float, words: str, anchor: str = "middle") -> str:
    return (
        f'<text x="{x}" y="{y}" text-anchor="{anchor}" font-size="12" {_FONT}'
        f' fill="{MUTED}">{escape(words)}</text>'
    )


@dataclass(frozen=True, slots=True)
class LineChart(RenderType):
    """One or several series over time (or position) as lines; ``AreaChart`` fills them.

    ``data`` is ``history | series("x.value")``, a list of numbers, a list of
    ``(time, value)`` pairs, or a dict of those by series name.
    ``format`` (``bytes``, ``percent``, ``duration``, ``number``) or ``unit``
    says how numbers read; ``thresholds`` (``{"warning": 80}``) draw level
    lines; ``annotations`` mark moments (``[(time, "deploy")]``).
    """

    data: Any
    title: str = ""
    unit: str = ""
    format: str | None = None
    width: int = 640
    height: int = 240
    thresholds: Mapping[str, float] = field(default_factory=dict)
    annotations: Sequence[tuple[Any, str]] = ()
    area: bool = False
    _prepared: Any = field(default=None, init=False, repr=False, compare=False)

    kind = "LineChart"

    def __post_init__(self) -> None:
        _check_size(self.kind, self.width, self.height)
        value_formatter(self.format, self.unit)
        for name, value in dict(self.thresholds).items():
            StatusLevel.parse(name)
            if as_number(value) is None:
                raise RenderError(f"{self.kind} threshold {name!r} must be a number")
        lines, timed = _lines(self.data)
        object.__setattr__(self, "_prepared", (lines, timed, {}))

    def levels(self) -> Iterator[StatusLevel]:
        """Charts carry no status of their own."""
        return iter(())

    def _samples(self, columns: int) -> list[Pairs]:
        lines, _, cache = self._prepared
        if columns not in cache:
            cache[columns] = [sample(line, columns) for line in lines]
        found: list[Pairs] = cache[columns]
        return found

    def summary(self) -> str:
        """One sentence: range, last, min, max of each series."""
        lines, timed, _ = self._prepared
        fmt = value_formatter(self.format, self.unit)
        parts = []
        for line, points in zip(lines, self._samples(self._columns()), strict=True):
            ys = [y for _, y in points if y is not None]
            label = line.name or self.title or "values"
            last = _last(line)
            if not ys or last is None:
                parts.append(f"{label}: no data")
                continue
            parts.append(f"{label}: last {fmt(last)}, min {fmt(min(ys))}, max {fmt(max(ys))}")
        span = ""
        firsts = [line.xs[0] for line in lines if len(line.xs)]
        if timed and firsts:
            lasts = [line.xs[-1] for line in lines if len(line.xs)]
            span = f"From {format_value(min(firsts))} to {format_value(max(lasts))}: "
        return span + "; ".join(parts) + "."

    def _columns(self) -> int:
        return max(self.width - 100, 1)

    def _data_table(self) -> str:
        lines, _, _ = self._prepared
        tails = [
            (line.name, [(x, as_number(y)) for x, y in zip(*_tail(line), strict=True)])
            for line in lines
        ]
        total = max((len(line.xs) for line in lines), default=0)
        return _table(tails, value_formatter(self.format, self.unit), self.title, total)

    def render(self, *, inline_css: bool = False) -> str:
        """A ``<figure>`` holding the SVG and a ``<details>`` table of the numbers.

        On a page the words are HTML over a stretched plot (:mod:`.chart_frame`);
        in mail (``inline_css``), one plain SVG.
        """
        if not inline_css:
            from .chart_frame import line_figure

            return line_figure(self, self._data_table())
        lines, timed, _ = self._prepared
        fmt = value_formatter(self.format, self.unit)
        numeric = self._samples(self._columns())
        ys = [y for points in numeric for _, y in points if y is not None]
        ys += [float(v) for v in dict(self.thresholds).values()]
        xs = [x for points in numeric if points for x in (points[0][0], points[-1][0])]
        low, high = (min(ys), max(ys)) if ys else (0.0, 1.0)
        if self.area:
            low, high = min(low, 0.0), max(high, 0.0)
        ticks = value_ticks(low, high, self.format)
        labels = tick_labels(ticks, self.format, self.unit)
        left = 10 + 7 * max(len(t) for t in labels)
        plot = _Plot(
            left, 10, self.width - 12, self.height - 26,
            min(xs) if xs else 0.0, max(xs) if xs else 1.0, ticks[0], ticks[-1],
        )  # fmt: skip
        parts = _axes(plot, ticks, labels, timed, inline_css)
        for name, value in dict(self.thresholds).items():
            level = StatusLevel.parse(name)
            y = plot.y(float(value))
            css = "" if inline_css else f' class="chart-threshold chart-{level.slug}"'
            parts.append(
                f'<line x1="{plot.left}" x2="{plot.right}" y1="{y}" y2="{y}" '
                f'stroke="{LEVEL_COLORS[level]}" stroke-dasharray="4 4"{css}/>'
            )
            parts.append(_text(plot.right - 2, y - 3, f"{level.slug} {fmt(float(value))}", "end"))
        for moment, words in self.annotations:
            at = moment if isinstance(moment, datetime) else None
            x_value = _epoch(at) if at is not None else as_number(moment)
            if x_value is None or not plot.x0 <= x_value <= plot.x1:
                continue
            x = plot.x(x_value)
            parts.append(
                f'<line x1="{x}" x2="{x}" y1="{plot.top}" y2="{plot.bottom}" stroke="{MUTED}" '
                'stroke-dasharray="2 2"/>'
            )
            parts.append(_text(x + 3, plot.top + 10, str(words), "start"))
        for index, points in enumerate(numeric):
            parts += _draw_series(plot, points, index, self.area, inline_css)
        if len(numeric) > 1:
            parts += _legend(plot, [line.name for line in lines], inline_css)
        tails = [
            (line.name, [(x, as_number(y)) for x, y in zip(*_tail(line), strict=True)])
            for line in lines
        ]
        total = max((len(line.xs) for line in lines), default=0)
        return _figure(
            self.title, self.summary(), self.width, self.height, parts, inline_css,
            _table(tails, fmt, self.title, total),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class AreaChart(LineChart):
    """A line chart filled down to zero."""

    area: bool = True

    kind = "AreaChart"


def _axes(
    plot: _Plot, ticks: list[float], labels: list[str], timed: bool, inline_css: bool
) -> list[str]:
    grid = "" if inline_css else ' class="chart-grid"'
    parts = []
    for value, words in zip(ticks, labels, strict=True):
        y = plot.y(value)
        parts.append(
            f'<line x1="{plot.left}" x2="{plot.right}" y1="{y}" y2="{y}" stroke="#d0d7de"'
            f' stroke-width="1"{grid}/>'
        )
        parts.append(_text(plot.left - 6, y + 4, words, "end"))
    if timed:
        marks, pattern = time_ticks(plot.x0, plot.x1)
        if not marks:  # a span shorter than a tick step: its two ends
            marks, pattern = sorted({plot.x0, plot.x1}), "%H:%M:%S"
        for moment in marks:
            words = datetime.fromtimestamp(moment, UTC).strftime(pattern)
            parts.append(_edge_text(plot, plot.x(moment), plot.bottom + 16, words))
    else:
        for value in nice_ticks(plot.x0, plot.x1, 6):
            if plot.x0 <= value <= plot.x1 and value == int(value):
                parts.append(_text(plot.x(value), plot.bottom + 16, format_value(int(value))))
    return parts


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


def _legend(plot: _Plot, names: list[str], inline_css: bool) -> list[str]:
    parts, x = [], plot.left + 4
    for index, name in enumerate(names):
        colour, dash = PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)]
        css = "" if inline_css else f' class="chart-line chart-series-{index % len(PALETTE) + 1}"'
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{x}" x2="{x + 18}" y1="{plot.top + 6}" y2="{plot.top + 6}" '
            f'stroke="{colour}" stroke-width="2"{dashed}{css}/>'
        )
        parts.append(_text(x + 22, plot.top + 10, name, "start"))
        x += 30 + 6.5 * len(name)
    return parts


def _figure(
    title: str,
    summary: str,
    width: int,
    height: int,
    parts: list[str],
    inline_css: bool,
    table: str,
) -> str:
    name = escape(title or "Chart")
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{name}: {escape(summary)}"'
        + (' style="max-width:100%;height:auto"' if inline_css else "")
        + f"><title>{name}</title><desc>{escape(summary)}</desc>{''.join(parts)}</svg>"
    )
    caption = f"<figcaption>{name}</figcaption>" if title else ""
    if inline_css:
        return f'<figure style="margin:.5rem 0">{caption}{svg}</figure>'
    return f'<figure class="chart">{caption}{svg}{table}</figure>'


def _table(
    series: list[tuple[str, list[tuple[Any, float | None]]]],
    fmt: Any,
    title: str,
    total: int | None = None,
) -> str:
    """The numbers behind a chart, for screen readers and for copying (the newest rows)."""
    head = "".join(f'<th scope="col" class="num">{escape(n or "value")}</th>' for n, _ in series)
    rows: dict[Any, list[str]] = {}
    for index, (_, points) in enumerate(series):
        for x, y in points:
            rows.setdefault(x, [""] * len(series))[index] = "—" if y is None else fmt(y)
    kept = sorted(rows, key=lambda x: _epoch(x) if isinstance(x, datetime) else x)[-TABLE_ROWS:]
    body = "".join(
        f'<tr><th scope="row">{escape(format_value(x))}</th>'
        + "".join(f'<td class="num">{escape(c)}</td>' for c in rows[x])
        + "</tr>"
        for x in kept
    )
    count = max(total or 0, len(rows))
    more = f" (the newest {len(kept)} of {count:,})" if count > len(kept) else ""
    return (
        f"<details><summary>Data{more}</summary>"
        f'<div class="table-scroll"><table class="monitor-table">'
        f"<caption>{escape(title or 'Chart')}: data</caption>"
        f'<thead><tr><th scope="col">At</th>{head}</tr></thead><tbody>{body}</tbody>'
        "</table></div></details>"
    )


@dataclass(frozen=True, slots=True)
class BarChart(RenderType):
    """Bars by category: ``{"mon": 3, "tue": 5}``, or several series side by side.

    ``{"mon": {"api": 3, "db": 1}, …}`` groups the series per category;
    ``stacked=True`` piles them up instead.
    """

    data: Mapping[str, Any]
    title: str = ""
    unit: str = ""
    format: str | None = None
    width: int = 640
    height: int = 240
    stacked: bool = False

    kind = "BarChart"

    def __post_init__(self) -> None:
        _check_size(self.kind, self.width, self.height)
        value_formatter(self.format, self.unit)
        if not isinstance(self.data, Mapping):
            raise RenderError("BarChart data must map categories to numbers (or to series)")

    def levels(self) -> Iterator[StatusLevel]:
        """Charts carry no status of their own."""
        return iter(())

    def _grid(self) -> tuple[list[str], list[str], list[list[float | None]]]:
        categories = [str(c) for c in self.data]
        names: list[str] = []
        for value in self.data.values():
            for name in value if isinstance(value, Mapping) else [""]:
                if str(name) not in names:
                    names.append(str(name))
        cells = []
        for value in self.data.values():
            if isinstance(value, Mapping):
                found = {str(k): as_number(v) for k, v in value.items()}
                cells.append([found.get(n) for n in names])
            else:
                cells.append([as_number(value)])
        return categories, names, cells

    def summary(self) -> str:
        """Which category is highest and lowest, in words."""
        categories, _, cells = self._grid()
        fmt = value_formatter(self.format, self.unit)
        totals = [
            (sum(v for v in row if v is not None), c)
            for c, row in zip(categories, cells, strict=True)
            if any(v is not None for v in row)
        ]
        if not totals:
            return "No data."
        top, bottom = max(totals), min(totals)
        return (
            f"{len(categories)} categories; highest {top[1]} ({fmt(top[0])}), "
            f"lowest {bottom[1]} ({fmt(bottom[0])})."
        )

    def render(self, *, inline_css: bool = False) -> str:
        """Vertical bars with a zero baseline."""
        categories, names, cells = self._grid()
        fmt = value_formatter(self.format, self.unit)
        if not inline_css:
            from .chart_frame import bar_figure

            series = [
                (name, [(c, row[i]) for c, row in zip(categories, cells, strict=True)])
                for i, name in enumerate(names)
            ]
            return bar_figure(self, _table(series, fmt, self.title))
        if self.stacked:
            sums = [sum(v for v in row if v is not None and v > 0) for row in cells]
            lows = [sum(v for v in row if v is not None and v < 0) for row in cells]
            values = sums + lows
        else:
            values = [v for row in cells for v in row if v is not None]
        ticks = value_ticks(min([0.0, *values]), max([0.0, *values]), self.format)
        labels = tick_labels(ticks, self.format, self.unit)
        left = 10 + 7 * max(len(t) for t in labels)
        plot = _Plot(left, 10, self.width - 12, self.height - 26, 0, max(len(categories), 1),
                     ticks[0], ticks[-1])  # fmt: skip
        parts = _axes(plot, ticks, labels, False, inline_css)[: 2 * len(ticks)]
        slot = (plot.right - plot.left) / max(len(categories), 1)
        zero = plot.y(0.0)
        for c, (category, row) in enumerate(zip(categories, cells, strict=True)):
            x = plot.left + c * slot + slot * 0.1
            inner = slot * 0.8
            stack_up = stack_down = 0.0
            for s, value in enumerate(row):
                if value is None:
                    continue
                colour = PALETTE[s % len(PALETTE)]
                css = (
                    "" if inline_css else f' class="chart-bar chart-series-{s % len(PALETTE) + 1}"'
                )
                if self.stacked:
                    base = stack_up if value >= 0 else stack_down
                    top, bottom = plot.y(base + value), plot.y(base)
                    if value >= 0:
                        stack_up += value
                    else:
                        stack_down += value
                    bar_x, bar_w = x, inner
                else:
                    top, bottom = plot.y(value), zero
                    bar_w = inner / len(row)
                    bar_x = x + s * bar_w
                y, h = min(top, bottom), abs(bottom - top)
                pattern = ' stroke="#ffffff" stroke-width="1"' if s else ""
                parts.append(
                    f'<rect x="{round(bar_x, 1)}" y="{y}" width="{round(bar_w, 1)}" '
                    f'height="{round(h, 1)}" fill="{colour}"{pattern}{css}/>'
                )
            parts.append(_text(round(x + inner / 2, 1), plot.bottom + 16, category[:16]))
        if len(names) > 1:
            parts += _legend(plot, names, inline_css)
        series = [
            (name, [(category, row[i]) for category, row in zip(categories, cells, strict=True)])
            for i, name in enumerate(names)
        ]
        table = _table(series, fmt, self.title)
        return _figure(
            self.title, self.summary(), self.width, self.height, parts, inline_css, table
        )


@dataclass(frozen=True, slots=True)
class StatusTimeline(RenderType):
    """Coloured bands by status level over time: ``[(time, level), …]`` or history entries.

    Each point's level holds until the next point; ``end`` (default: the
    last point) closes the last band.
    """

    data: Sequence[Any]
    title: str = ""
    width: int = 640
    height: int = 64
    end: datetime | None = None

    kind = "StatusTimeline"

    def __post_init__(self) -> None:
        _check_size(self.kind, self.width, self.height)
        self._points()

    def levels(self) -> Iterator[StatusLevel]:
        """A timeline shows the past: it does not set the page's status."""
        return iter(())

    def _points(self) -> list[tuple[datetime, StatusLevel]]:
        out = []
        for item in self.data:
            if isinstance(item, list | tuple) and len(item) == 2:
                moment, level = item
            else:  # a history entry
                moment, level = getattr(item, "collected_at", None), getattr(item, "status", None)
            if not isinstance(moment, datetime) or level is None:
                raise RenderError("StatusTimeline points must be (time, level) or history entries")
            out.append(
                (moment if moment.tzinfo else moment.replace(tzinfo=UTC), StatusLevel.parse(level))
            )
        return sorted(out, key=lambda p: p[0])

    def _bands(self) -> list[tuple[datetime, datetime, StatusLevel]]:
        points = self._points()
        if not points:
            return []
        close = self.end or points[-1][0] + timedelta(seconds=1)
        ends = [p[0] for p in points[1:]] + [close]
        bands: list[tuple[datetime, datetime, StatusLevel]] = []
        for (start, level), stop in zip(points, ends, strict=True):
            if bands and bands[-1][2] == level and bands[-1][1] == start:
                bands[-1] = (bands[-1][0], stop, level)
            else:
                bands.append((start, stop, level))
        return bands

    def summary(self) -> str:
        """The share of time at each level, in words."""
        bands = self._bands()
        if not bands:
            return "No data."
        total = sum((b - a).total_seconds() for a, b, _ in bands) or 1.0
        shares: dict[StatusLevel, float] = {}
        for a, b, level in bands:
            shares[level] = shares.get(level, 0.0) + (b - a).total_seconds()
        words = ", ".join(
            f"{level.slug} {_share(shares[level] / total)}" for level in sorted(shares)
        )
        return f"From {format_value(bands[0][0])} to {format_value(bands[-1][1])}: {words}."

    def render(self, *, inline_css: bool = False) -> str:
        """One band per run of the same level, a time axis under them."""
        bands = self._bands()
        series = [("status", [(a, float(level)) for a, _, level in bands])]
        table = _table(series, lambda v: StatusLevel(int(v)).slug, self.title)  # type: ignore[arg-type]
        if not inline_css:
            from .chart_frame import timeline_figure

            return timeline_figure(self, table)
        plot = _Plot(
            8, 6, self.width - 8, self.height - 22,
            _epoch(bands[0][0]) if bands else 0.0, _epoch(bands[-1][1]) if bands else 1.0, 0, 1,
        )  # fmt: skip
        parts = []
        for start, stop, level in bands:
            x0, x1 = plot.x(_epoch(start)), plot.x(_epoch(stop))
            css = "" if inline_css else f' class="chart-band status-{level.slug}"'
            parts.append(
                f'<rect x="{x0}" y="{plot.top}" width="{max(round(x1 - x0, 1), 0.5)}" '
                f'height="{round(plot.bottom - plot.top, 1)}" fill="{LEVEL_COLORS[level]}"{css}>'
                f"<title>{escape(level.slug)} from {escape(format_value(start))}</title></rect>"
            )
        if bands:
            marks, pattern = time_ticks(plot.x0, plot.x1)
            for moment in marks:
                words = datetime.fromtimestamp(moment, UTC).strftime(pattern)
                parts.append(_edge_text(plot, plot.x(moment), plot.bottom + 15, words))
        series = [("status", [(a, float(level)) for a, _, level in bands])]
        table = _table(series, lambda v: StatusLevel(int(v)).slug, self.title)  # type: ignore[arg-type]
        return _figure(
            self.title, self.summary(), self.width, self.height, parts, inline_css, table
        )


CHARTS: tuple[type, ...] = (LineChart, AreaChart, BarChart, StatusTimeline)
CHART_KINDS = ("LineChart", "AreaChart", "BarChart", "StatusTimeline")


def stored_fields(chart: Any) -> dict[str, Any]:
    """A chart's fields for ``data.json``: series as ``{name: [[x, y], …]}``."""
    if isinstance(chart, LineChart):
        lines, _, _ = chart._prepared
        return {
            "data": {
                line.name: [[x, as_number(y)] for x, y in zip(line.xs, line.ys, strict=True)]
                for line in lines
            },
            "title": chart.title,
            "unit": chart.unit,
            "format": chart.format,
            "width": chart.width,
            "height": chart.height,
            "thresholds": {str(k): float(v) for k, v in dict(chart.thresholds).items()},
            "annotations": [[moment, str(words)] for moment, words in chart.annotations],
        }
    if isinstance(chart, BarChart):
        return {
            "data": dict(chart.data),
            "title": chart.title,
            "unit": chart.unit,
            "format": chart.format,
            "width": chart.width,
            "height": chart.height,
            "stacked": chart.stacked,
        }
    assert isinstance(chart, StatusTimeline)
    return {
        "data": [[moment, level.slug] for moment, level in chart._points()],
        "title": chart.title,
        "width": chart.width,
        "height": chart.height,
        "end": chart.end,
    }


def from_stored(kind: str, fields: dict[str, Any]) -> Any:
    """The chart ``stored_fields`` wrote, checked by the chart's own constructor."""
    chart_type: Any = dict(zip(CHART_KINDS, CHARTS, strict=True))[kind]
    names = set(chart_type.__dataclass_fields__) - {"area"}
    extra = set(fields) - names - {"$kind"}
    if extra:
        raise ValueError(f"unknown {kind} fields: {', '.join(sorted(extra))}")
    values = {k: v for k, v in fields.items() if k in names}
    if "annotations" in values:
        values["annotations"] = [tuple(pair) for pair in values["annotations"]]
    return chart_type(**values)
