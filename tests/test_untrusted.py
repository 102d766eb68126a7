"""Data never turns into markup; untrusted text stays text (hardening, section 4)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from dashsite.store.manifest import read_first
from dashsite.store.version_store import Manifest
from dashsite.types.serialize import StoredDataError, from_jsonable, to_jsonable
from projects import cli, simple, vdir, write_project

from htmltree import all_attributes, parse

GOOD_VERSION = {"id": "v1", "collected_at": "2026-11-27T20:15:00+00:00", "status": "ok"}


def _manifest(slug: object = "svc", version: object = None, **extra: object) -> dict:
    return {"title": "t", "dashboards": [
        {"slug": slug, "title": "S", "versions": [version or GOOD_VERSION], **extra}]}


LATEST_4 = {"id": "v1", "collected_at": "2026-11-27T20:15:00+00:00", "errors": 0,
            "path": "svc/2026-11-27/v1/"}


def _schema_4(defaults: dict | None = None, **entry: object) -> dict:
    months = [{"month": "2026-11", "count": 1, "worst": "ok", "days": "27"}]
    return {"schema": 4, "defaults": defaults or {}, "dashboards": [
        {"slug": "svc", "title": "S", "status": None, "latest": None, "count": 0,
         "last_good": {}, "months": months if entry.get("latest") else [], **entry}]}


def test_a_schema_4_manifest_reads_its_defaults_and_its_latest() -> None:
    raw = _schema_4(defaults={"group": "Web", "expected_every": 300},
                    status="error", latest=LATEST_4, last_good={"api": "latest"})
    record = Manifest.from_json(raw).dashboards["svc"]
    assert (record.group, record.expected_every) == ("Web", 300.0)
    assert record.latest is not None and record.latest.path == "svc/2026-11-27/v1/"
    assert record.latest.status.slug == "error" and record.last_good["api"] is record.latest
    raw["dashboards"][0]["group"] = ""  # a dashboard's own value wins
    assert Manifest.from_json(raw).dashboards["svc"].group == ""


@pytest.mark.parametrize("raw", [
    _manifest(slug="javascript:alert(1)//"),
    _manifest(slug="../etc"),
    _manifest(slug="svc\n"),
    _manifest(version={**GOOD_VERSION, "id": "v1/../../x"}),
    _manifest(version={**GOOD_VERSION, "id": "v1\n"}),
    _manifest(version={**GOOD_VERSION, "collected_at": "<script>"}),
    _manifest(version={**GOOD_VERSION, "status": "pwned"}),
    _manifest(version={**GOOD_VERSION, "errors": -1}),
    _manifest(active="yes"),
    {"dashboards": [{"slug": "svc", "title": ["x"], "versions": []}]},
    {"dashboards": "nope"},
    [],
    {"schema": 2, "dashboards": [{"slug": "svc", "title": "S", "months": [
        {"month": "2026-13", "count": 1, "worst": "ok"}]}]},
    {"schema": 2, "dashboards": [{"slug": "svc", "title": "S", "months": [
        {"month": "2026-11", "count": -1, "worst": "ok"}]}]},
    {"schema": 2, "dashboards": [{"slug": "svc", "title": "S", "months": [],
                                  "latest_version": {**GOOD_VERSION, "id": "../x"}}]},
    {"schema": 5, "dashboards": []},
    {"schema": 4, "defaults": [], "dashboards": []},
    {"schema": 4, "defaults": {"slug": "other"}, "dashboards": []},  # not a shared field
    _schema_4(defaults={"active": "yes"}),  # checked as if the dashboard said it
    _schema_4(last_good={"api": "latest"}),  # no latest version to be it
    _schema_4(last_good={"api": "r1"}),
    _schema_4(status="ok", latest="v1"),  # schema 3's id, not the object
    _schema_4(status="ok", latest={**LATEST_4, "path": "other/2026-11-27/v1/"}),
    _schema_4(status="pwned", latest=LATEST_4),
    _schema_4(status=None, latest=LATEST_4),
])
def test_a_manifest_is_validated_like_local_input(raw: object) -> None:
    with pytest.raises(ValueError):
        Manifest.from_json(raw)


def _month_days(days: object) -> dict:
    return {"schema": 3, "dashboards": [{
        "slug": "svc", "title": "S", "latest_version": GOOD_VERSION,
        "months": [{"month": "2026-11", "count": 1, "worst": "ok", "days": days}]}]}


@pytest.mark.parametrize("days", [
    "31-01", "00", "01-32", "1", "01,,02", "01-02-03", "01,", ["1"], ["01-03"], 7, "01," * 80])
def test_a_months_days_must_be_days(days: object) -> None:
    with pytest.raises(ValueError, match="days are not DD"):
        Manifest.from_json(_month_days(days))


@pytest.mark.parametrize(("days", "read"), [
    ("01-03,07,30-31", {"01", "02", "03", "07", "30", "31"}),
    (["27", "01"], {"01", "27"}),  # schema 2 listed them
    ("", set()),
])
def test_a_months_days_read_back(days: object, read: set[str]) -> None:
    record = Manifest.from_json(_month_days(days)).dashboards["svc"]
    assert record.months["2026-11"].days == read
    if isinstance(days, str):  # and are written back as they were read
        assert record.to_json()["months"][0]["days"] == days


def _with_earlier(url: object, body: bytes | None, **link: object) -> tuple[dict, Any]:
    raw = _month_days("01")
    raw["dashboards"][0]["earlier"] = {"url": url, "months": 1, "count": 1, **link}
    return raw, lambda relative: body if relative == url else None


def _earlier_body(**extra: object) -> bytes:
    doc = {"schema": 1, "dashboard": "svc",
           "months": [{"month": "2025-01", "count": 1, "worst": "ok", "days": "05"}], **extra}
    return json.dumps(doc).encode()


def _named(body: bytes, slug: str = "svc") -> str:
    return f"{slug}/log/months-{hashlib.sha256(body).hexdigest()[:12]}.json"


@pytest.mark.parametrize(("case", "message"), [
    (lambda b: _with_earlier("../months-0123456789ab.json", b), "is not its own"),
    (lambda b: _with_earlier("svc/log/../../etc/passwd", b), "is not its own"),
    (lambda b: _with_earlier(_named(b, "other"), b), "is not its own"),
    (lambda b: _with_earlier(_named(b), None), "is missing"),
    (lambda b: _with_earlier(_named(b), b + b" "), "does not match its name"),
    (lambda b: _with_earlier(_named(b), b, count=2), "counts disagree"),
    (lambda b: _with_earlier(_named(b), b, months=3), "counts disagree"),
    (lambda b: _with_earlier(*(lambda o: (_named(o), o))(_earlier_body(dashboard="x"))),
     "is not its earlier months"),
    (lambda b: _with_earlier(*(lambda o: (_named(o), o))(_earlier_body(months=[
        {"month": "2026-11", "count": 1, "worst": "ok", "days": "01"}]))), "overlap"),
])
def test_an_earlier_months_file_is_checked(case: Any, message: str) -> None:
    raw, read = case(_earlier_body())
    with pytest.raises(ValueError, match=message):
        Manifest.from_json(raw, read)


def test_an_earlier_months_file_reads_back() -> None:
    body = _earlier_body()
    raw, read = _with_earlier(_named(body), body)
    record = Manifest.from_json(raw, read).dashboards["svc"]
    assert list(record.months) == ["2025-01", "2026-11"] and record.count == 2
    with pytest.raises(ValueError, match="were not read"):
        Manifest.from_json(raw)  # a reader that forgot to fetch it


def test_a_months_file_comes_from_the_first_copy_that_matches_its_name() -> None:
    body = _earlier_body()
    raw, remote = _with_earlier(_named(body), body)
    asked: list[str] = []

    def tampered(relative: str) -> bytes:
        asked.append(relative)
        return body + b"\n"

    assert Manifest.from_json(raw, read_first(tampered, remote)).dashboards["svc"].count == 2
    assert asked == [_named(body)]  # tried, refused, then the next copy
    with pytest.raises(ValueError, match="does not match its name"):
        Manifest.from_json(raw, read_first(tampered, tampered))  # no good copy: refused
    assert Manifest.from_json(raw, read_first(lambda _: None, remote)).dashboards["svc"].count == 2


def test_a_hostile_manifest_in_the_site_is_one_line_naming_it(tmp_path: Path) -> None:
    write_project(tmp_path, {"svc": simple()})
    assert cli(tmp_path, "build", "--version-id", "v1").returncode == 0
    (tmp_path / "site" / "manifest.json").write_text(
        json.dumps(_manifest(slug="javascript:alert(1)//")))
    done = cli(tmp_path, "build", "--version-id", "v2")
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if "manifest" in line]
    assert len(lines) == 1 and lines[0].startswith("site/manifest.json: manifest is unreadable")


def test_plain_data_shaped_like_a_render_type_stays_plain() -> None:
    hostile = {"$kind": "Sparkline", "values": [1, 2], "width": '1" onload="alert(1)',
               "height": 10, "label": "", "level": None}
    stored = json.loads(json.dumps(to_jsonable({"x": hostile})))
    assert from_jsonable(stored) == {"x": hostile}  # a dict again, never a Sparkline


@pytest.mark.parametrize("stored", [
    {"$kind": "Sparkline", "values": [1], "width": '1" onload="alert(1)', "height": 10,
     "label": "", "level": None},
    {"$kind": "StatusCell", "label": "x", "level": "ok\" onclick=\"x"},
    {"$kind": "MonitorImage", "data": "PHN2Zz48c2NyaXB0Lz48L3N2Zz4=", "alt": "", "width": None,
     "height": None},
    {"$kind": "MonitorMetric", "value": {"a": 1}, "label": "", "level": "ok", "unit": ""},
    {"$kind": "NoSuchKind"},
    {"$kind": "dict"},
])
def test_stored_render_types_are_validated_field_by_field(stored: dict) -> None:
    with pytest.raises(StoredDataError):
        from_jsonable(stored)


SPARKLINE_DICT = """
from dashsite import collector

