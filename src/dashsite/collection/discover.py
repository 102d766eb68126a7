"""The discover stage: ``dashboards/`` → a list of :class:`Dashboard`.

Each ``dashboard.py`` is imported in isolation, bounded in time and compiled once
(:mod:`dashsite.collection.imports`).
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from dashsite.collection.collector import COLLECTOR_ATTRIBUTE, Collector, every_duration
from dashsite.collection.dashboard import Dashboard
from dashsite.collection.files import DashboardFormat, file_of, format_of, slug_of_file
from dashsite.collection.imports import (
    DEFAULT_IMPORT_TIMEOUT,
    import_dashboard_module,
    import_dashboard_modules,
)
from dashsite.core.errors import DashboardError, display
from dashsite.core.names import SLUG_HINT, is_new_slug
from dashsite.types.namespace import reserved_names

MODULE_FILE = "dashboard.py"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BELOW_SPACE = re.compile(r"[\x00-\x1f]")
TEMPLATE_FILES = ("template.html", "template.md")


@dataclass(frozen=True, slots=True)
class Discovery:
    """What discovery found: loadable dashboards and per-folder problems."""

    dashboards: tuple[Dashboard, ...]
    problems: tuple[DashboardError, ...]


def title_from_slug(slug: str) -> str:
    """``service-health`` → ``Service health``."""
    words = re.split(r"[-_]+", slug)
    text = " ".join(word for word in words if word)
    return text[:1].upper() + text[1:]


def dashboard_folders(dashboards_dir: Path) -> list[Path]:
    """What may be dashboards, sorted: sub-folders (not ``_``- or ``.``-prefixed) and
    kstlib's ``<slug>.monitor.yml`` files."""
    return [path for path, _ in _sources(dashboards_dir)]


def _sources(dashboards_dir: Path) -> list[tuple[Path, bool]]:
    """:func:`dashboard_folders`, each with whether it is a folder (known from the listing)."""
    try:
        entries = list(os.scandir(dashboards_dir))
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for entry in entries:
        name = entry.name
        if name.startswith(("_", ".")):
            continue
        if entry.is_dir():  # never asked its format: formats are plugins, loaded for a file
            found.append((name, True))
        elif format_of(name) is not None and entry.is_file():
            found.append((name, False))
    found.sort()  # by name: the order of the paths, without comparing Path objects
    return [(dashboards_dir / name, is_dir) for name, is_dir in found]


def slug_of(path: Path) -> str:
    """The slug of a dashboard folder or one-file dashboard (``<slug>.monitor.yml``)."""
    return slug_of_file(path.name)


def load_source(
    path: Path,
    *,
    root: Path | None = None,
    import_timeout: float = DEFAULT_IMPORT_TIMEOUT,
    allow_secret_env: Collection[str] = (),
) -> Dashboard | None:
    """Load a dashboard folder or a ``*.monitor.yml`` file (see :func:`dashboard_folders`)."""
    found = None if path.is_dir() else format_of(path.name)
    if found is not None:
        return load_dashboard_file(path, found, root=root, allow_secret_env=allow_secret_env)
    return load_dashboard(path, root=root, import_timeout=import_timeout)


def load_dashboard_file(
    path: Path,
    file_format: DashboardFormat,
    *,
    root: Path | None = None,
    allow_secret_env: Collection[str] = (),
) -> Dashboard:
    """A one-file dashboard (kstlib's ``*.monitor.yml``: template and collectors in YAML).

    An ``env`` collector whose variable looks like a secret needs the site
    config's ``allow_secret_env`` (the format checks it): its value would be published.
    """
    slug = slug_of(path)
    shown = display(path, root)
    if not is_new_slug(slug):
        raise DashboardError(
            f"'{slug}' is not a usable dashboard name", path=shown, hint=f"rename it: {SLUG_HINT}"
        )
    if (path.parent / slug).is_dir():
        raise DashboardError(
            f"both {slug}/ and {path.name} define dashboard '{slug}'",
            path=shown,
            hint="keep one of them",
        )
    read = file_format.read(path, root=root, allow_secret_env=allow_secret_env)
    collectors = read.collectors
    reserved = reserved_names()
    for spec in collectors:
        if spec.name in reserved:
            raise DashboardError(
                f"collector name '{spec.name}' would hide the template's own '{spec.name}'",
                path=shown,
                hint="name it otherwise",
            )
    title = read.title if read.title != slug else title_from_slug(slug)
    if any(ord(c) < 32 or ord(c) == 127 for c in title):
        raise DashboardError(
            "'name' must be one line of text", path=shown, hint="it becomes the page title"
        )
    return Dashboard(
        slug,
        path,
        path,
        title,
        read.description,
        collectors,
        source=file_format.template(path),
    )


