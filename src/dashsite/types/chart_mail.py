"""A chart as one plain SVG: what mail gets (``inline_css=True``), rasterized to PNG there.

A page draws its charts in a frame (:mod:`.chart_frame`: words as HTML over a
stretched plot). A mail client keeps no stylesheet and (Gmail, Outlook) draws
no SVG, so ``dashsite mail`` turns this one self-contained SVG into a PNG,
shown at the SVG's width or shrunk to the mail's column, whichever is less.

So the chart is drawn at the width of that column on a phone
(:data:`MAIL_WIDTH`), not at the page's 640: shrunk from 640 into a phone's
310 px, 12-unit text came out 6 px tall. Drawn at 340 its text is
:data:`TEXT_SIZE` px on a 390 px phone, and 11 px or more down to a 360 px
one. Inside the image go only the ticks, spaced to fit their width; what
used to collide there (the legend, threshold and annotation labels) and the
time zone are words under it, in HTML, like the page's chart notes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from markupsafe import escape

from dashsite.core.levels import StatusLevel
from dashsite.core.xmltext import xml_text
from dashsite.types.plot import (
    DASHES,
    PALETTE,
    _draw_series,
    _epoch,
    _Plot,
    nice_ticks,
    tick_labels,
    time_ticks,
    value_formatter,
    value_ticks,
)
from dashsite.types.renderables import format_value
from dashsite.types.styles import LEVEL_COLORS, MUTED

MAIL_WIDTH = 340
"""The widest a chart is drawn for mail: the mail's column on a 390 px screen (390 less
``email.html``'s 8 px margins, 1 px border and 16 px padding on each side)."""
MIN_HEIGHT = 180
"""A chart narrowed to :data:`MAIL_WIDTH` keeps at least this height (or its own, if less)."""
TEXT_SIZE = 13
"""The size of the text drawn in a mail chart, in its own units (= px at :data:`MAIL_WIDTH`)."""
CHAR_WIDTH = 0.62
"""About how wide a character is, in ems (digits of the usual sans fonts): to fit labels."""
LINE = TEXT_SIZE + 3
"""The height of a line of text drawn over the plot."""
_FONT = 'font-family="system-ui,-apple-system,Segoe UI,Roboto,DejaVu Sans,sans-serif"'
_NOTES = "margin:4px 0 0;font-size:12px;line-height:1.4;color:#57606a;"


def mail_size(width: int, height: int) -> tuple[int, int]:
    """The size a chart of ``width`` by ``height`` is drawn at for mail."""
    if width <= MAIL_WIDTH:
        return width, height
    return MAIL_WIDTH, max(round(height * MAIL_WIDTH / width), min(height, MIN_HEIGHT))


def _label_width(words: str) -> float:
    return len(words) * CHAR_WIDTH * TEXT_SIZE


def _text(x: float, y: float, words: str, anchor: str = "middle") -> str:
    return (
        f'<text x="{x}" y="{y}" text-anchor="{anchor}" font-size="{TEXT_SIZE}" {_FONT}'
        f' fill="{MUTED}">{escape(words)}</text>'
    )


def _edge_text(plot: _Plot, x: float, y: float, words: str) -> str:
    """An x label centred on ``x``, or held inside the plot at either end."""
    half = _label_width(words) / 2
    if x - half < plot.left - 4:
        return _text(max(x, 1.0), y, words, "start")
    if x + half > plot.right + 4:
        return _text(x, y, words, "end")
    return _text(x, y, words)


def _fitted(plot: _Plot, make: Callable[[int], list[tuple[float, str]]]) -> list[tuple[float, str]]:
    """The most x labels (``make(count)``: x value and words) that fit side by side."""
    room = plot.right - plot.left
    for count in range(6, 1, -1):
        labels = make(count)
        widest = max((_label_width(words) for _, words in labels), default=0.0)
        if len(labels) * (widest + TEXT_SIZE) <= room:
            return labels
    return make(2)[:2]


