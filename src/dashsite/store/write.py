"""The write stage: every file written atomically, inside the site, under a lock.

``BuildLock`` serialises builds with ``flock`` (released by the kernel when a
process dies, so a ``kill -9`` never leaves a stale lock). ``SiteFolder``
writes one file at a time through a temporary file and a rename, refusing
anything that would land outside its folder; a build writes the site this
way, in place. ``StagedSite`` is for replacing a whole site (``pull``): it
is filled aside, then swapped in with one ``renameat2(RENAME_EXCHANGE)`` on
Linux, or two renames elsewhere (recovered if interrupted), or file by file
where the site folder cannot be renamed (a mount point).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import itertools
import json
import os
import shutil
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

from dashsite.core.errors import SiteError
from dashsite.store import layout
from dashsite.store.layout import STATE_FOLDER

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _load_renameat2() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return None
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    function.restype = ctypes.c_int
    return function


_renameat2 = _load_renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux); False where the system cannot."""
    if _renameat2 is None:
        return False
    result = _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def contained(root: Path, relative: str | Path) -> Path:
    """``root / relative``, refusing anything that would land outside ``root``."""
    rel = Path(relative)
    if rel.is_absolute() or ".." in rel.parts:
        raise SiteError(f"refusing to write outside the site: {relative}")
    target = (root / rel).resolve()
    if not target.is_relative_to(root.resolve()):
        raise SiteError(f"refusing to write outside the site: {relative}")
    return target


def _inside(root: Path, relative: str) -> bool:
    return (root / relative).resolve().is_relative_to(root.resolve())


def atomic_write(path: Path, data: bytes, *, make_parents: bool = True) -> None:
    """Write ``data`` to ``path`` via a temporary file and ``os.replace``.

    The temporary file is created with its final mode in one ``open`` (no
    ``mkstemp`` + ``chmod``); ``make_parents=False`` when the caller knows the
    folder exists (a build makes each folder once).
    """
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_name(str(path))
    try:
        fd = os.open(temp, _CREATE, 0o644)
    except OSError as exc:  # named as the file asked for: the user never gave the temp's name
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    try:
        if _FIX_MODE:
            os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        if isinstance(exc, OSError) and exc.errno is not None and exc.filename == temp:
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_counter = itertools.count()


def _temp_name(target: str) -> str:
    """``.<name>.<pid>.<n>.tmp`` beside ``target``: unique in this process, hidden."""
    folder, name = os.path.split(target)  # a bare name ("out.eml"): the working folder
    return os.path.join(folder, f".{name}.{os.getpid()}.{next(_counter)}.tmp")


def _umask_strips_read() -> bool:
    """Whether this process's umask would take read bits off a 0o644 file."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return bool(int(line.split()[1], 8) & 0o644)
    except (OSError, ValueError):
        pass
    return True  # cannot tell: set the mode explicitly


_FIX_MODE = _umask_strips_read()


"""Beside the site: the build lock and the staged copy (git ignores it: ``*``)."""


def state_dir(site: Path) -> Path:
    """The folder beside ``site`` for dashsite's own files, made on first use."""
    return state_folder(site.parent)


def state_folder(parent: Path) -> Path:
    """``parent/.dashsite``: dashsite's own files (lock, staging, caches), made on first use.

    It holds a ``.gitignore`` of ``*``, so nothing in it ever shows in the
    user's ``git status``.
    """
    folder = parent / STATE_FOLDER
    ignore = folder / ".gitignore"
    if not ignore.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(
            ignore, b"# dashsite's lock, staging and cache folders; never commit them\n*\n"
        )
    return folder


class BuildLock:
    """An exclusive lock on a site folder, held for the whole build."""

    def __init__(self, site: Path, timeout: float | None = None) -> None:
        self.site = site
        self.path = layout.state_file(site, "lock")
        self.timeout = timeout
        self._fd: int | None = None

    def acquire(self, on_wait: object = None) -> None:
        """Wait for the lock (up to ``timeout`` seconds, if set)."""
        state_dir(self.site)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        waited = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    os.close(fd)
                    raise SiteError(
                        f"another build still holds the lock after {self.timeout:g} s",
                        path=self.path,
                        hint="wait for it to finish or raise --lock-timeout",
                    ) from None
                if not waited and callable(on_wait):
                    on_wait()
                waited = True
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        # Releases before this one kept the lock beside the site, in git's view.
        (self.site.parent / f".{self.site.name}.lock").unlink(missing_ok=True)

    def release(self) -> None:
        """Release the lock (the file stays; it is harmless)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> BuildLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


class SiteWriter(Protocol):
    """Where a stage writes pages: a staged site, or the preview folder."""

    path: Path

    def write(self, relative: str, data: bytes | str) -> None:
        """Write one file atomically, inside the site."""
        ...

    def exists(self, relative: str) -> bool:
        """Whether ``relative`` exists."""
        ...

    def remove(self, relative: str) -> None:
        """Delete a file or folder."""
        ...


class ReadOnlySite:
    """A site that is read and never written: what a stage would write is dropped.

    The preview computes status over time from ``site/`` with the build's own
    code; the caches that code keeps current (status files, digests) stay in
    its memory, and ``site/`` is left exactly as the last build left it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.dropped = 0
        """Writes and removals not done."""

    def write(self, relative: str, data: bytes | str) -> None:
        """Drop it."""
        self.dropped += 1

    def exists(self, relative: str) -> bool:
        """Whether ``relative`` exists in the site."""
        return (self.path / relative).exists()

    def remove(self, relative: str) -> None:
        """Leave it."""
        self.dropped += 1


