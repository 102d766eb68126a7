from __future__ import annotations

import asyncio
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from dashsite import Collector, CollectorError, collect, collector
from dashsite.collection.collector import COLLECTOR_ATTRIBUTE


def run(coro):
    return asyncio.run(coro)


def test_blocking_sync_collectors_overlap() -> None:
    # Every collector waits until all 20 are running: only possible if they run at once
    # (one at a time, the first would wait forever and the barrier breaks).
    together = threading.Barrier(20, timeout=30)

    def make(name: str):
        def work() -> str:
            together.wait()
            return name

        return work

    specs = [Collector(f"c{i}", make(f"c{i}"), timeout=60) for i in range(20)]
    outcomes = run(collect(specs))
    assert [o.error for o in outcomes] == [None] * 20
    assert [o.value for o in outcomes] == [f"c{i}" for i in range(20)]


def test_sync_and_async_collectors_overlap() -> None:
    events: list[tuple[str, str]] = []
    lock = threading.Lock()

    def sync_one() -> int:
        with lock:
            events.append(("sync", "start"))
        time.sleep(0.1)
        with lock:
            events.append(("sync", "end"))
        return 1

    async def async_one() -> int:
        with lock:
            events.append(("async", "start"))
        await asyncio.sleep(0.1)
        with lock:
            events.append(("async", "end"))
        return 2

    outcomes = run(collect([Collector("s", sync_one), Collector("a", async_one)]))
    assert [o.value for o in outcomes] == [1, 2]
    starts = [i for i, (_, kind) in enumerate(events) if kind == "start"]
    ends = [i for i, (_, kind) in enumerate(events) if kind == "end"]
    assert max(starts) < min(ends)


def test_concurrency_bound_is_respected() -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.02)
        with lock:
            active -= 1

    run(collect([Collector(f"c{i}", work) for i in range(12)], concurrency=3))
    assert peak == 3


def test_timeout_is_per_collector_and_isolated() -> None:
    async def slow() -> str:
        await asyncio.sleep(5)
        return "late"

    outcomes = run(collect([Collector("slow", slow, timeout=0.05), Collector("ok", lambda: 1)]))
    slow_outcome, ok_outcome = outcomes
    assert isinstance(slow_outcome.error, CollectorError)
    assert slow_outcome.error.name == "slow"
    assert isinstance(slow_outcome.error.cause, TimeoutError)
    assert "timed out" in str(slow_outcome.error) or "no result within" in str(slow_outcome.error)
    assert slow_outcome.value is None
    assert ok_outcome.value == 1 and ok_outcome.ok