def _time_labels(plot: _Plot) -> list[tuple[float, str]]:
    def make(count: int) -> list[tuple[float, str]]:
        marks, pattern = time_ticks(plot.x0, plot.x1, count)
        if not marks:  # a span shorter than a tick step: its two ends
            marks, pattern = sorted({plot.x0, plot.x1}), "%H:%M:%S"
        return [(m, datetime.fromtimestamp(m, UTC).strftime(pattern)) for m in marks]

    return _fitted(plot, make)


def _number_labels(plot: _Plot) -> list[tuple[float, str]]:
    def make(count: int) -> list[tuple[float, str]]:
        return [
            (v, format_value(int(v)))
            for v in nice_ticks(plot.x0, plot.x1, count)
            if plot.x0 <= v <= plot.x1 and v == int(v)
        ]

    return _fitted(plot, make)


def _plot(
    width: int,
    height: int,
    labels: Sequence[str],
    x: tuple[float, float],
    y: tuple[float, float],
    above: int = 0,
) -> _Plot:
    """The plot area: a gutter for the widest y label, a strip under it for the x labels,
    and ``above`` lines of text over it."""
    left = 8 + max((_label_width(t) for t in labels), default=0.0) + 6 if labels else 8
    top = 8 + above * LINE
    return _Plot(round(left, 1), top, width - 8, height - TEXT_SIZE - 10, x[0], x[1], y[0], y[1])


def _y_axis(plot: _Plot, ticks: list[float], labels: list[str]) -> list[str]:
    parts = []
    for value, words in zip(ticks, labels, strict=True):
        y = plot.y(value)
        parts.append(
            f'<line x1="{plot.left}" x2="{plot.right}" y1="{y}" y2="{y}" stroke="#d0d7de"'
            ' stroke-width="1"/>'
        )
        parts.append(_text(plot.left - 6, round(y + TEXT_SIZE * 0.35, 1), words, "end"))
    return parts


def _x_axis(plot: _Plot, labels: list[tuple[float, str]]) -> list[str]:
    y = plot.bottom + TEXT_SIZE + 4
    return [_edge_text(plot, plot.x(value), y, words) for value, words in labels]


def _key(colour: str, style: str = "solid") -> str:
    """A short line in ``colour`` before the words it keys (a series, a threshold)."""
    return (
        '<span style="display:inline-block;width:1.4em;vertical-align:middle;'
        f'margin-right:.3em;border-top:2px {style} {colour};"></span>'
    )


def line_svg(chart: Any) -> str:
    """A line or area chart (a :class:`~dashsite.LineChart`) as one SVG in a ``<figure>``."""
    lines, timed, _ = chart._prepared
    fmt = value_formatter(chart.format, chart.unit)
    numeric, xs, ticks, labels = chart._scale()
    width, height = mail_size(chart.width, chart.height)
    x_range = (min(xs), max(xs)) if xs else (0.0, 1.0)
    gap = chart._no_data()
    mark = gap.mark if gap is not None else ()
    plot = _plot(width, height, labels, x_range, (ticks[0], ticks[-1]), above=len(mark))
    parts = _y_axis(plot, ticks, labels)
    if gap is not None:  # shaded from where the data stops, said over the right edge
        x = plot.x(min(max(gap.since, plot.x0), plot.x1))
        parts.append(
            f'<rect x="{x}" y="{plot.top}" width="{round(plot.right - x, 1)}" '
            f'height="{round(plot.bottom - plot.top, 1)}" fill="{MUTED}" fill-opacity="0.14"/>'
        )
        parts += [
            _text(plot.right, 8 + (n + 1) * LINE - 4, words, "end") for n, words in enumerate(mark)
        ]
    parts += _x_axis(plot, _time_labels(plot) if timed else _number_labels(plot))
    notes = []
    if len(numeric) > 1:
        notes += [
            _key(PALETTE[i % len(PALETTE)], "dashed" if DASHES[i % len(DASHES)] else "solid")
            + str(escape(line.name))
            for i, line in enumerate(lines)
        ]
    for name, value in dict(chart.thresholds).items():
        level = StatusLevel.parse(name)
        y = plot.y(float(value))
        parts.append(
            f'<line x1="{plot.left}" x2="{plot.right}" y1="{y}" y2="{y}" '
            f'stroke="{LEVEL_COLORS[level]}" stroke-dasharray="4 4"/>'
        )
        notes.append(
            f"{_key(LEVEL_COLORS[level], 'dashed')}{escape(level.slug)} at "
            f"{escape(fmt(float(value)))}"
        )
    for x_value, words in chart._annotations_on(plot):
        x = plot.x(x_value)
        parts.append(
            f'<line x1="{x}" x2="{x}" y1="{plot.top}" y2="{plot.bottom}" stroke="{MUTED}" '
            'stroke-dasharray="2 2"/>'
        )
        notes.append(f"{_key(MUTED, 'dotted')}{escape(words)} ({escape(_at(x_value, timed))})")
    for index, points in enumerate(numeric):
        parts += _draw_series(plot, points, index, chart.area, True)
    zone = ["Times in UTC"] if timed else []
    return _figure(chart.title, chart.summary(), width, height, parts, zone + notes)


