"""Messages: the title and body (plain text and Markdown) of what a target is told.

Title: the dashboard, its new status word and what failed. Body: since when,
the failing collectors and their last error, and a link to the version's
page (``base_url`` + the page). Error text comes from collectors, so it is
untrusted: ANSI escapes and control characters are removed, whitespace is
collapsed to one line, URLs are replaced (an error must not carry a link a
reader might follow), it is cut to :data:`ERROR_CHARS` characters, and in
the Markdown variant ``<``, ``>``, ``&`` and Markdown punctuation are
escaped. Nothing else of the collected data goes out.

A site may replace the body with its own Jinja template (``template`` in
``[notify]`` or a target); it runs in Jinja's ``SandboxedEnvironment``, as
configuration, not code, should.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from dashsite.core.errors import ConfigError, display
from dashsite.core.levels import StatusLevel
from dashsite.notify.transitions import Transition

ERROR_CHARS = 200
TITLE_CHARS = 120
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_URL = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]*://|www\.)\S+")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#|~!])")
WORDS = {
    StatusLevel.OK: "OK",
    StatusLevel.WARNING: "degraded",
    StatusLevel.ERROR: "down",
    StatusLevel.CRITICAL: "critical",
}
"""A level as a status word in a message."""

DEFAULT_BODY = """\
{%- if grouped -%}
{{ changes | length }} dashboards changed:
{% for c in changes %}- {{ c.dashboard }}: {{ c.summary }}{% if c.link %} {{ c.link }}{% endif %}
{% endfor %}
{%- if link %}
All dashboards: {{ link }}
{%- endif %}
{%- else -%}
{%- set c = changes[0] -%}
{{ c.dashboard }}: {{ c.summary }}.
{% if c.kind == "recovered" %}Was {{ c.worst }} from {{ c.since }} to {{ c.at }}.
{%- else %}Not OK since {{ c.since }}{% if c.version %} (version {{ c.version }}){% endif %}.
{%- endif %}
{%- if c.failed %}
{% if c.kind == "recovered" %}Had failed:{% else %}Failing:{% endif %}
{% for f in c.failed %}- {{ f.name }}: {{ f.error }}
{% endfor %}
{%- endif %}
{%- if c.link %}
{{ c.link }}
{%- endif %}
{%- endif %}
"""


@dataclass(frozen=True, slots=True)
class Message:
    """One message to one target: a title and two variants of the body."""

    title: str
    text: str
    markdown: str
    link: str = ""
    level: StatusLevel = StatusLevel.OK
    transitions: tuple[Transition, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """The built-in webhook's payload."""
        return {
            "title": self.title,
            "text": self.text,
            "markdown": self.markdown,
            "status": self.level.slug,
            "link": self.link,
            "changes": [
                {
                    "dashboard": t.slug,
                    "change": t.kind,
                    "status": t.level.slug,
                    "since": t.start.isoformat(),
                    "at": t.at.isoformat(),
                    "version": t.version,
                    "failed": {name: clean(error) for name, error in t.failed},
                }
                for t in self.transitions
            ],
        }


