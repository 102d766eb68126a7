"""A chart as one plain SVG: what mail gets (``inline_css=True``), rasterized to PNG there.

A page draws its charts in a frame (:mod:`.chart_frame`: words as HTML over a
stretched plot). A mail client keeps no stylesheet and (Gmail, Outlook) draws
no SVG, so ``dashsite mail`` turns this one self-contained SVG into a PNG: its
words are drawn in it, with inline attributes and no classes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from markupsafe import escape

from dashsite.core.levels import StatusLevel
from dashsite.core.xmltext import xml_text
from dashsite.types.plot import (
    DASHES,
    PALETTE,
    _draw_series,
    _edge_text,
    _epoch,
    _Plot,
    _text,
    nice_ticks,
    tick_labels,
    time_ticks,
    value_formatter,
    value_ticks,
)
from dashsite.types.renderables import format_value
from dashsite.types.styles import LEVEL_COLORS, MUTED


def line_svg(chart: Any) -> str:
    """A line or area chart (a :class:`~dashsite.LineChart`) as one SVG in a ``<figure>``."""
    lines, timed, _ = chart._prepared
    fmt = value_formatter(chart.format, chart.unit)
    numeric, xs, ticks, labels = chart._scale()
    left = 10 + 7 * max(len(t) for t in labels)
    plot = _Plot(
        left, 10, chart.width - 12, chart.height - 26,
        min(xs) if xs else 0.0, max(xs) if xs else 1.0, ticks[0], ticks[-1],
    )  # fmt: skip
    parts = _axes(plot, ticks, labels, timed)
    for name, value in dict(chart.thresholds).items():
        level = StatusLevel.parse(name)
        y = plot.y(float(value))
        parts.append(
            f'<line x1="{plot.left}" x2="{plot.right}" y1="{y}" y2="{y}" '
            f'stroke="{LEVEL_COLORS[level]}" stroke-dasharray="4 4"/>'
        )
        parts.append(_text(plot.right - 2, y - 3, f"{level.slug} {fmt(float(value))}", "end"))
    for x_value, words in chart._annotations_on(plot):
        x = plot.x(x_value)
        parts.append(
            f'<line x1="{x}" x2="{x}" y1="{plot.top}" y2="{plot.bottom}" stroke="{MUTED}" '
            'stroke-dasharray="2 2"/>'
        )
        parts.append(_text(x + 3, plot.top + 10, str(words), "start"))
    for index, points in enumerate(numeric):
        parts += _draw_series(plot, points, index, chart.area, True)
    if len(numeric) > 1:
        parts += _legend(plot, [line.name for line in lines])
    return _figure(chart.title, chart.summary(), chart.width, chart.height, parts)


def bar_svg(chart: Any) -> str:
    """A bar chart (a :class:`~dashsite.BarChart`) as one SVG in a ``<figure>``."""
    categories, names, cells = chart._grid()
    if chart.stacked:
        sums = [sum(v for v in row if v is not None and v > 0) for row in cells]
        lows = [sum(v for v in row if v is not None and v < 0) for row in cells]
        values = sums + lows
    else:
        values = [v for row in cells for v in row if v is not None]
    ticks = value_ticks(min([0.0, *values]), max([0.0, *values]), chart.format)
    labels = tick_labels(ticks, chart.format, chart.unit)
    left = 10 + 7 * max(len(t) for t in labels)
    plot = _Plot(left, 10, chart.width - 12, chart.height - 26, 0, max(len(categories), 1),
                 ticks[0], ticks[-1])  # fmt: skip
    parts = _axes(plot, ticks, labels, False)[: 2 * len(ticks)]
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
            if chart.stacked:
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
                f'height="{round(h, 1)}" fill="{colour}"{pattern}/>'
            )
        parts.append(_text(round(x + inner / 2, 1), plot.bottom + 16, category[:16]))
    if len(names) > 1:
        parts += _legend(plot, names)
    return _figure(chart.title, chart.summary(), chart.width, chart.height, parts)


def timeline_svg(chart: Any) -> str:
    """A status timeline (a :class:`~dashsite.StatusTimeline`) as one SVG in a ``<figure>``."""
    bands = chart._bands()
    plot = _Plot(
        8, 6, chart.width - 8, chart.height - 22,
        _epoch(bands[0][0]) if bands else 0.0, _epoch(bands[-1][1]) if bands else 1.0, 0, 1,
    )  # fmt: skip
    parts = []
    for start, stop, level in bands:
        x0, x1 = plot.x(_epoch(start)), plot.x(_epoch(stop))
        parts.append(
            f'<rect x="{x0}" y="{plot.top}" width="{max(round(x1 - x0, 1), 0.5)}" '
            f'height="{round(plot.bottom - plot.top, 1)}" fill="{LEVEL_COLORS[level]}">'
            f"<title>{escape(level.slug)} from {escape(format_value(start))}</title></rect>"
        )
    if bands:
        marks, pattern = time_ticks(plot.x0, plot.x1)
        for moment in marks:
            words = datetime.fromtimestamp(moment, UTC).strftime(pattern)
            parts.append(_edge_text(plot, plot.x(moment), plot.bottom + 15, words))
    return _figure(chart.title, chart.summary(), chart.width, chart.height, parts)


def _axes(plot: _Plot, ticks: list[float], labels: list[str], timed: bool) -> list[str]:
    parts = []
    for value, words in zip(ticks, labels, strict=True):
        y = plot.y(value)
        parts.append(
            f'<line x1="{plot.left}" x2="{plot.right}" y1="{y}" y2="{y}" stroke="#d0d7de"'
            ' stroke-width="1"/>'
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


def _legend(plot: _Plot, names: list[str]) -> list[str]:
    parts, x = [], plot.left + 4
    for index, name in enumerate(names):
        colour, dash = PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{x}" x2="{x + 18}" y1="{plot.top + 6}" y2="{plot.top + 6}" '
            f'stroke="{colour}" stroke-width="2"{dashed}/>'
        )
        parts.append(_text(x + 22, plot.top + 10, name, "start"))
        x += 30 + 6.5 * len(name)
    return parts


def _figure(title: str, summary: str, width: int, height: int, parts: list[str]) -> str:
    name = escape(title or "Chart")
    svg = xml_text(  # mail draws it with an XML parser
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{name}: {escape(summary)}"'
        ' style="max-width:100%;height:auto"'
        f"><title>{name}</title><desc>{escape(summary)}</desc>{''.join(parts)}</svg>"
    )
    caption = f"<figcaption>{name}</figcaption>" if title else ""
    return f'<figure style="margin:.5rem 0">{caption}{svg}</figure>'
