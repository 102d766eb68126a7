from __future__ import annotations

import datetime as datetime_module
import os
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import pytest

from dashsite.collection import imports, isolated

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def no_leaked_threads(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves threads running (a small grace period to wind down)."""
    before = set(threading.enumerate())
    yield
    imports.WORKER.release()  # its idle wait (for a next import) is not a leak
    isolated.release()  # YAML callables' idle worker processes: none carried to the next test
    deadline = time.monotonic() + 3
    # A module's dask cluster lives across tests; its pools grow as work arrives.
    cluster = "dask_client" in request.fixturenames
    while True:
        leaked = [
            t
            for t in threading.enumerate()
            if t not in before and t.is_alive() and not (cluster and _dask_thread(t.name))
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not leaked, f"{request.node.name} leaked threads: {[t.name for t in leaked]}"


def _dask_thread(name: str) -> bool:
    return name == "IO loop" or "Dask-" in name or name.startswith("dashsite-collector")


DAYS_AHEAD = int(os.environ.get("DASHSITE_TEST_DAYS_AHEAD", "0") or 0)
"""``make test-calendar``: the real clock, as dashsite and the tests read it, runs this
many days ahead, so a test tied to today's date fails here, not some week next year."""


def shifted_datetime(shift: timedelta) -> type[datetime]:
    """A ``datetime`` whose ``now()`` (and ``utcnow()``, ``today()``) is ``shift`` ahead."""

    class ShiftedDatetime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> ShiftedDatetime:  # type: ignore[override]
            moment = datetime.now(tz) + shift
            return cls.combine(moment.date(), moment.timetz())

        @classmethod
        def utcnow(cls) -> ShiftedDatetime:  # type: ignore[override]
            return cls.now(UTC).replace(tzinfo=None)

        @classmethod
        def today(cls) -> ShiftedDatetime:  # type: ignore[override]
            return cls.now()

    return ShiftedDatetime


@pytest.fixture(autouse=True)
def calendar_shift(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """With ``DASHSITE_TEST_DAYS_AHEAD``, the injected clock every module reads runs ahead."""
    if not DAYS_AHEAD:
        yield
        return
    shifted = shifted_datetime(timedelta(days=DAYS_AHEAD))
    for name, module in list(sys.modules.items()):
        if module is None or not (
            name == "dashsite" or name.startswith(("dashsite.", "test_")) or name == "projects"
        ):
            continue
        if getattr(module, "datetime", None) is datetime:
            monkeypatch.setattr(module, "datetime", shifted)
    monkeypatch.setattr(datetime_module, "datetime", shifted)  # ``dt.datetime.now()``
    yield
