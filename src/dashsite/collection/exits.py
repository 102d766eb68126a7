"""``os._exit`` refused while a dashboard's code runs: its dashboard fails, not the build.

``os._exit`` ends the process at once, with no exception to catch: called by a
``dashboard.py`` at import or by a collector, it ended the whole build (or the
``serve --watch`` preview) with its status and not a word. While dashsite runs
a dashboard's code, the function raises :class:`ExitRefused` instead, which
fails that import or that collector like any other error. A process forked
meanwhile (``multiprocessing``) keeps the real one: its child must end there.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn


class ExitRefused(BaseException):
    """Raised instead of ending the process when a dashboard's code calls ``os._exit``."""


_REAL_EXIT = os._exit
_LOCK = threading.Lock()
_DEPTH = 0
_OWNER = 0
_WHAT = ""


def _refuse(status: int) -> NoReturn:
    if os.getpid() != _OWNER:  # a forked child: it must end as it meant to
        _REAL_EXIT(status)
    raise ExitRefused(f"os._exit({status}) called {_WHAT} (it would end dashsite at once)")


@contextmanager
def refusing_exit(what: str) -> Iterator[None]:
    """While inside, ``os._exit`` raises :class:`ExitRefused` (said ``what``: "while
    loading", "by a collector") in this process; nested uses keep the outer one's."""
    global _DEPTH, _OWNER, _WHAT
    with _LOCK:
        if _DEPTH == 0:
            _OWNER, _WHAT = os.getpid(), what
            os._exit = _refuse
        _DEPTH += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0:
                os._exit = _REAL_EXIT
