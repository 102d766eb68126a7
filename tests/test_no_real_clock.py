"""The clock is injected: a build (and a preview) tells the time only through its clock.

``no_real_clock`` makes every dashsite module's ``datetime.now``, ``date.today``
and ``time.time`` raise; a build given a clock must then still run, and stamp
what it writes with that clock's time.
"""

from __future__ import annotations

import datetime as datetime_module
import importlib
import json
import pkgutil
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

import dashsite
from dashsite.collection.collector import Collector
from dashsite.collection.engine import CollectionEngine, run_coroutine
from dashsite.preview.builder import PreviewBuilder
from projects import build, fixed_clock, simple, write_project

from htmltree import parse

MOMENT = datetime(2031, 5, 4, 3, 2, 1, tzinfo=UTC)
"""Years away from the real clock: a stamp taken from the real clock cannot pass for it."""


class RealClockRead(AssertionError):
    """dashsite asked the real clock for the time."""


def _refuse(reads: list[str], what: str) -> None:
    reads.append(what)
    raise RealClockRead(f"dashsite read the real clock ({what}) instead of the injected one")


@pytest.fixture
def no_real_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every dashsite module's real-time reads raise (and are listed, should one be caught)."""
    reads: list[str] = []

    class Transparent(type):
        """Real datetimes and dates still pass ``isinstance`` against the guarded class."""

        def __instancecheck__(cls, obj: object) -> bool:
            return isinstance(obj, cls.__mro__[1])

        def __subclasscheck__(cls, sub: type) -> bool:
            return issubclass(sub, cls.__mro__[1])

    class GuardedDatetime(datetime, metaclass=Transparent):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            _refuse(reads, "datetime.now")

        @classmethod
        def utcnow(cls) -> Any:
            _refuse(reads, "datetime.utcnow")

        @classmethod
        def today(cls) -> Any:
            _refuse(reads, "datetime.today")

    class GuardedDate(date, metaclass=Transparent):
        @classmethod
        def today(cls) -> Any:
            _refuse(reads, "date.today")

    class GuardedModule:
        """A module as it was, but for the names that read the real time."""

        def __init__(self, real: Any, guarded: dict[str, Any]) -> None:
            self._real, self._guarded = real, guarded

        def __getattr__(self, name: str) -> Any:
            return self._guarded.get(name) or getattr(self._real, name)

    def refused(what: str) -> Any:
        return lambda *args, **kwargs: _refuse(reads, what)

    guarded_time = GuardedModule(time, {"time": refused("time.time"),
                                        "time_ns": refused("time.time_ns")})
    guarded_datetime = GuardedModule(datetime_module, {"datetime": GuardedDatetime,
                                                       "date": GuardedDate})
    for info in pkgutil.walk_packages(dashsite.__path__, "dashsite."):
        if info.name.endswith("__main__"):
            continue
        try:  # lazily imported modules (the dask cluster, S3) too, where they import
            importlib.import_module(info.name)
        except ImportError:
            continue
    replacements = [(datetime, GuardedDatetime), (date, GuardedDate), (time, guarded_time),
                    (datetime_module, guarded_datetime)]
    for name, module in list(sys.modules.items()):
        if name != "dashsite" and not name.startswith("dashsite."):
            continue
        for attr, value in list(vars(module).items()):
            for real, guard in replacements:
                if value is real:
                    monkeypatch.setattr(module, attr, guard)
    yield reads
    assert not reads, f"the real clock was read: {reads}"


def test_the_guard_catches_a_build_without_a_clock(tmp_path: Path,
                                                   no_real_clock: list[str]) -> None:
    write_project(tmp_path, {"alpha": simple()})
    with pytest.raises(RealClockRead):
        build(tmp_path, version_id="v1")  # BuildOptions' default clock is the real one
    no_real_clock.clear()


def test_a_build_tells_the_time_only_by_its_clock(tmp_path: Path,
                                                 no_real_clock: list[str]) -> None:
    write_project(tmp_path, {"alpha": simple(), "beta": simple("Beta")})
    result = build(tmp_path, clock=fixed_clock(MOMENT))
    assert result.exit_code(strict=True) == 0
    assert result.version_id == "20310504T030201Z"  # a new version's id is its clock's time
    site = tmp_path / "site"
    stamp = MOMENT.isoformat()
    for slug in ("alpha", "beta"):
        folder = site / slug / "2031-05-04" / result.version_id
        document = json.loads((folder / "data.json").read_text())
        assert document["collected_at"] == stamp
        assert {c["collected_at"] for c in document["collectors"].values()} == {stamp}
        line = json.loads((site / slug / "log" / "2031-05" / "04.jsonl").read_text())
        assert line["collected_at"] == stamp
        for page in (folder / "index.html", site / slug / "index.html"):
            times = {t.attrs["datetime"] for t in parse(page.read_text()).find_all("time")}
            assert times == {"2031-05-04T03:02:01Z"}, page
    manifest = json.loads((site / "manifest.json").read_text())
    assert manifest["built_at"] == stamp
    assert {d["latest"]["collected_at"] for d in manifest["dashboards"]} == {stamp}


def test_the_collectors_outcomes_are_stamped_by_the_clock(no_real_clock: list[str]) -> None:
    ticks = iter(range(100))

    def clock() -> datetime:
        return MOMENT.replace(second=next(ticks))

    async def later() -> int:
        return 2

    engine = CollectionEngine(clock=clock)
    outcomes = run_coroutine(lambda: engine.run(
        [Collector("sync", lambda: 1), Collector("async", later)]))
    assert [o.value for o in outcomes] == [1, 2]
    stamps = [moment for o in outcomes for moment in (o.started_at, o.finished_at)]
    assert sorted(stamps) == [MOMENT.replace(second=n) for n in range(4)]
    assert all(o.started_at < o.finished_at for o in outcomes)


def test_a_preview_tells_the_time_only_by_its_clock(tmp_path: Path,
                                                   no_real_clock: list[str]) -> None:
    write_project(tmp_path, {"alpha": simple()})
    builder = PreviewBuilder(tmp_path, tmp_path / "preview", clock=lambda: MOMENT)
    rebuild = builder.full()
    assert rebuild.problems == ()
    assert builder.entries["alpha"].collected_at == MOMENT
    for page in ("alpha/index.html", "index.html"):
        times = {t.attrs["datetime"] for t in
                 parse((tmp_path / "preview" / page).read_text()).find_all("time")}
        assert times == {"2031-05-04T03:02:01Z"}, page
