"""Site configuration: ``dashsite.toml`` or ``[tool.dashsite]`` in ``pyproject.toml``.

The file is validated as a whole: every unknown key and wrong type is
collected and reported together, then the command stops.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError

CONFIG_FILE = "dashsite.toml"


@dataclass(frozen=True, slots=True)
class MailSettings:
    """``[mail]``: how ``dashsite mail`` reaches its SMTP server.

    The password is never in the file: it is read from the environment
    variable named by ``password_env``.
    """

    host: str = "localhost"
    port: int | None = None
    security: str = "starttls"
    user: str = ""
    password_env: str = "DASHSITE_SMTP_PASSWORD"  # noqa: S105 - a variable name, not a secret
    sender: str = ""
    timeout: float = 30.0
    cafile: str = ""
    to: tuple[str, ...] = ()

    @property
    def effective_port(self) -> int:
        """The configured port, or the usual one for the security mode."""
        if self.port is not None:
            return self.port
        return {"ssl": 465, "starttls": 587}.get(self.security, 25)


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """Everything a build needs to know beyond the dashboards themselves."""

    root: Path
    title: str = "Dashboards"
    dashboards_dir: str = "dashboards"
    site_dir: str = "site"
    timeout: float = 30.0
    import_timeout: float = 30.0
    concurrency: int = 128
    retention: int | None = None
    keep_pages: str = "7d"
    keep_data: str = "30d"
    expected_every: str = "1h"
    index_sort: str = "status"
    incidents_dir: str = "incidents"
    base_url: str = ""
    history: int = 100
    refresh: int = 0
    mail: MailSettings = field(default_factory=MailSettings)
    source: Path | None = field(default=None, compare=False)

    @property
    def dashboards_path(self) -> Path:
        """Absolute path of the dashboards folder."""
        return (self.root / self.dashboards_dir).resolve()

    @property
    def site_path(self) -> Path:
        """Absolute path of the output site folder."""
        return (self.root / self.site_dir).resolve()

    @property
    def incidents_path(self) -> Path:
        """Absolute path of the incidents folder (incidents as code)."""
        return (self.root / self.incidents_dir).resolve()

    @property
    def layouts_path(self) -> Path:
        """Absolute path of the shared layouts folder."""
        return self.dashboards_path / "_layouts"


# key → (python types accepted, description used in messages)
_SCHEMA: dict[str, tuple[tuple[type, ...], str]] = {
    "title": ((str,), "a string"),
    "dashboards_dir": ((str,), "a folder path (string)"),
    "site_dir": ((str,), "a folder path (string)"),
    "timeout": ((int, float), "a number of seconds"),
    "import_timeout": ((int, float), "a number of seconds"),
    "concurrency": ((int,), "a whole number"),
    "retention": ((int,), "a whole number of versions to keep"),
    "keep_pages": ((str,), 'a number of days or weeks ("7d", "2w") or "forever"'),
    "keep_data": ((str,), 'a number of days or weeks ("30d", "8w") or "forever"'),
    "expected_every": ((str,), 'a duration between builds ("5m", "1h", "1d")'),
    "index_sort": ((str,), 'how the index orders dashboards: "status" or "title"'),
    "incidents_dir": ((str,), "a folder path (string)"),
    "base_url": ((str,), "a URL (string)"),
    "history": ((int,), "a whole number of versions"),
    "refresh": ((int,), "a whole number of seconds (0: off)"),
    "mail": ((dict,), "a table ([mail])"),
}
_MAIL_SCHEMA: dict[str, tuple[tuple[type, ...], str]] = {
    "host": ((str,), "a host name"),
    "port": ((int,), "a port number"),
    "security": ((str,), "one of starttls, ssl, none"),
    "user": ((str,), "a user name"),
    "password_env": ((str,), "the name of an environment variable"),
    "from": ((str,), "an email address"),
    "timeout": ((int, float), "a number of seconds"),
    "cafile": ((str,), "a path to CA certificates (PEM)"),
    "to": ((list,), "a list of email addresses"),
}
assert set(_SCHEMA) <= {f.name for f in fields(SiteConfig)}


_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        raise ConfigError(
            f"not valid TOML: {_TOML_LINE.sub('', str(exc)).strip()}",
            path=path.name,
            line=int(found.group(1)) if found else None,
            hint="fix the TOML syntax",
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            "not UTF-8 text (a binary file?)", path=path.name, hint="save it as UTF-8 TOML"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=path.name) from None


def _validate(
    table: dict[str, Any],
    where: str,
    schema: dict[str, tuple[tuple[type, ...], str]] = _SCHEMA,
) -> list[str]:
    problems = []
    for key, value in table.items():
        if key not in schema:
            known = ", ".join(sorted(schema))
            problems.append(f"{where}: unknown key '{key}' — known keys: {known}")
            continue
        types, described = schema[key]
        if isinstance(value, bool) or not isinstance(value, types):
            problems.append(
                f"{where}: '{key}' must be {described}, not {type(value).__name__} {value!r}"
            )
            continue
        if key == "mail" and isinstance(value, dict):
            problems.extend(_validate(value, f"{where} [mail]", _MAIL_SCHEMA))
            continue
        if key == "to" and isinstance(value, list) and not all(isinstance(v, str) for v in value):
            problems.append(f"{where}: 'to' must be a list of strings")
        if key == "refresh" and isinstance(value, int) and value < 0:
            problems.append(f"{where}: 'refresh' must be 0 (off) or more seconds, not {value}")
        if key == "port" and isinstance(value, int) and not 0 < value < 65536:
            problems.append(f"{where}: 'port' must be between 1 and 65535, not {value}")
        if key == "security" and value not in {"starttls", "ssl", "none"}:
            problems.append(
                f"{where}: 'security' must be one of starttls, ssl, none, not {value!r}"
            )
        number = float(value) if isinstance(value, int | float) else 1.0
        if key in {"concurrency", "history"} and number < 1:
            problems.append(f"{where}: '{key}' must be at least 1, not {value}")
        if key in {"keep_pages", "keep_data"} and isinstance(value, str):
            try:
                keep_days(value)
            except ValueError:
                problems.append(
                    f'{where}: \'{key}\' must be like "7d", "2w" or "forever", not {value!r}'
                )
        if key == "expected_every" and isinstance(value, str):
            try:
                every_seconds(value)
            except ValueError:
                problems.append(
                    f'{where}: \'expected_every\' must be like "5m", "1h" or "1d", not {value!r}'
                )
        if key == "index_sort" and value not in {"status", "title"}:
            problems.append(f'{where}: \'index_sort\' must be "status" or "title", not {value!r}')
        if key == "retention" and number < 1:
            problems.append(f"{where}: 'retention' must be at least 1 (omit it to keep all)")
        if key in {"timeout", "import_timeout"} and not 0 < number < math.inf:
            problems.append(f"{where}: '{key}' must be a positive number of seconds, not {value}")
    return problems


_KEEP = re.compile(r"([0-9]{1,5})([dw])")


def keep_days(text: str) -> int | None:
    """``"7d"`` → 7, ``"2w"`` → 14, ``"forever"`` → None; ``ValueError`` otherwise."""
    if text == "forever":
        return None
    found = _KEEP.fullmatch(text)
    if found is None:
        raise ValueError(f"not a number of days or weeks: {text!r}")
    return int(found.group(1)) * (7 if found.group(2) == "w" else 1)


_EVERY = re.compile(r"([0-9]{1,6})([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def every_seconds(text: str) -> float:
    """``"5m"`` → 300.0 (``s``, ``m``, ``h``, ``d``); ``ValueError`` otherwise."""
    found = _EVERY.fullmatch(text.strip())
    if found is None or int(found.group(1)) == 0:
        raise ValueError(f"not a duration like 5m, 1h or 1d: {text!r}")
    return float(int(found.group(1)) * _UNIT[found.group(2)])


def load_config(root: Path, overrides: dict[str, Any] | None = None) -> SiteConfig:
    """Read and validate the configuration of the project at ``root``."""
    if not root.is_dir():
        raise ConfigError(
            "the project folder does not exist", path=str(root), hint="check the -C argument"
        )
    root = root.resolve()
    table: dict[str, Any] = {}
    source: Path | None = None
    where = ""
    if (root / CONFIG_FILE).is_file():
        source = root / CONFIG_FILE
        table = _read_toml(source)
        where = CONFIG_FILE
        if "dashsite" in table and isinstance(table["dashsite"], dict) and len(table) == 1:
            table = table["dashsite"]
    elif (root / "pyproject.toml").is_file():
        pyproject = _read_toml(root / "pyproject.toml")
        section = pyproject.get("tool", {}).get("dashsite")
        if section is not None:
            source = root / "pyproject.toml"
            where = "pyproject.toml [tool.dashsite]"
            if not isinstance(section, dict):
                raise ConfigError("[tool.dashsite] must be a table", path=source.name)
            table = section
    problems = _validate(table, where) if table else []
    if problems:
        raise ConfigError(
            f"{len(problems)} problem(s) in the configuration",
            path=where,
            hint="; ".join(problems),
        ).with_problems(problems)
    values = {**table, **(overrides or {})}
    mail = values.pop("mail", {})
    fields_: dict[str, Any] = {"sender" if k == "from" else k: v for k, v in mail.items()}
    if "to" in fields_:
        fields_["to"] = tuple(fields_["to"])
    settings = MailSettings(**fields_)
    config = SiteConfig(root=root, source=source, mail=settings, **values)
    problem = _layout_problem(config)
    if problem:
        message, hint = problem
        raise ConfigError(message, path=where or None, hint=hint)
    return config


def _layout_problem(config: SiteConfig) -> tuple[str, str] | None:
    """Folders that would make a build replace or publish what it must not.

    A build replaces what is in the site folder: the project itself, its
    dashboards or its ``.git`` must never be (or be inside) it.
    """
    site, root, dashboards = config.site_path, config.root, config.dashboards_path
    fix = 'give the site a folder of its own, such as site_dir = "site"'
    named = f"'site_dir' ({config.site_dir!r})"
    if site == root or root.is_relative_to(site):
        return f"{named} is the project folder or holds it", fix
    if site.is_relative_to(dashboards) or dashboards.is_relative_to(site):
        return f"{named} and 'dashboards_dir' ({config.dashboards_dir!r}) overlap", fix
    if site.is_relative_to(root / ".git") or site.name in {".git", ".dashsite"}:
        return f"{named} is inside .git or dashsite's own folder", fix
    pages, data = keep_days(config.keep_pages), keep_days(config.keep_data)
    if data is not None and (pages is None or pages > data):
        return (
            f"'keep_data' ({config.keep_data}) is shorter than 'keep_pages' ({config.keep_pages})",
            "a version keeps its data at least as long as its page",
        )
    return None
