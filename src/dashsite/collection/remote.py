"""What comes back from a collector run in another process: its error, as a name and a message.

Shared by the two places collectors run away from the build: a dask worker
(:mod:`.cluster`) and a YAML callable's worker process (:mod:`.isolated`).
"""

from __future__ import annotations

_KINDS: dict[str, type[Exception]] = {}


def remote_exception(kind: str, message: str) -> Exception:
    """An exception that reads like the other process's: ``ValueError: bad input``.

    The exception object itself may not travel (its class lives in the user's
    module), so its type name and message travel instead.
    """
    if not kind.isidentifier():
        kind = "RemoteError"
    if kind not in _KINDS:
        _KINDS[kind] = type(kind, (Exception,), {"__module__": "dashsite.remote"})
    return _KINDS[kind](message)


class WorkerLost(Exception):
    """The process running a collector died, or the cluster running it went away."""
