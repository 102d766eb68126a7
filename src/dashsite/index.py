"""The index stage: the site's front page, each dashboard's history, the manifest."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from jinja2 import Environment

from .render import compile_template, render_template
from .styles import STYLESHEET
from .versions import MANIFEST_FILE, DashboardRecord, Manifest
from .write import SiteWriter

HISTORY_PAGE_SIZE = 200
TREND_LENGTH = 30


def theme_stylesheet() -> str:
    """The built-in theme's CSS plus the render types' stylesheet."""
    theme = resources.files("dashsite").joinpath("theme/assets/style.css").read_text("utf-8")
    # The render types first: the theme's dark-mode rules must come later to win.
    return "/* render types */\n" + STYLESHEET + "\n" + theme


def write_assets(staged: SiteWriter, css: str | None = None) -> dict[str, str]:
    """Write content-hashed assets; returns logical name → site-relative path."""
    text = css if css is not None else theme_stylesheet()
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    relative = f"assets/style.{digest}.css"
    if not staged.exists(relative):
        staged.write(relative, text)
    return {"style.css": relative}


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """What the index and history templates show of one dashboard."""

    slug: str
    title: str
    description: str
    versions: list[Any]
    latest: Any
    trend: list[int]


def _entry(record: DashboardRecord) -> IndexEntry:
    trend = [int(v.status) for v in record.versions[-TREND_LENGTH:]]
    return IndexEntry(
        record.slug, record.title, record.description, record.versions, record.latest, trend
    )


def write_index(
    staged: SiteWriter, environment: Environment, manifest: Manifest, site: Mapping[str, Any]
) -> None:
    """Write ``index.html``: active dashboards as cards, archived ones listed."""
    records = [manifest.dashboards[slug] for slug in sorted(manifest.dashboards)]
    context = {
        "site": site,
        "root": "",
        "refresh": site.get("refresh", 0),
        "active": [_entry(r) for r in records if r.active],
        "archived": [_entry(r) for r in records if not r.active and r.versions],
    }
    staged.write(
        "index.html", render_template(compile_template(environment, name="index.html"), context)
    )


def write_history(
    staged: SiteWriter, environment: Environment, record: DashboardRecord, site: Mapping[str, Any]
) -> None:
    """Write ``<slug>/history/``: every version, newest first, paginated."""
    template = compile_template(environment, name="history.html")
    newest_first = record.versions[::-1]
    pages = max(1, math.ceil(len(newest_first) / HISTORY_PAGE_SIZE))
    folder = f"{record.slug}/history"
    if staged.exists(folder):
        staged.remove(folder)
    for page in range(1, pages + 1):
        chunk = newest_first[(page - 1) * HISTORY_PAGE_SIZE : page * HISTORY_PAGE_SIZE]
        context = {
            "site": site,
            "root": "../../",
            "dashboard": record,
            "versions": chunk,
            "page": page,
            "pages": pages,
            "total": len(newest_first),
        }
        name = "index.html" if page == 1 else f"{page}.html"
        staged.write(f"{folder}/{name}", render_template(template, context))


def write_manifest(
    staged: SiteWriter, manifest: Manifest, built_at: datetime, assets: dict[str, str]
) -> None:
    """Write ``manifest.json`` (schema in the README)."""
    document = manifest.to_json(built_at, assets)
    staged.write(MANIFEST_FILE, json.dumps(document, ensure_ascii=False) + "\n")
