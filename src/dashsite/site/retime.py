"""A check's latest page, retimed: the previous page with its two times replaced.

A check (:mod:`.build`, a build whose data did not change) draws its
dashboard's latest page again: it says when the data was collected. Drawing
the layout around the body (the 90 day bars, the uptime, the incidents) was a
fifth of a quiet build at 1,000 dashboards, and on most checks nothing on the
page moves but two times: "Collected …" and the footer's "Built …".

So a check keys its page by everything the layout draws besides those two
times (:func:`page_key`): the body as rendered (the dashboard's own template
is always rendered: it may show anything), the version it repeats, what the
page shows of the status over time (:meth:`StatusView.page_key`), the theme's
templates and code, the site's title, assets and words. When the previous
build's check drew the page from the same key, and the page on disk is the
one it drew (its hash, kept with the key: a page a ``pull`` brought back is
one), the two times are replaced in it (:func:`retimed`); else the page is drawn.
A page whose collectors failed (the last good values' ages move), reused a
value under ``every`` (its age moves), is a whole document, or is drawn by a
layout of the site's own (it may show anything) is always drawn.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from jinja2 import Environment, TemplateNotFound

from dashsite.collection.engine import DashboardData
from dashsite.render.parts import parts_signature
from dashsite.status.view import StatusView
from dashsite.store.log import LogRecord
from dashsite.store.write import SiteFolder
from dashsite.types.formats import isotime, timestamp

LAYOUT = ("dashboard.html", "base.html", "status.html")
"""The theme's templates a latest page is drawn with (the body aside)."""

_COLLECTED = 'Collected <time datetime="{}"'
_BUILT = 'Built <time datetime="{}">{}</time>'


@dataclass(frozen=True, slots=True)
class Drawn:
    """What a check's latest page was drawn from (:func:`page_key`), its two times, and
    the page's own hash (:func:`page_hash`)."""

    key: str
    collected_at: datetime
    built_at: datetime
    page: str

    def to_text(self) -> str:
        """One line of ``.dashsite/<site>.live.json`` (:attr:`LiveCache.pages`)."""
        times = f"{self.collected_at.isoformat()} {self.built_at.isoformat()}"
        return f"{self.key} {times} {self.page}"

    @classmethod
    def from_text(cls, text: str) -> Drawn | None:
        """The line back; None when it is not one (a damaged cache: the page is drawn)."""
        try:
            key, collected, built, page = text.split(" ")
            at, built_at = datetime.fromisoformat(collected), datetime.fromisoformat(built)
        except ValueError:
            return None
        return cls(key, at, built_at, page)


def page_hash(page: bytes) -> str:
    """A latest page's bytes, hashed: the page a check finds is the one it drew."""
    return hashlib.blake2b(page, digest_size=16).hexdigest()


def layout_signature(environment: Environment, site: Mapping[str, Any]) -> str | None:
    """What every latest page of a build is drawn with around its body: the theme's
    templates and the Python that draws them, the site's title, address,
    assets, words and refresh. None when the site's layouts replace one of the theme's
    templates: a layout of one's own may show anything (then checks draw their pages)."""
    theme = Path(__file__).resolve().parent.parent / "theme"
    loader = environment.loader
    if loader is None:
        return None
    for name in LAYOUT:
        try:
            filename = loader.get_source(environment, name)[1]
        except TemplateNotFound:
            return None
        if filename is None or not Path(filename).resolve().is_relative_to(theme):
            return None
    drawn = {k: site.get(k) for k in ("title", "base_url", "assets", "refresh", "preview")}
    text = json.dumps(
        [parts_signature(environment, site, _code(), LAYOUT), drawn], sort_keys=True, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _code() -> tuple[ModuleType, ...]:
    """The modules whose code draws a latest page's layout (their source is signed)."""
    from dashsite.core import words
    from dashsite.render import fragments, pages
    from dashsite.status import model, view
    from dashsite.types import formats, renderables

    return (fragments, formats, pages, renderables, model, view, words, sys.modules[__name__])


def page_key(
    signature: str | None,
    item: DashboardData,
    body: str,
    same: LogRecord,
    key: str,
    extra: Mapping[str, Any],
) -> str | None:
    """What a check's latest page is drawn from besides its two times, hashed; None when
    the page must be drawn whatever the previous one was (see the module's docstring).

    ``body``: the dashboard's template, rendered (always: it may show anything, and the
    live values it renders can differ where their stored form does not, a dict's order
    say); ``same``: the version the check repeats; ``key``: its data key; ``extra``: the
    page's ``build.*`` beyond the run."""
    view = extra.get("timeline")
    if (
        signature is None
        or item.errors
        or any(o.reused_from is not None for o in item.outcomes)
        or not isinstance(view, StatusView)
        or extra.get("changes")
    ):
        return None
    drawn = [
        signature,
        key,
        same.id,
        same.path,
        same.collected_at,
        item.status.slug,
        item.dashboard.slug,
        _hash(body),
        view.page_key(),
        extra.get("stale_after"),
    ]
    return hashlib.blake2b(repr(drawn).encode(), digest_size=12).hexdigest()


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def retimed(page: str, was: Drawn, collected_at: datetime, built_at: datetime) -> str | None:
    """``page`` (drawn at ``was``'s times) with its "Collected" and "Built" times moved to
    ``collected_at`` and ``built_at``; None unless each is found exactly once where the
    theme writes it (then the page is drawn)."""
    collected = _COLLECTED.format(isotime(was.collected_at))
    built = _BUILT.format(isotime(was.built_at), timestamp(was.built_at))
    if page.count(collected) != 1 or page.count(built) != 1:
        return None
    start = page.index(collected)
    stamp = f">{timestamp(was.collected_at)}</time>"
    end = page.find(stamp, start)
    if end < 0 or page.find(">", start + len(collected)) != end:
        return None  # not this <time>'s text (its attributes end where the stamp begins)
    head = page[:start] + _COLLECTED.format(isotime(collected_at))
    middle = page[start + len(collected) : end] + f">{timestamp(collected_at)}</time>"
    page = head + middle + page[end + len(stamp) :]
    return page.replace(built, _BUILT.format(isotime(built_at), timestamp(built_at)))


def kept_page(
    writer: SiteFolder,
    relative: str,
    before: str | None,
    key: str,
    collected_at: datetime,
    built_at: datetime,
) -> str | None:
    """The latest page ``relative`` retimed to ``collected_at`` and ``built_at``, when the
    previous build drew it (``before``: its :class:`Drawn`, as text) from ``key`` and it
    is still the page that build drew, byte for byte (also after a ``pull`` brought it
    back); else None (draw it)."""
    was = Drawn.from_text(before) if before is not None else None
    if was is None or was.key != key:
        return None
    found = writer.read(relative)
    if found is None or page_hash(found) != was.page:
        return None
    try:
        page = found.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return retimed(page, was, collected_at, built_at)
