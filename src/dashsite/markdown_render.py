"""Markdown → HTML for ``template.md`` (after Jinja2 has run), with safe links."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

_SAFE_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)", re.IGNORECASE)
_ALLOWED_SCHEMES = ("http:", "https:", "mailto:", "tel:")


def safe_url(url: str) -> bool:
    """Relative URLs and http(s)/mailto/tel only: no ``javascript:`` or ``data:``."""
    compact = re.sub(r"[\x00-\x20]", "", url)
    match = _SAFE_SCHEME.match(compact)
    return match is None or match.group(0).lower() in _ALLOWED_SCHEMES


class _LinkGuard(Treeprocessor):
    def run(self, root: ET.Element) -> None:
        for element in root.iter():
            for name in [key for key in element.attrib if key.lower().startswith("on")]:
                del element.attrib[name]
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value is not None and not safe_url(value):
                    element.set(attribute, "#unsafe-link-removed")


class _LinkGuardExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_LinkGuard(md), "dashsite-link-guard", 0)


EXTENSIONS: list[str | Extension] = ["tables", "fenced_code", "toc", "sane_lists"]


def markdown_to_html(text: str) -> str:
    """Markdown with tables, fenced code and heading ids; unsafe link schemes removed."""
    converter = markdown.Markdown(
        extensions=[*EXTENSIONS, _LinkGuardExtension()], output_format="html"
    )
    return converter.convert(text)
