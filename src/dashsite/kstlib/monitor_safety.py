"""What keeps a ``*.monitor.yml`` file data: limits on what its YAML and collectors reach.

- Aliases: PyYAML shares an aliased value instead of copying it, so a
  "billion laughs" file loads at once and explodes later, when the value is
  rendered or stored. :func:`check_expansion` counts the values the node tree
  stands for once expanded (each node's size computed once) and refuses a
  file over :data:`MAX_EXPANDED_NODES` or with an alias inside itself.
- ``type: callable``: no module of the standard library (``posix.abort``,
  ``faulthandler._sigsegv``, ``os.system``… kill or take over the build),
  and no ``_``-prefixed part in the module or function name. In a site
  build the function runs in a worker process besides
  (:mod:`dashsite.collection.isolated`): one of the user's own that aborts,
  exits, crashes or hangs fails only its own collector.
- ``type: env``: a variable whose name looks like a secret is published only
  when the site config names it in ``allow_secret_env``.
- ``template:`` renders in Jinja's sandbox (:mod:`dashsite.sandbox`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Collection, Mapping
from typing import Any

from dashsite.kstlib.service import MonitoringService

MAX_EXPANDED_NODES = 100_000
"""Values a file may stand for once its aliases are expanded."""
BLOCKED_MODULES = frozenset(sys.stdlib_module_names) | {"dashsite"}
"""Top-level modules a ``callable`` collector may not come from."""
SECRET_WORDS = ("TOKEN", "SECRET", "KEY", "PASSWORD", "PASSWD", "CREDENTIAL")
"""An ``env`` variable whose name holds one of these (any case) needs ``allow_secret_env``."""
SECRET_PARTS = frozenset({"PASS", "PAT", "DSN", "AUTH", "PRIVATE", "COOKIE"})
"""The same for these as a whole part of the name between ``_`` (``GITHUB_PAT``, not
``PATH``)."""
_USERINFO = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s]*:[^/@\s]*@", re.IGNORECASE)
"""A URL carrying a password (``postgres://user:pw@db/x``), whatever its variable's name."""


class ExpansionError(ValueError):
    """The YAML stands for too many values, or holds an alias inside itself."""


def check_expansion(root: Any, limit: int = MAX_EXPANDED_NODES) -> None:
    """Raise :class:`ExpansionError` when ``root`` (a composed YAML node) expands too far."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: Any) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise ExpansionError("an alias refers to a value that contains it")
        value = node.value
        total = 1
        if isinstance(value, list):
            open_nodes.add(key)
            for child in value:
                for part in child if isinstance(child, tuple) else (child,):  # mapping pairs
                    total += size(part)
                    if total > limit:
                        raise ExpansionError(f"its aliases expand to over {limit:,} values")
            open_nodes.discard(key)
        sizes[key] = total
        return total

    if root is not None:
        size(root)


def blocked_callable(module: str, function: str) -> str | None:
    """Why ``module.function`` may not be a collector, or None."""
    parts = [*module.split("."), function]
    if any(part.startswith("_") for part in parts):
        return "a name starting with '_' is private"
    top = parts[0]
    if top in BLOCKED_MODULES:
        what = "dashsite itself" if top == "dashsite" else "the standard library"
        return f"module '{module}' is blocked for safety ({what})"
    return None


def looks_secret(variable: str, value: str | None = None) -> bool:
    """True when an environment variable's name suggests it holds a secret, or its
    ``value`` (when given) is a URL with a password in it."""
    upper = variable.upper()
    if any(word in upper for word in SECRET_WORDS) or SECRET_PARTS & set(upper.split("_")):
        return True
    return value is not None and _USERINFO.match(value) is not None


def secret_env_problem(
    variable: str, allowed: Collection[str], value: str | None = None
) -> tuple[str, str] | None:
    """``(message, hint)`` when ``variable`` looks secret (by its name, or by ``value``) and
    is not allowed, else None."""
    if not looks_secret(variable, value) or variable in allowed:
        return None
    return (
        f"environment variable '{variable}' looks like a secret, and its value would be "
        "published on the site",
        f'if it is not a secret, add allow_secret_env = ["{variable}"] to dashsite.toml',
    )


class SandboxedMonitoringService(MonitoringService):
    """A :class:`MonitoringService` whose template renders in Jinja's sandbox."""

    def __init__(
        self,
        template: str,
        collectors: Mapping[str, Callable[[], Any]] | None = None,
        **options: Any,
    ) -> None:
        from dashsite.render.pages import compile_template
        from dashsite.render.sandbox import sandboxed

        super().__init__("", collectors, **options)
        self._environment = sandboxed(self._environment)
        self._template = compile_template(self._environment, source=template, path="<template>")
        self._template_source = template
