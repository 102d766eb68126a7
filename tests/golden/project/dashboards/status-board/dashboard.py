from pathlib import Path

from dashsite import MonitorKV, MonitorMetric, MonitorTable, StatusCell, StatusLevel, collector

TITLE = "Status board"
DESCRIPTION = "Fixed values, so the output is the same every time."
REQUESTS = Path(__file__).with_name("requests.txt")  # the golden test's second build writes it


@collector
def services() -> MonitorTable:
    table = MonitorTable(["Service", "State", "Latency"], title="Services")
    table.add_row(["api", StatusCell("UP", StatusLevel.OK), "12 ms"])
    table.add_row(["queue", StatusCell("SLOW", StatusLevel.WARNING), "870 ms"])
    return table


@collector
async def requests() -> MonitorMetric:
    count = int(REQUESTS.read_text()) if REQUESTS.is_file() else 1234
    return MonitorMetric(count, label="Requests / s", level=StatusLevel.OK)


@collector
def info() -> MonitorKV:
    return MonitorKV({"Region": "eu-west", "Owner": "<platform team>"})
