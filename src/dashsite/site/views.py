"""A built dashboard's status view, read back without building and without writing.

What ``dashsite mail`` shows beside the dashboard: the uptime windows and
incidents its latest page shows. It is the same
:meth:`~dashsite.status.timeline.Timeline.view` the build made for that page,
at the same moment (the latest version's) with the same declared incidents,
read from the status files and digest the build left. A cache found missing
or stale is computed again in memory only: nothing is written, so reading
needs no lock and leaves the site as it was.
"""

from __future__ import annotations

from datetime import datetime

from dashsite.core.config import SiteConfig
from dashsite.site.context import hold
from dashsite.status.incidents import by_dashboard, read_incidents, standing
from dashsite.status.timeline import Timeline
from dashsite.status.view import StatusView
from dashsite.store.manifest import DashboardRecord
from dashsite.store.version_store import VersionStore
from dashsite.store.write import ReadOnlySite


def latest_view(
    config: SiteConfig, store: VersionStore, record: DashboardRecord, now: datetime
) -> StatusView | None:
    """The status view of ``record``'s latest page, as the build made it at ``now``.

    ``record`` is changed in memory as the build would (settled days, the
    open incident): pass one read for this, not one that will be saved.
    None when the dashboard has no version.
    """
    if record.latest is None:
        return None
    held = hold(record)
    timeline = Timeline(store, ReadOnlySite(store.site))
    declared, _ = read_incidents(config.incidents_path, config.root)  # the build reports these
    slugs = [record.slug]
    mine = by_dashboard(standing(declared, now), slugs).get(record.slug, [])
    timeline.ensure(record, held)
    return timeline.view(record, now, held, mine)
