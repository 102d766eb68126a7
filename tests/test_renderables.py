from __future__ import annotations

import re
from pathlib import Path

import pytest

import dashsite
from dashsite import (
    AreaChart,
    BarChart,
    LineChart,
    MonitorImage,
    MonitorKV,
    MonitorList,
    MonitorMetric,
    MonitorTable,
    Renderable,
    RenderError,
    Sparkline,
    StatusCell,
    StatusLevel,
    StatusTimeline,
    VegaLite,
)
from dashsite.types.styles import LEVEL_COLORS
from payloads import XSS_PAYLOADS

from htmltree import all_attributes, parse


def style_of(node) -> dict[str, str]:
    pairs = (part.split(":", 1) for part in (node.attrs.get("style") or "").split(";") if part)
    return {key.strip(): value.strip() for key, value in pairs}


@pytest.mark.parametrize("level", list(StatusLevel))
def test_status_cell_class_mode_names_the_level(level: StatusLevel) -> None:
    span = parse(StatusCell("UP", level).render()).find("span")
    assert f"status-{level.name.lower()}" in span.classes
    assert span.text() == "UP"
    assert "style" not in span.attrs


@pytest.mark.parametrize("level", list(StatusLevel))
def test_status_cell_inline_mode_uses_style_only(level: StatusLevel) -> None:
    span = parse(StatusCell("DOWN", level).render(inline_css=True)).find("span")
    assert "class" not in span.attrs
    assert style_of(span)["background-color"] == LEVEL_COLORS[level]
    assert span.text() == "DOWN"


def test_status_level_orders_and_parses() -> None:
    assert StatusLevel.OK < StatusLevel.WARNING < StatusLevel.ERROR < StatusLevel.CRITICAL
    assert StatusLevel.parse("Warning") is StatusLevel.WARNING
    assert StatusCell("x", "critical").level is StatusLevel.CRITICAL  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown status level"):
        StatusLevel.parse("bad")


def test_table_rejects_a_row_of_the_wrong_length() -> None:
    table = MonitorTable(["a", "b"])
    with pytest.raises(RenderError, match="3 cells but the table has 2 headers"):
        table.add_row([1, 2, 3])
    assert table.rows == []
    # A dict gave its keys as cells (its values lost), a string its characters.
    for row in ({"a": 1, "b": 2}, "ab", None, 5):
        with pytest.raises(RenderError, match="row must be a list of cells"):
            table.add_row(row)  # type: ignore[arg-type]
    assert table.rows == []


@pytest.mark.parametrize("inline", [False, True])
def test_table_renders_headers_rows_and_nested_renderables(inline: bool) -> None:
    table = MonitorTable(["Service", "State", "Latency"], title="APIs")
    table.add_row(["api", StatusCell("UP", StatusLevel.OK), MonitorMetric(12, unit="ms")])
    table.add_row(["db", MonitorList(["a", StatusCell("SLOW", StatusLevel.WARNING)]), 3.5])
    root = parse(table.render(inline_css=inline))
    assert root.find("caption").text() == "APIs"
    assert [th.text() for th in root.find_all("th")] == ["Service", "State", "Latency"]
    rows = list(root.find("tbody").find_all("tr"))
    assert len(rows) == 2
    first = list(rows[0].find_all("td"))
    assert first[0].text() == "api"
    assert first[1].find("span").text() == "UP"
    assert "12" in first[2].text() and "ms" in first[2].text()
    second = list(rows[1].find_all("td"))
    assert second[0].text() == "db"
    assert [li.text() for li in second[1].find_all("li")] == ["a", "SLOW"]
    assert second[2].text() == "3.5"
    if not inline:
        assert "monitor-table" in root.find("table").classes
        assert "status-ok" in first[1].find("span").classes
    else:
        assert all("class" not in node.attrs for node in root.iter())


@pytest.mark.parametrize("inline", [False, True])
def test_kv_renders_keys_and_nested_values(inline: bool) -> None:
    kv = MonitorKV({"Host": "srv-01", "API": StatusCell("UP"), "Disk": MonitorMetric(80, unit="%")},
                   title="Server")
    root = parse(kv.render(inline_css=inline))
    assert root.find("h3").text() == "Server"
    keys = [th.text() for th in root.find_all("th")]
    assert keys == ["Host", "API", "Disk"]
    cells = list(root.find_all("td"))
    assert cells[0].text() == "srv-01"
    assert cells[1].find("span").text() == "UP"
    assert cells[2].text() == "80%"


def test_list_ordered_and_unordered() -> None:
    assert parse(MonitorList(["a"]).render()).find("ul").find("li").text() == "a"
    ol = parse(MonitorList(["x", "y"], ordered=True).render(inline_css=True)).find("ol")
    assert [li.text() for li in ol.find_all("li")] == ["x", "y"]


