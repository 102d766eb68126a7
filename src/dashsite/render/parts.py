"""``cached_month(month)``: a history calendar's finished month, drawn once and kept.

The history index draws each month of its calendar inside
``{% call cached_month(m.month) %}…{% endcall %}``. When an earlier build drew
that month from the same things (its key, :meth:`StatusView.part_key` plus the
month's count and worst level), the kept drawing is used and the block is not
run: no status file read, no day drawn. Otherwise the block is drawn and kept
(:mod:`dashsite.store.parts`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from jinja2 import Environment, TemplateNotFound
from markupsafe import Markup

from dashsite.core.version import VERSION
from dashsite.render.compiled import release
from dashsite.store.parts import PARTS_SCHEMA, PartCache

DRAWING_LIBRARIES = ("jinja2", "markupsafe")
"""Libraries whose release is part of what a part is drawn with."""
CALENDAR_TEMPLATES = ("history.html", "status.html")
"""What a calendar month is drawn with: the history page and the status macros it imports."""


def parts_signature(
    environment: Environment,
    site: Mapping[str, Any],
    code: Sequence[ModuleType],
    names: Sequence[str] = CALENDAR_TEMPLATES,
) -> str:
    """What every part of a build is drawn with: the release (and Jinja2's), the source of
    the modules ``code`` (the Python that draws days and words), the templates ``names``
    (the theme's or a layout's), the site's status words."""
    versions = " ".join([VERSION, *(f"{name} {release(name)}" for name in DRAWING_LIBRARIES)])
    digest = hashlib.sha256(f"{versions}\n{PARTS_SCHEMA}\n".encode())
    for module in code:
        try:
            digest.update(Path(module.__file__ or "").read_bytes())
        except OSError:
            digest.update(module.__name__.encode())
    loader = environment.loader
    for name in names:
        try:
            source = loader.get_source(environment, name)[0] if loader is not None else ""
        except TemplateNotFound:
            source = ""
        digest.update(f"{name}\n{len(source)}\n{source}\n".encode())
    digest.update(json.dumps(site.get("words"), sort_keys=True, default=str).encode())
    return digest.hexdigest()


class CachedMonths:
    """The ``cached_month`` a history index calls: ``keys`` gives a month's key (None:
    draw it every time), ``cache`` the parts kept (None: no cache, always drawn)."""

    def __init__(self, cache: PartCache | None, keys: Callable[[str], str | None]) -> None:
        self.cache = cache
        self.keys = keys

    def __call__(self, month: str, *, caller: Callable[[], str]) -> Markup:
        cache = self.cache
        key = self.keys(month) if cache is not None else None
        if cache is None or key is None:
            return Markup(caller())  # noqa: S704 - the template's own output
        found = cache.get(month, key)
        if found is None:
            found = str(caller())
            after = self.keys(month)  # drawing may have redone a status file (a new seal)
            if after is not None:
                cache.put(month, after, found)
        return Markup(found)  # noqa: S704 - drawn by this template, kept in local state
