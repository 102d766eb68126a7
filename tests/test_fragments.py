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


def test_a_time_not_as_the_log_writes_it_is_never_copied_into_the_page() -> None:
    # version_rows is a filter a layout may call with its own data: the text-only
    # shortcut takes a logged time and nothing shaped like one.
    with pytest.raises(ValueError):
        _time("<script>a/T</script>x+00:00")  # shaped like a logged time at a glance
    assert "<script>" not in _time("2026-11-27T20:15:03+00:00")


def test_the_sandboxed_twin_looks_items_up_as_the_site_does() -> None:
    from jinja2 import UndefinedError

    from dashsite import create_environment
    from dashsite.render.sandbox import sandboxed

    twin = sandboxed(create_environment())
    assert twin.from_string("{{ d['update'] is defined }}").render(d={}) == "False"
    with pytest.raises(UndefinedError):
        twin.from_string("{{ d['items'] }}").render(d={})


def test_a_value_whose_type_changed_is_a_change() -> None:
    # 1 == True and 50 == 50.0 in Python; as JSON (what data.json keeps) they differ.
    from dashsite.status.compare import changes

    table = {"$kind": "MonitorTable", "headers": ["a", "b"], "title": "", "formats": {}}
    before = {"t": {**table, "rows": [["x", 1], ["y", 50]]}}
    after = {"t": {**table, "rows": [["x", True], ["y", 50.0]]}}
    found = changes(before, after, {}, {})
    assert [(c.kind, c.before) for c in found] == [("rows", "2 rows changed")]


def test_tables_alike_but_for_key_order_tell_no_change() -> None:
    from dashsite.status.compare import changes

    table = {"$kind": "MonitorTable", "headers": ["a", "b"], "title": "", "formats": {}}
    before = {"t": {**table, "rows": [["x", {"p": 1, "q": 2}], ["y", 50]]}}
    after = {"t": {**table, "rows": [["x", {"q": 2, "p": 1}], ["y", 50]]}}
    assert changes(before, after, {}, {}) == []
    after["t"]["rows"].append(["z", 1])
    assert [(c.kind, c.before, c.after) for c in changes(before, after, {}, {})] == [
        ("rows", "1 row added", "z")]
