"""Today so far: the status of the days not settled yet, carried from build to build.

A dashboard's unsettled days (today, usually) are tallied from their log
shards, and a site built every 5 minutes has up to 288 lines a day per
dashboard: parsing and tallying the whole day again on every build made the
status the largest cost of a build at 1,000 dashboards by the end of a day.

So a build keeps, per dashboard, the tally up to the newest line it read
(:class:`LiveTally`) with the mark of each shard it covered
(:class:`~dashsite.store.version_store.ShardMark`); the next build reads only
the lines appended since (the store reads them:
:meth:`~dashsite.store.version_store.VersionStore.appended`) and tallies from there. A tally splits
cleanly at the newest mark's time ``T``: everything before ``T`` is the
prefix (:func:`dashsite.status.model.tally` up to ``T``), and the records at
``T`` are fed again, with the mark in force before them, to tally what
follows. The result is the same as tallying the whole day (tests compare the
two on random logs).

The file is a cache (``.dashsite/<site>.live.json``, beside the site, never
published): taken when a build starts, written when it ends well, void for a
dashboard whose shards no longer match (a size that shrank, or different
bytes before the offset read: a repair or a pull rewrote them), whose
unsettled days moved, or whose carried mark changed. Then the days are read
whole, as before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dashsite.core.levels import StatusLevel
from dashsite.core.names import is_slug
from dashsite.status.model import DaySummary, in_order, state_named, tally
from dashsite.store.layout import state_file
from dashsite.store.log import LogRecord
from dashsite.store.records import Mark, day_start
from dashsite.store.version_store import ShardMark
from dashsite.store.write import atomic_write, state_folder

LIVE_SCHEMA = 4
"""Raise it when a tally's JSON changes: the tallies kept are dropped, the days read whole."""


@dataclass
class LiveTally:
    """One dashboard's unsettled days, tallied up to its newest mark."""

    since: str
    """The first unsettled day (``YYYY-MM-DD``)."""
    carry: dict[str, Any] | None
    """The mark carried into ``since`` (its JSON), as the tally assumed it."""
    shards: dict[str, ShardMark] = field(default_factory=dict)
    prefix: dict[str, DaySummary] = field(default_factory=dict)
    """The tally of ``[since, T)``."""
    at_t: list[LogRecord] = field(default_factory=list)
    """The records at ``T``, the newest mark's time, oldest first."""
    before: Mark | None = None
    """The mark in force just before ``T``."""
    hold: float = 0.0
    """How long a version's status held when it was tallied (``expected_every`` changes it:
    a tally of another hold is not carried on)."""
    checks: dict[str, ShardMark] = field(default_factory=dict)
    """The marks of the days' checks files, as :attr:`shards` for the shards."""


def split(
    records: Sequence[LogRecord], carry: Mark | None, start: datetime, hold: float
) -> tuple[dict[str, DaySummary], list[LogRecord], Mark | None]:
    """``records`` (oldest first) as a prefix tally up to the newest mark's time ``T``,
    the records at ``T``, and the mark in force before ``T``."""
    if not records:
        return {}, [], carry
    marks: list[Mark] = []
    running = carry
    for record in records:
        running = in_order(Mark.of(record), running)  # as tally places it
        marks.append(running)
    newest = marks[-1].at  # (in order, the marks never go back)
    before = next((mark for mark in reversed(marks) if mark.at < newest), carry)
    at_t = [r for r, mark in zip(records, marks, strict=True) if mark.at == newest]
    return tally(records, carry, start, newest, hold, hours=True), at_t, before


def extend(
    known: LiveTally, new: Sequence[LogRecord], end: datetime, hold: float
) -> dict[str, DaySummary] | None:
    """The unsettled days through ``end``: the prefix, then the records at ``T`` and ``new``.

    None when ``end`` is not after ``T`` (a clock behind the log's newest line, or at
    it): the prefix counted time past ``end``, so the days must be tallied whole.
    """
    start = _resumed(known)
    if not known.at_t:
        return tally(new, known.before, start, end, hold, hours=True)
    if end <= start:
        return None
    rest = tally([*known.at_t, *new], known.before, start, end, hold, hours=True)
    return merged(known.prefix, rest)


