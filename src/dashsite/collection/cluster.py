"""Collectors on a dask.distributed cluster (the ``dashsite[dask]`` extra).

``executor = "dask"`` sends each dashboard's sync collectors to the cluster
as **one task** (a task costs the scheduler several milliseconds, so one per
collector would cost more than a quick collector). On the worker the task
imports the dashboard's ``dashboard.py`` from the same path (cached while the
file is unchanged) and runs those collectors with the ordinary engine: each
has its own timeout and retries, and one failure fails only that collector.
Async collectors stay on the build's event loop: they wait on I/O, which one
loop does for thousands at once, and shipping them would only add a task.

What can go wrong on a cluster fails only the dashboards it touches, with a
line saying why: a worker that dies mid-task (``os._exit``, out of memory),
a value that cannot be pickled back, a dashboard file the worker cannot see,
no workers at all. Every task has a deadline and is cancelled on the cluster
when it passes, so a build never waits for ever.

:class:`DaskExecutor` is the same cluster behind the ``concurrent.futures``
interface, for :class:`~dashsite.MonitoringService` (``executor=``): every
call is its own task (``pure=False``: dask would otherwise run a
zero-argument function once and hand every caller the same result), and
cancelling the returned future cancels the task on the cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import math
import os
import pickle
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from dashsite.collection.collector import Collector
from dashsite.collection.engine import CollectionEngine, CollectorOutcome, run_coroutine
from dashsite.collection.remote import WorkerLost, remote_exception
from dashsite.core.errors import CollectorError, ConfigError, DashboardError, display
from dashsite.core.reporter import Event, Reporter
from dashsite.core.scheduler_address import EXAMPLE, NotAScheduler, probe

if TYPE_CHECKING:
    from dashsite.collection.dashboard import Dashboard
    from dashsite.core.config import SiteConfig

T = TypeVar("T")

DEADLINE_GRACE = 60.0
"""Seconds a task may take beyond its collectors' own limits (queueing, start-up)."""
CONNECT_TIMEOUT = 20.0
"""Seconds to reach a scheduler, and to wait for its first worker."""
LOCAL_THREADS = 4
"""Threads per worker process of a local cluster: enough to overlap a few waits, few
enough that CPU-bound collectors do not starve the worker's own event loop of the GIL
(measured on 2 cores, 40 CPU-bound collectors: 16 threads 1.56x faster than one
process, 4 threads 1.65x; 2,000 dashboards sleeping 50 ms: 4 threads 1.5x slower
than 32 local threads)."""
LOCAL_SCHEDULER = {
    # A task that killed its worker is retried once on another, then reported.
    "distributed.scheduler.allowed-failures": 1,
    # Send every task to a worker at once instead of one per free thread: no
    # scheduler round trip per dashboard (a build's tasks are all known up front).
    "distributed.scheduler.worker-saturation": "inf",
}


