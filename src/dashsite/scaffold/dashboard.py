"""{{TITLE}}: collectors for this dashboard.

Each @collector function runs at build time (sync or async); its return
value is available in the template under the function's name.
"""

import platform
import shutil

from dashsite import MonitorKV, MonitorMetric, StatusLevel, collector

TITLE = "{{TITLE}}"
DESCRIPTION = "What this dashboard watches, in one line."


@collector
def host() -> MonitorKV:
    return MonitorKV({"Host": platform.node(), "Python": platform.python_version()})


@collector(timeout=10, retries=1)
def disk() -> MonitorMetric:
    usage = shutil.disk_usage("/")
    used = usage.used / usage.total * 100
    level = StatusLevel.OK if used < 80 else StatusLevel.WARNING if used < 90 else StatusLevel.ERROR
    return MonitorMetric(round(used, 1), label="Disk used", level=level, unit="%")
