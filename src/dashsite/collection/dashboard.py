"""A dashboard, loaded: its metadata, collectors and template (what discovery returns)."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from dashsite.collection.collector import Collector

_DEPTH_WORDS = re.compile(r"root|include|extends|import")


def depth_free(source: str) -> bool:
    """True when a template's output cannot depend on how deep its page sits.

    Only ``root`` and ``dashboard_root`` differ between the latest page and a
    snapshot; a template that names neither (and pulls in no other template)
    renders the same body for both, so the build renders it once.
    """
    return _DEPTH_WORDS.search(source) is None


@dataclass(frozen=True, slots=True)
class Dashboard:
    """One dashboard folder, loaded: its metadata, collectors and template."""

    slug: str
    folder: Path
    template: Path
    title: str
    description: str = ""
    collectors: tuple[Collector, ...] = ()
    group: str = ""
    expected_every: float | None = None
    """Seconds (``EXPECTED_EVERY``); None: the site's ``expected_every``."""
    module: ModuleType | None = field(default=None, compare=False, repr=False)
    source: str = field(default="", compare=False, repr=False)

    @property
    def template_name(self) -> str:
        """The template's name in the Jinja environment: ``<slug>/template.html``."""
        return posixpath.join(self.slug, self.template.name)  # a Jinja name, not a site path

    @property
    def depth_free(self) -> bool:
        """Whether the template renders the same on the latest page and a snapshot."""
        return depth_free(self.source)

    @property
    def is_markdown(self) -> bool:
        """True for ``template.md`` (Jinja2 first, then Markdown)."""
        return self.template.suffix == ".md"
