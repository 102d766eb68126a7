"""Dashboards that are one file, such as kstlib's ``<slug>.monitor.yml``: formats by suffix.

A format is any object with a ``suffix``, ``read(path, root=)`` and ``template(path)``,
registered in the ``dashsite.dashboard_files`` entry point group; kstlib's YAML
files register there like a plugin's format would, so the layers below the kstlib
one never import it. Discovery, the preview and the template loader ask this module.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dashsite.collection.collector import Collector
from dashsite.core.plugins import DASHBOARD_FILES, PluginError, load_group


@dataclass(frozen=True, slots=True)
class FileDashboard:
    """What a one-file dashboard holds: its title and its collectors."""

    title: str
    description: str
    collectors: tuple[Collector, ...]


class DashboardFormat(Protocol):
    """A single-file dashboard format."""

    suffix: str
    """The file name's ending, e.g. ``.monitor.yml``; the rest of the name is the slug."""

    def read(
        self, path: Path, *, root: Path | None = None, allow_secret_env: Collection[str] = ()
    ) -> FileDashboard:
        """Parse and check the file; a ``DashsiteError`` naming the file if it is wrong.

        ``allow_secret_env``: environment variables the site allows to be published
        although their names look like secrets (``allow_secret_env`` in the config).
        """
        ...

    def template(self, path: Path) -> str:
        """The file's template, padded with blank lines so its errors name the file's line."""
        ...


BUILT_IN = {"monitor-yml": "dashsite.kstlib.monitor_files:MONITOR_FILES"}
"""dashsite's own formats, as its ``pyproject.toml`` registers them: known without its
package metadata too (a source checkout on ``PYTHONPATH``), where a missing entry point
made every ``*.monitor.yml`` dashboard vanish (archived, with no word)."""


def formats() -> Sequence[DashboardFormat]:
    """Every registered format (dashsite's own, then the plugins', by name)."""
    loaded = dict(load_group(DASHBOARD_FILES))
    for name, reference in BUILT_IN.items():
        if name not in loaded:  # loaded by name, as its entry point would be
            module, _, attribute = reference.partition(":")
            loaded[name] = getattr(importlib.import_module(module), attribute)
    found = []
    for name, value in sorted(loaded.items()):
        suffix = getattr(value, "suffix", None)
        if not isinstance(suffix, str) or not suffix.startswith(".") or "/" in suffix:
            raise PluginError(
                f"dashboard file format '{name}' has no usable suffix ('.something')",
                hint="fix or uninstall the package that registers it",
            )
        found.append(value)
    return found


def format_of(name: str) -> DashboardFormat | None:
    """The format a file name is in, if any."""
    for candidate in formats():
        if name.endswith(candidate.suffix) and len(name) > len(candidate.suffix):
            return candidate
    return None


def slug_of_file(name: str) -> str:
    """A one-file dashboard's slug: its name without the format's suffix."""
    found = format_of(name)
    return name.removesuffix(found.suffix) if found is not None else name


def file_of(folder: Path) -> Path | None:
    """The one-file dashboard for slug ``folder.name`` beside ``folder``, if there is one."""
    for candidate in formats():
        path = folder.parent / f"{folder.name}{candidate.suffix}"
        if path.is_file():
            return path
    return None
