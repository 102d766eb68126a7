"""``VegaLite(spec)``: any Vega-Lite chart, drawn once when the page is built.

For what the built-in charts do not draw. Needs the optional extra
``dashsite[vega]`` (vl-convert: Vega-Lite compiled and drawn without a
browser or Node). The drawing is an image (``<img>`` of the SVG, or of a PNG
in mail), so nothing in a spec can run script on the page; the spec's
``description`` (or ``title``) is its text alternative.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dashsite.core.errors import RenderError
from dashsite.core.levels import StatusLevel
from dashsite.types.image import MAX_IMAGE_BYTES, MonitorImage
from dashsite.types.renderables import RenderType
from dashsite.types.stored import field_of

EXTRA = "dashsite[vega]"


def _converter() -> Any:
    try:
        import vl_convert
    except ImportError:
        raise RenderError(
            "VegaLite needs vl-convert, which is not installed",
            hint=f"pip install '{EXTRA}' (or draw it with LineChart, AreaChart or BarChart)",
        ) from None
    return vl_convert


def _describe(spec: Mapping[str, Any]) -> str:
    for key in ("description", "title"):
        value = spec.get(key)
        if isinstance(value, Mapping):
            value = value.get("text")
        if isinstance(value, list):
            value = " ".join(str(v) for v in value)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "Chart"


@dataclass(frozen=True, slots=True)
class VegaLite(RenderType):
    """A Vega-Lite ``spec`` (a dict), drawn as SVG (PNG in mail) when first rendered."""

    spec: Mapping[str, Any]
    _drawn: dict[str, bytes] = field(default_factory=dict, init=False, repr=False, compare=False)

    kind = "VegaLite"

    def __post_init__(self) -> None:
        if not isinstance(self.spec, Mapping):
            raise RenderError("VegaLite takes a Vega-Lite spec (a dict)")
        try:
            json.dumps(self.spec)
        except (TypeError, ValueError) as exc:
            raise RenderError(f"VegaLite spec is not JSON: {exc}") from None

    def to_stored(self) -> dict[str, Any]:
        """The spec, as given."""
        return {"spec": dict(self.spec)}

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> VegaLite:
        """A stored spec: a dict."""
        return cls(field_of(stored, "spec", dict))

    @property
    def description(self) -> str:
        """The text alternative: the spec's ``description``, else its ``title``."""
        return _describe(self.spec)

    def levels(self) -> Iterator[StatusLevel]:
        """Charts carry no status of their own."""
        return iter(())

    def _draw(self, kind: str) -> bytes:
        if kind not in self._drawn:
            converter = _converter()
            try:
                if kind == "svg":
                    image = converter.vegalite_to_svg(vl_spec=dict(self.spec)).encode("utf-8")
                else:
                    image = bytes(converter.vegalite_to_png(vl_spec=dict(self.spec), scale=2))
            except (ValueError, RuntimeError) as exc:
                first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else "?"
                raise RenderError(
                    f"VegaLite spec could not be drawn: {first}",
                    hint="check the spec in the Vega-Lite editor (vega.github.io/editor)",
                ) from None
            self._drawn[kind] = image
        return self._drawn[kind]

    def render(self, *, inline_css: bool = False) -> str:
        """An ``<img>``: the SVG on pages, a PNG in mail (clients drop SVG)."""
        image = MonitorImage(
            data=self._draw("png" if inline_css else "svg"),
            alt=self.description,
            max_bytes=4 * MAX_IMAGE_BYTES,
        )
        html = image.render(inline_css=inline_css)
        if inline_css:
            return html
        return f'<figure class="chart chart-vegalite">{html}</figure>'