def clean(text: str, limit: int = ERROR_CHARS) -> str:
    """Untrusted text as one safe line: no escapes, no control characters, no URLs, short."""
    if not text.isprintable():  # control, format and line-separator characters (and ESC)
        text = _ANSI.sub("", text)
        text = "".join(
            " " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text
        )
    text = _URL.sub("(link removed)", " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def markdown_escape(text: str) -> str:
    """Plain text that Markdown (and HTML) shows as written."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", text)


def summary(found: Transition) -> str:
    """``down — api failing``, ``recovered``, ``still down``, ``worse: critical``."""
    word = WORDS[found.level]
    names = ", ".join(clean(name, 60) for name, _ in found.failed[:5])
    more = f" and {len(found.failed) - 5} more" if len(found.failed) > 5 else ""
    what = f" — {names}{more} failing" if names and found.kind != "recovered" else ""
    head = {
        "opened": word,
        "worsened": f"worse, now {word}",
        "ongoing": f"still {word}",
        "recovered": "recovered",
    }[found.kind]
    return head + what


def _when(moment: Any) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def title_of(changes: Sequence[Transition], site_title: str) -> str:
    """The message's title (plain text)."""
    if len(changes) == 1:
        found = changes[0]
        return clean(f"{clean(found.title, 60)}: {summary(found)}", TITLE_CHARS)
    counts: dict[str, int] = {}
    for found in changes:
        counts[found.kind] = counts.get(found.kind, 0) + 1
    parts = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    slugs = {found.slug for found in changes}
    return clean(f"{clean(site_title, 60)}: {len(slugs)} dashboards changed ({parts})", TITLE_CHARS)


def link_of(base_url: str, relative: str) -> str:
    """An absolute link to a page of the site, or "" without ``base_url``."""
    if not base_url:
        return ""
    return f"{base_url.rstrip('/')}/{relative}"


def _context(
    changes: Sequence[Transition], base_url: str, site_title: str, escape: Any
) -> dict[str, Any]:
    items = []
    for found in changes:
        items.append(
            {
                "dashboard": escape(clean(found.title, 80)),
                "slug": found.slug,
                "kind": found.kind,
                "status": found.level.slug,
                "word": WORDS[found.level],
                "worst": WORDS[found.level],
                "summary": escape(summary(found)),
                "since": _when(found.start),
                "at": _when(found.at),
                "version": found.version,
                "failed": [
                    {"name": escape(clean(name, 60)), "error": escape(clean(error))}
                    for name, error in found.failed
                ],
                "link": link_of(base_url, found.url) if found.url else "",
            }
        )
    return {
        "site": {"title": escape(clean(site_title, 80))},
        "grouped": len(changes) > 1,
        "changes": items,
        "link": link_of(base_url, "index.html"),
    }


class MessageBuilder:
    """Builds messages from transitions with the default or a site's (sandboxed) template."""

    def __init__(self, base_url: str, site_title: str, template: Path | None = None,
                 root: Path | None = None) -> None:  # fmt: skip
        self.base_url = base_url
        self.site_title = site_title
        self.environment = SandboxedEnvironment(
            autoescape=False, undefined=StrictUndefined, keep_trailing_newline=False
        )
        source, self.where = DEFAULT_BODY, "the default notify template"
        if template is not None:
            self.where = display(template, root)
            try:
                source = template.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(
                    f"cannot read the notify template: {exc}",
                    path=self.where,
                    hint="check [notify] template",
                ) from None
        try:
            self.body = self.environment.from_string(source)
        except TemplateSyntaxError as exc:
            raise ConfigError(
                exc.message or "template syntax error",
                path=self.where,
                line=exc.lineno,
                hint="fix the template",
            ) from None

    def build(self, changes: Sequence[Transition]) -> Message:
        """One message for these changes (one transition, or a group)."""
        try:
            text = self.body.render(
                _context(changes, self.base_url, self.site_title, lambda s: s)
            ).strip()
            markdown = self.body.render(
                _context(changes, self.base_url, self.site_title, markdown_escape)
            ).strip()
        except TemplateError as exc:
            raise ConfigError(
                f"the notify template failed: {exc}",
                path=self.where,
                line=_template_line(exc),
                hint="fix the template",
            ) from None
        single = changes[0] if len(changes) == 1 else None
        link = (
            link_of(self.base_url, single.url)
            if single is not None and single.url
            else link_of(self.base_url, "index.html")
        )
        worst = max((c.level for c in changes if c.kind != "recovered"), default=StatusLevel.OK)
        return Message(title_of(changes, self.site_title), text, markdown, link, worst,
                       tuple(changes))  # fmt: skip


def _template_line(error: BaseException) -> int | None:
    """The template's line an error was raised at (Jinja maps its frames to the template's
    lines, named ``<template>``), or None."""
    line = None
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return line
