"""The preview server: static files plus LiveReload, on 127.0.0.1 by default.

The browser side is livereload's: its WebSocket handler speaks the
LiveReload protocol and serves the ``livereload.js`` client, whose tag is
injected into HTML responses only. Reloads are pushed by us, once per
rebuild, with ``LiveReloadHandler.reload_waiters``; livereload's own
polling loop is not used, since it drops reloads that come within three
seconds of the previous one (which is how saves get missed).

A page that connects after a reload was sent would miss it, so each HTML
response carries the current build generation in a cookie; a client whose
page is older than the latest rebuild is told to reload as soon as it
connects.

The preview draws the index and each latest page; a ``fallback`` folder (the
built site) answers for the rest, so a day bar's link to the history, a
snapshot or an incident page opens the last build's page. It is only read.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler, StaticFileHandler
from livereload.server import LiveScriptInjector
from livereload.watcher import Watcher
from tornado import httputil, web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.routing import Matcher, Rule

GENERATION_COOKIE = "dashsite_generation"


class ReloadState:
    """The build generation, bumped by each rebuild; read by the handlers."""

    def __init__(self) -> None:
        self.generation = 0


class PreviewFileHandler(StaticFileHandler):  # type: ignore[misc]
    """Serves files from one folder only: no listings, no way out of it."""

    state: ReloadState
    fallback: str | None

    def initialize(
        self,
        path: str,
        state: ReloadState,
        default_filename: str = "index.html",
        fallback: str | None = None,
    ) -> None:
        super().initialize(path=path, default_filename=default_filename)
        self.state = state
        self.fallback = fallback

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        """Refuse anything that resolves outside ``root`` (links included); what ``root``
        lacks comes from :attr:`fallback`, under the same rule."""
        requested = self.path_args[0] if self.path_args else ""
        if "\\" in requested or "\0" in requested:
            raise web.HTTPError(404)
        if self.fallback is not None and not Path(absolute_path).exists():
            root, absolute_path = self.fallback, self.get_absolute_path(self.fallback, self.path)
            self.root = root
        resolved = Path(absolute_path).resolve()
        if not resolved.is_relative_to(Path(root).resolve()):
            raise web.HTTPError(403)
        result: str | None = super().validate_absolute_path(root, absolute_path)
        if result is not None:
            # One open file for the size and the bytes: a rebuild that replaces
            # the file meanwhile cannot make the two disagree (a cut response).
            try:
                with Path(result).open("rb") as handle:
                    self._stat_result = os.fstat(handle.fileno())
                    self._body = handle.read()
            except OSError:
                raise web.HTTPError(404) from None
        return result

    def get_content_size(self) -> int:
        """The size of the bytes read with the file's stat."""
        return len(self._body)

    def get_content(self, abspath: str, start: int | None = None, end: int | None = None) -> bytes:
        """The bytes read in :meth:`validate_absolute_path`, not a second open."""
        return self._body[start:end]

    def compute_etag(self) -> str | None:
        """No ETag: nothing is cached while previewing."""
        return None

    def set_extra_headers(self, path: str) -> None:
        """No caching while previewing; a generation cookie on HTML pages."""
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        if path.endswith((".html", ".htm")) or path.endswith("/") or not path:
            self.set_cookie(
                GENERATION_COOKIE, str(self.state.generation), path="/", samesite="Strict"
            )


class ScriptHandler(LiveReloadJSHandler):  # type: ignore[misc]
    """livereload's client script, served with ``nosniff``."""

    def set_default_headers(self) -> None:
        """Never let a browser guess another type."""
        self.set_header("X-Content-Type-Options", "nosniff")


class ForeignHostHandler(web.RequestHandler):
    """Answers a request whose ``Host`` is not this machine (DNS rebinding)."""

    def prepare(self) -> None:
        """Refuse it whole."""
        self.set_header("X-Content-Type-Options", "nosniff")
        raise web.HTTPError(403, "Host not allowed")


class LocalHostName(Matcher):
    """Matches requests that name a loopback host: a page on another domain
    that rebinds its name to 127.0.0.1 still sends its own name, and is refused."""

    def match(self, request: httputil.HTTPServerRequest) -> dict[str, Any] | None:
        """``{}`` for a loopback ``Host``, else None."""
        return {} if is_local(request.host_name.strip("[]")) else None


