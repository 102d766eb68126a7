"""``dashsite new SLUG``: a working dashboard to start from."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from dashsite.collection.discover import title_from_slug
from dashsite.core.config import load_config
from dashsite.core.errors import DashboardError, display
from dashsite.core.names import SLUG_HINT, is_new_slug
from dashsite.store.write import atomic_write, contained


def run(args: argparse.Namespace) -> int:
    """Create ``dashboards/SLUG/`` with a collector and a template."""
    config = load_config(Path(args.project))
    slug: str = args.slug
    if not is_new_slug(slug):
        raise DashboardError(f"'{slug}' is not a usable dashboard name", hint=SLUG_HINT)
    folder = contained(config.dashboards_path, slug)
    if folder.exists():
        raise DashboardError(
            "already exists",
            path=display(folder, config.root),
            hint="pick another name or edit the existing dashboard",
        )
    scaffold = resources.files("dashsite").joinpath("scaffold")
    template = "template.md" if args.markdown else "template.html"
    title = title_from_slug(slug)
    module = scaffold.joinpath("dashboard.py").read_text("utf-8").replace("{{TITLE}}", title)
    folder.mkdir(parents=True)
    atomic_write(folder / "dashboard.py", module.encode())
    atomic_write(folder / template, scaffold.joinpath(template).read_bytes())
    print(
        f"created {display(folder, config.root)}/ — edit it, then run 'dashsite build' "
        "or 'dashsite serve --watch'"
    )
    return 0
