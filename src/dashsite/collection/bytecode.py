"""The compiled code of every ``dashboard.py``, kept so a build neither compiles nor re-reads it.

``.dashsite/bytecode/modules.pack`` holds one entry per module path: the source's stat
key (mtime, ctime, size, inode, device), the source's digest and the marshalled code.
A build reads that one file (not a file per module) and trusts a stat that matches the
entry; otherwise it reads and hashes the source and reuses the code if the digest
matches, and compiles only a source it has never seen.

A stat is trusted only when the source's times were :data:`RACY_NS` older than the
file system's clock when the entry was made: a file system that keeps times in coarse
steps (a second, or a kernel tick) could otherwise give an edit made in the same step
the same stat, and the old code would run. Such an entry is checked by its digest
instead. That clock is read from the file system itself (a file in the cache folder,
touched), never from the wall clock: it is the clock that stamps the sources (a network
file system's server's, say), and a build tells the time only by its injected clock.

Each entry is sealed with a digest of its bytes; an entry that is damaged, cut short or
for another path is ignored and rebuilt, never trusted. The pack is written whole
(temporary file, then rename); a single import (``serve --watch`` re-importing one
edited module) writes its own small ``<hash>.entry`` file instead of the whole pack, and
the next build folds those into the pack.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import marshal
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from types import CodeType

from dashsite.store.write import atomic_write

PACK = "modules.pack"
ENTRY_SUFFIX = ".entry"
CLOCK = "clock"
"""The file touched to read the file system's time."""
HEADER = b"dashsite bytecode 1\n" + importlib.util.MAGIC_NUMBER
"""Starts every cache file; another format or another Python's bytecode is not read."""
RACY_NS = 2_000_000_000
"""How much older than the file system's clock a source's times must be for its stat alone
to vouch for it (FAT keeps times in steps of two seconds)."""

StatKey = tuple[int, int, int, int, int]


def stat_key(stat: os.stat_result) -> StatKey:
    """What changes when a file is written or replaced: mtime, ctime, size, inode, device."""
    return (stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size, stat.st_ino, stat.st_dev)


@dataclass
class CacheCounts:
    """How each module's code was found, for tests and the benchmark (never for decisions)."""

    trusted: int = 0
    """By a stat alone: the source was not read."""
    verified: int = 0
    """By the source's digest: read and hashed, not compiled."""
    compiled: int = 0


COUNTS = CacheCounts()


@dataclass(frozen=True, slots=True)
class Entry:
    """One module's cached code and what it was compiled from."""

    key: StatKey
    settled: bool
    """Whether the source's times were :data:`RACY_NS` old when the entry was made."""
    digest: bytes
    code: CodeType


def file_system_now(folder: Path) -> int | None:
    """The time the file system stamps a file with now (ns), from a file in ``folder`` it
    touches; None when it cannot (a read-only project: then no stat is trusted)."""
    clock = folder / CLOCK
    try:
        try:
            os.utime(clock)
        except FileNotFoundError:
            folder.mkdir(parents=True, exist_ok=True)
            clock.touch()
        return clock.stat().st_mtime_ns
    except OSError:
        return None


def source_digest(source: bytes) -> bytes:
    """The digest an entry keeps of its source."""
    return hashlib.blake2b(source, digest_size=16).digest()


def seal(path: str, entry: Entry) -> bytes:
    """``entry`` for ``path`` as stored: a digest of the record, then the record."""
    record = marshal.dumps((path, entry.key, entry.settled, entry.digest, entry.code))
    return hashlib.blake2b(record, digest_size=16).digest() + record


def unseal(path: str, sealed: object) -> Entry | None:
    """The entry in ``sealed`` if it is whole and made for ``path``; None otherwise."""
    if not isinstance(sealed, bytes) or len(sealed) <= 16:
        return None
    record = memoryview(sealed)[16:]
    if hashlib.blake2b(record, digest_size=16).digest() != sealed[:16]:
        return None
    try:
        value = marshal.loads(record)  # noqa: S302 - sealed, and as trusted as dashboard.py
    except (ValueError, EOFError, TypeError):
        return None
    # Whole by its digest; the shape is checked only against another version's records.
    if type(value) is not tuple or len(value) != 5 or value[0] != path:
        return None
    _, key, settled, digest, code = value
    if type(key) is not tuple or type(digest) is not bytes or not isinstance(code, CodeType):
        return None
    return Entry(key, settled is True, digest, code)


def _read(path: Path) -> bytes | None:
    """A cache file's content after its header; None when missing, unreadable or foreign."""
    try:
        with path.open("rb") as file:
            data = file.read()
    except OSError:
        return None
    return data[len(HEADER) :] if data.startswith(HEADER) else None


def read_pack(folder: Path) -> dict[str, bytes]:
    """The pack's sealed entries by path ({} when missing or damaged as a whole)."""
    data = _read(folder / PACK)
    if data is None:
        return {}
    try:
        table = marshal.loads(data)  # noqa: S302 - each entry is checked by unseal
    except (ValueError, EOFError, TypeError):
        return {}
    if not isinstance(table, dict):
        return {}
    return {path: sealed for path, sealed in table.items() if isinstance(path, str)}


