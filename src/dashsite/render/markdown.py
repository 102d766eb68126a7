"""Markdown → HTML for ``template.md`` (after Jinja2 has run), with safe links."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

import markdown
from markdown.extensions import Extension
from markdown.extensions.toc import TocExtension
from markdown.extensions.toc import slugify as toc_slugify
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

from dashsite.render.sanitise import sanitise_markdown_html

_MARKDOWN_CHARACTERS = r"\\`*_{}\[\]()#+\-.!|~=\r\n"
"""What Markdown may read as syntax (``=``, a line break: a heading, a table row)."""
_A_REFERENCE = r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);"
_MARKUP_OR_SYNTAX = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<[^>]*>"  # tags, comments, CDATA: as they are
    rf"|{_A_REFERENCE}|([{_MARKDOWN_CHARACTERS}])",  # character references too
    re.DOTALL,
)
_SYNTAX = re.compile(rf"{_A_REFERENCE}|([{_MARKDOWN_CHARACTERS}])")  # a reference: as it is


def _ref(character: str) -> str:
    """The reference dashsite writes for a character: ``&#X5B;`` (uppercase, a form
    authors do not type, so :func:`markdown_to_html` knows its own in code)."""
    return f"&#X{ord(character):X};"


_QUOTED = re.compile(r'"[^"]*"|\'[^\']*\'')


def literal_in_markdown(html: str) -> str:
    """HTML drawn from data, to stand in a Markdown text as it is: each Markdown syntax
    character of its text written as a character reference (``&#X21;`` for ``!``, the
    form :func:`data_in_markdown` writes).

    A browser shows the same characters; Markdown sees no link, image, emphasis,
    heading, list or table row in them (nor a line break: the HTML is one line),
    whether it stands as a block or inline, or in a cell of the template's own
    table. Tags, their attributes and character references already there are left
    alone.
    """
    return _MARKUP_OR_SYNTAX.sub(_literal, html)


def _literal(match: re.Match[str]) -> str:
    found = match.group(1)
    if found is not None:
        return _ref(found)
    tag = match.group(0)
    if tag.startswith("<!"):
        return tag  # a comment, CDATA: as they are
    # A tag as it is, but for its attributes' values: Markdown reads syntax in them too
    # (an image in an alt), and a line break ends the HTML's line. HTML reads a
    # reference there as the character.
    return _QUOTED.sub(lambda q: _SYNTAX.sub(_reference, q.group(0)), tag)


def _reference(match: re.Match[str]) -> str:
    found = match.group(1)
    return match.group(0) if found is None else _ref(found)


_SAFE_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)", re.IGNORECASE)
_ALLOWED_SCHEMES = ("http:", "https:", "mailto:", "tel:")


def safe_url(url: str) -> bool:
    """Relative URLs and http(s)/mailto/tel only: no ``javascript:`` or ``data:``.

    ``url`` is an attribute value as Python-Markdown keeps it, character
    references undecoded: they are decoded first, as the browser will.
    """
    compact = re.sub(r"[\x00-\x20]", "", html.unescape(url))
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


THEME_IDS = frozenset(
    {
        "main",
        "status-title",
        "incidents-title",
        "changes-title",
        "collector-errors-title",
        "scheduled-title",
    }
)
"""Ids the built-in dashboard page already has: a ``## Main`` of a ``template.md`` must not
take the skip link's target (the toc extension would give it ``id="main"``)."""


def _heading_id(value: str, separator: str) -> str:
    made = toc_slugify(value, separator)
    return f"{made}{separator}section" if made in THEME_IDS else made


EXTENSIONS: list[str | Extension] = [
    "tables",
    "fenced_code",
    TocExtension(slugify=_heading_id),
    "sane_lists",
]


_CODE = re.compile(r"(<code[^>]*>)(.*?)(</code>)", re.DOTALL)
_OURS_ESCAPED = re.compile(r"&amp;(#X[0-9A-F]+;)")
"""A reference dashsite wrote (``&#X5B;``: uppercase, a form authors do not type), that
Markdown escaped again inside code."""
_DATA_CHARACTERS = re.compile(rf"[&<>\"'{_MARKDOWN_CHARACTERS}]")


def data_in_markdown(text: str) -> str:
    """Plain text (a collector's value) to stand in a Markdown text as it is: HTML's
    special characters and Markdown's each written as a reference (``&#X5B;``), which a
    browser shows as the character, in text and attributes alike, and Markdown reads
    as no syntax. Inside code, where Markdown escapes ``&`` again, :func:`markdown_to_html`
    gives them back; inside a script a browser reads none, so data never becomes code."""
    return _DATA_CHARACTERS.sub(lambda m: _ref(m[0]), text)


def markdown_to_html(text: str) -> str:
    """A ``template.md``'s Markdown with tables, fenced code and heading ids; unsafe link
    schemes removed.

    A value's characters came as references (:func:`data_in_markdown`); in code,
    which Markdown escapes again, they are unescaped once, so the code shows the value.
    The author's own references (any other form) stay as written.
    """
    converter = markdown.Markdown(
        extensions=[*EXTENSIONS, _LinkGuardExtension()], output_format="html"
    )
    html = converter.convert(text)
    if "&amp;#X" in html:
        html = _CODE.sub(lambda m: m[1] + _OURS_ESCAPED.sub(r"&\1", m[2]) + m[3], html)
    return html


def markdown_filter(text: object) -> Markup:
    """``{{ notes | markdown }}``: a value rendered as Markdown on purpose.

    Values in a ``template.md`` are plain text by default; this filter opts
    one in. Raw HTML in it is escaped, and the result is sanitised with an
    allow-list (:mod:`dashsite.sanitise`), so no spelling of ``javascript:``
    survives as a link.
    """
    converter = markdown.Markdown(
        extensions=[*EXTENSIONS, _LinkGuardExtension(), _NoRawHtml()], output_format="html"
    )
    clean = sanitise_markdown_html(converter.convert(str(text)))
    return Markup(clean)  # noqa: S704 - raw HTML removed, then sanitised with an allow-list


class _NoRawHtml(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