def discover(
    dashboards_dir: Path,
    *,
    root: Path | None = None,
    only: Collection[str] | None = None,
    import_timeout: float = DEFAULT_IMPORT_TIMEOUT,
    allow_secret_env: Collection[str] = (),
) -> Discovery:
    """Load every dashboard under ``dashboards_dir``; problems are collected, not raised.

    Every ``dashboard.py`` is imported in one run of the import worker (one handoff, each
    module still with its own deadline), then each dashboard is made from its module.
    """
    with _young_collections_only():
        return _discover(dashboards_dir, root, only, import_timeout, allow_secret_env)


@contextlib.contextmanager
def _young_collections_only() -> Iterator[None]:
    """Let the garbage collector look only at what discovery makes while it runs.

    Discovery makes tens of thousands of objects that all live on (modules, functions,
    dashboards); they trigger a full collection, which in a build's process walks the
    whole heap for nothing (45 ms of 180 at 1,000 dashboards). The objects from before
    are set aside (``gc.freeze``) and given back after; garbage made meanwhile is still
    collected. A freeze someone else made is left alone.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _discover(
    dashboards_dir: Path,
    root: Path | None,
    only: Collection[str] | None,
    import_timeout: float,
    allow_secret_env: Collection[str],
) -> Discovery:
    found: list[Dashboard | DashboardError | _Folder] = []
    for path, is_dir in _sources(dashboards_dir):
        slug = path.name if is_dir else slug_of(path)
        if only is not None and slug not in only:
            continue
        try:
            file_format = None if is_dir else format_of(path.name)
            if file_format is not None:
                found.append(
                    load_dashboard_file(
                        path, file_format, root=root, allow_secret_env=allow_secret_env
                    )
                )
                continue
            template = _template_of(path, root)
        except DashboardError as exc:
            exc.slug = slug
            found.append(exc)
            continue
        if template is not None:
            found.append(_Folder(path, *template))
    with_module = [item for item in found if isinstance(item, _Folder) and item.has_module]
    modules = import_dashboard_modules(
        [(f"{item.folder}/{MODULE_FILE}", item.folder.name) for item in with_module],
        root,
        import_timeout,
    )
    imported = iter(modules)  # in the order of with_module
    reserved = reserved_names()  # once, after every module defined its render types
    dashboards: list[Dashboard] = []
    problems: list[DashboardError] = []
    for item in found:
        if isinstance(item, _Folder):
            module = next(imported) if item.has_module else None
            try:
                if isinstance(module, DashboardError):  # it failed to import
                    raise module
                dashboards.append(_loaded(item, module, root, reserved))
            except DashboardError as exc:  # …or what it defines is wrong
                exc.slug = item.folder.name
                problems.append(exc)
        elif isinstance(item, DashboardError):
            problems.append(item)
        else:
            dashboards.append(item)
    return Discovery(tuple(dashboards), tuple(problems))


@dataclass(frozen=True, slots=True)
class _Folder:
    """A dashboard folder found, not yet loaded."""

    folder: Path
    template: Path
    has_module: bool


def _template_of(folder: Path, root: Path | None) -> tuple[Path, bool] | None:
    """The folder's template and whether it has a ``dashboard.py``; None if neither."""
    slug = folder.name
    if not is_new_slug(slug):
        raise DashboardError(
            f"'{slug}' is not a usable dashboard name",
            path=display(folder, root),
            hint=f"rename the folder: {SLUG_HINT}",
        )
    try:
        files = {entry.name for entry in os.scandir(folder) if entry.is_file()}
    except OSError:
        return None
    templates = [folder / name for name in TEMPLATE_FILES if name in files]
    has_module = MODULE_FILE in files
    if not has_module and not templates:
        return None
    if not templates:
        raise DashboardError(
            "no template",
            path=display(folder, root),
            hint="add template.html or template.md beside dashboard.py",
        )
    if len(templates) > 1:
        raise DashboardError(
            "both template.html and template.md",
            path=display(folder, root),
            hint="keep only one of them",
        )
    return templates[0], has_module


