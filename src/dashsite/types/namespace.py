"""The names a dashboard template sees besides its collectors' values.

Read from the render-type registry when an environment is created, after the
``dashsite.render_types`` entry points are loaded: a plugin's type is a template
global and a reserved name like a built-in one. A type a ``dashboard.py`` defines
is not a global (it would show in every dashboard's templates, and two dashboards'
``Gauge`` would clash); its collectors return it, and it renders and is stored like any.
"""

from __future__ import annotations

from typing import Any

from dashsite.core.levels import StatusLevel
from dashsite.core.names import DASHBOARD_PACKAGE
from dashsite.core.words import collector_label, status_word
from dashsite.types import charts, image, sparkline, vegalite  # noqa: F401 - the built-in types
from dashsite.types.renderables import RENDER_TYPES, load_plugin_types

PAGE_NAMES = frozenset(
    {"dashboard", "build", "history", "site", "root", "dashboard_root", "is_latest", "content"}
)
"""Variables every dashboard page gets besides its collectors' values."""
JINJA_NAMES = frozenset({"range", "dict", "lipsum", "cycler", "joiner", "namespace"})
"""Jinja's own globals."""


def template_globals() -> dict[str, Any]:
    """The globals of every dashsite template: ``StatusLevel`` and the render types.

    Every built-in and plugin type, by class name (a plugin's type never hides a
    built-in one of the same name).
    """
    load_plugin_types()
    types: dict[str, Any] = {}
    for cls in RENDER_TYPES.values():
        if not cls.__module__.startswith(f"{DASHBOARD_PACKAGE}."):
            types.setdefault(cls.__name__, cls)
    return {
        **types,  # first: a type named like one of dashsite's own globals does not hide it
        "refresh": 0,  # seconds; pages that should reload themselves pass their own
        "StatusLevel": StatusLevel,
        "status_word": status_word,  # the site's word for a level: status_word(build.status)
        "collector_label": collector_label,
    }


def reserved_names() -> frozenset[str]:
    """Names a collector cannot take: its value would hide a template variable or global."""
    return frozenset({*template_globals(), *PAGE_NAMES, *JINJA_NAMES})
