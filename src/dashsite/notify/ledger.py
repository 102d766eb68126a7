"""The notification ledger: ``site/notify-ledger.json``, which change went to which target.

::

    {"schema": 1,
     "seen": {"<slug>": {"id": "<version>", "at": "<time>"}},      # the newest version read
     "targets": {"<target>": {
        "since": "<time>",                                          # first run: older is history
        "open": {"<slug>": {"start_id": "<version>", "start": "<time>"}},
        "sent": {"<slug>:<start_id>:<kind>[:<n>]": {
            "at": "<time>", "delivered": true, "tries": 1,
            "error": "…", "transition": {…}}}}}}                      # the last two: not delivered

It is part of the site, so ``publish`` uploads it and ``pull`` brings it
back with the log: a CI runner that starts from a fresh clone knows what
was sent. It holds target *names*, never their URLs, and only text the
site already shows. It is written atomically after every message, so a
run killed between two messages loses at most the one in flight (sent
once more on the next run). Entries older than :data:`KEEP_DAYS` go.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dashsite.core.errors import SiteError
from dashsite.core.levels import StatusLevel
from dashsite.core.names import is_slug, is_version_id
from dashsite.notify.transitions import Transition
from dashsite.store import layout
from dashsite.store.log import checked_count, checked_text
from dashsite.store.records import parse_time
from dashsite.store.write import atomic_write

LEDGER_FILE = layout.NOTIFY_LEDGER
LEDGER_SCHEMA = 1
KEEP_DAYS = 100
"""Entries of transitions older than this are dropped (the log is read back far less)."""


def transition_to_json(found: Transition) -> dict[str, Any]:
    """A transition as the ledger keeps it until it is delivered."""
    return {
        "slug": found.slug,
        "title": found.title,
        "kind": found.kind,
        "start_id": found.start_id,
        "start": found.start.isoformat(),
        "at": found.at.isoformat(),
        "version": found.version,
        "level": found.level.slug,
        "failed": [list(pair) for pair in found.failed],
        "url": found.url,
        "seq": found.seq,
    }


def transition_from_json(raw: Any) -> Transition:
    """Read back; ``ValueError`` if anything is off."""
    if not isinstance(raw, dict):
        raise ValueError("a transition must be an object")
    slug = checked_text(raw.get("slug"), "a slug", 200)
    ids = [checked_text(raw.get(k), "a version id", 80) for k in ("start_id", "version")]
    if not is_slug(slug) or not all(is_version_id(v) for v in ids):
        raise ValueError("a transition names an unsafe dashboard or version")
    failed = raw.get("failed", [])
    if not isinstance(failed, list) or len(failed) > 1000:
        raise ValueError("a transition's failed collectors are not a list")
    pairs = []
    for pair in failed:
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ValueError("a failed collector is not [name, error]")
        pairs.append((checked_text(pair[0], "a name", 200), checked_text(pair[1], "an error")))
    kind = checked_text(raw.get("kind"), "a kind", 20)
    if kind not in ("opened", "worsened", "recovered", "ongoing"):
        raise ValueError(f"unknown transition {kind[:20]!r}")
    url = checked_text(raw.get("url", ""), "a url", 300)
    if url and (url.startswith("/") or ".." in url.split("/") or "://" in url):
        raise ValueError("a transition's url is not site-relative")
    return Transition(
        slug,
        checked_text(raw.get("title", slug), "a title", 300),
        kind,
        ids[0],
        parse_time(checked_text(raw.get("start"), "a time", 64)),
        parse_time(checked_text(raw.get("at"), "a time", 64)),
        ids[1],
        StatusLevel.parse(checked_text(raw.get("level"), "a level", 20)),
        tuple(pairs),
        url,
        checked_count(raw.get("seq", 0), "a sequence number"),
    )


@dataclass(slots=True)
class Entry:
    """What happened to one transition for one target."""

    at: datetime
    delivered: bool
    tries: int = 1
    error: str = ""
    transition: Transition | None = None
    """Kept while not delivered, so the next run can send it again."""

    def to_json(self) -> dict[str, Any]:
        raw: dict[str, Any] = {"at": self.at.isoformat(), "delivered": self.delivered}
        raw["tries"] = self.tries
        if not self.delivered:
            raw["error"] = self.error
            if self.transition is not None:
                raw["transition"] = transition_to_json(self.transition)
        return raw

    @classmethod
    def from_json(cls, raw: Any) -> Entry:
        if not isinstance(raw, dict) or not isinstance(raw.get("delivered"), bool):
            raise ValueError("an entry must be an object with 'delivered'")
        found = raw.get("transition")
        return cls(
            parse_time(checked_text(raw.get("at"), "a time", 64)),
            raw["delivered"],
            checked_count(raw.get("tries", 1), "a count of tries"),
            checked_text(raw.get("error", ""), "an error", 1000),
            None if found is None else transition_from_json(found),
        )


@dataclass(slots=True)
class TargetBook:
    """One target's part of the ledger."""

    since: datetime
    open: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    """Slug → the start (version id, time) of its episode still open for this target."""
    sent: dict[str, Entry] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "open": {
                slug: {"start_id": sid, "start": start.isoformat()}
                for slug, (sid, start) in sorted(self.open.items())
            },
            "sent": {key: entry.to_json() for key, entry in sorted(self.sent.items())},
        }

    @classmethod
    def from_json(cls, raw: Any) -> TargetBook:
        if not isinstance(raw, dict):
            raise ValueError("a target's record must be an object")
        book = cls(parse_time(checked_text(raw.get("since"), "a time", 64)))
        opened, sent = raw.get("open", {}), raw.get("sent", {})
        if not isinstance(opened, dict) or not isinstance(sent, dict):
            raise ValueError("'open' and 'sent' must be objects")
        for slug, value in opened.items():
            if not is_slug(slug) or not isinstance(value, dict):
                raise ValueError("an open episode names an unsafe dashboard")
            sid = checked_text(value.get("start_id"), "a version id", 80)
            if not is_version_id(sid):
                raise ValueError("an open episode's start_id is not a version id")
            book.open[slug] = (sid, parse_time(checked_text(value.get("start"), "a time", 64)))
        for key, value in sent.items():
            book.sent[checked_text(key, "a key", 300)] = Entry.from_json(value)
        return book


