"""``make bench``: dashsite's speed and memory beside baselines measured in the same run.

Every figure is printed next to a baseline taken on the same machine a
moment before or after, so the ratio means something on a noisy box. It
asserts nothing; it prints a table and writes ``bench/results.json``.

    python bench/run.py [--quick] [--skip-watch] [--only SECTION …]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from workload import (  # noqa: E402
    BARE_LOOP,
    write_chart_project,
    write_dashsite_project,
    write_mkdocs_project,
)

PYTHON = sys.executable


@dataclass
class Row:
    """One line of the table."""

    figure: str
    dashsite: float | None
    baseline: float | None
    baseline_name: str
    unit: str
    goal: str
    met: bool | None
    note: str = ""

    @property
    def ratio(self) -> str:
        if not self.dashsite or not self.baseline:
            return "—"
        return f"{self.baseline / self.dashsite:.1f}x faster" if self.baseline >= self.dashsite \
            else f"{self.dashsite / self.baseline:.1f}x slower"


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def run_measured(argv: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    err = child.stderr.read().decode() if child.stderr else ""
    if child.stderr:
        child.stderr.close()
    if child.returncode != 0:
        raise RuntimeError(f"{argv[:4]} failed: {err[-500:]}")
    return elapsed, usage.ru_maxrss / 1024


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- 1. collection ----------------------------------------------------------------------


def bench_collection(rows: list[Row]) -> None:
    from dashsite import MonitoringService

    try:
        from kstlib.monitoring import MonitoringService as KstService
    except ImportError:
        KstService = None

    def sync_collectors() -> dict[str, Callable[[], Any]]:
        return {f"c{i}": (lambda: time.sleep(0.05) or 1) for i in range(20)}

    def async_collectors() -> dict[str, Callable[[], Any]]:
        async def wait() -> int:
            await asyncio.sleep(0.05)
            return 1

        return {f"c{i}": wait for i in range(100)}

    def timed(factory: Any, collectors: dict[str, Any]) -> float:
        samples = []
        for _ in range(3):
            service = factory("{{ c0 }}", collectors, fail_fast=False)
            started = time.perf_counter()
            service.run_sync()
            samples.append(time.perf_counter() - started)
        return median(samples)

    for label, make, goal, factor in (
        ("collect: 20 sync collectors x 50 ms", sync_collectors, "≥ 10x faster than kstlib", 10),
        ("collect: 100 async collectors x 50 ms", async_collectors, "no slower than kstlib", 1),
    ):
        ours = timed(MonitoringService, make())
        theirs = timed(KstService, make()) if KstService else None
        met = None if theirs is None else (theirs / ours >= factor if factor > 1
                                           else ours <= theirs * 1.1)
        rows.append(Row(label, ours, theirs, "kstlib MonitoringService", "s", goal, met,
                        "" if theirs else "kstlib not installed"))
        say(f"  {label}: {ours:.3f} s vs {theirs if theirs is None else round(theirs, 3)} s")


# -- 2. full build ------------------------------------------------------------------------


def bench_build(rows: list[Row], work: Path, sizes: list[int]) -> Path:
    mkdocs = shutil.which("mkdocs", path=str(Path(PYTHON).parent)) or shutil.which("mkdocs")
    bare_script = work / "bare_loop.py"
    bare_script.write_text(BARE_LOOP)
    biggest = work / "dash-0"
    for count in sizes:
        project = write_dashsite_project(work / f"dash-{count}", count)
        biggest = project
        ours, ours_rss = run_measured([PYTHON, "-m", "dashsite", "-C", str(project), "build",
                                       "-q", "--version-id", "bench-1"])
        bare, bare_rss = run_measured([PYTHON, str(bare_script), str(work / f"bare-{count}"),
                                       str(count), str(HERE)])
        rows.append(Row(f"build {count} dashboards", ours, bare, "bare Jinja2 loop", "s",
                        "within 3x of the bare loop" if count == 1000 else "—",
                        ours <= 3 * bare if count == 1000 else None,
                        f"{count / ours:.0f} pages/s vs {count / bare:.0f} pages/s"))
        if mkdocs:
            docs = write_mkdocs_project(work / f"mkdocs-{count}", count)
            theirs, theirs_rss = run_measured([mkdocs, "build", "-q", "-d", "out"], cwd=docs)
            rows.append(Row(f"build {count} dashboards", ours, theirs, "mkdocs build", "s",
                            "≥ 10x faster than mkdocs" if count == 1000 else "—",
                            theirs / ours >= 10 if count == 1000 else None,
                            f"mkdocs {count / theirs:.0f} pages/s"))
        else:
            theirs_rss = None
        rows.append(Row(f"peak RSS, build {count}", ours_rss, bare_rss, "bare Jinja2 loop", "MB",
                        "≤ 150 MB" if count == 1000 else "—",
                        ours_rss <= 150 if count == 1000 else None,
                        f"mkdocs {theirs_rss:.0f} MB" if theirs_rss else ""))
        say(f"  build {count}: dashsite {ours:.2f} s ({ours_rss:.0f} MB), bare {bare:.2f} s"
            + (f", mkdocs {theirs:.2f} s" if mkdocs else ""))
    return biggest


# -- 2b. scheduled builds at 1,000 dashboards (issue 23's rows) -----------------------------


def _min_of(runs: int, argv: list[str], cwd: Path | None = None,
            env: dict[str, str] | None = None) -> tuple[float, float]:
    """The fastest of ``runs`` runs and the largest peak RSS among them."""
    times, peaks = [], []
    for _ in range(runs):
        if env is not None:
            os.environ.update(env)
        try:
            elapsed, rss = run_measured(argv, cwd)
        finally:
            for key in env or {}:
                os.environ.pop(key, None)
        times.append(elapsed)
        peaks.append(rss)
    return min(times), max(peaks)


def bench_scheduled(rows: list[Row], work: Path, count: int, runs: int = 3) -> None:
    """A site's next build on a schedule: all data changed, or one dashboard's; on disk and
    on tmpfs; the size of the site-wide files."""
    from dashsite.site.workers import cpu_count, jobs_for
    mkdocs = shutil.which("mkdocs", path=str(Path(PYTHON).parent)) or shutil.which("mkdocs")
    bare_script = work / "bare_loop.py"
    bare_script.write_text(BARE_LOOP)
    places = [("disk", work)]
    shm = Path("/dev/shm")  # noqa: S108 - a RAM disk on purpose: CPU cost without disk noise
    if shm.is_dir():
        places.append(("tmpfs", Path(tempfile.mkdtemp(prefix="dashsite-bench-", dir=shm))))
    try:
        for label, base in places:
            project = write_dashsite_project(base / f"sched-{count}", count)
            build = [PYTHON, "-m", "dashsite", "-C", str(project), "build", "-q"]
            _min_of(1, build, env={"DASHSITE_BENCH_RUN": "0"})  # the first build makes the site
            full, full_rss = 1e9, 0.0
            for n in range(1, runs + 1):  # every dashboard's data changed
                elapsed, rss = _min_of(1, build, env={"DASHSITE_BENCH_RUN": str(n)})
                full, full_rss = min(full, elapsed), max(full_rss, rss)
            quiet = min(
                _min_of(1, build, env={"DASHSITE_BENCH_RUN": str(100 + n),
                                       "DASHSITE_BENCH_ONLY": "d0007"})[0]
                for n in range(runs)
            )
            one = min(  # the same full build, all in the build's process
                _min_of(1, [*build, "--jobs", "1"], env={"DASHSITE_BENCH_RUN": str(200 + n)})[0]
                for n in range(runs)
            )
            bare, _ = _min_of(runs, [PYTHON, str(bare_script), str(base / f"bare-s-{count}"),
                                     str(count), str(HERE)])
            rows.append(Row(f"scheduled build, {count:,} dashboards, all data changed ({label})",
                            full, bare, "bare Jinja2 loop", "s", "≤ 8x the bare loop",
                            full <= 8 * bare, f"{full / bare:.1f}x the loop, min of {runs}"))
            rows.append(Row(f"the same build in one process (--jobs 1, {label})", one, full,
                            f"--jobs auto ({jobs_for(None, count)} processes)", "s", "—", None,
                            f"workers are {one / full:.2f}x faster on {cpu_count()} CPUs"))
            if mkdocs and label == "disk":
                docs = write_mkdocs_project(base / f"mkdocs-s-{count}", count)
                theirs, _ = _min_of(runs, [mkdocs, "build", "-q", "-d", "out"], cwd=docs)
                rows.append(Row(f"scheduled build, {count:,} dashboards, all data changed",
                                full, theirs, "mkdocs build", "s", "≥ 5x faster than mkdocs",
                                theirs / full >= 5, f"{theirs / full:.1f}x faster"))
            rows.append(Row(f"build where {count - 1:,} of {count:,} dashboards' data is "
                            f"unchanged ({label})", quiet, full, "the full build", "s",
                            "≤ 30 % of the full build", quiet <= 0.3 * full,
                            f"{100 * quiet / full:.0f} % of it"))
            if label == "tmpfs":  # each its own template, as a real site: code kept for each
                own = write_dashsite_project(base / f"own-{count}", count, own_templates=True)
                own_build = [PYTHON, "-m", "dashsite", "-C", str(own), "build", "-q"]
                _min_of(1, own_build, env={"DASHSITE_BENCH_RUN": "0"})
                mine = min(_min_of(1, own_build, env={"DASHSITE_BENCH_RUN": str(n)})[0]
                           for n in range(1, runs + 1))
                rows.append(Row(f"the same build, each dashboard with its own template "
                                f"({label})", mine, full, "one template for all", "s", "—", None,
                                f"x{mine / full:.2f}"))
            if label == "disk":
                rows.append(Row(f"peak RSS, scheduled build of {count:,}", full_rss, None, "", "MB",
                                "≤ 60 MB", full_rss <= 60))
                site = project / "site"
                index_kb = (site / "index.html").stat().st_size / 1024
                manifest_kb = (site / "manifest.json").stat().st_size / 1024
                scale = count / 1000  # the goals are for 1,000 dashboards (--quick builds fewer)
                rows.append(Row(f"index.html at {count:,} dashboards", index_kb, None, "", "KB",
                                "≤ 1 MB" if count == 1000 else f"≤ {1024 * scale:.0f} KB",
                                index_kb <= 1024 * scale,
                                f"{index_kb * 1024 / count:.0f} bytes a dashboard"))
                rows.append(Row(f"manifest.json at {count:,} dashboards", manifest_kb, None, "",
                                "KB", "≤ 500 KB" if count == 1000 else f"≤ {500 * scale:.0f} KB",
                                manifest_kb <= 500 * scale,
                                f"{manifest_kb * 1024 / count:.0f} bytes a dashboard"))
            say(f"  scheduled {label}: full {full:.2f} s, quiet {quiet:.2f} s, bare {bare:.2f} s")
    finally:
        for _label, base in places[1:]:
            shutil.rmtree(base, ignore_errors=True)


def bench_import(rows: list[Row], work: Path, count: int, runs: int = 5) -> None:
    """Discovering (importing) ``count`` dashboard.py on a second build, in a fresh process each
    time with what a build has loaded by then, beside plain ``importlib`` importing the same
    files with Python's own ``__pycache__`` in the same conditions."""
    project = write_dashsite_project(work / f"import-{count}", count)
    plain = work / f"import-plain-{count}"
    shutil.copytree(project / "dashboards", plain)  # its __pycache__ folders stay out of ours
    first, _ = _import_time(DISCOVER_SCRIPT, project, count)  # compiles and fills the cache
    _import_time(PLAIN_IMPORT_SCRIPT, plain, count)  # writes __pycache__
    ours, theirs = [], []
    for _ in range(runs):  # alternated, so both see the same noise
        ours.append(_import_time(DISCOVER_SCRIPT, project, count))
        theirs.append(_import_time(PLAIN_IMPORT_SCRIPT, plain, count))
    wall, cpu = min(w for w, _ in ours), min(c for _, c in ours)
    rows.append(Row(f"import of {count:,} dashboard.py, second build", wall,
                    min(w for w, _ in theirs), "plain importlib, __pycache__", "s", "≤ 0.15 s",
                    wall <= 0.15, f"min of {runs} (max {max(w for w, _ in ours):.3f} s; CPU "
                    f"{cpu:.3f} s, plain {min(c for _, c in theirs):.3f} s); first build "
                    f"{first:.3f} s"))
    say(f"  import {count}: {wall:.3f} s (CPU {cpu:.3f} s, first {first:.3f} s), "
        f"plain importlib {min(w for w, _ in theirs):.3f} s")