class PreviewReloadHandler(LiveReloadHandler):  # type: ignore[misc]
    """LiveReload's WebSocket handler, plus a catch-up reload for late clients."""

    state: ReloadState

    def initialize(self, state: ReloadState) -> None:
        self.state = state

    def check_origin(self, origin: str) -> bool:
        """Only pages served by this server may connect."""
        host = self.request.headers.get("Host", "")
        return bool(origin.split("://", 1)[-1] == host)

    def on_message(self, message: Any) -> None:
        """Do the LiveReload handshake; reload a client whose page is stale."""
        super().on_message(message)
        if self in LiveReloadHandler.waiters:
            seen = self.get_cookie(GENERATION_COOKIE)
            if seen is not None and seen.isdigit() and int(seen) < self.state.generation:
                self.send_message({"command": "reload", "path": "*", "liveCSS": False})


class RebuildWatcher(Watcher):  # type: ignore[misc]
    """livereload's watcher seat, filled by our watchdog-driven rebuilds.

    livereload asks its watcher for changes; ours are pushed instead (one
    reload per rebuild), so ``start`` declines polling and ``examine``
    reports nothing. ``filepath`` names what the last rebuild was for.
    """

    def start(self, callback: Callable[[], None]) -> bool:
        """No polling: rebuilds push their reloads."""
        return True

    def examine(self) -> tuple[str | None, float | None]:
        """Nothing to poll."""
        return None, None


def _injector(script: bytes) -> type[LiveScriptInjector]:
    class Injector(LiveScriptInjector):  # type: ignore[misc]
        def __init__(self, request: httputil.HTTPServerRequest) -> None:
            super().__init__(request)
            self.script = script

    return Injector


class PreviewServer:
    """Serves ``folder`` with live reload; runs on an asyncio loop."""

    def __init__(
        self,
        folder: Path,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        fallback: Path | None = None,
    ) -> None:
        self.folder = folder
        self.fallback = fallback
        """Where files the folder lacks are read from (the built site), if anywhere."""
        self.host = host
        self.state = ReloadState()
        self._sockets: list[socket.socket] = bind_sockets(port, address=host)
        self.port: int = self._sockets[0].getsockname()[1]
        self._server: HTTPServer | None = None
        self.watcher = RebuildWatcher()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        """Where the preview can be opened."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> None:
        """Start serving on the running asyncio loop."""
        self._loop = asyncio.get_running_loop()
        LiveReloadHandler.watcher = self.watcher
        script = f'<script src="/livereload.js?port={self.port}&mindelay=200"></script>'.encode()
        handlers: list[Any] = [
            (r"/livereload", PreviewReloadHandler, {"state": self.state}),
            (r"/livereload\.js", ScriptHandler),
            (
                r"/(.*)",
                PreviewFileHandler,
                {
                    "path": str(self.folder),
                    "state": self.state,
                    "fallback": str(self.fallback) if self.fallback is not None else None,
                },
            ),
        ]
        # On a loopback address the preview is private: only loopback Host names.
        rules: list[Any] = [Rule(LocalHostName(), handlers)] if is_local(self.host) else handlers
        application = web.Application(
            rules,
            default_handler_class=ForeignHostHandler,
            transforms=[_injector(script)],
            log_function=lambda _handler: None,
        )
        self._server = HTTPServer(application)
        self._server.add_sockets(self._sockets)

    def reload(self, reason: str = "*") -> None:
        """Tell every open page to reload; safe to call from any thread."""
        if self._loop is None:
            return

        def push() -> None:
            self.state.generation += 1
            self.watcher.filepath = reason
            LiveReloadHandler.reload_waiters("*")

        self._loop.call_soon_threadsafe(push)

    async def stop(self) -> None:
        """Stop accepting, close the open connections."""
        if self._server is not None:
            self._server.stop()
            for waiter in list(LiveReloadHandler.waiters):
                waiter.close()
            LiveReloadHandler.waiters.clear()
            await self._server.close_all_connections()


def run_in_thread(target: Callable[[], None], name: str) -> threading.Thread:
    """Start a non-daemon worker thread (the caller joins it on shutdown)."""
    thread = threading.Thread(target=target, name=name)
    thread.start()
    return thread


def is_local(host: str) -> bool:
    """True for loopback addresses, where the preview is private to this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
