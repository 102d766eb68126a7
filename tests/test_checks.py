"""A build whose data did not change files a check, not a version (issue 23, item 5).

A check is a line in the day's checks file: the status counts its time as it
counts a version's, the latest page says when the data was collected and since
when it is unchanged, and nothing else is written for it (no version folder, no
history row). The first build of a UTC day, new data, a new template or a
collector under ``every`` that ran each file a version.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from dashsite.store.documents import schema_text
from dashsite.store.manifest import Manifest
from projects import (
    T0,
    build,
    cli,
    fixed_clock,
    logged_checks,
    logged_versions,
    simple,
    write_project,
)
from test_status_site import flaky, page, project, run, uptime_cells

from htmltree import parse

VALUED = """
from pathlib import Path
from dashsite import collector, StatusCell, StatusLevel

TITLE = "Service"
VALUE = Path(__file__).with_name("value.txt")

@collector
def status():
    return StatusCell("UP", StatusLevel.OK)

@collector
def value():
    return int(VALUE.read_text()) if VALUE.is_file() else 1
"""


def _valued(root: Path, config: str = 'expected_every = "5m"\n') -> Path:
    return write_project(
        root, {"svc": {"dashboard.py": VALUED, "template.html": "<p id='v'>{{ value }}</p>"}},
        config=config,
    )  # fmt: skip


def _set(root: Path, value: int) -> None:
    (root / "dashboards" / "svc" / "value.txt").write_text(str(value))


def _manifest(site: Path) -> Manifest:
    raw = json.loads((site / "manifest.json").read_text())
    jsonschema.validate(raw, json.loads(schema_text("manifest")))
    return Manifest.from_json(raw, lambda relative: (site / relative).read_bytes())


def _meta(site: Path, slug: str = "svc") -> str:
    latest = parse((site / slug / "index.html").read_text())
    return " ".join(latest.find("p", class_="meta").text().split())


def test_unchanged_data_files_a_check_and_the_pages_say_so(tmp_path: Path) -> None:
    root = _valued(tmp_path)
    site = root / "site"
    build(root, version_id="v1", clock=fixed_clock(T0))
    result = build(root, version_id="c1", clock=fixed_clock(T0 + timedelta(minutes=5)))
    (done,) = result.dashboards
    assert (done.version, done.unchanged) == ("v1", True)
    assert logged_versions(site) == {"svc": ["v1"]}
    assert logged_checks(site) == {"svc": [("c1", "v1")]}
    assert not list(site.glob("svc/*/c1"))  # no folder, no snapshot
    svc = _manifest(site).dashboards["svc"]
    assert svc.latest is not None and svc.latest.id == "v1" and svc.count == 1
    assert svc.checked is not None and svc.checked.id == "c1"
    assert re.fullmatch(r"[0-9a-f]{24}", svc.key)
    # Each collector was last good at the check: one word in the manifest says so.
    assert svc.last_good["value"].collected_at == "2026-11-27T20:20:00+00:00"
    raw = json.loads((site / "manifest.json").read_text())["dashboards"][0]
    assert raw["last_good"] == {"status": "checked", "value": "checked"}
    # The latest page: collected now, unchanged since v1, whose snapshot and data it links.
    assert _meta(site) == (
        "Collected 2026-11-27 20:20 UTC · unchanged since version v1 (2026-11-27 20:15 UTC) "
        "· History · Data"
    )
    links = [a.attrs["href"] for a in parse((site / "svc" / "index.html").read_text()).find(
        "p", class_="meta").find_all("a")]  # fmt: skip
    assert links == ["2026-11-27/v1/index.html", "history/index.html", "2026-11-27/v1/data.json"]
    assert all((site / "svc" / link).is_file() for link in links)
    index = parse((site / "index.html").read_text())
    card = index.find("li", class_="card")
    assert card.find("time").attrs["datetime"] == "2026-11-27T20:20:00Z"  # seen then
    assert "1 version" in card.text()
    history = parse((site / "svc" / "history" / "index.html").read_text())
    rows = history.find("table", class_="history-table").find("tbody").find_all("tr")
    assert [tr.find("a").text() for tr in rows] == ["v1"]

    _set(root, 2)  # new data: a version, and no check newer than it
    build(root, version_id="v3", clock=fixed_clock(T0 + timedelta(minutes=10)))
    svc = _manifest(site).dashboards["svc"]
    assert svc.latest is not None and svc.latest.id == "v3" and svc.checked is None
    assert _meta(site).startswith("Collected 2026-11-27 20:25 UTC · version v3 ")
    build(root, version_id="c4", clock=fixed_clock(T0 + timedelta(minutes=15)))
    assert logged_checks(site) == {"svc": [("c1", "v1"), ("c4", "v3")]}

    # A new template, title or description is drawn as a version, not hidden behind a check.
    (root / "dashboards" / "svc" / "template.html").write_text("<p id='v'>{{ value }}!</p>")
    build(root, version_id="v5", clock=fixed_clock(T0 + timedelta(minutes=20)))
    assert logged_versions(site) == {"svc": ["v1", "v3", "v5"]}
    # The first build of a UTC day files a version: every day has its own.
    tomorrow = build(root, version_id="v6", clock=fixed_clock(T0 + timedelta(hours=4)))
    assert not tomorrow.dashboards[0].unchanged
    assert logged_versions(site)["svc"][-1] == "v6"


def test_the_cli_says_which_were_checked(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple("Alpha"), "beta": simple("Beta")})
    assert cli(tmp_path, "build", "--version-id", "v1").returncode == 0
    report = json.loads(cli(tmp_path, "build", "--version-id", "v2", "--json").stdout)
    assert [(d["slug"], d["version"], d["unchanged"]) for d in report["dashboards"]] == [
        ("alpha", "v1", True), ("beta", "v1", True)]  # fmt: skip
    again = cli(tmp_path, "build", "--version-id", "v2b")
    assert "Checked 2 dashboards, data unchanged (no version filed)" in again.stderr
    (tmp_path / "dashboards" / "beta" / "template.html").write_text("<p>{{ count }}</p>")
    third = cli(tmp_path, "build", "--version-id", "v3")
    assert "Built 1 dashboard as version v3 in " in third.stderr
    assert ": 1 unchanged (checked, no new version)" in third.stderr


def test_unchanged_version_files_a_version_every_build(tmp_path: Path) -> None:
    root = _valued(tmp_path, config='unchanged = "version"\n')
    for n in range(3):
        build(root, version_id=f"v{n}", clock=fixed_clock(T0 + timedelta(minutes=5 * n)))
    assert logged_versions(root / "site") == {"svc": ["v0", "v1", "v2"]}
    assert logged_checks(root / "site") == {}


def test_retention_counts_versions_so_it_files_no_checks(tmp_path: Path) -> None:
    root = _valued(tmp_path, config="retention = 2\n")
    for n in range(3):
        build(root, version_id=f"v{n}", clock=fixed_clock(T0 + timedelta(minutes=5 * n)))
    assert logged_versions(root / "site") == {"svc": ["v1", "v2"]}
    assert logged_checks(root / "site") == {}


SCHEDULED = """
from pathlib import Path
from dashsite import collector

