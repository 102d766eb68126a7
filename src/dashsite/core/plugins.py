"""Extension points: what installed packages add to dashsite through entry points.

dashsite's own render types, publishers, site outputs and single-file dashboard
formats register in these groups too (in its ``pyproject.toml``), so a plugin's
addition is found the same way and works the same as a built-in one.
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from dashsite.core.errors import DashsiteError

RENDER_TYPES = "dashsite.render_types"
"""A ``RenderType`` subclass (or a module defining some): a template global, stored in data."""
PUBLISHERS = "dashsite.publishers"
"""A publisher, named by the URL scheme of its targets (``s3``, ``gh-pages``)."""
OUTPUTS = "dashsite.outputs"
"""A site output: a file or pages every build writes from the site's state."""
DASHBOARD_FILES = "dashsite.dashboard_files"
"""A single-file dashboard format, by file suffix (kstlib's ``.monitor.yml``)."""

GROUPS = (RENDER_TYPES, PUBLISHERS, OUTPUTS, DASHBOARD_FILES)


class PluginError(DashsiteError):
    """An entry point that cannot be loaded, or that is not what its group takes."""


def describe(entry: EntryPoint) -> str:
    """``name = module:attr`` (from the distribution that declares it)."""
    dist = getattr(entry, "dist", None)
    where = f" (from {dist.name})" if dist is not None else ""
    return f"{entry.group} entry point '{entry.name} = {entry.value}'{where}"


@functools.cache
def load_group(group: str) -> tuple[tuple[str, Any], ...]:
    """Every entry point of ``group`` loaded, as ``(name, object)`` in name order.

    Loaded once per process; a plugin that fails to import is a :class:`PluginError`
    naming it, never a traceback.
    """
    found: dict[str, Any] = {}
    for entry in sorted(entry_points(group=group), key=lambda e: (e.name, e.value)):
        if entry.name in found:
            continue  # the same package installed twice (an editable and a wheel)
        try:
            found[entry.name] = entry.load()
        except (Exception, SystemExit) as exc:  # any error in a plugin's import; an exit
            # there ended the build with status 0 and no word
            raise PluginError(
                f"{describe(entry)} cannot be loaded: {type(exc).__name__}: {exc}",
                hint="fix or uninstall that package",
            ) from exc
    return tuple(found.items())
