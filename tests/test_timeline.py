"""The timeline on its own: versions filed one by one, as builds file them, and what it shows.

No build, no templates: a real store in a temporary folder, log records made
by hand, and the timeline's public calls in the order a build makes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashsite.core.levels import StatusLevel
from dashsite.status.incidents import DeclaredIncident
from dashsite.status.model import State
from dashsite.status.summaries import Digest, MonthStatus
from dashsite.status.timeline import Timeline
from dashsite.status.view import BAR_DAYS, DayBar, StatusView, month_page, page_after
from dashsite.store import layout
from dashsite.store.log import LogRecord
from dashsite.store.manifest import DashboardRecord
from dashsite.store.records import Incident
from dashsite.store.version_store import VersionStore
from dashsite.store.write import SiteFolder

SLUG = "svc"
HOLD = 7200.0
"""``expected_every`` of an hour: a version's status holds two."""
DAY1 = datetime(2026, 11, 26, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)


def at(day: datetime, hours: float = 0) -> datetime:
    return day + timedelta(hours=hours)


def record_of(moment: datetime, status: str = "ok", errors: dict[str, str] | None = None,
              ran: Sequence[str] = ("api",)) -> LogRecord:
    vid = moment.strftime("%Y%m%dT%H%M%SZ")
    return LogRecord(vid, moment.isoformat(), StatusLevel.parse(status),
                     f"{layout.version_folder(SLUG, vid, moment)}/", dict(errors or {}),
                     {name: 0.1 for name in ran if name not in (errors or {})})


class Dashboard:
    """One dashboard's site state; each call is what one build does with the timeline."""

    def __init__(self, site: Path, hold: float = HOLD) -> None:
        self.store = VersionStore(site)
        self.record = DashboardRecord(SLUG, "Service")
        self.hold = hold
        self.backfills = 0

    def timeline(self) -> Timeline:
        """A build's timeline: its caches live for one build."""
        return Timeline(self.store, SiteFolder(self.store.site), self._backfilled)

    def _backfilled(self, record: DashboardRecord) -> None:
        self.backfills += 1

    def file(self, moment: datetime, status: str = "ok", errors: dict[str, str] | None = None,
             declared: Sequence[Incident] = ()) -> StatusView:
        """Settle the days before, show the view with the version pending, file it."""
        entry = record_of(moment, status, errors)
        timeline = self.timeline()
        timeline.ensure(self.record, self.hold)
        timeline.settle(self.record, entry.day, self.hold)
        view = timeline.view(self.record, moment, self.hold, declared, pending=entry)
        self.store.append(self.record, entry)
        timeline.filed(self.record, entry, self.hold)
        return view

    def view(self, now: datetime, declared: Sequence[Incident] = ()) -> StatusView:
        """The view of a build that files no version of this dashboard."""
        timeline = self.timeline()
        timeline.ensure(self.record, self.hold)
        return timeline.view(self.record, now, self.hold, declared)

    def month(self, month: str) -> MonthStatus:
        """The month's status file as a new build reads it."""
        return self.timeline().month(self.record, month, self.hold)


@pytest.fixture
def dashboard(tmp_path: Path) -> Dashboard:
    return Dashboard(tmp_path / "site")


def bar(view: StatusView, day: datetime) -> DayBar:
    return next(b for b in view.bars if b.day == day.date().isoformat())


def test_a_day_is_settled_once_a_later_day_has_a_version(dashboard: Dashboard) -> None:
    for hour in range(24):
        dashboard.file(at(DAY1, hour))
    assert dashboard.record.settled is None or dashboard.record.settled < "2026-11-26"
    assert "2026-11-26" not in dashboard.month("2026-11").days  # today is never settled
    dashboard.file(at(DAY2, 0.5))
    assert dashboard.record.settled == "2026-11-26"
    day = dashboard.month("2026-11").days["2026-11-26"]
    assert (day.count, day.worst, day.state) == (24, StatusLevel.OK, State.UP)
    assert day.seconds[State.UP] == 86_400 and day.covered == 86_400
    assert day.last is not None and day.last.at == at(DAY1, 23)  # carries into the next day
    assert "2026-11-27" not in dashboard.month("2026-11").days


