"""Templates that come from configuration render in Jinja's sandbox.

A ``*.monitor.yml`` file is data, as kstlib promises: its ``template:``
must not reach Python (``{{ cycler.__init__.__globals__.os }}``). Such
templates compile and render in a :class:`~jinja2.sandbox.SandboxedEnvironment`
twin of the site's environment: the same loader, filters, globals and
settings, but attribute access and calls are checked by Jinja's sandbox
(no ``_``-names, no unsafe methods). A template that tries fails its own
dashboard with a :class:`jinja2.exceptions.SecurityError`, shown as one line.
``template.html`` and ``template.md`` are code of the project, like
``dashboard.py``, and keep the ordinary environment.
"""

from __future__ import annotations

import functools
import re
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import BaseLoader, Environment, pass_eval_context
from jinja2.exceptions import SecurityError, TemplateNotFound
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment, safe_range

from dashsite.render.lookup import ItemsFirst

CONFIG_TEMPLATE_SUFFIX = ".monitor.yml"
"""Templates whose name ends so come from configuration: they render sandboxed."""

_TWINS: weakref.WeakKeyDictionary[Environment, SandboxedEnvironment] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


MAX_PRODUCT = 10_000_000
"""Items (characters) a ``*`` in a configuration template may make: ``'x' * 10**10``
filled the build's memory."""
MAX_POWER_BITS = 100_000
"""Bits a ``**`` in a configuration template may make (``2 ** 10**10`` ran for ever)."""
MAX_RANGE_ITEMS = 1_000_000
"""Items all the ``range()`` of one render may give: two nested ``range(100000)`` loops
(each within Jinja's own limit) ran for hours."""
_WIDE = re.compile(r"(?:%(?:\([^)]*\))?[^a-zA-Z%]*|\{[^{}]*:[^{}]*?)\d{8,}")
"""A format spec with a width or precision of :data:`MAX_PRODUCT` or more (``%0900000000d``)."""
_STAR = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d*\.\*)")
"""A ``%`` format whose width or precision is an argument (``%*d``)."""
_NESTED = re.compile(r"\{[^{}]*:[^{}]*\{")
"""A ``str.format`` spec with a field inside it (``{:{w}}``)."""
_FIELDS = re.compile(r"%(?:\([^)]*\))?[-#0 +*.\d]*[a-zA-Z%]|\{[^{}]*\}")
_WIDTHS = re.compile(r"(?:%(?:\([^)]*\))?[-#0 +]*|\{[^{}:]*:[^{}\d]*)(\d+)")
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
TEMPLATE_SUFFIXES = (
    *(".html", ".htm", ".md", ".txt", ".xml", ".svg", ".j2", ".jinja", ".jinja2"),
    CONFIG_TEMPLATE_SUFFIX,  # (the build loads each file's template by its name)
)
"""What a configuration template may extend, include or import: templates, not the
project's code (``{% include 'other/dashboard.py' %}`` printed its secrets)."""


