"""The render stage: a template plus collected data → HTML.

Template failures become :class:`RenderError` naming the template and the
line, found from Jinja's rewritten traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from jinja2 import (
    Environment,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
)

from dashsite.core.errors import DashsiteError, RenderError
from dashsite.store.layout import version_day
from dashsite.types.styles import STYLESHEET

if TYPE_CHECKING:
    from dashsite.collection.engine import DashboardData

_HEAD = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)
_HTML = re.compile(r"<html(\s[^>]*)?>", re.IGNORECASE)
_FILTER_NAME = re.compile(r"No filter named '([^']+)'")


def template_location(
    tb: TracebackType | None, filename: str | None
) -> tuple[str | None, int | None]:
    """The template file and line where an exception was raised.

    Jinja rewrites tracebacks (its documented debug support) so template
    frames carry the template's file name and line. A frame is a template's
    when its file is not Python code: Jinja's own frames and the dashboards'
    modules are ``.py`` files, strings compiled from memory are ``<...>``.
    The deepest such frame wins (a layout included), and ``filename`` is the
    fallback when none is found. (No private Jinja name is relied on.)
    """
    where: tuple[str | None, int | None] = (filename, None)
    while tb is not None:
        code = tb.tb_frame.f_code
        name = code.co_filename
        if name == filename or not (name.endswith((".py", ".pyc")) or name.startswith("<")):
            where = (name, tb.tb_lineno)
        tb = tb.tb_next
    return where


def _describe(exc: BaseException) -> tuple[str, str]:
    """A short message and a hint for a template exception."""
    text = str(exc)
    if isinstance(exc, UndefinedError):
        return text, "define it, pass it from a collector, or guard it with 'is defined'"
    if isinstance(exc, TemplateNotFound):
        return (
            f"template {exc.name!r} not found",
            "put it in dashboards/_layouts/ (extends, include and import look there, "
            "in dashboards/ and in the built-in theme)",
        )
    if match := _FILTER_NAME.search(text):
        return f"unknown filter '{match.group(1)}'", "check the filter name"
    if isinstance(exc, TemplateSyntaxError):
        return f"template syntax error: {exc.message}", "fix the template syntax"
    if isinstance(exc, TemplateError):
        return text, "fix the template"
    return f"{type(exc).__name__}: {text}", "fix the template or the data it uses"


def to_render_error(exc: BaseException, path: str | None) -> RenderError:
    """Turn any exception raised while compiling or rendering into a RenderError."""
    if isinstance(exc, RenderError):
        return exc
    if isinstance(exc, TemplateSyntaxError):
        where = exc.filename or path
        message, hint = _describe(exc)
        return RenderError(message, path=where, line=exc.lineno, hint=hint)
    message, hint = _describe(exc)
    if isinstance(exc, DashsiteError):
        message, hint = exc.message, exc.hint
    where, line = template_location(exc.__traceback__, path)
    return RenderError(message, path=where, line=line, hint=hint)


def compile_template(
    environment: Environment,
    *,
    source: str | None = None,
    name: str | None = None,
    path: str | None = None,
) -> Template:
    """Compile a template from ``source`` text or load it by ``name``."""
    try:
        if source is not None:
            return environment.from_string(source)
        assert name is not None
        return environment.get_template(name)
    except Exception as exc:
        raise to_render_error(exc, path or name) from exc


def render_compiled(template: Template, context: Mapping[str, Any]) -> str:
    """Render ``template``; any failure is a RenderError with file and line."""
    try:
        return template.render(context)
    except Exception as exc:
        raise to_render_error(exc, template.filename) from exc


def add_stylesheet(html: str, css: str = STYLESHEET) -> str:
    """Put a ``<style>`` block inside ``<head>`` (or before a fragment)."""
    block = f"<style>\n{css}</style>\n"
    if match := _HEAD.search(html):
        return html[: match.end()] + "\n" + block + html[match.end() :]
    if match := _HTML.search(html):
        return html[: match.end()] + f"\n<head>\n{block}</head>\n" + html[match.end() :]
    return block + html


_DOCUMENT = re.compile(r"^\s*(<!--.*?-->\s*)*(<!doctype\s|<html[\s>])", re.IGNORECASE | re.DOTALL)


def is_document(html: str) -> bool:
    """True when ``html`` is a whole document rather than a fragment."""
    return _DOCUMENT.match(html) is not None


def render_body(
    environment: Environment, template_name: str, context: Mapping[str, Any], *, markdown: bool
) -> str:
    """A dashboard's own template rendered: Jinja2, then Markdown for ``template.md``.

    A ``*.monitor.yml`` template comes from configuration: it renders sandboxed.
    """
    from dashsite.render.markdown import markdown_to_html
    from dashsite.render.sandbox import environment_for

    template = compile_template(environment_for(environment, template_name), name=template_name)
    body = _render_bounded(template, context)
    return markdown_to_html(body) if markdown else body


MAX_BODY = 32 * 1024 * 1024
"""Characters a dashboard's own template may render: past it, a loop ran away (a
gigabyte page took a minute to write and was filed as if nothing were wrong)."""


def _render_bounded(template: Template, context: Mapping[str, Any]) -> str:
    """:func:`render_compiled`, stopped with a RenderError past :data:`MAX_BODY`."""
    parts: list[str] = []
    size = 0
    try:
        for part in template.generate(context):
            size += len(part)
            if size > MAX_BODY:
                raise RenderError(
                    f"renders more than {MAX_BODY:,} characters",
                    path=template.filename,
                    hint="a loop repeats more than a page can show: limit it",
                )
            parts.append(part)
    except RenderError:
        raise
    except Exception as exc:
        raise to_render_error(exc, template.filename) from exc
    return "".join(parts)


def wrap_body(environment: Environment, body: str, context: Mapping[str, Any]) -> str:
    """A whole document as it is; a fragment inside the ``dashboard.html`` layout."""
    from markupsafe import Markup

    if is_document(body):
        return body
    layout = compile_template(environment, name="dashboard.html")
    return render_compiled(layout, {**context, "content": Markup(body)})  # noqa: S704


def dashboard_context(
    item: DashboardData,
    version: str,
    collected_at: datetime,
    history: Sequence[Any],
    site: Mapping[str, Any],
    *,
    latest: bool,
    folder: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What a dashboard's template sees on its latest page or on a snapshot.

    The two differ only in how deep they sit, which sets the relative
    ``root`` (site root) and ``dashboard_root`` (the dashboard's folder).
    ``build.path`` is the version's folder inside the dashboard's
    (``folder``, by default its day's: ``2026-11-27/<id>/``). ``extra`` adds what the
    build knows beyond this version, under ``build``: ``timeline`` (uptime,
    bars, incidents), ``last_good``, ``changes`` and ``in_history`` (this version's row
    in the history, site-relative); ``last_good`` is also a variable of its own. On a
    check's latest page (the data unchanged), ``unchanged_since`` is the latest version's
    log record, ``version`` and ``path`` are that version's, ``collected_at`` the check's.
    """
    dashboard = item.dashboard
    path = folder if folder is not None else f"{version_day(version, collected_at)}/"
    up = "../" * path.count("/")
    known: dict[str, Any] = {
        "timeline": None,
        "last_good": {},
        "changes": None,
        "in_history": None,
        "stale_after": None,
        "unchanged_since": None,
    }
    known.update(extra or {})
    return {
        "last_good": known["last_good"],  # a collector of that name wins
        **item.values,
        "dashboard": {
            "slug": dashboard.slug,
            "title": dashboard.title,
            "description": dashboard.description,
        },
        "build": {
            "version": version,
            "path": path,
            "collected_at": collected_at,
            "status": item.status,
            "errors": item.errors,
            **known,
            "collectors": {
                o.name: {
                    "duration": o.duration,
                    "attempts": o.attempts,
                    "ok": o.ok,
                    "reused": o.reused_from is not None,
                    "collected_at": o.finished_at if o.reused_from else collected_at,
                    "age": max(0.0, (collected_at - o.finished_at).total_seconds())
                    if o.reused_from
                    else 0.0,
                }
                for o in item.outcomes
            },
        },
        "history": history,
        "site": site,
        "root": "../" if latest else f"../{up}",
        "dashboard_root": "" if latest else up,
        "is_latest": latest,
        "refresh": site.get("refresh", 0) if latest else 0,  # snapshots never change
    }


