"""A build's place in the site's order, whatever the wall clock says.

The model (also in :mod:`dashsite.log` and ``docs/clock-and-caches.md``):

- **Build order decides what is newest.** Each build takes a sequence number
  one above the highest the site holds; the manifest's latest version, the
  badge, the feeds and the index follow the highest one. A clock a year
  ahead therefore cannot hide the failures filed after it, and a clock
  stepped back cannot file a version that the site then ignores.
- **The clock places a version in time.** ``collected_at`` stays what the
  clock said (uptime, bars and the day's shard use it): rewriting it would
  turn one wrong clock into a year of wrong times.
- **Version ids still sort by build.** A time-based id is never earlier than
  the newest version's: while the clock is behind, the id is one second
  after the newest id (``20271203T101500Z`` → ``20271203T101501Z``), so ids
  stay unique and sortable.
- **A clock behind the newest version is said, in one line**, on every
  build until it is fixed; the build is not refused, because a monitoring
  build that stops on a clock step is worse than one that files its truth.

We chose this over refusing a backwards clock: refusing needs an override
the scheduled job does not have, and the site would show nothing new until
someone noticed.

- **Thinning follows the site's own time, not the clock** (:func:`site_time`).
  The tiers delete pages and data older than ``keep_pages``/``keep_data``: by
  the clock alone, one build with a clock three years ahead would delete all
  of it. The site's time is the clock as long as the clock is within a
  believable gap of it (:func:`jump_limit`: 90 days, or ten times the
  longest ``expected_every``). A bigger jump forward is said in one line and
  moves the site's time not at all; while the clock stays that wrong, the
  site's time moves by the time between builds, by their clocks; once the
  clock is set right again, the site's time is the clock again. A clock
  stepped back leaves the site's time where it was (it never goes back),
  unless the site's time is further past the newest month with versions
  than the same limit: no build could have put it there (a manifest damaged,
  edited or pulled from such a site), so it is said and the clock is used.
  When nothing ever jumped, the site's time is the clock.

We chose this over refusing to thin after a jump: a clock that stays wrong
would thin by itself from the next build on. The price is paid only when the
builds really were that far apart (a site left unbuilt for over three months):
its old pages are thinned that much later. A clock wrong by less than the
limit is believed, as it was before; nothing else is deleted early.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashsite.store.log import LogRecord
from dashsite.store.manifest import Manifest
from dashsite.store.records import day_start, next_month

ID_FORMAT = "%Y%m%dT%H%M%SZ"
JUMP_FLOOR = timedelta(days=90)
"""A gap between two builds up to this long is always believed: a site left unbuilt for a
few weeks, or built by hand now and then, thins as usual; a clock a year or more off (a
dead CMOS battery, a runner's clock at 2038) is caught."""
JUMP_FACTOR = 10
"""…and up to this many times the longest ``expected_every`` of the site's dashboards."""


def newest(manifest: Manifest) -> LogRecord | None:
    """The site's newest version or check, by build order."""
    found = [r.seen for r in manifest.dashboards.values() if r.seen is not None]
    return max(found, key=lambda entry: entry.order, default=None)


def next_seq(manifest: Manifest) -> int:
    """The sequence number of the build about to file versions (or checks)."""
    return max((r.seen.seq for r in manifest.dashboards.values() if r.seen), default=0) + 1


def id_time(version_id: str) -> datetime | None:
    """The time a time-based id names (``20261127T201500Z-01`` → 20:15:00), else None."""
    try:
        return datetime.strptime(version_id[:16], ID_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def id_floor(manifest: Manifest, now: datetime) -> datetime:
    """The time a new time-based id is made from: ``now``, or one second after the
    newest time-based id when the clock is behind it."""
    times = [
        moment
        for record in manifest.dashboards.values()
        for entry in (record.latest, record.checked)
        if entry is not None
        for moment in (id_time(entry.id),)
        if moment is not None
    ]
    latest = max(times, default=None)
    if latest is not None and now.astimezone(UTC) < latest:
        return latest + timedelta(seconds=1)
    return now  # the same second as the newest: the id takes a ``-01`` counter


def behind(manifest: Manifest, now: datetime) -> str | None:
    """One line when ``now`` is earlier than the newest time the site knows (its newest
    version's, or the site's time a clock set back left behind), else None: said on every
    build until the clock catches up."""
    found = newest(manifest)
    if found is None:
        return None
    then = datetime.fromisoformat(found.collected_at)
    if manifest.site_time is not None and manifest.site_time > then:
        then = manifest.site_time  # (the newest version was filed by a clock already behind)
    now = now.astimezone(UTC)
    if now >= then:
        return None
    hours = (then - now).total_seconds() / 3600
    amount = (
        f"{max(1, round(hours * 60))} min"
        if hours < 1
        else f"{hours:.1f} h"
        if hours < 48
        else f"{hours / 24:.1f} days"
    )
    return (
        f"the clock ({now:%Y-%m-%d %H:%M} UTC) is {amount} behind the site's newest build "
        f"({found.id}, the site's time {then:%Y-%m-%d %H:%M} UTC): filed as the newest "
        "anyway; check the machine's clock"
    )


def status_time(collected_at: datetime, site_time: datetime, built_at: datetime) -> datetime:
    """When a build's status views are drawn: the collection time, or, when the clock is
    behind the site's own time (set back), a second past the site's time. Every version
    filed up to then is still shown (a view counts what came before its moment), and the
    newest run's status counts from the newest time known (see :func:`.model.in_order`);
    the status never goes back with the clock."""
    if site_time > built_at:
        return max(collected_at, site_time + timedelta(seconds=1))
    return collected_at


def jump_limit(manifest: Manifest) -> timedelta:
    """The longest gap between two builds the site's time believes."""
    every = max((r.expected_every for r in manifest.dashboards.values() if r.active), default=0.0)
    return max(JUMP_FLOOR, timedelta(seconds=JUMP_FACTOR * every))


def _newest_month_end(manifest: Manifest) -> datetime | None:
    """The end of the newest month any dashboard has versions in (None: none yet). The
    site's time only ever takes a clock's reading at a build, which files versions: it is
    never far past the months they were collected in, however the clock stepped."""
    months = [next(reversed(r.months)) for r in manifest.dashboards.values() if r.months]
    if not months:
        return None
    return day_start(f"{next_month(max(months))}-01")


def site_time(manifest: Manifest, now: datetime) -> tuple[datetime, str | None]:
    """The site's own time for a build whose clock says ``now``, and one line when the
    clock jumped further ahead of the previous build than :func:`jump_limit`.

    ``manifest`` is the previous build's (its ``built_at`` and ``site_time``). The
    site's time never goes back; it takes the clock when the clock is within the
    limit of it (every build, on a site whose clock never jumped), and otherwise
    moves by the time between this build and the previous one, if that is within
    the limit (a clock that stays wrong), or not at all (the jump itself).
    """
    now = now.astimezone(UTC)
    before = manifest.built_at
    if before is None:
        return now, None
    then = manifest.site_time or before
    limit = jump_limit(manifest)
    newest = _newest_month_end(manifest)
    if newest is not None and then - newest > limit:  # past every version: a damaged manifest
        return now, (
            f"the site's time in the manifest ({then:%Y-%m-%d %H:%M} UTC) is "
            f"{(then - newest).days} days past its newest version's month: not believed (it "
            "would thin every page and data file older than it); the clock "
            f"({now:%Y-%m-%d %H:%M} UTC) is the site's time, check the manifest"
        )
    if now <= then:
        return then, None  # a clock stepped back: the site's time holds
    if now - then <= limit:
        return now, None
    step = now - before
    if timedelta(0) <= step <= limit:
        return then + step, None  # still the same wrong clock: the time between builds
    return then, (
        f"the clock ({now:%Y-%m-%d %H:%M} UTC) is {(now - then).days} days ahead of the "
        f"site's time ({then:%Y-%m-%d %H:%M} UTC, its previous build): old pages and data "
        "are thinned by the site's time, so none is deleted early; check the machine's clock"
    )