def test_the_view_shows_settled_days_and_today_live(dashboard: Dashboard) -> None:
    for hour in range(24):
        dashboard.file(at(DAY1, hour))
    dashboard.file(at(DAY2, 0.5))
    view = dashboard.view(at(DAY2, 1.5))
    assert len(view.bars) == BAR_DAYS
    assert view.bars[-1].day == "2026-11-27" and view.bars[-2].day == "2026-11-26"
    assert (view.bars[-2].state, view.bars[-2].count, view.bars[-2].uptime) == (State.UP, 24, 1.0)
    assert (view.bars[-1].state, view.bars[-1].count) == (State.UP, 1)
    assert view.bars[-2].label == "2026-11-26: ok, 24 versions, uptime 100 %"
    assert all(b.state == State.NODATA and b.label.endswith("no data") for b in view.bars[:-2])
    assert view.bars_summary == f"2 days ok, {BAR_DAYS - 2} no data"
    assert "2026-11-27" in view.live and "2026-11-26" not in view.live
    assert [u.label for u in view.uptime] == ["24 h"]  # only the windows the history covers
    assert view.window("24 h") is not None and view.window("24 h").text == "100 %"
    assert view.incidents == () and view.ongoing == ()
    assert sorted(view.month_days("2026-11")) == ["2026-11-26", "2026-11-27"]


def test_uptime_weighs_time_by_status_over_the_last_24_hours(tmp_path: Path) -> None:
    dashboard = Dashboard(tmp_path / "site", hold=2 * 86_400)
    dashboard.file(at(DAY1, 0))
    dashboard.file(at(DAY1, 12), "error", {"api": "timeout"})
    dashboard.file(at(DAY2, 0))
    view = dashboard.view(at(DAY2, 12))
    window = view.window("24 h")
    assert window is not None and window.covered_fully
    assert window.seconds[State.DOWN] == 12 * 3600 and window.seconds[State.UP] == 12 * 3600
    assert window.ratio == 0.5 and window.text == "50.00 %"
    assert dict(view.collectors)["api"][0] == "50.00 %"
    yesterday = bar(view, DAY1)
    assert (yesterday.state, yesterday.count, yesterday.uptime) == (State.DOWN, 2, 0.5)
    assert yesterday.label == "2026-11-26: down 12 h, 2 versions, uptime 50.00 %"


def test_an_incident_is_opened_extended_and_closed_once(dashboard: Dashboard) -> None:
    dashboard.file(at(DAY2, 10))
    opening = dashboard.file(at(DAY2, 10.5), "error", {"api": "timeout"})
    assert len(opening.ongoing) == 1
    assert opening.ongoing[0].start == at(DAY2, 10.5)
    start_id = opening.ongoing[0].start_id
    assert dashboard.record.incident is not None and dashboard.record.incident.start_id == start_id

    extending = dashboard.file(at(DAY2, 11), "critical", {"api": "refused"})
    (ongoing,) = extending.ongoing
    assert (ongoing.start_id, ongoing.count, ongoing.worst) == (start_id, 2,
                                                                 StatusLevel.CRITICAL)
    assert ongoing.worsened_at == at(DAY2, 11) and ongoing.failed == {"api": "refused"}
    assert ongoing.ongoing and ongoing.duration(at(DAY2, 11)) == 1800

    closing = dashboard.file(at(DAY2, 11.5))
    assert closing.ongoing == () and dashboard.record.incident is None
    (closed,) = closing.incidents
    assert (closed.start_id, closed.end, closed.count) == (start_id, at(DAY2, 11.5), 2)
    assert closed.end_id == record_of(at(DAY2, 11.5)).id

    for later in (dashboard.file(at(DAY2, 12)), dashboard.view(at(DAY2, 13)),
                  dashboard.view(at(DAY2 + timedelta(days=1), 1))):
        assert [i.start_id for i in later.incidents] == [start_id]  # one incident, however read
        assert [i.start_id for i in later.month_incidents("2026-11")] == [start_id]
        assert later.ongoing == ()


