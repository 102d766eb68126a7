"""Charts: static SVG that says what it shows, survives gaps and long series, and never varies."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashsite import AreaChart, BarChart, LineChart, RenderError, StatusTimeline
from dashsite.types.filters import series
from dashsite.types.plot import downsample, nice_ticks, tick_labels, time_ticks, value_ticks
from dashsite.types.serialize import from_jsonable, to_jsonable
from projects import build, fixed_clock, write_project

from htmltree import parse

T0 = datetime(2026, 11, 27, 20, 15, tzinfo=UTC)
GOLDEN = Path(__file__).parent / "golden" / "charts"


def timed(values: list[float | None], step: timedelta = timedelta(minutes=5)):
    return [(T0 + n * step, v) for n, v in enumerate(values)]


KINDS = {
    "line": LineChart({"api": timed([12, 15, None, 14, 40, 13]),
                       "db": timed([5, 6, 6, 7, 5, 6])},
                      title="Latency", unit="ms", thresholds={"warning": 30},
                      annotations=[(T0 + timedelta(minutes=10), "deploy")]),
    "area": AreaChart(timed([0.2, 0.5, 0.45, 0.9]), title="Disk", format="percent"),
    "bar": BarChart({"mon": {"api": 3, "db": 1}, "tue": {"api": 5, "db": 2}},
                    title="Errors", stacked=True),
    "timeline": StatusTimeline([(T0, "ok"), (T0 + timedelta(hours=1), "error"),
                                (T0 + timedelta(hours=2), "ok")], title="Status",
                               end=T0 + timedelta(hours=4)),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_is_the_same_bytes_every_time(kind: str) -> None:
    chart = KINDS[kind]
    html = chart.render()
    assert html == chart.render() == from_jsonable(to_jsonable(chart)).render()
    golden = GOLDEN / f"{kind}.html"
    if os.environ.get("DASHSITE_REGENERATE"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(html + "\n")
    assert html + "\n" == golden.read_text()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_says_in_words_what_it_shows(kind: str) -> None:
    tree = parse(KINDS[kind].render())
    svg = tree.find("svg")
    assert svg.attrs["role"] == "img"
    desc = svg.find("desc").text()
    assert svg.attrs["aria-label"].endswith(desc)
    assert svg.find("title").text() == tree.find("figcaption").text()
    table = tree.find("details").find("table")
    assert list(table.find("tbody").find_all("tr"))
    assert not re.search(r'id="', KINDS[kind].render())  # nothing random, nothing to collide


def test_the_summary_gives_range_last_min_max() -> None:
    assert KINDS["line"].summary() == (
        "From 2026-11-27 20:15 UTC to 2026-11-27 20:40 UTC: api: last 13 ms, min 12 ms, "
        "max 40 ms; db: last 6 ms, min 5 ms, max 7 ms.")
    assert KINDS["timeline"].summary() == (
        "From 2026-11-27 20:15 UTC to 2026-11-28 00:15 UTC: ok 75%, error 25%.")


def test_series_differ_by_dash_as_well_as_colour() -> None:
    lines = parse(KINDS["line"].render()).find("svg").find_all("polyline")
    dashes = {line.attrs.get("stroke-dasharray") for line in lines}
    assert None in dashes and len(dashes) == 2


def test_a_gap_splits_the_line_and_never_fails() -> None:
    chart = LineChart(timed([1, 2, None, 3, 4, float("nan"), "down", 5]))
    svg = parse(chart.render()).find("svg")
    assert len(list(svg.find_all("polyline"))) == 2 and len(list(svg.find_all("circle"))) == 1
    assert LineChart([]).summary() == "values: no data."
    assert parse(LineChart([]).render()).find("svg").attrs["role"] == "img"
    assert LineChart([None, None]).summary() == "values: no data."


def test_a_spike_survives_downsampling_of_a_year_of_points() -> None:
    values: list[float | None] = [10.0] * 105_120
    values[77_777] = 500.0
    values[90_000] = None
    chart = LineChart(timed(values), title="Year")
    svg = parse(chart.render()).find("svg")
    drawn = [tuple(map(float, pair.split(","))) for line in svg.find_all("polyline")
             for pair in line.attrs["points"].split()]
    assert len(drawn) <= 2 * 640
    top = min(y for _, y in drawn)
    assert top == 10.0  # the spike reaches the top of the plot
    points = downsample([(float(n), v) for n, v in enumerate(values)], 600)
    assert (77_777.0, 500.0) in points and any(y is None for _, y in points)


def test_ticks_are_round_and_read_in_the_charts_unit() -> None:
    assert nice_ticks(0.083, 0.131) == [0.08, 0.09, 0.1, 0.11, 0.12, 0.13, 0.14]
    labels = tick_labels(nice_ticks(0.08, 0.1), None, "")
    assert labels == ["0.080", "0.085", "0.090", "0.095", "0.100"]
    assert len(set(labels)) == len(labels)
    assert tick_labels(value_ticks(0, 2.5e9, "bytes"), "bytes", "") == [
        "0 B", "512.0 MiB", "1.0 GiB", "1.5 GiB", "2.0 GiB", "2.5 GiB"]
    assert tick_labels(nice_ticks(0, 100), None, "ms")[1] == "20 ms"


@pytest.mark.parametrize(("span", "pattern"), [
    (timedelta(hours=2), "%H:%M"), (timedelta(days=3), "%m-%d %H:%M"),
    (timedelta(days=20), "%m-%d"), (timedelta(days=365), "%Y-%m")])
def test_time_ticks_follow_the_range(span: timedelta, pattern: str) -> None:
    ticks, found = time_ticks(T0.timestamp(), (T0 + span).timestamp())
    assert found == pattern
    assert 2 <= len(ticks) <= 12
    assert all(T0.timestamp() <= t <= (T0 + span).timestamp() for t in ticks)


def test_bars_group_or_stack() -> None:
    grouped = parse(BarChart({"a": {"x": 2, "y": 4}}, title="G").render()).find_all("rect")
    stacked = parse(BarChart({"a": {"x": 2, "y": 4}}, stacked=True).render()).find_all("rect")
    grouped, stacked = list(grouped), list(stacked)
    assert grouped[0].attrs["x"] != grouped[1].attrs["x"]  # side by side
    assert stacked[0].attrs["x"] == stacked[1].attrs["x"]  # one on the other
    assert float(stacked[1].attrs["y"]) < float(stacked[0].attrs["y"])


def test_inline_mode_has_no_classes_and_scales_down() -> None:
    html = KINDS["line"].render(inline_css=True)
    assert "class=" not in html and "max-width:100%" in html


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_mail_draws_a_chart_at_a_phones_mail_width_so_its_text_stays_readable(kind: str) -> None:
    from dashsite.types.chart_mail import MAIL_WIDTH

    svg = parse(KINDS[kind].render(inline_css=True)).find("svg")
    width = float(svg.attrs["width"])
    assert width == MAIL_WIDTH == float(svg.attrs["viewbox"].split()[2])  # 340, not 640
    texts = list(svg.find_all("text"))
    assert texts, "a chart without axis labels"
    # The mail shows the image at its own width, or shrunk to the mail's column: 340 px on
    # a 390 px screen (email.html's margins), 310 px on a 360 px one.
    for column in (340, 310):
        scale = min(1.0, column / width)
        assert min(float(t.attrs["font-size"]) for t in texts) * scale >= 11


def test_mail_chart_words_that_collided_go_under_the_image() -> None:
    figure = parse(KINDS["line"].render(inline_css=True)).find("figure")
    inside = " ".join(t.text() for t in figure.find("svg").find_all("text"))
    notes = figure.find("p").text()
    assert "Times in UTC" in notes and "warning at 30 ms" in notes
    assert "deploy (2026-11-27 20:25 UTC)" in notes and "api" in notes and "db" in notes
    assert "deploy" not in inside and "warning" not in inside and "api" not in inside
    assert "class=" not in str(KINDS["line"].render(inline_css=True))
    narrow = LineChart(timed([1, 2, 3]), width=300, height=100).render(inline_css=True)
    assert parse(narrow).find("svg").attrs["width"] == "300"  # never drawn wider than asked


@pytest.mark.parametrize(("make", "says"), [
    (lambda: LineChart([1], width=10), "width must be a whole number of pixels"),
    (lambda: LineChart([1], format="furlongs"), "format must be one of"),
    (lambda: LineChart({"a": [(T0, 1)], "b": [1, 2]}), "mix times and positions"),
    (lambda: LineChart([1], thresholds={"bad": 1}), "unknown status level"),
    (lambda: LineChart({"a": "text"}), "must be numbers or (x, y) pairs"),
    (lambda: StatusTimeline([1, 2]), "StatusTimeline points must be"),
    (lambda: BarChart([1, 2]), "BarChart data must map categories"),
])
def test_bad_input_is_a_render_error(make, says: str) -> None:
    with pytest.raises((RenderError, ValueError), match=re.escape(says)):
        make()


def test_series_from_history_carries_the_times() -> None:
    class Entry:
        def __init__(self, n: int) -> None:
            self.values = {"disk.value": float(n)}
            self.collected_at = T0 + timedelta(minutes=5 * n)

    found = series([Entry(0), Entry(1)], "disk.value").then(7, T0 + timedelta(minutes=10))
    assert list(found) == [0.0, 1.0, 7.0]
    assert found.times[-1] == T0 + timedelta(minutes=10)
    assert found + [8] == [0.0, 1.0, 7.0, 8]  # noqa: RUF005 - what templates write
    assert LineChart(found).summary().startswith("From 2026-11-27 20:15 UTC to 2026-11-27 20:25")


def test_a_dashboard_draws_a_chart_of_its_history_in_one_line(tmp_path: Path) -> None:
    module = """
    from dashsite import collector, MonitorMetric
    import pathlib
    N = pathlib.Path(__file__).with_name("n.txt")

    @collector
    def latency():
        n = int(N.read_text()) if N.exists() else 0
        N.write_text(str(n + 1))
        return MonitorMetric(10 + n * n, label="latency")
    """
    template = ('{{ LineChart((history | series("latency.value")).then(latency.value, '
                'build.collected_at), title="Latency", unit="ms") | render }}')
    write_project(tmp_path, {"alpha": {"dashboard.py": module, "template.html": template}})
    for n in range(4):
        build(tmp_path, version_id=f"v{n}", clock=fixed_clock(T0 + timedelta(minutes=5 * n)))
    page = parse((tmp_path / "site" / "alpha" / "index.html").read_text())
    figure = page.find("figure", class_="chart")
    assert figure.find("desc").text() == (
        "From 2026-11-27 20:15 UTC to 2026-11-27 20:30 UTC: Latency: last 19 ms, min 10 ms, "
        "max 19 ms.")
    rows = [tr.find("td").text() for tr in figure.find("tbody").find_all("tr")]
    assert rows == ["10 ms", "11 ms", "14 ms", "19 ms"]


BARS_SPEC = {
    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
    "description": "Requests by day: Tuesday was busiest",
    "data": {"values": [{"day": "mon", "n": 3}, {"day": "tue", "n": 5}]},
    "mark": "bar",
    "encoding": {"x": {"field": "day", "type": "nominal"},
                 "y": {"field": "n", "type": "quantitative"}},
}


def test_vega_lite_draws_any_spec_as_an_image_with_its_description() -> None:
    from dashsite import VegaLite
    from dashsite.types.image import check_svg

    chart = VegaLite(BARS_SPEC)
    html = chart.render()
    img = parse(html).find("img")
    assert img.attrs["alt"] == "Requests by day: Tuesday was busiest"
    assert img.attrs["src"].startswith("data:image/svg+xml;base64,")
    import base64
    check_svg(base64.b64decode(img.attrs["src"].split(",", 1)[1]))  # nothing that could run
    assert VegaLite(BARS_SPEC).render() == html  # the same spec, the same bytes
    mail = parse(chart.render(inline_css=True)).find("img")
    assert mail.attrs["src"].startswith("data:image/png;base64,")
    assert from_jsonable(to_jsonable(chart)).render() == html


def test_vega_lite_problems_are_one_line() -> None:
    from dashsite import VegaLite

    with pytest.raises(RenderError, match="VegaLite spec could not be drawn"):
        VegaLite({"mark": "nonsense-mark", "data": {"values": []}}).render()
    with pytest.raises(RenderError, match="takes a Vega-Lite spec"):
        VegaLite([1, 2])  # type: ignore[arg-type]


def test_vega_lite_without_its_extra_says_what_to_install(monkeypatch) -> None:
    import sys

    from dashsite import VegaLite

    monkeypatch.setitem(sys.modules, "vl_convert", None)  # as if not installed
    with pytest.raises(RenderError) as found:
        VegaLite(BARS_SPEC).render()
    assert "pip install 'dashsite[vega]'" in found.value.one_line()


def no_data_marks(html: str) -> tuple[list[str], list[str], str]:
    """A page chart's "no data" mark: the SVG's shaded rect titles, the note's lines, the desc."""
    figure = parse(html).find("figure")
    svg = figure.find("svg")
    rects = [r.find("title").text() for r in svg.find_all("rect", class_="chart-nodata")]
    notes = [line.text() for note in figure.find_all("span", class_="chart-nodata-note")
             for line in note.find_all("span")]
    return rects, notes, svg.find("desc").text()