class _Sandbox(ItemsFirst, SandboxedEnvironment):
    """Jinja's sandbox, with the site environment's subscripts (:class:`ItemsFirst`), and
    each operation that could make a huge string, list or number in one step bounded
    (``*``, ``**``, ``+``, ``%``, ``str.format``, the string methods and filters with a
    width): a template from configuration is data. Not bounded: ``~`` in a loop, and
    loops over long data (docs/explanation/sanitising.md says so)."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "+" and isinstance(left, str | bytes | list | tuple):
            if isinstance(right, str | bytes | list | tuple) and (
                _size(left) + _size(right) > MAX_PRODUCT
            ):  # (Markup + str too)
                raise SecurityError(f"a sequence over {MAX_PRODUCT:,} items is not allowed")
        elif operator == "*" and isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > MAX_POWER_BITS:
                raise SecurityError(f"a number over {MAX_POWER_BITS:,} bits is not allowed")
        elif operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | bytes | list | tuple)
                    and isinstance(times, int)
                    and _size(seq) * max(times, 0) > MAX_PRODUCT
                ):
                    raise SecurityError(
                        f"a repeated sequence over {MAX_PRODUCT:,} items is not allowed"
                    )
        elif operator == "%" and isinstance(left, str):
            _check_format(left, right)
        elif (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and abs(left) > 1
            and right > 0
            and right * abs(left).bit_length() > MAX_POWER_BITS
        ):
            raise SecurityError(f"a power over {MAX_POWER_BITS:,} bits is not allowed")
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """Jinja's sandboxed ``str.format``, refused for a width of :data:`MAX_PRODUCT` or more,
        written in the string or given as an argument."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text = value.__self__
        _check_format(text)

        def checked(*args: Any, **kwargs: Any) -> str:  # a width given as an argument:
            _check_format(text, (*args, *kwargs.values()))  # '{:{w}}'.format(1, w=10**9)
            return wrapped(*args, **kwargs)

        return checked

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Jinja's checked call, and no string method asked for more than MAX_PRODUCT characters
        (``'x'.center(900000000)``)."""
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            name = getattr(__obj, "__name__", "")
            if name in _WIDTH_METHODS and any(
                isinstance(a, int) and a > MAX_PRODUCT for a in (*args, *kwargs.values())
            ):
                raise SecurityError(f"a string over {MAX_PRODUCT:,} characters is not allowed")
            if name == "expandtabs":  # each tab up to its size
                size = next((a for a in (*args, *kwargs.values()) if isinstance(a, int)), 8)
                if len(owner) + owner.count("\t") * max(size, 0) > MAX_PRODUCT:
                    raise SecurityError(f"a string over {MAX_PRODUCT:,} characters is not allowed")
            if name == "replace" and len(args) >= 2:
                _check_replace(owner, args[0], args[1])
            if name == "join" and args:
                _check_join(args[0], owner)
        return SandboxedEnvironment.call(__self, __context, __obj, *args, **kwargs)


def _size(seq: Any) -> int:
    """Characters (or items) of a sequence a ``*`` repeats: its strings' lengths count."""
    if isinstance(seq, list | tuple):
        return sum(len(item) if isinstance(item, str | bytes) else 1 for item in seq) or 0
    return len(seq)


def _check_format(text: str, arguments: Any = ()) -> None:
    """A width or precision of :data:`MAX_PRODUCT` or more, written in ``text`` or given
    among its ``arguments`` (``'%*d' % (10**9, 1)``, ``'{:{w}}'``), is refused."""
    if _WIDE.search(text):
        raise SecurityError(f"a format width over {MAX_PRODUCT:,} characters is not allowed")
    if isinstance(arguments, Mapping):
        arguments = tuple(arguments.values())
    elif not isinstance(arguments, tuple):
        arguments = (arguments,)
    if (_STAR.search(text) or _NESTED.search(text)) and any(  # a width given as an argument
        isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_PRODUCT for a in arguments
    ):  # (only then: a large number formatted is data, not a width)
        raise SecurityError(f"a format width over {MAX_PRODUCT:,} characters is not allowed")
    fields = len(_FIELDS.findall(text))  # many fields, each wide or filled with a long value
    longest = max((len(a) for a in arguments if isinstance(a, str)), default=0)
    widths = sum(int(width) for width in _WIDTHS.findall(text))
    if len(text) + fields * longest + widths > MAX_PRODUCT:
        raise SecurityError(f"a formatted string over {MAX_PRODUCT:,} characters is not allowed")


def _check_join(items: Any, separator: Any) -> None:
    """``sep.join(items)``, ``items | join(sep)``: refused past :data:`MAX_PRODUCT`."""
    if not isinstance(items, list | tuple | str):
        return  # (a generator: not measured without using it up)
    gap = len(separator) if isinstance(separator, str) else 0
    if _size(items if not isinstance(items, str) else list(items)) + gap * len(items) > MAX_PRODUCT:
        raise SecurityError(f"a string over {MAX_PRODUCT:,} characters is not allowed")