def _distributed() -> Any:
    """The ``distributed`` package, or a one-line error saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise ConfigError(
            'executor = "dask" needs dask.distributed, which is not installed',
            hint="pip install 'dashsite[dask]'",
        ) from None
    return distributed


class DaskExecutor(Executor):
    """A dask ``Client`` as a ``concurrent.futures.Executor``.

    Unlike ``Client.get_executor()``: calls are never deduplicated, and a
    cancelled future (a collector's timeout) cancels its task on the cluster.
    """

    def __init__(self, client: Any) -> None:
        self._client = client

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` as a new task on the cluster."""
        remote = self._client.submit(fn, *args, pure=False, **kwargs)
        local: Future[T] = Future()

        def landed(done: Any) -> None:
            if not local.set_running_or_notify_cancel():
                return  # cancelled here first; the task was cancelled there too
            try:
                local.set_result(done.result())
            except BaseException as exc:  # the task's own exception, or the cluster's
                local.set_exception(exc)

        def dropped(future: Future[T]) -> None:
            if future.cancelled():
                remote.cancel()

        local.add_done_callback(dropped)
        remote.add_done_callback(landed)
        return local

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """The client belongs to the caller: nothing to stop here."""


@dataclass(frozen=True, slots=True)
class Shipped:
    """One collector's outcome as it travels back from a worker.

    The value is pickled by the worker itself (cloudpickle, so a class
    defined in ``dashboard.py`` travels by value), so a value that cannot be
    sent, or read back, fails its own collector, not the whole dashboard.
    """

    name: str
    payload: bytes | None
    error: tuple[str, str] | None
    """The exception's type name and message."""
    started_at: datetime
    finished_at: datetime
    duration: float
    attempts: int


_LOADED: dict[str, tuple[tuple[int, int], dict[str, Collector]]] = {}
_LOADED_LOCK = threading.Lock()


def _collectors_at(path: str, slug: str) -> dict[str, Collector]:
    """The collectors of the ``dashboard.py`` at ``path``, imported once per change."""
    from dashsite.collection.discover import collectors_of
    from dashsite.collection.imports import import_dashboard_module

    stat = Path(path).stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _LOADED_LOCK:
        cached = _LOADED.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    module = import_dashboard_module(Path(path), slug)
    found = {spec.name: spec for spec in collectors_of(vars(module), path)}
    with _LOADED_LOCK:
        _LOADED[path] = (stamp, found)
    return found


def _dumps() -> Callable[[Any], bytes]:
    """cloudpickle's ``dumps`` (dask brings it), else pickle's."""
    try:
        module = importlib.import_module("cloudpickle")
    except ImportError:
        return pickle.dumps
    dumps: Callable[[Any], bytes] = module.dumps
    return dumps


def run_on_worker(
    path: str, slug: str, names: Sequence[str], timeout: float | None, concurrency: int
) -> list[Shipped]:
    """The task a worker runs: import the dashboard, run the named sync collectors."""
    dumps = _dumps()
    try:
        known = _collectors_at(path, slug)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path} is not on this worker: workers must see the dashboards at the same "
            "path as the build (the same checkout location, or a shared volume)"
        ) from None
    except DashboardError as exc:
        raise RuntimeError(f"on the worker: {exc.one_line()}") from None
    missing = [name for name in names if name not in known]
    if missing:
        raise RuntimeError(
            f"{path} on the worker has no collector {', '.join(map(repr, missing))}: "
            "is the worker's copy of the dashboards out of date?"
        )
    specs = [known[name] for name in names]
    engine = CollectionEngine(None, concurrency, timeout)
    outcomes = run_coroutine(lambda: engine.run(specs))
    shipped = []
    for outcome in outcomes:
        payload: bytes | None = None
        error = None
        if outcome.error is not None:
            cause = outcome.error.cause
            error = (type(cause).__name__, str(cause))
        else:
            try:
                payload = dumps(outcome.value)
            except Exception as exc:
                error = (
                    "PicklingError",
                    f"returned a value that cannot be sent back from the dask worker ({exc}); "
                    "return plain data or dashsite render types",
                )
        shipped.append(
            Shipped(
                outcome.name,
                payload,
                error,
                outcome.started_at,
                outcome.finished_at,
                outcome.duration,
                outcome.attempts,
            )
        )
    return shipped


def budget(spec: Collector, default_timeout: float | None) -> float:
    """The longest a collector may take on a worker, retries and back-off included."""
    timeout = spec.timeout if spec.timeout is not None else default_timeout
    if timeout is None:
        return math.inf
    backoff = sum(spec.backoff * 2.0**n for n in range(spec.retries))
    return float(timeout * (spec.retries + 1) + backoff)


class DaskOffload:
    """Runs each dashboard's sync collectors on a dask cluster, one task per dashboard."""

    def __init__(self, client: Any, root: Path, timeout: float | None, concurrency: int) -> None:
        self._client = client
        self._executor = DaskExecutor(client)
        self._root = root
        self._timeout = timeout
        self._concurrency = concurrency
        self._slots = max(1, sum(client.nthreads().values()))
        self._queued = 0

    async def run(self, dashboard: Dashboard, specs: Sequence[Collector]) -> list[CollectorOutcome]:
        """The outcomes of ``specs``, run on the cluster; failures are per collector."""
        if not specs:
            return []
        self._queued += 1
        started = datetime.now().astimezone()
        path = str((dashboard.folder / "dashboard.py").resolve())
        names = [spec.name for spec in specs]
        rounds = math.ceil(self._queued / self._slots)
        deadline = max(budget(spec, self._timeout) for spec in specs) * rounds + DEADLINE_GRACE
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            self._executor,
            run_on_worker,
            path,
            dashboard.slug,
            names,
            self._timeout,
            self._concurrency,
        )
        try:
            shipped: list[Shipped] = await asyncio.wait_for(
                future, None if math.isinf(deadline) else deadline
            )
        except TimeoutError:
            return _all_failed(
                specs,
                TimeoutError(
                    f"no result from the dask cluster within {deadline:g} s "
                    "(workers busy, stuck or gone?); the task was cancelled"
                ),
                started,
            )
        except Exception as exc:
            return _all_failed(specs, self._explain(exc, dashboard), started)
        return [_landed(item) for item in shipped]

    def _explain(self, exc: Exception, dashboard: Dashboard) -> Exception:
        if type(exc).__name__ == "KilledWorker":
            return WorkerLost(
                f"the dask worker running {display(dashboard.folder, self._root)}'s collectors "
                "died (os._exit, a crash or out of memory?), also on retry"
            )
        if type(exc).__module__.startswith(("distributed", "tornado")):
            return WorkerLost(f"the dask cluster failed this task: {type(exc).__name__}: {exc}")
        return exc


