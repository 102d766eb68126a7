"""kstlib's YAML dashboards: ``<name>.monitor.yml`` files, as they are.

::

    # dashboards/service.monitor.yml
    name: Service health
    template: |
      <p>{{ version }} on {{ host }}</p>{{ checks | render }}
    collectors:
      version: "1.4.2"                                    # static (the short form)
      host: {type: env, env_var: HOSTNAME, default: "?"}  # an environment variable
      checks: {type: callable, module: ops.checks, function: run_checks}

A file in the dashboards folder is a dashboard like a ``dashboard.py``
folder, its slug the file name without ``.monitor.yml``; ``template_file``
(beside the YAML file) may replace ``template``. kstlib's safety limits hold:
the file's size, the template's, the number of collectors, name lengths,
and modules a ``callable`` collector may not come from. Every problem is one
line naming the file and, where it can, the line. In a site build a
``callable`` runs in a worker process, so one that aborts, exits or hangs
fails its own collector, not the build (:mod:`dashsite.collection.isolated`).

The library half keeps kstlib's loader API: :func:`load_monitoring_config`,
:class:`MonitoringConfig` (``to_service()``), :func:`discover_monitoring_configs`
and :func:`create_services_from_directory`.
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
import sys
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashsite.collection.collector import Collector
from dashsite.collection.files import FileDashboard
from dashsite.collection.imports import DEFAULT_IMPORT_TIMEOUT
from dashsite.collection.isolated import IsolatedCall
from dashsite.core.errors import DashboardError, display
from dashsite.kstlib.monitor_safety import (
    ExpansionError,
    SandboxedMonitoringService,
    blocked_callable,
    check_expansion,
    secret_env_problem,
)
from dashsite.kstlib.service import MonitoringService

SUFFIX = ".monitor.yml"
PATTERN = f"*{SUFFIX}"
MAX_CONFIG_FILE_SIZE = 1024 * 1024
MAX_COLLECTORS = 100
MAX_NAME_LENGTH = 128
MAX_TEMPLATE_SIZE = 512 * 1024
BLOCKED_MODULE_PREFIXES = (
    "os",
    "sys",
    "subprocess",
    "shutil",
    "socket",
    "pickle",
    "marshal",
    "builtins",
    "importlib",
    "ctypes",
    "_",
)
"""A ``callable`` collector may not come from these modules (or their submodules):
kstlib's list, plus builtins, importlib and ctypes, which reach the same powers."""
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
COLLECTOR_TYPES = ("static", "callable", "env")
KNOWN_KEYS = frozenset(
    {"name", "template", "template_file", "collectors", "inline_css", "fail_fast"}
)
ENTRY_KEYS = {
    "static": frozenset({"type", "value"}),
    "env": frozenset({"type", "env_var", "default"}),
    "callable": frozenset({"type", "module", "function"}),
}
"""What each type of collector entry reads."""
_IMPORT_LOCK = threading.Lock()
CHECK_TIMEOUT = DEFAULT_IMPORT_TIMEOUT
"""Seconds a ``callable``'s module may take to import in its worker process."""


class MonitoringConfigError(DashboardError):
    """A ``*.monitor.yml`` file that cannot be used (one line: file, line, what to do)."""


class MonitoringConfigFileNotFoundError(MonitoringConfigError, FileNotFoundError):
    """The ``*.monitor.yml`` file is not there."""


class MonitoringConfigFormatError(MonitoringConfigError, ValueError):
    """Not YAML, or not the shape of a monitoring config, or over a limit."""


class MonitoringConfigCollectorError(MonitoringConfigError):
    """A collector entry cannot be turned into a collector."""


