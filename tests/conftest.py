from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashsite.collection import imports

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def no_leaked_threads(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves threads running (a small grace period to wind down)."""
    before = set(threading.enumerate())
    yield
    imports.WORKER.release()  # its idle wait (for a next import) is not a leak
    deadline = time.monotonic() + 3
    # A module's dask cluster lives across tests; its pools grow as work arrives.
    cluster = "dask_client" in request.fixturenames
    while True:
        leaked = [
            t
            for t in threading.enumerate()
            if t not in before and t.is_alive() and not (cluster and _dask_thread(t.name))
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not leaked, f"{request.node.name} leaked threads: {[t.name for t in leaked]}"


def _dask_thread(name: str) -> bool:
    return name == "IO loop" or "Dask-" in name or name.startswith("dashsite-collector")
