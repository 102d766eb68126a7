"""The worker process of :mod:`dashsite.collection.isolated`: it runs named callables.

Started as ``python -c`` with the build's ``sys.path`` (see ``isolated.BOOT``), it
reads requests from its stdin and answers on its stdout, one JSON document per
frame (a 4-byte length, then UTF-8). Nothing is pickled either way: a value
comes back as the JSON a version's ``data.json`` would hold (render types as
``"$kind"`` objects), and the build reads it back as strictly as a stored value.

The user's code never sees the two pipes: its stdin is ``/dev/null`` and its
stdout is the build's stderr. Each call runs on a thread of its own while the
main thread keeps reading, so the worker ends (at the end of its stdin) as soon
as the build does, even with a call stuck for ever. Ctrl-C is the build's to
handle: the worker ignores it.

Only the standard library is imported up front; the serializer when a value
is first sent back.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import os
import signal
import struct
import sys
import threading
from collections.abc import Callable
from typing import Any

_HEADER = struct.Struct(">I")
STARTED = {"started": True}
"""Sent when the function is called, before its answer."""
MAX_MESSAGE = 4000
"""Characters of an error message sent back (the build shortens it further)."""


def write_frame(fd: int, document: dict[str, Any]) -> None:
    """Send one JSON document on ``fd`` (``OSError`` if the other end is gone)."""
    body = json.dumps(document).encode("utf-8")  # ASCII: a lone surrogate travels escaped
    data = _HEADER.pack(len(body)) + body
    while data:
        data = data[os.write(fd, data) :]


def read_exactly(fd: int, size: int, wait: Callable[[], bool] | None = None) -> bytes | None:
    """``size`` bytes from ``fd``; None at its end. ``wait()`` is called before each
    read and may raise (a deadline): it returns once ``fd`` has something to read."""
    chunks: list[bytes] = []
    while size:
        if wait is not None:
            wait()
        chunk = os.read(fd, size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, wait: Callable[[], bool] | None = None) -> dict[str, Any] | None:
    """The next JSON document on ``fd``; None when the other end closed it."""
    header = read_exactly(fd, _HEADER.size, wait)
    if header is None:
        return None
    body = read_exactly(fd, _HEADER.unpack(header)[0], wait)
    if body is None:
        return None
    document = json.loads(body)
    if not isinstance(document, dict):
        raise ValueError("a frame is not a JSON object")
    return document


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _error(exc: BaseException) -> list[str]:
    return [type(exc).__name__, _short(str(exc))]


def _resolve(folder: str, module: str, function: str) -> Callable[[], Any]:
    """``module.function``, imported with ``folder`` first on the path."""
    if folder and folder not in sys.path:
        sys.path.insert(0, folder)
    loaded = importlib.import_module(module)
    found = getattr(loaded, function, None)
    if not callable(found):
        raise LookupError(function)
    return found  # type: ignore[no-any-return]


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def answer(request: dict[str, Any], started: Callable[[], None]) -> dict[str, Any]:
    """What to send back for one request (``check`` imports, ``call`` also calls).

    ``started()`` is called just before the function is: its deadline runs from
    then (the worker's start and the import are bounded apart).
    """
    module, function = str(request["module"]), str(request["function"])
    try:
        func = _resolve(str(request.get("folder", "")), module, function)
    except LookupError:
        return {"missing": function}
    except BaseException as exc:  # SystemExit at import time too: one answer, not an exit
        return {"unimportable": _error(exc)}
    if request.get("op") == "check":
        return {"ok": True}
    from dashsite.types.serialize import to_jsonable

    started()
    try:
        value = func()
        if inspect.isawaitable(value):
            value = asyncio.run(_awaited(value))
    except BaseException as exc:  # what the callable raised, SystemExit included
        return {"error": _error(exc)}
    try:
        return {"value": to_jsonable(value, str(request.get("name", "value")))}
    except (TypeError, ValueError, RecursionError) as exc:
        return {"unstorable": _short(str(exc))}


def serve() -> None:
    """Answer requests until stdin ends; then end at once, whatever is still running."""
    requests, replies = os.dup(0), os.dup(1)
    quiet = os.open(os.devnull, os.O_RDONLY)
    os.dup2(quiet, 0)  # the user's code reads nothing of ours…
    os.close(quiet)
    os.dup2(2, 1)  # …and prints to the build's stderr, not into our answers
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sending = threading.Lock()

    def send(document: dict[str, Any]) -> None:
        try:
            with sending:
                write_frame(replies, document)
        except OSError:  # the build is gone
            os._exit(0)

    def run(request: dict[str, Any]) -> None:
        send(answer(request, lambda: send(STARTED)))

    while True:
        request = read_frame(requests)
        if request is None:
            os._exit(0)  # the build is gone (or done): stuck calls end with us
        threading.Thread(target=run, args=(request,), daemon=True).start()