@dataclass(frozen=True, slots=True)
class CollectorConfig:
    """One entry of ``collectors:``: ``static`` (``value``), ``env`` or ``callable``."""

    name: str
    collector_type: str = "static"
    value: Any = None
    module: str | None = None
    function: str | None = None
    env_var: str | None = None
    default: Any = None
    where: str = ""
    """The file, as messages name it."""
    line: int | None = None
    folder: str = ""
    """The file's folder: a ``callable`` collector's module may sit there."""

    def _error(self, message: str, hint: str = "") -> MonitoringConfigCollectorError:
        return MonitoringConfigCollectorError(
            f"collector '{self.name}': {message}",
            path=self.where or None,
            line=self.line,
            hint=hint,
        )

    def to_collector(self) -> Callable[[], Any]:
        """The no-argument function that collects this entry's value."""
        if self.collector_type == "static":
            value = self.value
            return lambda: value
        if self.collector_type == "env":
            if not self.env_var:
                raise self._error("type 'env' needs 'env_var'", "name the variable to read")
            variable, default = self.env_var, self.default
            return lambda: os.environ.get(variable, default)
        if self.collector_type == "callable":
            return self._imported()
        raise self._error(
            f"unknown type {self.collector_type!r}", f"use one of {', '.join(COLLECTOR_TYPES)}"
        )

    def _target(self) -> tuple[str, str]:
        """The ``callable`` entry's module and function, once their names are allowed."""
        module, function = self.module or "", self.function or ""
        if not isinstance(module, str) or not isinstance(function, str):
            raise self._error(
                f"'module' and 'function' must be names, not {type(module).__name__} and "
                f"{type(function).__name__}",
                "e.g. module: ops.checks, function: run_checks",
            )
        if not module or not function:
            raise self._error(
                "type 'callable' needs 'module' and 'function'",
                "e.g. module: ops.checks, function: run_checks",
            )
        if not _MODULE.fullmatch(module) or not function.isidentifier():
            raise self._error(
                f"invalid module or function name: {module!r}, {function!r}",
                "a dotted module name and a function name, e.g. ops.checks and run_checks",
            )
        if any(module == p or module.startswith((f"{p}.", "_")) for p in BLOCKED_MODULE_PREFIXES):
            raise self._error(
                f"module '{module}' is blocked for safety",
                "put the collector in a module of your own",
            )
        if blocked := blocked_callable(module, function):
            raise self._error(blocked, "put the collector in a module of your own")
        return module, function

    def _imported(self) -> Callable[[], Any]:
        """The function itself, imported into this process (the library's services)."""
        module, function = self._target()
        folder = self.folder
        with _IMPORT_LOCK:
            if folder:
                sys.path.insert(0, folder)
            try:
                loaded = importlib.import_module(module)
            except Exception as exc:
                raise self._error(
                    f"cannot import '{module}': {type(exc).__name__}: {exc}",
                    "install it or put it beside the .monitor.yml file",
                ) from None
            finally:
                if folder:
                    sys.path.remove(folder)
        func = getattr(loaded, function, None)
        if not callable(func):
            raise self._error(f"function '{function}' not found in '{module}'")
        return func  # type: ignore[no-any-return]

    def _site_collector(self, timeout: float = CHECK_TIMEOUT) -> Collector:
        """This entry as a site's collector: a ``callable`` runs in a worker process.

        The module is imported there once now (given ``timeout`` seconds), so a
        name that does not import fails the file here, in one line, as it does
        in the library; a module that ends its process at import fails it too.
        """
        if self.collector_type != "callable":
            return Collector(self.name, self.to_collector())
        module, function = self._target()
        call = IsolatedCall(module, function, self.folder, self.name)
        problem = call.check(timeout)
        if problem is not None:
            raise self._error(*problem)
        return Collector(self.name, call)