def test_a_series_that_stops_gets_a_no_data_since_mark_at_the_right_edge() -> None:
    chart = LineChart(timed([3, 4, 5, None, None]), title="Queue")  # last value 20:25
    rects, notes, desc = no_data_marks(chart.render())
    assert rects == ["no data since 20:25 UTC"] and notes == ["no data since 20:25 UTC"]
    assert desc.endswith("No data since 20:25 UTC.")
    rect = parse(chart.render()).find("rect", class_="chart-nodata")
    assert float(rect.attrs["x"]) == 500.0  # 20:25 on a 20:15 to 20:35 axis, 1000 units wide
    assert float(rect.attrs["x"]) + float(rect.attrs["width"]) == 1000.0  # to the right edge
    # the mail's SVG says it in its own text, right-aligned on the plot's right edge
    svg = parse(chart.render(inline_css=True)).find("svg")
    (said,) = [t for t in svg.find_all("text") if "no data" in t.text()]
    assert said.text() == "no data since 20:25 UTC" and said.attrs["text-anchor"] == "end"
    assert float(said.attrs["x"]) == float(svg.attrs["width"]) - 8
    shade = [r for r in svg.find_all("rect") if r.attrs.get("fill-opacity") == "0.14"]
    assert len(shade) == 1


@pytest.mark.parametrize("chart", [
    LineChart(timed([3, 4, 5])),
    LineChart(timed([3, None, 5])),  # a gap inside is a gap, not a stop
    LineChart(timed([3, 4, 5]), end=T0 + timedelta(minutes=11)),  # within a step of the end
    LineChart([1, 2, None]),  # positions, not times: nothing to say "since"
    LineChart({"api": timed([1, 2, 3]), "db": timed([2, 3, 4])}),
], ids=["current", "inner-gap", "end-within-a-step", "positions", "two-current"])
def test_no_mark_while_the_data_is_current(chart: LineChart) -> None:
    assert "no data since" not in chart.render().lower()
    assert "no data since" not in chart.render(inline_css=True).lower()


