"""The render types: small objects that turn collected data into HTML.

Each one renders in two modes: class mode (``class="status-ok"`` and the
stylesheet in :mod:`dashsite.styles`) and inline mode (``style="…"`` only,
for email). Every text value is escaped; a nested renderable renders itself.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Protocol, Self, TypeVar, runtime_checkable

from markupsafe import Markup, escape

from dashsite.core import plugins
from dashsite.core.errors import RenderError, RenderTypeMisuse
from dashsite.core.levels import PLAIN_SCALARS, StatusLevel, iter_levels
from dashsite.types import formats, styles
from dashsite.types.stored import KIND, SCALAR, StoredDataError, field_of, level_of


@runtime_checkable
class Renderable(Protocol):
    """Anything that renders itself to an HTML fragment."""

    def render(self, *, inline_css: bool = False) -> str:
        """Return the HTML of this object, with classes or inline styles."""
        ...


CellValue = str | int | float | bool
"""What a table cell holds besides a render type (kstlib's alias; dates and None work too)."""

RENDER_TYPES: dict[str, type[RenderType]] = {}
"""Every render type by its stored kind (:func:`kind_of`), in definition order. The
template globals, the package's exports, the JSON storage, ``compare``, the API
reference and their tests all read it: a new render type subclasses
:class:`RenderType` and is everywhere at once."""


T = TypeVar("T", bound="RenderType")


def kind_of(cls: type) -> str:
    """The name ``data.json`` stores a type under, and its key in :data:`RENDER_TYPES`.

    dashsite's own types keep their class name (``StatusCell``); any other type
    (a ``dashboard.py``'s, a plugin's) is ``module:qualname``, so two packages'
    ``Gauge`` never clash and each is found again when its data is read back.
    """
    kind = _KINDS.get(cls)
    if kind is None:
        module = cls.__module__
        builtin = module == "dashsite" or module.startswith("dashsite.")
        kind = _KINDS[cls] = cls.__name__ if builtin else f"{module}:{cls.__qualname__}"
    return kind


def is_builtin(kind: str) -> bool:
    """Whether a stored kind names one of dashsite's own types (no ``module:`` part)."""
    return ":" not in kind


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
"""Each type's stored field names, worked out once (values are stored by the thousand)."""
_KINDS: dict[type, str] = {}


class RenderType:
    """The base of every render type: registered by its kind, stored, HTML-safe in Jinja.

    ``{{ value }}`` in a template calls ``__html__``, which is ``render()``;
    ``{{ value | render(inline_css=True) }}`` is the mail form. A subclass
    sets ``registered = False`` to stay out of :data:`RENDER_TYPES` (an
    internal type, such as a failed collector's box).

    What a version's ``data.json`` keeps of a value is its stored fields: a
    dataclass's init fields (those not starting with ``_``), or the names in
    ``stored_fields``. :meth:`to_stored` and :meth:`from_stored` turn a value
    into them and back; a type whose fields need more (bytes, checks) overrides them.
    """

    __slots__ = ()
    registered: ClassVar[bool] = True
    stored_fields: ClassVar[tuple[str, ...] | None] = None
    """The fields ``data.json`` keeps, when not every public dataclass field."""
    rows_field: ClassVar[str | None] = None
    """The stored field holding rows (lists, told apart by their first cell) that a
    version's comparison with the previous one counts as added, removed or changed."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("registered", True):  # the class's own flag, not inherited
            RENDER_TYPES[kind_of(cls)] = cls  # a slotted dataclass replaces its draft

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The names of the stored fields, in the order they are written."""
        names = _FIELD_NAMES.get(cls)
        if names is None:
            if cls.stored_fields is not None:
                names = tuple(cls.stored_fields)
            elif is_dataclass(cls):
                names = tuple(f.name for f in fields(cls) if f.init and not f.name.startswith("_"))
            else:
                raise TypeError(
                    f"{cls.__name__} is not a dataclass: declare its stored_fields = (...)"
                )
            _FIELD_NAMES[cls] = names
        return names

    def to_stored(self) -> dict[str, Any]:
        """This value's stored fields by name (``to_jsonable`` makes each one JSON)."""
        return {name: getattr(self, name) for name in self.field_names()}

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> Self:
        """The value :meth:`to_stored` wrote, rebuilt through the constructor's checks.

        ``stored`` holds the fields already read back (nested render types are
        objects again) and the ``$kind`` key; a field the type does not have is refused.
        """
        return from_fields(cls, stored)

    def render(self, *, inline_css: bool = False) -> str:
        """The HTML of this object, with classes or (``inline_css``) inline styles."""
        raise NotImplementedError

    def __html__(self) -> str:
        return self.render()


def from_fields(cls: type[T], stored: dict[str, Any]) -> T:
    """``cls(**stored)``, refusing a field ``cls`` does not store (the default ``from_stored``)."""
    names = cls.field_names()
    extra = sorted(set(stored) - set(names) - {KIND})
    if extra:
        raise StoredDataError(f"unknown {kind_of(cls)} fields: {', '.join(extra)}")
    return cls(**{name: stored[name] for name in names if name in stored})


def load_plugin_types() -> None:
    """Import the render types installed packages register (``dashsite.render_types``).

    Each entry point names a :class:`RenderType` subclass or a module defining
    some; importing it registers them. Loaded once per process; a broken plugin
    is a :class:`~dashsite.core.plugins.PluginError` naming its entry point.
    """
    for name, value in plugins.load_group(plugins.RENDER_TYPES):
        if isinstance(value, type) and not issubclass(value, RenderType):
            raise plugins.PluginError(
                f"{plugins.RENDER_TYPES} entry point '{name}' names {value.__qualname__}, "
                "which is not a RenderType subclass",
                hint="fix or uninstall the package that registers it",
            )


def format_value(value: Any) -> str:
    """Plain text of a scalar cell value: ``8080`` (an integer as given), ``1,234.5``, ``—``.

    Integers are not grouped: a port, a year or an id must read as returned
    (``| number`` groups a count on purpose).
    """
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


COLUMN_FORMATS = ("number", "id", "bytes", "percent", "duration", "time", "text")
"""What ``MonitorTable(formats={header: kind})`` accepts."""
_NUMERIC_FORMATS = frozenset({"number", "id", "bytes", "percent", "duration"})


def format_cell(value: Any, kind: str | None) -> str:
    """A scalar cell as text in a column's declared format (``None``: by its type)."""
    if kind is None or kind == "number" or value is None or isinstance(value, bool):
        return format_value(value)

    try:
        if kind == "id":
            return str(value)
        if kind == "bytes":
            return formats.filesize(value)
        if kind == "percent":
            return formats.percent(value, 1)
        if kind == "duration":
            return formats.duration(value)
        if kind == "time":
            return formats.timestamp(value)
    except (TypeError, ValueError, OverflowError):
        pass  # not a value of that kind: show it as it is
    return format_value(value)


def is_number(value: Any) -> bool:
    """An int or float, not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


_PLAIN: tuple[type, ...] = (str, int, float, type(None))


def render_value(value: Any, *, inline_css: bool = False) -> str:
    """HTML of any value: renderables render, Markup passes, the rest is escaped."""
    if isinstance(value, Markup):
        return str(value)
    if isinstance(value, _PLAIN):
        return str(escape(format_value(value)))
    render = getattr(type(value), "render", None)
    if callable(render) and not isinstance(value, type):
        html = value.render(inline_css=inline_css)
        if not isinstance(html, str):  # (None, a number: shown as "None" with no word)
            raise RenderError(
                f"{type(value).__name__}.render() returned {type(html).__name__}, not a str",
                hint="return the HTML as a string",
            )
        return html
    return str(escape(format_value(value)))


def _attr(name: str, value: str) -> str:
    return f' {name}="{escape(value)}"'


def _level(owner: object, value: Any) -> StatusLevel:
    """A render type's ``level``: a StatusLevel, its name or number; else a RenderError
    (the value may come from a source: that collector fails, as for a short row)."""
    try:
        return StatusLevel.parse(value)
    except (ValueError, AttributeError, TypeError):
        names = ", ".join(level.slug for level in StatusLevel)
        raise RenderError(
            f"{type(owner).__name__} level must be one of {names}, not {value!r:.40}",
            hint="pass a StatusLevel (StatusLevel.ERROR) or its name",
        ) from None


def _text_field(owner: object, name: str, hint: str = "") -> None:
    """Refuse a field that must be text (a title, a label) and is not: a list there is
    nearly always rows or items passed in the wrong place, and the page would show it.
    ``None`` is no text (kstlib's ``title=None``)."""
    value = getattr(owner, name)
    if value is None:
        object.__setattr__(owner, name, "")
    elif not isinstance(value, str):
        kind = type(owner).__name__
        raise RenderTypeMisuse(
            f"{kind} {name} must be text, not {type(value).__name__}",
            hint=hint or f"pass {name}= as a string",
        )


def _title(title: str, inline_css: bool) -> str:
    if not title:
        return ""
    if inline_css:
        return f"<h3{_attr('style', styles.TITLE_STYLE)}>{escape(title)}</h3>"
    return f'<h3 class="monitor-title">{escape(title)}</h3>'


def _levels_of(values: Iterator[Any]) -> Iterator[StatusLevel]:
    for value in values:
        if type(value) not in PLAIN_SCALARS:
            yield from iter_levels(value)


@dataclass(frozen=True, slots=True)
class StatusCell(RenderType):
    """A coloured status badge such as ``UP`` (ok) or ``DOWN`` (critical)."""

    label: str
    level: StatusLevel = StatusLevel.OK

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", _level(self, self.level))

    def levels(self) -> Iterator[StatusLevel]:
        """This badge's level."""
        yield self.level

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> StatusCell:
        """A stored badge: a scalar label and a level name."""
        return cls(field_of(stored, "label", SCALAR), level_of(stored))

    def render(self, *, inline_css: bool = False) -> str:
        """``<span class="status-badge status-ok">UP</span>`` or its inline twin."""
        label = escape(format_value(self.label))
        if inline_css:
            return f"<span{_attr('style', styles.badge_style(self.level))}>{label}</span>"
        return f'<span class="status-badge status-{self.level.slug}">{label}</span>'


@dataclass(slots=True)
class MonitorTable(RenderType):
    """A table with headers; rows are added with :meth:`add_row`."""

    headers: Sequence[str]
    title: str = ""
    rows: list[list[Any]] = field(default_factory=list)
    formats: Mapping[str, str] = field(default_factory=dict)

    rows_field = "rows"

    def __post_init__(self) -> None:
        if isinstance(self.headers, str | bytes) or not isinstance(self.headers, Iterable):
            raise RenderTypeMisuse(
                f"MonitorTable headers must be a list of names, not {type(self.headers).__name__}",
                hint='MonitorTable(["Service", "Status"], title="…")',
            )
        _text_field(
            self,
            "title",
            "MonitorTable(headers, title=''): rows go in rows=[…] or add_row(), not second",
        )
        self.headers = [str(header) for header in self.headers]
        if not self.headers:
            raise RenderError("MonitorTable needs at least one header")
        self.formats = dict(self.formats)
        for header, kind in self.formats.items():
            if header not in self.headers:
                raise RenderError(f"MonitorTable formats names '{header}', which is not a header")
            if kind not in COLUMN_FORMATS:
                raise RenderError(
                    f"MonitorTable format {kind!r} for '{header}' is unknown",
                    hint=f"use one of {', '.join(COLUMN_FORMATS)}",
                )
        rows, self.rows = self.rows, []
        for row in rows:
            self.add_row(row)

    @property
    def row_count(self) -> int:
        """How many data rows the table has."""
        return len(self.rows)

    def add_row(self, row: Sequence[Any]) -> MonitorTable:
        """Append one row; it must have exactly one cell per header."""
        if isinstance(row, str | bytes | Mapping) or not isinstance(row, Iterable):
            raise RenderTypeMisuse(
                f"MonitorTable row must be a list of cells, not {type(row).__name__}",
                hint="give add_row() a list, one value per header "
                "(for a dict: [row[h] for h in headers])",
            )
        cells = list(row)
        if len(cells) != len(self.headers):
            raise RenderError(
                f"MonitorTable row has {len(cells)} cells but the table has "
                f"{len(self.headers)} headers",
                hint="give add_row() one value per header",
            )
        self.rows.append(cells)
        return self

    def levels(self) -> Iterator[StatusLevel]:
        """Levels of every renderable in every cell."""
        for row in self.rows:
            yield from _levels_of(iter(row))

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> MonitorTable:
        """A stored table: text headers, rows as lists, formats by header."""
        headers = field_of(stored, "headers", list)
        rows = field_of(stored, "rows", list)
        if not all(isinstance(h, str) for h in headers) or not all(
            isinstance(r, list) for r in rows
        ):
            raise StoredDataError("MonitorTable headers must be text and rows lists")
        formats = stored.get("formats") or {}  # absent before formats existed
        if not isinstance(formats, dict) or not all(isinstance(v, str) for v in formats.values()):
            raise StoredDataError("MonitorTable formats must map headers to format names")
        return cls(headers, field_of(stored, "title", str), rows, formats)

    def _numeric_columns(self) -> list[bool]:
        """Columns declared numeric, or whose every present scalar is a number."""
        numeric = []
        for index, header in enumerate(self.headers):
            kind = self.formats.get(header)
            if kind is not None:
                numeric.append(kind in _NUMERIC_FORMATS)
                continue
            present = [row[index] for row in self.rows if row[index] is not None]
            numeric.append(bool(present) and all(is_number(v) for v in present))
        return numeric

    def render(self, *, inline_css: bool = False) -> str:
        """An HTML ``<table>``; the title becomes its ``<caption>``.

        Numeric columns are right-aligned (tabular figures); ``formats``
        shows a column as ``bytes``, ``percent``, ``duration``, ``time`` or
        ``id`` (a number without thousands separators).
        """
        numeric = self._numeric_columns()
        if inline_css:
            table = _attr("style", styles.TABLE_STYLE)
            caption = _attr("style", styles.CAPTION_STYLE)
            th = [_attr("style", styles.TH_STYLE + (styles.NUMERIC if n else "")) for n in numeric]
            td = [_attr("style", styles.TD_STYLE + (styles.NUMERIC if n else "")) for n in numeric]
        else:
            table, caption = ' class="monitor-table"', ""
            th = td = [' class="num"' if n else "" for n in numeric]
        kinds = [self.formats.get(header) for header in self.headers]
        parts = [f"<table{table}>"]
        if self.title:
            parts.append(f"<caption{caption}>{escape(self.title)}</caption>")
        parts.append("<thead><tr>")
        parts.extend(f'<th scope="col"{th[i]}>{escape(h)}</th>' for i, h in enumerate(self.headers))
        parts.append("</tr></thead><tbody>")
        for row in self.rows:
            cells = "".join(
                f"<td{td[i]}>{self._cell(c, kinds[i], inline_css)}</td>" for i, c in enumerate(row)
            )
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</tbody></table>")
        return "".join(parts)

    @staticmethod
    def _cell(value: Any, kind: str | None, inline_css: bool) -> str:
        if kind is not None and isinstance(value, (*_PLAIN, datetime, date)):
            return str(escape(format_cell(value, kind)))
        return render_value(value, inline_css=inline_css)


@dataclass(frozen=True, slots=True)
class MonitorKV(RenderType):
    """A key/value grid: ``{"Host": "srv-01", "API": StatusCell(...)}``."""

    items: Mapping[str, Any]
    title: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.items, Mapping):
            raise RenderTypeMisuse(
                f"MonitorKV items must be a mapping, not {type(self.items).__name__}",
                hint='MonitorKV({"Host": "srv-01"}, title="…")',
            )
        _text_field(self, "title")

    def levels(self) -> Iterator[StatusLevel]:
        """Levels of every renderable value."""
        return _levels_of(iter(self.items.values()))

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> MonitorKV:
        """A stored grid: its items a dict."""
        return cls(field_of(stored, "items", dict), field_of(stored, "title", str))

    def render(self, *, inline_css: bool = False) -> str:
        """A two-column ``<table>``: keys as row headers, values as cells."""
        key_style = _attr("style", styles.KV_KEY_STYLE) if inline_css else ""
        value_style = _attr("style", styles.KV_VALUE_STYLE) if inline_css else ""
        table = _attr("style", styles.TABLE_STYLE) if inline_css else ' class="monitor-kv"'
        rows = "".join(
            f'<tr><th scope="row"{key_style}>{escape(format_value(key))}</th>'
            f"<td{value_style}>{render_value(value, inline_css=inline_css)}</td></tr>"
            for key, value in self.items.items()
        )
        return f"{_title(self.title, inline_css)}<table{table}><tbody>{rows}</tbody></table>"


@dataclass(frozen=True, slots=True)
class MonitorList(RenderType):
    """A bulleted (or numbered, with ``ordered=True``) list."""

    items: Sequence[Any]
    ordered: bool = False
    title: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.items, str | bytes | Mapping) or not isinstance(self.items, Iterable):
            raise RenderTypeMisuse(
                f"MonitorList items must be a list, not {type(self.items).__name__}",
                hint='MonitorList(["first", "second"], title="…")',
            )
        _text_field(self, "title", "MonitorList(items, ordered=False, title='…')")

    def levels(self) -> Iterator[StatusLevel]:
        """Levels of every renderable item."""
        return _levels_of(iter(self.items))

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> MonitorList:
        """A stored list: items a list, ``ordered`` a bool."""
        return cls(
            field_of(stored, "items", list),
            field_of(stored, "ordered", bool),
            field_of(stored, "title", str),
        )

    def render(self, *, inline_css: bool = False) -> str:
        """``<ul>`` or ``<ol>`` with one ``<li>`` per item."""
        tag = "ol" if self.ordered else "ul"
        attrs = _attr("style", styles.LIST_STYLE) if inline_css else ' class="monitor-list"'
        items = "".join(f"<li>{render_value(i, inline_css=inline_css)}</li>" for i in self.items)
        return f"{_title(self.title, inline_css)}<{tag}{attrs}>{items}</{tag}>"


