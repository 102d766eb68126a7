"""File watching: watchdog events in, quiet batches of changed paths out.

The rest of dashsite never sees raw events. Editors fire storms (a save is
often write + chmod + close; an atomic save is a temp file renamed over the
target; a ``git checkout`` touches fifty files): :class:`ChangeBatcher`
folds them into one set of paths once the tree has been quiet for a moment.
Tests feed the batcher directly with scripted changes.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".venv",
        "node_modules",
        ".idea",
        ".vscode",
    }
)
IGNORED_SUFFIXES = (
    ".swp",
    ".swx",
    ".swo",
    ".swpx",
    ".tmp",
    ".pyc",
    ".pyo",
    "~",
    ".bak",
    ".crswap",
    ".kate-swp",
    ".part",
)
IGNORED_PREFIXES = (".#", "#", ".~lock", ".goutputstream")
VIM_PROBE = "4913"  # vim writes and deletes this to test a folder is writable
QUIET_SECONDS = 0.02
MAX_WAIT_SECONDS = 1.0


def is_noise(path: Path) -> bool:
    """Editor swap/backup/temp files and tool caches: never a reason to rebuild."""
    name = path.name
    if name == VIM_PROBE or name.startswith(IGNORED_PREFIXES) or name.endswith(IGNORED_SUFFIXES):
        return True
    if name.startswith(".") and ".tmp" in name:  # our own and many editors' atomic writes
        return True
    return any(part in IGNORED_DIRS for part in path.parts)


@dataclass(frozen=True, slots=True)
class FileChange:
    """One path that changed; ``deleted`` when it no longer exists."""

    path: Path
    deleted: bool = False


class ChangeBatcher:
    """Collects changed paths from any thread; hands them out in quiet batches."""

    def __init__(self, quiet: float = QUIET_SECONDS, max_wait: float = MAX_WAIT_SECONDS) -> None:
        self.quiet = quiet
        self.max_wait = max_wait
        self._paths: dict[Path, None] = {}
        self._first = 0.0
        self._last = 0.0
        self._condition = threading.Condition()
        self._closed = False

    def add(self, path: Path) -> None:
        """Note that ``path`` changed (created, modified, moved or deleted)."""
        with self._condition:
            now = time.monotonic()
            if not self._paths:
                self._first = now
            self._last = now
            self._paths[path] = None
            self._condition.notify_all()

    def close(self) -> None:
        """Wake up and end :meth:`next_batch` for good."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def next_batch(self) -> list[FileChange] | None:
        """Block until a batch is ready; ``None`` once closed."""
        with self._condition:
            while True:
                if self._closed:
                    return None
                if not self._paths:
                    self._condition.wait()
                    continue
                now = time.monotonic()
                ready_at = min(self._last + self.quiet, self._first + self.max_wait)
                if now < ready_at:
                    self._condition.wait(ready_at - now)
                    continue
                paths, self._paths = list(self._paths), {}
                break
        # Decide "deleted" when the batch is taken, so delete+create reads as a change.
        return [FileChange(path, deleted=not path.exists()) for path in paths]


class _Forward(FileSystemEventHandler):
    def __init__(self, accept: Callable[[Path], None]) -> None:
        self.accept = accept

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in {"opened", "closed_no_write"}:
            return
        if event.is_directory and event.event_type == "modified":
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                self.accept(Path(os.fsdecode(raw)))


class FileWatcher:
    """Watches folders with watchdog and feeds a :class:`ChangeBatcher`.

    ``targets`` are ``(folder, recursive)`` pairs; ``ignore`` drops paths
    (the preview and site folders, say) on top of :func:`is_noise`. A target
    that does not exist yet (no ``incidents/`` in a new project, no ``site/``
    before the first build) is watched from the moment it appears: an event
    in a watched folder is the cue to look for it.
    """

    def __init__(
        self,
        targets: Iterable[tuple[Path, bool]],
        batcher: ChangeBatcher,
        *,
        ignore: Callable[[Path], bool] = lambda _: False,
        poll: bool = False,
    ) -> None:
        self.batcher = batcher
        self.ignore = ignore
        self.observer: BaseObserver = PollingObserver(timeout=0.25) if poll else Observer()
        self._handler = _Forward(self._accept)
        self._watched: set[Path] = set()
        self._waiting: dict[Path, bool] = {}
        self._lock = threading.Lock()
        for folder, recursive in targets:
            self.watch(folder, recursive)

    def watch(self, folder: Path, recursive: bool) -> None:
        """Watch ``folder`` too (now, or once it exists); a folder watched already is kept.

        The observer is asked outside this watcher's lock: it may hold its own while it
        hands events to :meth:`_accept` (which calls this), and two locks taken in both
        orders would deadlock."""
        with self._lock:
            if folder in self._watched:
                return
            if not folder.is_dir():
                self._waiting[folder] = recursive
                return
            self._waiting.pop(folder, None)
            self._watched.add(folder)  # (claimed: another caller returns above)
        try:
            self.observer.schedule(self._handler, str(folder), recursive=recursive)
        except OSError:  # gone again meanwhile: looked for at the next event
            with self._lock:
                self._watched.discard(folder)
                self._waiting[folder] = recursive

    def _accept(self, path: Path) -> None:
        if self._waiting:
            for folder, recursive in list(self._waiting.items()):
                if folder.is_dir():
                    self.watch(folder, recursive)
                    if recursive and folder != path:  # its files made before it was watched
                        self.batcher.add(folder)
        if not is_noise(path) and not self.ignore(path):
            self.batcher.add(path)

    def start(self) -> None:
        """Start watching (in watchdog's threads)."""
        self.observer.start()

    def stop(self) -> None:
        """Stop watching and wait for watchdog's threads to end."""
        self.observer.stop()
        self.observer.join(timeout=5)
        self.batcher.close()
