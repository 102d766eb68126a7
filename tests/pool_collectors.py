"""Collectors the executor tests run, in a module of their own.

A spawned process pool imports a function's module by name: here that costs
nothing, where ``test_cluster`` would import dask in every worker.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path


def answer() -> int:
    return 42


def boom() -> int:
    raise ValueError("boom")


def sleeper() -> str:
    time.sleep(1.5)
    return "late"


def stamp() -> str:
    return uuid.uuid4().hex


def flaky(marker: str) -> str:
    path = Path(marker)
    if not path.exists():
        path.write_text("failed once")
        raise ConnectionError("first attempt fails")
    return "second attempt"


async def where_async() -> int:
    await asyncio.sleep(0)
    return os.getpid()


def unpicklable() -> object:
    return lambda: None
