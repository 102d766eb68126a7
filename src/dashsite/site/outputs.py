"""Site outputs: files every build writes from the site's state, found in a registry.

An output is any object with a ``write(site, writer)`` method, registered in the
``dashsite.outputs`` entry point group; dashsite's feeds and badges register
there in its ``pyproject.toml`` like a plugin's output (a JSON API, a sitemap)
would. The build hands each one the same :class:`SiteView` at its end, after the
pages and before the manifest, and calls them in order: dashsite's own first,
then the plugins' by entry point name.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from jinja2 import Environment

from dashsite.core.config import SiteConfig
from dashsite.core.errors import DashsiteError
from dashsite.core.plugins import OUTPUTS, PluginError, load_group
from dashsite.render.pages import compile_template, render_compiled
from dashsite.site.badges import write_badges
from dashsite.site.feeds import PageRenderer, write_feeds
from dashsite.status.view import StatusView
from dashsite.store import layout
from dashsite.store.documents import SCHEMAS as SCHEMA_NAMES
from dashsite.store.documents import schema_text
from dashsite.store.manifest import DashboardRecord, Manifest
from dashsite.store.write import SiteWriter


@dataclass(frozen=True, slots=True)
class SiteView:
    """What an output reads: plain data the build has once its pages are written."""

    config: SiteConfig
    """The site's configuration (``title``, ``base_url``, ``site_path``…)."""
    manifest: Manifest
    """Every dashboard the site holds, active or archived, with its latest version."""
    dashboards: Sequence[tuple[DashboardRecord, StatusView]]
    """The dashboards that have a status view this build, in slug order."""
    now: datetime
    """When this build collected (the new versions' time)."""
    failed: frozenset[str] = frozenset()
    """Slugs of the dashboards that could not be loaded or drawn in this build."""
    pages: PageRenderer | None = None
    """Draws a theme template as a page of the site, with its look: ``pages("feed.html",
    "<slug>/feed.html", {...})`` (None where there is no theme: no pages then)."""

    @property
    def title(self) -> str:
        """The site's title."""
        return self.config.title

    @property
    def base_url(self) -> str:
        """The site's public URL as configured (``""``: links stay relative)."""
        return self.config.base_url


@dataclass(frozen=True, slots=True)
class ThemePages:
    """A :class:`~dashsite.site.feeds.PageRenderer` on the build's theme: its environment
    and site context, ``root`` set for where the page goes."""

    environment: Environment
    site: Mapping[str, Any]

    def __call__(self, template: str, relative: str, context: Mapping[str, Any]) -> str:
        """``template`` drawn for the page at ``relative`` (a site path)."""
        compiled = compile_template(self.environment, name=template)
        root = "../" * relative.count("/")
        return render_compiled(compiled, {"site": self.site, "root": root, **context})


class SiteOutput(Protocol):
    """Writes files of the site from a :class:`SiteView`, through ``writer`` only."""

    def write(self, site: SiteView, writer: SiteWriter) -> None:
        """Write this output's files (paths relative to the site, ``/``-separated)."""
        ...


@dataclass(frozen=True, slots=True)
class Feeds:
    """``feed.xml`` and each dashboard's ``<slug>/feed.xml``: incidents as Atom; beside
    each, ``feed.html``: its entries as a page, and how to subscribe."""

    def write(self, site: SiteView, writer: SiteWriter) -> None:
        """The feeds, from the status views, and their pages."""
        write_feeds(
            writer,
            site.dashboards,
            title=site.title,
            base_url=site.base_url,
            now=site.now,
            pages=site.pages,
        )


@dataclass(frozen=True, slots=True)
class Badges:
    """``badge.svg`` / ``badge.json`` for the site and each dashboard."""

    def write(self, site: SiteView, writer: SiteWriter) -> None:
        """The badges, from the latest statuses (archived dashboards': archived)."""
        archived = [r for r in site.manifest.dashboards.values() if not r.active and r.count]
        write_badges(writer, site.dashboards, site.title, failed=site.failed, archived=archived)


@dataclass(frozen=True, slots=True)
class Schemas:
    """``schemas/manifest.schema.json`` and ``schemas/data.schema.json``: so any tool can
    validate what it reads from the site against the release that wrote it."""

    def write(self, site: SiteView, writer: SiteWriter) -> None:
        """The package's schemas, as they are."""
        for name in SCHEMA_NAMES:
            writer.write(layout.schema(name), schema_text(name))


