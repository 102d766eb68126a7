"""HTML → readable plain text, for the text part of a mailed dashboard.

Not a tag strip: headings are underlined, lists keep their bullets or
numbers, tables become aligned columns, links keep their address, entities
are decoded, and scripts, styles and SVG drawings are left out.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from html.parser import HTMLParser

_BLOCKS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "nav",
        "blockquote",
        "figure",
        "figcaption",
        "form",
        "address",
        "aside",
    }
)
_SKIP = frozenset({"head", "script", "style", "svg", "template", "noscript"})
_SPACE = re.compile(r"\s+")
WIDTH = 78


@dataclass(slots=True)
class _Table:
    rows: list[list[str]] = field(default_factory=list)
    row: list[str] | None = None
    cell: list[str] | None = None
    caption: str | None = None
    header_row: bool = False
    has_header: bool = False


class _TextBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.inline: list[str] = []
        self.skip = 0
        self.pre = 0
        self.lists: list[list[int]] = []  # per open list: [ordered?, counter]
        self.tables: list[_Table | None] = []  # None: a layout table (role=presentation)
        self.links: list[str | None] = []
        self.heading: str | None = None

    # -- text flow ------------------------------------------------------------

    def _flush(self) -> None:
        text = "".join(self.inline)
        self.inline = []
        table = self._data_table()
        if table is not None:
            if table.cell is not None:
                table.cell.append(text)
            return
        if self.pre:
            self.lines.extend(text.split("\n"))
            return
        text = _SPACE.sub(" ", text).strip()
        if not text:
            return
        indent = "  " * max(len(self.lists) - 1, 0)
        if self.heading is not None:
            self._gap()
            self.lines.append(text)
            if self.heading in {"h1", "h2"}:
                self.lines.append(("=" if self.heading == "h1" else "-") * len(text))
            self._gap()
            return
        self.lines.extend(
            textwrap.wrap(
                text,
                WIDTH - len(indent),
                initial_indent=indent,
                subsequent_indent=indent + "  ",
                break_long_words=False,
                break_on_hyphens=False,
            )
        )

    def _gap(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    # -- tags -----------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
            return
        if self.skip:
            return
        if tag in _BLOCKS or tag in {"ul", "ol", "table", "pre", "hr"}:
            self._flush()
            if self._data_table() is None:
                self._gap()
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self._flush()
            self.heading = tag
        elif tag == "br":
            self._flush() if self._data_table() is None else self.inline.append(" ")
        elif tag == "pre":
            self.pre += 1
        elif tag in {"ul", "ol"}:
            self.lists.append([tag == "ol", 0])
        elif tag == "li":
            self._flush()
            if self.lists:
                self.lists[-1][1] += 1
                ordered, count = self.lists[-1]
                self.inline.append(f"{count}. " if ordered else "- ")
        elif tag == "table":
            layout = dict(attrs).get("role") == "presentation"
            self.tables.append(None if layout else _Table())
        elif tag in {"tr", "td", "th", "caption"} and (table := self._data_table()) is not None:
            if tag == "tr":
                table.row = []
                table.header_row = True
            else:
                table.cell = []
                table.header_row = table.header_row and tag != "td"
        elif tag == "td":  # a layout cell reads as a block
            self._flush()
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
            self.link_start = len(self.inline)
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.inline.append(f"[{alt}]")
        elif tag == "hr":
            self.lines.append("-" * 20)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag == "a" and self.links:
            href = self.links.pop()
            label = "".join(self.inline[getattr(self, "link_start", 0) :]).strip()
            if href and href.startswith(("http://", "https://", "mailto:")) and href != label:
                self.inline.append(f" ({href})")
        elif tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self._flush()
            self.heading = None
        elif tag in {"td", "th", "caption"} and (table := self._data_table()) is not None:
            self._flush()
            text = _SPACE.sub(" ", "".join(table.cell or [])).strip()
            if tag == "caption":
                table.caption = text
            elif table.row is not None:
                table.row.append(text)
            table.cell = None
        elif tag == "tr" and (table := self._data_table()) is not None:
            if table.row:
                if not table.rows:
                    table.has_header = table.header_row
                table.rows.append(table.row)
            table.row = None
        elif tag == "table" and self.tables:
            self._flush()
            finished = self.tables.pop()
            if finished is not None:
                self._emit_table(finished)
            else:
                self._gap()
        elif tag == "td":
            self._flush()
        elif tag in {"ul", "ol"} and self.lists:
            self._flush()
            self.lists.pop()
            self._gap()
        elif tag == "li":
            self._flush()
        elif tag == "pre":
            self._flush()
            self.pre = max(0, self.pre - 1)
            self._gap()
        elif tag in _BLOCKS:
            self._flush()
            self._gap()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.inline.append(data)

    def _data_table(self) -> _Table | None:
        """The innermost open table, when it holds data (not layout)."""
        return self.tables[-1] if self.tables else None

    def _emit_table(self, table: _Table) -> None:
        if self._data_table() is not None:  # a table nested in a cell: one line
            self.inline.append(" / ".join(" | ".join(row) for row in table.rows))
            return
        self._gap()
        self.lines.extend(render_table(table.rows, table.caption, header=table.has_header))
        self._gap()

    def text(self) -> str:
        self._flush()
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"


def render_table(
    rows: list[list[str]], caption: str | None = None, *, header: bool = True
) -> list[str]:
    """Rows of cells as aligned columns; a header row is underlined."""
    if not rows:
        return []
    width = max(len(row) for row in rows)
    padded = [row + [""] * (width - len(row)) for row in rows]
    sizes = [max(len(row[i]) for row in padded) for i in range(width)]
    lines = [caption] if caption else []
    for index, row in enumerate(padded):
        lines.append(" | ".join(cell.ljust(sizes[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0 and header and len(padded) > 1:
            lines.append("-+-".join("-" * size for size in sizes))
    return lines


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML document or fragment."""
    builder = _TextBuilder()
    builder.feed(html)
    builder.close()
    return builder.text()
