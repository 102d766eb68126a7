"""Incidents as code: Markdown files in ``incidents/`` with TOML front matter.

::

    +++
    title = "Database failover"
    dashboards = ["service-health"]      # omitted: every dashboard
    start = 2026-11-27T20:15:00Z
    end = 2026-11-27T21:05:00Z           # omitted: ongoing
    severity = "error"                   # warning, error, critical or maintenance
    [[updates]]
    at = 2026-11-27T20:30:00Z
    status = "identified"                # optional: see UPDATE_WORDS
    text = "The primary lost its disk."  # Markdown
    +++
    The postmortem, in Markdown.

Each file joins the timeline of its dashboards (pages, feeds, the index)
and gets a page of its own, ``incidents/<name>.html``, where the updates
read as a timeline, newest first. Time inside a ``maintenance`` window does
not count as down.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment

from dashsite.core.errors import DashsiteError, display
from dashsite.core.levels import StatusLevel
from dashsite.core.names import SLUG_HINT, is_slug
from dashsite.store.layout import INCIDENTS_FOLDER
from dashsite.store.records import Incident
from dashsite.store.write import SiteFolder

"""Also the site folder their pages go to."""
SEVERITIES = ("maintenance", "warning", "error", "critical")
UPDATE_WORDS = {
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
    "scheduled": "Scheduled",
    "in-progress": "In progress",
    "verifying": "Verifying",
    "completed": "Completed",
    "update": "Update",
}
"""An update's ``status`` → the word its timeline shows (Statuspage's, for outages and for
maintenance); an update without one is an ``update``."""
MAX_FILE = 256 * 1024
_FENCE = "+++"
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


class IncidentError(DashsiteError):
    """An incident file that cannot be read; the build reports it and goes on."""


@dataclass(frozen=True, slots=True)
class Update:
    """One timed update of a declared incident."""

    at: datetime
    text: str
    """Markdown."""
    status: str = "update"
    """A key of :data:`UPDATE_WORDS`."""

    @property
    def word(self) -> str:
        """The status as the timeline shows it: ``Identified``."""
        return UPDATE_WORDS[self.status]


@dataclass(frozen=True, slots=True)
class DeclaredIncident:
    """One file of ``incidents/``."""

    name: str
    title: str
    dashboards: tuple[str, ...] | None
    """None: every dashboard."""
    start: datetime
    end: datetime | None
    severity: str
    updates: tuple[Update, ...]
    body: str
    """Markdown."""

    @property
    def url(self) -> str:
        """Its page, site-relative."""
        return f"{INCIDENTS_FOLDER}/{self.name}.html"

    @property
    def maintenance(self) -> bool:
        """Planned work: its time is not down time."""
        return self.severity == "maintenance"

    @property
    def level(self) -> StatusLevel:
        """The status level it shows with (maintenance shows as OK)."""
        return StatusLevel.OK if self.maintenance else StatusLevel.parse(self.severity)

    def for_dashboard(self, slug: str) -> Incident:
        """The incident as a dashboard's timeline holds it."""
        latest = max((u.at for u in self.updates if u.at >= self.start), default=None)  # (an
        # update before the start, "scheduled", is no change a feed reader should see)
        summary = "\n".join(f"{u.at:%Y-%m-%d %H:%M} UTC: {u.text}" for u in self.updates)
        return Incident(
            slug,
            self.start,
            "",
            self.level,
            latest or self.start,
            self.end,
            count=0,
            title=self.title,
            key=self.name,
            summary=summary,
            url=self.url,
            maintenance=self.maintenance,
            worsened_at=latest,
        )


