from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from dashsite import StatusLevel
from payloads import XSS_PAYLOADS
from projects import (
    T0,
    build,
    cli,
    fixed_clock,
    logged_checks,
    logged_versions,
    manifest_entries,
    seed_versions,
    simple,
    tree_digest,
    vdir,
    write_project,
)

from htmltree import parse


@pytest.mark.calendar
def test_layout_of_a_first_build(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple("Alpha"), "beta": simple("Beta")})
    result = build(tmp_path, version_id="v1")
    site = tmp_path / "site"
    for slug in ("alpha", "beta"):
        for rel in ("index.html", "history/index.html"):
            assert (site / slug / rel).is_file(), rel
        day = vdir(site, slug, "v1").parent.name  # versions are filed by day: <slug>/<day>/<id>
        assert day == datetime.now(UTC).date().isoformat()
        for name in ("index.html", "data.json"):
            assert (site / slug / day / "v1" / name).is_file()
    assert (site / "index.html").is_file() and (site / "manifest.json").is_file()
    css = list((site / "assets").glob("style.*.css"))
    assert len(css) == 1 and ".status-ok" in css[0].read_text()
    assert [d.version for d in result.dashboards] == ["v1", "v1"]
    assert result.exit_code(strict=True) == 0

    page = parse((site / "alpha" / "index.html").read_text())
    assert page.find("p", id="count").text() == "42"
    assert page.find("h1").text().startswith("Alpha")
    assert page.find("html").attrs["lang"] == "en"
    assert page.find("main") and page.find("header") and page.find("footer")

    data = json.loads((vdir(site, "alpha", "v1") / "data.json").read_text())
    assert data["data"]["count"] == 42
    assert data["data"]["status"] == {"$kind": "StatusCell", "label": "UP", "level": "ok"}
    assert data["status"] == "ok" and data["errors"] == {}
    assert set(data["collectors"]) == {"status", "count"}


def test_index_lists_every_dashboard_with_status_and_links(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple("Alpha"), "beta": simple("Beta")})
    build(tmp_path, version_id="v1", clock=fixed_clock(T0))
    index = parse((tmp_path / "site" / "index.html").read_text())
    cards = list(index.find_all("li", class_="card"))
    assert [c.find("h2").text() for c in cards] == ["Alpha", "Beta"]
    assert cards[0].find("a").attrs["href"] == "alpha/index.html"
    assert "status-ok" in cards[0].find("span", class_="status-badge").classes
    assert cards[0].find("time").attrs["datetime"] == "2026-11-27T20:15:00Z"


def test_two_builds_two_versions_first_unchanged(tmp_path: Path) -> None:
    # (a version every build, the data unchanged or not: see the checks' tests below)
    write_project(tmp_path, {"alpha": simple()}, config='unchanged = "version"\n')
    build(tmp_path, clock=fixed_clock(T0))
    site = tmp_path / "site"
    first_id = "20261127T201500Z"
    before = tree_digest(vdir(site, "alpha", first_id))
    build(tmp_path, clock=fixed_clock(T0 + timedelta(minutes=5)))
    second_id = "20261127T202000Z"
    assert tree_digest(vdir(site, "alpha", first_id)) == before
    manifest = json.loads((site / "manifest.json").read_text())
    (alpha,) = manifest["dashboards"]
    assert logged_versions(site) == {"alpha": [first_id, second_id]}
    assert alpha["latest"]["id"] == second_id and alpha["count"] == 2
    assert alpha["months"] == [{"month": "2026-11", "count": 2, "worst": "ok", "days": "27"}]
    urls = {name: url.format(slug="alpha", month="2026-11", dd="27", path=alpha["latest"]["path"])
            for name, url in manifest["urls"].items()}  # the URLs the layout makes, as templates
    assert urls == {"dashboard": "alpha/index.html", "history": "alpha/history/index.html",
                    "month_history": "alpha/history/2026-11.html",
                    "log": "alpha/log/2026-11/27.jsonl",
                    "version_page": f"alpha/2026-11-27/{second_id}/index.html",
                    "version_data": f"alpha/2026-11-27/{second_id}/data.json"}
    assert all((site / url).is_file() for url in urls.values())
    history = parse((site / "alpha" / "history" / "index.html").read_text())
    rows = [tr.find("a").text() for tr in history.find("table", class_="history-table").find("tbody").find_all("tr")]
    assert rows == [second_id, first_id]


