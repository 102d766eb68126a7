"""Never hang, never die on one collector or one module (hardening, section 2)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path

import pytest

from dashsite import Collector
from dashsite.collection.engine import collect, run_coroutine
from dashsite.preview.builder import PreviewBuilder
from projects import build, cli, simple, write_project
from servers import ServeProcess

pytestmark = pytest.mark.slow  # collectors that hang until their timeouts

def _manifest(root: Path) -> dict[str, dict]:
    raw = json.loads((root / "site" / "manifest.json").read_text())
    return {d["slug"]: d for d in raw["dashboards"]}


STUCK_SYNC = """
import time
from dashsite import collector

@collector(timeout=1)
def stuck():
    time.sleep(10**6)

@collector
def fine():
    return 1
"""

SWALLOWS_CANCEL = """
import asyncio
from dashsite import collector

@collector(timeout=1)
async def stubborn():
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass
"""


def test_a_stuck_sync_collector_does_not_keep_the_build_alive(tmp_path: Path) -> None:
    write_project(tmp_path, {"slow": {"dashboard.py": STUCK_SYNC, "template.html": "{{ fine }}"},
                             "good": simple()})
    done = cli(tmp_path, "build", "--version-id", "v1", timeout=60, process=True)  # a hang fails here
    assert done.returncode == 0, done.stderr
    assert "Built 2 dashboards" in done.stderr
    assert "collector 'stuck' failed: TimeoutError: no result within 1 s" in done.stderr
    assert _manifest(tmp_path)["slow"]["status"] == "error"


def test_an_async_collector_that_swallows_cancel_is_abandoned(tmp_path: Path) -> None:
    write_project(tmp_path, {"slow": {"dashboard.py": SWALLOWS_CANCEL,
                                      "template.html": "{{ stubborn | render }}"},
                             "good": simple()})
    done = cli(tmp_path, "build", "--version-id", "v1", timeout=60, process=True)
    assert done.returncode == 0, done.stderr
    assert "did not stop when cancelled" in done.stderr
    assert {s: d["status"] for s, d in _manifest(tmp_path).items()} == {
        "slow": "error", "good": "ok"}


BLOCKER = """
import time
from dashsite import collector

@collector(timeout=1)
async def blocker():
    time.sleep(2.5)   # a blocking call inside async def
    return 1
"""
INNOCENT = """
import asyncio
from dashsite import collector

@collector(timeout=1)
async def innocent():
    await asyncio.sleep(0.3)
    return 2
"""


def test_a_blocked_event_loop_is_charged_to_the_blocker(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "a-blocker": {"dashboard.py": BLOCKER, "template.html": "{{ blocker }}"},
        "b-innocent": {"dashboard.py": INNOCENT, "template.html": "{{ innocent }}"},
    })
    done = cli(tmp_path, "build", "--version-id", "v1", timeout=60, process=True)
    assert done.returncode == 0, done.stderr
    statuses = {s: d["status"] for s, d in _manifest(tmp_path).items()}
    assert statuses == {"a-blocker": "error", "b-innocent": "ok"}
    failed = [line for line in done.stderr.splitlines() if "collector '" in line]
    assert len(failed) == 1 and "blocker" in failed[0]
    assert "blocked the event loop" in failed[0] and "async def" in failed[0]


def _raiser(kind: type[BaseException], *, sync: bool):
    if sync:
        def sync_one() -> None:
            raise kind("from the collector")
        return sync_one

    async def async_one() -> None:
        await asyncio.sleep(0)
        raise kind("from the collector")
    return async_one


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
@pytest.mark.parametrize(
    "kind", [SystemExit, KeyboardInterrupt, GeneratorExit, asyncio.CancelledError])
def test_exceptions_that_end_threads_are_one_collectors_failure(
    kind: type[BaseException], sync: bool
) -> None:
    specs = [Collector("bad", _raiser(kind, sync=sync)), Collector("good", lambda: 7)]
    outcomes = run_coroutine(lambda: collect(specs, default_timeout=5))
    bad, good = outcomes
    assert good.ok and good.value == 7
    assert bad.error is not None
    assert type(bad.error.cause) is kind
    assert kind.__name__ in bad.error.message


def test_run_coroutine_does_not_wait_for_ever_on_leftover_tasks() -> None:
    async def main() -> str:
        async def stubborn() -> None:
            while True:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.sleep(3600)
        asyncio.get_running_loop().create_task(stubborn())
        await asyncio.sleep(0)
        return "done"

    started = time.monotonic()
    assert run_coroutine(main) == "done"
    assert time.monotonic() - started < 30  # a hang guard, not a speed check


VALUES = {
    "surrogate": 'import json\n    return {"name": json.loads(\'"\\\\ud800"\')}',
    "circular": "x = []\n    x.append(x)\n    return x",
    "deep": "x = []\n    for _ in range(100_000):\n        x = [x]\n    return x",
    "huge-int": "return 10 ** 5000",
}


@pytest.mark.parametrize("case", sorted(VALUES))
def test_hostile_values_fail_their_own_collector(tmp_path: Path, case: str) -> None:
    module = f"from dashsite import collector\n\n\n@collector\ndef thing():\n    {VALUES[case]}\n"
    write_project(tmp_path, {"bad": {"dashboard.py": module, "template.html": "{{ thing }}"},
                             "good": simple()})
    done = cli(tmp_path, "build", "--version-id", "v1", process=True)
    assert done.returncode == 1, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    problems = [line for line in done.stderr.splitlines() if line.startswith("dashboards/")]
    assert len(problems) == 1, done.stderr
    assert problems[0].startswith("dashboards/bad/dashboard.py:4: collector 'thing' returned a "
                                  "value that cannot be stored")
    manifest = _manifest(tmp_path)
    assert manifest["good"]["latest"]["id"] == "v1" and manifest["good"]["status"] == "ok"
    assert manifest["bad"]["status"] == "error"


def test_hostile_values_do_not_break_the_preview(tmp_path: Path) -> None:
    module = "from dashsite import collector\n\n\n@collector\ndef thing():\n    return 10 ** 5000\n"
    write_project(tmp_path, {"bad": {"dashboard.py": module, "template.html": "{{ thing }}"},
                             "good": simple()})
    builder = PreviewBuilder(tmp_path, tmp_path / "preview")
    builder.full()
    assert "cannot be stored" in builder.errors["bad"].one_line()
    assert (tmp_path / "preview" / "good" / "index.html").is_file()


IMPORT_CASES = {
    "sys-exit": ("import sys\nsys.exit(3)\n", r"dashboard.py:2: SystemExit while loading: 3"),
    "os-exit": ("import os\nos._exit(0)\n", r"dashboard.py:2: ExitRefused while loading"),
    "keyboard": ("raise KeyboardInterrupt('x')\n", r"dashboard.py:1: KeyboardInterrupt while"),
    "loop": ("while True:\n    pass\n", r"dashboard.py: still loading after 1 s"),
}


@pytest.mark.parametrize("case", sorted(IMPORT_CASES))
def test_a_module_that_exits_or_hangs_at_import_fails_alone(tmp_path: Path, case: str) -> None:
    source, expected = IMPORT_CASES[case]
    write_project(tmp_path, {"bad": {"dashboard.py": source, "template.html": "x"},
                             "good": simple()}, config="import_timeout = 1\n")
    done = cli(tmp_path, "build", "--version-id", "v1", timeout=60, process=True)
    assert done.returncode == 1, done.stderr
    problems = [line for line in done.stderr.splitlines() if line.startswith("dashboards/")]
    assert len(problems) == 1, done.stderr
    assert expected in problems[0]
    assert _manifest(tmp_path)["good"]["latest"]["id"] == "v1"


EXITING = """
import os
from dashsite import collector

