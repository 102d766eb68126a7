from __future__ import annotations

from dashsite import Sparkline, StatusLevel
from dashsite.types.styles import LEVEL_COLORS

from htmltree import parse


def points(node) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in node.attrs["points"].split()]


def test_a_polyline_through_every_value_rising_left_to_right() -> None:
    root = parse(Sparkline([1, 5, 3, 9], width=100, height=20, label="load").render())
    svg = root.find("svg")
    assert svg.attrs["viewbox"] == "0 0 100 20"
    assert svg.attrs["role"] == "img"
    line = points(svg.find("polyline"))
    assert len(line) == 4
    xs = [x for x, _ in line]
    assert xs == sorted(xs)
    # SVG y grows downwards: the highest value has the smallest y.
    assert min(line, key=lambda p: p[1]) == line[3]
    assert max(line, key=lambda p: p[1]) == line[0]
    assert root.find("title").text() == "load: last 9, min 1, max 9"
    assert root.find("span", class_="sparkline-text").text() == "last 9, min 1, max 9"


def test_gaps_split_the_line_and_single_points_are_dots() -> None:
    svg = parse(Sparkline([1, 2, None, 4, float("nan"), 6, 7]).render()).find("svg")
    lines = list(svg.find_all("polyline"))
    assert [len(points(line)) for line in lines] == [2, 2]
    assert len(list(svg.find_all("circle"))) == 1


def test_flat_and_empty_series() -> None:
    flat = points(parse(Sparkline([3, 3, 3], height=20).render()).find("polyline"))
    assert {y for _, y in flat} == {10.0}
    empty = parse(Sparkline([]).render())
    assert not list(empty.find_all("polyline"))
    assert "no data" in empty.text()


def test_level_colours_the_line_and_inline_mode_keeps_text() -> None:
    html = Sparkline([1, 2], level=StatusLevel.ERROR).render(inline_css=True)
    root = parse(html)
    assert root.find("polyline").attrs["stroke"] == LEVEL_COLORS[StatusLevel.ERROR]
    assert "class" not in root.find("span").attrs
    assert "last 2, min 1, max 2" in root.text()
    assert list(Sparkline([1], level=StatusLevel.ERROR).levels()) == [StatusLevel.ERROR]


def test_class_mode_lets_the_theme_recolour_and_inline_mode_does_not() -> None:
    classy = parse(Sparkline([1, 2], level=StatusLevel.CRITICAL).render()).find("polyline")
    assert classy.classes == ["sparkline-line", "sparkline-critical"]
    neutral = parse(Sparkline([1, 2]).render()).find("polyline")
    assert "sparkline-neutral" in neutral.classes
    inline = parse(Sparkline([1, 2], level=StatusLevel.CRITICAL).render(inline_css=True))
    assert "class" not in inline.find("polyline").attrs


def test_more_values_than_pixels_are_drawn_as_the_pixels_show_them() -> None:
    # A million values drew a 9.7 MB image 120 pixels wide.
    svg = Sparkline(list(range(100_000)) + [50_000] * 10, width=120).render()
    assert len(svg) < 20_000
    points = parse(svg).find("polyline").attrs["points"].split()
    assert len(points) <= 4 * 2 * 120
    first, last = points[0].split(","), points[-1].split(",")
    assert (first[0], last[0]) == ("2.0", "118.0")  # the ends stay where they were
    assert float(first[1]) > float(points[-11].split(",")[1])  # the climb is still drawn