def _check_replace(text: Any, old: Any, new: Any) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        found = text.count(old) if old else len(text) + 1
        if len(text) + found * max(len(new) - len(old), 0) > MAX_PRODUCT:
            raise SecurityError(f"a string over {MAX_PRODUCT:,} characters is not allowed")


@pass_eval_context
def _bounded_range(eval_ctx: EvalContext, *args: int) -> range:
    """Jinja's sandboxed ``range()``, counted against :data:`MAX_RANGE_ITEMS` a render."""
    made = safe_range(*args)
    spent = getattr(eval_ctx, "dashsite_range_items", 0) + len(made)
    if spent > MAX_RANGE_ITEMS:
        raise SecurityError(
            f"loops over more than {MAX_RANGE_ITEMS:,} range() items are not allowed"
        )
    eval_ctx.dashsite_range_items = spent  # type: ignore[attr-defined]
    return made


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A string filter that cannot be asked for more than MAX_PRODUCT characters (``center``,
    ``indent``, ``format``, ``replace``, ``join``); the filter is called as it was."""

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        values = [a for a in args if not isinstance(a, EvalContext | Context | Environment)]
        if name in ("center", "indent") and any(
            isinstance(a, int) and a > MAX_PRODUCT for a in (*values[1:], *kwargs.values())
        ):
            raise SecurityError(f"a string over {MAX_PRODUCT:,} characters is not allowed")
        if name == "indent" and values:  # a string as the width: repeated on every line
            width = values[1] if len(values) > 1 else kwargs.get("width", "")
            lines = str(values[0]).count("\n") + 1
            if isinstance(width, str) and len(width) * lines > MAX_PRODUCT:
                raise SecurityError(f"a string over {MAX_PRODUCT:,} characters is not allowed")
        if name == "format" and values and isinstance(values[0], str):
            _check_format(values[0], (*values[1:], *kwargs.values()))
        if name == "join" and values:
            if not isinstance(values[0], list | tuple | str):  # an iterator (| reverse):
                items = list(values[0])  # measured, and handed on as the list it was
                args = tuple(items if a is values[0] else a for a in args)
                values[0] = items
            _check_join(values[0], values[1] if len(values) > 1 else kwargs.get("d", ""))
        if name in ("e", "escape", "forceescape") and values:  # '<' is four characters
            text = str(values[0])
            if len(text) + 4 * sum(text.count(c) for c in "<>&\"'") > MAX_PRODUCT:
                raise SecurityError(f"a string over {MAX_PRODUCT:,} characters is not allowed")
        if name == "wordwrap" and values:  # its wrapstring at every break
            text, given = str(values[0]), [*values[1:], *kwargs.values()]
            width = next((a for a in given if isinstance(a, int) and not isinstance(a, bool)), 79)
            wrap = next((a for a in given if isinstance(a, str)), "\n")
            if len(text) + (len(text) // max(width, 1) + 1) * len(wrap) > MAX_PRODUCT:
                raise SecurityError(f"a string over {MAX_PRODUCT:,} characters is not allowed")
        if name == "tojson" and any(
            (isinstance(a, str) and len(a) > 100) or (isinstance(a, int) and a > 100)
            for a in (*values[1:], *kwargs.values())
        ):  # the indent, on every line
            raise SecurityError("a JSON indent over 100 characters is not allowed")
        if name == "int" and values and isinstance(values[0], str) and len(values[0]) > 10_000:
            raise SecurityError("a number of over 10,000 digits is not allowed")
        if name == "replace" and len(values) >= 3:
            _check_replace(str(values[0]), values[1], values[2])
        return func(*args, **kwargs)

    return bounded


class _TemplatesOnly(BaseLoader):
    """The site's loader, for templates only (:data:`TEMPLATE_SUFFIXES`)."""

    def __init__(self, loader: BaseLoader) -> None:
        self.loader = loader

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        if not template.lower().endswith(TEMPLATE_SUFFIXES):
            raise TemplateNotFound(
                template,
                f"a *.monitor.yml template may only use templates "
                f"({', '.join(TEMPLATE_SUFFIXES)}), not {template!r}",
            )
        return self.loader.get_source(environment, template)

    def list_templates(self) -> list[str]:
        return [n for n in self.loader.list_templates() if n.lower().endswith(TEMPLATE_SUFFIXES)]


