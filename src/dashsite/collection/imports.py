"""Importing ``dashboard.py`` files: isolated, bounded in time, and compiled once.

Each module is imported under its own package name, with its folder first on
``sys.path`` only while it runs, and any helper module it imported from its folder
dropped from ``sys.modules`` afterwards, so two dashboards' ``helpers.py`` never clash.

Discovery hands every module to one worker thread in one job (not a thread, nor a
handoff, per module); each module still has its own deadline: one that outlives it
keeps that worker, which is abandoned, and the modules after it go to a fresh one.
The code comes from the project's bytecode cache (:mod:`dashsite.collection.bytecode`),
so an unchanged ``dashboard.py`` is neither compiled nor read again (and no
``__pycache__`` appears in the user's dashboards).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec, SourceFileLoader
from itertools import islice
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

from dashsite.collection.bytecode import BytecodeCache
from dashsite.collection.exits import running_user_code
from dashsite.core.errors import DashboardError, DashsiteError, display
from dashsite.core.names import DASHBOARD_PACKAGE
from dashsite.store.write import state_folder

_IMPORT_LOCK = threading.Lock()
DEFAULT_IMPORT_TIMEOUT = 30.0
"""Seconds a ``dashboard.py`` may take to import (``import_timeout`` in the config)."""
BYTECODE_FOLDER = "bytecode"


_Jobs = queue.SimpleQueue[tuple[Callable[[], None], threading.Event] | None]


class ImportWorker:
    """One daemon thread that runs import jobs (a discovery's modules are one job), one at a
    time; the caller keeps the deadlines and abandons a thread stuck in a module.

    The thread ends after :data:`IDLE` seconds without work, so a build leaves none
    behind; the next import starts it again.
    """

    IDLE = 0.5

    def __init__(self) -> None:
        self._jobs: _Jobs | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.started = 0
        """Threads started so far (one per burst of imports, plus one per stuck module)."""

    def submit(self, job: Callable[[], None]) -> tuple[threading.Event, object]:
        """Queue ``job``: the event is set when it has run; the handle is for :meth:`abandon`."""
        done = threading.Event()
        with self._lock:
            if self._jobs is None:
                self._jobs = queue.SimpleQueue()
                worker = threading.Thread(
                    target=self._loop, args=(self._jobs,), name="dashsite-import", daemon=True
                )
                worker.start()
                self._thread = worker
                self.started += 1
            jobs = self._jobs
            jobs.put((job, done))
        return done, jobs

    def abandon(self, handle: object) -> None:
        """Leave the thread that runs ``handle``'s job (stuck in a module); the next job
        starts another."""
        with self._lock:
            if self._jobs is handle:
                self._jobs = None

    def run(self, job: Callable[[], None], timeout: float) -> bool:
        """Run ``job`` on the worker; False if it is still running after ``timeout``."""
        done, handle = self.submit(job)
        if done.wait(timeout):
            return True
        self.abandon(handle)
        return False

    def release(self) -> None:
        """Let the worker end as soon as its jobs are done, not :data:`IDLE` seconds later.

        For a caller that knows no import is coming (a test checking that it leaves no
        thread running); the next import starts a worker again.
        """
        with self._lock:
            jobs, self._jobs = self._jobs, None
        if jobs is not None:
            jobs.put(None)

    def settle(self, timeout: float = 1.0) -> None:
        """:meth:`release`, then wait (up to ``timeout``) for the idle thread to end: a build
        about to fork wants no thread but its own. A thread stuck in a module stays."""
        with self._lock:
            thread = self._thread if self._jobs is not None else None
        self.release()
        if thread is not None:
            thread.join(timeout)

    def _loop(self, jobs: _Jobs) -> None:
        while True:
            try:
                item = jobs.get(timeout=self.IDLE)
            except queue.Empty:
                with self._lock:
                    if jobs.empty():
                        if self._jobs is jobs:
                            self._jobs = None
                        return
                continue
            if item is None:  # released
                return
            job, done = item
            try:
                job()
            finally:
                done.set()
                # Not kept while idle: a job holds its whole import run (and the cache).
                del item, job, done


WORKER = ImportWorker()


def bytecode_cache(root: Path | None) -> Path | None:
    """The project's bytecode cache folder (None outside a project: no cache)."""
    if root is None:
        return None
    try:
        return state_folder(root) / BYTECODE_FOLDER
    except OSError:
        return None


def _line_in(tb: Any, filename: str) -> int | None:
    line = None
    for frame in traceback.extract_tb(tb):
        if frame.filename == filename:
            line = frame.lineno
    return line


def _helper_frame(tb: Any, path: Path) -> traceback.FrameSummary | None:
    """The innermost frame in another file of the dashboard's folder (a ``helpers.py`` it
    imports), when the error was raised there: that file and line are the one to fix."""
    folder = str(path.parent) + os.sep
    frames = traceback.extract_tb(tb)
    mine = [f for f in frames if f.filename.startswith(folder)]
    if not mine or mine[-1].filename == str(path):
        return None
    return mine[-1]


def import_dashboard_module(
    path: Path, slug: str, root: Path | None = None, timeout: float = DEFAULT_IMPORT_TIMEOUT
) -> ModuleType:
    """Import ``dashboard.py`` in isolation; errors name the file and line.

    The module runs on the import worker, given ``timeout`` seconds: a module
    that loops for ever at import is reported and abandoned, and one that
    calls ``sys.exit()`` or ``os._exit()`` fails only its own dashboard.
    """
    (found,) = import_dashboard_modules([(path, slug)], root, timeout, batch=False)
    if isinstance(found, DashboardError):
        raise found
    return found


def import_dashboard_modules(
    modules: Sequence[tuple[Path | str, str]],
    root: Path | None = None,
    timeout: float = DEFAULT_IMPORT_TIMEOUT,
    *,
    batch: bool = True,
) -> list[ModuleType | DashboardError]:
    """Import each ``(dashboard.py, slug)`` in isolation, in order, all in one handoff to the
    import worker; each module's failure (an error naming its file and line, or its
    ``timeout`` running out) is in its place in the list, and the others still load.

    ``batch=False`` for one module re-imported on its own: its cache entry is written
    alone rather than with all the others.
    """
    if not modules:
        return []
    folder = bytecode_cache(root)
    cache = BytecodeCache(folder, batch=batch) if folder is not None else None
    run = _ImportRun(modules, cache, timeout)
    with _IMPORT_LOCK:
        _ensure_package(DASHBOARD_PACKAGE, None)
        # No __pycache__ in the user's dashboards/ (and no watcher noise from it).
        writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
        try:
            with running_user_code():
                run.run_all()
        finally:
            sys.dont_write_bytecode = writes_bytecode
    if cache is not None:
        cache.save()
    return [
        _outcome(Path(path), root, timeout, result)
        for (path, _), result in zip(modules, run.results, strict=True)
    ]


class _TimedOut:
    """A module still running when its deadline passed."""


def _outcome(
    path: Path,
    root: Path | None,
    timeout: float,
    result: ModuleType | BaseException | _TimedOut | None,
) -> ModuleType | DashboardError:
    """A module, or the one-line error its import ended with."""
    if isinstance(result, ModuleType):
        return result
    shown = display(path, root)
    if isinstance(result, SyntaxError):
        return DashboardError(
            f"syntax error: {result.msg}",
            path=shown,
            line=result.lineno,
            hint="fix the Python syntax",
        )
    if isinstance(result, DashsiteError) and result.path is None:  # (a bad @collector(…))
        return DashboardError(
            result.message,
            path=shown,
            line=_line_in(result.__traceback__, str(path)),
            hint=result.hint,
        )
    if isinstance(result, BaseException):  # SystemExit, KeyboardInterrupt… end this dashboard only
        kind = "import error" if isinstance(result, ImportError) else type(result).__name__
        line = _line_in(result.__traceback__, str(path))
        helper = _helper_frame(result.__traceback__, path)
        if helper is not None:  # raised in a module of its own folder it imports: name that
            return DashboardError(
                f"{kind} while loading (imported by {path.name}"
                f"{f':{line}' if line else ''}): {result}",
                path=display(Path(helper.filename), root),
                line=helper.lineno,
                hint="fix the module or install what it imports",
            )
        return DashboardError(
            f"{kind} while loading: {result}",
            path=shown,
            line=line,
            hint="fix the module or install what it imports",
        )
    return DashboardError(
        f"still loading after {timeout:g} s (a loop or a blocking call at import time?)",
        path=shown,
        hint="move slow work into a collector, or raise import_timeout in dashsite.toml",
    )


class _ImportRun:
    """The modules of one import call, run in order by the worker in one job.

    The worker notes which module it is in and that module's deadline; the caller sleeps
    until the whole job is done, waking only when a deadline may have passed. A module
    past its deadline is cut off: the caller records it as timed out, undoes what it
    added to ``sys.path`` and ``sys.modules``, leaves its thread behind and hands the
    modules after it to a fresh worker. The lock and the run token decide who finishes a
    module (its thread or the caller), so a module that wakes up later changes nothing.
    """

    def __init__(
        self,
        modules: Sequence[tuple[Path | str, str]],
        cache: BytecodeCache | None,
        timeout: float,
    ) -> None:
        self.modules = modules
        self.cache = cache
        # Strings, made once: the worker's loop then makes no Path objects.
        self._files = [os.fspath(path) for path, _ in modules]
        self._folders = [os.path.dirname(file) for file in self._files]  # noqa: PTH120
        self.timeout = timeout
        self.results: list[ModuleType | BaseException | _TimedOut | None] = [None] * len(modules)
        self._lock = threading.Lock()
        self._token: object = None
        self._current = -1
        self._deadline = math.inf
        self._before = 0

    def run_all(self) -> None:
        start = 0
        while start < len(self.modules):
            token = object()
            self._token = token
            done, handle = WORKER.submit(functools.partial(self._work, token, start))
            wait = self.timeout
            while not done.wait(wait):
                with self._lock:
                    left = self._deadline - time.monotonic()  # inf between modules
                    if self._current < start or left > 0:
                        wait = min(max(left, 0.01), self.timeout)
                        continue
                    stuck = self._current
                    self._token = None  # the stuck thread may no longer touch the run
                    self._deadline = math.inf
                    self.results[stuck] = _TimedOut()
                    self._undo(stuck, self._before)
                WORKER.abandon(handle)
                start = stuck + 1
                break
            else:
                return

    def _work(self, token: object, start: int) -> None:
        """On the worker: import the modules from ``start`` on, while ``token`` holds."""
        for index in range(start, len(self.modules)):
            file, folder = self._files[index], self._folders[index]
            package = f"{DASHBOARD_PACKAGE}.{self.modules[index][1].replace('-', '_')}"
            with self._lock:
                if self._token is not token:
                    return
                self._current = index
                self._deadline = time.monotonic() + self.timeout
                self._before = before = len(sys.modules)
                _ensure_package(package, folder)
                module = _new_module(f"{package}.dashboard", package, file)
                # In sys.modules while it runs, as any import is: dataclasses (a render
                # type's) look their module up there. Dropped afterwards with the rest it added.
                sys.modules[module.__name__] = module
                sys.path.insert(0, folder)
            result: ModuleType | BaseException = module
            try:
                code = self.cache.code(file) if self.cache is not None else _compile(file)
                exec(code, module.__dict__)  # noqa: S102 - the user's dashboard.py
            except BaseException as exc:  # even SystemExit: it ends this dashboard only
                result = exc
            with self._lock:
                if self._token is not token:  # cut off meanwhile: the caller finished it
                    return
                self._undo(index, before)
                self.results[index] = result
                self._deadline = math.inf  # done: no deadline until the next one starts

    def _undo(self, index: int, before: int) -> None:
        """Take module ``index``'s folder off ``sys.path`` and drop the modules it added."""
        folder = self._folders[index]
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)
        # sys.modules keeps insertion order: what this import added is at the end.
        added = len(sys.modules) - before
        _forget_modules(set(islice(reversed(sys.modules), max(added, 0))), folder)