@pytest.mark.parametrize("level", list(StatusLevel))
def test_metric_shows_its_level_in_both_modes(level: StatusLevel) -> None:
    metric = MonitorMetric(1234.5, label="Requests", level=level, unit="/s")
    classy = parse(metric.render()).find("div")
    assert f"metric-{level.name.lower()}" in classy.classes
    assert classy.find("span", class_="metric-value").text() == "1,234.5/s"
    assert classy.find("span", class_="metric-label").text() == "Requests"
    inline = parse(metric.render(inline_css=True)).find("div")
    value_span = inline.find("span")
    assert style_of(value_span)["color"] == LEVEL_COLORS[level]
    assert value_span.text() == "1,234.5/s"


PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)

SAMPLES = {
    "StatusCell": lambda: StatusCell("x"),
    "MonitorTable": lambda: MonitorTable(["a"]),
    "MonitorKV": lambda: MonitorKV({}),
    "MonitorList": lambda: MonitorList([]),
    "MonitorMetric": lambda: MonitorMetric(1),
    "MonitorImage": lambda: MonitorImage(data=PNG_1X1, alt="dot"),
    "Sparkline": lambda: Sparkline([1, 2]),
    "LineChart": lambda: LineChart([1, 2]),
    "AreaChart": lambda: AreaChart([1, 2]),
    "BarChart": lambda: BarChart({"a": 1}),
    "StatusTimeline": lambda: StatusTimeline([]),
    "VegaLite": lambda: VegaLite({"mark": "point", "description": "a dot"}),
}


def test_every_type_is_a_renderable() -> None:
    """Every registered render type: a sample each, rendered both ways, usable in a
    template, exported, stored and read back, and named in the docs' templates page."""
    from dashsite.render.environment import create_environment
    from dashsite.types.namespace import template_globals
    from dashsite.types.renderables import RENDER_TYPES, is_builtin
    from dashsite.types.serialize import from_jsonable, to_jsonable

    # A new render type needs a sample here (a dashboard's or a plugin's is module:qualname).
    assert {kind for kind in RENDER_TYPES if is_builtin(kind)} == set(SAMPLES)
    readme = (Path(__file__).parent.parent / "docs" / "reference" / "templates.md").read_text()
    environment = create_environment([])
    for name, make in SAMPLES.items():
        obj = make()
        assert type(obj) is RENDER_TYPES[name] and isinstance(obj, Renderable), name
        for inline in (False, True):
            html = obj.render(inline_css=inline)
            assert isinstance(html, str) and html.strip(), name
            assert not list(parse(html).find_all("script")), name
        assert obj.__html__() == obj.render(), name
        assert template_globals()[name] is RENDER_TYPES[name], name
        assert name in dashsite.__all__ and getattr(dashsite, name) is RENDER_TYPES[name], name
        back = from_jsonable(to_jsonable(obj))  # as a reused or historical value
        assert type(back) is type(obj) and back.render() == obj.render(), name
        assert environment.from_string("{{ x }}").render(x=obj) == obj.render(), name
        assert f"`{name}`" in readme, name


def _everything(payload: str):
    table = MonitorTable([payload, "b"], title=payload)
    table.add_row([payload, StatusCell(payload)])
    yield StatusCell(payload, StatusLevel.ERROR)
    yield table
    yield MonitorKV({payload: payload, "nested": MonitorList([payload])}, title=payload)
    yield MonitorList([payload, StatusCell(payload)], ordered=True, title=payload)
    yield MonitorMetric(payload, label=payload, unit=payload)
    yield Sparkline([1, 2, 3], label=payload)
    yield LineChart({payload: [1, 2, None, 3]}, title=payload, unit=payload,
                    annotations=[(1, payload)])
    yield BarChart({payload: {payload: 2}}, title=payload)


@pytest.mark.parametrize("inline", [False, True])
@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payloads_are_escaped_everywhere(payload: str, inline: bool) -> None:
    for obj in _everything(payload):
        html = obj.render(inline_css=inline)
        root = parse(html)
        assert not list(root.find_all("script")), (type(obj).__name__, html)
        assert not list(root.find_all("img")), (type(obj).__name__, html)
        assert not list(root.find_all("a")), (type(obj).__name__, html)
        for node, name, value in all_attributes(root):
            assert not name.startswith("on"), (type(obj).__name__, node.tag, name)
            if name in {"href", "src", "action", "formaction", "xlink:href"}:
                assert not value.lower().startswith("javascript:"), (type(obj).__name__, name)
        assert payload in root.text() or payload in html.replace("&amp;", "&"), type(obj).__name__


def _luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("level", list(StatusLevel))
def test_badge_and_metric_colours_meet_wcag_aa_on_white(level: StatusLevel) -> None:
    # White badge text on the level colour, and the level colour as metric text on white.
    assert _contrast(LEVEL_COLORS[level], "#ffffff") >= 4.5


