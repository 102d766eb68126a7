"""Extension points: a user's render type, and a plugin package's type, publisher and output.

The plugin package is made in a tmp folder with a ``*.dist-info/entry_points.txt``
on ``sys.path``, which ``importlib.metadata`` finds like an installed package's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashsite.types.serialize import UnavailableType, from_jsonable, to_jsonable
from projects import build, fixed_clock, vdir, write_project

from htmltree import parse

T0 = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)

GAUGE_MODULE = """
from dataclasses import dataclass
from pathlib import Path

from dashsite import RenderType, collector

TITLE = "Disk"


@dataclass(frozen=True)
class Gauge(RenderType):
    value: float
    max: float = 100.0

    def render(self, *, inline_css: bool = False) -> str:
        return f'<meter class="gauge" value="{self.value}" max="{self.max}">{self.value}</meter>'


@collector
def disk():
    return Gauge(float((Path(__file__).parent / "value.txt").read_text()), max=10.0)
"""
GAUGE_TEMPLATE = """
<div id="now">{{ disk }}</div>
<ol id="before">{% for h in history %}<li>{{ h.data.disk | render }}</li>{% endfor %}</ol>
"""


def _gauge_project(root: Path, value: str) -> Path:
    write_project(root, {"disk": {"dashboard.py": GAUGE_MODULE, "template.html": GAUGE_TEMPLATE,
                                  "value.txt": value}})
    return root


def _page(root: Path) -> object:
    return parse((root / "site" / "disk" / "index.html").read_text(encoding="utf-8"))


def test_a_dashboards_own_render_type_renders_is_stored_and_read_back(tmp_path: Path) -> None:
    _gauge_project(tmp_path, "3")
    first = build(tmp_path, version_id="v1", clock=fixed_clock(T0))
    assert first.exit_code(strict=True) == 0, first.to_json()
    meter = _page(tmp_path).find("div", id="now").find("meter")
    assert (meter.attrs["value"], meter.attrs["max"]) == ("3.0", "10.0")

    stored = json.loads((vdir(tmp_path / "site", "disk", "v1") / "data.json").read_text())
    assert stored["data"]["disk"] == {
        "$kind": "_dashsite_dashboards.disk.dashboard:Gauge", "value": 3.0, "max": 10.0}

    (tmp_path / "dashboards" / "disk" / "value.txt").write_text("7")
    second = build(tmp_path, version_id="v2", clock=fixed_clock(T0 + timedelta(hours=1)))
    assert second.exit_code(strict=True) == 0, second.to_json()
    page = _page(tmp_path)
    assert page.find("div", id="now").find("meter").attrs["value"] == "7.0"
    # v1's Gauge, read back from its data.json, renders as a Gauge again.
    before = [m.attrs["value"] for m in page.find("ol", id="before").find_all("meter")]
    assert "3.0" in before


def test_a_stored_type_that_is_gone_shows_as_a_box_of_its_fields(tmp_path: Path) -> None:
    _gauge_project(tmp_path, "3")
    assert build(tmp_path, version_id="v1", clock=fixed_clock(T0)).exit_code(strict=True) == 0
    data_file = vdir(tmp_path / "site", "disk", "v1") / "data.json"
    stored = json.loads(data_file.read_text())
    stored["data"]["disk"]["$kind"] = "_dashsite_dashboards.disk.dashboard:OldGauge"  # renamed
    data_file.write_text(json.dumps(stored))

    second = build(tmp_path, version_id="v2", clock=fixed_clock(T0 + timedelta(hours=1)))
    assert second.exit_code(strict=True) == 0, second.to_json()
    box = _page(tmp_path).find("ol", id="before").find("div", class_="monitor-unavailable")
    assert box.attrs["data-kind"] == "_dashsite_dashboards.disk.dashboard:OldGauge"
    cells = {th.text(): td.text() for th, td in zip(box.find_all("th"), box.find_all("td"),
                                                     strict=True)}
    assert cells == {"value": "3", "max": "10"}


def test_a_type_that_is_gone_stores_back_what_was_read() -> None:
    stored = {"$kind": "nowhere.module:Gauge", "value": 3.5, "max": 10,
              "inner": {"$kind": "StatusCell", "label": "UP", "level": "ok"}}
    value = from_jsonable(stored)
    assert isinstance(value, UnavailableType) and value.kind == "nowhere.module:Gauge"
    assert to_jsonable(value) == stored
    # dashsite's own kinds stay strict: an unknown one is refused, not boxed.
    with pytest.raises(ValueError, match="unknown stored kind"):
        from_jsonable({"$kind": "NoSuchKind"})
