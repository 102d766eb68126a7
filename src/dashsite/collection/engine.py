"""The collection engine: run every collector at once, each isolated.

Async collectors run as tasks on the loop; blocking sync ones run on an
``Executor`` (a bounded thread pool unless the caller hands in another, e.g.
a dask.distributed client's). One semaphore bounds how many run at a time.
Each collector has its own timeout and retries, and its failure is recorded
under its own name; with ``fail_fast`` the first failure cancels the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import os
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from dashsite.collection.collector import DEFAULT_TIMEOUT, Collector
from dashsite.collection.dashboard import Dashboard
from dashsite.collection.exits import running_user_code
from dashsite.collection.isolated import IsolatedCall, release
from dashsite.collection.workers import DaemonThreadPool
from dashsite.core.errors import (
    CollectorError,
    DashboardError,
    RenderTypeMisuse,
    detail_of,
    display,
    shorten,
)
from dashsite.core.levels import StatusLevel, worst_level
from dashsite.types.renderables import CollectorFailure
from dashsite.types.serialize import to_jsonable

if TYPE_CHECKING:
    from dashsite.core.config import SiteConfig

DEFAULT_CONCURRENCY = 128
MAX_THREADS = 32
"""Sync collectors share at most this many threads (async ones need none)."""


@dataclass(frozen=True, slots=True)
class CollectorOutcome:
    """What one collector produced: its value or its error, and when."""

    name: str
    value: Any
    error: CollectorError | None
    started_at: datetime
    finished_at: datetime
    duration: float
    attempts: int
    reused_from: str | None = None
    """When the value was collected (ISO time) if it was carried from an earlier
    version instead of run (``every``); None when it ran in this build."""

    @property
    def ok(self) -> bool:
        """True when the collector returned a value."""
        return self.error is None


CANCEL_GRACE = 1.0
"""Seconds a cancelled async collector gets to stop before it is abandoned."""


class CollectorEscaped(Exception):
    """A collector raised ``SystemExit``, ``KeyboardInterrupt`` or the like.

    Such exceptions would end the whole build (or the event loop); here they
    are one collector's failure, like any other exception.
    """

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__)
        self.cause = cause


def _guarded(func: Callable[[], Any]) -> Any:
    """Call a sync collector; exceptions that end threads become ordinary ones."""
    try:
        return func()
    except StopIteration as exc:  # no future can carry it: asyncio would wait for the timeout
        raise RuntimeError(
            "StopIteration: next() found nothing (give next() a default, or catch it)"
        ) from exc
    except Exception:
        raise
    except BaseException as exc:
        raise CollectorEscaped(exc) from None


class _Stepped:
    """Drives an awaitable step by step, timing each step.

    A step is the code an async collector runs between two awaits; while it
    runs, the event loop (and every other async collector) waits. The engine
    charges that time to the collector that took it: others' timeouts are
    extended by it, and a collector whose single step outlasts its own
    timeout made a blocking call inside ``async def``.
    """

    def __init__(self, awaitable: Any, engine: CollectionEngine) -> None:
        self._awaitable = awaitable
        self._engine = engine
        self.own = 0.0
        self.longest = 0.0

    def _account(self, started: float) -> None:
        spent = time.perf_counter() - started
        self.own += spent
        self.longest = max(self.longest, spent)
        self._engine.busy += spent

    def __await__(self) -> Any:
        steps = self._awaitable.__await__()
        sending: Any = None
        thrown: BaseException | None = None
        while True:
            started = time.perf_counter()
            try:
                yielded = steps.send(sending) if thrown is None else steps.throw(thrown)
            except StopIteration as stop:
                self._account(started)
                return stop.value
            except asyncio.CancelledError:
                self._account(started)
                if isinstance(thrown, asyncio.CancelledError):
                    raise  # it honoured the engine's cancel
                raise CollectorEscaped(asyncio.CancelledError()) from None
            except Exception:
                self._account(started)
                raise
            except BaseException as exc:
                self._account(started)
                if isinstance(exc, KeyboardInterrupt) and _on_main_thread():
                    raise  # may be a real Ctrl-C
                raise CollectorEscaped(exc) from None
            self._account(started)
            try:
                sending, thrown = (yield yielded), None
            except GeneratorExit:  # closed (a task abandoned with its loop): close it too
                with contextlib.suppress(RuntimeError):  # (one that swallows that as well)
                    steps.close()
                raise
            except BaseException as exc:  # thrown in by the task: a cancel
                sending, thrown = None, exc


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@dataclass(slots=True)
class CollectionEngine:
    """Runs collectors concurrently under one bound, on one executor.

    ``busy`` adds up the time async collectors held the event loop; a
    collector's timeout counts only its own time, not a neighbour's block.
    ``clock`` tells the time outcomes are stamped with (the build's clock);
    durations and timeouts are measured on the monotonic clock.
    """

    executor: Executor | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    default_timeout: float | None = DEFAULT_TIMEOUT
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    busy: float = field(default=0.0, init=False, repr=False)
    _semaphore: asyncio.Semaphore | None = field(default=None, init=False, repr=False)

    async def run(
        self, collectors: Iterable[Collector], *, fail_fast: bool = False
    ) -> list[CollectorOutcome]:
        """Run all ``collectors``; outcomes come back in the same order.

        With ``fail_fast`` the first failure cancels the others and is raised
        as :class:`CollectorError`.
        """
        specs = list(collectors)
        if not specs:
            return []
        self._semaphore = asyncio.Semaphore(max(1, self.concurrency))
        owned: DaemonThreadPool | None = None
        executor = self.executor
        if executor is None and any(not spec.is_async for spec in specs):
            blocking = sum(1 for spec in specs if not spec.is_async)
            workers = max(1, min(self.concurrency, blocking, MAX_THREADS))
            owned = DaemonThreadPool(workers, "dashsite-collector")
            executor = owned
        try:
            return await self._gather(specs, executor, fail_fast)
        finally:
            if owned is not None:
                owned.shutdown(wait=False, cancel_futures=True)

    async def _gather(
        self, specs: Sequence[Collector], executor: Executor | None, fail_fast: bool
    ) -> list[CollectorOutcome]:
        tasks = [
            asyncio.create_task(self._run_one(spec, executor), name=f"collector:{spec.name}")
            for spec in specs
        ]
        try:
            if fail_fast:
                for finished in asyncio.as_completed(tasks):
                    outcome = await finished
                    if outcome.error is not None:
                        raise outcome.error
            return list(await asyncio.gather(*tasks))
        finally:
            pending = [task for task in tasks if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=CANCEL_GRACE * 2)

    async def _run_one(self, spec: Collector, executor: Executor | None) -> CollectorOutcome:
        assert self._semaphore is not None
        async with self._semaphore:
            started_at = self.clock()
            clock = time.perf_counter()
            attempts = 0
            timeout = spec.timeout if spec.timeout is not None else self.default_timeout
            while True:
                attempts += 1
                try:
                    value = await self._attempt(spec, executor, timeout)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if attempts <= spec.retries:
                        await asyncio.sleep(spec.backoff * 2 ** (attempts - 1))
                        continue
                    cause = exc.cause if isinstance(exc, CollectorEscaped) else exc
                    if isinstance(cause, TimeoutError) and not str(cause):
                        cause = TimeoutError(f"no result within {timeout:g} s")
                    return CollectorOutcome(
                        spec.name,
                        None,
                        CollectorError(spec.name, cause),
                        started_at,
                        self.clock(),
                        time.perf_counter() - clock,
                        attempts,
                    )
                return CollectorOutcome(
                    spec.name,
                    value,
                    None,
                    started_at,
                    self.clock(),
                    time.perf_counter() - clock,
                    attempts,
                )

    async def _attempt(
        self, spec: Collector, executor: Executor | None, budget: float | None
    ) -> Any:
        """One attempt, bounded by ``budget`` seconds of the collector's own time."""
        stepped: list[_Stepped] = []
        running: list[float] = []  # when an executor's thread started (and ended) it
        task = asyncio.ensure_future(self._call(spec, executor, stepped, budget, running))
        # In dashsite's own pool a sync collector's time starts when a thread takes it,
        # or after one budget of waiting behind others, whichever comes first: the pool
        # makes room when a call hangs past its timeout (:meth:`DaemonThreadPool.abandon`,
        # up to twice its threads), and an attempt lasts two budgets at most.
        queued = not spec.is_async and isinstance(executor, DaemonThreadPool)
        if isinstance(spec.func, IsolatedCall):
            # Its worker process counts the budget from when the call starts there (not
            # while it waits for a worker, or one starts) and is killed when it runs out.
            budget = None
        began, busy_before = time.perf_counter(), self.busy
        try:
            while True:
                if queued and budget is not None:
                    waited = time.perf_counter() - began
                    if not running and waited < budget:  # (a wait of one budget at most)
                        done, _ = await asyncio.wait(
                            {task}, timeout=min(QUEUED_POLL, budget - waited)
                        )
                        if done:
                            break
                        continue
                    queued = False
                    began = running[0] if running else began + budget
                    busy_before = self.busy
                own = stepped[0].own if stepped else 0.0
                others = (self.busy - busy_before) - own
                remaining = (
                    None if budget is None else budget - (time.perf_counter() - began - others)
                )
                if remaining is not None and remaining <= 0:
                    break
                done, _ = await asyncio.wait({task}, timeout=remaining)
                if done:
                    break
        except asyncio.CancelledError:
            await _stop(task)
            raise
        if not task.done():
            abandon = getattr(executor, "abandon", None)
            if len(running) == 1 and callable(abandon):  # started, not ended: stuck there
                abandon()  # (the pool may start another thread for the work behind it)
            if not await _stop(task):
                raise TimeoutError(
                    f"no result within {budget:g} s, and it did not stop when cancelled "
                    "(does it swallow CancelledError?)"
                )
            raise TimeoutError(f"no result within {budget:g} s")
        value = task.result()
        if budget is not None and stepped and stepped[0].longest > budget:
            raise TimeoutError(
                f"blocked the event loop for {stepped[0].longest:.1f} s in one step "
                f"(timeout {budget:g} s): a blocking call inside 'async def' — "
                "use 'await asyncio.to_thread(...)' or make it a plain 'def' collector"
            )
        return value

    async def _call(
        self,
        spec: Collector,
        executor: Executor | None,
        stepped: list[_Stepped],
        budget: float | None,
        running: list[float],
    ) -> Any:
        if spec.is_async:
            result = _guarded(spec.func)
        else:
            func = spec.func
            if isinstance(func, IsolatedCall):  # its process is killed at the deadline
                func = functools.partial(func.within, budget)
            loop = asyncio.get_running_loop()
            if isinstance(executor, (DaemonThreadPool, ThreadPoolExecutor)):  # in the caller's
                context = contextvars.copy_context()  # context (a request id, a span), as kstlib
                result = await loop.run_in_executor(executor, context.run, _started, func, running)
            else:  # another process or a cluster: a context does not travel
                result = await loop.run_in_executor(executor, _started, func, running)
        if inspect.isawaitable(result):
            stepped.append(_Stepped(result, self))
            result = await stepped[0]
        return result


def _started(func: Callable[[], Any], running: list[float]) -> Any:
    """``_guarded(func)`` in an executor's thread, noting when it began there (and, a
    second entry, that it ended)."""
    running.append(time.perf_counter())
    try:
        return _guarded(func)
    finally:
        running.append(time.perf_counter())


QUEUED_POLL = 0.05
"""Seconds between looks at a sync collector still waiting for a thread of the pool."""

_ABANDONED: set[asyncio.Future[Any]] = set()
"""Tasks that ignored their cancel; kept referenced so they are never reported as leaked."""


async def _stop(task: asyncio.Future[Any]) -> bool:
    """Cancel ``task`` and give it :data:`CANCEL_GRACE` seconds; False if it did not stop."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=CANCEL_GRACE)
    if done:
        if not task.cancelled():
            task.exception()  # retrieved: no "never retrieved" warning
        return True
    _ABANDONED.add(task)
    if hasattr(task, "_log_destroy_pending"):  # told once already (its collector's error):
        task._log_destroy_pending = False  # not again as "destroyed but pending" at exit
    return False


T = TypeVar("T")


def run_coroutine(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, even inside a running loop.

    The coroutine runs on a fresh loop in a daemon helper thread, so the
    caller's thread stays free for Ctrl-C, a running loop there is never
    blocked on itself, and a task that ignores its cancel cannot keep the
    process alive: leftovers get :data:`CANCEL_GRACE` seconds, then are
    abandoned with the loop.
    """
    box: dict[str, Any] = {}
    context = contextvars.copy_context()  # the caller's context variables reach collectors

    def target() -> None:
        try:
            box["value"] = context.run(_run_on_fresh_loop, factory)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="dashsite-loop", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    result: T = box["value"]
    return result


def _run_on_fresh_loop(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        return _until_done(loop, factory())
    finally:
        try:
            leftovers = [task for task in asyncio.all_tasks(loop) if not task.done()]
            if leftovers:
                # Tasks a collector spawned and left (a gather's siblings after one
                # failed, say) finish first if they are quick: a subprocess they run
                # is then reaped on this loop, not reported after it closed.
                _until_done(loop, asyncio.wait(leftovers, timeout=CANCEL_GRACE))
                leftovers = [task for task in leftovers if not task.done()]
            for task in leftovers:
                task.cancel()
            if leftovers:
                _until_done(loop, asyncio.wait(leftovers, timeout=CANCEL_GRACE))
                _ABANDONED.update(task for task in leftovers if not task.done())
            _until_done(loop, _bounded(loop.shutdown_asyncgens()))
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _until_done(loop: asyncio.AbstractEventLoop, awaitable: Awaitable[T]) -> T:
    """``loop.run_until_complete(awaitable)``, resumed when a collector (or a task it
    left) stops the loop (``loop.stop()``): it is not theirs to stop. The work goes on
    where it was; timeouts still hold."""
    done = asyncio.ensure_future(awaitable, loop=loop)
    while True:
        try:
            return loop.run_until_complete(done)
        except RuntimeError:
            if done.done():
                raise  # (the awaited work's own error)


async def _bounded(awaitable: Coroutine[Any, Any, None]) -> None:
    with contextlib.suppress(TimeoutError, asyncio.CancelledError):
        await asyncio.wait_for(awaitable, CANCEL_GRACE)


async def collect(
    collectors: Iterable[Collector],
    *,
    executor: Executor | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    default_timeout: float | None = DEFAULT_TIMEOUT,
    fail_fast: bool = False,
) -> list[CollectorOutcome]:
    """Run ``collectors`` concurrently; see :class:`CollectionEngine`."""
    engine = CollectionEngine(executor, concurrency, default_timeout)
    return await engine.run(collectors, fail_fast=fail_fast)


@dataclass(slots=True)
class DashboardData:
    """One dashboard's collected data: template values, storable JSON, errors, status."""

    dashboard: Dashboard
    values: dict[str, Any]
    stored: dict[str, Any]
    errors: dict[str, str]
    outcomes: list[CollectorOutcome]
    status: StatusLevel
    problems: list[DashboardError] = field(default_factory=list)
    """Failures for the dashboard's code to fix, each naming its collector's file and line."""
    reported: set[str] = field(default_factory=set)
    """Collectors whose failure is one of ``problems`` already (not reported twice)."""


class Offload(Protocol):
    """Somewhere else to run a dashboard's sync collectors (a dask cluster, say).

    One call per dashboard: the collectors go together, as one task.
    """

    async def run(self, dashboard: Dashboard, specs: Sequence[Collector]) -> list[CollectorOutcome]:
        """The outcomes of ``specs``, in their order."""
        ...


async def collect_dashboards(
    dashboards: Sequence[Dashboard],
    config: SiteConfig,
    executor: Executor | None = None,
    *,
    carried: Mapping[str, Mapping[str, Any]] | None = None,
    offload: Offload | None = None,
    clock: Callable[[], datetime] | None = None,
) -> list[list[CollectorOutcome]]:
    """Run every dashboard's collectors at once, under one bound.

    ``carried`` maps a slug to collectors not due in this build (see
    :mod:`dashsite.schedule`), each with an ``outcome()`` to file instead.
    With ``offload`` the sync collectors of each dashboard run there as one
    task; async ones stay on this event loop either way. ``clock`` stamps the
    outcomes (the build's clock; the real one if None).
    """
    with running_user_code():  # (a collector's os._exit ends only its own run)
        return await _collect_dashboards(dashboards, config, executor, carried, offload, clock)


async def _collect_dashboards(
    dashboards: Sequence[Dashboard],
    config: SiteConfig,
    executor: Executor | None,
    carried: Mapping[str, Mapping[str, Any]] | None,
    offload: Offload | None,
    clock: Callable[[], datetime] | None,
) -> list[list[CollectorOutcome]]:
    engine = CollectionEngine(executor, config.concurrency, config.timeout)
    if clock is not None:
        engine.clock = clock
    carried = carried or {}
    here: list[Collector] = []
    owners: list[int] = []  # which dashboard each of ``here`` belongs to
    away: list[Awaitable[list[CollectorOutcome]]] = []
    for number, dashboard in enumerate(dashboards):
        kept = carried.get(dashboard.slug, {})
        running = [spec for spec in dashboard.collectors if spec.name not in kept]
        if offload is not None:  # a YAML dashboard (no dashboard.py) stays here
            shipped = [s for s in running if not s.is_async] if dashboard.module else []
            away.append(offload.run(dashboard, shipped))
            running = [spec for spec in running if spec not in shipped]
        here.extend(running)
        owners.extend([number] * len(running))
    try:
        local, remote = await asyncio.gather(engine.run(here), asyncio.gather(*away))
    finally:
        release()  # the YAML callables' idle worker processes: the next build starts afresh
    found: list[dict[str, CollectorOutcome]] = [
        {o.name: o for o in shipped} for shipped in remote
    ] or [{} for _ in dashboards]
    for number, outcome in zip(owners, local, strict=True):
        found[number][outcome.name] = outcome
    return [
        [
            found[number][spec.name]
            if spec.name in found[number]
            else carried[dashboard.slug][spec.name].outcome()
            for spec in dashboard.collectors
        ]
        for number, dashboard in enumerate(dashboards)
    ]


MAX_ERROR_TEXT = 2000
"""Characters of a collector's error kept in the site (its start and end)."""


def storable_error(message: str) -> str:
    """An error message the site can store and show: valid UTF-8, at most ~2,000 characters.

    Exception text comes from anywhere: a lone surrogate or a megabyte of
    it must fail the collector, never the build.
    """
    text = message.encode("utf-8", "backslashreplace").decode("utf-8")
    return shorten(text, MAX_ERROR_TEXT)


def _defined_at(func: Any, folder: Path) -> tuple[Path, int | None]:
    """Where the dashboard defines collector ``func``: its file and first line when that
    is in the dashboard's folder; else the dashboard's own file, no line (a collector of
    a ``*.monitor.yml`` is made by dashsite, one from an installed library is not the
    user's to edit)."""
    code = getattr(func, "__code__", None)
    own = folder if folder.is_file() else folder / "dashboard.py"
    if code is None:
        return own, None
    defined = Path(code.co_filename)
    if folder.is_dir() and (
        defined.is_relative_to(folder) or defined.is_relative_to(folder.resolve())
    ):
        return defined, code.co_firstlineno
    return own, None


def _raised_at(error: BaseException, func: Any, folder: Path) -> tuple[Path, int | None]:
    """The dashboard's own file and line nearest to where ``error`` was raised: the last
    frame of its traceback inside the dashboard's folder, else where the collector is
    defined (an error sent back by a worker process has no traceback)."""
    found = _defined_at(func, folder)
    inside = tuple({f"{folder}{os.sep}", f"{folder.resolve()}{os.sep}"})
    trace = error.__traceback__
    while trace is not None:
        name = trace.tb_frame.f_code.co_filename
        if name.startswith(inside):
            found = (Path(name), trace.tb_lineno)
        trace = trace.tb_next
    return found


def dashboard_data(
    dashboard: Dashboard, outcomes: list[CollectorOutcome], root: Path
) -> DashboardData:
    """Turn outcomes into template values and storable data.

    A value that cannot be stored (not JSON, a lone surrogate, circular or
    absurdly deep, a number of thousands of digits) fails its collector like
    an exception would, and is kept in ``problems`` as one line naming the
    collector's file and line: the dashboard is still filed, as failed.
    """
    values: dict[str, Any] = {}
    stored: dict[str, Any] = {}
    errors: dict[str, str] = {}
    problems: list[DashboardError] = []
    reported: set[str] = set()

    def fail(name: str, message: str) -> None:
        message = storable_error(message)
        errors[name] = message
        values[name] = CollectorFailure(name, message)
        stored[name] = None

    for spec, outcome in zip(dashboard.collectors, outcomes, strict=True):
        if outcome.error is not None:
            cause = outcome.error.cause
            if isinstance(cause, RenderTypeMisuse):
                # A render type refused what the collector's code gave it (a list for a
                # title): the dashboard's code to fix, at the line it did it. (A short row
                # or a broken image from a source is the data's fault: a failure, below.)
                fail(outcome.name, f"RenderError: {cause.message}")
                reported.add(outcome.name)
                source, line = _raised_at(cause, spec.func, dashboard.folder)
                problems.append(
                    DashboardError(
                        f"collector '{outcome.name}' failed: {cause.message}",
                        path=display(source, root),
                        line=line,
                        hint=cause.hint,
                    )
                )
                continue
            detail = detail_of(cause)
            fail(
                outcome.name,
                f"{type(cause).__name__}: {detail}" if detail else type(cause).__name__,
            )
            continue
        try:
            stored[outcome.name] = to_jsonable(outcome.value, outcome.name)
        except (TypeError, ValueError, RecursionError) as exc:
            reason = f"returned a value that cannot be stored as JSON ({exc})"
            fail(outcome.name, reason)
            reported.add(outcome.name)
            source, line = _defined_at(spec.func, dashboard.folder)
            problems.append(
                DashboardError(
                    f"collector '{outcome.name}' {reason}",
                    path=display(source, root),
                    line=line,
                    hint="return dicts, lists, strings, numbers or dashsite render types",
                )
            )
            continue
        values[outcome.name] = outcome.value
    status = worst_level(values, failed=bool(errors))
    return DashboardData(dashboard, values, stored, errors, outcomes, status, problems, reported)
