"""``dashsite list``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashsite.collection.discover import discover
from dashsite.collection.schedule import every_of
from dashsite.core.config import load_config
from dashsite.store.version_store import Manifest, VersionStore


def run(args: argparse.Namespace) -> int:
    """Print each dashboard: slug, title, collectors, versions filed so far."""
    config = load_config(Path(args.project))
    found = discover(
        config.dashboards_path,
        root=config.root,
        import_timeout=config.import_timeout,
        allow_secret_env=config.allow_secret_env,
    )
    site = config.site_path
    manifest = VersionStore(site).load_manifest() if site.is_dir() else Manifest()
    if not found.dashboards and not found.problems:
        print(f"no dashboards in {config.dashboards_dir}/ — create one with 'dashsite new SLUG'")
    for dashboard in found.dashboards:
        record = manifest.dashboards.get(dashboard.slug)
        versions = record.count if record else 0
        every = every_of(dashboard, config)
        names = (
            ", ".join(
                f"{c.name} (every {_duration(every[c.name])})" if c.name in every else c.name
                for c in dashboard.collectors
            )
            or "no collectors"
        )
        kind = "markdown" if dashboard.is_markdown else "html"
        print(f"{dashboard.slug}\t{dashboard.title}\t{kind}\t{names}\t{versions} version(s)")
    for problem in found.problems:
        print(problem.one_line(), file=sys.stderr)
    return 1 if found.problems else 0


def _duration(seconds: float) -> str:
    """3600.0 → ``1h``; the largest unit that divides it."""
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