def _at(x: float, timed: bool) -> str:
    if timed:
        return datetime.fromtimestamp(x, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return format_value(int(x) if x == int(x) else x)


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
    width, height = mail_size(chart.width, chart.height)
    plot = _plot(width, height, labels, (0, max(len(categories), 1)), (ticks[0], ticks[-1]))
    parts = _y_axis(plot, ticks, labels)
    slot = (plot.right - plot.left) / max(len(categories), 1)
    fits = max(1, int(slot * 0.95 / (CHAR_WIDTH * TEXT_SIZE)))
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
        words = category if len(category) <= fits else category[: max(fits - 1, 1)] + "…"
        parts.append(_text(round(x + inner / 2, 1), plot.bottom + TEXT_SIZE + 4, words))
    notes = (
        [_key(PALETTE[s % len(PALETTE)]) + str(escape(n)) for s, n in enumerate(names)]
        if len(names) > 1
        else []
    )
    return _figure(chart.title, chart.summary(), width, height, parts, notes)


def timeline_svg(chart: Any) -> str:
    """A status timeline (a :class:`~dashsite.StatusTimeline`) as one SVG in a ``<figure>``."""
    bands = chart._bands()
    width, height = mail_size(chart.width, chart.height)
    x_range = (_epoch(bands[0][0]), _epoch(bands[-1][1])) if bands else (0.0, 1.0)
    plot = _plot(width, height, [], x_range, (0, 1))
    parts = []
    for start, stop, level in bands:
        x0, x1 = plot.x(_epoch(start)), plot.x(_epoch(stop))
        parts.append(
            f'<rect x="{x0}" y="{plot.top}" width="{max(round(x1 - x0, 1), 0.5)}" '
            f'height="{round(plot.bottom - plot.top, 1)}" fill="{LEVEL_COLORS[level]}">'
            f"<title>{escape(level.slug)} from {escape(format_value(start))}</title></rect>"
        )
    if bands:
        parts += _x_axis(plot, _time_labels(plot))
    notes = ["Times in UTC"] if bands else []
    return _figure(chart.title, chart.summary(), width, height, parts, notes)


def _figure(
    title: str, summary: str, width: int, height: int, parts: list[str], notes: Sequence[str]
) -> str:
    """The ``<figure>``: caption, the SVG, and the notes (HTML, escaped already) under it."""
    name = escape(title or "Chart")
    svg = xml_text(  # mail draws it with an XML parser
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{name}: {escape(summary)}"'
        ' style="max-width:100%;height:auto"'
        f"><title>{name}</title><desc>{escape(summary)}</desc>{''.join(parts)}</svg>"
    )
    caption = f"<figcaption>{name}</figcaption>" if title else ""
    kept = [
        f'<span style="white-space:nowrap;">{note}</span>' for note in notes
    ]  # never broken inside
    said = f'<p style="{_NOTES}">{" · ".join(kept)}</p>' if notes else ""
    return f'<figure style="margin:.5rem 0">{caption}{svg}{said}</figure>'
