"""This machine's health: load, memory and disk, with thresholds mapped to levels."""

from __future__ import annotations

import os
import platform
import shutil
import time
from pathlib import Path

from dashsite import MonitorKV, MonitorMetric, MonitorTable, StatusCell, StatusLevel, collector

TITLE = "Machine health"
DESCRIPTION = "Load, memory and disk of the machine that ran the build."

WARN_AT, ERROR_AT = 80.0, 90.0


def level_for(percent: float) -> StatusLevel:
    """OK below 80 %, WARNING below 90 %, ERROR above."""
    if percent >= ERROR_AT:
        return StatusLevel.ERROR
    if percent >= WARN_AT:
        return StatusLevel.WARNING
    return StatusLevel.OK


def meminfo() -> dict[str, int]:
    """``/proc/meminfo`` in bytes (Linux); empty elsewhere."""
    path = Path("/proc/meminfo")
    if not path.exists():
        return {}
    values = {}
    for line in path.read_text().splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key] = int(parts[0]) * 1024
    return values


LOAD_WARN_PER_CORE, LOAD_ERROR_PER_CORE = 2.0, 4.0
"""A load above the core count is normal while a build runs (this one, say); far above is not."""


@collector
def load() -> MonitorMetric:
    one, _, _ = os.getloadavg()
    per_core = one / (os.cpu_count() or 1)
    level = (
        StatusLevel.ERROR if per_core >= LOAD_ERROR_PER_CORE
        else StatusLevel.WARNING if per_core >= LOAD_WARN_PER_CORE
        else StatusLevel.OK
    )
    return MonitorMetric(round(one, 2), label=f"Load (1 min, {os.cpu_count()} cores)",
                         level=level)


@collector
def memory() -> MonitorMetric:
    info = meminfo()
    total, available = info.get("MemTotal", 0), info.get("MemAvailable", 0)
    used = (1 - available / total) * 100 if total else 0.0
    return MonitorMetric(round(used, 1), label="Memory used", level=level_for(used), unit="%")


@collector(timeout=10)
def disks() -> MonitorTable:
    table = MonitorTable(["Mount", "Size", "Used", "State"], title="Disks",
                         formats={"Size": "bytes", "Used": "percent"})
    for mount in ("/", "/tmp", str(Path.home())):
        if not os.path.isdir(mount):
            continue
        usage = shutil.disk_usage(mount)
        used = usage.used / usage.total
        level = level_for(used * 100)
        table.add_row([mount, usage.total, used, StatusCell(level.name, level)])
    return table


@collector
def host() -> MonitorKV:
    uptime = ""
    if Path("/proc/uptime").exists():
        seconds = float(Path("/proc/uptime").read_text().split()[0])
        uptime = f"{seconds / 3600:.1f} h"
    return MonitorKV({
        "Host": platform.node(),
        "System": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "Uptime": uptime or "unknown",
        "Checked": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    })
