"""Status over time: the formula on hand-made logs with known answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashsite.core.levels import StatusLevel
from dashsite.status.model import (
    DaySummary,
    State,
    Uptime,
    add_seconds,
    collector_uptime,
    follow,
    state_of,
    tally,
    uptime_text,
)
from dashsite.store.log import LogRecord
from dashsite.store.records import Incident, Mark

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
HOLD = 600.0  # expected_every 5 min: a status holds 10 min


def rec(at: datetime, status: str = "ok", errors: dict[str, str] | None = None,
        ran: tuple[str, ...] = ("disk",)) -> LogRecord:
    vid = at.strftime("%Y%m%dT%H%M%SZ")
    return LogRecord(vid, at.isoformat(), StatusLevel.parse(status), f"s/{at.date()}/{vid}/",
                     dict(errors or {}), {name: 0.1 for name in ran})


def every(start: datetime, count: int, minutes: int = 5, status: str = "ok") -> list[LogRecord]:
    return [rec(start + timedelta(minutes=minutes * n), status) for n in range(count)]


def seconds(days: dict[str, DaySummary]) -> dict[State, float]:
    return {k: v for k, v in add_seconds(days.values()).items() if v}


def test_one_version_holds_for_the_hold_then_no_data() -> None:
    days = tally([rec(T0)], None, T0 - timedelta(hours=1), T0 + timedelta(hours=1), HOLD)
    assert seconds(days) == {State.UP: 600.0, State.NODATA: 3000.0}
    assert days["2026-11-27"].count == 1
    assert days["2026-11-27"].worst == StatusLevel.OK


def test_time_before_the_first_version_is_not_counted_at_all() -> None:
    days = tally([rec(T0)], None, T0 - timedelta(days=3), T0 + timedelta(minutes=5), HOLD)
    assert list(days) == ["2026-11-27"]
    assert seconds(days) == {State.UP: 300.0}


def test_a_version_dated_back_still_counts_and_its_status_holds_from_the_newest_time() -> None:
    """A clock set back an hour during an outage: the versions it dated into time already
    counted are not dropped (that hid the outage: the day read ok, 100 %). None of its
    time is counted twice; its count, its worst and its failures show, and its status
    holds from the newest time known."""
    records = [rec(T0 + timedelta(minutes=55)),
               rec(T0 + timedelta(minutes=20), "error", {"disk": "boom"}),  # the clock, 1 h back
               rec(T0 + timedelta(minutes=25), "error", {"disk": "boom"})]
    days = tally(records, None, T0, T0 + timedelta(minutes=65), HOLD)
    day = days["2026-11-27"]
    assert day.count == 3 and day.worst == StatusLevel.ERROR and day.state == State.DOWN
    assert seconds(days) == {State.DOWN: 600.0}  # from 10:55, the newest status, held 10 min
    assert day.collectors["disk"] == [600.0, 600.0]
    assert day.last == Mark(T0 + timedelta(minutes=55), StatusLevel.ERROR,
                            frozenset({"disk"}), frozenset({"disk"}))


def test_regular_versions_are_time_weighted_by_status() -> None:
    records = [*every(T0, 2), rec(T0 + timedelta(minutes=10), "error", {"disk": "boom"}),
               rec(T0 + timedelta(minutes=20), "warning")]
    days = tally(records, None, T0, T0 + timedelta(minutes=30), HOLD)
    assert seconds(days) == {State.UP: 600.0, State.DOWN: 600.0, State.DEGRADED: 600.0}
    uptime = Uptime("x", add_seconds(days.values()))
    assert uptime.ratio == pytest.approx(2 / 3)
    assert uptime.degraded == pytest.approx(1 / 3)
    assert days["2026-11-27"].worst == StatusLevel.ERROR


def test_a_gap_longer_than_the_hold_is_no_data_not_up() -> None:
    records = [rec(T0), rec(T0 + timedelta(hours=3))]
    days = tally(records, None, T0, T0 + timedelta(hours=3, minutes=5), HOLD)
    assert seconds(days) == {State.UP: 900.0, State.NODATA: 3 * 3600 - 600.0}
    assert Uptime("x", add_seconds(days.values())).ratio == 1.0


@pytest.mark.parametrize("last_day", ["2026-11-30T23:55:00+00:00", "2026-12-31T23:55:00+00:00"])
def test_time_is_split_at_midnight_across_month_and_year_ends(last_day: str) -> None:
    before = datetime.fromisoformat(last_day)
    after = before + timedelta(minutes=5)
    records = [rec(before), rec(after, "critical", {"disk": "gone"})]
    days = tally(records, None, before, after + timedelta(minutes=5), HOLD)
    first, second = before.date().isoformat(), after.date().isoformat()
    assert list(days) == [first, second]
    assert seconds({first: days[first]}) == {State.UP: 300.0}
    assert seconds({second: days[second]}) == {State.DOWN: 300.0}
    assert days[second].worst == StatusLevel.CRITICAL
    assert days[first].last is not None and days[first].last.status == StatusLevel.OK
    assert days[second].last is not None and days[second].last.status == StatusLevel.CRITICAL


def test_the_carried_mark_counts_into_the_next_span() -> None:
    carry = Mark(T0 - timedelta(minutes=2), StatusLevel.ERROR, frozenset({"disk"}),
                 frozenset({"disk"}))
    days = tally([rec(T0)], carry, T0 - timedelta(minutes=1), T0 + timedelta(minutes=1), HOLD)
    assert seconds(days) == {State.DOWN: 60.0, State.UP: 60.0}
    assert days["2026-11-27"].collectors == {"disk": [120.0, 60.0]}


def test_collectors_are_down_while_they_are_among_the_errors() -> None:
    records = [rec(T0, ran=("disk", "api")),
               rec(T0 + timedelta(minutes=5), "error", {"api": "timeout"}, ran=("disk",)),
               rec(T0 + timedelta(minutes=10), ran=("disk", "api"))]
    days = tally(records, None, T0, T0 + timedelta(minutes=15), HOLD)
    shares = collector_uptime(days.values())
    assert shares == {"api": pytest.approx(2 / 3), "disk": 1.0}


def test_down_since_the_first_version() -> None:
    records = every(T0, 12, status="error")
    days = tally(records, None, T0, T0 + timedelta(hours=1), HOLD)
    assert Uptime("x", add_seconds(days.values())).text == "0.00 %"
    incident = None
    for r in records:
        incident, resolved = follow("s", incident, r)
        assert not resolved
    assert incident is not None and incident.ongoing and incident.count == 12
    assert incident.start == T0


def test_uptime_text_never_rounds_downtime_away() -> None:
    assert uptime_text(0.999999) == "99.99 %"
    assert uptime_text(1.0) == "100 %"
    assert uptime_text(0.5) == "50.00 %"
    assert uptime_text(None) == "no data"


def test_a_run_of_non_ok_versions_is_one_incident() -> None:
    records = [rec(T0), rec(T0 + timedelta(minutes=5), "warning"),
               rec(T0 + timedelta(minutes=10), "error", {"api": "first"}),
               rec(T0 + timedelta(minutes=15), "error", {"api": "second"}),
               rec(T0 + timedelta(minutes=20)), rec(T0 + timedelta(minutes=25), "warning")]
    incident: Incident | None = None
    done: list[Incident] = []
    for r in records:
        incident, resolved = follow("s", incident, r)
        if resolved and incident is not None:
            done.append(incident)
            incident = None
    assert len(done) == 1
    first = done[0]
    assert (first.start, first.end) == (T0 + timedelta(minutes=5), T0 + timedelta(minutes=20))
    assert first.worst == StatusLevel.ERROR and first.count == 3
    assert first.failed == {"api": "second"}  # the last error
    assert first.duration(T0) == 900.0
    assert incident is not None and incident.ongoing  # the warning after it
    again = Incident.from_json(first.to_json(), "s")
    assert again.to_json() == first.to_json()


def test_day_summaries_round_trip_and_refuse_nonsense() -> None:
    days = tally(every(T0, 3), None, T0, T0 + timedelta(minutes=15), HOLD)
    found = days["2026-11-27"]
    assert DaySummary.from_json(found.day, found.to_json()).to_json() == found.to_json()
    for bad in ({"count": -1}, {"count": 1, "seconds": {"up": 1e9}},
                {"count": 1, "seconds": {"sideways": 1}}, {"count": 1, "worst": "fine"},
                {"count": 1, "collectors": {"x": [1]}}, "nope"):
        with pytest.raises(ValueError):
            DaySummary.from_json("2026-11-27", bad)


def test_levels_map_to_states() -> None:
    assert [state_of(level) for level in StatusLevel] == [
        State.UP, State.DEGRADED, State.DOWN, State.DOWN]


def test_a_day_with_no_version_takes_its_state_from_the_time_carried_into_it() -> None:
    late = T0.replace(hour=23, minute=55)
    days = tally([rec(late, "warning")], None, late, late + timedelta(minutes=10), HOLD)
    after = days["2026-11-28"]
    assert (after.count, after.worst, after.state) == (0, None, State.DEGRADED)
    assert after.covered == 300.0 and after.last is not None and after.last.at == late
    assert DaySummary("2026-11-29").state == State.NODATA


def test_hours_split_a_day_and_add_up_to_it() -> None:
    records = [rec(T0 + timedelta(minutes=30)), rec(T0 + timedelta(minutes=90), "error")]
    days = tally(records, None, T0, T0 + timedelta(hours=2), HOLD, hours=True)
    day = days["2026-11-27"]
    assert sorted(day.hours) == [10, 11]
    assert day.hours[10].seconds[State.UP] == 600.0 and day.hours[10].seconds[State.DOWN] == 0
    assert day.hours[11].seconds[State.DOWN] == 600.0 and day.hours[11].seconds[State.UP] == 0
    assert add_seconds(day.hours.values()) == day.seconds


def test_a_copied_day_can_be_changed_without_changing_the_original() -> None:
    records = [rec(T0 + timedelta(minutes=30)), rec(T0 + timedelta(minutes=90), "error")]
    day = tally(records, None, T0, T0 + timedelta(hours=2), HOLD, hours=True)["2026-11-27"]
    day.collectors["api"] = [600.0, 0.0]
    before = day.to_json()
    twin = day.copy()
    assert twin.to_json() == before
    twin.seconds[State.UP] += 60
    twin.collectors["api"][1] = 60.0
    twin.hours[10].seconds[State.DOWN] = 1.0
    assert day.to_json() == before and twin.to_json() != before


def test_uptime_of_a_window_with_no_counted_time() -> None:
    nothing = Uptime("24 h", {State.NODATA: 3600.0, State.MAINTENANCE: 60.0})
    assert (nothing.counted, nothing.ratio, nothing.degraded, nothing.text) == (
        0.0, None, 0.0, "no data")
    some = Uptime("7 d", {State.UP: 3.0, State.DOWN: 1.0, State.MAINTENANCE: 9.0})
    assert (some.counted, some.ratio, some.text) == (4.0, 0.75, "75.00 %")


def test_an_incident_that_worsens_says_when() -> None:
    incident, _ = follow("s", None, rec(T0, "warning"))
    assert incident is not None and incident.worsened_at is None and incident.updated == T0
    incident, _ = follow("s", incident, rec(T0 + timedelta(minutes=5), "critical", {"disk": "x"}))
    assert incident is not None and incident.worst == StatusLevel.CRITICAL
    assert incident.worsened_at == incident.updated == T0 + timedelta(minutes=5)
    incident, resolved = follow("s", incident, rec(T0 + timedelta(minutes=10)))
    assert resolved and incident is not None and incident.updated == T0 + timedelta(minutes=10)
    assert follow("s", None, rec(T0)) == (None, False)
