"""Build events go to a reporter; the build itself never prints.

``ConsoleReporter`` draws a progress line on a terminal and plain lines
elsewhere (no colour codes when not a TTY); ``RecordingReporter`` keeps the
events for tests; ``NullReporter`` drops them. Live reload subscribes too.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from dashsite.core.errors import shorten
from dashsite.core.levels import StatusLevel

_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
MAX_LINE = 300
"""Characters of a printed line: a collector's error or a value never floods the terminal."""


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 256 else f"\\u{ord(char):04x}")


def printable(text: str) -> str:
    """``text`` safe for a terminal on one line: control characters escaped.

    Exception text comes from collectors and servers; raw, an escape sequence
    could retitle or clear the terminal, and a newline could forge a
    ``file:line`` report line.
    """
    return _UNPRINTABLE.sub(_escape, text)


def say(text: str, stream: TextIO | None = None) -> None:
    """Print one line of news or trouble to stderr (escaped, flushed)."""
    out = stream or sys.stderr
    out.write(shorten(printable(text), MAX_LINE) + "\n")
    out.flush()


def _flush(stream: TextIO | None) -> None:
    with contextlib.suppress(OSError, ValueError):
        if stream is not None:
            stream.flush()


@contextlib.contextmanager
def user_output_to_stderr() -> Iterator[None]:
    """While dashboards' code runs, what it prints goes to stderr: stdout is the
    command's own (``build --json``'s report), which a stray ``print()`` would corrupt.

    Both Python's ``sys.stdout`` and file descriptor 1 (a subprocess's, a C library's)
    point at stderr until the block ends; a closed stdout is left as it is.
    """
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(sys.stderr))
        with contextlib.suppress(OSError, ValueError):
            _flush(sys.__stdout__)
            saved = os.dup(1)
            stack.callback(os.close, saved)
            os.dup2(2, 1)
            stack.callback(os.dup2, saved, 1)
            stack.callback(_flush, sys.__stdout__)  # (what went to it meanwhile: stderr's)
        yield


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened during a build."""

    kind: str
    slug: str = ""
    message: str = ""
    level: StatusLevel | None = None
    data: dict[str, Any] = field(default_factory=dict)


class Reporter(Protocol):
    """Receives build events."""

    def emit(self, event: Event) -> None:
        """Handle one event."""
        ...


class NullReporter:
    """Drops every event."""

    def emit(self, event: Event) -> None:
        """Ignore ``event``."""


class RecordingReporter:
    """Keeps every event, for tests and for ``--json``."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        """Remember ``event``."""
        self.events.append(event)

    def kinds(self) -> list[str]:
        """The kinds of the events seen, in order."""
        return [event.kind for event in self.events]


_COLOURS = {
    StatusLevel.OK: "\033[32m",
    StatusLevel.WARNING: "\033[33m",
    StatusLevel.ERROR: "\033[31m",
    StatusLevel.CRITICAL: "\033[1;31m",
}
_RESET = "\033[0m"


class ConsoleReporter:
    """Progress on a terminal, plain lines in CI or a pipe."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = self.stream.isatty() and os.environ.get("TERM") != "dumb"
        self.colour = self.tty and "NO_COLOR" not in os.environ
        self.total = 0
        self.done = 0

    def _paint(self, text: str, level: StatusLevel | None) -> str:
        if not self.colour or level is None:
            return text
        return f"{_COLOURS[level]}{text}{_RESET}"

    def _line(self, text: str, level: StatusLevel | None = None) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(self._paint(shorten(printable(text), MAX_LINE), level) + "\n")
        self.stream.flush()

    def emit(self, event: Event) -> None:
        """Print ``event`` in the form that suits the stream."""
        if event.kind == "start":
            self.total = int(event.data.get("dashboards", 0))
            if not self.quiet:
                self._line(event.message)
        elif event.kind == "dashboard":
            self.done += 1
            said = event.level.slug if event.level is not None else event.message
            if self.tty and not self.quiet:
                status = self._paint(said, event.level)
                self.stream.write(f"\r\033[K[{self.done}/{self.total}] {event.slug} {status}")
                self.stream.flush()
            elif not self.quiet:
                self._line(f"[{self.done}/{self.total}] {event.slug}: {said}")
        elif event.kind in {"problem", "collector-failed"}:
            self._line(event.message, StatusLevel.ERROR)
        elif event.kind in {"waiting", "notice"}:
            self._line(event.message)
        elif event.kind == "finish" and not self.quiet:
            level = event.level if event.level is not None else StatusLevel.OK
            self._line(event.message, level)