def test_end_draws_the_chart_to_the_build_and_marks_data_that_stopped_coming() -> None:
    chart = LineChart(timed([1, 2, 3]), end=T0 + timedelta(hours=2))
    rects, notes, desc = no_data_marks(chart.render())
    assert rects == notes == ["no data since 20:25 UTC"]
    assert "to 2026-11-27 20:25 UTC" in desc  # the data's own range, then what is missing
    stored = to_jsonable(chart)
    assert stored["end"] and from_jsonable(stored).render() == chart.render()
    assert "end" not in to_jsonable(LineChart(timed([1, 2, 3])))  # older data.json unchanged
    with pytest.raises(RenderError, match="end needs times on x"):
        LineChart([1, 2, 3], end=T0)
    yesterday = LineChart(timed([1, 2]), end=T0 + timedelta(days=1))
    assert no_data_marks(yesterday.render())[1] == ["no data since Nov 27 20:20 UTC"]


def test_one_series_stopping_is_named_and_the_others_keep_drawing() -> None:
    chart = LineChart({"api": timed([1, 2, 3, 4]), "db": timed([2, 3, None, None])})
    rects, notes, desc = no_data_marks(chart.render())
    assert notes == ["db: no data since 20:20 UTC"] and rects == notes
    assert desc.endswith("; db: last 3, min 2, max 3. db: no data since 20:20 UTC.")
    many = LineChart({name: timed([1] * (n + 1) + [None] * (5 - n)) for n, name in enumerate("abcd")})
    assert no_data_marks(many.render())[1] == [
        "a: no data since 20:15 UTC", "b: no data since 20:20 UTC",
        "and 2 more series without recent data"]
    together = LineChart({"a": timed([1, None]), "b": timed([2, None])})  # one line says it
    assert no_data_marks(together.render())[1] == ["no data since 20:15 UTC"]


