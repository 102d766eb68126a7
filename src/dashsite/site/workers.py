"""A build's per-dashboard stages in worker processes (``dashsite build --jobs``).

After collection, filing a version, retention, status and the history pages
touch one dashboard's files only. A build of many dashboards spends most of
its time there, in Python, so threads would not help: the work is split into
contiguous blocks of dashboards, each run in a forked copy of the build.

Forked, not spawned: a worker starts with everything the build has read and
collected (a spawned one would import, read and collect again). Each worker
sends its events back as they happen (the progress line keeps moving) and,
at the end, what it changed (what that is, is the caller's). The
caller then carries on alone: the latest pages, the index and the manifest
come after every worker has finished, so a page never links to a file a
worker has not written yet.

A worker that dies (killed, out of memory) fails the build with one line; what
it filed is finished by the next build, as after any killed build. A worker
never outlives the build: the kernel kills it when the build process dies
(``PR_SET_PDEATHSIG``), which is why workers are used on Linux only.
"""

from __future__ import annotations

import ctypes
import gc
import math
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any, TypeVar

from dashsite.core.errors import DashsiteError, SiteError
from dashsite.core.reporter import Event, Reporter

MIN_SHARE = 40
"""Dashboards a worker must get to pay for itself: starting one and sending its results back
costs about what filing 5 to 10 dashboards does (measured at 1,000 dashboards, see
docs/explanation/performance.md)."""

T = TypeVar("T")


CPU_QUOTA = Path("/sys/fs/cgroup/cpu.max")
"""A container's CPU quota (cgroup v2): ``200000 100000`` is 2 CPUs, ``max 100000`` none."""


def cpu_count(quota: Path = CPU_QUOTA) -> int:
    """The CPUs this process may use: its affinity, capped by a container's quota
    (``docker --cpus=2`` on a 64-core host is 2, not 64)."""
    if hasattr(os, "sched_getaffinity"):
        found = len(os.sched_getaffinity(0))
    else:
        found = os.cpu_count() or 1
    try:
        limit, period = quota.read_text(encoding="ascii").split()[:2]
        if limit != "max":
            found = min(found, math.ceil(int(limit) / int(period)))
    except (OSError, ValueError, ZeroDivisionError):
        pass  # no quota file (not a container, cgroup v1), or one we do not understand
    return max(1, found)


