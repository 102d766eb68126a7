"""``Sparkline``: a tiny trend line as inline SVG, no JavaScript.

An email client that strips SVG still shows the text beside it (last, min,
max), so the trend stays readable everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import escape

from dashsite.core.errors import RenderError
from dashsite.core.levels import StatusLevel
from dashsite.core.xmltext import xml_text
from dashsite.types import styles
from dashsite.types.renderables import RenderType, format_value
from dashsite.types.stored import field_of, level_of

NEUTRAL_STROKE = "#0969da"
MAX_SIZE = 4000


MAX_DRAWN = 1e300
"""Beyond it a number is a gap: no axis spans it (the range of ±1e308 overflowed)."""


def as_number(value: object) -> float | None:
    """A finite number as float; anything else (None, a failed collector, text, a number
    past :data:`MAX_DRAWN` either way) is a gap."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer of more than 308 digits
        return None
    return number if -MAX_DRAWN <= number <= MAX_DRAWN else None


def _thinned(segment: list[tuple[float, float]], width: int) -> list[tuple[float, float]]:
    """A run of more points than its pixels can show, as each half-pixel column's first,
    lowest, highest and last point (in their order): a million values drew a 9.7 MB
    image of 120 pixels. A shorter run is left as it is."""
    if len(segment) <= 4 * width:
        return segment
    kept: list[tuple[float, float]] = []
    group: list[tuple[float, float]] = []
    for point in segment:
        if group and int(point[0] * 2) != int(group[0][0] * 2):
            kept += _extremes(group)
            group = []
        group.append(point)
    return kept + _extremes(group)


def _extremes(group: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(group) <= 4:
        return group
    low = min(range(len(group)), key=lambda i: group[i][1])
    high = max(range(len(group)), key=lambda i: group[i][1])
    return [group[i] for i in sorted({0, low, high, len(group) - 1})]


@dataclass(frozen=True, slots=True)
class Sparkline(RenderType):
    """A small line chart of ``values``.

    Anything that is not a finite number (``None``, NaN, a failed
    collector's stand-in, text) leaves a gap instead of failing, so a trend
    drawn from history survives the versions where its source was down.
    """

    values: Sequence[float | int | None]
    width: int = 120
    height: int = 24
    label: str = ""
    level: StatusLevel | None = None
    show_text: bool = True

    stored_fields = ("values", "width", "height", "label", "level")

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            size = getattr(self, name)
            if isinstance(size, bool) or not isinstance(size, int) or not 8 <= size <= MAX_SIZE:
                raise RenderError(
                    f"Sparkline {name} must be a whole number of pixels from 8 to {MAX_SIZE}, "
                    f"not {size!r}"
                )
        if self.level is not None:
            StatusLevel.parse(self.level)

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> Sparkline:
        """Stored values (anything but a number is a gap), sizes, label and level."""
        return cls(
            [
                v if isinstance(v, int | float) and not isinstance(v, bool) else None
                for v in field_of(stored, "values", list)
            ],
            field_of(stored, "width", int),
            field_of(stored, "height", int),
            field_of(stored, "label", str),
            None if stored.get("level") is None else level_of(stored),
        )

    def levels(self) -> Iterator[StatusLevel]:
        """The level given to the sparkline, if any."""
        if self.level is not None:
            yield StatusLevel.parse(self.level)

    def _numbers(self) -> list[float | None]:
        out: list[float | None] = []
        for value in self.values:
            out.append(as_number(value))
        return out

    def _segments(self, numbers: list[float | None]) -> list[list[tuple[float, float]]]:
        present = [n for n in numbers if n is not None]
        low, high = min(present), max(present)
        span = (high - low) or 1.0
        pad = 2.0
        step = (self.width - 2 * pad) / max(len(numbers) - 1, 1)
        segments: list[list[tuple[float, float]]] = [[]]
        for index, number in enumerate(numbers):
            if number is None:
                if segments[-1]:
                    segments.append([])
                continue
            x = pad + index * step
            y = self.height - pad - (number - low) / span * (self.height - 2 * pad)
            if high == low:
                y = self.height / 2
            segments[-1].append((round(x, 1), round(y, 1)))
        return [_thinned(segment, self.width) for segment in segments if segment]

    def render(self, *, inline_css: bool = False) -> str:
        """An ``<svg>`` with one polyline per unbroken run, plus a text summary."""
        numbers = self._numbers()
        present = [n for n in numbers if n is not None]
        colour = (
            styles.LEVEL_COLORS[StatusLevel.parse(self.level)]
            if self.level is not None
            else NEUTRAL_STROKE
        )
        label = self.label or "trend"
        if present:
            summary = (
                f"last {format_value(present[-1])}, min {format_value(min(present))}, "
                f"max {format_value(max(present))}"
            )
        else:
            summary = "no data"
        # In class mode the theme can recolour the line (dark mode); mail keeps the attribute.
        kind = StatusLevel.parse(self.level).slug if self.level is not None else "neutral"
        css = "" if inline_css else f' class="sparkline-line sparkline-{kind}"'
        shapes = []
        for segment in self._segments(numbers) if present else []:
            if len(segment) == 1:
                x, y = segment[0]
                shapes.append(f'<circle cx="{x}" cy="{y}" r="1.5" fill="{colour}"{css}/>')
            else:
                points = " ".join(f"{x},{y}" for x, y in segment)
                shapes.append(
                    f'<polyline points="{points}" fill="none" stroke="{colour}"{css} '
                    'stroke-width="1.5" stroke-linejoin="round" stroke-linecap="round"/>'
                )
        title = escape(f"{label}: {summary}")
        svg = xml_text(  # mail draws it with an XML parser
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
            f'viewBox="0 0 {self.width} {self.height}" role="img" aria-label="{title}">'
            f"<title>{title}</title>{''.join(shapes)}</svg>"
        )
        if not self.show_text:
            text = ""
        elif inline_css:
            text = f' <span style="{styles.MUTED_STYLE}">{escape(summary)}</span>'
        else:
            text = f'<span class="sparkline-text" aria-hidden="true">{escape(summary)}</span>'
        if inline_css:
            return f'<span style="vertical-align:middle">{svg}{text}</span>'
        return f'<span class="sparkline">{svg}{text}</span>'
