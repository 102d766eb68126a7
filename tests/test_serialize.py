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