def jobs_for(requested: int | None, dashboards: int) -> int:
    """How many processes file ``dashboards``: ``requested``, or as many CPUs as pay.

    ``requested`` (``--jobs``) is honoured up to one dashboard a process and
    :func:`most_jobs`; None (the CLI's default) starts a worker only for every
    :data:`MIN_SHARE` dashboards. Off Linux everything runs in the build's process.
    """
    if requested is not None and requested < 1:
        raise ValueError(f"jobs must be 1 or more, not {requested}")
    if not sys.platform.startswith("linux") or dashboards <= 1:
        return 1
    if requested is not None:
        return max(1, min(requested, dashboards, most_jobs()))
    return max(1, min(cpu_count(), dashboards // MIN_SHARE))


JOBS_PER_CPU = 4
"""``--jobs`` beyond this many a CPU is taken as this many (:func:`most_jobs`)."""


def most_jobs() -> int:
    """The most workers a build starts: :data:`JOBS_PER_CPU` a CPU. Each is a copy of a
    build of about 100 MB; ``--jobs 1000`` (a typo for 100, or 10) would fork a
    thousand and gain nothing over a few a CPU."""
    return JOBS_PER_CPU * cpu_count()


def other_threads(grace: float = 0.5) -> list[str]:
    """The threads still running beside this one after ``grace`` seconds (those ending
    anyway, a collection's pool, say, are waited for). A fork copies only the calling
    thread, so a lock another one holds (a collector past its timeout, mid-request)
    would never be released in a worker: with any, a build does not fork."""
    current = threading.current_thread()
    deadline = time.monotonic() + grace
    for thread in threading.enumerate():
        if thread is not current:
            thread.join(max(0.0, deadline - time.monotonic()))
    return sorted(t.name for t in threading.enumerate() if t is not current and t.is_alive())


def blocks(items: Sequence[str], count: int) -> list[list[str]]:
    """``items`` in ``count`` (at least 1) contiguous blocks of near-equal size, in order."""
    size, extra = divmod(len(items), max(1, count))
    found, start = [], 0
    for n in range(count):
        end = start + size + (1 if n < extra else 0)
        found.append(list(items[start:end]))
        start = end
    return [block for block in found if block]


class _Forward:
    """A worker's reporter: each event goes back to the build as it happens."""

    def __init__(self, pipe: Connection) -> None:
        self.pipe = pipe

    def emit(self, event: Event) -> None:
        self.pipe.send(("event", event))


def run_blocks(
    parts: Sequence[Sequence[str]],
    work: Callable[[Sequence[str], Reporter], T],
    reporter: Reporter,
    started: Callable[[], None] | None = None,
) -> list[T]:
    """``work(part, reporter)`` for each part in its own forked process; the results in order.

    ``started`` is called once every worker is forked: the parent can let go of what
    only the workers need (their copies are their own), and take their results over
    into the memory it freed.

    The first failure stops every worker. A :class:`DashsiteError` or an
    ``OSError`` a worker raised is raised here as it was (the CLI's one line
    for each); a worker that died is a :class:`SiteError`; anything else (a
    bug) is a :class:`WorkerFailure` naming it.
    """
    context = get_context("fork")
    parent = os.getpid()
    own = not gc.get_freeze_count()  # a freeze someone else made is left alone
    if own:
        gc.freeze()  # what the workers inherit: their collector never walks it (pages stay shared)
    running: dict[Connection, tuple[int, Any]] = {}
    try:
        for n, part in enumerate(parts):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=_worker, args=(send, part, work, parent), name=f"dashsite-build-{n}"
            )
            process.start()
            send.close()
            running[receive] = (n, process)
        if started is not None:
            started()
        return _gather(running, len(parts), reporter)
    finally:
        for receive, (_, process) in running.items():
            if process.is_alive():
                process.kill()
            process.join()
            receive.close()
        if own:
            gc.unfreeze()


def _gather(running: dict[Connection, tuple[int, Any]], count: int, reporter: Reporter) -> list[T]:
    """Each worker's events as they come, then its result; the first failure stops them all
    (the caller kills what still runs) and is raised here."""
    results: dict[int, T] = {}
    waiting = dict(running)
    while waiting:
        for ready in wait(list(waiting)):
            assert isinstance(ready, Connection)
            n, process = waiting[ready]
            try:
                kind, value = ready.recv()
            except (EOFError, OSError):
                process.join()
                raise SiteError(
                    f"a build worker stopped ({_how(process.exitcode)}) before it finished",
                    hint="run the build again: it finishes what this one filed",
                ) from None
            except Exception as exc:  # what it sent does not read back
                raise WorkerFailure(f"{type(exc).__name__}: {exc}") from None
            if kind == "event":
                reporter.emit(value)
            elif kind == "done":
                results[n] = value
                del waiting[ready]
            elif kind == "oserror":  # the disk is full, say: the CLI's one line for it
                raise OSError(*value)
            elif isinstance(value, DashsiteError):
                raise value
            else:
                raise WorkerFailure(str(value))
    return [results[n] for n in range(count)]


class WorkerFailure(RuntimeError):
    """A worker failed in a way that is not the user's to fix (a bug): the CLI says so."""


def _how(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def _worker(
    pipe: Connection,
    part: Sequence[str],
    work: Callable[[Sequence[str], Reporter], Any],
    parent: int,
) -> None:
    _die_with(parent)
    try:
        payload = _dumps(("done", work(part, _Forward(pipe))))
    except DashsiteError as exc:
        payload = _dumps(("error", exc))
    except OSError as exc:
        payload = _dumps(("oserror", (exc.errno, exc.strerror, exc.filename)))
    except BaseException as exc:  # told to the build, which fails with it
        payload = _dumps(("error", _described(exc)))
    try:
        pipe.send_bytes(payload)
    finally:
        pipe.close()


def _dumps(message: tuple[str, Any]) -> bytes:
    """``message`` pickled; what does not pickle is sent as its description."""
    try:
        return bytes(ForkingPickler.dumps(message))
    except Exception as exc:  # a value no pickle can carry
        return bytes(ForkingPickler.dumps(("error", f"cannot send {message[0]}: {exc!r}")))


def _described(exc: BaseException) -> str:
    """``Type: message`` and where it was raised (the last frame of the traceback)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _die_with(parent: int) -> None:
    """Have the kernel kill this worker when the build's process dies (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # elsewhere the worker stops at its next write to the closed pipe
    if os.getppid() != parent:  # the build died before the line above took effect
        os._exit(1)
