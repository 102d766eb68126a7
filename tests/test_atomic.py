"""kill -9 at any point leaves every page whole and linking to what exists; two builds wait."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from projects import (
    assert_site_whole,
    cli,
    logged_checks,
    logged_versions,
    manifest_entries,
    seed_log,
    simple,
    tree_digest,
    vdir,
    write_project,
)

pytestmark = pytest.mark.slow  # kill -9 at many points

SLOW_MODULE = """
import pathlib, time
from dashsite import collector

@collector(timeout=60)
def slow():
    marker = pathlib.Path(__file__).parents[2] / "started-{tag}"
    marker.write_text("x")
    time.sleep({seconds})
    return "done"
"""


GATED_MODULE = """
import pathlib, time
from dashsite import collector

@collector(timeout=120)
def slow():
    here = pathlib.Path(__file__).parents[2]
    (here / "started-{tag}").write_text("x")
    deadline = time.monotonic() + 100
    while not (here / "go-{tag}").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return "done"
"""
"""A collector that holds its build (and the lock) until the test lets it go."""


def start_build(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dashsite", "-C", str(root), "build", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )


def wait_for(path: Path, process: subprocess.Popen[str], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def many_dashboards(root: Path, count: int) -> None:
    write_project(root, {f"d{i:03d}": simple(f"D{i}") for i in range(count)})


def test_kill_during_collection_leaves_the_previous_site_whole(tmp_path: Path) -> None:
    write_project(tmp_path, {"good": simple()})
    assert cli(tmp_path, "build", "--version-id", "v1", process=True).returncode == 0
    before = tree_digest(tmp_path / "site")
    write_project(tmp_path, {"slow": {"dashboard.py": SLOW_MODULE.format(tag="a", seconds=30),
                                      "template.html": "{{ slow }}"}})
    process = start_build(tmp_path, "--version-id", "v2")
    wait_for(tmp_path / "started-a", process)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert tree_digest(tmp_path / "site") == before
    (tmp_path / "dashboards" / "slow" / "dashboard.py").write_text(
        SLOW_MODULE.format(tag="b", seconds=0))
    done = cli(tmp_path, "build", "--version-id", "v3", "--lock-timeout", "5", process=True)
    assert done.returncode == 0, done.stderr
    assert logged_versions(tmp_path / "site") == {"good": ["v1"], "slow": ["v3"]}
    assert logged_checks(tmp_path / "site") == {"good": [("v3", "v1")]}  # (good is unchanged)
    assert_site_whole(tmp_path / "site")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".site.")]
    assert leftovers == []
    # The lock, the bytecode cache, the digests of what the last build wrote and its tally of
    # today (status/live.py); no leftovers.
    kept = sorted(p.name for p in (tmp_path / ".dashsite").iterdir())
    assert kept == [".gitignore", "bytecode", "site.live.json", "site.lock", "site.written.json"]


def test_kill_at_many_points_of_the_write_phase(tmp_path: Path) -> None:
    many_dashboards(tmp_path, 60)
    # A long history behind three of them (40,000 versions each, 15 minutes apart, in the
    # log): 14 months, so their finished months are in a file of their own.
    seed_log(tmp_path, ["d000", "d001", "d002"], 40_000, datetime(2026, 9, 1, tzinfo=UTC),
             every=15)
    assert cli(tmp_path, "build", "--version-id", "base", process=True).returncode == 0
    site = tmp_path / "site"
    # Kill after growing delays, so the kill lands in discovery, collection, rendering,
    # filing versions or writing pages; whatever the moment, every page is whole and
    # links only to what exists, and the next build finishes the job.
    for attempt, delay in enumerate([0.05, 0.15, 0.3, 0.45, 0.6, 0.8, 1.0]):
        process = start_build(tmp_path, "--version-id", f"k{attempt}")
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.communicate()
        assert_site_whole(site, anchors=False)  # (a new snapshot's row: drawn by the next)
        logged = logged_versions(site)
        for slug, ids in logged.items():  # what the log says was filed is there, whole
            for version in [v for v in ids if not v.startswith("20")]:  # not the seeded
                assert (vdir(site, slug, version) / "index.html").is_file()
                json.loads((vdir(site, slug, version) / "data.json").read_text())
    done = cli(tmp_path, "build", "--version-id", "after", "--lock-timeout", "5", process=True)
    assert done.returncode == 0, done.stderr
    assert_site_whole(site)
    assert not (site / ".dashsite-tmp").exists()
    manifest = json.loads((site / "manifest.json").read_text())
    logged = logged_versions(site)
    for slug, dashboard in manifest_entries(site).items():  # adopted or absent, not half-counted
        assert dashboard["count"] == len(logged[slug])
        assert (dashboard["checked"] or dashboard["latest"])["id"] == "after"  # (or its check)
    assert manifest["dashboards"][0]["count"] >= 40_001
    earlier = manifest["dashboards"][0]["earlier"]["url"]  # linked, there, and alone
    assert [p.name for p in (site / "d000" / "log").glob("months-*.json")] == [
        earlier.rsplit("/", 1)[1]]


def test_two_builds_at_once_do_not_interleave(tmp_path: Path) -> None:
    write_project(tmp_path, {"slow": {"dashboard.py": GATED_MODULE.format(tag="c"),
                                      "template.html": "{{ slow }}"},
                             "good": simple()})
    first = start_build(tmp_path, "--version-id", "one")
    wait_for(tmp_path / "started-c", first)  # the first build holds the lock from here
    second = start_build(tmp_path, "--version-id", "two")
    assert second.stderr is not None
    said = ""
    while "waiting for another build" not in said:  # it waits: no deadline, however loaded
        line = second.stderr.readline()
        assert line, said + second.communicate()[1]
        said += line
    (tmp_path / "go-c").write_text("x")  # then the first may finish
    _, err1 = first.communicate(timeout=120)
    _, err2 = second.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert second.returncode == 0, said + err2
    assert "waiting for another build" in said + err2
    assert logged_versions(tmp_path / "site") == {"good": ["one"], "slow": ["one"]}
    assert logged_checks(tmp_path / "site") == {"good": [("two", "one")], "slow": [("two", "one")]}
    assert_site_whole(tmp_path / "site")


def test_lock_timeout_gives_a_clear_error(tmp_path: Path) -> None:
    write_project(tmp_path, {"slow": {"dashboard.py": SLOW_MODULE.format(tag="d", seconds=3),
                                      "template.html": "{{ slow }}"}})
    first = start_build(tmp_path)
    wait_for(tmp_path / "started-d", first)
    second = cli(tmp_path, "build", "--lock-timeout", "0.2", process=True)
    assert second.returncode == 1
    assert second.stderr.strip().endswith(
        "another build still holds the lock after 0.2 s — wait for it to finish or raise "
        "--lock-timeout")
    first.communicate(timeout=60)
    assert first.returncode == 0


def test_a_version_two_killed_builds_filed_is_counted_by_the_third(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build killed before its manifest leaves a filed version in the journal; the next
    build, killed in turn before counting it (during collection, the longest phase), must
    leave it in the journal too: the log and the manifest never disagree."""
    import dashsite.site.build
    from projects import T0, build, fixed_clock

    write_project(tmp_path, {"alpha": simple(), "beta": simple()},
                  config='unchanged = "version"\n')  # (checks: test_checks.py)
    build(tmp_path, version_id="v1", clock=fixed_clock(T0))

    def killed(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(dashsite.site.build, "write_manifest", killed)
    with pytest.raises(KeyboardInterrupt):  # files v2, dies before the commit point
        build(tmp_path, version_id="v2", clock=fixed_clock(T0 + timedelta(minutes=5)))
    monkeypatch.undo()
    monkeypatch.setattr(dashsite.site.build, "collect_dashboards", killed)
    with pytest.raises(KeyboardInterrupt):  # adopts v2, dies collecting v3
        build(tmp_path, version_id="v3", clock=fixed_clock(T0 + timedelta(minutes=10)))
    monkeypatch.undo()
    build(tmp_path, version_id="v4", clock=fixed_clock(T0 + timedelta(minutes=15)))
    site = tmp_path / "site"
    manifest = json.loads((site / "manifest.json").read_text())
    logged = logged_versions(site)
    assert logged == {"alpha": ["v1", "v2", "v4"], "beta": ["v1", "v2", "v4"]}
    for dashboard in manifest["dashboards"]:
        assert dashboard["count"] == 3, dashboard["slug"]
    assert_site_whole(site)
