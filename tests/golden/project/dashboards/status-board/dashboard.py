from dashsite import MonitorKV, MonitorMetric, MonitorTable, StatusCell, StatusLevel, collector

TITLE = "Status board"
DESCRIPTION = "Fixed values, so the output is the same every time."


@collector
def services() -> MonitorTable:
    table = MonitorTable(["Service", "State", "Latency"], title="Services")
    table.add_row(["api", StatusCell("UP", StatusLevel.OK), "12 ms"])
    table.add_row(["queue", StatusCell("SLOW", StatusLevel.WARNING), "870 ms"])
    return table


@collector
async def requests() -> MonitorMetric:
    return MonitorMetric(1234, label="Requests / s", level=StatusLevel.OK)


@collector
def info() -> MonitorKV:
    return MonitorKV({"Region": "eu-west", "Owner": "<platform team>"})
