"""``dashsite list``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import load_config
from ..discover import discover
from ..store import Manifest, VersionStore


def run(args: argparse.Namespace) -> int:
    """Print each dashboard: slug, title, collectors, versions filed so far."""
    config = load_config(Path(args.project))
    found = discover(config.dashboards_path, root=config.root, import_timeout=config.import_timeout)
    site = config.site_path
    manifest = VersionStore(site).load_manifest() if site.is_dir() else Manifest()
    if not found.dashboards and not found.problems:
        print(f"no dashboards in {config.dashboards_dir}/ — create one with 'dashsite new SLUG'")
    for dashboard in found.dashboards:
        record = manifest.dashboards.get(dashboard.slug)
        versions = record.count if record else 0
        names = ", ".join(c.name for c in dashboard.collectors) or "no collectors"
        kind = "markdown" if dashboard.is_markdown else "html"
        print(f"{dashboard.slug}\t{dashboard.title}\t{kind}\t{names}\t{versions} version(s)")
    for problem in found.problems:
        print(problem.one_line(), file=sys.stderr)
    return 1 if found.problems else 0