def test_same_second_builds_get_distinct_sortable_ids(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple()})
    ids = [build(tmp_path, clock=fixed_clock(T0)).version_id for _ in range(3)]
    assert ids == ["20261127T201500Z", "20261127T201500Z-01", "20261127T201500Z-02"]
    assert ids == sorted(ids)


def test_existing_or_unsafe_version_id_is_refused(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple()})
    assert cli(tmp_path, "build", "--version-id", "run-1").returncode == 0
    before = tree_digest(tmp_path / "site")
    again = cli(tmp_path, "build", "--version-id", "run-1")
    assert again.returncode == 1
    assert "version id 'run-1' already exists" in again.stderr
    assert "Traceback" not in again.stderr
    unsafe = cli(tmp_path, "build", "--version-id", "../x")
    assert unsafe.returncode == 1 and "not safe" in unsafe.stderr
    for reserved in ("history", "index.html"):  # safe characters, but the site's own names
        done = cli(tmp_path, "build", "--version-id", reserved)
        assert done.returncode == 1 and "is a name the site uses itself" in done.stderr
    day = cli(tmp_path, "build", "--version-id", "2026-12-04")  # a day folder's name
    assert day.returncode == 1 and "is a day" in day.stderr and "already" not in day.stderr
    assert tree_digest(tmp_path / "site") == before


def test_retention_keeps_the_newest_versions(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple()}, config="retention = 2\n")
    for minute in range(4):
        build(tmp_path, version_id=f"v{minute}", clock=fixed_clock(T0 + timedelta(minutes=minute)))
    site = tmp_path / "site"
    kept = sorted(p.name for p in site.glob("alpha/*/v*"))
    assert kept == ["v2", "v3"]
    manifest = json.loads((site / "manifest.json").read_text())
    assert logged_versions(site) == {"alpha": ["v2", "v3"]}
    assert manifest["dashboards"][0]["count"] == 2
    history = parse((site / "alpha" / "history" / "index.html").read_text())
    assert len(list(history.find("table", class_="history-table").find("tbody").find_all("tr"))) == 2
    month = parse((site / "alpha" / "history" / "2026-11.html").read_text())
    assert [a.text() for a in month.find("table", class_="history-table").find("tbody").find_all("a")] == ["v2", "v3"]


def test_history_pages_by_month_and_page(tmp_path: Path) -> None:
    # 401 versions in November: pages of 200, oldest first. The history is seeded; each
    # page is drawn by the real build that last changes it (the 201st, the 401st version).
    write_project(tmp_path, {"alpha": simple()})
    site = tmp_path / "site"
    october = ("oct", datetime(2026, 10, 31, 23, 0, tzinfo=UTC))
    november = [(f"n{n:03d}", T0 + timedelta(minutes=n)) for n in range(401)]
    seed_versions(tmp_path, "alpha", [october], folders=True)
    seed_versions(tmp_path, "alpha", november[:200])
    build(tmp_path, version_id="n200", clock=fixed_clock(november[200][1]))
    seed_versions(tmp_path, "alpha", november[201:400])
    build(tmp_path, version_id="n400", clock=fixed_clock(november[400][1]))
    folder = site / "alpha" / "history"
    index = parse((folder / "index.html").read_text())
    # the newest 100, all alike: one folded row
    rows = list(index.find("table", class_="history-table").find("tbody").find_all("tr"))
    assert len(rows) == 1 and "history-run" in rows[0].classes
    assert rows[0].find("td").text() == "n301 … n400"
    assert "100 versions alike" in rows[0].text()
    months = [h.find("a").attrs["href"] for h in
              index.find("section", class_="history-calendar").find_all("h3")]
    assert months == ["2026-11.html", "2026-10.html"]
    first = parse((folder / "2026-11.html").read_text())
    rows = first.find("table", class_="history-table").find("tbody").find_all("a")
    assert [a.text() for a in rows][:2] == ["n000", "n001"]
    assert first.find("nav", class_="pagination").find("a", rel="next").attrs["href"] == (
        "2026-11-2.html")
    second = parse((folder / "2026-11-2.html").read_text())
    rows = second.find("table", class_="history-table").find("tbody").find_all("tr")
    assert len(list(rows)) == 200
    assert second.find("a", rel="next").attrs["href"] == "2026-11-3.html"
    third = parse((folder / "2026-11-3.html").read_text())
    assert [a.text() for a in third.find("table", class_="history-table").find("tbody").find_all("a")] == ["n400"]
    # The month's days and incidents go on after a page is full: only its newest page tells
    # them (a full page drew them as they were when it filled, for good: "201 versions").
    for full in (first, second):
        assert not list(full.find_all("section", **{"aria-labelledby": "month-status-title"}))
        told = full.find("p", class_="meta")
        assert told.find("a").attrs["href"] == "index.html#calendar-title"
        assert "newest page" in told.text()
    assert third.find("section", **{"aria-labelledby": "month-status-title"})
    assert third.find("a", rel="prev").attrs["href"] == "2026-11-2.html"
    assert not list(third.find("nav", class_="pagination").find_all("a", rel="next"))
    # October is 27 days old: past the default 7 days of pages, its data is still kept.
    october_page = parse((folder / "2026-10.html").read_text())
    assert [a.attrs["href"] for a in october_page.find("table", class_="history-table").find("tbody").find_all("a")] == [
        "../../alpha/2026-10-31/oct/data.json"]
    assert not (vdir(site, "alpha", "oct") / "index.html").exists()
    assert (vdir(site, "alpha", "oct") / "data.json").is_file()