def advance(known: LiveTally, new: Sequence[LogRecord], hold: float) -> LiveTally:
    """``known`` moved on past ``new`` (lines read from the log this build)."""
    if not new:
        return known
    prefix, at_t, before = split([*known.at_t, *new], known.before, _resumed(known), hold)
    return LiveTally(
        known.since,
        known.carry,
        known.shards,
        merged(known.prefix, prefix),
        at_t,
        before,
        hold,
        known.checks,
    )


def _resumed(known: LiveTally) -> datetime:
    """Where the tally after ``known``'s prefix starts: ``T`` (the records at ``T`` are fed
    again), or the first unsettled day's midnight when no record was tallied."""
    return Mark.of(known.at_t[0]).at if known.at_t else day_start(known.since)


def merged(
    first: Mapping[str, DaySummary], then: Mapping[str, DaySummary]
) -> dict[str, DaySummary]:
    """Two tallies of consecutive spans as one (counts and seconds add; ``then``'s last mark)."""
    days = {day: found.copy() for day, found in first.items()}
    for day, found in then.items():
        days[day] = _add(days[day], found) if day in days else found.copy()
    return dict(sorted(days.items()))


def _add(into: DaySummary, more: DaySummary) -> DaySummary:
    into.count += more.count
    if more.worst is not None:
        into.worst = more.worst if into.worst is None else max(into.worst, more.worst)
    for state, seconds in more.seconds.items():
        into.seconds[state] += seconds
    for name, (covered, down) in more.collectors.items():
        pair = into.collectors.setdefault(name, [0.0, 0.0])
        pair[0] += covered
        pair[1] += down
    if more.last is not None:
        into.last = more.last
    for hour, part in more.hours.items():
        into.hours[hour] = _add(into.hours[hour], part) if hour in into.hours else part.copy()
    return into


class LiveCache:
    """``.dashsite/<site>.live.json``: every dashboard's :class:`LiveTally`, for one build.

    The file is a line naming the site, then a line per dashboard: its slug, a tab, its
    tally's JSON. A tally is decoded when its dashboard asks for it and encoded when it
    is put, so a build holds text, not a day of hours for every dashboard (decoding the
    whole file up front held 20 MB at 1,000 dashboards). Lines ``@<slug>``, a tab and a
    key say what its history pages were last drawn from (:attr:`drawn`); lines ``!<slug>``
    what its latest page was drawn from, when a check drew it (:attr:`pages`).
    """

    def __init__(self, site: Path) -> None:
        self.path = state_file(site, "live.json")
        self.site = site
        self.current: dict[str, str] = {}
        """Slug → this build's tally, encoded."""
        self.drawn: dict[str, str] = {}
        """Slug → what its history pages were last drawn from
        (:meth:`dashsite.status.view.StatusView.drawn_key`): a check that would draw them
        alike leaves them."""
        self.pages_before: dict[str, str] = {}
        """Slug → what the previous build drew its latest page from, if a check drew it
        (:class:`dashsite.site.retime.Drawn`, as text)."""
        self.pages: dict[str, str] = {}
        """The same, for this build (only what a check drew: a version's page is drawn
        again by the next check)."""
        self.previous: dict[str, str] = self._take()
        """Slug → the previous build's tally, encoded, until it is asked for."""

    def get(self, slug: str) -> LiveTally | None:
        """The previous build's tally of ``slug`` (not held after), or this build's when it
        asks again (a dashboard whose page failed to draw is looked at twice)."""
        text = self.previous.pop(slug, None) or self.current.get(slug)
        if text is None:
            return None
        try:
            return _from_json(slug, json.loads(text))
        except (
            ValueError,
            TypeError,
            KeyError,
            IndexError,
            AttributeError,
            RecursionError,
            OverflowError,
        ):
            return None  # a damaged entry: that dashboard's days are read whole

    def put(self, slug: str, known: LiveTally) -> None:
        """``slug``'s tally now."""
        self.current[slug] = json.dumps(_to_json(known), separators=(",", ":"))
        self.previous.pop(slug, None)

    def _take(self) -> dict[str, str]:
        """Read and remove the file: a build that fails leaves none (the days are read whole)."""
        try:
            lines = self.path.read_text(encoding="utf-8").split("\n")
            self.path.unlink()
            head = json.loads(lines[0])
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(head, dict) or head != {"site": str(self.site), "schema": LIVE_SCHEMA}:
            return {}  # another site's, or an earlier release's: read whole once
        found: dict[str, str] = {}
        for line in lines[1:]:
            slug, tab, text = line.partition("\t")
            if tab and is_slug(slug):
                found[slug] = text
            elif tab and slug.startswith("@") and is_slug(slug[1:]):
                self.drawn[slug[1:]] = text
            elif tab and slug.startswith("!") and is_slug(slug[1:]):
                self.pages_before[slug[1:]] = text
        return found

    def save(self) -> None:
        state_folder(self.path.parent.parent)
        head = json.dumps({"site": str(self.site), "schema": LIVE_SCHEMA})
        lines = [head, *(f"{slug}\t{text}" for slug, text in sorted(self.current.items()))]
        lines += (f"@{slug}\t{key}" for slug, key in sorted(self.drawn.items()))
        lines += (f"!{slug}\t{drawn}" for slug, drawn in sorted(self.pages.items()))
        atomic_write(self.path, ("\n".join(lines) + "\n").encode())