def render_dashboard_pages(
    environment: Environment,
    item: DashboardData,
    version: str,
    collected_at: datetime,
    history: Sequence[Any],
    site: Mapping[str, Any],
    *,
    snapshot: bool = True,
    extra: Mapping[str, Any] | None = None,
    folder: str | None = None,
    kept: Callable[[str], str | None] | None = None,
) -> tuple[str, str | None]:
    """A dashboard's latest page (``<slug>/index.html``) and its snapshot.

    The two differ only in how deep they sit; a :func:`depth_free`
    template's body is rendered once and wrapped twice. The preview and a
    check ask for the latest page only (``snapshot=False``); a check names the
    ``folder`` of the version it repeats, and may keep its previous page
    (:mod:`dashsite.site.retime`): ``kept`` is given the rendered body and returns
    the page to use, or None to draw it.
    """
    dashboard = item.dashboard
    name, markdown = dashboard.template_name, dashboard.is_markdown
    latest = dashboard_context(
        item, version, collected_at, history, site, latest=True, folder=folder, extra=extra
    )
    body = render_body(environment, name, latest, markdown=markdown)
    page = kept(body) if kept is not None and not is_document(body) else None
    if page is None:
        page = wrap_body(environment, body, latest)
    if not snapshot:
        return page, None
    deeper = dashboard_context(
        item, version, collected_at, history, site, latest=False, extra=extra
    )
    if not dashboard.depth_free:
        body = render_body(environment, name, deeper, markdown=markdown)
    return page, wrap_body(environment, body, deeper)


def render_failure_pages(
    environment: Environment,
    item: DashboardData,
    version: str,
    collected_at: datetime,
    history: Sequence[Any],
    site: Mapping[str, Any],
    problem: DashsiteError,
    extra: Mapping[str, Any] | None = None,
) -> tuple[str, str]:
    """Built-in pages for a version whose own template failed after a collector failed.

    The version is filed anyway, so the site says the source is down instead
    of keeping the last good page; the layout lists the collectors' errors and
    this body names the template's.
    """
    from markupsafe import Markup, escape

    body = Markup(
        '<section class="collector-error" role="alert">'
        "<h2>This dashboard could not be drawn</h2>"
        "<p>A collector failed, and the dashboard's template could not render without it:</p>"
        "<p><code>{}</code></p>"
        "<p>Make the template tolerate a failed collector (a failed value renders as an "
        "error box; <code>history | series(…)</code> skips failed versions).</p>"
        "</section>"
    ).format(escape(problem.one_line()))
    pages = []
    for latest in (True, False):
        context = dashboard_context(
            item, version, collected_at, history, site, latest=latest, extra=extra
        )
        layout = compile_template(environment, name="dashboard.html")
        pages.append(render_compiled(layout, {**context, "content": body}))
    return pages[0], pages[1]
