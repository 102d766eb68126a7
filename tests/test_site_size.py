"""The site-wide files stay small at scale: index.html and manifest.json per dashboard."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from dashsite.site.index import bar_runs
from dashsite.status.model import State
from dashsite.status.view import DayBar
from dashsite.store.version_store import VersionStore
from projects import build, fixed_clock, manifest_entries

from htmltree import parse

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 27, 20, 15, tzinfo=UTC)
COUNT = 200
INDEX_BUDGET = 1024 * 1024 / 1000
"""Bytes of index.html a dashboard: issue 23's 1 MB at 1,000 dashboards (the bench's row)."""
MANIFEST_BUDGET = 500 * 1024 / 1000
"""Bytes of manifest.json a dashboard: 500 KB at 1,000 dashboards."""


def bench_workload() -> ModuleType:
    """``bench/workload.py``: the dashboards the benchmark builds, so both measure the same."""
    spec = importlib.util.spec_from_file_location("bench_workload", ROOT / "bench" / "workload.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scheduled_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bench's dashboards, built on two days (its data moving each build)."""
    root = bench_workload().write_dashsite_project(tmp_path_factory.mktemp("sizes"), COUNT)
    with pytest.MonkeyPatch.context() as patch:
        for n in range(2):
            patch.setenv("DASHSITE_BENCH_RUN", str(n))
            build(root, version_id=f"b{n}", clock=fixed_clock(T0 + timedelta(days=n)))
    return root / "site"


@pytest.mark.slow  # two builds of 200 dashboards
def test_the_index_stays_under_its_budget_a_dashboard(scheduled_site: Path) -> None:
    size = (scheduled_site / "index.html").stat().st_size
    assert size / COUNT <= INDEX_BUDGET, f"{size / COUNT:.0f} bytes a dashboard"


@pytest.mark.slow
def test_the_manifest_stays_under_its_budget_a_dashboard(scheduled_site: Path) -> None:
    size = (scheduled_site / "manifest.json").stat().st_size
    assert size / COUNT <= MANIFEST_BUDGET, f"{size / COUNT:.0f} bytes a dashboard"


@pytest.mark.slow
def test_the_smaller_manifest_reads_back_whole(scheduled_site: Path) -> None:
    """What the build knew is what a reader gets: every dashboard, latest, counts, last good."""
    manifest = VersionStore(scheduled_site).load_manifest()
    assert len(manifest.dashboards) == COUNT
    entries = manifest_entries(scheduled_site)
    for slug, record in manifest.dashboards.items():
        assert record.latest is not None and record.latest.id == "b1" and record.count == 2
        assert set(record.last_good) == {"requests", "status", "table"}
        assert all(v is record.latest for v in record.last_good.values())
        assert entries[slug]["expected_every"] == 3600.0 and entries[slug]["active"] is True
        assert (scheduled_site / entries[slug]["latest"]["path"] / "data.json").is_file()


@pytest.mark.slow
def test_the_smaller_index_still_shows_every_dashboard_with_its_bars(
    scheduled_site: Path,
) -> None:
    """Nothing a visitor needs is gone: a card each, its name, status word, 90 days, uptime."""
    page = parse((scheduled_site / "index.html").read_text())
    cards = list(page.find_all("li", class_="card"))
    assert len(cards) == COUNT
    for card in cards:
        slug = card.attrs["id"].removeprefix("card-")
        assert card.find("a").attrs["href"] == f"{slug}/index.html"
        assert card.find("span", class_="status-badge").text() in ("Operational", "Degraded")
        bars = card.find("div", class_="day-runs")
        assert bars.attrs["role"] == "img"
        assert bars.attrs["aria-label"].endswith(
            ": daily status, last 90 days: 2 days ok, 88 no data"
        ) or bars.attrs["aria-label"].endswith(": 2 days degraded, 88 no data")
        spans = [run.attrs["class"].split() for run in bars.find_all("span")]
        assert sum(int(c[-1][1:]) if c[-1].startswith("d") else 1 for c in spans) == 90
        assert "Uptime" in card.text()


def _bar(day: int, state: State, nodata: float = 0) -> DayBar:
    seconds = {state: 86400.0 - nodata, State.NODATA: nodata} if state != State.NODATA else {}
    return DayBar(f"2026-11-{day:02d}", state, 0 if state == State.NODATA else 24, None, "", seconds)


def test_a_run_is_the_days_in_a_row_drawn_alike() -> None:
    bars = [_bar(1, State.NODATA), _bar(2, State.NODATA), _bar(3, State.UP), _bar(4, State.UP),
            _bar(5, State.UP, nodata=7200), _bar(6, State.DOWN), _bar(7, State.UP)]
    assert [(r.shown, r.partial, r.days) for r in bar_runs(bars)] == [
        ("nodata", False, 2), ("up", False, 2), ("up", True, 1), ("down", False, 1),
        ("up", False, 1)]
    assert bar_runs([]) == []