@dataclass(slots=True)
class MonitoringConfig:
    """A parsed ``*.monitor.yml``: name, template, collectors and options."""

    name: str
    template: str
    collectors: list[CollectorConfig] = field(default_factory=list)
    inline_css: bool = True
    fail_fast: bool = True
    source_path: Path | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    template_offset: int = 0
    """Lines of the file before the template's first (for a ``template: |`` block), so
    a template error can name the file's own line."""

    @property
    def padded_template(self) -> str:
        """The template with the file's lines before it, so its errors name the file's line."""
        return "\n" * self.template_offset + self.template

    def to_service(self) -> MonitoringService:
        """A :class:`MonitoringService` with these collectors and template."""
        # The template comes from configuration: it renders in Jinja's sandbox.
        return SandboxedMonitoringService(
            self.template,
            {c.name: c.to_collector() for c in self.collectors},
            inline_css=self.inline_css,
            fail_fast=self.fail_fast,
        )

    def collector_specs(self) -> tuple[Collector, ...]:
        """The collectors, as a dashboard's."""
        return tuple(Collector(c.name, c.to_collector()) for c in self.collectors)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, source_path: Path | None = None, shown: str = ""
    ) -> MonitoringConfig:
        """Check and parse one config (as loaded from YAML)."""
        return _parse(data, source_path, shown or (str(source_path) if source_path else ""), None)


def _yaml() -> Any:
    try:
        return importlib.import_module("yaml")  # PyYAML: the dashsite[yaml] extra
    except ImportError:
        raise MonitoringConfigFormatError(
            "*.monitor.yml dashboards need PyYAML, which is not installed",
            hint="pip install 'dashsite[yaml]'",
        ) from None


def _lines(root: Any) -> Callable[..., int | None]:
    """A lookup of the line (1-based) of a key path in a YAML node tree, where it exists."""
    yaml = _yaml()

    def line(*keys: str) -> int | None:
        node, found = root, None
        for key in keys:
            if node is None or not isinstance(node, yaml.MappingNode):
                return found
            for key_node, value_node in node.value:
                if key_node.value == key:
                    found, node = key_node.start_mark.line + 1, value_node
                    break
            else:
                return found
        return found

    return line


def _misspelt(key: Any, known: frozenset[str], given: Mapping[Any, Any]) -> str | None:
    """The known key ``key`` looks like a typo of, when that one is not given too (other
    unknown keys are left alone: kstlib's files may carry keys of their own)."""
    if not isinstance(key, str) or key in known:
        return None
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
    return close[0] if close and close[0] not in given else None