def test_a_build_rewrites_only_the_current_page_of_history(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple()}, config='unchanged = "version"\n')
    site = tmp_path / "site"
    seed_versions(tmp_path, "alpha", [(f"n{n:03d}", T0 + timedelta(minutes=n)) for n in range(200)])
    build(tmp_path, version_id="n200", clock=fixed_clock(T0 + timedelta(minutes=200)))  # page 1 full
    folder = site / "alpha" / "history"
    finished = (folder / "2026-11.html").stat().st_mtime_ns, (folder / "2026-11.html").read_bytes()
    assert b"n199" in finished[1]
    result = build(tmp_path, version_id="next", clock=fixed_clock(T0 + timedelta(minutes=201)))
    assert ((folder / "2026-11.html").stat().st_mtime_ns,
            (folder / "2026-11.html").read_bytes()) == finished
    assert "next" in (folder / "2026-11-2.html").read_text()
    # the new version (2 files), its log line, the latest page, the current history page,
    # the history index, the index, the manifest: the same whatever the history holds.
    # (Feeds and badges are rewritten only when what they say changes; the day's
    # status summary once a day.)
    assert result.files_written == 8


def test_history_variable_holds_earlier_data_oldest_first(tmp_path: Path) -> None:
    module = """
    from dashsite import collector, MonitorMetric
    import itertools, pathlib
    COUNTER = pathlib.Path(__file__).with_name("n.txt")

    @collector
    def n():
        value = int(COUNTER.read_text()) if COUNTER.exists() else 0
        COUNTER.write_text(str(value + 1))
        return MonitorMetric(value * 10, label="n")
    """
    template = """
    <ol id="h">{% for h in history %}<li>{{ h.version }}={{ h.data.n.value }}</li>{% endfor %}</ol>
    {{ Sparkline(history | map(attribute="data.n.value") | list + [n.value]) | render }}
    """
    write_project(tmp_path, {"trend": {"dashboard.py": module, "template.html": template}})
    for i in range(3):
        build(tmp_path, version_id=f"b{i}")
    page = parse((tmp_path / "site" / "trend" / "index.html").read_text())
    assert [li.text() for li in page.find("ol", id="h").find_all("li")] == ["b0=0", "b1=10"]
    assert len(page.find("polyline").attrs["points"].split()) == 3


def test_markdown_template(tmp_path: Path) -> None:
    md = """
    # Report {{ title }}

    | name | value |
    |---|---|
    {% for k, v in rows.items() %}| {{ k }} | {{ v }} |
    {% endfor %}

    ```python
    print("hi")
    ```
    """
    module = """
    from dashsite import collector
    @collector
    def title(): return "W48"
    @collector
    def rows(): return {"a": 1, "b": "<i>x</i>"}
    """
    write_project(tmp_path, {"report": {"dashboard.py": module, "template.md": md}})
    build(tmp_path, version_id="v1")
    body = parse((tmp_path / "site" / "report" / "index.html").read_text()).find(
        "div", class_="dashboard-body")
    assert body.find("h1", id="report-w48").text() == "Report W48"
    cells = [td.text() for td in body.find("table").find_all("td")]
    assert cells == ["a", "1", "b", "<i>x</i>"]
    assert not list(body.find_all("i"))
    assert body.find("code", class_="language-python").text().strip() == 'print("hi")'


