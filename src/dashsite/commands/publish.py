"""``dashsite publish TARGET``: send the built site to S3 or GitHub Pages."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import load_config
from ..publish import S3Target, parse_target
from ..publish.ghpages import publish_gh_pages
from ..publish.s3 import make_client, publish_s3
from ..reporter import say
from ..write import BuildLock


def run(args: argparse.Namespace) -> int:
    """Publish under the build lock, so a build cannot swap the site mid-way."""
    config = load_config(Path(args.project))
    target = parse_target(args.target, remote=args.remote, branch=args.branch)
    lock = BuildLock(config.site_path, args.lock_timeout)
    lock.acquire(on_wait=lambda: say("waiting for a build to finish…"))
    try:
        if isinstance(target, S3Target):
            client = make_client(args.endpoint_url, args.region)
            report = publish_s3(
                config.site_path,
                target,
                client=client,
                dry_run=args.dry_run,
                force=args.force,
                say=say,
            )
            if args.dry_run:
                for key in report.uploaded:
                    print(f"upload {key}")
                for key in report.deleted:
                    print(f"delete {key}")
            verb = "would upload" if args.dry_run else "uploaded"
            say(
                f"{target}: {verb} {len(report.uploaded)}, {report.unchanged} unchanged, "
                f"{'would delete' if args.dry_run else 'deleted'} {len(report.deleted)}"
            )
        else:
            git = publish_gh_pages(
                config.site_path,
                config.root,
                target,
                message=args.message,
                dry_run=args.dry_run,
                force=args.force,
                say=say,
            )
            if args.dry_run:
                for change in git.changes:
                    print(change)
                say(f"{target}: would commit {len(git.changes)} change(s)")
            elif git.commit:
                say(f"{target}: pushed {git.commit[:12]} ({len(git.changes)} change(s))")
    finally:
        lock.release()
    return 0
