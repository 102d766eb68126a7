from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from dashsite import (
    MonitorKV,
    MonitorList,
    MonitorMetric,
    MonitorTable,
    Sparkline,
    StatusCell,
    StatusLevel,
    from_jsonable,
    to_jsonable,
)
from dashsite.core.levels import iter_levels, worst_level
from dashsite.types.serialize import KIND


def test_render_types_round_trip_through_json() -> None:
    table = MonitorTable(["a", "b"], title="t")
    table.add_row([1, StatusCell("UP", StatusLevel.OK)])
    data = {
        "cell": StatusCell("DOWN", StatusLevel.CRITICAL),
        "metric": MonitorMetric(3.5, "cpu", StatusLevel.WARNING, "%"),
        "table": table,
        "kv": MonitorKV({"k": MonitorList([1, 2], ordered=True)}),
        "spark": Sparkline([1, None, 3], label="x"),
        "when": datetime(2026, 11, 27, 20, 15, tzinfo=UTC),
        "plain": {"n": [1, 2.5, "s", None, True]},
    }
    encoded = to_jsonable(data)
    assert encoded["cell"] == {KIND: "StatusCell", "label": "DOWN", "level": "critical"}
    text = json.dumps(encoded)
    decoded = from_jsonable(json.loads(text))
    assert decoded["cell"] == data["cell"]
    assert decoded["metric"] == data["metric"]
    assert decoded["table"].rows == table.rows
    assert decoded["kv"].render() == data["kv"].render()
    assert decoded["spark"] == data["spark"]
    assert decoded["when"] == data["when"]
    assert decoded["plain"] == data["plain"]


def test_unstorable_values_name_where_they_are() -> None:
    with pytest.raises(TypeError, match=r"value\['rows'\]\[1\]: a object cannot be stored"):
        to_jsonable({"rows": [1, object()]})
    assert to_jsonable(float("nan")) is None


def test_plain_cells_are_stored_as_they_are_and_bad_ones_named() -> None:
    """A table's plain cells take a short way (no name made for each); what they
    store, and the place a bad one is named by, are the same as by the long way."""
    table = MonitorTable(["a", "b", "c", "d"])
    table.add_row(["é", 2**62, float("inf"), StatusLevel.WARNING])
    table.add_row([True, None, 1.5, (1, "x")])
    stored = to_jsonable({"t": table})["t"]
    assert stored["rows"] == [["é", 2**62, None, "warning"], [True, None, 1.5, [1, "x"]]]
    assert type(stored["rows"][1][0]) is bool
    for bad, said in (("a\ud800", "lone surrogate"), (10**5000, "more than 4000 digits")):
        table.add_row([1, 2, 3, [bad]])
        with pytest.raises(TypeError, match=r"^t\.rows\[2\]\[3\]\[0\]: .*" + said):
            to_jsonable(table, "t")
        table.rows.pop()
    deep: list[object] = ["leaf"]
    for _ in range(199):  # 200 lists around a string: the deepest that is stored
        deep = [deep]
    assert json.dumps(to_jsonable(deep)).count("[") == 200
    with pytest.raises(TypeError, match="nested deeper than 200 levels"):
        to_jsonable([deep])


def test_levels_are_found_among_plain_cells() -> None:
    table = MonitorTable(["a", "b"])
    table.add_row(["x", StatusCell("DOWN", StatusLevel.CRITICAL)])
    table.add_row([3, {"k": [None, MonitorMetric(1, "m", StatusLevel.WARNING)]}])
    assert worst_level({"n": 1, "t": table, "s": "text"}) is StatusLevel.CRITICAL
    assert worst_level([1, "a", None, 2.5, True]) is StatusLevel.OK
    assert sorted(iter_levels(table)) == [StatusLevel.WARNING, StatusLevel.CRITICAL]
