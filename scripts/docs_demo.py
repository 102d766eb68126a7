"""Build the live demo of the docs site: the bundled example dashboards over a seeded history.

    python scripts/docs_demo.py build/docs-site/demo

The example dashboards (``dashboards/``) are copied into a temporary project (a
git repository, as the git-activity dashboard reads one), given 90 days of
hourly history up to yesterday — log lines only, as the tiers leave versions
past ``keep_data``, with a few outages in them and one declared maintenance —
and then built by today's dashsite every three hours from yesterday to now
(its clock set through ``BuildOptions.clock``), so the 90-day bars, the uptime,
the incidents, the charts and the feeds show what a site that has run for
months shows. The demo keeps pages and data for a day (``keep_pages`` and
``keep_data``), so every version it links to was really built. The built site
is copied to the folder given (replaced whole).

The seed is fixed (the same outages every time); the builds run up to the real
time, so the demo's "latest" is the time ``make docs`` ran.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dashsite import BuildOptions, build_site, load_config

ROOT = Path(__file__).resolve().parent.parent
DAYS = 90
STEP = timedelta(hours=1)

# Slug → (first hour, hours, status, the failed collector and its error): the outages.
OUTAGES: dict[str, list[tuple[int, int, str, dict[str, str]]]] = {
    "machine-health": [
        (24 * 71 + 9, 3, "warning", {}),
        (24 * 78 + 2, 2, "error", {"disks": "TimeoutError: no result within 10 s"}),
    ],
    "git-activity": [
        (24 * 40 + 13, 5, "error", {"recent": "CalledProcessError: git log exited with 128"}),
    ],
    "weekly-report": [
        (24 * 86 + 20, 1, "critical", {}),
    ],
}
# Slug → (first hour, hours): builds that did not run (no data).
GAPS = {"git-activity": [(24 * 55, 30)]}

CONFIG = """\
title = "dashsite demo"
expected_every = "3h"
keep_pages = "1d"
keep_data = "1d"
"""

MAINTENANCE = """\
+++
title = "Disk replacement"
dashboards = ["machine-health"]
start = {start}
end = {end}
severity = "maintenance"
[[updates]]
at = {start}
text = "Started: the build machine's disk is being replaced."
+++
The build machine's disk was replaced; builds paused for two hours.
"""


def _values(slug: str, n: int, rng: random.Random) -> dict[str, float]:
    """Plausible numbers for what the templates chart (``history | series``)."""
    if slug == "machine-health":
        return {"load.value": round(0.4 + rng.random() * 1.5, 2),
                "memory.value": round(38 + 12 * rng.random() + (n % 24) / 3, 1)}
    if slug == "weekly-report":
        return {"code.Source lines": 9000 + n * 3 + rng.randrange(40)}
    return {"dirty.value": float(rng.randrange(4))}


def seed(site: Path, end: datetime) -> None:
    """Write the log (a file a day) and a schema-2 manifest, as an older release left them:
    hourly versions up to ``end``. The manifest names no tiers, so the first build thins
    every seeded month and draws its history pages."""
    rng = random.Random(26)
    hours = DAYS * 24
    start = end - STEP * hours
    dashboards = []
    for slug in sorted(OUTAGES):
        skipped = {h for first, length in GAPS.get(slug, []) for h in range(first, first + length)}
        failing = {
            h: (status, errors)
            for first, length, status, errors in OUTAGES[slug]
            for h in range(first, first + length)
        }
        shards: dict[str, list[str]] = {}
        months: dict[str, dict[str, object]] = {}
        last: dict[str, object] = {}
        order = ["ok", "warning", "error", "critical"]
        for n in range(hours):
            if n in skipped:
                continue
            moment = start + STEP * n
            vid = moment.strftime("%Y%m%dT%H%M%SZ")
            status, errors = failing.get(n, ("ok", {}))
            day = moment.date().isoformat()
            line = {"id": vid, "collected_at": moment.isoformat(), "status": status,
                    "path": f"{slug}/{day}/{vid}/", "values": _values(slug, n, rng)}
            if errors:
                line["errors"] = errors
            last = {k: line[k] for k in ("id", "collected_at", "status")}
            shards.setdefault(day, []).append(json.dumps(line, separators=(",", ":")))
            month = months.setdefault(day[:7], {"count": 0, "worst": "ok", "days": set()})
            month["count"] = int(month["count"]) + 1  # type: ignore[call-overload]
            month["worst"] = max(str(month["worst"]), status, key=order.index)
            month["days"].add(day[8:])  # type: ignore[attr-defined]
        for day, lines in shards.items():
            folder = site / slug / "log" / day[:7]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{day[8:]}.jsonl").write_text("\n".join(lines) + "\n")
        dashboards.append({
            "slug": slug, "title": slug, "description": "", "active": True,
            "latest_version": last,
            "months": [{"month": m, "count": info["count"], "worst": info["worst"],
                        "days": sorted(info["days"])}  # type: ignore[call-overload]
                       for m, info in sorted(months.items())],
        })
    (site / "manifest.json").write_text(json.dumps(
        {"schema": 2, "title": "dashsite demo", "dashboards": dashboards}))


def build_demo(out: Path, now: datetime | None = None) -> None:
    """Seed, build every three hours from yesterday to now, and copy the site to ``out``."""
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    with tempfile.TemporaryDirectory(prefix="dashsite-demo-") as scratch:
        project = Path(scratch)
        shutil.copytree(ROOT / "dashboards", project / "dashboards",
                        ignore=shutil.ignore_patterns("__pycache__"))
        (project / "dashsite.toml").write_text(CONFIG)
        incidents = project / "incidents"
        incidents.mkdir()
        begin = (now - timedelta(days=30)).replace(hour=8, minute=0)
        (incidents / "disk-replacement.md").write_text(MAINTENANCE.format(
            start=begin.strftime("%Y-%m-%dT%H:%M:%SZ"),
            end=(begin + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")))
        git = ["git", "-C", str(project), "-c", "user.name=dashsite demo",
               "-c", "user.email=demo@example.com"]
        subprocess.run([*git, "init", "--quiet"], check=True)
        subprocess.run([*git, "add", "."], check=True)
        subprocess.run([*git, "commit", "--quiet", "-m", "The example dashboards"], check=True)
        yesterday = (now - timedelta(days=1)).replace(hour=0, minute=0)
        seed(project / "site", yesterday)
        config = load_config(project)
        moments = [yesterday + timedelta(hours=3 * n) for n in range(16)]
        for moment in [m for m in moments if m < now] + [now]:
            result = build_site(config, BuildOptions(clock=lambda moment=moment: moment))
            if result.exit_code(strict=False) != 0:
                raise SystemExit(f"scripts/docs_demo.py: the demo build failed: {result.to_json()}")
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(project / "site", out, ignore=shutil.ignore_patterns(".dashsite*"))


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("out", type=Path, help="where the demo site goes (replaced whole)")
    args = options.parse_args()
    build_demo(args.out)
    print(f"demo: {args.out}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