DISCOVER_SCRIPT = """
import sys, time
from pathlib import Path
import dashsite.cli, dashsite.site.build  # what a build has loaded when it discovers
from dashsite.collection.discover import discover
root = Path(sys.argv[1])
started, cpu = time.perf_counter(), time.process_time()
found = discover(root / 'dashboards', root=root)
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
assert not found.problems, found.problems[:1]
assert len(found.dashboards) == int(sys.argv[2])
print(elapsed, cpu)
"""

PLAIN_IMPORT_SCRIPT = """
import importlib.util, sys, time
from pathlib import Path
import dashsite.cli, dashsite.site.build  # the same modules loaded before the clock starts
sys.dont_write_bytecode = False  # its __pycache__ even under PYTHONDONTWRITEBYTECODE
folder = Path(sys.argv[1])
started, cpu = time.perf_counter(), time.process_time()
modules = []
for path in sorted(folder.glob('*/dashboard.py')):
    spec = importlib.util.spec_from_file_location(f'plain_{path.parent.name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    modules.append(module)
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
assert len(modules) == int(sys.argv[2])
print(elapsed, cpu)
"""


def _import_time(script: str, folder: Path, count: int) -> tuple[float, float]:
    """Wall and CPU seconds ``script`` reports for ``folder``'s ``count`` modules, in a fresh
    process."""
    done = subprocess.run([PYTHON, "-c", script, str(folder), str(count)], capture_output=True,
                          text=True, check=True)
    wall, cpu = done.stdout.split()
    return float(wall), float(cpu)


