"""``dashsite notify``'s work: read the site's log, find what changed, send it once.

Run after ``publish`` (the links then open), then publish again so the
ledger travels (see ``docs/notifications.md``)::

    dashsite pull TARGET --missing-ok && dashsite build
    dashsite publish TARGET && dashsite notify && dashsite publish TARGET

Per dashboard, only the log since the last run is read (from the start of
an episode a target still has open), so a run costs what changed. Each
target's changes go out one message each, or as one grouped message when
more than ``group_over`` dashboards changed (a shared dependency down must
not flood a channel). Every message is recorded in the ledger as soon as
it is sent or has failed; failed ones are sent again on the next run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dashsite.core.config import SiteConfig
from dashsite.core.errors import SiteError
from dashsite.notify.config import NotifySettings, Target, read_settings
from dashsite.notify.ledger import Entry, Ledger, TargetBook, load_ledger, save_ledger
from dashsite.notify.message import Message, MessageBuilder
from dashsite.notify.send import Delivery, Sender, sender_for
from dashsite.notify.transitions import Transition, Window, walk
from dashsite.status.incidents import read_incidents
from dashsite.store import layout
from dashsite.store.layout import MANIFEST_FILE
from dashsite.store.log import LogRecord
from dashsite.store.manifest import DashboardRecord
from dashsite.store.records import parse_time
from dashsite.store.version_store import VersionStore
from dashsite.store.write import BuildLock

FIRST_LOOKBACK = timedelta(days=1)
"""On a dashboard's first run, the log read back (or from its ongoing incident's start)."""
MAX_LOOKBACK = timedelta(days=35)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message for a target, and what it says."""

    target: Target
    message: Message
    transitions: tuple[Transition, ...]


@dataclass(slots=True)
class NotifyReport:
    """What one run sent."""

    sent: list[Outgoing] = field(default_factory=list)
    failed: list[tuple[Outgoing, Delivery]] = field(default_factory=list)
    planned: list[Outgoing] = field(default_factory=list)


def maintenance_windows(config: SiteConfig, slugs: Iterable[str]) -> dict[str, list[Window]]:
    """Slug → the declared maintenance windows of ``incidents/`` that cover it."""
    declared, _problems = read_incidents(config.incidents_path, config.root)  # build reports
    every = list(slugs)
    windows: dict[str, list[Window]] = {}
    for incident in declared:
        if not incident.maintenance:
            continue
        for slug in incident.dashboards if incident.dashboards is not None else every:
            windows.setdefault(slug, []).append((incident.start, incident.end))
    return windows