TITLE = "Scheduled"
CALLS = Path(__file__).with_name("calls.txt")

@collector(every="1h")
def slow():
    CALLS.write_text(str(int(CALLS.read_text()) + 1 if CALLS.is_file() else 1))
    return 7

@collector
def fast():
    return 1
"""


def test_a_check_keeps_every_collector_on_its_schedule(tmp_path: Path) -> None:
    """A collector under ``every`` is reused from the latest version's data.json, which
    says when it ran; a build where it ran again files a version (its data unchanged or
    not), so that time is kept and it is not called on every build after."""
    write_project(tmp_path, {"sched": {"dashboard.py": SCHEDULED, "template.html": "{{ slow }}"}})
    calls = tmp_path / "dashboards" / "sched" / "calls.txt"
    results = [
        build(tmp_path, clock=fixed_clock(T0 + timedelta(minutes=5 * n))).dashboards[0]
        for n in range(16)  # 20:15 to 21:30
    ]
    assert int(calls.read_text()) == 2  # at 20:15 and at 21:15
    assert [d.unchanged for d in results] == [False] + [True] * 11 + [False] + [True] * 3
    assert len(logged_versions(tmp_path / "site")["sched"]) == 2


def test_the_status_of_checks_is_the_status_of_versions(tmp_path: Path) -> None:
    """The same runs, filed as checks on one site and as versions on the other: the uptime,
    the bars (but for their count of versions), the incidents and the feeds agree; across
    an outage, a gap longer than a status holds, midnight and the next day."""
    sites = {
        mode: project(tmp_path / mode, checks=mode == "checks") for mode in ("checks", "versions")
    }
    modes = ["7", "7", "7", "down", "down", "down", "7", "7"]
    for root in sites.values():
        run(root, "alpha", modes, start=T0)
        run(root, "alpha", ["7", "7", "slow", "slow"], start=T0 + timedelta(hours=3, minutes=30))
        run(root, "alpha", ["7", "7", "7"], start=datetime(2026, 11, 28, 0, 5, tzinfo=UTC))
    checked = logged_checks(sites["checks"] / "site")["alpha"]
    assert len(checked) >= 8 and logged_checks(sites["versions"] / "site") == {}

    def shown(root: Path, relative: str) -> dict[str, object]:
        tree = page(root, relative)
        bars = [re.sub(r"[0-9,]+ versions?", "N versions", li.text())
                for li in tree.find_all("li", class_="day-bar")]  # fmt: skip
        incidents = [re.sub(r", [0-9,]+ versions?\)", ")", " ".join(li.text().split()))
                     for li in tree.find_all("li", class_="incident")]  # fmt: skip
        return {"uptime": uptime_cells(tree), "bars": bars, "incidents": incidents}

    for relative in ("alpha/index.html", "alpha/history/index.html"):
        assert shown(sites["checks"], relative) == shown(sites["versions"], relative), relative
    feeds = [
        [(e.findtext("{http://www.w3.org/2005/Atom}title"), e.findtext(
            "{http://www.w3.org/2005/Atom}updated")) for e in _entries(root / "site" / "feed.xml")]
        for root in sites.values()
    ]  # fmt: skip
    assert feeds[0] == feeds[1] and feeds[0]
    assert shown(sites["checks"], "alpha/index.html")["incidents"]


def _entries(path: Path) -> list:
    import xml.etree.ElementTree as ET

    return ET.parse(path).getroot().findall("{http://www.w3.org/2005/Atom}entry")


def _without_footer(path: Path) -> str:
    """A page without its footer (the time its build ran)."""
    return re.sub(r"<footer.*</footer>", "", path.read_text(), flags=re.S)


@pytest.mark.parametrize(
    "states", [["7"] * 6, ["slow"] * 6, ["down"] * 6, ["7", "down", "down", "down", "7", "7"]]
)
def test_a_check_leaves_the_history_pages_only_as_a_fresh_drawing_would(
    tmp_path: Path, states: list[str]
) -> None:
    """A check draws the history pages again only when what they show of the status moved
    (an incident going on, down time growing): after each build, they are what a build
    without the state folder (which draws them always) draws, but for the footer."""
    root = project(tmp_path / "site-a", checks=True)
    twin = tmp_path / "site-b"
    history = Path("site/alpha/history")
    for n, state in enumerate(states):
        moment = T0 + timedelta(minutes=30 * n)
        shutil.rmtree(twin, ignore_errors=True)
        shutil.copytree(root, twin, symlinks=True)
        shutil.rmtree(twin / ".dashsite", ignore_errors=True)
        for folder in (root, twin):
            (folder / "dashboards" / "alpha" / "mode.txt").write_text(state)
            build(folder, version_id=f"b{n}", clock=fixed_clock(moment))
        for name in ("index.html", "2026-11.html"):
            kept, fresh = (
                _without_footer(root / history / name),
                _without_footer(twin / history / name),
            )
            assert kept == fresh, (n, name)


def test_a_clock_set_back_after_checks_is_told_and_ids_still_sort(tmp_path: Path) -> None:
    root = _valued(tmp_path)
    build(root, clock=fixed_clock(T0))
    build(root, clock=fixed_clock(T0 + timedelta(minutes=30)))  # a check at 20:45
    from dashsite.store.clock import behind

    said = behind(_manifest(root / "site"), T0 + timedelta(minutes=10))
    assert said is not None and "is 20 min behind" in said  # the check's time, not v1's
    result = build(root, clock=fixed_clock(T0 + timedelta(minutes=10)))  # set back 20 min
    ids = [
        *logged_versions(root / "site")["svc"],
        *(c for c, _ in logged_checks(root / "site")["svc"]),
    ]
    assert result.dashboards[0].unchanged and sorted(ids) == ids and len(set(ids)) == 3
    svc = _manifest(root / "site").dashboards["svc"]
    assert svc.checked is not None and svc.checked.id == ids[-1] and svc.checked.seq == 3


def test_a_torn_check_is_skipped_and_checks_go_on(tmp_path: Path) -> None:
    root = project(tmp_path, checks=True)
    run(root, "alpha", ["7", "7"])
    checks = next((root / "site" / "alpha" / "log").glob("*/*.checks.jsonl"))
    with checks.open("a") as handle:  # a killed append, then a line that is no check
        handle.write('{"id": "half", "collected_at": "2026-11-27T')
    run(root, "alpha", ["7", "7"], start=T0 + timedelta(minutes=10))
    with checks.open("a") as handle:
        handle.write(json.dumps({"id": "x", "collected_at": T0.isoformat(), "status": "ok",
                                 "path": "alpha/x/"}) + "\n")  # fmt: skip
    run(root, "alpha", ["7"], start=T0 + timedelta(minutes=20))
    assert [c for c, _ in logged_checks(root / "site")["alpha"] if c not in ("half", "x")] == [
        "20261127T202000Z", "20261127T202500Z", "20261127T203000Z", "20261127T203500Z"]  # fmt: skip
    assert uptime_cells(page(root, "alpha/index.html"))["Dashboard"] == ["100 %"]


def test_the_unchanged_setting_is_checked(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": flaky()}, config='unchanged = "never"\n')
    done = cli(tmp_path, "build")
    assert done.returncode == 1
    assert "dashsite.toml: 'unchanged' must be \"check\" or \"version\", not 'never'" in done.stderr


def test_a_manifest_rebuilt_from_the_log_keeps_its_checks(tmp_path: Path) -> None:
    root = _valued(tmp_path)
    site = root / "site"
    for n in range(3):  # a version, two checks
        build(root, version_id=f"b{n}", clock=fixed_clock(T0 + timedelta(minutes=5 * n)))
    (site / "manifest.json").unlink()
    build(root, version_id="b3", clock=fixed_clock(T0 + timedelta(minutes=15)))
    svc = _manifest(site).dashboards["svc"]
    assert svc.months["2026-11"].checked == {"27"} and svc.count == 2  # (b3: no key, a version)
    assert logged_checks(site) == {"svc": [("b1", "b0"), ("b2", "b0")]}
    build(root, version_id="b4", clock=fixed_clock(T0 + timedelta(minutes=20)))
    assert logged_checks(site)["svc"][-1] == ("b4", "b3")


def test_a_check_draws_the_history_again_when_its_pages_are_gone_or_the_site_changed(
    tmp_path: Path,
) -> None:
    """The history pages a check leaves must be there (a pull fetches none of them) and be
    drawn with the site as it is (its title, say): else it draws them."""
    root = _valued(tmp_path)
    site = root / "site"
    for n in range(2):  # a version, then a check that finds the history drawn alike
        build(root, version_id=f"b{n}", clock=fixed_clock(T0 + timedelta(minutes=5 * n)))
    history = site / "svc" / "history"
    shutil.rmtree(history)
    build(root, version_id="b2", clock=fixed_clock(T0 + timedelta(minutes=10)))
    assert (history / "index.html").is_file() and (history / "2026-11.html").is_file()
    (root / "dashsite.toml").write_text('expected_every = "5m"\ntitle = "Renamed"\n')
    build(root, version_id="b3", clock=fixed_clock(T0 + timedelta(minutes=15)))
    assert logged_checks(site)["svc"][-1] == ("b3", "b0")
    for page_ in ("index.html", "2026-11.html"):
        assert "Renamed" in parse((history / page_).read_text()).find("title").text(), page_


def test_a_check_a_killed_build_appended_counts_in_its_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build killed after its check, before its manifest, leaves the line; the next build
    takes its build number again. The status orders the two by time: the outage after the
    killed build counts whole, as on a site that files versions (where the next build
    adopts the killed one's version)."""
    import dashsite.site.build

    sites = {mode: project(tmp_path / mode, checks=mode == "c") for mode in ("c", "v")}

    def killed(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    for root in sites.values():
        run(root, "alpha", ["7", "7"])
        (root / "dashboards" / "alpha" / "mode.txt").write_text("7")
        monkeypatch.setattr(dashsite.site.build, "write_manifest", killed)
        with pytest.raises(KeyboardInterrupt):
            build(root, version_id="k", clock=fixed_clock(T0 + timedelta(minutes=10)))
        monkeypatch.undo()
        run(root, "alpha", ["down"] * 4, start=T0 + timedelta(minutes=15))
        run(root, "alpha", ["7"], start=datetime(2026, 11, 28, 0, 5, tzinfo=UTC))
    assert ("k", "20261127T201500Z") in logged_checks(sites["c"] / "site")["alpha"]

    def day(root: Path) -> str:
        bars = page(root, "alpha/index.html").find_all("li", class_="day-bar")
        label = next(b.text() for b in bars if b.text().startswith("2026-11-27"))
        return re.sub(r"[0-9,]+ versions?", "N versions", label)

    assert day(sites["c"]) == day(sites["v"])
    assert "down 25 min" in day(sites["c"])  # (20:30 to 20:45, held 10 min)


def test_a_version_id_a_check_took_is_refused_again(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple()})
    assert cli(tmp_path, "build", "--version-id", "run-41").returncode == 0
    assert cli(tmp_path, "build", "--version-id", "run-42").returncode == 0  # a check
    again = cli(tmp_path, "build", "--version-id", "run-42")  # a re-run of the same CI job
    assert again.returncode == 1 and "version id 'run-42' already exists" in again.stderr