def test_collector_failure_is_shown_in_place_and_strict_fails(tmp_path: Path) -> None:
    module = """
    import asyncio
    from dashsite import collector

    @collector
    def ok():
        return "fine"

    @collector
    def broken():
        raise ConnectionError("db unreachable")

    @collector(timeout=0.1)
    async def slow():
        await asyncio.sleep(5)
    """
    template = "<p id='ok'>{{ ok }}</p><div id='b'>{{ broken | render }}</div>{{ slow.rows }}"
    write_project(tmp_path, {"svc": {"dashboard.py": module, "template.html": template}})
    done = cli(tmp_path, "build")
    assert done.returncode == 0, done.stderr
    assert "collector 'broken' failed: ConnectionError: db unreachable" in done.stderr
    page = parse((tmp_path / "site" / "svc" / "index.html").read_text())
    assert page.find("p", id="ok").text() == "fine"
    box = page.find("div", id="b").find("div", class_="collector-error")
    assert box.text() == "Collector 'broken' failed: ConnectionError: db unreachable"
    listed = [li.text() for li in page.find("section", class_="collector-errors").find_all("li")]
    assert listed[0] == "broken: ConnectionError: db unreachable"
    assert listed[1].startswith("slow: TimeoutError")
    assert "status-error" in page.find("h1").find("span").classes
    manifest = json.loads((tmp_path / "site" / "manifest.json").read_text())
    assert manifest["dashboards"][0]["status"] == "error"
    assert manifest["dashboards"][0]["latest"]["errors"] == 2
    strict = cli(tmp_path, "build", "--strict")
    assert strict.returncode == 1  # (the same failures: filed as a check of that version)
    assert [len(found) for found in logged_checks(tmp_path / "site").values()] == [1]


def test_a_render_error_from_the_data_is_a_failure_not_a_problem(tmp_path: Path) -> None:
    # A row of the wrong length or an image that is not one comes from what a source
    # sent: that collector fails (the site says so), the build does not turn red.
    module = """
    from dashsite import MonitorImage, MonitorTable, collector

    @collector
    def rows():
        table = MonitorTable(["a", "b"])
        table.add_row(["only one"])
        return table

    @collector
    def picture():
        return MonitorImage(data=b"<html>502 Bad Gateway</html>")
    """
    write_project(tmp_path, {"svc": {"dashboard.py": module, "template.html": "<p>x</p>"}})
    done = cli(tmp_path, "build")
    assert done.returncode == 0, done.stderr
    assert "collector 'rows' failed: RenderError: MonitorTable row has 1 cells" in done.stderr
    assert "collector 'picture' failed: RenderError: " in done.stderr
    assert json.loads((tmp_path / "site" / "manifest.json").read_text())[
        "dashboards"][0]["status"] == "error"


METHOD_NAMES = ("update", "items", "get", "values", "keys", "copy", "pop", "clear")


def test_a_failing_collector_named_like_a_dict_method_fails_alone(tmp_path: Path) -> None:
    # The theme looks each failed collector up in build.last_good: Jinja2 fell back to
    # the dict's own method for a missing key, and the whole build stopped.
    module = "from dashsite import collector\n" + "".join(
        f"\n@collector\ndef {name}():\n    raise TimeoutError('{name} down')\n"
        for name in METHOD_NAMES
    )
    write_project(tmp_path, {
        "app": {"dashboard.py": module, "template.html": "<p>app</p>"},
        "other": simple("Other"),
    })
    done = cli(tmp_path, "build")
    assert done.returncode == 0, done.stderr
    page = parse((tmp_path / "site" / "app" / "index.html").read_text())
    listed = [li.text() for li in page.find("section", class_="collector-errors").find_all("li")]
    assert listed == [f"{name}: TimeoutError: {name} down" for name in METHOD_NAMES]
    entries = {d["slug"]: d for d in json.loads(
        (tmp_path / "site" / "manifest.json").read_text())["dashboards"]}
    assert entries["app"]["status"] == "error" and entries["other"]["status"] == "ok"


