"""The version store: the history log, manifest schema 3, upgrade, recovery, retention."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashsite.core.levels import StatusLevel
from dashsite.store.manifest import Manifest, horizon
from dashsite.store.version_store import (
    DashboardRecord,
    LogRecord,
    ShardMark,
    VersionStore,
    numeric_values,
)
from projects import (
    T0,
    assert_site_whole,
    build,
    cli,
    fixed_clock,
    logged_checks,
    logged_versions,
    manifest_entries,
    seed_log,
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
    assert ("site: upgraded to manifest schema 4, 6 version(s) written into the history log; "
            "every page and data file is kept") in done.stderr
    after = tree_digest(site)
    for path, digest in before.items():  # every old snapshot kept, byte for byte
        assert after[path] == digest
    manifest = json.loads((site / "manifest.json").read_text())
    assert manifest["schema"] == 4
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


SCHEMA2 = Path(__file__).parent / "fixtures" / "schema2"


def test_a_schema_2_site_is_upgraded_without_losing_a_version(tmp_path: Path) -> None:
    """The release before schema 3 left this site; today's builds extend it as it is."""
    shutil.copytree(SCHEMA2 / "dashboards", tmp_path / "dashboards")
    shutil.copytree(SCHEMA2 / "site", tmp_path / "site")
    site = tmp_path / "site"
    assert json.loads((site / "manifest.json").read_text())["schema"] == 2
    before = {path: digest for path, digest in tree_digest(site).items()
              if path.count("/") == 3 and path.split("/")[2].startswith("r")}
    assert len(before) == 20  # 2 dashboards, 5 versions, 2 files each
    ids = ["r1", "r2", "r3", "r4", "r5"]
    assert logged_versions(site) == {"alpha": ids, "beta": ids}

    build(tmp_path, version_id="r6", clock=fixed_clock(datetime(2026, 11, 1, 1, 0, tzinfo=UTC)))

    after = tree_digest(site)
    assert {path: after.get(path) for path in before} == before  # byte for byte
    manifest = json.loads((site / "manifest.json").read_text())
    assert manifest["schema"] == 4
    assert {d["slug"]: d["count"] for d in manifest["dashboards"]} == {"alpha": 6, "beta": 6}
    assert {d["slug"]: [(m["month"], m["days"]) for m in d["months"]]
            for d in manifest["dashboards"]} == {"alpha": [("2026-11", "01")],
                                                 "beta": [("2026-11", "01")]}
    october = json.loads((site / manifest["dashboards"][0]["earlier"]["url"]).read_text())
    assert [(m["month"], m["days"], m["count"]) for m in october["months"]] == [
        ("2026-10", "30-31", 2)]
    assert logged_versions(site) == {"alpha": [*ids, "r6"], "beta": [*ids, "r6"]}
    alpha = parse((site / "alpha" / "index.html").read_text())
    assert [li.text() for li in alpha.find("ol", id="h").find_all("li")] == [
        "r1=0", "r2=10", "r3=20", "r4=30", "r5=40"]
    beta = parse((site / "beta" / "index.html").read_text())
    (incident,) = beta.find("ul", class_="incident-list").find_all("li", class_="incident")
    assert "2026-11-01 00:15 UTC" in incident.text() and "RuntimeError: api down" in incident.text()
    october = parse((site / "beta" / "history" / "2026-10.html").read_text())
    rows = october.find("table", class_="history-table").find("tbody").find_all("tr")
    assert [row.find("a").text() for row in rows] == ["r1", "r2"]
    assert_site_whole(site)

    # Thirteen months on, both are older than the history index's year: "Every month".
    build(tmp_path, version_id="r7", clock=fixed_clock(datetime(2027, 12, 1, 9, 0, tzinfo=UTC)))
    (alpha_entry, _) = json.loads((site / "manifest.json").read_text())["dashboards"]
    assert [m["month"] for m in alpha_entry["months"]] == ["2027-12"]
    assert alpha_entry["earlier"]["months"] == 2 and alpha_entry["earlier"]["count"] == 6
    record = VersionStore(site).load_manifest().dashboards["alpha"]
    assert list(record.months) == ["2026-10", "2026-11", "2027-12"] and record.count == 7
    page = parse((site / "alpha" / "history" / "months.html").read_text())
    assert [a.text() for a in page.find("ul", class_="history-months").find_all("a")] == [
        "2026-11", "2026-10"]
    assert logged_versions(site)["alpha"] == [*ids, "r6", "r7"]
    assert_site_whole(site)


