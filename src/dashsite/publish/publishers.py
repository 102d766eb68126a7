"""One publisher per kind of target, looked up from the target's text.

The commands never branch on the kind of target: ``publish`` and ``pull``
ask :func:`publisher_for` and call the same two methods. A new kind of target
(an rsync folder, a cloud bucket) is one class here and its module beside
``s3.py`` and ``ghpages.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..write import StagedSite
from . import GitPagesTarget, S3Target, parse_target


@dataclass(frozen=True, slots=True)
class Published:
    """What a publish did (or, dry, would do): lines to list, and a one-line summary."""

    listed: tuple[str, ...]
    summary: str


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line says about one publish or pull."""

    dry_run: bool = False
    force: bool = False
    message: str | None = None
    everything: bool = False
    history: int = 100
    full: bool = False
    verify: bool = False


class Publisher(Protocol):
    """Sends a built site to a target, and brings what a build needs back."""

    def __str__(self) -> str: ...

    def publish(
        self, site: Path, root: Path, options: Options, say: Callable[[str], None]
    ) -> Published:
        """Send ``site`` (or, with ``dry_run``, list what would be sent)."""
        ...

    def pull(self, site: Path, root: Path, options: Options) -> tuple[StagedSite, int]:
        """The published site in a staged folder to swap in, and how many files came."""
        ...


@dataclass(frozen=True, slots=True)
class S3Publisher:
    """``s3://bucket/prefix`` (or any S3-compatible server, with ``endpoint_url``)."""

    target: S3Target
    endpoint_url: str | None = None
    region: str | None = None

    def __str__(self) -> str:
        return str(self.target)

    def publish(
        self, site: Path, root: Path, options: Options, say: Callable[[str], None]
    ) -> Published:
        """Upload what changed, then delete what the site no longer has."""
        from .s3 import make_client, publish_s3

        client = make_client(self.endpoint_url, self.region)
        report = publish_s3(
            site,
            self.target,
            client=client,
            dry_run=options.dry_run,
            force=options.force,
            full=options.full,
            say=say,
            verify=options.verify,
        )
        listed = (
            tuple(
                [f"upload {k}" for k in report.uploaded] + [f"delete {k}" for k in report.deleted]
            )
            if options.dry_run
            else ()
        )
        dry = options.dry_run
        return Published(
            listed,
            f"{self.target}: {'would upload' if dry else 'uploaded'} {len(report.uploaded)}, "
            f"{report.unchanged} unchanged, "
            f"{'would delete' if dry else 'deleted'} {len(report.deleted)}",
        )

    def pull(self, site: Path, root: Path, options: Options) -> tuple[StagedSite, int]:
        """The manifest and what the next build reads (or everything)."""
        from .s3 import make_client, pull_s3

        client = make_client(self.endpoint_url, self.region)
        staged, report = pull_s3(
            site, self.target, client=client, everything=options.everything,
            history=options.history,
        )  # fmt: skip
        return staged, len(report.downloaded)


@dataclass(frozen=True, slots=True)
class GitPagesPublisher:
    """A ``gh-pages`` branch of a git remote."""

    target: GitPagesTarget

    def __str__(self) -> str:
        return str(self.target)

    def publish(
        self, site: Path, root: Path, options: Options, say: Callable[[str], None]
    ) -> Published:
        """One commit on the branch, pushed."""
        from .ghpages import publish_gh_pages

        git = publish_gh_pages(
            site, root, self.target, message=options.message, dry_run=options.dry_run,
            force=options.force, say=say,
        )  # fmt: skip
        if options.dry_run:
            return Published(
                tuple(git.changes), f"{self.target}: would commit {len(git.changes)} change(s)"
            )
        if git.commit:
            return Published(
                (), f"{self.target}: pushed {git.commit[:12]} ({len(git.changes)} change(s))"
            )
        return Published((), "")

    def pull(self, site: Path, root: Path, options: Options) -> tuple[StagedSite, int]:
        """The branch's tree."""
        from .ghpages import pull_gh_pages

        staged = pull_gh_pages(site, root, self.target)
        return staged, sum(1 for p in staged.path.rglob("*") if p.is_file())


def publisher_for(
    text: str,
    *,
    remote: str = "origin",
    branch: str = "gh-pages",
    endpoint_url: str | None = None,
    region: str | None = None,
) -> Publisher:
    """The publisher of a target's text (``s3://bucket/prefix`` or ``gh-pages``)."""
    target = parse_target(text, remote=remote, branch=branch)
    if isinstance(target, S3Target):
        return S3Publisher(target, endpoint_url, region)
    return GitPagesPublisher(target)


def from_arguments(args: Any) -> Publisher:
    """The publisher the ``publish`` / ``pull`` command line names."""
    return publisher_for(
        args.target,
        remote=args.remote,
        branch=args.branch,
        endpoint_url=args.endpoint_url,
        region=args.region,
    )
