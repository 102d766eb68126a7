"""Site configuration: ``dashsite.toml`` or ``[tool.dashsite]`` in ``pyproject.toml``.

The file is validated as a whole: every unknown key and wrong type is
collected and reported together, then the command stops.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dashsite.core.errors import ConfigError
from dashsite.core.scheduler_address import address_problem
from dashsite.core.words import status_words_problem

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
        return SMTP_PORTS.get(self.security, 25)


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
    unchanged: str = "check"
    expected_every: str = "1h"
    index_sort: str = "status"
    incidents_dir: str = "incidents"
    base_url: str = ""
    history: int = 100
    refresh: int = 0
    executor: str = "threads"
    scheduler: str = ""
    workers: int | None = None
    every: dict[str, str] = field(default_factory=dict)
    allow_secret_env: tuple[str, ...] = ()
    status_words: dict[str, str] = field(default_factory=dict)
    mail: MailSettings = field(default_factory=MailSettings)
    notify: dict[str, Any] = field(default_factory=dict)
    """``[notify]`` as written; :mod:`dashsite.notify.config` validates it."""
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


SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
"""``[mail] security`` → the usual port; also the allowed values."""


def _at_least(low: int, why: str = "") -> Callable[[Any], str | None]:
    return lambda v: None if v >= low else f"must be at least {low}{why or f', not {v}'}"


def _seconds(value: Any) -> str | None:
    if 0 < float(value) < math.inf:
        return None
    return f"must be a positive number of seconds, not {value}"


def _parses(parse: Callable[[str], Any], like: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        try:
            parse(value)
        except ValueError:
            return f"must be like {like}, not {value!r}"
        return None

    return check


def _one_of(*choices: str, quoted: bool = False) -> Callable[[Any], str | None]:
    listed = " or ".join(f'"{c}"' for c in choices) if quoted else "one of " + ", ".join(choices)
    return lambda v: None if v in choices else f"must be {listed}, not {v!r}"


@dataclass(frozen=True, slots=True)
class Option:
    """One setting, declared once: what it accepts, how it is checked, what it is for.

    Validation, the error messages and the README's table of settings all
    read these declarations (a test keeps the README equal to them).
    """

    key: str
    kinds: tuple[type, ...]
    described: str
    """What a wrong type is told it must be: ``must be a number of seconds``."""
    help: str
    check: Callable[[Any], str | None] | None = None
    """The rest of the message when the value is wrong (``must be at least 1…``), or None."""


OPTIONS = (
    Option("title", (str,), "a string", "the site's title"),
    Option("dashboards_dir", (str,), "a folder path (string)", "where the dashboards are"),
    Option("site_dir", (str,), "a folder path (string)", "where the site is built"),
    Option(
        "timeout",
        (int, float),
        "a number of seconds",
        "default per-collector timeout, seconds",
        _seconds,
    ),
    Option(
        "import_timeout",
        (int, float),
        "a number of seconds",
        "how long a dashboard.py may take to import, seconds",
        _seconds,
    ),
    Option(
        "concurrency",
        (int,),
        "a whole number",
        "collectors running at once, across all dashboards",
        _at_least(1),
    ),
    Option(
        "retention",
        (int,),
        "a whole number of versions to keep",
        "keep the newest N versions per dashboard (default: all)",
        _at_least(1, " (omit it to keep all)"),
    ),
    Option(
        "keep_pages",
        (str,),
        'a number of days or weeks ("7d", "2w") or "forever"',
        "snapshot pages of the last N days",
        _parses(lambda v: keep_days(v), '"7d", "2w" or "forever" (at most 99999d)'),
    ),
    Option(
        "keep_data",
        (str,),
        'a number of days or weeks ("30d", "8w") or "forever"',
        "then data.json only, for N days; then the log line only",
        _parses(lambda v: keep_days(v), '"7d", "2w" or "forever" (at most 99999d)'),
    ),
    Option(
        "unchanged",
        (str,),
        'what a build files of a dashboard whose data did not change: "check" or "version"',
        "a check (a log line; still a version a day), or a new version every build",
        _one_of("check", "version", quoted=True),
    ),
    Option(
        "expected_every",
        (str,),
        'a duration between builds ("5m", "1h", "1d")',
        "how often builds run; a status holds for twice that, and an older latest version is stale",
        _parses(lambda v: every_seconds(v), '"5m", "1h" or "1d"'),
    ),
    Option(
        "index_sort",
        (str,),
        'how the index orders dashboards: "status" or "title"',
        "the index: worst first, or A to Z",
        _one_of("status", "title", quoted=True),
    ),
    Option("incidents_dir", (str,), "a folder path (string)", "incidents as code"),
    Option(
        "base_url",
        (str,),
        "a URL (string)",
        "where the site is published: absolute links in mail and feeds",
        lambda v: _http_url(v),  # defined below
    ),
    Option(
        "history",
        (int,),
        "a whole number of versions",
        "earlier versions a template sees as `history`",
        _at_least(1),
    ),
    Option(
        "refresh",
        (int,),
        "a whole number of seconds (0: off)",
        "latest pages and the index reload themselves every N seconds (0: off)",
        lambda v: None if v >= 0 else f"must be 0 (off) or more seconds, not {v}",
    ),
    Option(
        "executor",
        (str,),
        'where sync collectors run: "threads" or "dask"',
        "a thread pool here, or a dask.distributed cluster (`dashsite[dask]`, see Scaling out)",
        _one_of("threads", "dask", quoted=True),
    ),
    Option(
        "scheduler",
        (str,),
        'a dask scheduler address ("tcp://host:8786")',
        'with `executor = "dask"`: the cluster to use (default: a local one per build)',
        lambda v: None if v == "" else address_problem(v),
    ),
    Option(
        "workers",
        (int,),
        "a whole number of worker processes",
        "worker processes of the local dask cluster (default: one per CPU)",
        _at_least(1),
    ),
    Option(
        "every",
        (dict,),
        'a table of "<slug>" or "<slug>.<collector>" = duration',
        "run those collectors at most that often; builds between reuse the last good value",
        lambda v: _every_table(v),  # defined below, beside every_seconds
    ),
    Option(
        "allow_secret_env",
        (list,),
        "a list of environment variable names",
        "`env` collectors of YAML dashboards that may publish a variable named like a secret",
        lambda v: None if all(isinstance(x, str) for x in v) else "must be a list of strings",
    ),
    Option(
        "status_words",
        (dict,),
        'a table of state = "word" ([status_words])',
        "what visitors read for ok, warning, error, critical, stale, no_data, failed, "
        "unbuilt, maintenance, scheduled, archived (default: Operational, Degraded, Partial "
        "outage, Major outage…)",
        lambda v: status_words_problem(v),
    ),
    Option("mail", (dict,), "a table ([mail])", "how `dashsite mail` sends (below)"),
    Option("notify", (dict,), "a table ([notify])", "what `dashsite notify` tells whom"),
)
MAIL_OPTIONS = (
    Option("host", (str,), "a host name", "the SMTP server"),
    Option("port", (int,), "a port number", "its port (default: by `security`)",
           lambda v: None if 0 < v < 65536 else f"must be between 1 and 65535, not {v}"),
    Option("security", (str,), "one of starttls, ssl, none",
           "starttls (port 587), ssl (465) or none (25)", _one_of(*SMTP_PORTS)),
    Option("user", (str,), "a user name", "the login, if the server wants one"),
    Option("password_env", (str,), "the name of an environment variable",
           "the variable that holds the password (never the file)"),
    Option("from", (str,), "an email address", "the sender"),
    Option("timeout", (int, float), "a number of seconds", "SMTP timeout, seconds", _seconds),
    Option("cafile", (str,), "a path to CA certificates (PEM)", "extra CA certificates"),
    Option("to", (list,), "a list of email addresses", "default recipients",
           lambda v: None if all(isinstance(x, str) for x in v) else "must be a list of strings"),
)  # fmt: skip
_SCHEMA = {option.key: option for option in OPTIONS}
_MAIL_SCHEMA = {option.key: option for option in MAIL_OPTIONS}
assert set(_SCHEMA) <= {f.name for f in fields(SiteConfig)}
assert set(_MAIL_SCHEMA) - {"from"} | {"sender"} <= {f.name for f in fields(MailSettings)}


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


def _validate(table: dict[str, Any], where: str, schema: dict[str, Option] = _SCHEMA) -> list[str]:
    problems = []
    for key, value in table.items():
        option = schema.get(key)
        if option is None:
            close = difflib.get_close_matches(key, schema, n=1)
            if close:  # (the whole list would not fit the line: the guess is what helps)
                problems.append(f"{where}: unknown key '{key}' — did you mean '{close[0]}'?")
            else:
                known = " ".join(sorted(schema))  # (spaces: the whole list fits the line)
                problems.append(f"{where}: unknown key '{key}' — known keys: {known}")
            continue
        if isinstance(value, bool) or not isinstance(value, option.kinds):
            problems.append(
                f"{where}: '{key}' must be {option.described}, not {type(value).__name__} {value!r}"
            )
            continue
        if key == "mail" and schema is _SCHEMA and isinstance(value, dict):
            problems.extend(_validate(value, f"{where} [mail]", _MAIL_SCHEMA))
            continue
        wrong = option.check(value) if option.check is not None else None
        if wrong:
            problems.append(f"{where}: '{key}' {wrong}")
    return problems


def options_table() -> str:
    """The README's table of settings, from the declarations and the defaults."""
    defaults = {f.name: f.default for f in fields(SiteConfig)}
    mail_defaults = {
        ("from" if f.name == "sender" else f.name): f.default for f in fields(MailSettings)
    }
    rows = ["| setting | default | what |", "| --- | --- | --- |"]
    for prefix, options, known in (("", OPTIONS, defaults), ("mail.", MAIL_OPTIONS, mail_defaults)):
        for option in options:
            if option.key in ("mail", "notify"):
                continue
            default = known.get(option.key)
            blank = default in (None, "", (), MISSING)
            shown = "—" if blank else f"`{default!r}`".replace("'", '"')
            rows.append(f"| `{prefix}{option.key}` | {shown} | {option.help} |")
    return "\n".join(rows) + "\n"


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


