"""Text that XML 1.0 accepts: one helper for every file dashsite writes as XML.

XML 1.0 forbids most C0 control characters (all but tab, newline and
carriage return), lone surrogates, U+FFFE and U+FFFF, even escaped as
``&#1;``. One such character in an error message, an incident title or the
site title makes a whole ``feed.xml`` or ``badge.svg`` invalid, and feed
readers then drop the feed. :func:`xml_text` replaces each with U+FFFD (the
replacement character), so the reader still sees that something was there.
Feeds, badges and the SVG of sparklines and charts (which mail turns into
PNG with an XML parser) pass their finished text through it.
"""

from __future__ import annotations

REPLACEMENT = "\ufffd"
_ALLOWED_CONTROLS = {0x09, 0x0A, 0x0D}
_FORBIDDEN = [
    *(code for code in range(0x20) if code not in _ALLOWED_CONTROLS),
    *range(0xD800, 0xE000),  # surrogates: never characters on their own
    0xFFFE,
    0xFFFF,
]
_TABLE = dict.fromkeys(_FORBIDDEN, REPLACEMENT)


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 forbids replaced by U+FFFD."""
    return text.translate(_TABLE)