def _parse(
    data: Any, path: Path | None, shown: str, line: Callable[..., int | None] | None
) -> MonitoringConfig:
    def fail(message: str, *keys: str, hint: str = "") -> MonitoringConfigFormatError:
        return MonitoringConfigFormatError(
            message, path=shown or None, line=line(*keys) if line and keys else None, hint=hint
        )

    if not isinstance(data, Mapping):
        raise fail("must be a dictionary (name, template, collectors…)", hint="see kstlib's format")
    for key in data:  # other keys are kept (kstlib's files carry their own); a typo is not
        if (typo := _misspelt(key, KNOWN_KEYS, data)) is not None:
            raise fail(f"unknown key '{key}'", str(key), hint=f"did you mean '{typo}'?")
    template = data.get("template")
    template_file = data.get("template_file")
    if (template is None) == (template_file is None):
        raise fail(
            "needs 'template' or 'template_file' (one of them)",
            hint="put the Jinja2 template under 'template: |'",
        )
    if template_file is not None:
        template = _read_template_file(template_file, path, fail)
    if not isinstance(template, str):
        raise fail("'template' must be a string", "template")
    if len(template.encode("utf-8")) > MAX_TEMPLATE_SIZE:
        raise fail(f"template exceeds maximum size ({MAX_TEMPLATE_SIZE // 1024} KB)", "template")
    name = data.get("name")
    if name is None:
        name = path.name.removesuffix(SUFFIX) if path is not None else "unnamed"
    if not isinstance(name, str) or not name.strip():
        raise fail("'name' must be a non-empty string", "name")
    if len(name) > MAX_NAME_LENGTH:
        raise fail(f"'name' exceeds maximum length ({MAX_NAME_LENGTH} characters)", "name")
    options: dict[str, bool] = {}
    for option, default in (("inline_css", True), ("fail_fast", True)):
        value = data.get(option, default)
        if not isinstance(value, bool):
            raise fail(f"'{option}' must be true or false, not {value!r}", option)
        options[option] = value
    raw = data.get("collectors") or {}
    if not isinstance(raw, Mapping):
        raise fail(
            "'collectors' must be a dictionary of names to values or collector settings",
            "collectors",
        )
    if len(raw) > MAX_COLLECTORS:
        raise fail(f"too many collectors ({len(raw)} > {MAX_COLLECTORS})", "collectors")
    collectors = []
    folder = str(path.resolve().parent) if path is not None else ""
    for key, entry in raw.items():
        label = str(key)
        at = line("collectors", label) if line else None
        if len(label) > MAX_NAME_LENGTH:
            raise fail(
                f"collector name {label[:20]!r}… exceeds maximum length ({MAX_NAME_LENGTH})",
                "collectors",
                label,
            )
        if not label.isidentifier():
            raise fail(
                f"collector name {label!r} must be a Python identifier",
                "collectors",
                label,
                hint="it becomes a template variable",
            )
        if isinstance(entry, Mapping):
            kind = entry.get("type", "static")
            if kind not in COLLECTOR_TYPES:
                raise fail(
                    f"collector '{label}': unknown type {kind!r}",
                    "collectors",
                    label,
                    hint=f"use one of {', '.join(COLLECTOR_TYPES)}",
                )
            for key in entry:  # 'valu: 3' showed None as the value, and all was well
                if (typo := _misspelt(key, ENTRY_KEYS[kind], entry)) is not None:
                    raise fail(
                        f"collector '{label}': unknown key '{key}'",
                        "collectors",
                        label,
                        str(key),
                        hint=f"did you mean '{typo}'?",
                    )
            collectors.append(
                CollectorConfig(
                    label,
                    kind,
                    entry.get("value"),
                    entry.get("module"),
                    entry.get("function"),
                    entry.get("env_var"),
                    entry.get("default"),
                    shown,
                    at,
                    folder,
                )
            )
        else:
            collectors.append(
                CollectorConfig(label, "static", entry, where=shown, line=at, folder=folder)
            )
    return MonitoringConfig(
        name.strip(),
        template,
        collectors,
        options["inline_css"],
        options["fail_fast"],
        path,
        {k: data[k] for k in data if k not in KNOWN_KEYS},
    )


def _read_template_file(relative: Any, path: Path | None, fail: Callable[..., Exception]) -> str:
    if not isinstance(relative, str) or not relative:
        raise fail("'template_file' must be a file name", "template_file")
    base = path.resolve().parent if path is not None else Path.cwd()
    target = (base / relative).resolve()
    if not target.is_relative_to(base):
        raise fail(
            f"'template_file' {relative!r} is outside {base.name}/",
            "template_file",
            hint="keep the template beside the .monitor.yml file",
        )
    try:
        if target.stat().st_size > MAX_TEMPLATE_SIZE:
            raise fail(f"{relative} is over {MAX_TEMPLATE_SIZE // 1024} KB", "template_file")
        return target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read template_file {relative!r}: {exc}", "template_file") from None


