"""The words a visitor reads for each state, configurable per site (``[status_words]``).

Machine values (CSS classes, ``manifest.json``, badges, feeds' categories)
keep the level slugs ``ok``/``warning``/``error``/``critical``; only visible
text uses these words. The defaults are the ones status pages have taught
visitors to read (Atlassian Statuspage, Upptime): a word for what a visitor
can do, not the internal level name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from dashsite.core.levels import StatusLevel


@dataclass(frozen=True, slots=True)
class StatusWords:
    """What each state is called on pages; a field per key of ``[status_words]``."""

    ok: str = "Operational"
    warning: str = "Degraded"
    error: str = "Partial outage"
    critical: str = "Major outage"
    stale: str = "Stale"
    no_data: str = "No data"
    failed: str = "Failed to load"
    unbuilt: str = "Not built"
    maintenance: str = "Maintenance"
    scheduled: str = "Scheduled"
    """Maintenance declared ahead, not begun yet."""
    archived: str = "Archived"

    def level(self, level: StatusLevel | str | None) -> str:
        """The word for a level (or its slug); :attr:`no_data` for None."""
        if level is None:
            return self.no_data
        slug = level.slug if isinstance(level, StatusLevel) else str(level).lower()
        word = getattr(self, slug.replace(" ", "_"), None) if slug in WORD_KEYS else None
        return word if isinstance(word, str) else slug

    def as_dict(self) -> dict[str, str]:
        """Every word by key (the site context's ``site.words``)."""
        return {key: getattr(self, key) for key in WORD_KEYS}

    def __getitem__(self, key: str) -> str:
        return self.level(key)


WORD_KEYS = tuple(f.name for f in fields(StatusWords))


def status_words_problem(table: Mapping[str, Any]) -> str | None:
    """What is wrong with ``[status_words]``, or None."""
    for key, value in table.items():
        if key not in WORD_KEYS:
            return f"unknown key {key!r} in [status_words] — known keys: {', '.join(WORD_KEYS)}"
        if not isinstance(value, str) or not value.strip() or len(value) > 40:
            return f"[status_words] {key!r} must be a short non-empty string, not {value!r}"
    return None


def status_words(table: Mapping[str, str] | None) -> StatusWords:
    """The site's words: the defaults with ``[status_words]`` over them."""
    return StatusWords(**{k: v.strip() for k, v in (table or {}).items()})


DEFAULT_WORDS = StatusWords()


@pass_context
def status_word(context: Context, level: Any) -> str:
    """``{{ status_word(build.status) }}``: the site's word for a level, slug or None."""
    site = context.get("site")
    words = site.get("words") if isinstance(site, Mapping) else None
    chosen = words if isinstance(words, StatusWords) else DEFAULT_WORDS
    return chosen.level(level)


def collector_label(name: str) -> str:
    """A collector's code name as a visitor reads it: ``api_status`` → ``Api status``."""
    words = name.replace("_", " ").replace("-", " ").replace(".", " ").split()
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else name
