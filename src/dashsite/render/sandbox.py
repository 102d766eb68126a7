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

import threading
import weakref
from typing import Any

from jinja2 import Environment
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

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


class _Sandbox(ItemsFirst, SandboxedEnvironment):
    """Jinja's sandbox, with the site environment's subscripts (:class:`ItemsFirst`),
    and ``*`` and ``**`` bounded: a template from configuration is data, and must not
    be able to take the build's memory or time."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | bytes | list | tuple)
                    and isinstance(times, int)
                    and len(seq) * max(times, 0) > MAX_PRODUCT
                ):
                    raise SecurityError(
                        f"a repeated sequence over {MAX_PRODUCT:,} items is not allowed"
                    )
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
        loader=environment.loader,
        cache_size=-1,
        auto_reload=environment.auto_reload,
        enable_async=environment.is_async,
    )
    twin.filters.update(environment.filters)
    twin.tests.update(environment.tests)
    twin.policies.update(environment.policies)
    # The sandbox's own range() (bounded) stays; everything else is shared.
    twin.globals.update({k: v for k, v in environment.globals.items() if k != "range"})
    return twin