@collector
def sync_exit():
    os._exit(5)

@collector
async def async_exit():
    os._exit(6)

@collector
async def threaded_exit():  # on a thread of its own (asyncio's default executor)
    import asyncio
    await asyncio.to_thread(os._exit, 7)

@collector
def fine():
    return 1
"""


def test_a_collector_that_calls_os_exit_fails_alone(tmp_path: Path) -> None:
    """os._exit in a collector ended the build at once with its status and not a word (the
    preview too): it fails that collector now, as any error does."""
    write_project(tmp_path, {"bad": {"dashboard.py": EXITING, "template.html": "{{ fine }}"},
                             "good": simple()})
    done = cli(tmp_path, "build", "--version-id", "v1", timeout=60, process=True)
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "os._exit" in line]
    assert said == [
        "dashboards/bad: collector 'sync_exit' failed: ExitRefused: os._exit(5) called by a "
        "collector (it would end dashsite at once)",
        "dashboards/bad: collector 'async_exit' failed: ExitRefused: os._exit(6) called by a "
        "collector (it would end dashsite at once)",
        "dashboards/bad: collector 'threaded_exit' failed: ExitRefused: os._exit(7) called by "
        "a collector (it would end dashsite at once)"], done.stderr
    assert _manifest(tmp_path)["good"]["latest"]["id"] == "v1"
    assert _manifest(tmp_path)["bad"]["latest"]["id"] == "v1"


def test_a_collector_left_past_its_timeout_cannot_end_the_process_later(
    tmp_path: Path,
) -> None:
    """Abandoned at its timeout, it calls os._exit after the collection: the process (a
    serve --watch preview, here this test's) goes on."""
    import time

    late = ("import os, time\nfrom dashsite import collector\n\n@collector(timeout=0.2)\n"
            "def late():\n    time.sleep(0.6)\n    os._exit(0)\n")
    write_project(tmp_path, {"late": {"dashboard.py": late, "template.html": "x"}})
    result = build(tmp_path, version_id="v1")
    assert "no result within 0.2 s" in result.dashboards[0].errors["late"]
    time.sleep(1.0)  # its thread wakes and calls os._exit(0): refused on that thread
    import os

    assert os._exit.__module__ == "dashsite.collection.exits"


def test_serve_watch_stops_on_ctrl_c_with_a_stuck_collector(tmp_path: Path) -> None:
    write_project(tmp_path, {"slow": {"dashboard.py": STUCK_SYNC, "template.html": "{{ fine }}"}})
    server = ServeProcess(tmp_path, "--watch")
    assert server.stop() == 0
