"""The collection engine: run every collector at once, each isolated.

Async collectors run as tasks on the loop; blocking sync ones run on an
``Executor`` (a bounded thread pool unless the caller hands in another, e.g.
a dask.distributed client's). One semaphore bounds how many run at a time.
Each collector has its own timeout and retries, and its failure is recorded
under its own name; with ``fail_fast`` the first failure cancels the rest.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .errors import CollectorError, DashboardError, display
from .levels import StatusLevel, worst_level
from .renderables import CollectorFailure
from .serialize import to_jsonable

if TYPE_CHECKING:
    from .config import SiteConfig
    from .discover import Dashboard

DEFAULT_TIMEOUT = 30.0
DEFAULT_CONCURRENCY = 128
MAX_THREADS = 32
"""Sync collectors share at most this many threads (async ones need none)."""
DEFAULT_BACKOFF = 0.2


@dataclass(frozen=True, slots=True)
class Collector:
    """A named no-argument callable, sync or async, with its own limits.

    ``timeout`` is per attempt (``None``: the engine's default); ``retries``
    more attempts follow a failure, ``backoff`` seconds apart, doubling.
    """

    name: str
    func: Callable[[], Any]
    timeout: float | None = None
    retries: int = 0
    backoff: float = DEFAULT_BACKOFF

    @property
    def is_async(self) -> bool:
        """True for coroutine functions (and objects with an async ``__call__``)."""
        call = getattr(self.func, "__call__", None)  # noqa: B004 - looking for async __call__
        return inspect.iscoroutinefunction(self.func) or inspect.iscoroutinefunction(call)


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

    @property
    def ok(self) -> bool:
        """True when the collector returned a value."""
        return self.error is None


@dataclass(slots=True)
class CollectionEngine:
    """Runs collectors concurrently under one bound, on one executor."""

    executor: Executor | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    default_timeout: float | None = DEFAULT_TIMEOUT
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
        owned: ThreadPoolExecutor | None = None
        executor = self.executor
        if executor is None and any(not spec.is_async for spec in specs):
            blocking = sum(1 for spec in specs if not spec.is_async)
            workers = max(1, min(self.concurrency, blocking, MAX_THREADS))
            owned = ThreadPoolExecutor(workers, thread_name_prefix="dashsite-collector")
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
                await asyncio.gather(*pending, return_exceptions=True)

    async def _run_one(self, spec: Collector, executor: Executor | None) -> CollectorOutcome:
        assert self._semaphore is not None
        async with self._semaphore:
            started_at = datetime.now(UTC)
            clock = time.perf_counter()
            attempts = 0
            timeout = spec.timeout if spec.timeout is not None else self.default_timeout
            while True:
                attempts += 1
                try:
                    value = await asyncio.wait_for(self._call(spec, executor), timeout)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if attempts <= spec.retries:
                        await asyncio.sleep(spec.backoff * 2 ** (attempts - 1))
                        continue
                    cause: BaseException = exc
                    if isinstance(exc, TimeoutError) and not str(exc):
                        cause = TimeoutError(f"no result within {timeout:g} s")
                    return CollectorOutcome(
                        spec.name,
                        None,
                        CollectorError(spec.name, cause),
                        started_at,
                        datetime.now(UTC),
                        time.perf_counter() - clock,
                        attempts,
                    )
                return CollectorOutcome(
                    spec.name,
                    value,
                    None,
                    started_at,
                    datetime.now(UTC),
                    time.perf_counter() - clock,
                    attempts,
                )

    @staticmethod
    async def _call(spec: Collector, executor: Executor | None) -> Any:
        if spec.is_async:
            result = spec.func()
        else:
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(executor, spec.func)
        if inspect.isawaitable(result):
            result = await result
        return result


T = TypeVar("T")


def run_coroutine(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, even inside a running loop.

    With no loop running this is ``asyncio.run``; inside one (a notebook, an
    async caller) the coroutine runs on a fresh loop in a helper thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(factory())
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="dashsite-run-sync")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    result: T = box["value"]
    return result


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


COLLECTOR_ATTRIBUTE = "__dashsite_collector__"


F = TypeVar("F", bound=Callable[[], Any])


@overload
def collector(func: F, /) -> F: ...


@overload
def collector(
    *,
    name: str | None = None,
    timeout: float | None = None,
    retries: int = 0,
    backoff: float = DEFAULT_BACKOFF,
) -> Callable[[F], F]: ...


def collector(
    func: F | None = None,
    /,
    *,
    name: str | None = None,
    timeout: float | None = None,
    retries: int = 0,
    backoff: float = DEFAULT_BACKOFF,
) -> F | Callable[[F], F]:
    """Mark a function in ``dashboard.py`` as a collector.

    ``@collector`` uses the function's name as the template variable;
    ``@collector(name="api", timeout=5, retries=2)`` sets it and the limits.
    The function itself is returned unchanged, so it stays testable.
    """

    def mark(target: F) -> F:
        if not callable(target):
            raise TypeError("@collector decorates a function")
        label = name or str(getattr(target, "__name__", "collector"))
        spec = Collector(label, target, timeout, retries, backoff)
        setattr(target, COLLECTOR_ATTRIBUTE, spec)
        return target

    return mark(func) if func is not None else mark


@dataclass(slots=True)
class DashboardData:
    """One dashboard's collected data: template values, storable JSON, errors, status."""

    dashboard: Dashboard
    values: dict[str, Any]
    stored: dict[str, Any]
    errors: dict[str, str]
    outcomes: list[CollectorOutcome]
    status: StatusLevel


async def collect_dashboards(
    dashboards: Sequence[Dashboard], config: SiteConfig, executor: Executor | None = None
) -> list[list[CollectorOutcome]]:
    """Run every dashboard's collectors at once, under one bound."""
    engine = CollectionEngine(executor, config.concurrency, config.timeout)
    flat: list[Collector] = [spec for d in dashboards for spec in d.collectors]
    outcomes = await engine.run(flat)
    grouped: list[list[CollectorOutcome]] = []
    start = 0
    for dashboard in dashboards:
        grouped.append(outcomes[start : start + len(dashboard.collectors)])
        start += len(dashboard.collectors)
    return grouped


def settle(dashboard: Dashboard, outcomes: list[CollectorOutcome], root: Path) -> DashboardData:
    """Turn outcomes into template values and storable data; refuse unstorable data."""
    values: dict[str, Any] = {}
    stored: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec, outcome in zip(dashboard.collectors, outcomes, strict=True):
        if outcome.error is not None:
            cause = outcome.error.cause
            message = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
            errors[outcome.name] = message
            values[outcome.name] = CollectorFailure(outcome.name, message)
            stored[outcome.name] = None
            continue
        try:
            stored[outcome.name] = to_jsonable(outcome.value, outcome.name)
        except TypeError as exc:
            code = getattr(spec.func, "__code__", None)
            source = Path(code.co_filename) if code else dashboard.folder / "dashboard.py"
            raise DashboardError(
                f"collector '{outcome.name}' returned a value that cannot be stored as JSON "
                f"({exc})",
                path=display(source, root),
                line=code.co_firstlineno if code else None,
                hint="return dicts, lists, strings, numbers or dashsite render types",
            ) from None
        values[outcome.name] = outcome.value
    status = worst_level(values, failed=bool(errors))
    return DashboardData(dashboard, values, stored, errors, outcomes, status)
