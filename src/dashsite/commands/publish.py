"""``dashsite publish TARGET``: send the built site to S3 or GitHub Pages."""

from __future__ import annotations

import argparse
from pathlib import Path

from dashsite.core.config import load_config
from dashsite.core.reporter import say
from dashsite.publish.publishers import Options, from_arguments
from dashsite.store.write import BuildLock


def run(args: argparse.Namespace) -> int:
    """Publish under the build lock, so a build cannot swap the site mid-way."""
    config = load_config(Path(args.project))
    publisher = from_arguments(args)
    options = Options(
        dry_run=args.dry_run,
        force=args.force,
        message=args.message,
        full=args.full,
        verify=args.verify,
    )
    lock = BuildLock(config.site_path, args.lock_timeout)
    lock.acquire(on_wait=lambda: say("waiting for a build to finish…"))
    try:
        done = publisher.publish(config.site_path, config.root, options, say)
    finally:
        lock.release()
    for line in done.listed:
        print(line)
    if done.summary:
        say(done.summary)
    return 0
