"""Collectors on their own schedule: ``every`` reuses the last good value until it is due."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from dashsite.cli import main
from dashsite.core.errors import ConfigError
from projects import T0, build, vdir, write_project

from htmltree import parse

SCHEDULED = """
from pathlib import Path
from dashsite import collector, StatusCell, StatusLevel

RUNS = Path(__file__).with_name("runs.txt")

def _ran(name):
    with RUNS.open("a") as handle:
        handle.write(name + "\\n")
    return sum(1 for line in RUNS.read_text().splitlines() if line == name)

@collector(every="1h")
def github():
    count = _ran("github")
    if Path(__file__).with_name("fail").exists():
        raise ConnectionError("rate limited")
    return {"stars": 100 + count, "level": StatusCell("slow", StatusLevel.WARNING)}

@collector
def ping():
    return _ran("ping")
"""
TEMPLATE = (
    "<p id='stars'>{{ github.stars }}</p>{{ github.level | render }}"
    "<p id='reused'>{{ build.collectors.github.reused }}</p>"
    "<p id='age'>{{ build.collectors.github.age | int }}</p>"
    "<p id='ping'>{{ ping }}</p>"
    "<p id='last'>{{ last_good.github.value.stars if 'github' in last_good else '' }}</p>"
)


def project(root: Path, module: str = SCHEDULED, config: str | None = None) -> Path:
    return write_project(
        root, {"gh": {"dashboard.py": module, "template.html": TEMPLATE}}, config=config
    )


def runs(root: Path, name: str) -> int:
    path = root / "dashboards" / "gh" / "runs.txt"
    return path.read_text().splitlines().count(name) if path.exists() else 0


def page(root: Path) -> dict[str, str]:
    tree = parse((root / "site" / "gh" / "index.html").read_text())
    return {key: tree.find("p", id=key).text() for key in ("stars", "reused", "age", "ping", "last")}


def data(root: Path, version: str) -> dict:
    return json.loads((vdir(root / "site", "gh", version) / "data.json").read_text())


def at(minutes: float):
    moment = T0 + timedelta(minutes=minutes)
    return lambda: moment


def test_a_value_is_reused_until_it_is_due(tmp_path: Path) -> None:
    project(tmp_path)
    build(tmp_path, version_id="v1", clock=at(0))
    assert page(tmp_path) == {"stars": "101", "reused": "False", "age": "0", "ping": "1", "last": ""}
    build(tmp_path, version_id="v2", clock=at(10))
    assert runs(tmp_path, "github") == 1 and runs(tmp_path, "ping") == 2
    assert page(tmp_path) == {"stars": "101", "reused": "True", "age": "600", "ping": "2", "last": ""}
    # The built-in layout says so: the page is not "collected now" for that value.
    note = parse((tmp_path / "site" / "gh" / "index.html").read_text()).find("p", class_="reused")
    assert note.text().startswith("Not collected in this version")
    assert "github from 2026-11-27 20:15 UTC (10m 0s earlier)" in " ".join(note.text().split())
    stored = data(tmp_path, "v2")
    assert stored["collectors"]["github"]["reused"] is True
    assert stored["collectors"]["github"]["collected_at"] == T0.isoformat()
    assert stored["collectors"]["github"]["attempts"] == 0
    assert "reused" not in stored["collectors"]["ping"]
    assert stored["data"]["github"]["stars"] == 101
    assert stored["status"] == "warning"  # the reused StatusCell keeps its level
    # Reused again from a reused value: the age counts from the real collection.
    build(tmp_path, version_id="v3", clock=at(55))
    assert runs(tmp_path, "github") == 1
    assert page(tmp_path)["age"] == str(55 * 60)
    # Within the slack (a tenth of `every`, at most a minute) before the hour: due.
    build(tmp_path, version_id="v4", clock=at(59.25))
    assert runs(tmp_path, "github") == 2
    assert page(tmp_path)["stars"] == "102" and page(tmp_path)["reused"] == "False"
    tree = parse((tmp_path / "site" / "gh" / "index.html").read_text())
    assert not list(tree.find_all("p", class_="reused"))
    assert data(tmp_path, "v4")["collectors"]["github"]["collected_at"] == at(59.25)().isoformat()


def test_refresh_runs_every_collector(tmp_path: Path) -> None:
    project(tmp_path)
    build(tmp_path, version_id="v1", clock=at(0))
    build(tmp_path, version_id="v2", clock=at(5), refresh=True)
    assert runs(tmp_path, "github") == 2
    assert main(["-C", str(tmp_path), "build", "-q", "--version-id", "v3", "--refresh"]) == 0
    assert runs(tmp_path, "github") == 3
    assert main(["-C", str(tmp_path), "build", "-q", "--version-id", "v4"]) == 0
    assert runs(tmp_path, "github") == 3 and runs(tmp_path, "ping") == 4


def test_an_expired_value_that_fails_shows_as_failed(tmp_path: Path) -> None:
    project(tmp_path)
    build(tmp_path, version_id="v1", clock=at(0))
    (tmp_path / "dashboards" / "gh" / "fail").touch()
    build(tmp_path, version_id="v2", clock=at(30))  # not due: the failure is not even tried
    assert runs(tmp_path, "github") == 1 and data(tmp_path, "v2")["errors"] == {}
    result = build(tmp_path, version_id="v3", clock=at(61))
    assert runs(tmp_path, "github") == 2
    assert result.dashboards[0].errors == {"github": "ConnectionError: rate limited"}
    stored = data(tmp_path, "v3")
    assert stored["status"] == "error" and stored["data"]["github"] is None
    assert page(tmp_path)["last"] == "101"  # the last good value is still at hand
    # A failed latest value is never carried: the next build tries again at once.
    (tmp_path / "dashboards" / "gh" / "fail").unlink()
    build(tmp_path, version_id="v4", clock=at(62))
    assert runs(tmp_path, "github") == 3 and data(tmp_path, "v4")["status"] == "warning"


def test_a_tampered_version_is_never_reused(tmp_path: Path) -> None:
    project(tmp_path)
    build(tmp_path, version_id="v1", clock=at(0))
    path = vdir(tmp_path / "site", "gh", "v1") / "data.json"
    raw = json.loads(path.read_text())
    raw["collectors"]["github"]["collected_at"] = "not a time"
    path.write_text(json.dumps(raw))
    build(tmp_path, version_id="v2", clock=at(5))
    assert runs(tmp_path, "github") == 2
    path = vdir(tmp_path / "site", "gh", "v2") / "data.json"
    path.write_text("{")
    build(tmp_path, version_id="v3", clock=at(6))
    assert runs(tmp_path, "github") == 3
    # A time in the future (a clock that went back) is not "young": run it.
    path = vdir(tmp_path / "site", "gh", "v3") / "data.json"
    raw = json.loads(path.read_text())
    raw["collectors"]["github"]["collected_at"] = (T0 + timedelta(days=1)).isoformat()
    path.write_text(json.dumps(raw))
    build(tmp_path, version_id="v4", clock=at(7))
    assert runs(tmp_path, "github") == 4
    # A value edited in place, still valid (a level set to ok, a number changed): the
    # file no longer says what its log line says, so the collector runs.
    for change in ({"level": {"$kind": "StatusCell", "label": "fine", "level": "ok"}},
                   {"stars": 999}):
        manifest = json.loads((tmp_path / "site" / "manifest.json").read_text())
        latest = tmp_path / "site" / manifest["dashboards"][0]["latest"]["path"] / "data.json"
        raw = json.loads(latest.read_text())
        raw["data"]["github"].update(change)
        latest.write_text(json.dumps(raw))
        before = runs(tmp_path, "github")
        build(tmp_path, clock=at(8 + before))
        assert runs(tmp_path, "github") == before + 1, change
    assert page(tmp_path)["stars"] != "999"


def test_list_shows_each_schedule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project(tmp_path, config='[every]\n"gh.ping" = "90s"\n')
    assert main(["-C", str(tmp_path), "list"]) == 0
    assert "\tgithub (every 1h), ping (every 90s)\t" in capsys.readouterr().out


def test_every_in_the_module_and_in_the_config(tmp_path: Path) -> None:
    module = SCHEDULED.replace('@collector(every="1h")', "@collector") + '\nEVERY = {"ping": "10m"}\n'
    project(tmp_path, module)
    build(tmp_path, version_id="v1", clock=at(0))
    build(tmp_path, version_id="v2", clock=at(5))
    assert (runs(tmp_path, "github"), runs(tmp_path, "ping")) == (2, 1)
    # The config wins over the module; "<slug>.<collector>" over "<slug>".
    (tmp_path / "dashsite.toml").write_text('[every]\ngh = "2h"\n"gh.ping" = "1m"\n')
    build(tmp_path, version_id="v3", clock=at(6))
    assert (runs(tmp_path, "github"), runs(tmp_path, "ping")) == (2, 2)
    build(tmp_path, version_id="v4", clock=at(90))
    assert (runs(tmp_path, "github"), runs(tmp_path, "ping")) == (2, 3)
    build(tmp_path, version_id="v5", clock=at(125))
    assert (runs(tmp_path, "github"), runs(tmp_path, "ping")) == (3, 4)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('EVERY = "soon"', "EVERY: not a duration like 5m, 1h or 1d: 'soon'"),
        ('EVERY = {"nope": "1h"}', "EVERY names no collector called 'nope'"),
        ("EVERY = {'ping': -3}", "EVERY: every must be a duration"),
    ],
)
def test_a_bad_every_names_the_file(tmp_path: Path, line: str, message: str) -> None:
    project(tmp_path, SCHEDULED + "\n" + line + "\n")
    result = build(tmp_path, version_id="v1", clock=at(0))
    (problem,) = result.problems
    assert problem.one_line().startswith(f"dashboards/gh/dashboard.py: {message}")


def test_a_bad_every_table_in_the_config(tmp_path: Path) -> None:
    project(tmp_path, config='[every]\n"gh.ping" = "often"\n')
    with pytest.raises(ConfigError) as caught:
        build(tmp_path)
    assert "[every] 'gh.ping' must be a duration" in caught.value.one_line()
    (tmp_path / "dashsite.toml").write_text('[every]\n"../x" = "1h"\n')
    with pytest.raises(ConfigError, match="keys must be"):
        build(tmp_path)


def test_every_naming_no_dashboard_or_collector_is_told(tmp_path: Path) -> None:
    project(tmp_path, config='[every]\nnosuch = "1h"\n"gh.nope" = "1h"\n"gh.ping" = "1h"\n')
    result = build(tmp_path, version_id="v1", clock=at(0))
    lines = sorted(p.one_line() for p in result.problems)
    assert lines == [
        "dashsite.toml: [every] names no collector 'nope' in 'gh' — check the names with "
        "'dashsite list'",
        "dashsite.toml: [every] names no dashboard called 'nosuch' — check the names with "
        "'dashsite list'",
    ]
    assert result.exit_code(strict=False) == 1
    assert page(tmp_path)["ping"] == "1"  # the dashboards still build