def _when(value: Any, key: str, where: str, line: int) -> datetime:
    if not isinstance(value, datetime):
        raise IncidentError(
            f"'{key}' must be a date and time, like 2026-11-27T20:15:00Z",
            path=where,
            line=line,
            hint="write a TOML date-time (UTC with Z, or with an offset)",
        )
    if not 1970 <= value.year <= 2200:  # a typo ("0001-01-01" read "since 739953d 20h")
        raise IncidentError(
            f"'{key}' is in the year {value.year}",
            path=where,
            line=line,
            hint="check the date: it must fall between 1970 and 2200",
        )
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def read_incident(path: Path, root: Path | None = None) -> DeclaredIncident:
    """One incident file, validated; :class:`IncidentError` naming the file and line."""
    where = display(path, root)
    if not is_slug(path.stem):
        raise IncidentError(
            f"'{path.name}' is not a safe name for a page", path=where, hint=SLUG_HINT
        )
    if path.stem == "index":  # its page would be the incident history's, incidents/index.html
        raise IncidentError(
            "'index' is the incident history's page, not a name for an incident",
            path=where,
            hint="rename the file (e.g. 2026-11-27-database.md)",
        )
    try:
        if path.stat().st_size > MAX_FILE:
            raise IncidentError("is over 256 KiB", path=where, hint="keep an incident short")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise IncidentError(
            f"cannot be read ({exc})", path=where, hint="save it as UTF-8 text"
        ) from None
    lines = text.splitlines()
    if not lines or lines[0].strip() != _FENCE or _FENCE not in (x.strip() for x in lines[1:]):
        raise IncidentError(
            "has no front matter",
            path=where,
            line=1,
            hint="start the file with a '+++' line, the TOML fields, and another '+++' line",
        )
    close = next(i for i, x in enumerate(lines[1:], start=1) if x.strip() == _FENCE)
    try:
        meta = tomllib.loads("\n".join(lines[1:close]))
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        raise IncidentError(
            f"front matter is not valid TOML: {_TOML_LINE.sub('', str(exc)).strip()}",
            path=where,
            line=int(found.group(1)) + 1 if found else 1,
            hint="fix the TOML between the '+++' lines",
        ) from None

    def line_of(key: str) -> int:
        pattern = re.compile(rf"^\s*(\[\[)?{re.escape(key)}\b")
        return next((n + 1 for n, x in enumerate(lines[:close]) if pattern.match(x)), 1)

    def update_line(index: int, key: str) -> int:
        """The line of ``key`` in the ``index``-th ``[[updates]]`` table (or its header)."""
        headers = [n for n, x in enumerate(lines[:close]) if x.strip() == "[[updates]]"]
        if index >= len(headers):  # (written inline: updates = [{…}])
            return line_of("updates")
        stop = headers[index + 1] if index + 1 < len(headers) else close
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        inside = range(headers[index] + 1, stop)
        return next((n + 1 for n in inside if pattern.match(lines[n])), headers[index] + 1)

    known = {"title", "dashboards", "start", "end", "severity", "updates"}
    for key in meta:
        if key not in known:
            raise IncidentError(
                f"unknown field '{key}'",
                path=where,
                line=line_of(key),
                hint=f"the fields are {', '.join(sorted(known))}",
            )
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 200 or "\n" in title:
        raise IncidentError(
            "'title' must be one line of text",
            path=where,
            line=line_of("title"),
            hint='add title = "What happened"',
        )
    severity = meta.get("severity", "error")
    if severity not in SEVERITIES:
        raise IncidentError(
            f"'severity' must be one of {', '.join(SEVERITIES)}, not {severity!r}",
            path=where,
            line=line_of("severity"),
        )
    dashboards = meta.get("dashboards")
    if dashboards is not None and (
        not isinstance(dashboards, list) or not all(isinstance(d, str) for d in dashboards)
    ):
        raise IncidentError(
            "'dashboards' must be a list of dashboard names",
            path=where,
            line=line_of("dashboards"),
            hint='e.g. dashboards = ["service-health"], or leave it out for every dashboard',
        )
    start = _when(meta.get("start"), "start", where, line_of("start"))
    end = None if "end" not in meta else _when(meta["end"], "end", where, line_of("end"))
    if end is not None and end < start:
        raise IncidentError("'end' is before 'start'", path=where, line=line_of("end"))
    updates = []
    raw_updates = meta.get("updates", [])
    if not isinstance(raw_updates, list):
        raise IncidentError(
            "'updates' must be [[updates]] tables", path=where, line=line_of("updates")
        )
    for index, raw in enumerate(raw_updates):
        if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
            raise IncidentError(
                "each [[updates]] needs 'at' and 'text'",
                path=where,
                line=update_line(index, "text"),
            )
        status = raw.get("status", "update")
        if status not in UPDATE_WORDS:
            raise IncidentError(
                f"an update's 'status' must be one of {', '.join(UPDATE_WORDS)}, not {status!r}",
                path=where,
                line=update_line(index, "status"),
            )
        at = _when(raw.get("at"), "at", where, update_line(index, "at"))
        updates.append(Update(at, raw["text"], status))
    return DeclaredIncident(
        path.stem,
        title.strip(),
        None if dashboards is None else tuple(dashboards),
        start,
        end,
        severity,
        tuple(sorted(updates, key=lambda u: u.at)),
        "\n".join(lines[close + 1 :]).strip(),
    )


