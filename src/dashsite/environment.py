"""The Jinja2 environment every dashsite template renders in."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    StrictUndefined,
    Undefined,
)

from .filters import FILTERS, render_filter
from .levels import StatusLevel
from .renderables import MonitorKV, MonitorList, MonitorMetric, MonitorTable, StatusCell
from .sparkline import Sparkline

THEME_PACKAGE = ("dashsite", "theme")


def create_environment(
    search_paths: Sequence[str | Path] = (),
    *,
    inline_css: bool = False,
    strict: bool = True,
    **options: Any,
) -> Environment:
    """A Jinja2 environment with autoescape, the ``render`` filter and the theme.

    ``search_paths`` come first, so a ``base.html`` there overrides the
    built-in layout (which stays reachable as ``dashsite/base.html``).
    ``inline_css`` sets the default of ``| render``; ``strict`` makes an
    undefined variable an error instead of blank output.
    """
    loaders: list[BaseLoader] = [FileSystemLoader([str(p) for p in search_paths])]
    theme = PackageLoader(*THEME_PACKAGE)
    loaders += [PrefixLoader({"dashsite": theme}), theme]
    options.setdefault("loader", ChoiceLoader(loaders))
    options.setdefault("undefined", StrictUndefined if strict else Undefined)
    options.setdefault("autoescape", True)
    options.setdefault("trim_blocks", True)
    options.setdefault("lstrip_blocks", True)
    environment = Environment(**options)  # noqa: S701 - autoescape defaults to True above
    environment.filters.update(FILTERS)
    default_inline = inline_css

    def render(value: Any, inline_css: bool = default_inline) -> Any:
        return render_filter(value, inline_css=inline_css)

    environment.filters["render"] = render
    environment.globals.update(
        StatusLevel=StatusLevel,
        StatusCell=StatusCell,
        MonitorTable=MonitorTable,
        MonitorKV=MonitorKV,
        MonitorList=MonitorList,
        MonitorMetric=MonitorMetric,
        Sparkline=Sparkline,
    )
    return environment