class SiteFolder:
    """A site folder written file by file, each write contained and atomic.

    A ``private`` folder (a staged site nobody reads yet) skips the
    temporary file: the old file is unlinked and the new one written in
    its place. Identical content is
    never rewritten. (Worker threads were tried for the writes: on both a
    slow disk and tmpfs they lost to plain sequential writes, by the GIL.)
    """

    def __init__(
        self,
        path: Path,
        *,
        private: bool = False,
        shown: Path | None = None,
        digests: WrittenDigests | None = None,
    ) -> None:
        self.path = path
        self.shown = shown or path  # the name errors use (a staged copy: the site's)
        self.private = private
        self.digests = digests
        self.written = 0
        self.bytes_written = 0
        self._base = str(path)
        self._checked: set[str] = set()
        self._made: set[str] = set()
        self._fresh: set[str] = set()
        self._again: set[str] = set()
        """Files written in a folder made this build: a second write compares."""

    def _target(self, relative: str) -> str:
        """``relative`` inside the folder, refusing ``..``, absolute paths and links out.

        Each folder on the way is checked once: a symbolic link is resolved
        and must stay inside; a folder that does not exist yet will be made
        by us, so it is safe. (Plain strings: this runs for every file.)
        """
        parts = relative.split("/")
        if not relative or relative.startswith("/") or ".." in parts or "" in parts[:-1]:
            raise SiteError(f"refusing to write outside the site: {relative}")
        folder = relative.rpartition("/")[0]
        if folder and folder not in self._checked:
            prefix = ""
            for part in parts[:-1]:
                prefix = f"{prefix}/{part}" if prefix else part
                if prefix not in self._checked:
                    link = os.path.join(self._base, prefix)
                    if os.path.islink(link) and not _inside(self.path, prefix):
                        raise SiteError(
                            f"is a symbolic link to {os.readlink(link)}, outside the site",
                            path=self.shown / prefix,
                            hint="dashsite writes only inside the site: replace the link "
                            "with a real folder (or move the site where the link points)",
                        )
                    self._checked.add(prefix)
        return os.path.join(self._base, relative)  # a link in the file's place is replaced

    def write(self, relative: str, data: bytes | str) -> None:
        """Write one file, inside the folder; identical content is left alone.

        With :attr:`digests`, a derived page whose content the previous build
        wrote is skipped with no stat and no read, and one whose content changed
        is written without reading the old one.
        """
        payload = data.encode("utf-8") if isinstance(data, str) else data
        target = self._target(relative)
        parent = os.path.dirname(target)
        digests = self.digests
        known = False
        if digests is not None and digests.tracks(relative):
            digest = _digest(payload)
            if digests.unchanged(relative, digest):
                return
            known = relative in digests.previous
        size = -1  # in a folder we just made, nothing is there yet (unless we wrote it)
        if (parent not in self._fresh or target in self._again) and not known:
            found = _same_content(target, payload)
            if found is None:
                return
            size = found
        if parent not in self._made:
            self._make_dirs(parent)
        if not self.private:
            atomic_write(Path(target), payload, make_parents=False)
        else:
            if size >= 0:
                os.unlink(target)
            with open(target, "xb") as out:
                out.write(payload)
        if parent in self._fresh:
            self._again.add(target)
        self.written += 1
        self.bytes_written += len(payload)

    def stage(self, relative: str, data: bytes | str, aside: Path) -> bool:
        """Write ``relative``'s content into the folder ``aside`` now; :meth:`unstage` renames
        it into place later.

        For a page that may appear only after what it links to (a latest page,
        after its version folder and history): held on disk, not in memory, a
        build of 1,000 dashboards held 34 MB of them. ``aside`` must be on the
        site's file system (the store's temporary folder: a killed build's leftovers
        there are deleted by the next). False when the content is unchanged
        (nothing to rename in).
        """
        payload = data.encode("utf-8") if isinstance(data, str) else data
        target = self._target(relative)
        digests = self.digests
        if digests is not None and digests.tracks(relative):
            if digests.unchanged(relative, _digest(payload)):
                return False
        elif _same_content(target, payload) is None:
            return False
        staged = aside / relative.replace("/", "%")
        fd = os.open(staged, _CREATE, 0o644)
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
        self.bytes_written += len(payload)
        return True

    def unstage(self, relative: str, aside: Path) -> None:
        """Rename the content :meth:`stage` put aside into place (atomic, as every write)."""
        target = self._target(relative)
        parent = os.path.dirname(target)
        if parent not in self._made:
            self._make_dirs(parent)
        os.replace(aside / relative.replace("/", "%"), target)
        self.written += 1

    def read(self, relative: str) -> bytes | None:
        """``relative``'s bytes, read inside the folder (None when it cannot be read)."""
        try:
            with open(self._target(relative), "rb") as file:
                return file.read()
        except OSError:
            return None

    def _make_dirs(self, folder: str) -> None:
        """Make ``folder`` and its parents, remembering which ones are new."""
        missing = []
        while not os.path.isdir(folder) and folder != os.path.dirname(folder):
            missing.append(folder)  # the site folder itself too, on a first write
            folder = os.path.dirname(folder)
        for new in reversed(missing):
            with contextlib.suppress(FileExistsError):  # made by another writer meanwhile
                os.mkdir(new)
            self._fresh.add(new)
            self._made.add(new)
        self._made.add(folder)

    def exists(self, relative: str) -> bool:
        """Whether ``relative`` exists in the folder."""
        return os.path.exists(self._target(relative))

    def remove(self, relative: str) -> None:
        """Delete a file or folder inside the folder."""
        self._checked.clear()
        self._made.clear()
        self._fresh.clear()
        self._again.clear()
        target = contained(self.path, relative)
        if self.digests is not None:
            self.digests.forget(relative)
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)