def test_a_notification_names_the_version_a_check_repeats() -> None:
    from dashsite.core.levels import StatusLevel
    from dashsite.notify.config import Rules
    from dashsite.notify.transitions import walk
    from dashsite.store.log import LogRecord

    failed = {"api": "down"}
    first = LogRecord("v1", T0.isoformat(), StatusLevel.ERROR, "alpha/2026-11-27/v1/", failed)
    again = [
        LogRecord(f"c{n}", (T0 + timedelta(minutes=5 * n)).isoformat(), StatusLevel.ERROR, "",
                  failed, same="v1")
        for n in (1, 2)
    ]  # fmt: skip
    (opened,), _ = walk("alpha", "Alpha", [first, *again], Rules(fail_after=3))
    assert (opened.kind, opened.version, opened.url) == ("opened", "v1", "alpha/index.html")


FAILING = """
from pathlib import Path
from dashsite import collector, StatusCell, StatusLevel

TITLE = "Api"
DOWN = Path(__file__).with_name("down")

@collector
def api():
    if DOWN.exists():
        raise ConnectionError("refused")
    return StatusCell("UP", StatusLevel.OK)
"""


def test_a_check_keeps_last_good_and_the_failure_count_true(tmp_path: Path) -> None:
    """A collector good at every check of a quiet day was last good at the last check, not
    at the day's version; and a run of failures keeps counting them in the manifest."""
    root = write_project(tmp_path, {"api": {"dashboard.py": FAILING, "template.html": "x"}},
                         config='expected_every = "1h"\n')  # fmt: skip
    day = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    for hour in range(23):  # 00:00 a version, then checks until 22:00
        build(root, version_id=f"h{hour:02d}", clock=fixed_clock(day + timedelta(hours=hour)))
    (root / "dashboards" / "api" / "down").write_text("")
    for hour in (23, 23.5):  # a version, then a check of it
        build(root, clock=fixed_clock(day + timedelta(hours=hour)))
    site = root / "site"
    errors = parse((site / "api" / "index.html").read_text()).find(
        "section", class_="collector-errors")  # fmt: skip
    said = " ".join(errors.text().split())
    assert "last good value from 2026-11-28 22:00 UTC (1h 30m earlier)" in said, said
    api = _manifest(site).dashboards["api"]
    assert api.checked is not None and api.failed == 1
    raw = json.loads((site / "manifest.json").read_text())["dashboards"][0]
    assert raw["latest"]["errors"] == 1
    assert api.last_good["api"].collected_at == "2026-11-28T22:00:00+00:00"


