from __future__ import annotations

from dashsite import (
    MonitorKV,
    MonitorList,
    MonitorMetric,
    MonitorTable,
    StatusCell,
    StatusLevel,
    worst_level,
)


def test_empty_and_plain_data_is_ok() -> None:
    assert worst_level({}) is StatusLevel.OK
    assert worst_level({"a": 1, "b": ["x", {"c": None}]}) is StatusLevel.OK


def test_worst_level_searches_dicts_lists_and_tables() -> None:
    table = MonitorTable(["name", "state"])
    table.add_row(["db", StatusCell("DOWN", StatusLevel.CRITICAL)])
    data = {
        "cpu": MonitorMetric(50, level=StatusLevel.WARNING),
        "nested": {"rows": [table]},
    }
    assert worst_level(data) is StatusLevel.CRITICAL
    kv = MonitorKV({"a": MonitorList([StatusCell("x", StatusLevel.WARNING)])})
    assert worst_level({"kv": kv}) is StatusLevel.WARNING


def test_a_failed_collector_makes_it_at_least_error() -> None:
    assert worst_level({"x": StatusCell("fine")}, failed=True) is StatusLevel.ERROR
    critical = {"x": StatusCell("bad", StatusLevel.CRITICAL)}
    assert worst_level(critical, failed=True) is StatusLevel.CRITICAL