def _digest(payload: bytes) -> str:
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


class WrittenDigests:
    """What the previous build wrote, by content hash: the skip list of the next one.

    Kept beside the site (``.dashsite/<site>.written.json``) for its derived pages
    only (the index, latest and history pages, feeds, badges, incident pages,
    assets): the log and the versions change in other ways. The file is taken
    when a build starts and written again when it ends well, so a build that
    fails or is killed leaves none, and the next one checks every file. It is
    also void when the site folder or its manifest is not the one it recorded
    (a ``pull`` swapped the site in, a hand edit rewrote the manifest).
    """

    TRACKED = frozenset(
        {
            layout.Kind.SITE_PAGE,
            layout.Kind.LATEST,
            layout.Kind.HISTORY,
            layout.Kind.SITE_FILE,
            layout.Kind.DASHBOARD_FILE,
            layout.Kind.ASSET,
        }
    )

    def __init__(self, site: Path) -> None:
        self.site = site
        self.path = layout.state_file(site, "written.json")
        self.previous: dict[str, str] = self._take()
        self.current: dict[str, str] = dict(self.previous)

    def tracks(self, relative: str) -> bool:
        """Whether ``relative`` is a derived page this cache covers."""
        return layout.classify(relative).kind in self.TRACKED

    def unchanged(self, relative: str, digest: str) -> bool:
        """Note ``relative``'s new content; True if the previous build wrote the same."""
        self.current[relative] = digest
        return self.previous.get(relative) == digest

    def forget(self, relative: str) -> None:
        """``relative`` (a file or a folder) is being removed."""
        prefix = relative.rstrip("/") + "/"
        for known in [k for k in self.current if k == relative or k.startswith(prefix)]:
            del self.current[known]

    def under(self, folders: Iterable[str]) -> dict[str, str]:
        """The digests noted so far of the files inside ``folders`` (a worker's dashboards)."""
        tops = set(folders)
        return {k: v for k, v in self.current.items() if k.partition("/")[0] in tops}

    def carry(self, folders: Iterable[str], found: Mapping[str, str]) -> None:
        """Another process wrote ``folders``: its digests of them replace ours."""
        tops = set(folders)
        self.current = {k: v for k, v in self.current.items() if k.partition("/")[0] not in tops}
        self.current.update(found)

    def _token(self) -> list[int] | None:
        try:
            folder = os.stat(self.site)
            manifest = os.stat(self.site / layout.MANIFEST_FILE)
        except OSError:
            return None
        return [folder.st_dev, folder.st_ino, manifest.st_ino, manifest.st_mtime_ns,
                manifest.st_size]  # fmt: skip

    def _take(self) -> dict[str, str]:
        try:
            raw = json.loads(self.path.read_bytes())
            self.path.unlink()
        except (OSError, ValueError, RecursionError):
            return {}
        token = self._token()
        digests = raw.get("digests") if isinstance(raw, dict) else None
        if token is None or raw.get("site") != token or not isinstance(digests, dict):
            return {}
        return {
            k: v
            for k, v in digests.items()
            if isinstance(k, str) and isinstance(v, str) and len(v) == 32
        }

    def save(self) -> None:
        """After a build that ended well: what it left in the site, for the next one."""
        token = self._token()
        if token is None:
            return
        state_dir(self.site)
        body = json.dumps({"site": token, "digests": self.current}, separators=(",", ":"))
        atomic_write(self.path, body.encode())