def _read_template(template: Path, root: Path | None) -> str:
    """The template's text, as ``read_text`` gives it (newlines made ``\\n``)."""
    try:
        text = _read_bytes(os.fspath(template)).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DashboardError(
            f"cannot read the template: {exc}",
            path=display(template, root),
            hint="save it as UTF-8 text",
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _read_bytes(path: str) -> bytes:
    """A small file's bytes, by plain system calls: a thousand templates a build, read
    without a file object each (half the cost)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


def load_dashboard(
    folder: Path, *, root: Path | None = None, import_timeout: float = DEFAULT_IMPORT_TIMEOUT
) -> Dashboard | None:
    """Load one dashboard folder; ``None`` if it holds neither module nor template."""
    found = _template_of(folder, root)
    if found is None:
        return None
    template, has_module = found
    module = (
        import_dashboard_module(folder / MODULE_FILE, folder.name, root, import_timeout)
        if has_module
        else None
    )
    return _loaded(_Folder(folder, template, has_module), module, root, reserved_names())


def _loaded(
    found: _Folder, module: ModuleType | None, root: Path | None, reserved: frozenset[str]
) -> Dashboard:
    """The dashboard of a folder whose ``dashboard.py`` (if any) is imported as ``module``."""
    slug = found.folder.name

    def where() -> str:  # only an error pays for the path it shows
        return display(found.folder / MODULE_FILE, root)

    namespace: Mapping[str, Any] = vars(module) if module is not None else {}
    collectors = with_every(
        collectors_of(namespace, where, reserved), namespace.get("EVERY"), where
    )
    title = namespace["TITLE"] if "TITLE" in namespace else title_from_slug(slug)
    description = namespace.get("DESCRIPTION", "")
    for name, value in (("TITLE", title), ("DESCRIPTION", description)):
        if not isinstance(value, str):
            raise DashboardError(f"{name} must be a string", path=where())
        if _CONTROL.search(value):
            raise DashboardError(
                f"{name} must be one line of text (it holds a line break or control character)",
                path=where(),
                hint="it becomes a page title and a mail subject: keep it on one line",
            )
    group = namespace.get("GROUP", "")
    if not isinstance(group, str) or _BELOW_SPACE.search(group) or len(group) > 100:
        raise DashboardError(
            "GROUP must be one line of text (up to 100 characters)",
            path=where(),
            hint='name the index section it belongs to, e.g. GROUP = "Databases"',
        )
    every = namespace.get("EXPECTED_EVERY")
    expected: float | None = None
    if every is not None:
        from dashsite.core.config import every_seconds

        try:
            expected = every_seconds(every) if isinstance(every, str) else None
        except ValueError:
            expected = None
        if expected is None:
            raise DashboardError(
                f'EXPECTED_EVERY must be a duration like "5m" or "1h", not {every!r}',
                path=where(),
                hint="how often this dashboard is built; a latest version older than "
                "twice that is stale",
            )
    source = _read_template(found.template, root)
    return Dashboard(
        slug,
        found.folder,
        found.template,
        title,
        description,
        collectors,
        group=group,
        expected_every=expected,
        module=module,
        source=source,
    )


def template_dashboard(
    folder: Path, title: str, description: str, *, root: Path | None = None
) -> Dashboard | None:
    """A dashboard's template and metadata, without running its ``dashboard.py``.

    For re-rendering a filed version (mail): its data is already collected,
    and its title comes from the site.
    """
    monitor_file = file_of(folder)
    if not folder.is_dir() and monitor_file is not None:  # the environment reads its template
        return Dashboard(folder.name, monitor_file, monitor_file, title, description)
    found = _template_of(folder, root)
    if found is None:
        return None
    template = found[0]
    source = _read_template(template, root)
    return Dashboard(folder.name, folder, template, title, description, source=source)


def collectors_of(
    namespace: Mapping[str, Any],
    where: str | Callable[[], str],
    reserved: frozenset[str] | None = None,
) -> tuple[Collector, ...]:
    """Collectors marked with ``@collector`` plus those in a ``COLLECTORS`` dict.

    ``where``: the file an error names (or what makes that name, called only for an
    error); ``reserved``: :func:`reserved_names`, when the caller has it already.
    """
    found: dict[str, Collector] = {}
    if reserved is None:
        reserved = reserved_names()  # once per dashboard, not per collector
    shown = where if callable(where) else lambda: where

    def add(spec: Collector) -> None:
        if not spec.name.isidentifier():
            raise DashboardError(
                f"collector name '{spec.name}' cannot be a template variable",
                path=shown(),
                hint="use a Python identifier: letters, digits and '_'",
            )
        if spec.name in reserved:
            raise DashboardError(
                f"collector name '{spec.name}' would hide the template's own '{spec.name}'",
                path=shown(),
                hint=f'name it otherwise, e.g. @collector(name="{spec.name.lower()}_value")',
            )
        if spec.name in found and found[spec.name].func is not spec.func:
            raise DashboardError(
                f"two collectors are named '{spec.name}'",
                path=shown(),
                hint="give each collector its own name",
            )
        found[spec.name] = spec

    for value in list(namespace.values()):
        spec = getattr(value, COLLECTOR_ATTRIBUTE, None)
        if isinstance(spec, Collector):
            add(spec)
    table = namespace.get("COLLECTORS")
    if table is not None:
        if not isinstance(table, Mapping):
            raise DashboardError("COLLECTORS must be a dict of name → callable", path=shown())
        for name, func in table.items():
            marked = getattr(func, COLLECTOR_ATTRIBUTE, None)
            if isinstance(func, Collector):
                add(replace(func, name=str(name)))
            elif isinstance(marked, Collector):
                add(replace(marked, name=str(name), func=func))
            elif callable(func):
                add(Collector(str(name), func))
            else:
                raise DashboardError(f"COLLECTORS['{name}'] is not callable", path=shown())
    return tuple(found.values())


def with_every(
    collectors: tuple[Collector, ...], every: Any, where: str | Callable[[], str]
) -> tuple[Collector, ...]:
    """Apply a module's ``EVERY``: one duration for all its collectors, or a dict by name.

    ``@collector(every=…)`` is the default it overrides; ``[every]`` in the
    config overrides both (:func:`dashsite.schedule.every_of`).
    """
    if every is None:
        return collectors
    names = {spec.name for spec in collectors}
    table = every if isinstance(every, Mapping) else dict.fromkeys(names, every)
    unknown = sorted(str(name) for name in table if name not in names)
    if unknown:
        raise DashboardError(
            f"EVERY names no collector called {', '.join(map(repr, unknown))}",
            path=where() if callable(where) else where,
            hint=f"its keys are collector names: {', '.join(sorted(names)) or '(none)'}",
        )
    try:
        seconds = {name: every_duration(value) for name, value in table.items()}
    except ValueError as exc:
        raise DashboardError(
            f"EVERY: {exc}",
            path=where() if callable(where) else where,
            hint='a duration like "15m" or "1h", or a dict of them by collector name',
        ) from None
    return tuple(
        replace(spec, every=seconds[spec.name]) if spec.name in seconds else spec
        for spec in collectors
    )