def test_a_collector_failing_now_ends_the_chart_with_a_no_data_since_mark(tmp_path: Path) -> None:
    module = """
    from dashsite import collector
    import pathlib
    N = pathlib.Path(__file__).with_name("n.txt")

    @collector
    def latency():
        n = int(N.read_text()) if N.exists() else 0
        N.write_text(str(n + 1))
        if n >= 2:
            raise TimeoutError("api down")
        return 10 + n
    """
    template = ('{{ LineChart((history | series("latency")).then(latency, build.collected_at), '
                'title="Latency", unit="ms") | render }}')
    write_project(tmp_path, {"alpha": {"dashboard.py": module, "template.html": template}})
    latest = tmp_path / "site" / "alpha" / "index.html"
    for n in range(4):
        build(tmp_path, version_id=f"v{n}", clock=fixed_clock(T0 + timedelta(minutes=5 * n)))
        rects, notes, _ = no_data_marks(latest.read_text())
        if n < 2:
            assert rects == notes == [], n  # the data is current: no mark
    assert rects == notes == ["no data since 20:20 UTC"]  # v1, the last good value


def test_times_as_dates_or_iso_text_are_times() -> None:
    # charts.md: (time, value) pairs. Dates and ISO text drew "no data" without a word.
    from datetime import date

    from dashsite.types.charts import LineChart

    for data in ([(date(2026, 1, n + 1), n) for n in range(10)],
                 [(f"2026-01-{n + 1:02d}T00:00:00Z", n) for n in range(10)]):
        desc = parse(LineChart(data).render()).find("desc").text()
        assert desc.startswith("From 2026-01-01 00:00 UTC to 2026-01-10 00:00 UTC"), desc
        assert "last 9, min 0, max 9" in desc
    # Text that is not a time is no x, as before (a gap, never an error).
    desc = parse(LineChart([("mon", 1), ("2026-01-02", 2)]).render()).find("desc").text()
    assert "no data" in desc


def test_a_bar_chart_with_named_and_plain_categories_draws_in_both_modes() -> None:
    from dashsite.types.charts import BarChart

    chart = BarChart({"mon": {"ok": 3, "failed": 1}, "tue": 5})
    bars = [len(list(parse(chart.render(inline_css=inline)).find_all("rect")))
            for inline in (False, True)]
    assert bars == [3, 3]  # ok and failed on Monday, the plain one on Tuesday


def test_numbers_no_axis_can_span_are_gaps_not_errors() -> None:
    # charts.md: data is never an error. 1e308 and -1e308 overflowed the axis.
    from dashsite.types.charts import LineChart
    from dashsite.types.sparkline import Sparkline

    for chart in (LineChart([1e308, -1e308, 5, 6]), LineChart([10**30, 10**400, 3, 4])):
        svg = chart.render()
        assert "nan" not in svg and parse(svg).find("svg") is not None
    assert "nan" not in Sparkline([1e308, -1e308, 1e-308, 2]).render()
