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

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from markupsafe import escape

from dashsite.core.errors import RenderError
from dashsite.core.levels import StatusLevel
from dashsite.core.xmltext import xml_text
from dashsite.types.plot import (
    DASHES,
    PALETTE,
    TABLE_ROWS,
    Pairs,
    _check_size,
    _draw_series,
    _edge_text,
    _epoch,
    _last,
    _lines,
    _Plot,
    _share,
    _tail,
    _text,
    nice_ticks,
    sample,
    tick_labels,
    time_ticks,
    value_formatter,
    value_ticks,
)
from dashsite.types.renderables import RenderType, format_value, from_fields
from dashsite.types.sparkline import as_number
from dashsite.types.styles import LEVEL_COLORS, MUTED


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
    stored_fields = (
        "data", "title", "unit", "format", "width", "height", "thresholds", "annotations",
    )  # fmt: skip

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

    def to_stored(self) -> dict[str, Any]:
        """The series as ``{name: [[x, y], …]}``, and the chart's settings."""
        lines, _, _ = self._prepared
        return {
            "data": {
                line.name: [[x, as_number(y)] for x, y in zip(line.xs, line.ys, strict=True)]
                for line in lines
            },
            "title": self.title,
            "unit": self.unit,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "thresholds": {str(k): float(v) for k, v in dict(self.thresholds).items()},
            "annotations": [[moment, str(words)] for moment, words in self.annotations],
        }

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> Self:
        """The stored chart, checked by its own constructor (annotations as pairs)."""
        values = dict(stored)
        if isinstance(values.get("annotations"), list):
            values["annotations"] = [tuple(pair) for pair in values["annotations"]]
        return from_fields(cls, values)

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

    def _annotations_on(self, plot: _Plot) -> list[tuple[float, str]]:
        """The annotations inside ``plot``'s x range: (x value, words)."""
        found = []
        for moment, words in self.annotations:
            at = moment if isinstance(moment, datetime) else None
            x_value = _epoch(at) if at is not None else as_number(moment)
            if x_value is not None and plot.x0 <= x_value <= plot.x1:
                found.append((x_value, str(words)))
        return found

    def _scale(self) -> tuple[list[Pairs], list[float], list[float], list[str]]:
        """The sampled series, the x ends, the value ticks and their labels: one scale for
        the page's frame and the mail's SVG."""
        numeric = self._samples(self._columns())
        ys = [y for points in numeric for _, y in points if y is not None]
        ys += [float(v) for v in dict(self.thresholds).values()]
        xs = [x for points in numeric if points for x in (points[0][0], points[-1][0])]
        low, high = (min(ys), max(ys)) if ys else (0.0, 1.0)
        if self.area:
            low, high = min(low, 0.0), max(high, 0.0)
        ticks = value_ticks(low, high, self.format)
        return numeric, xs, ticks, tick_labels(ticks, self.format, self.unit)

    def render(self, *, inline_css: bool = False) -> str:
        """A ``<figure>`` holding the SVG and a ``<details>`` table of the numbers.

        On a page the words are HTML over a stretched plot (:mod:`.chart_frame`);
        in mail (``inline_css``), one plain SVG.
        """
        if not inline_css:
            from dashsite.types.chart_frame import line_figure

            return line_figure(self, self._data_table())
        lines, timed, _ = self._prepared
        fmt = value_formatter(self.format, self.unit)
        numeric, xs, ticks, labels = self._scale()
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
        for x_value, words in self._annotations_on(plot):
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
    svg = xml_text(  # mail draws it with an XML parser
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
            from dashsite.types.chart_frame import bar_figure

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

    def to_stored(self) -> dict[str, Any]:
        """The points as ``[[time, level], …]``, sorted, and the settings."""
        return {
            "data": [[moment, level.slug] for moment, level in self._points()],
            "title": self.title,
            "width": self.width,
            "height": self.height,
            "end": self.end,
        }

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
            from dashsite.types.chart_frame import timeline_figure

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
