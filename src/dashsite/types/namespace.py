"""The names a dashboard template sees besides its collectors' values.

Read from the render-type registry when asked, so a type registered later (one a
``dashboard.py`` defines, or a plugin's) is a template global and a reserved name too.
"""

from __future__ import annotations

from typing import Any

from dashsite.core.levels import StatusLevel
from dashsite.types import charts, image, sparkline, vegalite  # noqa: F401 - the built-in types
from dashsite.types.renderables import RENDER_TYPES

PAGE_NAMES = frozenset(
    {"dashboard", "build", "history", "site", "root", "dashboard_root", "is_latest", "content"}
)
"""Variables every dashboard page gets besides its collectors' values."""
JINJA_NAMES = frozenset({"range", "dict", "lipsum", "cycler", "joiner", "namespace"})
"""Jinja's own globals."""


def template_globals() -> dict[str, Any]:
    """The globals of every dashsite template: ``StatusLevel`` and every render type."""
    return {
        "refresh": 0,  # seconds; pages that should reload themselves pass their own
        "StatusLevel": StatusLevel,
        **RENDER_TYPES,
    }


def reserved_names() -> frozenset[str]:
    """Names a collector cannot take: its value would hide a template variable or global."""
    return frozenset({*template_globals(), *PAGE_NAMES, *JINJA_NAMES})