def _same_content(target: str, payload: bytes) -> int | None:
    """None when ``target`` already holds ``payload``; else its size (-1: missing)."""
    try:
        size = os.stat(target).st_size
    except FileNotFoundError:
        return -1
    if size == len(payload):
        with open(target, "rb") as existing:
            if existing.read() == payload:
                return None
    return size


class StagedSite(SiteFolder):
    """A copy of the site being assembled; ``commit`` makes it the site."""

    def __init__(self, site: Path) -> None:
        self.state = site.parent / STATE_FOLDER
        super().__init__(
            self.state / f"{site.name}.staging-{os.getpid()}-{time.time_ns()}",
            private=True,
            shown=Path(site.name),
        )
        self.site = site
        self.parent = site.parent

    def _leftovers(self) -> list[Path]:
        found = []
        for folder, dot in ((self.state, ""), (self.parent, ".")):  # then where releases
            prefixes = (f"{dot}{self.site.name}.staging-", f"{dot}{self.site.name}.old-")
            if folder.is_dir():
                found += [p for p in folder.iterdir() if p.name.startswith(prefixes)]
        return found

    def recover(self) -> None:
        """Clean up after a build that died (call with the lock held)."""
        olds = sorted(p for p in self._leftovers() if ".old-" in p.name)
        if not self.site.exists() and olds:
            # A two-rename swap was interrupted between its renames: undo it.
            olds[-1].rename(self.site)
        for leftover in self._leftovers():
            shutil.rmtree(leftover, ignore_errors=True)

    def start_empty(self) -> None:
        """Create an empty staging folder (a pull fills it from a target)."""
        state_dir(self.site)
        self.recover()
        self.path.mkdir()

    def commit(self) -> None:
        """Swap the staged folder in as the site; the old one is deleted.

        A site folder that cannot be renamed (a mount point, as a Docker
        volume is: EBUSY) is updated in place instead, file by file.
        """
        if not self.site.exists():
            self.path.rename(self.site)
            return
        try:
            if exchange(self.path, self.site):
                shutil.rmtree(self.path, ignore_errors=True)
                return
            old = self.state / f"{self.site.name}.old-{os.getpid()}-{time.time_ns()}"
            self.site.rename(old)
        except OSError as exc:
            if exc.errno not in (errno.EBUSY, errno.EXDEV):
                raise
            _sync_into(self.path, self.site)
            shutil.rmtree(self.path, ignore_errors=True)
            return
        self.path.rename(self.site)
        shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        """Throw the staged folder away; the site is as it was."""
        shutil.rmtree(self.path, ignore_errors=True)


def _sync_into(staged: Path, site: Path) -> None:
    """Make ``site`` hold what ``staged`` holds, without renaming ``site`` itself.

    Each changed file is replaced atomically, deepest first (versions before
    the pages that link to them), the manifest last; then what the staged
    copy no longer has is removed. Files that are already the same file
    are skipped.
    """
    files: list[str] = []
    for folder, _, names in os.walk(staged):
        relative = os.path.relpath(folder, staged)
        files += [os.path.normpath(os.path.join(relative, name)) for name in names]

    def order(path: str) -> tuple[bool, int, bool]:
        return (path == "manifest.json", -path.count(os.sep), not path.startswith("assets"))

    for relative in sorted(files, key=order):
        source, target = staged / relative, site / relative
        try:
            if os.path.samefile(source, target):
                continue
        except FileNotFoundError:
            pass
        atomic_write(target, source.read_bytes())
    keep = set(files)
    for folder, _dirs, names in os.walk(site, topdown=False):
        relative = os.path.relpath(folder, site)
        for name in names:
            path = os.path.normpath(os.path.join(relative, name))
            if path not in keep:
                (site / path).unlink(missing_ok=True)
        if relative != "." and not os.listdir(folder):
            os.rmdir(folder)