FEEDS = Feeds()
BADGES = Badges()
SCHEMAS = Schemas()

BUILT_IN: dict[str, SiteOutput] = {"feeds": FEEDS, "badges": BADGES, "schemas": SCHEMAS}
"""dashsite's own outputs, as its ``pyproject.toml`` registers them; known without
its package metadata too (a source checkout on ``PYTHONPATH``)."""


def site_outputs() -> list[tuple[str, SiteOutput]]:
    """Every output by name: dashsite's own first, then the plugins' in name order."""
    found: dict[str, SiteOutput] = dict(BUILT_IN)
    for name, value in load_group(OUTPUTS):
        if not callable(getattr(value, "write", None)) or isinstance(value, type):
            raise PluginError(
                f"{OUTPUTS} entry point '{name}' is not a site output "
                "(an object with write(site, writer))",
                hint="fix or uninstall the package that registers it",
            )
        found.setdefault(name, value)
    return list(found.items())


BUILD_OWNED = frozenset(
    {
        layout.INDEX_PAGE,
        layout.MANIFEST_FILE,
        layout.ASSETS_FOLDER,
        layout.NOJEKYLL,
        layout.FEED_FILE,
        layout.FEED_PAGE,
        layout.BADGE_JSON,
        layout.BADGE_SVG,
        layout.INCIDENTS_FOLDER,
        layout.SCHEMAS_FOLDER,
        layout.NOTIFY_LEDGER,
    }
)
"""What the build writes at the site's top: a plugin's output writes beside it, not over it."""
_OWNED = frozenset(name.casefold() for name in BUILD_OWNED | {"dashsite", "history"})
"""The same, and the names dashsite reserves for itself, case-folded."""


class _PluginWriter:
    """The writer a plugin's output gets: anywhere in the site but over what the build
    owns (its top-level files and folders, every dashboard's folder: a version written
    over would no longer be immutable, a page no longer the build's)."""

    def __init__(self, writer: SiteWriter, name: str, slugs: frozenset[str]) -> None:
        self.path = writer.path  # (for reading: a write goes through write())
        self._writer = writer
        self._name = name
        self._slugs = frozenset(slug.casefold() for slug in slugs)

    def _check(self, relative: str) -> None:
        """Refuse a path that is not a file of the output's own: normalised first (``./x``,
        ``a/../x``, ``\\``), compared case-folded (a case-insensitive disk), never the site
        itself (``""``, ``.``)."""
        parts = posixpath.normpath(relative.replace("\\", "/")).split("/")
        first = parts[0].casefold()
        if (
            first in _OWNED
            or first in self._slugs
            or first.startswith(".dashsite")
            or first in ("", ".", "..")
            or relative.startswith(("/", "\\"))
        ):
            owner = f"dashboard '{parts[0]}'" if first in self._slugs else "the build"
            raise PluginError(
                f"site output '{self._name}' may not write {relative!r}: {owner} owns it",
                hint="write into a folder of the output's own (a name no dashboard has)",
            )

    def write(self, relative: str, data: bytes | str) -> None:
        self._check(relative)
        self._writer.write(relative, data)

    def exists(self, relative: str) -> bool:
        return self._writer.exists(relative)

    def remove(self, relative: str) -> None:
        self._check(relative)
        self._writer.remove(relative)


def write_outputs(site: SiteView, writer: SiteWriter) -> list[DashsiteError]:
    """Every registered output, in order; what a plugin's output could not do, one problem
    each (the build goes on: its manifest is still written)."""
    problems: list[DashsiteError] = []
    slugs = frozenset(site.manifest.dashboards)
    for name, output in site_outputs():
        if name in BUILT_IN and output is BUILT_IN[name]:
            output.write(site, writer)
            continue
        try:
            output.write(site, _PluginWriter(writer, name, slugs))
        except PluginError as exc:
            problems.append(exc)
        except Exception as exc:  # a plugin's bug: its output is missing, nothing else
            problems.append(
                PluginError(
                    f"site output '{name}' failed: {type(exc).__name__}: {exc}",
                    hint="fix or uninstall the package that registers it",
                )
            )
    return problems
