"""Importing a ``dashboard.py``: isolated, bounded in time, and compiled once.

Each module is imported under its own package name, with its folder first on
``sys.path`` only while it runs, and any helper module it imported from its folder
dropped from ``sys.modules`` afterwards, so two dashboards' ``helpers.py`` never clash.

Every import runs on one worker thread (not one thread per module) with its own
deadline: a module that outlives it keeps that worker, which is abandoned, and the
next import gets a fresh one. The compiled code is cached by the source's hash under
the project's ``.dashsite/bytecode/``, so an unchanged ``dashboard.py`` is compiled
once, not every build (and no ``__pycache__`` appears in the user's dashboards).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import marshal
import os
import queue
import sys
import threading
import traceback
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any, NoReturn

from dashsite.core.errors import DashboardError, display
from dashsite.core.names import DASHBOARD_PACKAGE
from dashsite.store.write import atomic_write, state_folder

_IMPORT_LOCK = threading.Lock()
DEFAULT_IMPORT_TIMEOUT = 30.0
"""Seconds a ``dashboard.py`` may take to import (``import_timeout`` in the config)."""
BYTECODE_FOLDER = "bytecode"


_Jobs = queue.SimpleQueue[tuple[Callable[[], None], threading.Event] | None]


class ImportWorker:
    """One daemon thread that runs the imports, one at a time, each with a deadline.

    The thread ends after :data:`IDLE` seconds without work, so a build leaves none
    behind; the next import starts it again.
    """

    IDLE = 0.5

    def __init__(self) -> None:
        self._jobs: _Jobs | None = None
        self._lock = threading.Lock()
        self.started = 0
        """Threads started so far (one per burst of imports, plus one per stuck module)."""

    def run(self, job: Callable[[], None], timeout: float) -> bool:
        """Run ``job`` on the worker; False if it is still running after ``timeout``."""
        done = threading.Event()
        with self._lock:
            if self._jobs is None:
                self._jobs = queue.SimpleQueue()
                worker = threading.Thread(
                    target=self._loop, args=(self._jobs,), name="dashsite-import", daemon=True
                )
                worker.start()
                self.started += 1
            jobs = self._jobs
            jobs.put((job, done))
        if done.wait(timeout):
            return True
        with self._lock:  # that worker is stuck in the module: leave it, start another
            if self._jobs is jobs:
                self._jobs = None
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


WORKER = ImportWorker()


def compiled(path: Path, cache: Path | None) -> CodeType:
    """``path``'s code, from the cache when its source (and Python) are unchanged."""
    source = path.read_bytes()
    if cache is None:
        return compile(source, str(path), "exec", dont_inherit=True)
    key = hashlib.blake2b(source, digest_size=16)
    key.update(importlib.util.MAGIC_NUMBER)
    key.update(os.fsencode(path))  # the code names its file, for tracebacks
    stored = cache / f"{key.hexdigest()}.pyc"
    with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
        code = marshal.loads(stored.read_bytes())  # noqa: S302 - as trusted as dashboard.py
        if isinstance(code, CodeType):
            return code
    code = compile(source, str(path), "exec", dont_inherit=True)
    with contextlib.suppress(OSError):  # a read-only project still builds
        atomic_write(stored, marshal.dumps(code))
    return code


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


def import_dashboard_module(
    path: Path, slug: str, root: Path | None = None, timeout: float = DEFAULT_IMPORT_TIMEOUT
) -> ModuleType:
    """Import ``dashboard.py`` in isolation; errors name the file and line.

    The module runs on the import worker, given ``timeout`` seconds: a module
    that loops for ever at import is reported and abandoned, and one that
    calls ``sys.exit()`` or ``os._exit()`` fails only its own dashboard.
    """
    folder = str(path.parent)
    package = f"{DASHBOARD_PACKAGE}.{slug.replace('-', '_')}"
    shown = display(path, root)
    with _IMPORT_LOCK:
        before = len(sys.modules)
        _ensure_package(DASHBOARD_PACKAGE, None)
        _ensure_package(package, path.parent)
        spec = importlib.util.spec_from_file_location(f"{package}.dashboard", path)
        assert spec is not None
        module = importlib.util.module_from_spec(spec)
        # In sys.modules while it runs, as any import is: dataclasses (a render type's)
        # look their module up there. Dropped afterwards with the rest it added.
        sys.modules[spec.name] = module
        sys.path.insert(0, folder)
        # No __pycache__ in the user's dashboards/ (and no watcher noise from it).
        writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
        try:
            failure = _run_module(path, bytecode_cache(root), module, timeout, shown)
            if isinstance(failure, SyntaxError):
                raise DashboardError(
                    f"syntax error: {failure.msg}",
                    path=shown,
                    line=failure.lineno,
                    hint="fix the Python syntax",
                )
            if failure is not None:  # SystemExit, KeyboardInterrupt… end this dashboard only
                kind = (
                    "import error" if isinstance(failure, ImportError) else type(failure).__name__
                )
                raise DashboardError(
                    f"{kind} while loading: {failure}",
                    path=shown,
                    line=_line_in(failure.__traceback__, str(path)),
                    hint="fix the module or install what it imports",
                )
        finally:
            sys.dont_write_bytecode = writes_bytecode
            sys.path.remove(folder)
            # sys.modules keeps insertion order: what this import added is at the end.
            added = len(sys.modules) - before
            _forget_modules(set(islice(reversed(sys.modules), max(added, 0))), path.parent)
    return module


class _ExitRefused(BaseException):
    """Raised instead of ending the process when a module calls ``os._exit``."""


def _refuse_exit(status: int) -> NoReturn:
    raise _ExitRefused(f"os._exit({status}) called while loading")


def _run_module(
    path: Path, cache: Path | None, module: ModuleType, timeout: float, shown: str
) -> BaseException | None:
    """Run ``path``'s code in ``module`` on the import worker, bounded by ``timeout``.

    Returns what the module raised (even ``SystemExit``), or None.
    """
    box: list[BaseException] = []

    def job() -> None:
        try:
            exec(compiled(path, cache), module.__dict__)  # noqa: S102 - the user's dashboard.py
        except BaseException as exc:
            box.append(exc)

    hard_exit, os._exit = os._exit, _refuse_exit
    try:
        finished = WORKER.run(job, timeout)
    finally:
        os._exit = hard_exit
    if not finished:
        raise DashboardError(
            f"still loading after {timeout:g} s (a loop or a blocking call at import time?)",
            path=shown,
            hint="move slow work into a collector, or raise import_timeout in dashsite.toml",
        )
    return box[0] if box else None


def _ensure_package(name: str, folder: Path | None) -> None:
    """Register an empty namespace package so relative imports resolve."""
    module = ModuleType(name)
    module.__path__ = [str(folder)] if folder is not None else []
    if name not in sys.modules or folder is not None:
        sys.modules[name] = module


def _forget_modules(names: set[str], folder: Path) -> None:
    """Drop modules loaded from ``folder`` so the next dashboard gets its own."""
    resolved = folder.resolve()
    for name in names:
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        if name.startswith(f"{DASHBOARD_PACKAGE}.") or (
            file and Path(file).resolve().is_relative_to(resolved)
        ):
            sys.modules.pop(name, None)
