"""Collectors that run in a worker process: a crash, an exit or a hang fails only that collector.

kstlib's YAML dashboards name a function by module (``type: callable``). Run in
the build's own process, a function that calls ``os.abort()`` or ``os._exit()``,
or crashes inside a C extension, would end the whole build. An
:class:`IsolatedCall` runs it in a worker process (:mod:`.isolated_worker`)
instead:

- a worker that dies fails the one call it was running, in one line saying
  how it ended (the signal, or the exit status), and the next call gets a new
  worker;
- a call that outlives its collector's timeout has its worker killed, so the
  stuck code stops instead of running on in a thread;
- the value comes back as JSON (what ``data.json`` holds) and is read back as
  strictly as stored data; one that cannot be stored fails its collector.

What it costs. A worker runs one call at a time, so a death is always the
fault of the call it was running, and it is reused for the next call. A build
starts one worker (when discovery checks that the functions import), and
starts another only when a call has waited :data:`GROW_AFTER` seconds for a
busy one, up to :data:`MAX_WORKERS` per dashboards folder: quick functions
share one process, slow ones do not queue behind each other. That is one
process start per build (about 0.3 s of CPU, most of it importing dashsite in
the worker), not one per call. After each collection (:func:`release`) the
idle workers end, so the next build imports the user's modules afresh (``serve
--watch`` sees an edited module) and a finished build leaves no process behind.
"""

from __future__ import annotations

import atexit
import contextlib
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from dashsite.collection.imports import DEFAULT_IMPORT_TIMEOUT
from dashsite.collection.isolated_worker import STARTED, read_frame, write_frame
from dashsite.collection.remote import WorkerLost, remote_exception

BOOT = (
    "import sys; sys.path[:] = sys.argv[1:]; "
    "from dashsite.collection.isolated_worker import serve; serve()"
)
"""The worker's program: the build's ``sys.path`` comes as its arguments."""
START_TIMEOUT = DEFAULT_IMPORT_TIMEOUT
"""Seconds a worker may take to start and import the module, before the function runs."""
MAX_WORKERS = 4
"""Worker processes per dashboards folder at most."""
GROW_AFTER = 0.05
"""Seconds a call waits for a busy worker before another is started."""
STOP_WAIT = 2.0
"""Seconds a worker gets to end once told to, before it is killed."""
_CRASHES = {
    "SIGABRT": "os.abort() or a crash in native code",
    "SIGSEGV": "a crash in native code",
    "SIGBUS": "a crash in native code",
    "SIGILL": "a crash in native code",
    "SIGFPE": "a crash in native code",
    "SIGKILL": "killed from outside: out of memory?",
}


class _NotDelivered(Exception):
    """The worker was gone before it read the request: another one may take it."""


class ProcessEnded(WorkerLost):
    """A worker died while it ran a request; ``ended`` says how ("was killed by SIGABRT …")."""

    def __init__(self, ended: str) -> None:
        super().__init__(f"its process {ended}")
        self.ended = ended