@collector
def trend():
    return {"$kind": "Sparkline", "values": [1, 2], "width": '1" onload="alert(1)',
            "height": 10, "label": "", "level": None}
"""


def test_a_collector_dict_never_becomes_markup_on_any_page(tmp_path: Path) -> None:
    template = "{{ trend | render }}{% for h in history %}{{ h.data.trend | render }}{% endfor %}"
    write_project(
        tmp_path,
        {"svc": {"dashboard.py": SPARKLINE_DICT, "template.html": template}},
        config='unchanged = "version"\n',
    )  # (v2's snapshot shows v1 in its history)
    for version in ("v1", "v2"):
        assert cli(tmp_path, "build", "--version-id", version).returncode == 0
    site = tmp_path / "site"
    pages = [site / "svc" / "index.html", vdir(site, "svc", "v2") / "index.html"]
    for page in pages:
        tree = parse(page.read_text())
        assert not list(tree.find("div", class_="dashboard-body").find_all("svg")), page
        assert "onload" in tree.find("div", class_="dashboard-body").text()  # shown as text
    for page in (tmp_path / "site").rglob("*.html"):
        for _, name, _ in all_attributes(parse(page.read_text())):
            assert not name.startswith("on"), page


@pytest.mark.parametrize("args", [["build", "--version-id", "v1\n"], ["new", "x\n"],
                                  ["new", "_x"]])
def test_a_trailing_newline_or_leading_underscore_is_refused(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "dashboards").mkdir()
    done = cli(tmp_path, *args)
    assert done.returncode == 1
    assert not any((tmp_path / "dashboards").iterdir())
    if args[0] == "new":
        assert "start with a lower-case letter or digit" in done.stderr


PHISH = "[Reset](https://evil.example/login) ![t](https://evil.example/p.png)\n# Owned\n- x"
NOTE_MODULE = f"""
from dashsite import collector