def test_a_layout_that_fails_on_a_failure_stops_that_dashboard_only(tmp_path: Path) -> None:
    layout = (
        "<!DOCTYPE html><html><head><title>{% block title %}{% endblock %}</title>"
        "{% block head %}{% endblock %}</head><body>{% block breadcrumbs %}{% endblock %}"
        "{% if build is defined and build.errors %}{{ build.errors.nope.deeper }}{% endif %}"
        "{% block content %}{% endblock %}</body></html>"
    )
    module = "from dashsite import collector\n\n@collector\ndef db():\n    raise OSError('x')\n"
    write_project(tmp_path, {
        "bad": {"dashboard.py": module, "template.html": "<p>bad</p>"},
        "good": simple("Good"),
        "_layouts": {"base.html": layout},
    })
    done = cli(tmp_path, "build", "--version-id", "v1")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "dashboards/_layouts/base.html" in done.stderr
    site = tmp_path / "site"
    entries = {d["slug"]: d for d in json.loads((site / "manifest.json").read_text())[
        "dashboards"]}
    assert entries["good"]["status"] == "ok" and entries["good"]["latest"]["id"] == "v1"
    assert entries["bad"]["latest"] is None and entries["bad"]["problem"]
    assert (site / "good" / "index.html").is_file() and (site / "index.html").is_file()


def test_a_mapping_item_never_falls_back_to_its_methods() -> None:
    from jinja2 import UndefinedError

    from dashsite import create_environment

    environment = create_environment()
    render = environment.from_string("{{ d['update'] is defined }} {{ d['a'] }}").render
    assert render(d={"a": 1}) == "False 1"
    assert render(d={"a": 1, "update": 2}) == "True 1"
    with pytest.raises(UndefinedError):
        environment.from_string("{{ d['items'] }}").render(d={})


def test_status_is_the_worst_renderable(tmp_path: Path) -> None:
    module = """
    from dashsite import collector, MonitorTable, StatusCell, StatusLevel
    @collector
    def table():
        t = MonitorTable(["svc", "state"])
        t.add_row(["a", StatusCell("UP", StatusLevel.OK)])
        t.add_row(["b", StatusCell("SLOW", StatusLevel.WARNING)])
        return t
    """
    write_project(tmp_path, {"t": {"dashboard.py": module, "template.html": "{{ table | render }}"}})
    result = build(tmp_path)
    assert result.dashboards[0].status is StatusLevel.WARNING


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_from_a_collector_is_escaped_on_every_page(tmp_path: Path, payload: str) -> None:
    module = f"""
    from dashsite import collector, StatusCell, StatusLevel, MonitorTable
    P = {payload!r}
    @collector
    def text(): return P
    @collector
    def cell(): return StatusCell(P, StatusLevel.WARNING)
    @collector
    def table():
        return MonitorTable([P], title=P).add_row([P])
    @collector
    def fails(): raise ValueError(P)
    """
    html = "<p>{{ text }}</p>{{ cell | render }}{{ table | render }}{{ fails | render }}"
    md = "# {{ text }}\n\n{{ text }}\n\n[{{ text }}]({{ text }})\n\n{{ cell | render }}\n"
    write_project(tmp_path, {
        "h": {"dashboard.py": module, "template.html": html},
        "m": {"dashboard.py": module, "template.md": md},
    })
    assert build(tmp_path, version_id="v1").exit_code(strict=False) == 0
    pages = list((tmp_path / "site").rglob("*.html"))
    assert len(pages) >= 7
    for page in pages:
        root = parse(page.read_text())
        # The one script is the site's own, external (no inline script, no data in it).
        for script in root.find_all("script"):
            assert re.fullmatch(r"(\.\./)*assets/fresh\.[0-9a-f]{12}\.js", script.attrs["src"])
            assert not script.children, page
        for node in root.iter():
            for name, value in node.attrs.items():
                assert not name.startswith("on"), (page, node.tag, name)
                if name in {"href", "src"}:
                    assert not (value or "").lower().startswith("javascript:"), (page, value)
        if page.parent.name in {"h", "v1"} and page.parent.parent.name == "h":
            assert payload in root.text()


