"""Where collectors run: the executor contract, and builds on a real dask cluster.

The contract (values in order, failures isolated, timeouts, retries, no
deduplication, async collectors on the build's loop) is tested once,
parametrised over the default thread pool, a process pool and dask.
"""

from __future__ import annotations

import asyncio
import functools
import json
import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from dashsite.collection.cluster import DaskExecutor, DaskOffload
from dashsite.collection.collector import Collector
from dashsite.collection.dashboard import Dashboard
from dashsite.collection.engine import collect
from dashsite.core.config import load_config
from dashsite.site.build import BuildOptions, build_site
from pool_collectors import answer, boom, flaky, sleeper, stamp, unpicklable, where_async
from projects import cli, write_project


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Client]:
    cluster = LocalCluster(
        n_workers=1, threads_per_worker=8, processes=False, dashboard_address=None
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def process_pool() -> Iterator[ProcessPoolExecutor]:
    """One pool of spawned processes for the module: each costs an interpreter and imports."""
    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))
    assert pool.submit(answer).result() == 42  # started (and its manager thread) before any test
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(params=["threads", "processes", "dask"])
def executor(request: pytest.FixtureRequest, dask_client: Client,
             process_pool: ProcessPoolExecutor) -> Iterator[Executor | None]:
    if request.param == "threads":
        yield None  # the engine's own daemon thread pool
    elif request.param == "processes":
        yield process_pool
    else:
        yield DaskExecutor(dask_client)


def run(executor: Executor | None, *collectors: Collector) -> list:
    return asyncio.run(collect(collectors, executor=executor, default_timeout=30))


def test_values_come_back_in_order(executor: Executor | None) -> None:
    outcomes = run(
        executor, Collector("a", answer), Collector("b", where_async), Collector("c", answer)
    )
    assert [o.name for o in outcomes] == ["a", "b", "c"]
    assert [o.value for o in outcomes] == [42, os.getpid(), 42]  # async ones run here
    assert all(o.ok and o.attempts == 1 for o in outcomes)


def test_a_failure_is_its_collectors_only(executor: Executor | None) -> None:
    ok, bad = run(executor, Collector("ok", answer), Collector("bad", boom))
    assert ok.value == 42 and ok.error is None
    assert bad.value is None and str(bad.error).endswith("collector 'bad' failed: ValueError: boom")


def test_a_timeout_fails_only_the_slow_collector(executor: Executor | None) -> None:
    slow, quick = run(executor, Collector("slow", sleeper, timeout=0.2), Collector("q", answer))
    assert isinstance(slow.error.cause, TimeoutError)
    assert "no result within 0.2 s" in str(slow.error.cause)
    assert slow.duration < 1.5 and quick.value == 42


def test_retries_run_again(executor: Executor | None, tmp_path: Path) -> None:
    func = functools.partial(flaky, str(tmp_path / "marker"))
    (outcome,) = run(executor, Collector("flaky", func, retries=2, backoff=0.01))
    assert outcome.value == "second attempt" and outcome.attempts == 2


def test_calls_are_never_deduplicated(executor: Executor | None) -> None:
    first, second = run(executor, Collector("one", stamp), Collector("two", stamp))
    (third,) = run(executor, Collector("one", stamp))
    assert len({first.value, second.value, third.value}) == 3


def test_an_unpicklable_value_fails_its_collector_on_a_process_pool(
    process_pool: ProcessPoolExecutor,
) -> None:
    bad, good = run(process_pool, Collector("bad", unpicklable), Collector("good", answer))
    assert bad.error is not None and "pickle" in str(bad.error).lower()
    assert good.value == 42


def test_a_cancelled_future_leaves_nothing_on_the_cluster(dask_client: Client) -> None:
    # Client.get_executor() keeps every future until shutdown: a timed-out collector's
    # task would stay queued or running there. DaskExecutor cancels it.
    future = DaskExecutor(dask_client).submit(sleeper)

    def tasks() -> int:
        return dask_client.run_on_scheduler(
            lambda dask_scheduler: sum(str(key).startswith("sleeper") for key in dask_scheduler.tasks)
        )

    deadline = time.monotonic() + 5
    while tasks() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert tasks() == 1
    assert future.cancel()
    while tasks() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert tasks() == 0  # gone from the cluster, though `future` is still referenced here
    time.sleep(1.6)  # let the worker's thread finish its sleep before the cluster closes