def test_a_damaged_checks_file_is_told_by_pull(tmp_path: Path) -> None:
    from dashsite.store.version_store import VersionStore

    root = _valued(tmp_path)
    for n in range(3):
        build(root, version_id=f"b{n}", clock=fixed_clock(T0 + timedelta(minutes=5 * n)))
    store = VersionStore(root / "site")
    manifest = store.load_manifest()
    assert store.damaged(manifest) == []
    checks = root / "site" / "svc" / "log" / "2026-11" / "27.checks.jsonl"
    with checks.open("a") as handle:
        handle.write("not a check\n")
    assert store.damaged(manifest) == [
        "svc/log/2026-11/27.checks.jsonl: 1 of 3 line(s) are not checks (their time is not counted)"
    ]
    checks.unlink()
    assert store.damaged(manifest) == [
        "svc/log/2026-11/27.checks.jsonl: missing (its checks' time is not counted)"
    ]


def test_a_version_a_killed_build_filed_is_adopted_with_its_own_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build killed before its manifest filed version k (the api up); the next build,
    the api down again, must not take k for the version it repeats: it adopts k, and its
    data is news (it said "Operational" while the source was down, and a later manifest
    could not be read)."""
    import dashsite.site.build

    root = write_project(tmp_path, {"api": {"dashboard.py": FAILING, "template.html": "x"}},
                         config='expected_every = "5m"\n')  # fmt: skip
    down = root / "dashboards" / "api" / "down"
    down.write_text("")
    for n in range(2):  # a version, then a check
        build(root, version_id=f"b{n}", clock=fixed_clock(T0 + timedelta(minutes=5 * n)))
    down.unlink()

    def killed(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(dashsite.site.build, "write_manifest", killed)
    with pytest.raises(KeyboardInterrupt):
        build(root, version_id="k", clock=fixed_clock(T0 + timedelta(minutes=10)))
    monkeypatch.undo()
    down.write_text("")
    result = build(root, version_id="b2", clock=fixed_clock(T0 + timedelta(minutes=15)))
    assert not result.dashboards[0].unchanged
    api = _manifest(root / "site").dashboards["api"]
    assert api.latest is not None and (api.latest.id, api.latest.status.slug) == ("b2", "error")
    assert api.failed == 1 and api.checked is None
    build(root, version_id="b3", clock=fixed_clock(T0 + timedelta(minutes=20)))
    checked = _manifest(root / "site").dashboards["api"].checked
    assert checked is not None and checked.id == "b3"


def test_a_check_draws_the_history_again_when_a_shared_layout_changed(tmp_path: Path) -> None:
    from importlib import resources

    root = _valued(tmp_path)
    layouts = root / "dashboards" / "_layouts"
    layouts.mkdir()
    base = resources.files("dashsite").joinpath("theme/base.html").read_text("utf-8")
    (layouts / "base.html").write_text(
        base.replace("</footer>", '{% include "foot.html" %}</footer>')
    )
    (layouts / "foot.html").write_text("<p>FOOT-A</p>")
    for n in range(2):  # a version, then a check that finds the history drawn alike
        build(root, version_id=f"b{n}", clock=fixed_clock(T0 + timedelta(minutes=5 * n)))
    (layouts / "foot.html").write_text("<p>FOOT-B</p>")
    build(root, version_id="b2", clock=fixed_clock(T0 + timedelta(minutes=10)))
    assert logged_checks(root / "site")["svc"][-1] == ("b2", "b0")
    for name in ("index.html", "2026-11.html"):
        assert "FOOT-B" in (root / "site" / "svc" / "history" / name).read_text(), name


def test_a_manifest_whose_check_is_not_newer_still_reads(tmp_path: Path) -> None:
    """A check no newer than the latest version (a manifest edited, or left by a release
    that adopted a killed build's version without dropping it) says nothing more: read as
    none, with the collectors it found good read as the latest's, never an unreadable
    manifest that every build refuses."""
    root = _valued(tmp_path)
    site = root / "site"
    for n in range(2):
        build(root, version_id=f"b{n}", clock=fixed_clock(T0 + timedelta(minutes=5 * n)))
    raw = json.loads((site / "manifest.json").read_text())
    raw["defaults"]["checked"] = {"id": "b0", "collected_at": T0.isoformat(), "seq": 1}
    (site / "manifest.json").write_text(json.dumps(raw))
    svc = _manifest(site).dashboards["svc"]
    assert svc.checked is None and svc.last_good["value"] == svc.latest
    assert build(root, version_id="b2", clock=fixed_clock(T0 + timedelta(minutes=10))).dashboards