def test_a_sync_collector_raising_stopiteration_fails_at_once_saying_so(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """``next(...)`` on an empty generator: no future can carry StopIteration, so asyncio
    printed a traceback and the collector waited out its timeout, reported as one."""

    def first_down() -> dict[str, bool]:
        return next(r for r in [{"up": True}] if not r["up"])

    (outcome,) = run(collect([Collector("first_down", first_down, timeout=2)]))
    assert isinstance(outcome.error, CollectorError)
    assert isinstance(outcome.error.cause, RuntimeError)
    assert isinstance(outcome.error.cause.__cause__, StopIteration)
    assert "StopIteration: next() found nothing" in str(outcome.error)
    assert "Traceback" not in capfd.readouterr().err


def test_retries_with_backoff_then_success() -> None:
    calls: list[float] = []

    def flaky() -> str:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise ConnectionError("try again")
        return "ok"

    (outcome,) = run(collect([Collector("flaky", flaky, retries=2, backoff=0.01)]))
    assert outcome.value == "ok"
    assert outcome.attempts == 3
    assert len(calls) == 3


def test_retries_exhausted_keeps_the_last_cause() -> None:
    def broken() -> None:
        raise ValueError("nope")

    (outcome,) = run(collect([Collector("broken", broken, retries=1, backoff=0.0)]))
    assert outcome.attempts == 2
    assert isinstance(outcome.error, CollectorError)
    assert isinstance(outcome.error.cause, ValueError)
    assert outcome.error.collector_name == "broken"


def test_fail_fast_raises_and_really_cancels_the_others() -> None:
    finished = threading.Event()
    cancelled = threading.Event()

    async def long_running() -> None:
        try:
            await asyncio.sleep(2)
            finished.set()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    def boom() -> None:
        raise RuntimeError("boom")

    async def scenario() -> None:
        with pytest.raises(CollectorError) as info:
            await collect([Collector("long", long_running), Collector("boom", boom)],
                          fail_fast=True)
        assert info.value.name == "boom"
        assert isinstance(info.value.cause, RuntimeError)
        await asyncio.sleep(0.05)

    run(scenario())
    assert cancelled.is_set()
    assert not finished.is_set()


def test_a_callable_returning_an_awaitable_counts_as_async() -> None:
    async def fetch() -> int:
        await asyncio.sleep(0)
        return 42

    (outcome,) = run(collect([Collector("lam", lambda: fetch())]))
    assert outcome.value == 42


def test_outcomes_record_time_and_duration() -> None:
    def work() -> int:
        time.sleep(0.02)
        return 1

    (outcome,) = run(collect([Collector("w", work)]))
    assert outcome.duration >= 0.02
    assert outcome.started_at <= outcome.finished_at
    assert outcome.started_at.tzinfo is not None


def test_a_caller_supplied_executor_runs_sync_collectors() -> None:
    names: list[str] = []
    with ThreadPoolExecutor(2, thread_name_prefix="custom-pool") as pool:
        run(collect([Collector("x", lambda: names.append(threading.current_thread().name))],
                    executor=pool))
    assert names[0].startswith("custom-pool")


def test_collector_decorator_marks_and_keeps_the_function() -> None:
    @collector
    def disk() -> int:
        return 1

    @collector(name="api", timeout=5, retries=2)
    async def api_status() -> int:
        return 2

    assert disk() == 1
    spec = getattr(disk, COLLECTOR_ATTRIBUTE)
    assert spec.name == "disk" and spec.timeout is None
    api = getattr(api_status, COLLECTOR_ATTRIBUTE)
    assert (api.name, api.timeout, api.retries, api.is_async) == ("api", 5, 2, True)


def test_a_collector_that_stops_the_event_loop_stops_nothing(tmp_path) -> None:
    # loop.stop() in a collector ended the whole build with an internal error.
    from projects import cli, write_project

    module = (
        "import asyncio\nfrom dashsite import collector\n\n@collector\nasync def rude():\n"
        "    asyncio.get_running_loop().stop()\n    await asyncio.sleep(0.01)\n"
        "    return 'still here'\n\n@collector\nasync def calm():\n"
        "    await asyncio.sleep(0.02)\n    return 'fine'\n"
    )
    write_project(tmp_path, {"svc": {"dashboard.py": module,
                                     "template.html": "<p>{{ rude }} {{ calm }}</p>"}})
    done = cli(tmp_path, "build")
    assert done.returncode == 0, done.stderr
    assert "<p>still here fine</p>" in (tmp_path / "site" / "svc" / "index.html").read_text()


def test_collectors_hung_past_their_timeout_do_not_starve_the_ones_queued_behind() -> None:
    # Two threads, both stuck in calls that never return in time: a healthy collector
    # queued behind them timed out without ever running.
    release = threading.Event()

    def hung() -> str:
        release.wait(10)
        return "late"

    collectors = [Collector(f"hung{n}", hung, timeout=0.3) for n in range(3)]
    collectors.append(Collector("healthy", lambda: "fine", timeout=0.3))
    try:
        outcomes = run(collect(collectors, concurrency=2))
    finally:
        release.set()
    by_name = {o.name: o for o in outcomes}
    assert by_name["healthy"].ok and by_name["healthy"].value == "fine"
    assert all(isinstance(by_name[f"hung{n}"].error, CollectorError) for n in range(3))


def test_a_dead_source_in_one_dashboard_leaves_the_others_healthy(tmp_path) -> None:
    # The build's pool held only stuck threads; another dashboard's collector waited in
    # its queue and "timed out" there without ever running.
    from projects import cli, write_project

    hung = "import time\nfrom dashsite import collector\n" + "".join(
        f"\n@collector(timeout=0.5)\ndef h{n}():\n    time.sleep(2)\n    return 1\n"
        for n in range(2)
    )
    write_project(tmp_path, {
        "a-down": {"dashboard.py": hung, "template.html": "x"},
        "b-ok": {"dashboard.py": "from dashsite import collector\n\n@collector(timeout=0.5)\n"
                                 "def healthy():\n    return 'fine'\n",
                 "template.html": "<p>{{ healthy }}</p>"},
    }, config="concurrency = 2\n")
    done = cli(tmp_path, "build")
    assert done.returncode == 0, done.stderr
    assert "b-ok: collector" not in done.stderr
    assert "<p>fine</p>" in (tmp_path / "site" / "b-ok" / "index.html").read_text()


@pytest.mark.parametrize(("limits", "said"), [
    ({"timeout": 0}, "timeout must be a number of seconds above 0, not 0"),
    ({"timeout": -1}, "timeout must be a number of seconds above 0, not -1"),
    ({"timeout": "5"}, "timeout must be a number of seconds above 0, not '5'"),
    ({"timeout": float("nan")}, "timeout must be a number of seconds above 0, not nan"),
    ({"retries": -1}, "retries must be a whole number from 0, not -1"),
    ({"retries": 1.5}, "retries must be a whole number from 0, not 1.5"),
    ({"backoff": -1}, "backoff must be seconds from 0, not -1"),
])
def test_limits_that_could_never_work_are_refused_where_declared(limits, said: str) -> None:
    from dashsite import DashsiteError

    with pytest.raises(DashsiteError, match=re.escape(said)):
        Collector("n", lambda: 1, **limits)
    with pytest.raises(DashsiteError, match=re.escape(said)):
        collector(**limits)(lambda: 1)


def test_limits_of_any_real_number_type_are_seconds() -> None:
    from decimal import Decimal
    from fractions import Fraction

    assert Collector("n", lambda: 1, timeout=Decimal(5)).timeout == 5.0
    assert Collector("n", lambda: 1, timeout=Fraction(1, 2), backoff=0).backoff == 0.0


def test_a_bad_limit_in_a_dashboard_is_one_line_naming_it(tmp_path) -> None:
    from projects import cli, write_project

    module = "from dashsite import collector\n\n\n@collector(timeout=0)\ndef n():\n    return 1\n"
    write_project(tmp_path, {"x": {"dashboard.py": module, "template.html": "{{ n }}"}})
    done = cli(tmp_path, "build")
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (
        "dashboards/x/dashboard.py:4: collector 'n': timeout must be a number of seconds above "
        "0, not 0 — e.g. @collector(timeout=5), or leave it out for the default")


def test_a_task_left_behind_that_stops_the_loop_stops_nothing() -> None:
    from dashsite.collection.engine import run_coroutine

    async def stopper() -> None:
        await asyncio.sleep(0.05)
        asyncio.get_running_loop().stop()

    left: list[asyncio.Future[None]] = []

    async def leaves_a_task() -> int:
        left.append(asyncio.ensure_future(stopper()))
        return 1

    outcomes = run_coroutine(lambda: collect([Collector("c", leaves_a_task)]))
    assert outcomes[0].value == 1


def test_the_pool_makes_room_for_hung_calls_up_to_twice_its_threads() -> None:
    from dashsite.collection.workers import DaemonThreadPool

    release = threading.Event()
    pool = DaemonThreadPool(2)

    def hung() -> int:
        release.wait(5)
        return 1

    async def later() -> int:
        await asyncio.sleep(5)
        return 1

    try:
        hung_ones = [Collector(f"h{n}", hung, timeout=0.2, retries=1) for n in range(8)]
        run(collect(hung_ones, executor=pool, concurrency=20))
        assert len(pool._threads) <= 4  # (not a thread for every hung attempt)
        # A sync collector whose thread ended (it returned a coroutine that timed out on
        # the loop) holds no thread: nothing to make room for.
        calm = DaemonThreadPool(1)
        run(collect([Collector("w", lambda: later(), timeout=0.2)], executor=calm))
        assert calm._max == 1
        calm.shutdown()
    finally:
        release.set()
        pool.shutdown()


def test_a_collector_that_swallows_its_cancel_leaves_no_noise_at_exit(tmp_path) -> None:
    """The library's run_sync: the collector is told once (its error); the process then
    printed 'Task was destroyed but it is pending!' and a CollectorEscaped traceback."""
    import subprocess
    import sys

    script = tmp_path / "stubborn.py"
    script.write_text(
        "import asyncio\nfrom dashsite import MonitoringService\n"
        "async def stubborn():\n    while True:\n        try:\n"
        "            await asyncio.sleep(10)\n        except asyncio.CancelledError:\n"
        "            pass\n"
        "svc = MonitoringService('{{ s }}', {'s': stubborn}, fail_fast=False, timeout=0.5)\n"
        "print([str(e) for e in svc.run_sync().errors])\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "did not stop when cancelled" in done.stdout
    assert done.stderr == ""
