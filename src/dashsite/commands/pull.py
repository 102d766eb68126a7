"""``dashsite pull TARGET``: bring the published history back into ``site/``."""

from __future__ import annotations

import argparse
from pathlib import Path

from dashsite.core.config import SiteConfig, load_config
from dashsite.core.errors import NothingPublished, PublishError
from dashsite.core.reporter import say
from dashsite.publish.plan import compare_versions
from dashsite.publish.publishers import Options, Publisher, from_arguments
from dashsite.store.layout import MANIFEST_FILE
from dashsite.store.version_store import VersionStore
from dashsite.store.write import BuildLock, StagedSite


def run(args: argparse.Namespace) -> int:
    """Replace ``site/`` with the published site (or what a build needs of it)."""
    config = load_config(Path(args.project))
    publisher = from_arguments(args)
    try:
        return _pull(args, config.site_path, config, publisher)
    except NothingPublished as exc:
        if not args.missing_ok:
            raise
        say(f"{exc.message}: starting a new history")
        return 0


def _pull(args: argparse.Namespace, site: Path, config: SiteConfig, target: Publisher) -> int:
    lock = BuildLock(site, args.lock_timeout)
    lock.acquire(on_wait=lambda: say("waiting for a build to finish…"))
    try:
        staged: StagedSite
        options = Options(everything=args.all, history=config.history)
        staged, count = target.pull(site, config.root, options)
        try:
            incoming = VersionStore(staged.path)
            pulled = incoming.load_manifest(shown=f"{target}: {MANIFEST_FILE}")
            if (site / MANIFEST_FILE).is_file() and not args.force:
                diff = compare_versions(pulled, VersionStore(site).load_manifest(), incoming.knows)
                if diff.unknown:
                    sample = ", ".join(f"{s}: {what}" for s, what in diff.unknown[:3])
                    raise PublishError(
                        f"site/ has versions that are not published "
                        f"({sample}); pulling would drop them",
                        hint="publish them first (if publish refuses too: --force on pull or "
                        "publish keeps that side's versions)",
                    )
            staged.commit()
        except BaseException:
            staged.abort()
            raise
        damaged = VersionStore(site).damaged(pulled)  # (under the lock: no build meanwhile)
    finally:
        lock.release()
    for line in damaged[:5]:
        say(f"{target}: {line}")
    if len(damaged) > 5:
        say(f"{target}: {len(damaged) - 5} more file(s) that cannot be read back")
    versions = sum(r.count for r in pulled.dashboards.values())
    say(
        f"pulled {count} file(s) from {target}: {len(pulled.dashboards)} dashboard(s), "
        f"{versions} version(s)"
    )
    return 0
