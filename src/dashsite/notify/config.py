"""``[notify]``: the targets a site tells about status changes, and each one's rules.

::

    [notify]
    group_over = 3            # more dashboards than this changing in one run: one message
    timeout = 10              # seconds per send attempt
    retries = 2               # more attempts on 5xx, 429 or no answer (backoff 0.5 s, 1 s, …)
    template = "notify.md"    # optional: a Jinja template (sandboxed) for the message body

    [notify.targets.ops]
    url = "https://hooks.example.com/${OPS_HOOK_TOKEN}"   # ${VAR}: from the environment
    dashboards = ["service-health"]   # and/or groups = ["payments"]; neither: every dashboard
    on = ["opened", "worsened", "recovered", "ongoing"]
    fail_after = 3            # builds in a row that are not OK before "opened"
    fail_after_time = "10m"   # or this long not OK (whichever comes first)
    recover_after = 2         # OK builds in a row before "recovered"
    remind_every = "1h"       # "ongoing" while it lasts (off when not set)
    maintenance = "quiet"     # or "notify": what declared maintenance windows do

A URL is one of: ``https://``/``http://`` (dashsite's own JSON webhook),
``mailto:a@example.com,b@example.com`` (mail through ``[mail]``'s SMTP
settings), or any apprise URL (``slack://``, ``ntfy://``, ``json://``, …;
needs ``pip install 'dashsite[notify]'``). Secrets are never in the file:
``${VAR}`` is replaced from the environment, and a variable that is not set
is a configuration error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dashsite.core.config import SiteConfig, every_seconds
from dashsite.core.errors import ConfigError
from dashsite.core.names import is_slug

KINDS = ("opened", "worsened", "recovered", "ongoing")
"""The transitions a target can be told of."""
GROUP_OVER = 3
"""Default: more dashboards than this changing in one run make one grouped message."""
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TOP = {"group_over", "timeout", "retries", "template", "targets"}
_TARGET = {
    "url",
    "dashboards",
    "groups",
    "on",
    "fail_after",
    "fail_after_time",
    "recover_after",
    "remind_every",
    "maintenance",
    "template",
}


@dataclass(frozen=True, slots=True)
class Rules:
    """When a target hears of a dashboard's change."""

    dashboards: frozenset[str] | None = None
    groups: frozenset[str] | None = None
    on: frozenset[str] = frozenset(KINDS)
    fail_after: int = 1
    fail_after_time: float | None = None
    recover_after: int = 1
    remind_every: float | None = None
    quiet_in_maintenance: bool = True

    def covers(self, slug: str, group: str) -> bool:
        """Whether the rules select this dashboard (by slug or group)."""
        if self.dashboards is None and self.groups is None:
            return True
        return slug in (self.dashboards or ()) or group in (self.groups or ())


@dataclass(frozen=True, slots=True)
class Target:
    """One named target: where messages go (``url``, secrets expanded) and its rules."""

    name: str
    url: str
    shown: str
    """The URL as written (``${VAR}`` not expanded): safe to print."""
    rules: Rules = Rules()
    template: str = ""

    @property
    def kind(self) -> str:
        """``webhook``, ``mail`` or ``apprise``."""
        return url_kind(self.url)


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """The whole ``[notify]`` section."""

    targets: tuple[Target, ...] = ()
    group_over: int = GROUP_OVER
    timeout: float = 10.0
    retries: int = 2
    template: str = ""

    def target(self, name: str) -> Target:
        """The target called ``name``; :class:`ConfigError` if there is none."""
        for target in self.targets:
            if target.name == name:
                return target
        known = ", ".join(t.name for t in self.targets) or "none"
        raise ConfigError(
            f"no notify target named {name!r} (known: {known})",
            hint="add [notify.targets.NAME] with a url to the configuration",
        )


def url_kind(url: str) -> str:
    """``webhook`` (http/https), ``mail`` (``mailto:`` without ``//``) or ``apprise``."""
    lowered = url.lower()
    if lowered.startswith(("https://", "http://")):
        return "webhook"
    if lowered.startswith("mailto:") and not lowered.startswith("mailto://"):
        return "mail"
    return "apprise"


def expand(text: str, environ: Mapping[str, str], where: str, problems: list[str]) -> str:
    """``${VAR}`` replaced from ``environ``; a variable that is not set is a problem."""

    def value(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in environ:
            problems.append(f"{where}: ${{{name}}} is not set in the environment")
            return ""
        return environ[name]

    return _VAR.sub(value, text)


def _duration(value: Any, where: str, problems: list[str]) -> float | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return every_seconds(value)
    except ValueError:
        problems.append(f'{where} must be a duration like "10m" or "1h", not {value!r}')
        return None


def _count(value: Any, default: int, where: str, problems: list[str], low: int = 1) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        problems.append(f"{where} must be a whole number, at least {low}, not {value!r}")
        return default
    return value


def _names(
    value: Any, where: str, problems: list[str], slugs: bool = False
) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where} must be a list of names")
        return None
    unsafe = [v for v in value if slugs and not is_slug(v)]
    if unsafe:  # (no dashboard has such a name: the target would never fire)
        problems.append(
            f"{where}: {unsafe[0]!r} is not a dashboard's name "
            "(lower-case letters, digits, '-', '_')"
        )
    return frozenset(value)


