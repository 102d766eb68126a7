"""The Jinja2 environment every dashsite template renders in."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import CodeType
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    FunctionLoader,
    PackageLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateNotFound,
    Undefined,
    nodes,
    pass_context,
)
from jinja2.runtime import Context
from markupsafe import Markup

from . import charts, image, sparkline, vegalite  # noqa: F401 - they register render types
from .filters import FILTERS, render_filter
from .levels import StatusLevel
from .markdown_render import escape_markdown, markdown_filter
from .renderables import RENDER_TYPES
from .words import collector_label, status_word

THEME_PACKAGE = ("dashsite", "theme")


class DashsiteEnvironment(Environment):
    """A Jinja2 environment that compiles each distinct template source once.

    Sites generated from one pattern (a dashboard per service) hold hundreds
    of identical templates under different names. The first compile of a
    source is kept; later ones reuse its code with the file name (for
    tracebacks and error lines) and the template name put right.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._compiled: dict[tuple[str, bool], tuple[CodeType, str | None]] = {}

    def compile(  # type: ignore[override]
        self,
        source: str | nodes.Template,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> str | CodeType:
        """Compile ``source``, or reuse the code of an identical source."""
        if raw:
            return super().compile(source, name, filename, True, defer_init)
        if not isinstance(source, str):
            return super().compile(source, name, filename, False, defer_init)
        key = (source, defer_init)
        found = self._compiled.get(key)
        if found is None:
            code = super().compile(source, name, filename, False, defer_init)
            self._compiled[key] = (code, name)
            return code
        code, first_name = found
        return _retarget(code, filename or "<template>", first_name, name)


def _retarget(
    code: CodeType, filename: str, old_name: str | None, new_name: str | None
) -> CodeType:
    """``code`` as if compiled from ``filename``; the module's ``name`` constant renamed."""

    def nested(inner: CodeType) -> CodeType:
        consts = tuple(nested(c) if isinstance(c, CodeType) else c for c in inner.co_consts)
        return inner.replace(co_filename=filename, co_consts=consts)

    consts = tuple(
        nested(c)
        if isinstance(c, CodeType)
        else new_name
        if old_name is not None and isinstance(c, str) and c == old_name
        else c
        for c in code.co_consts
    )
    return code.replace(co_filename=filename, co_consts=consts)


@pass_context
def markdown_values_are_text(context: Context, value: Any) -> Any:
    """In a ``template.md``, a ``{{ value }}`` is text, not Markdown.

    A collector's ``[Reset](https://evil.example)`` would otherwise become a
    live link (and ``![x](…)`` a remote image) on the page and in mail.
    Rendered HTML (``| render``, ``| markdown``) passes as it is.
    """
    if isinstance(value, str) and not isinstance(value, Markup) and _is_markdown(context.name):
        return escape_markdown(value)
    return value


def _is_markdown(name: str | None) -> bool:
    return name is not None and name.endswith(".md")


def create_environment(
    search_paths: Sequence[str | Path] = (),
    *,
    inline_css: bool = False,
    strict: bool = True,
    preloaded: Mapping[str, tuple[str, str]] | None = None,
    **options: Any,
) -> Environment:
    """A Jinja2 environment with autoescape, the ``render`` filter and the theme.

    ``search_paths`` come first, so a ``base.html`` there overrides the
    built-in layout (which stays reachable as ``dashsite/base.html``).
    ``inline_css`` sets the default of ``| render``; ``strict`` makes an
    undefined variable an error instead of blank output. ``preloaded`` maps
    template names to ``(source, filename)`` already read (a build reads each
    dashboard's template once, at discovery).
    """
    loaders: list[BaseLoader] = []
    if preloaded:
        sources = dict(preloaded)

        def load(name: str) -> tuple[str, str, Callable[[], bool]] | None:
            found = sources.get(name)
            return None if found is None else (found[0], found[1], lambda: True)

        loaders.append(FunctionLoader(load))
    loaders.append(MonitorFileLoader(search_paths))
    loaders.append(FileSystemLoader([str(p) for p in search_paths]))
    theme = PackageLoader(*THEME_PACKAGE)
    loaders += [PrefixLoader({"dashsite": theme}), theme]
    options.setdefault("loader", ChoiceLoader(loaders))
    options.setdefault("undefined", StrictUndefined if strict else Undefined)
    options.setdefault("autoescape", True)
    options.setdefault("trim_blocks", True)
    options.setdefault("lstrip_blocks", True)
    options.setdefault("cache_size", -1)  # a site has a template per dashboard: never evict
    options.setdefault("finalize", markdown_values_are_text)
    environment = DashsiteEnvironment(**options)
    environment.filters.update(FILTERS)
    environment.filters["markdown"] = markdown_filter
    if inline_css:  # inline styles unless the template says otherwise (mail)

        def render(value: Any, inline_css: bool = True) -> Any:
            return render_filter(value, inline_css=inline_css)

        environment.filters["render"] = render
    else:
        environment.filters["render"] = render_filter  # kstlib's render_html itself
    environment.globals.update(TEMPLATE_GLOBALS)
    return environment


class MonitorFileLoader(BaseLoader):
    """``<slug>/<slug>.monitor.yml``: the template inside a kstlib YAML dashboard.

    Padded with the lines before it in the file, so an error's line is the
    file's own (for a ``template: |`` block).
    """

    def __init__(self, folders: Sequence[str | Path]) -> None:
        self.folders = [Path(folder) for folder in folders]

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        from .monitor_files import SUFFIX, load_monitoring_config

        slug, _, name = template.partition("/")
        if name != f"{slug}{SUFFIX}":
            raise TemplateNotFound(template)
        for folder in self.folders:
            path = folder / name
            if path.is_file():
                stamp = path.stat().st_mtime_ns
                config = load_monitoring_config(path)
                source = config.padded_template

                def fresh(path: Path = path, stamp: int = stamp) -> bool:
                    return path.is_file() and path.stat().st_mtime_ns == stamp

                return source, str(path), fresh
        raise TemplateNotFound(template)


TEMPLATE_GLOBALS: dict[str, Any] = {
    "refresh": 0,  # seconds; pages that should reload themselves pass their own
    "StatusLevel": StatusLevel,
    "status_word": status_word,  # the site's word for a level: status_word(build.status)
    "collector_label": collector_label,
    **RENDER_TYPES,  # every render type, as it registered itself
}
PAGE_NAMES = frozenset(
    {"dashboard", "build", "history", "site", "root", "dashboard_root", "is_latest", "content"}
)
"""Variables every dashboard page gets besides its collectors' values."""
RESERVED_NAMES = frozenset(
    {*TEMPLATE_GLOBALS, *PAGE_NAMES, "range", "dict", "lipsum", "cycler", "joiner", "namespace"}
)
"""Names a collector cannot take: its value would hide a template variable or global."""
