"""A failing source never leaves the site saying OK (hardening, section 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashsite import Sparkline
from dashsite.core.errors import RenderError
from dashsite.core.levels import StatusLevel
from dashsite.render.history import HistoryEntry
from dashsite.store.version_store import LogRecord
from dashsite.types.filters import series
from dashsite.types.renderables import CollectorFailure
from projects import cli, vdir

from htmltree import parse

RAISE_DISK = 'raise RuntimeError("disk source down")'


def _statuses(site: Path) -> dict[str, str]:
    manifest = json.loads((site / "manifest.json").read_text())
    return {d["slug"]: d["status"] for d in manifest["dashboards"]}


def _index_status(site: Path, slug: str) -> str:
    index = parse((site / "index.html").read_text())
    card = next(c for c in index.find_all("li", class_="card") if c.find("a").attrs["href"]
                .startswith(f"{slug}/"))
    return card.find("span", class_="status-badge").text().strip()


def _break_disk(root: Path) -> str:
    module = root / "dashboards" / "demo" / "dashboard.py"
    good = module.read_text()
    module.write_text(good.replace('usage = shutil.disk_usage("/")', RAISE_DISK, 1))
    assert RAISE_DISK in module.read_text()
    return good


def test_scaffold_survives_a_failing_collector_and_its_recovery(tmp_path: Path) -> None:
    assert cli(tmp_path, "new", "demo").returncode == 0
    assert cli(tmp_path, "build", "--version-id", "v1").returncode == 0
    good = _break_disk(tmp_path)

    down = cli(tmp_path, "build", "--version-id", "v2")
    assert down.returncode == 0, down.stderr  # a collector failure, not a problem to fix
    site = tmp_path / "site"
    assert _statuses(site) == {"demo": "error"}
    assert _index_status(site, "demo") == "Partial outage"
    latest = parse((site / "demo" / "index.html").read_text())
    assert "disk source down" in latest.text()

    (tmp_path / "dashboards" / "demo" / "dashboard.py").write_text(good)
    for version in ("v3", "v4"):  # the failed version in history must not break the trend
        up = cli(tmp_path, "build", "--version-id", version)
        assert up.returncode == 0, up.stderr
    assert _statuses(site) == {"demo": "ok"}
    trend = parse((site / "demo" / "index.html").read_text()).find("svg")
    assert list(trend.find_all("polyline")) or list(trend.find_all("circle"))


FRAGILE_TEMPLATE = "{{ disk | render }}\n<p>{{ disk.value | round(1) }} %</p>\n"


def test_a_template_that_cannot_cope_still_files_an_error_version(tmp_path: Path) -> None:
    assert cli(tmp_path, "new", "demo").returncode == 0
    (tmp_path / "dashboards" / "demo" / "template.html").write_text(FRAGILE_TEMPLATE)
    assert cli(tmp_path, "build", "--version-id", "v1").returncode == 0
    _break_disk(tmp_path)

    done = cli(tmp_path, "build", "--version-id", "v2")

    assert done.returncode == 1  # the template needs fixing: say so
    problems = [line for line in done.stderr.splitlines() if "template.html" in line]
    assert len(problems) == 1 and problems[0].startswith("dashboards/demo/template.html:2:")
    site = tmp_path / "site"
    assert _statuses(site) == {"demo": "error"}
    assert _index_status(site, "demo") == "Partial outage"
    for page in (site / "demo" / "index.html", vdir(site, "demo", "v2") / "index.html"):
        tree = parse(page.read_text())
        assert tree.find("span", class_="status-badge").text().strip() == "Partial outage"
        text = tree.text()
        assert "disk source down" in text and "template.html:2" in text
    data = json.loads((vdir(site, "demo", "v2") / "data.json").read_text())
    assert data["status"] == "error" and "disk" in data["errors"]


def test_a_template_bug_without_a_failed_collector_is_still_skipped(tmp_path: Path) -> None:
    assert cli(tmp_path, "new", "demo").returncode == 0
    assert cli(tmp_path, "build", "--version-id", "v1").returncode == 0
    (tmp_path / "dashboards" / "demo" / "template.html").write_text("{{ nope }}")
    assert cli(tmp_path, "build", "--version-id", "v2").returncode == 1
    assert not vdir(tmp_path / "site", "demo", "v2").exists()


def test_sparkline_takes_failures_and_junk_as_gaps() -> None:
    failure = CollectorFailure("disk", "down")
    html = Sparkline([1, None, failure, "n/a", float("nan"), 3, 4, {"x": 1}, True]).render()
    svg = parse(html).find("svg")
    assert len(list(svg.find_all("circle"))) == 1  # the lone 1
    assert len(list(svg.find_all("polyline"))) == 1  # 3 → 4
    assert "last 4, min 1, max 4" in parse(html).text()


@pytest.mark.parametrize("size", ['1" onload="alert(1)', -5, 0, 10**6, 2.5, True])
def test_sparkline_refuses_a_bad_size(size: object) -> None:
    with pytest.raises(RenderError):
        Sparkline([1, 2], width=size)  # type: ignore[arg-type]
    with pytest.raises(RenderError):
        Sparkline([1, 2], height=size)  # type: ignore[arg-type]


def test_series_walks_a_path_and_gaps_failed_versions() -> None:
    def entry(data: object) -> dict[str, object]:
        return {"data": data}

    history = [
        entry({"disk": {"value": 10}}),
        entry({"disk": None}),
        entry({}),
        entry({"disk": {"value": "high"}}),
        entry({"disk": {"value": 12.5}}),
        entry({"disk": {"rows": [[1, 2]]}}),
    ]
    assert series(history, "disk.value") == [10.0, None, None, None, 12.5, None]
    assert series(history, "disk.rows.0.1") == [None] * 5 + [2.0]
    assert series([{"data": {"a": 1}}], "a") == [1.0]
    assert series([entry({"x": CollectorFailure("x", "e")})], "x.value") == [None]


def test_series_reads_the_log_not_the_data_files() -> None:
    def never(_: LogRecord) -> dict[str, object]:
        raise AssertionError("series opened a data.json")

    records = [
        LogRecord("v1", "2026-11-27T20:15:00+00:00", StatusLevel.OK, "s/v1/",
                  values={"disk.value": 81.5}),
        LogRecord("v2", "2026-11-27T20:20:00+00:00", StatusLevel.ERROR, "s/v2/",
                  errors={"disk": "down"}),
    ]
    history = [HistoryEntry(record, never) for record in records]
    assert series(history, "disk.value") == [81.5, None]
