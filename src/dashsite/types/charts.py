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

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from markupsafe import escape

from dashsite.core.errors import RenderError
from dashsite.core.levels import StatusLevel
from dashsite.types.plot import (
    TABLE_ROWS,
    Pairs,
    _check_size,
    _epoch,
    _last,
    _lines,
    _Plot,
    _share,
    _tail,
    sample,
    tick_labels,
    value_formatter,
    value_ticks,
)
from dashsite.types.renderables import RenderType, format_value, from_fields
from dashsite.types.sparkline import as_number

MARK_LINES = 3
"""At most this many lines in a chart's "no data since" mark."""


@dataclass(frozen=True, slots=True)
class NoData:
    """Where a chart's data stops before its end, and what its mark says (a line a series)."""

    since: float
    """Epoch seconds: the earliest last value among the series that stopped."""
    lines: tuple[str, ...]
    """``no data since 07:25 UTC``, or ``db: no data since 07:25 UTC`` for each series."""

    @property
    def mark(self) -> tuple[str, ...]:
        """The lines the mark at the chart's right edge shows (the summary has them all)."""
        if len(self.lines) <= MARK_LINES:
            return self.lines
        rest = len(self.lines) - MARK_LINES + 1
        return (*self.lines[: MARK_LINES - 1], f"and {rest} more series without recent data")


def _step(xs: Sequence[Any], index: int) -> float:
    """The usual time between a series' points up to ``index`` (the median of its last ten)."""
    recent = [_epoch(x) for x in xs[max(0, index - 10) : index + 1]]
    steps = sorted(b - a for a, b in itertools.pairwise(recent))
    return steps[len(steps) // 2] if steps else 0.0


def _since(at: float, end: float) -> str:
    """``07:25 UTC``; with the day when it is not the chart end's (``Nov 26 07:25 UTC``)."""
    moment, last = datetime.fromtimestamp(at, UTC), datetime.fromtimestamp(end, UTC)
    return moment.strftime("%H:%M UTC" if moment.date() == last.date() else "%b %d %H:%M UTC")


def _sentence(words: str) -> str:
    return "N" + words[1:] if words.startswith("no data") else words


@dataclass(frozen=True, slots=True)
class LineChart(RenderType):
    """One or several series over time (or position) as lines; ``AreaChart`` fills them.

    ``data`` is ``history | series("x.value")``, a list of numbers, a list of
    ``(time, value)`` pairs, or a dict of those by series name.
    ``format`` (``bytes``, ``percent``, ``duration``, ``number``) or ``unit``
    says how numbers read; ``thresholds`` (``{"warning": 80}``) draw level
    lines; ``annotations`` mark moments (``[(time, "deploy")]``).

    A series whose values stop before the chart's end (its last versions
    missing: a collector failing) gets a "no data since 07:25 UTC" mark at
    the right edge. ``end`` (the build's time, say) draws the chart up to
    that moment, so data that stopped coming shows as stopped even when the
    series holds no gap for it.
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
    end: datetime | None = None
    _prepared: Any = field(default=None, init=False, repr=False, compare=False)

    kind = "LineChart"
    stored_fields = (
        "data", "title", "unit", "format", "width", "height", "thresholds", "annotations", "end",
    )  # fmt: skip

    def __post_init__(self) -> None:
        _check_size(self.kind, self.width, self.height)
        value_formatter(self.format, self.unit)
        for name, value in dict(self.thresholds).items():
            StatusLevel.parse(name)
            if as_number(value) is None:
                raise RenderError(f"{self.kind} threshold {name!r} must be a number")
        lines, timed = _lines(self.data)
        if self.end is not None:
            if not isinstance(self.end, datetime):
                raise RenderError(f"{self.kind} end must be a time, not {self.end!r}")
            if self.end.tzinfo is None:
                object.__setattr__(self, "end", self.end.replace(tzinfo=UTC))
            if not timed and any(len(line.xs) for line in lines):
                raise RenderError(f"{self.kind} end needs times on x: give the points times")
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
        } | ({"end": self.end} if self.end is not None else {})  # older data.json stays as it was

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
        gap = self._no_data()
        said = "".join(f" {_sentence(words)}." for words in gap.lines) if gap else ""
        return span + "; ".join(parts) + "." + said

    def _no_data(self) -> NoData | None:
        """The series that stop before the chart's end, in words, or None (data is current).

        A series stops when its last values are missing (the versions since
        have none: its collector fails), or when its last value is more than
        one and a half of its usual steps before the chart's end (the latest
        time of any series, or ``end``).
        """
        lines, timed, _ = self._prepared
        if not timed:
            return None
        ends = [_epoch(line.xs[-1]) for line in lines if len(line.xs)]
        ends += [_epoch(self.end)] if self.end is not None else []
        if not ends:
            return None
        end = max(ends)
        stops: list[tuple[str, float]] = []
        for line in lines:
            index = len(line.ys) - 1
            while index >= 0 and as_number(line.ys[index]) is None:
                index -= 1
            if index < 0:
                continue  # no data at all: the summary says so
            last = _epoch(line.xs[index])
            if index < len(line.ys) - 1 or end - last > 1.5 * _step(line.xs, index):
                stops.append((line.name, last))
        if not stops:
            return None
        with_data = sum(1 for line in lines if any(as_number(y) is not None for y in line.ys))
        if len(stops) == with_data and len({at for _, at in stops}) == 1:
            words = [f"no data since {_since(stops[0][1], end)}"]
        else:
            words = [f"{name or 'values'}: no data since {_since(at, end)}" for name, at in stops]
        return NoData(min(at for _, at in stops), tuple(words))

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
        xs += [_epoch(self.end)] if self.end is not None and xs else []
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
        if inline_css:
            from dashsite.types.chart_mail import line_svg

            return line_svg(self)
        from dashsite.types.chart_frame import line_figure

        return line_figure(self, self._data_table())


@dataclass(frozen=True, slots=True)
class AreaChart(LineChart):
    """A line chart filled down to zero."""

    area: bool = True

    kind = "AreaChart"


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
            else:  # a plain number is the unnamed series' (beside named ones: its own)
                number = as_number(value)
                cells.append([number if n == "" else None for n in names])
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
        if inline_css:
            from dashsite.types.chart_mail import bar_svg

            return bar_svg(self)
        from dashsite.types.chart_frame import bar_figure

        categories, names, cells = self._grid()
        fmt = value_formatter(self.format, self.unit)
        series = [
            (name, [(c, row[i]) for c, row in zip(categories, cells, strict=True)])
            for i, name in enumerate(names)
        ]
        return bar_figure(self, _table(series, fmt, self.title))


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
        if inline_css:
            from dashsite.types.chart_mail import timeline_svg

            return timeline_svg(self)
        from dashsite.types.chart_frame import timeline_figure

        series = [("status", [(a, float(level)) for a, _, level in self._bands()])]
        table = _table(series, lambda v: StatusLevel(int(v)).slug, self.title)  # type: ignore[arg-type]
        return timeline_figure(self, table)