def test_all_relative_links_resolve(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple(), "beta": simple()})
    for i in range(2):
        build(tmp_path, version_id=f"v{i}")
    site = tmp_path / "site"
    checked = 0
    for page in site.rglob("*.html"):
        for node in parse(page.read_text()).iter():
            for attr in ("href", "src"):
                link = node.attrs.get(attr)
                if not link or link.startswith(("#", "data:")):
                    continue
                parts = urlsplit(link)
                assert not parts.scheme and not parts.netloc, (page, link)
                assert not link.startswith("/"), (page, link)
                target = (page.parent / unquote(parts.path)).resolve()
                assert target.is_file(), (page, link)
                assert target.is_relative_to(site.resolve())
                checked += 1
    assert checked > 40


def test_only_builds_the_named_dashboards(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple(), "beta": simple()})
    build(tmp_path, version_id="v1")
    result = build(tmp_path, version_id="v2", only=frozenset({"alpha"}))
    assert [d.slug for d in result.dashboards] == ["alpha"]
    manifest = manifest_entries(tmp_path / "site")
    assert logged_versions(tmp_path / "site") == {"alpha": ["v1"], "beta": ["v1"]}
    assert logged_checks(tmp_path / "site") == {"alpha": [("v2", "v1")]}  # (data unchanged)
    assert all(d["active"] for d in manifest.values())
    unknown = cli(tmp_path, "build", "--only", "gamma")
    assert unknown.returncode == 1 and "no dashboard named 'gamma'" in unknown.stderr


def test_removed_dashboard_is_archived_with_its_versions(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple("Alpha"), "beta": simple("Beta")})
    build(tmp_path, version_id="v1")
    shutil.rmtree(tmp_path / "dashboards" / "beta")
    build(tmp_path, version_id="v2")
    site = tmp_path / "site"
    assert (vdir(site, "beta", "v1") / "index.html").is_file()
    index = parse((site / "index.html").read_text())
    assert [c.find("h2").text() for c in index.find_all("li", class_="card")] == ["Alpha"]
    archived = index.find("section").find("a")
    assert archived.text() == "Beta" and archived.attrs["href"] == "beta/history/index.html"
    # Its badges say it is archived (a README embedding them showed "ok" for good), and
    # the site's counts the active dashboards only.
    badge = json.loads((site / "beta" / "badge.json").read_text())
    assert (badge["message"], badge["color"], badge["isError"]) == ("archived", "inactive", False)
    svg = (site / "beta" / "badge.svg").read_text()
    assert 'aria-label="Beta: archived"' in svg
    assert json.loads((site / "badge.json").read_text())["message"] == "ok · all 1"
    # Its latest page says so too, and links the last version, which is kept.
    latest = parse((site / "beta" / "index.html").read_text())
    assert latest.find("h1").text() == "Beta Archived"
    link = latest.find("p", class_="notice").find("a")
    assert link.text() == "v1"
    assert (site / "beta" / link.attrs["href"]).resolve() == (
        vdir(site, "beta", "v1") / "index.html").resolve()
    # Brought back, it is built again.
    write_project(tmp_path, {"beta": simple("Beta")})
    build(tmp_path, version_id="v3")
    assert "Archived" not in (site / "beta" / "index.html").read_text()


def test_manifest_is_rebuilt_from_the_log_when_missing(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple()})
    build(tmp_path, version_id="v1", clock=fixed_clock(T0))
    (tmp_path / "site" / "manifest.json").unlink()
    build(tmp_path, version_id="v2", clock=fixed_clock(T0 + timedelta(hours=1)))
    manifest = json.loads((tmp_path / "site" / "manifest.json").read_text())
    assert manifest["dashboards"][0]["count"] == 2
    assert logged_versions(tmp_path / "site") == {"alpha": ["v1", "v2"]}


def test_json_report(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple()})
    done = cli(tmp_path, "build", "--json", "--version-id", "j1")
    assert done.returncode == 0
    report = json.loads(done.stdout)
    assert report["version"] == "j1"
    assert report["dashboards"] == [{"slug": "alpha", "status": "ok", "version": "j1",
                                     "collector_errors": {}, "problem": None,
                                     "unchanged": False}]