@collector
def note():
    return {PHISH!r}
"""


RENDERED_MODULE = NOTE_MODULE + f"""
from dashsite import MonitorTable, StatusCell, StatusLevel

@collector
def table():
    found = MonitorTable(["Service", "Note"], title="Services")
    found.add_row([{PHISH!r}, "**up** a_b | c"])
    return found

@collector
def cell():
    return StatusCell({PHISH!r}, StatusLevel.OK)
"""
RENDERED_TEMPLATE = """## Note

{{ note | render }}

{{ table | render }}

Inline: {{ cell | render }}

Joined: {{ [note, note] | map("render") | join(", ") }} {{ (note | render) ~ "" }}

| Cell | Plain |
|---|---|
| {{ cell | render }} | **bold** |
"""


def test_values_in_a_markdown_template_are_text(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "text": {"dashboard.py": NOTE_MODULE, "template.md": "## Note\n\n{{ note }}\n"},
        "opted": {"dashboard.py": NOTE_MODULE, "template.md": "## Note\n\n{{ note | markdown }}\n"},
        "rendered": {"dashboard.py": RENDERED_MODULE, "template.md": RENDERED_TEMPLATE},
    })
    assert cli(tmp_path, "build", "--version-id", "v1").returncode == 0
    body = parse((tmp_path / "site" / "text" / "index.html").read_text()).find(
        "div", class_="dashboard-body")
    assert not list(body.find_all("a")) and not list(body.find_all("img"))
    assert [h.text() for h in body.find_all("h1")] == []
    assert "[Reset](https://evil.example/login)" in body.text()
    assert "# Owned" in body.text()
    # What | render draws from a value is data too: its HTML stays, its text is text,
    # whether it stands as a block, inline, or in a table cell of the template's own.
    body = parse((tmp_path / "site" / "rendered" / "index.html").read_text()).find(
        "div", class_="dashboard-body")
    assert not list(body.find_all("a")) and not list(body.find_all("img"))
    assert not list(body.find_all("h1")) and not list(body.find_all("li"))
    assert [s.text() for s in body.find_all("strong")] == ["bold"]  # the template's own
    assert body.text().count("[Reset](https://evil.example/login)") == 7
    assert "**up** a_b | c" in body.text()
    assert [c.text() for c in body.find_all("caption")] == ["Services"]
    assert len(list(body.find_all("table"))) == 2  # the renderable's and the template's own
    assert len(list(body.find_all("tr"))) == 2 + 2  # the data's line breaks add no row
    assert len(list(body.find_all("span", class_="status-badge"))) == 2
    opted = parse((tmp_path / "site" / "opted" / "index.html").read_text()).find(
        "div", class_="dashboard-body")
    assert [a.attrs["href"] for a in opted.find_all("a")] == ["https://evil.example/login"]


def test_a_line_break_in_an_attribute_drawn_from_data_is_no_markdown_line() -> None:
    """An ``alt`` from data with a blank line in it would end the HTML's line: what
    follows would be read as Markdown (an image from data)."""
    from dashsite.render.markdown import literal_in_markdown, markdown_to_html

    drawn = '<img alt="chart\n\n![t](https://evil.example/p.png)" src="data:,"> <!-- a\nb -->'
    literal = literal_in_markdown(drawn)
    assert "\n" not in literal.replace("<!-- a\nb -->", "")
    page = parse(markdown_to_html(f"Disk: {literal}\n"))
    assert [img.attrs["src"] for img in page.find_all("img")] == ["data:,"]
    assert page.find("img").attrs["alt"] == "chart\n\n![t](https://evil.example/p.png)"