_PACKS: dict[Path, tuple[StatKey, dict[str, bytes]]] = {}
_PACKS_LOCK = threading.Lock()


def shared_pack(folder: Path) -> dict[str, bytes]:
    """:func:`read_pack`, read again only when the pack file changed (for single imports:
    ``serve --watch`` re-imports one module at a time and should not read them all each time)."""
    try:
        key = stat_key((folder / PACK).stat())
    except OSError:
        return {}
    with _PACKS_LOCK:
        known = _PACKS.get(folder)
        if known is not None and known[0] == key:
            return known[1]
    table = read_pack(folder)
    with _PACKS_LOCK:
        _PACKS[folder] = (key, table)
    return table


def entry_name(path: str) -> str:
    """The file a single import writes ``path``'s entry to."""
    return hashlib.blake2b(os.fsencode(path), digest_size=16).hexdigest() + ENTRY_SUFFIX


def read_entry(file: Path) -> tuple[str, bytes] | None:
    """A single import's entry file as (path, sealed entry); None if it is not one."""
    data = _read(file)
    if data is None:
        return None
    try:
        value = marshal.loads(data)  # noqa: S302 - the entry is checked by unseal
    except (ValueError, EOFError, TypeError):
        return None
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return value[0], value[1]
    return None


class BytecodeCache:
    """The cache as one import run sees it: entries read once, new ones written at the end.

    ``batch``: a discovery of many modules reads the pack and every entry file and writes
    the pack back when anything changed; otherwise (one module) only that module's
    entry file is written, so re-importing one module never rewrites a thousand.
    """

    def __init__(self, folder: Path, *, batch: bool) -> None:
        self.folder = folder
        self.batch = batch
        self._lock = threading.Lock()  # an abandoned import may still be compiling
        self._sealed: dict[str, bytes] = read_pack(folder) if batch else shared_pack(folder)
        self._entry_files: dict[str, Path] = {}
        if batch:
            with contextlib.suppress(OSError), os.scandir(folder) as entries:
                for item in entries:
                    if item.name.endswith(ENTRY_SUFFIX):
                        found = read_entry(Path(item.path))
                        self._entry_files[item.name] = Path(item.path)
                        if found is not None:
                            self._sealed[found[0]] = found[1]
        self._new: dict[str, Entry] = {}
        self._seen: set[str] = set()
        # Before any source is read: an edit after the read cannot look older than this.
        self._now = file_system_now(folder)

    def _candidates(self, path: str) -> list[Entry]:
        found = []
        if not self.batch:  # a single import's own file is newer than the pack
            own = read_entry(self.folder / entry_name(path))
            if own is not None and (entry := unseal(path, own[1])) is not None:
                found.append(entry)
        entry = unseal(path, self._sealed.get(path))
        if entry is not None:
            found.append(entry)
        return found

    def code(self, path: str) -> CodeType:
        """``path``'s code: cached when its source is unchanged, else compiled (and kept).

        Raises what ``compile`` raises (``SyntaxError``) and ``OSError``.
        """
        stat = os.stat(path)  # noqa: PTH116 - per module, on the hot path: no Path objects
        key = stat_key(stat)
        self._seen.add(path)
        candidates = self._candidates(path)
        for entry in candidates:
            if entry.settled and entry.key == key:
                COUNTS.trusted += 1
                return entry.code
        with open(path, "rb") as file:  # noqa: PTH123 - as above
            source = file.read()
        digest = source_digest(source)
        changed = max(stat.st_mtime_ns, stat.st_ctime_ns)
        settled = self._now is not None and changed + RACY_NS < self._now
        for entry in candidates:
            if entry.digest == digest:
                COUNTS.verified += 1
                if (entry.key, entry.settled) != (key, settled):
                    self._keep(path, Entry(key, settled, digest, entry.code))
                return entry.code
        code = compile(source, path, "exec", dont_inherit=True)
        COUNTS.compiled += 1
        self._keep(path, Entry(key, settled, digest, code))
        return code

    def _keep(self, path: str, entry: Entry) -> None:
        with self._lock:
            self._new[path] = entry

    def save(self) -> None:
        """Write what changed; a read-only project still builds (nothing is written)."""
        with self._lock:
            new, self._new = self._new, {}
        if self.batch and (new or self._entry_files):
            self._save_pack(new)
        elif new:
            for path, entry in new.items():
                with contextlib.suppress(OSError):
                    atomic_write(
                        self.folder / entry_name(path),
                        HEADER + marshal.dumps((path, seal(path, entry))),
                    )

    def _save_pack(self, new: dict[str, Entry]) -> None:
        table = {
            path: sealed
            for path, sealed in self._sealed.items()
            if path in self._seen or Path(path).exists()  # a deleted dashboard's goes
        }
        table.update((path, seal(path, entry)) for path, entry in new.items())
        try:
            atomic_write(self.folder / PACK, HEADER + marshal.dumps(table))
        except OSError:
            return
        for file in self._entry_files.values():  # folded into the pack
            with contextlib.suppress(OSError):
                file.unlink()
        with contextlib.suppress(OSError), os.scandir(self.folder) as entries:
            for item in entries:  # the one-file-per-source cache of earlier versions
                if item.name.endswith(".pyc"):
                    Path(item.path).unlink()
