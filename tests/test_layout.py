"""The site layout has one owner: every path is built and read by dashsite.store.layout."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashsite.store import layout
from dashsite.store.layout import Kind, classify

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "expected"
FIXTURES = ROOT / "tests" / "fixtures"
AT = datetime(2026, 11, 27, 20, 15, tzinfo=UTC)


def test_builders_and_classify_agree():
    built = {
        layout.latest_page("api"): (Kind.LATEST, "api"),
        layout.version_page("api", "20261127T201500Z", AT): (Kind.VERSION, "api"),
        layout.version_data("api", "20261127T201500Z", AT): (Kind.VERSION, "api"),
        layout.log_shard("api", "2026-11-27"): (Kind.LOG_SHARD, "api"),
        layout.month_status("api", "2026-11"): (Kind.MONTH_STATUS, "api"),
        layout.digest("api"): (Kind.DIGEST, "api"),
        layout.earlier_months("api", "months-0123456789ab.json"): (Kind.EARLIER_MONTHS, "api"),
        layout.history_page("api"): (Kind.HISTORY, "api"),
        layout.history_page("api", "2026-11-2.html"): (Kind.HISTORY, "api"),
        layout.feed("api"): (Kind.DASHBOARD_FILE, "api"),
        layout.badge_svg("api"): (Kind.DASHBOARD_FILE, "api"),
        layout.feed(): (Kind.SITE_FILE, None),
        layout.badge_json(): (Kind.SITE_FILE, None),
        layout.MANIFEST_FILE: (Kind.MANIFEST, None),
        layout.INDEX_PAGE: (Kind.SITE_PAGE, None),
        "assets/style.0123abcd.css": (Kind.ASSET, None),
        "incidents/db-outage.html": (Kind.SITE_FILE, None),
        layout.journal(): (Kind.STATE, None),
    }
    for path, (kind, slug) in built.items():
        found = classify(path)
        assert (found.kind, found.slug) == (kind, slug), path
    assert classify(layout.log_shard("api", "2026-11-27")).day == "2026-11-27"
    version = classify(layout.version_page("api", "20261127T201500Z", AT))
    assert (version.day, version.version, version.immutable) == ("2026-11-27", "20261127T201500Z", True)
    assert classify(layout.digest("api")).cache and classify(layout.month_status("api", "2026-11")).cache
    assert not classify(layout.latest_page("api")).immutable


@pytest.mark.parametrize("path", ["api/notes.txt", "README.md", "api/log/2026-11/x.jsonl", "api/log/other.json"])
def test_a_file_dashsite_did_not_write_is_unknown(path):
    assert classify(path).kind is Kind.UNKNOWN


@pytest.mark.parametrize("site", [GOLDEN, FIXTURES / "schema1" / "site", FIXTURES / "schema2" / "site"])
def test_every_file_of_a_built_site_is_one_dashsite_knows(site):
    if not site.is_dir():
        pytest.skip(f"no site in {site}")  # a fixture without a built site
    files = [p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()]
    assert files
    unknown = [path for path in files if classify(path).kind is Kind.UNKNOWN]
    assert unknown == []


def test_the_layout_module_is_the_only_place_that_builds_a_dashboard_path():
    found = subprocess.run(
        ["git", "grep", "-n", "-E", r'f"\{[a-z_.]*slug\}/', "--", "src/"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    ).stdout.splitlines()
    assert [line for line in found if not line.startswith("src/dashsite/store/layout.py")] == []


def test_the_tree_names_every_kind_of_file():
    text = layout.tree()
    for name in ("manifest.json", "data.json", "digest.json", "status.json", "months-<hash>.json",
                 "feed.xml", "badge.svg", "history/index.html", ".jsonl"):
        assert name in text, name
    assert re.search(r"<slug>/<YYYY-MM-DD>/<version>/index\.html", text)
