"""The version store: the history log, manifest schema 3, upgrade, recovery, retention."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

from dashsite.levels import StatusLevel
from dashsite.store import DashboardRecord, LogRecord, VersionStore, numeric_values
from projects import (
    T0,
    assert_site_whole,
    build,
    cli,
    fixed_clock,
    logged_versions,
    simple,
    tree_digest,
    vdir,
    write_project,
)

from htmltree import parse

FIXTURE = Path(__file__).parent / "fixtures" / "schema1"


def test_a_schema_1_site_is_upgraded_in_place_without_losing_a_version(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE / "dashboards", tmp_path / "dashboards")
    shutil.copytree(FIXTURE / "site", tmp_path / "site")
    # The fixture's versions age with the calendar: keep every tier, whenever this runs.
    (tmp_path / "dashsite.toml").write_text('keep_pages = "forever"\nkeep_data = "forever"\n')
    site = tmp_path / "site"
    old = json.loads((site / "manifest.json").read_text())
    assert old["schema"] == 1
    before = {path: digest for path, digest in tree_digest(site).items()
              if path.count("/") == 2 and path.split("/")[1].startswith("r")}
    assert len(before) == 12  # 2 dashboards, 3 versions, 2 files each

    done = cli(tmp_path, "build", "--version-id", "r4")

    assert done.returncode == 0, done.stderr
    assert ("site: upgraded to manifest schema 3, 6 version(s) written into the history log; "
            "every page and data file is kept") in done.stderr
    after = tree_digest(site)
    for path, digest in before.items():  # every old snapshot kept, byte for byte
        assert after[path] == digest
    manifest = json.loads((site / "manifest.json").read_text())
    assert manifest["schema"] == 3
    assert {d["slug"]: d["count"] for d in manifest["dashboards"]} == {"alpha": 4, "beta": 4}
    assert logged_versions(site) == {"alpha": ["r1", "r2", "r3", "r4"],
                                     "beta": ["r1", "r2", "r3", "r4"]}
    beta_log = (site / "beta" / "log").glob("*/*.jsonl")
    r3 = next(json.loads(line) for shard in beta_log for line in shard.read_text().splitlines()
              if json.loads(line)["id"] == "r3")
    assert r3["status"] == "error" and r3["errors"] == {"api": "RuntimeError: api down"}
    # history still reads the old versions' data (from their data.json, on demand)
    page = parse((site / "alpha" / "index.html").read_text())
    assert [li.text() for li in page.find("ol", id="h").find_all("li")] == [
        "r1=0", "r2=10", "r3=20"]
    history = parse((site / "alpha" / "history" / "index.html").read_text())
    assert [a.text() for a in history.find("table", class_="history-table").find("tbody").find_all("a")] == ["r4", "r3", "r2", "r1"]
    assert_site_whole(site)
    again = cli(tmp_path, "build", "--version-id", "r5")  # and it stays upgraded
    assert again.returncode == 0, again.stderr
    assert logged_versions(site)["alpha"] == ["r1", "r2", "r3", "r4", "r5"]


def test_the_log_skips_a_torn_or_tampered_line(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple()})
    build(tmp_path, version_id="v1", clock=fixed_clock(T0))
    shard = tmp_path / "site" / "alpha" / "log" / "2026-11" / "27.jsonl"
    with shard.open("a") as handle:  # a killed append, then a hostile line
        handle.write('{"id": "v9", "collected_at": "2026-11-27T')
    build(tmp_path, version_id="v2", clock=fixed_clock(T0 + timedelta(minutes=5)))
    with shard.open("a") as handle:
        handle.write(json.dumps({"id": "javascript:alert(1)//", "collected_at": T0.isoformat(),
                                 "status": "ok", "path": "alpha/x/"}) + "\n")
    build(tmp_path, version_id="v3", clock=fixed_clock(T0 + timedelta(minutes=10)))
    assert logged_versions_valid(tmp_path / "site") == ["v1", "v2", "v3"]
    history = parse((tmp_path / "site" / "alpha" / "history" / "index.html").read_text())
    assert [a.text() for a in history.find("table", class_="history-table").find("tbody").find_all("a")] == ["v3", "v2", "v1"]


def logged_versions_valid(site: Path) -> list[str]:
    store = VersionStore(site)
    record = store.load_manifest().dashboards["alpha"]
    return [entry.id for entry in store.tail(record, 100)]


def test_a_build_killed_after_filing_is_adopted(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple()})
    build(tmp_path, version_id="v1", clock=fixed_clock(T0))
    site = tmp_path / "site"
    # What a build killed after renaming its version in, before the manifest, leaves:
    v2 = vdir(site, "alpha", "v1").parent / "v2"
    shutil.copytree(vdir(site, "alpha", "v1"), v2)
    data = json.loads((v2 / "data.json").read_text())
    data.update(version="v2", collected_at=(T0 + timedelta(minutes=5)).isoformat())
    (v2 / "data.json").write_text(json.dumps(data))
    (site / ".dashsite-tmp").mkdir()
    journal = [{"slug": "alpha", "path": str(v2.relative_to(site)) + "/"}]
    (site / ".dashsite-tmp" / "journal.json").write_text(json.dumps(journal))
    (site / ".dashsite-tmp" / "alpha.v3").mkdir()  # and one still being assembled
    build(tmp_path, version_id="v3", clock=fixed_clock(T0 + timedelta(minutes=10)))
    assert logged_versions(site) == {"alpha": ["v1", "v2", "v3"]}
    manifest = json.loads((site / "manifest.json").read_text())
    assert manifest["dashboards"][0]["count"] == 3
    assert not (site / ".dashsite-tmp").exists()
    assert_site_whole(site)


def test_retention_deletes_what_it_prunes_and_rewrites_one_month(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple()}, config="retention = 3\n")
    moments = [T0 - timedelta(days=40), T0 - timedelta(days=35), T0 - timedelta(days=1),
               T0, T0 + timedelta(minutes=1)]
    for n, moment in enumerate(moments):
        build(tmp_path, version_id=f"v{n}", clock=fixed_clock(moment))
    site = tmp_path / "site"
    assert logged_versions(site) == {"alpha": ["v2", "v3", "v4"]}
    assert sorted(p.name for p in site.glob("alpha/*/v*")) == [
        "v2", "v3", "v4"]
    months = [m["month"] for m in json.loads((site / "manifest.json").read_text())[
        "dashboards"][0]["months"]]
    assert months == ["2026-11"]
    assert not list((site / "alpha" / "history").glob("2026-10*"))
    assert not list((site / "alpha" / "log").glob("2026-10/*.jsonl"))
    assert_site_whole(site)


def test_numeric_values_are_what_trends_need() -> None:
    stored = {
        "disk": {"$kind": "MonitorMetric", "value": 81.5, "label": "x", "level": "ok", "unit": "%"},
        "flag": True,
        "plain": {"$kind": "dict", "items": {"n": 3}},
        "rows": [[1, 2], [3, 4]],
        "deep": {"a": {"b": {"c": {"d": {"e": 1}}}}},
        "nan": float("nan"),
    }
    assert numeric_values(stored) == {"disk.value": 81.5, "plain.n": 3.0}


def test_tail_reads_back_across_months(tmp_path: Path) -> None:
    store = VersionStore(tmp_path)
    record = DashboardRecord("alpha", "Alpha")
    for n in range(5):
        month = "2026-10" if n < 3 else "2026-11"
        store.append(record, LogRecord(f"v{n}", f"{month}-0{n + 1}T00:00:00+00:00",
                                       StatusLevel.OK, f"alpha/v{n}/"))
    assert [r.id for r in store.tail(record, 4)] == ["v1", "v2", "v3", "v4"]
    assert [r.id for r in store.tail(record, 100)] == ["v0", "v1", "v2", "v3", "v4"]
    assert record.count == 5 and list(record.months) == ["2026-10", "2026-11"]


def test_tiers_thin_pages_then_data_and_keep_the_log(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple()})
    site = tmp_path / "site"
    build(tmp_path, version_id="old", clock=fixed_clock(T0 - timedelta(days=40)))
    build(tmp_path, version_id="mid", clock=fixed_clock(T0 - timedelta(days=10)))
    build(tmp_path, version_id="new", clock=fixed_clock(T0 - timedelta(days=4)))
    assert (vdir(site, "alpha", "mid") / "index.html").is_file()  # 6 days old then: kept
    build(tmp_path, version_id="now", clock=fixed_clock(T0))
    assert not vdir(site, "alpha", "old").exists()  # past 30 days: the log line only
    assert not (vdir(site, "alpha", "mid") / "index.html").exists()  # past 7 days: data only
    assert (vdir(site, "alpha", "mid") / "data.json").is_file()
    assert (vdir(site, "alpha", "new") / "index.html").is_file()
    assert logged_versions(site) == {"alpha": ["old", "mid", "new", "now"]}
    manifest = json.loads((site / "manifest.json").read_text())["dashboards"][0]
    assert (manifest["pages_from"], manifest["data_from"], manifest["count"]) == (
        "2026-11-20", "2026-10-28", 4)
    index = parse((site / "alpha" / "history" / "index.html").read_text())
    cells = [tr.find("td") for tr in index.find("table", class_="history-table").find("tbody").find_all("tr")]
    assert [c.text() for c in cells] == ["now", "new", "mid (data)", "old"]
    assert [a.attrs["href"] for c in cells for a in c.find_all("a")] == [
        "../../alpha/2026-11-27/now/index.html", "../../alpha/2026-11-23/new/index.html",
        "../../alpha/2026-11-17/mid/data.json"]
    october = parse((site / "alpha" / "history" / "2026-10.html").read_text())
    assert not list(october.find("table", class_="history-table").find("tbody").find_all("a"))
    assert_site_whole(site)


def test_keep_settings_are_checked(tmp_path: Path) -> None:
    for config, message in (('keep_pages = "a week"\n', "'keep_pages' must be like"),
                            ('keep_pages = "30d"\nkeep_data = "7d"\n', "is shorter than")):
        write_project(tmp_path, {"alpha": simple()}, config=config)
        done = cli(tmp_path, "build")
        assert done.returncode == 1 and message in done.stderr, done.stderr


def test_an_archived_dashboards_latest_version_is_never_thinned(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple(), "beta": simple()})
    build(tmp_path, version_id="v1", clock=fixed_clock(T0 - timedelta(days=60)))
    shutil.rmtree(tmp_path / "dashboards" / "beta")  # archived: built no more
    build(tmp_path, version_id="v2", clock=fixed_clock(T0))
    site = tmp_path / "site"
    assert (vdir(site, "beta", "v1") / "index.html").is_file()  # its latest page links here
    assert not vdir(site, "alpha", "v1").exists()
    assert_site_whole(site)


def test_a_template_reading_history_data_survives_the_tiers(tmp_path: Path) -> None:
    module = "from dashsite import MonitorMetric, collector\n\n@collector\ndef load():\n" \
             "    return MonitorMetric(7, label='load')\n"
    template = ('<ol id="h">{% for h in history %}<li>{{ h.version }}={{ h.data.load.value }}'
                '</li>{% endfor %}</ol>{{ Sparkline(history | series("load.value")) | render }}')
    write_project(tmp_path, {"alpha": {"dashboard.py": module, "template.html": template}})
    build(tmp_path, version_id="old", clock=fixed_clock(T0 - timedelta(days=60)))
    build(tmp_path, version_id="now", clock=fixed_clock(T0))  # "old" keeps its log line only
    assert not vdir(tmp_path / "site", "alpha", "old").exists()
    build(tmp_path, version_id="later", clock=fixed_clock(T0 + timedelta(minutes=5)))
    page = parse((tmp_path / "site" / "alpha" / "index.html").read_text())
    assert [li.text() for li in page.find("ol", id="h").find_all("li")] == ["old=—", "now=7"]
    assert "last 7, min 7, max 7" in page.text()  # the series still has the logged numbers
