"""A chart's page frame: the plot as a stretched SVG, its words as HTML in CSS pixels.

A chart drawn 640 units wide and shrunk into a 320 px panel shrinks its text
to 6 px. Here the plot alone is SVG, stretched to the panel's width
(``preserveAspectRatio="none"``, strokes that do not scale), and every word
— ticks, the zone, thresholds, annotations, the value under the pointer —
is HTML laid over it at percentages, so it stays at the theme's font size at
any width. Each column of the plot is a hit area holding its values: shown
on hover and on keyboard focus by CSS alone; one tab stop per chart, the
arrow keys move between columns (``fresh.js``). The mail keeps the plain SVG
(``inline_css=True``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import escape

from dashsite.core.xmltext import xml_text


def _text(value: object) -> str:
    """Words for the page: XML 1.0's forbidden characters replaced, then escaped."""
    return str(escape(xml_text(str(value))))


PLOT_WIDTH = 1000.0
"""The plot's own units across (the viewBox); the page stretches it."""
EDGE = 0.08
"""Within this share of either end, an x label is aligned to that end, not centred."""


@dataclass(frozen=True, slots=True)
class Hit:
    """One column of the plot: where it starts and how wide (shares of the plot), what it says."""

    start: float
    width: float
    text: str


@dataclass(frozen=True, slots=True)
class Mark:
    """A span drawn as HTML so it is never thinner than 2 px (a short outage on a timeline)."""

    start: float
    width: float
    css: str
    text: str


def _pct(share: float) -> str:
    return f"{max(0.0, min(share, 1.0)) * 100:.2f}%"


def _side(hit: Hit) -> str:
    """Which way a hit's tip opens so it stays over the plot."""
    middle = hit.start + hit.width / 2
    return " chart-hit-start" if middle < 0.5 else " chart-hit-end"


def x_label(share: float, words: str) -> str:
    """An x-axis label centred on ``share``, or held inside at either end."""
    edge = " chart-x-start" if share < EDGE else " chart-x-end" if share > 1 - EDGE else ""
    return f'<span class="chart-x-label{edge}" style="left:{_pct(share)}">{_text(words)}</span>'


def frame(
    *,
    title: str,
    summary: str,
    width: int,
    height: int,
    plot_height: float,
    gutter: int,
    svg_parts: Sequence[str],
    y_labels: Sequence[tuple[float, str]] = (),
    x_labels: Sequence[tuple[float, str]] = (),
    zone: str = "",
    notes: Sequence[str] = (),
    hits: Sequence[Hit] = (),
    marks: Sequence[Mark] = (),
    no_data: Sequence[str] = (),
    table: str = "",
    kind: str = "",
) -> str:
    """The ``<figure>``: caption, frame (y labels, plot, hit areas, x labels), notes, table.

    ``y_labels``/``x_labels`` are (share of the plot's height/width, words);
    ``notes`` are HTML already escaped (thresholds and annotations, in words
    under the plot so they never overlap the lines or each other). ``no_data``
    is the "no data since" mark, at the plot's top right.
    """
    name = _text(title or "Chart")
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" '
        f'viewBox="0 0 {PLOT_WIDTH:.0f} {plot_height:.0f}" preserveAspectRatio="none" '
        f'style="height:{plot_height:.0f}px" role="img" aria-label="{name}: {_text(summary)}">'
        f"<title>{name}</title><desc>{_text(summary)}</desc>{''.join(svg_parts)}</svg>"
    )
    ys = "".join(
        f'<span class="chart-y-label" style="top:{_pct(share)}">{_text(words)}</span>'
        for share, words in y_labels
    )
    xs = "".join(x_label(share, words) for share, words in x_labels)
    over = "".join(
        f'<span class="chart-mark {m.css}" style="left:{_pct(m.start)};'
        f'width:max(2px,{_pct(m.width)})"></span>'
        for m in marks
    )
    if no_data:
        over += (
            '<span class="chart-nodata-note">'
            + "".join(f"<span>{_text(words)}</span>" for words in no_data)
            + "</span>"
        )
    columns = "".join(
        f'<span class="chart-hit{_side(h)}" tabindex="{0 if n == 0 else -1}" role="img" '
        f'aria-label="{_text(h.text)}" style="left:{_pct(h.start)};width:{_pct(h.width)}">'
        f'<span class="chart-tip">{_text(h.text)}</span></span>'
        for n, h in enumerate(hits)
    )
    hit_layer = (
        f'<div class="chart-hits" role="group" aria-label="{name}: values by column '
        '(arrow keys move)">' + columns + "</div>"
        if hits
        else ""
    )
    caption = f"<figcaption>{name}</figcaption>" if title else ""
    said = ([f"Times in {_text(zone)}"] if zone else []) + list(notes)
    notes_html = '<p class="chart-notes">' + " · ".join(said) + "</p>" if said else ""
    css = f" chart-{kind}" if kind else ""
    return (
        f'<figure class="chart chart-framed{css}" style="max-width:{width}px">{caption}'
        f'<div class="chart-frame" style="--gutter:{gutter}px">'
        f'<div class="chart-y" aria-hidden="true">{ys}</div>'
        f'<div class="chart-plot">{svg}<div class="chart-marks" aria-hidden="true">{over}</div>'
        f"{hit_layer}</div>"
        f'<div class="chart-x" aria-hidden="true">{xs}</div>'
        f"</div>{notes_html}{table}</figure>"
    )