def read_incidents(
    folder: Path, root: Path | None = None
) -> tuple[list[DeclaredIncident], list[IncidentError]]:
    """Every ``*.md`` of ``folder`` (none if it does not exist), and the files that failed."""
    found: list[DeclaredIncident] = []
    problems: list[IncidentError] = []
    if not folder.is_dir():
        return found, problems
    for path in sorted(folder.glob("*.md")):
        try:
            found.append(read_incident(path, root))
        except IncidentError as exc:
            problems.append(exc)
    return found, problems


def standing(incidents: Iterable[DeclaredIncident], now: datetime) -> list[DeclaredIncident]:
    """The declared incidents as they stand at ``now``: one that ends later is going on (its
    ``end`` is a plan), and an update dated later is left out (a "completed" written ahead is
    not news yet).

    One that starts later is left out (no incident yet, and a page or a feed would tell it
    as one already over), except planned maintenance: a status page tells of that ahead.
    It keeps its planned ``end``, and pages show it as scheduled until its start (a
    ``start`` later than ``now``): it counts for nothing yet, neither for the uptime nor
    for a feed.
    """
    found = []
    for incident in incidents:
        if incident.start > now and not incident.maintenance:
            continue
        if incident.start <= now and incident.end is not None and incident.end > now:
            incident = replace(incident, end=None)
        if any(update.at > now for update in incident.updates):
            incident = replace(incident, updates=tuple(u for u in incident.updates if u.at <= now))
        found.append(incident)
    return found


def by_dashboard(
    incidents: Iterable[DeclaredIncident], slugs: Iterable[str]
) -> dict[str, list[Incident]]:
    """Slug → the incidents declared for it (a file without ``dashboards``: all of them)."""
    every = list(slugs)
    result: dict[str, list[Incident]] = {}
    for incident in incidents:
        for slug in incident.dashboards if incident.dashboards is not None else every:
            result.setdefault(slug, []).append(incident.for_dashboard(slug))
    return result


def write_incident_pages(
    writer: SiteFolder,
    environment: Environment,
    incidents: Iterable[DeclaredIncident],
    titles: Mapping[str, str],
    site: Mapping[str, Any],
    now: datetime,
) -> None:
    """``incidents/<name>.html`` for each file (as :func:`standing` gives them at ``now``:
    maintenance that starts later is drawn as scheduled); pages of files since deleted go
    too."""
    from dashsite.render.markdown import markdown_filter
    from dashsite.render.pages import compile_template, render_compiled

    template = compile_template(environment, name="incident.html")
    written = set()
    for incident in incidents:
        names = incident.dashboards if incident.dashboards is not None else sorted(titles)
        context = {
            "site": site,
            "root": "../",
            "incident": incident,
            "scheduled": incident.start > now,
            "dashboards": [{"slug": s, "title": titles[s]} for s in names if s in titles],
            # Written in the repository, but prose: raw HTML in it is shown, not run.
            "body": markdown_filter(incident.body) if incident.body else "",
        }
        writer.write(incident.url, render_compiled(template, context))
        written.add(incident.url)
    folder = writer.path / INCIDENTS_FOLDER
    for page in sorted(folder.glob("*.html")) if folder.is_dir() else []:
        if f"{INCIDENTS_FOLDER}/{page.name}" not in written and page.name != "index.html":
            writer.remove(f"{INCIDENTS_FOLDER}/{page.name}")
