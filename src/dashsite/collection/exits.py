"""``os._exit`` refused where a dashboard's code runs: its dashboard fails, not the build.

``os._exit`` ends the process at once, with no exception to catch: called by a
``dashboard.py`` at import or by a collector, it ended the whole build (or the
``serve --watch`` preview) with its status and not a word. Where dashsite runs
a dashboard's code it raises :class:`ExitRefused` instead, which fails that
import or that collector like any other error:

- on the threads that run it (:data:`.workers.RUNS_USER_CODE`: an import, a
  sync collector, the event loop of async ones), always, also for one left
  running past its timeout;
- on any other thread but the main one while a collection or an import runs
  (:func:`running_user_code`): one a collector started (``asyncio.to_thread``).

The main thread (dashsite's own exit on Ctrl-C), and a process forked from
this one (``multiprocessing``: its child must end there), keep the real one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from dashsite.collection.workers import RUNS_USER_CODE


class ExitRefused(BaseException):
    """Raised instead of ending the process when a dashboard's code calls ``os._exit``."""


_REAL_EXIT = os._exit
_LOCK = threading.Lock()
_STATE = {"process": os.getpid(), "running": 0}


def _exit(status: int) -> NoReturn:
    thread = threading.current_thread()
    name = thread.name
    ours = name.startswith(RUNS_USER_CODE)
    started = _STATE["running"] > 0 and thread is not threading.main_thread()
    if os.getpid() != _STATE["process"] or not (ours or started):
        _REAL_EXIT(status)
    what = "while loading" if name.startswith("dashsite-import") else "by a collector"
    raise ExitRefused(f"os._exit({status}) called {what} (it would end dashsite at once)")


@contextmanager
def running_user_code() -> Iterator[None]:
    """While a dashboard's code runs (an import, a collection): ``os._exit`` is refused on
    every thread but the main one, and for good on the threads that run that code."""
    with _LOCK:
        if os._exit is not _exit:
            os._exit = _exit
        _STATE["process"] = os.getpid()
        _STATE["running"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _STATE["running"] -= 1