@dataclass(frozen=True, slots=True)
class MonitorMetric(RenderType):
    """One big number with a label and unit, coloured by its level."""

    value: Any
    label: str = ""
    level: StatusLevel = StatusLevel.OK
    unit: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", _level(self, self.level))
        _text_field(self, "label", "MonitorMetric(value, label='…', level=…, unit='…')")
        _text_field(self, "unit", "MonitorMetric(value, label='…', level=…, unit='…')")

    def levels(self) -> Iterator[StatusLevel]:
        """This metric's level."""
        yield self.level

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> MonitorMetric:
        """A stored metric: a scalar value, text label and unit, a level name."""
        return cls(
            field_of(stored, "value", SCALAR),
            field_of(stored, "label", str),
            level_of(stored),
            field_of(stored, "unit", str),
        )

    def render(self, *, inline_css: bool = False) -> str:
        """The value (with unit) above its label."""
        value = escape(format_value(self.value))
        unit = escape(self.unit)
        label = escape(self.label)
        if inline_css:
            box = _attr("style", styles.style(display="inline-block", margin="4px 24px 4px 0"))
            value_style = _attr("style", styles.metric_value_style(self.level))
            label_html = (
                f" <span{_attr('style', styles.METRIC_LABEL_STYLE)}>{label}</span>" if label else ""
            )
            return (
                f'<div{box} data-level="{self.level.slug}"><span{value_style}>{value}'
                f"{unit}</span>{label_html}</div>"
            )
        label_html = f' <span class="metric-label">{label}</span>' if label else ""
        unit_html = f'<span class="metric-unit">{unit}</span>' if unit else ""
        return (
            f'<div class="monitor-metric metric-{self.level.slug}" data-level="{self.level.slug}">'
            f'<span class="metric-value">{value}{unit_html}</span>{label_html}</div>'
        )


@dataclass(frozen=True, slots=True)
class CollectorFailure(RenderType):
    """Stands in a template for a collector that failed, and shows why.

    ``{{ api | render }}`` renders an error box naming the collector and the
    error; attribute access, indexing and iteration yield more of the same
    (or nothing), so a template written for the happy path still renders.
    """

    registered = False  # internal: a collector's value, never built by a template

    name: str
    message: str

    def levels(self) -> Iterator[StatusLevel]:
        """A failed collector counts as ERROR."""
        yield StatusLevel.ERROR

    def render(self, *, inline_css: bool = False) -> str:
        """An error box: which collector failed and with what error."""
        text = f"Collector '{self.name}' failed: {self.message}"
        if inline_css:
            box = styles.style(
                border_left="4px solid #cf222e",
                padding="4px 12px",
                background="#fff1f0",
                color="#82071e",
            )
            return f'<div role="alert" style="{box}">{escape(text)}</div>'
        return f'<div class="collector-error" role="alert">{escape(text)}</div>'

    def __str__(self) -> str:
        return f"⚠ collector '{self.name}' failed"

    def __getattr__(self, _: str) -> CollectorFailure:
        return self

    def __getitem__(self, _: object) -> CollectorFailure:
        return self

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return False