@pytest.mark.parametrize("process", [False, True])
def test_a_dashboard_that_prints_leaves_the_json_report_whole(
    tmp_path: Path, process: bool
) -> None:
    module = (
        "import os, subprocess, sys\nfrom dashsite import collector\n"
        "print('hello at import')\n\n@collector\ndef n():\n"
        "    print('hello from a collector')\n"
        "    os.write(1, b'raw bytes on fd 1\\n')\n"
        "    subprocess.run([sys.executable, '-c', 'print(\"from a child\")'], check=True)\n"
        "    return 1\n"
    )
    write_project(tmp_path, {"loud": {"dashboard.py": module, "template.html": "{{ n }}"}})
    done = cli(tmp_path, "build", "--json", "--version-id", "j1", process=process)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["version"] == "j1"  # the report alone on stdout
    if process:  # (in this process the test's own capture holds what went to fd 2)
        for said in ("hello at import", "hello from a collector", "raw bytes", "from a child"):
            assert said in done.stderr


def test_a_closed_stdout_takes_no_file_s_place(tmp_path: Path) -> None:
    # `dashsite build >&-`: fd 1 was free, the build's lock took it, and a dashboard's
    # write to fd 1 went into the lock file.
    import os
    import subprocess
    import sys

    module = (
        "import os\nfrom dashsite import collector\n\n@collector\ndef n():\n"
        "    os.write(1, b'MARKER-ONE')\n    print('MARKER-TWO')\n    return 1\n"
    )
    write_project(tmp_path, {"loud": {"dashboard.py": module, "template.html": "{{ n }}"}})
    done = subprocess.run(
        [sys.executable, "-m", "dashsite", "-C", str(tmp_path), "build"],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")},
        stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.close(1), timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file() and not {"dashboards", "bytecode"} & set(path.parts):  # (code)
            assert b"MARKER" not in path.read_bytes(), path


def test_plain_progress_without_a_terminal(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple()})
    done = cli(tmp_path, "build")
    assert "\x1b[" not in done.stderr
    assert "[1/1] alpha: ok" in done.stderr
    assert "Built 1 dashboard as version" in done.stderr


def test_every_dashboard_is_counted_in_the_progress_also_one_not_filed(tmp_path: Path) -> None:
    # "Building 2 dashboard(s)" then one [n/2] line: a template error counted nowhere.
    write_project(tmp_path, {"alpha": simple(), "beta": {
        "dashboard.py": "from dashsite import collector\n\n@collector\ndef n():\n    return 1\n",
        "template.html": "{{ n.no.such }}"}})
    done = cli(tmp_path, "build")
    assert done.returncode == 1
    counted = [line.split(" ", 1) for line in done.stderr.splitlines() if line.startswith("[")]
    assert sorted(n for n, _ in counted) == ["[1/2]", "[2/2]"], done.stderr
    assert sorted(said for _, said in counted) == ["alpha: ok", "beta: not filed"]


def test_refresh_reloads_latest_pages_and_the_index_only(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple()}, config="refresh = 300\n")
    build(tmp_path, version_id="v1")
    site = tmp_path / "site"

    def refresh(page: str) -> str | None:
        for meta in parse((site / page).read_text()).find_all("meta"):
            if meta.attrs.get("http-equiv") == "refresh":
                return meta.attrs.get("content")
        return None

    assert refresh("index.html") == "300"
    assert refresh("alpha/index.html") == "300"
    snapshot = vdir(site, "alpha", "v1").relative_to(site) / "index.html"
    assert refresh(str(snapshot)) is None  # a snapshot never changes
    assert refresh("alpha/history/index.html") is None
    (tmp_path / "dashsite.toml").write_text("")
    build(tmp_path, version_id="v2")
    assert refresh("index.html") is None and refresh("alpha/index.html") is None


def test_build_site_works_from_inside_a_running_event_loop(tmp_path: Path) -> None:
    import asyncio

    write_project(tmp_path, {"alpha": simple()})

    async def from_async_code() -> str:
        return build(tmp_path, version_id="inside").version_id

    assert asyncio.run(from_async_code()) == "inside"
    assert (vdir(tmp_path / "site", "alpha", "inside") / "index.html").is_file()
