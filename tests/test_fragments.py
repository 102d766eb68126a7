"""The theme's hot pieces written in Python write what markupsafe and the time filters
would: the same escapes, the same times, whatever the text."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from markupsafe import escape

from dashsite.render.fragments import _text, _time, day_bar_items
from dashsite.types.formats import isotime, timestamp

from htmltree import parse

NASTY = [
    "",
    "plain words",
    "<script>alert('x')</script>",
    'a "quoted" & <tagged> it\'s',
    "&amp; already escaped",
    "ünïcødé — 100 %",
]


@pytest.mark.parametrize("text", NASTY)
def test_text_escapes_as_markupsafe_does(text: str) -> None:
    assert _text(text) == str(escape(text))


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-27T20:15:03+00:00",
        "2026-11-27T20:15:03.268584+00:00",
        "2026-01-01T00:00:00.5+00:00",
        "2026-11-27T20:15:03Z",  # not as the log keeps it: the filters read it
        "2026-11-27T22:15:03+02:00",
    ],
)
def test_a_time_reads_as_the_filters_write_it(value: str) -> None:
    expected = f'<time datetime="{isotime(value)}">{escape(timestamp(value))}</time>'
    assert _time(value) == expected


@dataclass(frozen=True)
class _Bar:
    day: str
    page: str
    shown: str
    partial: bool
    label: str


def test_a_day_bar_keeps_hostile_words_as_text() -> None:
    bar = _Bar("2026-11-27", "2026-11.html", "up", False, '<img src=x onerror="boom()"> & co')
    html = parse(f"<ol>{day_bar_items([bar], 'history/')}</ol>")
    link = html.find("a")
    assert link.attrs["href"] == "history/2026-11.html#d-2026-11-27"
    assert link.text().strip() == '<img src=x onerror="boom()"> & co'
    assert not list(html.find_all("img"))