def _read_since(store: VersionStore, record: DashboardRecord, begin: datetime) -> list[LogRecord]:
    """The records of ``record`` collected at or after ``begin``, its checks with them (a
    build that found the data unchanged still saw the status), oldest first.

    Only the day files from ``begin``'s day are opened, and a line older
    than ``begin`` by its time field is skipped before it is parsed.
    """
    day = begin.date().isoformat()
    second = begin.replace(microsecond=0).isoformat()[:19]
    lines: dict[bool, list[str]] = {False: [], True: []}
    for month in record.months:
        if month < day[:7]:
            continue
        info = record.months[month]
        for checks, days in ((False, info.days), (True, info.checked)):
            for dd in sorted(days):
                if f"{month}-{dd}" < day:
                    continue
                make = layout.log_checks if checks else layout.log_shard
                try:
                    text = (store.site / make(record.slug, f"{month}-{dd}")).read_text("utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                lines[checks] += (line for line in text.splitlines() if _time_of(line) >= second)
    found = [
        r
        for checks, chosen in lines.items()
        for r in store.parse(record.slug, chosen, checks=checks)
        if parse_time(r.collected_at) >= begin
    ]
    found.sort(key=lambda r: (r.collected_at, r.id))
    return found


_TIME = re.compile(r'"collected_at":"([^"]{19})')


def _time_of(line: str) -> str:
    """A log line's time to the second, unparsed ("9999": none found, so it is parsed)."""
    found = _TIME.search(line)
    return found.group(1) if found else "9999"


def _changes(
    store: VersionStore,
    record: DashboardRecord,
    targets: Sequence[Target],
    ledger: Ledger,
    now: datetime,
    windows: Sequence[Window],
    fresh: set[str],
) -> dict[str, list[Transition]]:
    """Target name → this dashboard's new transitions for it; updates the open episodes."""
    latest = record.seen
    assert latest is not None
    latest_at = parse_time(latest.collected_at)
    seen = ledger.seen.get(record.slug)
    begins: dict[str, datetime] = {}
    for target in targets:
        book = ledger.book(target.name, now)
        if record.slug in book.open:
            begins[target.name] = book.open[record.slug][1]
        elif seen is not None and target.name not in fresh:
            begins[target.name] = seen[1] + timedelta(microseconds=1)
        else:  # the first run for this dashboard or target: just enough to find the episode
            first = latest_at - FIRST_LOOKBACK
            if record.incident is not None and record.incident.ongoing:
                first = min(first, record.incident.start)
            begins[target.name] = max(first, latest_at - MAX_LOOKBACK)
    if not begins:
        return {}
    records = _read_since(store, record, min(begins.values()))
    result: dict[str, list[Transition]] = {}
    for target in targets:
        book = ledger.targets[target.name]
        begin = begins[target.name]
        mine = [r for r in records if parse_time(r.collected_at) >= begin]
        found, episode = walk(record.slug, record.title, mine, target.rules, windows)
        if episode is None:
            book.open.pop(record.slug, None)
        else:
            book.open[record.slug] = (episode.start_id, episode.start)
        result[target.name] = [
            t
            for t in found
            if t.kind in target.rules.on
            and t.at >= book.since
            and not (t.key in book.sent and book.sent[t.key].delivered)
        ]
    return result


def _messages(
    target: Target, changes: Sequence[Transition], builder: MessageBuilder, group_over: int
) -> list[Outgoing]:
    """One message per change, or one for all when more than ``group_over`` dashboards changed."""
    ordered = sorted(changes, key=lambda t: (t.at, t.slug, t.key))
    if len({t.slug for t in ordered}) > group_over:
        return [Outgoing(target, builder.build(ordered), tuple(ordered))]
    return [Outgoing(target, builder.build([t]), (t,)) for t in ordered]


def plan(
    config: SiteConfig, settings: NotifySettings, ledger: Ledger, store: VersionStore
) -> list[Outgoing]:
    """Every message this run has to send (the ledger's open episodes and cursor move)."""
    manifest = store.load_manifest()
    records = [r for r in manifest.dashboards.values() if r.latest is not None]
    if not records:
        return []
    now = max(parse_time(r.seen.collected_at) for r in records if r.seen is not None)
    windows = maintenance_windows(config, manifest.dashboards)
    pending: dict[str, dict[str, Transition]] = {t.name: {} for t in settings.targets}
    fresh = {t.name for t in settings.targets if t.name not in ledger.targets}
    for target in settings.targets:  # what failed before: sent again
        book = ledger.book(target.name, now)
        for key, entry in book.sent.items():
            if not entry.delivered and entry.transition is not None:
                pending[target.name][key] = entry.transition
    for record in records:
        newest = record.seen  # the latest version, or a check since
        assert newest is not None
        seen = ledger.seen.get(record.slug)
        mine = [t for t in settings.targets if t.rules.covers(record.slug, record.group)]
        if seen is not None and seen[0] == newest.id and not fresh & {t.name for t in mine}:
            continue  # no new version or check since the last run: nothing new to tell
        for name, found in _changes(
            store, record, mine, ledger, now, windows.get(record.slug, []), fresh
        ).items():
            pending[name].update((t.key, t) for t in found)
        ledger.seen[record.slug] = (newest.id, parse_time(newest.collected_at))
    ledger.prune(now)
    outgoing: list[Outgoing] = []
    builders = message_builders(config, settings, manifest.title)
    for target in settings.targets:
        if not pending[target.name]:
            continue
        template = target.template or settings.template
        outgoing += _messages(
            target, list(pending[target.name].values()), builders[template], settings.group_over
        )
    return outgoing


def message_builders(
    config: SiteConfig, settings: NotifySettings, title: str
) -> dict[str, MessageBuilder]:
    """Each template the targets use (``""``: the default one), read and compiled: a
    missing file or a syntax error is told on every run, not only once a change comes."""
    builders: dict[str, MessageBuilder] = {}
    for template in {settings.template, *(t.template for t in settings.targets)}:
        path = config.root / template if template else None
        builders[template] = MessageBuilder(config.base_url, title, path, config.root)
    return builders


def record(book: TargetBook, outgoing: Outgoing, delivery: Delivery) -> None:
    """Write what happened to a message's transitions into the target's book."""
    for found in outgoing.transitions:
        before = book.sent.get(found.key)
        tries = (before.tries if before is not None else 0) + delivery.tries
        book.sent[found.key] = Entry(
            found.at,
            delivery.delivered,
            tries,
            delivery.error,
            None if delivery.delivered else found,
        )


def notify_site(
    config: SiteConfig,
    *,
    dry_run: bool = False,
    environ: Mapping[str, str] | None = None,
    lock_timeout: float | None = None,
    on_message: Callable[[Outgoing, Delivery | None], None] | None = None,
    senders: Mapping[str, Sender] | None = None,
) -> NotifyReport:
    """Send what changed since the last run, once, and keep the ledger."""
    settings = read_settings(config, environ)
    site = config.site_path
    report = NotifyReport()
    if not (site / MANIFEST_FILE).is_file():
        raise SiteError(
            "no built site to notify about", path=config.site_dir, hint="run 'dashsite build' first"
        )
    if not settings.targets:
        return report  # nothing configured: not even a ledger is written
    message_builders(config, settings, config.title)  # a broken template: said now
    lock = BuildLock(site, lock_timeout)
    lock.acquire()
    try:
        ledger = load_ledger(site)
        outgoing = plan(config, settings, ledger, VersionStore(site))
        report.planned = outgoing
        if dry_run:
            for found in outgoing:
                if on_message is not None:
                    on_message(found, None)
            return report
        for found in outgoing:  # written ahead: a run killed now sends them next time
            book = ledger.targets[found.target.name]
            for change in found.transitions:
                if change.key not in book.sent:
                    book.sent[change.key] = Entry(change.at, False, 0, "not sent yet", change)
        save_ledger(site, ledger)
        env = dict(environ) if environ is not None else None
        for found in outgoing:
            sender = (senders or {}).get(found.target.name) or sender_for(
                found.target.url,
                timeout=settings.timeout,
                retries=settings.retries,
                mail=config.mail,
                environ=env,
            )
            delivery = sender.send(found.message)
            record(ledger.targets[found.target.name], found, delivery)
            save_ledger(site, ledger)
            if delivery.delivered:
                report.sent.append(found)
            else:
                report.failed.append((found, delivery))
            if on_message is not None:
                on_message(found, delivery)
    finally:
        lock.release()
    return report