# -- 3. incremental -------------------------------------------------------------------------


def bench_incremental(rows: list[Row], project: Path, work: Path) -> None:
    from dashsite.preview.builder import PreviewBuilder
    from dashsite.preview.watch import FileChange

    builder = PreviewBuilder(project, work / "preview")
    started = time.perf_counter()
    builder.full()
    full = time.perf_counter() - started
    template = project / "dashboards" / "d0000" / "template.html"
    original = template.read_text()
    samples = []
    for edit in range(5):
        template.write_text(original + f"<p>edit {edit}</p>\n")
        started = time.perf_counter()
        result = builder.apply([FileChange(template)])
        samples.append(time.perf_counter() - started)
        assert result is not None and result.collected == ()
    template.write_text(original + "<p>edit 4</p>\n")  # same content again
    unchanged = builder.apply([FileChange(template)])
    written = unchanged.written if unchanged else 0
    rows.append(Row(f"watch: one template edited ({len(builder.dashboards)} dashboards)",
                    median(samples), full, "full preview build", "s", "≤ 50 ms",
                    median(samples) <= 0.05))
    rows.append(Row("watch: rebuild with nothing changed", float(written), None, "",
                    "files written", "0 files", written == 0))
    say(f"  incremental: {median(samples) * 1000:.1f} ms (full {full:.2f} s), "
        f"unchanged wrote {written}")


# -- 4. save → visible in a browser ----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def measure_saves(url: str, path: Path, write: Callable[[Path, str], None], saves: int,
                  browser: Any) -> tuple[list[float], int]:
    page = browser.new_page()
    page.goto(url)
    page.wait_for_selector("#marker")
    latencies, misses = [], 0
    for n in range(saves):
        marker = f"save-{n}-{time.time_ns()}"
        started = time.perf_counter()
        write(path, marker)
        try:
            page.wait_for_function(
                "m => { const e = document.querySelector('#marker'); return e && "
                "e.textContent === m; }", arg=marker, timeout=5000, polling="raf")
            latencies.append(time.perf_counter() - started)
        except Exception:
            misses += 1
            page.reload()
        time.sleep(0.2)
    page.close()
    return latencies, misses


