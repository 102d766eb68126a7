"""A real ``dashsite serve`` process, and a real headless chromium."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium_path() -> str:
    """Debian's chromium; a missing browser fails the test (CI must install it)."""
    found = os.environ.get("DASHSITE_CHROMIUM") or shutil.which("chromium") \
        or shutil.which("chromium-browser")
    if not found:
        raise AssertionError(
            "chromium is not installed: browser tests need it (apt-get install -y chromium)"
        )
    return found


class ServeProcess:
    """``python -m dashsite -C PROJECT serve ARGS`` with its output collected."""

    def __init__(self, project: Path, *args: str) -> None:
        self.project = project
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dashsite", "-C", str(project), "serve", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
            env={**os.environ, "NO_COLOR": "1"},
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._threads = [
            threading.Thread(target=self._pump, args=(self.process.stdout, self.out), daemon=True),
            threading.Thread(target=self._pump, args=(self.process.stderr, self.err), daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self.url = self._wait_for_url()
        folder = (  # said right after the URL; only --watch has one
            self.wait_for_line(r"^preview folder: (.*)$", self.err, limit=5, required=False)
            if "--watch" in args else None
        )
        self.preview = Path(folder.group(1)) if folder else None

    @staticmethod
    def _pump(stream, sink: list[str]) -> None:
        for line in stream:
            sink.append(line.rstrip("\n"))
        stream.close()

    def _wait_for_url(self) -> str:
        match = self.wait_for_line(r"at (http://\S+/) \(Ctrl-C", self.out, limit=60)
        assert match is not None
        return match.group(1)

    def wait_for_line(self, pattern: str, sink: list[str], *, limit: float = 30,
                      required: bool = True, start: int = 0) -> re.Match[str] | None:
        deadline = time.monotonic() + limit
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            for line in sink[start:]:
                if match := regex.search(line):
                    return match
            if self.process.poll() is not None and not required:
                return None
            assert self.process.poll() is None or any(regex.search(text) for text in sink), (
                f"serve exited: {self.err}"
            )
            time.sleep(0.02)
        if required:
            raise AssertionError(f"no line matching {pattern!r} in {sink}")
        return None

    def rebuilds(self) -> list[str]:
        return [line for line in self.err if line.startswith("rebuilt (")]

    def stop(self) -> int:
        """Ctrl-C, then wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=30)
        for thread in self._threads:
            thread.join(timeout=5)
        return code
