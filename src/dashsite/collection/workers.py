"""Where blocking sync collectors run: a bounded pool of daemon threads.

``concurrent.futures.ThreadPoolExecutor`` joins its threads when the
interpreter exits, so one collector stuck in ``time.sleep(10**6)`` keeps a
finished build (and the CI job around it) alive for ever. These threads are
daemons: a collector that outlives its timeout is abandoned, never waited for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from queue import SimpleQueue
from typing import Any, TypeVar

T = TypeVar("T")

_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class DaemonThreadPool(Executor):
    """At most ``max_workers`` daemon threads, started as work arrives."""

    def __init__(self, max_workers: int, name: str = "dashsite-worker") -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._max = max_workers
        self._most = 2 * max_workers
        """Threads at most, those stuck in abandoned calls included (:meth:`abandon`)."""
        self._name = name
        self._jobs: SimpleQueue[_Job | None] = SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Queue ``fn(*args, **kwargs)``; a thread is started if none is idle."""
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a pool that was shut down")
            self._jobs.put((future, fn, args, kwargs))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._max:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return future

    def abandon(self) -> None:
        """A job outlived its timeout and its thread is stuck in it: one more thread may
        start, so that work queued behind it still runs. (Twenty hung calls to a dead
        database must not make a healthy collector of another dashboard time out in
        the queue.)"""
        with self._lock:
            if self._max >= self._most:
                return  # (at twice the pool: queued work waits, its time bounded by the engine)
            self._max += 1
            if not self._closed and self._jobs.qsize() > 0 and len(self._threads) < self._max:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            future, fn, args, kwargs = job
            del job
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # the caller decides what a SystemExit means
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del future, fn, args, kwargs
            self._idle.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking work; idle threads end, busy ones end after their job."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        if cancel_futures:
            pending: list[_Job] = []
            while not self._jobs.empty():
                job = self._jobs.get_nowait()
                if job is not None:
                    pending.append(job)
            for future, *_ in pending:
                future.cancel()
        for _ in threads:
            self._jobs.put(None)
        if wait:
            for thread in threads:
                thread.join()


RUNS_USER_CODE = ("dashsite-import", "dashsite-collector", "dashsite-loop")
"""The names of the threads that run a dashboard's code: an import, a sync collector, the
event loop of async ones."""


def stuck_threads(grace: float = 0.0) -> list[str]:
    """The threads running a dashboard's code (still, ``grace`` seconds on). Asked after a
    collection ended, they are stuck past their timeout (an import or a collector that
    never returns): a thread cannot be stopped, so in a long-lived process (``serve
    --watch``) each one runs on, and one in a busy loop keeps a CPU busy, until it ends."""
    deadline = time.monotonic() + grace
    found = []
    for thread in threading.enumerate():
        if thread.name.startswith(RUNS_USER_CODE) and thread.is_alive():
            thread.join(max(0.0, deadline - time.monotonic()))  # an idle one ends meanwhile
            if thread.is_alive():
                found.append(thread.name)
    return sorted(found)