SCHEMA3 = Path(__file__).parent / "fixtures" / "schema3"


def test_a_schema_3_site_is_upgraded_to_the_compact_manifest_with_nothing_lost(
    tmp_path: Path,
) -> None:
    """The release before schema 4 left this site: an ongoing incident whose collector's last
    good version is not the latest, a finished month in an earlier-months file. Read, then
    written as schema 4 and read back, every dashboard is the same; builds go on from it."""
    shutil.copytree(SCHEMA3 / "dashboards", tmp_path / "dashboards")
    shutil.copytree(SCHEMA3 / "site", tmp_path / "site")
    site = tmp_path / "site"
    old = json.loads((site / "manifest.json").read_text())
    assert old["schema"] == 3
    store = VersionStore(site)
    before = store.load_manifest()
    built_at = datetime.fromisoformat(old["built_at"])
    earlier = before.earlier_files(built_at)
    document = before.to_json(built_at, old["assets"], earlier)
    text = Manifest.dumps(document)
    assert document["schema"] == 4 and len(text) < len(json.dumps(old))
    again = Manifest.from_json(json.loads(text), store.read)
    assert list(again.dashboards) == ["alpha", "beta"]
    for slug, record in before.dashboards.items():
        since = horizon(built_at)
        link = earlier[slug][1]
        assert again.dashboards[slug].to_json(since, link) == record.to_json(since, link)
        assert again.dashboards[slug].latest == record.latest
        assert {n: (v.id, v.collected_at, v.status, v.path) for n, v in record.last_good.items()} \
            == {n: (v.id, v.collected_at, v.status, v.path)
                for n, v in again.dashboards[slug].last_good.items()}
    beta = again.dashboards["beta"]
    assert beta.last_good["api"].id == "r3" and beta.incident is not None
    assert beta.incident.start_id == "r4" and beta.count == 5
    assert beta.earlier is not None and beta.earlier.url == old["dashboards"][1]["earlier"]["url"]

    (tmp_path / "dashboards" / "beta" / "down").write_text("")  # still failing
    for n, minute in ((6, 55), (7, 59)):  # read from schema 3, then from schema 4
        build(tmp_path, version_id=f"r{n}",
              clock=fixed_clock(datetime(2026, 11, 1, 0, minute, tzinfo=UTC)))
        entries = manifest_entries(site)
        assert entries["beta"]["last_good"] == {"api": {
            "id": "r3", "collected_at": "2026-11-01T00:10:00+00:00", "status": "ok",
            "path": "beta/2026-11-01/r3/"}}
        assert entries["alpha"]["last_good"] == {"load": "latest"}
        assert entries["beta"]["incident"]["start_id"] == "r4"
        assert entries["beta"]["earlier"] == old["dashboards"][1]["earlier"]  # the same file
        # (beta's r7 finds r6's failure unchanged: a check, not a version)
        assert {slug: e["count"] for slug, e in entries.items()} == {"alpha": n, "beta": 6}
        errors = parse((site / "beta" / "index.html").read_text()).find(
            "section", class_="collector-errors")
        assert "last good value from 2026-11-01 00:10 UTC" in " ".join(errors.text().split())
    assert logged_versions(site)["beta"] == ["r1", "r2", "r3", "r4", "r5", "r6"]
    assert logged_checks(site)["beta"] == [("r7", "r6")]
    assert_site_whole(site)


def test_the_log_skips_a_torn_or_tampered_line(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple()}, config='unchanged = "version"\n')
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
    store.forget("alpha")  # its history written: nothing more is asked, nothing held
    assert [r.id for r in store.tail(record, 3)] == ["v2", "v3", "v4"]  # read back again


