"""The Jinja2 environment every dashsite template renders in."""

from __future__ import annotations

import functools
import hashlib
import sys
import threading
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
from jinja2.filters import FILTERS as FILTERS_BUILTIN
from jinja2.runtime import Context
from markupsafe import Markup

from dashsite.collection.files import format_of
from dashsite.core.version import VERSION
from dashsite.render.compiled import CodeFolder, library_versions, module_sources
from dashsite.render.fragments import day_bars, version_rows
from dashsite.render.lookup import ItemsFirst
from dashsite.render.markdown import data_in_markdown, literal_in_markdown, markdown_filter
from dashsite.types.filters import FILTERS, Rendered, render_filter
from dashsite.types.namespace import template_globals

THEME_PACKAGE = ("dashsite", "theme")


SHARED_CODE_LIMIT = 1024
"""Compiled templates kept for every environment of the process (oldest dropped first)."""
_SHARED_CODE: dict[tuple[Any, ...], tuple[CodeType, str | None]] = {}
_SHARING = threading.Lock()


class DashsiteEnvironment(ItemsFirst, Environment):
    """A Jinja2 environment that compiles each distinct template source once.

    Sites generated from one pattern (a dashboard per service) hold hundreds
    of identical templates under different names. The first compile of a
    source is kept; later ones reuse its code with the file name (for
    tracebacks and error lines) and the template name put right. The code is
    also shared with later environments set up alike (same syntax, filters,
    tests…) in the same process: a preview, a service or a test suite that
    builds again does not compile the theme again.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._compiled: dict[tuple[str, bool, bool], tuple[CodeType, str | None]] = {}
        self._kept_set_ups: dict[tuple[Any, ...], str | None] = {}
        """The environment's part of a kept key, by its set-up (:meth:`_kept_key`)."""
        self._generating = threading.Lock()
        self.code_folder: CodeFolder | None = None
        """Where compiled templates are kept between builds (:mod:`.compiled`), if anywhere."""

    def _generate(
        self,
        source: nodes.Template,
        name: str | None,
        filename: str | None,
        defer_init: bool = False,
    ) -> str:
        """Generate code with ``finalize`` only for Markdown templates.

        ``finalize`` (keeping a value's Markdown as text) matters only in a
        ``template.md``; compiled into an HTML template it would run, for nothing,
        on every ``{{ }}`` of every page.
        """
        if self.finalize is None or _is_markdown(name):
            return super()._generate(source, name, filename, defer_init)
        with self._generating:
            finalize, self.finalize = self.finalize, None
            try:
                return super()._generate(source, name, filename, defer_init)
            finally:
                self.finalize = finalize

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
        key = (source, defer_init, _is_markdown(name))
        found = self._compiled.get(key)
        if found is None:
            shared = self._shared_key(key)
            found = _SHARED_CODE.get(shared) if shared is not None else None
            kept = self._kept_key(key, shared) if found is None and shared is not None else None
            if kept is not None and self.code_folder is not None:
                found = self.code_folder.get(kept)  # compiled by an earlier build
            if found is None:
                code = super().compile(source, name, filename, False, defer_init)
                self._compiled[key] = (code, name)
                if shared is not None:
                    _share(shared, (code, name))
                if kept is not None and self.code_folder is not None:
                    self.code_folder.put(kept, code, name)
                return code
            if shared is not None:
                _share(shared, found)
            self._compiled[key] = found
        code, first_name = found
        return _retarget(code, filename or "<template>", first_name, name)

    def _kept_key(
        self, key: tuple[str, bool, bool], shared: tuple[Any, ...] | None = None
    ) -> str | None:
        """The name :attr:`code_folder` keeps ``key``'s code under: :meth:`_shared_key`'s
        parts by name, not by object (the same in the next build's process), and the
        releases and filter modules the code was generated with.

        The environment's part is worked out once for each set-up it has (``shared``, the
        shared key, without ``key``: its filters and options as objects), not for each
        of a thousand dashboards' templates."""
        if self.extensions or not isinstance(self.autoescape, bool):
            return None  # (an autoescape function is decided when the code is generated)
        shared = shared or self._shared_key(key)
        if shared is None:
            return None
        set_up = shared[: -len(key)]
        if set_up not in self._kept_set_ups:
            callables = [*self.filters.values(), *self.tests.values(), self.finalize,
                         self.autoescape, *self.policies.values()]  # fmt: skip
            modules = {getattr(f, "__module__", None) or "-" for f in callables if callable(f)}
            try:
                self._kept_set_ups[set_up] = self._kept_name(modules)
            except _Unnamed:
                self._kept_set_ups[set_up] = None  # kept in this process only
        named = self._kept_set_ups[set_up]
        if named is None:
            return None
        return hashlib.blake2b(f"{named}\n{key!r}".encode(), digest_size=20).hexdigest()

    def _kept_name(self, modules: set[str]) -> str:
        parts = (
            _by_name(type(self)),
            _by_name(self.code_generator_class),
            *self._syntax(),
            _by_name(self.autoescape),
            _by_name(self.finalize),
            sorted((k, _by_name(v)) for k, v in self.policies.items()),
            sorted((k, _by_name(v)) for k, v in self.filters.items()),
            sorted((k, _by_name(v)) for k, v in self.tests.items()),
            VERSION,
            library_versions(),
            sys.version,
            module_sources(m for m in modules if not m.startswith("jinja2")),
        )
        return hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()

    def _syntax(self) -> tuple[Any, ...]:
        """The syntax and the options Jinja2's code generator reads (both keys name them)."""
        return (
            self.block_start_string,
            self.block_end_string,
            self.variable_start_string,
            self.variable_end_string,
            self.comment_start_string,
            self.comment_end_string,
            self.line_statement_prefix,
            self.line_comment_prefix,
            self.trim_blocks,
            self.lstrip_blocks,
            self.newline_sequence,
            self.keep_trailing_newline,
            self.optimized,
            self.is_async,
        )

    def _shared_key(self, key: tuple[str, bool, bool]) -> tuple[Any, ...] | None:
        """``key`` with everything of the environment its generated code depends on.

        The syntax, the options the code generator reads, and the filters and tests
        themselves (the optimizer calls them on constants at compile time). None, and
        nothing shared, with extensions or a filter that cannot be compared.
        """
        if self.extensions:
            return None
        shared = (
            type(self),
            self.code_generator_class,
            *self._syntax(),
            self.autoescape,
            self.finalize,
            repr(sorted(self.policies.items())),
            tuple(sorted((k, getattr(v, "kept_as", v)) for k, v in self.filters.items())),
            tuple(sorted(self.tests.items())),
            *key,
        )
        try:
            hash(shared)
        except TypeError:
            return None
        return shared


