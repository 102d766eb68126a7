"""One publisher per kind of target, looked up by the target's URL scheme.

The commands never branch on the kind of target: ``publish`` and ``pull``
ask :func:`publisher_for` and call the same two methods. Publishers register
in the ``dashsite.publishers`` entry point group under their scheme (``s3`` for
``s3://bucket/prefix``; ``gh-pages``, a target that is only its name): dashsite's
own in its ``pyproject.toml``, a plugin's (``dir://``, ``rsync://``) in its own.
An entry point names a :class:`PublisherType`: a class with a ``usage`` line and
a ``from_target(text, settings)`` constructor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self

from dashsite.core.errors import PublishError
from dashsite.core.plugins import PUBLISHERS, PluginError, load_group
from dashsite.core.reporter import say
from dashsite.publish import GitPagesTarget, S3Target, parse_target
from dashsite.store.write import StagedSite


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


@dataclass(frozen=True, slots=True)
class Settings:
    """What the command line says besides the target; each publisher takes what it needs."""

    remote: str = "origin"
    branch: str = "gh-pages"
    endpoint_url: str | None = None
    region: str | None = None


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


class PublisherType(Protocol):
    """What a ``dashsite.publishers`` entry point names: how to make a publisher."""

    usage: str
    """The target's form, for help and errors: ``s3://bucket/prefix``."""

    def from_target(self, text: str, settings: Settings) -> Publisher:
        """The publisher of ``text`` (a target of this scheme); ``PublishError`` if it is wrong."""
        ...


@dataclass(frozen=True, slots=True)
class S3Publisher:
    """``s3://bucket/prefix`` (or any S3-compatible server, with ``endpoint_url``)."""

    target: S3Target
    endpoint_url: str | None = None
    region: str | None = None

    usage: ClassVar[str] = "s3://bucket/prefix"

    @classmethod
    def from_target(cls, text: str, settings: Settings) -> Self:
        """``s3://bucket/prefix``, checked; the endpoint and region from the settings."""
        target = parse_target(text)
        assert isinstance(target, S3Target)
        return cls(target, settings.endpoint_url, settings.region)

    def __str__(self) -> str:
        return str(self.target)

    def publish(
        self, site: Path, root: Path, options: Options, say: Callable[[str], None]
    ) -> Published:
        """Upload what changed, then delete what the site no longer has."""
        from dashsite.publish.s3 import make_client, publish_s3

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
        from dashsite.publish.s3 import make_client, pull_s3

        client = make_client(self.endpoint_url, self.region)
        staged, report = pull_s3(
            site, self.target, client=client, everything=options.everything,
            history=options.history,
        )  # fmt: skip
        if report.skipped:
            say(
                f"{self.target}: left out {len(report.skipped)} object(s) a site does not hold "
                f"(hidden, or not a safe path), e.g. {report.skipped[0]!r}"
            )
        return staged, len(report.downloaded)


@dataclass(frozen=True, slots=True)
class GitPagesPublisher:
    """A ``gh-pages`` branch of a git remote."""

    target: GitPagesTarget

    usage: ClassVar[str] = "gh-pages"

    @classmethod
    def from_target(cls, text: str, settings: Settings) -> Self:
        """``gh-pages``: the remote and branch from the settings."""
        return cls(GitPagesTarget(settings.remote, settings.branch))

    def __str__(self) -> str:
        return str(self.target)

    def publish(
        self, site: Path, root: Path, options: Options, say: Callable[[str], None]
    ) -> Published:
        """One commit on the branch, pushed."""
        from dashsite.publish.ghpages import publish_gh_pages

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
        from dashsite.publish.ghpages import pull_gh_pages

        staged = pull_gh_pages(site, root, self.target)
        return staged, sum(1 for p in staged.path.rglob("*") if p.is_file())


BUILT_IN: dict[str, PublisherType] = {"s3": S3Publisher, "gh-pages": GitPagesPublisher}
"""dashsite's own publishers, as its ``pyproject.toml`` registers them; known without
its package metadata too (a source checkout on ``PYTHONPATH``)."""


def publisher_types() -> dict[str, PublisherType]:
    """Every publisher by scheme: dashsite's own first, then the plugins' by name."""
    found: dict[str, PublisherType] = dict(BUILT_IN)
    for name, value in load_group(PUBLISHERS):
        if not callable(getattr(value, "from_target", None)) or not isinstance(
            getattr(value, "usage", None), str
        ):
            raise PluginError(
                f"{PUBLISHERS} entry point '{name}' is not a publisher "
                "(it needs a usage line and from_target(text, settings))",
                hint="fix or uninstall the package that registers it",
            )
        found.setdefault(name, value)
    return found


def scheme_of(text: str) -> str:
    """``s3`` of ``s3://bucket/prefix``; a target without ``://`` (``gh-pages``) is its own."""
    scheme, separator, _ = text.partition("://")
    return scheme if separator else text


def publisher_for(text: str, settings: Settings | None = None) -> Publisher:
    """The publisher of a target's text, found by its scheme in the registry.

    An unknown scheme is one line naming the targets there are.
    """
    known = publisher_types()
    kind = known.get(scheme_of(text))
    if kind is None:
        usages = [k.usage for k in known.values()]
        listed = (
            " or ".join(usages)
            if len(usages) < 3
            else (f"{', '.join(usages[:-1])} or {usages[-1]}")
        )
        raise PublishError(f"unknown publish target '{text}'", hint=f"use {listed}")
    return kind.from_target(text, settings or Settings())


def from_arguments(args: Any) -> Publisher:
    """The publisher the ``publish`` / ``pull`` command line names."""
    return publisher_for(
        args.target,
        Settings(
            remote=args.remote,
            branch=args.branch,
            endpoint_url=args.endpoint_url,
            region=args.region,
        ),
    )