def test_a_shard_is_read_from_its_mark_on_unless_it_was_rewritten(tmp_path: Path) -> None:
    store = VersionStore(tmp_path)
    record = DashboardRecord("alpha", "Alpha")
    day = "2026-11-27"

    def append(n: int) -> None:
        store.append(record, LogRecord(f"v{n}", f"{day}T00:{n:02d}:00+00:00",
                                       StatusLevel.OK, f"alpha/v{n}/"))

    assert store.appended("alpha", day, None) == ([], 0, None)  # no shard yet
    for n in range(3):
        append(n)
    found, unreadable, mark = store.appended("alpha", day, None)
    assert [r.id for r in found] == ["v0", "v1", "v2"] and unreadable == 0
    assert mark == store.shard_end("alpha", day, 3)
    for n in range(3, 30):  # past the bytes a mark checks
        append(n)
    found, _, later = store.appended("alpha", day, mark)
    assert [r.id for r in found] == [f"v{n}" for n in range(3, 30)]
    assert later == store.shard_end("alpha", day, 30)
    assert store.appended("alpha", day, later) == ([], 0, later)
    with store.shard("alpha", day).open("ab") as shard:
        shard.write(b"not json\n")
    assert store.appended("alpha", day, later)[:2] == ([], 1)  # a torn line, told
    text = store.shard("alpha", day).read_text()
    store.shard("alpha", day).write_text(text.replace("v1", "w1"))  # rewritten before the mark
    assert store.appended("alpha", day, mark) is None
    assert store.appended("alpha", day, ShardMark(10**6, mark.tail, 3)) is None  # it shrank
    assert ShardMark.empty().tail == hashlib.sha1(b"", usedforsecurity=False).hexdigest()[:16]


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
    manifest = manifest_entries(site)["alpha"]
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
                            ('keep_pages = "365000d"\n', "(at most 99999d), not '365000d'"),
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
    write_project(
        tmp_path,
        {"alpha": {"dashboard.py": module, "template.html": template}},
        config='unchanged = "version"\n',
    )  # (each build a version, read back)
    build(tmp_path, version_id="old", clock=fixed_clock(T0 - timedelta(days=60)))
    build(tmp_path, version_id="now", clock=fixed_clock(T0))  # "old" keeps its log line only
    assert not vdir(tmp_path / "site", "alpha", "old").exists()
    build(tmp_path, version_id="later", clock=fixed_clock(T0 + timedelta(minutes=5)))
    page = parse((tmp_path / "site" / "alpha" / "index.html").read_text())
    assert [li.text() for li in page.find("ol", id="h").find_all("li")] == ["old=—", "now=7"]
    assert "last 7, min 7, max 7" in page.text()  # the series still has the logged numbers


def _seed_14_months(root: Path) -> None:
    """420 daily versions ending an hour before T0 (2026-11-27): 2025-10-03 to 2026-11-27;
    each build files a version (it counts them)."""
    write_project(root, {"alpha": simple()}, config='unchanged = "version"\n')
    seed_log(root, ["alpha"], 420, T0 - timedelta(hours=1), every=24 * 60)


def _months(first: str, last: str) -> list[str]:
    found, year, month = [], int(first[:4]), int(first[5:])
    while f"{year:04d}-{month:02d}" <= last:
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def test_finished_months_leave_the_manifest(tmp_path: Path) -> None:
    _seed_14_months(tmp_path)
    site = tmp_path / "site"
    build(tmp_path, version_id="b1", clock=fixed_clock(T0))

    (alpha,) = json.loads((site / "manifest.json").read_text())["dashboards"]
    assert [m["month"] for m in alpha["months"]] == ["2026-11"]  # the build's month only
    link = alpha["earlier"]
    body = (site / link["url"]).read_bytes()
    assert link["url"] == f"alpha/log/months-{hashlib.sha256(body).hexdigest()[:12]}.json"
    earlier = json.loads(body)["months"]
    assert [m["month"] for m in earlier] == _months("2025-10", "2026-10")
    assert link == {"url": link["url"], "months": 13,
                    "count": sum(m["count"] for m in earlier)}
    assert alpha["count"] == 421
    record = VersionStore(site).load_manifest().dashboards["alpha"]
    assert list(record.months) == _months("2025-10", "2026-11") and record.count == 421
    # The history index lists the last year's months and links the page of every month.
    history = site / "alpha" / "history"
    index = parse((history / "index.html").read_text())
    months = [a.text() for a in index.find("ul", class_="history-months").find_all("a")]
    assert months == _months("2025-11", "2026-11")[::-1]
    assert index.find("a", href="months.html") is not None
    page = parse((history / "months.html").read_text())
    assert [a.attrs["href"] for a in page.find("ul", class_="history-months").find_all("a")] == [
        f"{month}.html" for month in _months("2025-10", "2026-10")[::-1]]
    assert_site_whole(site)

    # The next builds of the month leave both as they are: they change once a month.
    kept = {path: path.stat().st_mtime_ns for path in (site / link["url"], history / "months.html")}
    build(tmp_path, version_id="b2", clock=fixed_clock(T0 + timedelta(minutes=5)))
    assert {path: path.stat().st_mtime_ns for path in kept} == kept
    assert json.loads((site / "manifest.json").read_text())["dashboards"][0]["earlier"] == link

    # A month on, November is finished: a new file, the old one gone, the page redrawn.
    build(tmp_path, version_id="b3", clock=fixed_clock(T0 + timedelta(days=31)))
    (alpha,) = json.loads((site / "manifest.json").read_text())["dashboards"]
    assert [m["month"] for m in alpha["months"]] == ["2026-12"]
    assert alpha["earlier"]["months"] == 14 and alpha["count"] == 423
    assert not (site / link["url"]).exists()
    assert sorted(p.name for p in (site / "alpha" / "log").glob("months-*.json")) == [
        alpha["earlier"]["url"].rsplit("/", 1)[1]]
    page = parse((history / "months.html").read_text())
    assert [a.text() for a in page.find("ul", class_="history-months").find_all("a")] == (
        _months("2025-10", "2026-11")[::-1])
    index = parse((history / "index.html").read_text())
    assert [a.text() for a in index.find("ul", class_="history-months").find_all("a")] == (
        _months("2025-12", "2026-12")[::-1])
    assert VersionStore(site).load_manifest().dashboards["alpha"].count == 423
    assert_site_whole(site)