# The three kinds drawn in a frame (``chart`` is the LineChart, BarChart or StatusTimeline
# being drawn: it calls these, so this module names no chart type and imports
# only the shared primitives of ``plot``).

from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

HIT_COLUMNS = 60
"""At most this many hit areas across a line chart (each holds its column's values)."""
_FRIENDLY = {
    "%H:%M": "%H:%M",
    "%m-%d %H:%M": "%b %d %H:%M",
    "%m-%d": "%b %d",
    "%Y-%m": "%b %Y",
    "%H:%M:%S": "%H:%M:%S",
}


def _stroke(part: str) -> str:
    """Lines keep their width when the plot is stretched."""
    for tag in ("<polyline ", "<line "):
        part = part.replace(tag, f'{tag}vector-effect="non-scaling-stroke" ')
    return part


def _at(x: float, timed: bool) -> str:
    from dashsite.types.renderables import format_value

    if timed:
        return datetime.fromtimestamp(x, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return format_value(int(x) if x == int(x) else x)


def _x_axis(plot: Any, timed: bool) -> tuple[list[tuple[float, str]], str]:
    from dashsite.types.plot import nice_ticks, time_ticks
    from dashsite.types.renderables import format_value

    span = (plot.x1 - plot.x0) or 1.0
    if timed:
        marks, pattern = time_ticks(plot.x0, plot.x1)
        if not marks:
            marks, pattern = sorted({plot.x0, plot.x1}), "%H:%M:%S"
        shown = _FRIENDLY.get(pattern, pattern)
        return [
            ((m - plot.x0) / span, datetime.fromtimestamp(m, UTC).strftime(shown)) for m in marks
        ], "UTC"
    return [
        ((v - plot.x0) / span, format_value(int(v)))
        for v in nice_ticks(plot.x0, plot.x1, 6)
        if plot.x0 <= v <= plot.x1 and v == int(v)
    ], ""


def _key(index: int, name: str) -> str:
    from dashsite.types.plot import PALETTE

    number = index % len(PALETTE) + 1
    colour = PALETTE[index % len(PALETTE)]
    return (
        f'<span class="chart-key chart-series-{number}" style="border-top-color:'
        f'var(--series,{colour})" aria-hidden="true"></span>{_text(name)}'
    )


def line_figure(chart: Any, table: str) -> str:
    """A line or area chart in a frame."""
    from dashsite.core.levels import StatusLevel
    from dashsite.types.plot import (
        _draw_series,
        _Plot,
        value_formatter,
    )
    from dashsite.types.styles import LEVEL_COLORS, MUTED

    lines, timed, _ = chart._prepared
    fmt = value_formatter(chart.format, chart.unit)
    numeric, xs, ticks, labels = chart._scale()
    plot_height = float(chart.height - 20)
    plot = _Plot(
        0, 10, PLOT_WIDTH, chart.height - 26,
        min(xs) if xs else 0.0, max(xs) if xs else 1.0, ticks[0], ticks[-1],
    )  # fmt: skip
    parts = [
        f'<line x1="0" x2="{PLOT_WIDTH:.0f}" y1="{plot.y(v)}" y2="{plot.y(v)}" '
        'stroke="#d0d7de" stroke-width="1" class="chart-grid"/>'
        for v in ticks
    ]
    notes = []
    for name, value in dict(chart.thresholds).items():
        level = StatusLevel.parse(name)
        y = plot.y(float(value))
        parts.append(
            f'<line x1="0" x2="{PLOT_WIDTH:.0f}" y1="{y}" y2="{y}" '
            f'stroke="{LEVEL_COLORS[level]}" stroke-dasharray="4 4" '
            f'class="chart-threshold chart-{level.slug}"/>'
        )
        notes.append(
            f'<span class="chart-key chart-key-threshold chart-{level.slug}" aria-hidden="true">'
            f"</span>{_text(level.slug)} at {_text(fmt(float(value)))}"
        )
    for x_value, words in chart._annotations_on(plot):
        x = plot.x(x_value)
        parts.append(
            f'<line x1="{x}" x2="{x}" y1="{plot.top}" y2="{plot.bottom}" stroke="{MUTED}" '
            'stroke-dasharray="2 2" class="chart-annotation"/>'
        )
        notes.append(
            '<span class="chart-key chart-key-annotation" aria-hidden="true"></span>'
            f"{_text(words)} ({_text(_at(x_value, timed))})"
        )
    gap = chart._no_data()
    if gap is not None:  # shaded from where the data stops to the chart's end
        x = plot.x(min(max(gap.since, plot.x0), plot.x1))
        parts.append(
            f'<rect x="{x}" y="{plot.top}" width="{round(plot.right - x, 1)}" '
            f'height="{round(plot.bottom - plot.top, 1)}" fill="{MUTED}" fill-opacity="0.14" '
            f'class="chart-nodata"><title>{_text("; ".join(gap.lines))}</title></rect>'
        )
    for index, points in enumerate(numeric):
        parts += _draw_series(plot, points, index, chart.area, False)
    if len(numeric) > 1:
        notes = [_key(i, line.name) for i, line in enumerate(lines)] + notes
    span = (plot.x1 - plot.x0) or 1.0
    hits = _line_hits(plot, numeric, [line.name for line in lines], fmt, timed, span)
    x_labels, zone = _x_axis(plot, timed)
    return frame(
        title=chart.title, summary=chart.summary(), width=chart.width, height=chart.height,
        plot_height=plot_height, gutter=10 + 7 * max(len(t) for t in labels),
        svg_parts=[_stroke(p) for p in parts],
        y_labels=[(plot.y(v) / plot_height, words) for v, words in zip(ticks, labels, strict=True)],
        x_labels=x_labels, zone=zone, notes=notes, hits=hits,
        no_data=gap.mark if gap is not None else (), table=table,
        kind="area" if chart.area else "line",
    )  # fmt: skip


def _line_hits(
    plot: Any,
    numeric: Sequence[Sequence[tuple[float, float | None]]],
    names: Sequence[str],
    fmt: Any,
    timed: bool,
    span: float,
) -> list[Hit]:
    xs = sorted({x for points in numeric for x, y in points if y is not None})
    if not xs:
        return []
    count = min(HIT_COLUMNS, len(xs))
    step = span / count
    hits = []
    for column in range(count):
        a = plot.x0 + column * step
        b = a + step if column < count - 1 else plot.x1 + 1e-9
        values = []
        last_x = None
        for name, points in zip(names, numeric, strict=True):
            inside = [(x, y) for x, y in points if a <= x < b and y is not None]
            if inside:
                x, y = inside[-1]
                last_x = x if last_x is None else max(last_x, x)
                values.append(f"{name + ' ' if name else ''}{fmt(y)}")
        if last_x is None:
            continue
        hits.append(Hit(column / count, 1 / count, f"{_at(last_x, timed)}: {', '.join(values)}"))
    return hits


def bar_figure(chart: Any, table: str) -> str:
    """A bar chart in a frame."""
    from dashsite.types.plot import PALETTE, _Plot, tick_labels, value_formatter, value_ticks

    categories, names, cells = chart._grid()
    fmt = value_formatter(chart.format, chart.unit)
    if chart.stacked:
        sums = [sum(v for v in row if v is not None and v > 0) for row in cells]
        lows = [sum(v for v in row if v is not None and v < 0) for row in cells]
        values = sums + lows
    else:
        values = [v for row in cells for v in row if v is not None]
    ticks = value_ticks(min([0.0, *values]), max([0.0, *values]), chart.format)
    labels = tick_labels(ticks, chart.format, chart.unit)
    plot_height = float(chart.height - 20)
    plot = _Plot(0, 10, PLOT_WIDTH, chart.height - 26, 0, max(len(categories), 1),
                 ticks[0], ticks[-1])  # fmt: skip
    parts = [
        f'<line x1="0" x2="{PLOT_WIDTH:.0f}" y1="{plot.y(v)}" y2="{plot.y(v)}" '
        'stroke="#d0d7de" stroke-width="1" class="chart-grid"/>'
        for v in ticks
    ]
    slot = (plot.right - plot.left) / max(len(categories), 1)
    zero = plot.y(0.0)
    hits, x_labels = [], []
    for c, (category, row) in enumerate(zip(categories, cells, strict=True)):
        x = plot.left + c * slot + slot * 0.1
        inner = slot * 0.8
        up = down = 0.0
        for s, value in enumerate(row):
            if value is None:
                continue
            if chart.stacked:
                base = up if value >= 0 else down
                top, bottom = plot.y(base + value), plot.y(base)
                up, down = (up + value, down) if value >= 0 else (up, down + value)
                bar_x, bar_w = x, inner
            else:
                top, bottom = plot.y(value), zero
                bar_w = inner / len(row)
                bar_x = x + s * bar_w
            parts.append(
                f'<rect x="{round(bar_x, 1)}" y="{min(top, bottom)}" width="{round(bar_w, 1)}" '
                f'height="{round(abs(bottom - top), 1)}" fill="{PALETTE[s % len(PALETTE)]}" '
                f'class="chart-bar chart-series-{s % len(PALETTE) + 1}"/>'
            )
        said = ", ".join(
            f"{n + ' ' if n else ''}{fmt(v)}"
            for n, v in zip(names, row, strict=True)
            if v is not None
        )
        hits.append(
            Hit(c * slot / PLOT_WIDTH, slot / PLOT_WIDTH, f"{category}: {said or 'no data'}")
        )
        x_labels.append(((c + 0.5) * slot / PLOT_WIDTH, category[:16]))
    notes = [_key(i, n) for i, n in enumerate(names)] if len(names) > 1 else []
    return frame(
        title=chart.title, summary=chart.summary(), width=chart.width, height=chart.height,
        plot_height=plot_height, gutter=10 + 7 * max(len(t) for t in labels),
        svg_parts=[_stroke(p) for p in parts],
        y_labels=[(plot.y(v) / plot_height, w) for v, w in zip(ticks, labels, strict=True)],
        x_labels=x_labels, notes=notes, hits=hits, table=table, kind="bar",
    )  # fmt: skip


def timeline_figure(chart: Any, table: str) -> str:
    """A status timeline in a frame: every span not OK at least 2 px wide, and a hit area."""
    from dashsite.types.formats import duration
    from dashsite.types.plot import _epoch, _Plot
    from dashsite.types.styles import LEVEL_COLORS

    bands = chart._bands()
    plot_height = float(chart.height - 20)
    plot = _Plot(
        0, 6, PLOT_WIDTH, chart.height - 22,
        _epoch(bands[0][0]) if bands else 0.0, _epoch(bands[-1][1]) if bands else 1.0, 0, 1,
    )  # fmt: skip
    span = (plot.x1 - plot.x0) or 1.0
    parts, marks, hits = [], [], []
    for start, stop, level in bands:
        a, b = (_epoch(start) - plot.x0) / span, (_epoch(stop) - plot.x0) / span
        parts.append(
            f'<rect x="{round(a * PLOT_WIDTH, 2)}" y="{plot.top}" '
            f'width="{max(round((b - a) * PLOT_WIDTH, 2), 0.5)}" '
            f'height="{round(plot.bottom - plot.top, 1)}" fill="{LEVEL_COLORS[level]}" '
            f'class="chart-band status-{level.slug}"/>'
        )
        said = (
            f"{level.slug} from {start:%Y-%m-%d %H:%M} to {stop:%Y-%m-%d %H:%M} UTC "
            f"({duration((stop - start).total_seconds())})"
        )
        if level.slug != "ok":
            marks.append(Mark(a, b - a, f"status-{level.slug}", said))
        hits.append(Hit(a, b - a, said))
    if len(hits) > HIT_COLUMNS:  # a flapping week: the spans that are not OK, first
        hits = [h for h in hits if not h.text.startswith("ok ")][:HIT_COLUMNS]
    x_labels, zone = _x_axis(plot, True) if bands else ([], "")
    return frame(
        title=chart.title, summary=chart.summary(), width=chart.width, height=chart.height,
        plot_height=plot_height, gutter=0, svg_parts=parts, x_labels=x_labels, zone=zone,
        hits=hits, marks=marks, table=table, kind="timeline",
    )  # fmt: skip
