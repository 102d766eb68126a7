"""A dask scheduler address, checked before anything connects to it.

``scheduler`` (or ``--scheduler``) must be ``<protocol>://host:port``; a
wrong one is a usage error naming the setting, not an internal error deep
in ``distributed``. Before a client connects, :func:`probe` opens a plain
TCP connection with a deadline and reads the first frame header a dask
scheduler sends on every new connection. A port that answers but is not a
scheduler (an HTTP server, say) would otherwise hang the client for minutes
or make it allocate the "frame length" it read from ``HTTP/1.1`` (a
MemoryError): it fails in one line instead.
"""

from __future__ import annotations

import socket
import struct
import time
from urllib.parse import urlsplit

PROTOCOLS = ("tcp", "tls", "ws", "wss", "ucx")
"""The address schemes distributed's clients connect over."""
EXAMPLE = "tcp://host:8786"
PROBE_TIMEOUT = 10.0
"""Seconds for a scheduler to accept a connection and send its first frame."""
MAX_HANDSHAKE = 1024 * 1024
"""Bytes a scheduler's first message may announce (it is a few hundred)."""
_HEADER = struct.Struct("Q")  # distributed.comm.tcp: the frames' length, as it writes it


class NotAScheduler(OSError):
    """The address answers, or not, but not as a dask scheduler."""


def address_problem(address: str) -> str | None:
    """What is wrong with a scheduler address (the rest of a sentence), or None."""
    wrong = f'must look like "{EXAMPLE}", not {address[:80]!r}'
    if any(ord(c) <= 0x20 for c in address):
        return wrong
    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError:
        return wrong
    if parts.scheme not in PROTOCOLS:
        known = ", ".join(f"{p}://" for p in PROTOCOLS)
        return f"{wrong} (the protocol is one of {known})"
    if not parts.hostname or port is None or parts.path not in ("", "/"):
        return wrong
    return None


def probe(address: str, timeout: float | None = None) -> None:
    """Raise :class:`NotAScheduler` unless ``address`` starts a dask handshake in time.

    Only plain ``tcp://`` is probed; other protocols are left to the client.
    """
    parts = urlsplit(address)
    if parts.scheme != "tcp" or parts.hostname is None or parts.port is None:
        return
    limit = PROBE_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + limit
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=limit) as sock:
            header = _read(sock, _HEADER.size, deadline, address)
            (length,) = _HEADER.unpack(header)
            if not 0 < length <= MAX_HANDSHAKE:
                raise NotAScheduler(f"{address} answers, but not as a dask scheduler")
            _read(sock, length, deadline, address)
    except TimeoutError:
        raise NotAScheduler(
            f"{address} did not answer as a dask scheduler within {limit:g} s"
        ) from None


def _read(sock: socket.socket, size: int, deadline: float, address: str) -> bytes:
    chunks, got = [], 0
    while got < size:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)
        chunk = sock.recv(min(size - got, 65536))
        if not chunk:
            raise NotAScheduler(f"{address} closed the connection: not a dask scheduler")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