def test_a_young_site_has_no_months_page(tmp_path: Path) -> None:
    """Under a year, the history index lists every month: no page of them is written."""
    write_project(tmp_path, {"alpha": simple()})
    seed_log(tmp_path, ["alpha"], 60, T0 - timedelta(hours=1), every=24 * 60)
    site = tmp_path / "site"
    build(tmp_path, version_id="b1", clock=fixed_clock(T0))
    (alpha,) = json.loads((site / "manifest.json").read_text())["dashboards"]
    assert alpha["earlier"]["months"] == 2  # September and October: finished
    index = parse((site / "alpha" / "history" / "index.html").read_text())
    assert [a.text() for a in index.find("ul", class_="history-months").find_all("a")] == [
        "2026-11", "2026-10", "2026-09"]
    assert list(index.find_all("a", href="months.html")) == []
    assert not (site / "alpha" / "history" / "months.html").exists()


def test_a_changed_earlier_months_file_is_one_line_and_a_rebuild_heals(tmp_path: Path) -> None:
    _seed_14_months(tmp_path)
    site = tmp_path / "site"
    build(tmp_path, version_id="b1", clock=fixed_clock(T0))
    url = json.loads((site / "manifest.json").read_text())["dashboards"][0]["earlier"]["url"]
    earlier = site / url
    tampered = earlier.read_bytes().replace(b'"worst":"ok"', b'"worst":"error"')
    assert tampered != earlier.read_bytes()
    earlier.write_bytes(tampered)

    done = cli(tmp_path, "build", "--version-id", "b2")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(
        f"site/manifest.json: manifest is unreadable: dashboard alpha: {url} does not "
        "match its name (changed or torn)")
    earlier.unlink()
    assert f"{url} is missing" in cli(tmp_path, "build", "--version-id", "b2").stderr
    (site / "manifest.json").unlink()  # the hint: rebuilt from the log
    build(tmp_path, version_id="b2", clock=fixed_clock(T0 + timedelta(minutes=5)))
    assert VersionStore(site).load_manifest().dashboards["alpha"].count == 422
    assert (site / url).is_file()  # the same months, so the same file again


def test_a_killed_builds_old_months_file_is_removed_by_the_next(tmp_path: Path) -> None:
    _seed_14_months(tmp_path)
    site = tmp_path / "site"
    build(tmp_path, version_id="b1", clock=fixed_clock(T0))
    left = site / "alpha" / "log" / "months-0123456789ab.json"
    left.write_text("{}")
    (site / ".dashsite-tmp").mkdir()  # what a build killed after its manifest leaves

    build(tmp_path, version_id="b2", clock=fixed_clock(T0 + timedelta(minutes=5)))
    assert not left.exists()
    assert len(list((site / "alpha" / "log").glob("months-*.json"))) == 1
    assert_site_whole(site)


