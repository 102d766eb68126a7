"""The page at ``<slug>/index.html`` for a dashboard with nothing to show.

A configured dashboard whose ``dashboard.py`` fails to import, whose template
cannot be drawn, or that never built still has its URL: this page says which,
and what to do, instead of a 404 or an old page that says all is well.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment

from dashsite.render.pages import compile_template, render_compiled
from dashsite.store.manifest import DashboardRecord


def render_unbuilt_page(
    environment: Environment,
    record: DashboardRecord,
    problem: str,
    site: Mapping[str, Any],
    *,
    archived: bool = False,
) -> str:
    """``<slug>/index.html``: "failed to load" with the problem, "archived" with a link to
    its last version (its folder is gone), or "not built yet"."""
    context = {
        "site": site,
        "root": "../",
        "dashboard": record,
        "problem": problem,
        "archived": archived,
        "refresh": site.get("refresh", 0),
    }
    return render_compiled(compile_template(environment, name="unbuilt.html"), context)