@dataclass(slots=True)
class Ledger:
    """The whole ledger: the versions read so far, and each target's book."""

    seen: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    targets: dict[str, TargetBook] = field(default_factory=dict)

    def book(self, name: str, since: datetime) -> TargetBook:
        """The book of target ``name``; a new one starts at ``since``."""
        found = self.targets.get(name)
        if found is None:
            found = self.targets[name] = TargetBook(since)
        return found

    def prune(self, now: datetime) -> None:
        """Forget transitions older than :data:`KEEP_DAYS`."""
        horizon = now - timedelta(days=KEEP_DAYS)
        for book in self.targets.values():
            book.sent = {k: e for k, e in book.sent.items() if e.at >= horizon}

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": LEDGER_SCHEMA,
            "generator": "dashsite notify",
            "seen": {
                slug: {"id": vid, "at": at.isoformat()}
                for slug, (vid, at) in sorted(self.seen.items())
            },
            "targets": {name: book.to_json() for name, book in sorted(self.targets.items())},
        }

    @classmethod
    def from_json(cls, raw: Any) -> Ledger:
        """Read back; ``ValueError`` if anything is off (it may come from a pull)."""
        if not isinstance(raw, dict) or raw.get("schema") != LEDGER_SCHEMA:
            raise ValueError(f"not a schema-{LEDGER_SCHEMA} notification ledger")
        ledger = cls()
        seen, targets = raw.get("seen", {}), raw.get("targets", {})
        if not isinstance(seen, dict) or not isinstance(targets, dict):
            raise ValueError("'seen' and 'targets' must be objects")
        for slug, value in seen.items():
            if not is_slug(slug) or not isinstance(value, dict):
                raise ValueError("'seen' names an unsafe dashboard")
            vid = checked_text(value.get("id"), "a version id", 80)
            if not is_version_id(vid):
                raise ValueError("'seen' holds an unsafe version id")
            ledger.seen[slug] = (vid, parse_time(checked_text(value.get("at"), "a time", 64)))
        for name, value in targets.items():
            if not is_slug(name):
                raise ValueError(f"target name {str(name)[:40]!r} is not a safe name")
            ledger.targets[name] = TargetBook.from_json(value)
        return ledger


def load_ledger(site: Path) -> Ledger:
    """``site/notify-ledger.json``; empty if missing; :class:`SiteError` if damaged."""
    path = site / LEDGER_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Ledger()
    try:
        return Ledger.from_json(json.loads(text))
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise SiteError(
            f"the notification ledger is unreadable: {exc}",
            path=f"{site.name}/{LEDGER_FILE}",
            hint="restore it (dashsite pull), or delete it: then only changes from now on are sent",
        ) from None


def save_ledger(site: Path, ledger: Ledger) -> None:
    """Write the ledger atomically (a reader never sees half of it)."""
    data = json.dumps(ledger.to_json(), ensure_ascii=False, indent=1, sort_keys=False)
    atomic_write(site / LEDGER_FILE, (data + "\n").encode("utf-8"))
