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

import ctypes
import ctypes.util
import errno
import fcntl
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Protocol

from dashsite.core.errors import SiteError

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


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


STATE_DIR = ".dashsite"
"""Beside the site: the build lock and the staged copy (git ignores it: ``*``)."""


def state_dir(site: Path) -> Path:
    """The folder beside ``site`` for dashsite's own files, made on first use.

    It holds a ``.gitignore`` of ``*``, so nothing in it ever shows in the
    user's ``git status``.
    """
    folder = site.parent / STATE_DIR
    ignore = folder / ".gitignore"
    if not ignore.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(ignore, b"# dashsite's lock and staging folders; never commit them\n*\n")
    return folder


class BuildLock:
    """An exclusive lock on a site folder, held for the whole build."""

    def __init__(self, site: Path, timeout: float | None = None) -> None:
        self.site = site
        self.path = site.parent / STATE_DIR / f"{site.name}.lock"
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


class SiteFolder:
    """A site folder written file by file, each write contained and atomic.

    A ``private`` folder (a staged site nobody reads yet) skips the
    temporary file: the old file is unlinked and the new one written in
    its place. Identical content is
    never rewritten. (Worker threads were tried for the writes: on both a
    slow disk and tmpfs they lost to plain sequential writes, by the GIL.)
    """

    def __init__(self, path: Path, *, private: bool = False, shown: Path | None = None) -> None:
        self.path = path
        self.shown = shown or path  # the name errors use (a staged copy: the site's)
        self.private = private
        self.written = 0
        self.bytes_written = 0
        self._base = str(path)
        self._checked: set[str] = set()
        self._made: set[str] = set()
        self._fresh: set[str] = set()

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
        """Write one file, inside the folder; identical content is left alone."""
        payload = data.encode("utf-8") if isinstance(data, str) else data
        target = self._target(relative)
        parent = os.path.dirname(target)
        size = -1  # in a folder we just made, nothing is there yet
        if parent not in self._fresh:
            found = _same_content(target, payload)
            if found is None:
                return
            size = found
        if not self.private:
            atomic_write(Path(target), payload)
        else:
            if parent not in self._made:
                self._make_dirs(parent)
            if size >= 0:
                os.unlink(target)
            with open(target, "xb") as out:
                out.write(payload)
        self.written += 1
        self.bytes_written += len(payload)

    def _make_dirs(self, folder: str) -> None:
        """Make ``folder`` and its parents, remembering which ones are new."""
        missing = []
        while folder != self._base and not os.path.isdir(folder):
            missing.append(folder)
            folder = os.path.dirname(folder)
        for new in reversed(missing):
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
        target = contained(self.path, relative)
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)


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
        self.state = site.parent / STATE_DIR
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
