"""Rendered Markdown from untrusted text, cleaned with an allow-list (nh3, i.e. Ammonia).

Python-Markdown leaves character references in attributes as written, so
``[x](&#106;avascript:…)`` or ``[x](java&#x09;script:…)`` reach the page as
links a browser decodes to ``javascript:``. Checking the source text with
patterns misses such spellings; an HTML parser that decodes the attribute
as a browser does, then keeps only allowed tags, attributes and URL schemes,
does not. That is nh3: the Python binding of the maintained Ammonia
sanitiser (html5ever underneath), and fast enough to run on every value.
"""

from __future__ import annotations

import nh3

URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
"""Relative URLs are kept too; everything else (``javascript:``, ``data:``) is dropped."""

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_INLINE = {"a", "abbr", "br", "code", "del", "em", "img", "span", "strong", "sub", "sup"}
_BLOCKS = {"blockquote", "div", "hr", "li", "ol", "p", "pre", "ul"}
_TABLES = {"table", "tbody", "td", "tfoot", "th", "thead", "tr"}
MARKDOWN_TAGS = frozenset(_INLINE | _BLOCKS | _TABLES | _HEADINGS)
"""What Python-Markdown with tables, fenced code, toc and sane lists writes."""

MARKDOWN_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "code": {"class"},  # fenced code: language-…
    "div": {"class"},  # the toc
    "th": {"style"},  # tables: text-align only, below
    "td": {"style"},
    **{heading: {"id"} for heading in _HEADINGS},  # toc anchors
}


def sanitise_markdown_html(html: str) -> str:
    """``html`` rendered from Markdown, with only allowed tags, attributes and URL schemes."""
    return nh3.clean(
        html,
        tags=set(MARKDOWN_TAGS),
        attributes={tag: set(names) for tag, names in MARKDOWN_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=None,  # the links stay as the author wrote them
        filter_style_properties={"text-align"},
        strip_comments=True,
    )
