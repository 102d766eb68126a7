"""The repository's own git activity, read with async subprocesses."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from dashsite import MonitorKV, MonitorList, MonitorMetric, MonitorTable, StatusLevel, collector

TITLE = "Git activity"
DESCRIPTION = "Commits, authors and recent changes of this repository."

REPO = Path(__file__).resolve().parents[2]


async def git(*args: str) -> str:
    """Run git in the repository and return its output."""
    process = await asyncio.create_subprocess_exec(
        "git", "-C", str(REPO), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(err.decode().strip() or f"git {args[0]} failed")
    return out.decode()


@collector(timeout=20)
async def summary() -> MonitorKV:
    count, branch, last = await asyncio.gather(
        git("rev-list", "--count", "HEAD"),
        git("rev-parse", "--abbrev-ref", "HEAD"),
        git("log", "-1", "--format=%h %s (%cr)"),
    )
    return MonitorKV({"Branch": branch.strip(), "Commits": int(count), "Last": last.strip()})


@collector(timeout=20)
async def recent() -> MonitorTable:
    log = await git("log", "-10", "--format=%h%x1f%an%x1f%cs%x1f%s")
    table = MonitorTable(["Commit", "Author", "Date", "Subject"], title="Last 10 commits")
    for line in log.splitlines():
        table.add_row(line.split("\x1f", 3))
    return table


@collector(timeout=20)
async def authors() -> MonitorList:
    names = Counter((await git("log", "--format=%an")).splitlines())
    return MonitorList([f"{name}: {n} commit(s)" for name, n in names.most_common(5)],
                       ordered=True, title="Top authors")


@collector(timeout=20)
async def dirty() -> MonitorMetric:
    changed = [line for line in (await git("status", "--porcelain")).splitlines() if line]
    level = StatusLevel.OK if not changed else StatusLevel.WARNING
    return MonitorMetric(len(changed), label="Uncommitted changes", level=level)