def test_a_later_failure_after_recovery_is_a_new_incident(dashboard: Dashboard) -> None:
    dashboard.file(at(DAY2, 1), "error", {"api": "a"})
    dashboard.file(at(DAY2, 2))
    view = dashboard.file(at(DAY2, 3), "warning")
    assert len(view.ongoing) == 1 and view.ongoing[0].start == at(DAY2, 3)
    assert [i.start for i in view.incidents] == [at(DAY2, 3), at(DAY2, 1)]  # ongoing first


def test_declared_maintenance_is_not_down_time(dashboard: Dashboard) -> None:
    dashboard.file(at(DAY2, 8))
    dashboard.file(at(DAY2, 9))
    dashboard.file(at(DAY2, 10), "error", {"api": "restarting"})
    dashboard.file(at(DAY2, 11), "error", {"api": "restarting"})
    declared = DeclaredIncident("upgrade", "Upgrade", None, at(DAY2, 10), at(DAY2, 11),
                                "maintenance", (), "").for_dashboard(SLUG)
    window = dashboard.view(at(DAY2, 12), [declared]).window("24 h")
    plain = dashboard.view(at(DAY2, 12)).window("24 h")
    assert window is not None and plain is not None
    assert plain.seconds[State.DOWN] == 7200 and plain.seconds[State.MAINTENANCE] == 0
    assert window.seconds[State.DOWN] == 3600 and window.seconds[State.MAINTENANCE] == 3600
    assert window.ratio == pytest.approx(2 / 3)


def test_a_missing_status_file_is_computed_again_from_the_log(dashboard: Dashboard) -> None:
    for hour in range(0, 24, 3):
        dashboard.file(at(DAY1, hour), "warning" if hour == 12 else "ok")
    dashboard.file(at(DAY2, 1))
    written = dashboard.month("2026-11").to_json()
    assert written["days"]["26"]["count"] == 8
    (dashboard.store.site / layout.month_status(SLUG, "2026-11")).unlink()
    again = dashboard.month("2026-11")
    assert again.to_json() == written
    assert MonthStatus.from_json(written, SLUG, "2026-11").to_json() == written


def test_a_long_log_is_backfilled_once(dashboard: Dashboard) -> None:
    """A dashboard whose log was written before the timeline kept status (an upgrade)."""
    for hour in range(48):
        status = "error" if hour >= 40 else "ok"
        entry = record_of(at(DAY1, hour), status, {"api": "down"} if status == "error" else None)
        dashboard.store.append(dashboard.record, entry)
    view = dashboard.view(at(DAY2, 23.5))
    assert dashboard.backfills == 1
    assert dashboard.record.settled == "2026-11-26"
    assert dashboard.month("2026-11").days["2026-11-26"].count == 24
    (ongoing,) = view.ongoing
    assert (ongoing.start, ongoing.count) == (at(DAY2, 16), 8)
    dashboard.file(at(DAY2, 23.75))
    assert dashboard.backfills == 1  # once: later builds read the summaries


def _sealed_as_before(path: Path, signature: str) -> None:
    """Seal a cache file as releases before the text seal did: the document read back,
    its keys sorted, hashed with the signature."""
    import hashlib
    import json

    raw = json.loads(path.read_text())
    body = {k: v for k, v in raw.items() if k != "fingerprint"}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    seal = hashlib.sha256(f"{canonical}\n{signature}".encode()).hexdigest()[:24]
    path.write_text(json.dumps({**raw, "fingerprint": seal}, indent=1))