def _compile(file: str) -> CodeType:
    return compile(Path(file).read_bytes(), file, "exec", dont_inherit=True)


def _new_module(name: str, package: str, file: str) -> ModuleType:
    """A module as an import of ``file`` makes it, without the finders' search."""
    module = ModuleType(name)
    loader = SourceFileLoader(name, file)
    spec = ModuleSpec(name, loader, origin=file)
    spec.has_location = True
    module.__file__ = file
    module.__loader__ = loader
    module.__package__ = package
    module.__spec__ = spec
    return module


def _ensure_package(name: str, folder: str | None) -> None:
    """Register an empty namespace package so relative imports resolve."""
    module = ModuleType(name)
    module.__path__ = [folder] if folder is not None else []
    if name not in sys.modules or folder is not None:
        sys.modules[name] = module


def _forget_modules(names: set[str], folder: str) -> None:
    """Drop modules loaded from ``folder`` so the next dashboard gets its own."""
    prefix = f"{DASHBOARD_PACKAGE}."
    resolved: Path | None = None  # resolved once, and only for a module of another package
    for name in names:
        if name.startswith(prefix):
            sys.modules.pop(name, None)
            continue
        file = getattr(sys.modules.get(name), "__file__", None)
        if not file:
            continue
        if resolved is None:
            resolved = Path(folder).resolve()
        if Path(file).resolve().is_relative_to(resolved):
            sys.modules.pop(name, None)