def test_tables_right_align_numbers_and_format_declared_columns() -> None:
    from datetime import UTC, datetime

    from htmltree import parse

    table = MonitorTable(["Name", "PID", "RSS", "Share", "Up", "Since"],
                         formats={"PID": "id", "RSS": "bytes", "Share": "percent",
                                  "Up": "duration"})
    table.add_row(["api", 5880, 270553174016, 0.953, 3725, datetime(2026, 11, 27, 22, 9, 13,
                                                                     tzinfo=UTC)])
    table.add_row(["db", None, 1024, 0.5, 12.5, None])
    for inline in (False, True):
        tree = parse(table.render(inline_css=inline))
        cells = [td.text() for td in tree.find("tbody").find("tr").find_all("td")]
        assert cells == ["api", "5880", "252.0 GiB", "95.3%", "1h 2m", "2026-11-27 22:09 UTC"]
        heads = list(tree.find("thead").find_all("th"))
        if inline:
            aligned = ["text-align:right" in h.attrs["style"] for h in heads]
        else:
            aligned = ["num" in h.classes for h in heads]
        assert aligned == [False, True, True, True, True, False]
    with pytest.raises(RenderError):
        MonitorTable(["A"], formats={"B": "bytes"})
    with pytest.raises(RenderError):
        MonitorTable(["A"], formats={"A": "furlongs"})


def test_a_number_column_is_right_aligned_without_formats() -> None:
    from htmltree import parse

    table = MonitorTable(["Service", "Errors"])
    table.add_row(["api", 1234])
    table.add_row(["db", None])
    tree = parse(table.render())
    assert [td.classes for td in tree.find("tbody").find("tr").find_all("td")] == [[], ["num"]]
    assert tree.find("tbody").find("tr").find_all("td").__next__().text() == "api"


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (0.25, "250 ms"), (4.2, "4.2 s"), (200, "3m 20s"), (7500, "2h 5m"), (273600, "3d 4h"),
    (-7500, "-2h 5m"), (-0.25, "-250 ms"), (None, "—"), (float("-inf"), "—"),
    (float("inf"), "—"), (float("nan"), "—"),
])
def test_a_duration_reads_as_a_span_also_between_clocks_that_disagree(
    seconds: float | None, text: str
) -> None:
    from dashsite.types.formats import duration

    assert duration(seconds) == text


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda: MonitorTable(["a", "b"], [["x", 1]]), "MonitorTable title must be text, not list"),
        (lambda: MonitorTable("Service"), "MonitorTable headers must be a list of names"),
        (lambda: MonitorKV(["a", "b"]), "MonitorKV items must be a mapping, not list"),
        (lambda: MonitorKV({"a": 1}, title=3), "MonitorKV title must be text, not int"),
        (lambda: MonitorList("abc"), "MonitorList items must be a list, not str"),
        (lambda: MonitorList(["a"], title=["x"]), "MonitorList title must be text, not list"),
        (lambda: MonitorMetric(3, label=["x"]), "MonitorMetric label must be text, not list"),
        (lambda: MonitorMetric(3, unit=5), "MonitorMetric unit must be text, not int"),
    ],
)
def test_a_field_in_the_wrong_place_is_refused_where_it_is_made(make, said: str) -> None:
    # kstlib's MonitorTable(headers, title=""): rows passed second used to become a
    # caption "[['x', 1]]" on the page and a data.json that no reader accepted.
    with pytest.raises(RenderError, match=re.escape(said)) as caught:
        make()
    assert caught.value.hint


def test_no_title_is_an_empty_one() -> None:
    # kstlib's title=None: nothing to show, not a mistake.
    assert MonitorTable(["a"], title=None).title == ""  # type: ignore[arg-type]
    assert MonitorKV({"a": 1}, title=None).title == ""  # type: ignore[arg-type]
    assert MonitorMetric(3, label=None, unit=None).render().count("metric-") == 2  # type: ignore[arg-type]


@pytest.mark.parametrize("level", [None, "bogus", 99, ["ok"]])
def test_a_level_that_is_none_is_a_render_error(level) -> None:
    # It was an AttributeError ('NoneType' has no attribute 'strip') or a bare ValueError.
    for make in (lambda: StatusCell("x", level), lambda: MonitorMetric(1, level=level)):
        with pytest.raises(RenderError, match="level must be one of ok, warning, error, critical"):
            make()


def test_a_render_that_returns_no_string_is_a_render_error_naming_the_type() -> None:
    from dashsite import RenderError
    from dashsite.types.renderables import render_value

    class Gauge:
        def render(self, *, inline_css: bool = False) -> object:
            return None

    with pytest.raises(RenderError, match=r"Gauge.render\(\) returned NoneType, not a str"):
        render_value(Gauge())