def test_retention_taking_every_old_month_takes_the_months_file_and_page(tmp_path: Path) -> None:
    _seed_14_months(tmp_path)
    site = tmp_path / "site"
    build(tmp_path, version_id="b1", clock=fixed_clock(T0))
    assert list((site / "alpha" / "log").glob("months-*.json"))
    (tmp_path / "dashsite.toml").write_text("retention = 10\n")

    build(tmp_path, version_id="b2", clock=fixed_clock(T0 + timedelta(minutes=5)))
    (alpha,) = json.loads((site / "manifest.json").read_text())["dashboards"]
    assert "earlier" not in alpha and alpha["count"] == 10
    assert not list((site / "alpha" / "log").glob("months-*.json"))
    assert not (site / "alpha" / "history" / "months.html").exists()
    assert "months.html" not in (site / "alpha" / "history" / "index.html").read_text()
    assert_site_whole(site)


def test_a_month_folder_is_listed_once_a_build_until_the_store_or_a_status_file_changes_it(
    tmp_path: Path,
) -> None:
    """The digest's seal and the kept calendar months both list a year of month folders;
    a build lists each once, and again after it appends, prunes or writes a status file
    there: a key made from a stale listing would take a stale drawing."""
    from dashsite.store.write import SiteFolder

    store = VersionStore(tmp_path)
    record = DashboardRecord("alpha", "Alpha")

    def append(n: int) -> None:
        store.append(record, LogRecord(f"v{n}", f"2026-11-0{n}T00:00:00+00:00",
                                       StatusLevel.OK, f"alpha/v{n}/"))

    append(1)
    first = store.month_files("alpha", "2026-11")
    assert first.startswith("01:") and first.endswith(";-")
    append(2)
    assert store.month_files("alpha", "2026-11") != first  # appended: listed again
    listed = store.month_files("alpha", "2026-11")
    status = tmp_path / "alpha" / "log" / "2026-11" / "status.json"
    status.write_text("{}")  # written behind the store's back: the build's listing stands
    assert store.month_files("alpha", "2026-11") == listed
    store.relist("alpha", "2026-11")  # as the timeline does after writing it
    assert store.month_files("alpha", "2026-11").endswith(f";2:{status.stat().st_mtime_ns}")
    assert store.prune(record, 1, SiteFolder(tmp_path))[0][0].id == "v1"
    assert store.month_files("alpha", "2026-11").split(";") == [
        f"02:{(tmp_path / 'alpha' / 'log' / '2026-11' / '02.jsonl').stat().st_size}", "-"]


LINE = {
    "id": "20261204T141523Z",
    "collected_at": "2026-12-04T14:15:23.747249+00:00",
    "status": "ok",
    "path": "alpha/2026-12-04/20261204T141523Z/",
    "durations": {"api": 0.0137},
    "values": {"requests": 8},
    "seq": 12,
}


def test_a_log_line_reads_back_as_written_and_its_time_in_utc() -> None:
    from dashsite.store.log import LogRecord

    entry = LogRecord.from_json(LINE, "alpha")
    assert entry.line() == json.dumps({**LINE, "values": {"requests": 8.0}}, separators=(",", ":"))
    for written, read in [
        ("2026-12-04T14:15:23+00:00", "2026-12-04T14:15:23+00:00"),
        ("2026-12-04T14:15:23Z", "2026-12-04T14:15:23+00:00"),
        ("2026-12-04T14:15:23.000000+00:00", "2026-12-04T14:15:23+00:00"),
        ("2026-12-04T14:15:23.5+00:00", "2026-12-04T14:15:23.500000+00:00"),
        ("2026-12-04T16:15:23+02:00", "2026-12-04T14:15:23+00:00"),
        ("2026-12-04 14:15:23", "2026-12-04T14:15:23+00:00"),
    ]:
        raw = {**LINE, "collected_at": written, "path": "alpha/20261204T141523Z/"}
        assert LogRecord.from_json(raw, "alpha").collected_at == read, written


def test_a_tampered_log_line_is_refused() -> None:
    from dashsite.store.log import LogRecord

    for change in [
        {"collected_at": "2026-13-04T14:15:23+00:00"},
        {"status": ["ok"]},
        {"status": "fine"},
        {"durations": {"api": True}},
        {"values": {"requests": float("nan")}},
        {"values": {"requests": "8"}},
        {"values": [8]},
        {"errors": {"api": 1}},
        {"errors": {"api": "x" * 10_001}},
        {"seq": -1},
        {"values": {"requests": 10**400}},  # (float() of it overflows)
        {"path": "beta/2026-12-04/20261204T141523Z/"},
    ]:
        with pytest.raises(ValueError):
            LogRecord.from_json({**LINE, **change}, "alpha")