def _summary_json(found: DaySummary) -> dict[str, Any]:
    """Exact (unrounded) seconds: the cache must add up to what a whole tally gives."""
    return {
        "count": found.count,
        "worst": found.worst.slug if found.worst is not None else None,
        "seconds": {s.value: v for s, v in found.seconds.items() if v},
        "collectors": found.collectors,
        "last": found.last.to_json() if found.last is not None else None,
        "hours": {str(h): _summary_json(part) for h, part in found.hours.items()},
    }


def _summary_from(day: str, raw: dict[str, Any]) -> DaySummary:
    found = DaySummary(day, int(raw["count"]))
    if raw.get("worst") is not None:
        found.worst = StatusLevel.parse(str(raw["worst"]))
    for state, seconds in raw["seconds"].items():
        found.seconds[state_named(state)] = float(seconds)
    found.collectors = {str(k): [float(v[0]), float(v[1])] for k, v in raw["collectors"].items()}
    if raw.get("last") is not None:
        found.last = Mark.from_json(raw["last"])
    found.hours = {int(h): _summary_from(f"{day}T{int(h):02d}", v) for h, v in raw["hours"].items()}
    return found


def _to_json(known: LiveTally) -> dict[str, Any]:
    return {
        "since": known.since,
        "carry": known.carry,
        "shards": {d: [m.size, m.tail, m.lines] for d, m in known.shards.items()},
        "prefix": {d: _summary_json(found) for d, found in known.prefix.items()},
        "at_t": [r.to_json() for r in known.at_t],
        "before": known.before.to_json() if known.before is not None else None,
        "hold": known.hold,
        "checks": {d: [m.size, m.tail, m.lines] for d, m in known.checks.items()},
    }


def _from_json(slug: str, raw: dict[str, Any]) -> LiveTally:
    return LiveTally(
        str(raw["since"]),
        raw["carry"],
        {str(d): ShardMark(int(m[0]), str(m[1]), int(m[2])) for d, m in raw["shards"].items()},
        {str(d): _summary_from(str(d), found) for d, found in raw["prefix"].items()},
        [LogRecord.from_json(r, slug, check="same" in r) for r in raw["at_t"]],
        Mark.from_json(raw["before"]) if raw.get("before") is not None else None,
        float(raw.get("hold", -1.0)),  # none (an earlier release's): never carried on
        {str(d): ShardMark(int(m[0]), str(m[1]), int(m[2])) for d, m in raw["checks"].items()},
    )