def _landed(item: Shipped) -> CollectorOutcome:
    error: CollectorError | None = None
    value: Any = None
    if item.error is not None:
        error = CollectorError(item.name, remote_exception(*item.error))
    elif item.payload is not None:
        try:
            value = pickle.loads(item.payload)  # noqa: S301 - our own worker's bytes
        except Exception as exc:
            error = CollectorError(
                item.name,
                remote_exception(
                    "UnpicklingError",
                    f"its value came back from the dask worker but cannot be read here ({exc})",
                ),
            )
    return CollectorOutcome(
        item.name,
        value,
        error,
        item.started_at,
        item.finished_at,
        item.duration,
        item.attempts,
    )


def _all_failed(
    specs: Sequence[Collector], cause: Exception, started: datetime
) -> list[CollectorOutcome]:
    now = datetime.now().astimezone()
    spent = (now - started).total_seconds()
    return [
        CollectorOutcome(spec.name, None, CollectorError(spec.name, cause), started, now, spent, 1)
        for spec in specs
    ]


QUIET_LOGGERS = ("distributed", "tornado")
"""Their records (multi-line, with tracebacks) stay off the terminal during a build:
each failure they describe is reported as one line, by the collectors it fails."""


@contextlib.contextmanager
def quiet_logs(names: Sequence[str] = QUIET_LOGGERS) -> Iterator[None]:
    """Drop the records of ``names`` (and their children) while inside."""
    saved = []
    for name in names:
        logger = logging.getLogger(name)
        saved.append((logger, logger.handlers[:], logger.propagate))
        logger.handlers[:] = [logging.NullHandler()]
        logger.propagate = False
    try:
        yield
    finally:
        for logger, handlers, propagate in saved:
            logger.handlers[:] = handlers
            logger.propagate = propagate


@contextlib.contextmanager
def dask_cluster(config: SiteConfig, reporter: Reporter) -> Iterator[DaskOffload]:
    """A client for the configured scheduler, or a local cluster for this build only."""
    distributed = _distributed()
    with quiet_logs(), _cluster(config, reporter, distributed) as offload:
        yield offload


@contextlib.contextmanager
def _cluster(config: SiteConfig, reporter: Reporter, distributed: Any) -> Iterator[DaskOffload]:
    import dask

    cluster: Any = None
    if config.scheduler:
        shown = display(config.source, config.root) if config.source else None
        try:
            probe(config.scheduler)
        except NotAScheduler as exc:
            raise ConfigError(
                f"'scheduler': {exc}",
                path=shown,
                hint="check the address and port `dask scheduler` printed (tcp://host:8786)",
            ) from None
        except OSError as exc:  # refused, unreachable, no such host
            raise ConfigError(
                f"cannot reach the dask scheduler at {config.scheduler} ({exc.strerror or exc})",
                path=shown,
                hint="start one with `dask scheduler` and `dask worker ADDRESS`, "
                "or leave out scheduler for a local cluster",
            ) from None
        try:
            client = distributed.Client(config.scheduler, timeout=CONNECT_TIMEOUT)
        except ValueError as exc:  # an address distributed does not take
            raise ConfigError(
                f"'scheduler' {config.scheduler!r}: {exc}",
                path=shown,
                hint=f'use an address like "{EXAMPLE}"',
            ) from None
        except (OSError, TimeoutError) as exc:
            raise ConfigError(
                f"cannot reach the dask scheduler at {config.scheduler} ({exc})",
                hint="start one with `dask scheduler` and `dask worker ADDRESS`, "
                "or leave out scheduler for a local cluster",
            ) from None
        where = config.scheduler
    else:
        workers = config.workers or os.cpu_count() or 1
        threads = LOCAL_THREADS
        with dask.config.set(LOCAL_SCHEDULER):
            cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=threads,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        client = distributed.Client(cluster)
        where = f"a local cluster ({workers} worker processes, {threads} threads each)"
    try:
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError):
            raise ConfigError(
                f"the dask scheduler at {where} has no workers",
                hint="start some with `dask worker ADDRESS`",
            ) from None
        reporter.emit(Event("notice", message=f"collecting on {where}"))
        yield DaskOffload(client, config.root, config.timeout, config.concurrency)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