def test_retention_one_keeps_the_latest_when_the_next_version_fails_to_draw(
    tmp_path: Path,
) -> None:
    """retention = 1 counts the version coming: had it pruned the latest before a template
    error stopped the new one, the log would be empty under a manifest naming a latest
    version, and every later build would refuse the site."""
    write_project(tmp_path, {"alpha": simple()}, config="retention = 1\n")
    site = tmp_path / "site"
    build(tmp_path, version_id="v1", clock=fixed_clock(T0))
    build(tmp_path, version_id="v2", clock=fixed_clock(T0 + timedelta(minutes=5)))
    assert logged_versions(site) == {"alpha": ["v2"]}
    assert not vdir(site, "alpha", "v1").exists()
    assert_site_whole(site)
    template = tmp_path / "dashboards" / "alpha" / "template.html"
    good = template.read_text()
    template.write_text("{{ broken")
    failed = build(tmp_path, version_id="v3", clock=fixed_clock(T0 + timedelta(minutes=10)))
    assert failed.problems and logged_versions(site) == {"alpha": ["v2"]}
    assert (vdir(site, "alpha", "v2") / "index.html").is_file()
    assert_site_whole(site)
    template.write_text(good)
    build(tmp_path, version_id="v4", clock=fixed_clock(T0 + timedelta(minutes=15)))
    assert logged_versions(site) == {"alpha": ["v4"]}
    assert not vdir(site, "alpha", "v2").exists()
    assert_site_whole(site)


def test_a_build_killed_after_pruning_leaves_no_orphan_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log forgets a pruned version before its folder is deleted (pages drawn between
    link it no more): killed in between, the next build deletes the folder, which no log
    line or journal named any more."""
    from dashsite.site import build as build_module

    write_project(tmp_path, {"alpha": simple()}, config="retention = 2\n")
    site = tmp_path / "site"
    for n in (1, 2):
        build(tmp_path, version_id=f"v{n}", clock=fixed_clock(T0 + timedelta(minutes=n)))
    monkeypatch.setattr(build_module.SiteBuilder, "_history",
                        lambda *args, **kwargs: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        build(tmp_path, version_id="v3", clock=fixed_clock(T0 + timedelta(minutes=3)))
    monkeypatch.undo()
    assert vdir(site, "alpha", "v1").exists()  # (pruned from the log, not deleted yet)
    build(tmp_path, version_id="v4", clock=fixed_clock(T0 + timedelta(minutes=4)))
    assert logged_versions(site) == {"alpha": ["v3", "v4"]}
    assert sorted(p.name for p in site.glob("alpha/*/v*")) == ["v3", "v4"]
    assert_site_whole(site)


def test_the_oldest_version_is_read_whatever_its_lines_length(tmp_path: Path) -> None:
    """Its log line holds its errors: one of 20 KB is still read (retention's incident
    links go by it)."""
    store = VersionStore(tmp_path)
    record = DashboardRecord("alpha", "Alpha")
    day = T0.date().isoformat()
    first = LogRecord("v1", T0.isoformat(), StatusLevel.ERROR, f"alpha/{day}/v1/",
                      {"api": "x" * 9000, "db": "y" * 9000})
    store.append(record, first)
    store.append(record, LogRecord("v2", (T0 + timedelta(minutes=5)).isoformat(),
                                   StatusLevel.OK, f"alpha/{day}/v2/"))
    assert len(first.line()) > 16 * 1024
    oldest = VersionStore(tmp_path).oldest(record)
    assert oldest is not None and oldest.id == "v1"


def test_a_month_retention_took_out_of_a_killed_build_loses_its_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after its retention took November's only version out of the log: the next
    build finds the month gone from the log and drops its history page too (it stayed,
    linking the deleted version)."""
    from dashsite.site import build as build_module

    write_project(tmp_path, {"alpha": simple()}, config="retention = 1\n")
    site = tmp_path / "site"
    build(tmp_path, version_id="v1", clock=fixed_clock(T0))  # November
    december = T0 + timedelta(days=5)
    monkeypatch.setattr(build_module.SiteBuilder, "_history",
                        lambda *args, **kwargs: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        build(tmp_path, version_id="v2", clock=fixed_clock(december))
    monkeypatch.undo()
    build(tmp_path, version_id="v3", clock=fixed_clock(december + timedelta(minutes=5)))
    assert logged_versions(site) == {"alpha": ["v3"]}
    assert not list((site / "alpha" / "history").glob("2026-11*"))
    assert_site_whole(site)
