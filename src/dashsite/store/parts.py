"""Parts of pages drawn by an earlier build: ``.dashsite/<site>.parts/<slug>.json.gz``.

The history index draws a calendar of the last 13 months, and a finished
month's calendar changes only when what it is drawn from changes: its status
file, the incidents around it, the templates. A build keeps each drawing
with a key naming all of that (:meth:`dashsite.status.view.StatusView.part_key`,
the template sources, the site's words); the next build whose key is the
same takes the drawing instead of reading a month's status file and drawing
its days again. A year of 5-minute history costs the history index about 60 ms
a dashboard a build without it.

These files are local state, beside the lock: never published nor pulled. A
drawing is markup, and markup read back from a publish target would let
whoever can write there put script into every page the site builds later.
A CI job that starts from a fresh checkout finds none and draws every month
(as a build did before there were parts).

One file per dashboard, so the workers of ``build --jobs`` each write their
own; written atomically, and only when a part changed (once a month, or
once a day for the months within the 90-day bars, whose links follow them).
Damaged, from another release or another dashboard: ignored and drawn again.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from pathlib import Path

from dashsite.store.layout import state_file
from dashsite.store.write import atomic_write, contained, state_folder

PARTS_SCHEMA = 1
"""Raise it when the drawing code changes what a part holds: every kept part is redrawn."""


def parts_folder(site: Path) -> Path:
    """``.dashsite/<site>.parts`` beside ``site``."""
    return state_file(site, "parts")


class PartStore:
    """Where one build keeps its dashboards' parts (:class:`PartCache`, one a dashboard).

    ``signature`` names what every part of this build is drawn with (the release,
    the templates' sources, the site's words): a part drawn with another is not
    taken.
    """

    def __init__(self, site: Path, signature: str) -> None:
        self.site = site
        self.signature = signature

    def dashboard(self, slug: str) -> PartCache:
        """The parts of dashboard ``slug``, read now."""
        path = contained(parts_folder(self.site), f"{slug}.json.gz")
        return PartCache(path, slug, self.signature, self.site)


class PartCache:
    """One dashboard's parts: name (a month) → the key it was drawn for and its markup."""

    def __init__(self, path: Path, slug: str, signature: str, site: Path) -> None:
        self.path = path
        self.site = site
        self.slug = slug
        self.signature = signature
        self.kept: dict[str, tuple[str, str]] = self._read()
        self.current: dict[str, tuple[str, str]] = {}

    def key(self, text: str) -> str:
        """The stored form of a part's key: ``text`` with the build's signature, hashed."""
        return hashlib.sha256(f"{self.signature}\n{text}".encode()).hexdigest()

    def get(self, name: str, text: str) -> str | None:
        """The markup of part ``name`` if an earlier build drew it for ``text``."""
        found = self.kept.get(name)
        if found is None or found[0] != self.key(text):
            return None
        self.current[name] = found
        return found[1]

    def put(self, name: str, text: str, markup: str) -> None:
        """Part ``name``, drawn now for ``text``."""
        self.current[name] = (self.key(text), markup)

    def save(self) -> None:
        """Keep the parts used this time (those not asked for are dropped), if any changed.

        A cache: a file that cannot be written (a full disk, a folder in its place) is
        left as it is, and the next build draws those months again.
        """
        if self.current == self.kept:
            return
        document = {
            "schema": PARTS_SCHEMA,
            "slug": self.slug,
            "parts": {name: list(found) for name, found in sorted(self.current.items())},
        }
        data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            if not self.current:
                self.path.unlink(missing_ok=True)
                return
            state_folder(self.site.parent)
            self.path.parent.mkdir(exist_ok=True)
            atomic_write(self.path, gzip.compress(data, compresslevel=6, mtime=0))
        except OSError:
            return

    def _read(self) -> dict[str, tuple[str, str]]:
        try:
            raw = json.loads(gzip.decompress(self.path.read_bytes()))
        except (OSError, EOFError, ValueError, zlib.error, RecursionError):
            return {}
        if not isinstance(raw, dict) or raw.get("schema") != PARTS_SCHEMA:
            return {}
        parts = raw.get("parts")
        if raw.get("slug") != self.slug or not isinstance(parts, dict):
            return {}
        return {
            name: (found[0], found[1])
            for name, found in parts.items()
            if isinstance(found, list)
            and len(found) == 2
            and all(isinstance(value, str) for value in found)
        }