def _target(
    name: str, raw: Any, environ: Mapping[str, str], problems: list[str], has_apprise: bool
) -> Target | None:
    where = f"[notify.targets.{name}]"
    if not is_slug(name):
        problems.append(f"{where}: a target name must be lower-case letters, digits and '-'")
        return None
    if not isinstance(raw, dict):
        problems.append(f"{where} must be a table with a url")
        return None
    for key in raw:
        if key not in _TARGET:
            problems.append(
                f"{where}: unknown key '{key}' — known keys: {', '.join(sorted(_TARGET))}"
            )
    url = raw.get("url")
    if not isinstance(url, str) or not url.strip():
        problems.append(f'{where}: url must be a URL, like "https://hooks.example.com/…"')
        return None
    expanded = expand(url.strip(), environ, f"{where} url", problems)
    scheme = url.split(":", 1)[0]
    if url_kind(expanded) == "apprise" and not has_apprise:
        problems.append(
            f"{where}: {scheme}:// needs apprise — pip install 'dashsite[notify]' "
            "(built in: https:// webhooks and mailto: mail)"
        )
    elif url_kind(expanded) == "apprise" and not apprise_understands(expanded):
        problems.append(  # (the url itself is not repeated: it may hold a token)
            f"{where}: apprise does not understand this {scheme}:// url — check its "
            "syntax in apprise's list of services (https://github.com/caronc/apprise/wiki)"
        )
    if url_kind(expanded) == "mail" and not all(
        "@" in a and not any(c in a for c in "\r\n<>") for a in mail_addresses(expanded)
    ):
        problems.append(f"{where}: mailto: needs email addresses, like mailto:ops@example.com")
    on = raw.get("on", list(KINDS))
    if not isinstance(on, list) or not all(isinstance(v, str) and v in KINDS for v in on):
        problems.append(f"{where}: on must be a list of {', '.join(KINDS)}")
        on = list(KINDS)
    maintenance = raw.get("maintenance", "quiet")
    if maintenance not in ("quiet", "notify"):
        problems.append(f'{where}: maintenance must be "quiet" or "notify", not {maintenance!r}')
    template = raw.get("template", "")
    if not isinstance(template, str):
        problems.append(f"{where}: template must be a file path")
        template = ""
    rules = Rules(
        _names(raw.get("dashboards"), f"{where} dashboards", problems, slugs=True),
        _names(raw.get("groups"), f"{where} groups", problems),
        frozenset(on),
        _count(raw.get("fail_after"), 1, f"{where} fail_after", problems),
        _duration(raw.get("fail_after_time"), f"{where} fail_after_time", problems),
        _count(raw.get("recover_after"), 1, f"{where} recover_after", problems),
        _duration(raw.get("remind_every"), f"{where} remind_every", problems),
        maintenance != "notify",
    )
    return Target(name, expanded, url.strip(), rules, template)


def mail_addresses(url: str) -> list[str]:
    """``mailto:a@x,b@y`` → the addresses."""
    return [part.strip() for part in url[len("mailto:") :].split(",") if part.strip()]


def apprise_available() -> bool:
    """Whether the ``notify`` extra (apprise) is installed."""
    import importlib.util

    return importlib.util.find_spec("apprise") is not None


def apprise_understands(url: str) -> bool:
    """Whether apprise knows the service ``url`` names and can read its parts (nothing is
    sent: a url it cannot read fails on every run, kept in the ledger for ever)."""
    import warnings

    with warnings.catch_warnings():  # (its plugins' imports' deprecation notices)
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise

        return bool(apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False)).add(url))


def read_settings(config: SiteConfig, environ: Mapping[str, str] | None = None) -> NotifySettings:
    """``[notify]`` validated as a whole; :class:`ConfigError` lists every problem."""
    raw = config.notify
    environ = os.environ if environ is None else environ
    problems: list[str] = []
    for key in raw:
        if key not in _TOP:
            known = ", ".join(sorted(_TOP))
            problems.append(f"[notify]: unknown key '{key}' — known keys: {known}")
    group_over = _count(raw.get("group_over"), GROUP_OVER, "[notify] group_over", problems)
    retries = _count(raw.get("retries"), 2, "[notify] retries", problems, low=0)
    timeout = raw.get("timeout", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 300:
        problems.append(f"[notify] timeout must be seconds between 0 and 300, not {timeout!r}")
        timeout = 10.0
    template = raw.get("template", "")
    if not isinstance(template, str):
        problems.append("[notify] template must be a file path")
        template = ""
    tables = raw.get("targets", {})
    targets: list[Target] = []
    if not isinstance(tables, dict):
        problems.append("[notify] targets must be tables: [notify.targets.NAME]")
        tables = {}
    has_apprise = apprise_available()
    for name, table in tables.items():
        found = _target(name, table, environ, problems, has_apprise)
        if found is not None:
            targets.append(found)
    if problems:
        where = config.source.name if config.source else None
        problems = [f"{where}: {p}" if where else p for p in problems]
        raise ConfigError(
            f"{len(problems)} problem(s) in [notify]", path=where, hint="; ".join(problems)
        ).with_problems(problems)
    return NotifySettings(tuple(targets), group_over, float(timeout), retries, template)