def load_monitoring_config(
    path: str | os.PathLike[str], *, encoding: str = "utf-8", root: Path | None = None
) -> MonitoringConfig:
    """Read and check one ``*.monitor.yml`` file."""
    source = Path(path)
    shown = display(source, root) if root is not None else str(source)
    if not source.is_file():
        raise MonitoringConfigFileNotFoundError("no such file", path=shown)
    if source.stat().st_size > MAX_CONFIG_FILE_SIZE:
        raise MonitoringConfigFormatError(
            f"file too large (over {MAX_CONFIG_FILE_SIZE // 1024} KB)",
            path=shown,
            hint="split it, or trim it",
        )
    yaml = _yaml()
    try:
        text = source.read_text(encoding=encoding)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        check_expansion(root)  # before anything expands an alias bomb
        data = yaml.safe_load(text)
    except ExpansionError as exc:
        raise MonitoringConfigFormatError(
            f"refused: {exc}", path=shown, hint="write the values out, without nested aliases"
        ) from None
    except UnicodeDecodeError:
        raise MonitoringConfigFormatError(
            "not UTF-8 text", path=shown, hint="save it as UTF-8"
        ) from None
    except RecursionError:
        raise MonitoringConfigFormatError(
            "nested too deeply to read", path=shown, hint="flatten the nested lists or maps"
        ) from None
    except yaml.YAMLError as exc:
        # Where the broken construct began, else where the parser gave up.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise MonitoringConfigFormatError(
            f"not valid YAML: {problem}",
            path=shown,
            line=mark.line + 1 if mark is not None else None,
            hint="fix the YAML syntax",
        ) from None
    config = _parse(data, source.resolve(), shown, _lines(root))
    config.template_offset = _block_offset(root)
    return config


def _block_offset(root: Any) -> int:
    """Lines before a literal ``template: |`` block's first line (0: not a literal block)."""
    yaml = _yaml()
    if not isinstance(root, yaml.MappingNode):
        return 0
    for key, value in root.value:
        if key.value == "template" and isinstance(value, yaml.ScalarNode) and value.style == "|":
            return int(value.start_mark.line) + 1
    return 0


def discover_monitoring_configs(
    directory: str | os.PathLike[str], *, recursive: bool = False
) -> dict[str, MonitoringConfig]:
    """Every ``*.monitor.yml`` in ``directory`` (and below, ``recursive``), by name."""
    folder = Path(directory)
    if not folder.is_dir():
        raise MonitoringConfigFileNotFoundError("no such folder", path=str(folder))
    found: dict[str, MonitoringConfig] = {}
    for path in sorted(folder.rglob(PATTERN) if recursive else folder.glob(PATTERN)):
        config = load_monitoring_config(path)
        found[config.name] = config
    return found


def create_services_from_directory(
    directory: str | os.PathLike[str],
) -> dict[str, MonitoringService]:
    """A :class:`MonitoringService` for every ``*.monitor.yml`` in ``directory``."""
    return {
        name: config.to_service() for name, config in discover_monitoring_configs(directory).items()
    }


class MonitorFileFormat:
    """kstlib's ``<slug>.monitor.yml`` as a one-file dashboard format.

    Registered in the ``dashsite.dashboard_files`` entry point group, so discovery and
    the template loader find these files without importing this layer.
    """

    suffix = SUFFIX

    def read(
        self, path: Path, *, root: Path | None = None, allow_secret_env: Collection[str] = ()
    ) -> FileDashboard:
        """The title, description and collectors; a secret-looking ``env`` must be allowed."""
        config = load_monitoring_config(path, root=root)
        for entry in config.collectors:
            if entry.collector_type == "env" and entry.env_var:
                variable = str(entry.env_var)  # by its name, or a password in its value
                problem = secret_env_problem(variable, allow_secret_env, os.environ.get(variable))
                if problem is not None:
                    raise DashboardError(
                        f"collector '{entry.name}': {problem[0]}",
                        path=display(path, root) if root is not None else str(path),
                        line=entry.line,
                        hint=problem[1],
                    )
        # A ``callable`` runs in a worker process: one that crashes, exits or hangs
        # fails its own collector, not the build (:mod:`dashsite.collection.isolated`).
        return FileDashboard(
            config.name,
            str(config.metadata.get("description", "")),
            tuple(entry._site_collector() for entry in config.collectors),
        )

    def template(self, path: Path) -> str:
        """The file's template, padded so its errors name the file's own line."""
        return load_monitoring_config(path).padded_template


MONITOR_FILES = MonitorFileFormat()
"""The registered format (``pyproject.toml``: ``dashsite.dashboard_files``)."""
