"""``os._exit`` refused on the threads that run a dashboard's code: its dashboard fails.

``os._exit`` ends the process at once, with no exception to catch: called by a
``dashboard.py`` at import or by a collector, it ended the whole build (or the
``serve --watch`` preview) with its status and not a word. On the threads
dashsite runs a dashboard's code on (:data:`.workers.RUNS_USER_CODE`: an
import, a sync collector, the event loop of async ones) it raises
:class:`ExitRefused` instead, which fails that import or that collector like
any other error, also for a thread left running past its timeout. Every other
thread, dashsite's own ending the process included, and every process forked
from one (``multiprocessing``), keeps the real one.
"""

from __future__ import annotations

import os
import threading
from typing import NoReturn

from dashsite.collection.workers import RUNS_USER_CODE


class ExitRefused(BaseException):
    """Raised instead of ending the process when a dashboard's code calls ``os._exit``."""


_REAL_EXIT = os._exit
_PROCESS = os.getpid()


def _exit(status: int) -> NoReturn:
    name = threading.current_thread().name
    if os.getpid() != _PROCESS or not name.startswith(RUNS_USER_CODE):
        _REAL_EXIT(status)
    what = "while loading" if name.startswith("dashsite-import") else "by a collector"
    raise ExitRefused(f"os._exit({status}) called {what} (it would end dashsite at once)")


def refuse_exit() -> None:
    """Put :func:`_exit` in ``os._exit``'s place (once: later calls leave it)."""
    if os._exit is not _exit:
        os._exit = _exit