class _Unnamed(Exception):
    """A callable a name does not tell apart from another (a closure, a lambda…)."""


def _by_name(value: Any) -> Any:
    """A callable (or class) by its module and name, the same in every process (or the
    ``kept_as`` it carries); other values as they are. :class:`_Unnamed` for a callable
    whose name does not say what it does: a closure, a lambda, a partial."""
    if not callable(value):
        return value
    kept = getattr(value, "kept_as", None)
    if isinstance(kept, str):
        return kept
    name = getattr(value, "__qualname__", None)
    if not isinstance(name, str) or "<" in name:
        raise _Unnamed(repr(value))
    return f"{getattr(value, '__module__', '-')}.{name}"


def _share(key: tuple[Any, ...], found: tuple[CodeType, str | None]) -> None:
    with _SHARING:
        while len(_SHARED_CODE) >= SHARED_CODE_LIMIT:
            del _SHARED_CODE[next(iter(_SHARED_CODE))]
        _SHARED_CODE[key] = found


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
    live link (and ``![x](…)`` a remote image) on the page and in mail. So
    would the text of what ``| render`` draws from it: its HTML stays, its
    text is made literal (:func:`literal_in_markdown`). Other HTML (``| markdown``,
    a macro's output) passes as it is.
    """
    if not isinstance(value, str) or not _is_markdown(context.name):
        return value
    if isinstance(value, Rendered):
        return Markup(literal_in_markdown(value))  # noqa: S704 - the same HTML, references added
    if not isinstance(value, Markup):  # references, not backslashes (they stayed in raw
        # HTML and in an href: "my\\-file\\_v1")
        return Markup(data_in_markdown(value))  # noqa: S704 - every special character a reference
    return value


def _data_in_markdown(func: Callable[..., Any]) -> Callable[..., Any]:
    """An escaping filter (``| e``, ``| tojson``) whose output stays text in a
    ``template.md``: escaped is not less live there, Markdown would read the link in
    ``{{ note | e }}`` (:func:`markdown_values_are_text`). Elsewhere it is the filter."""
    takes_eval_context = func is FILTERS_BUILTIN.get("tojson")

    @pass_context
    @functools.wraps(func)
    def data(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        if takes_eval_context:
            made = func(context.eval_ctx, value, *args, **kwargs)
        else:
            made = func(value, *args, **kwargs)
        if _is_markdown(context.name) and isinstance(made, str):
            return Rendered(literal_in_markdown(made))
        return made

    data.kept_as = f"dashsite.data_in_markdown({func.__name__})"  # type: ignore[attr-defined]
    data.wraps_jinja = True  # type: ignore[attr-defined]  # (Jinja's filter, documented there)
    return data


def _is_markdown(name: str | None) -> bool:
    return name is not None and name.endswith(".md")


def create_environment(
    search_paths: Sequence[str | Path] = (),
    *,
    inline_css: bool = False,
    strict: bool = True,
    preloaded: Mapping[str, tuple[str, str]] | None = None,
    code_folder: Path | None = None,
    **options: Any,
) -> Environment:
    """A Jinja2 environment with autoescape, the ``render`` filter and the theme.

    ``search_paths`` come first, so a ``base.html`` there overrides the
    built-in layout (which stays reachable as ``dashsite/base.html``).
    ``inline_css`` sets the default of ``| render``; ``strict`` makes an
    undefined variable an error instead of blank output. ``preloaded`` maps
    template names to ``(source, filename)`` already read (a build reads each
    dashboard's template once, at discovery). ``code_folder`` keeps compiled templates
    for the next process that sets up the same environment (:mod:`.compiled`).
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
    if code_folder is not None:
        environment.code_folder = CodeFolder(code_folder)
    environment.filters.update(FILTERS)
    environment.filters["markdown"] = markdown_filter
    environment.filters["day_bars"] = day_bars  # the theme's status pages
    environment.filters["version_rows"] = version_rows  # and history tables
    inline = inline_css  # inline styles unless the template says otherwise (mail)

    @pass_context
    @functools.wraps(render_filter)  # (what the reference shows of it)
    def render(context: Context, value: Any, inline_css: bool = inline) -> Markup:
        # In a template.md its text is made literal at once, so that what is made of it
        # (``~``, ``| join``) stays text too.
        drawn = render_filter(value, inline_css=inline_css)
        if _is_markdown(context.name):
            return Rendered(literal_in_markdown(drawn))
        return drawn

    render.kept_as = f"dashsite.render(inline_css={inline})"  # type: ignore[attr-defined]
    environment.filters["render"] = render
    for name in ("e", "escape", "forceescape", "tojson"):
        environment.filters[name] = _data_in_markdown(environment.filters[name])
    environment.globals.update(template_globals())
    return environment


class MonitorFileLoader(BaseLoader):
    """``<slug>/<slug>.monitor.yml``: the template inside a one-file dashboard (kstlib's YAML).

    Padded with the lines before it in the file, so an error's line is the
    file's own (for a ``template: |`` block).
    """

    def __init__(self, folders: Sequence[str | Path]) -> None:
        self.folders = [Path(folder) for folder in folders]

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        slug, _, name = template.partition("/")
        file_format = format_of(name)
        if file_format is None or name != f"{slug}{file_format.suffix}":
            raise TemplateNotFound(template)
        for folder in self.folders:
            path = folder / name
            if path.is_file():
                stamp = path.stat().st_mtime_ns
                source = file_format.template(path)

                def fresh(path: Path = path, stamp: int = stamp) -> bool:
                    return path.is_file() and path.stat().st_mtime_ns == stamp

                return source, str(path), fresh
        raise TemplateNotFound(template)