def _image_from_data(image: Callable[..., Any]) -> Callable[..., Any]:
    """``MonitorImage`` for a template from configuration: from ``data=`` only, within its
    own size limit. A ``path`` would put any file the build can read on a published page."""

    @functools.wraps(image)
    def make(*args: Any, **kwargs: Any) -> Any:
        if len(args) > 1 or kwargs.get("path") is not None or "max_bytes" in kwargs:
            raise SecurityError(
                "MonitorImage in a *.monitor.yml template takes data= only (no path=, no "
                "max_bytes=): a collector in dashboard.py may read a file"
            )
        return image(*args, **kwargs)

    return make


def is_config_template(name: str | None) -> bool:
    """True for a template read from a ``*.monitor.yml`` file."""
    return name is not None and name.endswith(CONFIG_TEMPLATE_SUFFIX)


def sandboxed(environment: Environment) -> SandboxedEnvironment:
    """The sandboxed twin of ``environment`` (made once, then reused)."""
    if isinstance(environment, SandboxedEnvironment):
        return environment
    with _LOCK:
        twin = _TWINS.get(environment)
        if twin is None:
            twin = _twin(environment)
            _TWINS[environment] = twin
        return twin


def environment_for(environment: Environment, name: str | None) -> Environment:
    """``environment``, or its sandboxed twin for a template from configuration."""
    return sandboxed(environment) if is_config_template(name) else environment


def _twin(environment: Environment) -> SandboxedEnvironment:
    twin = _Sandbox(
        block_start_string=environment.block_start_string,
        block_end_string=environment.block_end_string,
        variable_start_string=environment.variable_start_string,
        variable_end_string=environment.variable_end_string,
        comment_start_string=environment.comment_start_string,
        comment_end_string=environment.comment_end_string,
        line_statement_prefix=environment.line_statement_prefix,
        line_comment_prefix=environment.line_comment_prefix,
        trim_blocks=environment.trim_blocks,
        lstrip_blocks=environment.lstrip_blocks,
        newline_sequence=environment.newline_sequence,
        keep_trailing_newline=environment.keep_trailing_newline,
        extensions=[type(extension) for extension in environment.extensions.values()],
        optimized=environment.optimized,
        undefined=environment.undefined,
        finalize=environment.finalize,
        autoescape=environment.autoescape,
        loader=_TemplatesOnly(environment.loader) if environment.loader is not None else None,
        cache_size=-1,
        auto_reload=environment.auto_reload,
        enable_async=environment.is_async,
    )
    twin.filters.update(environment.filters)
    for name in (
        *("center", "indent", "format", "replace", "join", "e", "escape", "forceescape"),
        *("wordwrap", "tojson", "int"),
    ):
        if name in twin.filters:
            twin.filters[name] = _bounded_filter(name, twin.filters[name])
    twin.tests.update(environment.tests)
    twin.policies.update(environment.policies)
    # range() counted a render (the sandbox's own bounds each call); the rest is shared.
    twin.globals.update({k: v for k, v in environment.globals.items() if k != "range"})
    twin.globals["range"] = _bounded_range
    twin.globals.pop("lipsum", None)  # (lorem ipsum: pages of text from one call)
    image = twin.globals.get("MonitorImage")
    if callable(image):
        twin.globals["MonitorImage"] = _image_from_data(image)
    return twin