def test_a_status_file_sealed_by_an_earlier_release_still_holds(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finished months keep their status files for good: a new seal must not make the first
    build after an upgrade compute a year of them again from the log. A file whose bytes
    changed since its seal (an edit) is computed again, in either form."""
    from dashsite.store.caches import month_signature

    for hour in range(0, 24, 3):
        dashboard.file(at(DAY1, hour), "warning" if hour == 12 else "ok")
    dashboard.file(at(DAY2, 1))
    path = dashboard.store.site / layout.month_status(SLUG, "2026-11")
    written = dashboard.month("2026-11").to_json()
    signature = month_signature(dashboard.store, SLUG, "2026-11", written["through"])
    _sealed_as_before(path, signature)
    recomputed: list[str] = []
    original = Timeline._recompute

    def counting(self: Timeline, record: DashboardRecord, month: str, hold: float) -> MonthStatus:
        recomputed.append(month)
        return original(self, record, month, hold)

    monkeypatch.setattr(Timeline, "_recompute", counting)
    assert dashboard.month("2026-11").to_json() == written
    assert recomputed == []  # held: read as it is
    path.write_text(path.read_text().replace('"count": 8', '"count": 9'))
    assert dashboard.month("2026-11").to_json() == written
    assert recomputed == ["2026-11"]  # edited: computed again (and sealed the new way)
    assert path.read_text().endswith('"}\n') and "\n" not in path.read_text()[:-1]
    path.write_text(path.read_text().replace('"count":8', '"count":9'))
    assert dashboard.month("2026-11").to_json() == written
    assert recomputed == ["2026-11", "2026-11"]


def test_the_digest_round_trips(dashboard: Dashboard) -> None:
    dashboard.file(at(DAY1, 20), "error", {"api": "x"})
    dashboard.file(at(DAY1, 21))
    dashboard.file(at(DAY2, 1))
    digest = dashboard.timeline().digest(dashboard.record, DAY2.date(), HOLD, ())
    assert digest.first == "2026-11-26" and len(digest.incidents) == 1
    assert Digest.from_json(digest.to_json(), SLUG).to_json() == digest.to_json()


def _starts(view: StatusView, month: str) -> list[str]:
    return [i.start.isoformat() for i in view.month_incidents(month)]


def test_the_bars_incidents_are_read_from_the_digest_sealed_to_their_status_files(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    october = DAY1 - timedelta(days=29)
    dashboard.file(at(october, 20), "error", {"api": "x"})
    dashboard.file(at(october, 21))  # an incident in October, among the bars' months
    dashboard.file(at(DAY1, 20))
    dashboard.file(at(DAY2, 1))  # day 1 settles: the day's digest holds their incidents
    computed: list[str] = []
    compute = Timeline._compute_digest
    monkeypatch.setattr(Timeline, "_compute_digest", lambda self, record, *rest: (
        computed.append(record.slug), compute(self, record, *rest))[1])  # fmt: skip
    read: list[str] = []
    read_month = Timeline._read
    monkeypatch.setattr(Timeline, "_read", lambda self, slug, month, *, days: (
        read.append(month), read_month(self, slug, month, days=days))[1])  # fmt: skip

    view = dashboard.view(at(DAY2, 2))
    read.clear()
    assert _starts(view, "2026-10") == [at(october, 20).isoformat()]
    assert read == [] and computed == []  # from the digest: October's file is not read

    # An incident resolved by a build that had read the digest: it keeps it in step.
    dashboard.file(at(DAY2, 3), "error", {"api": "x"})
    dashboard.file(at(DAY2, 4))
    view = dashboard.view(at(DAY2, 5))
    assert computed == []
    assert _starts(view, "2026-11") == [at(DAY2, 3).isoformat()]
    digest = dashboard.timeline().digest(dashboard.record, DAY2.date(), HOLD, ())
    assert [i.start for i in digest.begun["2026-11"]] == [at(DAY2, 3)]

    # One resolved by a build that had not (a killed build's versions are filed before
    # any view): November's status file changed under the digest, whose seal fails.
    timeline = dashboard.timeline()
    for moment, status in ((at(DAY2, 6), "error"), (at(DAY2, 7), "ok")):
        entry = record_of(moment, status, {"api": "x"} if status == "error" else None)
        dashboard.store.append(dashboard.record, entry)
        timeline.filed(dashboard.record, entry, HOLD)
    computed.clear()
    digest = dashboard.timeline().digest(dashboard.record, DAY2.date(), HOLD, ())
    assert computed == [SLUG]
    assert [i.start for i in digest.begun["2026-11"]] == [at(DAY2, 3), at(DAY2, 6)]


def test_history_pages_hold_200_versions_oldest_first() -> None:
    assert [page_after("2026-11", n) for n in (0, 199, 200, 399, 400)] == [
        "2026-11.html", "2026-11.html", "2026-11-2.html", "2026-11-2.html", "2026-11-3.html"]
    assert month_page("2026-12", 1) == "2026-12.html"