_EVERY_KEY = re.compile(r"[a-z0-9][a-z0-9-]*(\.[A-Za-z_][A-Za-z0-9_]*)?")


def _every_table(table: dict[str, Any]) -> str | None:
    """What is wrong with ``[every]``, or None."""
    for key, value in table.items():
        if not _EVERY_KEY.fullmatch(key):
            return f'keys must be "<slug>" or "<slug>.<collector>", not {key!r}'
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            every_seconds(value)
        except ValueError:
            return f'[every] {key!r} must be a duration like "15m" or "1h", not {value!r}'
    return None


def _http_url(value: str) -> str | None:
    """What is wrong with ``base_url`` (it ends up in feed links and mail), or None."""
    if value == "":
        return None
    shown = repr(value) if len(value) <= 80 else repr(value[:80]) + "…"
    wrong = f'must be an http(s) URL such as "https://status.example.org/", not {shown}'
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in value):
        return wrong
    try:
        parts = urlsplit(value)
    except ValueError:
        return wrong
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return wrong
    return None


def load_config(root: Path, overrides: dict[str, Any] | None = None) -> SiteConfig:
    """Read and validate the configuration of the project at ``root``."""
    if root.exists() and not root.is_dir():
        raise ConfigError(
            "is a file, not a folder: -C names the project folder",
            path=str(root),
            hint=f"use -C {str(root.parent)!r}" if root.name else "check the -C argument",
        )
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
    problems += _validate(overrides, "the command line") if overrides else []
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
    if "allow_secret_env" in values:
        values["allow_secret_env"] = tuple(values["allow_secret_env"])
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
    if config.scheduler and config.executor != "dask":
        return (
            f"'scheduler' ({config.scheduler!r}) is set but 'executor' is {config.executor!r}",
            'add executor = "dask" to collect on that cluster, or remove scheduler',
        )
    pages, data = keep_days(config.keep_pages), keep_days(config.keep_data)
    if data is not None and (pages is None or pages > data):
        return (
            f"'keep_data' ({config.keep_data}) is shorter than 'keep_pages' ({config.keep_pages})",
            "a version keeps its data at least as long as its page",
        )
    return None