def bench_watch(rows: list[Row], work: Path, saves: int) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if not chromium or sync_playwright is None:
        rows.append(Row("save → visible (median)", None, None, "", "ms", "≤ 200 ms", None,
                        "skipped: needs chromium (apt-get install chromium) and playwright"))
        return
    project = work / "watch"
    write_dashsite_project(project, 3)
    template = project / "dashboards" / "d0000" / "template.html"

    def save_template(path: Path, marker: str) -> None:
        path.write_text(f"<p id='marker'>{marker}</p>\n{{{{ status | render }}}}\n")

    save_template(template, "start")
    port = free_port()
    server = subprocess.Popen([PYTHON, "-m", "dashsite", "-C", str(project), "serve", "--watch",
                               "--port", str(port)], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    assert server.stdout is not None
    server.stdout.readline()
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=args)
        try:
            ours, our_misses = measure_saves(f"http://127.0.0.1:{port}/d0000/", template,
                                             save_template, saves, browser)
        finally:
            server.terminate()
            server.wait()
            server.stdout.close()
        theirs: list[float] = []
        their_misses = None
        mkdocs = shutil.which("mkdocs", path=str(Path(PYTHON).parent)) or shutil.which("mkdocs")
        if mkdocs:
            docs = write_mkdocs_project(work / "mkdocs-watch", 3)
            page = docs / "docs" / "index.md"

            def save_markdown(path: Path, marker: str) -> None:
                path.write_text(f"# Bench\n\n<p id=\"marker\">{marker}</p>\n")

            save_markdown(page, "start")
            mk_port = free_port()
            mk = subprocess.Popen([mkdocs, "serve", "-a", f"127.0.0.1:{mk_port}"], cwd=docs,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                for _ in range(100):
                    try:
                        socket.create_connection(("127.0.0.1", mk_port), timeout=0.2).close()
                        break
                    except OSError:
                        time.sleep(0.1)
                theirs, their_misses = measure_saves(f"http://127.0.0.1:{mk_port}/", page,
                                                     save_markdown, saves, browser)
            finally:
                mk.terminate()
                mk.wait()
        browser.close()
    ours_ms = median(ours) * 1000 if ours else None
    theirs_ms = median(theirs) * 1000 if theirs else None
    rows.append(Row(f"save → visible in chromium (median of {saves})", ours_ms, theirs_ms,
                    "mkdocs serve", "ms", "≤ 200 ms", ours_ms is not None and ours_ms <= 200))
    rows.append(Row(f"save → visible: missed saves of {saves}", float(our_misses),
                    None if their_misses is None else float(their_misses), "mkdocs serve",
                    "saves", "0", our_misses == 0))
    say(f"  watch: {ours_ms} ms, {our_misses} missed; mkdocs {theirs_ms} ms, {their_misses}")


# -- 5. history scale ---------------------------------------------------------------------------


YEAR_AT_5_MIN = 105_120
BARS_AT_5_MIN = 90 * 288
"""The 90 days of a latest page's bars, at 5-minute builds."""
HISTORY_DASHBOARDS = 2


def seed_history(project: Path, count: int, end: datetime, lag: int = 0) -> None:
    """``count`` earlier versions per dashboard, as files a build would have left.

    Each version gets its log line, and its folder (a small page and
    data.json: the build never reads them back) as the default tiers keep
    them today (pages for 7 days, data for 30); with ``lag``, the tiers were
    last moved ``lag`` days ago. The manifest (schema 2) counts them.
    """
    today = datetime.now(UTC).date()
    pages_from = (today - timedelta(days=7 + lag)).isoformat()
    data_from = (today - timedelta(days=30 + lag)).isoformat()
    site = project / "site"
    manifest: dict[str, Any] = {"schema": 2, "title": "Bench", "dashboards": []}
    for d in range(HISTORY_DASHBOARDS):
        slug = f"d{d:04d}"
        months: dict[str, list[str]] = {}
        record: dict[str, Any] = {}
        for n in range(count):
            moment = end - timedelta(minutes=5 * (count - n))
            vid = moment.strftime("%Y%m%dT%H%M%SZ")
            stamp = moment.isoformat()
            folder = site / slug / stamp[:10] / vid
            if stamp[:10] >= data_from:
                folder.mkdir(parents=True)
                (folder / "data.json").write_text(json.dumps({
                    "schema": 1, "dashboard": slug, "version": vid, "collected_at": stamp,
                    "status": "ok", "data": {"requests": n % 1000}}))
            if stamp[:10] >= pages_from:
                (folder / "index.html").write_bytes(b"<!DOCTYPE html><title>earlier</title>")
            record = {"id": vid, "collected_at": stamp, "status": "ok",
                      "path": f"{slug}/{stamp[:10]}/{vid}/",
                      "values": {"requests": float(n % 1000)}}
            months.setdefault(stamp[:10], []).append(json.dumps(record))
        for day, lines in months.items():
            (site / slug / "log" / day[:7]).mkdir(parents=True, exist_ok=True)
            (site / slug / "log" / day[:7] / f"{day[8:]}.jsonl").write_text(
                "\n".join(lines) + "\n")
        by_month: dict[str, list[str]] = {}
        for day in months:
            by_month.setdefault(day[:7], []).append(day[8:])
        manifest["dashboards"].append({
            "slug": slug, "title": slug, "description": "", "active": True,
            "latest_version": {k: record[k] for k in ("id", "collected_at", "status", "path")},
            "pages_from": pages_from, "data_from": data_from,
            "months": [{"month": m, "count": sum(len(months[f"{m}-{d}"]) for d in days),
                        "worst": "ok", "days": sorted(days)}
                       for m, days in sorted(by_month.items())],
        })
    (site / "manifest.json").write_text(json.dumps(manifest))


def tree_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def bench_history(rows: list[Row], work: Path, sizes: tuple[int, int, int]) -> None:
    """A build that adds one version, over a little history, a year of it and two years.

    A year against a little history is the issue's yardstick. Two years
    against one shows what is left once the pages' fixed windows (90-day
    bars, uptime up to a year) are full: what more history alone costs.
    """
    # Both sizes end with 100 versions in the current month, so the pages a build
    # rewrites hold as many rows at both sizes (a month's page fills 200 rows, then
    # never changes): any difference left is what the kept history costs.
    now = datetime.now(UTC)
    end = now.replace(day=1, hour=8, minute=20, second=0, microsecond=0)
    figures: dict[int, dict[str, float]] = {}
    for count in sizes:
        project = write_dashsite_project(work / f"history-{count}", HISTORY_DASHBOARDS)
        started = time.perf_counter()
        seed_history(project, count, end)
        say(f"  seeded {count:,} versions x {HISTORY_DASHBOARDS} in "
            f"{time.perf_counter() - started:.0f} s")
        # Once, the first build of this release computes the status files from the
        # whole log (measured apart, in the status rows): not a cost of every build.
        subprocess.run([PYTHON, "-m", "dashsite", "-C", str(project), "build", "-q",
                        "--version-id", "warm"], check=True, env=_moved(1))
        times, report = [], {}
        for attempt in range(3):
            started = time.perf_counter()
            done = subprocess.run(
                [PYTHON, "-m", "dashsite", "-C", str(project), "build", "--json",
                 "--version-id", f"next-{attempt}"],
                capture_output=True, text=True, check=True, env=_moved(2 + attempt))
            times.append(time.perf_counter() - started)
            report = json.loads(done.stdout)
        figures[count] = _s3_publish_cost(project)
        figures[count].update(_ghpages_growth(project, work / f"remote-{count}.git"))
        starts = []
        for _ in range(3):
            started = time.perf_counter()
            serve = subprocess.Popen(
                [PYTHON, "-m", "dashsite", "-C", str(project), "serve", "--watch", "--port", "0"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            assert serve.stdout is not None
            serve.stdout.readline()  # "Serving … at …": the preview is built
            starts.append(time.perf_counter() - started)
            serve.terminate()
            serve.wait(timeout=30)
        preview = median(starts)
        figures[count].update({"build": median(times), "files": report["files_written"],
                               "bytes": report["bytes_written"], "preview": preview})
        if count == sizes[1]:  # once a day the tiers move by a day: that build's cost
            moved = write_dashsite_project(work / "history-moved", HISTORY_DASHBOARDS)
            seed_history(moved, count, end, lag=1)
            config = moved / "dashsite.toml"  # warm up with the tiers held still, then move them
            config.write_text('keep_pages = "forever"\nkeep_data = "forever"\n')
            subprocess.run([PYTHON, "-m", "dashsite", "-C", str(moved), "build", "-q",
                            "--version-id", "warm"], check=True, env=_moved(1))
            config.unlink()
            started = time.perf_counter()
            subprocess.run([PYTHON, "-m", "dashsite", "-C", str(moved), "build", "-q",
                            "--version-id", "moved"], check=True, env=_moved(2))
            figures[count]["moved"] = time.perf_counter() - started
    small, large, largest = sizes
    a, b, c = figures[small], figures[large], figures[largest]
    _history_rows(rows, b, a, f"{large:,} kept", f"{small:,} kept", {
        "bytes": "a year fills the 90-day bars and uptime windows 100 versions leave empty",
        "requests": f"first publish of the whole site: {b['first']:.0f} s, "
                    f"{b['objects']:,} objects"})
    rows.append(Row(f"the day's build that moves the tiers, {large:,} kept", b["moved"],
                    b["build"], "any other build", "s", "—", None,
                    "once a day: a day of pages and data deleted, those months redrawn"))
    rows.append(Row(f"serve --watch start, {large:,} kept", b["preview"], a["preview"],
                    f"{small:,} kept", "s", "<= 1.2x", b["preview"] <= 1.2 * a["preview"]))
    later = f"{largest:,} kept" + (" (2 years)" if largest == 2 * YEAR_AT_5_MIN else "")
    _history_rows(rows, c, b, later, f"{large:,} kept", {
        "bytes": "the windows are full at both: what more history alone adds"})
    say(f"  history: {figures}")


def _history_rows(rows: list[Row], new: dict[str, float], base: dict[str, float], label: str,
                  base_label: str, notes: dict[str, str]) -> None:
    """One version's build over more history (``new``) against less (``base``): its time,
    what it writes, and what publishing it costs."""
    ratio = new["build"] / base["build"]
    rows.append(Row(f"build adding 1 version, {label} x {HISTORY_DASHBOARDS} dashboards",
                    new["build"], base["build"], base_label, "s", "<= 1.2x", ratio <= 1.2,
                    f"x{ratio:.2f}"))
    rows.append(Row(f"files written by that build, {label}", new["files"], base["files"],
                    base_label, "files", "the same", new["files"] == base["files"]))
    rows.append(Row(f"bytes written by that build, {label}", new["bytes"], base["bytes"],
                    base_label, "B", "the same (within 5%)",
                    abs(new["bytes"] - base["bytes"]) <= 0.05 * base["bytes"],
                    notes.get("bytes", "")))
    if "requests" in new and "requests" in base:
        rows.append(Row(f"S3 publish after that build, {label}: requests", new["requests"],
                        base["requests"], base_label, "requests", "the same",
                        new["requests"] == base["requests"], notes.get("requests", "")))
        rows.append(Row(f"S3 publish after that build, {label}: bytes sent", new["sent"],
                        base["sent"], base_label, "B", "the same (within 5%)",
                        abs(new["sent"] - base["sent"]) <= 0.05 * base["sent"]))
    rows.append(Row(f"gh-pages repository growth per build, {label}", new["git_growth"],
                    base["git_growth"], base_label, "B", "the same (a few KB + the version)",
                    new["git_growth"] <= 1.2 * base["git_growth"]))


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _ghpages_growth(project: Path, remote: Path) -> dict[str, float]:
    """Publish to gh-pages on a bare repository, build one version, publish again:
    how many bytes the repository's objects grew by."""
    def git(*args: str, cwd: Path = project) -> None:
        subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)

    git("init", "--quiet", "--bare", str(remote), cwd=project.parent)
    git("init", "--quiet")
    git("remote", "add", "origin", str(remote))
    publish = [PYTHON, "-m", "dashsite", "-C", str(project), "publish", "gh-pages"]
    subprocess.run(publish, check=True, capture_output=True)
    before = _folder_bytes(remote / "objects")
    subprocess.run([PYTHON, "-m", "dashsite", "-C", str(project), "build", "-q",
                    "--version-id", "pushed"], check=True, env=_moved(20))
    subprocess.run(publish, check=True, capture_output=True)
    return {"git_growth": _folder_bytes(remote / "objects") - before}


def _s3_publish_cost(project: Path) -> dict[str, float]:
    """Publish the site to a moto S3 server, build one version, and count what the next
    publish sends: requests and bytes (headers' Content-Length)."""
    try:
        from moto.server import ThreadedMotoServer

        from dashsite.publish import S3Target
        from dashsite.publish.s3 import make_client, publish_s3
    except ImportError:
        return {}
    for name, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(name, value)
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        client = make_client(f"http://{host}:{port}")
        bucket = f"bench-{project.name}"  # moto's state is per process: one bucket per size
        client.create_bucket(Bucket=bucket)
        target = S3Target(bucket, "site")
        started = time.perf_counter()
        first = publish_s3(project / "site", target, client=client)
        first_time = time.perf_counter() - started
        subprocess.run([PYTHON, "-m", "dashsite", "-C", str(project), "build", "-q",
                        "--version-id", "published"], check=True, env=_moved(10))
        sent = {"requests": 0, "bytes": 0}

        def count(request: Any, **_: Any) -> None:
            sent["requests"] += 1
            sent["bytes"] += int(request.headers.get("Content-Length", 0) or 0)

        client.meta.events.register("before-send.s3", count)
        publish_s3(project / "site", target, client=client)
    finally:
        server.stop()
    return {"requests": sent["requests"], "sent": sent["bytes"], "first": first_time,
            "objects": len(first.uploaded)}


def bench_year_size(rows: list[Row], work: Path) -> None:
    """What a year weighs per dashboard, from one real version's files and log line, and a
    check's line (a build that found the data unchanged)."""
    project = write_dashsite_project(work / "year", 1)
    for n in range(3):  # two versions (the data moves), then a check (it does not)
        subprocess.run([PYTHON, "-m", "dashsite", "-C", str(project), "build", "-q",
                        "--version-id", f"v{n}"], check=True,
                       env={**os.environ, "DASHSITE_BENCH_RUN": str(min(n, 1))})
    site = project / "site"
    folder = next(site.glob("d0000/*/v1"))  # <slug>/<day>/<version>
    page = (folder / "index.html").stat().st_size
    data = (folder / "data.json").stat().st_size
    log = site / "d0000" / "log"
    line = max(len(x) for x in next(log.glob("*/[0-3][0-9].jsonl")).read_text().splitlines()) + 1
    check = max(len(x) for x in next(log.glob("*/*.checks.jsonl")).read_text().splitlines()) + 1
    for label, per_day in (("5 min", 288), ("1 hour", 24)):
        year = per_day * 365
        everything = (page + data + line) * year
        tiered = page * per_day * 7 + data * per_day * 30 + line * year
        rows.append(Row(f"10 dashboards, a year at {label}, default tiers (7d pages, 30d data)",
                        tiered * 10 / 1e6, everything * 10 / 1e6, "every snapshot kept", "MB",
                        "< 1,000 MB (GitHub Pages)", tiered * 10 < 1e9,
                        f"a version: page {page:,} B, data {data:,} B, log line {line} B"))
    # The same year when the data does not change: a version a day, a check each other build.
    quiet = page * 7 + data * 30 + line * 365 + check * (288 - 1) * 365
    rows.append(Row("10 dashboards, a year at 5 min, data unchanged (checks)", quiet * 10 / 1e6,
                    (page + data + line) * 288 * 365 * 10 / 1e6, "a version every build, all kept",
                    "MB", "—", None, f"a check: a log line of {check} B, no folder"))


# -- 6. status over time -----------------------------------------------------------------------

STATUS_DASHBOARDS = 50
"""Issue 23's size for the status rows (``--quick``: :data:`QUICK_STATUS_DASHBOARDS`)."""
QUICK_STATUS_DASHBOARDS = 20


def seed_status_history(project: Path, count: int, end: datetime,
                        dashboards: int = STATUS_DASHBOARDS) -> None:
    """``count`` versions 5 minutes apart per dashboard, as log lines only (past the tiers).

    Every 997th version fails its collector for three builds (an incident), and
    every 10,007th is followed by a two-hour gap (no data), so the figures the
    pages show are not trivial.
    """
    site = project / "site"
    records = []
    for d in range(dashboards):
        slug = f"d{d:04d}"
        shards: dict[str, list[str]] = {}
        moments = []
        moment = end
        for n in range(count):  # backwards from ``end``, so the last one is ``end``
            moments.append(moment)
            moment -= timedelta(minutes=125 if n % 10_007 == 10_006 else 5)
        moments.reverse()
        # The current month's last history page holds as many rows at every size (a
        # month's page fills 200 rows), so what differs is what the history costs.
        current = [m for m in moments if m.strftime("%Y-%m") == end.strftime("%Y-%m")]
        skip = set(current[: (len(current) - min(count, 100)) % 200])
        for n, moment in enumerate(moments):
            if moment in skip:
                continue
            vid = moment.strftime("%Y%m%dT%H%M%SZ")
            down = n % 997 < 3 and n > 3
            line = {"id": vid, "collected_at": moment.isoformat(),
                    "status": "error" if down else "ok",
                    "path": f"{slug}/{moment.date().isoformat()}/{vid}/",
                    "durations": {"requests": 0.001, "status": 0.001},
                    "values": {"requests": float(n % 1000)}}
            if down:
                line["errors"] = {"status": "TimeoutError: no result within 5 s"}
            shards.setdefault(moment.date().isoformat(), []).append(
                json.dumps(line, separators=(",", ":")))
        records.append(_log_only_dashboard(site, slug, shards, end, worst="error"))
    (site / "manifest.json").write_text(json.dumps(
        {"schema": 2, "title": "Bench", "dashboards": records}))


def _moved(run: int) -> dict[str, str]:
    """The environment of a build whose every dashboard's data moved (``run``: the workload's
    number for it): a version each, not a check."""
    return {**os.environ, "DASHSITE_BENCH_RUN": str(run)}


def bench_status(rows: list[Row], work: Path, sizes: tuple[int, ...],
                 dashboards: int = STATUS_DASHBOARDS) -> None:
    """Index, latest pages, bars, uptime, incidents, feeds, badges: a year vs 100 versions,
    and vs 90 days (the span of the bars: what a longer history adds past it).

    The builds of the sizes alternate (five each, the median counts), so a slow
    spell of this noisy disk falls on every side of a ratio.
    """
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    figures: dict[int, dict[str, float]] = {}
    projects: dict[int, Path] = {}
    for count in sizes:
        project = write_dashsite_project(work / f"status-{count}", dashboards)
        (project / "dashsite.toml").write_text('expected_every = "5m"\n')
        started = time.perf_counter()
        seed_status_history(project, count, end, dashboards)
        say(f"  seeded {count:,} versions x {dashboards} in "
            f"{time.perf_counter() - started:.0f} s")
        started = time.perf_counter()  # the first build computes the status files, once
        subprocess.run([PYTHON, "-m", "dashsite", "-C", str(project), "build", "-q",
                        "--version-id", "first"], check=True, env=_moved(1))
        figures[count] = {"first": time.perf_counter() - started}
        projects[count] = project
    times: dict[int, list[float]] = {count: [] for count in sizes}
    for attempt in range(5):
        for count, project in projects.items():
            started = time.perf_counter()
            subprocess.run([PYTHON, "-m", "dashsite", "-C", str(project), "build", "-q",
                            "--version-id", f"next-{attempt}"], check=True, env=_moved(2 + attempt))
            times[count].append(time.perf_counter() - started)
    for count, project in projects.items():
        page = (project / "site" / "d0000" / "index.html").read_text()
        assert "uptime-table" in page and "day-bars" in page, "the status pages were not drawn"
        figures[count]["build"] = median(times[count])
    for count, project in projects.items():  # a new day's key: each digest is summed again
        for digest in (project / "site").glob("*/log/digest.json"):
            digest.unlink()
        started = time.perf_counter()
        subprocess.run([PYTHON, "-m", "dashsite", "-C", str(project), "build", "-q",
                        "--version-id", "next-day"], check=True, env=_moved(100))
        figures[count]["day"] = time.perf_counter() - started
    small, large = sizes[0], sizes[-1]
    a, b = figures[small], figures[large]
    ratio = b["build"] / a["build"]
    rows.append(Row(f"build with uptime, bars, incidents, feeds, badges: {dashboards} "
                    f"dashboards x {large:,} versions", b["build"], a["build"],
                    f"{small:,} versions", "s", "<= 1.2x", ratio <= 1.2, f"x{ratio:.2f}"))
    for middle in sizes[1:-1]:  # past the 90 days the bars show, does a longer history cost?
        m = figures[middle]
        rows.append(Row(f"the same build, {large:,} versions against {middle:,} "
                        f"({middle // 288} days)", b["build"], m["build"], f"{middle:,} versions",
                        "s", "—", None, f"x{b['build'] / m['build']:.2f}; {middle:,} against "
                        f"{small:,}: x{m['build'] / a['build']:.2f}"))
    rows.append(Row("the build that sums the digests again (once a day, after midnight UTC)",
                    b["day"], a["day"], f"{small:,} versions", "s", "—", None,
                    f"a year of month status files a dashboard: "
                    f"{1000 * (b['day'] - b['build']) / dashboards:.0f} ms more each"))
    rows.append(Row("the first build over that history (status files computed once)",
                    b["first"], a["first"], f"{small:,} versions", "s", "—", None,
                    "once, on upgrading: reads the whole log"))
    say(f"  status: {figures}")


# -- 6b. the current history page at steady state (issue 23) ----------------------------------

ROWS_DASHBOARDS = 100
EARLIER_ROWS = 300
"""Versions of the month before, per dashboard: the history index's 100 rows at both sizes."""


def seed_current_page(project: Path, dashboards: int, current: int, now: datetime) -> None:
    """Log lines only: :data:`EARLIER_ROWS` in the month before ``now``'s, ``current`` in it.

    The current month's versions end a minute before ``now``, 5 minutes apart (closer
    early in a month, so they all fit after its first second).
    """
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    step = min(timedelta(minutes=5), (now - start) / (current + 2))
    moments = [start - timedelta(minutes=5 * n) for n in range(EARLIER_ROWS, 0, -1)]
    moments += [now - timedelta(minutes=1) - step * n for n in range(current - 1, -1, -1)]
    site = project / "site"
    entries = []
    for d in range(dashboards):
        slug = f"d{d:04d}"
        shards: dict[str, list[str]] = {}
        for moment in moments:
            moment = moment.replace(microsecond=0)
            vid = moment.strftime("%Y%m%dT%H%M%SZ")
            shards.setdefault(moment.date().isoformat(), []).append(json.dumps(
                {"id": vid, "collected_at": moment.isoformat(), "status": "ok",
                 "path": f"{slug}/{moment.date().isoformat()}/{vid}/",
                 "durations": {"requests": 0.001}, "values": {"requests": 1.0}},
                separators=(",", ":")))
        entries.append(_log_only_dashboard(site, slug, shards, now))
    (site / "manifest.json").write_text(json.dumps(
        {"schema": 2, "title": "Bench", "dashboards": entries}))


def _log_only_dashboard(site: Path, slug: str, shards: dict[str, list[str]], end: datetime,
                        worst: str = "ok") -> dict[str, Any]:
    """Write ``slug``'s day shards (JSON lines by day); its manifest entry (schema 2), with its
    pages and data thinned up to the day after ``end`` (they were never written)."""
    months: dict[str, list[str]] = {}
    for day, lines in shards.items():
        folder = site / slug / "log" / day[:7]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{day[8:]}.jsonl").write_text("\n".join(lines) + "\n")
        months.setdefault(day[:7], []).append(day[8:])
    last = json.loads(shards[max(shards)][-1])
    day_after = (end + timedelta(days=1)).date().isoformat()
    return {
        "slug": slug, "title": slug, "description": "", "active": True,
        "latest_version": {k: last[k] for k in ("id", "collected_at", "status", "path")},
        "pages_from": day_after, "data_from": day_after,
        "months": [{"month": m, "count": sum(len(shards[f"{m}-{d}"]) for d in days),
                    "worst": worst, "days": sorted(days)}
                   for m, days in sorted(months.items())]}


def bench_rows(rows: list[Row], work: Path, dashboards: int = ROWS_DASHBOARDS,
               runs: int = 3) -> None:
    """One more build when the month's current history page is nearly full, against nearly empty.

    At a build every 5 minutes the current page holds up to 200 rows; each build adds one.
    Both sites have the same earlier month (the history index shows 100 rows at both), and
    two builds before the timed ones (the first computes the status files; the second is a
    build like any other, so the caches beside the site are the previous build's). The timed
    builds alternate, the page then holding 197 to 199 rows against 3 to 5.
    """
    now = datetime.now(UTC)
    projects = {}
    for current in (194, 0):  # two warm builds and three timed ones add five
        project = write_dashsite_project(work / f"rows-{current}", dashboards)
        seed_current_page(project, dashboards, current, now)
        for n in range(2):  # (the data moves every build: a version, a row, each time)
            subprocess.run([PYTHON, "-m", "dashsite", "-C", str(project), "build", "-q",
                            "--version-id", f"warm-{n}"], check=True,
                           env={**os.environ, "DASHSITE_BENCH_RUN": str(1 + n)})
        projects[current] = project
    times: dict[int, list[float]] = {current: [] for current in projects}
    for attempt in range(runs):
        for current, project in projects.items():
            times[current].append(_min_of(1, [PYTHON, "-m", "dashsite", "-C", str(project),
                                              "build", "-q", "--version-id", f"next-{attempt}"],
                                          env={"DASHSITE_BENCH_RUN": str(3 + attempt)})[0])
    for current, project in projects.items():
        month = now.strftime("%Y-%m")
        page = (project / "site" / "d0000" / "history" / f"{month}.html").read_text()
        held = page.count('<tr id="v-')
        assert held == current + 2 + runs, f"the current page holds {held} rows"
    full, few = min(times[194]), min(times[0])
    ratio = full / few
    rows.append(Row(f"one more build, {dashboards} dashboards whose current history page holds "
                    "199 rows", full, few, "the same, holding 5 rows", "s", "<= 1.2x",
                    ratio <= 1.2, f"x{ratio:.2f}, min of {runs}"))
    say(f"  rows: 199 rows {full:.2f} s, 5 rows {few:.2f} s (x{ratio:.2f}); {times}")


# -- 8. scale-out and schedules ---------------------------------------------------------------

SLEEPY = """
import time
from dashsite import collector

@collector
def a():
    time.sleep(0.05)
    return 1

@collector
def b():
    time.sleep(0.05)
    return 2

@collector
def c():
    time.sleep(0.05)
    return 3
"""
CPU_BOUND = """
from dashsite import collector

@collector
def crunch():
    total = 0
    for i in range(LOOPS):
        total += i * i % 7
    return total
"""
SCHEDULED = """
from dashsite import collector

def _spin():
    total = 0
    for i in range(LOOPS):
        total += i * i % 7
    return total

EVERY = {EVERY}
{COLLECTORS}
"""


def _spin_loops(seconds: float) -> int:
    """How many iterations of the CPU-bound collector's loop take ``seconds`` here."""
    loops, started = 200_000, time.perf_counter()
    total = 0
    for i in range(loops):
        total += i * i % 7
    return int(loops * seconds / (time.perf_counter() - started))


def _project(root: Path, count: int, module: str) -> Path:
    for n in range(count):
        folder = root / "dashboards" / f"d{n:04d}"
        folder.mkdir(parents=True)
        (folder / "dashboard.py").write_text(module)
        (folder / "template.html").write_text("<p>{{ build.status }}</p>")
    return root


def _collect_time(project: Path, offload: Any = None, repeat: int = 1) -> float:
    from dashsite.collection.discover import discover
    from dashsite.collection.engine import collect_dashboards, run_coroutine
    from dashsite.core.config import load_config

    config = load_config(project)
    found = discover(config.dashboards_path, root=config.root)
    assert not found.problems, found.problems
    dashboards = found.dashboards
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        grouped = run_coroutine(lambda: collect_dashboards(dashboards, config, offload=offload))
        samples.append(time.perf_counter() - started)
        failed = [o for outcomes in grouped for o in outcomes if not o.ok]
        assert not failed, failed[:3]
    return median(samples)


def bench_scale(rows: list[Row], work: Path, quick: bool) -> None:
    """Thread pool vs a 2-process dask LocalCluster; a build where most collectors are not due."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    from dashsite.collection.cluster import LOCAL_SCHEDULER, LOCAL_THREADS, DaskOffload

    sleepy = _project(work / "scale-sleepy", 200 if quick else 2000, SLEEPY)
    loops = _spin_loops(0.1)
    cpu = _project(work / "scale-cpu", 40, CPU_BOUND.replace("LOOPS", str(loops)))
    threads = _collect_time(sleepy)
    cpu_threads = _collect_time(cpu, repeat=3)
    started = time.perf_counter()
    with dask.config.set(LOCAL_SCHEDULER):  # the cluster `executor = "dask"` starts
        cluster = LocalCluster(n_workers=2, threads_per_worker=LOCAL_THREADS, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    client.wait_for_workers(2)
    startup = time.perf_counter() - started
    try:
        offload = DaskOffload(client, sleepy, 30.0, 128)
        cold = _collect_time(sleepy, offload)  # workers import 2,000 dashboard modules
        warm = _collect_time(sleepy, offload)
        cpu_dask = _collect_time(cpu, DaskOffload(client, cpu, 30.0, 128), repeat=3)
    finally:
        client.close()
        cluster.close()
    count = 200 if quick else 2000
    rows.append(Row(f"collect {count:,} dashboards x 3 sync collectors x 50 ms on dask "
                    "(2 worker processes)", cold, threads, "thread pool", "s",
                    "<= 2x the thread pool", cold <= 2 * threads,
                    f"warm workers {warm:.2f} s; cluster start {startup:.1f} s (not counted)"))
    rows.append(Row("collect 40 dashboards x 1 CPU-bound collector (~100 ms) on dask",
                    cpu_dask, cpu_threads, "thread pool (one GIL)", "s",
                    ">= 1.6x faster", cpu_threads / cpu_dask >= 1.6,
                    f"x{cpu_threads / cpu_dask:.2f} faster"))
    say(f"  scale-out: threads {threads:.2f} s, dask {cold:.2f} s (warm {warm:.2f}); "
        f"cpu threads {cpu_threads:.2f} s, dask {cpu_dask:.2f} s; start {startup:.1f} s")

    # 20 dashboards x 10 CPU-bound collectors (~20 ms each); 9 of 10 run hourly.
    from dashsite.collection.discover import discover
    from dashsite.collection.engine import collect_dashboards, run_coroutine
    from dashsite.collection.schedule import carried_values
    from dashsite.core.config import load_config
    from dashsite.site.build import BuildOptions, build_site
    from dashsite.store.version_store import VersionStore

    spin = _spin_loops(0.02)
    body = "".join(f"\n@collector\ndef c{i}():\n    return _spin()\n" for i in range(10))
    module = (SCHEDULED.replace("LOOPS", str(spin))
              .replace("{EVERY}", repr({f"c{i}": "1h" for i in range(1, 10)}))
              .replace("{COLLECTORS}", body))
    project = _project(work / "scale-schedule", 20, module)
    config = load_config(project)
    now = datetime.now(UTC)
    build_site(config, BuildOptions(version_id="first", clock=lambda: now - timedelta(minutes=5)))
    dashboards = discover(config.dashboards_path, root=config.root).dashboards
    store = VersionStore(config.site_path)
    manifest = store.load_manifest()

    def phase(refresh: bool) -> tuple[float, int]:
        started = time.perf_counter()
        carried = {} if refresh else carried_values(dashboards, manifest, store, config, now)
        grouped = run_coroutine(lambda: collect_dashboards(dashboards, config, carried=carried))
        ran = sum(1 for outcomes in grouped for o in outcomes if o.reused_from is None)
        return time.perf_counter() - started, ran

    full = [phase(True) for _ in range(3)]
    due = [phase(False) for _ in range(3)]
    full_time, full_ran = median([t for t, _ in full]), full[0][1]
    due_time, due_ran = median([t for t, _ in due]), due[0][1]
    share = due_time / full_time
    rows.append(Row(f"collection when 9 of 10 collectors are not due ({due_ran} of {full_ran} "
                    "run)", due_time, full_time, "every collector (--refresh)", "s",
                    "<= 15% of a full build's", share <= 0.15, f"{share:.0%}"))
    say(f"  schedule: full {full_time:.3f} s ({full_ran} ran), "
        f"not due {due_time:.3f} s ({due_ran} ran): {share:.0%}")


# -- 7. charts ----------------------------------------------------------------------------------


def bench_charts(rows: list[Row], work: Path, count: int) -> None:
    """One chart rendered (500 points, a year of points), and a build with two per dashboard."""
    from dashsite import LineChart, Sparkline

    start = datetime(2026, 1, 1, tzinfo=UTC)
    for points, goal in ((500, 0.002), (YEAR_AT_5_MIN, 0.010)):
        series = [(start + timedelta(minutes=5 * i), float(i % 97)) for i in range(points)]
        times = []
        for _ in range(7):  # built and drawn each time: nothing cached between runs
            started = time.perf_counter()
            LineChart(series, title="Latency", unit="ms").render()
            times.append(time.perf_counter() - started)
        values = [v for _, v in series][:500]
        spark = []
        for _ in range(7):
            started = time.perf_counter()
            Sparkline(values).render()
            spark.append(time.perf_counter() - started)
        rows.append(Row(f"one line chart of {points:,} points rendered", median(times),
                        median(spark), "a 500-point Sparkline", "s", f"≤ {goal * 1000:.0f} ms",
                        median(times) <= goal,
                        "downsampled to 2 points a pixel column" if points > 1280 else ""))
    # The builds with and without charts alternate (three each, the median counts), so a
    # slow spell of this noisy disk falls on both sides of the ratio.
    projects = {charts: write_chart_project(work / f"charts-{charts}", count, charts)
                for charts in (False, True)}
    samples: dict[bool, list[float]] = {False: [], True: []}
    for attempt in range(3):
        for charts, project in projects.items():
            samples[charts].append(_min_of(  # (the data moves: a version each, no check)
                1, [PYTHON, "-m", "dashsite", "-C", str(project), "build", "-q",
                    "--version-id", f"bench-{attempt}"],
                env={"DASHSITE_BENCH_RUN": str(attempt + 1)})[0])
    builds = {charts: median(times) for charts, times in samples.items()}
    ratio = builds[True] / builds[False]
    rows.append(Row(f"build {count} dashboards, two 500-point charts each", builds[True],
                    builds[False], "the same build without charts", "s", "<= 1.3x",
                    ratio <= 1.3, f"x{ratio:.2f}"))
    say(f"  charts: {builds}")


# -- the table --------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        text = Path("/proc/cpuinfo").read_text()
        found = re.search(r"model name\s*:\s*(.+)", text)
        cpu = found.group(1) if found else cpu
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def table(rows: list[Row]) -> str:
    def fmt(value: float | None, unit: str) -> str:
        if value is None:
            return "—"
        if unit == "s":
            return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
        if unit in {"ms", "MB"}:
            return f"{value:.0f} {unit}"
        return f"{value:.0f} {unit}"

    header = ("figure", "dashsite", "baseline", "", "ratio", "goal", "met")
    lines = [[r.figure, fmt(r.dashsite, r.unit), fmt(r.baseline, r.unit), r.baseline_name,
              r.ratio, r.goal, {True: "yes", False: "NO", None: "—"}[r.met]] for r in rows]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines, strict=False)]
    out = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=False)),
           "-+-".join("-" * w for w in widths)]
    out += [" | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=False))
            for line in lines]
    notes = [f"  {r.figure} ({r.baseline_name}): {r.note}" for r in rows if r.note]
    return "\n".join(out + (["", "notes:", *notes] if notes else []))


SECTIONS = ("collection", "build", "scheduled", "import", "incremental", "watch", "history",
            "charts", "scale", "status", "rows")


def compile_dashsite() -> None:
    """dashsite's own modules compiled to bytecode first, as an installed release is (pip
    compiles a wheel's modules when it installs them), and as the baselines' are.

    The bench runs dashsite from its source folder: with PYTHONDONTWRITEBYTECODE set (a
    container's default, often) every build compiled ~80 modules again, 0.1 s a process,
    which no installed dashsite pays. Python still reads bytecode with that set.
    """
    import compileall

    import dashsite

    compileall.compile_dir(Path(dashsite.__file__).parent, quiet=1)


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--quick", action="store_true", help="smaller sizes, fewer saves")
    options.add_argument("--skip-watch", action="store_true", help="no browser measurement")
    options.add_argument("--only", action="append", choices=SECTIONS, metavar="SECTION",
                         help=f"run only this section (repeatable): {', '.join(SECTIONS)}")
    args = options.parse_args()
    wanted = set(args.only or SECTIONS) - ({"watch"} if args.skip_watch else set())
    compile_dashsite()
    rows: list[Row] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dashsite-bench-") as scratch:
        work = Path(scratch)
        if "collection" in wanted:
            say("collection…")
            bench_collection(rows)
        biggest = None
        if "build" in wanted:
            say("full build…")
            biggest = bench_build(rows, work, [50, 200] if args.quick else [100, 1000])
        if "scheduled" in wanted:
            say("scheduled builds…")
            bench_scheduled(rows, work, 200 if args.quick else 1000)
        if "import" in wanted:
            say("import…")
            bench_import(rows, work, 200 if args.quick else 1000)
        if "incremental" in wanted and biggest is not None:  # it edits the full build's project
            say("incremental…")
            bench_incremental(rows, biggest, work)
        if "watch" in wanted:
            say("save → visible…")
            bench_watch(rows, work, 5 if args.quick else 20)
        if "history" in wanted:
            say("history scale…")
            bench_history(rows, work, (100, 2000, 4000) if args.quick
                          else (100, YEAR_AT_5_MIN, 2 * YEAR_AT_5_MIN))
            bench_year_size(rows, work)
        if "charts" in wanted:
            say("charts…")
            bench_charts(rows, work, 100 if args.quick else 1000)
        if "scale" in wanted:
            say("scale-out and schedules…")
            bench_scale(rows, work, args.quick)
        if "status" in wanted:
            say("status over time…")
            if args.quick:
                bench_status(rows, work, (100, 2000), QUICK_STATUS_DASHBOARDS)
            else:
                bench_status(rows, work, (100, BARS_AT_5_MIN, YEAR_AT_5_MIN))
        if "rows" in wanted:
            say("the current history page…")
            bench_rows(rows, work, 20 if args.quick else ROWS_DASHBOARDS)
    print(f"dashsite benchmark — {machine()}\n")
    print(table(rows))
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    if args.only:  # a partial run leaves the full run's results.json (the docs quote it) alone
        return 0
    results = {"machine": machine(), "rows": [asdict(r) for r in rows]}
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
