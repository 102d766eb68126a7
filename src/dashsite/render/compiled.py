"""The code of compiled templates, kept on disk so a build does not compile the theme again.

Compiling the theme's templates (the layout, the dashboard page, the status macros, the
history, the index, the feeds) took about 100 ms of every build, in every process of
``build --jobs``, whatever the site's size: more than rendering a small site.

``.dashsite/bytecode/templates/<key>.code`` holds one template's code. The key hashes
the source, the environment's set-up that the generated code depends on (its syntax,
autoescape, the filters and tests by name), and what it was compiled with: dashsite's,
Jinja2's and Python's releases, and the source of the modules that define the filters
(Jinja2 calls a filter on constants when it compiles). Another key is another file:
an edited template, layout or filter is compiled again, never run as it was.

Each file is a header, a digest of what follows, then the marshalled ``(code, name)``.
A file that is damaged, cut short or written by another release is ignored and written
again. These are local state, as trusted as ``dashboard.py`` (beside the modules'
bytecode, :mod:`dashsite.collection.bytecode`): never published nor pulled.

A file's time says when it was last used (a build that reads it marks it, once a day).
Past :data:`KEEP` files, those unused for :data:`UNUSED_FOR` go (the sources a
``serve --watch`` session went through); a site's own templates stay, however many
dashboards it has. Past :data:`MOST`, the least recently used go whatever their age.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import marshal
import os
import sys
import time
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from types import CodeType

from dashsite.store.write import atomic_write

TEMPLATES_FOLDER = "templates"
"""In the project's bytecode folder (beside the modules' pack)."""
HEADER = b"dashsite template code 1\n" + importlib.util.MAGIC_NUMBER
"""Starts every file; another format or another Python's bytecode is not read."""
SUFFIX = ".code"
KEEP = 512
"""Files kept whatever their age; past it, a write removes those unused for :data:`UNUSED_FOR`."""
UNUSED_FOR = 7 * 86400
"""Seconds without a build reading a file before it may go (past :data:`KEEP` files)."""
MOST = 8192
"""Files at most: past it, a write removes the least recently used (down to nine tenths)."""
MARK_AFTER = 86400
"""A file read is marked used again (its time set to now) when its mark is older than this."""
TRIM_EVERY = 256
"""Writes between two looks at the folder (a cold cache writes a file a template)."""

_SOURCES: dict[str, str] = {}
FOLDED_LIBRARIES = ("jinja2", "markupsafe", "markdown", "nh3")
"""Libraries a filter folded into the code at compile time may call (``| markdown``)."""


@functools.cache
def release(name: str) -> str:
    """The installed release of the distribution ``name`` (``-``: not installed)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def library_versions() -> str:
    """The releases of :data:`FOLDED_LIBRARIES`, in one line."""
    return ", ".join(f"{name} {release(name)}" for name in FOLDED_LIBRARIES)


def module_sources(modules: Iterable[str]) -> str:
    """A digest of the source files of ``modules`` (by name), read once a process."""
    digest = hashlib.blake2b(digest_size=16)
    for name in sorted(set(modules)):
        found = _SOURCES.get(name)
        if found is None:
            module = sys.modules.get(name)
            path = getattr(module, "__file__", None)
            try:
                source = Path(path).read_bytes() if isinstance(path, str) else b""
            except OSError:
                source = b""
            found = hashlib.blake2b(source, digest_size=16).hexdigest() if source else "-"
            _SOURCES[name] = found
        digest.update(f"{name}={found}\n".encode())
    return digest.hexdigest()


class CodeFolder:
    """One folder of compiled templates (:data:`HEADER` files named by their key)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._puts = 0

    def get(self, key: str) -> tuple[CodeType, str | None] | None:
        """The code kept for ``key`` and the template name it was compiled as, if whole."""
        path = self.folder / f"{key}{SUFFIX}"
        try:
            with path.open("rb") as file:
                data = file.read()
                used = os.fstat(file.fileno()).st_mtime
        except OSError:
            return None
        if time.time() - used > MARK_AFTER:  # in use: not what a trim removes
            with contextlib.suppress(OSError):
                os.utime(path)
        if not data.startswith(HEADER) or len(data) <= len(HEADER) + 16:
            return None
        digest, record = data[len(HEADER) : len(HEADER) + 16], data[len(HEADER) + 16 :]
        if hashlib.blake2b(record, digest_size=16).digest() != digest:
            return None
        try:
            value = marshal.loads(record)  # noqa: S302 - sealed local state, as dashboard.py
        except (ValueError, EOFError, TypeError):
            return None
        if type(value) is not tuple or len(value) != 3 or value[0] != key:
            return None
        _, code, name = value
        if not isinstance(code, CodeType) or not (name is None or isinstance(name, str)):
            return None
        return code, name

    def put(self, key: str, code: CodeType, name: str | None) -> None:
        """Keep ``code``; a folder that cannot be written (read-only, full) is left as it is."""
        record = marshal.dumps((key, code, name))
        data = HEADER + hashlib.blake2b(record, digest_size=16).digest() + record
        with contextlib.suppress(OSError):
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write(self.folder / f"{key}{SUFFIX}", data)
            if self._puts % TRIM_EVERY == 0:
                self._trim()
            self._puts += 1

    def _trim(self) -> None:
        """Past :data:`KEEP` files, remove those unused for :data:`UNUSED_FOR`; past
        :data:`MOST`, the least recently used too."""
        with os.scandir(self.folder) as entries:
            files = [e for e in entries if e.name.endswith(SUFFIX)]
        if len(files) <= KEEP:
            return
        by_use = sorted((e.stat().st_mtime, e.path) for e in files)
        unused = time.time() - UNUSED_FOR
        doomed = [path for used, path in by_use[: len(files) - KEEP] if used < unused]
        if len(files) - len(doomed) > MOST:  # down to nine tenths of it: room for new code
            doomed = [path for _, path in by_use[: len(files) - MOST * 9 // 10]]
        for path in doomed:
            with contextlib.suppress(OSError):
                os.unlink(path)  # noqa: PTH108 - a DirEntry's path
