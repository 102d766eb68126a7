from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from dashsite import MonitorImage, RenderError
from dashsite.types.image import sniff_image_type

from htmltree import parse

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
SAFE_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4" fill="url(#g)"/><use href="#r"/></svg>'


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 20, "image/jpeg"),
        (b"GIF89a" + b"\0" * 20, "image/gif"),
        (b"RIFF\x10\0\0\0WEBPVP8 " + b"\0" * 20, "image/webp"),
        (SAFE_SVG, "image/svg+xml"),
        (b'<?xml version="1.0"?>\n' + SAFE_SVG, "image/svg+xml"),
    ],
)
def test_type_is_sniffed_from_bytes(data: bytes, mime: str) -> None:
    assert sniff_image_type(data) == mime
    image = MonitorImage(data=data, alt="chart")
    img = parse(image.render()).find("img")
    assert img.attrs["src"].startswith(f"data:{mime};base64,")
    assert base64.b64decode(img.attrs["src"].split(",", 1)[1]) == data
    assert img.attrs["alt"] == "chart"


def test_unknown_bytes_are_refused() -> None:
    with pytest.raises(RenderError, match="not PNG, JPEG"):
        MonitorImage(data=b"hello world")


def test_from_path_and_size_cap(tmp_path: Path) -> None:
    path = tmp_path / "logo.bin"
    path.write_bytes(PNG)
    assert MonitorImage(path=path).mime_type == "image/png"
    with pytest.raises(RenderError, match="over the 10-byte limit"):
        MonitorImage(path=path, max_bytes=10)
    with pytest.raises(RenderError, match="over the 10-byte limit"):
        MonitorImage(data=PNG, max_bytes=10)
    with pytest.raises(RenderError, match="cannot read image"):
        MonitorImage(path=tmp_path / "missing.png")
    # Only a regular file: /dev/zero filled the memory of the process, /dev/stdin (or a
    # FIFO nobody writes) waited for ever.
    os.mkfifo(tmp_path / "fifo")
    for device in ("/dev/zero", tmp_path / "fifo", tmp_path):
        with pytest.raises(RenderError, match="not a regular file"):
            MonitorImage(path=device)
    with pytest.raises(RenderError, match="read from the working folder") as relative:
        MonitorImage(path="no-such-logo.png")
    assert "Path(__file__).with_name" in str(relative.value)


def test_exactly_one_source_and_a_positive_size() -> None:
    with pytest.raises(RenderError, match="Provide either data="):
        MonitorImage()
    with pytest.raises(RenderError, match="not both"):
        MonitorImage(data=PNG, path="x.png")
    for size in (0, -1, 2.5, True):
        with pytest.raises(RenderError, match="width must be positive"):
            MonitorImage(data=PNG, width=size)
    with pytest.raises(RenderError, match="height must be positive"):
        MonitorImage(data=PNG, height=-3)


@pytest.mark.parametrize(
    "svg",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><s:script xmlns:s="http://www.w3.org/2000/svg">x</s:script></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect onClick="x()"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><image xlink:href="http://evil/x.png"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><text>x</text></a></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><use href="https://evil/sprite.svg#a"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(http://evil/a)"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import "http://evil/x.css";</style></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div/></foreignObject></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><a><set attributeName="href" to="javascript:alert(1)"/></a></svg>',
        b'<!DOCTYPE svg [<!ENTITY x "boom">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
        b'<?xml-stylesheet href="http://evil/x.css"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><style>@\\69mport "http://evil/x.css";</style></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:\\75rl(http://evil/a)"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><style>rect{fill:\\75 rl(http://e/a)}</style></svg>',
        # XLink under any prefix, not only "xlink:" (found by a hostile try)
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink"><a x:href="javascript:alert(1)"><text>x</text></a></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink"><use x:href="http://evil.example/s.svg#a"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink"><image x:href="http://evil.example/t.png"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink"><a><set attributeName="x:href" to="javascript:alert(1)"/></a></svg>',
    ],
)
def test_unsafe_svg_is_refused(svg: bytes) -> None:
    with pytest.raises(RenderError, match="SVG image refused"):
        MonitorImage(data=svg)


def test_malformed_svg_is_refused() -> None:
    with pytest.raises(RenderError, match="not well-formed"):
        MonitorImage(data=b'<svg xmlns="http://www.w3.org/2000/svg"><g></svg>')


def test_inline_mode_and_escaped_alt() -> None:
    img = parse(MonitorImage(data=PNG, alt='"><script>', width=10).render(inline_css=True)).find(
        "img"
    )
    assert img.attrs["alt"] == '"><script>'
    assert img.attrs["width"] == "10"
    assert "max-width" in (img.attrs["style"] or "")


def test_a_backslash_in_svg_text_is_fine() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><text>C:\\logs\\app</text></svg>'
    assert MonitorImage(data=svg).mime_type == "image/svg+xml"


def test_data_that_is_not_bytes_is_a_render_error_saying_so() -> None:
    with pytest.raises(RenderError, match="data must be bytes, not str"):  # was a TypeError
        MonitorImage(data="<svg/>")  # type: ignore[arg-type]
