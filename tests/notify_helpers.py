"""Real receivers on 127.0.0.1 for the notification tests: a webhook server, a silent one."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from projects import T0, build, fixed_clock, write_project

FLIPPING = """
from pathlib import Path
from dashsite import collector, StatusCell, StatusLevel

TITLE = "{title}"
STATE = Path(__file__).resolve().parents[2] / "state" / "{slug}"

@collector
def api():
    state = STATE.read_text() if STATE.is_file() else "ok"
    if state.startswith("fail"):
        raise ConnectionError(state[5:] or "refused")
    level = {{"ok": StatusLevel.OK, "warn": StatusLevel.WARNING, "crit": StatusLevel.CRITICAL}}
    return StatusCell(state, level[state])
"""


class Receiver:
    """An HTTP server that records every POST; ``answer`` decides each reply's status."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, bytes]] = []
        self.answer: Callable[[int], tuple[int, dict[str, str]]] = lambda n: (200, {})
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.posts.append((self.path, body))
                code, headers = receiver.answer(len(receiver.posts))
                self.send_response(code)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def payloads(self, path: str | None = None) -> list[dict[str, Any]]:
        return [json.loads(body) for p, body in self.posts if path is None or p == path]

    def delivered(self, path: str | None = None) -> list[dict[str, Any]]:
        """Payloads of the posts answered 2xx (by the answer rule at that time)."""
        return self.payloads(path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class Silent:
    """Accepts connections and never answers."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}/hook"

    def accepted(self) -> int:
        """Take the waiting connections (kept open, never answered); how many so far."""
        self.socket.settimeout(0.05)
        self.held = getattr(self, "held", [])
        try:
            while True:
                self.held.append(self.socket.accept()[0])
        except OSError:
            pass
        return len(self.held)

    def close(self) -> None:
        for conn in getattr(self, "held", []):
            conn.close()
        self.socket.close()


class Sequence_:
    """A project whose dashboards' states are set per build; builds 5 minutes apart."""

    def __init__(self, root: Path, slugs: list[str], config: str) -> None:
        self.root = root
        self.slugs = slugs
        write_project(
            root,
            {s: {"dashboard.py": FLIPPING.format(title=s.title(), slug=s),
                 "template.html": "{{ api | render }}"} for s in slugs},
            config,
        )
        (root / "state").mkdir()
        self.step = 0

    def build(self, **states: str) -> None:
        for slug in self.slugs:
            (self.root / "state" / slug).write_text(states.get(slug.replace("-", "_"),
                                                               states.get("all", "ok")))
        moment = T0 + timedelta(minutes=5 * self.step)
        self.step += 1
        result = build(self.root, clock=fixed_clock(moment))
        assert result is not None
