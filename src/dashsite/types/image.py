"""``MonitorImage``: an image embedded as a data URI, sniffed and checked.

The type comes from the bytes, never from a file name. SVG is parsed with
expat and refused if it could run script or fetch anything: ``<script>``,
``<foreignObject>``, ``on*`` handlers, a DOCTYPE or entity, processing
instructions, or any reference that does not point inside the document.
"""

from __future__ import annotations

import base64
import re
import stat
import xml.parsers.expat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import escape

from dashsite.core.errors import RenderError
from dashsite.core.levels import StatusLevel
from dashsite.types.renderables import RenderType
from dashsite.types.stored import StoredDataError, field_of, size_of

MAX_IMAGE_BYTES = 2 * 1024 * 1024
"""Images larger than this are refused: they bloat pages and emails."""

_FORBIDDEN_SVG_ELEMENTS = frozenset({"script", "foreignobject", "iframe", "embed", "object"})
_HREF_ATTRIBUTES = frozenset({"href", "src"})
"""By local name: ``xlink:href``, and ``x:href`` with any prefix bound to XLink, too."""
_EXTERNAL_URL = re.compile(r"url\(\s*['\"]?\s*(?!#)", re.IGNORECASE)


def sniff_image_type(data: bytes) -> str:
    """The MIME type of ``data`` from its magic bytes; ``RenderError`` if unknown."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<svg", b"<?xml", b"<!--", b"<!doctype svg")) and b"<svg" in data.lower():
        return "image/svg+xml"
    raise RenderError(
        "image data is not PNG, JPEG, GIF, WebP or SVG",
        hint="pass the bytes of one of those formats",
    )


def check_svg(data: bytes) -> None:
    """Parse ``data`` as SVG; ``RenderError`` if it is malformed or unsafe."""
    problems: list[str] = []
    parser = xml.parsers.expat.ParserCreate()

    styles_open = 0

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal styles_open
        local = tag.rsplit(":", 1)[-1].lower()
        styles_open += local == "style"
        if local in _FORBIDDEN_SVG_ELEMENTS:
            problems.append(f"<{tag}> element")
        for name, value in attrs.items():
            lowered = name.lower()
            if lowered.rsplit(":", 1)[-1].startswith("on"):
                problems.append(f"event handler attribute {name}")
            elif lowered.rsplit(":", 1)[-1] in _HREF_ATTRIBUTES and not value.strip().startswith(
                "#"
            ):
                problems.append(f"external reference {name}={value[:40]!r}")
            elif _EXTERNAL_URL.search(value):
                problems.append(f"external url() in {name}")
            elif lowered == "style" and "\\" in value:
                problems.append(f"CSS escape in {name} (it can hide url() or @import)")
            elif (
                local in {"set", "animate"}
                and lowered == "attributename"
                and value.strip().lower().rsplit(":", 1)[-1] in _HREF_ATTRIBUTES
            ):
                problems.append(f"<{tag}> rewriting {value}")

    def end(tag: str) -> None:
        nonlocal styles_open
        styles_open -= tag.rsplit(":", 1)[-1].lower() == "style"

    def text(data: str) -> None:
        if _EXTERNAL_URL.search(data) or "@import" in data.lower():
            problems.append("external url() or @import in text")
        elif styles_open and "\\" in data:
            problems.append("CSS escape in <style> (it can hide url() or @import)")

    def refuse(what: str) -> Callable[..., None]:
        def handler(*_: object) -> None:
            problems.append(what)

        return handler

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = refuse("DOCTYPE declaration")
    parser.EntityDeclHandler = refuse("entity declaration")
    parser.ProcessingInstructionHandler = refuse("processing instruction")
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise RenderError(f"SVG image is not well-formed XML: {exc}") from None
    if problems:
        raise RenderError(
            f"SVG image refused: {problems[0]}",
            hint="remove scripts, event handlers and external references from the SVG",
        )


@dataclass(frozen=True, slots=True)
class MonitorImage(RenderType):
    """An image from ``data`` (bytes) or ``path``, rendered as an ``<img>``."""

    data: bytes | None = None
    path: str | Path | None = None
    alt: str = ""
    width: int | None = None
    height: int | None = None
    max_bytes: int = MAX_IMAGE_BYTES

    def __post_init__(self) -> None:
        if self.data is None and self.path is None:
            raise RenderError("MonitorImage: Provide either data= (bytes) or path=")
        if self.data is not None and self.path is not None:
            raise RenderError("MonitorImage: give data= or path=, not both")
        if self.data is not None and not isinstance(self.data, bytes | bytearray):
            raise RenderError(
                f"MonitorImage: data must be bytes, not {type(self.data).__name__}",
                hint="give the image's bytes (open(..., 'rb').read(), or .encode() for SVG text)",
            )
        for name, size in (("width", self.width), ("height", self.height)):
            if size is not None and (
                isinstance(size, bool) or not isinstance(size, int) or size <= 0
            ):
                raise RenderError(
                    f"MonitorImage: {name} must be positive whole pixels, not {size!r}"
                )
        if self.data is None:
            assert self.path is not None
            source = Path(self.path)
            try:
                found = source.stat()
                if not stat.S_ISREG(found.st_mode):  # /dev/stdin waited for ever, /dev/zero
                    raise RenderError("cannot read image: not a regular file", path=source)
                if found.st_size > self.max_bytes:
                    self._too_big(found.st_size)
                with source.open("rb") as file:  # at most one byte past the limit: a device
                    data = file.read(self.max_bytes + 1)  # or a file still growing says 0
                if len(data) > self.max_bytes:
                    self._too_big(len(data))
                object.__setattr__(self, "data", data)
            except OSError as exc:
                raise RenderError(
                    f"cannot read image: {exc.strerror}",
                    path=source,
                    hint=""
                    if source.is_absolute()
                    else f"a relative path is read from the working folder ({Path.cwd()}): "
                    "give Path(__file__).with_name(...) for a file beside dashboard.py",
                ) from None
        assert self.data is not None
        if len(self.data) > self.max_bytes:
            self._too_big(len(self.data))
        if sniff_image_type(self.data) == "image/svg+xml":
            check_svg(self.data)

    def _too_big(self, size: int) -> None:
        raise RenderError(
            f"image is {size:,} bytes, over the {self.max_bytes:,}-byte limit",
            path=self.path,
            hint="shrink the image or raise max_bytes",
        )

    @property
    def mime_type(self) -> str:
        """The sniffed MIME type, e.g. ``image/png``."""
        assert self.data is not None
        return sniff_image_type(self.data)

    def data_uri(self) -> str:
        """``data:image/png;base64,…``"""
        assert self.data is not None
        return f"data:{self.mime_type};base64,{base64.b64encode(self.data).decode('ascii')}"

    def to_stored(self) -> dict[str, Any]:
        """The bytes as base64 (whether they came from ``data`` or ``path``), alt and size."""
        assert self.data is not None
        return {
            "data": base64.b64encode(self.data).decode("ascii"),
            "alt": self.alt,
            "width": self.width,
            "height": self.height,
        }

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> MonitorImage:
        """The stored image, its bytes checked again as a new one's would be."""
        try:
            data = base64.b64decode(field_of(stored, "data", str), validate=True)
        except (ValueError, TypeError) as exc:
            raise StoredDataError(f"MonitorImage.data is not base64: {exc}") from None
        return cls(
            data=data,
            alt=field_of(stored, "alt", str),
            width=size_of(stored, "width"),
            height=size_of(stored, "height"),
        )

    def levels(self) -> Iterator[StatusLevel]:
        """Images carry no status."""
        return iter(())

    def render(self, *, inline_css: bool = False) -> str:
        """An ``<img>`` with the image inline as a data URI."""
        size = "".join(
            f' {name}="{int(value)}"'
            for name, value in (("width", self.width), ("height", self.height))
            if value is not None
        )
        css = ' style="max-width:100%;height:auto"' if inline_css else ' class="monitor-image"'
        return f'<img src="{self.data_uri()}" alt="{escape(self.alt)}"{size}{css}>'