class WorkerProcess:
    """One worker process; one call at a time."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", BOOT, *sys.path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )

    def ask(self, request: dict[str, Any], seconds: float | None) -> dict[str, Any]:
        """Send ``request``; its answer (``TimeoutError`` past a deadline).

        The function gets ``seconds`` from when it is called; before that, the
        worker's start and the module's import get :data:`START_TIMEOUT`.
        """
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            write_frame(self.process.stdin.fileno(), request)
        except OSError:
            raise _NotDelivered from None
        source = self.process.stdout.fileno()
        poller = select.poll()
        poller.register(source, select.POLLIN)
        end: list[float | None] = [time.monotonic() + START_TIMEOUT]

        def wait() -> bool:
            deadline = end[0]
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not poller.poll(None if remaining is None else remaining * 1000):
                raise TimeoutError
            return True

        while True:
            try:
                reply = read_frame(source, wait)
            except ValueError:  # not our framing: something wrote into the pipe
                reply = None
            if reply is None:
                raise ProcessEnded(self._ending())
            if reply != STARTED:
                return reply
            end[0] = None if seconds is None else time.monotonic() + seconds

    def _ending(self) -> str:
        """How the worker ended: ``was killed by SIGABRT (…)``, ``exited with status 3 (…)``."""
        try:
            code = self.process.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:  # it closed its answers but lives on
            self.stop()
            code = self.process.returncode
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            why = _CRASHES.get(name)
            return f"was killed by {name}" + (f" ({why})" if why else "")
        return f"exited with status {code} (os._exit()?)"

    def stop(self) -> None:
        """Kill it now (it ran past its deadline, or is no longer trusted)."""
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        self._close_pipes()

    def close(self) -> None:
        """Let it end (the end of its stdin); kill it if it does not."""
        self._close_pipes()
        try:
            self.process.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:
            self.stop()

    def _close_pipes(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


class WorkerPool:
    """Worker processes by dashboards folder: taken for a call, given back after it."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._idle: dict[str, list[WorkerProcess]] = {}
        self._running: dict[str, int] = {}
        self.started = 0
        """Workers started so far (what a test counts to see they are reused)."""

    def ask(self, folder: str, request: dict[str, Any], seconds: float | None) -> dict[str, Any]:
        """Run ``request`` on a worker of ``folder``'s; a worker that fails it is not reused."""
        for _ in range(2):  # a worker found dead before the request: once more, on a new one
            worker = self._take(folder)
            try:
                reply = worker.ask(request, seconds)
            except _NotDelivered:
                self._drop(folder, worker)
                continue
            except BaseException:
                self._drop(folder, worker)
                raise
            self._give_back(folder, worker)
            return reply
        raise WorkerLost("no worker process would take the call (each ended at once)")

    def _take(self, folder: str) -> WorkerProcess:
        waited_from = time.monotonic()
        with self._changed:
            while True:
                idle = self._idle.get(folder)
                if idle:
                    return idle.pop()
                running = self._running.get(folder, 0)
                waited = time.monotonic() - waited_from
                if running == 0 or (running < MAX_WORKERS and waited >= GROW_AFTER):
                    self._running[folder] = running + 1
                    break
                self._changed.wait(GROW_AFTER - waited if running < MAX_WORKERS else None)
        try:
            worker = WorkerProcess()
        except BaseException:
            self._forget(folder)
            raise
        self.started += 1
        return worker

    def _give_back(self, folder: str, worker: WorkerProcess) -> None:
        with self._changed:
            self._idle.setdefault(folder, []).append(worker)
            self._changed.notify()

    def _drop(self, folder: str, worker: WorkerProcess) -> None:
        worker.stop()
        self._forget(folder)

    def _forget(self, folder: str) -> None:
        with self._changed:
            self._running[folder] -= 1
            self._changed.notify()

    def release(self) -> None:
        """End the idle workers (busy ones end when their call does, or at its deadline)."""
        with self._changed:
            idle = [(folder, worker) for folder, found in self._idle.items() for worker in found]
            self._idle.clear()
            for folder, _ in idle:
                self._running[folder] -= 1
            self._changed.notify_all()
        for _, worker in idle:
            worker.close()


POOL = WorkerPool()
atexit.register(POOL.release)


def release() -> None:
    """End the idle workers: called after each collection (see the module docstring)."""
    POOL.release()


@dataclass(frozen=True, slots=True)
class IsolatedCall:
    """A collector that calls ``module.function`` in a worker process.

    ``folder`` goes first on the worker's ``sys.path`` (the module may sit
    there); ``name`` is the collector's, for what a refused value is called.
    """

    module: str
    function: str
    folder: str = ""
    name: str = "value"

    def __call__(self) -> Any:
        """The function's value, with no deadline (the engine gives one: :meth:`within`)."""
        return self.within(None)

    def within(self, seconds: float | None) -> Any:
        """The function's value; its worker is killed after ``seconds``."""
        try:
            reply = POOL.ask(self.folder, self._request("call"), seconds)
        except TimeoutError:
            stopped = f"no result within {seconds:g} s (its process was stopped)"
            raise TimeoutError(stopped) from None
        except ProcessEnded as exc:
            raise WorkerLost(
                f"the process running {self.module}.{self.function} {exc.ended}"
            ) from None
        if "value" in reply:
            from dashsite.types.serialize import from_jsonable

            return from_jsonable(reply["value"])
        if "error" in reply:
            raise remote_exception(*reply["error"])
        if "unstorable" in reply:
            detail = reply["unstorable"]
            raise TypeError(f"returned a value that cannot be stored as JSON ({detail})")
        problem = self._problem(reply)  # the module changed since it was checked
        raise ImportError(problem[0] if problem else "no answer")

    def check(self, seconds: float) -> tuple[str, str] | None:
        """Import the module in a worker: None if the function is there, else (what, hint)."""
        try:
            reply = POOL.ask(self.folder, self._request("check"), seconds)
        except TimeoutError:
            return (
                f"still importing '{self.module}' after {seconds:g} s",
                "move slow work out of the module's top level, into the function",
            )
        except ProcessEnded as exc:
            return (
                f"importing '{self.module}' ended its process: it {exc.ended}",
                "the module must import without ending its process",
            )
        return self._problem(reply)

    def _problem(self, reply: dict[str, Any]) -> tuple[str, str] | None:
        if "unimportable" in reply:
            kind, message = reply["unimportable"]
            return (
                f"cannot import '{self.module}': {kind}: {message}",
                "install it or put it beside the .monitor.yml file",
            )
        if "missing" in reply:
            return (f"function '{self.function}' not found in '{self.module}'", "")
        return None

    def _request(self, op: str) -> dict[str, Any]:
        return {
            "op": op,
            "module": self.module,
            "function": self.function,
            "folder": self.folder,
            "name": self.name,
        }