CLUSTER_MODULE = """
import asyncio, os, threading
from dashsite import collector, StatusCell, StatusLevel

class Reading:
    def __init__(self, value):
        self.value = value

@collector
def pid():
    return os.getpid()

@collector
def reading():
    return {"value": Reading(7).value, "cell": StatusCell("UP", StatusLevel.OK)}

@collector
async def here():
    await asyncio.sleep(0)
    return os.getpid()

@collector
def lock():
    return threading.Lock()
"""
CLUSTER_TEMPLATE = (
    "<p id='pid'>{{ pid }}</p><p id='here'>{{ here }}</p>"
    "<p id='value'>{{ reading.value }}</p>{{ reading.cell | render }}"
)
KILLER_MODULE = """
import os, signal
from dashsite import collector

@collector
def fine():
    return 1

@collector
def crash():
    os.kill(os.getpid(), signal.SIGKILL)
"""


def stored(root: Path, slug: str) -> dict:
    (path,) = (root / "site" / slug).glob("*/*/data.json")
    return json.loads(path.read_text())


def test_a_build_on_a_dask_cluster(tmp_path: Path, dask_client: Client) -> None:
    write_project(tmp_path, {"c": {"dashboard.py": CLUSTER_MODULE, "template.html": CLUSTER_TEMPLATE}})
    config = load_config(tmp_path)
    offload = DaskOffload(dask_client, config.root, config.timeout, config.concurrency)
    result = build_site(config, BuildOptions(version_id="v1", offload=offload))
    data = stored(tmp_path, "c")
    assert data["data"]["reading"]["value"] == 7 and data["data"]["here"] == os.getpid()
    assert data["collectors"]["pid"]["ok"] and data["collectors"]["reading"]["ok"]
    # A value that cannot travel back fails its own collector, with a line saying why.
    assert result.dashboards[0].errors.keys() == {"lock"}
    assert result.dashboards[0].errors["lock"].startswith(
        "PicklingError: returned a value that cannot be sent back from the dask worker"
    )


def test_a_worker_that_cannot_see_the_dashboard(tmp_path: Path, dask_client: Client) -> None:
    missing = Dashboard("gone", tmp_path / "gone", tmp_path / "gone" / "template.html", "Gone")
    offload = DaskOffload(dask_client, tmp_path, 5, 4)
    (outcome,) = asyncio.run(offload.run(missing, [Collector("x", answer)]))
    assert "is not on this worker: workers must see the dashboards at the same path" in str(
        outcome.error
    )


@pytest.mark.slow
def test_worker_processes_and_a_killed_worker(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "c": {"dashboard.py": CLUSTER_MODULE, "template.html": CLUSTER_TEMPLATE},
            "k": {"dashboard.py": KILLER_MODULE, "template.html": "<p>{{ fine }}</p>"},
        },
        config='executor = "dask"\nworkers = 2\n',
    )
    done = cli(tmp_path, "build", "--version-id", "v1", timeout=180, process=True)
    assert done.returncode == 0, done.stderr
    said = done.stderr + done.stdout
    assert "collecting on a local cluster (2 worker processes" in said
    c, k = stored(tmp_path, "c"), stored(tmp_path, "k")
    assert c["data"]["pid"] != c["data"]["here"]  # sync on a worker process, async here
    assert c["data"]["reading"]["value"] == 7 and c["errors"].keys() == {"lock"}
    # The killed worker fails its own dashboard's sync collectors, with a line saying why.
    assert k["errors"].keys() == {"fine", "crash"}
    assert "WorkerLost: the dask worker running dashboards/k's collectors died" in k["errors"]["crash"]
    assert "dashboards/k: collector 'crash' failed: WorkerLost" in said
